/**
 * Option parsing shared by `connect()` and `createServer()`: names of groups
 * and cipher suites as people write them, PEM inputs, certified keys. Errors
 * are TypeErrors thrown synchronously, as node:tls does for bad options.
 */
import { X509Certificate } from 'node:crypto';
import { PROVIDERS, type ProviderName } from '../crypto/node-provider.js';
import type { CryptoProvider, SigningKey } from '../crypto/provider.js';
import { suiteByName } from '../crypto/suites.js';
import type { CertifiedKey, Environment, ProtocolLimits } from '../machines/types.js';
import { pemToDerList } from '../pki/pem.js';
import { NamedGroup } from '../wire/types.js';

/** PEM text, as a string or a Buffer, or several of them. */
export type PemInput = string | Buffer | ReadonlyArray<string | Buffer>;

const GROUP_ALIASES: Record<string, number> = {
  x25519mlkem768: NamedGroup.X25519MLKEM768,
  x25519: NamedGroup.x25519,
  'p-256': NamedGroup.secp256r1,
  secp256r1: NamedGroup.secp256r1,
  prime256v1: NamedGroup.secp256r1,
  'p-384': NamedGroup.secp384r1,
  secp384r1: NamedGroup.secp384r1,
};

/**
 * What getEphemeralKeyInfo() reports for each group: type, name and size in bits, as node:tls
 * does for the (EC)DHE groups. node:tls has no entry for the hybrid KEM group; tlschart
 * reports it as type 'KEM' with the ML-KEM parameter set as its size.
 */
export const EPHEMERAL_KEY_INFO: Record<number, { type: 'ECDH' | 'KEM'; name: string; size: number }> = {
  [NamedGroup.X25519MLKEM768]: { type: 'KEM', name: 'X25519MLKEM768', size: 768 },
  [NamedGroup.x25519]: { type: 'ECDH', name: 'X25519', size: 253 },
  [NamedGroup.secp256r1]: { type: 'ECDH', name: 'prime256v1', size: 256 },
  [NamedGroup.secp384r1]: { type: 'ECDH', name: 'secp384r1', size: 384 },
};

/** Split "a:b,c" or ["a", "b"] into names. */
function names(value: string | readonly string[], what: string): string[] {
  const list = typeof value === 'string' ? value.split(/[:,]/) : [...value];
  const out = list.map((s) => s.trim()).filter((s) => s.length > 0);
  if (out.length === 0) throw new TypeError(`${what}: the list is empty`);
  return out;
}

/**
 * Group names in preference order ('X25519MLKEM768', 'x25519', 'P-256', 'P-384', also
 * 'secp256r1', 'prime256v1', 'secp384r1'; case does not matter) to NamedGroup codes.
 */
export function parseGroups(value: string | readonly string[]): number[] {
  const out: number[] = [];
  for (const n of names(value, 'groups')) {
    const code = GROUP_ALIASES[n.toLowerCase()];
    if (code === undefined) throw new TypeError(`groups: unknown group ${JSON.stringify(n)} (known: X25519MLKEM768, x25519, P-256, P-384)`);
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

/** IANA cipher suite names (TLS_AES_128_GCM_SHA256, ...), colon or comma separated, to codes. */
export function parseCipherSuites(value: string | readonly string[]): number[] {
  const out: number[] = [];
  for (const n of names(value, 'cipherSuites')) {
    const info = suiteByName(n.toUpperCase());
    if (!info) {
      throw new TypeError(
        `cipherSuites: unknown or unsupported suite ${JSON.stringify(n)} (known: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)`,
      );
    }
    if (!out.includes(info.code)) out.push(info.code);
  }
  return out;
}

/** ALPN protocol names: each 1..255 bytes (RFC 7301 §3.1). */
export function parseAlpn(value: readonly string[]): string[] {
  for (const p of value) {
    const len = Buffer.byteLength(p);
    if (len < 1 || len > 255) throw new TypeError(`ALPNProtocols: ${JSON.stringify(p)} must be 1..255 bytes`);
  }
  return [...value];
}

/**
 * Which crypto provider a socket runs on: 'node' (node:crypto, OpenSSL; the
 * default) or 'noble' (pure JavaScript, @noble; ECDSA signatures deterministic,
 * RFC 6979), or any CryptoProvider object.
 */
export type CryptoOption = ProviderName | CryptoProvider;

export const DEFAULT_CRYPTO: ProviderName = 'node';

/** The provider a `crypto` option names; TypeError for anything else. */
export function cryptoProvider(value: CryptoOption | undefined, what: string): CryptoProvider {
  if (value === undefined) return PROVIDERS[DEFAULT_CRYPTO];
  if (typeof value === 'string') {
    const p = (PROVIDERS as Record<string, CryptoProvider>)[value];
    if (p === undefined) throw new TypeError(`${what}: crypto must be 'node' or 'noble', got ${JSON.stringify(value)}`);
    return p;
  }
  if (typeof value === 'object' && value !== null && typeof value.aeadSeal === 'function') return value;
  throw new TypeError(`${what}: crypto must be 'node', 'noble' or a CryptoProvider`);
}

/**
 * The environment of one connection: `env` when given (its randomness, clock
 * and provider), with the provider replaced when `crypto` was given too.
 */
export function withProvider(env: Environment, crypto: CryptoOption | undefined, provider: CryptoProvider): Environment {
  if (crypto === undefined || env.crypto === provider) return env;
  return { ...env, crypto: provider };
}

/** PEM inputs as a list of strings. */
export function pemStrings(value: PemInput): string[] {
  const list = typeof value === 'string' || Buffer.isBuffer(value) ? [value] : [...value];
  return list.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
}

/**
 * A certificate chain (PEM, leaf first, intermediates may follow) and its
 * private key as the engine needs them. The key is read once, here, into the
 * provider's form (a node KeyObject for both providers' RSA, and for every
 * kind with the node provider): never again per handshake.
 */
export function certifiedKey(certPem: string | Buffer, keyPem: string | Buffer, what: string, crypto: CryptoProvider): CertifiedKey {
  const [cert] = pemStrings(certPem);
  const [key] = pemStrings(keyPem);
  const chain = pemToDerList(cert ?? '');
  if (chain.length === 0) throw new TypeError(`${what}: cert holds no CERTIFICATE block`);
  let signing: SigningKey;
  try {
    signing = crypto.loadSigningKey(key ?? '');
  } catch (e) {
    throw new TypeError(`${what}: key: ${(e as Error).message}`);
  }
  const leafSpki = new X509Certificate(chain[0] as Uint8Array).publicKey.export({ type: 'spki', format: 'der' });
  if (!Buffer.from(signing.spki).equals(leafSpki)) throw new TypeError(`${what}: the key does not belong to the certificate`);
  return { chain, key: signing };
}

/** Several key/cert pairs (node:tls allows arrays, e.g. an RSA and an ECDSA certificate). */
export function certifiedKeys(cert: PemInput, key: PemInput, what: string, crypto: CryptoProvider): CertifiedKey[] {
  const certs = pemStrings(cert);
  const keys = pemStrings(key);
  if (certs.length !== keys.length) throw new TypeError(`${what}: ${certs.length} cert(s) but ${keys.length} key(s)`);
  return certs.map((c, i) => certifiedKey(c, keys[i] as string, what, crypto));
}

/**
 * Limits on what the peer may make this side do, shared by `connect()` and
 * `createServer()` (defaults: machines/types.ts ProtocolLimits; README "Limits").
 */
export interface LimitOptions {
  /** Largest handshake message accepted, in bytes, its 4-byte header included (each type also held to its legal maximum). Default 262144. */
  maxHandshakeMessage?: number;
  /** Most records one handshake message may be split across. Default 256. */
  maxHandshakeRecords?: number;
  /** Most empty application_data records in a row. Default 32. */
  maxEmptyRecords?: number;
  /** Most KeyUpdates in a row without application data between them. Default 32. */
  maxKeyUpdates?: number;
}

/** The protocol limits among `options`, checked (TypeError for a bad value). */
export function protocolLimits(options: LimitOptions, what: string): Partial<ProtocolLimits> {
  const out: Partial<ProtocolLimits> = {};
  const take = (name: keyof LimitOptions & keyof ProtocolLimits, min: number) => {
    const v = options[name];
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min) throw new TypeError(`${what}: ${name} must be an integer of at least ${min}, got ${v}`);
    out[name] = v;
  };
  take('maxHandshakeMessage', 4);
  take('maxHandshakeRecords', 1);
  take('maxEmptyRecords', 0);
  take('maxKeyUpdates', 0);
  return out;
}
