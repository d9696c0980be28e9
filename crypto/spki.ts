/**
 * Reading public keys out of DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7),
 * the form a Certificate carries them in (RFC 8446 §4.4.2). node:crypto parses
 * the ASN.1 into a KeyObject (what the node provider verifies with); the raw
 * key material is also kept for @noble (ECDSA, Ed25519).
 *
 * Parsing is done once per distinct SubjectPublicKeyInfo: a DER import costs
 * hundreds of microseconds in OpenSSL 3.0, and a client sees the same server
 * key on every handshake. The cache is bounded (SPKI_CACHE_SIZE keys, least
 * recently used evicted) and keyed by the exact bytes.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { bytesKey } from './bytes.js';
import { BoundedCache } from './cache.js';

export type KeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa';

/** A parsed public key: node's KeyObject for every kind, plus the raw form @noble takes. Shared: never mutate. */
export type ParsedPublicKey =
  | { readonly kind: 'ecdsa-p256' | 'ecdsa-p384'; readonly key: KeyObject; readonly point: Uint8Array }
  | { readonly kind: 'ed25519'; readonly key: KeyObject; readonly raw: Uint8Array }
  | { readonly kind: 'rsa'; readonly key: KeyObject; readonly modulusBits: number };

/** Distinct SubjectPublicKeyInfos kept parsed. */
export const SPKI_CACHE_SIZE = 256;
const parsed = new BoundedCache<string, ParsedPublicKey>(SPKI_CACHE_SIZE);

export const fromB64u = (s: unknown): Uint8Array => {
  if (typeof s !== 'string') throw new TypeError('JWK member missing');
  return new Uint8Array(Buffer.from(s, 'base64url'));
};

/** Left-pad a big-endian integer to `len` bytes (JWK members are already fixed-size; this is a guard). */
function fixed(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return b;
  if (b.length > len) throw new RangeError(`coordinate longer than ${len} bytes`);
  const out = new Uint8Array(len);
  out.set(b, len - b.length);
  return out;
}

/** The kind of a node KeyObject, or undefined for key types tlschart does not sign or verify with. */
export function keyKind(key: KeyObject): KeyKind | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ecdsa-p256';
      if (curve === 'secp384r1') return 'ecdsa-p384';
      return undefined;
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      // rsaEncryption only; an RSASSA-PSS key ('rsa-pss') would need rsa_pss_pss_*, which tlschart does not offer.
      return 'rsa';
    default:
      return undefined;
  }
}

/**
 * Parse a DER SubjectPublicKeyInfo; undefined for anything malformed or
 * unsupported. The same bytes give the same (frozen) object while it is cached.
 */
export function parseSpki(spki: Uint8Array): ParsedPublicKey | undefined {
  if (!(spki instanceof Uint8Array) || spki.length === 0) return undefined;
  // Only keys that parse are kept: bytes that do not cannot push a good key out.
  return parsed.getOrCreate(bytesKey(spki), () => parseSpkiUncached(spki));
}

function parseSpkiUncached(spki: Uint8Array): ParsedPublicKey | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    // Not a SubjectPublicKeyInfo node:crypto can read: treated as "no usable key".
    void e;
    return undefined;
  }
  const kind = keyKind(key);
  if (kind === undefined) return undefined;
  if (kind === 'rsa') return Object.freeze({ kind, key, modulusBits: key.asymmetricKeyDetails?.modulusLength ?? 0 });
  const jwk = key.export({ format: 'jwk' });
  if (kind === 'ed25519') return Object.freeze({ kind, key, raw: fromB64u(jwk.x) });
  const len = kind === 'ecdsa-p256' ? 32 : 48;
  const point = new Uint8Array(1 + 2 * len);
  point[0] = 0x04;
  point.set(fixed(fromB64u(jwk.x), len), 1);
  point.set(fixed(fromB64u(jwk.y), len), 1 + len);
  return Object.freeze({ kind, key, point });
}
