/**
 * The record layer the engine talks to (RFC 8446 §5): framing, protection,
 * handshake reassembly and key epochs, for both directions of one connection.
 *
 * Sans-IO: the engine pushes received bytes with `receive`, pulls items with
 * `next` (one handshake message, one alert, one application_data fragment, ...)
 * and gets bytes to send back from the `write*` methods.
 *
 * The layer knows nothing about handshake state. It only enforces what §5
 * says about records: which content types may appear before and after read
 * keys are installed, that handshake messages do not span key changes nor
 * interleave with other record types, sizes, padding and authentication.
 */
import type { CryptoProvider } from '../crypto/provider.js';
import type { SuiteInfo } from '../crypto/suites.js';
import { TlsError } from '../wire/alerts.js';
import { type ByteParts, partsLength, partsOf } from '../wire/bytes.js';
import { handshakeMessageLimit, MAX_CLIENT_HELLO_MESSAGE } from '../wire/limits.js';
import { ContentType, TLS12 } from '../wire/types.js';
import { ChunkList } from './chunks.js';
import {
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  RECORD_HEADER_LENGTH,
  RecordReader,
  type TlsRecord,
  writeRecordHeader,
} from './framing.js';
import { RecordDeprotector, RecordProtector, type TrafficKeys } from './protection.js';

/** What `next()` hands to the engine. */
export type RecordItem =
  | { kind: 'handshake' /** one complete handshake message with its 4-byte header */; raw: Uint8Array; encrypted: boolean }
  | { kind: 'alert'; level: number; description: number; encrypted: boolean }
  | { kind: 'application_data'; data: Uint8Array }
  | { kind: 'change_cipher_spec'; encrypted: false }
  | { kind: 'early_data_skipped' /** length of the dropped encrypted_record */; bytes: number }
  | { kind: 'error'; error: TlsError };

/** Padding for protected records: a fixed length, or a function of the content type and content length. */
export type PaddingPolicy = number | ((contentType: number, contentLength: number) => number);

export interface RecordLayerOptions {
  /** Which side this layer belongs to; decides the default `initialRecordVersion`. */
  role: 'client' | 'server';
  /** The connection's crypto provider: every record is sealed and opened through it. */
  provider: CryptoProvider;
  /**
   * Largest handshake message accepted, header included (default 262144:
   * 256 KiB, room for any realistic Certificate). Each type is further held
   * to the largest length its fields allow (wire/limits.ts: a ClientHello at
   * most 131400 bytes), and a plaintext message (only hellos are sent in
   * plaintext) to the largest legal ClientHello, so a peer without keys
   * cannot make this layer buffer more than that. A larger announced length
   * is refused with decode_error (§6.2) as soon as the 4-byte header has
   * arrived, before the body is buffered.
   */
  maxHandshakeMessage?: number;
  /**
   * Most consecutive empty application_data records accepted (default 32);
   * one more is unexpected_message. §5.1 permits zero-length application
   * data fragments, but each costs a decryption and brings nothing.
   */
  maxEmptyRecords?: number;
  /**
   * Most records one handshake message may be split across (default 256);
   * one more is unexpected_message. Honest peers fill records (a ClientHello
   * of the largest legal size needs 9 records of 2^14 bytes).
   */
  maxHandshakeRecords?: number;
  /**
   * Zero padding added to every protected record (§5.4), clamped so content
   * plus padding stays within 2^14. Plaintext records are never padded.
   * Default: no padding.
   */
  padding?: PaddingPolicy;
  /**
   * legacy_record_version of the records carrying the first handshake message
   * this layer writes, when it is written in plaintext. RFC 8446 §5.1 allows
   * 0x0301 for an initial ClientHello (for compatibility with old servers) and
   * OpenSSL does so. Default: 0x0301 for a client, 0x0303 for a server. Every
   * other record is written with 0x0303.
   */
  initialRecordVersion?: number;
  /** Largest fragment written per record, 1..2^14 (default 2^14). */
  maxFragment?: number;
}

/** Default `maxHandshakeMessage`: 256 KiB, header included. */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE = 262144;
/** Default `maxEmptyRecords` (as BoringSSL and OpenSSL). */
export const DEFAULT_MAX_EMPTY_RECORDS = 32;
/** Default `maxHandshakeRecords`. */
export const DEFAULT_MAX_HANDSHAKE_RECORDS = 256;
/** Default limit for skipped early data (`skipEarlyData`). */
export const DEFAULT_EARLY_DATA_SKIP_LIMIT = 16384;

const HANDSHAKE_HEADER_LENGTH = 4;
/** The empty handshake buffer every layer starts from and returns to (never written). */
const EMPTY = new Uint8Array(0);

function positiveLimit(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  return v;
}

/**
 * `data` cut into fragments of at most `max` bytes, every one full but the
 * last, in order; a fragment that spans parts of `data` is a list of views of
 * them (nothing is copied). Empty data gives one empty fragment.
 */
export function cutFragments(data: ByteParts, max: number): ByteParts[] {
  const fragments: ByteParts[] = [];
  if (data instanceof Uint8Array) {
    let offset = 0;
    do {
      const fragment = data.subarray(offset, offset + max);
      offset += fragment.length;
      fragments.push(fragment);
    } while (offset < data.length);
    return fragments;
  }
  let pieces: Uint8Array[] = [];
  let filled = 0;
  for (const part of data) {
    let offset = 0;
    while (offset < part.length) {
      const piece = part.subarray(offset, offset + (max - filled));
      offset += piece.length;
      pieces.push(piece);
      filled += piece.length;
      if (filled === max) {
        fragments.push(pieces.length === 1 ? (pieces[0] as Uint8Array) : pieces);
        pieces = [];
        filled = 0;
      }
    }
  }
  if (filled > 0 || fragments.length === 0) fragments.push(pieces.length === 1 ? (pieces[0] as Uint8Array) : pieces);
  return fragments;
}

export class RecordLayer {
  readonly role: 'client' | 'server';
  private readonly provider: CryptoProvider;
  private readonly maxHandshakeMessage: number;
  private readonly maxEmptyRecords: number;
  private readonly maxHandshakeRecords: number;
  private readonly padding: PaddingPolicy | undefined;
  private readonly initialRecordVersion: number;
  private readonly maxFragment: number;

  private readonly reader: RecordReader;
  private failure: TlsError | undefined;

  private readProtection: RecordDeprotector | undefined;
  private readEpochName: string | undefined;
  private writeProtection: RecordProtector | undefined;
  private writeEpochName: string | undefined;

  /** Handshake bytes received and not yet returned; hs[hsOffset..] is pending. */
  private hs: Uint8Array = EMPTY;
  private hsOffset = 0;
  private hsEncrypted = false;
  /** Records that carried part of the handshake message being reassembled. */
  private hsRecords = 0;
  /** Empty application_data records received in a row. */
  private emptyRecords = 0;

  private skipping = false;
  private skipLimit = 0;
  private skipped = 0;

  private firstHandshakeWritten = false;

  /**
   * Accept plaintext alert records after read keys are set. The engine turns
   * this on during the handshake only: a peer that fails before it has keys
   * (a client rejecting the ServerHello) can only alert in plaintext.
   */
  acceptPlaintextAlerts = false;

  constructor(options: RecordLayerOptions) {
    this.role = options.role;
    this.provider = options.provider;
    this.maxHandshakeMessage = options.maxHandshakeMessage ?? DEFAULT_MAX_HANDSHAKE_MESSAGE;
    if (!Number.isInteger(this.maxHandshakeMessage) || this.maxHandshakeMessage < HANDSHAKE_HEADER_LENGTH) {
      throw new RangeError(`maxHandshakeMessage must be an integer of at least 4, got ${options.maxHandshakeMessage}`);
    }
    this.maxEmptyRecords = positiveLimit('maxEmptyRecords', options.maxEmptyRecords, DEFAULT_MAX_EMPTY_RECORDS, 0);
    this.maxHandshakeRecords = positiveLimit('maxHandshakeRecords', options.maxHandshakeRecords, DEFAULT_MAX_HANDSHAKE_RECORDS, 1);
    this.padding = options.padding;
    this.initialRecordVersion = options.initialRecordVersion ?? (options.role === 'client' ? 0x0301 : TLS12);
    if (!Number.isInteger(this.initialRecordVersion) || this.initialRecordVersion < 0 || this.initialRecordVersion > 0xffff) {
      throw new RangeError(`initialRecordVersion must be a uint16, got ${options.initialRecordVersion}`);
    }
    this.maxFragment = options.maxFragment ?? MAX_PLAINTEXT_LENGTH;
    if (!Number.isInteger(this.maxFragment) || this.maxFragment < 1 || this.maxFragment > MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(`maxFragment must be 1..${MAX_PLAINTEXT_LENGTH}, got ${options.maxFragment}`);
    }
    this.reader = new RecordReader({ maxFragmentLength: (type) => this.maxFragmentFor(type) });
  }

  // ------------------------------------------------------------ state

  /** The name given to the current read keys, `undefined` while reading plaintext. */
  get readEpoch(): string | undefined {
    return this.readEpochName;
  }

  /** The name given to the current write keys, `undefined` while writing plaintext. */
  get writeEpoch(): string | undefined {
    return this.writeEpochName;
  }

  /** Sequence number of the next record read under the current keys. */
  get readSequence(): bigint | undefined {
    return this.readProtection?.sequence;
  }

  /** Sequence number of the next record written under the current keys. */
  get writeSequence(): bigint | undefined {
    return this.writeProtection?.sequence;
  }

  get isSkippingEarlyData(): boolean {
    return this.skipping;
  }

  /** The error that killed the layer, if any. */
  get error(): TlsError | undefined {
    return this.failure;
  }

  // ------------------------------------------------------------ key changes

  /**
   * Install new read keys (a new epoch; the read sequence number restarts at 0).
   * Any handshake bytes received and not yet returned by `next()` were sent
   * under the old keys, so they span the key change: the next `next()`
   * returns unexpected_message (§5.1). The engine calls this after it has
   * consumed the last message of the old epoch.
   */
  setReadKeys(suite: SuiteInfo, keys: TrafficKeys, epoch: string): void {
    if (this.failure) return;
    const pending = this.hs.length - this.hsOffset;
    this.readProtection = new RecordDeprotector(suite, keys, this.provider);
    this.readEpochName = epoch;
    if (pending > 0) {
      this.die(
        new TlsError(
          'unexpected_message',
          'HandshakeSpansKeyChange',
          `${pending} handshake byte(s) received under the previous keys were still pending when the read keys changed to "${epoch}"`,
        ),
      );
    }
  }

  /** Install new write keys (a new epoch; the write sequence number restarts at 0). */
  setWriteKeys(suite: SuiteInfo, keys: TrafficKeys, epoch: string): void {
    this.writeProtection = new RecordProtector(suite, keys, this.provider);
    this.writeEpochName = epoch;
  }

  /**
   * Start skipping early data the server refused (RFC 8446 §4.2.10): records
   * that fail to authenticate under the current read keys, or
   * application_data records while no read keys are set, are dropped and
   * reported as `early_data_skipped`. Skipping stops for good at the first
   * record that authenticates, at the first plaintext handshake record (the
   * second ClientHello after a HelloRetryRequest), or on
   * `stopSkippingEarlyData()`. More than `limitBytes` of dropped
   * encrypted_record bytes in total is bad_record_mac.
   */
  skipEarlyData(limitBytes: number = DEFAULT_EARLY_DATA_SKIP_LIMIT): void {
    if (!Number.isInteger(limitBytes) || limitBytes < 0)
      throw new RangeError(`limitBytes must be a non-negative integer, got ${limitBytes}`);
    this.skipping = true;
    this.skipLimit = limitBytes;
    this.skipped = 0;
  }

  stopSkippingEarlyData(): void {
    this.skipping = false;
  }

  // ------------------------------------------------------------ read side

  /** Bytes received from the peer, in any chunking; `owned`: see RecordReader.push. */
  receive(chunk: Uint8Array, owned = false): void {
    if (this.failure) return;
    this.reader.push(chunk, owned);
  }

  /**
   * The next item, or `undefined` when more bytes are needed. After an
   * `error` item the layer is dead and returns that same error forever.
   */
  next(): RecordItem | undefined {
    for (;;) {
      if (this.failure) return { kind: 'error', error: this.failure };
      const message = this.nextHandshakeMessage();
      if (message) return message;
      if (this.failure) continue;
      const read = this.reader.next();
      if (read === undefined) return undefined;
      if (!read.ok) return this.die(read.error);
      const item = this.processRecord(read.record);
      if (item) return item;
      // A handshake fragment was buffered: loop to see whether a message is complete.
    }
  }

  private maxFragmentFor(contentType: number): number {
    if (contentType === ContentType.application_data && (this.readProtection || this.skipping)) return MAX_CIPHERTEXT_LENGTH;
    return MAX_PLAINTEXT_LENGTH;
  }

  private die(error: TlsError): RecordItem {
    this.failure = error;
    this.skipping = false;
    return { kind: 'error', error };
  }

  private get handshakePending(): boolean {
    return this.hs.length > this.hsOffset;
  }

  /** A record of another type while part of a handshake message is buffered (§5.1). */
  private interleaved(what: string): RecordItem {
    return this.die(
      new TlsError(
        'unexpected_message',
        'InterleavedHandshake',
        `received ${what} in the middle of a handshake message split across records`,
      ),
    );
  }

  private nextHandshakeMessage(): RecordItem | undefined {
    const available = this.hs.length - this.hsOffset;
    if (available < HANDSHAKE_HEADER_LENGTH) return undefined;
    const o = this.hsOffset;
    const bodyLength = ((this.hs[o + 1] as number) << 16) | ((this.hs[o + 2] as number) << 8) | (this.hs[o + 3] as number);
    const total = HANDSHAKE_HEADER_LENGTH + bodyLength;
    const limit = this.handshakeLimit(this.hs[o] as number);
    if (total > limit) {
      this.die(
        new TlsError(
          'decode_error',
          'HandshakeMessageTooLarge',
          `handshake message of type ${this.hs[o]} announces ${total} bytes; the limit is ${limit}`,
        ),
      );
      return undefined;
    }
    if (available < total) return undefined;
    const raw = this.hs.slice(o, o + total);
    this.hsOffset += total;
    if (this.hsOffset === this.hs.length) {
      this.hs = EMPTY;
      this.hsOffset = 0;
    }
    return { kind: 'handshake', raw, encrypted: this.hsEncrypted };
  }

  /** The most bytes a message of `type` may announce here (see `maxHandshakeMessage`). */
  private handshakeLimit(type: number): number {
    const limit = handshakeMessageLimit(type, this.maxHandshakeMessage);
    return this.hsEncrypted ? limit : Math.min(limit, MAX_CLIENT_HELLO_MESSAGE);
  }

  private appendHandshake(fragment: Uint8Array, encrypted: boolean): void {
    const pending = this.hs.subarray(this.hsOffset);
    const joined = new Uint8Array(pending.length + fragment.length);
    joined.set(pending, 0);
    joined.set(fragment, pending.length);
    this.hs = joined;
    this.hsOffset = 0;
    this.hsEncrypted = encrypted;
  }

  /** Handle one framed record; `undefined` means a handshake fragment was buffered. */
  private processRecord(record: TlsRecord): RecordItem | undefined {
    const { contentType, fragment } = record;

    if (contentType === ContentType.change_cipher_spec) {
      // Always plaintext, before and after read keys (§5, middlebox compatibility D.4).
      if (this.handshakePending) return this.interleaved('a change_cipher_spec record');
      if (fragment.length !== 1 || fragment[0] !== 0x01) {
        return this.die(
          new TlsError(
            'unexpected_message',
            'InvalidChangeCipherSpec',
            'a change_cipher_spec record must hold exactly the single byte 0x01',
          ),
        );
      }
      return { kind: 'change_cipher_spec', encrypted: false };
    }

    if (!this.readProtection) return this.processPlaintext(record);

    if (contentType === ContentType.alert && this.acceptPlaintextAlerts) {
      // A peer that failed before it could derive keys (e.g. on our ServerHello) alerts in plaintext.
      return this.processContent(contentType, fragment, false);
    }
    if (contentType !== ContentType.application_data) {
      const what = contentType === ContentType.handshake ? 'handshake' : 'alert';
      return this.die(
        new TlsError('unexpected_message', 'UnprotectedRecord', `received a plaintext ${what} record after the read keys were set`),
      );
    }
    const opened = this.readProtection.unprotect(record.header, fragment);
    if (!opened.ok) {
      if (this.skipping && opened.error.alert === 'bad_record_mac') return this.skipRecord(fragment.length);
      return this.die(opened.error);
    }
    this.skipping = false;
    return this.processContent(opened.contentType, opened.content, true);
  }

  private processPlaintext(record: TlsRecord): RecordItem | undefined {
    const { contentType, fragment } = record;
    if (contentType === ContentType.application_data) {
      if (this.skipping) return this.skipRecord(fragment.length);
      return this.die(
        new TlsError('unexpected_message', 'UnprotectedApplicationData', 'received application_data before any read keys were set'),
      );
    }
    if (contentType === ContentType.handshake) this.skipping = false; // the client's next flight: early data is over
    return this.processContent(contentType, fragment, false);
  }

  /** The content of a plaintext record, or the inner content of a protected one. */
  private processContent(contentType: number, content: Uint8Array, encrypted: boolean): RecordItem | undefined {
    if (content.length > 0) this.emptyRecords = 0;
    switch (contentType) {
      case ContentType.handshake:
        if (content.length === 0) {
          return this.die(new TlsError('unexpected_message', 'EmptyFragment', 'received a zero-length handshake fragment'));
        }
        // Bytes still pending here are the start of a message an earlier record began.
        this.hsRecords = this.handshakePending ? this.hsRecords + 1 : 1;
        if (this.hsRecords > this.maxHandshakeRecords) {
          return this.die(
            new TlsError(
              'unexpected_message',
              'TooManyHandshakeRecords',
              `a handshake message is split across more than ${this.maxHandshakeRecords} records`,
            ),
          );
        }
        this.appendHandshake(content, encrypted);
        return undefined;
      case ContentType.alert:
        if (this.handshakePending) return this.interleaved('an alert');
        if (content.length === 0) {
          return this.die(new TlsError('unexpected_message', 'EmptyFragment', 'received a zero-length alert fragment'));
        }
        if (content.length !== 2) {
          return this.die(
            new TlsError('decode_error', 'MalformedAlert', `an alert record must hold exactly 2 bytes, got ${content.length}`),
          );
        }
        return { kind: 'alert', level: content[0] as number, description: content[1] as number, encrypted };
      case ContentType.application_data:
        if (this.handshakePending) return this.interleaved('application data');
        if (content.length === 0 && ++this.emptyRecords > this.maxEmptyRecords) {
          return this.die(
            new TlsError(
              'unexpected_message',
              'TooManyEmptyRecords',
              `received more than ${this.maxEmptyRecords} empty application_data records in a row`,
            ),
          );
        }
        return { kind: 'application_data', data: content };
      case ContentType.change_cipher_spec:
        return this.die(
          new TlsError('unexpected_message', 'ProtectedChangeCipherSpec', 'received a change_cipher_spec inside a protected record'),
        );
      default:
        return this.die(
          new TlsError(
            'unexpected_message',
            'UnknownContentType',
            `received a protected record of unknown inner content type ${contentType}`,
          ),
        );
    }
  }

  private skipRecord(bytes: number): RecordItem {
    this.skipped += bytes;
    if (this.skipped > this.skipLimit) {
      return this.die(
        new TlsError(
          'bad_record_mac',
          'EarlyDataLimitExceeded',
          `skipped ${this.skipped} bytes of undecryptable early data; the limit is ${this.skipLimit}`,
        ),
      );
    }
    return { kind: 'early_data_skipped', bytes };
  }

  // ------------------------------------------------------------ write side

  /**
   * Records carrying one handshake message (with its header), fragmented into
   * records of at most `maxFragment` bytes; protected when write keys are set.
   */
  writeHandshake(raw: Uint8Array): Uint8Array {
    if (raw.length === 0) throw new RangeError('a handshake message cannot be empty (RFC 8446 §5.1)');
    const version = !this.firstHandshakeWritten && !this.writeProtection ? this.initialRecordVersion : TLS12;
    this.firstHandshakeWritten = true;
    return this.writeFragmented(ContentType.handshake, raw, version);
  }

  /** One alert record; protected when write keys are set. */
  writeAlert(level: number, description: number): Uint8Array {
    for (const [name, v] of [
      ['level', level],
      ['description', description],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`alert ${name} must be 0..255, got ${v}`);
    }
    return this.writeFragmented(ContentType.alert, Uint8Array.of(level, description), TLS12);
  }

  /**
   * Protected application_data records (empty data gives one empty record,
   * which §5.1 permits). Throws TlsError internal_error (NoWriteKeys) before
   * write keys are set: application data is never sent in plaintext.
   * `data` given in parts (several writes) is cut into records as if it were
   * one array — full records, a record may span parts — without joining it.
   */
  writeApplicationData(data: ByteParts): Uint8Array {
    if (!this.writeProtection) {
      throw new TlsError('internal_error', 'NoWriteKeys', 'application data cannot be written before write keys are set');
    }
    return this.writeFragmented(ContentType.application_data, data, TLS12);
  }

  /**
   * {@link writeApplicationData} as chunks for one gathered write, in order:
   * with a provider that seals into pieces (`aeadSealPieces`), each record is
   * its header and the ciphertext as the cipher produced it, the small pieces
   * between records (tag, encrypted type byte, next header) side by side in a
   * shared slab — no buffer of the whole batch is allocated and filled. Any
   * other provider gives one chunk, `writeApplicationData`'s array. The bytes
   * are the same either way.
   */
  writeApplicationDataChunks(data: ByteParts): Uint8Array[] {
    const protection = this.writeProtection;
    if (!protection?.canSealPieces) return [this.writeApplicationData(data)];
    const fragments = cutFragments(data, this.maxFragment);
    // A slab holds the header, the type byte and the tag of every record (padding may take more).
    const chunks = new ChunkList(fragments.length * (RECORD_HEADER_LENGTH + 1 + protection.suite.tagLen));
    for (const fragment of fragments) {
      const length = partsLength(fragment);
      protection.protectPieces(chunks, ContentType.application_data, fragment, this.paddingFor(ContentType.application_data, length));
    }
    return chunks.finish();
  }

  /** The middlebox-compatibility ChangeCipherSpec record, always plaintext: 14 03 03 00 01 01. */
  writeChangeCipherSpec(): Uint8Array {
    return Uint8Array.of(ContentType.change_cipher_spec, 0x03, 0x03, 0x00, 0x01, 0x01);
  }

  /** The records of `data`, fragmented, built in one array (sizes are known before sealing). */
  private writeFragmented(contentType: number, data: ByteParts, plaintextVersion: number): Uint8Array {
    const fragments: Array<{ fragment: ByteParts; length: number; padding: number }> = [];
    let size = 0;
    for (const fragment of cutFragments(data, this.maxFragment)) {
      const length = partsLength(fragment);
      const padding = this.writeProtection ? this.paddingFor(contentType, length) : 0;
      fragments.push({ fragment, length, padding });
      size += this.writeProtection ? this.writeProtection.protectedLength(length, padding) : RECORD_HEADER_LENGTH + length;
    }
    // Every byte is written below (headers, fragments or sealed records): no need to zero-fill.
    const buffer = Buffer.allocUnsafe(size);
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset, size);
    let at = 0;
    for (const { fragment, length, padding } of fragments) {
      if (this.writeProtection) {
        at = this.writeProtection.protectInto(out, at, contentType, fragment, padding);
      } else {
        writeRecordHeader(out.subarray(at), contentType, plaintextVersion, length);
        at += RECORD_HEADER_LENGTH;
        for (const part of partsOf(fragment)) {
          out.set(part, at);
          at += part.length;
        }
      }
    }
    return out;
  }

  private paddingFor(contentType: number, contentLength: number): number {
    const p = this.padding;
    if (p === undefined) return 0;
    const wanted = typeof p === 'function' ? p(contentType, contentLength) : p;
    if (!Number.isInteger(wanted) || wanted < 0) throw new RangeError(`padding must be a non-negative integer, got ${wanted}`);
    return Math.min(wanted, MAX_PLAINTEXT_LENGTH - contentLength);
  }
}
