import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKeepableLifetime, MemoryClientTicketCache } from './client-cache.js';
import type { ClientSession } from './types.js';

function session(over: Partial<ClientSession> = {}): ClientSession {
  return {
    serverName: 'example.test',
    ticket: new Uint8Array(randomBytes(16)),
    psk: new Uint8Array(randomBytes(32)),
    suite: 0x1301,
    ticketAgeAdd: randomBytes(4).readUInt32BE(0),
    lifetimeS: 3600,
    receivedAtMs: 1_000_000,
    alpn: undefined,
    peerCertificates: [],
    ...over,
  };
}

describe('MemoryClientTicketCache', () => {
  it('ignores a ticket with lifetime 0, which means discard immediately (RFC 8446 §4.6.1)', () => {
    const cache = new MemoryClientTicketCache();
    cache.add(session({ lifetimeS: 0 }));
    expect(cache.size()).toBe(0);
    expect(cache.take('example.test', 1_000_000)).toBeUndefined();
  });

  it('ignores a ticket with a lifetime above 604800 seconds and keeps one of exactly 604800', () => {
    const cache = new MemoryClientTicketCache();
    cache.add(session({ lifetimeS: 604801 }));
    expect(cache.size()).toBe(0);
    const week = session({ lifetimeS: 604800 });
    cache.add(week);
    expect(cache.size()).toBe(1);
    expect(cache.take('example.test', 1_000_000 + 604800 * 1000 - 1)).toBe(week);
  });

  it('judges lifetimes as RFC 8446 §4.6.1 allows them', () => {
    expect([0, 1, 604800, 604801, -1, 1.5, Number.NaN].map(isKeepableLifetime)).toEqual([false, true, true, false, false, false, false]);
  });

  it('returns the newest unexpired session, skipping and dropping expired ones', () => {
    const cache = new MemoryClientTicketCache();
    const older = session({ receivedAtMs: 1000, lifetimeS: 100 });
    const newer = session({ receivedAtMs: 5000, lifetimeS: 100 });
    const newestButExpired = session({ receivedAtMs: 9000, lifetimeS: 1 });
    cache.add(newer);
    cache.add(newestButExpired);
    cache.add(older);
    expect(cache.take('example.test', 10_000)).toBe(newer);
    expect(cache.size()).toBe(1);
    expect(cache.take('example.test', 10_000)).toBe(older);
    expect(cache.take('example.test', 10_000)).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('hands out each session once', () => {
    const cache = new MemoryClientTicketCache();
    const s = session();
    cache.add(s);
    expect(cache.take('example.test', 1_000_001)).toBe(s);
    expect(cache.take('example.test', 1_000_001)).toBeUndefined();
  });

  it('treats a session as expired from receivedAtMs + lifetime on', () => {
    const cache = new MemoryClientTicketCache();
    cache.add(session({ receivedAtMs: 0, lifetimeS: 10 }));
    expect(cache.take('example.test', 10_000)).toBeUndefined();
    cache.add(session({ receivedAtMs: 0, lifetimeS: 10 }));
    expect(cache.take('example.test', 9_999)).toBeDefined();
  });

  it('keeps sessions apart per server name, ignoring ASCII case', () => {
    const cache = new MemoryClientTicketCache();
    const a = session({ serverName: 'a.test' });
    cache.add(a);
    cache.add(session({ serverName: 'b.test' }));
    expect(cache.take('c.test', 1_000_000)).toBeUndefined();
    expect(cache.take('A.Test', 1_000_000)).toBe(a);
    expect(cache.take('a.test', 1_000_000)).toBeUndefined();
    expect(cache.size()).toBe(1);
  });

  it('keeps at most 8 sessions per server name by default, dropping the oldest received', () => {
    const cache = new MemoryClientTicketCache();
    for (let i = 1; i <= 10; i++) cache.add(session({ receivedAtMs: i * 1000 }));
    cache.add(session({ serverName: 'other.test' }));
    expect(cache.size()).toBe(9);
    const order: number[] = [];
    for (let s = cache.take('example.test', 20_000); s !== undefined; s = cache.take('example.test', 20_000)) {
      order.push(s.receivedAtMs);
    }
    expect(order).toEqual([10, 9, 8, 7, 6, 5, 4, 3].map((i) => i * 1000));
  });

  it('honours a smaller bound per server name', () => {
    const cache = new MemoryClientTicketCache({ maxPerServer: 2 });
    const [s1, s2, s3] = [1, 2, 3].map((i) => session({ receivedAtMs: i }));
    for (const s of [s3, s1, s2]) cache.add(s as ClientSession);
    expect(cache.size()).toBe(2);
    expect(cache.take('example.test', 10)).toBe(s3);
    expect(cache.take('example.test', 10)).toBe(s2);
    expect(cache.take('example.test', 10)).toBeUndefined();
  });

  it('empties on clear and rejects a bound that is not a positive integer', () => {
    const cache = new MemoryClientTicketCache();
    cache.add(session());
    cache.clear();
    expect(cache.size()).toBe(0);
    expect(() => new MemoryClientTicketCache({ maxPerServer: 0 })).toThrow(RangeError);
  });
});
