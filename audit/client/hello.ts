/**
 * What the probing server reads in a ClientHello, leniently: the audited
 * client may send what tlschart's codec refuses (pre_shared_key before the
 * last extension, RFC 8446 §4.2.11), and the check must still see the
 * identities, the binders and where the binders start in the raw bytes
 * (the binder is computed over the hello truncated there, §4.2.11.2).
 *
 * The outer structure (§4.1.2) is walked by hand; the extensions are then
 * decoded by tlschart's codec, with pre_shared_key moved last when the
 * client put it elsewhere, so every other rule of the codec still applies.
 */
import { decodeExtensions, findExtension } from '../../wire/extensions.js';
import { type ClientHello, type Extension, ExtensionType } from '../../wire/types.js';

/** One extension as it was on the wire. */
export interface RawExtension {
  code: number;
  /** extension_data, without the 4-byte type/length header. */
  data: Uint8Array;
}

export interface ParsedHello {
  /** The decoded hello; its `raw` is the bytes as received. */
  hello: ClientHello;
  /** The extensions in the order the client sent them. */
  extensions: RawExtension[];
  /** Whether pre_shared_key, if present, is the last extension (§4.2.11). */
  pskLast: boolean;
  /** Offset in `raw` of the binders list (its 2-byte length), when a pre_shared_key was sent. */
  bindersOffset: number | undefined;
}

export type ParseResult = { ok: true; value: ParsedHello } | { ok: false; error: string };

class Cursor {
  o = 0;
  constructor(readonly b: Uint8Array) {}
  need(n: number, what: string): void {
    if (this.o + n > this.b.length) throw new RangeError(`${what}: the hello ends early`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.o++] as number;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = ((this.b[this.o] as number) << 8) | (this.b[this.o + 1] as number);
    this.o += 2;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.o += n;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
}

/** Re-encode raw extensions as an extension block (2-byte length prefix). */
function block(exts: readonly RawExtension[]): Uint8Array {
  const len = exts.reduce((n, e) => n + 4 + e.data.length, 0);
  const out = new Uint8Array(2 + len);
  out[0] = len >> 8;
  out[1] = len & 0xff;
  let o = 2;
  for (const e of exts) {
    out.set([e.code >> 8, e.code & 0xff, e.data.length >> 8, e.data.length & 0xff], o);
    out.set(e.data, o + 4);
    o += 4 + e.data.length;
  }
  return out;
}

/** Parse a ClientHello handshake message (header included), tolerating pre_shared_key before the last extension. */
export function parseClientHello(raw: Uint8Array): ParseResult {
  try {
    const c = new Cursor(raw);
    if (c.u8('msg_type') !== 1) return { ok: false, error: 'not a ClientHello' };
    c.skip(3, 'length');
    const legacyVersion = c.u16('legacy_version');
    const random = c.bytes(32, 'random').slice();
    const legacySessionId = c.bytes(c.u8('legacy_session_id length'), 'legacy_session_id').slice();
    const suitesLen = c.u16('cipher_suites length');
    const suiteBytes = c.bytes(suitesLen, 'cipher_suites');
    const cipherSuites: number[] = [];
    for (let i = 0; i + 1 < suiteBytes.length; i += 2) cipherSuites.push(((suiteBytes[i] as number) << 8) | (suiteBytes[i + 1] as number));
    const legacyCompressionMethods = c.bytes(c.u8('compression length'), 'legacy_compression_methods').slice();
    const extensions: RawExtension[] = [];
    let bindersOffset: number | undefined;
    if (c.o < raw.length) {
      const end = c.o + 2 + c.u16('extensions length');
      if (end > raw.length) return { ok: false, error: 'extensions: the hello ends early' };
      while (c.o < end) {
        const code = c.u16('extension_type');
        const len = c.u16('extension length');
        const start = c.o;
        const data = c.bytes(len, 'extension_data').slice();
        if (code === ExtensionType.pre_shared_key && len >= 2) {
          const identitiesLen = ((data[0] as number) << 8) | (data[1] as number);
          bindersOffset = start + 2 + identitiesLen;
        }
        extensions.push({ code, data });
      }
    }
    const pskIndex = extensions.findIndex((e) => e.code === ExtensionType.pre_shared_key);
    const pskLast = pskIndex < 0 || pskIndex === extensions.length - 1;
    const ordered = pskLast ? extensions : [...extensions.filter((_, i) => i !== pskIndex), extensions[pskIndex] as RawExtension];
    const decoded =
      extensions.length === 0 ? { ok: true as const, value: [] as Extension[] } : decodeExtensions(block(ordered), 'client_hello');
    if (!decoded.ok) return { ok: false, error: decoded.error.message };
    const hello: ClientHello = {
      type: 'client_hello',
      legacyVersion,
      random,
      legacySessionId,
      cipherSuites,
      legacyCompressionMethods,
      extensions: decoded.value,
      raw: raw.slice(),
    };
    return { ok: true, value: { hello, extensions, pskLast, bindersOffset } };
  } catch (e) {
    if (e instanceof RangeError) return { ok: false, error: e.message };
    throw e;
  }
}

/** The hello truncated before its binders list (§4.2.11.2), or undefined without a pre_shared_key. */
export function truncatedHello(p: ParsedHello): Uint8Array | undefined {
  return p.bindersOffset === undefined ? undefined : p.hello.raw.slice(0, p.bindersOffset);
}

/** The psk_key_exchange_modes of a hello (undefined: the extension is absent). */
export const modesOf = (ch: ClientHello): number[] | undefined => findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes;

/** The server_name of a hello (undefined: no SNI). */
export const sniOf = (ch: ClientHello): string | undefined => findExtension(ch.extensions, 'server_name')?.hostName;

/** Whether two byte arrays are equal (public values only). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
