/**
 * From a captured frame to a TCP segment: the link layer (Ethernet with
 * 802.1Q/802.1ad tags, Linux cooked capture v1 and v2, BSD and OpenBSD
 * loopback, raw IP), IPv4 (RFC 791) or IPv6 with its extension headers
 * (RFC 8200 §4), then the TCP header (RFC 9293 §3.1).
 *
 * Checksums are not verified: captures on loopback, and on hosts with
 * checksum offload, carry checksums the NIC never filled in. Fragmented IP
 * packets are reported, not reassembled (TCP stacks avoid fragmentation).
 */
import type { CapturedPacket } from './capture.js';

/** LINKTYPE_* values read here (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** DLT_RAW as some systems wrote it into files before LINKTYPE_RAW existed. */
const RAW_ALIASES = new Set([12, 14]);

export interface TcpSegment {
  packet: number;
  time: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: { syn: boolean; ack: boolean; fin: boolean; rst: boolean };
  payload: Uint8Array;
  /** Offset of payload[0] in the capture file. */
  payloadOffset: number;
}

export type Decoded = { ok: true; segment: TcpSegment } | { ok: false; skip: string };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const IPPROTO_TCP = 6;

const u16 = (b: Uint8Array, i: number) => (((b[i] as number) << 8) | (b[i + 1] as number)) >>> 0;
const u32 = (b: Uint8Array, i: number) =>
  (((b[i] as number) << 24) | ((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number)) >>> 0;

/** Decode one captured frame down to its TCP segment, or say why it is not one. */
export function tcpSegmentOf(p: CapturedPacket): Decoded {
  const ip = networkLayer(p.linkType, p.data);
  if (typeof ip === 'string') return { ok: false, skip: ip };
  const b = p.data;
  const version = (b[ip] ?? 0) >> 4;
  if (version === 4) return ipv4(p, ip);
  if (version === 6) return ipv6(p, ip);
  return { ok: false, skip: `IP version ${version}` };
}

/** Where the IP header starts, or why there is none. */
function networkLayer(linkType: number, b: Uint8Array): number | string {
  switch (linkType) {
    case LinkType.ETHERNET: {
      let at = 12;
      let type = u16(b, at);
      while ((type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && at + 6 <= b.length) {
        at += 4;
        type = u16(b, at);
      }
      if (b.length < at + 2) return 'a truncated Ethernet header';
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? at + 2 : `ethertype 0x${type.toString(16).padStart(4, '0')}`;
    }
    case LinkType.LINUX_SLL: {
      if (b.length < 16) return 'a truncated Linux cooked header';
      const type = u16(b, 14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 16 : `protocol 0x${type.toString(16)}`;
    }
    case LinkType.LINUX_SLL2: {
      if (b.length < 20) return 'a truncated Linux cooked v2 header';
      const type = u16(b, 0);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 20 : `protocol 0x${type.toString(16)}`;
    }
    case LinkType.NULL:
    case LinkType.LOOP:
      // A 4-byte address family in the capturing host's byte order (NULL) or network order (LOOP);
      // its values for IPv6 differ between systems, so the IP version nibble decides.
      return b.length < 5 ? 'a truncated loopback header' : 4;
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return 0;
    default:
      return RAW_ALIASES.has(linkType) ? 0 : `link type ${linkType} is not read by tlschart`;
  }
}

function ipv4(p: CapturedPacket, at: number): Decoded {
  const b = p.data;
  if (b.length < at + 20) return { ok: false, skip: 'a truncated IPv4 header' };
  const ihl = ((b[at] as number) & 0x0f) * 4;
  const total = u16(b, at + 2);
  const flagsFrag = u16(b, at + 6);
  if ((flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0) return { ok: false, skip: 'an IPv4 fragment (not reassembled)' };
  if (b[at + 9] !== IPPROTO_TCP) return { ok: false, skip: `IP protocol ${b[at + 9]}` };
  const src = [...b.subarray(at + 12, at + 16)].join('.');
  const dst = [...b.subarray(at + 16, at + 20)].join('.');
  // The IPv4 total length bounds the segment (Ethernet pads short frames); 0 means TSO left it unset.
  const end = total >= ihl ? Math.min(b.length, at + total) : b.length;
  return tcp(p, at + ihl, end, src, dst);
}

const IPV6_EXTENSIONS = new Set([0, 43, 60, 51]); // hop-by-hop, routing, destination options, AH

function ipv6(p: CapturedPacket, at: number): Decoded {
  const b = p.data;
  if (b.length < at + 40) return { ok: false, skip: 'a truncated IPv6 header' };
  const payloadLength = u16(b, at + 4);
  let next = b[at + 6] as number;
  const src = ipv6Text(b.subarray(at + 8, at + 24));
  const dst = ipv6Text(b.subarray(at + 24, at + 40));
  const end = payloadLength === 0 ? b.length : Math.min(b.length, at + 40 + payloadLength);
  let h = at + 40;
  while (IPV6_EXTENSIONS.has(next)) {
    if (h + 2 > end) return { ok: false, skip: 'a truncated IPv6 extension header' };
    const len = next === 51 ? ((b[h + 1] as number) + 2) * 4 : ((b[h + 1] as number) + 1) * 8;
    next = b[h] as number;
    h += len;
  }
  if (next === 44) return { ok: false, skip: 'an IPv6 fragment (not reassembled)' };
  if (next !== IPPROTO_TCP) return { ok: false, skip: `IPv6 next header ${next}` };
  return tcp(p, h, end, src, dst);
}

function ipv6Text(a: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(u16(a, i).toString(16));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function tcp(p: CapturedPacket, at: number, end: number, src: string, dst: string): Decoded {
  const b = p.data;
  if (end < at + 20) return { ok: false, skip: 'a truncated TCP header' };
  const dataOffset = ((b[at + 12] as number) >> 4) * 4;
  if (dataOffset < 20 || at + dataOffset > end) return { ok: false, skip: 'a TCP header with a bad data offset' };
  const f = b[at + 13] as number;
  return {
    ok: true,
    segment: {
      packet: p.number,
      time: p.time,
      src,
      dst,
      srcPort: u16(b, at),
      dstPort: u16(b, at + 2),
      seq: u32(b, at + 4),
      ack: u32(b, at + 8),
      flags: { fin: (f & 0x01) !== 0, syn: (f & 0x02) !== 0, rst: (f & 0x04) !== 0, ack: (f & 0x10) !== 0 },
      payload: b.subarray(at + dataOffset, end),
      payloadOffset: p.offset + at + dataOffset,
    },
  };
}

/** "127.0.0.1:4433", "[::1]:4433". */
export const endpoint = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
