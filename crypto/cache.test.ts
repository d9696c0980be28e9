import { describe, expect, it } from 'vitest';
import { bytesKey } from './bytes.js';
import { BoundedCache } from './cache.js';

describe('BoundedCache', () => {
  it('keeps at most its capacity, evicting the least recently used entry', () => {
    const c = new BoundedCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
  });

  it('makes a value once per key, and does not keep an undefined result', () => {
    const c = new BoundedCache<string, { n: number }>(4);
    let made = 0;
    const first = c.getOrCreate('k', () => ({ n: ++made }));
    expect(c.getOrCreate('k', () => ({ n: ++made }))).toBe(first);
    expect(made).toBe(1);
    expect(c.getOrCreate('missing', () => undefined)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
    expect(() => new BoundedCache(1.5)).toThrow(RangeError);
  });

  it('names byte strings by their bytes, whatever array holds them', () => {
    const a = Uint8Array.of(0, 1, 255);
    const b = new Uint8Array([9, 0, 1, 255, 9]).subarray(1, 4);
    expect(bytesKey(a)).toBe(bytesKey(b));
    expect(bytesKey(a)).not.toBe(bytesKey(Uint8Array.of(0, 1, 254)));
  });
});
