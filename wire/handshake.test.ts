import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../crypto/bytes.js';
import { type AlertName, TlsError } from './alerts.js';
import {
  bindersLength,
  decodeHandshake,
  encodeClientHelloWithoutBinders,
  encodeHandshake,
  hrrRandom,
  isHelloRetryRequestRandom,
  isKnownHandshakeType,
  patchBinders,
  readHandshakeHeader,
  truncatedClientHello,
  withBinders,
} from './handshake.js';
import type { ClientHello, Decoded, HandshakeMessage, ServerHello, Unencoded } from './types.js';
import { HRR_RANDOM_HEX } from './types.js';

// ---- hand-built wire bytes (independent of the encoder)

const clean = (h: string) => h.replace(/\s+/g, '');
const hexN = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const v8 = (b: string) => hexN(clean(b).length / 2, 1) + clean(b);
const v16 = (b: string) => hexN(clean(b).length / 2, 2) + clean(b);
const v24 = (b: string) => hexN(clean(b).length / 2, 3) + clean(b);
const ext = (code: number, body = '') => hexN(code, 2) + v16(body);
const msg = (type: number, body: string) => fromHex(hexN(type, 1) + v24(body));

const RANDOM = '11'.repeat(32);
const BINDER = 'b1'.repeat(32);

function expectFailure(d: Decoded<unknown>, alert: AlertName, field: string): void {
  expect(d.ok).toBe(false);
  if (!d.ok) {
    expect(d.error.alert).toBe(alert);
    expect(d.error.field).toBe(field);
  }
}

function decoded(bytes: Uint8Array, hashLen?: number): HandshakeMessage {
  const d = decodeHandshake(bytes, hashLen === undefined ? {} : { hashLen });
  if (!d.ok) throw new Error(`expected a decode, got ${d.error.message}`);
  return d.value;
}

function expectEncodeError(fn: () => unknown, part: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TlsError);
    expect((e as TlsError).alert).toBe('internal_error');
    expect((e as TlsError).message).toContain(part);
    return;
  }
  throw new Error('expected the encoder to refuse');
}

/** ClientHello body with the given pieces (defaults: TLS 1.2 legacy version, one suite, null compression). */
function chBody({
  sessionId = '',
  suites = '1301',
  compression = '00',
  extensions = v16(ext(43, '02 0304')),
}: {
  sessionId?: string;
  suites?: string;
  compression?: string;
  extensions?: string;
} = {}) {
  return `0303${RANDOM}${v8(sessionId)}${v16(suites)}${v8(compression)}${extensions}`;
}

function shBody({ random = RANDOM, sessionId = '', extensions = v16(ext(43, '0304')) } = {}) {
  return `0303${random}${v8(sessionId)}130100${extensions}`;
}

describe('handshake header', () => {
  it('reads msg_type and the 24-bit length', () => {
    expect(readHandshakeHeader(fromHex('0b 0001b9 00'))).toEqual({ type: 11, length: 0x1b9 });
  });

  it('waits for four bytes before reading a header', () => {
    expect(readHandshakeHeader(fromHex('0b0001'))).toBeUndefined();
  });

  it('rejects an unknown handshake type with unexpected_message', () => {
    for (const t of [0, 3, 6, 12, 14, 16, 21, 254, 255]) {
      expectFailure(decodeHandshake(msg(t, '')), 'unexpected_message', 'handshake.msg_type');
    }
  });

  it('rejects a length that does not match the message exactly', () => {
    expectFailure(decodeHandshake(fromHex(`14 000021${'aa'.repeat(32)}`)), 'decode_error', 'handshake.length');
    expectFailure(decodeHandshake(fromHex(`14 00001f${'aa'.repeat(32)}`)), 'decode_error', 'handshake.length');
  });

  it('rejects an input shorter than the header', () => {
    expectFailure(decodeHandshake(new Uint8Array(0)), 'decode_error', 'handshake.msg_type');
    expectFailure(decodeHandshake(fromHex('1400')), 'decode_error', 'handshake.length');
  });

  it('keeps a copy of exactly the input bytes as raw', () => {
    const input = msg(24, '01');
    const m = decoded(input);
    input[4] = 0;
    expect(toHex(m.raw)).toBe('1800000101');
  });
});

describe('ClientHello (§4.1.2)', () => {
  it('decodes every field', () => {
    const body = chBody({ sessionId: 'ab'.repeat(32), suites: '1301 1303', extensions: v16(ext(43, '02 0304') + ext(0xff01, '00')) });
    expect(decoded(msg(1, body))).toEqual({
      type: 'client_hello',
      legacyVersion: 0x0303,
      random: fromHex(RANDOM),
      legacySessionId: fromHex('ab'.repeat(32)),
      cipherSuites: [0x1301, 0x1303],
      legacyCompressionMethods: fromHex('00'),
      extensions: [
        { type: 'supported_versions_client', versions: [0x0304] },
        { type: 'unknown', code: 0xff01, data: fromHex('00') },
      ],
      raw: msg(1, body),
    });
  });

  it('decodes a ClientHello without an extension block as one with no extensions (§4.1.2)', () => {
    const m = decoded(msg(1, chBody({ extensions: '' })));
    expect(m.type === 'client_hello' && m.extensions).toEqual([]);
  });

  it('rejects a present but empty extension block', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ extensions: '0000' }))), 'decode_error', 'client_hello.extensions');
  });

  it('rejects a legacy_session_id longer than 32 bytes', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ sessionId: 'ab'.repeat(33) }))), 'decode_error', 'client_hello.legacy_session_id');
  });

  it('rejects an empty or odd-length cipher_suites list', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ suites: '' }))), 'decode_error', 'client_hello.cipher_suites');
    expectFailure(decodeHandshake(msg(1, chBody({ suites: '130113' }))), 'decode_error', 'client_hello.cipher_suites');
  });

  it('rejects an empty legacy_compression_methods', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ compression: '' }))), 'decode_error', 'client_hello.legacy_compression_methods');
  });

  it('rejects a cut random', () => {
    expectFailure(decodeHandshake(msg(1, `0303${'11'.repeat(20)}`)), 'decode_error', 'client_hello.random');
  });

  it('rejects bytes after the extension block', () => {
    expectFailure(decodeHandshake(msg(1, `${chBody()}00`)), 'decode_error', 'client_hello');
  });

  it('rejects a single stray byte where the extension block would start', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ extensions: '00' }))), 'decode_error', 'client_hello.extensions');
  });

  it('rejects a malformed known extension with decode_error naming it', () => {
    expectFailure(decodeHandshake(msg(1, chBody({ extensions: v16(ext(43, '01 03')) }))), 'decode_error', 'supported_versions.versions');
  });

  it('encodes to the same bytes as built by hand', () => {
    const body = chBody({ sessionId: 'cd'.repeat(32) });
    const m = decoded(msg(1, body)) as ClientHello;
    const { raw: _raw, ...unencoded } = m;
    expect(toHex(encodeHandshake(unencoded).raw)).toBe(toHex(msg(1, body)));
  });

  it('encodes a ClientHello with no extensions without an extension block', () => {
    const m = encodeHandshake({
      type: 'client_hello',
      legacyVersion: 0x0303,
      random: fromHex(RANDOM),
      legacySessionId: new Uint8Array(0),
      cipherSuites: [0x1301],
      legacyCompressionMethods: fromHex('00'),
      extensions: [],
    });
    expect(toHex(m.raw)).toBe(toHex(msg(1, chBody({ extensions: '' }))));
  });

  it('refuses to encode a random that is not 32 bytes or a session id longer than 32 bytes', () => {
    const base: Unencoded<ClientHello> = {
      type: 'client_hello',
      legacyVersion: 0x0303,
      random: fromHex(RANDOM),
      legacySessionId: new Uint8Array(0),
      cipherSuites: [0x1301],
      legacyCompressionMethods: fromHex('00'),
      extensions: [],
    };
    expectEncodeError(() => encodeHandshake({ ...base, random: new Uint8Array(31) }), 'client_hello.random');
    expectEncodeError(() => encodeHandshake({ ...base, legacySessionId: new Uint8Array(33) }), 'client_hello.legacy_session_id');
    expectEncodeError(() => encodeHandshake({ ...base, cipherSuites: [] }), 'client_hello.cipher_suites');
  });
});

describe('ServerHello and HelloRetryRequest (§4.1.3, §4.1.4)', () => {
  it('decodes a ServerHello with its extensions in the server_hello form', () => {
    const body = shBody({ extensions: v16(ext(51, `001d${v16('aa')}`) + ext(43, '0304') + ext(41, '0000')) });
    expect(decoded(msg(2, body))).toEqual({
      type: 'server_hello',
      isHelloRetryRequest: false,
      legacyVersion: 0x0303,
      random: fromHex(RANDOM),
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      legacyCompressionMethod: 0,
      extensions: [
        { type: 'key_share_server', share: { group: 0x1d, keyExchange: fromHex('aa') } },
        { type: 'supported_versions_server', version: 0x0304 },
        { type: 'pre_shared_key_server', selectedIdentity: 0 },
      ],
      raw: msg(2, body),
    });
  });

  it('recognises a HelloRetryRequest by its random and decodes its key_share as the selected group', () => {
    const body = shBody({ random: HRR_RANDOM_HEX, extensions: v16(ext(51, '0017') + ext(44, v16('c0de')) + ext(43, '0304')) });
    const m = decoded(msg(2, body)) as ServerHello;
    expect(m.isHelloRetryRequest).toBe(true);
    expect(m.extensions).toEqual([
      { type: 'key_share_hrr', selectedGroup: 0x17 },
      { type: 'cookie', cookie: fromHex('c0de') },
      { type: 'supported_versions_server', version: 0x0304 },
    ]);
  });

  it('rejects a HelloRetryRequest-style key_share in an ordinary ServerHello', () => {
    expectFailure(decodeHandshake(msg(2, shBody({ extensions: v16(ext(51, '0017')) }))), 'decode_error', 'key_share.key_exchange');
  });

  it('decodes a ServerHello without extensions, as a TLS 1.2 server may send', () => {
    const m = decoded(msg(2, shBody({ extensions: '' })));
    expect(m.type === 'server_hello' && m.extensions).toEqual([]);
  });

  it('rejects a legacy_session_id_echo longer than 32 bytes', () => {
    expectFailure(decodeHandshake(msg(2, shBody({ sessionId: '00'.repeat(33) }))), 'decode_error', 'server_hello.legacy_session_id_echo');
  });

  it('rejects a ServerHello cut inside the cipher suite', () => {
    expectFailure(decodeHandshake(msg(2, `0303${RANDOM}0013`)), 'decode_error', 'server_hello.cipher_suite');
  });

  it('keeps a disallowed extension of a ServerHello decodable', () => {
    const m = decoded(msg(2, shBody({ extensions: v16(ext(43, '0304') + ext(44, v16('01'))) }))) as ServerHello;
    expect(m.extensions[1]).toEqual({ type: 'cookie', cookie: fromHex('01') });
  });

  it('refuses to encode a HelloRetryRequest flag that disagrees with the random', () => {
    const sh: Unencoded<ServerHello> = {
      type: 'server_hello',
      isHelloRetryRequest: true,
      legacyVersion: 0x0303,
      random: fromHex(RANDOM),
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      legacyCompressionMethod: 0,
      extensions: [],
    };
    expectEncodeError(() => encodeHandshake(sh), 'server_hello.random');
    expectEncodeError(() => encodeHandshake({ ...sh, isHelloRetryRequest: false, random: hrrRandom() }), 'server_hello.random');
  });

  it('encodes a HelloRetryRequest with its extensions in the hello_retry_request form', () => {
    const m = encodeHandshake({
      type: 'server_hello',
      isHelloRetryRequest: true,
      legacyVersion: 0x0303,
      random: hrrRandom(),
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      legacyCompressionMethod: 0,
      extensions: [{ type: 'key_share_hrr', selectedGroup: 0x17 }],
    });
    expect(toHex(m.raw)).toBe(toHex(msg(2, shBody({ random: HRR_RANDOM_HEX, extensions: v16(ext(51, '0017')) }))));
  });

  it('compares a random against the HelloRetryRequest value', () => {
    expect(isHelloRetryRequestRandom(fromHex(HRR_RANDOM_HEX))).toBe(true);
    expect(isHelloRetryRequestRandom(fromHex(RANDOM))).toBe(false);
    expect(isHelloRetryRequestRandom(fromHex(HRR_RANDOM_HEX).subarray(0, 31))).toBe(false);
    const copy = hrrRandom();
    copy[0] = 0;
    expect(isHelloRetryRequestRandom(hrrRandom())).toBe(true);
  });
});

describe('EncryptedExtensions (§4.3.1)', () => {
  it('decodes its extensions', () => {
    expect(decoded(msg(8, v16(ext(0, '') + ext(16, v16(v8('6832'))))))).toMatchObject({
      type: 'encrypted_extensions',
      extensions: [
        { type: 'server_name', hostName: undefined },
        { type: 'alpn', protocols: ['h2'] },
      ],
    });
  });

  it('decodes an empty extension list', () => {
    expect(decoded(msg(8, '0000'))).toMatchObject({ type: 'encrypted_extensions', extensions: [] });
  });

  it('rejects a missing extension block', () => {
    expectFailure(decodeHandshake(msg(8, '')), 'decode_error', 'encrypted_extensions.extensions');
  });

  it('rejects bytes after the extension block', () => {
    expectFailure(decodeHandshake(msg(8, '0000 00')), 'decode_error', 'encrypted_extensions');
  });
});

describe('Certificate (§4.4.2)', () => {
  const entry = (cert: string, exts = '0000') => v24(cert) + exts;

  it('decodes the request context and every entry with its extensions', () => {
    const body = v8('0102') + v24(entry('3082aa') + entry('3082bb', v16(ext(5, '01 0000 0000'))));
    expect(decoded(msg(11, body))).toMatchObject({
      type: 'certificate',
      certificateRequestContext: fromHex('0102'),
      entries: [
        { certData: fromHex('3082aa'), extensions: [] },
        { certData: fromHex('3082bb'), extensions: [{ type: 'unknown', code: 5, data: fromHex('0100000000') }] },
      ],
    });
  });

  it('decodes an empty certificate_list (a client without a certificate)', () => {
    expect(decoded(msg(11, '00 000000'))).toMatchObject({ type: 'certificate', entries: [] });
  });

  it('rejects an empty cert_data', () => {
    expectFailure(decodeHandshake(msg(11, `00${v24(entry(''))}`)), 'decode_error', 'certificate.cert_data');
  });

  it('rejects an entry without its extension block', () => {
    expectFailure(decodeHandshake(msg(11, `00${v24(v24('30'))}`)), 'decode_error', 'certificate_entry.extensions');
  });

  it('rejects a certificate_list longer than the message', () => {
    expectFailure(decodeHandshake(msg(11, '00 000010 000001 30 0000')), 'decode_error', 'certificate.certificate_list');
  });

  it('encodes to the same bytes as built by hand', () => {
    const m = encodeHandshake({
      type: 'certificate',
      certificateRequestContext: new Uint8Array(0),
      entries: [{ certData: fromHex('3082aa'), extensions: [] }],
    });
    expect(toHex(m.raw)).toBe(toHex(msg(11, `00${v24(entry('3082aa'))}`)));
  });
});

describe('CertificateRequest (§4.3.2)', () => {
  it('decodes the context and the extensions', () => {
    expect(decoded(msg(13, v8('aa') + v16(ext(13, v16('0804')))))).toMatchObject({
      type: 'certificate_request',
      certificateRequestContext: fromHex('aa'),
      extensions: [{ type: 'signature_algorithms', schemes: [0x0804] }],
    });
  });

  it('rejects an empty extension block', () => {
    expectFailure(decodeHandshake(msg(13, '00 0000')), 'decode_error', 'certificate_request.extensions');
  });

  it('rejects a context that runs past the message', () => {
    expectFailure(decodeHandshake(msg(13, '05 aabb')), 'decode_error', 'certificate_request.certificate_request_context');
  });
});

describe('CertificateVerify (§4.4.3)', () => {
  it('decodes the algorithm and the signature', () => {
    expect(decoded(msg(15, `0804${v16('5a74')}`))).toMatchObject({
      type: 'certificate_verify',
      algorithm: 0x0804,
      signature: fromHex('5a74'),
    });
  });

  it('rejects a signature cut short', () => {
    expectFailure(decodeHandshake(msg(15, '0804 0080 5a74')), 'decode_error', 'certificate_verify.signature');
  });

  it('rejects bytes after the signature', () => {
    expectFailure(decodeHandshake(msg(15, `0804${v16('5a74')}00`)), 'decode_error', 'certificate_verify');
  });
});

describe('Finished (§4.4.4)', () => {
  it('takes the whole body as verify_data', () => {
    expect(decoded(msg(20, 'aa'.repeat(32)))).toMatchObject({ type: 'finished', verifyData: fromHex('aa'.repeat(32)) });
  });

  it('checks the length of verify_data against Hash.length when the caller gives it', () => {
    expect(decoded(msg(20, 'aa'.repeat(48)), 48)).toMatchObject({ type: 'finished' });
    expectFailure(decodeHandshake(msg(20, 'aa'.repeat(32)), { hashLen: 48 }), 'decode_error', 'finished.verify_data');
    expectFailure(decodeHandshake(msg(20, 'aa'.repeat(33)), { hashLen: 32 }), 'decode_error', 'finished.verify_data');
  });

  it('ignores hashLen for other messages', () => {
    expect(decoded(msg(24, '00'), 32)).toMatchObject({ type: 'key_update' });
  });
});

describe('NewSessionTicket (§4.6.1)', () => {
  it('decodes every field and the early_data extension in its ticket form', () => {
    const body = `0000001efad6aac5${v8('0000')}${v16('2c035d')}${v16(ext(42, '00000400'))}`;
    expect(decoded(msg(4, body))).toMatchObject({
      type: 'new_session_ticket',
      ticketLifetime: 30,
      ticketAgeAdd: 0xfad6aac5,
      ticketNonce: fromHex('0000'),
      ticket: fromHex('2c035d'),
      extensions: [{ type: 'early_data_ticket', maxEarlyDataSize: 1024 }],
    });
  });

  it('rejects an empty ticket', () => {
    expectFailure(decodeHandshake(msg(4, '00000001 00000002 00 0000 0000')), 'decode_error', 'new_session_ticket.ticket');
  });

  it('rejects a missing extension block', () => {
    expectFailure(decodeHandshake(msg(4, `00000001 00000002 00${v16('aa')}`)), 'decode_error', 'new_session_ticket.extensions');
  });

  it('refuses to encode an empty ticket', () => {
    expectEncodeError(
      () =>
        encodeHandshake({
          type: 'new_session_ticket',
          ticketLifetime: 1,
          ticketAgeAdd: 2,
          ticketNonce: new Uint8Array(0),
          ticket: new Uint8Array(0),
          extensions: [],
        }),
      'new_session_ticket.ticket',
    );
  });
});

describe('KeyUpdate (§4.6.3)', () => {
  it('decodes update_not_requested and update_requested', () => {
    expect(decoded(msg(24, '00'))).toMatchObject({ type: 'key_update', requestUpdate: 0 });
    expect(decoded(msg(24, '01'))).toMatchObject({ type: 'key_update', requestUpdate: 1 });
  });

  it('rejects any other request_update with illegal_parameter', () => {
    expectFailure(decodeHandshake(msg(24, '02')), 'illegal_parameter', 'key_update.request_update');
    expectFailure(decodeHandshake(msg(24, 'ff')), 'illegal_parameter', 'key_update.request_update');
  });

  it('rejects an empty or longer body with decode_error', () => {
    expectFailure(decodeHandshake(msg(24, '')), 'decode_error', 'key_update.request_update');
    expectFailure(decodeHandshake(msg(24, '0100')), 'decode_error', 'key_update');
  });

  it('refuses to encode a request_update other than 0 or 1', () => {
    expectEncodeError(() => encodeHandshake({ type: 'key_update', requestUpdate: 2 }), 'key_update.request_update');
  });
});

describe('EndOfEarlyData (§4.5)', () => {
  it('decodes the empty message', () => {
    expect(decoded(msg(5, ''))).toEqual({ type: 'end_of_early_data', raw: fromHex('05000000') });
  });

  it('rejects a body', () => {
    expectFailure(decodeHandshake(msg(5, '00')), 'decode_error', 'end_of_early_data');
  });

  it('encodes to its four header bytes', () => {
    expect(toHex(encodeHandshake({ type: 'end_of_early_data' }).raw)).toBe('05000000');
  });
});

describe('PSK binders (§4.2.11.2)', () => {
  const identity = `${v16('7469636b6574')}00001234`;
  const pskExt = (binders: string[]) => ext(41, v16(identity.repeat(binders.length)) + v16(binders.map(v8).join('')));
  const chWithPsk = (binders: string[]) => msg(1, chBody({ extensions: v16(ext(43, '02 0304') + ext(45, '01 01') + pskExt(binders)) }));

  it('measures the binders list as its 2-byte length plus each 1-byte length and value', () => {
    expect(bindersLength([new Uint8Array(32)])).toBe(35);
    expect(bindersLength([new Uint8Array(32), new Uint8Array(48)])).toBe(2 + 33 + 49);
  });

  it('truncates a received ClientHello just before the binders list', () => {
    const raw = chWithPsk([BINDER]);
    const t = truncatedClientHello(raw);
    expect(t.ok && toHex(t.value)).toBe(toHex(raw.subarray(0, raw.length - 35)));
    // What is left ends with the last identity's obfuscated_ticket_age.
    expect(t.ok && toHex(t.value.subarray(-4))).toBe('00001234');
  });

  it('truncates with several binders of different lengths', () => {
    const raw = chWithPsk([BINDER, 'c2'.repeat(48)]);
    const t = truncatedClientHello(raw);
    expect(t.ok && t.value.length).toBe(raw.length - (2 + 33 + 49));
  });

  it('encodes the same PartialClientHello from a message as it cuts from the bytes', () => {
    const m = decoded(chWithPsk([BINDER])) as ClientHello;
    const { raw, ...unencoded } = m;
    const t = truncatedClientHello(raw);
    expect(t.ok && toHex(encodeClientHelloWithoutBinders(unencoded))).toBe(t.ok && toHex(t.value));
  });

  it('does not depend on the binder values, only on their lengths', () => {
    const a = truncatedClientHello(chWithPsk([BINDER]));
    const b = truncatedClientHello(chWithPsk(['00'.repeat(32)]));
    expect(a.ok && b.ok && toHex(a.value) === toHex(b.value)).toBe(true);
  });

  it('reports a ClientHello without pre_shared_key, another message, or undecodable bytes as a failure', () => {
    expectFailure(truncatedClientHello(msg(1, chBody())), 'internal_error', 'client_hello.extensions');
    expectFailure(truncatedClientHello(msg(24, '00')), 'internal_error', 'handshake.msg_type');
    expectFailure(truncatedClientHello(fromHex('01000001')), 'decode_error', 'handshake.length');
  });

  it('patches placeholder binders with the real ones', () => {
    const placeholder = chWithPsk(['00'.repeat(32), '00'.repeat(48)]);
    const real = chWithPsk([BINDER, 'c2'.repeat(48)]);
    const patched = patchBinders(placeholder, [fromHex(BINDER), fromHex('c2'.repeat(48))]);
    expect(toHex(patched)).toBe(toHex(real));
    // The input is left as it was.
    expect(toHex(placeholder)).toBe(toHex(chWithPsk(['00'.repeat(32), '00'.repeat(48)])));
  });

  it('refuses binders of other lengths or number than the placeholders', () => {
    const placeholder = chWithPsk(['00'.repeat(32)]);
    expectEncodeError(() => patchBinders(placeholder, [new Uint8Array(48)]), 'pre_shared_key.binders');
    expectEncodeError(() => patchBinders(placeholder, [new Uint8Array(32), new Uint8Array(32)]), 'pre_shared_key.binders');
    expectEncodeError(() => patchBinders(msg(1, chBody()), [new Uint8Array(32)]), 'pre_shared_key');
    expectEncodeError(() => patchBinders(msg(24, '00'), [new Uint8Array(32)]), 'ClientHello');
  });

  it('replaces the binders of a ClientHello message in both its extensions and its raw bytes', () => {
    const m = decoded(chWithPsk(['00'.repeat(32)])) as ClientHello;
    const updated = withBinders(m, [fromHex(BINDER)]);
    expect(toHex(updated.raw)).toBe(toHex(chWithPsk([BINDER])));
    expect(decoded(updated.raw)).toEqual(updated);
  });

  it('refuses to encode a PartialClientHello for a ClientHello without pre_shared_key', () => {
    const { raw: _raw, ...unencoded } = decoded(msg(1, chBody())) as ClientHello;
    expectEncodeError(() => encodeClientHelloWithoutBinders(unencoded), 'pre_shared_key');
  });
});

describe('isKnownHandshakeType', () => {
  it('knows the TLS 1.3 message types and nothing else', () => {
    expect([1, 2, 4, 5, 8, 11, 13, 15, 20, 24].every(isKnownHandshakeType)).toBe(true);
    expect([0, 3, 12, 14, 16, 254, 255].some(isKnownHandshakeType)).toBe(false);
  });
});
