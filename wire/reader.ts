/**
 * A cursor over received bytes with sub-readers for length-prefixed vectors
 * (RFC 8446 §3.4 presentation language: `opaque x<min..max>` with a 1, 2 or
 * 3 byte length prefix).
 *
 * Every read names the field it reads so a failure says exactly where the
 * bytes went wrong. Inside the decoders a failure is raised as
 * {@link WireDecodeError}; {@link decodeWith} is the only place that catches
 * it and turns it into a typed `{ ok: false, error }`. Nothing else is ever
 * thrown by a decoder (the property suites fuzz this).
 */
import { TlsError } from './alerts.js';
import { REFUSALS } from './refusals.js';
import type { CodecReason, Decoded, DecodeFailure } from './types.js';

/** Internal to the decoders: raised on the first bad field, caught by {@link decodeWith}. */
export class WireDecodeError extends Error {
  override readonly name = 'WireDecodeError';
  constructor(readonly failure: DecodeFailure) {
    super(failure.message);
  }
}

/** Abort the current decode with a codec refusal (its alert from the refusal table), naming the field. */
export function fail(reason: CodecReason, field: string, message: string): never {
  throw new WireDecodeError(decodeFailure(reason, field, message));
}

/** The TlsError a decode failure ends the connection with. */
export function decodeError(f: DecodeFailure): TlsError {
  return new TlsError(f.alert as never, f.reason, f.message);
}

/** A DecodeFailure for `reason`, with the alert the refusal table names. */
export function decodeFailure(reason: CodecReason, field: string, message: string): DecodeFailure {
  return { reason, alert: REFUSALS[reason].alert, field, message: `${field}: ${message}` };
}

export class Reader {
  private pos: number;

  /** A reader over `bytes[start, end)`. */
  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Offset of the cursor in the underlying buffer. */
  get offset(): number {
    return this.pos;
  }

  isEmpty(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number, field: string): void {
    if (this.end - this.pos < n) {
      fail('DecodeError', field, `needs ${n} byte(s) but only ${this.end - this.pos} remain`);
    }
  }

  private byteAt(i: number): number {
    return this.buf[i] as number;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.byteAt(this.pos++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.byteAt(this.pos) << 8) | this.byteAt(this.pos + 1);
    this.pos += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const v = (this.byteAt(this.pos) << 16) | (this.byteAt(this.pos + 1) << 8) | this.byteAt(this.pos + 2);
    this.pos += 3;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v =
      this.byteAt(this.pos) * 0x1000000 +
      ((this.byteAt(this.pos + 1) << 16) | (this.byteAt(this.pos + 2) << 8) | this.byteAt(this.pos + 3));
    this.pos += 4;
    return v;
  }

  /**
   * Exactly `n` bytes, as a view. A Reader only ever reads a decoder's own
   * copy of the input (see {@link decodeWith}), so decoded values never alias
   * the caller's buffer, and a message's fields share one allocation.
   */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything left, as a view (see {@link bytes}). */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }

  /**
   * A sub-reader over a vector with a `prefixLen`-byte length prefix whose
   * length must lie in `<min..max>`. The parent cursor moves past the vector.
   */
  vector(prefixLen: 1 | 2 | 3, field: string, min: number, max: number): Reader {
    const len = prefixLen === 1 ? this.u8(field) : prefixLen === 2 ? this.u16(field) : this.u24(field);
    if (len < min || len > max) {
      fail('DecodeError', field, `length ${len} is outside <${min}..${max}>`);
    }
    this.need(len, field);
    const sub = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return sub;
  }

  vec8(field: string, min: number, max: number): Reader {
    return this.vector(1, field, min, max);
  }

  vec16(field: string, min: number, max: number): Reader {
    return this.vector(2, field, min, max);
  }

  vec24(field: string, min: number, max: number): Reader {
    return this.vector(3, field, min, max);
  }

  /** `opaque field<min..max>` with a 1-byte length. */
  opaque8(field: string, min: number, max: number): Uint8Array {
    return this.vec8(field, min, max).rest();
  }

  /** `opaque field<min..max>` with a 2-byte length. */
  opaque16(field: string, min: number, max: number): Uint8Array {
    return this.vec16(field, min, max).rest();
  }

  /** `opaque field<min..max>` with a 3-byte length. */
  opaque24(field: string, min: number, max: number): Uint8Array {
    return this.vec24(field, min, max).rest();
  }

  /**
   * A list of uint16 values, `field<min..max>` in bytes; the length prefix is
   * 2 bytes unless `max` < 256 makes it 1 (§3.4). The length must be even.
   */
  u16List(field: string, min: number, max: number): number[] {
    const sub = this.vector(max < 256 ? 1 : 2, field, min, max);
    if (sub.remaining % 2 !== 0) fail('DecodeError', field, `length ${sub.remaining} is odd`);
    const out: number[] = [];
    while (!sub.isEmpty()) out.push(sub.u16(field));
    return out;
  }

  /** A `uint8 field<min..max>` list (1-byte length). */
  u8List(field: string, min: number, max: number): number[] {
    return Array.from(this.opaque8(field, min, max));
  }

  /** Trailing bytes after a structure are a decode_error (RFC 8446 §4). */
  expectEnd(field: string): void {
    if (this.pos !== this.end) {
      fail('DecodeError', field, `${this.end - this.pos} trailing byte(s)`);
    }
  }
}

/**
 * The decode boundary: run `fn` over the whole of `bytes`, require that it
 * consumed everything, and turn a {@link WireDecodeError} into a typed
 * failure. Any other exception is a bug in a decoder and is not swallowed.
 * The bytes are copied once, here: decoded values are views into that copy.
 */
export function decodeWith<T>(bytes: Uint8Array, field: string, fn: (r: Reader) => T): Decoded<T> {
  return decodeOwned(bytes.slice(), field, fn);
}

/**
 * {@link decodeWith} over bytes the caller gives up: decoded values are views
 * into `own`, which nobody may change afterwards.
 */
export function decodeOwned<T>(own: Uint8Array, field: string, fn: (r: Reader) => T): Decoded<T> {
  try {
    const r = new Reader(own);
    const value = fn(r);
    r.expectEnd(field);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof WireDecodeError) return { ok: false, error: e.failure };
    throw e;
  }
}
