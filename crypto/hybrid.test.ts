import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import {
  rfc7748,
  s2nX25519MlKem768 as s2n,
  wycheproofMlKem768 as w,
  wycheproofBadLengthKeys,
  wycheproofUnreducedKeys,
} from '../vectors/x25519mlkem768.js';
import { NamedGroup } from '../wire/types.js';
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import {
  combineSecrets,
  HYBRID_CLIENT_SHARE_LENGTH,
  HYBRID_SERVER_SHARE_LENGTH,
  HYBRID_SHARED_SECRET_LENGTH,
  MLKEM768_CIPHERTEXT_LENGTH,
  MLKEM768_ENCAPSULATION_KEY_LENGTH,
  passesModulusCheck,
} from './hybrid.js';
import { computeSharedSecret } from './kex.js';
import { EarlySecret } from './keyschedule.js';
import { nobleProvider as p } from './noble.js';
import type { KeyPair, RandomSource } from './provider.js';
import { suiteInfo } from './suites.js';
import { transcriptHash } from './transcript.js';

const G = NamedGroup.X25519MLKEM768;

/** A random source that hands out exactly these bytes, in order, and fails if asked for more or less. */
function scripted(...chunks: string[]): RandomSource & { left(): number } {
  const queue = chunks.map(fromHex);
  const f = ((n: number) => {
    const next = queue.shift();
    if (!next) throw new Error(`asked for ${n} more random bytes than scripted`);
    if (next.length !== n) throw new Error(`asked for ${n} random bytes, the script has ${next.length}`);
    return next;
  }) as RandomSource & { left(): number };
  f.left = () => queue.length;
  return f;
}

/** Deterministic random bytes: SHA-256 in counter mode over a seed. */
function seeded(seed: string): RandomSource {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32)
      out.set(
        createHash('sha256')
          .update(`${seed}/${counter++}`)
          .digest()
          .subarray(0, Math.min(32, n - o)),
        o,
      );
    return out;
  };
}

const hex = (s: string) => toHex(fromHex(s));

function expectRefused(r: { ok: boolean; error?: { alert: string; reason: string } }, alert: string, reason: string): void {
  expect(r.ok).toBe(false);
  expect(r.error?.alert).toBe(alert);
  expect(r.error?.reason).toBe(reason);
}

/** The Wycheproof key pair with RFC 7748 Alice as its X25519 half, made by the provider from scripted randomness. */
function wycheproofClient(): KeyPair {
  return p.generateKeyPair(G, scripted(w.seed, rfc7748.alicePrivate));
}

describe('X25519MLKEM768 shares and secret have the layout of draft-ietf-tls-ecdhe-mlkem §3.1', () => {
  it('is a group of the default provider, listed first', () => {
    expect(G).toBe(0x11ec);
    expect(p.groups[0]).toBe(G);
  });

  it('makes a 1216-byte client share, a 1120-byte server share and a 64-byte secret', () => {
    const kp = p.generateKeyPair(G, seeded('sizes'));
    expect(kp.publicKey).toHaveLength(HYBRID_CLIENT_SHARE_LENGTH);
    expect(HYBRID_CLIENT_SHARE_LENGTH).toBe(1184 + 32);
    const server = p.acceptShare(G, kp.publicKey, seeded('server'));
    if (!server.ok) throw server.error;
    expect(server.share).toHaveLength(HYBRID_SERVER_SHARE_LENGTH);
    expect(HYBRID_SERVER_SHARE_LENGTH).toBe(1088 + 32);
    expect(server.secret).toHaveLength(HYBRID_SHARED_SECRET_LENGTH);
    const client = p.completeShare(kp, server.share);
    if (!client.ok) throw client.error;
    expect(toHex(client.value)).toBe(toHex(server.secret));
  });

  it('draws every random byte from the injected source: same bytes, same key pair and same server share', () => {
    const a = p.generateKeyPair(G, seeded('replay'));
    const b = p.generateKeyPair(G, seeded('replay'));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.privateKey)).toBe(toHex(b.privateKey));
    expect(toHex(p.generateKeyPair(G, seeded('other')).publicKey)).not.toBe(toHex(a.publicKey));
    const s1 = p.acceptShare(G, a.publicKey, seeded('srv'));
    const s2 = p.acceptShare(G, a.publicKey, seeded('srv'));
    if (!s1.ok || !s2.ok) throw new Error('refused');
    expect(toHex(s1.share)).toBe(toHex(s2.share));
    expect(toHex(s1.secret)).toBe(toHex(s2.secret));
  });
});

describe('published vectors, value by value: Wycheproof ML-KEM-768 and RFC 7748 §6.1 X25519 in the hybrid layout', () => {
  it('builds the client share as ek ‖ X25519 public key from the seed d ‖ z, then the X25519 private key', () => {
    const random = scripted(w.seed, rfc7748.alicePrivate);
    const kp = p.generateKeyPair(G, random);
    expect(random.left()).toBe(0);
    expect(kp.group).toBe(G);
    expect(toHex(kp.publicKey.subarray(0, MLKEM768_ENCAPSULATION_KEY_LENGTH))).toBe(hex(w.ek));
    expect(toHex(kp.publicKey.subarray(MLKEM768_ENCAPSULATION_KEY_LENGTH))).toBe(rfc7748.alicePublic);
    expect(toHex(kp.privateKey)).toBe(hex(w.dk) + rfc7748.alicePrivate);
  });

  it('answers as the server with ciphertext ‖ X25519 public key and the secret ML-KEM ‖ X25519, from m, then its X25519 key', () => {
    const random = scripted(w.m, rfc7748.bobPrivate);
    const r = p.acceptShare(G, concat(fromHex(w.ek), fromHex(rfc7748.alicePublic)), random);
    if (!r.ok) throw r.error;
    expect(random.left()).toBe(0);
    expect(toHex(r.share.subarray(0, MLKEM768_CIPHERTEXT_LENGTH))).toBe(hex(w.c));
    expect(toHex(r.share.subarray(MLKEM768_CIPHERTEXT_LENGTH))).toBe(rfc7748.bobPublic);
    expect(toHex(r.secret)).toBe(hex(w.K) + rfc7748.sharedSecret);
  });

  it('completes as the client: decapsulation and X25519 give the same 64 bytes', () => {
    const r = p.completeShare(wycheproofClient(), concat(fromHex(w.c), fromHex(rfc7748.bobPublic)));
    if (!r.ok) throw r.error;
    expect(toHex(r.value)).toBe(hex(w.K) + rfc7748.sharedSecret);
  });

  it('agrees with @noble/post-quantum used directly and with node:crypto for the X25519 half (RFC 7748 values)', () => {
    const kem = ml_kem768.keygen(fromHex(w.seed));
    expect(toHex(kem.publicKey)).toBe(hex(w.ek));
    expect(toHex(ml_kem768.decapsulate(fromHex(w.c), kem.secretKey))).toBe(hex(w.K));
    const x = computeSharedSecret(NamedGroup.x25519, fromHex(rfc7748.bobPrivate), fromHex(rfc7748.alicePublic));
    if (!x.ok) throw x.error;
    expect(toHex(x.value)).toBe(rfc7748.sharedSecret);
  });
});

describe('the combiner in the TLS 1.3 key schedule: the aws/s2n-tls X25519MLKEM768 vector', () => {
  const x = computeSharedSecret(
    NamedGroup.x25519,
    fromHex(s2n.clientX25519Private),
    p.generateKeyPair(NamedGroup.x25519, scripted(s2n.serverX25519Private)).publicKey,
  );

  it('reproduces the X25519 shared secret from the two private keys', () => {
    if (!x.ok) throw x.error;
    expect(toHex(x.value)).toBe(s2n.x25519SharedSecret);
  });

  for (const [suiteName, expected] of [
    ['TLS_AES_128_GCM_SHA256', s2n.sha256],
    ['TLS_AES_256_GCM_SHA384', s2n.sha384],
  ] as const) {
    it(`puts the ML-KEM secret first: the handshake traffic secrets match for ${suiteName}`, () => {
      if (!x.ok) throw x.error;
      const suite = suiteInfo(suiteName === 'TLS_AES_128_GCM_SHA256' ? 0x1301 : 0x1302);
      if (!suite) throw new Error('no suite');
      const hash = transcriptHash(suite.hash, [utf8(s2n.transcript)], p);
      const derive = (secret: Uint8Array) => EarlySecret.create(suite, undefined, p).withSharedSecret(secret);
      const hs = derive(combineSecrets(fromHex(s2n.mlkemSharedSecret), x.value));
      expect(toHex(hs.clientHandshakeTrafficSecret(hash))).toBe(expected.clientHandshakeTrafficSecret);
      expect(toHex(hs.serverHandshakeTrafficSecret(hash))).toBe(expected.serverHandshakeTrafficSecret);
      // The other order (X25519 first, as the draft's NIST-curve groups do) gives other keys.
      const swapped = derive(concat(x.value, fromHex(s2n.mlkemSharedSecret)));
      expect(toHex(swapped.clientHandshakeTrafficSecret(hash))).not.toBe(expected.clientHandshakeTrafficSecret);
    });
  }

  it('takes two 32-byte secrets only', () => {
    expect(() => combineSecrets(new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError);
    expect(() => combineSecrets(new Uint8Array(32), new Uint8Array(33))).toThrow(RangeError);
  });
});

describe('malformed shares are refused with the alert the draft names (§3.1.2, §3.1.3)', () => {
  const aliceX = fromHex(rfc7748.alicePublic);
  const goodEk = fromHex(w.ek);

  it('passes the valid Wycheproof encapsulation key through the FIPS 203 §7.2 modulus check', () => {
    expect(passesModulusCheck(goodEk)).toBe(true);
    expect(p.isValidShare(G, concat(goodEk, aliceX))).toBe(true);
  });

  it(`refuses each of the ${wycheproofUnreducedKeys.length} Wycheproof encapsulation keys with an unreduced coefficient: illegal_parameter`, () => {
    for (const ek of wycheproofUnreducedKeys.map(fromHex)) {
      expect(ek).toHaveLength(MLKEM768_ENCAPSULATION_KEY_LENGTH);
      expect(passesModulusCheck(ek)).toBe(false);
      // @noble/post-quantum's own check agrees.
      expect(() => ml_kem768.encapsulate(ek, new Uint8Array(32))).toThrow(/modulus/);
      const share = concat(ek, aliceX);
      expect(p.isValidShare(G, share)).toBe(false);
      expectRefused(p.acceptShare(G, share, seeded('m')), 'illegal_parameter', 'InvalidKeyShare');
    }
  });

  it('refuses all 780 C2SP/CCTV bad encapsulation keys (every value q..4095, every position), as @noble/post-quantum does', () => {
    // C2SP/CCTV ML-KEM/modulus/ML-KEM-768.txt.gz (CC0): invalid ML-KEM.Encaps inputs, hex, one per line.
    const file = fileURLToPath(new URL('../vectors/cctv-mlkem768-modulus.txt.gz', import.meta.url));
    const keys = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').map(fromHex);
    expect(keys).toHaveLength(780);
    for (const ek of keys) {
      expect(ek).toHaveLength(MLKEM768_ENCAPSULATION_KEY_LENGTH);
      expect(passesModulusCheck(ek)).toBe(false);
      expect(() => ml_kem768.encapsulate(ek, new Uint8Array(32))).toThrow(/modulus/);
    }
    expect(p.isValidShare(G, concat(keys[0] as Uint8Array, aliceX))).toBe(false);
  });

  it('finds a coefficient of exactly q = 3329 in any position, and lets 3328 through', () => {
    for (const [index, high] of [
      [0, false],
      [1, true],
      [383, true],
      [200, false],
    ] as const) {
      for (const [value, ok] of [
        [3329, false],
        [3328, true],
        [4095, false],
      ] as const) {
        const ek = Uint8Array.from(goodEk);
        const at = 3 * index; // coefficients 2·index and 2·index+1 of the 768 share bytes at..at+2
        if (!high) {
          ek[at] = value & 0xff;
          ek[at + 1] = ((ek[at + 1] as number) & 0xf0) | (value >> 8);
        } else {
          ek[at + 1] = ((ek[at + 1] as number) & 0x0f) | ((value & 0x0f) << 4);
          ek[at + 2] = value >> 4;
        }
        expect(passesModulusCheck(ek), `coefficient ${2 * index + (high ? 1 : 0)} = ${value}`).toBe(ok);
      }
    }
    // ρ, the last 32 bytes, is a seed, not coefficients: any value passes.
    const rho = Uint8Array.from(goodEk);
    rho.fill(0xff, MLKEM768_ENCAPSULATION_KEY_LENGTH - 32);
    expect(passesModulusCheck(rho)).toBe(true);
  });

  it('refuses client shares of the wrong length, the Wycheproof short and long keys among them: illegal_parameter', () => {
    const shares = [
      concat(goodEk, aliceX).subarray(0, HYBRID_CLIENT_SHARE_LENGTH - 1),
      concat(goodEk, aliceX, new Uint8Array(1)),
      aliceX,
      goodEk,
      ...wycheproofBadLengthKeys.map((k) => concat(fromHex(k), aliceX)),
    ];
    for (const share of shares) {
      expect(p.isValidShare(G, share)).toBe(false);
      expectRefused(p.acceptShare(G, share, seeded('m')), 'illegal_parameter', 'InvalidKeyShare');
    }
  });

  it('refuses a client share whose X25519 half is low-order (all-zero secret, RFC 8446 §7.4.2): illegal_parameter', () => {
    for (const u of ['00'.repeat(32), `01${'00'.repeat(31)}`, 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f']) {
      const share = concat(goodEk, fromHex(u));
      expect(p.isValidShare(G, share)).toBe(false);
      expectRefused(p.acceptShare(G, share, seeded('m')), 'illegal_parameter', 'InvalidKeyShare');
    }
  });

  it('refuses, as the client, a server share of the wrong length or with a low-order X25519 half: illegal_parameter', () => {
    const kp = wycheproofClient();
    const good = concat(fromHex(w.c), fromHex(rfc7748.bobPublic));
    for (const bad of [
      good.subarray(0, HYBRID_SERVER_SHARE_LENGTH - 1),
      concat(good, new Uint8Array(1)),
      fromHex(w.c),
      fromHex(rfc7748.bobPublic),
    ]) {
      expectRefused(p.completeShare(kp, bad), 'illegal_parameter', 'InvalidKeyShare');
    }
    expectRefused(p.completeShare(kp, concat(fromHex(w.c), new Uint8Array(32))), 'illegal_parameter', 'InvalidKeyShare');
  });

  it('rejects a tampered ciphertext implicitly: no alert from the KEM, but a secret the server does not have', () => {
    const kp = wycheproofClient();
    const ct = fromHex(w.c);
    ct[100] = (ct[100] as number) ^ 1;
    const r = p.completeShare(kp, concat(ct, fromHex(rfc7748.bobPublic)));
    if (!r.ok) throw r.error;
    expect(toHex(r.value.subarray(0, 32))).not.toBe(hex(w.K));
    expect(toHex(r.value.subarray(32))).toBe(rfc7748.sharedSecret);
  });

  it('ends in internal_error when decapsulation itself fails (a corrupted private key), as §3.1.2 says', () => {
    const kp = wycheproofClient();
    const priv = Uint8Array.from(kp.privateKey);
    priv[2400 - 40] = (priv[2400 - 40] as number) ^ 1; // inside H(ek), which decapsulation checks (FIPS 203 §7.3)
    expectRefused(
      p.completeShare({ ...kp, privateKey: priv }, concat(fromHex(w.c), fromHex(rfc7748.bobPublic))),
      'internal_error',
      'InvalidPrivateKey',
    );
    expectRefused(
      p.completeShare({ ...kp, privateKey: priv.subarray(1) }, concat(fromHex(w.c), fromHex(rfc7748.bobPublic))),
      'internal_error',
      'InvalidPrivateKey',
    );
  });

  it('never throws, whatever it is given', () => {
    const junk = [new Uint8Array(0), new Uint8Array(HYBRID_CLIENT_SHARE_LENGTH).fill(0xff), 'nope' as unknown as Uint8Array];
    for (const j of junk) {
      expect(p.isValidShare(G, j)).toBe(false);
      expect(p.acceptShare(G, j, seeded('x')).ok).toBe(false);
      expect(p.completeShare(wycheproofClient(), j).ok).toBe(false);
    }
  });
});
