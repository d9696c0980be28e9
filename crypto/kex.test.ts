import { createECDH, createHash, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NamedGroup } from '../wire/types.js';
import { fromHex, toHex } from './bytes.js';
import { computeSharedSecret, generateKeyPair, type KeyPair, keyPairFromPrivate, SUPPORTED_GROUPS } from './kex.js';

/** Deterministic random bytes: SHA-256 in counter mode over a seed. */
function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}

function shared(group: number, a: KeyPair, b: KeyPair): Uint8Array {
  const r = computeSharedSecret(group, a.privateKey, b.publicKey);
  if (!r.ok) throw r.error;
  return r.value;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

describe('supported groups', () => {
  it('are x25519, secp256r1 and secp384r1 in that order', () => {
    expect(SUPPORTED_GROUPS).toEqual([0x001d, 0x0017, 0x0018]);
  });
});

describe('key pairs (RFC 8446 §4.2.8)', () => {
  const shapes: [number, number, number][] = [
    [NamedGroup.x25519, 32, 32],
    [NamedGroup.secp256r1, 32, 65],
    [NamedGroup.secp384r1, 48, 97],
  ];
  for (const [group, privLen, pubLen] of shapes) {
    it(`has the RFC 8446 sizes for group 0x${group.toString(16)}`, () => {
      const kp = generateKeyPair(group, seededRandom('sizes'));
      expect(kp.group).toBe(group);
      expect(kp.privateKey).toHaveLength(privLen);
      expect(kp.publicKey).toHaveLength(pubLen);
      if (group !== NamedGroup.x25519) expect(kp.publicKey[0]).toBe(0x04);
    });

    it(`is reproduced exactly from the same randomness for group 0x${group.toString(16)}`, () => {
      const a = generateKeyPair(group, seededRandom('replay'));
      const b = generateKeyPair(group, seededRandom('replay'));
      const c = generateKeyPair(group, seededRandom('other'));
      expect(toHex(a.privateKey)).toBe(toHex(b.privateKey));
      expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
      expect(toHex(a.publicKey)).not.toBe(toHex(c.publicKey));
      expect(toHex(keyPairFromPrivate(group, a.privateKey).publicKey)).toBe(toHex(a.publicKey));
    });

    it(`agrees on one shared secret from both sides for group 0x${group.toString(16)}`, () => {
      const a = generateKeyPair(group, seededRandom('alice'));
      const b = generateKeyPair(group, seededRandom('bob'));
      const ab = shared(group, a, b);
      expect(toHex(ab)).toBe(toHex(shared(group, b, a)));
      expect(ab).toHaveLength(privLen);
    });
  }

  it('rejects an unknown group and a random source that returns the wrong length', () => {
    expect(() => generateKeyPair(0x0019, seededRandom('x'))).toThrow(RangeError);
    expect(() => generateKeyPair(NamedGroup.x25519, () => new Uint8Array(31))).toThrow(TypeError);
    expect(() => keyPairFromPrivate(NamedGroup.secp256r1, new Uint8Array(32))).toThrow(RangeError);
  });
});

describe('shared secrets agree with node:crypto (RFC 8446 §7.4)', () => {
  it('for x25519', () => {
    const a = generateKeyPair(NamedGroup.x25519, seededRandom('x-a'));
    const b = generateKeyPair(NamedGroup.x25519, seededRandom('x-b'));
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: b64u(a.privateKey), x: b64u(a.publicKey) },
      format: 'jwk',
    });
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(b.publicKey) }, format: 'jwk' });
    expect(toHex(shared(NamedGroup.x25519, a, b))).toBe(toHex(diffieHellman({ privateKey, publicKey })));
  });

  for (const [group, curve] of [
    [NamedGroup.secp256r1, 'prime256v1'],
    [NamedGroup.secp384r1, 'secp384r1'],
  ] as const) {
    it(`for ${curve}, where the secret is the x-coordinate`, () => {
      const a = generateKeyPair(group, seededRandom(`${curve}-a`));
      const b = generateKeyPair(group, seededRandom(`${curve}-b`));
      const ecdh = createECDH(curve);
      ecdh.setPrivateKey(a.privateKey);
      expect(toHex(ecdh.getPublicKey())).toBe(toHex(a.publicKey));
      expect(toHex(shared(group, a, b))).toBe(toHex(ecdh.computeSecret(b.publicKey)));
    });
  }
});

function expectInvalidShare(group: number, priv: Uint8Array, peer: Uint8Array): void {
  const r = computeSharedSecret(group, priv, peer);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.alert).toBe('illegal_parameter');
    expect(r.error.reason).toBe('InvalidKeyShare');
  }
}

describe('invalid key shares are illegal_parameter (RFC 8446 §4.2.8.1, §4.2.8.2, §7.4.2)', () => {
  const x = generateKeyPair(NamedGroup.x25519, seededRandom('victim-x'));
  const p256 = generateKeyPair(NamedGroup.secp256r1, seededRandom('victim-256'));
  const p384 = generateKeyPair(NamedGroup.secp384r1, seededRandom('victim-384'));

  // The u-coordinates of small order on Curve25519 and its twist, and their
  // non-canonical encodings p and p+1 (RFC 7748 §5 decoding reduces mod p).
  const lowOrder = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ];
  for (const u of lowOrder) {
    it(`rejects the low-order x25519 share ${u.slice(0, 8)}…`, () => {
      expectInvalidShare(NamedGroup.x25519, x.privateKey, fromHex(u));
    });
  }

  it('rejects x25519 shares that are not 32 bytes', () => {
    expectInvalidShare(NamedGroup.x25519, x.privateKey, new Uint8Array(31).fill(9));
    expectInvalidShare(NamedGroup.x25519, x.privateKey, new Uint8Array(33).fill(9));
  });

  it('rejects a P-256 point that is not on the curve', () => {
    const off = Uint8Array.from(p256.publicKey);
    off[64] = (off[64] as number) ^ 1;
    expectInvalidShare(NamedGroup.secp256r1, p256.privateKey, off);
  });

  it('rejects a P-384 point that is not on the curve', () => {
    const off = Uint8Array.from(p384.publicKey);
    off[96] = (off[96] as number) ^ 1;
    expectInvalidShare(NamedGroup.secp384r1, p384.privateKey, off);
  });

  it('rejects the compressed form of a valid P-256 point', () => {
    const peer = generateKeyPair(NamedGroup.secp256r1, seededRandom('peer'));
    const y = peer.publicKey[64] as number;
    const compressed = new Uint8Array(33);
    compressed[0] = 0x02 | (y & 1);
    compressed.set(peer.publicKey.subarray(1, 33), 1);
    expectInvalidShare(NamedGroup.secp256r1, p256.privateKey, compressed);
  });

  it('rejects hybrid encodings (0x06/0x07) of a valid P-256 point', () => {
    const peer = generateKeyPair(NamedGroup.secp256r1, seededRandom('peer'));
    for (const prefix of [0x06, 0x07]) {
      const hybrid = Uint8Array.from(peer.publicKey);
      hybrid[0] = prefix;
      expectInvalidShare(NamedGroup.secp256r1, p256.privateKey, hybrid);
    }
  });

  it('rejects the all-zero P-256 point', () => {
    const zero = new Uint8Array(65);
    zero[0] = 0x04;
    expectInvalidShare(NamedGroup.secp256r1, p256.privateKey, zero);
  });

  it('rejects a P-384 share sent for P-256 and vice versa', () => {
    expectInvalidShare(NamedGroup.secp256r1, p256.privateKey, p384.publicKey);
    expectInvalidShare(NamedGroup.secp384r1, p384.privateKey, p256.publicKey);
  });

  it('never throws, whatever it is given', () => {
    const r1 = computeSharedSecret(0x0019, x.privateKey, x.publicKey);
    expect(r1.ok).toBe(false);
    const r2 = computeSharedSecret(NamedGroup.x25519, x.privateKey, 'nope' as unknown as Uint8Array);
    expect(r2.ok).toBe(false);
    const r3 = computeSharedSecret(NamedGroup.secp256r1, new Uint8Array(32), p256.publicKey);
    expect(r3.ok).toBe(false);
    if (!r3.ok) expect(r3.error.alert).toBe('internal_error');
  });
});
