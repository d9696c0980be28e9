/**
 * (EC)DHE through node:crypto (OpenSSL) for the node provider (RFC 8446
 * §4.2.8, §7.4): x25519 (RFC 7748), secp256r1 and secp384r1 with
 * uncompressed points (§4.2.8.2).
 *
 * Same bytes in, same key pair out, as the @noble provider: a private key is
 * drawn only from the injected random source (x25519: 32 bytes; NIST: 1.5×
 * the scalar size, reduced into 1..n-1 as @noble does), then imported into
 * OpenSSL (x25519 through JWK, NIST through ECDH.setPrivateKey — both skip
 * OpenSSL 3.0's slow DER decoder). So a seeded handshake replays byte for
 * byte on either provider, and a KeyPair made by one provider completes on
 * the other (the private form is the raw scalar for both).
 *
 * Shares are checked exactly as strictly as @noble checks them: the length,
 * the uncompressed form, a point on the curve, an x25519 u-coordinate not of
 * low order; every failure is illegal_parameter / InvalidKeyShare.
 */

import { createECDH, createPrivateKey, createPublicKey, diffieHellman, ECDH, type KeyObject } from 'node:crypto';
import { TlsError } from '../wire/alerts.js';
import { NamedGroup } from '../wire/types.js';
import { bufferOf, bytesOf } from './bytes.js';
import type { KeyPair, RandomSource, ServerShareResult, SharedSecretResult } from './provider.js';
import { isLowOrderX25519 } from './x25519-low-order.js';

const b64u = (b: Uint8Array): string => bufferOf(b).toString('base64url');

function randomOf(random: RandomSource, n: number): Uint8Array {
  if (typeof random !== 'function') throw new TypeError('randomBytes must be a function');
  const out = random(n);
  if (!(out instanceof Uint8Array) || out.length !== n) throw new TypeError(`randomBytes(${n}) must return ${n} bytes`);
  return out;
}

/** A big-endian unsigned integer. */
function bigFromBytes(b: Uint8Array): bigint {
  const hex = bufferOf(b).toString('hex');
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
}

function bytesFromBig(n: bigint, length: number): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(2 * length, '0'), 'hex'));
}

interface NativeGroup {
  readonly name: string;
  readonly privateLength: number;
  readonly publicLength: number;
  generate(random: RandomSource): { privateKey: Uint8Array; publicKey: Uint8Array };
  /** Is `privateKey` a private key of this group (the right length, a scalar in range)? */
  validPrivate(privateKey: Uint8Array): boolean;
  /** Why `share` is not acceptable, or undefined when it is (length, form, point; §4.2.8.2, §7.4). */
  shareProblem(share: Uint8Array): string | undefined;
  /** The shared secret; throws when OpenSSL refuses the agreement. */
  agree(privateKey: Uint8Array, share: Uint8Array): Uint8Array;
}

// ------------------------------------------------------------------ x25519

/** KeyObjects of private keys this provider made, so the client's agreement does not import its key again. */
const x25519Keys = new WeakMap<Uint8Array, KeyObject>();

function x25519PrivateKey(d: Uint8Array): KeyObject {
  let key = x25519Keys.get(d);
  if (key === undefined) {
    // For a private OKP key node reads only `d` (EVP_PKEY_new_raw_private_key derives
    // the public half); `x` must merely be present. The tests check the public key
    // that comes out against @noble's for the same private key.
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(d), x: '' }, format: 'jwk' });
    x25519Keys.set(d, key);
  }
  return key;
}

const x25519: NativeGroup = {
  name: 'x25519',
  privateLength: 32,
  publicLength: 32,
  generate(random) {
    const privateKey = Uint8Array.from(randomOf(random, 32));
    const jwk = createPublicKey(x25519PrivateKey(privateKey)).export({ format: 'jwk' });
    return { privateKey, publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')) };
  },
  validPrivate: (d) => d.length === 32,
  shareProblem(share) {
    if (share.length !== 32) return `x25519 key share must be 32 bytes, got ${share.length}`;
    if (isLowOrderX25519(share)) return 'invalid x25519 key share: a point of low order (the shared secret would be zero)';
    return undefined;
  },
  agree(privateKey, share) {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(share) }, format: 'jwk' });
    const out = bytesOf(diffieHellman({ privateKey: x25519PrivateKey(privateKey), publicKey }));
    // RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero result must abort (the low-order check makes it unreachable).
    let acc = 0;
    for (const b of out) acc |= b;
    if (acc === 0) throw new Error('all-zero shared secret');
    return out;
  },
};

// ------------------------------------------------------------------ NIST curves

/** ECDH objects of private keys this provider made (setPrivateKey already computed the public point). */
const ecdhKeys = new WeakMap<Uint8Array, ECDH>();

function nist(name: string, curve: string, fieldLen: number, order: bigint): NativeGroup {
  const publicLength = 1 + 2 * fieldLen;
  const seedLength = fieldLen + Math.ceil(fieldLen / 2);
  const orderBytes = Buffer.from(bytesFromBig(order, fieldLen));
  const ecdhFor = (d: Uint8Array): ECDH => {
    let ecdh = ecdhKeys.get(d);
    if (ecdh === undefined) {
      ecdh = createECDH(curve);
      ecdh.setPrivateKey(d);
      ecdhKeys.set(d, ecdh);
    }
    return ecdh;
  };
  return {
    name,
    privateLength: fieldLen,
    publicLength,
    generate(random) {
      // As @noble's randomSecretKey: (seed mod (n - 1)) + 1, from 1.5× the scalar size, so the bias is negligible.
      const seed = randomOf(random, seedLength);
      const privateKey = bytesFromBig((bigFromBytes(seed) % (order - 1n)) + 1n, fieldLen);
      return { privateKey, publicKey: bytesOf(ecdhFor(privateKey).getPublicKey()) };
    },
    validPrivate(d) {
      // 1 <= d < n, compared as big-endian bytes.
      return d.length === fieldLen && d.some((b) => b !== 0) && Buffer.compare(bufferOf(d), orderBytes) < 0;
    },
    shareProblem(share) {
      if (share.length !== publicLength) return `${name} key share must be ${publicLength} bytes, got ${share.length}`;
      // §4.2.8.2: only the uncompressed form (legacy_form = 4) is valid in TLS 1.3.
      if (share[0] !== 0x04) return `invalid ${name} key share: not an uncompressed point`;
      try {
        // OpenSSL decodes the point: coordinates below p, on the curve.
        ECDH.convertKey(share, curve);
      } catch (e) {
        return `invalid ${name} key share: ${e instanceof Error ? e.message : String(e)}`;
      }
      return undefined;
    },
    agree(privateKey, share) {
      // §7.4.2: the shared secret is the x-coordinate, fieldLen bytes.
      return bytesOf(ecdhFor(privateKey).computeSecret(share));
    },
  };
}

const N_P256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const N_P384 = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

const NATIVE = new Map<number, NativeGroup>([
  [NamedGroup.x25519, x25519],
  [NamedGroup.secp256r1, nist('secp256r1', 'prime256v1', 32, N_P256)],
  [NamedGroup.secp384r1, nist('secp384r1', 'secp384r1', 48, N_P384)],
]);

/** The groups node:crypto does natively. */
export const NATIVE_GROUPS: readonly number[] = [...NATIVE.keys()];

export function isNativeGroup(group: number): boolean {
  return NATIVE.has(group);
}

function nativeGroup(group: number): NativeGroup {
  const g = NATIVE.get(group);
  if (g === undefined) throw new RangeError(`unsupported group 0x${group.toString(16).padStart(4, '0')}`);
  return g;
}

function invalidShare(message: string): { ok: false; error: TlsError } {
  return { ok: false, error: new TlsError('illegal_parameter', 'InvalidKeyShare', message) };
}

/** A fresh key pair for a native group, drawn only from `random` (same bytes, same pair as @noble). */
export function nativeGenerateKeyPair(group: number, random: RandomSource): KeyPair {
  const g = nativeGroup(group);
  return { group, ...g.generate(random) };
}

/** Is a share acceptable for a native group (§4.2.8.2, §7.4)? */
export function nativeIsValidShare(group: number, share: Uint8Array): boolean {
  const g = NATIVE.get(group);
  return g !== undefined && share instanceof Uint8Array && g.shareProblem(share) === undefined;
}

/** The (EC)DHE shared secret with a native group; never throws for a bad share. */
export function nativeSharedSecret(group: number, privateKey: Uint8Array, share: Uint8Array): SharedSecretResult {
  const g = nativeGroup(group);
  if (!(privateKey instanceof Uint8Array) || !g.validPrivate(privateKey)) {
    return { ok: false, error: new TlsError('internal_error', 'InvalidPrivateKey', `not a valid ${g.name} private key`) };
  }
  if (!(share instanceof Uint8Array)) return invalidShare(`${g.name} key share must be bytes`);
  const problem = g.shareProblem(share);
  if (problem !== undefined) return invalidShare(problem);
  try {
    return { ok: true, value: g.agree(privateKey, share) };
  } catch (e) {
    return invalidShare(`invalid ${g.name} key share: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The server's half with a native group: a fresh key pair from `random` (drawn first, as @noble does), then the agreement. */
export function nativeAcceptShare(group: number, clientShare: Uint8Array, random: RandomSource): ServerShareResult {
  const pair = nativeGenerateKeyPair(group, random);
  const r = nativeSharedSecret(group, pair.privateKey, clientShare);
  return r.ok ? { ok: true, share: pair.publicKey, secret: r.value } : r;
}
