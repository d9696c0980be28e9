/**
 * Admission control for the server's handshake work (load shedding).
 *
 * A full handshake costs the server a key exchange and a signature — tens of
 * milliseconds of pure-JavaScript CPU — spent when the ClientHello is
 * processed. Under more load than that CPU can serve, work piles up, every
 * client waits longer than it is willing to, and the server ends up working
 * for clients that already gave up. So:
 *
 * - at most `maxHandshakes` ClientHellos are being worked on at once (a slot
 *   is held from the moment the ClientHello is admitted until its answer has
 *   been computed; waiting for the client's next flight holds none, so a
 *   client that stalls cannot hold the server);
 * - up to `queue` more wait for a slot, first come first served;
 * - beyond that, a connection is refused at once (closed, counted, logged):
 *   a quick "no" the client can retry, instead of a slow timeout;
 * - a waiter whose connection closes leaves the queue (its `signal` aborts).
 *
 * Pure bookkeeping, no I/O: the server wires it in (net/server.ts).
 */
import { availableParallelism } from 'node:os';

/** Default `maxHandshakes`: twice the cores this process may use, at least 2. */
export function defaultMaxHandshakes(): number {
  return Math.max(2, 2 * availableParallelism());
}

/** Default `queue` for a given `maxHandshakes`: four times as many. */
export const defaultHandshakeQueue = (maxHandshakes: number): number => 4 * maxHandshakes;

export type Admitted = { ok: true; release: () => void } | { ok: false; why: 'busy' | 'closed' };

export interface AdmissionStats {
  /** Handshakes admitted so far (at once or after waiting). */
  admitted: number;
  /** Refused because every slot was taken and the queue was full. */
  refused: number;
  /** Left the queue because their connection closed while waiting. */
  dropped: number;
  /** Slots in use now. */
  running: number;
  /** Waiting for a slot now. */
  waiting: number;
}

interface Waiter {
  grant: (a: Admitted) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class HandshakeAdmission {
  readonly maxHandshakes: number;
  readonly queue: number;
  #running = 0;
  readonly #waiting: Waiter[] = [];
  #admitted = 0;
  #refused = 0;
  #dropped = 0;

  constructor(maxHandshakes: number, queue: number) {
    if (!Number.isInteger(maxHandshakes) || maxHandshakes < 1)
      throw new RangeError(`maxHandshakes must be a positive integer, got ${maxHandshakes}`);
    if (!Number.isInteger(queue) || queue < 0) throw new RangeError(`handshakeQueue must be a non-negative integer, got ${queue}`);
    this.maxHandshakes = maxHandshakes;
    this.queue = queue;
  }

  /** Every slot taken and the queue full: a new handshake would be refused now. */
  get saturated(): boolean {
    return this.#running >= this.maxHandshakes && this.#waiting.length >= this.queue;
  }

  /** Count a connection refused before it asked (the server found `saturated` at accept). */
  noteRefused(): void {
    this.#refused++;
  }

  stats(): AdmissionStats {
    return {
      admitted: this.#admitted,
      refused: this.#refused,
      dropped: this.#dropped,
      running: this.#running,
      waiting: this.#waiting.length,
    };
  }

  /**
   * A slot for one handshake step: at once when one is free, after waiting
   * when the queue has room, `{ ok: false, why: 'busy' }` otherwise. A waiter
   * whose `signal` aborts gets `{ ok: false, why: 'closed' }`. Call `release`
   * exactly once when the work is done.
   */
  acquire(signal?: AbortSignal): Promise<Admitted> {
    if (signal?.aborted) return Promise.resolve({ ok: false, why: 'closed' });
    if (this.#running < this.maxHandshakes) return Promise.resolve(this.#grant());
    if (this.#waiting.length >= this.queue) {
      this.#refused++;
      return Promise.resolve({ ok: false, why: 'busy' });
    }
    return new Promise<Admitted>((resolve) => {
      const waiter: Waiter = {
        grant: resolve,
        signal,
        onAbort: () => {
          const i = this.#waiting.indexOf(waiter);
          if (i < 0) return;
          this.#waiting.splice(i, 1);
          this.#dropped++;
          resolve({ ok: false, why: 'closed' });
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #grant(): Admitted {
    this.#running++;
    this.#admitted++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#running--;
        this.#next();
      },
    };
  }

  #next(): void {
    while (this.#running < this.maxHandshakes) {
      const w = this.#waiting.shift();
      if (!w) return;
      w.signal?.removeEventListener('abort', w.onAbort);
      w.grant(this.#grant());
    }
  }
}

/**
 * Hands out turns to do one handshake's public-key work, first come first
 * served, with `pollsPerTurn` turns of the event loop (each polling I/O once)
 * from one turn to the next.
 *
 * Node accepts at most one new connection per event-loop iteration (libuv
 * ≥ 1.45 accepts once per poll, libuv/libuv#3696). A server that computes
 * several handshakes in one iteration makes every iteration long, so it
 * accepts slowly: connections then wait in the kernel's listen queue, where
 * nothing can refuse them, until their clients give up. One handshake per
 * turn keeps iterations short; two polls per turn (the default) let the
 * server accept twice as fast as it completes handshakes, so under overload
 * the excess reaches admission control, which refuses it at once, instead of
 * queueing unseen in the kernel. An iteration with nothing else to do costs
 * next to nothing.
 */
export class EventLoopTurns {
  readonly #waiting: Array<{ go: (granted: boolean) => void; signal: AbortSignal | undefined }> = [];
  readonly #pollsPerTurn: number;
  #scheduled = false;

  constructor(pollsPerTurn = 2) {
    if (!Number.isInteger(pollsPerTurn) || pollsPerTurn < 1)
      throw new RangeError(`pollsPerTurn must be a positive integer, got ${pollsPerTurn}`);
    this.#pollsPerTurn = pollsPerTurn;
  }

  /** Resolves true on this caller's turn, or false if its `signal` aborted first. */
  next(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((go) => {
      this.#waiting.push({ go, signal });
      this.#schedule();
    });
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  #schedule(): void {
    if (this.#scheduled || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // setImmediate callbacks queued during the check phase run in the next iteration's: n hops, n polls.
    const after = (n: number, f: () => void): void => void setImmediate(n <= 1 ? f : () => after(n - 1, f));
    after(this.#pollsPerTurn, () => {
      this.#scheduled = false;
      // Waiters whose connection closed give up their place without using a turn.
      let w = this.#waiting.shift();
      while (w?.signal?.aborted) {
        w.go(false);
        w = this.#waiting.shift();
      }
      w?.go(true);
      this.#schedule();
    });
  }
}
