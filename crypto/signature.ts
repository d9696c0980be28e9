/**
 * Handshake signatures (RFC 8446 §4.2.3 SignatureScheme, §4.4.3
 * CertificateVerify): what every scheme means, loading a private key once,
 * the content a CertificateVerify signs; and the @noble provider's signer and
 * verifier: ECDSA P-256/P-384 and Ed25519 through @noble, RSA-PSS
 * (rsa_pss_rsae_*) through node:crypto. The node provider's are in
 * node-signature.ts. Everything synchronous.
 */
import { constants, createPrivateKey, createPublicKey, type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { SignatureScheme } from '../wire/types.js';
import { bytesKey, concat, utf8 } from './bytes.js';
import { BoundedCache } from './cache.js';
import type { SigningKey } from './provider.js';
import { fromB64u, type KeyKind, keyKind, type ParsedPublicKey, parseSpki } from './spki.js';

export type { SigningKey } from './provider.js';

/** What a SignatureScheme means (RFC 8446 §4.2.3): the key kind, the hash, the RSA-PSS salt length. */
export interface SchemeInfo {
  readonly kind: KeyKind;
  readonly hash: 'sha256' | 'sha384' | 'sha512' | undefined;
  readonly saltLength: number;
}

const SCHEMES = new Map<number, SchemeInfo>([
  [SignatureScheme.ecdsa_secp256r1_sha256, { kind: 'ecdsa-p256', hash: 'sha256', saltLength: 0 }],
  [SignatureScheme.ecdsa_secp384r1_sha384, { kind: 'ecdsa-p384', hash: 'sha384', saltLength: 0 }],
  [SignatureScheme.ed25519, { kind: 'ed25519', hash: undefined, saltLength: 0 }],
  [SignatureScheme.rsa_pss_rsae_sha256, { kind: 'rsa', hash: 'sha256', saltLength: 32 }],
  [SignatureScheme.rsa_pss_rsae_sha384, { kind: 'rsa', hash: 'sha384', saltLength: 48 }],
  [SignatureScheme.rsa_pss_rsae_sha512, { kind: 'rsa', hash: 'sha512', saltLength: 64 }],
]);

/** Every SignatureScheme tlschart signs and verifies, in the order it offers them. */
export const SUPPORTED_SIGNATURE_SCHEMES: readonly number[] = [...SCHEMES.keys()];

const SCHEMES_BY_KIND: Record<KeyKind, readonly number[]> = {
  'ecdsa-p256': [SignatureScheme.ecdsa_secp256r1_sha256],
  'ecdsa-p384': [SignatureScheme.ecdsa_secp384r1_sha384],
  ed25519: [SignatureScheme.ed25519],
  rsa: [SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512],
};

/** Smallest RSA modulus tlschart will sign with. */
const MIN_RSA_BITS = 2048;

/** node:crypto options for RSA-PSS under `info`. */
export const pssOptions = (key: KeyObject, info: SchemeInfo) => ({
  key,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  // RFC 8446 §4.2.3: salt length = digest length; MGF1 uses the same hash (node's default).
  saltLength: info.saltLength,
});

/** A private key read from PEM once, with what both providers need to sign with it. */
export interface LoadedPrivateKey {
  readonly key: KeyObject;
  readonly kind: KeyKind;
  /** DER SubjectPublicKeyInfo of the matching public key. */
  readonly spki: Uint8Array;
}

/**
 * Read a private key from PEM (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1
 * "RSA PRIVATE KEY") into a node KeyObject, once. Refuses key types tlschart
 * cannot sign with and RSA keys below 2048 bits.
 */
export function loadPrivateKey(pem: string): LoadedPrivateKey {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw new TypeError('expected a PEM private key');
  const key = createPrivateKey(pem);
  const kind = keyKind(key);
  if (kind === undefined) {
    const what = key.asymmetricKeyType === 'ec' ? `curve ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new TypeError(`unsupported signing key: ${what}`);
  }
  if (kind === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new RangeError(`RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  }
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  return { key, kind, spki };
}

/**
 * The SigningKey of a loaded key: `signRaw` does the signing, this checks
 * that the scheme fits the key and the message is bytes first.
 */
export function makeSigningKey(loaded: LoadedPrivateKey, signRaw: (info: SchemeInfo, message: Uint8Array) => Uint8Array): SigningKey {
  const { kind, spki } = loaded;
  const signingKey: SigningKey = {
    kind,
    schemes: SCHEMES_BY_KIND[kind],
    spki,
    sign(scheme: number, message: Uint8Array): Uint8Array {
      const info = SCHEMES.get(scheme);
      if (info === undefined || info.kind !== kind) {
        throw new TypeError(`a ${kind} key cannot sign with scheme 0x${scheme.toString(16).padStart(4, '0')}`);
      }
      if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
      return signRaw(info, message);
    },
  };
  return Object.freeze(signingKey);
}

/**
 * Load a private key from PEM for the @noble provider: ECDSA signatures are
 * DER-encoded and deterministic (RFC 6979), Ed25519 through @noble, RSA-PSS
 * through node:crypto; RSA keys must have at least 2048 bits.
 */
export function signingKeyFromPem(pem: string): SigningKey {
  const loaded = loadPrivateKey(pem);
  const { key, kind } = loaded;
  if (kind === 'rsa') {
    return makeSigningKey(loaded, (info, message) => new Uint8Array(nodeSign(info.hash ?? 'sha256', message, pssOptions(key, info))));
  }
  const d = fromB64u(key.export({ format: 'jwk' }).d);
  if (kind === 'ed25519') return makeSigningKey(loaded, (_info, message) => ed25519.sign(message, d));
  const curve = kind === 'ecdsa-p256' ? p256 : p384;
  // prehash: noble hashes the message with the curve's hash (SHA-256 / SHA-384), as the scheme requires.
  return makeSigningKey(loaded, (_info, message) => curve.sign(message, d, { format: 'der', prehash: true }));
}

/** The SignatureSchemes a certificate's public key can verify (empty for unsupported keys). */
export function schemesForSpki(spki: Uint8Array): number[] {
  const parsed = parseSpki(spki);
  return parsed === undefined ? [] : [...SCHEMES_BY_KIND[parsed.kind]];
}

/**
 * Verify `signature` over `message` with the key in `spki` under `scheme`.
 * The scheme must match the key: ecdsa_secp256r1_sha256 only with a P-256 key,
 * ecdsa_secp384r1_sha384 only with P-384, ed25519 only with Ed25519,
 * rsa_pss_rsae_* only with an rsaEncryption key (RFC 8446 §4.2.3). ECDSA
 * signatures are DER and may have a high S (OpenSSL does not normalise).
 * Never throws: anything malformed is `false`.
 */
export function verifySignature(scheme: number, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyWith(scheme, spki, message, signature, (info, pub) => {
    switch (pub.kind) {
      case 'ecdsa-p256':
        return ecdsaVerify(p256, sha256, pub.point, message, signature);
      case 'ecdsa-p384':
        return ecdsaVerify(p384, sha384, pub.point, message, signature);
      case 'ed25519':
        // RFC 8032 strict verification (no ZIP-215 leniency).
        return ed25519.verify(signature, message, pub.raw, { zip215: false });
      case 'rsa':
        return nodeVerify(info.hash ?? 'sha256', message, pssOptions(pub.key, info), signature);
    }
  });
}

/**
 * The rules every provider's verifySignature shares: `verify` runs only when
 * the scheme is known, fits the key in `spki` (RFC 8446 §4.2.3) and the inputs
 * are byte strings with a non-empty signature; anything malformed, and a
 * verifier that throws on a malformed signature or key, is `false`.
 */
export function verifyWith(
  scheme: number,
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  verify: (info: SchemeInfo, pub: ParsedPublicKey) => boolean,
): boolean {
  const info = SCHEMES.get(scheme);
  if (info === undefined) return false;
  if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length === 0) return false;
  const pub = parseSpki(spki);
  if (pub === undefined || pub.kind !== info.kind) return false;
  try {
    return verify(info, pub);
  } catch (e) {
    // A malformed signature or key makes a verifier throw (OpenSSL too, for some): a failed verification.
    void e;
    return false;
  }
}

type NistCurve = typeof p256;

/** Window of the tables kept for peer keys: about 3 times faster verification, about 100 KB a key. */
const PEER_KEY_WINDOW = 4;
/** Peer keys kept with their tables (a client verifies the same few servers again and again). */
const PEER_KEY_TABLES = 16;
const peerPoints = new BoundedCache<string, InstanceType<NistCurve['Point']>>(PEER_KEY_TABLES);

/**
 * ECDSA verification (FIPS 186-5 §6.4.2; SEC 1 §4.1.4), as @noble's verify
 * with `prehash`, DER signatures and high S allowed, but with the peer's point
 * decoded once and given a table of multiples, so the client's check of the
 * same server key on every handshake costs a fraction of a cold one:
 * e = H(m) mod n (the hash is as long as the order for both curves),
 * w = s⁻¹, R = (e·w)·G + (r·w)·Q, valid when R ≠ O and x(R) mod n = r.
 * Signature.fromBytes refuses bad DER and r or s outside 1..n-1 (by throwing).
 */
function ecdsaVerify(
  curve: NistCurve,
  hash: (m: Uint8Array) => Uint8Array,
  point: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const { Point, Signature } = curve;
  const Fn = Point.Fn;
  const key = `${Fn.BYTES}:${bytesKey(point)}`;
  let Q = peerPoints.get(key);
  if (Q === undefined) {
    Q = Point.fromBytes(point); // on the curve, not the identity
    Q.precompute(PEER_KEY_WINDOW, false);
    peerPoints.set(key, Q);
  }
  const sig = Signature.fromBytes(signature, 'der');
  const e = Fn.create(bytesToNumberBE(hash(message)));
  const w = Fn.inv(sig.s);
  const R = Point.BASE.multiplyUnsafe(Fn.mul(e, w)).add(Q.multiplyUnsafe(Fn.mul(sig.r, w)));
  if (R.is0()) return false;
  return Fn.create(R.toAffine().x) === sig.r;
}

const PAD = new Uint8Array(64).fill(0x20);
const CONTEXT = {
  server: utf8('TLS 1.3, server CertificateVerify'),
  client: utf8('TLS 1.3, client CertificateVerify'),
} as const;

/**
 * The content a CertificateVerify signs (RFC 8446 §4.4.3): 64 spaces, the
 * context string for the signer's role, a zero byte, then
 * Transcript-Hash(Handshake Context, Certificate).
 */
export function certificateVerifyInput(role: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  if (role !== 'server' && role !== 'client') throw new TypeError(`role must be 'server' or 'client'`);
  if (!(transcriptHash instanceof Uint8Array) || (transcriptHash.length !== 32 && transcriptHash.length !== 48)) {
    throw new RangeError('transcriptHash must be a 32- or 48-byte hash');
  }
  return concat(PAD, CONTEXT[role], new Uint8Array([0]), transcriptHash);
}
