/**
 * (EC)DHE key exchange for the groups tlschart supports (RFC 8446 §4.2.8):
 * x25519 (RFC 7748) and the NIST curves secp256r1/secp384r1 with
 * uncompressed points (§4.2.8.2). Shared secrets per §7.4.
 *
 * Key generation takes the random source as an argument so a handshake can be
 * replayed byte for byte from recorded randomness.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { TlsError } from '../wire/alerts.js';
import { NamedGroup } from '../wire/types.js';
import { checkBytes } from './check.js';
import type { KeyPair, RandomSource, ServerShareResult, SharedSecretResult } from './provider.js';
import { isLowOrderX25519 } from './x25519-low-order.js';

export type { KeyPair, ServerShareResult, SharedSecretResult } from './provider.js';

/** The (EC)DHE groups of this module, in preference order (the hybrid X25519MLKEM768 is in hybrid.ts). */
export const SUPPORTED_GROUPS: readonly number[] = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];

type Nist = typeof p256;

interface GroupImpl {
  name: string;
  privateLength: number;
  publicLength: number;
  generatePrivate(randomBytes: (n: number) => Uint8Array): Uint8Array;
  publicFromPrivate(privateKey: Uint8Array): Uint8Array;
  validPrivate(privateKey: Uint8Array): boolean;
  /** Throws on any invalid input; the caller turns that into an alert. */
  shared(privateKey: Uint8Array, peerPublic: Uint8Array): Uint8Array;
  /** Throws when `shared` would refuse this share (of the right length) whatever the private key: no scalar multiplication. */
  checkShare(peerPublic: Uint8Array): void;
}

function nist(name: string, curve: Nist, fieldLen: number): GroupImpl {
  return {
    name,
    privateLength: fieldLen,
    publicLength: 1 + 2 * fieldLen,
    generatePrivate: (rng) => curve.utils.randomSecretKey(randomOf(rng, curve.lengths.seed ?? fieldLen + fieldLen / 2)),
    publicFromPrivate: (sk) => curve.getPublicKey(sk, false),
    validPrivate: (sk) => sk.length === fieldLen && curve.utils.isValidSecretKey(sk),
    shared(sk, peer) {
      // §4.2.8.2: only the uncompressed form (legacy_form = 4) is valid in TLS 1.3.
      if (peer[0] !== 0x04) throw new Error('not an uncompressed point');
      // noble checks the point is on the curve and not the identity.
      const point = curve.getSharedSecret(sk, peer, true);
      // §7.4.2: the shared secret is the x-coordinate, Hash-independent, fieldLen bytes.
      return point.subarray(1);
    },
    checkShare(peer) {
      if (peer[0] !== 0x04) throw new Error('not an uncompressed point');
      // The decoding getSharedSecret does: coordinates below p, on the curve, not the identity.
      curve.Point.fromBytes(peer).assertValidity();
    },
  };
}

function randomOf(rng: (n: number) => Uint8Array, n: number): Uint8Array {
  const out = rng(n);
  if (!(out instanceof Uint8Array) || out.length !== n) {
    throw new TypeError(`randomBytes(${n}) must return ${n} bytes`);
  }
  return out;
}

const GROUPS = new Map<number, GroupImpl>([
  [
    NamedGroup.x25519,
    {
      name: 'x25519',
      privateLength: 32,
      publicLength: 32,
      generatePrivate: (rng) => Uint8Array.from(randomOf(rng, 32)),
      publicFromPrivate: (sk) => x25519.getPublicKey(sk),
      validPrivate: (sk) => sk.length === 32,
      shared(sk, peer) {
        // noble rejects the low-order points (RFC 7748 §6.1) before the ladder.
        const out = x25519.getSharedSecret(sk, peer);
        // RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero result must abort.
        let acc = 0;
        for (const b of out) acc |= b;
        if (acc === 0) throw new Error('all-zero shared secret');
        return out;
      },
      checkShare(peer) {
        // The list noble refuses before its ladder; no other share gives the all-zero secret.
        if (isLowOrderX25519(peer)) throw new Error('a point of low order');
      },
    },
  ],
  [NamedGroup.secp256r1, nist('secp256r1', p256, 32)],
  [NamedGroup.secp384r1, nist('secp384r1', p384, 48)],
]);

function groupImpl(group: number): GroupImpl {
  const g = GROUPS.get(group);
  if (g === undefined) throw new RangeError(`unsupported group 0x${group.toString(16).padStart(4, '0')}`);
  return g;
}

/**
 * A fresh ephemeral key pair for `group`, drawn only from `randomBytes`
 * (same randomness, same key pair). NIST private keys are reduced from
 * extra random bytes so their distribution is uniform.
 */
export function generateKeyPair(group: number, randomBytes: RandomSource): KeyPair {
  const g = groupImpl(group);
  if (typeof randomBytes !== 'function') throw new TypeError('randomBytes must be a function');
  const privateKey = g.generatePrivate(randomBytes);
  return { group, privateKey, publicKey: g.publicFromPrivate(privateKey) };
}

/** Rebuild a key pair from its private key (recorded traces, RFC 8448 vectors). */
export function keyPairFromPrivate(group: number, privateKey: Uint8Array): KeyPair {
  const g = groupImpl(group);
  checkBytes('privateKey', privateKey);
  if (!g.validPrivate(privateKey)) {
    throw new RangeError(`not a valid ${g.name} private key (${g.privateLength} bytes, in range)`);
  }
  return { group, privateKey: Uint8Array.from(privateKey), publicKey: g.publicFromPrivate(privateKey) };
}

function invalidShare(message: string): SharedSecretResult {
  return { ok: false, error: new TlsError('illegal_parameter', 'InvalidKeyShare', message) };
}

/**
 * The (EC)DHE shared secret (RFC 8446 §7.4) between our private key and the
 * peer's KeyShareEntry.key_exchange. Never throws: a share of the wrong length,
 * a compressed or hybrid NIST point, a point off the curve, or an x25519 share
 * that yields the all-zero secret is `illegal_parameter` / InvalidKeyShare.
 */
export function computeSharedSecret(group: number, privateKey: Uint8Array, peerPublic: Uint8Array): SharedSecretResult {
  const g = GROUPS.get(group);
  if (g === undefined) {
    return {
      ok: false,
      error: new TlsError('illegal_parameter', 'UnsupportedGroup', `group 0x${Number(group).toString(16)} is not supported`),
    };
  }
  if (!(privateKey instanceof Uint8Array) || !g.validPrivate(privateKey)) {
    return { ok: false, error: new TlsError('internal_error', 'InvalidPrivateKey', `not a valid ${g.name} private key`) };
  }
  if (!(peerPublic instanceof Uint8Array)) return invalidShare(`${g.name} key share must be bytes`);
  if (peerPublic.length !== g.publicLength) {
    return invalidShare(`${g.name} key share must be ${g.publicLength} bytes, got ${peerPublic.length}`);
  }
  try {
    return { ok: true, value: g.shared(privateKey, peerPublic) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return invalidShare(`invalid ${g.name} key share: ${why}`);
  }
}

/**
 * RFC 8446 §4.2.8.2, §7.4: a share is acceptable when an agreement with it
 * would succeed — right length, uncompressed point on the curve, not of low
 * order. Decided without a scalar multiplication (the same checks the
 * agreement makes first), so a server does not pay for one twice.
 */
export function isAcceptableShare(group: number, share: Uint8Array): boolean {
  const g = GROUPS.get(group);
  if (g === undefined || !(share instanceof Uint8Array) || share.length !== g.publicLength) return false;
  try {
    g.checkShare(share);
    return true;
  } catch (e) {
    // The decoder refused the point: not acceptable.
    void e;
    return false;
  }
}

/** The server's half of an (EC)DHE exchange: a fresh key pair from `random`, then the agreement (§4.2.8). */
export function acceptShare(group: number, clientShare: Uint8Array, random: RandomSource): ServerShareResult {
  if (!GROUPS.has(group))
    return {
      ok: false,
      error: new TlsError('illegal_parameter', 'UnsupportedGroup', `group 0x${Number(group).toString(16)} is not supported`),
    };
  const pair = generateKeyPair(group, random);
  const r = computeSharedSecret(group, pair.privateKey, clientShare);
  return r.ok ? { ok: true, share: pair.publicKey, secret: r.value } : r;
}

/** The client's shared secret from its key pair and the server's share (§7.4). */
export function completeShare(keyPair: KeyPair, serverShare: Uint8Array): SharedSecretResult {
  return computeSharedSecret(keyPair.group, keyPair.privateKey, serverShare);
}
