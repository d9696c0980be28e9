/**
 * Watching a connection from outside, for `connect()` and `createServer()`:
 * recording it into a trace (traces/recorder.ts) and showing its statechart to
 * an XState inspector (traces/inspect.ts). Both are wired right after the
 * engine connection is built and before it is attached to its socket, so they
 * see the first flight (the ClientHello leaves on the next tick).
 *
 * Nothing here can leak a key: the recorder never copies the machine context,
 * and inspection goes through `attachInspector`, which sanitises every context,
 * event and snapshot first. Key logs stay a separate, explicit option.
 */
import type { InspectionEvent, Observer, Subscription } from 'xstate';
import { attachInspector } from '../traces/inspect.js';
import type { TLSSocket, TlsConnection } from './socket.js';

/**
 * Where a connection is recorded: a `TraceCollector` (traces/recorder.ts), or
 * anything with its `add` (e.g. something that pairs a server connection with
 * its client).
 * `add` is called once per connection, right after the engine connection is
 * built (with the traced chart, so guard outcomes are recorded) and before it
 * sends or receives anything. If it returns a function, that function is
 * called once the connection's socket has closed (to write the connection
 * out and forget it, as `tlschart serve --trace` does).
 */
export interface TraceCollectorLike {
  add(conn: TlsConnection, role: 'client' | 'server', label?: string): unknown;
}

/** An XState inspector: an observer (e.g. `inspector.inspect` of @statelyai/inspect) or a function. */
export type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Something started for one connection and stopped when its socket closes. */
export interface InspectorHandle {
  stop(): void;
}

/** The observation options `connect()` and `createServer()` share. */
export interface ObserveOptions {
  /** Record each connection into this collector (see `TraceCollectorLike`). */
  traceCollector?: TraceCollectorLike | undefined;
  /**
   * Receives every inspection event of the connection's actor, sanitised
   * (no secrets, keys or PSKs; public message bytes as hex; application data
   * by length): it first gets the actor and its current snapshot.
   */
  inspect?: Inspect | undefined;
  /**
   * Starts an inspector for each connection, e.g.
   * `(conn) => createWebSocketInspectorFor(conn)` (traces/inspect.ts, which
   * sanitises); its `stop()` runs when the socket closes. Whatever this
   * starts must sanitise on its own.
   */
  inspector?: ((conn: TlsConnection) => InspectorHandle) | undefined;
}

/** Whether the connection must run the traced chart (guard outcomes reported to the recorder). */
export function wantsTracedMachine(options: ObserveOptions): boolean {
  return options.traceCollector !== undefined;
}

/**
 * Wire recording and inspection to a connection just built for `socket`.
 * Call before `socket.attach(conn)`.
 */
export function observe(socket: TLSSocket, conn: TlsConnection, label: string | undefined, options: ObserveOptions): void {
  const finished = options.traceCollector?.add(conn, socket.role, label);
  if (typeof finished === 'function') socket.once('close', () => (finished as () => void)());
  const subscriptions: Subscription[] = [];
  const handles: InspectorHandle[] = [];
  if (options.inspect !== undefined) subscriptions.push(attachInspector(conn, options.inspect));
  if (options.inspector !== undefined) handles.push(options.inspector(conn));
  if (subscriptions.length === 0 && handles.length === 0) return;
  socket.once('close', () => {
    for (const s of subscriptions) s.unsubscribe();
    for (const h of handles) h.stop();
  });
}
