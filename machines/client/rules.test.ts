/** Table-driven tests of the client's public rules (rules.ts) for HelloRetryRequest, ServerHello and EncryptedExtensions. */
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import { encodeHandshake, hrrRandom } from '../../wire/handshake.js';
import { REFUSALS, type RefusalReason } from '../../wire/refusals.js';
import {
  CipherSuite,
  type ClientHello,
  type EncryptedExtensions,
  type Extension,
  NamedGroup,
  PskKeyExchangeMode,
  type ServerHello,
  TLS12,
  TLS13,
  type Unencoded,
} from '../../wire/types.js';
import { type ClientView, encryptedExtensionsViolation, helloRetryViolation, serverHelloViolation } from './rules.js';

const share = (group: number) => ({ group, keyExchange: nobleProvider.generateKeyPair(group, (n) => new Uint8Array(n).fill(7)).publicKey });
const sessionId = new Uint8Array(32).fill(2);

function clientHello(psk: boolean): ClientHello {
  const extensions: Extension[] = [
    { type: 'server_name', hostName: 'localhost' },
    { type: 'supported_versions_client', versions: [TLS13] },
    { type: 'supported_groups', groups: [NamedGroup.x25519, NamedGroup.secp256r1] },
    { type: 'key_share_client', shares: [share(NamedGroup.x25519)] },
    { type: 'signature_algorithms', schemes: [0x0403] },
    { type: 'alpn', protocols: ['h2', 'http/1.1'] },
    { type: 'psk_key_exchange_modes', modes: [PskKeyExchangeMode.psk_dhe_ke] },
  ];
  if (psk)
    extensions.push({
      type: 'pre_shared_key_client',
      identities: [{ identity: new Uint8Array(32), obfuscatedTicketAge: 1 }],
      binders: [new Uint8Array(32)],
    });
  return encodeHandshake<ClientHello>({
    type: 'client_hello',
    legacyVersion: TLS12,
    random: new Uint8Array(32),
    legacySessionId: sessionId,
    cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384],
    legacyCompressionMethods: new Uint8Array([0]),
    extensions,
  });
}

const view = (psk = true): ClientView => ({
  clientHello: clientHello(psk),
  helloRetryRequest: undefined,
  pskHash: psk ? 'sha256' : undefined,
  isValidShare: (g, s) => nobleProvider.isValidShare(g, s),
});

function serverHello(over: Partial<Unencoded<ServerHello>> = {}, extensions?: Extension[]): ServerHello {
  return encodeHandshake<ServerHello>({
    type: 'server_hello',
    isHelloRetryRequest: false,
    legacyVersion: TLS12,
    random: new Uint8Array(32).fill(4),
    legacySessionIdEcho: sessionId,
    cipherSuite: CipherSuite.TLS_AES_128_GCM_SHA256,
    legacyCompressionMethod: 0,
    extensions: extensions ?? [
      { type: 'supported_versions_server', version: TLS13 },
      { type: 'key_share_server', share: share(NamedGroup.x25519) },
    ],
    ...over,
  });
}
const hrr = (extensions: Extension[]) =>
  serverHello({ isHelloRetryRequest: true, random: hrrRandom() }, [{ type: 'supported_versions_server', version: TLS13 }, ...extensions]);
const sv: Extension = { type: 'supported_versions_server', version: TLS13 };
const ks: Extension = { type: 'key_share_server', share: share(NamedGroup.x25519) };

function check(reason: RefusalReason | undefined, got: { reason: string; alert: string } | undefined) {
  expect(got?.reason).toBe(reason);
  if (reason) expect(got?.alert).toBe(REFUSALS[reason].alert);
}

describe('the client rules for a ServerHello (RFC 8446 §4.1.3, §4.2)', () => {
  const cases: Array<[string, ServerHello, RefusalReason | undefined, boolean?]> = [
    ['a well-formed full handshake', serverHello(), undefined],
    ['a resumption with psk_dhe_ke', serverHello({}, [sv, ks, { type: 'pre_shared_key_server', selectedIdentity: 0 }]), undefined],
    ['legacy_version 0x0304', serverHello({ legacyVersion: TLS13 }), 'ServerHelloLegacyVersion'],
    ['no supported_versions', serverHello({}, [ks]), 'NoTls13'],
    [
      'TLS 1.2 selected in supported_versions',
      serverHello({}, [{ type: 'supported_versions_server', version: TLS12 }, ks]),
      'UnofferedVersion',
    ],
    ['another session id echo', serverHello({ legacySessionIdEcho: new Uint8Array(32) }), 'SessionIdMismatch'],
    ['a suite not offered', serverHello({ cipherSuite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256 }), 'UnofferedCipherSuite'],
    ['a compression method', serverHello({ legacyCompressionMethod: 1 }), 'Compression'],
    ['an unknown extension', serverHello({}, [sv, ks, { type: 'unknown', code: 0xfafa, data: new Uint8Array() }]), 'UnsolicitedExtension'],
    [
      'a cookie (HelloRetryRequest only)',
      serverHello({}, [sv, ks, { type: 'cookie', cookie: new Uint8Array([1]) }]),
      'ExtensionNotAllowed',
    ],
    [
      'a PSK selected though none was offered',
      serverHello({}, [sv, ks, { type: 'pre_shared_key_server', selectedIdentity: 0 }]),
      'UnsolicitedExtension',
      false,
    ],
    ['identity 1 of 1', serverHello({}, [sv, ks, { type: 'pre_shared_key_server', selectedIdentity: 1 }]), 'SelectedUnofferedPsk'],
    [
      "a suite with another hash than the ticket's",
      serverHello({ cipherSuite: CipherSuite.TLS_AES_256_GCM_SHA384 }, [sv, ks, { type: 'pre_shared_key_server', selectedIdentity: 0 }]),
      'PskHashMismatch',
    ],
    [
      'a PSK without key_share (psk_ke)',
      serverHello({}, [sv, { type: 'pre_shared_key_server', selectedIdentity: 0 }]),
      'PskWithoutKeyShare',
    ],
    ['no key_share at all', serverHello({}, [sv]), 'MissingKeyShare'],
    [
      'a share for a group the client sent none for',
      serverHello({}, [sv, { type: 'key_share_server', share: share(NamedGroup.secp256r1) }]),
      'UnofferedGroup',
    ],
    [
      'a low-order x25519 share',
      serverHello({}, [sv, { type: 'key_share_server', share: { group: NamedGroup.x25519, keyExchange: new Uint8Array(32) } }]),
      'InvalidKeyShare',
    ],
  ];
  for (const [what, sh, reason, psk] of cases) {
    it(`${reason ?? 'accepts'}: ${what}`, () => check(reason, serverHelloViolation(view(psk ?? true), sh)));
  }
});

describe('the client rules for a HelloRetryRequest (RFC 8446 §4.1.4)', () => {
  const cases: Array<[string, ServerHello, RefusalReason | undefined]> = [
    ['a retry for a group offered without a share', hrr([{ type: 'key_share_hrr', selectedGroup: NamedGroup.secp256r1 }]), undefined],
    ['a cookie only', hrr([{ type: 'cookie', cookie: new Uint8Array([1]) }]), undefined],
    ['nothing to change', hrr([]), 'HelloRetryChangesNothing'],
    ['a group not offered', hrr([{ type: 'key_share_hrr', selectedGroup: NamedGroup.secp384r1 }]), 'UnofferedGroup'],
    [
      'the group the client already sent a share for',
      hrr([{ type: 'key_share_hrr', selectedGroup: NamedGroup.x25519 }]),
      'RetryForSentShare',
    ],
    [
      'an extension a retry may not carry',
      hrr([
        { type: 'cookie', cookie: new Uint8Array([1]) },
        { type: 'unknown', code: 0xfafa, data: new Uint8Array() },
      ]),
      'UnsolicitedExtension',
    ],
  ];
  for (const [what, sh, reason] of cases) {
    it(`${reason ?? 'accepts'}: ${what}`, () => check(reason, helloRetryViolation(view(), sh)));
  }
});

describe('the client rules for EncryptedExtensions (RFC 8446 §4.2, §4.2.10)', () => {
  const ee = (extensions: Extension[]) => encodeHandshake<EncryptedExtensions>({ type: 'encrypted_extensions', extensions });
  const cases: Array<[string, EncryptedExtensions, RefusalReason | undefined]> = [
    ['nothing', ee([]), undefined],
    [
      'an offered ALPN protocol and the SNI acknowledged',
      ee([
        { type: 'alpn', protocols: ['http/1.1'] },
        { type: 'server_name', hostName: undefined },
      ]),
      undefined,
    ],
    ['an ALPN protocol not offered', ee([{ type: 'alpn', protocols: ['spdy/3'] }]), 'UnofferedAlpn'],
    ['early_data never offered', ee([{ type: 'early_data' }]), 'UnofferedEarlyData'],
    ['an unknown extension', ee([{ type: 'unknown', code: 0xfafa, data: new Uint8Array() }]), 'UnsolicitedExtension'],
  ];
  for (const [what, msg, reason] of cases) {
    it(`${reason ?? 'accepts'}: ${what}`, () => check(reason, encryptedExtensionsViolation(view(), msg)));
  }
});
