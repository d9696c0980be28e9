/**
 * The three TLS 1.3 cipher suites tlschart supports (RFC 8446 §B.4) and what
 * each one implies for the rest of the crypto core.
 */
import { CipherSuite } from '../wire/types.js';

export type HashName = 'sha256' | 'sha384';
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export interface SuiteInfo {
  readonly code: number;
  readonly name: keyof typeof CipherSuite;
  readonly hash: HashName;
  /** Hash output length in bytes (Hash.length in RFC 8446 §7.1). */
  readonly hashLen: number;
  readonly aead: AeadName;
  readonly keyLen: number;
  readonly ivLen: 12;
  readonly tagLen: 16;
}

const SUITES: readonly SuiteInfo[] = [
  {
    code: CipherSuite.TLS_AES_128_GCM_SHA256,
    name: 'TLS_AES_128_GCM_SHA256',
    hash: 'sha256',
    hashLen: 32,
    aead: 'aes-128-gcm',
    keyLen: 16,
    ivLen: 12,
    tagLen: 16,
  },
  {
    code: CipherSuite.TLS_AES_256_GCM_SHA384,
    name: 'TLS_AES_256_GCM_SHA384',
    hash: 'sha384',
    hashLen: 48,
    aead: 'aes-256-gcm',
    keyLen: 32,
    ivLen: 12,
    tagLen: 16,
  },
  {
    code: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    hash: 'sha256',
    hashLen: 32,
    aead: 'chacha20-poly1305',
    keyLen: 32,
    ivLen: 12,
    tagLen: 16,
  },
];

/** Default preference order: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (as OpenSSL). */
export const SUPPORTED_SUITES: readonly number[] = SUITES.map((s) => s.code);

export function suiteInfo(code: number): SuiteInfo | undefined {
  return SUITES.find((s) => s.code === code);
}

export function suiteByName(name: string): SuiteInfo | undefined {
  return SUITES.find((s) => s.name === name);
}

export function hashLength(h: HashName): number {
  return h === 'sha256' ? 32 : 48;
}
