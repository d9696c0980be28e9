/**
 * Record protection (RFC 8446 §5.2–§5.4) for one key epoch and one direction.
 *
 *   struct {
 *       opaque content[TLSPlaintext.length];
 *       ContentType type;
 *       uint8 zeros[length_of_padding];
 *   } TLSInnerPlaintext;
 *
 * The inner plaintext is sealed with the suite's AEAD; the nonce is the
 * write IV XOR the 64-bit record sequence number left-padded to the IV length
 * (§5.3), and the additional data is the 5-byte TLSCiphertext header (§5.2).
 * A new RecordProtector / RecordDeprotector is made for every key change, so
 * the sequence number restarts at 0 with each epoch.
 */

import type { CryptoProvider } from '../crypto/provider.js';
import type { SuiteInfo } from '../crypto/suites.js';
import { TlsError } from '../wire/alerts.js';
import { type ByteParts, partsLength, partsOf } from '../wire/bytes.js';
import type { AlertingReason, AlertOf } from '../wire/refusals.js';
import { ContentType, TLS12 } from '../wire/types.js';
import type { ChunkList } from './chunks.js';
import { MAX_CIPHERTEXT_LENGTH, MAX_PLAINTEXT_LENGTH, RECORD_HEADER_LENGTH, writeRecordHeader } from './framing.js';

/** The write key and IV of one traffic secret (RFC 8446 §7.3), already derived. */
export interface TrafficKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

/** The last usable sequence number; a record after it would need the counter to wrap (§5.3). */
export const MAX_SEQUENCE_NUMBER = 2n ** 64n - 1n;

/** Largest TLSInnerPlaintext: 2^14 bytes of content and padding plus the type byte (§5.4). */
export const MAX_INNER_PLAINTEXT_LENGTH = MAX_PLAINTEXT_LENGTH + 1;

export interface ProtectionOptions {
  /**
   * Sequence number of the first record (default 0, as §5.3 requires after
   * every key change). Only useful to exercise the 2^64 limit in tests.
   */
  initialSequence?: bigint;
}

/**
 * Per-record nonce (RFC 8446 §5.3): the 64-bit sequence number in network
 * order, left-padded with zeros to the IV length, XORed with the static IV.
 */
export function recordNonce(iv: Uint8Array, sequence: bigint): Uint8Array {
  if (sequence < 0n || sequence > MAX_SEQUENCE_NUMBER) throw new RangeError(`sequence number ${sequence} is outside 0..2^64-1`);
  if (iv.length < 8) throw new RangeError(`the IV must be at least 8 bytes, got ${iv.length}`);
  const nonce = iv.slice();
  const n = nonce.length;
  // XOR the sequence number in as two 32-bit halves: no DataView, and one BigInt operation fewer per record.
  const lo = Number(sequence & 0xffffffffn);
  const hi = sequence > 0xffffffffn ? Number(sequence >> 32n) : 0;
  for (let i = 0; i < 4; i++) {
    nonce[n - 1 - i] = (nonce[n - 1 - i] as number) ^ ((lo >>> (8 * i)) & 0xff);
    nonce[n - 5 - i] = (nonce[n - 5 - i] as number) ^ ((hi >>> (8 * i)) & 0xff);
  }
  return nonce;
}

function checkKeys(suite: SuiteInfo, keys: TrafficKeys): void {
  if (keys.key.length !== suite.keyLen) {
    throw new RangeError(`${suite.name}: the record key must be ${suite.keyLen} bytes, got ${keys.key.length}`);
  }
  if (keys.iv.length !== suite.ivLen) {
    throw new RangeError(`${suite.name}: the record IV must be ${suite.ivLen} bytes, got ${keys.iv.length}`);
  }
}

function checkInitialSequence(seq: bigint): bigint {
  if (seq < 0n || seq > MAX_SEQUENCE_NUMBER + 1n) throw new RangeError(`initial sequence number ${seq} is outside 0..2^64`);
  return seq;
}

/** The one-byte TLSInnerPlaintext trailers of unpadded records, by content type (shared, never written). */
const TYPE_BYTES: readonly Uint8Array[] = Array.from({ length: 256 }, (_, t) => Uint8Array.of(t));

/** The type byte and `paddingLength` zeros that follow the content in a TLSInnerPlaintext (§5.4). */
function typeAndPadding(contentType: number, paddingLength: number): Uint8Array {
  const trailer = new Uint8Array(1 + paddingLength);
  trailer[0] = contentType;
  return trailer;
}

/** The key, IV and sequence number of one direction's epoch (RFC 8446 §5.3). */
abstract class EpochState {
  protected readonly key: Uint8Array;
  protected readonly iv: Uint8Array;
  protected readonly provider: CryptoProvider;
  /**
   * The sequence number as two 32-bit halves (no BigInt arithmetic per record);
   * `seqHi` reaches 2^32 once the number has passed 2^64 - 1 (exhausted).
   */
  private seqHi: number;
  private seqLo: number;

  constructor(
    readonly suite: SuiteInfo,
    keys: TrafficKeys,
    provider: CryptoProvider,
    options: ProtectionOptions = {},
  ) {
    checkKeys(suite, keys);
    this.key = keys.key.slice();
    this.iv = keys.iv.slice();
    this.provider = provider;
    const seq = checkInitialSequence(options.initialSequence ?? 0n);
    this.seqHi = Number(seq >> 32n);
    this.seqLo = Number(seq & 0xffffffffn);
  }

  /** Sequence number of the next record (sealed or expected). */
  get sequence(): bigint {
    return (BigInt(this.seqHi) << 32n) | BigInt(this.seqLo);
  }

  /** Whether the sequence number has passed 2^64 - 1: no record may use it (§5.3). */
  protected get exhausted(): boolean {
    return this.seqHi > 0xffffffff;
  }

  /** The nonce of the next record: the IV XOR the sequence number (§5.3, as recordNonce). */
  protected nextNonce(): Uint8Array {
    const nonce = this.iv.slice();
    const n = nonce.length;
    for (let i = 0; i < 4; i++) {
      nonce[n - 1 - i] = (nonce[n - 1 - i] as number) ^ ((this.seqLo >>> (8 * i)) & 0xff);
      nonce[n - 5 - i] = (nonce[n - 5 - i] as number) ^ ((this.seqHi >>> (8 * i)) & 0xff);
    }
    return nonce;
  }

  /** Move to the next sequence number. */
  protected advance(): void {
    if (this.seqLo === 0xffffffff) {
      this.seqLo = 0;
      this.seqHi += 1;
    } else {
      this.seqLo += 1;
    }
  }
}

/** Seals records for one write epoch. */
export class RecordProtector extends EpochState {
  /**
   * Seal one record and return it whole (header and encrypted_record).
   *
   * Throws RangeError for a caller mistake (content type 0, content plus
   * padding above 2^14) and TlsError `internal_error` (reason
   * SequenceNumberExhausted) when the sequence number would wrap: the
   * connection must be rekeyed or closed before that (§5.3).
   */
  protect(contentType: number, content: Uint8Array, paddingLength = 0): Uint8Array {
    const out = new Uint8Array(this.protectedLength(content.length, paddingLength));
    this.protectInto(out, 0, contentType, content, paddingLength);
    return out;
  }

  /**
   * {@link protect}, appending the record to `chunks` as its header and the
   * pieces the provider's `aeadSealPieces` gives back (the ciphertext is not
   * copied again); only for a provider that has it (see `canSealPieces`).
   * Same refusals as `protect`.
   */
  protectPieces(chunks: ChunkList, contentType: number, content: ByteParts, paddingLength = 0): void {
    const seal = this.provider.aeadSealPieces;
    if (seal === undefined) throw new TypeError(`the ${this.provider.name} provider cannot seal into pieces`);
    const contentLength = partsLength(content);
    this.checkRecord(contentType, contentLength, paddingLength);
    const header = chunks.reserve(RECORD_HEADER_LENGTH);
    writeRecordHeader(header, ContentType.application_data, TLS12, contentLength + 1 + paddingLength + this.suite.tagLen);
    const trailer = paddingLength === 0 ? (TYPE_BYTES[contentType] as Uint8Array) : typeAndPadding(contentType, paddingLength);
    const parts = content instanceof Uint8Array ? [content, trailer] : [...content, trailer];
    for (const piece of seal(this.suite.aead, this.key, this.nextNonce(), header, parts)) chunks.add(piece);
    this.advance();
  }

  /** Whether this epoch's provider seals into pieces (`protectPieces`). */
  get canSealPieces(): boolean {
    return this.provider.aeadSealPieces !== undefined;
  }

  /** The refusals every record is checked against before it is sealed (see `protect`). */
  private checkRecord(contentType: number, contentLength: number, paddingLength: number): void {
    if (!Number.isInteger(contentType) || contentType < 1 || contentType > 255) {
      throw new RangeError(`inner content type must be 1..255, got ${contentType}`);
    }
    if (!Number.isInteger(paddingLength) || paddingLength < 0)
      throw new RangeError(`padding length must be a non-negative integer, got ${paddingLength}`);
    if (contentLength + paddingLength > MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(
        `content (${contentLength}) plus padding (${paddingLength}) exceeds ${MAX_PLAINTEXT_LENGTH} bytes (RFC 8446 §5.4)`,
      );
    }
    if (this.exhausted) {
      throw new TlsError(
        'internal_error',
        'SequenceNumberExhausted',
        'the write sequence number would wrap; the keys must be updated first',
      );
    }
  }

  /** Bytes a record of `contentLength` content and `paddingLength` padding takes on the wire, header included. */
  protectedLength(contentLength: number, paddingLength = 0): number {
    return RECORD_HEADER_LENGTH + contentLength + 1 + paddingLength + this.suite.tagLen;
  }

  /**
   * {@link protect}, writing the record into `out` at `offset` (it must have
   * `protectedLength` bytes there): a flight of records is built in one array.
   * `content` may be given in parts (a record cut across several writes): they
   * are sealed in order, as one content. Returns the offset after the record.
   */
  protectInto(out: Uint8Array, offset: number, contentType: number, content: ByteParts, paddingLength = 0): number {
    const contentLength = partsLength(content);
    this.checkRecord(contentType, contentLength, paddingLength);
    const length = this.protectedLength(contentLength, paddingLength);
    if (offset < 0 || offset + length > out.length) throw new RangeError(`the record needs ${length} bytes at offset ${offset}`);
    const innerLength = contentLength + 1 + paddingLength;
    const header = out.subarray(offset, offset + RECORD_HEADER_LENGTH);
    writeRecordHeader(header, ContentType.application_data, TLS12, innerLength + this.suite.tagLen);
    const nonce = this.nextNonce();
    if (this.provider.aeadSealInto !== undefined) {
      // The content is sealed where it lies, the type byte and padding after it: no TLSInnerPlaintext is built.
      const trailer = paddingLength === 0 ? (TYPE_BYTES[contentType] as Uint8Array) : typeAndPadding(contentType, paddingLength);
      this.provider.aeadSealInto(
        this.suite.aead,
        this.key,
        nonce,
        header,
        content instanceof Uint8Array ? [content, trailer] : [...content, trailer],
        out,
        offset + RECORD_HEADER_LENGTH,
      );
    } else {
      const inner = new Uint8Array(innerLength); // padding bytes are already zero
      let at = 0;
      for (const part of partsOf(content)) {
        inner.set(part, at);
        at += part.length;
      }
      inner[contentLength] = contentType;
      out.set(this.provider.aeadSeal(this.suite.aead, this.key, nonce, header, inner), offset + RECORD_HEADER_LENGTH);
    }
    this.advance();
    return offset + length;
  }
}

/** A record opened successfully, or why it was not. */
export type Unprotected = { ok: true; contentType: number; content: Uint8Array; paddingLength: number } | { ok: false; error: TlsError };

/** Opens records for one read epoch. */
export class RecordDeprotector extends EpochState {
  /**
   * Open one TLSCiphertext given its received header (the AAD) and
   * encrypted_record. The sequence number advances only when the record
   * authenticates, so a record that fails (for example skipped early data)
   * does not consume a number.
   *
   * Failures, in the order they are checked:
   * - outer type not application_data → unexpected_message;
   * - encrypted_record above 2^14 + 256 → record_overflow (§5.2);
   * - sequence number exhausted → internal_error;
   * - authentication failure → bad_record_mac (§5.2);
   * - TLSInnerPlaintext above 2^14 + 1 → record_overflow (§5.2, §5.4);
   * - no non-zero byte (no content type) → unexpected_message (§5.4).
   */
  unprotect(header: Uint8Array, encryptedRecord: Uint8Array): Unprotected {
    if (header[0] !== ContentType.application_data) {
      return fail('unexpected_message', 'UnprotectedRecord', `expected a protected record (opaque type 23), got type ${header[0]}`);
    }
    if (encryptedRecord.length > MAX_CIPHERTEXT_LENGTH) {
      return fail(
        'record_overflow',
        'RecordOverflow',
        `received a protected record of ${encryptedRecord.length} bytes; the limit is ${MAX_CIPHERTEXT_LENGTH}`,
      );
    }
    if (this.exhausted) {
      return fail('internal_error', 'SequenceNumberExhausted', 'the read sequence number would wrap; the peer did not update its keys');
    }
    const inner = this.provider.aeadOpen(this.suite.aead, this.key, this.nextNonce(), header, encryptedRecord);
    if (inner === undefined) {
      return fail('bad_record_mac', 'BadRecordMac', `a protected record failed authentication (sequence number ${this.sequence})`);
    }
    this.advance();
    if (inner.length > MAX_INNER_PLAINTEXT_LENGTH) {
      return fail(
        'record_overflow',
        'RecordOverflow',
        `decrypted a record of ${inner.length - 1} content and padding bytes; the limit is ${MAX_PLAINTEXT_LENGTH}`,
      );
    }
    // §5.4: the content type is the last non-zero byte; everything after it is padding.
    let i = inner.length - 1;
    while (i >= 0 && inner[i] === 0) i--;
    if (i < 0) {
      return fail('unexpected_message', 'NoInnerContentType', 'a protected record decrypted to all zeros (no inner content type)');
    }
    return { ok: true, contentType: inner[i] as number, content: inner.subarray(0, i), paddingLength: inner.length - 1 - i };
  }
}

function fail<R extends AlertingReason>(alert: AlertOf<R>, reason: R, message: string): Unprotected {
  return { ok: false, error: new TlsError<R>(alert as never, reason, message) };
}
