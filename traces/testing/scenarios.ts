/**
 * Deterministic scenarios for the golden traces: fixed certificates and keys
 * (traces/fixtures, ECDSA P-256 server, Ed25519 client: deterministic
 * signatures), one seeded environment per side (so each side can be replayed
 * alone from the bytes it received), a fixed clock inside the certificates'
 * validity, and an in-memory link between the two connections.
 *
 * Each scenario is data — how to build each side of each handshake — so the
 * tests can run it again, and can also build fresh connections the same way
 * and feed them the recorded inbound bytes (replay.ts).
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { utf8 } from '../../crypto/bytes.js';
import { EarlySecret, trafficKeys } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import { signingKeyFromPem } from '../../crypto/signature.js';
import { suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { chainVerifier, defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { ClientConnection, type ClientOptions, ServerConnection, type ServerOptions } from '../../engine/connection.js';
import { type SeededEnvironment, seededEnvironment } from '../../engine/env.js';
import {
  clientFlightProbe,
  clientHelloProbe,
  flipLastBit,
  insertBefore,
  mapMessage,
  rewriteMessage,
  serverFlightProbe,
} from '../../engine/testing/probes.js';
import type { CertifiedKey } from '../../machines/types.js';
import { pemToDerList } from '../../pki/pem.js';
import { recordHeader } from '../../record/framing.js';
import { RecordProtector } from '../../record/protection.js';
import { MemoryTicketStore } from '../../tickets/memory-store.js';
import type { ClientSession } from '../../tickets/types.js';
import { encodeHandshake } from '../../wire/handshake.js';
import { type ClientHello, type EncryptedExtensions, type Extension, NamedGroup, PskKeyExchangeMode } from '../../wire/types.js';
import type { Trace } from '../format.js';
import {
  combine,
  recordTo,
  Sequencer,
  type TraceRecorder,
  tracedClientMachine,
  tracedServerMachine,
  withGuardTracing,
} from '../recorder.js';

/** The clock of every golden scenario: inside the fixtures' validity (2025-01-01 … 2045-01-01). */
export const GOLDEN_START_MS = Date.UTC(2026, 0, 1);
/** Time between two handshakes of one scenario. */
export const BETWEEN_HANDSHAKES_MS = 1000;

export interface Fixtures {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  server: CertifiedKey;
  client: CertifiedKey;
}

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), 'utf8');

export function loadFixtures(): Fixtures {
  const serverCertPem = fixture('server.pem');
  const serverKeyPem = fixture('server.key');
  return {
    caPem: fixture('ca.pem'),
    serverCertPem,
    serverKeyPem,
    server: { chain: pemToDerList(serverCertPem), key: signingKeyFromPem(serverKeyPem) },
    client: { chain: pemToDerList(fixture('client.pem')), key: signingKeyFromPem(fixture('client.key')) },
  };
}

export interface ScenarioState {
  fx: Fixtures;
  clientEnv: SeededEnvironment;
  serverEnv: SeededEnvironment;
  store: MemoryTicketStore;
  /** Sessions the client received so far, in order. */
  sessions: ClientSession[];
}

export type LinkDirection = 'toServer' | 'toClient';
/** Return the chunks to deliver instead of `bytes`. */
export type Tamper = (direction: LinkDirection, bytes: Uint8Array) => Uint8Array[];

export interface HandshakeSpec {
  label: string;
  client(s: ScenarioState): ClientOptions;
  server(s: ScenarioState): ServerOptions;
  tamper?(s: ScenarioState): Tamper;
}

export interface Scenario {
  name: string;
  description: string;
  handshakes: HandshakeSpec[];
}

export const seedOf = (scenario: string, role: 'client' | 'server') => `${scenario}/${role}`;

/**
 * Fresh environments and store for a scenario. `crypto` is the provider both
 * connections run on; the fixtures' keys are @noble's whatever it is, so
 * signatures stay deterministic (RFC 6979) and the trace the same byte for byte.
 */
export function freshState(scenario: Scenario, fx: Fixtures = loadFixtures(), crypto: CryptoProvider = nobleProvider): ScenarioState {
  const clientEnv = seededEnvironment(seedOf(scenario.name, 'client'), GOLDEN_START_MS, crypto);
  const serverEnv = seededEnvironment(seedOf(scenario.name, 'server'), GOLDEN_START_MS, crypto);
  return { fx, clientEnv, serverEnv, store: new MemoryTicketStore({ now: () => serverEnv.now() }), sessions: [] };
}

/** Both clocks move together between handshakes. */
export function beforeHandshake(s: ScenarioState, index: number): void {
  if (index === 0) return;
  s.clientEnv.advance(BETWEEN_HANDSHAKES_MS);
  s.serverEnv.advance(BETWEEN_HANDSHAKES_MS);
}

// ------------------------------------------------------------------ configurations

function client(s: ScenarioState, overrides: Partial<ClientOptions> = {}): ClientOptions {
  return {
    ...defaultClientConfig({
      serverName: 'localhost',
      verifyServerChain: chainVerifier({ ca: s.fx.caPem, serverName: 'localhost', purpose: 'server' }),
    }),
    env: s.clientEnv,
    machine: tracedClientMachine,
    ...overrides,
  };
}

function server(s: ScenarioState, overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    ...defaultServerConfig({ certificates: [s.fx.server] }),
    env: s.serverEnv,
    ticketStore: s.store,
    machine: tracedServerMachine,
    ...overrides,
  };
}

function firstSession(s: ScenarioState): ClientSession {
  const session = s.sessions[0];
  if (!session) throw new Error('the first handshake issued no ticket');
  return session;
}

const full: HandshakeSpec = { label: 'full handshake', client: (s) => client(s), server: (s) => server(s) };

/** A client without the hybrid group: x25519 first, one share. */
const x25519Only: Partial<ClientOptions> = { groups: [NamedGroup.x25519, NamedGroup.secp256r1], keyShareGroups: [NamedGroup.x25519] };

const mapExt = (exts: Extension[], type: Extension['type'], f: (e: Extension) => Extension) =>
  exts.map((e) => (e.type === type ? f(e) : e));

/** Split a chunk into records (type, body). */
export function splitRecords(bytes: Uint8Array): { type: number; body: Uint8Array }[] {
  const out: { type: number; body: Uint8Array }[] = [];
  for (let i = 0; i + 5 <= bytes.length; ) {
    const len = ((bytes[i + 3] as number) << 8) | (bytes[i + 4] as number);
    out.push({ type: bytes[i] as number, body: bytes.slice(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

function plaintextRecord(type: number, body: Uint8Array, version = 0x0303): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out.set(recordHeader(type, version, body.length));
  out.set(body, 5);
  return out;
}

/** Flip a bit of the PSK binder in the first ClientHello sent to the server. */
const tamperBinder = (): Tamper => {
  let done = false;
  return (dir, bytes) => {
    if (dir !== 'toServer' || done) return [bytes];
    done = true;
    const [rec] = splitRecords(bytes);
    if (rec?.type !== 22) return [bytes];
    const raw = rewriteMessage<ClientHello>(rec.body, (ch) => ({
      ...ch,
      extensions: mapExt(ch.extensions, 'pre_shared_key_client', (e) =>
        e.type === 'pre_shared_key_client' ? { ...e, binders: e.binders.map(flipLastBit) } : e,
      ),
    }));
    return [plaintextRecord(22, raw, 0x0301)];
  };
};

/** After the first ClientHello, 0-RTT records encrypted under client_early_traffic_secret (RFC 8446 §7.1). */
const tamperEarlyData = (s: ScenarioState, bytes: number): Tamper => {
  let sent = false;
  return (dir, chunk) => {
    if (dir !== 'toServer' || sent) return [chunk];
    sent = true;
    const session = firstSession(s);
    const suite = suiteInfo(session.suite);
    const [rec] = splitRecords(chunk);
    if (!suite || !rec) throw new Error('no suite or no ClientHello');
    const secret = EarlySecret.create(suite, session.psk, nobleProvider).clientEarlyTrafficSecret(
      transcriptHash(suite.hash, [rec.body], nobleProvider),
    );
    const protector = new RecordProtector(suite, trafficKeys(suite, secret, nobleProvider), nobleProvider);
    const out = [chunk];
    for (let left = bytes; left > 0; left -= 1000) out.push(protector.protect(23, utf8('0'.repeat(Math.min(1000, left)))));
    return out;
  };
};

// ------------------------------------------------------------------ the scenarios

export const SCENARIOS: Scenario[] = [
  {
    name: 'full-handshake',
    description: 'A full handshake (X25519MLKEM768, ECDSA P-256 certificate) that establishes PSKs: two NewSessionTickets (seed figure 1).',
    handshakes: [full],
  },
  {
    name: 'resumption',
    description:
      'A full handshake, then a resumption with psk_dhe_ke: fresh X25519MLKEM768 key share, no Certificate or CertificateVerify, new tickets (seed figures 1 and 2).',
    handshakes: [
      full,
      { label: 'resumption (psk_dhe_ke)', client: (s) => client(s, { session: firstSession(s) }), server: (s) => server(s) },
    ],
  },
  {
    name: 'resumption-x25519',
    description:
      'A client that offers x25519 only (as OpenSSL 3.0, GnuTLS and Go 1.19 do): full handshake and psk_dhe_ke resumption over plain x25519, no HelloRetryRequest.',
    handshakes: [
      { label: 'full handshake (x25519)', client: (s) => client(s, x25519Only), server: (s) => server(s) },
      {
        label: 'resumption (psk_dhe_ke, x25519)',
        client: (s) => client(s, { ...x25519Only, session: firstSession(s) }),
        server: (s) => server(s),
      },
    ],
  },
  {
    name: 'hello-retry',
    description: 'The client sends a secp384r1 share, the server only takes x25519: HelloRetryRequest, second ClientHello, full handshake.',
    handshakes: [
      {
        label: 'HelloRetryRequest',
        client: (s) => client(s, { groups: [NamedGroup.secp384r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp384r1] }),
        server: (s) => server(s, { groups: [NamedGroup.x25519] }),
      },
    ],
  },
  {
    name: 'hello-retry-resumption',
    description:
      'A full handshake, then a resumption through a HelloRetryRequest with a cookie: the binder is recomputed over the new transcript.',
    handshakes: [
      full,
      {
        label: 'resumption after HelloRetryRequest',
        client: (s) => client(s, { session: firstSession(s) }),
        server: (s) => server(s, { forceHelloRetry: true }),
      },
    ],
  },
  {
    name: 'refuse-psk-ke-only',
    description:
      'Refusal: a ClientHello that offers its PSK with psk_ke only. The server ignores the PSK, completes a full handshake and sends no tickets.',
    handshakes: [
      full,
      {
        label: 'psk_ke-only offer, refused',
        client: (s) =>
          client(s, {
            session: firstSession(s),
            machine: withGuardTracing(
              clientHelloProbe((ch) => ({
                ...ch,
                extensions: mapExt(ch.extensions, 'psk_key_exchange_modes', () => ({
                  type: 'psk_key_exchange_modes',
                  modes: [PskKeyExchangeMode.psk_ke],
                })),
              })),
            ),
          }),
        server: (s) => server(s),
      },
    ],
  },
  {
    name: 'refuse-early-data',
    description:
      'Refusal: a ClientHello that offers early_data, followed by 0-RTT records. No early_data in EncryptedExtensions; the records are skipped.',
    handshakes: [
      full,
      {
        label: 'early_data offered, refused',
        client: (s) =>
          client(s, {
            session: firstSession(s),
            machine: withGuardTracing(
              clientHelloProbe((ch) => {
                const exts = [...ch.extensions];
                exts.splice(exts.length - 1, 0, { type: 'early_data' }); // pre_shared_key stays last
                return { ...ch, extensions: exts };
              }),
            ),
          }),
        server: (s) => server(s),
        tamper: (s) => tamperEarlyData(s, 1500),
      },
    ],
  },
  {
    name: 'refuse-early-data-after-retry',
    description:
      'Refusal: early_data and 0-RTT records with the first ClientHello, answered with a HelloRetryRequest. The records are skipped (RFC 8446 §4.2.10), the second ClientHello drops early_data, the handshake resumes.',
    handshakes: [
      full,
      {
        label: 'early_data offered, HelloRetryRequest, refused',
        client: (s) =>
          client(s, {
            session: firstSession(s),
            machine: withGuardTracing(
              clientHelloProbe((ch) => {
                const exts = [...ch.extensions];
                exts.splice(exts.length - 1, 0, { type: 'early_data' }); // pre_shared_key stays last
                return { ...ch, extensions: exts };
              }),
            ),
          }),
        server: (s) => server(s, { forceHelloRetry: true }),
        tamper: (s) => tamperEarlyData(s, 1500),
      },
    ],
  },
  {
    name: 'refuse-end-of-early-data',
    description: 'Refusal: the client sends EndOfEarlyData although no early data was accepted. The server aborts with unexpected_message.',
    handshakes: [
      {
        label: 'EndOfEarlyData, refused',
        client: (s) =>
          client(s, {
            machine: withGuardTracing(clientFlightProbe(insertBefore('finished', encodeHandshake({ type: 'end_of_early_data' })))),
          }),
        server: (s) => server(s),
      },
    ],
  },
  {
    name: 'refuse-bad-binder',
    description: 'Refusal: a resumption whose PSK binder was altered in flight. The server aborts with decrypt_error.',
    handshakes: [
      full,
      {
        label: 'bad binder, refused',
        client: (s) => client(s, { session: firstSession(s) }),
        server: (s) => server(s),
        tamper: () => tamperBinder(),
      },
    ],
  },
  {
    name: 'refuse-bad-finished',
    description: 'Refusal: the server Finished has one bit flipped. The client aborts with decrypt_error.',
    handshakes: [
      {
        label: 'bad server Finished, refused',
        client: (s) => client(s),
        server: (s) => server(s, { machine: withGuardTracing(serverFlightProbe(mapMessage('finished', flipLastBit))) }),
      },
    ],
  },
  {
    name: 'refuse-unoffered-early-data',
    description:
      'Refusal: EncryptedExtensions carries early_data that the client never offered. The client aborts with unsupported_extension.',
    handshakes: [
      {
        label: 'early_data in EncryptedExtensions, refused',
        client: (s) => client(s),
        server: (s) =>
          server(s, {
            machine: withGuardTracing(
              serverFlightProbe(
                mapMessage('encrypted_extensions', (raw) =>
                  rewriteMessage<EncryptedExtensions>(raw, (ee) => ({ ...ee, extensions: [...ee.extensions, { type: 'early_data' }] })),
                ),
              ),
            ),
          }),
      },
    ],
  },
];

export function scenarioByName(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

// ------------------------------------------------------------------ running

/** Connect two connections in memory; `run()` delivers everything in flight until both are quiet. */
export function link(c: ClientConnection, srv: ServerConnection, tamper?: Tamper): { run(): Promise<void> } {
  const pending: Array<[LinkDirection, Uint8Array]> = [];
  c.on('output', (b) => pending.push(['toServer', b]));
  srv.on('output', (b) => pending.push(['toClient', b]));
  c.on('error', () => undefined);
  srv.on('error', () => undefined);
  return {
    async run() {
      for (let rounds = 0; rounds < 10_000; rounds++) {
        await c.settled();
        await srv.settled();
        const next = pending.shift();
        if (!next) return;
        const [dir, bytes] = next;
        for (const chunk of tamper ? tamper(dir, bytes) : [bytes]) await (dir === 'toServer' ? srv : c).receive(chunk);
      }
      throw new Error('the link did not settle');
    },
  };
}

export interface RunHooks {
  fx?: Fixtures;
  /** The crypto provider of both connections (default @noble); see freshState. */
  crypto?: CryptoProvider;
  /** Sees each handshake's connections right after they are made (before any byte moves). */
  onStart?: (client: ClientConnection, server: ServerConnection) => void;
  /** Sees each handshake's connections once they are done (tests inspect their contexts). */
  onDone?: (client: ClientConnection, server: ServerConnection, state: ScenarioState) => void;
}

/** Run a scenario and record both sides of every handshake. */
export async function runScenario(scenario: Scenario, hooks: RunHooks = {}): Promise<Trace> {
  const { fx, onStart, onDone, crypto } = hooks;
  const s = freshState(scenario, fx, crypto);
  const handshakes: Array<{ label: string; recorders: TraceRecorder[] }> = [];
  for (const [i, h] of scenario.handshakes.entries()) {
    beforeHandshake(s, i);
    const c = new ClientConnection(h.client(s));
    const srv = new ServerConnection(h.server(s));
    const sequencer = new Sequencer();
    const rc = recordTo(c, 'client', {}, { sequencer, environment: { seed: seedOf(scenario.name, 'client'), startMs: GOLDEN_START_MS } });
    const rs = recordTo(srv, 'server', {}, { sequencer, environment: { seed: seedOf(scenario.name, 'server'), startMs: GOLDEN_START_MS } });
    c.on('session', (x) => s.sessions.push(x));
    onStart?.(c, srv);
    const l = link(c, srv, h.tamper?.(s));
    await l.run();
    rc.stop();
    rs.stop();
    onDone?.(c, srv, s);
    handshakes.push({ label: h.label, recorders: [rc, rs] });
  }
  return combine(
    {
      role: 'pair',
      peer: 'in-memory',
      time: new Date(GOLDEN_START_MS).toISOString(),
      scenario: scenario.name,
      description: scenario.description,
    },
    handshakes,
  );
}
