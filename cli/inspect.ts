/**
 * `--inspect`: every connection's statechart streamed to an XState inspector
 * over a WebSocket, through `createWebSocketInspectorFor` (traces/inspect.ts),
 * which sanitises contexts, events and snapshots before anything is sent.
 *
 * Lifetime. @statelyai/inspect 0.7.2's WebSocket adapter, after any socket
 * error, reconnects every 5 s for ever — also after `stop()`, and also for the
 * error that `close()` raises on a socket still connecting. So the session
 * makes sure something listens before it starts (a failed --inspect is one
 * line, not a process that never exits), and stops each inspector only once
 * its WebSocket is open and the events queued so far have been handed to it.
 */
import { connect as netConnect } from 'node:net';
import type { InspectionEvent } from 'xstate';
import type { InspectorHandle } from '../net/observe.js';
import type { TlsConnection } from '../net/socket.js';
import { createWebSocketInspection, createWebSocketInspectorFor, type WebSocketInspection } from '../traces/inspect.js';
import { CommandError, UsageError } from './io.js';

/** Where @statelyai/inspect's createWebSocketInspector connects by default. */
export const DEFAULT_INSPECT_URL = 'ws://localhost:8080';

/** How long a connection may take to reach the inspector, and to be given up on when stopping. */
const CONNECT_WAIT_MS = 3000;
/** @statelyai/inspect hands events to its socket from a setTimeout(0): let those run before stopping. */
const FLUSH_MS = 20;

export interface InspectSession {
  readonly url: string;
  /** For the `inspector` option of connect() and createServer(). */
  inspector(conn: TlsConnection): InspectorHandle;
  /** An inspector not tied to a connection (a replayed trace): send it sanitised inspection events. */
  observer(): { inspect(ev: InspectionEvent): void; stop(): void };
  /** Stop every inspector once it delivered what it has; resolves when all are stopped. */
  close(): Promise<void>;
}

/** The URL of --inspect-url, checked: ws: or wss:, with a host. */
export function inspectUrl(command: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${command}: --inspect-url must be a WebSocket URL such as ${DEFAULT_INSPECT_URL}, got ${JSON.stringify(value)}`);
  }
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hostname === '') {
    throw new UsageError(`${command}: --inspect-url must be a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  }
  return url;
}

/** Resolves when a TCP connection to the URL's host and port opens; rejects with the reason otherwise. */
function reachable(url: URL): Promise<void> {
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'wss:' ? 443 : 80;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${CONNECT_WAIT_MS} ms`)), CONNECT_WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(e.code ?? e.message));
    });
  });
}

/** The adapter's state ('open' once its WebSocket is open); @statelyai/inspect does not expose it in its types. */
function isOpen(w: WebSocketInspection): boolean {
  return (w.inspector.adapter as unknown as { status?: unknown }).status === 'open';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Start an inspection session for `command` (throws CommandError when nothing
 * listens at `url`). `warn` gets one line for an inspector that never connected.
 */
export async function startInspectSession(command: string, url: URL, warn: (line: string) => void): Promise<InspectSession> {
  const text = url.href.replace(/\/$/, '');
  try {
    await reachable(url);
  } catch (e) {
    throw new CommandError(
      `${command}: --inspect: nothing answers at ${text} (${(e as Error).message}); start a WebSocket inspector server there first (see tlschart ${command} --help)`,
    );
  }
  const live = new Set<WebSocketInspection>();
  const stopping = new Set<Promise<void>>();
  let warned = false;

  const stopWhenDelivered = async (w: WebSocketInspection): Promise<void> => {
    const deadline = Date.now() + CONNECT_WAIT_MS;
    while (!isOpen(w) && Date.now() < deadline) await sleep(FLUSH_MS);
    if (!isOpen(w) && !warned) {
      warned = true;
      warn(`${command}: --inspect: the inspector at ${text} did not accept the WebSocket; its events were not delivered`);
    }
    await sleep(FLUSH_MS);
    w.stop();
  };
  const release = (w: WebSocketInspection): void => {
    if (!live.delete(w)) return;
    const p = stopWhenDelivered(w);
    stopping.add(p);
    void p.finally(() => stopping.delete(p));
  };

  return {
    url: text,
    inspector(conn) {
      const w = createWebSocketInspectorFor(conn, { url: text });
      live.add(w);
      return { stop: () => release(w) };
    },
    observer() {
      const w = createWebSocketInspection({ url: text });
      live.add(w);
      return { inspect: (ev) => w.inspector.inspect.next?.(ev), stop: () => release(w) };
    },
    async close() {
      for (const w of [...live]) release(w);
      await Promise.all([...stopping]);
    },
  };
}
