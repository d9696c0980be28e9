/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1) as forward-only stages:
 *
 * ```
 * EarlySecret ──withSharedSecret(ecdhe)──► HandshakeSecret ──toMasterSecret()──► MasterSecret
 * ```
 *
 * A stage can only be built from the one before it (the constructors take a
 * module-private token), so nobody can skip the (EC)DHE input or derive
 * application keys from a handshake secret. Every derivation goes through the
 * CryptoProvider the first stage was created with.
 *
 * Also here: traffic keys (§7.3), KeyUpdate (§7.2), Finished (§4.4.4), PSK
 * binders (§4.2.11.2), resumption PSKs (§4.6.1), obfuscated ticket ages
 * (§4.2.11.1) and exporters (§7.5).
 */
import { utf8 } from './bytes.js';
import { checkBytes, checkHash, checkLength } from './check.js';
import type { CryptoProvider } from './provider.js';
import { type HashName, hashLength, type SuiteInfo } from './suites.js';

const EMPTY = new Uint8Array(0);
const LABEL_PREFIX = 'tls13 ';
const TWO_32 = 0x1_0000_0000;

function checkSuite(suite: SuiteInfo): void {
  if (typeof suite !== 'object' || suite === null || (suite.hash !== 'sha256' && suite.hash !== 'sha384')) {
    throw new TypeError('suite must be a SuiteInfo (see crypto/suites.ts)');
  }
}

/** "tls13 " + label as bytes, encoded once per label: the handful TLS 1.3 uses come back on every handshake. */
const LABELS = new Map<string, Uint8Array>();
const MAX_CACHED_LABELS = 64;

function labelBytes(label: string): Uint8Array {
  let b = LABELS.get(label);
  if (b === undefined) {
    b = utf8(LABEL_PREFIX + label);
    // Exporter labels come from the application: only a bounded number are kept.
    if (LABELS.size < MAX_CACHED_LABELS) LABELS.set(label, b);
  }
  return b;
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1):
 *
 * ```
 * HKDF-Expand-Label(Secret, Label, Context, Length) =
 *     HKDF-Expand(Secret, HkdfLabel, Length)
 * struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } HkdfLabel;
 * ```
 *
 * `label` is given without the "tls13 " prefix. `secret` must be Hash.length
 * bytes (it is always a PRK or a traffic secret in TLS 1.3).
 */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
  p: CryptoProvider,
): Uint8Array {
  checkHash(hash);
  const hLen = hashLength(hash);
  checkBytes('secret', secret);
  checkLength('secret', secret, hLen);
  if (typeof label !== 'string') throw new TypeError('label must be a string');
  checkBytes('context', context);
  if (context.length > 255) throw new RangeError(`context must be at most 255 bytes, got ${context.length}`);
  if (!Number.isInteger(length) || length < 1 || length > 255 * hLen) {
    throw new RangeError(`length must be an integer in 1..${255 * hLen}, got ${length}`);
  }
  const fullLabel = labelBytes(label);
  if (fullLabel.length < 7 || fullLabel.length > 255) {
    throw new RangeError(`"tls13 " + label must be 7..255 bytes, got ${fullLabel.length}`);
  }
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = fullLabel.length;
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return p.hkdfExpand(hash, secret, info, length);
}

/**
 * Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label,
 * Transcript-Hash(Messages), Hash.length) (RFC 8446 §7.1). Takes the
 * transcript hash already computed (see transcript.ts).
 */
export function deriveSecret(hash: HashName, secret: Uint8Array, label: string, transcriptHash: Uint8Array, p: CryptoProvider): Uint8Array {
  checkHash(hash);
  const hLen = hashLength(hash);
  checkBytes('transcriptHash', transcriptHash);
  checkLength('transcriptHash', transcriptHash, hLen);
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hLen, p);
}

/** Module-private: only this file can construct key-schedule stages. */
const STAGE: unique symbol = Symbol('tlschart key schedule stage');

function checkToken(token: unknown): void {
  if (token !== STAGE) throw new TypeError('key-schedule stages are only created by the previous stage');
}

/** Hash of the empty transcript, the context of every `Derive-Secret(., ., "")`. */
function emptyHash(suite: SuiteInfo, p: CryptoProvider): Uint8Array {
  return p.hash(suite.hash, EMPTY);
}

/**
 * Early Secret = HKDF-Extract(salt = 0, IKM = PSK or 0) (RFC 8446 §7.1).
 * tlschart only uses the PSK for resumption binders and the handshake secret;
 * the early-traffic derivations are here for reference and vectors (RFC 8448 §4).
 */
export class EarlySecret {
  readonly suite: SuiteInfo;
  readonly secret: Uint8Array;
  readonly #p: CryptoProvider;

  constructor(token: typeof STAGE, suite: SuiteInfo, secret: Uint8Array, p: CryptoProvider) {
    checkToken(token);
    this.suite = suite;
    this.secret = secret;
    this.#p = p;
  }

  /**
   * Start the schedule. Without a PSK the IKM is Hash.length zero bytes
   * (full handshake); a resumption PSK must be Hash.length bytes (§4.6.1).
   */
  static create(suite: SuiteInfo, psk: Uint8Array | undefined, p: CryptoProvider): EarlySecret {
    checkSuite(suite);
    const zeros = new Uint8Array(suite.hashLen);
    let ikm: Uint8Array = zeros;
    if (psk !== undefined) {
      checkBytes('psk', psk);
      checkLength(`psk for ${suite.name}`, psk, suite.hashLen);
      ikm = psk;
    }
    return new EarlySecret(STAGE, suite, p.hkdfExtract(suite.hash, zeros, ikm), p);
  }

  /** binder_key = Derive-Secret(Early Secret, "res binder", "") (§7.1, resumption PSKs only). */
  resumptionBinderKey(): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'res binder', emptyHash(this.suite, this.#p), this.#p);
  }

  /** client_early_traffic_secret = Derive-Secret(., "c e traffic", ClientHello). Reference only: tlschart never uses 0-RTT. */
  clientEarlyTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'c e traffic', helloHash, this.#p);
  }

  /** early_exporter_master_secret = Derive-Secret(., "e exp master", ClientHello) (§7.1). */
  earlyExporterMasterSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'e exp master', helloHash, this.#p);
  }

  /** Handshake Secret = HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE) (§7.1). */
  withSharedSecret(ecdhe: Uint8Array): HandshakeSecret {
    checkBytes('ecdhe', ecdhe);
    if (ecdhe.length === 0) throw new RangeError('ecdhe shared secret must not be empty');
    const salt = deriveSecret(this.suite.hash, this.secret, 'derived', emptyHash(this.suite, this.#p), this.#p);
    return new HandshakeSecret(STAGE, this.suite, this.#p.hkdfExtract(this.suite.hash, salt, ecdhe), this.#p);
  }

  /** Secrets stay out of JSON (traces, snapshots): see DESIGN.md "Keys never leave by accident". */
  toJSON(): { stage: string; suite: string } {
    return { stage: 'EarlySecret', suite: this.suite.name };
  }
}

/** Handshake Secret stage (RFC 8446 §7.1). */
export class HandshakeSecret {
  readonly suite: SuiteInfo;
  readonly secret: Uint8Array;
  readonly #p: CryptoProvider;

  constructor(token: typeof STAGE, suite: SuiteInfo, secret: Uint8Array, p: CryptoProvider) {
    checkToken(token);
    this.suite = suite;
    this.secret = secret;
    this.#p = p;
  }

  /** client_handshake_traffic_secret = Derive-Secret(., "c hs traffic", ClientHello...ServerHello). */
  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'c hs traffic', helloHash, this.#p);
  }

  /** server_handshake_traffic_secret = Derive-Secret(., "s hs traffic", ClientHello...ServerHello). */
  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 's hs traffic', helloHash, this.#p);
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0) (§7.1). */
  toMasterSecret(): MasterSecret {
    const salt = deriveSecret(this.suite.hash, this.secret, 'derived', emptyHash(this.suite, this.#p), this.#p);
    const zeros = new Uint8Array(this.suite.hashLen);
    return new MasterSecret(STAGE, this.suite, this.#p.hkdfExtract(this.suite.hash, salt, zeros), this.#p);
  }

  toJSON(): { stage: string; suite: string } {
    return { stage: 'HandshakeSecret', suite: this.suite.name };
  }
}

/** Master Secret stage (RFC 8446 §7.1). */
export class MasterSecret {
  readonly suite: SuiteInfo;
  readonly secret: Uint8Array;
  readonly #p: CryptoProvider;

  constructor(token: typeof STAGE, suite: SuiteInfo, secret: Uint8Array, p: CryptoProvider) {
    checkToken(token);
    this.suite = suite;
    this.secret = secret;
    this.#p = p;
  }

  /** client_application_traffic_secret_0 = Derive-Secret(., "c ap traffic", ClientHello...server Finished). */
  clientApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'c ap traffic', serverFinishedHash, this.#p);
  }

  /** server_application_traffic_secret_0 = Derive-Secret(., "s ap traffic", ClientHello...server Finished). */
  serverApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 's ap traffic', serverFinishedHash, this.#p);
  }

  /** exporter_master_secret = Derive-Secret(., "exp master", ClientHello...server Finished). */
  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'exp master', serverFinishedHash, this.#p);
  }

  /** resumption_master_secret = Derive-Secret(., "res master", ClientHello...client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.suite.hash, this.secret, 'res master', clientFinishedHash, this.#p);
  }

  toJSON(): { stage: string; suite: string } {
    return { stage: 'MasterSecret', suite: this.suite.name };
  }
}

/**
 * Traffic key and IV for one direction and epoch (RFC 8446 §7.3):
 * key = HKDF-Expand-Label(Secret, "key", "", key_length),
 * iv = HKDF-Expand-Label(Secret, "iv", "", iv_length).
 */
export function trafficKeys(suite: SuiteInfo, trafficSecret: Uint8Array, p: CryptoProvider): { key: Uint8Array; iv: Uint8Array } {
  checkSuite(suite);
  return {
    key: hkdfExpandLabel(suite.hash, trafficSecret, 'key', EMPTY, suite.keyLen, p),
    iv: hkdfExpandLabel(suite.hash, trafficSecret, 'iv', EMPTY, suite.ivLen, p),
  };
}

/**
 * application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N,
 * "traffic upd", "", Hash.length) (RFC 8446 §7.2, KeyUpdate).
 */
export function nextApplicationTrafficSecret(suite: SuiteInfo, secret: Uint8Array, p: CryptoProvider): Uint8Array {
  checkSuite(suite);
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', EMPTY, suite.hashLen, p);
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446 §4.4.4). */
export function finishedKey(suite: SuiteInfo, baseKey: Uint8Array, p: CryptoProvider): Uint8Array {
  checkSuite(suite);
  return hkdfExpandLabel(suite.hash, baseKey, 'finished', EMPTY, suite.hashLen, p);
}

/**
 * verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context,
 * Certificate*, CertificateVerify*)) (RFC 8446 §4.4.4). The caller passes the
 * transcript hash up to (not including) the Finished being made or checked.
 */
export function finishedVerifyData(suite: SuiteInfo, baseKey: Uint8Array, transcriptHash: Uint8Array, p: CryptoProvider): Uint8Array {
  checkSuite(suite);
  checkBytes('transcriptHash', transcriptHash);
  checkLength('transcriptHash', transcriptHash, suite.hashLen);
  return p.hmac(suite.hash, finishedKey(suite, baseKey, p), transcriptHash);
}

/**
 * PSK binder (RFC 8446 §4.2.11.2): computed like a Finished, with the binder
 * key as BaseKey, over Transcript-Hash(Truncate(ClientHello1)) — the
 * ClientHello up to and excluding the binders list (plus, after a
 * HelloRetryRequest, the earlier messages).
 */
export function computeBinder(suite: SuiteInfo, binderKey: Uint8Array, partialClientHelloHash: Uint8Array, p: CryptoProvider): Uint8Array {
  return finishedVerifyData(suite, binderKey, partialClientHelloHash, p);
}

/**
 * The PSK a NewSessionTicket stands for (RFC 8446 §4.6.1):
 * HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).
 */
export function resumptionPsk(
  suite: SuiteInfo,
  resumptionMasterSecret: Uint8Array,
  ticketNonce: Uint8Array,
  p: CryptoProvider,
): Uint8Array {
  checkSuite(suite);
  return hkdfExpandLabel(suite.hash, resumptionMasterSecret, 'resumption', ticketNonce, suite.hashLen, p);
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= TWO_32) throw new RangeError(`${name} must be a uint32, got ${v}`);
}

/**
 * obfuscated_ticket_age = (ticket age in ms + ticket_age_add) mod 2^32
 * (RFC 8446 §4.2.11.1).
 */
export function obfuscatedTicketAge(ageMs: number, ticketAgeAdd: number): number {
  if (!Number.isSafeInteger(ageMs) || ageMs < 0) throw new RangeError(`ageMs must be a non-negative integer, got ${ageMs}`);
  checkU32('ticketAgeAdd', ticketAgeAdd);
  return ((ageMs % TWO_32) + ticketAgeAdd) % TWO_32;
}

/** The ticket age the client claims, recovered by the server: (obfuscated - ticket_age_add) mod 2^32 (§4.2.11.1, §8.3). */
export function ticketAgeFromObfuscated(obfuscated: number, ticketAgeAdd: number): number {
  checkU32('obfuscated', obfuscated);
  checkU32('ticketAgeAdd', ticketAgeAdd);
  return (obfuscated - ticketAgeAdd + TWO_32) % TWO_32;
}

/**
 * TLS-Exporter (RFC 8446 §7.5):
 *
 * ```
 * TLS-Exporter(label, context_value, key_length) =
 *     HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length)
 * ```
 *
 * In TLS 1.3 no context and an empty context give the same output, so
 * `undefined` is hashed as the empty string.
 */
export function exportKeyingMaterial(
  suite: SuiteInfo,
  exporterMasterSecret: Uint8Array,
  label: string,
  context: Uint8Array | undefined,
  length: number,
  p: CryptoProvider,
): Uint8Array {
  checkSuite(suite);
  if (context !== undefined) checkBytes('context', context);
  const secret = deriveSecret(suite.hash, exporterMasterSecret, label, emptyHash(suite, p), p);
  const contextHash = p.hash(suite.hash, context ?? EMPTY);
  return hkdfExpandLabel(suite.hash, secret, 'exporter', contextHash, length, p);
}
