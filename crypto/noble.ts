/** The default CryptoProvider: @noble/hashes and @noble/ciphers. */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import type { CryptoProvider } from './provider.js';
import type { AeadName, HashName } from './suites.js';

const hashFn = (h: HashName) => (h === 'sha256' ? sha256 : sha384);

function cipher(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  const expected = alg === 'aes-128-gcm' ? 16 : 32;
  if (key.length !== expected) throw new RangeError(`${alg}: key must be ${expected} bytes, got ${key.length}`);
  if (nonce.length !== 12) throw new RangeError(`${alg}: nonce must be 12 bytes, got ${nonce.length}`);
  return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  hash: (h, data) => hashFn(h)(data),
  hmac: (h, key, data) => hmac(hashFn(h), key, data),
  hkdfExtract: (h, salt, ikm) => extract(hashFn(h), ikm, salt),
  hkdfExpand: (h, prk, info, length) => expand(hashFn(h), prk, info, length),
  aeadSeal: (alg, key, nonce, aad, plaintext) => cipher(alg, key, nonce, aad).encrypt(plaintext),
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
};

let current: CryptoProvider = nobleProvider;

/** The provider used when a caller passes none. */
export function defaultProvider(): CryptoProvider {
  return current;
}

/** Swap the default provider (for tests or another backend); returns the previous one. */
export function setDefaultProvider(p: CryptoProvider): CryptoProvider {
  const prev = current;
  current = p;
  return prev;
}
