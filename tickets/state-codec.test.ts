import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParameters } from '../properties/settings.js';
import { decodeServerSessionState, encodeServerSessionState, STATE_MAGIC } from './state-codec.js';
import type { ServerSessionState } from './types.js';

function example(over: Partial<ServerSessionState> = {}): ServerSessionState {
  return {
    psk: new Uint8Array(randomBytes(48)),
    suite: 0x1302,
    serverName: 'bücher.example',
    alpn: 'http/1.1',
    issuedAtMs: 1_795_000_000_123,
    lifetimeS: 604800,
    ticketAgeAdd: 0xfedcba98,
    clientCertificates: [new Uint8Array(randomBytes(700)), new Uint8Array(randomBytes(3))],
    ...over,
  };
}

const stateArb: fc.Arbitrary<ServerSessionState> = fc.record({
  psk: fc.uint8Array({ minLength: 1, maxLength: 255 }),
  suite: fc.integer({ min: 0, max: 0xffff }),
  serverName: fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), { nil: undefined }),
  alpn: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), { nil: undefined }),
  issuedAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  lifetimeS: fc.integer({ min: 0, max: 604800 }),
  ticketAgeAdd: fc.integer({ min: 0, max: 0xffffffff }),
  clientCertificates: fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 4 }),
});

describe('encodeServerSessionState / decodeServerSessionState', () => {
  it('round-trips a state with names, ALPN and a client certificate chain, as plain Uint8Arrays', () => {
    const s = example();
    const bytes = encodeServerSessionState(s);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('TSS1');
    const back = decodeServerSessionState(bytes);
    expect(back).toEqual(s);
    expect(back?.psk).toBeInstanceOf(Uint8Array);
    expect(back?.clientCertificates[1]).toBeInstanceOf(Uint8Array);
  });

  it('round-trips a state without server name, ALPN or client certificates', () => {
    const s = example({ serverName: undefined, alpn: undefined, clientCertificates: [] });
    expect(decodeServerSessionState(encodeServerSessionState(s))).toEqual(s);
  });

  it('copies what it decodes: changing the input afterwards changes nothing', () => {
    const s = example();
    const bytes = encodeServerSessionState(s);
    const back = decodeServerSessionState(bytes);
    bytes.fill(0);
    expect(back).toEqual(s);
  });

  it('returns undefined for empty input, the magic alone, another version, another magic, or a trailing byte', () => {
    const good = encodeServerSessionState(example());
    expect(decodeServerSessionState(new Uint8Array(0))).toBeUndefined();
    expect(decodeServerSessionState(Uint8Array.from(STATE_MAGIC))).toBeUndefined();
    const nextVersion = Uint8Array.from(good);
    nextVersion[3] = 0x32; // "TSS2"
    expect(decodeServerSessionState(nextVersion)).toBeUndefined();
    const clientSession = Uint8Array.from(good);
    clientSession.set([0x54, 0x43, 0x53, 0x31]); // "TCS1", an exported client session
    expect(decodeServerSessionState(clientSession)).toBeUndefined();
    expect(decodeServerSessionState(Uint8Array.of(...good, 0))).toBeUndefined();
  });

  it('returns undefined for what another writer might leave under the key: text, JSON, a number', () => {
    for (const text of ['', 'OK', '{"psk":"00","suite":4865}', '12345', 'TSS1']) {
      expect(decodeServerSessionState(new TextEncoder().encode(text))).toBeUndefined();
    }
  });

  it('returns undefined for every truncation of a valid encoding', () => {
    const good = encodeServerSessionState(example());
    for (let n = 0; n < good.length; n++) expect(decodeServerSessionState(good.subarray(0, n))).toBeUndefined();
  });

  it('returns undefined for a bad presence flag, a name that is not UTF-8, a lifetime over 7 days and an empty certificate', () => {
    const s = example({ serverName: 'ab', alpn: undefined, clientCertificates: [] });
    const bytes = encodeServerSessionState(s);
    const nameFlagAt = 4 + 1 + s.psk.length + 2; // magic, psk<1..255>, suite
    const badFlag = Uint8Array.from(bytes);
    badFlag[nameFlagAt] = 2;
    expect(decodeServerSessionState(badFlag)).toBeUndefined();
    const badUtf8 = Uint8Array.from(bytes);
    badUtf8[nameFlagAt + 3] = 0xff; // first byte of the name, after the flag and its u16 length
    expect(decodeServerSessionState(badUtf8)).toBeUndefined();
    // lifetimeS sits before ticketAgeAdd (4) and the empty certificate list (3) at the end.
    const tooLong = Uint8Array.from(bytes);
    new DataView(tooLong.buffer).setUint32(tooLong.length - 11, 604801);
    expect(decodeServerSessionState(tooLong)).toBeUndefined();
    const emptyCert = Uint8Array.of(...bytes.subarray(0, bytes.length - 3), 0, 0, 3, 0, 0, 0);
    expect(decodeServerSessionState(emptyCert)).toBeUndefined();
  });

  it('refuses to encode fields it cannot represent', () => {
    expect(() => encodeServerSessionState(example({ psk: new Uint8Array(0) }))).toThrow();
    expect(() => encodeServerSessionState(example({ psk: new Uint8Array(256) }))).toThrow();
    expect(() => encodeServerSessionState(example({ suite: 0x10000 }))).toThrow(RangeError);
    expect(() => encodeServerSessionState(example({ lifetimeS: 604801 }))).toThrow(RangeError);
    expect(() => encodeServerSessionState(example({ issuedAtMs: -1 }))).toThrow(RangeError);
    expect(() => encodeServerSessionState(example({ ticketAgeAdd: 2 ** 32 }))).toThrow(RangeError);
    expect(() => encodeServerSessionState(example({ serverName: '\ud800' }))).toThrow(RangeError);
    expect(() => encodeServerSessionState(example({ alpn: '' }))).toThrow();
    expect(() => encodeServerSessionState(example({ clientCertificates: [new Uint8Array(0)] }))).toThrow();
  });
});

describe('server state codec properties', () => {
  it('decodes every encoded state to an equal state', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        expect(decodeServerSessionState(encodeServerSessionState(s))).toEqual(s);
      }),
      fcParameters(100, 5000),
    );
  });

  it('decodes no strict prefix of an encoding', () => {
    fc.assert(
      fc.property(stateArb, fc.nat(), (s, cut) => {
        const bytes = encodeServerSessionState(s);
        expect(decodeServerSessionState(bytes.subarray(0, cut % bytes.length))).toBeUndefined();
      }),
      fcParameters(100, 5000),
    );
  });

  it('never throws on arbitrary bytes, and whatever it accepts re-encodes to the same bytes', () => {
    const magicThenAnything = fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.of(...STATE_MAGIC, ...b));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), magicThenAnything), (bytes) => {
        const s = decodeServerSessionState(bytes);
        if (s !== undefined) expect(Buffer.from(encodeServerSessionState(s)).equals(Buffer.from(bytes))).toBe(true);
      }),
      fcParameters(200, 10000),
    );
  });

  it('never decodes an encoding with one byte changed to the original state', () => {
    fc.assert(
      fc.property(stateArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, delta) => {
        const bytes = encodeServerSessionState(s);
        const mutated = Uint8Array.from(bytes);
        const i = at % bytes.length;
        mutated[i] = ((mutated[i] as number) + delta) & 0xff;
        const decoded = decodeServerSessionState(mutated);
        if (decoded !== undefined) expect(decoded).not.toEqual(s);
      }),
      fcParameters(100, 5000),
    );
  });
});
