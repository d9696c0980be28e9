/**
 * Level (a): the statecharts as pure functions. `initialTransition` and
 * `transition` from xstate fold events over a snapshot without an actor; a
 * "pure pair" plays a client chart against a server chart by turning each
 * side's outbox commands into the other side's events (what the engine does,
 * minus records and bytes), and records every event each side received.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { initialTransition, transition } from 'xstate';
import { concat, toHex, utf8 } from '../../crypto/bytes.js';
import { nobleProvider } from '../../crypto/noble.js';
import type { ClientContext, ClientInput } from '../../machines/client/context.js';
import { clientMachine } from '../../machines/client/machine.js';
import type { ServerContext, ServerInput } from '../../machines/server/context.js';
import { serverMachine } from '../../machines/server/machine.js';
import { type Command, type Environment, MESSAGE_EVENTS, type TlsEvent } from '../../machines/types.js';
import type { ClientSession, ServerSessionState } from '../../tickets/types.js';
import { AlertDescription } from '../../wire/alerts.js';
import { decodeHandshake } from '../../wire/handshake.js';
import { decodeError } from '../../wire/reader.js';
import type { HandshakeMessage } from '../../wire/types.js';

export type ClientChart = typeof clientMachine;
export type ServerChart = typeof serverMachine;
export type AnyChart = ClientChart | ServerChart;
export type Snapshot = ReturnType<ClientChart['transition']> | ReturnType<ServerChart['transition']>;
export type ClientSnapshot = ReturnType<ClientChart['transition']>;
export type ServerSnapshot = ReturnType<ServerChart['transition']>;

/**
 * Randomness that depends only on (seed, n): the same request gives the same
 * bytes on every path, so a message recorded on one run is valid on every
 * other run that reaches the same point. (Freshness across connections is
 * the environment's job and is checked at the engine level.)
 */
export function statelessEnvironment(seed: string, nowMs: number): Environment {
  const base = utf8(seed);
  return {
    random(n) {
      const blocks: Uint8Array[] = [];
      for (let i = 0; blocks.length * 32 < n; i++) blocks.push(sha256(concat(base, Uint8Array.of(n >> 8, n & 0xff, i))));
      return concat(...blocks).slice(0, n);
    },
    now: () => nowMs,
    crypto: nobleProvider,
  };
}

export interface Stepped<S> {
  snapshot: S;
  /** An exception that escaped the machine (a bug: every failure must be a state). */
  thrown: unknown;
}

/** One pure transition; an exception is caught and reported, the snapshot is left as it was. */
export function step<S extends Snapshot>(machine: AnyChart, snapshot: S, event: TlsEvent): Stepped<S> {
  try {
    const [next] = transition(machine as ClientChart, snapshot as ClientSnapshot, event);
    if (next.status === 'error') return { snapshot: next as S, thrown: next.error ?? new Error('error status') };
    return { snapshot: next as S, thrown: undefined };
  } catch (e) {
    return { snapshot, thrown: e };
  }
}

export function startClient(machine: ClientChart, input: ClientInput): ClientSnapshot {
  return initialTransition(machine, input)[0];
}

export function startServer(machine: ServerChart, input: ServerInput): ServerSnapshot {
  return initialTransition(machine, input)[0];
}

export const stateOf = (s: Snapshot): string => {
  const v: unknown = s.value;
  return typeof v === 'string' ? v : JSON.stringify(v);
};

/** The event the engine would send for `raw` (decoded as the receiver would), or recv.Malformed. */
export function eventForRaw(raw: Uint8Array, hashLen: number | undefined, tickets: (ServerSessionState | undefined)[] = []): TlsEvent {
  const d = decodeHandshake(raw, hashLen === undefined ? {} : { hashLen });
  if (!d.ok) {
    return { type: 'recv.Malformed', error: decodeError(d.error) };
  }
  return eventForMessage(d.value, tickets);
}

export function eventForMessage(msg: HandshakeMessage, tickets: (ServerSessionState | undefined)[] = []): TlsEvent {
  if (msg.type === 'client_hello') return { type: 'recv.ClientHello', msg, tickets };
  return { type: MESSAGE_EVENTS[msg.type], msg } as TlsEvent;
}

/** A recorded delivery: the event and the receiver's state just before it. */
export interface Delivery {
  event: TlsEvent;
  state: string;
}

export interface PurePairOptions {
  client: ClientInput;
  server: ServerInput;
  clientMachine?: ClientChart;
  serverMachine?: ServerChart;
  /** Server ticket store (hex ticket → state); taken on use, as the engine does. */
  store?: Map<string, ServerSessionState>;
  /** Overrides what the store lookup finds for an identity. */
  resolve?: (identity: Uint8Array, found: ServerSessionState | undefined) => ServerSessionState | undefined;
  /** Application events to apply once the handshake is quiet, in order. */
  after?: Array<{ side: 'client' | 'server'; event: TlsEvent }>;
}

export interface PureRun {
  client: ClientSnapshot;
  server: ServerSnapshot;
  toClient: Delivery[];
  toServer: Delivery[];
  sessions: ClientSession[];
  store: Map<string, ServerSessionState>;
  thrown: unknown;
}

/** Commands → events for the peer (ticket storage is done here, like the engine's storeTicket). */
function commandsToEvents(
  cmds: readonly Command[],
  store: Map<string, ServerSessionState>,
  sessions: ClientSession[],
): Array<TlsEvent | Uint8Array> {
  const out: Array<TlsEvent | Uint8Array> = [];
  for (const c of cmds) {
    switch (c.kind) {
      case 'sendHandshake':
        out.push(c.raw);
        break;
      case 'sendChangeCipherSpec':
        out.push({ type: 'recv.ChangeCipherSpec' });
        break;
      case 'sendAlert':
        out.push({ type: 'recv.Alert', level: c.level, description: AlertDescription[c.alert] });
        break;
      case 'sendApplicationData':
        out.push({ type: 'recv.ApplicationData', data: c.data });
        break;
      case 'storeTicket':
        store.set(toHex(c.ticket), c.state);
        out.push(c.raw);
        break;
      case 'keepTicket':
        store.set(toHex(c.ticket), c.state);
        break;
      case 'sessionTicket':
        sessions.push(c.session);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Play a client chart against a server chart until both are quiet. */
export function runPurePair(opts: PurePairOptions): PureRun {
  const cm = opts.clientMachine ?? clientMachine;
  const sm = opts.serverMachine ?? serverMachine;
  const store = opts.store ?? new Map<string, ServerSessionState>();
  const resolved = new Map<string, ServerSessionState | undefined>();
  const sessions: ClientSession[] = [];
  let client = startClient(cm, opts.client);
  let server = startServer(sm, opts.server);
  const toClient: Delivery[] = [];
  const toServer: Delivery[] = [];
  let usedC = 0;
  let usedS = 0;
  let thrown: unknown;

  const ticketsFor = (msg: HandshakeMessage) => {
    if (msg.type !== 'client_hello') return [];
    const psk = msg.extensions.find((e) => e.type === 'pre_shared_key_client');
    if (psk?.type !== 'pre_shared_key_client') return [];
    return psk.identities.map((id) => {
      const key = toHex(id.identity);
      if (!resolved.has(key)) {
        const found = store.get(key);
        store.delete(key);
        resolved.set(key, opts.resolve ? opts.resolve(id.identity, found) : found);
      }
      return resolved.get(key);
    });
  };

  const toEvent = (item: TlsEvent | Uint8Array, hashLen: number | undefined): TlsEvent => {
    if (!(item instanceof Uint8Array)) return item;
    const d = decodeHandshake(item, hashLen === undefined ? {} : { hashLen });
    if (!d.ok) return { type: 'recv.Malformed', error: decodeError(d.error) };
    return eventForMessage(d.value, ticketsFor(d.value));
  };

  const pump = (): boolean => {
    let progressed = false;
    for (let guard = 0; guard < 100 && thrown === undefined; guard++) {
      const cOut = (client.context as ClientContext).outbox.slice(usedC);
      usedC += cOut.length;
      const sOut = (server.context as ServerContext).outbox.slice(usedS);
      usedS += sOut.length;
      if (cOut.length === 0 && sOut.length === 0) break;
      progressed = true;
      for (const item of commandsToEvents(cOut, store, sessions)) {
        if (server.status !== 'active') break;
        const ev = toEvent(item, (server.context as ServerContext).suite?.hashLen);
        toServer.push({ event: ev, state: stateOf(server) });
        const r = step(sm, server, ev);
        server = r.snapshot;
        thrown ??= r.thrown;
      }
      for (const item of commandsToEvents(sOut, store, sessions)) {
        if (client.status !== 'active') break;
        const ev = toEvent(item, (client.context as ClientContext).suite?.hashLen);
        toClient.push({ event: ev, state: stateOf(client) });
        const r = step(cm, client, ev);
        client = r.snapshot;
        thrown ??= r.thrown;
      }
    }
    return progressed;
  };

  pump();
  for (const a of opts.after ?? []) {
    if (a.side === 'client') {
      const r = step(cm, client, a.event);
      client = r.snapshot;
      thrown ??= r.thrown;
    } else {
      const r = step(sm, server, a.event);
      server = r.snapshot;
      thrown ??= r.thrown;
    }
    pump();
  }
  return { client, server, toClient, toServer, sessions, store, thrown };
}
