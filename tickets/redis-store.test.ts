import { afterAll, afterEach, describe, expect, it, type TestContext } from 'vitest';
import { toHex } from '../crypto/bytes.js';
import { freePort, type Peer, requirePeer, startRedisServer } from '../interop/peers.js';
import { parseRedisUrl, RedisTicketStore, type RedisTicketStoreOptions } from './redis-store.js';
import { decodeServerSessionState, encodeServerSessionState } from './state-codec.js';
import { describeTicketStoreContract, randomTicket, sampleState } from './testing/contract.js';
import { type AdminClient, adminClient, testRedis, uniquePrefix } from './testing/redis.js';

const redis = testRedis();
/** A Redis 6.0-like server: GETDEL unknown, so take must use MULTI/EXEC. */
const redisWithoutGetDel = testRedis({ args: ['--rename-command', 'GETDEL', ''] });
afterAll(async () => {
  await redis.stop();
  await redisWithoutGetDel.stop();
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store the test closes after itself; its log lines are collected. */
function openStore(opts: RedisTicketStoreOptions): { store: RedisTicketStore; lines: string[] } {
  const lines: string[] = [];
  const store = new RedisTicketStore({ log: (l) => lines.push(l), ...opts });
  cleanups.push(() => store.close());
  return { store, lines };
}

async function connectedStore(opts: RedisTicketStoreOptions): Promise<{ store: RedisTicketStore; lines: string[] }> {
  const opened = openStore(opts);
  if (!(await opened.store.whenReady(10_000))) throw new Error(`no connection to ${opts.url}: ${opened.lines.join('\n')}`);
  return opened;
}

async function admin(url: string): Promise<AdminClient> {
  const client = await adminClient(url);
  cleanups.push(() => client.destroy());
  return client;
}

/** A redis-server of this test only (for the tests that stop it), stopped after the test. */
async function ownRedis(ctx: TestContext, port?: number): Promise<Peer> {
  requirePeer(ctx, 'redis-server');
  const peer = await startRedisServer(port === undefined ? {} : { port });
  cleanups.push(() => peer.stop());
  return peer;
}

/** The keys under `prefix`, as text. */
async function keysUnder(a: AdminClient, prefix: string): Promise<string[]> {
  return (await a.keys(`${prefix}*`)).map((k) => k.toString());
}

/** Poll until `check` holds, at most `withinMs`; the test fails with `what` otherwise. */
async function eventually(what: string, check: () => Promise<boolean>, withinMs = 10_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sharedSubject(ctx: TestContext, url: string) {
  const prefix = uniquePrefix();
  const store = new RedisTicketStore({ url, prefix, log: () => undefined });
  const peer = new RedisTicketStore({ url, prefix, log: () => undefined });
  const close = async () => {
    await store.close();
    await peer.close();
  };
  if (!(await store.whenReady(10_000)) || !(await peer.whenReady(10_000))) {
    await close();
    throw new Error(`${ctx.task.name}: no connection to ${url}`);
  }
  return { store, peer, close };
}

describeTicketStoreContract('RedisTicketStore', async (ctx) => sharedSubject(ctx, await redis.url(ctx)), { shared: true });
describeTicketStoreContract(
  'RedisTicketStore on a Redis without GETDEL (before 6.2: MULTI GET DEL EXEC)',
  async (ctx) => sharedSubject(ctx, await redisWithoutGetDel.url(ctx)),
  { shared: true },
);

describe('RedisTicketStore in Redis', () => {
  it('keeps a ticket under the prefix and the hex of its bytes, as a TSS1 state, with a TTL of what is left of its lifetime', async (ctx) => {
    const url = await redis.url(ctx);
    const prefix = uniquePrefix();
    const { store } = await connectedStore({ url, prefix });
    const t = randomTicket();
    const s = sampleState({ issuedAtMs: Date.now() - 30_000, lifetimeS: 90 });
    await store.put(t, s);

    const a = await admin(url);
    expect(await keysUnder(a, prefix)).toEqual([`${prefix}${toHex(t)}`]);
    const raw = await a.get(`${prefix}${toHex(t)}`);
    expect(raw).toBeInstanceOf(Buffer);
    expect(decodeServerSessionState(new Uint8Array(raw as Buffer))).toEqual(s);
    const ttl = await a.pTTL(`${prefix}${toHex(t)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(ttl).toBeGreaterThan(50_000);
  });

  it('lets Redis itself forget a ticket once its lifetime has run out', async (ctx) => {
    const url = await redis.url(ctx);
    const prefix = uniquePrefix();
    const { store } = await connectedStore({ url, prefix });
    const t = randomTicket();
    await store.put(t, sampleState({ issuedAtMs: Date.now(), lifetimeS: 1 }));
    const a = await admin(url);
    expect(await a.exists(`${prefix}${toHex(t)}`)).toBe(1);
    await eventually('Redis expiring the key', async () => (await a.exists(`${prefix}${toHex(t)}`)) === 0);
    expect(await store.take(t)).toBeUndefined();
  });

  it('stores nothing for a state that has already expired, and forgets what the ticket held before', async (ctx) => {
    const url = await redis.url(ctx);
    const prefix = uniquePrefix();
    const { store } = await connectedStore({ url, prefix });
    await store.put(randomTicket(), sampleState({ issuedAtMs: Date.now() - 10_000, lifetimeS: 10 }));
    await store.put(randomTicket(), sampleState({ lifetimeS: 0 }));
    expect(await keysUnder(await admin(url), prefix)).toEqual([]);
    const t = randomTicket();
    await store.put(t, sampleState());
    await store.put(t, sampleState({ lifetimeS: 0 }));
    expect(await store.get(t)).toBeUndefined();
    expect(await keysUnder(await admin(url), prefix)).toEqual([]);
  });

  it('refuses to put a state it cannot encode, and writes nothing', async (ctx) => {
    const url = await redis.url(ctx);
    const prefix = uniquePrefix();
    const { store } = await connectedStore({ url, prefix });
    await expect(store.put(randomTicket(), sampleState({ psk: new Uint8Array(0) }))).rejects.toThrow(/cannot be encoded/);
    expect(await keysUnder(await admin(url), prefix)).toEqual([]);
  });

  it('treats what another writer left under the prefix as an unknown ticket, and never logs the value', async (ctx) => {
    const url = await redis.url(ctx);
    const prefix = uniquePrefix();
    const { store, lines } = await connectedStore({ url, prefix, logIntervalMs: 0 });
    const a = await admin(url);
    const good = encodeServerSessionState(sampleState());
    const nextVersion = Buffer.from(good);
    nextVersion[3] = 0x32; // "TSS2"
    const cases: Array<[string, (key: string) => Promise<unknown>]> = [
      ['text', (k) => a.set(k, 'SECRET-MARKER not a state')],
      ['a truncated state', (k) => a.set(k, Buffer.from(good.subarray(0, good.length - 1)))],
      ['another format version', (k) => a.set(k, nextVersion)],
      ['a hash', (k) => a.hSet(k, 'psk', 'SECRET-MARKER')],
    ];
    for (const [what, write] of cases) {
      const t = randomTicket();
      await write(`${prefix}${toHex(t)}`);
      expect(await store.get(t), what).toBeUndefined();
      expect(await store.take(t), what).toBeUndefined();
    }
    expect(lines.length).toBeGreaterThanOrEqual(cases.length);
    for (const line of lines) {
      expect(line).not.toContain('SECRET-MARKER');
      expect(line).not.toContain(toHex(good.subarray(0, 16)));
    }
    expect(lines.some((l) => /unreadable value under tlschart-test:[0-9a-f]+:\* \(\d+ bytes, not a TSS1 state\)/.test(l))).toBe(true);
    expect(lines.some((l) => /WRONGTYPE/.test(l))).toBe(true);
  });

  it('gives up on calls Redis does not answer within the timeout: unknown tickets, a rejected put, nothing thrown', async (ctx) => {
    const peer = await ownRedis(ctx);
    const url = `redis://127.0.0.1:${peer.port}`;
    const prefix = uniquePrefix();
    const { store, lines } = await connectedStore({ url, prefix, timeoutMs: 100 });
    const t = randomTicket();
    await store.put(t, sampleState());
    const a = await admin(url);
    // Redis keeps reading commands but runs none for 1.5 s: a server that hangs.
    await a.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
    expect(await store.get(t)).toBeUndefined();
    expect(await store.take(t)).toBeUndefined();
    const u = randomTicket();
    await expect(store.put(u, sampleState())).rejects.toThrow(
      /put failed \(StoreCallError: no answer within 100 ms\); the ticket is not sent/,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /get failed \(StoreCallError: no answer within 100 ms\); the ticket counts as unknown, the handshake goes on in full/,
    );

    // Once Redis runs them, the commands sent before still take effect: the late take
    // removed t (no resumption from it, ever) and the late put stored u (never sent; its TTL ends it).
    await eventually('Redis answering again', async () => (await a.exists(`${prefix}${toHex(u)}`)) === 1);
    expect(await a.exists(`${prefix}${toHex(t)}`)).toBe(0);
    expect(await store.get(t)).toBeUndefined();
  });

  it('answers unknown at once while Redis is unreachable, queues nothing, and reconnects when it is back', async (ctx) => {
    requirePeer(ctx, 'redis-server');
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const prefix = uniquePrefix();
    const { store, lines } = openStore({ url, prefix, timeoutMs: 100 });
    const t = randomTicket();
    for (let i = 0; i < 20; i++) {
      expect(await store.get(t)).toBeUndefined();
      expect(await store.take(t)).toBeUndefined();
      await expect(store.put(t, sampleState())).rejects.toThrow(/put failed/);
    }
    // Sixty failures and the reconnection attempts: one line per interval (30 s by default).
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^ticket store redis://127\\.0\\.0\\.1:${port}: `));

    await ownRedis(ctx, port);
    expect(await store.whenReady(10_000)).toBe(true);
    expect(lines.at(-1)).toMatch(/connected again \(after \d+ more failure\(s\) since the last report\)$/);
    // The puts made while Redis was down were refused, not kept for later.
    expect(await keysUnder(await admin(url), prefix)).toEqual([]);
    const s = sampleState();
    await store.put(t, s);
    expect(await store.take(t)).toEqual(s);
  });

  it('survives Redis stopping between calls, then works again once it is back', async (ctx) => {
    const first = await ownRedis(ctx);
    const url = `redis://127.0.0.1:${first.port}`;
    const { store, lines } = await connectedStore({ url, prefix: uniquePrefix(), timeoutMs: 200 });
    const t = randomTicket();
    await store.put(t, sampleState());
    await first.stop();
    expect(await store.get(t)).toBeUndefined();
    expect(await store.take(t)).toBeUndefined();
    await expect(store.put(randomTicket(), sampleState())).rejects.toThrow(/put failed/);
    expect(lines.length).toBeGreaterThanOrEqual(1);

    await ownRedis(ctx, first.port);
    expect(await store.whenReady(10_000)).toBe(true);
    // A Redis without persistence comes back empty: the ticket is gone, never half there.
    expect(await store.get(t)).toBeUndefined();
    const u = randomTicket();
    const s = sampleState();
    await store.put(u, s);
    expect(await store.take(u)).toEqual(s);
  });

  it('fails every call after close: unknown tickets and a rejected put', async (ctx) => {
    const url = await redis.url(ctx);
    const { store } = await connectedStore({ url, prefix: uniquePrefix() });
    await store.close();
    expect(await store.get(randomTicket())).toBeUndefined();
    expect(await store.take(randomTicket())).toBeUndefined();
    await expect(store.put(randomTicket(), sampleState())).rejects.toThrow(/closed/);
  });
});

describe('parseRedisUrl', () => {
  it('accepts redis:// and rediss:// with host, port and database, and prints them without credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ url: 'redis://127.0.0.1:6379/2', display: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('redis://cache.internal')).toEqual({ url: 'redis://cache.internal', display: 'redis://cache.internal' });
    expect(parseRedisUrl('rediss://tlschart:s3cret@cache.internal:6380/0')).toEqual({
      url: 'rediss://tlschart:s3cret@cache.internal:6380/0',
      display: 'rediss://cache.internal:6380/0',
    });
  });

  it('refuses other schemes, no host, a database that is not a number, a query', () => {
    for (const bad of [
      'memory',
      'http://127.0.0.1:6379',
      'redis://',
      'redis://h:6379/x',
      'redis://h:6379/0?timeout=1',
      'redis://h:99999',
    ]) {
      expect(parseRedisUrl(bad), bad).toHaveProperty('error');
    }
  });

  it('keeps a password out of every log line', async () => {
    const port = await freePort();
    const { store, lines } = openStore({ url: `redis://user:pa55word@127.0.0.1:${port}/1`, timeoutMs: 50 });
    expect(store.target).toBe(`redis://127.0.0.1:${port}/1`);
    expect(await store.get(randomTicket())).toBeUndefined();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).not.toContain('pa55word');
  });
});
