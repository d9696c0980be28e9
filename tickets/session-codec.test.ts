import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientSession, encodeClientSession } from './session-codec.js';
import type { ClientSession } from './types.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);

function example(over: Partial<ClientSession> = {}): ClientSession {
  return {
    serverName: 'bücher.example',
    ticket: new Uint8Array(randomBytes(48)),
    psk: new Uint8Array(randomBytes(48)),
    suite: 0x1302,
    ticketAgeAdd: 0xfedcba98,
    lifetimeS: 604800,
    receivedAtMs: 1_795_000_000_123,
    alpn: 'http/1.1',
    peerCertificates: [new Uint8Array(randomBytes(700)), new Uint8Array(randomBytes(3))],
    ...over,
  };
}

const sessionArb: fc.Arbitrary<ClientSession> = fc.record({
  serverName: fc.string({ unit: 'binary', maxLength: 40 }),
  ticket: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  psk: fc.uint8Array({ minLength: 1, maxLength: 255 }),
  suite: fc.integer({ min: 0, max: 0xffff }),
  ticketAgeAdd: fc.integer({ min: 0, max: 0xffffffff }),
  lifetimeS: fc.integer({ min: 0, max: 0xffffffff }),
  receivedAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  alpn: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), { nil: undefined }),
  peerCertificates: fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 4 }),
});

describe('encodeClientSession / decodeClientSession', () => {
  it('round-trips a session with ALPN and a certificate chain', () => {
    const s = example();
    const bytes = encodeClientSession(s);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('TCS1');
    expect(decodeClientSession(bytes)).toEqual(s);
  });

  it('round-trips a session without ALPN or certificates', () => {
    const s = example({ alpn: undefined, peerCertificates: [], serverName: '' });
    expect(decodeClientSession(encodeClientSession(s))).toEqual(s);
  });

  it('returns undefined for empty input, the magic alone, another magic, or a trailing byte', () => {
    const good = encodeClientSession(example());
    expect(decodeClientSession(new Uint8Array(0))).toBeUndefined();
    expect(decodeClientSession(good.subarray(0, 4))).toBeUndefined();
    const otherVersion = Uint8Array.from(good);
    otherVersion[3] = 0x32; // "TCS2"
    expect(decodeClientSession(otherVersion)).toBeUndefined();
    expect(decodeClientSession(Uint8Array.of(...good, 0))).toBeUndefined();
  });

  it('returns undefined for every truncation of a valid encoding', () => {
    const good = encodeClientSession(example());
    for (let n = 0; n < good.length; n++) expect(decodeClientSession(good.subarray(0, n))).toBeUndefined();
  });

  it('returns undefined for a server name that is not UTF-8 and for an unknown ALPN flag', () => {
    const s = example({ serverName: 'ab', alpn: undefined, peerCertificates: [] });
    const bytes = encodeClientSession(s);
    // serverName bytes start after magic (4) and its u16 length (2).
    const badUtf8 = Uint8Array.from(bytes);
    badUtf8[6] = 0xff;
    expect(decodeClientSession(badUtf8)).toBeUndefined();
    // The ALPN flag sits just before the u16 certificate count at the end.
    const badFlag = Uint8Array.from(bytes);
    badFlag[badFlag.length - 3] = 2;
    expect(decodeClientSession(badFlag)).toBeUndefined();
  });

  it('refuses to encode fields it cannot represent', () => {
    expect(() => encodeClientSession(example({ ticket: new Uint8Array(0) }))).toThrow(RangeError);
    expect(() => encodeClientSession(example({ psk: new Uint8Array(256) }))).toThrow(RangeError);
    expect(() => encodeClientSession(example({ alpn: '' }))).toThrow(RangeError);
    expect(() => encodeClientSession(example({ suite: 0x10000 }))).toThrow(RangeError);
    expect(() => encodeClientSession(example({ receivedAtMs: -1 }))).toThrow(RangeError);
    expect(() => encodeClientSession(example({ serverName: '\ud800' }))).toThrow(RangeError);
  });
});

describe('session codec properties', () => {
  it('decodes every encoded session to an equal session', () => {
    fc.assert(
      fc.property(sessionArb, (s) => {
        expect(decodeClientSession(encodeClientSession(s))).toEqual(s);
      }),
      { numRuns },
    );
  });

  it('decodes no strict prefix of an encoding', () => {
    fc.assert(
      fc.property(sessionArb, fc.nat(), (s, cut) => {
        const bytes = encodeClientSession(s);
        expect(decodeClientSession(bytes.subarray(0, cut % bytes.length))).toBeUndefined();
      }),
      { numRuns },
    );
  });

  it('never throws on arbitrary bytes, and whatever it accepts re-encodes to the same bytes', () => {
    const magicThenAnything = fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.of(0x54, 0x43, 0x53, 0x31, ...b));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), magicThenAnything), (bytes) => {
        const s = decodeClientSession(bytes);
        if (s !== undefined) expect(Buffer.from(encodeClientSession(s)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('never decodes an encoding with one byte changed to the original session', () => {
    fc.assert(
      fc.property(sessionArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, delta) => {
        const bytes = encodeClientSession(s);
        const mutated = Uint8Array.from(bytes);
        const i = at % bytes.length;
        mutated[i] = ((mutated[i] as number) + delta) & 0xff;
        const decoded = decodeClientSession(mutated);
        if (decoded !== undefined) expect(decoded).not.toEqual(s);
      }),
      { numRuns },
    );
  });
});
