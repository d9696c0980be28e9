/**
 * Export and import of a client session, like node:tls's `session` buffer:
 * a versioned binary format so a resumable session can be written to disk or
 * handed to another process.
 *
 * Layout (big-endian, every variable field length-prefixed):
 *
 *   "TCS1"                        magic and format version
 *   serverName       u16 length + UTF-8
 *   ticket           u16 length (1..2^16-1, as in NewSessionTicket, RFC 8446 §4.6.1)
 *   psk              u8 length (1..255)
 *   suite            u16
 *   ticketAgeAdd     u32
 *   lifetimeS        u32
 *   receivedAtMs     u64 (at most 2^53-1)
 *   alpn             u8 0 (absent) | u8 1, u8 length (1..255) + UTF-8
 *   peerCertificates u16 count, then each u24 length (1..2^24-1) + DER
 *
 * Nothing may follow. Decoding never throws: anything else is `undefined`.
 * The PSK is secret: treat an encoded session like a private key.
 */
import type { ClientSession } from './types.js';

const MAGIC = [0x54, 0x43, 0x53, 0x31]; // "TCS1"

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 of a string that must survive a round trip (no lone surrogates). */
function encodeText(field: string, s: string): Uint8Array {
  const bytes = utf8Encoder.encode(s);
  // One byte per character is ASCII, well-formed; anything else must survive the round trip
  // (a lone surrogate does not).
  if (bytes.length !== s.length && utf8Decoder.decode(bytes) !== s)
    throw new RangeError(`encodeClientSession: ${field} is not well-formed Unicode`);
  return bytes;
}

function checkUint(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`encodeClientSession: ${field} must be an integer in 0..${max}, got ${v}`);
  }
}

function checkLength(field: string, len: number, min: number, max: number): void {
  if (len < min || len > max) throw new RangeError(`encodeClientSession: ${field} length must be ${min}..${max}, got ${len}`);
}

/** Serialize a session; throws RangeError if a field cannot be represented (a programming error). */
export function encodeClientSession(s: ClientSession): Uint8Array {
  const name = encodeText('serverName', s.serverName);
  checkLength('serverName', name.length, 0, 0xffff);
  checkLength('ticket', s.ticket.length, 1, 0xffff);
  checkLength('psk', s.psk.length, 1, 0xff);
  checkUint('suite', s.suite, 0xffff);
  checkUint('ticketAgeAdd', s.ticketAgeAdd, 0xffffffff);
  checkUint('lifetimeS', s.lifetimeS, 0xffffffff);
  checkUint('receivedAtMs', s.receivedAtMs, Number.MAX_SAFE_INTEGER);
  const alpn = s.alpn === undefined ? undefined : encodeText('alpn', s.alpn);
  if (alpn !== undefined) checkLength('alpn', alpn.length, 1, 0xff);
  checkLength('peerCertificates', s.peerCertificates.length, 0, 0xffff);
  let certBytes = 0;
  for (const cert of s.peerCertificates) {
    checkLength('peer certificate', cert.length, 1, 0xffffff);
    certBytes += 3 + cert.length;
  }

  // Sized first and filled in place (a session is written for every ticket a client receives).
  const fixed = MAGIC.length + 2 + 2 + 1 + 2 + 4 + 4 + 8 + 1 + 2;
  const out = new Uint8Array(fixed + name.length + s.ticket.length + s.psk.length + (alpn ? 1 + alpn.length : 0) + certBytes);
  let at = 0;
  const uint = (v: number, n: number): void => {
    for (let k = n - 1; k >= 0; k--) out[at++] = Math.floor(v / 2 ** (8 * k)) & 0xff;
  };
  const bytes = (b: Uint8Array): void => {
    out.set(b, at);
    at += b.length;
  };
  bytes(Uint8Array.from(MAGIC));
  uint(name.length, 2);
  bytes(name);
  uint(s.ticket.length, 2);
  bytes(s.ticket);
  uint(s.psk.length, 1);
  bytes(s.psk);
  uint(s.suite, 2);
  uint(s.ticketAgeAdd, 4);
  uint(s.lifetimeS, 4);
  uint(Math.floor(s.receivedAtMs / 0x1_0000_0000), 4);
  uint(s.receivedAtMs % 0x1_0000_0000, 4);
  if (alpn === undefined) {
    uint(0, 1);
  } else {
    uint(1, 1);
    uint(alpn.length, 1);
    bytes(alpn);
  }
  uint(s.peerCertificates.length, 2);
  for (const cert of s.peerCertificates) {
    uint(cert.length, 3);
    bytes(cert);
  }
  return out;
}

/** A cursor over the input; every read returns undefined past the end instead of throwing. */
class Reader {
  #pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.#pos === this.buf.length;
  }

  bytes(n: number): Uint8Array | undefined {
    if (this.#pos + n > this.buf.length) return undefined;
    const out = this.buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  uint(n: 1 | 2 | 3 | 4): number | undefined {
    if (this.#pos + n > this.buf.length) return undefined;
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + (this.buf[this.#pos++] as number);
    return v;
  }

  /** A vector with an `n`-byte length prefix, at least `min` bytes long. */
  vector(n: 1 | 2 | 3, min: number): Uint8Array | undefined {
    const len = this.uint(n);
    if (len === undefined || len < min) return undefined;
    return this.bytes(len);
  }

  text(n: 1 | 2, min: number): string | undefined {
    const b = this.vector(n, min);
    if (b === undefined) return undefined;
    try {
      return utf8Decoder.decode(b);
    } catch (e) {
      if (e instanceof TypeError) return undefined; // not UTF-8
      throw e;
    }
  }
}

/** Parse an exported session; undefined for anything that is not exactly one well-formed TCS1 session. */
export function decodeClientSession(bytes: Uint8Array): ClientSession | undefined {
  const r = new Reader(bytes);
  const magic = r.bytes(4);
  if (magic === undefined || magic.some((b, i) => b !== MAGIC[i])) return undefined;

  const serverName = r.text(2, 0);
  const ticket = r.vector(2, 1);
  const psk = r.vector(1, 1);
  const suite = r.uint(2);
  const ticketAgeAdd = r.uint(4);
  const lifetimeS = r.uint(4);
  const receivedHigh = r.uint(4);
  const receivedLow = r.uint(4);
  if (
    serverName === undefined ||
    ticket === undefined ||
    psk === undefined ||
    suite === undefined ||
    ticketAgeAdd === undefined ||
    lifetimeS === undefined ||
    receivedHigh === undefined ||
    receivedLow === undefined
  ) {
    return undefined;
  }
  const receivedAtMs = receivedHigh * 0x1_0000_0000 + receivedLow;
  if (!Number.isSafeInteger(receivedAtMs)) return undefined;

  let alpn: string | undefined;
  const hasAlpn = r.uint(1);
  if (hasAlpn === 1) {
    alpn = r.text(1, 1);
    if (alpn === undefined) return undefined;
  } else if (hasAlpn !== 0) {
    return undefined;
  }

  const count = r.uint(2);
  if (count === undefined) return undefined;
  const peerCertificates: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const cert = r.vector(3, 1);
    if (cert === undefined) return undefined;
    peerCertificates.push(cert);
  }
  if (!r.done) return undefined;

  return { serverName, ticket, psk, suite, ticketAgeAdd, lifetimeS, receivedAtMs, alpn, peerCertificates };
}
