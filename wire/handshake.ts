/**
 * Handshake messages (RFC 8446 §4, §B.3): `Handshake { msg_type; uint24
 * length; body }`, one complete message at a time, keeping the exact bytes
 * in `raw` for the transcript hash.
 *
 * - `decodeHandshake(bytes, { hashLen })` is total: a message or a typed
 *   failure naming the field and the alert. An unknown msg_type is
 *   `unexpected_message`; the header length must match the input exactly.
 * - Finished: the body is `verify_data` and nothing else. Pass `hashLen`
 *   (Hash.length of the negotiated suite) to have its length checked here
 *   (decode_error otherwise); without it the whole body is taken as
 *   verify_data and the caller must check the length.
 * - ServerHello whose random is the HelloRetryRequest value (§4.1.3) decodes
 *   with `isHelloRetryRequest: true` and its extensions in the
 *   'hello_retry_request' context.
 * - ClientHello / ServerHello may carry no extension block at all (a pre-1.3
 *   peer, §4.1.2); that decodes as `extensions: []`, and `[]` encodes as no
 *   block, so every accepted input re-encodes to the same bytes.
 */
import { equalBytes, fromHex } from './bytes.js';
import { findExtension, readExtensions, writeExtensions } from './extensions.js';
import { decodeFailure, decodeOwned, decodeWith, fail, type Reader } from './reader.js';
import type {
  Certificate,
  CertificateEntry,
  CertificateRequest,
  CertificateVerify,
  ClientHello,
  Decoded,
  EncryptedExtensions,
  Extension,
  Finished,
  HandshakeMessage,
  KeyUpdate,
  NewSessionTicket,
  ServerHello,
  Unencoded,
} from './types.js';
import { HandshakeType, HRR_RANDOM_HEX } from './types.js';
import { encodeFail, Writer } from './writer.js';

const U16_MAX = 0xffff;
const U24_MAX = 0xffffff;

/** Size of the handshake header: msg_type (1) + length (3). */
export const HANDSHAKE_HEADER_LENGTH = 4;

const HRR_RANDOM_BYTES = fromHex(HRR_RANDOM_HEX);

/** A fresh copy of the HelloRetryRequest random, SHA-256("HelloRetryRequest") (§4.1.3). */
export function hrrRandom(): Uint8Array {
  return HRR_RANDOM_BYTES.slice();
}

/** Whether a ServerHello.random is the HelloRetryRequest marker (§4.1.3). */
export function isHelloRetryRequestRandom(random: Uint8Array): boolean {
  return equalBytes(random, HRR_RANDOM_BYTES);
}

export interface HandshakeHeader {
  /** msg_type, possibly one tlschart does not know. */
  type: number;
  /** Body length announced by the header (the whole message is length + 4 bytes). */
  length: number;
}

/**
 * Read the 4-byte handshake header at the start of `bytes`, for reassembly
 * across records; `undefined` while fewer than 4 bytes are available.
 */
export function readHandshakeHeader(bytes: Uint8Array): HandshakeHeader | undefined {
  if (bytes.length < HANDSHAKE_HEADER_LENGTH) return undefined;
  const type = bytes[0] as number;
  const length = ((bytes[1] as number) << 16) | ((bytes[2] as number) << 8) | (bytes[3] as number);
  return { type, length };
}

export interface DecodeHandshakeOptions {
  /** Hash.length of the negotiated suite; when given, Finished.verify_data must be exactly this long. */
  hashLen?: number;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set<number>(
  Object.entries(HandshakeType)
    .filter(([name]) => name !== 'message_hash') // only ever synthesised in the transcript (§4.4.1)
    .map(([, code]) => code),
);

/**
 * Whether tlschart decodes this msg_type (message_hash is only synthesised in
 * the transcript, §4.4.1). Reassembly can reject a bogus header before
 * waiting for its announced length.
 */
export function isKnownHandshakeType(type: number): boolean {
  return KNOWN_TYPES.has(type);
}

// ------------------------------------------------------------------ decoders

type Body<M extends HandshakeMessage> = Unencoded<M>;

/** A message body before encoding, for every message type (a distributive {@link Unencoded}). */
export type UnencodedMessage = HandshakeMessage extends infer M ? (M extends HandshakeMessage ? Unencoded<M> : never) : never;

/** The message type that an unencoded body becomes. */
export type EncodedOf<U extends UnencodedMessage> = Extract<HandshakeMessage, { type: U['type'] }>;

/** A block that may be absent (ClientHello/ServerHello from pre-1.3 peers, §4.1.2). */
function readOptionalExtensions(r: Reader, context: 'client_hello' | 'server_hello' | 'hello_retry_request'): Extension[] {
  return r.isEmpty() ? [] : readExtensions(r, context);
}

function readClientHello(r: Reader): Body<ClientHello> {
  const legacyVersion = r.u16('client_hello.legacy_version');
  const random = r.bytes(32, 'client_hello.random');
  const legacySessionId = r.opaque8('client_hello.legacy_session_id', 0, 32);
  const cipherSuites = r.u16List('client_hello.cipher_suites', 2, U16_MAX - 1);
  const legacyCompressionMethods = r.opaque8('client_hello.legacy_compression_methods', 1, 255);
  const extensions = readOptionalExtensions(r, 'client_hello');
  return { type: 'client_hello', legacyVersion, random, legacySessionId, cipherSuites, legacyCompressionMethods, extensions };
}

function readServerHello(r: Reader): Body<ServerHello> {
  const legacyVersion = r.u16('server_hello.legacy_version');
  const random = r.bytes(32, 'server_hello.random');
  const isHelloRetryRequest = isHelloRetryRequestRandom(random);
  const legacySessionIdEcho = r.opaque8('server_hello.legacy_session_id_echo', 0, 32);
  const cipherSuite = r.u16('server_hello.cipher_suite');
  const legacyCompressionMethod = r.u8('server_hello.legacy_compression_method');
  const extensions = readOptionalExtensions(r, isHelloRetryRequest ? 'hello_retry_request' : 'server_hello');
  return {
    type: 'server_hello',
    isHelloRetryRequest,
    legacyVersion,
    random,
    legacySessionIdEcho,
    cipherSuite,
    legacyCompressionMethod,
    extensions,
  };
}

function readEncryptedExtensions(r: Reader): Body<EncryptedExtensions> {
  return { type: 'encrypted_extensions', extensions: readExtensions(r, 'encrypted_extensions') };
}

function readCertificate(r: Reader): Body<Certificate> {
  const certificateRequestContext = r.opaque8('certificate.certificate_request_context', 0, 255);
  const list = r.vec24('certificate.certificate_list', 0, U24_MAX);
  const entries: CertificateEntry[] = [];
  while (!list.isEmpty()) {
    // X.509 only: RawPublicKey (RFC 7250) is never negotiated by tlschart.
    const certData = list.opaque24('certificate.cert_data', 1, U24_MAX);
    const extensions = readExtensions(list, 'certificate_entry');
    entries.push({ certData, extensions });
  }
  return { type: 'certificate', certificateRequestContext, entries };
}

function readCertificateRequest(r: Reader): Body<CertificateRequest> {
  const certificateRequestContext = r.opaque8('certificate_request.certificate_request_context', 0, 255);
  const extensions = readExtensions(r, 'certificate_request');
  return { type: 'certificate_request', certificateRequestContext, extensions };
}

function readCertificateVerify(r: Reader): Body<CertificateVerify> {
  const algorithm = r.u16('certificate_verify.algorithm');
  const signature = r.opaque16('certificate_verify.signature', 0, U16_MAX);
  return { type: 'certificate_verify', algorithm, signature };
}

function readFinished(r: Reader, hashLen: number | undefined): Body<Finished> {
  if (hashLen !== undefined && r.remaining !== hashLen) {
    fail('DecodeError', 'finished.verify_data', `is ${r.remaining} bytes, expected Hash.length ${hashLen}`);
  }
  return { type: 'finished', verifyData: r.rest() };
}

function readNewSessionTicket(r: Reader): Body<NewSessionTicket> {
  const ticketLifetime = r.u32('new_session_ticket.ticket_lifetime');
  const ticketAgeAdd = r.u32('new_session_ticket.ticket_age_add');
  const ticketNonce = r.opaque8('new_session_ticket.ticket_nonce', 0, 255);
  const ticket = r.opaque16('new_session_ticket.ticket', 1, U16_MAX);
  const extensions = readExtensions(r, 'new_session_ticket');
  return { type: 'new_session_ticket', ticketLifetime, ticketAgeAdd, ticketNonce, ticket, extensions };
}

function readKeyUpdate(r: Reader): Body<KeyUpdate> {
  const requestUpdate = r.u8('key_update.request_update');
  if (requestUpdate !== 0 && requestUpdate !== 1) {
    // §4.6.3: any other value is illegal_parameter.
    fail('IllegalFieldValue', 'key_update.request_update', `${requestUpdate} is neither 0 nor 1`);
  }
  return { type: 'key_update', requestUpdate };
}

function readBody(type: number, r: Reader, options: DecodeHandshakeOptions): UnencodedMessage {
  switch (type) {
    case HandshakeType.client_hello:
      return readClientHello(r);
    case HandshakeType.server_hello:
      return readServerHello(r);
    case HandshakeType.encrypted_extensions:
      return readEncryptedExtensions(r);
    case HandshakeType.certificate:
      return readCertificate(r);
    case HandshakeType.certificate_request:
      return readCertificateRequest(r);
    case HandshakeType.certificate_verify:
      return readCertificateVerify(r);
    case HandshakeType.finished:
      return readFinished(r, options.hashLen);
    case HandshakeType.new_session_ticket:
      return readNewSessionTicket(r);
    case HandshakeType.key_update:
      return readKeyUpdate(r);
    case HandshakeType.end_of_early_data:
      return { type: 'end_of_early_data' };
    default:
      return fail('UnknownHandshakeType', 'handshake.msg_type', `unknown handshake type ${type}`);
  }
}

/**
 * Decode one complete handshake message, header included. `raw` of the
 * result is a copy of exactly `bytes`; the decoded fields are views into it.
 */
export function decodeHandshake(bytes: Uint8Array, options: DecodeHandshakeOptions = {}): Decoded<HandshakeMessage> {
  const raw = bytes.slice();
  return decodeOwned(raw, 'handshake', (r) => {
    const type = r.u8('handshake.msg_type');
    if (!KNOWN_TYPES.has(type)) fail('UnknownHandshakeType', 'handshake.msg_type', `unknown handshake type ${type}`);
    const length = r.u24('handshake.length');
    if (length !== r.remaining) {
      fail('DecodeError', 'handshake.length', `header says ${length} byte(s), the message has ${r.remaining}`);
    }
    const body = readBody(type, r, options);
    // The body must use up the message exactly (§4: no trailing bytes).
    r.expectEnd(`${body.type}`);
    // The body is ours (just read): `raw` is added to it, not to a spread copy (on this V8 a
    // property added to a spread copy costs about 1 µs).
    return Object.assign(body, { raw }) as HandshakeMessage;
  });
}

// ------------------------------------------------------------------ encoders

function writeClientHello(w: Writer, m: Body<ClientHello>): void {
  w.u16(m.legacyVersion, 'client_hello.legacy_version');
  w.fixed(m.random, 32, 'client_hello.random');
  w.opaque8(m.legacySessionId, 'client_hello.legacy_session_id', 0, 32);
  w.u16List(m.cipherSuites, 'client_hello.cipher_suites', 2, U16_MAX - 1);
  w.opaque8(m.legacyCompressionMethods, 'client_hello.legacy_compression_methods', 1, 255);
  if (m.extensions.length > 0) writeExtensions(w, m.extensions, 'client_hello');
}

function writeServerHello(w: Writer, m: Body<ServerHello>): void {
  if (m.isHelloRetryRequest !== isHelloRetryRequestRandom(m.random)) {
    encodeFail(
      'server_hello.random',
      m.isHelloRetryRequest
        ? 'a HelloRetryRequest must carry the HelloRetryRequest random'
        : 'a ServerHello must not carry the HelloRetryRequest random',
    );
  }
  w.u16(m.legacyVersion, 'server_hello.legacy_version');
  w.fixed(m.random, 32, 'server_hello.random');
  w.opaque8(m.legacySessionIdEcho, 'server_hello.legacy_session_id_echo', 0, 32);
  w.u16(m.cipherSuite, 'server_hello.cipher_suite');
  w.u8(m.legacyCompressionMethod, 'server_hello.legacy_compression_method');
  if (m.extensions.length > 0) {
    writeExtensions(w, m.extensions, m.isHelloRetryRequest ? 'hello_retry_request' : 'server_hello');
  }
}

function writeBody(w: Writer, m: UnencodedMessage): void {
  switch (m.type) {
    case 'client_hello':
      writeClientHello(w, m);
      return;
    case 'server_hello':
      writeServerHello(w, m);
      return;
    case 'encrypted_extensions':
      writeExtensions(w, m.extensions, 'encrypted_extensions');
      return;
    case 'certificate':
      w.opaque8(m.certificateRequestContext, 'certificate.certificate_request_context', 0, 255);
      w.vec24('certificate.certificate_list', 0, U24_MAX, (l) => {
        for (const e of m.entries) {
          l.opaque24(e.certData, 'certificate.cert_data', 1, U24_MAX);
          writeExtensions(l, e.extensions, 'certificate_entry');
        }
      });
      return;
    case 'certificate_request':
      w.opaque8(m.certificateRequestContext, 'certificate_request.certificate_request_context', 0, 255);
      writeExtensions(w, m.extensions, 'certificate_request');
      return;
    case 'certificate_verify':
      w.u16(m.algorithm, 'certificate_verify.algorithm');
      w.opaque16(m.signature, 'certificate_verify.signature', 0, U16_MAX);
      return;
    case 'finished':
      w.bytes(m.verifyData);
      return;
    case 'new_session_ticket':
      w.u32(m.ticketLifetime, 'new_session_ticket.ticket_lifetime');
      w.u32(m.ticketAgeAdd, 'new_session_ticket.ticket_age_add');
      w.opaque8(m.ticketNonce, 'new_session_ticket.ticket_nonce', 0, 255);
      w.opaque16(m.ticket, 'new_session_ticket.ticket', 1, U16_MAX);
      writeExtensions(w, m.extensions, 'new_session_ticket');
      return;
    case 'key_update':
      if (m.requestUpdate !== 0 && m.requestUpdate !== 1) {
        encodeFail('key_update.request_update', `${m.requestUpdate} is neither 0 nor 1`);
      }
      w.u8(m.requestUpdate, 'key_update.request_update');
      return;
    case 'end_of_early_data':
      return;
  }
}

/**
 * Encode a message (header included) and return it with `raw` filled in.
 * Invalid values (out-of-bounds vectors, a form that does not fit its
 * message, ...) raise a TlsError with `internal_error`: they are bugs of the
 * caller, never of the peer.
 */
export function encodeHandshake<U extends UnencodedMessage>(msg: U): EncodedOf<U>;
/** The same, for a caller that is itself generic in the message type. */
export function encodeHandshake<M extends HandshakeMessage>(msg: Unencoded<M>): M;
export function encodeHandshake(msg: UnencodedMessage): HandshakeMessage {
  const w = new Writer();
  w.u8(HandshakeType[msg.type], 'handshake.msg_type');
  w.vec24(`${msg.type}`, 0, U24_MAX, (b) => writeBody(b, msg));
  // A copy with the new `raw` (replacing any the message had); Object.assign, not a spread
  // plus a property, which costs about 1 µs on this V8 when the message had none.
  return Object.assign({}, msg, { raw: w.finish() }) as HandshakeMessage;
}

// ------------------------------------------------------------------ PSK binders (§4.2.11.2)

/** Wire size of a `PskBinderEntry binders<33..2^16-1>` list, its 2-byte length included. */
export function bindersLength(binders: readonly Uint8Array[]): number {
  return 2 + binders.reduce((n, b) => n + 1 + b.length, 0);
}

function pskOf(ch: Pick<ClientHello, 'extensions'>) {
  return findExtension(ch.extensions, 'pre_shared_key_client');
}

/**
 * The PartialClientHello for the binder transcript (§4.2.11.2): the encoding
 * of `ch` (header included, all lengths as if the binders were present) up to
 * but excluding the binders list. The binder values in `ch` may be
 * placeholders; only their lengths matter.
 */
export function encodeClientHelloWithoutBinders(ch: Unencoded<ClientHello>): Uint8Array {
  const psk = pskOf(ch);
  if (psk === undefined) encodeFail('client_hello.extensions', 'has no pre_shared_key extension');
  const raw = encodeHandshake(ch).raw;
  return raw.slice(0, raw.length - bindersLength(psk.binders));
}

/**
 * The PartialClientHello (§4.2.11.2) of an encoded or received ClientHello:
 * its exact bytes up to but excluding the binders list. Since
 * pre_shared_key must be the last extension and binders its last field, the
 * binders list is the tail of the message. A server computes the binder
 * transcript from the bytes it received, never from a re-encoding.
 */
export function truncatedClientHello(raw: Uint8Array): Decoded<Uint8Array> {
  const d = decodeHandshake(raw);
  if (!d.ok) return d;
  if (d.value.type !== 'client_hello') {
    return { ok: false, error: decodeFailure('InternalError', 'handshake.msg_type', 'not a ClientHello') };
  }
  const psk = pskOf(d.value);
  if (psk === undefined) {
    return {
      ok: false,
      error: decodeFailure('InternalError', 'client_hello.extensions', 'no pre_shared_key extension'),
    };
  }
  return { ok: true, value: raw.slice(0, raw.length - bindersLength(psk.binders)) };
}

/**
 * Write `binders` into an encoded ClientHello whose pre_shared_key carries
 * binders of the same number and lengths (placeholders), returning the new
 * bytes. Misuse (not a ClientHello with a PSK, other lengths) raises a
 * TlsError with `internal_error`.
 */
export function patchBinders(raw: Uint8Array, binders: readonly Uint8Array[]): Uint8Array {
  const d = decodeHandshake(raw);
  if (!d.ok) encodeFail('client_hello', d.error.message);
  if (d.value.type !== 'client_hello') encodeFail('client_hello', 'is not a ClientHello');
  const psk = pskOf(d.value);
  if (psk === undefined) encodeFail('client_hello.extensions', 'has no pre_shared_key extension');
  if (psk.binders.length !== binders.length || psk.binders.some((b, i) => b.length !== binders[i]?.length)) {
    encodeFail('pre_shared_key.binders', 'the new binders must have the number and lengths of the placeholders');
  }
  const out = raw.slice();
  let at = raw.length - bindersLength(binders) + 2; // past the list's own 2-byte length
  for (const b of binders) {
    at += 1; // the binder's 1-byte length is unchanged
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A ClientHello with its binders replaced (same number and lengths): extensions and raw both updated. */
export function withBinders(ch: ClientHello, binders: readonly Uint8Array[]): ClientHello {
  const raw = patchBinders(ch.raw, binders);
  const extensions = ch.extensions.map((e) => (e.type === 'pre_shared_key_client' ? { ...e, binders: binders.map((b) => b.slice()) } : e));
  return { ...ch, extensions, raw };
}

/** One extension of a received message as it was on the wire: its code and its extension_data. */
export interface RawExtension {
  code: number;
  data: Uint8Array;
}

/**
 * The extensions of an encoded ClientHello exactly as received, in order
 * (RFC 8446 §4.1.2). Used to compare a second ClientHello with the first byte
 * for byte; `raw` must be a ClientHello that already decoded.
 */
export function clientHelloExtensionBlocks(raw: Uint8Array): Decoded<RawExtension[]> {
  return decodeWith(raw, 'client_hello', (r) => {
    r.bytes(4, 'handshake.header');
    r.u16('client_hello.legacy_version');
    r.bytes(32, 'client_hello.random');
    r.opaque8('client_hello.legacy_session_id', 0, 32);
    r.vec16('client_hello.cipher_suites', 2, 0xfffe);
    r.opaque8('client_hello.legacy_compression_methods', 1, 255);
    const block = r.vec16('client_hello.extensions', 8, 0xffff);
    const out: RawExtension[] = [];
    while (!block.isEmpty()) out.push({ code: block.u16('extension.type'), data: block.opaque16('extension.extension_data', 0, 0xffff) });
    return out;
  });
}
