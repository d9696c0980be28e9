/**
 * Properties of the wire codec (RFC 8446 §4, §B.3):
 * - decode(encode(m)) equals m, raw bytes included, for every message type
 *   and every extension form in every context;
 * - no strict prefix of an encoding decodes;
 * - decoding is total: random, bit-flipped, truncated and extended inputs
 *   only ever give a typed failure or a valid message, and a message that
 *   decodes re-encodes to exactly the bytes it came from.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAlertName } from '../wire/alerts.js';
import {
  decodeAlert,
  decodeExtensions,
  decodeHandshake,
  encodeAlert,
  encodeExtensions,
  encodeHandshake,
  type UnencodedMessage,
} from '../wire/index.js';
import type { Decoded, HandshakeMessage } from '../wire/types.js';
import { HandshakeType } from '../wire/types.js';
import { arbBytes, arbExtensions, arbHandshakeMessage, EXTENSION_CONTEXTS, MESSAGE_ARBITRARIES } from './arbitraries/wire.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? (process.env.TLSCHART_DEEP ? 2000 : 100));
const params = { numRuns };
/** Deep runs (FC_NUM_RUNS in the thousands) need more than vitest's default budget. */
const timeout = Math.max(30_000, numRuns * 50);

/** A typed failure names a real alert, a field and a sentence. */
function expectWellFormed<T>(d: Decoded<T>): void {
  if (!d.ok) {
    expect(isAlertName(d.error.alert)).toBe(true);
    expect(d.error.field.length).toBeGreaterThan(0);
    expect(d.error.message.length).toBeGreaterThan(0);
  }
}

/** Decoding never throws; when it succeeds the message re-encodes to exactly `bytes`. */
function checkTotal(bytes: Uint8Array): Decoded<HandshakeMessage> {
  const d = decodeHandshake(bytes);
  expectWellFormed(d);
  if (d.ok) {
    expect(d.value.raw).toEqual(bytes);
    expect(encodeHandshake(d.value).raw).toEqual(bytes);
  }
  return d;
}

function withHeader(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >>> 16;
  out[2] = (body.length >>> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

function hashLenOf(m: UnencodedMessage): number | undefined {
  return m.type === 'finished' ? m.verifyData.length : undefined;
}

describe('round trip', { timeout }, () => {
  for (const [name, arb] of Object.entries(MESSAGE_ARBITRARIES)) {
    it(`decodes every encoded ${name} back to the same message, raw bytes included`, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<UnencodedMessage>, (m) => {
          const encoded = encodeHandshake(m);
          expect({ ...encoded, raw: undefined }).toStrictEqual({ ...m, raw: undefined });
          const hashLen = hashLenOf(m);
          const d = decodeHandshake(encoded.raw, hashLen === undefined ? {} : { hashLen });
          expect(d).toStrictEqual({ ok: true, value: encoded });
        }),
        params,
      );
    });
  }

  for (const context of EXTENSION_CONTEXTS) {
    it(`decodes every encoded ${context} extension block back to the same extensions`, () => {
      const min = context === 'certificate_request' || context.endsWith('hello') || context === 'hello_retry_request' ? 1 : 0;
      fc.assert(
        fc.property(arbExtensions(context, { minLength: min }), (exts) => {
          expect(decodeExtensions(encodeExtensions(exts, context), context)).toStrictEqual({ ok: true, value: exts });
        }),
        params,
      );
    });
  }

  it('decodes every encoded alert back to the same alert', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 255 }), (level, description) => {
        expect(decodeAlert(encodeAlert({ level, description }))).toStrictEqual({ ok: true, value: { level, description } });
      }),
      params,
    );
  });
});

describe('prefixes', { timeout }, () => {
  it('never decodes a strict prefix of an encoded message', () => {
    fc.assert(
      fc.property(arbHandshakeMessage, (m) => {
        const raw = encodeHandshake(m).raw;
        for (let n = 0; n < raw.length; n++) {
          const d = decodeHandshake(raw.subarray(0, n));
          expect(d.ok).toBe(false);
          expectWellFormed(d);
        }
      }),
      params,
    );
  });

  it('decodes a strict prefix of a body under a matching header only where the RFC makes a field optional', () => {
    // With the header re-written to the prefix length, the inner vectors must
    // still reject every cut, except the two places where the syntax itself
    // ends early: a hello without its extension block (§4.1.2), and Finished
    // whose length is given by the suite rather than by the bytes.
    fc.assert(
      fc.property(arbHandshakeMessage, (m) => {
        const raw = encodeHandshake(m).raw;
        const body = raw.subarray(4);
        for (let n = 0; n < body.length; n++) {
          const d = checkTotal(withHeader(raw[0] as number, body.subarray(0, n)));
          if (!d.ok) continue;
          if (d.value.type === 'finished') continue;
          expect(d.value.type === 'client_hello' || d.value.type === 'server_hello').toBe(true);
          expect(d.value).toStrictEqual({ ...encodeHandshake({ ...m, extensions: [] } as UnencodedMessage) });
        }
      }),
      params,
    );
  });

  it('never decodes a strict prefix of an encoded extension block', () => {
    for (const context of EXTENSION_CONTEXTS) {
      fc.assert(
        fc.property(arbExtensions(context, { minLength: 1 }), (exts) => {
          const block = encodeExtensions(exts, context);
          for (let n = 0; n < block.length; n++) {
            const d = decodeExtensions(block.subarray(0, n), context);
            expect(d.ok).toBe(false);
            expectWellFormed(d);
          }
        }),
        { numRuns: Math.max(10, Math.floor(numRuns / 4)) },
      );
    }
  });
});

describe('totality', { timeout }, () => {
  const knownTypes = Object.values(HandshakeType);

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(arbBytes(0, 300), (bytes) => {
        checkTotal(bytes);
      }),
      params,
    );
  });

  it('never throws on random bodies under a valid header of a known type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTypes), arbBytes(0, 300), (type, body) => {
        checkTotal(withHeader(type, body));
      }),
      params,
    );
  });

  it('never throws on encodings with flipped bits', () => {
    fc.assert(
      fc.property(arbHandshakeMessage, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (m, flips) => {
        const bytes = encodeHandshake(m).raw.slice();
        for (const f of flips) {
          const bit = f % (bytes.length * 8);
          bytes[bit >>> 3] = (bytes[bit >>> 3] as number) ^ (1 << (bit & 7));
        }
        checkTotal(bytes);
        // The same flips with the header length kept consistent reach deeper into the body.
        checkTotal(withHeader(bytes[0] as number, bytes.subarray(4)));
      }),
      params,
    );
  });

  it('never throws on encodings with a byte overwritten', () => {
    fc.assert(
      fc.property(arbHandshakeMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, value) => {
        const bytes = encodeHandshake(m).raw.slice();
        const i = 4 + (at % Math.max(1, bytes.length - 4));
        if (i < bytes.length) bytes[i] = value;
        checkTotal(bytes);
      }),
      params,
    );
  });

  it('never throws on truncated or extended encodings, and rejects them', () => {
    fc.assert(
      fc.property(arbHandshakeMessage, fc.nat(), arbBytes(1, 16), (m, cut, extra) => {
        const raw = encodeHandshake(m).raw;
        const truncated = raw.subarray(0, cut % raw.length);
        expect(checkTotal(truncated).ok).toBe(false);
        const extended = new Uint8Array(raw.length + extra.length);
        extended.set(raw);
        extended.set(extra, raw.length);
        expect(checkTotal(extended).ok).toBe(false);
        // Extra bytes inside the message (header grown to cover them) are trailing bytes of the body,
        // except where the body ends in an open field (Finished, a hello without extensions).
        checkTotal(withHeader(raw[0] as number, extended.subarray(4)));
      }),
      params,
    );
  });

  it('never throws on random extension blocks in any context', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EXTENSION_CONTEXTS), arbBytes(0, 200), (context, body) => {
        const block = new Uint8Array(2 + body.length);
        block[0] = body.length >>> 8;
        block[1] = body.length & 0xff;
        block.set(body, 2);
        const d = decodeExtensions(block, context);
        expectWellFormed(d);
        if (d.ok) expect(encodeExtensions(d.value, context)).toEqual(block);
      }),
      params,
    );
  });

  it('never throws on random alerts', () => {
    fc.assert(
      fc.property(arbBytes(0, 4), (bytes) => {
        const d = decodeAlert(bytes);
        expectWellFormed(d);
        if (d.ok) expect(encodeAlert(d.value)).toEqual(bytes);
      }),
      params,
    );
  });
});
