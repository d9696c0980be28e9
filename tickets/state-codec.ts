/**
 * A versioned binary form of {@link ServerSessionState}, for ticket stores that
 * keep states outside the process (Redis: `tickets/redis-store.ts`). It is the
 * server's half of a stateful ticket (RFC 8446 §4.6.1): whatever another server
 * of the same service needs to resume the session, nothing more.
 *
 * Layout (big-endian; vectors as in RFC 8446 §3.4, `<min..max>` in bytes):
 *
 *   "TSS1"                      magic and format version (tlschart server state, 1)
 *   psk                 opaque  <1..255>
 *   suite               uint16
 *   serverName          uint8 0 (absent) | uint8 1, opaque <1..2^16-1> UTF-8 (HostName, RFC 6066 §3)
 *   alpn                uint8 0 (absent) | uint8 1, opaque <1..255> UTF-8 (ProtocolName, RFC 7301 §3.1)
 *   issuedAtMs          uint64, at most 2^53-1
 *   lifetimeS           uint32, at most 604800 (RFC 8446 §4.6.1)
 *   ticketAgeAdd        uint32
 *   clientCertificates  <0..2^24-1> of opaque cert <1..2^24-1> (as in Certificate, §4.4.2)
 *
 * Nothing may follow. Decoding never throws: another version, another writer's
 * bytes, a truncation or a trailing byte is `undefined` — to a store, an
 * unknown ticket. The PSK is secret: an encoded state is key material.
 */
import { decodeWith, type Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { MAX_TICKET_LIFETIME_S, type ServerSessionState } from './types.js';

/** "TSS1": a later layout takes another version byte, and this decoder refuses it. */
export const STATE_MAGIC: readonly number[] = [0x54, 0x53, 0x53, 0x31];

/**
 * A field the wire reader can parse but a state may not hold. Raised inside the
 * decoder, caught by {@link decodeServerSessionState} (the reader's own
 * failures are caught by `decodeWith`): both mean "not a state".
 */
class StateDecodeError extends Error {
  override readonly name = 'StateDecodeError';
}

function refuse(field: string, message: string): never {
  throw new StateDecodeError(`${field}: ${message}`);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function checkInteger(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`encodeServerSessionState: ${field} must be an integer in 0..${max}, got ${v}`);
  }
}

/** UTF-8 of a string that survives a round trip (no lone surrogates). */
function encodeText(field: string, s: string): Uint8Array {
  const bytes = utf8Encoder.encode(s);
  if (utf8Decoder.decode(bytes) !== s) throw new RangeError(`encodeServerSessionState: ${field} is not well-formed Unicode`);
  return bytes;
}

function readText(r: Reader, field: string, prefix: 1 | 2, max: number): string {
  const bytes = prefix === 1 ? r.opaque8(field, 1, max) : r.opaque16(field, 1, max);
  try {
    return utf8Decoder.decode(bytes);
  } catch (e) {
    if (e instanceof TypeError) refuse(field, 'is not UTF-8');
    throw e;
  }
}

/** A flag byte: 0 absent, 1 present, anything else refused. */
function readPresence(r: Reader, field: string): boolean {
  const flag = r.u8(field);
  if (flag > 1) refuse(field, `presence flag ${flag} is neither 0 nor 1`);
  return flag === 1;
}

/**
 * Serialise a state. Throws (RangeError, or the writer's internal_error) when a
 * field cannot be represented — a programming error; a store then rejects `put`.
 */
export function encodeServerSessionState(s: ServerSessionState): Uint8Array {
  checkInteger('suite', s.suite, 0xffff);
  checkInteger('issuedAtMs', s.issuedAtMs, Number.MAX_SAFE_INTEGER);
  checkInteger('lifetimeS', s.lifetimeS, MAX_TICKET_LIFETIME_S);
  checkInteger('ticketAgeAdd', s.ticketAgeAdd, 0xffffffff);
  const w = new Writer();
  w.bytes(Uint8Array.from(STATE_MAGIC));
  w.opaque8(s.psk, 'psk', 1, 255);
  w.u16(s.suite, 'suite');
  if (s.serverName === undefined) w.u8(0, 'serverName');
  else w.u8(1, 'serverName').opaque16(encodeText('serverName', s.serverName), 'serverName', 1, 0xffff);
  if (s.alpn === undefined) w.u8(0, 'alpn');
  else w.u8(1, 'alpn').opaque8(encodeText('alpn', s.alpn), 'alpn', 1, 255);
  w.u32(Math.floor(s.issuedAtMs / 0x1_0000_0000), 'issuedAtMs').u32(s.issuedAtMs % 0x1_0000_0000, 'issuedAtMs');
  w.u32(s.lifetimeS, 'lifetimeS');
  w.u32(s.ticketAgeAdd, 'ticketAgeAdd');
  w.vec24('clientCertificates', 0, 0xffffff, (list) => {
    for (const cert of s.clientCertificates) list.opaque24(cert, 'client certificate', 1, 0xffffff);
  });
  return w.finish();
}

/** Parse a stored state; undefined for anything that is not exactly one well-formed TSS1 state. */
export function decodeServerSessionState(bytes: Uint8Array): ServerSessionState | undefined {
  try {
    return decodeState(bytes);
  } catch (e) {
    if (e instanceof StateDecodeError) return undefined;
    throw e;
  }
}

function decodeState(bytes: Uint8Array): ServerSessionState | undefined {
  const decoded = decodeWith(bytes, 'ServerSessionState', (r) => {
    const magic = r.bytes(STATE_MAGIC.length, 'magic');
    if (magic.some((b, i) => b !== STATE_MAGIC[i])) refuse('magic', 'is not TSS1');
    const psk = r.opaque8('psk', 1, 255);
    const suite = r.u16('suite');
    const serverName = readPresence(r, 'serverName') ? readText(r, 'serverName', 2, 0xffff) : undefined;
    const alpn = readPresence(r, 'alpn') ? readText(r, 'alpn', 1, 255) : undefined;
    const issuedAtMs = r.u32('issuedAtMs') * 0x1_0000_0000 + r.u32('issuedAtMs');
    if (!Number.isSafeInteger(issuedAtMs)) refuse('issuedAtMs', 'exceeds 2^53-1');
    const lifetimeS = r.u32('lifetimeS');
    if (lifetimeS > MAX_TICKET_LIFETIME_S) refuse('lifetimeS', `exceeds ${MAX_TICKET_LIFETIME_S}`);
    const ticketAgeAdd = r.u32('ticketAgeAdd');
    const list = r.vec24('clientCertificates', 0, 0xffffff);
    const clientCertificates: Uint8Array[] = [];
    while (!list.isEmpty()) clientCertificates.push(list.opaque24('client certificate', 1, 0xffffff));
    const state: ServerSessionState = { psk, suite, serverName, alpn, issuedAtMs, lifetimeS, ticketAgeAdd, clientCertificates };
    return state;
  });
  return decoded.ok ? decoded.value : undefined;
}
