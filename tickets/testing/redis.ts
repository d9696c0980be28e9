/**
 * Helpers for tests that need a real Redis: Debian's redis-server on a free
 * 127.0.0.1 port (interop/peers.ts), an admin client to look at and tamper
 * with what the store wrote, and a fresh key prefix per test so tests sharing
 * one server never see each other's tickets.
 */
import { randomBytes } from 'node:crypto';
import { createClient, RESP_TYPES } from 'redis';
import type { TestContext } from 'vitest';
import { type Peer, type RedisServerOptions, requirePeer, startRedisServer } from '../../interop/peers.js';

/** A redis-server started by the first test that asks for it; `stop()` in afterAll. */
export interface TestRedis {
  /** The server's URL. Missing redis-server: fails under CI, else skips this test naming the Debian package. */
  url(ctx: Pick<TestContext, 'skip'>): Promise<string>;
  /** The running server, once started. */
  readonly peer: Peer | undefined;
  /** Stop it (if started) and forget it; the next `url()` starts another one. */
  stop(): Promise<void>;
}

export function testRedis(options: RedisServerOptions = {}): TestRedis {
  let starting: Promise<Peer> | undefined;
  let peer: Peer | undefined;
  return {
    async url(ctx) {
      requirePeer(ctx, 'redis-server');
      starting ??= startRedisServer(options).then((p) => (peer = p));
      const p = await starting;
      return `redis://127.0.0.1:${p.port}`;
    },
    get peer() {
      return peer;
    },
    async stop() {
      const p = starting;
      starting = undefined;
      peer = undefined;
      if (p !== undefined) await (await p).stop();
    },
  };
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `tlschart-test:${randomBytes(6).toString('hex')}:`;
}

export type AdminClient = ReturnType<typeof makeAdmin>;

function makeAdmin(url: string) {
  const client = createClient({ url, RESP: 2, socket: { reconnectStrategy: false } }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return client;
}

/** A plain node-redis client (binary replies) to inspect and tamper with the store's keys. Destroy it after the test. */
export async function adminClient(url: string): Promise<AdminClient> {
  const client = makeAdmin(url);
  // node-redis throws socket errors out of the process without a listener. The
  // admin client does not reconnect; a failure shows as a rejected command in the test.
  client.on('error', (e: unknown) => void e);
  await client.connect();
  return client;
}
