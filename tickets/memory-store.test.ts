import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeIdentity, makePair } from '../engine/testing/pair.js';
import { MemoryTicketStore } from './memory-store.js';
import { describeTicketStoreContract } from './testing/contract.js';
import type { ServerSessionState } from './types.js';

const ticket = (): Uint8Array => new Uint8Array(randomBytes(32));

function state(over: Partial<ServerSessionState> = {}): ServerSessionState {
  return {
    psk: new Uint8Array(randomBytes(32)),
    suite: 0x1301,
    serverName: 'example.test',
    alpn: 'h2',
    issuedAtMs: 1_000_000,
    lifetimeS: 7200,
    ticketAgeAdd: randomBytes(4).readUInt32BE(0),
    clientCertificates: [],
    ...over,
  };
}

/** A clock the test moves by hand. */
function manualClock(start: number): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

describe('MemoryTicketStore', () => {
  it('returns the stored state for a ticket once, then never again', async () => {
    const store = new MemoryTicketStore({ now: () => 1_000_000 });
    const t = ticket();
    const s = state();
    await store.put(t, s);
    expect(await store.take(t)).toEqual(s);
    expect(await store.take(t)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('finds a ticket by its bytes, not by the array it was stored with', async () => {
    const store = new MemoryTicketStore({ now: () => 1_000_000 });
    const t = ticket();
    const s = state();
    await store.put(t, s);
    const differentByte = Uint8Array.from(t);
    differentByte[31] = (differentByte[31] as number) ^ 1;
    expect(await store.take(differentByte)).toBeUndefined();
    expect(await store.take(t.slice(0, 31))).toBeUndefined();
    expect(await store.take(Uint8Array.from(t))).toEqual(s);
  });

  it('refuses a ticket whose lifetime has run out, using the injected clock, and forgets it', async () => {
    const clock = manualClock(0);
    const store = new MemoryTicketStore({ now: clock.now });
    const live = ticket();
    const dead = ticket();
    await store.put(live, state({ issuedAtMs: 1000, lifetimeS: 10 }));
    await store.put(dead, state({ issuedAtMs: 1000, lifetimeS: 10 }));

    clock.set(1000 + 10_000 - 1);
    expect(await store.take(live)).toBeDefined();

    clock.set(1000 + 10_000);
    expect(store.size).toBe(1);
    expect(await store.take(dead)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('uses the real clock by default', async () => {
    const store = new MemoryTicketStore();
    const fresh = ticket();
    const stale = ticket();
    await store.put(fresh, state({ issuedAtMs: Date.now(), lifetimeS: 60 }));
    await store.put(stale, state({ issuedAtMs: Date.now() - 61_000, lifetimeS: 60 }));
    expect(await store.take(fresh)).toBeDefined();
    expect(await store.take(stale)).toBeUndefined();
  });

  it('evicts the oldest ticket when full', async () => {
    const store = new MemoryTicketStore({ maxEntries: 3, now: () => 1_000_000 });
    const ts = [ticket(), ticket(), ticket(), ticket()];
    for (const t of ts) await store.put(t, state());
    expect(store.size).toBe(3);
    expect(await store.take(ts[0] as Uint8Array)).toBeUndefined();
    for (const t of ts.slice(1)) expect(await store.take(t)).toBeDefined();
  });

  it('treats a ticket stored again as the newest', async () => {
    const store = new MemoryTicketStore({ maxEntries: 2, now: () => 1_000_000 });
    const [a, b, c] = [ticket(), ticket(), ticket()];
    await store.put(a, state());
    await store.put(b, state());
    await store.put(a, state());
    await store.put(c, state());
    expect(await store.take(b)).toBeUndefined();
    expect(await store.take(a)).toBeDefined();
    expect(await store.take(c)).toBeDefined();
  });

  it('keeps 10000 tickets by default', async () => {
    const store = new MemoryTicketStore({ now: () => 1_000_000 });
    const first = ticket();
    await store.put(first, state());
    for (let i = 1; i < 10000; i++) await store.put(ticket(), state());
    expect(store.size).toBe(10000);
    expect(await store.take(first)).toBeDefined();
    await store.put(first, state());
    await store.put(ticket(), state());
    expect(store.size).toBe(10000);
  });

  it('forgets a ticket on evict and everything on clear', async () => {
    const store = new MemoryTicketStore({ now: () => 1_000_000 });
    const [a, b] = [ticket(), ticket()];
    await store.put(a, state());
    await store.put(b, state());
    expect(store.evict(a)).toBe(true);
    expect(store.evict(a)).toBe(false);
    expect(await store.take(a)).toBeUndefined();
    store.clear();
    expect(store.size).toBe(0);
    expect(await store.take(b)).toBeUndefined();
  });

  it('rejects a size bound that is not a positive integer', () => {
    expect(() => new MemoryTicketStore({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new MemoryTicketStore({ maxEntries: 1.5 })).toThrow(RangeError);
  });
});

describe('MemoryTicketStore under clients that never resume', () => {
  it('evicts tickets of full handshakes before tickets of resumed connections', async () => {
    const store = new MemoryTicketStore({ maxEntries: 3, now: () => 1_000_000 });
    const [r1, f1, f2, f3] = [ticket(), ticket(), ticket(), ticket()];
    store.put(r1, state(), { resumed: true });
    store.put(f1, state());
    store.put(f2, state(), { resumed: false });
    store.put(f3, state());
    expect(store.get(f1)).toBeUndefined();
    expect(store.get(r1)).toBeDefined();
    expect(store.stats()).toMatchObject({ fresh: 2, returning: 1, evictedFresh: 1, evictedReturning: 0 });
  });

  it('keeps the tickets of a returning client while 10,000 clients that never resume come and go', async () => {
    const store = new MemoryTicketStore({ maxEntries: 100, now: () => 1_000_000 });
    const honest = [ticket(), ticket()];
    for (const t of honest) store.put(t, state(), { resumed: true });
    for (let i = 0; i < 10_000; i++) store.put(ticket(), state(), { resumed: false });
    expect(store.size).toBe(100);
    for (const t of honest) expect(store.take(t)).toBeDefined();
    expect(store.stats()).toMatchObject({ evictedReturning: 0, evictedFresh: 10_000 - 98 });
  });

  it('evicts the oldest returning ticket only when no ticket of a full handshake is left', async () => {
    const store = new MemoryTicketStore({ maxEntries: 2, now: () => 1_000_000 });
    const [a, b, c] = [ticket(), ticket(), ticket()];
    store.put(a, state(), { resumed: true });
    store.put(b, state(), { resumed: true });
    store.put(c, state(), { resumed: true });
    expect(store.get(a)).toBeUndefined();
    expect(store.get(b)).toBeDefined();
    expect(store.get(c)).toBeDefined();
    expect(store.stats()).toMatchObject({ evictedReturning: 1 });
  });

  it('files the tickets of a full handshake as fresh and those of its resumption as returning (engine end to end)', async () => {
    const identity = await makeIdentity('ecdsa-p256');
    const store = new MemoryTicketStore();
    const first = makePair({ identity, store });
    await first.run();
    expect(store.stats()).toMatchObject({ fresh: 2, returning: 0 });
    const second = makePair({ identity, store, env: first.env, client: { session: first.sessions[0] } });
    await second.run();
    expect(second.client.info?.resumed).toBe(true);
    expect(store.stats()).toMatchObject({ fresh: 1, returning: 2 });
  });
});

describe('MemoryTicketStore sweeps expired tickets', () => {
  it('removes every expired ticket on sweep() and counts them', async () => {
    const clock = manualClock(0);
    const store = new MemoryTicketStore({ now: clock.now });
    store.put(ticket(), state({ issuedAtMs: 0, lifetimeS: 10 }));
    store.put(ticket(), state({ issuedAtMs: 0, lifetimeS: 10 }), { resumed: true });
    const live = ticket();
    store.put(live, state({ issuedAtMs: 0, lifetimeS: 100 }));
    clock.set(10_000);
    expect(store.sweep()).toBe(2);
    expect(store.size).toBe(1);
    expect(store.get(live)).toBeDefined();
    expect(store.stats().expired).toBe(2);
  });

  it('sweeps during put once sweepIntervalMs has passed since the last sweep, not before', async () => {
    const clock = manualClock(0);
    const store = new MemoryTicketStore({ now: clock.now, sweepIntervalMs: 1000 });
    for (let i = 0; i < 5; i++) store.put(ticket(), state({ issuedAtMs: 0, lifetimeS: 1 }));
    clock.set(999);
    store.put(ticket(), state({ issuedAtMs: 999, lifetimeS: 60 }));
    expect(store.size).toBe(6);
    clock.set(1000);
    store.put(ticket(), state({ issuedAtMs: 1000, lifetimeS: 60 }));
    expect(store.size).toBe(2);
  });

  it('rejects a sweep interval that is not a non-negative integer', () => {
    expect(() => new MemoryTicketStore({ sweepIntervalMs: -1 })).toThrow(RangeError);
  });
});

describeTicketStoreContract('MemoryTicketStore', () => ({ store: new MemoryTicketStore() }));
