/**
 * TCP reassembly (RFC 9293 §3.4, §3.10.7.4): group segments into connections
 * by their address/port pairs, and put each direction's payload back in
 * sequence-number order.
 *
 * - Out of order: segments are placed by sequence number, not by arrival.
 * - Retransmissions and overlaps: the bytes first placed win; a copy that
 *   differs from them is counted (`conflicts`), never silently mixed in.
 * - Gaps (a segment the capture missed): the stream stops at the gap, and
 *   the gap is reported; nothing after it is guessed.
 * - Sequence numbers wrap modulo 2^32; offsets are taken relative to the SYN
 *   (or, without one, to the lowest sequence number seen).
 * - A new SYN on an address/port pair whose connection already carried data
 *   or was closed starts a new connection (port reuse).
 *
 * Each byte of a stream also knows the packet that carried it, so the records
 * of both directions can be put in the order the capture saw them complete.
 */
import { endpoint, type TcpSegment } from './packets.js';

export interface StreamChunk {
  /** Byte range [start, end) of the stream. */
  start: number;
  end: number;
  /** The packet that carried these bytes. */
  packet: number;
  /** File offset of byte `start`. */
  fileOffset: number;
}

/** One direction of a connection, reassembled. */
export interface TcpStream {
  from: string;
  to: string;
  /** The contiguous bytes from the first one on (up to a gap, if any). */
  data: Uint8Array;
  chunks: StreamChunk[];
  /** Bytes the capture missed: the stream is cut at `at`; `resumesAt` is where captured data starts again. */
  gap: { at: number; resumesAt: number } | undefined;
  /** Retransmitted or overlapping segments whose bytes differ from those already placed. */
  conflicts: number;
  /** Segments whose bytes were all already placed (retransmissions). */
  retransmissions: number;
  /** How the sender ended its side: FIN, RST, or not seen. */
  end: 'fin' | 'rst' | undefined;
}

export interface TcpConnection {
  /** 1-based, by first packet. */
  index: number;
  client: string;
  server: string;
  /** Client → server and server → client. */
  toServer: TcpStream;
  toClient: TcpStream;
  firstPacket: number;
  lastPacket: number;
  /** Whether the three-way handshake was captured (which side is the client is then certain). */
  sawSyn: boolean;
  startTime: number;
}

interface Building {
  a: string;
  b: string;
  segments: TcpSegment[];
  /** ISN of each side's SYN, by endpoint. */
  syn: Map<string, number>;
  /** Endpoint that sent the SYN without ACK. */
  initiator: string | undefined;
  hasData: boolean;
  closed: boolean;
}

/** Split segments into connections and reassemble both directions of each. */
export function reassemble(segments: readonly TcpSegment[]): TcpConnection[] {
  const active = new Map<string, Building>();
  const all: Building[] = [];
  for (const s of segments) {
    const from = endpoint(s.src, s.srcPort);
    const to = endpoint(s.dst, s.dstPort);
    const key = from < to ? `${from} ${to}` : `${to} ${from}`;
    let c = active.get(key);
    const isNewSyn = s.flags.syn && !s.flags.ack;
    if (c && isNewSyn && (c.hasData || c.closed) && c.syn.get(from) !== s.seq) c = undefined;
    if (!c) {
      c = { a: from, b: to, segments: [], syn: new Map(), initiator: undefined, hasData: false, closed: false };
      active.set(key, c);
      all.push(c);
    }
    c.segments.push(s);
    if (s.flags.syn) {
      c.syn.set(from, s.seq);
      if (!s.flags.ack) c.initiator = from;
      else c.initiator ??= to;
    }
    if (s.payload.length > 0) c.hasData = true;
    if (s.flags.fin || s.flags.rst) c.closed = true;
  }
  return all.map((c, i) => finish(c, i + 1));
}

function finish(c: Building, index: number): TcpConnection {
  const first = c.segments[0] as TcpSegment;
  const last = c.segments[c.segments.length - 1] as TcpSegment;
  const fromA = c.segments.filter((s) => endpoint(s.src, s.srcPort) === c.a);
  const fromB = c.segments.filter((s) => endpoint(s.src, s.srcPort) === c.b);
  const streamA = stream(c.a, c.b, fromA, c.syn.get(c.a));
  const streamB = stream(c.b, c.a, fromB, c.syn.get(c.b));
  let client = c.initiator;
  if (client === undefined) {
    // No handshake captured: the side that opens with a TLS ClientHello is the client, else the first sender.
    client = startsWithClientHello(streamB.data) && !startsWithClientHello(streamA.data) ? c.b : c.a;
  }
  const clientIsA = client === c.a;
  return {
    index,
    client,
    server: clientIsA ? c.b : c.a,
    toServer: clientIsA ? streamA : streamB,
    toClient: clientIsA ? streamB : streamA,
    firstPacket: first.packet,
    lastPacket: last.packet,
    sawSyn: c.initiator !== undefined,
    startTime: first.time,
  };
}

/** A handshake record (22) of TLS 1.x whose first message is a ClientHello (1). */
export function startsWithClientHello(b: Uint8Array): boolean {
  return b.length >= 6 && b[0] === 22 && b[1] === 3 && b[5] === 1;
}

function stream(from: string, to: string, segments: TcpSegment[], isn: number | undefined): TcpStream {
  const withData = segments.filter((s) => s.payload.length > 0);
  const end = segments.some((s) => s.flags.rst) ? 'rst' : segments.some((s) => s.flags.fin) ? 'fin' : undefined;
  const out: TcpStream = { from, to, data: new Uint8Array(0), chunks: [], gap: undefined, conflicts: 0, retransmissions: 0, end };
  if (withData.length === 0) return out;
  // Offsets relative to the byte after the SYN; without a SYN, to the lowest sequence number seen (mod 2^32).
  let base = isn !== undefined ? (isn + 1) >>> 0 : (withData[0] as TcpSegment).seq;
  if (isn === undefined) {
    let min = 0;
    for (const s of withData) min = Math.min(min, (s.seq - base) | 0);
    base = (base + min) >>> 0;
  }
  const placed = withData
    .map((s) => ({ s, rel: (s.seq - base) >>> 0 }))
    .filter((x) => x.rel < 2 ** 31) // data from before the SYN cannot belong here
    .sort((x, y) => x.rel - y.rel || x.s.packet - y.s.packet);
  const placedBytes = new Growable();
  let pos = 0;
  for (const { s, rel } of placed) {
    const segEnd = rel + s.payload.length;
    if (rel > pos) {
      out.gap = { at: pos, resumesAt: rel };
      break;
    }
    // The part of this segment already placed must match what was placed.
    const overlap = Math.min(segEnd, pos) - rel;
    if (overlap > 0 && !equalBytes(placedBytes.view(rel, rel + overlap), s.payload.subarray(0, overlap))) out.conflicts++;
    if (segEnd <= pos) {
      out.retransmissions++;
      continue;
    }
    placedBytes.append(s.payload.subarray(pos - rel));
    out.chunks.push({ start: pos, end: segEnd, packet: s.packet, fileOffset: s.payloadOffset + (pos - rel) });
    pos = segEnd;
  }
  out.data = placedBytes.view(0, pos).slice();
  return out;
}

/** A byte buffer that grows by doubling. */
class Growable {
  private buf = new Uint8Array(1024);
  private length = 0;
  append(b: Uint8Array): void {
    if (this.length + b.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + b.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  view(start: number, end: number): Uint8Array {
    return this.buf.subarray(start, Math.min(end, this.length));
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The packet at which the bytes [0, end) had all arrived (TCP delivers in order). */
export function availableAt(s: TcpStream, end: number): number {
  let latest = 0;
  for (const c of s.chunks) {
    if (c.start >= end) break;
    latest = Math.max(latest, c.packet);
  }
  return latest;
}

/** The file offset of stream byte `pos`, or undefined past the end. */
export function fileOffsetOf(s: TcpStream, pos: number): number | undefined {
  const c = s.chunks.find((x) => x.start <= pos && pos < x.end);
  return c === undefined ? undefined : c.fileOffset + (pos - c.start);
}
