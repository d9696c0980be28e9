/**
 * Two `tlschart serve` processes sharing tickets through one Redis
 * (--ticket-store redis://...), with real clients over loopback: a ticket from
 * one resumes on the other, once; Redis expires tickets itself; Redis going
 * away costs full handshakes, never a crash or a wrong resumption.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type Peer, requirePeer, startRedisServer } from '../interop/peers.js';
import { runTlschartClient } from '../net/testing/run-client.js';
import { generateSelfSigned } from '../pki/generate.js';
import { decodeClientSession, encodeClientSession } from '../tickets/session-codec.js';
import { adminClient, testRedis, uniquePrefix } from '../tickets/testing/redis.js';
import { main } from './main.js';
import { capture } from './testing/capture.js';
import { type BuiltCli, buildCli, type ServeProcess, startServe } from './testing/serve-process.js';

let cli: BuiltCli;
let dir: string;
let certPem: string;
let certFile: string;
let keyFile: string;
const redis = testRedis();

beforeAll(async () => {
  cli = await buildCli();
  dir = await mkdtemp(join(tmpdir(), 'tlschart-serve-redis-'));
  const leaf = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  certPem = leaf.certPem;
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  await writeFile(certFile, leaf.certPem);
  await writeFile(keyFile, leaf.keyPem, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await redis.stop();
  await cli?.remove();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Servers A and B on one Redis and prefix; each must exit 0 when stopped after the test (no crash). */
async function twoServers(url: string, extra: readonly string[] = []): Promise<{ a: ServeProcess; b: ServeProcess; prefix: string }> {
  const prefix = uniquePrefix();
  const args = ['--cert', certFile, '--key', keyFile, '--www', '--ticket-store', url, '--ticket-prefix', prefix, ...extra];
  const [a, b] = await Promise.all([startServe(cli, args), startServe(cli, args)]);
  for (const s of [a, b]) {
    cleanups.push(async () => {
      expect(s.running, `serve on port ${s.port} was still running when the test ended:\n${s.stdout()}\n${s.stderr()}`).toBe(true);
      expect(await s.stop()).toBe(0);
    });
  }
  return { a, b, prefix };
}

/** One HTTP request over tlschart: whether it resumed, the tickets it received, the page. */
async function hello(port: number, session?: Buffer): Promise<{ resumed: boolean; sessions: Buffer[]; page: string }> {
  const run = await runTlschartClient({
    port,
    ca: certPem,
    servername: 'localhost',
    session,
    send: 'GET / HTTP/1.0\r\n\r\n',
    until: /Session resumed: (yes|no)/,
  });
  if (run.error) throw run.error;
  return { resumed: run.socket.isSessionReused(), sessions: run.sessions, page: run.received };
}

const resumedLines = (s: ServeProcess) =>
  s
    .stdout()
    .split('\n')
    .filter((l) => / resumed /.test(l)).length;

async function ownRedis(ctx: TestContext, port?: number): Promise<Peer> {
  requirePeer(ctx, 'redis-server');
  const peer = await startRedisServer(port === undefined ? {} : { port });
  cleanups.push(() => peer.stop());
  return peer;
}

describe('tlschart serve --ticket-store redis://', () => {
  it('resumes a ticket from server A on server B, exactly once, and leaves the other ticket usable', async (ctx) => {
    const url = await redis.url(ctx);
    const { a, b } = await twoServers(url);
    expect(a.stdout()).toContain(`ticket store: ${url}, keys tlschart-test:`);
    // With a shared store a ticket leaves only once the store kept it (no early tickets by default).
    expect(a.stdout()).toContain('tickets: 2 per handshake, late: after the client Finished verified');

    const first = await hello(a.port);
    expect(first.resumed).toBe(false);
    expect(first.sessions).toHaveLength(2);
    const [t1, t2] = first.sessions as [Buffer, Buffer];

    const onB = await hello(b.port, t1);
    expect(onB.resumed).toBe(true);
    expect(onB.page).toContain('Session resumed: yes');
    expect((await hello(a.port, t1)).resumed).toBe(false);
    expect((await hello(b.port, t1)).resumed).toBe(false);
    expect((await hello(a.port, t2)).resumed).toBe(true);

    await a.waitFor(/conn 3 \S+ resumed/);
    await b.waitFor(/conn 2 \S+ full/);
    expect(resumedLines(a)).toBe(1);
    expect(resumedLines(b)).toBe(1);
  });

  it('resumes exactly one of 8 simultaneous ClientHellos offering one ticket to servers A and B', async (ctx) => {
    const { a, b } = await twoServers(await redis.url(ctx));
    const ticket = (await hello(a.port)).sessions[0] as Buffer;
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => hello(i % 2 === 0 ? a.port : b.port, ticket)));
    expect(runs.filter((r) => r.resumed)).toHaveLength(1);
    // Every other connection went on as a full handshake and got fresh tickets.
    for (const r of runs) expect(r.sessions).toHaveLength(2);
    await a.waitFor(/conn 5 /);
    await b.waitFor(/conn 4 /);
    expect(resumedLines(a) + resumedLines(b)).toBe(1);
  });

  it('lets Redis expire tickets after --ticket-lifetime, after which no server resumes them', async (ctx) => {
    const url = await redis.url(ctx);
    const { a, b, prefix } = await twoServers(url, ['--ticket-lifetime', '1']);
    const issued = await hello(a.port);
    expect(issued.sessions).toHaveLength(2);
    const admin = await adminClient(url);
    cleanups.push(async () => admin.destroy());
    const keys = (await admin.keys(`${prefix}*`)).map(String);
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(await admin.pTTL(k)).toBeLessThanOrEqual(1000);

    const until = Date.now() + 10_000;
    while ((await admin.keys(`${prefix}*`)).length > 0) {
      if (Date.now() > until) throw new Error('Redis did not expire the tickets within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // A client that still believes in the ticket (its lifetime forged to an hour) offers it anyway.
    const session = decodeClientSession(new Uint8Array(issued.sessions[0] as Buffer));
    if (!session) throw new Error('the session from serve does not decode');
    const forged = Buffer.from(encodeClientSession({ ...session, lifetimeS: 3600 }));
    expect((await hello(b.port, forged)).resumed).toBe(false);
    expect(resumedLines(a) + resumedLines(b)).toBe(0);
  });

  // Needs the engine to send a ticket only once put resolved, and to go on without it when put
  // rejects (the lead's change to engine/connection.ts): before it, a rejected put fails the
  // connection with internal_error.
  it('goes on with full handshakes and sends no tickets while Redis is down, without crashing, and resumes again once it is back', async (ctx) => {
    const first = await ownRedis(ctx);
    const url = `redis://127.0.0.1:${first.port}`;
    const { a, b } = await twoServers(url);
    const before = await hello(a.port);
    expect(before.sessions).toHaveLength(2);

    await first.stop();
    const offered = await hello(b.port, before.sessions[0]);
    expect(offered.resumed).toBe(false);
    expect(offered.sessions).toHaveLength(0);
    const fresh = await hello(a.port);
    expect(fresh.resumed).toBe(false);
    expect(fresh.sessions).toHaveLength(0);
    await b.waitFor(/tlschart ticket store redis:\/\/127\.0\.0\.1:\d+: /, 'stderr');
    expect(a.running && b.running).toBe(true);

    await ownRedis(ctx, first.port);
    await a.waitFor(/connected again/, 'stderr');
    await b.waitFor(/connected again/, 'stderr');
    const again = await hello(a.port);
    expect(again.sessions).toHaveLength(2);
    expect((await hello(b.port, again.sessions[0])).resumed).toBe(true);
    // Redis came back empty (no persistence): the ticket issued before the outage is gone.
    expect((await hello(b.port, before.sessions[1])).resumed).toBe(false);
  });
});

describe('tlschart serve --ticket-store: usage', () => {
  it('lists --ticket-store and --ticket-prefix in its help', async () => {
    const io = capture();
    expect(await main(['serve', '--help'], io)).toBe(0);
    expect(io.out).toMatch(/--ticket-store STORE\s+where ticket states live: memory \(default; this/);
    expect(io.out).toMatch(/--ticket-prefix P\s+Redis key prefix \(default tlschart:ticket:\)/);
  });

  it('refuses a store that is neither memory nor a Redis URL, and a prefix without Redis, with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--ticket-store', 'http://127.0.0.1:6379'],
        /serve: --ticket-store must be memory or redis:\/\/HOST:PORT\[\/DB\]: http: is not redis: or rediss:/,
      ],
      [['--ticket-store', 'redis://127.0.0.1:6379/x'], /the database "x" is not a number/],
      [['--ticket-store', 'redis'], /is not a URL/],
      [['--ticket-prefix', 'p:'], /serve: --ticket-prefix goes with --ticket-store redis:\/\/\.\.\./],
      [['--ticket-store', 'redis://127.0.0.1:6379', '--ticket-prefix', ''], /--ticket-prefix must not be empty/],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      expect(await main(['serve', '--port', '0', ...args], io), args.join(' ')).toBe(2);
      expect(io.err).toMatch(message);
      expect(io.out).toBe('');
    }
  });

  it('starts while Redis is unreachable, says so once, and stops cleanly', async () => {
    const controller = new AbortController();
    const io = capture(controller.signal);
    const done = main(['serve', '--port', '0', '--cert', certFile, '--key', keyFile, '--ticket-store', 'redis://127.0.0.1:1/0'], io);
    await io.waitFor(/listening on 127\.0\.0\.1:\d+/);
    expect(io.out).toContain('ticket store: redis://127.0.0.1:1/0, keys tlschart:ticket:<ticket hex>');
    expect(io.err).toMatch(
      /tlschart ticket store redis:\/\/127\.0\.0\.1:1\/0: not reachable yet; handshakes are full and no tickets are sent until it is/,
    );
    controller.abort();
    expect(await done).toBe(0);
  });
});
