/**
 * Recording a connection as a trace (format.ts).
 *
 *   const conn = new ClientConnection({ ...config, env, machine: tracedClientMachine });
 *   const rec = recordTo(conn, 'client', { peer: 'example.com:443' });
 *   … run the connection …
 *   await saveTrace('run.json', rec.trace());
 *
 * What the recorder listens to, all of it public:
 * - the engine's 'trace' events (messages, alerts, CCS, application data,
 *   outbound records, transitions) and its 'output' bytes;
 * - the actor system's inspection stream (`actor.system.inspect`), which marks
 *   where each machine event starts and what state it ends in;
 * - guard outcomes, when the connection runs a machine wrapped by
 *   `withGuardTracing` (`tracedClientMachine`, `tracedServerMachine`): every
 *   named guard evaluated, true or false, with the event it was evaluated for;
 * - the inbound bytes: `recordTo` wraps the connection's `receive` so that it
 *   sees every chunk, and hands the engine one whole record at a time (the
 *   record layer's result does not depend on chunking). That is what lets each
 *   inbound record be tied to the step it produced and its epoch be inferred
 *   from the state the connection was in when it was read.
 *
 * Nothing from the machine context is copied, so no secret can reach a trace.
 */
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import { concat, toHex } from '../crypto/bytes.js';
import type { ClientConnection, ServerConnection, TraceEntry } from '../engine/connection.js';
import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import type { ClientConfig, ServerConfig, TlsEvent } from '../machines/types.js';
import { MAX_CIPHERTEXT_LENGTH } from '../record/framing.js';
import { decodeHandshake } from '../wire/handshake.js';
import type { HandshakeMessage } from '../wire/types.js';
import {
  clientConfigSummary,
  type GuardOutcome,
  type HandshakeTrace,
  messageFields,
  type RecordInfo,
  type Role,
  type SideTrace,
  type StepKind,
  saveTrace,
  serverConfigSummary,
  TRACE_FORMAT,
  TRACE_VERSION,
  type Trace,
  type TraceMeta,
  type TraceStep,
  type TransitionTaken,
  tlschartVersion,
} from './format.js';

export type AnyConnection = ClientConnection | ServerConnection;

// ------------------------------------------------------------------ guard outcomes

type GuardSink = (outcome: GuardOutcome) => void;
type GuardImpl = (args: { context: { config: object }; event: { type: string } }, params: unknown) => boolean;

/**
 * Where wrapped guards report, by the connection's configuration object (the
 * one object every context of a connection shares, and no other connection has).
 */
const guardSinks = new WeakMap<object, GuardSink>();

/**
 * The same machine with every named guard wrapped so that its outcome is
 * reported to the recorder of the connection evaluating it. Behaviour is
 * unchanged: each wrapper returns what the original returned.
 */
export function withGuardTracing<M extends AnyStateMachine>(machine: M): M {
  const impls = (machine.implementations.guards ?? {}) as unknown as Record<string, GuardImpl>;
  const wrapped: Record<string, GuardImpl> = {};
  for (const [name, fn] of Object.entries(impls)) {
    wrapped[name] = (args, params) => {
      const result = fn(args, params);
      guardSinks.get(args.context.config)?.({ guard: name, result });
      return result;
    };
  }
  return machine.provide({ guards: wrapped } as never) as M;
}

/** The client chart with guard outcomes reported (pass as the connection's `machine`). */
export const tracedClientMachine: typeof clientMachine = withGuardTracing(clientMachine);
/** The server chart with guard outcomes reported (pass as the connection's `machine`). */
export const tracedServerMachine: typeof serverMachine = withGuardTracing(serverMachine);

// ------------------------------------------------------------------ sequencing

/** Hands out step numbers; share one between the two sides of a pair so their steps interleave. */
export class Sequencer {
  private n = 0;
  next(): number {
    return this.n++;
  }
}

// ------------------------------------------------------------------ the recorder

export interface RecordOptions {
  /** Shared with the other side's recorder when both sides are recorded. */
  sequencer?: Sequencer;
  /** Seed and start time, for a connection on a seeded environment. */
  environment?: { seed: string; startMs: number };
}

export interface TraceRecorder {
  readonly role: Role;
  /** This side as recorded so far. */
  side(): SideTrace;
  /** A whole trace of this one side (meta from `recordTo`, one handshake). */
  trace(label?: string): Trace;
  /** Stop recording (the connection keeps working; `receive` is restored). */
  stop(): void;
}

/** The machine event being handled, and what it did. */
interface EventContext {
  id: number;
  type: string;
  stateBefore: string;
  stateAfter: string;
  guards: GuardOutcome[];
  transitions: TransitionTaken[];
  /** Whether a step already carries this event's guards and transitions. */
  claimed: boolean;
}

interface PendingStep {
  step: Omit<TraceStep, 'event' | 'stateBefore' | 'stateAfter' | 'guards' | 'transitions'>;
  ctx: EventContext | undefined;
  /** Steps without an event keep the state they saw. */
  state: string;
  carriesEvent: boolean;
}

const CONTENT_KIND: Record<number, StepKind> = { 20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data' };

/**
 * Record a connection. Call it right after constructing the connection (the
 * first flight, e.g. the ClientHello, is sent on the next tick).
 */
export function recordTo(
  conn: AnyConnection,
  role: Role,
  meta: Partial<Omit<TraceMeta, 'role'>> = {},
  options: RecordOptions = {},
): TraceRecorder {
  const seq = options.sequencer ?? new Sequencer();
  const steps: PendingStep[] = [];
  const config = conn.context.config as ClientConfig | ServerConfig;
  const configSummary = role === 'client' ? clientConfigSummary(config as ClientConfig) : serverConfigSummary(config as ServerConfig);
  const startTime = new Date(conn.context.env.now()).toISOString();

  let eventId = 0;
  const initial = conn.state;
  let ctx: EventContext = {
    id: eventId,
    type: 'xstate.init',
    stateBefore: initial,
    stateAfter: initial,
    guards: [],
    transitions: [],
    claimed: false,
  };
  let pendingIn: RecordInfo[] = [];
  let pendingDetail: Extract<TraceEntry, { kind: 'message' | 'alert' | 'appdata' | 'ccs' }> | undefined;
  let inboundKeyUpdates = 0;
  let lastOutRecord: RecordInfo | undefined;

  const add = (p: Omit<PendingStep['step'], 'seq'>, carriesEvent: boolean, withCtx = true): PendingStep => {
    const ps: PendingStep = { step: { seq: seq.next(), ...p }, ctx: withCtx ? ctx : undefined, state: conn.state, carriesEvent };
    steps.push(ps);
    return ps;
  };
  const lastOut = (): PendingStep | undefined => {
    for (let i = steps.length - 1; i >= 0; i--) if (steps[i]?.step.direction === 'out') return steps[i];
    return undefined;
  };

  /** The epoch an inbound record was read under, from the state before it was processed. */
  const inboundEpoch = (contentType: number): string => {
    if (contentType !== 23) return 'plaintext';
    const s = conn.state;
    const app = inboundKeyUpdates === 0 ? 'application' : `application+${inboundKeyUpdates}`;
    if (s === 'connected' || s === 'closed') return app;
    if (role === 'server' && (s === 'expectClientHello' || s === 'expectSecondClientHello')) return 'early';
    if (role === 'client' && (s === 'expectServerHello' || s === 'expectServerHelloAfterRetry')) return 'none';
    if (s === 'failed') return 'unknown';
    return 'handshake';
  };

  // ---- inbound bytes: one whole record at a time
  const original = conn.receive;
  let buffer: Uint8Array = new Uint8Array(0);
  let passthrough = false;
  const feed = (rec: Uint8Array): Promise<void> => {
    const contentType = rec[0] ?? 0;
    pendingIn.push({ contentType, epoch: passthrough ? 'unknown' : inboundEpoch(contentType), length: rec.length, hex: toHex(rec) });
    return original.call(conn, rec);
  };
  let chain: Promise<void> = Promise.resolve();
  const receive = (bytes: Uint8Array): Promise<void> => {
    const records: Uint8Array[] = [];
    if (passthrough) records.push(bytes);
    else {
      buffer = concat(buffer, bytes);
      while (buffer.length >= 5) {
        const type = buffer[0] as number;
        const len = ((buffer[3] as number) << 8) | (buffer[4] as number);
        if (type < 20 || type > 23 || len > MAX_CIPHERTEXT_LENGTH) {
          // Not a record header the engine would wait on: hand everything over, it will refuse it.
          passthrough = true;
          records.push(buffer);
          buffer = new Uint8Array(0);
          break;
        }
        if (buffer.length < 5 + len) break;
        records.push(buffer.slice(0, 5 + len));
        buffer = buffer.slice(5 + len);
      }
    }
    const done = chain.then(async () => {
      for (const r of records) await feed(r);
    });
    chain = done.catch(() => undefined); // the connection reports its own failure; the next chunk still goes through
    return done;
  };
  conn.receive = receive;

  // ---- machine events, from the inspection stream
  const inspection = conn.actor.system.inspect((ev: InspectionEvent) => {
    if (ev.actorRef !== conn.actor) return;
    if (ev.type === '@xstate.event') {
      const type = (ev.event as TlsEvent).type;
      if (type === 'engine.drained') return;
      ctx = { id: ++eventId, type, stateBefore: conn.state, stateAfter: conn.state, guards: [], transitions: [], claimed: false };
      if (type.startsWith('recv.')) onInboundEvent(ev.event as TlsEvent);
    } else if (ev.type === '@xstate.snapshot') {
      const v = (ev.snapshot as { value?: unknown }).value;
      if (v !== undefined && ctx.type !== 'engine.drained') ctx.stateAfter = typeof v === 'string' ? v : JSON.stringify(v);
    }
  });
  guardSinks.set(config, (g) => ctx.guards.push(g));

  function onInboundEvent(event: TlsEvent): void {
    ctx.claimed = true;
    const records = pendingIn;
    pendingIn = [];
    const d = pendingDetail;
    pendingDetail = undefined;
    if (event.type === 'recv.Malformed') {
      const e = event.error;
      add({ direction: 'in', kind: 'malformed', records, error: { alert: e.alert, reason: e.reason, message: e.message } }, true);
      return;
    }
    if (d?.kind === 'message') {
      add({ direction: 'in', kind: 'handshake', records, message: messageOf(d.raw, d.encrypted, d.msg) }, true);
      if (d.name === 'key_update') inboundKeyUpdates++;
    } else if (d?.kind === 'alert') {
      add({ direction: 'in', kind: 'alert', records, alert: { level: d.level, description: d.alert } }, true);
    } else if (d?.kind === 'appdata') {
      add({ direction: 'in', kind: 'application_data', records, applicationData: { length: d.length } }, true);
    } else if (d?.kind === 'ccs') {
      add({ direction: 'in', kind: 'change_cipher_spec', records }, true);
    } else {
      // An event the engine sent without tracing it first (a test driving the actor directly).
      add({ direction: 'in', kind: CONTENT_KIND[records[0]?.contentType ?? 22] ?? 'handshake', records }, true);
    }
  }

  // ---- the engine's trace entries and output bytes
  const onTrace = (e: TraceEntry): void => {
    switch (e.kind) {
      case 'message':
      case 'alert':
      case 'appdata':
      case 'ccs':
        if (e.direction === 'in') {
          pendingDetail = e;
          return;
        }
        {
          const carries = !ctx.claimed;
          ctx.claimed = true;
          if (e.kind === 'message')
            add({ direction: 'out', kind: 'handshake', records: [], message: messageOf(e.raw, e.encrypted, e.msg) }, carries);
          else if (e.kind === 'alert')
            add({ direction: 'out', kind: 'alert', records: [], alert: { level: e.level, description: e.alert } }, carries);
          else if (e.kind === 'appdata')
            add({ direction: 'out', kind: 'application_data', records: [], applicationData: { length: e.length } }, carries);
          else add({ direction: 'out', kind: 'change_cipher_spec', records: [] }, carries);
        }
        return;
      case 'earlyDataSkipped': {
        const records = pendingIn.map((r) => ({ ...r, epoch: 'early' }));
        pendingIn = [];
        add({ direction: 'in', kind: 'early_data_skipped', records, earlyDataSkipped: { bytes: e.bytes } }, false, false);
        return;
      }
      case 'record': {
        if (e.direction !== 'out') return;
        const rec: RecordInfo = { contentType: e.contentType, epoch: e.epoch, length: e.length, hex: '' };
        const last = lastOut();
        if (last && last.step.records.length === 0 && CONTENT_KIND[e.contentType] === last.step.kind) last.step.records.push(rec);
        else {
          // A record with no step before it: the engine's own fatal alert.
          const kind = CONTENT_KIND[e.contentType] ?? 'handshake';
          const carries = !ctx.claimed;
          ctx.claimed = true;
          add(
            { direction: 'out', kind, records: [rec], ...(kind === 'alert' ? { alert: { level: 2, description: 'unknown' } } : {}) },
            carries,
          );
        }
        lastOutRecord = rec;
        return;
      }
      case 'transition':
        // The engine emptying the outbox is bookkeeping, not a step of the trace (its event is skipped above).
        if (e.event === 'engine.drained') return;
        ctx.transitions.push({ source: e.source, targets: e.targets, eventType: e.eventType, index: e.index, guard: e.guard ?? null });
        return;
      case 'guard':
        ctx.guards.push({ guard: e.guard, result: e.result });
        return;
      case 'state':
        return; // the inspection stream gives the states
    }
  };
  // The chunks of one gathered write (`more`, a socket's application data) are the bytes of one record step.
  let gathering = false;
  const onOutput = (bytes: Uint8Array, more?: boolean): void => {
    if (lastOutRecord && (lastOutRecord.hex === '' || gathering)) lastOutRecord.hex += toHex(bytes);
    gathering = more === true;
  };
  const onAlert = (a: { alert: string; direction: 'sent' | 'received'; level: number }): void => {
    if (a.direction !== 'sent') return;
    const last = lastOut();
    if (last?.step.kind === 'alert' && last.step.alert?.description === 'unknown')
      last.step.alert = { level: a.level, description: a.alert };
  };
  conn.on('trace', onTrace);
  conn.on('output', onOutput);
  conn.on('alert', onAlert);

  const side = (): SideTrace => {
    const err = conn.error;
    return {
      role,
      config: configSummary,
      ...(options.environment ? { environment: options.environment } : {}),
      outcome: {
        state: conn.state,
        ...(err ? { alert: err.alert, reason: err.reason, remote: err.remote } : {}),
      },
      steps: steps.map(materialise),
    };
  };

  return {
    role,
    side,
    trace(label = 'handshake'): Trace {
      return {
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        meta: { tlschart: tlschartVersion(), role, peer: meta.peer ?? 'unknown', time: meta.time ?? startTime, ...copyMeta(meta) },
        handshakes: [{ label, sides: [side()] }],
      };
    },
    stop(): void {
      conn.off('trace', onTrace);
      conn.off('output', onOutput);
      conn.off('alert', onAlert);
      inspection.unsubscribe();
      guardSinks.delete(config);
      if (Object.hasOwn(conn, 'receive') && conn.receive === receive) {
        Reflect.deleteProperty(conn, 'receive');
        const rest = buffer;
        buffer = new Uint8Array(0);
        if (rest.length > 0) void chain.then(() => original.call(conn, rest));
      }
    },
  };
}

function copyMeta(meta: Partial<Omit<TraceMeta, 'role'>>): Partial<TraceMeta> {
  const out: Partial<TraceMeta> = {};
  if (meta.scenario !== undefined) out.scenario = meta.scenario;
  if (meta.description !== undefined) out.description = meta.description;
  return out;
}

function messageOf(raw: Uint8Array, encrypted: boolean, msg: HandshakeMessage | undefined): NonNullable<TraceStep['message']> {
  const decoded =
    msg ??
    (() => {
      const d = decodeHandshake(raw);
      return d.ok ? d.value : undefined;
    })();
  return { type: decoded?.type ?? `unknown(${raw[0] ?? -1})`, encrypted, hex: toHex(raw), fields: decoded ? messageFields(decoded) : null };
}

function materialise(p: PendingStep): TraceStep {
  const c = p.ctx;
  const withEvent = c !== undefined && p.carriesEvent;
  return {
    ...p.step,
    event: c ? { id: c.id, type: c.type } : null,
    stateBefore: c ? c.stateBefore : p.state,
    stateAfter: c ? c.stateAfter : p.state,
    guards: withEvent ? [...c.guards] : [],
    transitions: withEvent ? [...c.transitions] : [],
  } as TraceStep;
}

/** Put the sides of several recorders (one handshake each) into one trace. */
export function combine(
  meta: Omit<TraceMeta, 'tlschart'> & { tlschart?: string },
  handshakes: Array<{ label: string; recorders: TraceRecorder[] }>,
): Trace {
  const hs: HandshakeTrace[] = handshakes.map((h) => ({ label: h.label, sides: h.recorders.map((r) => r.side()) }));
  const { tlschart, ...rest } = meta;
  return { format: TRACE_FORMAT, version: TRACE_VERSION, meta: { tlschart: tlschart ?? tlschartVersion(), ...rest }, handshakes: hs };
}

/**
 * Collects recorded connections into one trace: one handshake per connection
 * (a client or server talking to a real peer), or per in-process pair (both
 * sides, steps interleaved). For `--trace FILE` on connect, serve and demo.
 */
export class TraceCollector {
  private readonly entries: Array<{ label: string; recorders: TraceRecorder[] }> = [];
  private readonly roles = new Set<Role>();

  constructor(private readonly meta: { peer: string; scenario?: string; description?: string }) {}

  /** Record one side of a connection with a real peer. Call right after constructing the connection. */
  add(conn: AnyConnection, role: Role, label = `${role} connection ${this.entries.length + 1}`): TraceRecorder {
    const r = recordTo(conn, role, { peer: this.meta.peer });
    this.entries.push({ label, recorders: [r] });
    this.roles.add(role);
    return r;
  }

  /** Record both ends of an in-process connection as one handshake. */
  pair(client: ClientConnection, server: ServerConnection, label = `handshake ${this.entries.length + 1}`): [TraceRecorder, TraceRecorder] {
    const sequencer = new Sequencer();
    const rc = recordTo(client, 'client', { peer: this.meta.peer }, { sequencer });
    const rs = recordTo(server, 'server', { peer: this.meta.peer }, { sequencer });
    this.entries.push({ label, recorders: [rc, rs] });
    this.roles.add('client').add('server');
    return [rc, rs];
  }

  get size(): number {
    return this.entries.length;
  }

  trace(time: Date = new Date()): Trace {
    if (this.entries.length === 0) throw new Error('no connection was recorded');
    const role: TraceMeta['role'] = this.roles.size === 1 ? ([...this.roles][0] as Role) : 'pair';
    const meta: Omit<TraceMeta, 'tlschart'> = { role, peer: this.meta.peer, time: time.toISOString() };
    if (this.meta.scenario !== undefined) meta.scenario = this.meta.scenario;
    if (this.meta.description !== undefined) meta.description = this.meta.description;
    return combine(meta, this.entries);
  }

  /** Stop every recorder and write the trace. */
  async save(path: string, time?: Date): Promise<void> {
    for (const e of this.entries) for (const r of e.recorders) r.stop();
    await saveTrace(path, this.trace(time));
  }
}
