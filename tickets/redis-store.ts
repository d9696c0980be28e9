/**
 * A ticket store in Redis, shared by every server of one service, so that a
 * client resumes (RFC 8446 §2.2, §4.6.1) on whichever server it reaches next.
 * Tickets stay stateful and single use across the whole cluster (§8.1).
 *
 * Key layout: `<prefix><ticket as lower-case hex>` (default prefix
 * `tlschart:ticket:`), a Redis string holding the state in the versioned
 * binary form of `state-codec.ts`. The key's TTL is what is left of the
 * ticket's lifetime when it is stored, so Redis forgets expired tickets itself.
 *
 *   put   SET key value PX <ms left>     (DEL key when no time is left)
 *   get   GET key                      (removes nothing)
 *   take  GETDEL key                   (Redis ≥ 6.2; older servers: MULTI GET DEL EXEC)
 *
 * Either form of take is atomic on the Redis server: of any number of
 * concurrent takes, from any server, exactly one reads the value.
 *
 * Failure rules (the contract of `types.ts`): Redis unreachable, slower than
 * the per-call timeout, or holding something that does not decode under the
 * prefix — `get`/`take` resolve to undefined (an unknown ticket: the handshake
 * goes on in full, never resumes), `put` rejects (the engine then does not
 * send that ticket). Nothing is thrown out of `get`/`take`. Failures are
 * logged at most once per interval, and values are never logged: they hold
 * PSKs.
 *
 * The client (node-redis) does not queue commands while Redis is unreachable
 * (its offline queue is disabled: they fail at once), bounds the commands
 * waiting for a reply, and reconnects with a capped backoff.
 */
import { createClient, RESP_TYPES } from 'redis';
import { toHex } from '../crypto/bytes.js';
import { isServerStateExpired } from './memory-store.js';
import { decodeServerSessionState, encodeServerSessionState } from './state-codec.js';
import { ThrottledLog } from './throttled-log.js';
import type { ServerSessionState, TicketStore } from './types.js';

export const DEFAULT_TICKET_PREFIX = 'tlschart:ticket:';
export const DEFAULT_REDIS_TIMEOUT_MS = 250;
export const DEFAULT_LOG_INTERVAL_MS = 30_000;

export interface RedisTicketStoreOptions {
  /** `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for TLS (see {@link parseRedisUrl}). */
  url: string;
  /** Prepended to every key. Default `tlschart:ticket:`. */
  prefix?: string;
  /** Longest wait for one Redis command, in milliseconds; then the call counts as failed. Default 250. */
  timeoutMs?: number;
  /** Where failure lines go (never a value). Default: stderr. */
  log?: (line: string) => void;
  /** Shortest time between two failure lines, in milliseconds. Default 30000. */
  logIntervalMs?: number;
  /** Clock in milliseconds for lifetimes and the log. Default Date.now. */
  now?: () => number;
  /** Longest pause between two reconnection attempts, in milliseconds. Default 1000. */
  maxReconnectDelayMs?: number;
  /** Most commands waiting for a reply; beyond, a call fails at once. Default 1000. */
  maxPendingCommands?: number;
}

/** A Redis URL checked for what the store needs, and a form of it safe to print. */
export interface RedisTarget {
  url: string;
  /** The URL without user name or password. */
  display: string;
}

/**
 * Check a Redis URL: `redis:` or `rediss:`, a host, an optional port (1..65535)
 * and an optional database number, nothing else. Returns an error sentence
 * when it is not one.
 */
export function parseRedisUrl(text: string): RedisTarget | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch (e) {
    if (e instanceof TypeError) return { error: `${JSON.stringify(text)} is not a URL (expected redis://HOST:PORT[/DB])` };
    throw e;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return { error: `${u.protocol} is not redis: or rediss:` };
  if (u.hostname === '') return { error: 'the Redis URL has no host' };
  if (u.search !== '' || u.hash !== '') return { error: 'the Redis URL takes no query or fragment' };
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^(0|[1-9]\d{0,4})$/.test(db)) return { error: `the database ${JSON.stringify(db)} is not a number` };
  const display = `${u.protocol}//${u.host}${db === '' ? '' : `/${db}`}`;
  return { url: text, display };
}

/** A failure of one store call, for the log: what failed and why, no value. */
class StoreCallError extends Error {
  override readonly name = 'StoreCallError';
}

/** An ordinary socket or reply error a store call may meet. */
function reason(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

export class RedisTicketStore implements TicketStore {
  readonly prefix: string;
  /** The server, without credentials. */
  readonly target: string;
  readonly #client;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #log: ThrottledLog;
  /** Set when the server does not know GETDEL (Redis < 6.2): take with MULTI/EXEC instead. */
  #withoutGetDel = false;
  #closed = false;

  constructor(opts: RedisTicketStoreOptions) {
    const target = parseRedisUrl(opts.url);
    if ('error' in target) throw new TypeError(`RedisTicketStore: ${target.error}`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw new RangeError(`RedisTicketStore: timeoutMs must be a positive integer, got ${timeoutMs}`);
    const maxDelay = opts.maxReconnectDelayMs ?? 1000;
    const maxPending = opts.maxPendingCommands ?? 1000;
    this.prefix = opts.prefix ?? DEFAULT_TICKET_PREFIX;
    this.target = target.display;
    this.#timeoutMs = timeoutMs;
    this.#now = opts.now ?? Date.now;
    const write = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.#log = new ThrottledLog({ write, intervalMs: opts.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS, now: this.#now });

    this.#client = createClient({
      url: target.url,
      // RESP2: every Redis since 2.x speaks it; the store needs nothing from RESP3.
      RESP: 2,
      // Fail at once while disconnected instead of queueing until Redis is back.
      disableOfflineQueue: true,
      commandsQueueMaxLength: maxPending,
      // Commands that could not even be written within the timeout are dropped, never sent late.
      commandOptions: { timeout: timeoutMs },
      // Redis Enterprise maintenance notices: not used, and unknown to open-source Redis.
      maintNotifications: 'disabled',
      socket: {
        connectTimeout: Math.max(timeoutMs, 1000),
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
      },
    }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

    // Without an 'error' listener node-redis would throw socket errors out of the process.
    this.#client.on('error', (e: unknown) => {
      if (!this.#closed) this.#log.failure(`ticket store ${this.target}: ${reason(e)}; handshakes go on in full, new tickets are not sent`);
    });
    this.#client.on('ready', () => this.#log.recovered(`ticket store ${this.target}: connected again`));
    // The first connection may fail: the client keeps trying (reconnectStrategy); calls fail until then.
    this.#client.connect().catch((e: unknown) => {
      if (!this.#closed) this.#log.failure(`ticket store ${this.target}: cannot connect: ${reason(e)}`);
    });
  }

  /** True once connected (and while the connection holds). */
  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Wait until connected, at most `withinMs`; true if it is. */
  async whenReady(withinMs: number): Promise<boolean> {
    if (this.#client.isReady) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(this.#client.isReady), withinMs);
      this.#client.on('ready', onReady);
    });
  }

  /** The Redis key of a ticket. */
  keyOf(ticket: Uint8Array): string {
    return `${this.prefix}${toHex(ticket)}`;
  }

  /** Stores the state with a TTL of what is left of its lifetime; rejects when Redis did not confirm in time. */
  async put(ticket: Uint8Array, state: ServerSessionState): Promise<void> {
    const key = this.keyOf(ticket);
    const ttlMs = state.issuedAtMs + state.lifetimeS * 1000 - this.#now();
    let value: Buffer;
    try {
      value = Buffer.from(encodeServerSessionState(state));
    } catch (e) {
      throw new StoreCallError(`ticket store ${this.target}: the state cannot be encoded: ${reason(e)}`);
    }
    try {
      if (ttlMs <= 0) {
        // Already expired: no later get/take may return it, nor what the ticket held before.
        await this.#call(() => this.#client.del(key));
        return;
      }
      const reply = await this.#call(() => this.#client.set(key, value, { expiration: { type: 'PX', value: Math.ceil(ttlMs) } }));
      if (reply === null || reply.toString() !== 'OK')
        throw new StoreCallError(`SET answered ${reply === null ? 'nil' : 'something else than OK'}`);
    } catch (e) {
      const err = new StoreCallError(`ticket store ${this.target}: put failed (${reason(e)}); the ticket is not sent`);
      this.#log.failure(err.message);
      throw err;
    }
  }

  /** The state of `ticket`, removing nothing; undefined when unknown, expired, unreadable, or Redis failed. */
  async get(ticket: Uint8Array): Promise<ServerSessionState | undefined> {
    return this.#read('get', () => this.#client.get(this.keyOf(ticket)));
  }

  /** Remove `ticket` and return its state, atomically across every server sharing the Redis. */
  async take(ticket: Uint8Array): Promise<ServerSessionState | undefined> {
    const key = this.keyOf(ticket);
    return this.#read('take', async () => {
      if (!this.#withoutGetDel) {
        try {
          return await this.#client.getDel(key);
        } catch (e) {
          if (!(e instanceof Error && /unknown command/i.test(e.message))) throw e;
          // Redis < 6.2 has no GETDEL. A transaction runs GET and DEL with nothing in between.
          this.#withoutGetDel = true;
        }
      }
      const [value] = await this.#client.multi().get(key).del(key).exec();
      if (value === null || Buffer.isBuffer(value)) return value;
      throw new StoreCallError('MULTI GET DEL answered something else than a string or nil');
    });
  }

  /** Release the connection; later calls fail (get/take: undefined, put: rejects). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Open also while (re)connecting; destroy() rejects what is pending and stops reconnecting.
    if (this.#client.isOpen) this.#client.destroy();
  }

  async #read(op: 'get' | 'take', command: () => Promise<Buffer | null>): Promise<ServerSessionState | undefined> {
    let value: Buffer | null;
    try {
      value = await this.#call(command);
    } catch (e) {
      this.#log.failure(
        `ticket store ${this.target}: ${op} failed (${reason(e)}); the ticket counts as unknown, the handshake goes on in full`,
      );
      return undefined;
    }
    if (value === null) return undefined;
    const state = Buffer.isBuffer(value) ? decodeServerSessionState(new Uint8Array(value)) : undefined;
    if (state === undefined) {
      this.#log.failure(
        `ticket store ${this.target}: an unreadable value under ${this.prefix}* (${Buffer.isBuffer(value) ? `${value.length} bytes` : typeof value}, not a TSS1 state); the ticket counts as unknown`,
      );
      return undefined;
    }
    return isServerStateExpired(state, this.#now()) ? undefined : state;
  }

  /** One command, bounded by the per-call timeout; a late answer is ignored. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreCallError('the store is closed');
    let timer: NodeJS.Timeout | undefined;
    const pending = command();
    // After a timeout the command may still settle; its outcome no longer matters.
    pending.catch(() => undefined);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreCallError(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
