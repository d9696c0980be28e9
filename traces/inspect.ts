/**
 * XState inspection without key material.
 *
 * `sanitise` turns a context, event or snapshot into plain JSON that keeps
 * what helps a person follow the handshake (states, message fields, public
 * bytes as hex) and drops every secret: traffic and stage secrets, PSKs,
 * (EC)DHE and signing private keys, witnesses' internals, application data
 * (length only). Unknown byte strings are shown by length only: bytes become
 * hex only under names known to be public (messages, randoms, certificates…).
 *
 * `attachInspector(conn, inspect)` adds an inspector to a running connection
 * (XState's `actor.system.inspect`), sanitising every inspection event first;
 * it announces the actor and its current snapshot so an inspector attached
 * after the constructor (where the engine creates and starts the actor) still
 * knows it. `createWebSocketInspectorFor(conn)` does the same for Stately's
 * WebSocket inspector (@statelyai/inspect).
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer, Subscription } from 'xstate';
import { toHex } from '../crypto/bytes.js';
import { TlsError } from '../wire/alerts.js';
import { isKnownHandshakeType } from '../wire/handshake.js';
import { type HandshakeMessage, HandshakeType } from '../wire/types.js';
import { messageFields } from './format.js';
import type { AnyConnection } from './recorder.js';

export const REDACTED = '[redacted]';

/** Names whose values are key material, whatever their type. */
const SECRET_NAME = /secret|psk|private|signing|binderKey|^keys?$|keyPair|^keyShares$|^env$/i;

/** Names whose bytes are public (they cross the wire or identify a certificate). */
const PUBLIC_BYTES = new Set([
  'raw',
  'random',
  'clientRandom',
  'legacySessionId',
  'legacySessionIdEcho',
  'transcript',
  'keyExchange',
  'publicKey',
  'identity',
  'ticket',
  'ticketNonce',
  'binders',
  'verifyData',
  'signature',
  'certData',
  'cookie',
  'chain',
  'peerChain',
  'peerCertificates',
  'clientCertificates',
  'spki',
  'peerSpki',
  'leafSpki',
  'transcriptHash',
]);

const HANDSHAKE_NAMES = new Set(Object.keys(HandshakeType));

function isMessage(v: object): v is HandshakeMessage {
  const m = v as { type?: unknown; raw?: unknown };
  return typeof m.type === 'string' && HANDSHAKE_NAMES.has(m.type) && m.raw instanceof Uint8Array && isKnownHandshakeType(m.raw[0] ?? -1);
}

/** A JSON copy of `value` without key material (see the module comment for the rules). */
export function sanitise(value: unknown, name = '', depth = 0): unknown {
  if (name !== '' && SECRET_NAME.test(name)) return value === undefined ? undefined : REDACTED;
  if (value === null || value === undefined) return value;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return value;
  if (depth > 12) return '[…]';
  if (value instanceof Uint8Array) return PUBLIC_BYTES.has(name) ? toHex(value) : `[${value.length} bytes]`;
  if (value instanceof TlsError)
    return { name: 'TlsError', alert: value.alert, reason: value.reason, message: value.message, remote: value.remote };
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((x) => sanitise(x, name, depth + 1));
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => [sanitise(k, '', depth + 1), sanitise(v, String(k), depth + 1)]);
  if (value instanceof Set) return [...value].map((x) => sanitise(x, name, depth + 1));
  if (isMessage(value)) return { ...(messageFields(value) as object), raw: toHex(value.raw) };
  const kind = (value as { kind?: unknown }).kind;
  // Witnesses (FinishedVerified, BinderVerified, SignatureVerified): say that they exist, nothing else.
  if (typeof kind === 'string' && kind.endsWith('Verified')) return { kind };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const s = sanitise(v, k, depth + 1);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

interface SnapshotLike {
  status?: string;
  value?: unknown;
  context?: unknown;
  error?: unknown;
  output?: unknown;
}

function sanitiseSnapshot(s: unknown): SnapshotLike {
  const snap = (s ?? {}) as SnapshotLike;
  return {
    status: snap.status ?? 'active',
    value: snap.value,
    context: sanitise(snap.context),
    ...(snap.error !== undefined ? { error: sanitise(snap.error) } : {}),
    ...(snap.output !== undefined ? { output: sanitise(snap.output) } : {}),
  };
}

interface ActorLike {
  id: string;
  sessionId: string;
  logic?: { config?: unknown };
  _parent?: unknown;
  getSnapshot(): unknown;
}

/** The actor as an inspector sees it: its definition (names only) and sanitised snapshots. */
function actorFacade(actor: ActorLike): ActorLike {
  return {
    id: actor.id,
    sessionId: actor.sessionId,
    // The machine configuration: states, events, guard and action names; no context values.
    logic: { config: actor.logic?.config },
    _parent: undefined,
    getSnapshot: () => sanitiseSnapshot(actor.getSnapshot()),
  };
}

/** An inspection event with every context, event and snapshot sanitised. */
export function sanitiseInspectionEvent(ev: InspectionEvent): InspectionEvent {
  const base = { type: ev.type, rootId: ev.rootId, actorRef: actorFacade(ev.actorRef as unknown as ActorLike) };
  switch (ev.type) {
    case '@xstate.event':
      return { ...base, event: sanitise(ev.event), sourceRef: undefined } as unknown as InspectionEvent;
    case '@xstate.snapshot':
      return { ...base, event: sanitise(ev.event), snapshot: sanitiseSnapshot(ev.snapshot) } as unknown as InspectionEvent;
    case '@xstate.microstep':
      return {
        ...base,
        event: sanitise(ev.event),
        snapshot: sanitiseSnapshot(ev.snapshot),
        _transitions: [],
      } as unknown as InspectionEvent;
    case '@xstate.action':
      return { ...base, action: sanitise(ev.action) } as unknown as InspectionEvent;
    default:
      return base as unknown as InspectionEvent;
  }
}

type Inspect = Observer<InspectionEvent> | ((ev: InspectionEvent) => void);

/**
 * Attach an inspector to a running connection; everything it receives is
 * sanitised. It first gets the actor's registration and current snapshot.
 */
export function attachInspector(conn: AnyConnection, inspect: Inspect): Subscription {
  const next = typeof inspect === 'function' ? inspect : (ev: InspectionEvent) => inspect.next?.(ev);
  const actor = conn.actor;
  const rootId = actor.sessionId;
  next(sanitiseInspectionEvent({ type: '@xstate.actor', actorRef: actor, rootId } as InspectionEvent));
  next(
    sanitiseInspectionEvent({
      type: '@xstate.snapshot',
      actorRef: actor,
      rootId,
      snapshot: actor.getSnapshot(),
      event: { type: 'xstate.init' },
    } as InspectionEvent),
  );
  return actor.system.inspect((ev: InspectionEvent) => next(sanitiseInspectionEvent(ev)));
}

export interface WebSocketInspection {
  /** The @statelyai/inspect inspector (its adapter holds the socket). */
  inspector: ReturnType<typeof createWebSocketInspector>;
  stop(): void;
}

/**
 * Stream a connection to a Stately WebSocket inspector (default
 * ws://localhost:8080, Stately's inspector UI connects there), sanitised twice:
 * by `attachInspector`, and by the inspector's own sanitize hooks.
 */
export function createWebSocketInspectorFor(conn: AnyConnection, options: { url?: string } = {}): WebSocketInspection {
  const inspector = sanitisingWebSocketInspector(options);
  const sub = attachInspector(conn, inspector.inspect);
  return {
    inspector,
    stop() {
      sub.unsubscribe();
      inspector.stop();
    },
  };
}

/** A Stately WebSocket inspector whose own sanitize hooks strip secrets from contexts and events. */
function sanitisingWebSocketInspector(options: { url?: string }): ReturnType<typeof createWebSocketInspector> {
  return createWebSocketInspector({
    url: options.url ?? 'ws://localhost:8080',
    sanitizeContext: (c) => sanitise(c) as Record<string, unknown>,
    sanitizeEvent: (e) => sanitise(e) as { type: string },
  });
}

/**
 * A WebSocket inspector not tied to a connection (e.g. for a trace replayed
 * into it): the caller sends inspection events, sanitised with
 * `sanitiseInspectionEvent`, to `inspector.inspect`.
 */
export function createWebSocketInspection(options: { url?: string } = {}): WebSocketInspection {
  const inspector = sanitisingWebSocketInspector(options);
  return { inspector, stop: () => inspector.stop() };
}
