/**
 * Witnesses, not booleans (DESIGN.md): values that only the verifying
 * functions in this file can create, so a connected state built from them
 * proves that the Finished MAC (RFC 8446 §4.4.4), the PSK binder (§4.2.11.2)
 * or the CertificateVerify signature (§4.4.3) really was checked.
 *
 * Each witness class has an ES-private field, so TypeScript treats it
 * nominally (an object literal can never pass for one), and its constructor
 * demands a module-private token at run time. Each records what it vouches
 * for; secrets it was checked under stay in private fields (out of JSON) and
 * are compared in constant time by `isFor`.
 */
import { constantTimeEqual } from './bytes.js';
import { computeBinder, finishedVerifyData } from './keyschedule.js';
import type { CryptoProvider } from './provider.js';
import { certificateVerifyInput } from './signature.js';
import type { SuiteInfo } from './suites.js';

const MINT: unique symbol = Symbol('tlschart witness');

function checkToken(token: unknown, what: string): void {
  if (token !== MINT) throw new TypeError(`${what} can only be created by its verifying function`);
}

const copy = (b: Uint8Array) => Uint8Array.from(b);

/** A Finished whose verify_data was recomputed and matched (RFC 8446 §4.4.4). */
export class FinishedVerified {
  readonly kind = 'FinishedVerified' as const;
  readonly suite: SuiteInfo;
  /** Transcript hash the MAC covered (up to, not including, this Finished). */
  readonly transcriptHash: Uint8Array;
  /** The verify_data that was received and checked. */
  readonly verifyData: Uint8Array;
  readonly #baseKey: Uint8Array;

  constructor(token: typeof MINT, suite: SuiteInfo, baseKey: Uint8Array, transcriptHash: Uint8Array, verifyData: Uint8Array) {
    checkToken(token, 'FinishedVerified');
    this.suite = suite;
    this.#baseKey = copy(baseKey);
    this.transcriptHash = copy(transcriptHash);
    this.verifyData = copy(verifyData);
  }

  /**
   * Whether this Finished was checked under `baseKey` — the peer's handshake
   * traffic secret says whose Finished it was (constant time).
   */
  isFor(baseKey: Uint8Array): boolean {
    return constantTimeEqual(this.#baseKey, baseKey);
  }

  toJSON(): { kind: string; suite: string } {
    return { kind: this.kind, suite: this.suite.name };
  }
}

/** A PSK binder that was recomputed and matched (RFC 8446 §4.2.11.2). */
export class BinderVerified {
  readonly kind = 'BinderVerified' as const;
  readonly suite: SuiteInfo;
  /** Transcript-Hash(Truncate(ClientHello)) the binder covered. */
  readonly partialClientHelloHash: Uint8Array;
  readonly binder: Uint8Array;
  readonly #binderKey: Uint8Array;

  constructor(token: typeof MINT, suite: SuiteInfo, binderKey: Uint8Array, partialClientHelloHash: Uint8Array, binder: Uint8Array) {
    checkToken(token, 'BinderVerified');
    this.suite = suite;
    this.#binderKey = copy(binderKey);
    this.partialClientHelloHash = copy(partialClientHelloHash);
    this.binder = copy(binder);
  }

  /** Whether the binder was checked under `binderKey`, i.e. for that PSK (constant time). */
  isFor(binderKey: Uint8Array): boolean {
    return constantTimeEqual(this.#binderKey, binderKey);
  }

  toJSON(): { kind: string; suite: string } {
    return { kind: this.kind, suite: this.suite.name };
  }
}

/** A CertificateVerify signature that verified against the peer's certificate key (RFC 8446 §4.4.3). */
export class SignatureVerified {
  readonly kind = 'SignatureVerified' as const;
  /** Whose CertificateVerify it was (which context string was signed). */
  readonly role: 'server' | 'client';
  readonly scheme: number;
  /** DER SubjectPublicKeyInfo the signature verified under. */
  readonly spki: Uint8Array;
  /** Transcript-Hash(Handshake Context, Certificate) that was signed. */
  readonly transcriptHash: Uint8Array;
  readonly #brand = true;

  constructor(token: typeof MINT, role: 'server' | 'client', scheme: number, spki: Uint8Array, transcriptHash: Uint8Array) {
    checkToken(token, 'SignatureVerified');
    this.role = role;
    this.scheme = scheme;
    this.spki = copy(spki);
    this.transcriptHash = copy(transcriptHash);
  }

  /** Whether this signature was verified with the key in `spki`. */
  isFor(spki: Uint8Array): boolean {
    return this.#brand && constantTimeEqual(this.spki, spki);
  }

  toJSON(): { kind: string; role: string; scheme: number } {
    return { kind: this.kind, role: this.role, scheme: this.scheme };
  }
}

/**
 * Recompute the expected verify_data from `baseKey` and the transcript hash
 * first, then compare with what was received in constant time (RFC 8446
 * §4.4.4). `undefined` when they differ (the caller sends decrypt_error).
 */
export function verifyFinished(
  suite: SuiteInfo,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
  received: Uint8Array,
  p: CryptoProvider,
): FinishedVerified | undefined {
  const expected = finishedVerifyData(suite, baseKey, transcriptHash, p);
  if (!(received instanceof Uint8Array) || !constantTimeEqual(expected, received)) return undefined;
  return new FinishedVerified(MINT, suite, baseKey, transcriptHash, received);
}

/**
 * Recompute the binder for the offered PSK and compare in constant time
 * (RFC 8446 §4.2.11.2). `undefined` when it does not match (decrypt_error).
 */
export function verifyBinder(
  suite: SuiteInfo,
  binderKey: Uint8Array,
  partialClientHelloHash: Uint8Array,
  received: Uint8Array,
  p: CryptoProvider,
): BinderVerified | undefined {
  const expected = computeBinder(suite, binderKey, partialClientHelloHash, p);
  if (!(received instanceof Uint8Array) || !constantTimeEqual(expected, received)) return undefined;
  return new BinderVerified(MINT, suite, binderKey, partialClientHelloHash, received);
}

/**
 * Verify a CertificateVerify (RFC 8446 §4.4.3): `signature` under `scheme`
 * over the role's signed content, with the key from the peer's end-entity
 * certificate. `undefined` when it does not verify (decrypt_error) or the
 * scheme does not fit the key (the caller decides between illegal_parameter
 * and decrypt_error before calling, if it wants to distinguish).
 */
export function verifyCertificateVerify(
  scheme: number,
  spki: Uint8Array,
  role: 'server' | 'client',
  transcriptHash: Uint8Array,
  signature: Uint8Array,
  p: CryptoProvider,
): SignatureVerified | undefined {
  const content = certificateVerifyInput(role, transcriptHash);
  if (!p.verifySignature(scheme, spki, content, signature)) return undefined;
  return new SignatureVerified(MINT, role, scheme, spki, transcriptHash);
}
