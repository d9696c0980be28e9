/** A tlschart client run to completion, for tests against real servers. */
import type { TraceEntry } from '../../engine/connection.js';
import { type ConnectOptions, connect } from '../connect.js';
import type { TLSSocket } from '../socket.js';

export interface TlschartRun {
  socket: TLSSocket;
  /** Session buffers, one per NewSessionTicket. */
  sessions: Buffer[];
  received: string;
  trace: TraceEntry[];
  /** An error after the handshake completed, if any. */
  error: Error | undefined;
}

export interface TlschartRunOptions {
  port: number;
  /** Trusted CA (PEM); the server name checked is `servername`. */
  ca: string;
  servername?: string;
  session?: Buffer | undefined;
  /** Written once the handshake completed. */
  send?: string;
  /** Finish (end()) once the received text matches. */
  until?: RegExp | string;
  /** Finish once the server has been silent this long (default 1000 ms); ends earlier when the server closes. */
  idleMs?: number;
  options?: Partial<ConnectOptions>;
  timeoutMs?: number;
}

/**
 * Connects to 127.0.0.1:port, writes `send`, reads until `until` matches, the
 * server closes, or `idleMs` of silence, then ends and waits for 'close'.
 * Rejects with the socket's error when the handshake fails.
 */
export function runTlschartClient(opts: TlschartRunOptions): Promise<TlschartRun> {
  return new Promise((resolve, reject) => {
    const trace: TraceEntry[] = [];
    const sessions: Buffer[] = [];
    let received = '';
    let error: Error | undefined;
    let secured = false;
    let idle: NodeJS.Timeout | undefined;
    const socket = connect({
      host: '127.0.0.1',
      port: opts.port,
      servername: opts.servername ?? 'localhost',
      ca: opts.ca,
      trace: (e) => trace.push(e),
      ...(opts.session ? { session: opts.session } : {}),
      ...opts.options,
    });
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const overall = setTimeout(() => {
      socket.destroy(new Error(`tlschart client timed out after ${timeoutMs} ms; received: ${received}`));
    }, timeoutMs);
    const finish = () => {
      if (idle) clearTimeout(idle);
      if (!socket.writableEnded) socket.end();
    };
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(finish, opts.idleMs ?? 1000);
    };
    const matches = (text: string, p: RegExp | string) => (typeof p === 'string' ? text.includes(p) : p.test(text));
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.once('secureConnect', () => {
      secured = true;
      if (opts.send !== undefined) socket.write(opts.send);
      armIdle();
    });
    socket.on('data', (d: Buffer) => {
      received += d.toString('utf8');
      if (opts.until !== undefined && matches(received, opts.until)) finish();
      else armIdle();
    });
    socket.on('error', (e: Error) => (error = e));
    socket.on('close', () => {
      clearTimeout(overall);
      if (idle) clearTimeout(idle);
      if (!secured) reject(error ?? new Error('closed before the handshake completed'));
      else resolve({ socket, sessions, received, trace, error });
    });
  });
}

/** The ServerHello the client received (the real one, not a HelloRetryRequest). */
export function receivedServerHello(trace: readonly TraceEntry[]) {
  for (const e of trace) {
    if (e.kind === 'message' && e.direction === 'in' && e.msg?.type === 'server_hello' && !e.msg.isHelloRetryRequest) return e.msg;
  }
  return undefined;
}

/** Whether the client received a HelloRetryRequest. */
export function sawHelloRetryRequest(trace: readonly TraceEntry[]): boolean {
  return trace.some((e) => e.kind === 'message' && e.direction === 'in' && e.msg?.type === 'server_hello' && e.msg.isHelloRetryRequest);
}
