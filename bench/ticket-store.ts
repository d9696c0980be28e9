/**
 * Resumed handshakes per second with the ticket states in memory and in Redis
 * on loopback, in the same run, and the ratio (Redis / memory).
 *
 *   npm run bench:tickets                  # 200 resumed handshakes per store
 *   BENCH_N=1000 npm run bench:tickets
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379/15 npm run bench:tickets   # an existing Redis (keys under a fresh prefix)
 *
 * Without BENCH_REDIS_URL, Debian's redis-server is started on a free
 * 127.0.0.1 port without persistence and stopped at the end. Each connection
 * resumes with a ticket from the one before, sends one byte and waits for the
 * echo, so its NewSessionTickets (stored: put) have arrived; each resumption
 * looks its ticket up and takes it.
 *
 * The server's sockets run without Nagle's algorithm (net/server.ts), so a
 * ticket written after the store answered does not wait for a delayed ACK.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import { generateSelfSigned } from '../pki/generate.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { RedisTicketStore } from '../tickets/redis-store.js';
import type { TicketStore } from '../tickets/types.js';
import { freePort } from './ports.js';

const N = Number(process.env.BENCH_N ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

/** Debian's redis-server on a free loopback port; resolves once it accepts connections. */
async function startRedis(): Promise<{ url: string; version: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tlschart-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  const version = /Redis version=([\d.]+)/.exec(out)?.[1] ?? /\bv=([\d.]+)/.exec(out)?.[1] ?? '?';
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: async () => {
      child.removeAllListeners('exit');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256' });

  const one = (port: number, session: Buffer | undefined): Promise<{ session: Buffer | undefined; reused: boolean }> =>
    new Promise((resolve, reject) => {
      let latest: Buffer | undefined;
      const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certPem, ...(session ? { session } : {}) });
      c.on('session', (s: Buffer) => (latest = s));
      c.on('error', reject);
      c.once('data', () => {
        const reused = c.isSessionReused();
        c.end();
        c.once('close', () => resolve({ session: latest, reused }));
      });
      c.write('x');
    });

  /** A server on `store`. */
  const startServer = async (store: TicketStore) => {
    // A short lifetime: what is left in an external Redis expires within a minute.
    const server = createServer({ key: keyPem, cert: certPem, ticketStore: store, ticketLifetime: 60 }, (s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    let { session } = await one((server.address() as AddressInfo).port, undefined); // warm-up, and a first ticket
    return {
      port: (server.address() as AddressInfo).port,
      /** `n` resumed connections in a row; their duration in seconds. */
      async resume(n: number): Promise<number> {
        const start = process.hrtime.bigint();
        for (let i = 0; i < n; i++) {
          const r = await one(this.port, session);
          if (!r.reused) throw new Error(`connection ${i} did not resume`);
          session = r.session ?? session;
        }
        return Number(process.hrtime.bigint() - start) / 1e9;
      },
      close: () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    };
  };

  /** Resumed handshakes per second for each store, in alternating rounds so a change of load hits both. */
  const compare = async (stores: Record<string, TicketStore>): Promise<Record<string, number>> => {
    const servers = Object.entries(stores).map(async ([name, store]) => ({ name, server: await startServer(store) }));
    const started = await Promise.all(servers);
    const seconds = new Map<string, number>();
    try {
      const perRound = Math.ceil(N / ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        for (const { name, server } of started) seconds.set(name, (seconds.get(name) ?? 0) + (await server.resume(perRound)));
      }
      return Object.fromEntries(started.map(({ name }) => [name, (perRound * ROUNDS) / (seconds.get(name) as number)]));
    } finally {
      for (const { server } of started) await server.close();
    }
  };

  const external = process.env.BENCH_REDIS_URL;
  const redis =
    external !== undefined && external !== '' ? { url: external, version: 'external', stop: async () => undefined } : await startRedis();
  const store = new RedisTicketStore({ url: redis.url, prefix: `tlschart-bench:${randomBytes(4).toString('hex')}:` });
  try {
    if (!(await store.whenReady(5000))) throw new Error(`no connection to ${store.target}`);
    console.log(`resumed handshakes per second over loopback TCP, ${N} connections per store, in ${ROUNDS} alternating rounds`);
    console.log(`(client and server in one process); Redis ${redis.version} at ${store.target}`);
    console.log('store    resumed/s   redis/memory');
    const r = await compare({ memory: new MemoryTicketStore(), redis: store });
    console.log(`memory ${(r.memory as number).toFixed(1).padStart(11)}`);
    console.log(`redis  ${(r.redis as number).toFixed(1).padStart(11)}   ${((r.redis as number) / (r.memory as number)).toFixed(3)}`);
  } finally {
    await store.close();
    await redis.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
