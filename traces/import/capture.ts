/**
 * A small reader for packet capture files: classic pcap and pcapng.
 *
 * No npm package fits: `pcap-parser` reads classic pcap only (pcapng support
 * asked for since 2014, never added), `pcap-ng-parser` reads pcapng only (one
 * release), and `pcap` is a native libpcap binding that needs a compiler and
 * libpcap headers. Both formats are simple enough to read here.
 *
 * Classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html, and
 * draft-ietf-opsawg-pcap): a 24-byte file header whose magic number gives the
 * byte order and the timestamp resolution (0xa1b2c3d4 microseconds,
 * 0xa1b23c4d nanoseconds), then per packet a 16-byte header (seconds,
 * fraction, captured length, original length) and the captured bytes.
 *
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks `type, total
 * length, body, total length`, all in the byte order the Section Header Block
 * announces (byte-order magic 0x1a2b3c4d). Read here: Section Header (0x0a0d0d0a),
 * Interface Description (1; link type and if_tsresol), Enhanced Packet (6),
 * Simple Packet (3), the obsolete Packet block (2), and Decryption Secrets
 * (0x0a; TLS key logs, secrets type 0x544c534b "TLSK", as `editcap
 * --inject-secrets` writes them). Other blocks are skipped by their length.
 *
 * The reader never throws on file content: a file that is neither format, or
 * that ends in the middle of a block, is a result with the problem named
 * (packets read before the damage are kept).
 */

/** One captured frame. */
export interface CapturedPacket {
  /** 1-based, in file order (the number Wireshark shows). */
  number: number;
  /** LINKTYPE_* of the interface that captured it (https://www.tcpdump.org/linktypes.html). */
  linkType: number;
  /** Seconds since the epoch, as a float (microsecond precision is plenty for display and ordering). */
  time: number;
  /** The captured bytes (possibly fewer than were on the wire: see `originalLength`). */
  data: Uint8Array;
  originalLength: number;
  /** Offset of `data[0]` in the file, so tests and tools can point at a byte. */
  offset: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  packets: CapturedPacket[];
  /** TLS key log text found in pcapng Decryption Secrets Blocks (empty if none). */
  embeddedKeylog: string;
  /** What could not be read (a truncated last block, an unknown interface id…). */
  problems: string[];
}

export type CaptureResult = { ok: true; capture: Capture } | { ok: false; error: string };

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BLOCK_DSB = 0x0a;
const SECRETS_TLS_KEYLOG = 0x544c534b;
/** if_tsresol (pcapng §4.2 option 9): 10^-6 s unless the interface says otherwise. */
const OPT_IF_TSRESOL = 9;

/** Read a capture file of either format. */
export function readCapture(bytes: Uint8Array): CaptureResult {
  if (bytes.length < 4) return { ok: false, error: `${bytes.length} bytes is too short for a pcap or pcapng file` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = view.getUint32(0, false);
  if (be === PCAPNG_SHB) return readPcapng(bytes, view);
  for (const little of [false, true]) {
    const magic = view.getUint32(0, little);
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) return readPcap(bytes, view, little, magic === PCAP_MAGIC_NS);
  }
  return { ok: false, error: `not a pcap or pcapng file (starts with 0x${be.toString(16).padStart(8, '0')})` };
}

function readPcap(bytes: Uint8Array, view: DataView, little: boolean, nanos: boolean): CaptureResult {
  if (bytes.length < 24) return { ok: false, error: 'pcap: the file header is cut short' };
  const major = view.getUint16(4, little);
  if (major !== 2) return { ok: false, error: `pcap: unsupported version ${major}.${view.getUint16(6, little)}` };
  // The link-type field's upper bits may carry FCS information (draft-ietf-opsawg-pcap §4): keep the low 28.
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  const problems: string[] = [];
  let at = 24;
  while (at < bytes.length) {
    if (at + 16 > bytes.length) {
      problems.push(`pcap: ${bytes.length - at} trailing bytes after packet ${packets.length}, not a whole record header`);
      break;
    }
    const sec = view.getUint32(at, little);
    const frac = view.getUint32(at + 4, little);
    const caplen = view.getUint32(at + 8, little);
    const origlen = view.getUint32(at + 12, little);
    if (at + 16 + caplen > bytes.length) {
      problems.push(`pcap: packet ${packets.length + 1} is cut short (${caplen} bytes announced, ${bytes.length - at - 16} present)`);
      break;
    }
    packets.push({
      number: packets.length + 1,
      linkType,
      time: sec + frac / (nanos ? 1e9 : 1e6),
      data: bytes.subarray(at + 16, at + 16 + caplen),
      originalLength: origlen,
      offset: at + 16,
    });
    at += 16 + caplen;
  }
  return { ok: true, capture: { format: 'pcap', packets, embeddedKeylog: '', problems } };
}

interface Interface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSecond: number;
}

function readPcapng(bytes: Uint8Array, view: DataView): CaptureResult {
  const packets: CapturedPacket[] = [];
  const problems: string[] = [];
  let keylog = '';
  let little = true;
  let interfaces: Interface[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) {
      problems.push(`pcapng: ${bytes.length - at} trailing bytes, not a whole block`);
      break;
    }
    const type = view.getUint32(at, little);
    if (type === PCAPNG_SHB) {
      // A new section: its byte order comes from the byte-order magic, read both ways.
      if (view.getUint32(at + 8, true) === PCAPNG_BYTE_ORDER) little = true;
      else if (view.getUint32(at + 8, false) === PCAPNG_BYTE_ORDER) little = false;
      else return { ok: false, error: `pcapng: section header at offset ${at} has no byte-order magic` };
      interfaces = [];
    }
    const length = view.getUint32(at + 4, little);
    if (length < 12 || length % 4 !== 0 || at + length > bytes.length) {
      problems.push(`pcapng: block at offset ${at} has a bad or cut-short length (${length})`);
      break;
    }
    if (view.getUint32(at + length - 4, little) !== length) {
      problems.push(`pcapng: block at offset ${at} does not end with its length`);
      break;
    }
    const body = at + 8;
    const bodyEnd = at + length - 4;
    switch (type) {
      case BLOCK_IDB: {
        const linkType = view.getUint16(body, little);
        interfaces.push({ linkType, unitsPerSecond: tsresol(view, body + 8, bodyEnd, little) });
        break;
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        const obsolete = type === BLOCK_PB;
        const ifId = obsolete ? view.getUint16(body, little) : view.getUint32(body, little);
        const high = view.getUint32(body + 4, little);
        const low = view.getUint32(body + 8, little);
        const caplen = view.getUint32(body + 12, little);
        const origlen = view.getUint32(body + 16, little);
        const dataAt = body + 20;
        const iface = interfaces[ifId];
        if (dataAt + caplen > bodyEnd) {
          problems.push(`pcapng: packet block at offset ${at} announces ${caplen} bytes but holds fewer`);
          break;
        }
        if (!iface) {
          problems.push(`pcapng: packet block at offset ${at} names interface ${ifId}, which was not described`);
          break;
        }
        const units = Number((BigInt(high) << 32n) | BigInt(low));
        packets.push({
          number: packets.length + 1,
          linkType: iface.linkType,
          time: units / iface.unitsPerSecond,
          data: bytes.subarray(dataAt, dataAt + caplen),
          originalLength: origlen,
          offset: dataAt,
        });
        break;
      }
      case BLOCK_SPB: {
        const iface = interfaces[0];
        if (!iface) {
          problems.push(`pcapng: simple packet block at offset ${at} before any interface was described`);
          break;
        }
        const origlen = view.getUint32(body, little);
        const dataAt = body + 4;
        const caplen = Math.min(origlen, bodyEnd - dataAt);
        packets.push({
          number: packets.length + 1,
          linkType: iface.linkType,
          time: 0,
          data: bytes.subarray(dataAt, dataAt + caplen),
          originalLength: origlen,
          offset: dataAt,
        });
        break;
      }
      case BLOCK_DSB: {
        const secretsType = view.getUint32(body, little);
        const len = view.getUint32(body + 4, little);
        if (secretsType === SECRETS_TLS_KEYLOG && body + 8 + len <= bodyEnd) {
          const text = new TextDecoder().decode(bytes.subarray(body + 8, body + 8 + len));
          keylog += text.endsWith('\n') ? text : `${text}\n`;
        }
        break;
      }
      default:
        break; // Name Resolution, Interface Statistics, custom blocks: nothing to import.
    }
    at += length;
  }
  return { ok: true, capture: { format: 'pcapng', packets, embeddedKeylog: keylog, problems } };
}

/** Units per second from the if_tsresol option: 10^-n when the top bit is clear, 2^-n when set. */
function tsresol(view: DataView, start: number, end: number, little: boolean): number {
  let at = start;
  while (at + 4 <= end) {
    const code = view.getUint16(at, little);
    const len = view.getUint16(at + 2, little);
    if (code === 0) break; // opt_endofopt
    if (code === OPT_IF_TSRESOL && len >= 1 && at + 4 < end) {
      const v = view.getUint8(at + 4);
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return 1e6;
}
