import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSpki, SPKI_CACHE_SIZE } from './spki.js';

const spkiOf = (type: 'ec' | 'ed25519' | 'rsa', opts: Record<string, unknown> = {}) =>
  new Uint8Array(generateKeyPairSync(type as 'ec', opts as { namedCurve: string }).publicKey.export({ type: 'spki', format: 'der' }));

describe('SubjectPublicKeyInfo parsing (RFC 5280 §4.1.2.7)', () => {
  it('reads each key kind tlschart verifies with, with the KeyObject and the raw form', () => {
    const p256 = parseSpki(spkiOf('ec', { namedCurve: 'prime256v1' }));
    expect(p256?.kind).toBe('ecdsa-p256');
    expect(p256 && 'point' in p256 ? p256.point.length : 0).toBe(65);
    const p384 = parseSpki(spkiOf('ec', { namedCurve: 'secp384r1' }));
    expect(p384 && 'point' in p384 ? p384.point.length : 0).toBe(97);
    const ed = parseSpki(spkiOf('ed25519'));
    expect(ed && 'raw' in ed ? ed.raw.length : 0).toBe(32);
    const rsa = parseSpki(spkiOf('rsa', { modulusLength: 2048 }));
    expect(rsa && 'modulusBits' in rsa ? rsa.modulusBits : 0).toBe(2048);
    for (const k of [p256, p384, ed, rsa]) expect(k?.key.type).toBe('public');
  });

  it('parses a key once: the same bytes, in any array, give the same frozen object', () => {
    const spki = spkiOf('ec', { namedCurve: 'prime256v1' });
    const first = parseSpki(spki);
    const copy = new Uint8Array([0, ...spki]).subarray(1);
    expect(parseSpki(copy)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(parseSpki(spkiOf('ec', { namedCurve: 'prime256v1' }))).not.toBe(first);
  });

  it('forgets the least recently used keys beyond its bound, and parses them again when they come back', () => {
    const spki = spkiOf('ed25519');
    const first = parseSpki(spki);
    for (let i = 0; i < SPKI_CACHE_SIZE; i++) parseSpki(spkiOf('ed25519'));
    const again = parseSpki(spki);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('gives undefined for anything that is not a usable key, and does not keep it', () => {
    expect(parseSpki(new Uint8Array(0))).toBeUndefined();
    expect(parseSpki(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toBeUndefined();
    expect(parseSpki(spkiOf('ec', { namedCurve: 'secp256k1' }))).toBeUndefined();
  });
});
