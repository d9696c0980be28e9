/**
 * A log that reports a failure at most once per interval. A shared ticket store
 * that is down fails on every ClientHello and every ticket; one line per
 * interval says so, with how many failures it left out, instead of one line
 * per connection.
 */

export interface ThrottledLogOptions {
  /** Where a line goes (no trailing newline). */
  write: (line: string) => void;
  /** Shortest time between two failure lines, in milliseconds. */
  intervalMs: number;
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
}

export class ThrottledLog {
  readonly #write: (line: string) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastAt: number | undefined;
  #suppressed = 0;
  /** The last line written was a failure line: an outage announced and not closed yet. */
  #announced = false;

  constructor(opts: ThrottledLogOptions) {
    if (!Number.isFinite(opts.intervalMs) || opts.intervalMs < 0) {
      throw new RangeError(`ThrottledLog: intervalMs must be a non-negative number, got ${opts.intervalMs}`);
    }
    this.#write = opts.write;
    this.#intervalMs = opts.intervalMs;
    this.#now = opts.now ?? Date.now;
  }

  /** Report a failure: written if none was written in the last interval, else counted. */
  failure(message: string): void {
    const now = this.#now();
    if (this.#lastAt !== undefined && now - this.#lastAt < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    const more = this.#suppressed > 0 ? ` (and ${this.#suppressed} more failure(s) since the last report)` : '';
    this.#lastAt = now;
    this.#suppressed = 0;
    this.#announced = true;
    this.#write(`${message}${more}`);
  }

  /**
   * Report that things work again. Written only when it closes an outage the
   * last line announced, so a flapping service still costs at most one failure
   * line and one recovery line per interval.
   */
  recovered(message: string): void {
    if (!this.#announced) return;
    this.#announced = false;
    const more = this.#suppressed > 0 ? ` (after ${this.#suppressed} more failure(s) since the last report)` : '';
    this.#suppressed = 0;
    this.#write(`${message}${more}`);
  }
}
