/**
 * The one seam between tlschart and the primitives it uses. Everything above
 * (key schedule, record protection, handshake signatures) goes through a
 * CryptoProvider; the default is built on @noble (synchronous, so guards can
 * call it), with RSA-PSS through node:crypto.
 */
import type { AeadName, HashName } from './suites.js';

export interface CryptoProvider {
  readonly name: string;
  hash(h: HashName, data: Uint8Array): Uint8Array;
  hmac(h: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(h: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(h: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AEAD encrypt; returns ciphertext || tag. */
  aeadSeal(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** AEAD decrypt; `undefined` when authentication fails (never throws for a bad tag). */
  aeadOpen(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
}
