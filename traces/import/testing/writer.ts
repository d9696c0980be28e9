/**
 * Writing small capture files for the reader's tests, from the format
 * descriptions (pcap-savefile(5), draft-ietf-opsawg-pcapng) and the link
 * layers' header layouts: frames around a TCP segment, then a pcap or pcapng
 * file around the frames. Test-only: tlschart reads captures, it never writes them.
 */

export interface SegmentSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags?: { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean };
  payload?: Uint8Array;
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export function tcpHeader(s: SegmentSpec): Uint8Array {
  const f = s.flags ?? { ack: true };
  const flags = (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.ack ? 0x10 : 0);
  // 20-byte header plus one 4-byte option block (NOP NOP NOP EOL), so the data offset is not the minimum.
  return Uint8Array.from([
    ...be16(s.srcPort),
    ...be16(s.dstPort),
    ...be32(s.seq),
    ...be32(s.ack ?? 0),
    6 << 4,
    flags,
    ...be16(65535),
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    0,
  ]);
}

const v4 = (a: string) => a.split('.').map(Number);
function v6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = (head ?? '').split(':').filter((x) => x !== '');
  const t = tail === undefined ? [] : tail.split(':').filter((x) => x !== '');
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}

/** An IPv4 packet (or IPv6, when the addresses contain ':') carrying the segment. */
export function ipPacket(s: SegmentSpec, opts: { ipv6HopByHop?: boolean } = {}): Uint8Array {
  const tcp = [...tcpHeader(s), ...(s.payload ?? [])];
  if (s.src.includes(':')) {
    const ext = opts.ipv6HopByHop ? [6, 0, 1, 4, 0, 0, 0, 0] : []; // hop-by-hop: next TCP, 8 bytes, PadN
    return Uint8Array.from([
      0x60,
      0,
      0,
      0,
      ...be16(ext.length + tcp.length),
      opts.ipv6HopByHop ? 0 : 6,
      64,
      ...v6(s.src),
      ...v6(s.dst),
      ...ext,
      ...tcp,
    ]);
  }
  return Uint8Array.from([0x45, 0, ...be16(20 + tcp.length), 0, 0, 0x40, 0, 64, 6, 0, 0, ...v4(s.src), ...v4(s.dst), ...tcp]);
}

export type Link = 'ethernet' | 'ethernet-vlan' | 'sll' | 'sll2' | 'null-le' | 'loop' | 'raw';
export const LINK_TYPES: Record<Link, number> = { ethernet: 1, 'ethernet-vlan': 1, sll: 113, sll2: 276, 'null-le': 0, loop: 108, raw: 101 };

/** The frame of `link` around an IP packet. */
export function frame(link: Link, ip: Uint8Array): Uint8Array {
  const type = (ip[0] as number) >> 4 === 6 ? 0x86dd : 0x0800;
  const macs = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  switch (link) {
    case 'ethernet':
      // Ethernet pads frames to 60 bytes: the reader must stop at the IP length.
      return pad(Uint8Array.from([...macs, ...be16(type), ...ip]), 60);
    case 'ethernet-vlan':
      return Uint8Array.from([...macs, ...be16(0x8100), 0, 42, ...be16(type), ...ip]);
    case 'sll':
      return Uint8Array.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...be16(type), ...ip]);
    case 'sll2':
      return Uint8Array.from([...be16(type), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...ip]);
    case 'null-le':
      return Uint8Array.from([type === 0x0800 ? 2 : 30, 0, 0, 0, ...ip]);
    case 'loop':
      return Uint8Array.from([0, 0, 0, type === 0x0800 ? 2 : 24, ...ip]);
    case 'raw':
      return ip;
  }
}

function pad(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

class Bytes {
  private parts: number[] = [];
  constructor(private readonly little: boolean) {}
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u16(v: number): this {
    const b = [v & 0xff, (v >> 8) & 0xff];
    return this.u8(...(this.little ? b : b.reverse()));
  }
  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    return this.u8(...(this.little ? b : b.reverse()));
  }
  bytes(b: Uint8Array): this {
    return this.u8(...b);
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A classic pcap file. */
export function pcapFile(
  linkType: number,
  frames: Array<{ time: number; data: Uint8Array }>,
  opts: { little?: boolean; nanos?: boolean } = {},
): Uint8Array {
  const little = opts.little ?? true;
  const w = new Bytes(little)
    .u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(262144)
    .u32(linkType);
  for (const f of frames) {
    const sec = Math.floor(f.time);
    const frac = Math.round((f.time - sec) * (opts.nanos ? 1e9 : 1e6));
    w.u32(sec).u32(frac).u32(f.data.length).u32(f.data.length).bytes(f.data);
  }
  return w.done();
}

export type PcapngBlock =
  | { kind: 'idb'; linkType: number; tsresol?: number }
  | { kind: 'epb'; iface: number; units: bigint; data: Uint8Array }
  | { kind: 'spb'; data: Uint8Array }
  | { kind: 'pb'; iface: number; units: bigint; data: Uint8Array }
  | { kind: 'dsb'; keylog: string }
  | { kind: 'other'; type: number; body: Uint8Array };

/** One pcapng section: a Section Header Block, then `blocks`. */
export function pcapngSection(blocks: PcapngBlock[], little = true): Uint8Array {
  const out = new Bytes(little);
  const block = (type: number, body: Uint8Array) => {
    const padded = Math.ceil(body.length / 4) * 4;
    const total = 12 + padded;
    out
      .u32(type)
      .u32(total)
      .bytes(body)
      .u8(...new Array(padded - body.length).fill(0))
      .u32(total);
  };
  block(0x0a0d0d0a, new Bytes(little).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).done());
  for (const b of blocks) {
    const body = new Bytes(little);
    switch (b.kind) {
      case 'idb':
        body.u16(b.linkType).u16(0).u32(262144);
        if (b.tsresol !== undefined) body.u16(9).u16(1).u8(b.tsresol, 0, 0, 0);
        body.u16(0).u16(0);
        block(1, body.done());
        break;
      case 'epb':
      case 'pb': {
        if (b.kind === 'epb') body.u32(b.iface);
        else body.u16(b.iface).u16(0);
        body
          .u32(Number(b.units >> 32n))
          .u32(Number(b.units & 0xffffffffn))
          .u32(b.data.length)
          .u32(b.data.length)
          .bytes(b.data);
        block(b.kind === 'epb' ? 6 : 2, body.done());
        break;
      }
      case 'spb':
        block(3, body.u32(b.data.length).bytes(b.data).done());
        break;
      case 'dsb': {
        const text = new TextEncoder().encode(b.keylog);
        block(0x0a, body.u32(0x544c534b).u32(text.length).bytes(text).done());
        break;
      }
      case 'other':
        block(b.type, b.body);
        break;
    }
  }
  return out.done();
}
