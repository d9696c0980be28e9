/**
 * Client ticket cache: sessions per server name, newest first, each offered
 * once (RFC 8446 §C.4: clients SHOULD NOT reuse a ticket for multiple
 * connections, to keep connections unlinkable by passive observers).
 */
import { type ClientSession, type ClientTicketCache, MAX_TICKET_LIFETIME_S } from './types.js';

export interface MemoryClientTicketCacheOptions {
  /** Most sessions kept per server name; the oldest received goes first. Default 8. */
  maxPerServer?: number;
}

/**
 * Whether a NewSessionTicket lifetime is one a client may keep (RFC 8446 §4.6.1):
 * zero means "discard immediately", and more than seven days is not allowed.
 */
export function isKeepableLifetime(lifetimeS: number): boolean {
  return Number.isInteger(lifetimeS) && lifetimeS > 0 && lifetimeS <= MAX_TICKET_LIFETIME_S;
}

/** True once a client session's lifetime has run out at `nowMs`. */
export function isClientSessionExpired(session: ClientSession, nowMs: number): boolean {
  return session.receivedAtMs + session.lifetimeS * 1000 <= nowMs;
}

/** Server names are DNS names: compared without regard to ASCII case. */
const keyOf = (serverName: string): string => serverName.toLowerCase();

export class MemoryClientTicketCache implements ClientTicketCache {
  /** Per server name, in the order sessions were added. */
  readonly #byName = new Map<string, ClientSession[]>();
  readonly #maxPerServer: number;

  constructor(opts: MemoryClientTicketCacheOptions = {}) {
    const max = opts.maxPerServer ?? 8;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`MemoryClientTicketCache: maxPerServer must be a positive integer, got ${max}`);
    }
    this.#maxPerServer = max;
  }

  /** Keep a session; one whose lifetime is 0 or above 604800 s is ignored (RFC 8446 §4.6.1). */
  add(session: ClientSession): void {
    if (!isKeepableLifetime(session.lifetimeS)) return;
    const key = keyOf(session.serverName);
    const list = this.#byName.get(key) ?? [];
    list.push(session);
    while (list.length > this.#maxPerServer) {
      list.splice(indexOfOldest(list), 1);
    }
    this.#byName.set(key, list);
  }

  /** The newest unexpired session for `serverName`, removed from the cache; expired ones are dropped on the way. */
  take(serverName: string, nowMs: number): ClientSession | undefined {
    const key = keyOf(serverName);
    const list = this.#byName.get(key);
    if (list === undefined) return undefined;
    const live = list.filter((s) => !isClientSessionExpired(s, nowMs));
    let newest = -1;
    for (let i = 0; i < live.length; i++) {
      // Later additions win ties: they are the more recent tickets.
      if (newest < 0 || (live[i] as ClientSession).receivedAtMs >= (live[newest] as ClientSession).receivedAtMs) newest = i;
    }
    const found = newest >= 0 ? live.splice(newest, 1)[0] : undefined;
    if (live.length === 0) this.#byName.delete(key);
    else this.#byName.set(key, live);
    return found;
  }

  /** Sessions held, for every server name (expired ones not yet dropped by `take` included). */
  size(): number {
    let n = 0;
    for (const list of this.#byName.values()) n += list.length;
    return n;
  }

  clear(): void {
    this.#byName.clear();
  }
}

/** Index of the session received first (the earliest added among equals). */
function indexOfOldest(list: readonly ClientSession[]): number {
  let oldest = 0;
  for (let i = 1; i < list.length; i++) {
    if ((list[i] as ClientSession).receivedAtMs < (list[oldest] as ClientSession).receivedAtMs) oldest = i;
  }
  return oldest;
}
