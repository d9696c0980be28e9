/**
 * Record framing (RFC 8446 §5.1): cut a byte stream into TLSPlaintext /
 * TLSCiphertext records. Sans-IO: bytes come in through `push`, complete
 * records come out of `next`.
 *
 *   struct {
 *       ContentType type;                  // 1 byte
 *       ProtocolVersion legacy_record_version; // 2 bytes
 *       uint16 length;
 *       opaque fragment[length];
 *   } TLSPlaintext;                        // TLSCiphertext has the same outer shape
 */
import { TlsError } from '../wire/alerts.js';
import { ContentType } from '../wire/types.js';

/** Size of the record header: type, legacy_record_version, length. */
export const RECORD_HEADER_LENGTH = 5;
/** Largest TLSPlaintext.fragment / TLSInnerPlaintext content (RFC 8446 §5.1). */
export const MAX_PLAINTEXT_LENGTH = 2 ** 14;
/** Largest TLSCiphertext.encrypted_record: 2^14 + 1 content type byte + 255 AEAD expansion (§5.2). */
export const MAX_CIPHERTEXT_LENGTH = 2 ** 14 + 256;

/** One complete record as it was read off the wire. */
export interface TlsRecord {
  /** TLSPlaintext.type or TLSCiphertext.opaque_type. */
  readonly contentType: number;
  /** legacy_record_version as received (ignored beyond its major byte, §5.1). */
  readonly legacyVersion: number;
  /** fragment / encrypted_record. */
  readonly fragment: Uint8Array;
  /** The 5 header bytes exactly as received (the AEAD additional data of a TLSCiphertext, §5.2). */
  readonly header: Uint8Array;
}

export type ReadResult = { ok: true; record: TlsRecord } | { ok: false; error: TlsError };

export interface RecordReaderOptions {
  /**
   * Largest fragment length accepted for a record of this content type. Asked
   * as soon as the header is complete, so an oversized record is refused
   * before its body is waited for. Values above MAX_CIPHERTEXT_LENGTH are
   * capped. Default: MAX_CIPHERTEXT_LENGTH for every type.
   */
  maxFragmentLength?: (contentType: number) => number;
}

const KNOWN_CONTENT_TYPES: ReadonlySet<number> = new Set([
  ContentType.change_cipher_spec,
  ContentType.alert,
  ContentType.handshake,
  ContentType.application_data,
]);

/** Build a record header. */
export function recordHeader(contentType: number, legacyVersion: number, length: number): Uint8Array {
  const header = new Uint8Array(RECORD_HEADER_LENGTH);
  writeRecordHeader(header, contentType, legacyVersion, length);
  return header;
}

/** Write a record header into the first 5 bytes of `out`. */
export function writeRecordHeader(out: Uint8Array, contentType: number, legacyVersion: number, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new RangeError(`record length ${length} does not fit in a uint16`);
  }
  out[0] = contentType;
  out[1] = legacyVersion >> 8;
  out[2] = legacyVersion & 0xff;
  out[3] = length >> 8;
  out[4] = length & 0xff;
}

/**
 * Check a record header (RFC 8446 §5.1), returning the error to raise or
 * `undefined` when the header is acceptable.
 *
 * - unknown content type → unexpected_message;
 * - legacy_record_version whose major byte is not 3 → protocol_version (the
 *   minor byte is ignored as §5.1 asks; a non-3 major byte is not TLS at all);
 * - length above the limit → record_overflow;
 * - zero-length Handshake or Alert fragment → unexpected_message (§5.1:
 *   "Zero-length fragments of Handshake or Alert types MUST NOT be sent").
 */
export function checkRecordHeader(contentType: number, legacyVersion: number, length: number, maxLength: number): TlsError | undefined {
  if (!KNOWN_CONTENT_TYPES.has(contentType)) {
    return new TlsError('unexpected_message', 'UnknownContentType', `received a record of unknown content type ${contentType}`);
  }
  if (legacyVersion >> 8 !== 0x03) {
    return new TlsError(
      'protocol_version',
      'UnsupportedRecordVersion',
      `received a record with legacy_record_version 0x${legacyVersion.toString(16).padStart(4, '0')}, not 0x03XX`,
    );
  }
  if (length > maxLength) {
    return new TlsError(
      'record_overflow',
      'RecordOverflow',
      `received a record of ${length} bytes (content type ${contentType}); the limit is ${maxLength}`,
    );
  }
  if (length === 0 && (contentType === ContentType.handshake || contentType === ContentType.alert)) {
    const what = contentType === ContentType.handshake ? 'handshake' : 'alert';
    return new TlsError('unexpected_message', 'EmptyFragment', `received a zero-length ${what} record`);
  }
  return undefined;
}

/**
 * Accepts arbitrary chunks of a byte stream and yields complete records.
 * After the first error the reader is dead: every further `next()` returns
 * the same error.
 */
export class RecordReader {
  private chunks: Uint8Array[] = [];
  /** Offset into chunks[0] of the first unread byte. */
  private head = 0;
  private total = 0;
  private failure: TlsError | undefined;
  private readonly maxFragmentLength: (contentType: number) => number;

  constructor(options: RecordReaderOptions = {}) {
    this.maxFragmentLength = options.maxFragmentLength ?? (() => MAX_CIPHERTEXT_LENGTH);
  }

  /** Number of bytes received and not yet returned in a record. */
  get buffered(): number {
    return this.total;
  }

  /**
   * Append bytes from the stream: copied, so the caller may reuse its buffer,
   * unless `owned` says the caller hands them over and never writes them again.
   */
  push(chunk: Uint8Array, owned = false): void {
    if (chunk.length === 0 || this.failure) return;
    this.chunks.push(owned ? chunk : chunk.slice());
    this.total += chunk.length;
  }

  /** The next complete record, an error, or `undefined` when more bytes are needed. */
  next(): ReadResult | undefined {
    if (this.failure) return { ok: false, error: this.failure };
    if (this.total < RECORD_HEADER_LENGTH) return undefined;
    const first = this.chunks[0] as Uint8Array;
    // The header is read in place when the first chunk holds it (nearly always), else copied out.
    const inPlace = first.length - this.head >= RECORD_HEADER_LENGTH;
    const header = inPlace ? first : this.peek(RECORD_HEADER_LENGTH);
    const at = inPlace ? this.head : 0;
    const contentType = header[at] as number;
    const legacyVersion = ((header[at + 1] as number) << 8) | (header[at + 2] as number);
    const length = ((header[at + 3] as number) << 8) | (header[at + 4] as number);
    const limit = Math.min(this.maxFragmentLength(contentType), MAX_CIPHERTEXT_LENGTH);
    const error = checkRecordHeader(contentType, legacyVersion, length, limit);
    if (error) {
      this.failure = error;
      this.chunks = [];
      this.total = 0;
      this.head = 0;
      return { ok: false, error };
    }
    if (this.total < RECORD_HEADER_LENGTH + length) return undefined;
    const bytes = this.take(RECORD_HEADER_LENGTH + length);
    return {
      ok: true,
      record: {
        contentType,
        legacyVersion,
        header: bytes.subarray(0, RECORD_HEADER_LENGTH),
        fragment: bytes.subarray(RECORD_HEADER_LENGTH),
      },
    };
  }

  /** Copy of the first n buffered bytes (n <= total), without consuming them. */
  private peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.head;
    for (const c of this.chunks) {
      const part = c.subarray(offset, offset + (n - filled));
      out.set(part, filled);
      filled += part.length;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  /**
   * Remove and return the first n buffered bytes (n <= total). A record that
   * lies within one received chunk is returned as a view of it (the chunks are
   * this reader's own copies, never written again); one split across chunks is
   * joined into a fresh array.
   */
  private take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.total -= n;
      return out;
    }
    // Every byte is written below: taken uninitialised rather than zero-filled.
    const buffer = Buffer.allocUnsafe(n);
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset, n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0] as Uint8Array;
      const available = c.length - this.head;
      const want = n - filled;
      if (available <= want) {
        out.set(c.subarray(this.head), filled);
        filled += available;
        this.chunks.shift();
        this.head = 0;
      } else {
        out.set(c.subarray(this.head, this.head + want), filled);
        filled += want;
        this.head += want;
      }
    }
    this.total -= n;
    return out;
  }
}
