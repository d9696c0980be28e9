/**
 * Heap bytes per ticket in the in-memory ticket store (tickets/memory-store.ts),
 * measured, not estimated: V8 heap after a forced GC, before and after filling
 * a store with states shaped like the ones the server issues (32-byte ticket
 * and PSK, a server name, no ALPN, no client certificate).
 *
 *   npm run bench:ticket-memory            # 100000 tickets
 *   BENCH_TICKETS=10000 npm run bench:ticket-memory
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_TICKETS, MemoryTicketStore } from '../tickets/memory-store.js';
import type { ServerSessionState } from '../tickets/types.js';

const N = Number(process.env.BENCH_TICKETS ?? 100_000);

/** Heap plus ArrayBuffer memory after a full GC. */
function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:ticket-memory does)');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A state as issueTickets builds it: a fresh 32-byte PSK, the server name, no ALPN, no client certificate. */
function state(now: number): ServerSessionState {
  return {
    psk: Uint8Array.from(randomBytes(32)),
    suite: 0x1301,
    serverName: 'localhost',
    alpn: undefined,
    issuedAtMs: now,
    lifetimeS: 7200,
    ticketAgeAdd: randomBytes(4).readUInt32BE(0),
    clientCertificates: [],
  };
}

function main(): void {
  const now = Date.now();
  const store = new MemoryTicketStore({ maxEntries: N });
  const before = used();
  for (let i = 0; i < N; i++) store.put(Uint8Array.from(randomBytes(32)), state(now), { resumed: i % 2 === 0 });
  const after = used();
  if (store.size !== N) throw new Error(`the store holds ${store.size}, not ${N}`);
  const perTicket = (after - before) / N;
  console.log(
    `${N} tickets in a MemoryTicketStore (node ${process.version}): ${perTicket.toFixed(0)} bytes per ticket (V8 heap + ArrayBuffers, after GC)`,
  );
  console.log(`default ${DEFAULT_MAX_TICKETS} tickets: about ${((perTicket * DEFAULT_MAX_TICKETS) / 1e6).toFixed(1)} MB`);
}

main();
