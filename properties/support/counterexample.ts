/**
 * Counterexamples of the model-based suite, saved as self-contained JSON
 * under properties/counterexamples/ and replayed byte for byte.
 *
 * A file holds the fast-check seed and path, the commands, the world set-up
 * and, for every session, what is needed to rebuild both engines exactly:
 * the configurations (and misbehaving variants), the per-side random seeds,
 * the tickets the server's store handed out, the test certificates and keys
 * (throwaway, generated for the run), and the byte chunks each side
 * received with the clock at that moment. `replayCounterexample` feeds the
 * chunks to fresh connections and checks the session properties again.
 *
 * This format is the property suites' own (format "tlschart-properties-
 * counterexample/1"); the project-wide trace format lives in traces/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type fc from 'fast-check';
import { fromHex, toHex } from '../../crypto/bytes.js';
import { signingKeyFromPem } from '../../crypto/signature.js';
import { FinishedVerified } from '../../crypto/witness.js';
import { chainVerifier, defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { ClientConnection, ServerConnection, type TraceEntry } from '../../engine/connection.js';
import { seededEnvironment } from '../../engine/env.js';
import type { TestIdentity } from '../../engine/testing/pair.js';
import { pemToDerList } from '../../pki/pem.js';
import { decodeClientSession, encodeClientSession } from '../../tickets/session-codec.js';
import type { ServerSessionState, TicketStore } from '../../tickets/types.js';
import type { TraceCollector } from '../../traces/recorder.js';
import type { AlertName } from '../../wire/alerts.js';
import { clientOverrides, providerOf, serverOverrides, type WorldSetup } from '../arbitraries/config.js';
import { checkSession } from '../model/invariants.js';
import type { Session, World } from '../model/world.js';
import type { AttackKind } from './alerts.js';
import type { Identities } from './identities.js';
import { type ClientVariant, clientChart, type ServerVariant, serverChart } from './variants.js';

export const COUNTEREXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'counterexamples');

interface SavedState {
  psk: string;
  suite: number;
  serverName: string | null;
  alpn: string | null;
  issuedAtMs: number;
  lifetimeS: number;
  ticketAgeAdd: number;
  clientCertificates: string[];
}

export interface SavedSession {
  index: number;
  serverId: 'A' | 'B';
  sni: string;
  clientVariant: ClientVariant;
  serverVariant: ServerVariant;
  forceHelloRetry: boolean;
  startedAt: number;
  /** The ClientSession offered (tickets/session-codec.ts encoding, hex). */
  ticket: string | null;
  takes: Array<{ identity: string; state: SavedState | null }>;
  /** Store lookups (get) of the session; absent in files saved before lookups were recorded. */
  lookups?: Array<{ identity: string; state: SavedState | null }>;
  received: Array<{ side: 'client' | 'server'; at: number; bytes: string }>;
  attacks: AttackKind[];
  applied: Array<{ attack: AttackKind; victim: 'client' | 'server'; detect: boolean }>;
  earlyMarker: string | null;
  configAlert: string | null;
  final: { client: { state: string; alert: string | null }; server: { state: string; alert: string | null } };
}

export interface CounterexampleFile {
  format: 'tlschart-properties-counterexample/1';
  suite: string;
  seed: number;
  path: string;
  error: string;
  commands: string[];
  worldSeed: string;
  setup: WorldSetup;
  identities: Record<'server' | 'serverP256' | 'stranger' | 'client', { certPem: string; keyPem: string }>;
  sessions: SavedSession[];
}

const saveState = (s: ServerSessionState): SavedState => ({
  psk: toHex(s.psk),
  suite: s.suite,
  serverName: s.serverName ?? null,
  alpn: s.alpn ?? null,
  issuedAtMs: s.issuedAtMs,
  lifetimeS: s.lifetimeS,
  ticketAgeAdd: s.ticketAgeAdd,
  clientCertificates: s.clientCertificates.map(toHex),
});

const loadState = (s: SavedState): ServerSessionState => ({
  psk: fromHex(s.psk),
  suite: s.suite,
  serverName: s.serverName ?? undefined,
  alpn: s.alpn ?? undefined,
  issuedAtMs: s.issuedAtMs,
  lifetimeS: s.lifetimeS,
  ticketAgeAdd: s.ticketAgeAdd,
  clientCertificates: s.clientCertificates.map(fromHex),
});

const sideOf = (c: ClientConnection | ServerConnection) => ({ state: c.state, alert: c.error?.alert ?? null });

export function describeWorld(
  world: World,
  details: { seed: number; counterexamplePath?: string | null | undefined; errorInstance?: unknown },
  suite: string,
): CounterexampleFile {
  const id = (t: TestIdentity) => ({ certPem: t.certPem, keyPem: t.keyPem });
  return {
    format: 'tlschart-properties-counterexample/1',
    suite,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    error: details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance),
    commands: [...world.log],
    worldSeed: world.seed,
    setup: world.setup,
    identities: {
      server: id(world.ids.server),
      serverP256: id(world.ids.serverP256),
      stranger: id(world.ids.stranger),
      client: id(world.ids.client),
    },
    sessions: world.sessions.map((s) => ({
      index: s.index,
      serverId: s.options.serverId,
      sni: s.options.sni,
      clientVariant: s.options.clientVariant,
      serverVariant: s.options.serverVariant,
      forceHelloRetry: s.options.forceHelloRetry,
      startedAt: s.startedAt,
      ticket: s.options.ticket ? toHex(encodeClientSession(s.options.ticket.session)) : null,
      takes: world.stores[s.options.serverId].takes
        .filter((t) => t.session === s.index)
        .map((t) => ({ identity: t.identity, state: t.state ? saveState(t.state) : null })),
      lookups: world.stores[s.options.serverId].lookups
        .filter((t) => t.session === s.index)
        .map((t) => ({ identity: t.identity, state: t.state ? saveState(t.state) : null })),
      received: s.received.map((r) => ({ side: r.side, at: r.at, bytes: toHex(r.bytes) })),
      attacks: [...s.attacks],
      applied: [...s.applied],
      earlyMarker: s.earlyMarker ? toHex(s.earlyMarker) : null,
      configAlert: s.configAlert ?? null,
      final: { client: sideOf(s.client), server: sideOf(s.server) },
    })),
  };
}

/** Write the counterexample of a failed fast-check run; returns the file's path. */
export function saveCounterexample<T>(suite: string, world: World, details: fc.RunDetails<T>): string {
  mkdirSync(COUNTEREXAMPLE_DIR, { recursive: true });
  const file = join(COUNTEREXAMPLE_DIR, `${suite}-seed${details.seed}.json`);
  writeFileSync(file, `${JSON.stringify(describeWorld(world, details, suite), null, 1)}\n`);
  return file;
}

function identitiesFrom(f: CounterexampleFile): Identities {
  const load = (k: keyof CounterexampleFile['identities']): TestIdentity => ({
    ...f.identities[k],
    certified: { chain: pemToDerList(f.identities[k].certPem), key: signingKeyFromPem(f.identities[k].keyPem) },
  });
  const server = load('server');
  const serverP256 = load('serverP256');
  const client = load('client');
  return {
    server,
    serverP256,
    stranger: load('stranger'),
    client,
    verifyServer: chainVerifier({ ca: [server.certPem, serverP256.certPem], purpose: 'server' }),
    verifyClient: chainVerifier({ ca: client.certPem, purpose: 'client' }),
  };
}

export interface ReplayResult {
  session: number;
  /** Whether both sides ended as recorded. */
  same: boolean;
  final: SavedSession['final'];
  /** The session properties, checked again on the replayed connections. */
  violations: string[];
}

/**
 * Re-feed the recorded chunks of every session to fresh connections and check again.
 * With a `collector` (traces/recorder.ts TraceCollector) every replayed session is also
 * recorded in the project's trace format, for `tlschart trace check|render|view`.
 */
export async function replayCounterexample(f: CounterexampleFile, opts: { collector?: TraceCollector } = {}): Promise<ReplayResult[]> {
  if (f.format !== 'tlschart-properties-counterexample/1') throw new Error(`unknown counterexample format ${String(f.format)}`);
  const ids = identitiesFrom(f);
  const results: ReplayResult[] = [];
  for (const saved of f.sessions) {
    let now = saved.startedAt;
    const env = (side: 'client' | 'server') => {
      const crypto = providerOf(side === 'server' ? f.setup.servers[saved.serverId].crypto : f.setup.client.crypto);
      const seeded = seededEnvironment(`${f.worldSeed}/${saved.index}/${side}`, 0, crypto);
      return { random: (n: number) => seeded.random(n), now: () => now, crypto };
    };
    const takes = new Map(saved.takes.map((t) => [t.identity, t.state ? loadState(t.state) : undefined]));
    const lookups = new Map((saved.lookups ?? saved.takes).map((t) => [t.identity, t.state ? loadState(t.state) : undefined]));
    const store: TicketStore = { put: () => undefined, get: (t) => lookups.get(toHex(t)), take: (t) => takes.get(toHex(t)) };
    const ticket = saved.ticket ? decodeClientSession(fromHex(saved.ticket)) : undefined;
    const server = new ServerConnection({
      ...defaultServerConfig(serverOverrides(f.setup.servers[saved.serverId], ids, saved.forceHelloRetry)),
      env: env('server'),
      ticketStore: store,
      machine: serverChart(saved.serverVariant, ids),
    });
    const client = new ClientConnection({
      ...defaultClientConfig({ ...clientOverrides(f.setup.client, ids, saved.sni), session: ticket }),
      env: env('client'),
      machine: clientChart(saved.clientVariant, ids),
    });
    opts.collector?.pair(client, server, `session ${saved.index}`);
    const replay = {
      client,
      server,
      clientTrace: [] as TraceEntry[],
      serverTrace: [] as TraceEntry[],
      data: { client: [] as Session['data']['client'], server: [] as Session['data']['server'] },
      attacks: new Set(saved.attacks),
      applied: saved.applied,
      exceptions: [] as string[],
      tickets: [],
      earlyMarker: saved.earlyMarker ? fromHex(saved.earlyMarker) : undefined,
      options: { clientVariant: saved.clientVariant },
    };
    for (const [side, conn] of [
      ['client', client],
      ['server', server],
    ] as const) {
      conn.actor.subscribe({
        error: (e: unknown) =>
          replay.exceptions.push(`${side}: an exception escaped the chart: ${e instanceof Error ? e.message : String(e)}`),
      });
    }
    client.on('trace', (e) => replay.clientTrace.push(e));
    server.on('trace', (e) => replay.serverTrace.push(e));
    for (const side of ['client', 'server'] as const) {
      const conn = side === 'client' ? client : server;
      conn.on('error', () => undefined);
      conn.on('data', (bytes) => {
        const fin = side === 'client' ? client.context.serverFinished : server.context.clientFinished;
        replay.data[side].push({ bytes, state: conn.state, witness: fin instanceof FinishedVerified });
      });
    }
    const guard = async (p: Promise<void>) => {
      try {
        await p;
      } catch (e) {
        replay.exceptions.push(`an exception escaped the engine: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    await guard(client.settled());
    await guard(server.settled());
    for (const r of saved.received) {
      now = r.at;
      await guard((r.side === 'client' ? client : server).receive(fromHex(r.bytes)));
      await guard(client.settled());
      await guard(server.settled());
    }
    const final = { client: sideOf(client), server: sideOf(server) };
    const violations = checkSession(replay as unknown as Session, {
      predicted: saved.configAlert ? [saved.configAlert as AlertName] : [],
      quiet: true,
    });
    results.push({ session: saved.index, same: JSON.stringify(final) === JSON.stringify(saved.final), final, violations });
  }
  return results;
}

export function readCounterexample(path: string): CounterexampleFile {
  return JSON.parse(readFileSync(path, 'utf8')) as CounterexampleFile;
}
