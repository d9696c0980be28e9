/**
 * The real system of the model-based suite (level b): one client, two
 * servers with separate ticket stores, a clock, and the wire between the
 * client and the server of the current session, which the attacker commands
 * can drop from, duplicate, reorder, truncate, flip bits in and inject into.
 * Everything is the sans-IO engine with real crypto; the world records what
 * each side received so a failing run can be saved and replayed.
 */

import { toHex } from '../../crypto/bytes.js';
import { suiteInfo } from '../../crypto/suites.js';
import { FinishedVerified } from '../../crypto/witness.js';
import { defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { ClientConnection, ServerConnection, type TraceEntry } from '../../engine/connection.js';
import { seededEnvironment } from '../../engine/env.js';
import type { clientMachine } from '../../machines/client/machine.js';
import type { serverMachine } from '../../machines/server/machine.js';
import type { Environment } from '../../machines/types.js';
import { MemoryTicketStore } from '../../tickets/memory-store.js';
import type { ClientSession, ServerSessionState, TicketStore } from '../../tickets/types.js';
import type { AlertName } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake } from '../../wire/handshake.js';
import type { ClientHello } from '../../wire/types.js';
import { clientOverrides, providerOf, serverOverrides, type WorldSetup } from '../arbitraries/config.js';
import type { AttackKind } from '../support/alerts.js';
import type { Identities } from '../support/identities.js';
import { type ClientVariant, clientChart, type ServerVariant, serverChart } from '../support/variants.js';

const suiteHash = (code: number) => suiteInfo(code)?.hash;

export type ServerId = 'A' | 'B';
export type Direction = 'toServer' | 'toClient';

export interface Chunk {
  dir: Direction;
  bytes: Uint8Array;
}

/** A store that remembers what each lookup found (for replays) around the real in-memory store. */
export class RecordingStore implements TicketStore {
  readonly inner: MemoryTicketStore;
  /** Every take: the session it served, identity (hex) → what it returned. */
  readonly takes: Array<{ session: number; identity: string; state: ServerSessionState | undefined }> = [];
  /** Every lookup (get, which removes nothing): the session it served, identity (hex) → what it found. */
  readonly lookups: Array<{ session: number; identity: string; state: ServerSessionState | undefined }> = [];
  /** The session whose server uses the store now. */
  owner = -1;

  constructor(now: () => number) {
    this.inner = new MemoryTicketStore({ now });
  }

  put(ticket: Uint8Array, state: ServerSessionState): void {
    this.inner.put(ticket, state);
  }

  get(ticket: Uint8Array): ServerSessionState | undefined {
    const state = this.inner.get(ticket);
    this.lookups.push({ session: this.owner, identity: toHex(ticket), state });
    return state;
  }

  take(ticket: Uint8Array): ServerSessionState | undefined {
    const state = this.inner.take(ticket);
    this.takes.push({ session: this.owner, identity: toHex(ticket), state });
    return state;
  }
}

/** A ticket the client holds, with what the world saw when it was issued. */
export interface WalletEntry {
  session: ClientSession;
  serverId: ServerId;
  /** SNI of the connection that issued it. */
  sni: string;
  issuedAt: number;
  /** Suite of the issuing connection. */
  suite: number;
  lifetimeS: number;
  /** Index of the session whose server issued it (undefined if the world did not see it leave). */
  issuedBy: number | undefined;
}

export interface DataEvent {
  bytes: Uint8Array;
  state: string;
  witness: boolean;
}

export interface SessionOptions {
  serverId: ServerId;
  sni: string;
  ticket?: WalletEntry | undefined;
  clientVariant?: ClientVariant;
  serverVariant?: ServerVariant;
  forceHelloRetry?: boolean;
  /** The attacker replays these bytes to the server instead of the client's first flight. */
  replacedClientHello?: Uint8Array | undefined;
}

/** One connection between the client and one of the servers. */
export class Session {
  readonly client: ClientConnection;
  readonly server: ServerConnection;
  readonly queue: Chunk[] = [];
  readonly clientTrace: TraceEntry[] = [];
  readonly serverTrace: TraceEntry[] = [];
  /** Byte chunks each side received, in order, with the clock when they arrived. */
  readonly received: Array<{ side: 'client' | 'server'; bytes: Uint8Array; at: number }> = [];
  /** Everything each side sent (for injection into later sessions). */
  readonly sent: Chunk[] = [];
  readonly data: { client: DataEvent[]; server: DataEvent[] } = { client: [], server: [] };
  /** The attacks (and misbehaviours) this session went through: they decide which alerts are allowed. */
  readonly attacks = new Set<AttackKind>();
  /** Exceptions that escaped the engines, hangs and loops: each one a violation of property 6. */
  readonly exceptions: string[] = [];
  readonly tickets: ClientSession[] = [];
  /** The failure the configurations alone call for (from the model), allowed whatever else happens. */
  configAlert: AlertName | undefined;
  readonly startedAt: number;
  /**
   * Attacks that took effect, with the side that must then never connect and
   * whether that side must be the one that refuses it (with an alert of the table).
   */
  readonly applied: Array<{ attack: AttackKind; victim: 'client' | 'server'; detect: boolean }> = [];
  earlyMarker: Uint8Array | undefined;

  constructor(
    readonly world: World,
    readonly index: number,
    readonly options: Required<Pick<SessionOptions, 'serverId' | 'sni' | 'clientVariant' | 'serverVariant' | 'forceHelloRetry'>> &
      SessionOptions,
  ) {
    const ids = world.ids;
    const server = world.setup.servers[options.serverId];
    const env = (side: 'client' | 'server'): Environment => {
      const crypto = providerOf(side === 'server' ? server.crypto : world.setup.client.crypto);
      const seeded = seededEnvironment(`${world.seed}/${index}/${side}`, 0, crypto);
      return { random: (n) => seeded.random(n), now: () => world.now, crypto };
    };
    world.stores[options.serverId].owner = index;
    this.startedAt = world.now;
    this.server = new ServerConnection({
      ...defaultServerConfig(serverOverrides(server, ids, options.forceHelloRetry)),
      env: env('server'),
      ticketStore: world.stores[options.serverId],
      machine: serverChart(options.serverVariant, ids, world.serverMachine),
    });
    this.client = new ClientConnection({
      ...defaultClientConfig({ ...clientOverrides(world.setup.client, ids, options.sni), session: options.ticket?.session }),
      env: env('client'),
      machine: clientChart(options.clientVariant, ids, world.clientMachine),
    });
    const onOutput = (dir: Direction) => (bytes: Uint8Array) => {
      this.queue.push({ dir, bytes });
      this.sent.push({ dir, bytes });
    };
    this.client.on('output', onOutput('toServer'));
    this.server.on('output', onOutput('toClient'));
    this.client.on('trace', (e) => this.clientTrace.push(e));
    this.server.on('trace', (e) => {
      this.serverTrace.push(e);
      if (e.kind === 'message' && e.direction === 'out' && e.name === 'new_session_ticket') world.noteIssued(this, e.raw);
    });
    this.client.on('session', (s) => {
      this.tickets.push(s);
      world.noteSession(this, s);
    });
    const onData = (side: 'client' | 'server') => (bytes: Uint8Array) => {
      const conn = side === 'client' ? this.client : this.server;
      const fin = side === 'client' ? this.client.context.serverFinished : this.server.context.clientFinished;
      this.data[side].push({ bytes, state: conn.state, witness: fin instanceof FinishedVerified });
    };
    this.client.on('data', onData('client'));
    this.server.on('data', onData('server'));
    this.client.on('error', () => undefined);
    this.server.on('error', () => undefined);
    // An exception thrown inside a chart is a property violation (6); observing it here also keeps
    // xstate from rethrowing it as an uncaught exception (it does so for actors nobody observes).
    for (const [side, conn] of [
      ['client', this.client],
      ['server', this.server],
    ] as const) {
      conn.actor.subscribe({
        error: (e: unknown) =>
          this.exceptions.push(`${side}: an exception escaped the chart: ${e instanceof Error ? e.message : String(e)}`),
      });
    }
  }

  /** Let both engines finish what they are doing (their first flight included). */
  async settle(): Promise<void> {
    await this.guard('client', this.client.settled());
    await this.guard('server', this.server.settled());
  }

  private async guard(side: string, p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), 10_000);
    });
    try {
      const r = await Promise.race([p.then(() => 'ok' as const), hang]);
      if (r === 'hang') this.exceptions.push(`${side}: the engine did not settle within 10 s (a hang)`);
    } catch (e) {
      this.exceptions.push(`${side}: an exception escaped the engine: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Deliver the chunk at `index` of the queue. */
  async deliver(index = 0): Promise<void> {
    const [chunk] = this.queue.splice(index, 1);
    if (!chunk) return;
    const side = chunk.dir === 'toServer' ? 'server' : 'client';
    this.received.push({ side, bytes: chunk.bytes, at: this.world.now });
    const conn = side === 'server' ? this.server : this.client;
    await this.guard(side, conn.receive(chunk.bytes));
    await this.settle();
    this.world.observe(this);
  }

  /** Deliver everything in flight, in order, until both sides are quiet. */
  async deliverAll(only?: Direction): Promise<void> {
    for (let rounds = 0; rounds < 500; rounds++) {
      const i = only ? this.queue.findIndex((c) => c.dir === only) : 0;
      if (i < 0 || this.queue.length === 0) return;
      await this.deliver(i);
    }
    this.exceptions.push('the two engines kept talking for 500 chunks (a loop)');
  }

  get quiet(): boolean {
    return this.queue.length === 0;
  }

  get bothConnected(): boolean {
    return this.client.state === 'connected' && this.server.state === 'connected';
  }
}

export interface IssuedTicket {
  serverId: ServerId;
  sni: string | undefined;
  suite: number;
  at: number;
  lifetimeS: number;
  session: number;
}

export interface WorldOptions {
  /** Charts under test (default: the real ones); the mutation gate passes mutants here. */
  clientMachine?: typeof clientMachine;
  serverMachine?: typeof serverMachine;
}

export class World {
  now = Math.floor(Date.now() / 1000) * 1000;
  readonly stores: Record<ServerId, RecordingStore>;
  readonly wallet: WalletEntry[] = [];
  readonly sessions: Session[] = [];
  /** Every ticket a server issued, by identity. */
  readonly issued = new Map<string, IssuedTicket>();
  /** PSK acceptances per identity (property 7: at most once). */
  readonly accepted = new Map<string, number>();
  /** Public (EC)DHE shares seen, and the session that sent each. */
  readonly shares = new Map<string, number>();
  readonly violations: string[] = [];
  /** Commands run so far, for the counterexample. */
  readonly log: string[] = [];
  forceHelloRetryNext = false;
  readonly clientMachine: typeof clientMachine | undefined;
  readonly serverMachine: typeof serverMachine | undefined;

  constructor(
    readonly setup: WorldSetup,
    readonly ids: Identities,
    readonly seed: string,
    options: WorldOptions = {},
  ) {
    this.stores = { A: new RecordingStore(() => this.now), B: new RecordingStore(() => this.now) };
    this.clientMachine = options.clientMachine;
    this.serverMachine = options.serverMachine;
  }

  get current(): Session | undefined {
    return this.sessions.at(-1);
  }

  async open(options: SessionOptions): Promise<Session> {
    const s = new Session(this, this.sessions.length, {
      clientVariant: 'honest',
      serverVariant: 'honest',
      forceHelloRetry: this.forceHelloRetryNext,
      ...options,
    });
    this.forceHelloRetryNext = false;
    this.sessions.push(s);
    await s.settle();
    if (options.replacedClientHello) {
      // The attacker swallows the client's first flight and replays an old ClientHello.
      s.queue.splice(0, s.queue.length, { dir: 'toServer', bytes: options.replacedClientHello });
    }
    this.observe(s);
    return s;
  }

  noteIssued(s: Session, raw: Uint8Array): void {
    const d = decodeHandshake(raw);
    if (!d.ok || d.value.type !== 'new_session_ticket') return;
    this.issued.set(toHex(d.value.ticket), {
      serverId: s.options.serverId,
      sni: s.server.context.serverName,
      suite: s.server.context.suite?.code ?? -1,
      at: this.now,
      lifetimeS: d.value.ticketLifetime,
      session: s.index,
    });
  }

  noteSession(s: Session, session: ClientSession): void {
    const issued = this.issued.get(toHex(session.ticket));
    this.wallet.push({
      session,
      serverId: issued?.serverId ?? s.options.serverId,
      sni: s.options.sni,
      issuedAt: issued?.at ?? this.now,
      suite: session.suite,
      lifetimeS: session.lifetimeS,
      issuedBy: issued?.session,
    });
  }

  /** Observations after every step: fresh shares, PSK acceptances. */
  observe(s: Session): void {
    for (const [trace, name] of [
      [s.clientTrace, 'client_hello'],
      [s.serverTrace, 'server_hello'],
    ] as const) {
      for (const e of trace) {
        if (e.kind !== 'message' || e.direction !== 'out' || e.name !== name) continue;
        const d = decodeHandshake(e.raw);
        if (!d.ok) continue;
        const m = d.value;
        const keys: Uint8Array[] =
          m.type === 'client_hello'
            ? (findExtension(m.extensions, 'key_share_client')?.shares ?? []).map((x) => x.keyExchange)
            : m.type === 'server_hello'
              ? [findExtension(m.extensions, 'key_share_server')?.share.keyExchange].filter((x): x is Uint8Array => x !== undefined)
              : [];
        for (const k of keys) {
          const hex = toHex(k);
          const seen = this.shares.get(hex);
          if (seen === undefined) this.shares.set(hex, s.index);
          else if (seen !== s.index) this.violations.push(`session ${s.index} reused the (EC)DHE share of session ${seen} (${name})`);
        }
      }
    }
    const ctx = s.server.context;
    if (ctx.resumed && ctx.selectedPsk && !(s as unknown as { counted?: boolean }).counted) {
      (s as unknown as { counted?: boolean }).counted = true;
      // The server's context drops its ClientHello once connected: the one it accepted is the last it received.
      const ch = ctx.clientHello ?? lastClientHelloIn(s.serverTrace);
      const id = ch && findExtension(ch.extensions, 'pre_shared_key_client')?.identities[ctx.selectedPsk.index]?.identity;
      if (id) {
        const hex = toHex(id);
        const n = (this.accepted.get(hex) ?? 0) + 1;
        this.accepted.set(hex, n);
        if (n > 1) this.violations.push(`session ${s.index}: ticket ${hex.slice(0, 16)}… was accepted for resumption ${n} times`);
        const issued = this.issued.get(hex);
        if (!issued) this.violations.push(`session ${s.index}: resumed a ticket no server of this world issued`);
        else {
          if (issued.serverId !== s.options.serverId)
            this.violations.push(
              `session ${s.index}: server ${s.options.serverId} resumed a ticket from server ${issued.serverId}'s store`,
            );
          if (this.now >= issued.at + issued.lifetimeS * 1000)
            this.violations.push(`session ${s.index}: resumed a ticket after its lifetime`);
          const sni = findExtension(ch.extensions, 'server_name')?.hostName;
          if (issued.sni !== sni)
            this.violations.push(`session ${s.index}: resumed a ticket issued for SNI ${issued.sni} under SNI ${sni}`);
          if (issued.suite !== -1 && ctx.suite && suiteHash(issued.suite) !== ctx.suite.hash) {
            this.violations.push(`session ${s.index}: resumed a ticket issued under another hash`);
          }
        }
      }
    }
  }
}

/** The last ClientHello in a server's trace of received messages (the one a resumption was decided on). */
export function lastClientHelloIn(trace: readonly TraceEntry[]): ClientHello | undefined {
  for (let i = trace.length - 1; i >= 0; i--) {
    const e = trace[i];
    if (e?.kind !== 'message' || e.direction !== 'in' || e.name !== 'client_hello') continue;
    const d =
      e.msg ??
      (() => {
        const r = decodeHandshake(e.raw);
        return r.ok ? r.value : undefined;
      })();
    if (d?.type === 'client_hello') return d;
  }
  return undefined;
}

/** Whether the server accepted a ClientHello (its context drops the hellos once connected; `info` stays). */
export function serverGotClientHello(s: { server: ServerConnection }): boolean {
  return s.server.context.clientHello1 !== undefined || s.server.info !== undefined;
}
