/**
 * X25519MLKEM768 (NamedGroup 0x11EC), the hybrid post-quantum group of
 * draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 (FIPS 203) next to X25519 (RFC 7748),
 * both secrets concatenated into the one (EC)DHE input of the key schedule
 * (RFC 8446 §7.1). Section numbers below are those of the draft's text as
 * adopted (-00, "Construction"); later revisions keep the same rules.
 *
 * Layout (§3.1.1 "Client share", §3.1.2 "Server share", §3.1.3 "Shared secret"):
 *   client key_exchange = ML-KEM-768 encapsulation key (1184) ‖ X25519 share (32) = 1216 bytes
 *   server key_exchange = ML-KEM-768 ciphertext (1088)        ‖ X25519 share (32) = 1120 bytes
 *   shared secret       = ML-KEM-768 shared secret (32)       ‖ X25519 secret (32) =   64 bytes
 * The ML-KEM part comes first in all three, unlike the draft's other groups.
 *
 * A KEM fits the provider's key-exchange seam: the client's key pair is an
 * ML-KEM key pair plus an X25519 one; the server "accepts" a share by
 * encapsulating to it (and doing its X25519 half); the client "completes" by
 * decapsulating. Every random byte comes from the injected source, in a fixed
 * order, so a seeded handshake replays byte for byte:
 *   key pair: 64 bytes ML-KEM seed d ‖ z (FIPS 203 Alg. 19), then 32 bytes X25519 private key
 *   accept:   32 bytes ML-KEM message m (FIPS 203 Alg. 20),  then 32 bytes X25519 private key
 *
 * Refusals, each with the alert the draft names:
 * - client share of the wrong length, or whose encapsulation key fails the
 *   FIPS 203 §7.2 modulus check: illegal_parameter (§3.1.2, server side);
 * - server share of the wrong length: illegal_parameter (§3.1.2, client side);
 * - an X25519 half that is low-order or gives the all-zero secret:
 *   illegal_parameter (§3.1.2, §3.1.3; RFC 8446 §7.4.2);
 * - decapsulation failing for any other reason: internal_error (§3.1.2); with the
 *   lengths checked that only happens for a corrupt private key (InvalidPrivateKey).
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { TlsError } from '../wire/alerts.js';
import { NamedGroup } from '../wire/types.js';
import { concat } from './bytes.js';
import { checkBytes } from './check.js';
import { computeSharedSecret, generateKeyPair as generateEcdhKeyPair, isAcceptableShare } from './kex.js';
import type { KeyPair, RandomSource, ServerShareResult, SharedSecretResult } from './provider.js';

export const X25519MLKEM768 = NamedGroup.X25519MLKEM768;

/** FIPS 203 Table 3, ML-KEM-768: encapsulation key, decapsulation key, ciphertext, shared secret. */
export const MLKEM768_ENCAPSULATION_KEY_LENGTH = 1184;
export const MLKEM768_DECAPSULATION_KEY_LENGTH = 2400;
export const MLKEM768_CIPHERTEXT_LENGTH = 1088;
export const MLKEM768_SHARED_SECRET_LENGTH = 32;
/** FIPS 203 Alg. 19 seed d ‖ z, and Alg. 20 message m. */
export const MLKEM768_SEED_LENGTH = 64;
export const MLKEM768_MESSAGE_LENGTH = 32;
const X25519_LENGTH = 32;

/** §3.1.1: 1184 + 32. */
export const HYBRID_CLIENT_SHARE_LENGTH = MLKEM768_ENCAPSULATION_KEY_LENGTH + X25519_LENGTH;
/** §3.1.2: 1088 + 32. */
export const HYBRID_SERVER_SHARE_LENGTH = MLKEM768_CIPHERTEXT_LENGTH + X25519_LENGTH;
/** §3.1.3: 32 + 32. */
export const HYBRID_SHARED_SECRET_LENGTH = MLKEM768_SHARED_SECRET_LENGTH + X25519_LENGTH;
/** The provider's private form: ML-KEM-768 decapsulation key ‖ X25519 private key. */
const PRIVATE_KEY_LENGTH = MLKEM768_DECAPSULATION_KEY_LENGTH + X25519_LENGTH;

function draw(random: RandomSource, n: number): Uint8Array {
  if (typeof random !== 'function') throw new TypeError('random must be a function');
  const out = random(n);
  if (!(out instanceof Uint8Array) || out.length !== n) throw new TypeError(`random(${n}) must return ${n} bytes`);
  return out;
}

function invalidShare(message: string): { ok: false; error: TlsError } {
  return { ok: false, error: new TlsError('illegal_parameter', 'InvalidKeyShare', message) };
}

/** Split a share into its ML-KEM and X25519 parts (lengths already checked). */
function split(share: Uint8Array, kemLength: number): [Uint8Array, Uint8Array] {
  return [share.subarray(0, kemLength), share.subarray(kemLength)];
}

/**
 * FIPS 203 §7.2 "Encapsulation key check", the modulus check: every 12-bit
 * coefficient of the encoded vector t̂ (the first 384·k bytes) must be below
 * q = 3329, i.e. ByteEncode12(ByteDecode12(ek)) = ek. The type check (length)
 * is the caller's. Reads every coefficient, whatever it finds.
 */
export function passesModulusCheck(encapsulationKey: Uint8Array): boolean {
  const encoded = encapsulationKey.subarray(0, MLKEM768_ENCAPSULATION_KEY_LENGTH - 32);
  let bad = 0;
  for (let i = 0; i + 3 <= encoded.length; i += 3) {
    const b0 = encoded[i] as number;
    const b1 = encoded[i + 1] as number;
    const b2 = encoded[i + 2] as number;
    const c0 = b0 | ((b1 & 0x0f) << 8);
    const c1 = (b1 >> 4) | (b2 << 4);
    // (c - 3329) >>> 31 is 1 exactly when c < 3329 (c < 2^12).
    bad |= 1 ^ ((c0 - 3329) >>> 31);
    bad |= 1 ^ ((c1 - 3329) >>> 31);
  }
  return bad === 0;
}

/** §3.1.3: the shared secret is the ML-KEM shared secret followed by the X25519 one. */
export function combineSecrets(mlkemSecret: Uint8Array, x25519Secret: Uint8Array): Uint8Array {
  checkBytes('mlkemSecret', mlkemSecret);
  checkBytes('x25519Secret', x25519Secret);
  if (mlkemSecret.length !== MLKEM768_SHARED_SECRET_LENGTH || x25519Secret.length !== X25519_LENGTH) {
    throw new RangeError('combineSecrets: both secrets must be 32 bytes');
  }
  return concat(mlkemSecret, x25519Secret);
}

/**
 * The client's key pair (§3.1.1): an ML-KEM-768 key pair from a 64-byte seed
 * d ‖ z, then an X25519 key pair, both drawn only from `random`.
 */
export function generateHybridKeyPair(random: RandomSource): KeyPair {
  const seed = draw(random, MLKEM768_SEED_LENGTH);
  const kem = ml_kem768.keygen(seed);
  const ecdh = generateEcdhKeyPair(NamedGroup.x25519, random);
  return {
    group: X25519MLKEM768,
    privateKey: concat(kem.secretKey, ecdh.privateKey),
    publicKey: concat(kem.publicKey, ecdh.publicKey),
  };
}

/** Why a client share is unacceptable (§3.1.1, §3.1.2), or undefined. Never throws. */
function clientShareProblem(share: unknown): string | undefined {
  if (!(share instanceof Uint8Array)) return 'X25519MLKEM768 key share must be bytes';
  if (share.length !== HYBRID_CLIENT_SHARE_LENGTH) {
    return `X25519MLKEM768 client key share must be ${HYBRID_CLIENT_SHARE_LENGTH} bytes, got ${share.length}`;
  }
  const [ek, x] = split(share, MLKEM768_ENCAPSULATION_KEY_LENGTH);
  if (!passesModulusCheck(ek)) return 'the ML-KEM-768 encapsulation key fails the FIPS 203 §7.2 modulus check';
  if (!isAcceptableShare(NamedGroup.x25519, x)) return 'the X25519 part of the X25519MLKEM768 key share is not a valid public key';
  return undefined;
}

/** Is a client's X25519MLKEM768 share acceptable: length, ML-KEM modulus check, X25519 half (§3.1.2). */
export function isValidHybridClientShare(share: Uint8Array): boolean {
  return clientShareProblem(share) === undefined;
}

/**
 * The server's half (§3.1.2): encapsulate to the client's encapsulation key
 * with a message m from `random`, then an X25519 exchange with a fresh key
 * pair from `random`. Returns ciphertext ‖ X25519 share and the combined
 * secret. Never throws for a bad share: illegal_parameter / InvalidKeyShare.
 */
export function acceptHybridShare(clientShare: Uint8Array, random: RandomSource): ServerShareResult {
  const problem = clientShareProblem(clientShare);
  if (problem) return invalidShare(problem);
  const [ek, clientX] = split(clientShare, MLKEM768_ENCAPSULATION_KEY_LENGTH);
  const m = draw(random, MLKEM768_MESSAGE_LENGTH);
  const kem = ml_kem768.encapsulate(ek, m);
  const ecdh = generateEcdhKeyPair(NamedGroup.x25519, random);
  const x = computeSharedSecret(NamedGroup.x25519, ecdh.privateKey, clientX);
  if (!x.ok) return x;
  return { ok: true, share: concat(kem.cipherText, ecdh.publicKey), secret: combineSecrets(kem.sharedSecret, x.value) };
}

/**
 * The client's half (§3.1.2, §3.1.3): decapsulate the ciphertext, finish the
 * X25519 exchange, concatenate. A server share of the wrong length or a bad
 * X25519 half is illegal_parameter; a decapsulation that fails otherwise
 * (it cannot for well-formed inputs: FIPS 203 decapsulation rejects
 * implicitly) is internal_error. Never throws.
 */
export function completeHybridShare(keyPair: KeyPair, serverShare: Uint8Array): SharedSecretResult {
  const priv = keyPair.privateKey;
  if (!(priv instanceof Uint8Array) || priv.length !== PRIVATE_KEY_LENGTH) {
    return { ok: false, error: new TlsError('internal_error', 'InvalidPrivateKey', 'not an X25519MLKEM768 private key') };
  }
  if (!(serverShare instanceof Uint8Array)) return invalidShare('X25519MLKEM768 key share must be bytes');
  if (serverShare.length !== HYBRID_SERVER_SHARE_LENGTH) {
    return invalidShare(`X25519MLKEM768 server key share must be ${HYBRID_SERVER_SHARE_LENGTH} bytes, got ${serverShare.length}`);
  }
  const [ciphertext, serverX] = split(serverShare, MLKEM768_CIPHERTEXT_LENGTH);
  const [dk, xPrivate] = split(priv, MLKEM768_DECAPSULATION_KEY_LENGTH);
  let kemSecret: Uint8Array;
  try {
    kemSecret = ml_kem768.decapsulate(ciphertext, dk);
  } catch (e) {
    return {
      ok: false,
      // With both lengths checked, FIPS 203 decapsulation only fails when our own decapsulation
      // key is corrupt (its H(ek) check, §7.3): our private key is unusable.
      error: new TlsError(
        'internal_error',
        'InvalidPrivateKey',
        `ML-KEM-768 decapsulation failed: ${e instanceof Error ? e.message : String(e)}`,
      ),
    };
  }
  const x = computeSharedSecret(NamedGroup.x25519, xPrivate, serverX);
  if (!x.ok) return x;
  return { ok: true, value: combineSecrets(kemSecret, x.value) };
}
