/**
 * Handshake signatures through node:crypto (OpenSSL) for the node provider
 * (RFC 8446 §4.2.3, §4.4.3): ECDSA P-256/P-384 (DER signatures, randomised
 * nonces), Ed25519 and RSA-PSS (rsa_pss_rsae_*).
 *
 * The private key is read from PEM once, into a KeyObject every signature
 * reuses; public keys come from crypto/spki.ts, parsed once per distinct
 * SubjectPublicKeyInfo. ECDSA signing is randomised here: a handshake that must
 * replay byte for byte signs with the @noble provider's key (RFC 6979).
 */

import { sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { bytesOf } from './bytes.js';
import type { SigningKey } from './provider.js';
import { loadPrivateKey, makeSigningKey, pssOptions, verifyWith } from './signature.js';

/** Load a PEM private key once into a node KeyObject and sign CertificateVerify with it. */
export function nodeSigningKeyFromPem(pem: string): SigningKey {
  const loaded = loadPrivateKey(pem);
  const { key, kind } = loaded;
  switch (kind) {
    case 'rsa':
      return makeSigningKey(loaded, (info, message) => bytesOf(nodeSign(info.hash ?? 'sha256', message, pssOptions(key, info))));
    case 'ed25519':
      // PureEdDSA (RFC 8032): no separate hash, deterministic.
      return makeSigningKey(loaded, (_info, message) => bytesOf(nodeSign(null, message, key)));
    case 'ecdsa-p256':
    case 'ecdsa-p384':
      return makeSigningKey(loaded, (info, message) => bytesOf(nodeSign(info.hash ?? 'sha256', message, { key, dsaEncoding: 'der' })));
  }
}

/**
 * Verify `signature` over `message` with the key in `spki` under `scheme`,
 * with the same rules as the @noble provider: the scheme must fit the key
 * (RFC 8446 §4.2.3), ECDSA signatures are DER and may have a high S. Never
 * throws: anything malformed is false.
 */
export function nodeVerifySignature(scheme: number, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyWith(scheme, spki, message, signature, (info, pub) => {
    switch (pub.kind) {
      case 'rsa':
        return nodeVerify(info.hash ?? 'sha256', message, pssOptions(pub.key, info), signature);
      case 'ed25519':
        return nodeVerify(null, message, pub.key, signature);
      case 'ecdsa-p256':
      case 'ecdsa-p384':
        return nodeVerify(info.hash ?? 'sha256', message, { key: pub.key, dsaEncoding: 'der' }, signature);
    }
  });
}
