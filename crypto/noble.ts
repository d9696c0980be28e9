/**
 * The default CryptoProvider: @noble/hashes, @noble/ciphers and @noble/curves
 * (x25519, P-256, P-384, ECDSA, Ed25519), @noble/post-quantum for ML-KEM-768
 * in the hybrid group X25519MLKEM768 (crypto/hybrid.ts), with RSA-PSS through
 * node:crypto. Pure JavaScript and synchronous; ECDSA signatures are
 * deterministic (RFC 6979), so a seeded handshake replays byte for byte.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { concat } from './bytes.js';
import { checkSealRoom } from './check.js';
import { acceptHybridShare, completeHybridShare, generateHybridKeyPair, isValidHybridClientShare, X25519MLKEM768 } from './hybrid.js';
import { acceptShare, completeShare, generateKeyPair, isAcceptableShare, SUPPORTED_GROUPS } from './kex.js';
import type { CryptoProvider } from './provider.js';
import { signingKeyFromPem, verifySignature } from './signature.js';
import type { AeadName, HashName } from './suites.js';

const hashFn = (h: HashName) => (h === 'sha256' ? sha256 : sha384);

function cipher(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  const expected = alg === 'aes-128-gcm' ? 16 : 32;
  if (key.length !== expected) throw new RangeError(`${alg}: key must be ${expected} bytes, got ${key.length}`);
  if (nonce.length !== 12) throw new RangeError(`${alg}: nonce must be 12 bytes, got ${nonce.length}`);
  return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}

/** CryptoProvider.aeadSealInto: the parts joined, sealed, and the result copied to its place (@noble's cost is the cipher itself). */
function aeadSealInto(
  alg: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array,
  offset: number,
): void {
  const plaintext = parts.length === 1 ? (parts[0] as Uint8Array) : concat(...parts);
  checkSealRoom(alg, plaintext.length, out, offset);
  out.set(cipher(alg, key, nonce, aad).encrypt(plaintext), offset);
}

/** CryptoProvider.aeadSealPieces: the parts joined and sealed, ciphertext and tag in one piece. */
function aeadSealPieces(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[] {
  const plaintext = parts.length === 1 ? (parts[0] as Uint8Array) : concat(...parts);
  return [cipher(alg, key, nonce, aad).encrypt(plaintext)];
}

/** Every group this provider implements: the hybrid first, then the (EC)DHE groups. */
export const NOBLE_GROUPS: readonly number[] = [X25519MLKEM768, ...SUPPORTED_GROUPS];

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  hash: (h, data) => hashFn(h)(data),
  hmac: (h, key, data) => hmac(hashFn(h), key, data),
  hkdfExtract: (h, salt, ikm) => extract(hashFn(h), ikm, salt),
  hkdfExpand: (h, prk, info, length) => expand(hashFn(h), prk, info, length),
  aeadSeal: (alg, key, nonce, aad, plaintext) => cipher(alg, key, nonce, aad).encrypt(plaintext),
  aeadSealInto,
  aeadSealPieces,
  aeadOpen: (alg, key, nonce, aad, ciphertext) => {
    if (ciphertext.length < 16) return undefined;
    try {
      return cipher(alg, key, nonce, aad).decrypt(ciphertext);
    } catch (e) {
      // @noble throws on a bad tag; that is the one failure this function reports as undefined.
      if (e instanceof Error && /invalid tag/i.test(e.message)) return undefined;
      throw e;
    }
  },
  groups: NOBLE_GROUPS,
  // Group dispatch: the hybrid KEM group in crypto/hybrid.ts, (EC)DHE in crypto/kex.ts.
  generateKeyPair: (group, random) => (group === X25519MLKEM768 ? generateHybridKeyPair(random) : generateKeyPair(group, random)),
  isValidShare: (group, share) => (group === X25519MLKEM768 ? isValidHybridClientShare(share) : isAcceptableShare(group, share)),
  acceptShare: (group, clientShare, random) =>
    group === X25519MLKEM768 ? acceptHybridShare(clientShare, random) : acceptShare(group, clientShare, random),
  completeShare: (keyPair, serverShare) =>
    keyPair.group === X25519MLKEM768 ? completeHybridShare(keyPair, serverShare) : completeShare(keyPair, serverShare),
  loadSigningKey: signingKeyFromPem,
  verifySignature,
};
