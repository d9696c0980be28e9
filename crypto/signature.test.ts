import { spawnSync } from 'node:child_process';
import { constants, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256, p384 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { SignatureScheme as S } from '../wire/types.js';
import { toHex, utf8 } from './bytes.js';
import {
  certificateVerifyInput,
  type SigningKey,
  SUPPORTED_SIGNATURE_SCHEMES,
  schemesForSpki,
  signingKeyFromPem,
  verifySignature,
} from './signature.js';

function pemOf(type: 'ec' | 'ed25519' | 'rsa', opts: Record<string, unknown> = {}): string {
  const { privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const pemKeys = { 'P-256': pemOf('ec', { namedCurve: 'prime256v1' }), 'P-384': pemOf('ec', { namedCurve: 'secp384r1' }) };
const fromHexBig = (hex: string) => BigInt(`0x${hex}`);
const bigToBytes = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

const keys = {
  p256: signingKeyFromPem(pemKeys['P-256']),
  p384: signingKeyFromPem(pemKeys['P-384']),
  ed25519: signingKeyFromPem(pemOf('ed25519')),
  rsa: signingKeyFromPem(pemOf('rsa', { modulusLength: 2048 })),
};

const message = utf8('the content a CertificateVerify signs');

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(b);
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

describe('signing keys from PEM', () => {
  it('know their kind and schemes', () => {
    expect(keys.p256.kind).toBe('ecdsa-p256');
    expect(keys.p256.schemes).toEqual([S.ecdsa_secp256r1_sha256]);
    expect(keys.p384.schemes).toEqual([S.ecdsa_secp384r1_sha384]);
    expect(keys.ed25519.schemes).toEqual([S.ed25519]);
    expect(keys.rsa.schemes).toEqual([S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512]);
  });

  it('read SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" PEM too', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const sec1 = ec.export({ type: 'sec1', format: 'pem' }).toString();
    expect(sec1).toContain('BEGIN EC PRIVATE KEY');
    const k = signingKeyFromPem(sec1);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, k.spki, message, k.sign(S.ecdsa_secp256r1_sha256, message))).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pkcs1 = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    expect(signingKeyFromPem(pkcs1).kind).toBe('rsa');
  });

  it('refuse RSA keys shorter than 2048 bits', () => {
    expect(() => signingKeyFromPem(pemOf('rsa', { modulusLength: 1024 }))).toThrow(/2048/);
  });

  it('refuse curves and key types tlschart does not sign with', () => {
    expect(() => signingKeyFromPem(pemOf('ec', { namedCurve: 'secp256k1' }))).toThrow(TypeError);
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => signingKeyFromPem(pss.toString())).toThrow(TypeError);
    expect(() => signingKeyFromPem('not a pem')).toThrow(TypeError);
  });

  it('refuse to sign with a scheme that does not belong to the key', () => {
    expect(() => keys.p256.sign(S.ecdsa_secp384r1_sha384, message)).toThrow(TypeError);
    expect(() => keys.rsa.sign(S.ed25519, message)).toThrow(TypeError);
  });

  it('make deterministic (RFC 6979) ECDSA signatures', () => {
    expect(toHex(keys.p256.sign(S.ecdsa_secp256r1_sha256, message))).toBe(toHex(keys.p256.sign(S.ecdsa_secp256r1_sha256, message)));
  });

  it('do not put private key material in JSON', () => {
    const json = JSON.stringify(keys.ed25519);
    expect(Object.keys(JSON.parse(json)).sort()).toEqual(['kind', 'schemes', 'spki']);
  });
});

describe('sign and verify round trips (RFC 8446 §4.2.3)', () => {
  const cases: [string, SigningKey, number][] = [
    ['ecdsa_secp256r1_sha256', keys.p256, S.ecdsa_secp256r1_sha256],
    ['ecdsa_secp384r1_sha384', keys.p384, S.ecdsa_secp384r1_sha384],
    ['ed25519', keys.ed25519, S.ed25519],
    ['rsa_pss_rsae_sha256', keys.rsa, S.rsa_pss_rsae_sha256],
    ['rsa_pss_rsae_sha384', keys.rsa, S.rsa_pss_rsae_sha384],
    ['rsa_pss_rsae_sha512', keys.rsa, S.rsa_pss_rsae_sha512],
  ];
  for (const [name, key, scheme] of cases) {
    it(`verifies a ${name} signature and rejects it after one flipped bit`, () => {
      const sig = key.sign(scheme, message);
      expect(verifySignature(scheme, key.spki, message, sig)).toBe(true);
      expect(verifySignature(scheme, key.spki, flipBit(message, 5), sig)).toBe(false);
      expect(verifySignature(scheme, key.spki, message, flipBit(sig, sig.length * 8 - 3))).toBe(false);
    });
  }

  it('covers every supported scheme', () => {
    expect(cases.map((c) => c[2]).sort()).toEqual([...SUPPORTED_SIGNATURE_SCHEMES].sort());
  });
});

describe('ECDSA verification with a peer key seen before (its table of multiples is kept)', () => {
  /** DER SEQUENCE { INTEGER r, INTEGER s } from big-endian magnitudes (a leading 0 keeps them positive). */
  const der = (r: Uint8Array, s: Uint8Array) => {
    const int = (x: Uint8Array) => [0x02, x.length + 1, 0, ...x];
    const body = [...int(r), ...int(s)];
    return Uint8Array.from([0x30, body.length, ...body]);
  };
  const n256 = fromHexBig('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

  for (const [name, key, scheme] of [
    ['P-256', keys.p256, S.ecdsa_secp256r1_sha256],
    ['P-384', keys.p384, S.ecdsa_secp384r1_sha384],
  ] as const) {
    it(`gives the same answers the first time (building the table) and every later time (${name})`, () => {
      const sig = key.sign(scheme, message);
      for (let round = 0; round < 3; round++) {
        expect(verifySignature(scheme, key.spki, message, sig)).toBe(true);
        expect(verifySignature(scheme, key.spki, utf8('another message'), sig)).toBe(false);
        expect(verifySignature(scheme, key.spki, message, flipBit(sig, 8 * 8))).toBe(false);
      }
      // A signature from node:crypto (random k, maybe high S) verifies through the table too.
      const bySomeoneElse = new Uint8Array(
        nodeSign(scheme === S.ecdsa_secp256r1_sha256 ? 'sha256' : 'sha384', message, { key: pemKeys[name], dsaEncoding: 'der' }),
      );
      expect(verifySignature(scheme, key.spki, message, bySomeoneElse)).toBe(true);
    });
  }

  it('refuses r or s of zero or not below the group order', () => {
    const sig = keys.p256.sign(S.ecdsa_secp256r1_sha256, message);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.p256.spki, message, sig)).toBe(true);
    const one = Uint8Array.of(1);
    const order = bigToBytes(n256);
    for (const [r, s] of [
      [Uint8Array.of(0), one],
      [one, Uint8Array.of(0)],
      [order, one],
      [one, order],
    ] as const) {
      expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.p256.spki, message, der(r, s))).toBe(false);
    }
  });
});

describe('signatures interoperate with node:crypto', () => {
  it('ECDSA: ours verify in node, node (random k, often high S) verify in ours', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const k = signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(nodeVerify('sha384', message, { key: publicKey, dsaEncoding: 'der' }, k.sign(S.ecdsa_secp384r1_sha384, message))).toBe(true);
    for (let i = 0; i < 10; i++) {
      const theirs = nodeSign('sha384', message, { key: privateKey, dsaEncoding: 'der' });
      expect(verifySignature(S.ecdsa_secp384r1_sha384, k.spki, message, theirs)).toBe(true);
    }
  });

  it('Ed25519 and RSA-PSS signatures verify in node', () => {
    const ed = keys.ed25519;
    expect(nodeVerify(null, message, { key: Buffer.from(ed.spki), format: 'der', type: 'spki' }, ed.sign(S.ed25519, message))).toBe(true);
    const sig = keys.rsa.sign(S.rsa_pss_rsae_sha384, message);
    const key = { key: Buffer.from(keys.rsa.spki), format: 'der' as const, type: 'spki' as const };
    expect(nodeVerify('sha384', message, { ...key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, sig)).toBe(true);
  });

  it('RSA-PSS with a salt shorter than the hash is rejected (RFC 8446 §4.2.3)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const good = nodeSign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const short = nodeSign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
    expect(verifySignature(S.rsa_pss_rsae_sha256, spki, message, good)).toBe(true);
    expect(verifySignature(S.rsa_pss_rsae_sha256, spki, message, short)).toBe(false);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('ECDSA signatures made by the openssl command verify', () => {
  for (const [curve, digest, scheme, noble] of [
    ['prime256v1', '-sha256', S.ecdsa_secp256r1_sha256, p256],
    ['secp384r1', '-sha384', S.ecdsa_secp384r1_sha384, p384],
  ] as const) {
    it(`accepts 40 OpenSSL ${curve} signatures, high S included`, (ctx) => {
      if (!hasOpenssl) {
        if (process.env.CI) throw new Error('openssl is required: install Debian package openssl');
        ctx.skip('openssl not installed: apt-get install openssl');
      }
      const dir = mkdtempSync(join(tmpdir(), 'tlschart-ecdsa-'));
      try {
        const keyPath = join(dir, 'key.pem');
        const gen = spawnSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', keyPath]);
        expect(gen.status, gen.stderr.toString()).toBe(0);
        const spki = signingKeyFromPem(readFileSync(keyPath, 'utf8')).spki;
        let highS = 0;
        for (let i = 0; i < 40; i++) {
          const msg = randomBytes(50);
          const msgPath = join(dir, `m${i}`);
          const sigPath = join(dir, `s${i}`);
          writeFileSync(msgPath, msg);
          const r = spawnSync('openssl', ['dgst', digest, '-sign', keyPath, '-out', sigPath, msgPath]);
          expect(r.status, r.stderr.toString()).toBe(0);
          const sig = new Uint8Array(readFileSync(sigPath));
          if (noble.Signature.fromBytes(sig, 'der').hasHighS()) highS++;
          expect(verifySignature(scheme, spki, new Uint8Array(msg), sig)).toBe(true);
          expect(verifySignature(scheme, spki, flipBit(new Uint8Array(msg), 0), sig)).toBe(false);
        }
        // OpenSSL does not normalise S; with 40 signatures a high S is all but certain (1 - 2^-40).
        expect(highS).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('the scheme must match the key (RFC 8446 §4.2.3)', () => {
  it('rejects a valid signature presented under another key type or curve', () => {
    const sig256 = keys.p256.sign(S.ecdsa_secp256r1_sha256, message);
    expect(verifySignature(S.ecdsa_secp384r1_sha384, keys.p256.spki, message, sig256)).toBe(false);
    const sig384 = keys.p384.sign(S.ecdsa_secp384r1_sha384, message);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.p384.spki, message, sig384)).toBe(false);
    const sigEd = keys.ed25519.sign(S.ed25519, message);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.ed25519.spki, message, sigEd)).toBe(false);
    const sigRsa = keys.rsa.sign(S.rsa_pss_rsae_sha256, message);
    expect(verifySignature(S.ed25519, keys.rsa.spki, message, sigRsa)).toBe(false);
    expect(verifySignature(S.rsa_pss_rsae_sha384, keys.rsa.spki, message, sigRsa)).toBe(false);
  });

  it('accepts rsa_pss_rsae_* only with rsaEncryption keys, not RSASSA-PSS keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const sig = nodeSign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    expect(nodeVerify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
    expect(verifySignature(S.rsa_pss_rsae_sha256, spki, message, sig)).toBe(false);
    expect(schemesForSpki(spki)).toEqual([]);
  });

  it('rejects schemes tlschart does not support, such as rsa_pkcs1_sha256', () => {
    const sig = keys.rsa.sign(S.rsa_pss_rsae_sha256, message);
    expect(verifySignature(0x0401, keys.rsa.spki, message, sig)).toBe(false);
  });

  it('lists the usable schemes for a certificate key', () => {
    expect(schemesForSpki(keys.p256.spki)).toEqual([S.ecdsa_secp256r1_sha256]);
    expect(schemesForSpki(keys.p384.spki)).toEqual([S.ecdsa_secp384r1_sha384]);
    expect(schemesForSpki(keys.ed25519.spki)).toEqual([S.ed25519]);
    expect(schemesForSpki(keys.rsa.spki)).toEqual([0x0804, 0x0805, 0x0806]);
    expect(schemesForSpki(new Uint8Array([0x30, 0x00]))).toEqual([]);
  });

  it('never throws on garbage', () => {
    const junk = new Uint8Array(randomBytes(80));
    expect(verifySignature(S.ecdsa_secp256r1_sha256, junk, message, junk)).toBe(false);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.p256.spki, message, new Uint8Array(0))).toBe(false);
    expect(verifySignature(S.ecdsa_secp256r1_sha256, keys.p256.spki, message, junk)).toBe(false);
    expect(verifySignature(S.ed25519, keys.ed25519.spki, message, junk)).toBe(false);
    expect(verifySignature(S.rsa_pss_rsae_sha256, keys.rsa.spki, message, junk)).toBe(false);
    expect(verifySignature(S.ed25519, keys.ed25519.spki, 'x' as unknown as Uint8Array, junk)).toBe(false);
  });
});

describe('certificateVerifyInput (RFC 8446 §4.4.3)', () => {
  it('is 64 spaces, the role context string, a zero byte and the transcript hash', () => {
    const th = new Uint8Array(32).fill(0xab);
    const expectServer = `${'20'.repeat(64) + Buffer.from('TLS 1.3, server CertificateVerify').toString('hex')}00${'ab'.repeat(32)}`;
    expect(toHex(certificateVerifyInput('server', th))).toBe(expectServer);
    const expectClient = `${'20'.repeat(64) + Buffer.from('TLS 1.3, client CertificateVerify').toString('hex')}00${'ab'.repeat(32)}`;
    expect(toHex(certificateVerifyInput('client', th))).toBe(expectClient);
  });

  it('rejects a transcript hash that is not 32 or 48 bytes', () => {
    expect(() => certificateVerifyInput('server', new Uint8Array(20))).toThrow(RangeError);
  });
});
