/**
 * Pointing at bytes of a capture file, to tamper with them in tests: the TCP
 * streams are reassembled (tcp.ts) and a stream position is mapped back to
 * the file offset of the packet byte that carried it.
 */
import { decodeHandshake } from '../../../wire/handshake.js';
import { findExtension } from '../../../wire/extensions.js';
import { readCapture } from '../capture.js';
import { tcpSegmentOf, type TcpSegment } from '../packets.js';
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
