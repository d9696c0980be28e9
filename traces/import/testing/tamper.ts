/**
 * Pointing at bytes of a capture file, to tamper with them in tests: the TCP
 * streams are reassembled (tcp.ts) and a stream position is mapped back to
 * the file offset of the packet byte that carried it.
 */

import { toHex } from '../../../crypto/bytes.js';
import { trafficKeys } from '../../../crypto/keyschedule.js';
import { nobleProvider } from '../../../crypto/noble.js';
import { suiteInfo } from '../../../crypto/suites.js';
import { RecordDeprotector, RecordProtector } from '../../../record/protection.js';
import { findExtension } from '../../../wire/extensions.js';
import { decodeHandshake } from '../../../wire/handshake.js';
import { readCapture } from '../capture.js';
import type { KeyLog } from '../keylog.js';
import { type TcpSegment, tcpSegmentOf } from '../packets.js';
import { fileOffsetOf, reassemble, type TcpConnection, type TcpStream } from '../tcp.js';

export function connectionsOf(bytes: Uint8Array): TcpConnection[] {
  const r = readCapture(bytes);
  if (!r.ok) throw new Error(r.error);
  const segments: TcpSegment[] = [];
  for (const p of r.capture.packets) {
    const s = tcpSegmentOf(p);
    if (s.ok) segments.push(s.segment);
  }
  return reassemble(segments);
}

/** Stream offset of the start of each record. */
export function recordStarts(s: TcpStream): number[] {
  const out: number[] = [];
  for (let at = 0; at + 5 <= s.data.length; at += 5 + (((s.data[at + 3] as number) << 8) | (s.data[at + 4] as number))) out.push(at);
  return out;
}

/** A copy of `bytes` with one bit flipped at `offset`. */
export function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset] = (out[offset] as number) ^ 0x01;
  return out;
}

/** File offset of byte `k` inside the body of record `n` (0-based) of a stream. */
export function offsetInRecord(s: TcpStream, n: number, k: number): number {
  const start = recordStarts(s)[n];
  if (start === undefined) throw new Error(`the stream has no record ${n}`);
  const at = fileOffsetOf(s, start + 5 + k);
  if (at === undefined) throw new Error(`record ${n} has no byte ${k}`);
  return at;
}

/** File offset of the first byte of the client's first key share in its ClientHello. */
export function offsetOfClientKeyShare(c: TcpConnection): number {
  const d = c.toServer.data;
  const len = ((d[3] as number) << 8) | (d[4] as number);
  const ch = decodeHandshake(d.subarray(5, 5 + len));
  if (!ch.ok || ch.value.type !== 'client_hello') throw new Error('the first record is not a whole ClientHello');
  const share = findExtension(ch.value.extensions, 'key_share_client')?.shares[0]?.keyExchange;
  if (!share) throw new Error('the ClientHello has no key share');
  const raw = d.subarray(5, 5 + len);
  for (let i = 0; i + share.length <= raw.length; i++) {
    if (share.every((b, j) => raw[i + j] === b)) {
      const at = fileOffsetOf(c.toServer, 5 + i);
      if (at === undefined) throw new Error('key share not in a captured packet');
      return at;
    }
  }
  throw new Error('key share bytes not found in the ClientHello');
}

/**
 * A copy of the capture in which the server's Finished of connection `index`
 * carries a wrong verify_data, re-sealed under the server's handshake traffic
 * keys from the key log so that the record still authenticates: what a
 * server that sends a bad Finished puts on the wire (RFC 8446 §4.4.4).
 */
export function withBadServerFinished(bytes: Uint8Array, keylog: KeyLog, index = 0): Uint8Array {
  const c = connectionsOf(bytes)[index];
  if (!c) throw new Error(`no connection ${index}`);
  const first = (s: TcpStream) => decodeHandshake(s.data.subarray(5, 5 + ((((s.data[3] as number) << 8) | (s.data[4] as number)) >>> 0)));
  const ch = first(c.toServer);
  const sh = first(c.toClient);
  if (!ch.ok || ch.value.type !== 'client_hello' || !sh.ok || sh.value.type !== 'server_hello') throw new Error('no hellos');
  const suite = suiteInfo(sh.value.cipherSuite);
  const secret = keylog.byClientRandom.get(toHex(ch.value.random))?.SERVER_HANDSHAKE_TRAFFIC_SECRET;
  if (!suite || !secret) throw new Error('no suite or no server handshake secret');
  const keys = trafficKeys(suite, secret, nobleProvider);
  const reader = new RecordDeprotector(suite, keys, nobleProvider);
  const out = bytes.slice();
  for (const start of recordStarts(c.toClient)) {
    const d = c.toClient.data;
    if (d[start] !== 23) continue;
    const len = ((d[start + 3] as number) << 8) | (d[start + 4] as number);
    const seq = reader.sequence;
    const u = reader.unprotect(d.subarray(start, start + 5), d.subarray(start + 5, start + 5 + len));
    if (!u.ok) throw new Error(`record at ${start} does not open: ${u.error.message}`);
    if (u.contentType !== 22 || u.content[0] !== 20) continue;
    const content = u.content.slice();
    content[content.length - 1] = (content[content.length - 1] as number) ^ 0x01; // last byte of verify_data
    const resealed = new RecordProtector(suite, keys, nobleProvider, { initialSequence: seq }).protect(22, content, u.paddingLength);
    if (resealed.length !== 5 + len) throw new Error('the re-sealed record has another length');
    resealed.forEach((b, i) => {
      const at = fileOffsetOf(c.toClient, start + i);
      if (at === undefined) throw new Error('record byte not in a captured packet');
      out[at] = b;
    });
    return out;
  }
  throw new Error('no server Finished record found');
}
