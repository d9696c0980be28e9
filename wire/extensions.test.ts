import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../crypto/bytes.js';
import { type AlertName, TlsError } from './alerts.js';
import {
  decodeExtensions,
  encodeExtensions,
  extensionAllowedIn,
  extensionCode,
  extensionFormFits,
  findDisallowedExtension,
  findExtension,
  findExtensionByCode,
} from './extensions.js';
import type { Decoded, Extension, ExtensionContext } from './types.js';

// ---- hand-built wire bytes (independent of the encoder)

const hex2 = (n: number) => n.toString(16).padStart(4, '0');
const hex1 = (n: number) => n.toString(16).padStart(2, '0');
const clean = (h: string) => h.replace(/\s+/g, '');
/** An extension: type, 2-byte length, body. */
const ext = (code: number, body = '') => hex2(code) + hex2(clean(body).length / 2) + clean(body);
/** A block: 2-byte length, then the extensions. */
const block = (...exts: string[]) => {
  const b = exts.join('');
  return fromHex(hex2(b.length / 2) + b);
};
const v16 = (body: string) => hex2(clean(body).length / 2) + clean(body);
const v8 = (body: string) => hex1(clean(body).length / 2) + clean(body);

function decodeOne(code: number, body: string, context: ExtensionContext): Decoded<Extension[]> {
  return decodeExtensions(block(ext(code, body)), context);
}

function expectOne(code: number, body: string, context: ExtensionContext): Extension {
  const d = decodeOne(code, body, context);
  if (!d.ok) throw new Error(`expected a decode, got ${d.error.message}`);
  expect(d.value).toHaveLength(1);
  return d.value[0] as Extension;
}

function expectFailure(d: Decoded<unknown>, alert: AlertName, field: string): void {
  expect(d.ok).toBe(false);
  if (!d.ok) {
    expect(d.error.alert).toBe(alert);
    expect(d.error.field).toBe(field);
  }
}

function expectEncodeError(fn: () => unknown, fieldPart: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TlsError);
    expect((e as TlsError).alert).toBe('internal_error');
    expect((e as TlsError).message).toContain(fieldPart);
    return;
  }
  throw new Error('expected the encoder to refuse');
}

const CH: ExtensionContext = 'client_hello';
const SH: ExtensionContext = 'server_hello';
const HRR: ExtensionContext = 'hello_retry_request';
const EE: ExtensionContext = 'encrypted_extensions';
const CR: ExtensionContext = 'certificate_request';
const CT: ExtensionContext = 'certificate_entry';
const NST: ExtensionContext = 'new_session_ticket';

const binder32 = 'b0'.repeat(32);

describe('server_name (RFC 6066 §3)', () => {
  const list = (...names: string[]) => v16(names.map((n) => `00${v16(toHex(new TextEncoder().encode(n)))}`).join(''));

  it('decodes the host_name of a ClientHello', () => {
    expect(expectOne(0, list('server'), CH)).toEqual({ type: 'server_name', hostName: 'server' });
  });

  it('decodes the empty body a server sends in EncryptedExtensions or ServerHello', () => {
    expect(expectOne(0, '', EE)).toEqual({ type: 'server_name', hostName: undefined });
    expect(expectOne(0, '', SH)).toEqual({ type: 'server_name', hostName: undefined });
  });

  it('rejects an empty body in a ClientHello', () => {
    expectFailure(decodeOne(0, '', CH), 'decode_error', 'server_name.server_name_list');
  });

  it('rejects an empty server_name_list', () => {
    expectFailure(decodeOne(0, '0000', CH), 'decode_error', 'server_name.server_name_list');
  });

  it('rejects an unknown NameType', () => {
    expectFailure(decodeOne(0, v16(`01${v16('61')}`), CH), 'decode_error', 'server_name.name_type');
  });

  it('rejects two host names', () => {
    expectFailure(decodeOne(0, list('a.example', 'b.example'), CH), 'illegal_parameter', 'server_name.server_name_list');
  });

  it('rejects an empty host name', () => {
    expectFailure(decodeOne(0, v16('00' + '0000'), CH), 'decode_error', 'server_name.host_name');
  });

  it('rejects a host name that is not printable ASCII', () => {
    expectFailure(decodeOne(0, v16(`00${v16('61c3a9')}`), CH), 'decode_error', 'server_name.host_name');
    expectFailure(decodeOne(0, v16(`00${v16('610062')}`), CH), 'decode_error', 'server_name.host_name');
  });

  it('rejects a non-empty body from the server as trailing bytes', () => {
    expectFailure(decodeOne(0, list('server'), EE), 'decode_error', 'server_name');
  });

  it('encodes both forms', () => {
    expect(toHex(encodeExtensions([{ type: 'server_name', hostName: 'server' }], CH))).toBe(
      clean('000f 0000 000b 0009 00 0006 736572766572'),
    );
    expect(toHex(encodeExtensions([{ type: 'server_name', hostName: undefined }], EE))).toBe('000400000000');
  });

  it('refuses to encode a host name in a server message or none in a ClientHello', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'server_name', hostName: 'x' }], EE), 'server_name');
    expectEncodeError(() => encodeExtensions([{ type: 'server_name', hostName: undefined }], CH), 'server_name');
  });

  it('refuses to encode a host name with a space or non-ASCII characters', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'server_name', hostName: 'a b' }], CH), 'server_name.host_name');
    expectEncodeError(() => encodeExtensions([{ type: 'server_name', hostName: 'é' }], CH), 'server_name.host_name');
  });
});

describe('supported_groups and signature algorithms (§4.2.7, §4.2.3)', () => {
  it('decodes a NamedGroup list', () => {
    expect(expectOne(10, v16('001d 0017 0018'), CH)).toEqual({ type: 'supported_groups', groups: [0x1d, 0x17, 0x18] });
  });

  it('decodes supported_groups in EncryptedExtensions too', () => {
    expect(expectOne(10, v16('001d'), EE)).toEqual({ type: 'supported_groups', groups: [0x1d] });
  });

  it('rejects an empty or odd-length NamedGroup list', () => {
    expectFailure(decodeOne(10, '0000', CH), 'decode_error', 'supported_groups.named_group_list');
    expectFailure(decodeOne(10, v16('001d00'), CH), 'decode_error', 'supported_groups.named_group_list');
  });

  it('rejects bytes after the NamedGroup list', () => {
    expectFailure(decodeOne(10, `${v16('001d')}ff`, CH), 'decode_error', 'supported_groups');
  });

  it('decodes signature_algorithms and signature_algorithms_cert', () => {
    expect(expectOne(13, v16('0403 0804'), CH)).toEqual({ type: 'signature_algorithms', schemes: [0x0403, 0x0804] });
    expect(expectOne(50, v16('0807'), CR)).toEqual({ type: 'signature_algorithms_cert', schemes: [0x0807] });
  });

  it('rejects an empty or odd-length SignatureScheme list', () => {
    expectFailure(decodeOne(13, '0000', CR), 'decode_error', 'signature_algorithms.supported_signature_algorithms');
    expectFailure(decodeOne(50, v16('04'), CH), 'decode_error', 'signature_algorithms_cert.supported_signature_algorithms');
  });

  it('refuses to encode an empty list', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'supported_groups', groups: [] }], CH), 'supported_groups');
    expectEncodeError(() => encodeExtensions([{ type: 'signature_algorithms', schemes: [] }], CH), 'signature_algorithms');
  });
});

describe('supported_versions (§4.2.1)', () => {
  it('decodes the client list, which has a 1-byte length', () => {
    expect(expectOne(43, '04 0304 0303', CH)).toEqual({ type: 'supported_versions_client', versions: [0x0304, 0x0303] });
  });

  it('decodes the selected version in a ServerHello and a HelloRetryRequest', () => {
    expect(expectOne(43, '0304', SH)).toEqual({ type: 'supported_versions_server', version: 0x0304 });
    expect(expectOne(43, '0304', HRR)).toEqual({ type: 'supported_versions_server', version: 0x0304 });
  });

  it('rejects a client list shorter than 2 bytes, of odd length or longer than 254 bytes', () => {
    expectFailure(decodeOne(43, '00', CH), 'decode_error', 'supported_versions.versions');
    expectFailure(decodeOne(43, '03 030403', CH), 'decode_error', 'supported_versions.versions');
    expectFailure(decodeOne(43, `ff${'03'.repeat(255)}`, CH), 'decode_error', 'supported_versions.versions');
  });

  it('accepts a client list of the maximum 254 bytes', () => {
    const e = expectOne(43, `fe${'0304'.repeat(127)}`, CH);
    expect(e.type === 'supported_versions_client' && e.versions.length).toBe(127);
  });

  it('rejects a server version of the wrong length', () => {
    expectFailure(decodeOne(43, '03', SH), 'decode_error', 'supported_versions.selected_version');
    expectFailure(decodeOne(43, '030400', SH), 'decode_error', 'supported_versions');
  });

  it('encodes both forms', () => {
    expect(toHex(encodeExtensions([{ type: 'supported_versions_client', versions: [0x0304] }], CH))).toBe('0007002b0003020304');
    expect(toHex(encodeExtensions([{ type: 'supported_versions_server', version: 0x0304 }], SH))).toBe('0006002b00020304');
  });
});

describe('key_share (§4.2.8)', () => {
  const entry = (group: string, key: string) => group + v16(key);

  it('decodes the client shares', () => {
    expect(expectOne(51, v16(entry('001d', 'aabb') + entry('0017', '04cc')), CH)).toEqual({
      type: 'key_share_client',
      shares: [
        { group: 0x1d, keyExchange: fromHex('aabb') },
        { group: 0x17, keyExchange: fromHex('04cc') },
      ],
    });
  });

  it('accepts an empty client_shares list (a client asking for a HelloRetryRequest)', () => {
    expect(expectOne(51, '0000', CH)).toEqual({ type: 'key_share_client', shares: [] });
  });

  it('rejects two client shares for the same group', () => {
    expectFailure(decodeOne(51, v16(entry('001d', 'aa') + entry('001d', 'bb')), CH), 'illegal_parameter', 'key_share.client_shares');
  });

  it('rejects an empty key_exchange', () => {
    expectFailure(decodeOne(51, v16(entry('001d', '')), CH), 'decode_error', 'key_share.key_exchange');
    expectFailure(decodeOne(51, entry('001d', ''), SH), 'decode_error', 'key_share.key_exchange');
  });

  it('rejects a client share list that ends inside an entry', () => {
    expectFailure(decodeOne(51, v16('001d 0005 aabb'), CH), 'decode_error', 'key_share.key_exchange');
  });

  it('decodes the server share in a ServerHello', () => {
    expect(expectOne(51, entry('001d', 'ccdd'), SH)).toEqual({
      type: 'key_share_server',
      share: { group: 0x1d, keyExchange: fromHex('ccdd') },
    });
  });

  it('decodes the selected group in a HelloRetryRequest', () => {
    expect(expectOne(51, '0017', HRR)).toEqual({ type: 'key_share_hrr', selectedGroup: 0x17 });
  });

  it('rejects a HelloRetryRequest key_share with more than the group', () => {
    expectFailure(decodeOne(51, entry('0017', 'aa'), HRR), 'decode_error', 'key_share');
  });

  it('rejects a server share followed by more bytes', () => {
    expectFailure(decodeOne(51, `${entry('001d', 'cc')}00`, SH), 'decode_error', 'key_share');
  });

  it('refuses to encode two client shares for one group', () => {
    const k = fromHex('01');
    expectEncodeError(
      () =>
        encodeExtensions(
          [
            {
              type: 'key_share_client',
              shares: [
                { group: 1, keyExchange: k },
                { group: 1, keyExchange: k },
              ],
            },
          ],
          CH,
        ),
      'key_share.client_shares',
    );
  });

  it('refuses to encode an empty key_exchange', () => {
    expectEncodeError(
      () => encodeExtensions([{ type: 'key_share_server', share: { group: 0x1d, keyExchange: new Uint8Array(0) } }], SH),
      'key_share.key_exchange',
    );
  });
});

describe('psk_key_exchange_modes (§4.2.9)', () => {
  it('decodes the modes', () => {
    expect(expectOne(45, '02 0100', CH)).toEqual({ type: 'psk_key_exchange_modes', modes: [1, 0] });
  });

  it('rejects an empty list', () => {
    expectFailure(decodeOne(45, '00', CH), 'decode_error', 'psk_key_exchange_modes.ke_modes');
  });

  it('refuses to encode an empty list', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'psk_key_exchange_modes', modes: [] }], CH), 'psk_key_exchange_modes');
  });
});

describe('pre_shared_key (§4.2.11)', () => {
  const identity = (id: string, age: string) => v16(id) + age;

  it('decodes offered identities and binders in a ClientHello', () => {
    expect(expectOne(41, v16(identity('0102', '00000010')) + v16(v8(binder32)), CH)).toEqual({
      type: 'pre_shared_key_client',
      identities: [{ identity: fromHex('0102'), obfuscatedTicketAge: 0x10 }],
      binders: [fromHex(binder32)],
    });
  });

  it('decodes the selected identity in a ServerHello', () => {
    expect(expectOne(41, '0001', SH)).toEqual({ type: 'pre_shared_key_server', selectedIdentity: 1 });
  });

  it('rejects an empty identity', () => {
    // identities<7..> is satisfied by two entries, the first of which has an empty identity.
    const ids = v16(identity('', '00000000') + identity('01', '00000000'));
    expectFailure(decodeOne(41, ids + v16(v8(binder32) + v8(binder32)), CH), 'decode_error', 'pre_shared_key.identity');
  });

  it('rejects an identities list shorter than 7 bytes', () => {
    expectFailure(decodeOne(41, v16('0000 00000000') + v16(v8(binder32)), CH), 'decode_error', 'pre_shared_key.identities');
  });

  it('rejects a binder shorter than 32 bytes', () => {
    expectFailure(
      decodeOne(41, v16(identity('01', '00000000')) + v16(`${v8('aa'.repeat(31))}00`), CH),
      'decode_error',
      'pre_shared_key.binder',
    );
  });

  it('rejects a binders list shorter than 33 bytes', () => {
    expectFailure(decodeOne(41, `${v16(identity('01', '00000000'))}0000`, CH), 'decode_error', 'pre_shared_key.binders');
  });

  it('rejects a different number of binders and identities', () => {
    const ids = v16(identity('01', '00000000') + identity('02', '00000000'));
    expectFailure(decodeOne(41, ids + v16(v8(binder32)), CH), 'illegal_parameter', 'pre_shared_key.binders');
  });

  it('rejects pre_shared_key that is not the last extension of a ClientHello', () => {
    const psk = ext(41, v16(identity('01', '00000000')) + v16(v8(binder32)));
    expectFailure(decodeExtensions(block(psk, ext(45, '0101')), CH), 'illegal_parameter', 'client_hello.extensions');
    expect(decodeExtensions(block(ext(45, '0101'), psk), CH).ok).toBe(true);
  });

  it('does not require pre_shared_key to be last in a ServerHello', () => {
    expect(decodeExtensions(block(ext(41, '0000'), ext(43, '0304')), SH).ok).toBe(true);
  });

  it('refuses to encode pre_shared_key before another extension of a ClientHello', () => {
    const psk: Extension = {
      type: 'pre_shared_key_client',
      identities: [{ identity: fromHex('01'), obfuscatedTicketAge: 0 }],
      binders: [fromHex(binder32)],
    };
    expectEncodeError(() => encodeExtensions([psk, { type: 'early_data' }], CH), 'pre_shared_key must be the last');
  });

  it('refuses to encode a different number of binders and identities', () => {
    expectEncodeError(
      () =>
        encodeExtensions(
          [{ type: 'pre_shared_key_client', identities: [{ identity: fromHex('01'), obfuscatedTicketAge: 0 }], binders: [] }],
          CH,
        ),
      'pre_shared_key.binders',
    );
  });
});

describe('early_data (§4.2.10)', () => {
  it('decodes the empty indication in a ClientHello and EncryptedExtensions', () => {
    expect(expectOne(42, '', CH)).toEqual({ type: 'early_data' });
    expect(expectOne(42, '', EE)).toEqual({ type: 'early_data' });
  });

  it('decodes max_early_data_size in a NewSessionTicket', () => {
    expect(expectOne(42, '00004000', NST)).toEqual({ type: 'early_data_ticket', maxEarlyDataSize: 0x4000 });
  });

  it('rejects a body in EncryptedExtensions', () => {
    expectFailure(decodeOne(42, '00', EE), 'decode_error', 'early_data');
  });

  it('rejects a short max_early_data_size', () => {
    expectFailure(decodeOne(42, '0000', NST), 'decode_error', 'early_data.max_early_data_size');
  });

  it('encodes both forms', () => {
    expect(toHex(encodeExtensions([{ type: 'early_data' }], EE))).toBe('0004002a0000');
    expect(toHex(encodeExtensions([{ type: 'early_data_ticket', maxEarlyDataSize: 1024 }], NST))).toBe('0008002a000400000400');
  });

  it('refuses to encode the ticket form outside a NewSessionTicket and the empty form inside one', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'early_data_ticket', maxEarlyDataSize: 1 }], EE), 'early_data_ticket');
    expectEncodeError(() => encodeExtensions([{ type: 'early_data' }], NST), 'early_data');
  });
});

describe('cookie (§4.2.2)', () => {
  it('decodes a cookie', () => {
    expect(expectOne(44, v16('c0ffee'), HRR)).toEqual({ type: 'cookie', cookie: fromHex('c0ffee') });
  });

  it('rejects an empty cookie', () => {
    expectFailure(decodeOne(44, '0000', HRR), 'decode_error', 'cookie.cookie');
  });

  it('rejects bytes after the cookie', () => {
    expectFailure(decodeOne(44, `${v16('c0')}00`, CH), 'decode_error', 'cookie');
  });
});

describe('application_layer_protocol_negotiation (RFC 7301 §3.1)', () => {
  const names = (...ns: string[]) => v16(ns.map((n) => v8(toHex(new TextEncoder().encode(n)))).join(''));

  it('decodes the client protocol list', () => {
    expect(expectOne(16, names('h2', 'http/1.1'), CH)).toEqual({ type: 'alpn', protocols: ['h2', 'http/1.1'] });
  });

  it('decodes the one protocol the server selected', () => {
    expect(expectOne(16, names('h2'), EE)).toEqual({ type: 'alpn', protocols: ['h2'] });
  });

  it('rejects more than one protocol in EncryptedExtensions', () => {
    expectFailure(decodeOne(16, names('h2', 'http/1.1'), EE), 'decode_error', 'alpn.protocol_name_list');
  });

  it('rejects an empty protocol name and an empty list', () => {
    expectFailure(decodeOne(16, v16('00'), CH), 'decode_error', 'alpn.protocol_name_list');
    expectFailure(decodeOne(16, v16('00 02 6832'), CH), 'decode_error', 'alpn.protocol_name');
    expectFailure(decodeOne(16, '0000', CH), 'decode_error', 'alpn.protocol_name_list');
  });

  it('keeps protocol names that are not ASCII byte for byte', () => {
    const e = expectOne(16, v16(v8('ff00c3')), CH);
    expect(e).toEqual({ type: 'alpn', protocols: ['\u00ff\u0000\u00c3'] });
    expect(toHex(encodeExtensions([e], CH))).toBe(clean('000a 0010 0006 0004 03 ff00c3'));
  });

  it('refuses to encode more than one protocol in EncryptedExtensions, or a character above U+00FF', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'alpn', protocols: ['h2', 'h3'] }], EE), 'alpn');
    expectEncodeError(() => encodeExtensions([{ type: 'alpn', protocols: ['\u0100'] }], CH), 'alpn.protocol_name');
  });
});

describe('unknown extensions', () => {
  it('keeps an unknown extension with its code and body', () => {
    expect(expectOne(0xff01, '00', CH)).toEqual({ type: 'unknown', code: 0xff01, data: fromHex('00') });
    expect(expectOne(0x0a0a, '', EE)).toEqual({ type: 'unknown', code: 0x0a0a, data: new Uint8Array(0) });
  });

  it('rejects a repeated unknown extension', () => {
    expectFailure(decodeExtensions(block(ext(0xff01, '00'), ext(0xff01, '00')), CH), 'illegal_parameter', 'client_hello.extensions');
  });

  it('refuses to encode an unknown extension under a known code', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'unknown', code: 51, data: new Uint8Array(0) }], CH), 'unknown');
  });
});

describe('extension blocks', () => {
  it('rejects the same known extension twice', () => {
    expectFailure(decodeExtensions(block(ext(43, '0304'), ext(43, '0304')), SH), 'illegal_parameter', 'server_hello.extensions');
  });

  it('rejects a block whose length runs past the input', () => {
    expectFailure(decodeExtensions(fromHex('0010 0000'), EE), 'decode_error', 'encrypted_extensions.extensions');
  });

  it('rejects bytes after the block', () => {
    expectFailure(decodeExtensions(fromHex('0000 00'), EE), 'decode_error', 'encrypted_extensions.extensions');
  });

  it('rejects an extension header cut short', () => {
    expectFailure(decodeExtensions(fromHex('0001 00'), EE), 'decode_error', 'encrypted_extensions.extensions.extension_type');
    expectFailure(decodeExtensions(fromHex('0003 002b00'), EE), 'decode_error', 'supported_versions.extension_data');
  });

  it('rejects extension_data longer than the block', () => {
    expectFailure(decodeExtensions(fromHex('0006 002b 0004 0304'), SH), 'decode_error', 'supported_versions.extension_data');
  });

  it('accepts an empty block where RFC 8446 allows one and rejects it in a CertificateRequest', () => {
    expect(decodeExtensions(fromHex('0000'), EE)).toEqual({ ok: true, value: [] });
    expect(decodeExtensions(fromHex('0000'), CT)).toEqual({ ok: true, value: [] });
    expect(decodeExtensions(fromHex('0000'), NST)).toEqual({ ok: true, value: [] });
    expectFailure(decodeExtensions(fromHex('0000'), CR), 'decode_error', 'certificate_request.extensions');
  });

  it('rejects a NewSessionTicket block of 2^16-1 bytes (its bound is <0..2^16-2>)', () => {
    const body = 'ab'.repeat(0xffff - 4);
    expectFailure(decodeExtensions(block(ext(0x1234, body)), NST), 'decode_error', 'new_session_ticket.extensions');
    expect(decodeExtensions(block(ext(0x1234, body)), EE).ok).toBe(true);
  });

  it('keeps the order of the extensions', () => {
    const d = decodeExtensions(block(ext(0xff01, '00'), ext(43, '0304'), ext(51, `001d${v16('aa')}`)), SH);
    expect(d.ok && d.value.map((e) => e.type)).toEqual(['unknown', 'supported_versions_server', 'key_share_server']);
  });

  it('refuses to encode two extensions of one type', () => {
    expectEncodeError(
      () =>
        encodeExtensions(
          [
            { type: 'cookie', cookie: fromHex('01') },
            { type: 'cookie', cookie: fromHex('02') },
          ],
          HRR,
        ),
      'appears more than once',
    );
  });

  it('refuses to encode an extension form that its context would not decode', () => {
    expectEncodeError(() => encodeExtensions([{ type: 'key_share_client', shares: [] }], SH), 'key_share_client');
    expectEncodeError(() => encodeExtensions([{ type: 'key_share_hrr', selectedGroup: 1 }], SH), 'key_share_hrr');
    expectEncodeError(
      () => encodeExtensions([{ type: 'key_share_server', share: { group: 1, keyExchange: fromHex('01') } }], HRR),
      'key_share_server',
    );
    expectEncodeError(() => encodeExtensions([{ type: 'supported_versions_server', version: 1 }], CH), 'supported_versions_server');
    expectEncodeError(() => encodeExtensions([{ type: 'pre_shared_key_server', selectedIdentity: 0 }], CH), 'pre_shared_key_server');
  });

  it('refuses to encode an empty CertificateRequest block', () => {
    expectEncodeError(() => encodeExtensions([], CR), 'certificate_request.extensions');
  });
});

describe('extensionAllowedIn (RFC 8446 §4.2 table)', () => {
  const keyShareServer: Extension = { type: 'key_share_server', share: { group: 0x1d, keyExchange: fromHex('01') } };

  it('allows the extensions of the table in their messages', () => {
    expect(extensionAllowedIn({ type: 'server_name', hostName: 'a' }, CH)).toBe(true);
    expect(extensionAllowedIn({ type: 'server_name', hostName: undefined }, EE)).toBe(true);
    expect(extensionAllowedIn({ type: 'supported_groups', groups: [1] }, EE)).toBe(true);
    expect(extensionAllowedIn(keyShareServer, SH)).toBe(true);
    expect(extensionAllowedIn({ type: 'key_share_hrr', selectedGroup: 1 }, HRR)).toBe(true);
    expect(extensionAllowedIn({ type: 'cookie', cookie: fromHex('01') }, HRR)).toBe(true);
    expect(extensionAllowedIn({ type: 'pre_shared_key_server', selectedIdentity: 0 }, SH)).toBe(true);
    expect(extensionAllowedIn({ type: 'early_data' }, EE)).toBe(true);
    expect(extensionAllowedIn({ type: 'early_data_ticket', maxEarlyDataSize: 0 }, NST)).toBe(true);
    expect(extensionAllowedIn({ type: 'signature_algorithms', schemes: [1] }, CR)).toBe(true);
    expect(extensionAllowedIn({ type: 'signature_algorithms_cert', schemes: [1] }, CR)).toBe(true);
    expect(extensionAllowedIn({ type: 'alpn', protocols: ['h2'] }, EE)).toBe(true);
  });

  it('refuses recognised extensions outside their messages', () => {
    expect(extensionAllowedIn(keyShareServer, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'cookie', cookie: fromHex('01') }, SH)).toBe(false);
    expect(extensionAllowedIn({ type: 'cookie', cookie: fromHex('01') }, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'pre_shared_key_server', selectedIdentity: 0 }, HRR)).toBe(false);
    expect(extensionAllowedIn({ type: 'early_data' }, SH)).toBe(false);
    expect(extensionAllowedIn({ type: 'supported_versions_server', version: 0x0304 }, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'psk_key_exchange_modes', modes: [1] }, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'signature_algorithms', schemes: [1] }, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'supported_groups', groups: [1] }, SH)).toBe(false);
    expect(extensionAllowedIn({ type: 'server_name', hostName: undefined }, SH)).toBe(false);
    expect(extensionAllowedIn({ type: 'alpn', protocols: ['h2'] }, CT)).toBe(false);
  });

  it('refuses a form that does not belong to the message even if the type is allowed there', () => {
    expect(extensionAllowedIn({ type: 'key_share_client', shares: [] }, SH)).toBe(false);
    expect(extensionAllowedIn(keyShareServer, CH)).toBe(false);
    expect(extensionAllowedIn({ type: 'early_data_ticket', maxEarlyDataSize: 0 }, EE)).toBe(false);
    expect(extensionAllowedIn({ type: 'alpn', protocols: ['h2', 'h3'] }, EE)).toBe(false);
  });

  it('applies the table to RFC 8446 extensions that tlschart keeps as unknown', () => {
    const statusRequest: Extension = { type: 'unknown', code: 5, data: new Uint8Array(0) };
    const padding: Extension = { type: 'unknown', code: 21, data: new Uint8Array(0) };
    const oidFilters: Extension = { type: 'unknown', code: 48, data: new Uint8Array(0) };
    expect(extensionAllowedIn(statusRequest, CT)).toBe(true);
    expect(extensionAllowedIn(statusRequest, SH)).toBe(false);
    expect(extensionAllowedIn(padding, CH)).toBe(true);
    expect(extensionAllowedIn(padding, EE)).toBe(false);
    expect(extensionAllowedIn(oidFilters, CR)).toBe(true);
    expect(extensionAllowedIn(oidFilters, CH)).toBe(false);
  });

  it('leaves extensions that the table does not list to the state machines', () => {
    expect(extensionAllowedIn({ type: 'unknown', code: 0x7a7a, data: new Uint8Array(0) }, SH)).toBe(true);
  });

  it('keeps a disallowed extension decodable and finds it', () => {
    const d = decodeExtensions(block(ext(10, v16('001d')), ext(44, v16('01'))), EE);
    expect(d.ok).toBe(true);
    if (d.ok) expect(findDisallowedExtension(d.value, EE)).toEqual({ type: 'cookie', cookie: fromHex('01') });
    const ok = decodeExtensions(block(ext(10, v16('001d'))), EE);
    expect(ok.ok && findDisallowedExtension(ok.value, EE)).toBeUndefined();
  });

  it('agrees with extensionFormFits on forms', () => {
    expect(extensionFormFits({ type: 'key_share_hrr', selectedGroup: 1 }, HRR)).toBe(true);
    expect(extensionFormFits({ type: 'key_share_hrr', selectedGroup: 1 }, SH)).toBe(false);
  });
});

describe('lookups', () => {
  const exts: Extension[] = [
    { type: 'supported_versions_client', versions: [0x0304] },
    { type: 'key_share_client', shares: [{ group: 0x1d, keyExchange: fromHex('aa') }] },
    { type: 'unknown', code: 0xff01, data: fromHex('00') },
  ];

  it('finds an extension by form, typed', () => {
    const ks = findExtension(exts, 'key_share_client');
    expect(ks?.shares[0]?.group).toBe(0x1d);
    expect(findExtension(exts, 'cookie')).toBeUndefined();
  });

  it('finds an extension by code', () => {
    expect(findExtensionByCode(exts, 43)).toBe(exts[0]);
    expect(findExtensionByCode(exts, 0xff01)).toBe(exts[2]);
    expect(findExtensionByCode(exts, 44)).toBeUndefined();
  });

  it('maps every form to its extension_type code', () => {
    expect(exts.map(extensionCode)).toEqual([43, 51, 0xff01]);
    expect(extensionCode({ type: 'alpn', protocols: ['h2'] })).toBe(16);
    expect(extensionCode({ type: 'early_data_ticket', maxEarlyDataSize: 0 })).toBe(42);
    expect(extensionCode({ type: 'pre_shared_key_server', selectedIdentity: 0 })).toBe(41);
    expect(extensionCode({ type: 'key_share_hrr', selectedGroup: 0 })).toBe(51);
  });
});
