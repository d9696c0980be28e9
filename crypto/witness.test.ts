import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignatureScheme as S } from '../wire/types.js';
import { toHex } from './bytes.js';
import { computeBinder, EarlySecret, finishedVerifyData } from './keyschedule.js';
import { certificateVerifyInput, signingKeyFromPem } from './signature.js';
import { type SuiteInfo, suiteByName } from './suites.js';
import { PROVIDER_CASES } from './testing/providers.js';
import { BinderVerified, FinishedVerified, SignatureVerified, verifyBinder, verifyCertificateVerify, verifyFinished } from './witness.js';

describe.each(PROVIDER_CASES)('witnesses on the $name provider', ({ provider }) => {
  const AES128 = suiteByName('TLS_AES_128_GCM_SHA256') as SuiteInfo;
  const AES256 = suiteByName('TLS_AES_256_GCM_SHA384') as SuiteInfo;

  function flipBit(b: Uint8Array, bit: number): Uint8Array {
    const out = Uint8Array.from(b);
    out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
    return out;
  }

  const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

  describe('FinishedVerified (RFC 8446 §4.4.4)', () => {
    const serverKey = fill(48, 0x0a);
    const clientKey = fill(48, 0x0b);
    const th = fill(48, 0x0c);
    const good = finishedVerifyData(AES256, serverKey, th, provider);

    it('is minted for the right verify_data and records what it vouches for', () => {
      const w = verifyFinished(AES256, serverKey, th, good, provider);
      expect(w).toBeInstanceOf(FinishedVerified);
      expect(w?.isFor(serverKey)).toBe(true);
      expect(w?.isFor(clientKey)).toBe(false);
      expect(toHex(w?.transcriptHash ?? new Uint8Array(0))).toBe(toHex(th));
      expect(toHex(w?.verifyData ?? new Uint8Array(0))).toBe(toHex(good));
      expect(w?.suite.name).toBe('TLS_AES_256_GCM_SHA384');
    });

    it('cannot be minted from a verify_data with one flipped bit', () => {
      for (const bit of [0, 7, 100, good.length * 8 - 1]) {
        expect(verifyFinished(AES256, serverKey, th, flipBit(good, bit), provider)).toBeUndefined();
      }
    });

    it('cannot be minted from a truncated, extended or other-side verify_data', () => {
      expect(verifyFinished(AES256, serverKey, th, good.subarray(0, 47), provider)).toBeUndefined();
      expect(verifyFinished(AES256, serverKey, th, new Uint8Array([...good, 0]), provider)).toBeUndefined();
      expect(verifyFinished(AES256, clientKey, th, good, provider)).toBeUndefined();
      expect(verifyFinished(AES256, serverKey, flipBit(th, 3), good, provider)).toBeUndefined();
    });

    it('cannot be constructed directly', () => {
      const Ctor = FinishedVerified as unknown as new (...a: unknown[]) => FinishedVerified;
      expect(() => new Ctor(Symbol('tlschart witness'), AES256, serverKey, th, good)).toThrow(TypeError);
    });

    it('keeps the base key out of JSON', () => {
      const w = verifyFinished(AES256, serverKey, th, good, provider);
      expect(JSON.parse(JSON.stringify(w))).toEqual({ kind: 'FinishedVerified', suite: 'TLS_AES_256_GCM_SHA384' });
    });
  });

  describe('BinderVerified (RFC 8446 §4.2.11.2)', () => {
    const binderKey = EarlySecret.create(AES128, fill(32, 0x42), provider).resumptionBinderKey();
    const partial = fill(32, 0x43);
    const binder = computeBinder(AES128, binderKey, partial, provider);

    it('is minted for the right binder and records which PSK it was for', () => {
      const w = verifyBinder(AES128, binderKey, partial, binder, provider);
      expect(w).toBeInstanceOf(BinderVerified);
      expect(w?.isFor(binderKey)).toBe(true);
      expect(w?.isFor(EarlySecret.create(AES128, fill(32, 0x44), provider).resumptionBinderKey())).toBe(false);
      expect(toHex(w?.binder ?? new Uint8Array(0))).toBe(toHex(binder));
    });

    it('cannot be minted from a binder with one flipped bit', () => {
      for (let bit = 0; bit < binder.length * 8; bit += 37) {
        expect(verifyBinder(AES128, binderKey, partial, flipBit(binder, bit), provider)).toBeUndefined();
      }
    });

    it('cannot be minted for another ClientHello', () => {
      expect(verifyBinder(AES128, binderKey, flipBit(partial, 9), binder, provider)).toBeUndefined();
    });

    it('cannot be constructed directly', () => {
      const Ctor = BinderVerified as unknown as new (...a: unknown[]) => BinderVerified;
      expect(() => new Ctor(undefined, AES128, binderKey, partial, binder)).toThrow(TypeError);
    });
  });

  describe('SignatureVerified (RFC 8446 §4.4.3)', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const key = signingKeyFromPem(pem.toString());
    const other = signingKeyFromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const th = fill(32, 0x77);
    const sig = key.sign(S.ecdsa_secp256r1_sha256, certificateVerifyInput('server', th));

    it('is minted for a valid server CertificateVerify and records role, scheme and key', () => {
      const w = verifyCertificateVerify(S.ecdsa_secp256r1_sha256, key.spki, 'server', th, sig, provider);
      expect(w).toBeInstanceOf(SignatureVerified);
      expect(w?.role).toBe('server');
      expect(w?.scheme).toBe(S.ecdsa_secp256r1_sha256);
      expect(w?.isFor(key.spki)).toBe(true);
      expect(w?.isFor(other.spki)).toBe(false);
    });

    it('cannot be minted for the other role (the context string differs)', () => {
      expect(verifyCertificateVerify(S.ecdsa_secp256r1_sha256, key.spki, 'client', th, sig, provider)).toBeUndefined();
    });

    it('cannot be minted from a signature with one flipped bit or over another transcript', () => {
      expect(verifyCertificateVerify(S.ecdsa_secp256r1_sha256, key.spki, 'server', th, flipBit(sig, 8 * 10), provider)).toBeUndefined();
      expect(verifyCertificateVerify(S.ecdsa_secp256r1_sha256, key.spki, 'server', flipBit(th, 1), sig, provider)).toBeUndefined();
    });

    it('cannot be minted with another key or a scheme that does not fit the key', () => {
      expect(verifyCertificateVerify(S.ecdsa_secp256r1_sha256, other.spki, 'server', th, sig, provider)).toBeUndefined();
      expect(verifyCertificateVerify(S.ecdsa_secp384r1_sha384, key.spki, 'server', th, sig, provider)).toBeUndefined();
    });

    it('cannot be constructed directly', () => {
      const Ctor = SignatureVerified as unknown as new (...a: unknown[]) => SignatureVerified;
      expect(() => new Ctor(Symbol('x'), 'server', S.ed25519, key.spki, th)).toThrow(TypeError);
    });
  });
});
