/**
 * A growable byte writer with closures for length-prefixed vectors
 * (RFC 8446 §3.4). The closure writes the vector's content; the writer then
 * fills in the 1, 2 or 3 byte length prefix and checks the `<min..max>`
 * bounds, so an encoder can never emit a vector the peer would have to
 * reject.
 *
 * Encoding our own messages is not a place for alerts: a value that does not
 * fit is a programming error, raised as a `TlsError` with `internal_error`
 * (reason `WireEncodeError`).
 */
import { TlsError } from './alerts.js';

/** Raise an encoding error for `field`. */
export function encodeFail(field: string, message: string): never {
  throw new TlsError('internal_error', 'WireEncodeError', `cannot encode ${field}: ${message}`);
}

function checkUint(v: number, bits: number, field: string): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) {
    encodeFail(field, `${v} is not a uint${bits}`);
  }
}

export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.len;
  }

  u8(v: number, field: string): this {
    checkUint(v, 8, field);
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number, field: string): this {
    checkUint(v, 16, field);
    this.ensure(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u24(v: number, field: string): this {
    checkUint(v, 24, field);
    this.ensure(3);
    this.buf[this.len++] = v >>> 16;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number, field: string): this {
    checkUint(v, 32, field);
    this.ensure(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Exactly `n` bytes (a fixed-length field such as `Random random`). */
  fixed(b: Uint8Array, n: number, field: string): this {
    if (b.length !== n) encodeFail(field, `must be ${n} bytes, got ${b.length}`);
    return this.bytes(b);
  }

  /**
   * A vector with a `prefixLen`-byte length prefix: `body` writes the content,
   * then the prefix is filled in and the length checked against `<min..max>`.
   */
  vector(prefixLen: 1 | 2 | 3, field: string, min: number, max: number, body: (w: this) => void): this {
    this.ensure(prefixLen);
    const at = this.len;
    this.len += prefixLen;
    body(this);
    const n = this.len - at - prefixLen;
    if (n < min || n > max || n >= 2 ** (8 * prefixLen)) {
      encodeFail(field, `length ${n} is outside <${min}..${max}>`);
    }
    if (prefixLen === 3) this.buf[at] = n >>> 16;
    if (prefixLen >= 2) this.buf[at + prefixLen - 2] = (n >>> 8) & 0xff;
    this.buf[at + prefixLen - 1] = n & 0xff;
    return this;
  }

  vec8(field: string, min: number, max: number, body: (w: this) => void): this {
    return this.vector(1, field, min, max, body);
  }

  vec16(field: string, min: number, max: number, body: (w: this) => void): this {
    return this.vector(2, field, min, max, body);
  }

  vec24(field: string, min: number, max: number, body: (w: this) => void): this {
    return this.vector(3, field, min, max, body);
  }

  opaque8(b: Uint8Array, field: string, min: number, max: number): this {
    return this.vec8(field, min, max, (w) => w.bytes(b));
  }

  opaque16(b: Uint8Array, field: string, min: number, max: number): this {
    return this.vec16(field, min, max, (w) => w.bytes(b));
  }

  opaque24(b: Uint8Array, field: string, min: number, max: number): this {
    return this.vec24(field, min, max, (w) => w.bytes(b));
  }

  /** A list of uint16 values, `field<min..max>` in bytes (1-byte prefix when `max` < 256, §3.4). */
  u16List(values: readonly number[], field: string, min: number, max: number): this {
    return this.vector(max < 256 ? 1 : 2, field, min, max, (w) => {
      for (const v of values) w.u16(v, field);
    });
  }

  /** A `uint8 field<min..max>` list. */
  u8List(values: readonly number[], field: string, min: number, max: number): this {
    return this.vec8(field, min, max, (w) => {
      for (const v of values) w.u8(v, field);
    });
  }

  /** A copy of everything written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
