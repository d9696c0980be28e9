/**
 * What every check of `tlschart audit server` works through: the one target,
 * the limits (a timeout per connection, a budget for the whole audit, at
 * most `concurrency` connections open at once), the trace of every
 * connection (written to the output directory as it closes), the server key
 * shares seen, and a pool of unused tickets.
 */
import { toHex } from '../../crypto/bytes.js';
import type { Divergence, Profile } from '../findings.js';
import { ProbeConnection, type ProbeTicket } from '../probe/client.js';
import { type HelloOptions, makeHello } from '../probe/hellos.js';
import type { Target } from '../probe/target.js';
import { probeTrace } from '../probe/trace.js';
import { connectionRecord, writeConnectionTrace } from '../wire-trace.js';
import type { ResumptionObservation } from './checks/resumption.js';

export interface AuditSettings {
  target: Target;
  /** SNI sent (and the name the certificate is checked against); undefined: none. */
  serverName: string | undefined;
  /** ALPN protocols offered, in order. */
  alpn: string[];
  /** CA certificates (PEM) the server chain must chain to; undefined: Node's root store. */
  ca: string | undefined;
  /** Do not judge the certificate chain at all. */
  insecure: boolean;
  profile: Profile;
  /** Tries for the measured checks (success rate, parallel replay) and fast-check runs. */
  runs: number;
  /** Per connection. */
  timeoutMs: number;
  /** The whole audit. */
  budgetMs: number;
  concurrency: number;
  /** fast-check seed of the out-of-order family. */
  seed: number;
  /** How long a waiting client waits after the last ticket before it gives up on more. */
  settleMs: number;
  outDir: string;
  progress: (line: string) => void;
  /** Aborting it (SIGINT) stops the audit like a spent budget. */
  signal?: AbortSignal;
}

/** One connection as recorded: its trace file and what the chart says about it. */
export interface ConnectionRecord {
  label: string;
  /** Relative to the output directory. */
  trace: string;
  /** The server's chart states, in order. */
  statePath: string[];
  divergence: Divergence | undefined;
}

/** Where a check keeps the connections it made. */
export class Scope {
  readonly records: ConnectionRecord[] = [];
  constructor(readonly id: string) {}

  get traces(): string[] {
    return this.records.map((r) => r.trace);
  }

  /** The first divergence from the chart among `records` (default: all of this scope's). */
  firstDivergence(records: readonly ConnectionRecord[] = this.records): Divergence | undefined {
    return records.find((r) => r.divergence !== undefined)?.divergence;
  }
}

/** The audit ran out of its budget: the checks not done yet are inconclusive. */
export class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
}

/** The target could not be reached (TCP). */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';
}

class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface ConnectionOptions {
  /** One line for the trace's description. */
  description: string;
  /** Tickets this connection receives may serve other checks (default true: only for standard hellos). */
  poolTickets?: boolean;
}

export class AuditContext {
  readonly startedAt = Date.now();
  /** Every ticket received during the audit. */
  readonly tickets: ProbeTicket[] = [];
  /** Server key shares seen (hex), with the connections that got each. */
  readonly serverShares = new Map<string, string[]>();
  /** Every connection that got a ServerHello, for the audit-wide resumption findings. */
  readonly observations: ResumptionObservation[] = [];
  /** How many tickets the server sends after a full handshake (learned by the preflight). */
  ticketsPerConnection = 0;
  private readonly pool: ProbeTicket[] = [];
  private readonly records = new WeakMap<ProbeConnection, ConnectionRecord>();
  private readonly slots: Slots;
  private connections = 0;

  constructor(readonly settings: AuditSettings) {
    this.slots = new Slots(Math.max(1, settings.concurrency));
  }

  get connectionCount(): number {
    return this.connections;
  }

  remainingMs(): number {
    return this.startedAt + this.settings.budgetMs - Date.now();
  }

  /** Standard hello options: the auditor's SNI and ALPN. */
  hello(o: HelloOptions = {}): ReturnType<typeof makeHello> {
    return makeHello({ serverName: this.settings.serverName, alpn: this.settings.alpn, ...o });
  }

  /**
   * Open a connection to the target, run `fn` on it, end it (close_notify,
   * then read until the server closes), and record its trace in `scope`.
   */
  async connection<T>(scope: Scope, label: string, options: ConnectionOptions, fn: (c: ProbeConnection) => Promise<T>): Promise<T> {
    if (this.settings.signal?.aborted) throw new BudgetExhausted('the audit was interrupted');
    if (this.remainingMs() <= 0) throw new BudgetExhausted(`the audit budget of ${Math.round(this.settings.budgetMs / 1000)} s is spent`);
    await this.slots.acquire();
    const n = ++this.connections;
    const startedAt = Date.now();
    let conn: ProbeConnection | undefined;
    try {
      const timeout = Math.max(1, Math.min(this.settings.timeoutMs, this.remainingMs()));
      let transport: Awaited<ReturnType<typeof this.settings.target.open>>;
      try {
        transport = await this.settings.target.open(timeout);
      } catch (e) {
        throw new Unreachable(`cannot connect to ${this.settings.target.label}: ${(e as Error).message}`);
      }
      conn = new ProbeConnection({
        transport,
        deadline: startedAt + timeout,
        label,
        serverName: this.settings.serverName,
        alpn: undefined,
      });
      const result = await fn(conn);
      if (!conn.ended) await conn.finish();
      return result;
    } finally {
      if (conn) {
        if (!conn.ended) conn.destroy();
        await this.record(scope, conn, n, startedAt, options);
      }
      this.slots.release();
    }
  }

  private async record(scope: Scope, conn: ProbeConnection, n: number, startedAt: number, options: ConnectionOptions): Promise<void> {
    for (const t of conn.tickets) {
      this.tickets.push(t);
      if (options.poolTickets !== false) this.pool.push(t);
    }
    const share = conn.serverKeyShare;
    if (share) {
      const key = toHex(share.keyExchange);
      this.serverShares.set(key, [...(this.serverShares.get(key) ?? []), `${scope.id}/${conn.label}`]);
    }
    const trace = probeTrace(conn.log, {
      target: this.settings.target.label,
      label: conn.label,
      scenario: scope.id,
      description: options.description,
      startedAt,
    });
    const rel = await writeConnectionTrace(this.settings.outDir, scope.id, n, conn.label, trace);
    const record = connectionRecord(trace, rel, conn.label);
    this.records.set(conn, record);
    scope.records.push(record);
    if (conn.serverHello) {
      this.observations.push({
        resumed: conn.resumed,
        certificate: conn.certificate !== undefined || conn.certificateVerifySeen,
        keyShare: conn.serverKeyShare !== undefined,
        offeredDheOnly: (conn.offeredModes?.includes(1) ?? false) && !conn.offeredModes?.includes(0),
        record,
      });
    }
  }

  /** The record of a connection made through this context. */
  recordOf(conn: ProbeConnection): ConnectionRecord {
    const r = this.records.get(conn);
    if (!r) throw new Error(`connection ${conn.label} was not recorded`);
    return r;
  }

  /**
   * A full handshake with the standard hello: read the flight, send our
   * Finished, wait for `tickets` tickets (default: as many as the server sends).
   */
  async fullHandshake(
    scope: Scope,
    label: string,
    o: { hello?: HelloOptions; tickets?: number; description?: string; poolTickets?: boolean } = {},
  ): Promise<ProbeConnection> {
    return this.connection(
      scope,
      label,
      {
        description: o.description ?? 'a full handshake, to get tickets',
        ...(o.poolTickets !== undefined ? { poolTickets: o.poolTickets } : {}),
      },
      async (c) => {
        c.sendHello(this.hello(o.hello));
        if ((await c.readFlight()) === 'finished' && c.serverFinishedValid) {
          c.sendFinished();
          await c.collectTickets(o.tickets ?? Math.max(1, this.ticketsPerConnection), this.settings.settleMs);
        }
        return c;
      },
    );
  }

  /** An unused ticket from a standard connection, or a full handshake to get one; undefined if the server issues none. */
  async freshTicket(scope: Scope, accept: (t: ProbeTicket) => boolean = () => true): Promise<ProbeTicket | undefined> {
    const i = this.pool.findIndex(accept);
    if (i >= 0) return this.pool.splice(i, 1)[0];
    await this.fullHandshake(scope, 'full handshake for a ticket');
    const j = this.pool.findIndex(accept);
    return j >= 0 ? this.pool.splice(j, 1)[0] : undefined;
  }

  /** `n` unused tickets (fewer if the server will not give them). */
  async freshTickets(scope: Scope, n: number): Promise<ProbeTicket[]> {
    const out: ProbeTicket[] = [];
    for (let tries = 0; out.length < n && tries < n + 2; tries++) {
      const t = await this.freshTicket(scope);
      if (!t) break;
      out.push(t);
    }
    return out;
  }
}
