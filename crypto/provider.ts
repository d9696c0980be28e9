/**
 * The one seam between tlschart and the primitives it uses. A connection gets
 * one CryptoProvider through its environment (`Environment.crypto`), and every
 * primitive of the handshake and the record layer goes through it: hashing,
 * HMAC/HKDF, AEAD, (EC)DHE key generation and agreement, signing and
 * verification. Everything is synchronous so the chart guards can call it.
 *
 * The default is `nobleProvider` (crypto/noble.ts: @noble, RSA-PSS through
 * node:crypto). Nothing here is global: a caller that wants another provider
 * passes it.
 */
import type { TlsError } from '../wire/alerts.js';
import type { KeyKind } from './spki.js';
import type { AeadName, HashName } from './suites.js';

/** n random bytes; the connection's injected source, so a handshake replays byte for byte. */
export type RandomSource = (n: number) => Uint8Array;

/** An ephemeral key pair for one key share (RFC 8446 §4.2.8). */
export interface KeyPair {
  group: number;
  /** The provider's private form of the key; opaque outside the provider that made it. */
  privateKey: Uint8Array;
  /**
   * The KeyShareEntry.key_exchange bytes: 32 bytes for x25519, 0x04||X||Y for the NIST curves,
   * ML-KEM-768 encapsulation key ‖ X25519 share (1216 bytes) for X25519MLKEM768.
   */
  publicKey: Uint8Array;
}

export type SharedSecretResult = { ok: true; value: Uint8Array } | { ok: false; error: TlsError };

/** The server's half of a key exchange: the share it sends and the shared secret. */
export type ServerShareResult = { ok: true; share: Uint8Array; secret: Uint8Array } | { ok: false; error: TlsError };

/** A private key the handshake can sign CertificateVerify with. Never serialises its secret. */
export interface SigningKey {
  readonly kind: KeyKind;
  /** The SignatureSchemes this key can produce, in preference order. */
  readonly schemes: readonly number[];
  /** DER SubjectPublicKeyInfo of the matching public key. */
  readonly spki: Uint8Array;
  /** Sign `message` (the full §4.4.3 content, not a digest). Throws if `scheme` is not one of `schemes`. */
  sign(scheme: number, message: Uint8Array): Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;

  // ---- hashing, HMAC, HKDF (RFC 8446 §7.1), AEAD (§5.2)
  hash(h: HashName, data: Uint8Array): Uint8Array;
  hmac(h: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(h: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(h: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AEAD encrypt; returns ciphertext || tag. */
  aeadSeal(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** AEAD decrypt; `undefined` when authentication fails (never throws for a bad tag). */
  aeadOpen(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
  /**
   * Optional, for bulk data: `aeadSeal` of the concatenation of `parts`, its
   * ciphertext || tag written into `out` at `offset` (room for the parts'
   * total length plus the 16-byte tag is there). A record is sealed straight
   * into the buffer that goes to the socket, without joining its content and
   * type byte first nor copying the result again. Without it the record layer
   * joins the parts and calls `aeadSeal`. `aad` may lie inside `out` before `offset`.
   */
  aeadSealInto?(
    alg: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    parts: readonly Uint8Array[],
    out: Uint8Array,
    offset: number,
  ): void;
  /**
   * Optional, for bulk data: `aeadSeal` of the concatenation of `parts`, given
   * back as the pieces the cipher produced — the ciphertext in order, then the
   * 16-byte tag — whose concatenation is `aeadSeal`'s output. The pieces are
   * fresh arrays nothing else holds, so a record goes to the socket as its
   * header and these pieces (a gathered write), with no copy of its content.
   * Without it the record layer seals into one array (`aeadSealInto`).
   */
  aeadSealPieces?(alg: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array[];

  // ---- key exchange (RFC 8446 §4.2.8, §7.4)
  /** The NamedGroups this provider implements. */
  readonly groups: readonly number[];
  /** A fresh key pair for a ClientHello key share, drawn only from `random` (same bytes, same pair). */
  generateKeyPair(group: number, random: RandomSource): KeyPair;
  /**
   * Is a client's share for `group` acceptable: the right length and form, a valid
   * public key, not one that makes the shared secret degenerate (§4.2.8.2, §7.4)?
   * A server refuses an unacceptable share with illegal_parameter before it answers.
   */
  isValidShare(group: number, share: Uint8Array): boolean;
  /**
   * The server's answer to a client share (§4.2.8): its own share and the shared
   * secret. For (EC)DHE: a fresh key pair from `random`, then the agreement; for a
   * KEM group: encapsulation to the client's key (randomness from `random`). Never
   * throws for a bad share: that is illegal_parameter / InvalidKeyShare.
   */
  acceptShare(group: number, clientShare: Uint8Array, random: RandomSource): ServerShareResult;
  /** The client's shared secret from its key pair and the server's share (§7.4; decapsulation for a KEM group). Never throws for a bad share. */
  completeShare(keyPair: KeyPair, serverShare: Uint8Array): SharedSecretResult;

  // ---- signatures (RFC 8446 §4.2.3, §4.4.3)
  /** Load a PEM private key (PKCS#8, SEC1, PKCS#1) once, for signing CertificateVerify. */
  loadSigningKey(pem: string): SigningKey;
  /**
   * Verify `signature` over `message` with the key in DER SubjectPublicKeyInfo `spki`
   * under `scheme`; the scheme must fit the key. Never throws: anything malformed is false.
   */
  verifySignature(scheme: number, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
