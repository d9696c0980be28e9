/**
 * Properties of the record layer (RFC 8446 §5):
 * - protect/unprotect round-trips for every suite, with random keys, content
 *   type, content up to 2^14 bytes and padding up to the limit (§5.2, §5.4);
 * - any single flipped bit of a protected record is refused with the alert
 *   the position calls for: bad_record_mac for the body and the AAD, the
 *   framing alert when the flip lands in the type, version or length field;
 * - the way a byte stream is cut into chunks never changes the records, or
 *   the handshake messages, that come out.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import type { SuiteInfo } from '../crypto/suites.js';
import { PROVIDER_CASES } from '../crypto/testing/providers.js';
import { MAX_CIPHERTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, RecordReader, type TlsRecord } from '../record/framing.js';
import { type RecordItem, RecordLayer } from '../record/layer.js';
import { RecordDeprotector, RecordProtector, type TrafficKeys } from '../record/protection.js';
import { ALL_SUITES, drain, handshakeMessage, plaintextRecord, splitAt } from '../record/testing/support.js';
import type { AlertName } from '../wire/alerts.js';
import { LEGAL_MAX_HANDSHAKE_BODY } from '../wire/limits.js';

describe.each(PROVIDER_CASES)('record-layer properties on the $name provider', ({ provider }) => {
  /** Byte equality without the cost of a deep structural diff on 16 KiB arrays. */
  function expectSameBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
    expect(actual).toBeInstanceOf(Uint8Array);
    const a = actual as Uint8Array;
    expect(a.length).toBe(expected.length);
    expect(Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.length))).toBe(
      true,
    );
  }

  const numRuns = Number(process.env.FC_NUM_RUNS ?? (process.env.TLSCHART_DEEP ? 2000 : 100));
  const params = { numRuns };

  /** Deterministic bytes from a seed (xorshift32), so large inputs stay cheap to shrink and replay. */
  function pseudoRandomBytes(length: number, seed: number): Uint8Array {
    const out = new Uint8Array(length);
    let x = seed | 1;
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  }

  /** Content of any length up to `max`: mostly short, sometimes up to the maximum itself. */
  const arbContent = (max: number): fc.Arbitrary<Uint8Array> =>
    fc.oneof(
      fc.uint8Array({ maxLength: Math.min(64, max) }),
      fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => pseudoRandomBytes(n, seed)),
      fc.integer().map((seed) => pseudoRandomBytes(max, seed)),
    );

  const arbSuite: fc.Arbitrary<SuiteInfo> = fc.constantFrom(...ALL_SUITES);

  const arbKeys = (suite: SuiteInfo): fc.Arbitrary<TrafficKeys> =>
    fc.record({
      key: fc.uint8Array({ minLength: suite.keyLen, maxLength: suite.keyLen }),
      iv: fc.uint8Array({ minLength: suite.ivLen, maxLength: suite.ivLen }),
    });

  describe('record protection properties', () => {
    it('unprotect(protect(type, content, padding)) gives back the type, the content and the padding length for every suite', () => {
      const arbCase = arbSuite.chain((suite) =>
        fc
          .record({
            keys: arbKeys(suite),
            type: fc.integer({ min: 1, max: 255 }),
            content: arbContent(MAX_PLAINTEXT_LENGTH),
            records: fc.integer({ min: 1, max: 3 }),
          })
          .chain((c) =>
            fc.record({
              suite: fc.constant(suite),
              keys: fc.constant(c.keys),
              type: fc.constant(c.type),
              content: fc.constant(c.content),
              records: fc.constant(c.records),
              padding: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_PLAINTEXT_LENGTH - c.content.length })),
            }),
          ),
      );
      fc.assert(
        fc.property(arbCase, ({ suite, keys, type, content, padding, records }) => {
          const p = new RecordProtector(suite, keys, provider);
          const d = new RecordDeprotector(suite, keys, provider);
          for (let i = 0; i < records; i++) {
            const record = p.protect(type, content, padding);
            expect(record.length).toBe(5 + content.length + 1 + padding + suite.tagLen);
            const r = d.unprotect(record.subarray(0, 5), record.subarray(5));
            if (!r.ok) throw new Error(`record did not open: ${r.error.alert}`);
            expect(r.contentType).toBe(type);
            expect(r.paddingLength).toBe(padding);
            expectSameBytes(r.content, content);
          }
          expect(d.sequence).toBe(BigInt(records));
        }),
        params,
      );
    });

    /** The alert RFC 8446 §5 calls for when bit `bit` (0 = top bit of byte 0) of a protected record is flipped; undefined = the layer waits for more bytes. */
    function expectedAfterFlip(record: Uint8Array, bit: number): AlertName | undefined {
      const byte = bit >> 3;
      if (byte === 0) return 'unexpected_message'; // opaque type 23 becomes 21/22 (plaintext after keys) or an unknown type
      if (byte === 1) return 'protocol_version'; // major version no longer 3
      if (byte === 2) return 'bad_record_mac'; // minor version: ignored by framing, but it is AAD
      const length = ((record[3] as number) << 8) | (record[4] as number);
      if (byte === 3 || byte === 4) {
        const flipped = length ^ (1 << (byte === 3 ? 8 + (7 - (bit & 7)) : 7 - (bit & 7)));
        if (flipped > MAX_CIPHERTEXT_LENGTH) return 'record_overflow';
        if (flipped > length) return undefined;
        return 'bad_record_mac'; // a shorter record: truncated ciphertext and a different AAD
      }
      return 'bad_record_mac';
    }

    it('a single flipped bit anywhere in a protected record is refused with the alert its position calls for', () => {
      const arbCase = arbSuite.chain((suite) =>
        fc
          .record({
            keys: arbKeys(suite),
            item: fc.oneof(
              fc.record({ type: fc.constant(23), content: arbContent(300) }),
              fc.record({ type: fc.constant(22), content: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
              fc.record({ type: fc.constant(21), content: fc.uint8Array({ minLength: 2, maxLength: 2 }) }),
            ),
            padding: fc.integer({ min: 0, max: 40 }),
          })
          .chain((c) => {
            const record = new RecordProtector(suite, c.keys, provider).protect(c.item.type, c.item.content, c.padding);
            return fc.record({
              suite: fc.constant(suite),
              keys: fc.constant(c.keys),
              record: fc.constant(record),
              // Most flips land in the 5-byte header, where each field has its own alert;
              // the top bits of the length (overflow) get an arm of their own.
              bit: fc.oneof(
                fc.integer({ min: 0, max: 39 }),
                fc.integer({ min: 24, max: 26 }),
                fc.integer({ min: 0, max: record.length * 8 - 1 }),
              ),
            });
          }),
      );
      fc.assert(
        fc.property(arbCase, ({ suite, keys, record, bit }) => {
          const flipped = record.slice();
          flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (0x80 >> (bit & 7));
          const layer = new RecordLayer({ provider: provider, role: 'server' });
          layer.setReadKeys(suite, keys, 'test');
          layer.receive(flipped);
          const item = layer.next();
          const expected = expectedAfterFlip(record, bit);
          if (expected === undefined) {
            expect(item).toBeUndefined();
          } else {
            expect(item?.kind).toBe('error');
            expect(item?.kind === 'error' && item.error.alert).toBe(expected);
          }
        }),
        params,
      );
    });
  });

  describe('record framing properties', () => {
    const arbPlaintextRecord: fc.Arbitrary<Uint8Array> = fc.oneof(
      fc.constant(plaintextRecord(20, Uint8Array.of(1))),
      fc.uint8Array({ minLength: 2, maxLength: 2 }).map((b) => plaintextRecord(21, b)),
      fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => plaintextRecord(22, b)),
      arbContent(MAX_CIPHERTEXT_LENGTH).map((b) => plaintextRecord(23, b)),
      fc
        .tuple(fc.integer({ min: 0x0300, max: 0x03ff }), fc.uint8Array({ minLength: 1, maxLength: 50 }))
        .map(([v, b]) => plaintextRecord(22, b, v)),
    );

    function readChunks(chunks: readonly Uint8Array[]): TlsRecord[] {
      const reader = new RecordReader();
      const out: TlsRecord[] = [];
      for (const c of chunks) {
        reader.push(c);
        for (let r = reader.next(); r !== undefined; r = reader.next()) {
          if (!r.ok) throw new Error(`unexpected ${r.error.alert}: ${r.error.message}`);
          out.push(r.record);
        }
      }
      expect(reader.buffered).toBe(0);
      return out;
    }

    it('any chunking of a byte stream yields the same records', () => {
      fc.assert(
        fc.property(
          fc.array(arbPlaintextRecord, { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 40 }),
          (recs, cutSeeds) => {
            const stream = concat(...recs);
            const cuts = cutSeeds.map((s) => s % (stream.length + 1));
            const whole = readChunks([stream]);
            const chunked = readChunks(splitAt(stream, cuts));
            expect(whole.length).toBe(recs.length);
            expect(chunked.length).toBe(recs.length);
            recs.forEach((rec, i) => {
              const w = whole[i] as TlsRecord;
              const c = chunked[i] as TlsRecord;
              expectSameBytes(concat(w.header, w.fragment), rec);
              expectSameBytes(concat(c.header, c.fragment), rec);
              expect([c.contentType, c.legacyVersion]).toEqual([w.contentType, w.legacyVersion]);
            });
          },
        ),
        params,
      );
    });

    it('any chunking and any fragmentation of written handshake messages yields the same messages, protected or not', () => {
      const arbMessage = fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.oneof(fc.uint8Array({ maxLength: 100 }), arbContent(3000)))
        // Each type within the length its fields allow (wire/limits.ts); longer ones are refused by design.
        .map(([type, body]) => handshakeMessage(type, body.subarray(0, LEGAL_MAX_HANDSHAKE_BODY[type] ?? body.length)));
      fc.assert(
        fc.property(
          fc.array(arbMessage, { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: MAX_PLAINTEXT_LENGTH }),
          fc.option(arbSuite.chain((suite) => fc.record({ suite: fc.constant(suite), keys: arbKeys(suite) }))),
          fc.array(fc.nat(), { maxLength: 30 }),
          (messages, maxFragment, protection, cutSeeds) => {
            const writer = new RecordLayer({ provider: provider, role: 'server', maxFragment });
            // Reassembly is under test here, not the limit on records per message (record/layer.test.ts has that).
            const reader = new RecordLayer({ provider: provider, role: 'client', maxHandshakeRecords: Number.MAX_SAFE_INTEGER });
            if (protection) {
              writer.setWriteKeys(protection.suite, protection.keys, 'test');
              reader.setReadKeys(protection.suite, protection.keys, 'test');
            }
            const stream = concat(...messages.map((m) => writer.writeHandshake(m)));
            const items: RecordItem[] = [];
            for (const chunk of splitAt(
              stream,
              cutSeeds.map((s) => s % (stream.length + 1)),
            )) {
              reader.receive(chunk);
              items.push(...drain(reader));
            }
            expect(items.length).toBe(messages.length);
            messages.forEach((raw, i) => {
              const item = items[i];
              expect(item?.kind).toBe('handshake');
              if (item?.kind !== 'handshake') return;
              expect(item.encrypted).toBe(protection !== null);
              expectSameBytes(item.raw, raw);
            });
          },
        ),
        params,
      );
    });
  });
});
