/**
 * A CryptoProvider on node:crypto (OpenSSL), beside the @noble one: SHA-2,
 * HMAC and HKDF (RFC 5869), AES-GCM and ChaCha20-Poly1305 (RFC 8446 §5.2),
 * x25519 / P-256 / P-384 (EC)DHE (node-kex.ts), ECDSA / Ed25519 / RSA-PSS
 * signatures (node-signature.ts). Only node's one-shot synchronous calls, so
 * the chart guards stay synchronous.
 *
 * Determinism: key pairs come from the injected random source exactly as the
 * @noble provider draws them, so a seeded handshake sends the same key
 * shares on both. ECDSA signing is randomised by OpenSSL: where signatures
 * must replay byte for byte (golden traces, seeded property runs), sign with
 * a key loaded by the @noble provider (RFC 6979), whatever provider the
 * connection runs on.
 *
 * Groups node:crypto does not do natively (e.g. a hybrid post-quantum group
 * the @noble provider gains) go to the fallback provider, by group: this
 * provider offers every group the fallback offers.
 */

import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { bytesOf, partsLength } from './bytes.js';
import { checkBytes, checkHash, checkSealRoom } from './check.js';
import { nobleProvider } from './noble.js';
import {
  isNativeGroup,
  NATIVE_GROUPS,
  nativeAcceptShare,
  nativeGenerateKeyPair,
  nativeIsValidShare,
  nativeSharedSecret,
} from './node-kex.js';
import { nodeSigningKeyFromPem, nodeVerifySignature } from './node-signature.js';
import type { CryptoProvider } from './provider.js';
import { type AeadName, type HashName, hashLength } from './suites.js';

const TAG_LENGTH = 16;
const KEY_LENGTH: Record<AeadName, number> = { 'aes-128-gcm': 16, 'aes-256-gcm': 32, 'chacha20-poly1305': 32 };

function checkAead(alg: AeadName, key: Uint8Array, nonce: Uint8Array): void {
  const expected = KEY_LENGTH[alg];
  if (expected === undefined) throw new TypeError(`unsupported AEAD ${String(alg)}`);
  if (key.length !== expected) throw new RangeError(`${alg}: key must be ${expected} bytes, got ${key.length}`);
  if (nonce.length !== 12) throw new RangeError(`${alg}: nonce must be 12 bytes, got ${nonce.length}`);
}

function hmac(h: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return bytesOf(createHmac(h, key).update(data).digest());
}

/** HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i), the first `length` bytes. */
function hkdfExpand(h: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkHash(h);
  checkBytes('prk', prk);
  checkBytes('info', info);
  const hLen = hashLength(h);
  // RFC 5869 §2.3: PRK is at least HashLen octets (@noble refuses shorter ones too).
  if (prk.length < hLen) throw new RangeError(`prk must be at least ${hLen} bytes, got ${prk.length}`);
  if (!Number.isInteger(length) || length < 0 || length > 255 * hLen)
    throw new RangeError(`length must be 0..${255 * hLen}, got ${length}`);
  if (length === 0) return new Uint8Array(0);
  if (length <= hLen) {
    // One block, the case of every TLS 1.3 key, IV and secret.
    const t = createHmac(h, prk).update(info).update(ONE).digest();
    return bytesOf(t).subarray(0, length);
  }
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++, o += hLen) {
    previous = bytesOf(createHmac(h, prk).update(previous).update(info).update(Uint8Array.of(i)).digest());
    out.set(previous.subarray(0, Math.min(hLen, length - o)), o);
  }
  return out;
}
const ONE = Uint8Array.of(1);

/** A cipher sealing `length` bytes under `alg`, its AAD set (the ternary only picks node's typing for each AEAD family). */
function sealingCipher(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, length: number) {
  checkAead(alg, key, nonce);
  const cipher =
    alg === 'chacha20-poly1305'
      ? createCipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH })
      : createCipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: length });
  return cipher;
}

/**
 * aeadSeal of the concatenation of `parts` as node:crypto hands it back (CryptoProvider.aeadSealPieces):
 * one piece of ciphertext per non-empty part, then the tag; nothing is copied.
 */
function aeadSealPieces(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[] {
  const cipher = sealingCipher(alg, key, nonce, aad, partsLength(parts));
  const pieces: Uint8Array[] = [];
  for (const p of parts) if (p.length !== 0) pieces.push(cipher.update(p));
  const rest = cipher.final();
  if (rest.length !== 0) pieces.push(rest);
  pieces.push(cipher.getAuthTag());
  return pieces;
}

/**
 * aeadSeal of the concatenation of `parts` into `out` at `offset` (CryptoProvider.aeadSealInto):
 * each piece node:crypto returns is copied once, to its place.
 */
function aeadSealInto(
  alg: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array,
  offset: number,
): void {
  const pieces = aeadSealPieces(alg, key, nonce, aad, parts);
  checkSealRoom(alg, partsLength(parts), out, offset);
  let at = offset;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
}

function aeadSeal(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  aeadSealInto(alg, key, nonce, aad, [plaintext], out, 0);
  return out;
}

function aeadOpen(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  checkAead(alg, key, nonce);
  if (ciphertext.length < TAG_LENGTH) return undefined;
  const end = ciphertext.length - TAG_LENGTH;
  const decipher =
    alg === 'chacha20-poly1305'
      ? createDecipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH })
      : createDecipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(ciphertext.subarray(end));
  decipher.setAAD(aad, { plaintextLength: end });
  const plaintext = decipher.update(ciphertext.subarray(0, end));
  try {
    decipher.final();
  } catch (e) {
    // OpenSSL's one failure at final() for an AEAD: the tag does not authenticate.
    if (e instanceof Error && /unable to authenticate/i.test(e.message)) return undefined;
    throw e;
  }
  return bytesOf(plaintext);
}

/**
 * The node provider over `fallback` for the groups node:crypto does not do
 * natively. `nodeProvider` is this over the @noble provider.
 */
export function createNodeProvider(fallback: CryptoProvider = nobleProvider): CryptoProvider {
  const groups = [...new Set([...fallback.groups, ...NATIVE_GROUPS])];
  return Object.freeze({
    name: 'node',
    hash: (h: HashName, data: Uint8Array) => {
      checkHash(h);
      return bytesOf(createHash(h).update(data).digest());
    },
    hmac: (h: HashName, key: Uint8Array, data: Uint8Array) => {
      checkHash(h);
      return hmac(h, key, data);
    },
    // HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-Hash(salt, IKM).
    hkdfExtract: (h: HashName, salt: Uint8Array, ikm: Uint8Array) => {
      checkHash(h);
      return hmac(h, salt, ikm);
    },
    hkdfExpand,
    aeadSeal,
    aeadSealInto,
    aeadSealPieces,
    aeadOpen,
    groups,
    generateKeyPair: (group, random) =>
      isNativeGroup(group) ? nativeGenerateKeyPair(group, random) : fallback.generateKeyPair(group, random),
    isValidShare: (group, share) => (isNativeGroup(group) ? nativeIsValidShare(group, share) : fallback.isValidShare(group, share)),
    acceptShare: (group, clientShare, random) =>
      isNativeGroup(group) ? nativeAcceptShare(group, clientShare, random) : fallback.acceptShare(group, clientShare, random),
    completeShare: (keyPair, serverShare) =>
      isNativeGroup(keyPair.group)
        ? nativeSharedSecret(keyPair.group, keyPair.privateKey, serverShare)
        : fallback.completeShare(keyPair, serverShare),
    loadSigningKey: nodeSigningKeyFromPem,
    verifySignature: nodeVerifySignature,
  } satisfies CryptoProvider);
}

/** The node:crypto provider, the default of sockets (net/, cli/). */
export const nodeProvider: CryptoProvider = createNodeProvider();

/** The providers by the name the API (`crypto: 'node' | 'noble'`) and the CLI (`--crypto`) use. */
export const PROVIDERS = { node: nodeProvider, noble: nobleProvider } as const;
export type ProviderName = keyof typeof PROVIDERS;
