/** Table-driven tests of the server's public ClientHello rules (rules.ts), each with the refusal RFC 8446 names. */
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import { encodeHandshake, hrrRandom } from '../../wire/handshake.js';
import { REFUSALS } from '../../wire/refusals.js';
import {
  CipherSuite,
  type ClientHello,
  type Extension,
  NamedGroup,
  PskKeyExchangeMode,
  type ServerHello,
  TLS12,
  TLS13,
  type Unencoded,
} from '../../wire/types.js';
import { type ClientHelloView, clientHelloViolation, secondHelloViolation } from './rules.js';

const x25519Share = nobleProvider.generateKeyPair(NamedGroup.x25519, () => new Uint8Array(32).fill(3)).publicKey;

function hello(over: Partial<Unencoded<ClientHello>> = {}, extensions?: Extension[]): ClientHello {
  return encodeHandshake<ClientHello>({
    type: 'client_hello',
    legacyVersion: TLS12,
    random: new Uint8Array(32).fill(1),
    legacySessionId: new Uint8Array(32).fill(2),
    cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256],
    legacyCompressionMethods: new Uint8Array([0]),
    extensions: extensions ?? [
      { type: 'server_name', hostName: 'localhost' },
      { type: 'supported_versions_client', versions: [TLS13] },
      { type: 'supported_groups', groups: [NamedGroup.x25519, NamedGroup.secp256r1] },
      { type: 'key_share_client', shares: [{ group: NamedGroup.x25519, keyExchange: x25519Share }] },
      { type: 'signature_algorithms', schemes: [0x0403] },
      { type: 'psk_key_exchange_modes', modes: [PskKeyExchangeMode.psk_dhe_ke] },
    ],
    ...over,
  });
}

const base = hello();
const exts = (f: (e: Extension[]) => Extension[]) => hello({}, f([...base.extensions]));
const without = (type: Extension['type']) => exts((e) => e.filter((x) => x.type !== type));
const replace = (ext: Extension) => exts((e) => e.map((x) => (x.type === ext.type ? ext : x)));

const view: ClientHelloView = {
  helloRetryRequest: undefined,
  clientHello1: undefined,
  groups: [NamedGroup.x25519, NamedGroup.secp256r1],
  isValidShare: (g, s) => nobleProvider.isValidShare(g, s),
};

describe('the server rules for a ClientHello (RFC 8446 §4.1.2, §4.2)', () => {
  const cases: Array<[string, ClientHello, keyof typeof REFUSALS | undefined]> = [
    ['a well-formed hello', base, undefined],
    ['legacy_version 0x0300 (SSL 3.0)', hello({ legacyVersion: 0x0300 }), 'LegacyVersion'],
    ['legacy_version 0x0302', hello({ legacyVersion: 0x0302 }), 'LegacyVersion'],
    ['legacy_version 0x0304 (supported_versions decides)', hello({ legacyVersion: 0x0304 }), undefined],
    ['no supported_versions', without('supported_versions_client'), 'NoTls13'],
    ['TLS 1.2 only in supported_versions', replace({ type: 'supported_versions_client', versions: [TLS12] }), 'NoTls13'],
    ['a compression method besides null', hello({ legacyCompressionMethods: new Uint8Array([1, 0]) }), 'Compression'],
    [
      'pre_shared_key without psk_key_exchange_modes',
      exts((e) => [
        ...e.filter((x) => x.type !== 'psk_key_exchange_modes'),
        {
          type: 'pre_shared_key_client',
          identities: [{ identity: new Uint8Array(32), obfuscatedTicketAge: 0 }],
          binders: [new Uint8Array(32)],
        },
      ]),
      'PskWithoutModes',
    ],
    ['supported_groups without key_share', without('key_share_client'), 'GroupsWithoutKeyShare'],
    ['key_share without supported_groups', without('supported_groups'), 'GroupsWithoutKeyShare'],
    [
      'a share for a group supported_groups does not list',
      replace({ type: 'supported_groups', groups: [NamedGroup.secp256r1] }),
      'ShareForUnlistedGroup',
    ],
    [
      'an all-zero (low-order) x25519 share',
      replace({ type: 'key_share_client', shares: [{ group: NamedGroup.x25519, keyExchange: new Uint8Array(32) }] }),
      'InvalidKeyShare',
    ],
    [
      'a P-256 share off the curve',
      replace({
        type: 'key_share_client',
        shares: [{ group: NamedGroup.secp256r1, keyExchange: Uint8Array.of(4, ...new Uint8Array(64).fill(1)) }],
      }),
      'InvalidKeyShare',
    ],
    [
      'a bad share for a group the server does not use (not checked)',
      exts((e) =>
        e.map((x) =>
          x.type === 'supported_groups'
            ? { ...x, groups: [...x.groups, NamedGroup.secp384r1] }
            : x.type === 'key_share_client'
              ? { ...x, shares: [...x.shares, { group: NamedGroup.secp384r1, keyExchange: new Uint8Array(97) }] }
              : x,
        ),
      ),
      undefined,
    ],
  ];
  for (const [what, ch, reason] of cases) {
    it(`${reason ?? 'accepts'}: ${what}`, () => {
      const v = clientHelloViolation(view, ch);
      expect(v?.reason).toBe(reason);
      if (reason) expect(v?.alert).toBe(REFUSALS[reason].alert);
    });
  }
});

describe('the second ClientHello against the first (RFC 8446 §4.1.2)', () => {
  const hrr = (extensions: Extension[]): ServerHello =>
    encodeHandshake<ServerHello>({
      type: 'server_hello',
      isHelloRetryRequest: true,
      legacyVersion: TLS12,
      random: hrrRandom(),
      legacySessionIdEcho: base.legacySessionId,
      cipherSuite: CipherSuite.TLS_AES_128_GCM_SHA256,
      legacyCompressionMethod: 0,
      extensions: [{ type: 'supported_versions_server', version: TLS13 }, ...extensions],
    });
  const cookie = new Uint8Array([9, 9, 9]);
  const cookieRetry = hrr([{ type: 'cookie', cookie }]);
  const groupRetry = hrr([{ type: 'key_share_hrr', selectedGroup: NamedGroup.secp256r1 }]);
  const p256 = nobleProvider.generateKeyPair(NamedGroup.secp256r1, () => new Uint8Array(48).fill(5)).publicKey;
  const withCookie = exts((e) => [...e, { type: 'cookie', cookie }]);
  const cases: Array<[string, ServerHello, ClientHello, keyof typeof REFUSALS | undefined]> = [
    ['the same hello with the cookie echoed', cookieRetry, withCookie, undefined],
    ['no cookie echoed', cookieRetry, base, 'CookieMismatch'],
    ['another cookie', cookieRetry, exts((e) => [...e, { type: 'cookie', cookie: new Uint8Array([1]) }]), 'CookieMismatch'],
    [
      'a cookie the retry did not send',
      groupRetry,
      exts((e) => [
        ...e.map((x) => (x.type === 'key_share_client' ? { ...x, shares: [{ group: NamedGroup.secp256r1, keyExchange: p256 }] } : x)),
        { type: 'cookie', cookie },
      ]),
      'SecondHelloChanged',
    ],
    [
      'early_data offered again',
      cookieRetry,
      exts((e) => [...e, { type: 'cookie', cookie }, { type: 'early_data' }]),
      'EarlyDataAfterRetry',
    ],
    [
      'the retry suite dropped',
      cookieRetry,
      hello({ cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384], extensions: withCookie.extensions }),
      'SuiteChangedAfterRetry',
    ],
    ['another random', cookieRetry, hello({ random: new Uint8Array(32).fill(7), extensions: withCookie.extensions }), 'SecondHelloChanged'],
    [
      'another session id',
      cookieRetry,
      hello({ legacySessionId: new Uint8Array(0), extensions: withCookie.extensions }),
      'SecondHelloChanged',
    ],
    [
      'suites reordered',
      cookieRetry,
      hello({ cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384], extensions: withCookie.extensions }),
      'SecondHelloChanged',
    ],
    [
      'another SNI',
      cookieRetry,
      hello(
        {},
        withCookie.extensions.map((x) => (x.type === 'server_name' ? { ...x, hostName: 'other' } : x)),
      ),
      'SecondHelloChanged',
    ],
    [
      'padding added',
      cookieRetry,
      hello({}, [{ type: 'unknown', code: 21, data: new Uint8Array(10) }, ...withCookie.extensions]),
      undefined,
    ],
    [
      'key shares changed without a requested group',
      cookieRetry,
      hello(
        {},
        withCookie.extensions.map((x) => (x.type === 'key_share_client' ? { ...x, shares: [] } : x)),
      ),
      'SecondHelloChanged',
    ],
    [
      'one share for the requested group',
      groupRetry,
      hello(
        {},
        base.extensions.map((x) =>
          x.type === 'key_share_client' ? { ...x, shares: [{ group: NamedGroup.secp256r1, keyExchange: p256 }] } : x,
        ),
      ),
      undefined,
    ],
    ['the old share kept after a group was requested', groupRetry, base, 'WrongRetryShare'],
  ];
  for (const [what, retry, ch2, reason] of cases) {
    it(`${reason ?? 'accepts'}: ${what}`, () => {
      expect(secondHelloViolation(retry, base, ch2)?.reason).toBe(reason);
    });
  }

  it('SecondHelloAddedPsk: an identity the first hello did not offer; dropping one is allowed', () => {
    const psk = (ids: number[]): Extension => ({
      type: 'pre_shared_key_client',
      identities: ids.map((i) => ({ identity: new Uint8Array(16).fill(i), obfuscatedTicketAge: 0 })),
      binders: ids.map(() => new Uint8Array(32)),
    });
    const first = exts((e) => [...e, psk([1, 2])]);
    const second = (ids: number[]) => exts((e) => [...e, { type: 'cookie', cookie }, psk(ids)]);
    expect(secondHelloViolation(cookieRetry, first, second([1, 2]))).toBeUndefined();
    expect(secondHelloViolation(cookieRetry, first, second([2]))).toBeUndefined();
    expect(secondHelloViolation(cookieRetry, first, second([1, 3]))?.reason).toBe('SecondHelloAddedPsk');
    expect(secondHelloViolation(cookieRetry, base, second([1]))?.reason).toBe('SecondHelloAddedPsk');
  });
});
