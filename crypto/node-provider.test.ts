/**
 * The node:crypto provider against published vectors and against the @noble
 * provider: the same values for the same inputs (hashes, HMAC, HKDF, AEAD, key
 * pairs drawn from the same random bytes, shared secrets), the same refusals
 * for the same bad key shares, and signatures each provider verifies for the other.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NamedGroup, SignatureScheme as S } from '../wire/types.js';
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import { nobleProvider } from './noble.js';
import { createNodeProvider, nodeProvider } from './node-provider.js';
import type { CryptoProvider, KeyPair } from './provider.js';
import type { AeadName, HashName } from './suites.js';
import { PROVIDER_CASES } from './testing/providers.js';

const rnd = (n: number) => new Uint8Array(randomBytes(n));

/** A random source that hands out `bytes` in order, as a seeded environment would. */
function fixedRandom(bytes: Uint8Array): (n: number) => Uint8Array {
  let at = 0;
  return (n) => {
    if (at + n > bytes.length) throw new Error('fixedRandom: out of bytes');
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
}

const NATIVE = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];
/** Random bytes one key generation of `group` draws (x25519: 32; NIST: 1.5 × the scalar). */
const DRAW: Record<number, number> = { [NamedGroup.x25519]: 32, [NamedGroup.secp256r1]: 48, [NamedGroup.secp384r1]: 72 };

describe.each(PROVIDER_CASES)('hashing, HMAC and HKDF on the $name provider (published vectors)', ({ provider }) => {
  it('SHA-256 and SHA-384 of "abc" (FIPS 180-4 examples)', () => {
    expect(toHex(provider.hash('sha256', utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(provider.hash('sha384', utf8('abc')))).toBe(
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    );
  });

  it('HMAC-SHA-256 and HMAC-SHA-384 of RFC 4231 test case 2', () => {
    const key = utf8('Jefe');
    const data = utf8('what do ya want for nothing?');
    expect(toHex(provider.hmac('sha256', key, data))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(toHex(provider.hmac('sha384', key, data))).toBe(
      'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    );
  });

  it('HKDF-Extract and HKDF-Expand of RFC 5869 test case 1', () => {
    const prk = provider.hkdfExtract('sha256', fromHex('000102030405060708090a0b0c'), new Uint8Array(22).fill(0x0b));
    expect(toHex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(toHex(provider.hkdfExpand('sha256', prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('refuses an HKDF-Expand length above 255 × HashLen and a PRK shorter than HashLen (RFC 5869 §2.3)', () => {
    const prk = rnd(32);
    expect(provider.hkdfExpand('sha256', prk, new Uint8Array(0), 0)).toHaveLength(0);
    expect(() => provider.hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32 + 1)).toThrow();
    expect(provider.hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32)).toHaveLength(255 * 32);
    expect(() => provider.hkdfExpand('sha256', rnd(31), new Uint8Array(0), 32)).toThrow();
  });

  it('returns plain Uint8Arrays, whose slice() copies', () => {
    for (const out of [
      provider.hash('sha256', rnd(3)),
      provider.hmac('sha256', rnd(32), rnd(3)),
      provider.hkdfExpand('sha256', rnd(32), rnd(3), 12),
    ]) {
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    }
  });
});

describe('hashing, HMAC and HKDF: node:crypto gives the values @noble gives', () => {
  const hashes: HashName[] = ['sha256', 'sha384'];
  it('for any input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...hashes), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 200 }), (h, data, key) => {
        expect(toHex(nodeProvider.hash(h, data))).toBe(toHex(nobleProvider.hash(h, data)));
        expect(toHex(nodeProvider.hmac(h, key, data))).toBe(toHex(nobleProvider.hmac(h, key, data)));
        expect(toHex(nodeProvider.hkdfExtract(h, key, data))).toBe(toHex(nobleProvider.hkdfExtract(h, key, data)));
      }),
      { numRuns: 200 },
    );
  });

  it('for any HKDF-Expand length, one block or many', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...hashes),
        fc.uint8Array({ minLength: 48, maxLength: 64 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 1, max: 600 }),
        (h, prk, info, length) => {
          expect(toHex(nodeProvider.hkdfExpand(h, prk, info, length))).toBe(toHex(nobleProvider.hkdfExpand(h, prk, info, length)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe.each(PROVIDER_CASES)('AEAD on the $name provider', ({ provider }) => {
  it('ChaCha20-Poly1305 of RFC 8439 §2.8.2', () => {
    const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = fromHex('070000004041424344454647');
    const aad = fromHex('50515253c0c1c2c3c4c5c6c7');
    const plaintext = utf8(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = provider.aeadSeal('chacha20-poly1305', key, nonce, aad, plaintext);
    expect(toHex(sealed)).toBe(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
        '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116' +
        '1ae10b594f09e26a7e902ecbd0600691',
    );
    expect(provider.aeadOpen('chacha20-poly1305', key, nonce, aad, sealed)).toEqual(plaintext);
  });

  it('AES-256-GCM of the GCM specification, test cases 13 and 14', () => {
    const key = new Uint8Array(32);
    const iv = new Uint8Array(12);
    expect(toHex(provider.aeadSeal('aes-256-gcm', key, iv, new Uint8Array(0), new Uint8Array(0)))).toBe('530f8afbc74536b9a963b4f1c4cb738b');
    expect(toHex(provider.aeadSeal('aes-256-gcm', key, iv, new Uint8Array(0), new Uint8Array(16)))).toBe(
      'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919',
    );
  });

  it('refuses a key or nonce of the wrong length', () => {
    expect(() => provider.aeadSeal('aes-128-gcm', rnd(32), rnd(12), rnd(5), rnd(3))).toThrow(RangeError);
    expect(() => provider.aeadSeal('chacha20-poly1305', rnd(32), rnd(8), rnd(5), rnd(3))).toThrow(RangeError);
    expect(() => provider.aeadOpen('aes-256-gcm', rnd(16), rnd(12), rnd(5), rnd(40))).toThrow(RangeError);
  });

  it('opens nothing shorter than a tag', () => {
    expect(provider.aeadOpen('aes-128-gcm', rnd(16), rnd(12), rnd(5), rnd(15))).toBeUndefined();
  });

  /** An algorithm, a 32-byte key (its first 16 bytes for AES-128), a nonce, AAD and the parts of a record's content. */
  const SEAL_INPUTS = [
    fc.constantFrom<AeadName>('aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'),
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.uint8Array({ minLength: 12, maxLength: 12 }),
    fc.uint8Array({ maxLength: 13 }),
    fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }),
  ] as const;

  it('seals parts into a buffer to the bytes aeadSeal gives for them joined, touching nothing around them', () => {
    const seal = provider.aeadSealInto;
    if (seal === undefined) throw new Error(`${provider.name} has no aeadSealInto`);
    fc.assert(
      fc.property(...SEAL_INPUTS, fc.nat({ max: 40 }), fc.nat({ max: 40 }), (alg, key32, nonce, aad, parts, before, after) => {
        const key = alg === 'aes-128-gcm' ? key32.subarray(0, 16) : key32;
        const joined = concat(...parts);
        const out = new Uint8Array(before + joined.length + 16 + after).fill(0xee);
        seal(alg, key, nonce, aad, parts, out, before);
        expect(toHex(out.subarray(before, before + joined.length + 16))).toBe(toHex(provider.aeadSeal(alg, key, nonce, aad, joined)));
        expect(out.subarray(0, before).every((b) => b === 0xee)).toBe(true);
        expect(out.subarray(before + joined.length + 16).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('seals parts into pieces whose concatenation is what aeadSeal gives for them joined, the tag last', () => {
    const seal = provider.aeadSealPieces;
    if (seal === undefined) throw new Error(`${provider.name} has no aeadSealPieces`);
    fc.assert(
      fc.property(...SEAL_INPUTS, (alg, key32, nonce, aad, parts) => {
        const key = alg === 'aes-128-gcm' ? key32.subarray(0, 16) : key32;
        const copies = parts.map((p) => p.slice());
        const pieces = seal(alg, key, nonce, aad, parts);
        const sealed = provider.aeadSeal(alg, key, nonce, aad, concat(...parts));
        expect(toHex(concat(...pieces))).toBe(toHex(sealed));
        expect(toHex(pieces.at(-1)?.subarray(-16) ?? new Uint8Array(0))).toBe(toHex(sealed.subarray(-16)));
        // The plaintext is read, never written.
        expect(parts.map(toHex)).toEqual(copies.map(toHex));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses to seal into a buffer without room for the ciphertext and tag', () => {
    const seal = provider.aeadSealInto;
    if (seal === undefined) throw new Error(`${provider.name} has no aeadSealInto`);
    const out = new Uint8Array(10 + 16 + 4);
    expect(() => seal('aes-128-gcm', rnd(16), rnd(12), rnd(5), [rnd(6), rnd(4)], out, 5)).toThrow(RangeError);
    expect(() => seal('aes-128-gcm', rnd(16), rnd(12), rnd(5), [rnd(6), rnd(4)], out, -1)).toThrow(RangeError);
    expect(() => seal('aes-128-gcm', rnd(32), rnd(12), rnd(5), [rnd(6)], out, 0)).toThrow(RangeError);
  });
});

describe('AEAD: node:crypto and @noble seal to the same bytes and refuse the same forgeries', () => {
  const algs: AeadName[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
  it('for any key, nonce, additional data and plaintext; any flipped bit fails on both', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...algs),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 13 }),
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(),
        (alg, key32, nonce, aad, plaintext, flip) => {
          const key = alg === 'aes-128-gcm' ? key32.subarray(0, 16) : key32;
          const sealed = nodeProvider.aeadSeal(alg, key, nonce, aad, plaintext);
          expect(toHex(sealed)).toBe(toHex(nobleProvider.aeadSeal(alg, key, nonce, aad, plaintext)));
          expect(toHex(nodeProvider.aeadOpen(alg, key, nonce, aad, sealed) ?? new Uint8Array([1]))).toBe(toHex(plaintext));
          const bit = flip % (sealed.length * 8);
          const forged = Uint8Array.from(sealed);
          forged[bit >> 3] = (forged[bit >> 3] as number) ^ (1 << (bit & 7));
          expect(nodeProvider.aeadOpen(alg, key, nonce, aad, forged)).toBeUndefined();
          expect(nobleProvider.aeadOpen(alg, key, nonce, aad, forged)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------ key exchange

const P256_P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const P384_P = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;
const P384_B = 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn;

const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
};
const be = (n: bigint, len: number) => fromHex(n.toString(16).padStart(2 * len, '0'));

/**
 * A curve point with the smallest x for which y² = x³ - 3x + b has a root
 * (p ≡ 3 mod 4: y = rhs^((p+1)/4)), written with x + p instead of x: the same
 * point in a non-canonical encoding that a strict decoder must refuse.
 */
function pointWithXPlusP(p: bigint, b: bigint, len: number): Uint8Array {
  for (let x = 0n; ; x++) {
    const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
    const y = modPow(rhs, (p + 1n) / 4n, p);
    if ((y * y) % p !== rhs) continue;
    const out = new Uint8Array(1 + 2 * len);
    out[0] = 0x04;
    out.set(be(x + p, len), 1);
    out.set(be(y, len), 1 + len);
    return out;
  }
}

/** Shares every provider must refuse, by group, with why. */
function badShares(): Array<[number, string, Uint8Array]> {
  const p256 = nobleProvider.generateKeyPair(NamedGroup.secp256r1, fixedRandom(rnd(48))).publicKey;
  const p384 = nobleProvider.generateKeyPair(NamedGroup.secp384r1, fixedRandom(rnd(72))).publicKey;
  const offCurve = (pt: Uint8Array) => {
    const out = Uint8Array.from(pt);
    out[out.length - 1] = (out[out.length - 1] as number) ^ 1;
    return out;
  };
  const compressed = (pt: Uint8Array) => {
    const len = (pt.length - 1) / 2;
    const out = new Uint8Array(1 + len);
    out[0] = 0x02 | ((pt[pt.length - 1] as number) & 1);
    out.set(pt.subarray(1, 1 + len), 1);
    return out;
  };
  const hybrid = (pt: Uint8Array) => Uint8Array.from([0x06 | ((pt[pt.length - 1] as number) & 1), ...pt.subarray(1)]);
  const zeroPoint = (len: number) => Uint8Array.from([0x04, ...new Uint8Array(2 * len)]);
  const x = [
    ['u = 0', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['u = 1', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['an order-8 point', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['the other order-8 point', '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'],
    ['u = p - 1', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['u = p (non-canonical 0)', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['u = p + 1 (non-canonical 1)', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['u = 0 with the top bit set (masked, RFC 7748 §5)', '0000000000000000000000000000000000000000000000000000000000000080'],
    ['u = 1 with the top bit set', '0100000000000000000000000000000000000000000000000000000000000080'],
  ].map(([why, hex]) => [NamedGroup.x25519, `x25519 ${why}`, fromHex(hex as string)] as [number, string, Uint8Array]);
  return [
    ...x,
    [NamedGroup.x25519, 'x25519 31 bytes', rnd(31)],
    [NamedGroup.x25519, 'x25519 33 bytes', rnd(33)],
    [NamedGroup.x25519, 'x25519 empty', new Uint8Array(0)],
    [NamedGroup.secp256r1, 'P-256 point off the curve', offCurve(p256)],
    [NamedGroup.secp256r1, 'P-256 compressed point', compressed(p256)],
    [NamedGroup.secp256r1, 'P-256 hybrid point (0x06/0x07)', hybrid(p256)],
    [NamedGroup.secp256r1, 'P-256 all-zero coordinates', zeroPoint(32)],
    [NamedGroup.secp256r1, 'P-256 point at infinity (0x00)', Uint8Array.of(0)],
    [NamedGroup.secp256r1, 'P-256 x written as x + p', pointWithXPlusP(P256_P, P256_B, 32)],
    [NamedGroup.secp256r1, 'a P-384 share for P-256', p384],
    [NamedGroup.secp384r1, 'P-384 point off the curve', offCurve(p384)],
    [NamedGroup.secp384r1, 'P-384 compressed point', compressed(p384)],
    [NamedGroup.secp384r1, 'P-384 x written as x + p', pointWithXPlusP(P384_P, P384_B, 48)],
    [NamedGroup.secp384r1, 'a P-256 share for P-384', p256],
  ];
}

describe('key exchange: node:crypto and @noble (RFC 8446 §4.2.8, §7.4)', () => {
  it('offers every group the @noble provider offers, in its order', () => {
    expect(nodeProvider.groups.slice(0, nobleProvider.groups.length)).toEqual([...nobleProvider.groups]);
    for (const g of NATIVE) expect(nodeProvider.groups).toContain(g);
  });

  for (const group of NATIVE) {
    const name = `0x${group.toString(16).padStart(4, '0')}`;
    it(`draws the same key pair from the same random bytes as @noble (${name})`, () => {
      for (let i = 0; i < 20; i++) {
        const bytes = rnd(DRAW[group] as number);
        const a = nodeProvider.generateKeyPair(group, fixedRandom(bytes));
        const b = nobleProvider.generateKeyPair(group, fixedRandom(bytes));
        expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
        expect(toHex(a.privateKey)).toBe(toHex(b.privateKey));
      }
    });

    it(`agrees on the shared secret with @noble in both directions, key pairs made by either (${name})`, () => {
      const mine = nodeProvider.generateKeyPair(group, fixedRandom(rnd(DRAW[group] as number)));
      const theirs = nobleProvider.generateKeyPair(group, fixedRandom(rnd(DRAW[group] as number)));
      const results = [
        nodeProvider.completeShare(mine, theirs.publicKey),
        nobleProvider.completeShare(theirs, mine.publicKey),
        nodeProvider.completeShare(theirs, mine.publicKey),
        nobleProvider.completeShare(mine, theirs.publicKey),
      ].map((r) => (r.ok ? toHex(r.value) : r.error.message));
      expect(new Set(results).size).toBe(1);
      expect(fromHex(results[0] as string)).toHaveLength(group === NamedGroup.secp384r1 ? 48 : 32);
    });

    it(`answers a client share with the share and secret @noble gives for the same random bytes (${name})`, () => {
      const client = nobleProvider.generateKeyPair(group, fixedRandom(rnd(DRAW[group] as number)));
      const bytes = rnd(DRAW[group] as number);
      const a = nodeProvider.acceptShare(group, client.publicKey, fixedRandom(bytes));
      const b = nobleProvider.acceptShare(group, client.publicKey, fixedRandom(bytes));
      expect(a.ok && b.ok).toBe(true);
      if (a.ok && b.ok) {
        expect(toHex(a.share)).toBe(toHex(b.share));
        expect(toHex(a.secret)).toBe(toHex(b.secret));
        const done = nobleProvider.completeShare(client, a.share);
        expect(done.ok && toHex(done.value)).toBe(toHex(a.secret));
      }
    });
  }

  it('accepts a non-canonical x25519 u-coordinate that reduces to a valid point (p + 9 is the base point), as @noble does', () => {
    const u = fromHex('f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'); // p + 9
    const nine = fromHex('0900000000000000000000000000000000000000000000000000000000000000');
    const kp = nodeProvider.generateKeyPair(NamedGroup.x25519, fixedRandom(rnd(32)));
    expect(nodeProvider.isValidShare(NamedGroup.x25519, u)).toBe(true);
    expect(nobleProvider.isValidShare(NamedGroup.x25519, u)).toBe(true);
    const viaU = nodeProvider.completeShare(kp, u);
    const viaNine = nobleProvider.completeShare(kp, nine);
    expect(viaU.ok && toHex(viaU.value)).toBe(viaNine.ok && toHex(viaNine.value));
    // X25519(d, 9) is d's own public key.
    expect(viaNine.ok && toHex(viaNine.value)).toBe(toHex(kp.publicKey));
  });

  for (const [group, why, share] of badShares()) {
    it(`refuses ${why} as both providers do: illegal_parameter / InvalidKeyShare`, () => {
      for (const p of [nodeProvider, nobleProvider]) {
        expect({ provider: p.name, valid: p.isValidShare(group, share) }).toEqual({ provider: p.name, valid: false });
        const mine = p.generateKeyPair(group, fixedRandom(rnd(DRAW[group] as number)));
        for (const r of [p.completeShare(mine, share), p.acceptShare(group, share, fixedRandom(rnd(DRAW[group] as number)))]) {
          expect(r.ok).toBe(false);
          if (!r.ok)
            expect({ provider: p.name, alert: r.error.alert, reason: r.error.reason }).toEqual({
              provider: p.name,
              alert: 'illegal_parameter',
              reason: 'InvalidKeyShare',
            });
        }
      }
    });
  }

  it('judges a valid share valid, and a private key that is not one as internal_error, as @noble does', () => {
    for (const group of NATIVE) {
      const share = nobleProvider.generateKeyPair(group, fixedRandom(rnd(DRAW[group] as number))).publicKey;
      expect(nodeProvider.isValidShare(group, share)).toBe(true);
      const len = group === NamedGroup.secp384r1 ? 48 : 32;
      const bad: KeyPair = { group, privateKey: group === NamedGroup.x25519 ? new Uint8Array(31) : new Uint8Array(len), publicKey: share };
      for (const p of [nodeProvider, nobleProvider]) {
        const r = p.completeShare(bad, share);
        expect(r.ok || { alert: r.error.alert, reason: r.error.reason }).toEqual({ alert: 'internal_error', reason: 'InvalidPrivateKey' });
      }
    }
  });

  it('refuses a group neither provider knows as @noble does', () => {
    expect(() => nodeProvider.generateKeyPair(0x0019, fixedRandom(rnd(100)))).toThrow(RangeError);
    const r = nodeProvider.acceptShare(0x0019, rnd(32), fixedRandom(rnd(100)));
    expect(r.ok || { alert: r.error.alert, reason: r.error.reason }).toEqual({ alert: 'illegal_parameter', reason: 'UnsupportedGroup' });
    expect(nodeProvider.isValidShare(0x0019, rnd(32))).toBe(false);
  });

  it('refuses a random source that returns the wrong number of bytes', () => {
    expect(() => nodeProvider.generateKeyPair(NamedGroup.x25519, () => new Uint8Array(31))).toThrow(TypeError);
    expect(() => nodeProvider.generateKeyPair(NamedGroup.secp256r1, () => new Uint8Array(32))).toThrow(TypeError);
  });
});

describe('groups node:crypto does not do go to the fallback provider', () => {
  /** A private-use code point (RFC 8446 §4.2.7: 0xFE00..0xFEFF) that a fallback implements as x25519. */
  const EXTRA = 0xfe00;
  const calls: string[] = [];
  const asX25519 = (kp: KeyPair): KeyPair => ({ ...kp, group: NamedGroup.x25519 });
  const fallback: CryptoProvider = {
    ...nobleProvider,
    name: 'fallback',
    groups: [...nobleProvider.groups, EXTRA],
    generateKeyPair: (g, r) => {
      calls.push(`generate ${g}`);
      return g === EXTRA ? { ...nobleProvider.generateKeyPair(NamedGroup.x25519, r), group: EXTRA } : nobleProvider.generateKeyPair(g, r);
    },
    isValidShare: (g, s) => {
      calls.push(`valid ${g}`);
      return nobleProvider.isValidShare(g === EXTRA ? NamedGroup.x25519 : g, s);
    },
    acceptShare: (g, s, r) => {
      calls.push(`accept ${g}`);
      return nobleProvider.acceptShare(g === EXTRA ? NamedGroup.x25519 : g, s, r);
    },
    completeShare: (kp, s) => {
      calls.push(`complete ${kp.group}`);
      return nobleProvider.completeShare(kp.group === EXTRA ? asX25519(kp) : kp, s);
    },
  };
  const provider = createNodeProvider(fallback);

  it('offers them, and routes every key-exchange call for them (and only them) to the fallback', () => {
    expect(provider.groups).toContain(EXTRA);
    calls.length = 0;
    const client = provider.generateKeyPair(EXTRA, fixedRandom(rnd(32)));
    expect(provider.isValidShare(EXTRA, client.publicKey)).toBe(true);
    const server = provider.acceptShare(EXTRA, client.publicKey, fixedRandom(rnd(32)));
    expect(server.ok).toBe(true);
    if (!server.ok) return;
    const done = provider.completeShare(client, server.share);
    expect(done.ok && toHex(done.value)).toBe(toHex(server.secret));
    expect(calls).toEqual([`generate ${EXTRA}`, `valid ${EXTRA}`, `accept ${EXTRA}`, `complete ${EXTRA}`]);

    calls.length = 0;
    const native = provider.generateKeyPair(NamedGroup.x25519, fixedRandom(rnd(32)));
    provider.completeShare(native, client.publicKey);
    expect(calls).toEqual([]);
  });
});

// ------------------------------------------------------------------ signatures

function pemOf(type: 'ec' | 'ed25519' | 'rsa', opts: Record<string, unknown> = {}): string {
  const { privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe('signatures: node:crypto and @noble verify each other (RFC 8446 §4.2.3, §4.4.3)', () => {
  const pems = {
    'ecdsa-p256': [pemOf('ec', { namedCurve: 'prime256v1' }), S.ecdsa_secp256r1_sha256],
    'ecdsa-p384': [pemOf('ec', { namedCurve: 'secp384r1' }), S.ecdsa_secp384r1_sha384],
    ed25519: [pemOf('ed25519'), S.ed25519],
    'rsa-2048': [pemOf('rsa', { modulusLength: 2048 }), S.rsa_pss_rsae_sha256],
  } as const;
  const message = utf8('the content a CertificateVerify signs');

  for (const [kind, [pem, scheme]] of Object.entries(pems)) {
    it(`${kind}: what either signs, both verify; a flipped bit, the wrong message or the wrong scheme fails on both`, () => {
      const byNode = nodeProvider.loadSigningKey(pem);
      const byNoble = nobleProvider.loadSigningKey(pem);
      expect(toHex(byNode.spki)).toBe(toHex(byNoble.spki));
      expect(byNode.schemes).toEqual(byNoble.schemes);
      for (const signer of [byNode, byNoble]) {
        for (const s of signer.schemes) {
          const sig = signer.sign(s, message);
          for (const verifier of [nodeProvider, nobleProvider]) {
            expect({ verifier: verifier.name, ok: verifier.verifySignature(s, signer.spki, message, sig) }).toEqual({
              verifier: verifier.name,
              ok: true,
            });
            const flipped = Uint8Array.from(sig);
            flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0x10;
            expect(verifier.verifySignature(s, signer.spki, message, flipped)).toBe(false);
            expect(verifier.verifySignature(s, signer.spki, utf8('another message'), sig)).toBe(false);
            const other = s === S.ed25519 ? S.ecdsa_secp256r1_sha256 : S.ed25519;
            expect(verifier.verifySignature(other, signer.spki, message, sig)).toBe(false);
          }
        }
      }
      expect(() => byNode.sign(scheme === S.ed25519 ? S.ecdsa_secp256r1_sha256 : S.ed25519, message)).toThrow(TypeError);
    });
  }

  it('Ed25519 (deterministic, RFC 8032) gives the same signature bytes on both providers', () => {
    const pem = pems.ed25519[0];
    expect(toHex(nodeProvider.loadSigningKey(pem).sign(S.ed25519, message))).toBe(
      toHex(nobleProvider.loadSigningKey(pem).sign(S.ed25519, message)),
    );
  });

  it('ECDSA on node:crypto is randomised, so byte-for-byte replays sign with a @noble key (RFC 6979)', () => {
    const pem = pems['ecdsa-p256'][0];
    const node = nodeProvider.loadSigningKey(pem);
    expect(toHex(node.sign(S.ecdsa_secp256r1_sha256, message))).not.toBe(toHex(node.sign(S.ecdsa_secp256r1_sha256, message)));
    const noble = nobleProvider.loadSigningKey(pem);
    expect(toHex(noble.sign(S.ecdsa_secp256r1_sha256, message))).toBe(toHex(noble.sign(S.ecdsa_secp256r1_sha256, message)));
  });

  it('refuses the keys @noble refuses: RSA below 2048 bits, curves and types tlschart does not sign with', () => {
    for (const pem of [
      pemOf('rsa', { modulusLength: 1024 }),
      pemOf('ec', { namedCurve: 'secp521r1' }),
      pemOf('ec', { namedCurve: 'secp256k1' }),
    ]) {
      expect(() => nobleProvider.loadSigningKey(pem)).toThrow();
      expect(() => nodeProvider.loadSigningKey(pem)).toThrow();
    }
    expect(() => nodeProvider.loadSigningKey('not a key')).toThrow(TypeError);
  });

  it('never throws when verifying garbage', () => {
    const spki = nodeProvider.loadSigningKey(pems['ecdsa-p256'][0]).spki;
    for (const [scheme, key, sig] of [
      [S.ecdsa_secp256r1_sha256, spki, new Uint8Array(0)],
      [S.ecdsa_secp256r1_sha256, spki, rnd(70)],
      [S.ecdsa_secp256r1_sha256, rnd(91), rnd(70)],
      [S.ecdsa_secp256r1_sha256, new Uint8Array(0), rnd(70)],
      [0x0401, spki, rnd(70)],
    ] as const) {
      expect(nodeProvider.verifySignature(scheme, key, message, sig)).toBe(false);
    }
  });
});
