/** Table-driven tests of the server's choices (logic.ts): suite, groups, share, certificate, ALPN and PSK selection. */
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { defaultServerConfig } from '../../engine/config.js';
import { seededEnvironment } from '../../engine/env.js';
import type { ServerSessionState } from '../../tickets/types.js';
import { encodeHandshake } from '../../wire/handshake.js';
import {
  CipherSuite,
  type ClientHello,
  type Extension,
  NamedGroup,
  PskKeyExchangeMode,
  SignatureScheme,
  TLS12,
  TLS13,
} from '../../wire/types.js';
import type { CertifiedKey, ServerConfig } from '../types.js';
import { initialServerContext } from './context.js';
import * as logic from './logic.js';

const NOW = Date.UTC(2026, 0, 1);
const share = (group: number) => ({ group, keyExchange: nobleProvider.generateKeyPair(group, (n) => new Uint8Array(n).fill(7)).publicKey });
const ecdsaCert = {
  chain: [new Uint8Array([1])],
  key: { kind: 'ecdsa-p256', schemes: [SignatureScheme.ecdsa_secp256r1_sha256], spki: new Uint8Array(), sign: () => new Uint8Array() },
} as CertifiedKey;
const rsaCert = {
  chain: [new Uint8Array([2])],
  key: { kind: 'rsa', schemes: [SignatureScheme.rsa_pss_rsae_sha256], spki: new Uint8Array(), sign: () => new Uint8Array() },
} as CertifiedKey;

function ctx(over: Partial<ServerConfig> = {}) {
  return initialServerContext({
    config: defaultServerConfig({ certificates: [ecdsaCert, rsaCert], ...over }),
    env: seededEnvironment('logic', NOW),
  });
}

function hello(opts: {
  suites?: number[];
  groups?: number[];
  shares?: number[];
  schemes?: number[];
  alpn?: string[];
  sni?: string;
  modes?: number[];
  identities?: number;
}): ClientHello {
  const extensions: Extension[] = [];
  if (opts.sni) extensions.push({ type: 'server_name', hostName: opts.sni });
  extensions.push({ type: 'supported_versions_client', versions: [TLS13] });
  extensions.push({ type: 'supported_groups', groups: opts.groups ?? [NamedGroup.x25519] });
  extensions.push({ type: 'key_share_client', shares: (opts.shares ?? [NamedGroup.x25519]).map(share) });
  extensions.push({ type: 'signature_algorithms', schemes: opts.schemes ?? [SignatureScheme.ecdsa_secp256r1_sha256] });
  if (opts.alpn) extensions.push({ type: 'alpn', protocols: opts.alpn });
  if (opts.modes) extensions.push({ type: 'psk_key_exchange_modes', modes: opts.modes });
  if (opts.identities) {
    extensions.push({
      type: 'pre_shared_key_client',
      identities: Array.from({ length: opts.identities }, (_, i) => ({ identity: new Uint8Array(32).fill(i + 1), obfuscatedTicketAge: 0 })),
      binders: Array.from({ length: opts.identities }, () => new Uint8Array(32)),
    });
  }
  return encodeHandshake<ClientHello>({
    type: 'client_hello',
    legacyVersion: TLS12,
    random: new Uint8Array(32),
    legacySessionId: new Uint8Array(0),
    cipherSuites: opts.suites ?? [CipherSuite.TLS_AES_128_GCM_SHA256],
    legacyCompressionMethods: new Uint8Array([0]),
    extensions,
  });
}

const ticket = (over: Partial<ServerSessionState> = {}): ServerSessionState => ({
  psk: new Uint8Array(32),
  suite: CipherSuite.TLS_AES_128_GCM_SHA256,
  serverName: 'localhost',
  alpn: undefined,
  issuedAtMs: NOW - 1000,
  lifetimeS: 7200,
  ticketAgeAdd: 0,
  clientCertificates: [],
  ...over,
});

describe('chooseSuite', () => {
  const A128 = CipherSuite.TLS_AES_128_GCM_SHA256;
  const A256 = CipherSuite.TLS_AES_256_GCM_SHA384;
  const CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
  const pskHello = (suites: number[]) => hello({ suites, modes: [PskKeyExchangeMode.psk_dhe_ke], identities: 1, sni: 'localhost' });
  const cases: Array<[string, ClientHello, readonly (ServerSessionState | undefined)[], Partial<ServerConfig>, number | undefined]> = [
    ["the server's preference among the client's suites", hello({ suites: [CHACHA, A256, A128] }), [], {}, A128],
    ['the only suite in common', hello({ suites: [CHACHA] }), [], {}, CHACHA],
    ['none in common', hello({ suites: [0x00ff] }), [], {}, undefined],
    ["the resumed ticket's suite when the client still offers it", pskHello([A128, A256]), [ticket({ suite: A256 })], {}, A256],
    ["the server's preference when the ticket's suite is not offered", pskHello([A128]), [ticket({ suite: A256 })], {}, A128],
    [
      "the server's preference when the ticket has expired",
      pskHello([A128, A256]),
      [ticket({ suite: A256, issuedAtMs: NOW - 7_201_000 })],
      {},
      A128,
    ],
    [
      "the server's preference when the ticket is for another name",
      pskHello([A128, A256]),
      [ticket({ suite: A256, serverName: 'other' })],
      {},
      A128,
    ],
  ];
  for (const [what, ch, tickets, cfg, want] of cases) {
    it(what, () => expect(logic.chooseSuite(ctx(cfg), ch, tickets, NOW)?.code).toBe(want));
  }
});

describe('groups and shares', () => {
  const cases: Array<[string, ClientHello, Partial<ServerConfig>, number | undefined, number | undefined]> = [
    [
      "the server's preferred group among the shares sent",
      hello({ groups: [NamedGroup.secp256r1, NamedGroup.x25519], shares: [NamedGroup.secp256r1, NamedGroup.x25519] }),
      {},
      NamedGroup.x25519,
      NamedGroup.x25519,
    ],
    [
      'a share for the only group in common',
      hello({ groups: [NamedGroup.secp256r1], shares: [NamedGroup.secp256r1] }),
      {},
      NamedGroup.secp256r1,
      NamedGroup.secp256r1,
    ],
    [
      'no usable share: retry for the preferred mutual group',
      hello({ groups: [NamedGroup.secp384r1, NamedGroup.secp256r1], shares: [] }),
      {},
      undefined,
      NamedGroup.secp256r1,
    ],
    [
      'a share only for a group the server does not take',
      hello({ groups: [NamedGroup.x25519, NamedGroup.secp256r1], shares: [NamedGroup.x25519] }),
      { groups: [NamedGroup.secp256r1] },
      undefined,
      NamedGroup.secp256r1,
    ],
  ];
  for (const [what, ch, cfg, shareGroup, retry] of cases) {
    it(what, () => {
      const c = ctx(cfg);
      expect(logic.chooseShare(c, ch)?.group).toBe(shareGroup);
      expect(logic.retryGroup(c, ch)).toBe(retry);
    });
  }
});

describe('chooseCertificate and chooseAlpn', () => {
  it('picks the first certificate whose key can make the first offered scheme it supports', () => {
    expect(
      logic.chooseCertificate(ctx(), hello({ schemes: [SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.ecdsa_secp256r1_sha256] }))
        ?.cert,
    ).toBe(rsaCert);
    expect(logic.chooseCertificate(ctx(), hello({ schemes: [SignatureScheme.ecdsa_secp256r1_sha256] }))).toEqual({
      cert: ecdsaCert,
      scheme: SignatureScheme.ecdsa_secp256r1_sha256,
    });
    expect(logic.chooseCertificate(ctx(), hello({ schemes: [SignatureScheme.ed25519] }))).toBeUndefined();
  });
  const cases: Array<[string[] | undefined, string[], string | undefined]> = [
    [['h2', 'http/1.1'], ['http/1.1', 'h2'], 'http/1.1'],
    [['h2'], ['http/1.1'], undefined],
    [undefined, ['h2'], undefined],
    [['h2'], [], undefined],
  ];
  for (const [offered, served, want] of cases) {
    it(`serves ${String(want)} to a client offering ${JSON.stringify(offered)} from ${JSON.stringify(served)} (the server's order)`, () => {
      expect(logic.chooseAlpn(ctx({ alpnProtocols: served }), hello(offered ? { alpn: offered } : {}))).toBe(want);
    });
  }
});

describe('selectPsk (RFC 8446 §4.2.9, §4.2.11, §4.6.1)', () => {
  const aes128 = suiteInfo(CipherSuite.TLS_AES_128_GCM_SHA256) as SuiteInfo;
  const withPsk = (modes: number[], n = 1, sni = 'localhost') => hello({ modes, identities: n, sni });
  const cases: Array<[string, ClientHello, readonly (ServerSessionState | undefined)[], number | undefined]> = [
    ['a live ticket with psk_dhe_ke', withPsk([PskKeyExchangeMode.psk_dhe_ke]), [ticket()], 0],
    ['not with psk_ke alone', withPsk([PskKeyExchangeMode.psk_ke]), [ticket()], undefined],
    ['the first usable identity', withPsk([PskKeyExchangeMode.psk_dhe_ke], 3), [undefined, ticket({ serverName: 'other' }), ticket()], 2],
    ['not an expired ticket', withPsk([PskKeyExchangeMode.psk_dhe_ke]), [ticket({ issuedAtMs: NOW - 7_200_000 })], undefined],
    ['not a ticket issued in the future', withPsk([PskKeyExchangeMode.psk_dhe_ke]), [ticket({ issuedAtMs: NOW + 1 })], undefined],
    ['not under another server name', withPsk([PskKeyExchangeMode.psk_dhe_ke], 1, 'other'), [ticket()], undefined],
    [
      "not with another hash than the chosen suite's",
      withPsk([PskKeyExchangeMode.psk_dhe_ke]),
      [ticket({ suite: CipherSuite.TLS_AES_256_GCM_SHA384 })],
      undefined,
    ],
    [
      'the same hash under another suite is fine',
      withPsk([PskKeyExchangeMode.psk_dhe_ke]),
      [ticket({ suite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256 })],
      0,
    ],
  ];
  for (const [what, ch, tickets, index] of cases) {
    it(what, () => expect(logic.selectPsk(ctx(), ch, tickets, aes128, NOW)?.index).toBe(index));
  }
});
