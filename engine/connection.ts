/**
 * Sans-IO TLS 1.3 connections: bytes in, bytes out, events. The engine glues
 * the record layer, the codec, the ticket store and the statecharts:
 *
 *   receive(bytes) → RecordLayer → decodeHandshake → (server: resolve tickets) → chart step (event)
 *   chart outbox  → RecordLayer writes / key changes → 'output' bytes
 *
 * A chart step is one call of the machine's transition function on the
 * snapshot the connection keeps, or, once an observer asked for `actor`, a
 * send to that XState actor.
 *
 * Everything runs on one serial queue so nothing is reordered, also while an
 * async ticket store is consulted.
 */
import { EventEmitter } from 'node:events';
import { type Actor, type AnyActorLogic, type AnyMachineSnapshot, createActor, type InspectionEvent } from 'xstate';
import { type ByteParts, partsLength, partsOf, toHex } from '../crypto/bytes.js';
import { exportKeyingMaterial, trafficKeys } from '../crypto/keyschedule.js';
import type { ClientContext } from '../machines/client/context.js';
import { clientMachine } from '../machines/client/machine.js';
import type { ServerContext } from '../machines/server/context.js';
import { type ClientHelloEvent, judgeClientHello } from '../machines/server/judge.js';
import { serverMachine } from '../machines/server/machine.js';
import { type ClientConfig, type Command, type Environment, MESSAGE_EVENTS, type ServerConfig, type TlsEvent } from '../machines/types.js';
import { type RecordItem, RecordLayer } from '../record/layer.js';
import type { ClientSession, ServerSessionState, TicketStore } from '../tickets/types.js';
import { AlertDescription, alertName, alertToSend, TlsError } from '../wire/alerts.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import { decodeError } from '../wire/reader.js';
import type { HandshakeMessage } from '../wire/types.js';
import { NamedGroup } from '../wire/types.js';

export interface HandshakeInfo {
  resumed: boolean;
  suite: string;
  group: string;
  alpn: string | undefined;
  serverName: string | undefined;
  peerCertificates: Uint8Array[];
}

/** One observable step of a connection, without secrets (for traces and tests). */
export type TraceEntry =
  | { kind: 'record'; direction: 'in' | 'out'; contentType: number; epoch: string; length: number }
  | { kind: 'message'; direction: 'in' | 'out'; name: string; raw: Uint8Array; msg?: HandshakeMessage; encrypted: boolean }
  | { kind: 'ccs'; direction: 'in' | 'out' }
  | { kind: 'alert'; direction: 'in' | 'out'; level: number; alert: string }
  | { kind: 'appdata'; direction: 'in' | 'out'; length: number }
  | { kind: 'earlyDataSkipped'; bytes: number }
  | { kind: 'state'; from: string; to: string; event: string }
  | { kind: 'guard'; state: string; guard: string; result: boolean; event: string }
  /** A transition the machine took: `source` state, the `eventType` it is declared under, its branch `index`. */
  | { kind: 'transition'; source: string; targets: string[]; event: string; eventType: string; guard: string | undefined; index: number };

export interface ConnectionEvents {
  /**
   * Bytes to send, in order. `more` (only with `gatherOutput` on): the next
   * 'output' continues the same write — the records of one application-data
   * batch as the chunks of one gathered write (RecordLayer.writeApplicationDataChunks);
   * a listener sends each chunk as it comes, or gathers them until one without `more`.
   */
  output: [bytes: Uint8Array, more?: boolean];
  /**
   * What 'output' gave so far should leave now, without waiting for the rest of
   * this reaction (emitted before 'handshake', so the listeners of a completed
   * handshake do not delay the flight or the tickets in front of them).
   */
  flush: [];
  handshake: [info: HandshakeInfo];
  session: [session: ClientSession];
  data: [data: Uint8Array];
  alert: [info: { alert: string; direction: 'sent' | 'received'; level: number }];
  /** The peer sent close_notify: no more data will arrive (our side may still write, then close()). */
  end: [];
  /** Both sides sent close_notify (or the handshake was abandoned with close_notify): the connection is over. */
  close: [];
  error: [error: TlsError];
  keylog: [line: string];
  trace: [entry: TraceEntry];
  /** Server: the ticket store could not keep a ticket, so it was not sent. */
  ticketNotStored: [error: Error];
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** The application used the connection wrongly (write after close, …); the connection itself is unharmed. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const GROUP_NAMES: Record<number, string> = {
  [NamedGroup.x25519]: 'x25519',
  [NamedGroup.secp256r1]: 'secp256r1',
  [NamedGroup.secp384r1]: 'secp384r1',
  [NamedGroup.X25519MLKEM768]: 'X25519MLKEM768',
};

type AnyCtx = ClientContext | ServerContext;

/**
 * Awaited before a received handshake message is given to the chart while the
 * handshake is in progress (that is when the public-key work happens: key
 * exchange, signatures, chain validation). The socket layer uses it for
 * admission control and to let a transport that closed meanwhile `abandon()`
 * the connection first. Resolves to a function to call once the chart has
 * processed the message (releasing what the gate holds), or undefined.
 */
export type HandshakeGate = (message: HandshakeMessage) => Promise<(() => void) | undefined>;

/**
 * Commands kept in the machine's outbox before the engine empties it (every action copies it).
 * Above what a handshake leaves (about 20 on either side), so a short connection takes no
 * extra chart step for it; a quiet one is emptied by its socket's timer (see compact).
 */
export const OUTBOX_COMPACT_AT = 32;
/**
 * Bytes of application data the carried-out commands in the outbox may keep
 * alive before the engine empties it: past that, data already sent or
 * delivered would outlive young-generation collections and be promoted, for
 * a full collection to free later (bulk transfers spent far more in GC).
 */
const OUTBOX_COMPACT_BYTES = 1024 * 1024;

/** What XState's ActorLogic.transition takes as its third argument (its actor scope). */
type ChartScope = Parameters<AnyActorLogic['transition']>[2];

const nothing = (): undefined => undefined;
const INERT_SYSTEM = { _sendInspectionEvent: nothing };
const runNow = (fn: () => void) => fn();
// Our charts' actions are all assigns, which XState resolves itself; anything else would run here.
const executeAction = (action: { exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) =>
  action.exec?.(action.info, action.params);

/**
 * The scope an actor would give the chart for one step (see Connection.scopeFor),
 * minus what our charts never use. A class, not a spread of shared parts: on
 * this V8 a property added to a spread copy costs about 1 µs, and there is one
 * scope per step.
 */
class StepScope {
  readonly id = '';
  readonly sessionId = '';
  readonly logger = nothing;
  readonly defer = runNow;
  readonly emit = nothing;
  readonly stopChild = nothing;
  // XState swaps this one for the duration of a microstep, hence not readonly.
  actionExecutor = executeAction;
  constructor(
    readonly self: { getSnapshot: () => AnyMachineSnapshot },
    readonly system: { _sendInspectionEvent: (ev: InspectionEvent) => void },
  ) {}
}

abstract class Connection<C extends AnyCtx> extends EventEmitter<ConnectionEvents> {
  private readonly logic: AnyActorLogic;
  /**
   * The chart's snapshot while no actor runs it: each event is one call of the
   * machine's own transition function (XState's ActorLogic.transition, the
   * step an actor takes), so a connection nobody observes carries no actor,
   * actor system, mailbox or observers (about 3.6 KB per idle connection).
   * See `actor`.
   */
  private snap: AnyMachineSnapshot;
  /** The actor, once something asked for it (see `actor`); from then on it runs the chart. */
  private live: Actor<AnyActorLogic> | undefined;
  private started = false;
  protected readonly layer: RecordLayer;
  private consumed = 0;
  /** Bytes of application data in the carried-out commands of the outbox. */
  private consumedBytes = 0;
  private queue: Promise<void> = Promise.resolve();
  private pendingWrites: ByteParts[] = [];
  private finished = false;
  private ended = false;
  /** An action or guard threw: the chart is stopped in error, the connection has failed. */
  private crashed = false;
  /** The transport went away before the handshake completed: handshake work still queued is dropped. */
  private gone = false;
  private readonly gate: HandshakeGate | undefined;
  /** The inspection observer that reports transitions is attached (see inspectTransitions). */
  private inspecting = false;
  private lastState = '';
  private writeEpoch = 'plaintext';
  /**
   * Let application data leave as several 'output' chunks of one gathered write
   * (`more`), each record's ciphertext as the provider produced it, not copied
   * into one array per batch. Off by default, so every 'output' is whole
   * records; sockets turn it on (they hand the chunks to writev as they come).
   */
  gatherOutput = false;
  /** Set when the handshake completed: what the peer and we agreed on. */
  info: HandshakeInfo | undefined;
  /**
   * Who decides whether key log lines are wanted, when a 'keylog' listener only passes them on
   * (a socket); without one, any 'keylog' listener wants them. A line costs two hex strings.
   */
  keylogConsumer: { readonly wantsKeylog: boolean } | undefined;
  /** The error that ended the connection, if any. */
  error: TlsError | undefined;

  protected constructor(
    role: 'client' | 'server',
    logic: AnyActorLogic,
    input: { env: Environment; config: ClientConfig | ServerConfig },
    gate: HandshakeGate | undefined,
  ) {
    super();
    this.gate = gate;
    const limits = input.config.limits ?? {};
    this.layer = new RecordLayer({
      role,
      provider: input.env.crypto,
      ...(limits.maxHandshakeMessage !== undefined ? { maxHandshakeMessage: limits.maxHandshakeMessage } : {}),
      ...(limits.maxHandshakeRecords !== undefined ? { maxHandshakeRecords: limits.maxHandshakeRecords } : {}),
      ...(limits.maxEmptyRecords !== undefined ? { maxEmptyRecords: limits.maxEmptyRecords } : {}),
    });
    this.layer.acceptPlaintextAlerts = true;
    this.logic = logic;
    const snap = logic.getInitialSnapshot(this.scopeFor(), input) as AnyMachineSnapshot;
    // XState makes the initial context by Object.assign into an empty object, which on this V8
    // leaves a dictionary-mode object that every later assign copies slowly (into a dictionary
    // again); a spread copy has a fast map, and XState's later copies keep it.
    snap.context = { ...snap.context };
    this.snap = snap;
  }

  /**
   * The chart as an XState actor, for observers (trace recorders, inspectors,
   * property suites): made on first use from the snapshot the connection has
   * reached, and from then on every event goes through it.
   */
  get actor(): Actor<AnyActorLogic> {
    if (this.live === undefined) {
      const actor = createActor(this.logic, { snapshot: this.snap });
      // Without an error observer XState rethrows an action's exception as an uncaught
      // exception; afterEvent() turns it into internal_error instead.
      actor.subscribe({ error: () => undefined });
      this.live = actor;
      // Transitions already reported from the machine's own steps go on being reported from the actor.
      if (this.inspecting) actor.system.inspect((ev: InspectionEvent) => this.inspect(ev));
      if (this.started) actor.start();
    }
    return this.live;
  }

  /** The chart's snapshot right now. */
  private get snapshot(): AnyMachineSnapshot {
    return (this.live ? this.live.getSnapshot() : this.snap) as AnyMachineSnapshot;
  }

  /** The machine's context right now. */
  get context(): C {
    return this.snapshot.context as C;
  }

  /** The machine's state name right now (`failed` also when the chart itself threw). */
  get state(): string {
    if (this.crashed) return 'failed';
    const v = this.snapshot.value;
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  /** One event for the chart: through the actor if there is one, else one step of the machine. */
  private step(event: TlsEvent | { type: 'engine.drained' }): void {
    if (this.live) this.live.send(event);
    else this.snap = this.logic.transition(this.snap, event, this.scopeFor()) as AnyMachineSnapshot;
  }

  /**
   * The scope an actor would give the chart for one step, minus what our charts
   * never use (children, delayed or emitted events): `self` answers
   * getSnapshot() with the snapshot the step starts from, and the step's
   * inspection events reach inspect() only while traced. Made per step, so an
   * idle connection keeps none.
   */
  private scopeFor(): ChartScope {
    const snap = this.snap;
    const self = { getSnapshot: () => snap };
    // While traced, the step's microsteps are reported as an actor's inspection would report them.
    const system = this.inspecting ? { _sendInspectionEvent: (ev: InspectionEvent) => this.inspect(ev) } : INERT_SYSTEM;
    return new StepScope(self, system) as unknown as ChartScope;
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Whether records we write are protected (handshake or application keys are in use), so an alert we send is encrypted. */
  get hasWriteKeys(): boolean {
    return this.writeEpoch !== 'plaintext';
  }

  /** Whether `abandon()` was called before the handshake completed. */
  get abandoned(): boolean {
    return this.gone;
  }

  /**
   * The transport is gone (the peer closed or reset it) before the handshake
   * completed: handshake messages received but not yet processed are dropped,
   * so no key exchange or signature is computed for a peer that can no longer
   * read the answer. Alerts already received are still reported. Takes effect
   * at once, for jobs already queued too. No-op after the handshake.
   */
  abandon(): void {
    if (this.info === undefined) this.gone = true;
  }

  protected start(): void {
    this.lastState = this.state;
    this.started = true;
    this.live?.start();
    void this.run(async () => this.afterEvent());
  }

  /**
   * Feed bytes received from the peer. Resolves when they have been processed.
   * `owned`: the caller never touches `bytes` again (a socket's fresh read
   * buffer), so the record layer keeps them without copying. Several chunks
   * given at once (reads that arrived together) are processed as one stream:
   * the application data records among them reach the chart as one event.
   */
  receive(bytes: ByteParts, options: { owned?: boolean } = {}): Promise<void> {
    return this.run(async () => {
      if (this.finished) return;
      for (const chunk of partsOf(bytes)) this.layer.receive(chunk, options.owned === true);
      await this.pump();
    });
  }

  /**
   * Queue application data; sent once the handshake is complete. Several
   * arrays (writes queued together) go to the chart as one write and are cut
   * into full records as if joined, without being joined.
   */
  write(data: ByteParts): Promise<void> {
    return this.run(async () => {
      if (this.finished || this.context.closeNotifySent) throw new UsageError('write after close_notify was sent');
      if (!this.isConnected) {
        this.pendingWrites.push(data);
        return;
      }
      await this.send({ type: 'app.write', data });
    });
  }

  /** Send close_notify. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.finished) return;
      await this.send({ type: 'app.close' });
    });
  }

  /** Update our traffic keys (RFC 8446 §4.6.3), optionally asking the peer to update too. */
  keyUpdate(requestPeerUpdate = false): Promise<void> {
    return this.run(async () => {
      if (!this.isConnected) throw new UsageError('KeyUpdate before the handshake completed');
      await this.send({ type: 'app.keyUpdate', requestPeerUpdate });
    });
  }

  /** RFC 8446 §7.5 exporter; available once connected. */
  exportKeyingMaterial(label: string, context: Uint8Array | undefined, length: number): Uint8Array {
    const ctx = this.context;
    if (!ctx.suite || !ctx.exporterSecret || !this.isConnected) {
      throw new UsageError('keying material can be exported only after the handshake');
    }
    return exportKeyingMaterial(ctx.suite, ctx.exporterSecret, label, context, length, ctx.env.crypto);
  }

  /**
   * Deliver an event as if the engine had decoded it from the wire (for
   * conformance probes and tests that need a message the codec cannot produce).
   */
  inject(event: TlsEvent): Promise<void> {
    return this.run(async () => this.send(event));
  }

  /**
   * Drop the commands the engine already carried out from the machine's outbox
   * (application data, tickets, the handshake flight), so a connection that goes
   * quiet keeps none of them alive. The outbox is also emptied every 16 commands;
   * the socket layer calls this once a connection has been quiet for a moment.
   */
  compact(): Promise<void> {
    return this.run(async () => {
      if (this.finished || this.consumed === 0 || this.snapshot.status !== 'active') return;
      this.step({ type: 'engine.drained' });
      this.consumed = 0;
      this.consumedBytes = 0;
    });
  }

  /** Wait until everything queued so far has been processed. */
  settled(): Promise<void> {
    return this.run(async () => undefined);
  }

  /**
   * Run a job on the serial queue. A misuse by the caller (write after close, …)
   * rejects that call only; any other exception is a bug inside the charts or the
   * engine: the connection fails with internal_error (the 'error' event) and the
   * call resolves, so nothing escapes as an unhandled rejection.
   */
  private run(job: () => Promise<void>): Promise<void> {
    const settled = this.queue.then(job).catch((e: unknown) => {
      if (e instanceof UsageError) throw e;
      this.crash(e);
    });
    this.queue = settled.catch(() => undefined);
    return settled;
  }

  /** An exception from the machine or the engine: a bug, reported as internal_error. */
  private crash(e: unknown): void {
    if (this.finished) return;
    this.crashed = true;
    const error = e instanceof TlsError ? e : new TlsError('internal_error', 'InternalError', e instanceof Error ? e.message : String(e));
    this.fatal(error);
  }

  private fatal(error: TlsError): void {
    if (this.finished) return;
    this.finished = true;
    this.error = error;
    if (!error.remote) {
      const desc = AlertDescription[alertToSend(error)];
      this.emitOutput(this.layer.writeAlert(2, desc), 21);
      this.emit('alert', { alert: error.alert, direction: 'sent', level: 2 });
    }
    this.live?.stop();
    this.emit('error', error);
  }

  private async pump(): Promise<void> {
    let carried: RecordItem | undefined;
    for (;;) {
      if (this.finished) return;
      const item = carried ?? this.layer.next();
      carried = undefined;
      if (!item) return;
      switch (item.kind) {
        case 'handshake':
          await this.onHandshakeMessage(item.raw, item.encrypted);
          break;
        case 'alert':
          this.trace({ kind: 'alert', direction: 'in', level: item.level, alert: alertName(item.description) });
          this.emit('alert', { alert: alertName(item.description), direction: 'received', level: item.level });
          await this.send({ type: 'recv.Alert', level: item.level, description: item.description });
          break;
        case 'application_data': {
          // Records of application data that arrived together reach the chart as one event
          // (one XState step, not one per record), their contents in order and not joined (no
          // copy); the first other item waits for the next turn.
          let data: ByteParts = item.data;
          let next = this.layer.next();
          if (next?.kind === 'application_data') {
            const parts = [item.data];
            while (next?.kind === 'application_data') {
              parts.push(next.data);
              next = this.layer.next();
            }
            data = parts;
          }
          carried = next;
          if (this.tracing) this.trace({ kind: 'appdata', direction: 'in', length: partsLength(data) });
          await this.send({ type: 'recv.ApplicationData', data });
          break;
        }
        case 'change_cipher_spec':
          this.trace({ kind: 'ccs', direction: 'in' });
          await this.send({ type: 'recv.ChangeCipherSpec' });
          break;
        case 'early_data_skipped':
          this.trace({ kind: 'earlyDataSkipped', bytes: item.bytes });
          break;
        case 'error':
          await this.send({ type: 'recv.Malformed', error: item.error });
          return;
      }
    }
  }

  private async onHandshakeMessage(raw: Uint8Array, encrypted: boolean): Promise<void> {
    const hashLen = this.context.suite?.hashLen;
    const decoded = decodeHandshake(raw, hashLen === undefined ? {} : { hashLen });
    if (!decoded.ok) {
      const f = decoded.error;
      await this.send({ type: 'recv.Malformed', error: decodeError(f) });
      return;
    }
    const msg = decoded.value;
    if (this.gone) return;
    const release = this.gate !== undefined && this.info === undefined ? await this.gate(msg) : undefined;
    try {
      if (this.gone) return;
      this.trace({ kind: 'message', direction: 'in', name: msg.type, raw, msg, encrypted });
      const event = await this.eventFor(msg);
      // A ticket store may have taken a while: look again before the chart does the work.
      if (this.gone) return;
      await this.send(event);
    } finally {
      release?.();
    }
  }

  /** The event for a decoded message; the server overrides this to resolve tickets. */
  protected async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    return { type: MESSAGE_EVENTS[msg.type], msg } as TlsEvent;
  }

  protected async send(event: TlsEvent): Promise<void> {
    if (this.finished) return;
    if (!this.inspecting && this.listenerCount('trace') > 0) this.inspectTransitions();
    this.step(event);
    const waiting = this.afterEvent(event.type);
    if (waiting !== undefined) await waiting;
  }

  /**
   * Carry out the commands the machine left, then report state changes and the end.
   * Synchronous while the commands are, as nearly all are (no promise, no microtask per
   * command); a promise only once one waits: a ticket store that answers later, or the
   * writes queued during the handshake.
   */
  private afterEvent(eventType = 'init'): Promise<void> | undefined {
    const snap = this.snapshot;
    if (snap.status === 'error') throw snap.error;
    const ctx = snap.context as C;
    const cmds = ctx.outbox.slice(this.consumed);
    this.consumed = ctx.outbox.length;
    const now = this.state;
    if (now !== this.lastState) {
      this.trace({ kind: 'state', from: this.lastState, to: now, event: eventType });
      this.lastState = now;
    }
    for (let i = 0; i < cmds.length; i++) {
      const waiting = this.execute(cmds[i] as Command, ctx);
      if (waiting !== undefined) return this.resumeCommands(waiting, cmds, i + 1, snap, ctx, now);
    }
    this.afterCommands(snap, ctx, now);
    return undefined;
  }

  /** The rest of afterEvent once a command waits: the later commands in order, then the end checks. */
  private async resumeCommands(
    waiting: Promise<void>,
    cmds: Command[],
    from: number,
    snap: AnyMachineSnapshot,
    ctx: C,
    now: string,
  ): Promise<void> {
    await waiting;
    for (let i = from; i < cmds.length; i++) await this.execute(cmds[i] as Command, ctx);
    this.afterCommands(snap, ctx, now);
  }

  /** After the commands of a step: the end of the connection, or dropping what was carried out. */
  private afterCommands(snap: AnyMachineSnapshot, ctx: C, now: string): void {
    if (now === 'failed') {
      const error = ctx.error ?? new TlsError('internal_error', 'InconsistentGuard', 'the chart reached failed without an error');
      this.finished = true;
      this.error = error;
      this.emit('error', error);
      return;
    }
    if (now === 'closed') {
      if (!this.finished) {
        this.finished = true;
        this.emit('close');
      }
      return;
    }
    if ((ctx.outbox.length > OUTBOX_COMPACT_AT || this.consumedBytes > OUTBOX_COMPACT_BYTES) && snap.status === 'active') {
      // Commands already carried out are dropped so a busy connection does not grow (and see compact).
      this.step({ type: 'engine.drained' });
      this.consumed = 0;
      this.consumedBytes = 0;
    }
  }

  /** One command; a promise only when it has to wait (see afterEvent). */
  private execute(cmd: Command, ctx: C): Promise<void> | undefined {
    switch (cmd.kind) {
      case 'sendHandshake':
        this.trace({ kind: 'message', direction: 'out', name: cmd.name, raw: cmd.raw, encrypted: this.writeEpoch !== 'plaintext' });
        this.emitOutput(this.layer.writeHandshake(cmd.raw), 22);
        break;
      case 'sendChangeCipherSpec':
        this.trace({ kind: 'ccs', direction: 'out' });
        this.emitOutput(this.layer.writeChangeCipherSpec(), 20);
        break;
      case 'sendAlert':
        this.trace({ kind: 'alert', direction: 'out', level: cmd.level, alert: cmd.alert });
        this.emitOutput(this.layer.writeAlert(cmd.level, AlertDescription[cmd.alert]), 21);
        this.emit('alert', { alert: cmd.alert, direction: 'sent', level: cmd.level });
        break;
      case 'sendApplicationData': {
        const length = partsLength(cmd.data);
        this.consumedBytes += length;
        this.trace({ kind: 'appdata', direction: 'out', length });
        // With gatherOutput, as the chunks of one gathered write (the ciphertext is not copied into one array).
        if (this.gatherOutput) this.emitOutputChunks(this.layer.writeApplicationDataChunks(cmd.data), 23);
        else this.emitOutput(this.layer.writeApplicationData(cmd.data), 23);
        break;
      }
      case 'setReadKeys':
        this.layer.setReadKeys(cmd.suite, trafficKeys(cmd.suite, cmd.secret, ctx.env.crypto), cmd.epoch);
        break;
      case 'setWriteKeys':
        this.layer.setWriteKeys(cmd.suite, trafficKeys(cmd.suite, cmd.secret, ctx.env.crypto), cmd.epoch);
        this.writeEpoch = cmd.epoch;
        break;
      case 'skipEarlyData':
        this.layer.skipEarlyData(cmd.limit);
        break;
      case 'stopSkippingEarlyData':
        this.layer.stopSkippingEarlyData();
        break;
      case 'deliver':
        this.consumedBytes += partsLength(cmd.data);
        // The records of a burst are handed on one by one, as they were opened (an empty record as nothing).
        if (cmd.data instanceof Uint8Array) this.emit('data', cmd.data);
        else for (const part of cmd.data) if (part.length > 0) this.emit('data', part);
        break;
      case 'storeTicket': {
        // A store that answers at once (the in-memory one) costs no turn of the event loop: the
        // tickets leave in the same flush as the reaction to the client Finished. A ticket the
        // store could not keep is not sent: the client could never use it.
        const stored = this.storeTicket(cmd.ticket, cmd.state);
        if (isThenable(stored)) return stored.then((ok) => (ok ? this.sendTicket(cmd.raw) : undefined));
        if (stored === true) this.sendTicket(cmd.raw);
        break;
      }
      case 'keepTicket': {
        // Its NewSessionTicket left with the server's flight (early tickets); a ticket the store could
        // not keep resumes nothing, and the client falls back to a full handshake when it offers it.
        const stored = this.storeTicket(cmd.ticket, cmd.state);
        if (isThenable(stored)) return stored.then(() => undefined);
        break;
      }
      case 'sessionTicket':
        this.emit('session', cmd.session);
        break;
      case 'handshakeComplete':
        this.layer.acceptPlaintextAlerts = false;
        this.info = this.handshakeInfo(ctx);
        this.emit('flush');
        this.emit('handshake', this.info);
        return this.pendingWrites.length > 0 ? this.flushPendingWrites() : undefined;
      case 'peerClosed':
        this.emitEnd();
        break;
      case 'keylog':
        if (this.listenerCount('keylog') > 0 && this.keylogConsumer?.wantsKeylog !== false)
          this.emit('keylog', `${cmd.label} ${toHex(ctx.clientRandom)} ${toHex(cmd.secret)}\n`);
        break;
    }
  }

  /** The peer's close_notify: nothing more will be read. Emitted at most once. */
  private emitEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  private sendTicket(raw: Uint8Array): void {
    this.trace({ kind: 'message', direction: 'out', name: 'new_session_ticket', raw, encrypted: true });
    this.emitOutput(this.layer.writeHandshake(raw), 22);
  }

  private async flushPendingWrites(): Promise<void> {
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    for (const data of writes) await this.send({ type: 'app.write', data });
  }

  /** Keep a ticket's state; true (or a promise of true) once stored, false when it could not be. */
  protected storeTicket(_ticket: Uint8Array, _state: ServerSessionState): boolean | Promise<boolean> {
    throw new Error('this connection cannot store tickets');
  }

  protected abstract handshakeInfo(ctx: C): HandshakeInfo;

  private emitOutput(bytes: Uint8Array, contentType: number): void {
    if (bytes.length === 0) return;
    this.trace({ kind: 'record', direction: 'out', contentType, epoch: this.writeEpoch, length: bytes.length });
    this.emit('output', bytes);
  }

  /** emitOutput for bytes given as consecutive chunks: one 'record' trace entry, one 'output' per chunk. */
  private emitOutputChunks(chunks: readonly Uint8Array[], contentType: number): void {
    if (chunks.length === 1) {
      this.emitOutput(chunks[0] as Uint8Array, contentType);
      return;
    }
    if (this.tracing) this.trace({ kind: 'record', direction: 'out', contentType, epoch: this.writeEpoch, length: partsLength(chunks) });
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) this.emit('output', chunks[i] as Uint8Array, i < last);
  }

  protected trace(entry: TraceEntry): void {
    if (this.tracing) this.emit('trace', entry);
  }

  /** Whether anyone listens to 'trace' (so an entry that costs something to build is worth building). */
  private get tracing(): boolean {
    return this.listenerCount('trace') > 0;
  }

  /**
   * Report the chart's transitions as 'transition' trace entries, from now on.
   * Attached before the first event sent while a 'trace' listener exists, so a
   * connection nobody traces makes XState build no inspection events at all.
   * (No listener can exist when the chart starts, in the constructor.)
   */
  private inspectTransitions(): void {
    if (this.inspecting) return;
    this.inspecting = true;
    // Without an actor, scopeFor() routes each step's inspection events here.
    this.live?.system.inspect((ev: InspectionEvent) => this.inspect(ev));
  }

  private inspect(ev: InspectionEvent): void {
    if (ev.type !== '@xstate.microstep' || this.listenerCount('trace') === 0) return;
    // An actor's system also reports the actors it holds; only this chart's steps count.
    if (this.live !== undefined && ev.actorRef !== this.live) return;
    const transitions = (
      ev as unknown as {
        _transitions: Array<{ source: { id: string; path: string[] }; target?: Array<{ id: string }>; guard?: unknown; eventType: string }>;
      }
    )._transitions;
    for (const t of transitions) {
      const source = t.source.path.join('.') || '(root)';
      const candidates = (t.source as unknown as { on?: Record<string, unknown[]> }).on?.[t.eventType] ?? [];
      this.trace({
        kind: 'transition',
        source,
        targets: (t.target ?? []).map((x) => x.id),
        event: ev.event.type,
        eventType: t.eventType,
        guard: guardName(t.guard),
        index: candidates.indexOf(t),
      });
    }
  }
}

export function guardName(g: unknown): string | undefined {
  if (g === undefined) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && g !== null && 'type' in g) {
    const o = g as { type: string; params?: unknown };
    return o.type;
  }
  if (typeof g === 'function') {
    const f = g as { check?: unknown; guards?: unknown[]; name?: string };
    if (Array.isArray(f.guards)) return f.guards.map(guardName).join('&');
    return f.name;
  }
  return undefined;
}

// ---------------------------------------------------------------- client

export interface ClientOptions extends ClientConfig {
  env: Environment;
  /** See HandshakeGate. */
  gate?: HandshakeGate | undefined;
  /** Another implementation of the client chart (`clientMachine.provide(...)`): for conformance probes and mutants. */
  machine?: typeof clientMachine;
}

export class ClientConnection extends Connection<ClientContext> {
  constructor(options: ClientOptions) {
    const { env, machine, gate, ...config } = options;
    super('client', machine ?? clientMachine, { config, env }, gate);
    this.start();
  }

  protected handshakeInfo(ctx: ClientContext): HandshakeInfo {
    return {
      resumed: ctx.resumed,
      suite: ctx.suite?.name ?? '',
      group: GROUP_NAMES[ctx.group ?? -1] ?? String(ctx.group),
      alpn: ctx.alpn,
      serverName: ctx.config.serverName,
      peerCertificates: ctx.peerChain,
    };
  }
}

// ---------------------------------------------------------------- server

export interface ServerOptions extends ServerConfig {
  env: Environment;
  /** See HandshakeGate. */
  gate?: HandshakeGate | undefined;
  ticketStore: TicketStore;
  /** Another implementation of the server chart (`serverMachine.provide(...)`): for conformance probes and mutants. */
  machine?: typeof serverMachine;
}

export class ServerConnection extends Connection<ServerContext> {
  private readonly store: TicketStore;

  constructor(options: ServerOptions) {
    const { env, ticketStore, machine, gate, ...config } = options;
    super('server', machine ?? serverMachine, { config, env }, gate);
    this.store = ticketStore;
    this.start();
  }

  /**
   * The chart awaits a ClientHello (the first, or the second after a HelloRetryRequest): one
   * now starts the handshake's public-key work. In any other state a ClientHello is refused at
   * once (unexpected_message), for nothing.
   */
  get awaitsClientHello(): boolean {
    const s = this.state;
    return s === 'expectClientHello' || s === 'expectSecondClientHello';
  }

  /**
   * Before the ClientHello reaches the machine (tickets/types.ts, the store contract):
   * look every offered identity up without removing it; judge the hello as the chart
   * will; only when that verdict resumes with a verified binder, take the selected
   * ticket. A take that finds nothing (another connection took it first) drops that
   * ticket from the event, and the hello is judged again: another identity, or a full
   * handshake — never a resumption on a ticket this connection does not hold.
   */
  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    if (msg.type !== 'client_hello') return super.eventFor(msg);
    const identities = findExtension(msg.extensions, 'pre_shared_key_client')?.identities ?? [];
    const tickets: (ServerSessionState | undefined)[] = [];
    for (const id of identities) {
      const found = this.store.get(id.identity);
      tickets.push(isThenable(found) ? await found : found);
    }
    let event: ClientHelloEvent = { type: 'recv.ClientHello', msg, tickets };
    // A ClientHello out of place is unexpected_message: nothing is taken for it.
    if (this.state !== 'expectClientHello' && this.state !== 'expectSecondClientHello') return event;
    for (;;) {
      const verdict = judgeClientHello(this.context, event);
      if (verdict.kind !== 'resume') return event;
      const identity = identities[verdict.psk.index]?.identity;
      const taken = identity && this.store.take(identity);
      if (taken && (isThenable(taken) ? await taken : taken)) return event;
      event = { ...event, tickets: event.tickets.map((t, i) => (i === verdict.psk.index ? undefined : t)) };
    }
  }

  protected override storeTicket(ticket: Uint8Array, state: ServerSessionState): boolean | Promise<boolean> {
    try {
      // Whether this connection resumed tells the store whose ticket it is keeping (see TicketIssue).
      const put = this.store.put(ticket, state, { resumed: this.context.resumed });
      return isThenable(put)
        ? put.then(
            () => true,
            (e: unknown) => this.ticketNotStored(e),
          )
        : true;
    } catch (e) {
      return this.ticketNotStored(e);
    }
  }

  /** The store refused a ticket: it is not sent, the connection goes on (the store reports its own failures). */
  private ticketNotStored(e: unknown): false {
    this.emit('ticketNotStored', e instanceof Error ? e : new Error(String(e)));
    return false;
  }

  protected handshakeInfo(ctx: ServerContext): HandshakeInfo {
    return {
      resumed: ctx.resumed,
      suite: ctx.suite?.name ?? '',
      group: GROUP_NAMES[ctx.group ?? -1] ?? String(ctx.group),
      alpn: ctx.alpn,
      serverName: ctx.serverName,
      peerCertificates: ctx.peerChain,
    };
  }
}
