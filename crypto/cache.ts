/**
 * A bounded least-recently-used cache, for work that is the same every time
 * it is asked for the same bytes: parsing a SubjectPublicKeyInfo into a key,
 * validating a certificate chain. Bounded so a peer that sends a new
 * certificate on every connection cannot grow memory without limit.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const v = this.#entries.get(key);
    if (v !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, v);
    }
    return v;
  }

  /** Store `value` as the most recently used entry, evicting the least recently used one when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  /** The cached value, or `make()` stored and returned (undefined results are not stored). */
  getOrCreate<R extends V | undefined>(key: K, make: () => R): V | R {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = make();
    if (v !== undefined) this.set(key, v);
    return v;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
