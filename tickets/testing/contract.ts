/**
 * The TicketStore contract (`tickets/types.ts`) as a reusable vitest suite. Any
 * implementation — the in-memory store, a shared store in a database — runs it:
 *
 *   describeTicketStoreContract('MemoryTicketStore', async () => ({ store: new MemoryTicketStore() }));
 *
 * Every check uses the real store under test; nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import type { ServerSessionState, TicketStore } from '../types.js';

export interface ContractSubject {
  store: TicketStore;
  /**
   * A second handle on the same shared storage (another server's view), when the
   * implementation is shared; tickets put through one must be seen and taken
   * through the other exactly once.
   */
  peer?: TicketStore;
  /** Release what the subject holds (connections, clients). */
  close?: () => Promise<void> | void;
}

export const randomTicket = (): Uint8Array => new Uint8Array(randomBytes(32));

/** A state that is live now (issued a moment ago) unless told otherwise. */
export function sampleState(over: Partial<ServerSessionState> = {}): ServerSessionState {
  return {
    psk: new Uint8Array(randomBytes(32)),
    suite: 0x1301,
    serverName: 'example.test',
    alpn: 'h2',
    issuedAtMs: Date.now() - 1000,
    lifetimeS: 7200,
    ticketAgeAdd: randomBytes(4).readUInt32BE(0),
    clientCertificates: [],
    ...over,
  };
}

export interface ContractOptions {
  /** The storage is shared between servers: `make` returns a `peer` handle, and single use must hold across both. */
  shared?: boolean;
}

/**
 * `make` gets the running test's context, so a store that needs an outside
 * server (Redis) can skip loudly, or fail under CI, when it is missing.
 */
export function describeTicketStoreContract(
  name: string,
  make: (ctx: TestContext) => Promise<ContractSubject> | ContractSubject,
  options: ContractOptions = {},
): void {
  describe(`${name} keeps the TicketStore contract`, () => {
    const open: ContractSubject[] = [];
    const subject = async (ctx: TestContext): Promise<ContractSubject> => {
      const s = await make(ctx);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close?.();
    });

    it('finds a stored ticket with get, as often as asked, without removing it', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      const s = sampleState();
      await store.put(t, s);
      expect(await store.get(t)).toEqual(s);
      expect(await store.get(t)).toEqual(s);
      expect(await store.take(t)).toEqual(s);
    });

    it('gives a ticket to take once, then never again, neither to get nor to take', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      await store.put(t, sampleState());
      expect(await store.take(t)).toBeDefined();
      expect(await store.take(t)).toBeUndefined();
      expect(await store.get(t)).toBeUndefined();
    });

    it('knows nothing of a ticket never stored, or of one that differs in a single bit or byte', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      await store.put(t, sampleState());
      const flipped = Uint8Array.from(t);
      flipped[31] = (flipped[31] as number) ^ 1;
      expect(await store.get(randomTicket())).toBeUndefined();
      expect(await store.take(flipped)).toBeUndefined();
      expect(await store.take(t.subarray(0, 31))).toBeUndefined();
      expect(await store.get(Uint8Array.from(t))).toBeDefined();
    });

    it('returns every field of the state as it was stored, client certificates and absent names included', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      const s = sampleState({
        suite: 0x1302,
        psk: new Uint8Array(randomBytes(48)),
        serverName: undefined,
        alpn: undefined,
        ticketAgeAdd: 0xffffffff,
        clientCertificates: [new Uint8Array(randomBytes(700)), new Uint8Array(randomBytes(5))],
      });
      await store.put(t, s);
      const back = await store.take(t);
      expect(back).toEqual(s);
      expect(back?.psk).toBeInstanceOf(Uint8Array);
      expect(back?.clientCertificates[0]).toBeInstanceOf(Uint8Array);
    });

    it('never returns a ticket whose lifetime has run out', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      const u = randomTicket();
      await store.put(t, sampleState({ issuedAtMs: Date.now() - 11_000, lifetimeS: 10 }));
      await store.put(u, sampleState({ issuedAtMs: Date.now() - 11_000, lifetimeS: 10 }));
      expect(await store.get(t)).toBeUndefined();
      expect(await store.take(u)).toBeUndefined();
    });

    it('keeps tickets apart: taking one leaves the others', async (ctx) => {
      const { store } = await subject(ctx);
      const a = randomTicket();
      const b = randomTicket();
      const sa = sampleState();
      const sb = sampleState();
      await store.put(a, sa);
      await store.put(b, sb);
      expect(await store.take(a)).toEqual(sa);
      expect(await store.get(b)).toEqual(sb);
    });

    it('gives one ticket to exactly one of 8 concurrent takes', async (ctx) => {
      const { store } = await subject(ctx);
      const t = randomTicket();
      await store.put(t, sampleState());
      const results = await Promise.all(Array.from({ length: 8 }, () => store.take(t)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });

    if (!options.shared) return;

    it('shares tickets with a second handle on the same storage, single use across both', async (ctx) => {
      const { store, peer } = await subject(ctx);
      if (!peer) throw new Error(`${name} is declared shared but its subject has no peer handle`);
      const t = randomTicket();
      const s = sampleState();
      await store.put(t, s);
      expect(await peer.get(t)).toEqual(s);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store : peer).take(t)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await store.get(t)).toBeUndefined();
    });
  });
}
