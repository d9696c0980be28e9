/**
 * In-memory server ticket store: the default when one process serves all
 * resumptions. Tickets are looked up by their bytes, used once, and
 * forgotten when they expire, when a sweep finds them expired, or when the
 * store is full. Every operation is synchronous (see the contract in
 * `types.ts`).
 *
 * Which tickets go first when the store is full. A server sends two tickets
 * per handshake, so a few thousand clients that never resume — a scanner, a
 * load test, an attacker — would, with plain oldest-first eviction, push out
 * every ticket an honest client is about to use. The store therefore keeps
 * two segments, each oldest-first:
 *
 * - `returning`: tickets issued on a resumed connection. Only a client that
 *   redeemed a ticket gets these, and redeeming costs it a handshake with a
 *   valid binder; a client that never resumes never gets one.
 * - `fresh`: tickets issued on a full handshake — every new client, honest
 *   or not.
 *
 * A full store evicts the oldest `fresh` ticket first, and a `returning` one
 * only when no `fresh` ticket is left. So clients that never resume can only
 * evict each other's and other newcomers' first tickets, at the rate any
 * newcomer does (a newcomer's ticket survives `maxEntries` later issues); they
 * can never evict the tickets of clients that do resume. Per-address quotas
 * were the alternative: they fail behind NAT and proxies (everyone shares an
 * address with someone) and on loopback, and an attacker with many addresses
 * walks around them; redemption is a property of the client's behaviour.
 *
 * Memory: a state is kept in its binary form (tickets/state-codec.ts, as the
 * Redis store keeps it) in a one-byte string, beside its expiry time, and
 * decoded when a lookup finds it: one small object and one flat string per
 * ticket instead of an object graph with a PSK buffer. `npm run
 * bench:ticket-memory` measures the bytes per ticket; a client certificate
 * chain adds its DER size.
 */
import { bytesKey, bytesOf } from '../wire/bytes.js';
import { decodeServerSessionState, encodeServerSessionState } from './state-codec.js';
import type { ServerSessionState, TicketIssue, TicketStore } from './types.js';

export interface MemoryTicketStoreOptions {
  /** Most tickets kept (both segments together). Default 10000. */
  maxEntries?: number;
  /** Clock in milliseconds, injectable for tests and replays. Default Date.now. */
  now?: () => number;
  /** Expired tickets are swept out during a `put` at most this often, in milliseconds. Default 60000. */
  sweepIntervalMs?: number;
}

/** What the store holds and has done (`stats()`). */
export interface MemoryTicketStoreStats {
  /** Tickets from full handshakes. */
  fresh: number;
  /** Tickets from resumed connections. */
  returning: number;
  /** Tickets pushed out because the store was full, per segment. */
  evictedFresh: number;
  evictedReturning: number;
  /** Expired tickets removed by sweeps or lookups. */
  expired: number;
}

/** True once a state's lifetime has run out at `nowMs` (RFC 8446 §4.6.1: ticket_lifetime from issue time). */
export function isServerStateExpired(state: ServerSessionState, nowMs: number): boolean {
  return state.issuedAtMs + state.lifetimeS * 1000 <= nowMs;
}

export const DEFAULT_MAX_TICKETS = 10000;

/**
 * The map key of a ticket: its bytes as a flat one-byte string (latin1 maps
 * bytes to characters one to one). A hex string built by concatenation would
 * be a rope of 32 pieces costing ~1.5 KB per key.
 */
function keyOf(ticket: Uint8Array): string {
  return bytesKey(ticket);
}

/** A stored state: when it expires (sweeps and lookups need no decoding) and its TSS1 encoding as a one-byte string. */
interface Entry {
  readonly expiresAtMs: number;
  readonly encoded: string;
}

function entryOf(state: ServerSessionState): Entry {
  const bytes = encodeServerSessionState(state);
  return {
    expiresAtMs: state.issuedAtMs + state.lifetimeS * 1000,
    encoded: bytesKey(bytes),
  };
}

/** The state of an entry; the store wrote it, so it always decodes (a failure is a bug, not a miss). */
function stateOf(entry: Entry): ServerSessionState {
  // A plain Uint8Array view, so the decoded PSK and certificates are Uint8Arrays (not Buffers), as they were stored.
  const state = decodeServerSessionState(bytesOf(Buffer.from(entry.encoded, 'latin1')));
  if (!state) throw new Error('MemoryTicketStore: a stored state does not decode');
  return state;
}

export class MemoryTicketStore implements TicketStore {
  readonly #fresh = new Map<string, Entry>();
  readonly #returning = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #lastSweep: number;
  #evictedFresh = 0;
  #evictedReturning = 0;
  #expired = 0;

  constructor(opts: MemoryTicketStoreOptions = {}) {
    const max = opts.maxEntries ?? DEFAULT_MAX_TICKETS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`MemoryTicketStore: maxEntries must be a positive integer, got ${max}`);
    const sweep = opts.sweepIntervalMs ?? 60_000;
    if (!Number.isInteger(sweep) || sweep < 0)
      throw new RangeError(`MemoryTicketStore: sweepIntervalMs must be a non-negative integer, got ${sweep}`);
    this.#maxEntries = max;
    this.#now = opts.now ?? Date.now;
    this.#sweepIntervalMs = sweep;
    this.#lastSweep = this.#now();
  }

  /**
   * Synchronous: the ticket is visible to get/take as soon as this returns.
   * `issue.resumed` says the connection that issued it was a resumption (the
   * ticket goes to the `returning` segment); without it the ticket is `fresh`.
   */
  put(ticket: Uint8Array, state: ServerSessionState, issue?: TicketIssue): void {
    // Encoded first: a state the codec cannot represent is refused before anything changes.
    const entry = entryOf(state);
    const key = keyOf(ticket);
    const now = this.#now();
    if (now - this.#lastSweep >= this.#sweepIntervalMs) this.sweep();
    // Re-storing a ticket makes it the newest entry of its segment.
    this.#fresh.delete(key);
    this.#returning.delete(key);
    while (this.size >= this.#maxEntries) this.#evictOne();
    (issue?.resumed === true ? this.#returning : this.#fresh).set(key, entry);
  }

  get(ticket: Uint8Array): ServerSessionState | undefined {
    const key = keyOf(ticket);
    const [segment, entry] = this.#find(key);
    if (!segment || entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      segment.delete(key);
      this.#expired++;
      return undefined;
    }
    return stateOf(entry);
  }

  /** Synchronous, hence atomic: one event-loop task removes the entry before any other can see it. */
  take(ticket: Uint8Array): ServerSessionState | undefined {
    const key = keyOf(ticket);
    const [segment, entry] = this.#find(key);
    if (!segment || entry === undefined) return undefined;
    segment.delete(key);
    if (entry.expiresAtMs > this.#now()) return stateOf(entry);
    this.#expired++;
    return undefined;
  }

  /** Remove every expired ticket now; returns how many went. `put` does this on its own every `sweepIntervalMs`. */
  sweep(): number {
    const now = this.#now();
    this.#lastSweep = now;
    let removed = 0;
    for (const segment of [this.#fresh, this.#returning]) {
      for (const [key, entry] of segment) {
        if (entry.expiresAtMs > now) continue;
        segment.delete(key);
        removed++;
      }
    }
    this.#expired += removed;
    return removed;
  }

  /** Forget a ticket without using it; true if it was stored. */
  evict(ticket: Uint8Array): boolean {
    const key = keyOf(ticket);
    return this.#fresh.delete(key) || this.#returning.delete(key);
  }

  clear(): void {
    this.#fresh.clear();
    this.#returning.clear();
  }

  /** Tickets currently stored, expired ones not yet swept or taken included. */
  get size(): number {
    return this.#fresh.size + this.#returning.size;
  }

  stats(): MemoryTicketStoreStats {
    return {
      fresh: this.#fresh.size,
      returning: this.#returning.size,
      evictedFresh: this.#evictedFresh,
      evictedReturning: this.#evictedReturning,
      expired: this.#expired,
    };
  }

  #find(key: string): [Map<string, Entry> | undefined, Entry | undefined] {
    const fresh = this.#fresh.get(key);
    if (fresh !== undefined) return [this.#fresh, fresh];
    const returning = this.#returning.get(key);
    if (returning !== undefined) return [this.#returning, returning];
    return [undefined, undefined];
  }

  /** The oldest fresh ticket, or — only when there is none — the oldest returning one. */
  #evictOne(): void {
    const oldestFresh = this.#fresh.keys().next();
    if (oldestFresh.done !== true) {
      this.#fresh.delete(oldestFresh.value);
      this.#evictedFresh++;
      return;
    }
    const oldestReturning = this.#returning.keys().next();
    if (oldestReturning.done !== true) {
      this.#returning.delete(oldestReturning.value);
      this.#evictedReturning++;
    }
  }
}
