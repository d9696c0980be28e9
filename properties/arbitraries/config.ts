/**
 * fast-check arbitraries for the engine-level suites: client and server
 * configurations (groups, key-share groups, suites, ALPN, compatibility
 * mode, tickets per handshake 0..4, lifetimes, early tickets, forced
 * HelloRetryRequest, client authentication), clock advances and the attacker's choices.
 *
 * Configurations are plain data (no keys, no functions) so a counterexample
 * can be printed, saved and replayed; `clientOverrides`/`serverOverrides`
 * turn them into engine configurations.
 */
import fc from 'fast-check';
import { PROVIDERS, type ProviderName } from '../../crypto/node-provider.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import type { ClientConfig, ServerConfig } from '../../machines/types.js';
import { CipherSuite, NamedGroup } from '../../wire/types.js';
import type { Identities } from '../support/identities.js';

/** Every group tlschart implements; the hybrid KEM group last, so shuffled subsets sometimes lead with it. */
export const GROUPS = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.X25519MLKEM768] as const;
export const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;
export const ALPN = ['h2', 'http/1.1'] as const;
export const SERVER_NAMES = ['localhost', 'other.example'] as const;

export interface ClientSetup {
  groups: number[];
  /** Groups that get a share in the first ClientHello (possibly none: then the server must retry). */
  keyShareGroups: number[];
  cipherSuites: number[];
  alpn: string[];
  compatibilityMode: boolean;
  /** Whether the client has a certificate to send when asked. */
  clientCertificate: boolean;
  /** The client's crypto provider (absent in older counterexamples: @noble). */
  crypto?: ProviderName;
}

export interface ServerSetup {
  groups: number[];
  cipherSuites: number[];
  alpn: string[];
  ticketsPerHandshake: number;
  ticketLifetimeS: number;
  forceHelloRetry: boolean;
  clientAuth: 'none' | 'request' | 'require';
  /** Tickets with the server's flight (ServerConfig.earlyTickets; absent in older counterexamples: off). */
  earlyTickets?: boolean;
  /** Which certificate the server presents. */
  identity: 'ed25519' | 'p256';
  /** The server's crypto provider (absent in older counterexamples: @noble). */
  crypto?: ProviderName;
}

/**
 * Both providers take part in every suite: each side of each world runs on
 * @noble or on node:crypto, so runs mix them too. Keys are @noble's either way
 * (deterministic signatures): a seed still replays byte for byte.
 */
export const arbProviderName: fc.Arbitrary<ProviderName> = fc.constantFrom('noble' as const, 'node' as const);

export function providerOf(name: ProviderName | undefined): CryptoProvider {
  return PROVIDERS[name ?? 'noble'];
}

export interface WorldSetup {
  client: ClientSetup;
  /** Two servers with separate ticket stores ("another server's store"). */
  servers: { A: ServerSetup; B: ServerSetup };
}

/** Mostly everything (the defaults), sometimes a non-empty subset in another order. */
function listOf<T>(all: readonly T[]): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(null).map(() => [...all]) },
    { weight: 1, arbitrary: fc.shuffledSubarray([...all], { minLength: 1 }) },
  );
}

export const arbClientSetup: fc.Arbitrary<ClientSetup> = listOf(GROUPS).chain((groups) =>
  fc.record(
    {
      groups: fc.constant(groups),
      keyShareGroups: fc.oneof(
        { weight: 4, arbitrary: fc.constant(groups.slice(0, 1)) },
        { weight: 1, arbitrary: fc.subarray(groups, { maxLength: Math.min(2, groups.length) }) },
      ),
      cipherSuites: listOf(SUITES),
      alpn: fc.oneof(
        { weight: 2, arbitrary: fc.constant([] as string[]) },
        { weight: 1, arbitrary: fc.subarray([...ALPN], { minLength: 1 }) },
      ),
      compatibilityMode: fc.boolean(),
      clientCertificate: fc.boolean(),
      crypto: arbProviderName,
    },
    { noNullPrototype: true },
  ),
);

/** Ticket lifetimes in seconds: short ones the clock can pass, the defaults, the 7-day cap and beyond it. */
export const arbLifetime: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1, 60, 3600, 7200, 604800, 700000),
  fc.integer({ min: 0, max: 10_000 }),
);

export const arbServerSetup: fc.Arbitrary<ServerSetup> = fc.record(
  {
    groups: listOf(GROUPS),
    cipherSuites: listOf(SUITES),
    alpn: fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as string[]) },
      { weight: 1, arbitrary: fc.subarray([...ALPN], { minLength: 1 }) },
    ),
    ticketsPerHandshake: fc.integer({ min: 0, max: 4 }),
    ticketLifetimeS: arbLifetime,
    forceHelloRetry: fc.boolean(),
    clientAuth: fc.constantFrom('none' as const, 'none' as const, 'request' as const, 'require' as const),
    earlyTickets: fc.boolean(),
    identity: fc.constantFrom('ed25519' as const, 'ed25519' as const, 'p256' as const),
    crypto: arbProviderName,
  },
  { noNullPrototype: true },
);

export const arbWorldSetup: fc.Arbitrary<WorldSetup> = fc.record(
  { client: arbClientSetup, servers: fc.record({ A: arbServerSetup, B: arbServerSetup }, { noNullPrototype: true }) },
  { noNullPrototype: true },
);

/** Clock advances: inside a short lifetime, past a minute, past the default 2 h, past the 7-day cap. */
export const arbAdvance: fc.Arbitrary<number> = fc.constantFrom(500, 30_000, 61_000, 3_600_000, 7_200_001, 604_800_001);

export function clientOverrides(s: ClientSetup, ids: Identities, serverName: string): Partial<ClientConfig> {
  return {
    serverName,
    groups: [...s.groups],
    keyShareGroups: [...s.keyShareGroups],
    cipherSuites: [...s.cipherSuites],
    alpnProtocols: [...s.alpn],
    compatibilityMode: s.compatibilityMode,
    verifyServerChain: ids.verifyServer,
    clientCertificate: s.clientCertificate ? ids.client.certified : undefined,
  };
}

export function serverOverrides(s: ServerSetup, ids: Identities, forceHelloRetry = false): Partial<ServerConfig> {
  return {
    certificates: [s.identity === 'p256' ? ids.serverP256.certified : ids.server.certified],
    groups: [...s.groups],
    cipherSuites: [...s.cipherSuites],
    alpnProtocols: [...s.alpn],
    ticketsPerHandshake: s.ticketsPerHandshake,
    ticketLifetimeS: s.ticketLifetimeS,
    forceHelloRetry: s.forceHelloRetry || forceHelloRetry,
    requestClientCertificate: s.clientAuth !== 'none',
    requireClientCertificate: s.clientAuth === 'require',
    verifyClientChain: s.clientAuth !== 'none' ? ids.verifyClient : undefined,
    earlyTickets: s.earlyTickets === true,
  };
}
