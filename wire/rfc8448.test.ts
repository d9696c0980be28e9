/**
 * Real handshake messages from RFC 8448 (§3 simple 1-RTT, §4 resumed with
 * PSK, §5 HelloRetryRequest), decoded field by field and re-encoded to the
 * same bytes. The hex is transcribed from the RFC; the cross-layer tests in
 * vectors/ use the shared transcription.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../crypto/bytes.js';
import { findExtension, findExtensionByCode } from './extensions.js';
import { decodeHandshake, encodeHandshake, patchBinders, truncatedClientHello } from './handshake.js';
import type { Certificate, ClientHello, HandshakeMessage, NewSessionTicket, ServerHello } from './types.js';

// ---------------------------------------------------------------- §3 Simple 1-RTT Handshake

const S3_CLIENT_HELLO = `
  01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83
  02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01
  00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 23 00 00 00 33 00
  26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69
  1e 52 9a af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01
  05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01`;

const S3_SERVER_HELLO = `
  02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e
  d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1
  56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04`;

const S3_ENCRYPTED_EXTENSIONS = `
  08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c 00 02
  40 01 00 00 00 00`;

const S3_CERTIFICATE = `
  0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30 82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a 86 48
  86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a 06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36 30 37 33 30
  30 31 32 33 35 39 5a 17 0d 32 36 30 37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a 06 03 55 04 03 13
  03 72 73 61 30 81 9f 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01 05 00 03 81 8d 00 30 81 89 02 81 81 00 b4
  bb 49 8f 82 79 30 3d 98 08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26 d3 90 1a 24 61 ea fd 2d e4 9a
  91 d0 15 ab bc 9a 95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12 09 98 e1 87 a8 0e e0 cc b0 52 4b 1b
  01 8c 3e 0b 63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74 80 30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6
  d1 d0 3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f 02 03 01 00 01 a3 1a 30 18
  30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55 1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86 f7 0d
  01 01 0b 05 00 03 81 81 00 85 aa d2 a0 e5 b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f 8a 7b 33 7d
  2d f7 a5 94 36 54 17 f2 ea e8 f8 a5 8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a 03 01 51 56 72 60
  96 fd 33 5e 5e 67 f2 db f1 02 70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e b7 10 7c 3c 54 e9 b9 eb
  2b d5 20 3b 1c 3b 84 e0 a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8 f8 96 12 29 ac 91 87 b4 2b 4d
  e1 00 00`;

const S3_CERTIFICATE_VERIFY = `
  0f 00 00 84 08 04 00 80 5a 74 7c 5d 88 fa 9b d2 e5 5a b0 85 a6 10 15 b7 21 1f 82 4c d4 84 14 5a b3 ff
  52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3 3a 5c 14 1a 07 86 53 fa 6b ef 78 0c 5e a2 48 ee aa a7 85 c4
  f3 94 ca b6 d3 0b be 8d 48 59 ee 51 1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44 5c 9e a5 8c 18 1e 81
  8e 95 b8 c3 fb 0b f3 27 84 09 d3 be 15 2a 3d a5 04 3e 06 3d da 65 cd f5 ae a2 0d 53 df ac d4 2f 74 f3`;

const S3_SERVER_FINISHED = `
  14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f
  07 18`;

const S3_CLIENT_FINISHED = `
  14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5
  ce 61`;

const S3_NEW_SESSION_TICKET = `
  04 00 00 c9 00 00 00 1e fa d6 aa c5 02 00 00 00 b2 2c 03 5d 82 93 59 ee 5f f7 af 4e c9 00 00 00 00 26
  2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc 55 cd 22
  60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27 db 27 9c ce 14 50
  77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90
  6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6
  21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 00 08 00 2a 00 04 00 00 04
  00`;

// ---------------------------------------------------------------- §4 Resumed 0-RTT Handshake

const S4_CLIENT_HELLO = `
  01 00 01 fc 03 03 1b c3 ce b6 bb e3 9c ff 93 83 55 b5 a5 0a db 6d b2 1b 7a 6a f6 49 d7 b4 bc 41 9d 78
  76 48 7d 95 00 00 06 13 01 13 03 13 02 01 00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01
  00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 33 00 26 00 24 00
  1d 00 20 e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba dd da fe 05 1a 66 b4 f1 8d 66 8f
  0b 00 2a 00 00 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01
  05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 57 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 29 00 dd 00 b8 00 b2 2c 03 5d 82 93 59 ee 5f f7 af 4e
  c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be
  78 5a bc 55 cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27
  db 27 9c ce 14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 51 3e
  3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03
  27 2e 97 07 27 c6 21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 fa d6 aa
  cb 00 21 20 3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8 8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e
  5f 9d`;

/** RFC 8448 §4 "binder hash": Transcript-Hash(Truncate(ClientHello)). */
const S4_BINDER_HASH = '63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14';
const S4_BINDER = '3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d';

const S4_SERVER_HELLO = `
  02 00 00 5c 03 03 3c cf d2 de c8 90 22 27 63 47 2a e8 13 67 77 c9 d7 35 87 77 bb 66 e9 1e a5 12 24 95
  f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02 00 00 00 33 00 24 00 1d 00 20 12 17 61 ee 42 c3 33 e1 b9 e7
  7b 60 dd 57 c2 05 3c d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31 00 2b 00 02 03 04`;

// ---------------------------------------------------------------- §5 HelloRetryRequest

const S5_CLIENT_HELLO_1 = `
  01 00 00 b0 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee 92 58 a3
  46 67 7b 6f 00 00 06 13 01 13 03 13 02 01 00 00 81 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01
  00 01 00 00 0a 00 08 00 06 00 1d 00 17 00 18 00 33 00 26 00 24 00 1d 00 20 e8 e8 e3 f3 b9 3a 25 ed 97
  a1 4a 7d ca cb 8a 27 2c 62 88 e5 85 c6 48 4d 05 26 2f ca d0 62 ad 1f 00 2b 00 03 02 03 04 00 0d 00 20
  00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d
  00 02 01 01 00 1c 00 02 40 01`;

const S5_HELLO_RETRY_REQUEST = `
  02 00 00 ac 03 03 cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16 7a bb 8c 5e 07 9e 09 e2
  c8 a8 33 9c 00 13 01 00 00 84 00 33 00 02 00 17 00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a
  00 00 00 00 ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56 36 e5 f2 1b b2 e2
  3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1
  5b 0c 8b e7 78 25 7d 16 aa 30 30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0
  00 2b 00 02 03 04`;

const S5_CLIENT_HELLO_2 = `
  01 00 01 fc 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee 92 58 a3
  46 67 7b 6f 00 00 06 13 01 13 03 13 02 01 00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01
  00 01 00 00 0a 00 08 00 06 00 1d 00 17 00 18 00 33 00 47 00 45 00 17 00 41 04 a6 da 73 92 ec 59 1e 17
  ab fd 53 59 64 b9 98 94 d1 3b ef b2 21 b3 de f2 eb e3 83 0e ac 8f 01 51 81 26 77 c4 d6 d2 23 7e 85 cf
  01 d6 91 0c fb 83 95 4e 76 ba 73 52 83 05 34 15 98 97 e8 06 57 80 00 2b 00 03 02 03 04 00 0d 00 20 00
  1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2c 00
  74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00 ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65
  dd 00 30 95 3f 4e df 62 56 36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e
  8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16 aa 30 30 e9 e7 84 1d d9 e4 c0 34
  22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 af
  ${'00 '.repeat(0xaf)}`;

function decodeHex(h: string, hashLen?: number): HandshakeMessage {
  const d = decodeHandshake(fromHex(h), hashLen === undefined ? {} : { hashLen });
  if (!d.ok) throw new Error(`RFC 8448 message did not decode: ${d.error.message}`);
  expect(toHex(d.value.raw)).toBe(toHex(fromHex(h)));
  return d.value;
}

/** Decoding then encoding gives back the RFC's bytes exactly. */
function expectReencodes(h: string, hashLen?: number): void {
  const m = decodeHex(h, hashLen);
  const { raw: _raw, ...body } = m;
  expect(toHex(encodeHandshake(body).raw)).toBe(toHex(fromHex(h)));
}

describe('RFC 8448 §3 simple 1-RTT handshake', () => {
  it('decodes the ClientHello: SNI "server", x25519 share, TLS 1.3 only, psk_dhe_ke', () => {
    const m = decodeHex(S3_CLIENT_HELLO) as ClientHello;
    expect(m.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(findExtension(m.extensions, 'server_name')?.hostName).toBe('server');
    expect(findExtension(m.extensions, 'supported_versions_client')?.versions).toEqual([0x0304]);
    const ks = findExtension(m.extensions, 'key_share_client');
    expect(ks?.shares.map((s) => s.group)).toEqual([0x001d]);
    expect(toHex(ks?.shares[0]?.keyExchange ?? new Uint8Array())).toBe('99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c');
    expect(findExtension(m.extensions, 'psk_key_exchange_modes')?.modes).toEqual([1]);
    expect(findExtension(m.extensions, 'signature_algorithms')?.schemes).toHaveLength(15);
    // renegotiation_info, session_ticket and record_size_limit are kept as unknown extensions.
    expect(findExtensionByCode(m.extensions, 0xff01)).toEqual({ type: 'unknown', code: 0xff01, data: fromHex('00') });
    expect(findExtensionByCode(m.extensions, 28)).toEqual({ type: 'unknown', code: 28, data: fromHex('4001') });
  });

  it('decodes the ServerHello: TLS_AES_128_GCM_SHA256 and the server x25519 share', () => {
    const m = decodeHex(S3_SERVER_HELLO) as ServerHello;
    expect(m.isHelloRetryRequest).toBe(false);
    expect(m.cipherSuite).toBe(0x1301);
    expect(findExtension(m.extensions, 'supported_versions_server')?.version).toBe(0x0304);
    expect(findExtension(m.extensions, 'key_share_server')?.share.group).toBe(0x001d);
  });

  it('decodes EncryptedExtensions: supported_groups, record_size_limit and an empty server_name', () => {
    const m = decodeHex(S3_ENCRYPTED_EXTENSIONS);
    expect(m.type === 'encrypted_extensions' && m.extensions).toEqual([
      { type: 'supported_groups', groups: [0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104] },
      { type: 'unknown', code: 28, data: fromHex('4001') },
      { type: 'server_name', hostName: undefined },
    ]);
  });

  it('decodes the Certificate: one 432-byte X.509 entry without extensions', () => {
    const m = decodeHex(S3_CERTIFICATE) as Certificate;
    expect(m.certificateRequestContext).toEqual(new Uint8Array(0));
    expect(m.entries).toHaveLength(1);
    expect(m.entries[0]?.certData.length).toBe(0x1b0);
    expect(toHex(m.entries[0]?.certData.subarray(0, 4) ?? new Uint8Array())).toBe('308201ac');
    expect(m.entries[0]?.extensions).toEqual([]);
  });

  it('decodes the CertificateVerify: rsa_pss_rsae_sha256 with a 128-byte signature', () => {
    const m = decodeHex(S3_CERTIFICATE_VERIFY);
    expect(m.type === 'certificate_verify' && [m.algorithm, m.signature.length]).toEqual([0x0804, 128]);
  });

  it('decodes both Finished messages with Hash.length 32', () => {
    const s = decodeHex(S3_SERVER_FINISHED, 32);
    const c = decodeHex(S3_CLIENT_FINISHED, 32);
    expect(s.type === 'finished' && toHex(s.verifyData)).toBe('9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718');
    expect(c.type === 'finished' && toHex(c.verifyData)).toBe('a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61');
    expect(decodeHandshake(fromHex(S3_SERVER_FINISHED), { hashLen: 48 }).ok).toBe(false);
  });

  it('decodes the NewSessionTicket: 30 s lifetime, nonce 00 00, a 178-byte ticket and early_data 1024', () => {
    const m = decodeHex(S3_NEW_SESSION_TICKET) as NewSessionTicket;
    expect(m.ticketLifetime).toBe(30);
    expect(m.ticketAgeAdd).toBe(0xfad6aac5);
    expect(toHex(m.ticketNonce)).toBe('0000');
    expect(m.ticket.length).toBe(0xb2);
    expect(m.extensions).toEqual([{ type: 'early_data_ticket', maxEarlyDataSize: 0x400 }]);
  });

  it('re-encodes every message to the RFC bytes', () => {
    for (const h of [
      S3_CLIENT_HELLO,
      S3_SERVER_HELLO,
      S3_ENCRYPTED_EXTENSIONS,
      S3_CERTIFICATE,
      S3_CERTIFICATE_VERIFY,
      S3_NEW_SESSION_TICKET,
    ]) {
      expectReencodes(h);
    }
    expectReencodes(S3_SERVER_FINISHED, 32);
    expectReencodes(S3_CLIENT_FINISHED, 32);
  });
});

describe('RFC 8448 §4 resumed handshake', () => {
  it('decodes the ClientHello with the ticket as PSK identity and its binder last', () => {
    const m = decodeHex(S4_CLIENT_HELLO) as ClientHello;
    const psk = findExtension(m.extensions, 'pre_shared_key_client');
    expect(m.extensions[m.extensions.length - 1]).toBe(psk);
    expect(psk?.identities).toHaveLength(1);
    expect(psk?.identities[0]?.obfuscatedTicketAge).toBe(0xfad6aacb);
    // The identity is the §3 ticket.
    const nst = decodeHex(S3_NEW_SESSION_TICKET) as NewSessionTicket;
    expect(toHex(psk?.identities[0]?.identity ?? new Uint8Array())).toBe(toHex(nst.ticket));
    expect(psk?.binders.map(toHex)).toEqual([S4_BINDER]);
    expect(findExtension(m.extensions, 'early_data')).toEqual({ type: 'early_data' });
    expect(findExtensionByCode(m.extensions, 21)).toMatchObject({ type: 'unknown', code: 21 });
  });

  it('truncates the received ClientHello to the bytes whose hash is the RFC binder hash', () => {
    const t = truncatedClientHello(fromHex(S4_CLIENT_HELLO));
    expect(t.ok).toBe(true);
    if (t.ok) {
      expect(t.value.length).toBe(fromHex(S4_CLIENT_HELLO).length - 35);
      expect(toHex(sha256(t.value))).toBe(S4_BINDER_HASH);
    }
  });

  it('patches a zero placeholder binder back to the RFC ClientHello', () => {
    const raw = fromHex(S4_CLIENT_HELLO);
    const zeroed = patchBinders(raw, [new Uint8Array(32)]);
    expect(toHex(zeroed.subarray(-32))).toBe('00'.repeat(32));
    expect(toHex(patchBinders(zeroed, [fromHex(S4_BINDER)]))).toBe(toHex(raw));
  });

  it('decodes the ServerHello selecting PSK identity 0', () => {
    const m = decodeHex(S4_SERVER_HELLO) as ServerHello;
    expect(m.extensions).toEqual([
      { type: 'pre_shared_key_server', selectedIdentity: 0 },
      {
        type: 'key_share_server',
        share: { group: 0x1d, keyExchange: fromHex('121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31') },
      },
      { type: 'supported_versions_server', version: 0x0304 },
    ]);
  });

  it('re-encodes both messages to the RFC bytes', () => {
    expectReencodes(S4_CLIENT_HELLO);
    expectReencodes(S4_SERVER_HELLO);
  });
});

describe('RFC 8448 §5 HelloRetryRequest', () => {
  it('decodes the HelloRetryRequest: secp256r1 selected, a 114-byte cookie', () => {
    const m = decodeHex(S5_HELLO_RETRY_REQUEST) as ServerHello;
    expect(m.isHelloRetryRequest).toBe(true);
    expect(findExtension(m.extensions, 'key_share_hrr')?.selectedGroup).toBe(0x0017);
    expect(findExtension(m.extensions, 'cookie')?.cookie.length).toBe(0x72);
    expect(findExtension(m.extensions, 'supported_versions_server')?.version).toBe(0x0304);
  });

  it('decodes the first ClientHello with an x25519 share only', () => {
    const m = decodeHex(S5_CLIENT_HELLO_1) as ClientHello;
    expect(findExtension(m.extensions, 'key_share_client')?.shares.map((s) => s.group)).toEqual([0x1d]);
  });

  it('decodes the second ClientHello: the same random, a P-256 share and the echoed cookie', () => {
    const ch1 = decodeHex(S5_CLIENT_HELLO_1) as ClientHello;
    const ch2 = decodeHex(S5_CLIENT_HELLO_2) as ClientHello;
    const hrr = decodeHex(S5_HELLO_RETRY_REQUEST) as ServerHello;
    expect(toHex(ch2.random)).toBe(toHex(ch1.random));
    const share = findExtension(ch2.extensions, 'key_share_client')?.shares;
    expect(share?.map((s) => [s.group, s.keyExchange.length])).toEqual([[0x17, 65]]);
    expect(findExtension(ch2.extensions, 'cookie')?.cookie).toEqual(findExtension(hrr.extensions, 'cookie')?.cookie);
    expect(findExtensionByCode(ch2.extensions, 21)).toEqual({ type: 'unknown', code: 21, data: new Uint8Array(0xaf) });
  });

  it('re-encodes all three messages to the RFC bytes', () => {
    expectReencodes(S5_CLIENT_HELLO_1);
    expectReencodes(S5_HELLO_RETRY_REQUEST);
    expectReencodes(S5_CLIENT_HELLO_2);
  });
});
