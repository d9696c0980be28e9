/**
 * The capture reader and the packet decoder: pcap in both byte orders and
 * timestamp resolutions, pcapng with several sections, interfaces and block
 * kinds, every link layer read (Ethernet with and without a VLAN tag, Linux
 * cooked v1 and v2, BSD and OpenBSD loopback, raw IP), IPv4 and IPv6 with an
 * extension header, and what is not a capture at all. The files are written
 * by testing/writer.ts from the format descriptions; the real dumpcap output
 * committed in fixtures/ is read too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Capture, readCapture } from './capture.js';
import { LinkType, tcpSegmentOf } from './packets.js';
import { frame, ipPacket, LINK_TYPES, type Link, pcapFile, pcapngSection, type SegmentSpec } from './testing/writer.js';

const payload = new TextEncoder().encode('\x16\x03\x01hello');
const v4: SegmentSpec = {
  src: '127.0.0.1',
  dst: '10.1.2.3',
  srcPort: 40000,
  dstPort: 443,
  seq: 0xfffffff0,
  ack: 7,
  flags: { ack: true },
  payload,
};
const v6: SegmentSpec = {
  src: '2001:db8::1',
  dst: '::1',
  srcPort: 40001,
  dstPort: 8443,
  seq: 5,
  flags: { syn: true },
  payload: new Uint8Array(0),
};

function read(bytes: Uint8Array): Capture {
  const r = readCapture(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.capture;
}

describe('the capture reader', () => {
  it('reads a little-endian microsecond pcap and a big-endian nanosecond pcap alike', () => {
    const frames = [
      { time: 1700000000.25, data: frame('ethernet', ipPacket(v4)) },
      { time: 1700000001.5, data: frame('ethernet', ipPacket(v6)) },
    ];
    for (const opts of [{ little: true }, { little: false, nanos: true }]) {
      const c = read(pcapFile(LinkType.ETHERNET, frames, opts));
      expect(c.format).toBe('pcap');
      expect(c.problems).toEqual([]);
      expect(c.packets.map((p) => [p.number, p.linkType, p.time, p.data.length])).toEqual([
        [1, 1, 1700000000.25, frames[0]?.data.length],
        [2, 1, 1700000001.5, frames[1]?.data.length],
      ]);
    }
  });

  it('reads pcapng: interfaces with their link type and timestamp resolution, enhanced, simple and obsolete packet blocks, a second section in the other byte order, and skips other blocks', () => {
    const eth = frame('ethernet', ipPacket(v4));
    const raw = ipPacket(v6);
    const file = new Uint8Array([
      ...pcapngSection([
        { kind: 'idb', linkType: LinkType.ETHERNET },
        { kind: 'other', type: 4, body: new Uint8Array([0, 0, 0, 0]) }, // a Name Resolution Block
        { kind: 'epb', iface: 0, units: 1700000000_000001n, data: eth },
        { kind: 'spb', data: eth },
        { kind: 'pb', iface: 0, units: 2_000000n, data: eth },
      ]),
      ...pcapngSection(
        [
          { kind: 'idb', linkType: LinkType.RAW, tsresol: 9 },
          { kind: 'epb', iface: 0, units: 3_500000000n, data: raw },
        ],
        false,
      ),
    ]);
    const c = read(file);
    expect(c.format).toBe('pcapng');
    expect(c.problems).toEqual([]);
    expect(c.packets.map((p) => [p.linkType, p.time, p.data.length])).toEqual([
      [1, 1700000000.000001, eth.length],
      [1, 0, eth.length],
      [1, 2, eth.length],
      [101, 3.5, raw.length],
    ]);
    // Offsets point into the file: the packet bytes are where the reader says.
    for (const p of c.packets) expect(file.subarray(p.offset, p.offset + p.data.length)).toEqual(p.data);
  });

  it('collects the TLS key log a pcapng Decryption Secrets Block carries', () => {
    const c = read(
      pcapngSection([
        { kind: 'dsb', keylog: 'CLIENT_TRAFFIC_SECRET_0 aa bb' },
        { kind: 'dsb', keylog: 'EXPORTER_SECRET cc dd\n' },
      ]),
    );
    expect(c.embeddedKeylog).toBe('CLIENT_TRAFFIC_SECRET_0 aa bb\nEXPORTER_SECRET cc dd\n');
  });

  it('keeps the packets read before a file is cut short and says where it was cut', () => {
    const whole = pcapFile(LinkType.RAW, [
      { time: 1, data: ipPacket(v4) },
      { time: 2, data: ipPacket(v4) },
    ]);
    const cut = read(whole.subarray(0, whole.length - 3));
    expect(cut.packets).toHaveLength(1);
    expect(cut.problems).toEqual([expect.stringMatching(/packet 2 is cut short/)]);
    const ng = pcapngSection([
      { kind: 'idb', linkType: LinkType.RAW },
      { kind: 'epb', iface: 0, units: 1n, data: ipPacket(v4) },
      { kind: 'epb', iface: 3, units: 1n, data: ipPacket(v4) },
    ]);
    const c = read(ng.subarray(0, ng.length - 1));
    expect(c.packets).toHaveLength(1);
    expect(c.problems).toEqual([expect.stringMatching(/bad or cut-short length/)]);
    const unknownInterface = read(ng);
    expect(unknownInterface.problems).toEqual([expect.stringMatching(/names interface 3, which was not described/)]);
  });

  it('refuses what is not a capture, saying what it starts with', () => {
    expect(readCapture(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toEqual({
      ok: false,
      error: 'not a pcap or pcapng file (starts with 0x47455420)',
    });
    expect(readCapture(new Uint8Array(2))).toEqual({ ok: false, error: '2 bytes is too short for a pcap or pcapng file' });
    expect(readCapture(pcapFile(1, []).subarray(0, 10))).toMatchObject({ ok: false, error: 'pcap: the file header is cut short' });
  });

  it('reads the pcapng file dumpcap wrote for the committed fixture', () => {
    const bytes = readFileSync(fileURLToPath(new URL('./fixtures/openssl-resumption.pcapng', import.meta.url)));
    const c = read(new Uint8Array(bytes));
    expect(c.problems).toEqual([]);
    expect(c.packets.length).toBeGreaterThan(20);
    expect(new Set(c.packets.map((p) => p.linkType))).toEqual(new Set([LinkType.ETHERNET]));
    // TCP, and the UDP probes the capture helper sends until dumpcap writes packets.
    expect(c.packets.filter((p) => tcpSegmentOf(p).ok).length).toBeGreaterThan(20);
    expect(c.packets.map((p) => tcpSegmentOf(p)).filter((d) => !d.ok)).toEqual(
      c.packets.filter((p) => !tcpSegmentOf(p).ok).map(() => ({ ok: false, skip: 'IP protocol 17' })),
    );
  });
});

describe('from a frame to its TCP segment', () => {
  const links: Link[] = ['ethernet', 'ethernet-vlan', 'sll', 'sll2', 'null-le', 'loop', 'raw'];
  for (const link of links) {
    for (const [name, spec] of [
      ['IPv4', v4],
      ['IPv6', v6],
    ] as const) {
      it(`finds the ${name} TCP segment in a ${link} frame`, () => {
        const data = frame(link, ipPacket(spec));
        const d = tcpSegmentOf({ number: 1, linkType: LINK_TYPES[link], time: 0, data, originalLength: data.length, offset: 100 });
        if (!d.ok) throw new Error(d.skip);
        expect(d.segment).toMatchObject({
          src: spec === v4 ? '127.0.0.1' : '2001:db8::1',
          dst: spec === v4 ? '10.1.2.3' : '::1',
          srcPort: spec.srcPort,
          dstPort: spec.dstPort,
          seq: spec.seq,
        });
        expect(d.segment.flags).toEqual({ syn: spec.flags?.syn ?? false, ack: spec.flags?.ack ?? false, fin: false, rst: false });
        // The Ethernet padding after a short IPv4 packet is not payload.
        expect([...d.segment.payload]).toEqual([...(spec.payload ?? [])]);
        expect(data.subarray(d.segment.payloadOffset - 100, d.segment.payloadOffset - 100 + d.segment.payload.length)).toEqual(
          d.segment.payload,
        );
      });
    }
  }

  it('stops at the IPv4 total length, not at the padding of a short Ethernet frame', () => {
    const data = frame('ethernet', ipPacket({ ...v4, payload: new Uint8Array(0) }));
    expect(data.length).toBe(60); // 14 + 20 + 24 bytes, padded to the Ethernet minimum
    const d = tcpSegmentOf({ number: 1, linkType: LinkType.ETHERNET, time: 0, data, originalLength: data.length, offset: 0 });
    expect(d.ok && d.segment.payload.length).toBe(0);
  });

  it('walks IPv6 extension headers to the TCP header', () => {
    const data = ipPacket({ ...v6, payload }, { ipv6HopByHop: true });
    const d = tcpSegmentOf({ number: 1, linkType: LinkType.RAW, time: 0, data, originalLength: data.length, offset: 0 });
    expect(d.ok && [...d.segment.payload]).toEqual([...payload]);
  });

  it('says why a frame is not a TCP segment: another protocol, an IP fragment, an unknown link type', () => {
    const udp = ipPacket(v4);
    udp[9] = 17;
    const fragment = ipPacket(v4);
    fragment[6] = 0x20; // more fragments
    const cases: Array<[number, Uint8Array, RegExp]> = [
      [LinkType.RAW, udp, /IP protocol 17/],
      [LinkType.RAW, fragment, /IPv4 fragment/],
      [147, ipPacket(v4), /link type 147 is not read/],
      [LinkType.ETHERNET, Uint8Array.from([...new Array(12).fill(0), 0x08, 0x06, 0, 1]), /ethertype 0x0806/],
    ];
    for (const [linkType, data, why] of cases) {
      const d = tcpSegmentOf({ number: 1, linkType, time: 0, data, originalLength: data.length, offset: 0 });
      expect(d.ok ? 'a segment' : d.skip).toMatch(why);
    }
  });
});
