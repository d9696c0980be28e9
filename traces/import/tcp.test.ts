/**
 * TCP reassembly: segments out of order, retransmitted (the same bytes, or
 * different ones), overlapping, missing; sequence numbers that wrap; a port
 * pair reused by a second connection; a connection whose SYN was not
 * captured. Segments are built directly, so each case says exactly what the
 * wire carried.
 */
import { describe, expect, it } from 'vitest';
import type { TcpSegment } from './packets.js';
import { availableAt, fileOffsetOf, reassemble } from './tcp.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let packet = 0;
function seg(from: 'c' | 's', seq: number, data = '', flags: Partial<TcpSegment['flags']> = {}): TcpSegment {
  packet++;
  const c = { host: '127.0.0.1', port: 50000 };
  const s = { host: '127.0.0.1', port: 443 };
  const [a, b] = from === 'c' ? [c, s] : [s, c];
  return {
    packet,
    time: packet,
    src: a.host,
    dst: b.host,
    srcPort: a.port,
    dstPort: b.port,
    seq: seq >>> 0,
    ack: 0,
    flags: { syn: false, ack: true, fin: false, rst: false, ...flags },
    payload: bytes(data),
    payloadOffset: packet * 1000,
  };
}

const handshake = (cIsn = 1000, sIsn = 5000) => [
  seg('c', cIsn, '', { syn: true, ack: false }),
  seg('s', sIsn, '', { syn: true }),
  seg('c', cIsn + 1),
];

describe('TCP reassembly', () => {
  it('puts segments that arrived out of order back in sequence order', () => {
    packet = 0;
    const [c] = reassemble([...handshake(), seg('c', 1007, 'world'), seg('c', 1001, 'hello '), seg('c', 1012, '!')]);
    expect(text(c?.toServer.data ?? new Uint8Array())).toBe('hello world!');
    expect(c?.toServer.gap).toBeUndefined();
    // The bytes were all there only once the first segment (packet 5) arrived.
    const [hello, world, bang] = [5, 4, 6]; // packet numbers: world (4) came before hello (5)
    expect(availableAt(c!.toServer, 6)).toBe(hello);
    expect(availableAt(c!.toServer, 11)).toBe(Math.max(hello, world));
    expect(availableAt(c!.toServer, 12)).toBe(bang);
  });

  it('counts a retransmission with the same bytes once, and keeps the first copy of bytes retransmitted differently', () => {
    const [c] = reassemble([
      ...handshake(),
      seg('c', 1001, 'abcdef'),
      seg('c', 1001, 'abcdef'),
      seg('c', 1004, 'XYZghi'),
      seg('c', 1001, 'abQ'),
    ]);
    expect(text(c!.toServer.data)).toBe('abcdefghi');
    expect(c!.toServer.retransmissions).toBe(2);
    expect(c!.toServer.conflicts).toBe(2);
  });

  it('stops a stream at bytes the capture missed and says where', () => {
    const [c] = reassemble([...handshake(), seg('c', 1001, 'abc'), seg('c', 1010, 'later')]);
    expect(text(c!.toServer.data)).toBe('abc');
    expect(c!.toServer.gap).toEqual({ at: 3, resumesAt: 9 });
  });

  it('follows sequence numbers across the 2^32 wrap', () => {
    const isn = 2 ** 32 - 3;
    const [c] = reassemble([...handshake(isn), seg('c', isn + 1, 'ab'), seg('c', isn + 3, 'cd'), seg('c', 2, 'ef')]);
    expect(text(c!.toServer.data)).toBe('abcdef');
  });

  it('knows the client by its SYN, and without a SYN by the ClientHello it opens with', () => {
    const [withSyn] = reassemble([...handshake(), seg('s', 5001, 'banner')]);
    expect([withSyn?.client, withSyn?.server, withSyn?.sawSyn]).toEqual(['127.0.0.1:50000', '127.0.0.1:443', true]);
    // Mid-connection capture: the server's data comes first, the client's bytes are a ClientHello record.
    const clientHello = '\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00';
    const [noSyn] = reassemble([seg('s', 9000, 'x'), seg('c', 7000, clientHello)]);
    expect([noSyn?.client, noSyn?.sawSyn]).toEqual(['127.0.0.1:50000', false]);
    expect(text(noSyn!.toServer.data)).toBe(clientHello);
  });

  it('starts a new connection when a closed port pair sees a new SYN', () => {
    const first = [...handshake(1000), seg('c', 1001, 'one'), seg('c', 1004, '', { fin: true }), seg('s', 5001, '', { fin: true })];
    const second = [...handshake(9000, 7000), seg('c', 9001, 'two')];
    const conns = reassemble([...first, ...second]);
    expect(conns.map((c) => [c.index, text(c.toServer.data), c.toServer.end ?? null])).toEqual([
      [1, 'one', 'fin'],
      [2, 'two', null],
    ]);
  });

  it('keeps a retransmitted SYN in the same connection', () => {
    const conns = reassemble([
      seg('c', 1000, '', { syn: true, ack: false }),
      seg('c', 1000, '', { syn: true, ack: false }),
      seg('s', 5000, '', { syn: true }),
      seg('c', 1001, 'data'),
    ]);
    expect(conns).toHaveLength(1);
    expect(text(conns[0]!.toServer.data)).toBe('data');
  });

  it('maps a stream position back to the file offset of the byte that carried it', () => {
    const [c] = reassemble([...handshake(), seg('c', 1001, 'abc'), seg('c', 1004, 'def')]);
    const last = c!.toServer.chunks.at(-1)!;
    expect(fileOffsetOf(c!.toServer, 4)).toBe(last.fileOffset + 1);
    expect(fileOffsetOf(c!.toServer, 6)).toBeUndefined();
  });
});
