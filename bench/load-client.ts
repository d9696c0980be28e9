/**
 * The load generator of the load benchmark (bench/load.ts), one process per
 * phase: honest node:tls clients in closed loops (full and resumed
 * handshakes alternately, an HTTP/1.0 request each, a refusal retried after
 * an exponential backoff with jitter, 'timeoutMs' per attempt), and, if
 * asked, abusive peers beside them:
 *
 * - idle: connect and never send anything;
 * - slowloris: send a ClientHello one byte per second;
 * - halfopen: send a ClientHello, shut down the write side, never read;
 * - reset: send a ClientHello and reset the connection at once.
 *
 * Prints one JSON line with what happened (see PhaseResult).
 *
 *   node dist/bench/load-client.js '<PhaseParams as JSON>'
 */

import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { defaultClientConfig } from '../engine/config.js';
import { ClientConnection } from '../engine/connection.js';
import { systemEnvironment } from '../engine/env.js';

export interface AbuseMix {
  /** Connections kept open that never send a byte. */
  idle: number;
  /** Connections kept open that send a ClientHello one byte per second. */
  slowloris: number;
  /** New connections per second that send a ClientHello, then FIN, and never read. */
  halfopen: number;
  /** New connections per second that send a ClientHello, then RST. */
  reset: number;
}

export interface PhaseParams {
  port: number;
  servername: string;
  caPath: string;
  clients: number;
  seconds: number;
  timeoutMs: number;
  abuse?: AbuseMix;
}

export interface PhaseResult {
  completed: number;
  full: number;
  resumed: number;
  seconds: number;
  /** Handshake latency of completed attempts (connect() to secureConnect), milliseconds. */
  p50: number;
  p99: number;
  errors: Record<string, number>;
  abuse: { opened: number; closedByServer: number };
}

const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Why an attempt failed, as a short kind. */
function kindOf(e: Error & { code?: string }, secured: boolean): string {
  const where = secured ? 'after' : 'before';
  const code = e.code ?? '';
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT'))
    return `alert ${code.replace(/^ERR_SSL_(SSLV3_|TLSV1_|TLSV13_)?ALERT_/, '').toLowerCase()}`;
  if (code === 'ECONNRESET' || e.message === 'socket hang up' || code === 'EPIPE') return `closed ${where} handshake`;
  return code || e.message;
}

interface Attempt {
  ok: boolean;
  kind?: string;
  latency?: number;
  resumed?: boolean;
  session?: Buffer;
}

function attempt(p: PhaseParams, ca: string, session: Buffer | undefined): Promise<Attempt> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let secured = false;
    let reused = false;
    let latency = 0;
    let latest: Buffer | undefined;
    let failure: string | undefined;
    const c = tls.connect({
      host: '127.0.0.1',
      port: p.port,
      servername: p.servername,
      ca,
      minVersion: 'TLSv1.3',
      ...(session ? { session } : {}),
    });
    const timer = setTimeout(() => {
      failure ??= secured ? 'timeout after handshake' : 'timeout';
      c.destroy();
    }, p.timeoutMs);
    c.on('session', (s: Buffer) => (latest = s));
    c.once('secureConnect', () => {
      secured = true;
      reused = c.isSessionReused();
      latency = performance.now() - t0;
      c.write(REQUEST);
    });
    c.on('data', () => undefined);
    c.on('error', (e: Error) => (failure ??= kindOf(e, secured)));
    c.once('close', () => {
      clearTimeout(timer);
      // A completed handshake counts even if the server then closed abruptly; its latency is the handshake's.
      if (secured) resolve({ ok: true, latency, resumed: reused, ...(latest ? { session: latest } : {}) });
      else resolve({ ok: false, kind: failure ?? 'closed before handshake' });
    });
  });
}

async function honestClient(
  p: PhaseParams,
  ca: string,
  deadline: number,
  out: { latencies: number[]; full: number; resumed: number; errors: Record<string, number> },
): Promise<void> {
  let session: Buffer | undefined;
  // Completed handshakes alternate: full, resumed, full, ... (a failed attempt is retried as the same kind).
  let resumeNext = false;
  let backoff = 50;
  // Stagger the start so that a level is not one synchronized burst.
  await sleep(Math.random() * 200);
  while (performance.now() < deadline) {
    const r = await attempt(p, ca, resumeNext ? session : undefined);
    if (performance.now() > deadline && !r.ok) break;
    if (r.ok) {
      out.latencies.push(r.latency as number);
      if (r.resumed) out.resumed++;
      else out.full++;
      session = r.session ?? session;
      resumeNext = !r.resumed && session !== undefined;
      backoff = 50;
    } else {
      const kind = r.kind as string;
      out.errors[kind] = (out.errors[kind] ?? 0) + 1;
      if (!kind.startsWith('timeout')) {
        await sleep(backoff * (0.5 + Math.random()));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }
}

/** A pool of real ClientHello flights (tlschart's own client makes them) for the abusive peers. */
function clientHellos(servername: string, n: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const c = new ClientConnection({ ...defaultClientConfig({ serverName: servername }), env: systemEnvironment() });
      return new Promise<Buffer>((resolve) => c.once('output', (b: Uint8Array) => resolve(Buffer.from(b))));
    }),
  );
}

function abusers(
  p: PhaseParams,
  mix: AbuseMix,
  hellos: Buffer[],
  deadline: number,
): { stop(): void; stats: { opened: number; closedByServer: number } } {
  const stats = { opened: 0, closedByServer: 0 };
  const sockets = new Set<Socket>();
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  const hello = () => hellos[Math.floor(Math.random() * hellos.length)] as Buffer;
  const open = (onConnect: (s: Socket) => void, reopen: boolean): void => {
    if (stopped || performance.now() > deadline) return;
    const s = netConnect(p.port, '127.0.0.1');
    stats.opened++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.once('connect', () => onConnect(s));
    s.once('close', () => {
      sockets.delete(s);
      if (!stopped) stats.closedByServer++;
      if (reopen && !stopped) setTimeout(() => open(onConnect, true), 100).unref();
    });
  };
  for (let i = 0; i < mix.idle; i++) open(() => undefined, true);
  for (let i = 0; i < mix.slowloris; i++) {
    open((s) => {
      const bytes = hello();
      let i2 = 0;
      const drip = setInterval(() => {
        if (s.destroyed || i2 >= bytes.length) return clearInterval(drip);
        s.write(bytes.subarray(i2, i2 + 1));
        i2++;
      }, 1000);
      s.once('close', () => clearInterval(drip));
    }, true);
  }
  const every = (perSecond: number, f: () => void) => {
    if (perSecond <= 0) return;
    timers.push(setInterval(f, 1000 / perSecond));
  };
  every(mix.halfopen, () =>
    open((s) => {
      s.pause();
      s.end(hello());
      setTimeout(() => s.destroy(), 30_000).unref();
    }, false),
  );
  every(mix.reset, () => open((s) => s.write(hello(), () => s.resetAndDestroy()), false));
  return {
    stats,
    stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] ?? '{}') as PhaseParams;
  const ca = readFileSync(p.caPath, 'utf8');
  const start = performance.now();
  const deadline = start + p.seconds * 1000;
  const abuse = p.abuse ? abusers(p, p.abuse, await clientHellos(p.servername, 16), deadline) : undefined;
  const out = { latencies: [] as number[], full: 0, resumed: 0, errors: {} as Record<string, number> };
  await Promise.all([...Array.from({ length: p.clients }, () => honestClient(p, ca, deadline, out)), sleep(deadline - performance.now())]);
  const seconds = (performance.now() - start) / 1000;
  abuse?.stop();
  const sorted = out.latencies.sort((a, b) => a - b);
  const result: PhaseResult = {
    completed: sorted.length,
    full: out.full,
    resumed: out.resumed,
    // Completions are counted over the phase; attempts still running at its end finish (bounded by the timeout) but count too.
    seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: out.errors,
    abuse: abuse?.stats ?? { opened: 0, closedByServer: 0 },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

void main();
