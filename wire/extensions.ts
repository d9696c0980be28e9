/**
 * Extension blocks (RFC 8446 §4.2, §B.3.1): `Extension extensions<..>` with
 * one body format per extension and, for some, per message ("context").
 *
 * Decoding picks the form from the context (a `key_share` in a ClientHello is
 * a list of shares, in a ServerHello one share, in a HelloRetryRequest a
 * selected group). A known extension in a context where the §4.2 table does
 * not allow it is still decoded, in the form its context implies, and kept;
 * {@link extensionAllowedIn} tells the state machines so they can answer with
 * `illegal_parameter`. Unknown extension codes are kept as
 * `{ type: 'unknown', code, data }`.
 *
 * Checks made here, each with the alert RFC 8446 calls for:
 * - vector bounds of every field (decode_error), trailing bytes (decode_error),
 *   a malformed body of a known extension (decode_error);
 * - the same extension type twice in one block (illegal_parameter, §4.2);
 * - `pre_shared_key` not last in a ClientHello (illegal_parameter, §4.2.11);
 * - a different number of PSK identities and binders (illegal_parameter, §4.2.11.2);
 * - two client key shares for the same group (illegal_parameter, §4.2.8);
 * - more than one host_name in server_name (illegal_parameter, RFC 6066 §3).
 */

import { bytesKey } from './bytes.js';
import { decodeWith, fail, type Reader } from './reader.js';
import type { Decoded, Extension, ExtensionContext, ExtensionName, KeyShareEntry, PskIdentity } from './types.js';
import { ExtensionType } from './types.js';
import { encodeFail, Writer } from './writer.js';

const U16_MAX = 0xffff;

const KNOWN_CODES: ReadonlySet<number> = new Set<number>(Object.values(ExtensionType));

/** Whether tlschart decodes `code` into a named form (otherwise it stays `unknown`). */
export function isKnownExtensionCode(code: number): boolean {
  return KNOWN_CODES.has(code);
}

/** The extension_type code of an extension. */
export function extensionCode(ext: Extension): number {
  switch (ext.type) {
    case 'server_name':
      return ExtensionType.server_name;
    case 'supported_groups':
      return ExtensionType.supported_groups;
    case 'signature_algorithms':
      return ExtensionType.signature_algorithms;
    case 'signature_algorithms_cert':
      return ExtensionType.signature_algorithms_cert;
    case 'supported_versions_client':
    case 'supported_versions_server':
      return ExtensionType.supported_versions;
    case 'key_share_client':
    case 'key_share_server':
    case 'key_share_hrr':
      return ExtensionType.key_share;
    case 'psk_key_exchange_modes':
      return ExtensionType.psk_key_exchange_modes;
    case 'pre_shared_key_client':
    case 'pre_shared_key_server':
      return ExtensionType.pre_shared_key;
    case 'early_data':
    case 'early_data_ticket':
      return ExtensionType.early_data;
    case 'cookie':
      return ExtensionType.cookie;
    case 'alpn':
      return ExtensionType.application_layer_protocol_negotiation;
    case 'unknown':
      return ext.code;
  }
}

/** Field-path prefixes of the known extension codes (the first name of a code), built once: every extension read or written asks. */
const FIELD_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>([[ExtensionType.application_layer_protocol_negotiation, 'alpn']]);
  for (const [name, code] of Object.entries(ExtensionType)) if (!names.has(code)) names.set(code, name);
  return names;
})();

/** Field-path prefix for an extension code in failure reports. */
function fieldName(code: number): string {
  return FIELD_NAMES.get(code) ?? `extension_${code}`;
}

/**
 * Bounds of the whole extension block per message (§B.3).
 *
 * ClientHello and ServerHello/HelloRetryRequest: RFC 8446 writes
 * `<8..2^16-1>` and `<6..2^16-1>`, but a pre-1.3 peer may legitimately send a
 * shorter block (or none, §4.1.2) and must get `protocol_version` from the
 * state machine, not `decode_error` from the codec. So a present block must
 * only be non-empty; an absent block decodes as `[]` (see handshake.ts), and
 * `[]` encodes as an absent block, which keeps the encoding canonical.
 */
export const EXTENSION_BLOCK_BOUNDS: Readonly<Record<ExtensionContext, readonly [number, number]>> = {
  client_hello: [1, U16_MAX],
  server_hello: [1, U16_MAX],
  hello_retry_request: [1, U16_MAX],
  encrypted_extensions: [0, U16_MAX],
  certificate_request: [2, U16_MAX],
  certificate_entry: [0, U16_MAX],
  new_session_ticket: [0, U16_MAX - 1],
};

// ------------------------------------------------------------------ §4.2 table

type Ctx = ExtensionContext;
const CH: Ctx = 'client_hello';
const SH: Ctx = 'server_hello';
const HRR: Ctx = 'hello_retry_request';
const EE: Ctx = 'encrypted_extensions';
const CR: Ctx = 'certificate_request';
const CT: Ctx = 'certificate_entry';
const NST: Ctx = 'new_session_ticket';

/** RFC 8446 §4.2: which messages each extension defined there may appear in. */
const ALLOWED: ReadonlyMap<number, readonly Ctx[]> = new Map<number, readonly Ctx[]>([
  [0, [CH, EE]], // server_name
  [1, [CH, EE]], // max_fragment_length
  [5, [CH, CR, CT]], // status_request
  [10, [CH, EE]], // supported_groups
  [13, [CH, CR]], // signature_algorithms
  [14, [CH, EE]], // use_srtp
  [15, [CH, EE]], // heartbeat
  [16, [CH, EE]], // application_layer_protocol_negotiation
  [18, [CH, CR, CT]], // signed_certificate_timestamp
  [19, [CH, EE]], // client_certificate_type
  [20, [CH, EE]], // server_certificate_type
  [21, [CH]], // padding
  [41, [CH, SH]], // pre_shared_key
  [42, [CH, EE, NST]], // early_data
  [43, [CH, SH, HRR]], // supported_versions
  [44, [CH, HRR]], // cookie
  [45, [CH]], // psk_key_exchange_modes
  [47, [CH, CR]], // certificate_authorities
  [48, [CR]], // oid_filters
  [49, [CH]], // post_handshake_auth
  [50, [CH, CR]], // signature_algorithms_cert
  [51, [CH, SH, HRR]], // key_share
]);

/**
 * Whether the decoded form of `ext` is the one its context decodes to (a
 * `key_share_client` only in a ClientHello, an `early_data_ticket` only in a
 * NewSessionTicket, a `server_name` with a host name only in a ClientHello,
 * exactly one ALPN protocol in EncryptedExtensions, ...). The encoder refuses
 * an extension whose form does not fit, since it could not decode back.
 */
export function extensionFormFits(ext: Extension, context: ExtensionContext): boolean {
  switch (ext.type) {
    case 'server_name':
      return (ext.hostName !== undefined) === (context === CH);
    case 'supported_versions_client':
    case 'key_share_client':
    case 'pre_shared_key_client':
      return context === CH;
    case 'supported_versions_server':
    case 'pre_shared_key_server':
      return context !== CH;
    case 'key_share_hrr':
      return context === HRR;
    case 'key_share_server':
      return context !== CH && context !== HRR;
    case 'early_data':
      return context !== NST;
    case 'early_data_ticket':
      return context === NST;
    case 'alpn':
      return context !== EE || ext.protocols.length === 1;
    case 'unknown':
      return !KNOWN_CODES.has(ext.code);
    default:
      return true;
  }
}

/**
 * RFC 8446 §4.2 table: may `ext` appear in `context`? A recognised extension
 * outside its messages calls for `illegal_parameter`. Extension codes the
 * table does not list are reported as allowed: whether the peer may send
 * them (e.g. only if offered, else `unsupported_extension`) is for the state
 * machines to decide.
 */
export function extensionAllowedIn(ext: Extension, context: ExtensionContext): boolean {
  if (!extensionFormFits(ext, context)) return false;
  const allowed = ALLOWED.get(extensionCode(ext));
  return allowed === undefined || allowed.includes(context);
}

/** The first extension of `exts` that may not appear in `context`, if any. */
export function findDisallowedExtension(exts: readonly Extension[], context: ExtensionContext): Extension | undefined {
  return exts.find((e) => !extensionAllowedIn(e, context));
}

/** Typed lookup: `findExtension(exts, 'key_share_client')?.shares`. */
export function findExtension<T extends ExtensionName>(exts: readonly Extension[], type: T): Extract<Extension, { type: T }> | undefined {
  return exts.find((e): e is Extract<Extension, { type: T }> => e.type === type);
}

/** Lookup by extension_type code, whatever its form. */
export function findExtensionByCode(exts: readonly Extension[], code: number): Extension | undefined {
  return exts.find((e) => extensionCode(e) === code);
}

// ------------------------------------------------------------------ strings

/** RFC 6066 §3: a HostName is an ASCII DNS name; tlschart accepts printable ASCII without space. */
function isHostNameByte(b: number): boolean {
  return b >= 0x21 && b <= 0x7e;
}

/**
 * ALPN ProtocolNames are opaque bytes (RFC 7301 §3.1); they are kept as a
 * binary string (one char per byte, U+0000..U+00FF) so that every name
 * decodes and re-encodes to the same bytes. ASCII names ("h2",
 * "http/1.1") read as themselves.
 */

function binaryStringToBytes(s: string, field: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) encodeFail(field, `character U+${c.toString(16)} is not a byte`);
    out[i] = c;
  }
  return out;
}

// ------------------------------------------------------------------ decode

function readKeyShareEntry(r: Reader): KeyShareEntry {
  const group = r.u16('key_share.group');
  const keyExchange = r.opaque16('key_share.key_exchange', 1, U16_MAX);
  return { group, keyExchange };
}

/** Decode one extension body (already isolated in `r`) in `context`. */
function readExtensionBody(code: number, r: Reader, context: ExtensionContext): Extension {
  switch (code) {
    case ExtensionType.server_name: {
      // RFC 6066 §3: ServerNameList in the ClientHello; an empty body from the server.
      if (context !== CH) return { type: 'server_name', hostName: undefined };
      const list = r.vec16('server_name.server_name_list', 1, U16_MAX);
      let hostName: string | undefined;
      while (!list.isEmpty()) {
        const nameType = list.u8('server_name.name_type');
        if (nameType !== 0) fail('DecodeError', 'server_name.name_type', `unknown NameType ${nameType}`);
        const name = list.opaque16('server_name.host_name', 1, U16_MAX);
        if (hostName !== undefined) {
          fail('IllegalFieldValue', 'server_name.server_name_list', 'more than one host_name');
        }
        if (!name.every(isHostNameByte)) {
          fail('DecodeError', 'server_name.host_name', 'is not a printable ASCII host name');
        }
        hostName = bytesKey(name);
      }
      return { type: 'server_name', hostName };
    }
    case ExtensionType.supported_groups:
      return { type: 'supported_groups', groups: r.u16List('supported_groups.named_group_list', 2, U16_MAX) };
    case ExtensionType.signature_algorithms:
      return {
        type: 'signature_algorithms',
        schemes: r.u16List('signature_algorithms.supported_signature_algorithms', 2, U16_MAX - 1),
      };
    case ExtensionType.signature_algorithms_cert:
      return {
        type: 'signature_algorithms_cert',
        schemes: r.u16List('signature_algorithms_cert.supported_signature_algorithms', 2, U16_MAX - 1),
      };
    case ExtensionType.application_layer_protocol_negotiation: {
      const list = r.vec16('alpn.protocol_name_list', 2, U16_MAX);
      const protocols: string[] = [];
      while (!list.isEmpty()) protocols.push(bytesKey(list.opaque8('alpn.protocol_name', 1, 255)));
      if (context === EE && protocols.length !== 1) {
        // RFC 7301 §3.1: the server's ProtocolNameList contains exactly one name.
        fail('DecodeError', 'alpn.protocol_name_list', `must hold exactly one protocol, got ${protocols.length}`);
      }
      return { type: 'alpn', protocols };
    }
    case ExtensionType.pre_shared_key: {
      if (context !== CH) return { type: 'pre_shared_key_server', selectedIdentity: r.u16('pre_shared_key.selected_identity') };
      const ids = r.vec16('pre_shared_key.identities', 7, U16_MAX);
      const identities: PskIdentity[] = [];
      while (!ids.isEmpty()) {
        const identity = ids.opaque16('pre_shared_key.identity', 1, U16_MAX);
        const obfuscatedTicketAge = ids.u32('pre_shared_key.obfuscated_ticket_age');
        identities.push({ identity, obfuscatedTicketAge });
      }
      const bs = r.vec16('pre_shared_key.binders', 33, U16_MAX);
      const binders: Uint8Array[] = [];
      while (!bs.isEmpty()) binders.push(bs.opaque8('pre_shared_key.binder', 32, 255));
      if (binders.length !== identities.length) {
        fail(
          'BinderCountMismatch',
          'pre_shared_key.binders',
          `${binders.length} binder(s) for ${identities.length} identit${identities.length === 1 ? 'y' : 'ies'}`,
        );
      }
      return { type: 'pre_shared_key_client', identities, binders };
    }
    case ExtensionType.early_data:
      if (context === NST) return { type: 'early_data_ticket', maxEarlyDataSize: r.u32('early_data.max_early_data_size') };
      return { type: 'early_data' };
    case ExtensionType.supported_versions:
      if (context === CH) return { type: 'supported_versions_client', versions: r.u16List('supported_versions.versions', 2, 254) };
      return { type: 'supported_versions_server', version: r.u16('supported_versions.selected_version') };
    case ExtensionType.cookie:
      return { type: 'cookie', cookie: r.opaque16('cookie.cookie', 1, U16_MAX) };
    case ExtensionType.psk_key_exchange_modes:
      return { type: 'psk_key_exchange_modes', modes: r.u8List('psk_key_exchange_modes.ke_modes', 1, 255) };
    case ExtensionType.key_share: {
      if (context === HRR) return { type: 'key_share_hrr', selectedGroup: r.u16('key_share.selected_group') };
      if (context !== CH) return { type: 'key_share_server', share: readKeyShareEntry(r) };
      const list = r.vec16('key_share.client_shares', 0, U16_MAX);
      const shares: KeyShareEntry[] = [];
      const groups = new Set<number>();
      while (!list.isEmpty()) {
        const share = readKeyShareEntry(list);
        if (groups.has(share.group)) {
          fail('DuplicateKeyShare', 'key_share.client_shares', `two shares for group ${share.group}`);
        }
        groups.add(share.group);
        shares.push(share);
      }
      return { type: 'key_share_client', shares };
    }
    default:
      return { type: 'unknown', code, data: r.rest() };
  }
}

/**
 * Read an extension block (its 2-byte length and content) from `r`.
 * Used by the handshake decoders; failures are raised, not returned.
 */
export function readExtensions(r: Reader, context: ExtensionContext): Extension[] {
  const field = `${context}.extensions`;
  const [min, max] = EXTENSION_BLOCK_BOUNDS[context];
  const block = r.vec16(field, min, max);
  const seen = new Set<number>();
  const out: Extension[] = [];
  while (!block.isEmpty()) {
    const code = block.u16(`${field}.extension_type`);
    const name = fieldName(code);
    const body = block.vec16(`${name}.extension_data`, 0, U16_MAX);
    if (seen.has(code)) fail('DuplicateExtension', field, `extension ${name} (${code}) appears more than once`);
    seen.add(code);
    out.push(readExtensionBody(code, body, context));
    body.expectEnd(name);
  }
  if (context === CH) {
    const i = out.findIndex((e) => e.type === 'pre_shared_key_client');
    if (i !== -1 && i !== out.length - 1) {
      fail('PskNotLast', field, 'pre_shared_key is not the last extension');
    }
  }
  return out;
}

/** Decode a whole extension block (2-byte length prefix included) for `context`. */
export function decodeExtensions(block: Uint8Array, context: ExtensionContext): Decoded<Extension[]> {
  return decodeWith(block, `${context}.extensions`, (r) => readExtensions(r, context));
}

// ------------------------------------------------------------------ encode

function writeKeyShareEntry(w: Writer, s: KeyShareEntry): void {
  w.u16(s.group, 'key_share.group');
  w.opaque16(s.keyExchange, 'key_share.key_exchange', 1, U16_MAX);
}

function writeExtensionBody(w: Writer, ext: Extension): void {
  switch (ext.type) {
    case 'server_name': {
      if (ext.hostName === undefined) return;
      const name = binaryStringToBytes(ext.hostName, 'server_name.host_name');
      if (!name.every(isHostNameByte)) encodeFail('server_name.host_name', 'is not a printable ASCII host name');
      w.vec16('server_name.server_name_list', 1, U16_MAX, (l) => {
        l.u8(0, 'server_name.name_type');
        l.opaque16(name, 'server_name.host_name', 1, U16_MAX);
      });
      return;
    }
    case 'supported_groups':
      w.u16List(ext.groups, 'supported_groups.named_group_list', 2, U16_MAX);
      return;
    case 'signature_algorithms':
      w.u16List(ext.schemes, 'signature_algorithms.supported_signature_algorithms', 2, U16_MAX - 1);
      return;
    case 'signature_algorithms_cert':
      w.u16List(ext.schemes, 'signature_algorithms_cert.supported_signature_algorithms', 2, U16_MAX - 1);
      return;
    case 'supported_versions_client':
      w.u16List(ext.versions, 'supported_versions.versions', 2, 254);
      return;
    case 'supported_versions_server':
      w.u16(ext.version, 'supported_versions.selected_version');
      return;
    case 'key_share_client': {
      const groups = new Set(ext.shares.map((s) => s.group));
      if (groups.size !== ext.shares.length) encodeFail('key_share.client_shares', 'two shares for one group');
      w.vec16('key_share.client_shares', 0, U16_MAX, (l) => {
        for (const s of ext.shares) writeKeyShareEntry(l, s);
      });
      return;
    }
    case 'key_share_server':
      writeKeyShareEntry(w, ext.share);
      return;
    case 'key_share_hrr':
      w.u16(ext.selectedGroup, 'key_share.selected_group');
      return;
    case 'psk_key_exchange_modes':
      w.u8List(ext.modes, 'psk_key_exchange_modes.ke_modes', 1, 255);
      return;
    case 'pre_shared_key_client':
      if (ext.binders.length !== ext.identities.length) {
        encodeFail('pre_shared_key.binders', 'one binder per identity is required');
      }
      w.vec16('pre_shared_key.identities', 7, U16_MAX, (l) => {
        for (const id of ext.identities) {
          l.opaque16(id.identity, 'pre_shared_key.identity', 1, U16_MAX);
          l.u32(id.obfuscatedTicketAge, 'pre_shared_key.obfuscated_ticket_age');
        }
      });
      w.vec16('pre_shared_key.binders', 33, U16_MAX, (l) => {
        for (const b of ext.binders) l.opaque8(b, 'pre_shared_key.binder', 32, 255);
      });
      return;
    case 'pre_shared_key_server':
      w.u16(ext.selectedIdentity, 'pre_shared_key.selected_identity');
      return;
    case 'early_data':
      return;
    case 'early_data_ticket':
      w.u32(ext.maxEarlyDataSize, 'early_data.max_early_data_size');
      return;
    case 'cookie':
      w.opaque16(ext.cookie, 'cookie.cookie', 1, U16_MAX);
      return;
    case 'alpn':
      w.vec16('alpn.protocol_name_list', 2, U16_MAX, (l) => {
        for (const p of ext.protocols) l.opaque8(binaryStringToBytes(p, 'alpn.protocol_name'), 'alpn.protocol_name', 1, 255);
      });
      return;
    case 'unknown':
      w.bytes(ext.data);
      return;
  }
}

/**
 * Write an extension block (2-byte length and content) for `context`.
 * Refuses (TlsError internal_error) anything that would not decode back to
 * the same value: a form that does not fit the context, a duplicate type, a
 * ClientHello pre_shared_key that is not last, out-of-bounds vectors.
 */
export function writeExtensions(w: Writer, exts: readonly Extension[], context: ExtensionContext): void {
  const field = `${context}.extensions`;
  const [min, max] = EXTENSION_BLOCK_BOUNDS[context];
  const seen = new Set<number>();
  exts.forEach((ext, i) => {
    const code = extensionCode(ext);
    if (seen.has(code)) encodeFail(field, `extension ${fieldName(code)} (${code}) appears more than once`);
    seen.add(code);
    if (!extensionFormFits(ext, context)) encodeFail(field, `the ${ext.type} form cannot appear in ${context}`);
    if (ext.type === 'pre_shared_key_client' && i !== exts.length - 1) {
      encodeFail(field, 'pre_shared_key must be the last extension');
    }
  });
  w.vec16(field, min, max, (b) => {
    for (const ext of exts) {
      const code = extensionCode(ext);
      b.u16(code, `${field}.extension_type`);
      b.vec16(`${fieldName(code)}.extension_data`, 0, U16_MAX, (body) => writeExtensionBody(body, ext));
    }
  });
}

/** Encode an extension block (2-byte length prefix included) for `context`. */
export function encodeExtensions(exts: readonly Extension[], context: ExtensionContext): Uint8Array {
  const w = new Writer();
  writeExtensions(w, exts, context);
  return w.finish();
}
