/**
 * In-memory server ticket store: the default when one process serves all
 * resumptions. Tickets are looked up by their bytes (hex), used once, and
 * forgotten when they expire or when the store is full (oldest first). Every
 * operation is synchronous (see the contract in `types.ts`).
 */
import { toHex } from '../crypto/bytes.js';
import type { ServerSessionState, TicketStore } from './types.js';

export interface MemoryTicketStoreOptions {
  /** Most tickets kept; the oldest stored is evicted first. Default 10000. */
  maxEntries?: number;
  /** Clock in milliseconds, injectable for tests and replays. Default Date.now. */
  now?: () => number;
}

/** True once a state's lifetime has run out at `nowMs` (RFC 8446 §4.6.1: ticket_lifetime from issue time). */
export function isServerStateExpired(state: ServerSessionState, nowMs: number): boolean {
  return state.issuedAtMs + state.lifetimeS * 1000 <= nowMs;
}

export class MemoryTicketStore implements TicketStore {
  readonly #entries = new Map<string, ServerSessionState>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: MemoryTicketStoreOptions = {}) {
    const max = opts.maxEntries ?? 10000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`MemoryTicketStore: maxEntries must be a positive integer, got ${max}`);
    this.#maxEntries = max;
    this.#now = opts.now ?? Date.now;
  }

  /** Synchronous: the ticket is visible to get/take as soon as this returns. */
  put(ticket: Uint8Array, state: ServerSessionState): void {
    const key = toHex(ticket);
    // Re-storing a ticket makes it the newest entry.
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, state);
  }

  get(ticket: Uint8Array): ServerSessionState | undefined {
    const key = toHex(ticket);
    const state = this.#entries.get(key);
    if (state === undefined) return undefined;
    if (isServerStateExpired(state, this.#now())) {
      this.#entries.delete(key);
      return undefined;
    }
    return state;
  }

  /** Synchronous, hence atomic: one event-loop task removes the entry before any other can see it. */
  take(ticket: Uint8Array): ServerSessionState | undefined {
    const key = toHex(ticket);
    const state = this.#entries.get(key);
    if (state === undefined) return undefined;
    this.#entries.delete(key);
    return isServerStateExpired(state, this.#now()) ? undefined : state;
  }

  /** Forget a ticket without using it; true if it was stored. */
  evict(ticket: Uint8Array): boolean {
    return this.#entries.delete(toHex(ticket));
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Tickets currently stored, expired ones not yet taken included. */
  get size(): number {
    return this.#entries.size;
  }
}
