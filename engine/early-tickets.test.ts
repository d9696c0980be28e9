/**
 * Early tickets (ServerConfig.earlyTickets, RFC 8446 §4.6.1): a server that
 * requests no client certificate computes the client Finished it expects and
 * sends its NewSessionTickets right after its own Finished. The store keeps
 * them only once the client Finished arrived and verified, so a client that
 * does not finish holds tickets that resume nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { PskKeyExchangeMode } from '../wire/types.js';
import { parseLeafOnly } from './config.js';
import type { TraceEntry } from './connection.js';
import { makeIdentity, makePair, type Pair, type TestIdentity } from './testing/pair.js';
import { clientFlightProbe, clientHelloProbe, flipLastBit, mapMessage } from './testing/probes.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

const early = { earlyTickets: true };

/** Where a message is in a trace: the index of its first entry in that direction, -1 if absent. */
const at = (trace: TraceEntry[], direction: 'in' | 'out', name: string) =>
  trace.findIndex((e) => e.kind === 'message' && e.direction === direction && e.name === name);

/** How many tickets the pair's (in-memory) store holds. */
function storedTickets(p: Pair): number {
  if (!(p.store instanceof MemoryTicketStore)) throw new Error('the pair has no MemoryTicketStore');
  return p.store.size;
}

describe('early tickets', () => {
  it('sends the tickets before the client Finished arrives, and stores them once it verified', async () => {
    // The store's size at each delivery to the server, taken before the bytes arrive.
    const store = new MemoryTicketStore();
    const sizes: number[] = [];
    const p = makePair({
      identity,
      server: early,
      store,
      tamper: (dir, bytes) => {
        if (dir === 'toServer') sizes.push(store.size);
        return [bytes];
      },
    });
    await p.run();
    expect(p.server.state).toBe('connected');
    const ticketOut = at(p.serverTrace, 'out', 'new_session_ticket');
    const finishedIn = at(p.serverTrace, 'in', 'finished');
    expect(ticketOut).toBeGreaterThan(at(p.serverTrace, 'out', 'finished'));
    expect(ticketOut).toBeLessThan(finishedIn);
    expect(p.serverTrace.filter((e) => e.kind === 'message' && e.name === 'new_session_ticket')).toHaveLength(2);
    // Before the ClientHello and before the client's second flight: nothing stored; after it: both tickets.
    expect(sizes.slice(0, 2)).toEqual([0, 0]);
    expect(storedTickets(p)).toBe(2);
    expect(p.sessions).toHaveLength(2);
  });

  it('by default sends the tickets only after the client Finished', async () => {
    const p = makePair({ identity });
    await p.run();
    expect(at(p.serverTrace, 'out', 'new_session_ticket')).toBeGreaterThan(at(p.serverTrace, 'in', 'finished'));
  });

  it('resumes with an early ticket, and the resumed handshake sends its tickets early too', async () => {
    const first = makePair({ identity, server: early });
    await first.run();
    const p = makePair({ identity, server: early, store: first.store, env: first.env, client: { session: first.sessions[0]! } });
    await p.run();
    expect(p.server.info?.resumed).toBe(true);
    expect(p.client.info?.resumed).toBe(true);
    expect(at(p.serverTrace, 'out', 'new_session_ticket')).toBeLessThan(at(p.serverTrace, 'in', 'finished'));
    expect(p.sessions).toHaveLength(2);
  });

  it('keeps nothing for a client that never sends its Finished: its tickets resume nothing', async () => {
    let toServer = 0;
    // The client's second flight (ChangeCipherSpec, Finished) never reaches the server.
    const first = makePair({ identity, server: early, tamper: (d, b) => (d === 'toServer' && toServer++ > 0 ? [] : [b]) });
    await first.run();
    expect(first.server.state).toBe('expectClientFinished');
    expect(first.sessions).toHaveLength(2);
    expect(storedTickets(first)).toBe(0);
    const p = makePair({ identity, server: early, store: first.store, env: first.env, client: { session: first.sessions[0]! } });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(p.server.info?.resumed).toBe(false);
  });

  it('keeps nothing when the client Finished does not verify: decrypt_error', async () => {
    const first = makePair({ identity, server: early, clientMachine: clientFlightProbe(mapMessage('finished', flipLastBit)) });
    await first.run();
    expect(first.server.state).toBe('failed');
    expect(first.server.error?.alert).toBe('decrypt_error');
    // The tickets reached the client with the server's flight, before its (wrong) Finished.
    expect(first.sessions).toHaveLength(2);
    expect(storedTickets(first)).toBe(0);
    const p = makePair({ identity, server: early, store: first.store, env: first.env, client: { session: first.sessions[0]! } });
    await p.run();
    expect(p.server.info?.resumed).toBe(false);
  });

  it('waits for the client Finished when it asked for a client certificate', async () => {
    const p = makePair({
      identity,
      server: { ...early, requestClientCertificate: true, verifyClientChain: parseLeafOnly },
      client: { clientCertificate: identity.certified },
    });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(at(p.serverTrace, 'out', 'certificate_request')).toBeGreaterThan(-1);
    expect(at(p.serverTrace, 'out', 'new_session_ticket')).toBeGreaterThan(at(p.serverTrace, 'in', 'finished'));
    expect(storedTickets(p)).toBe(2);
  });

  it('sends no ticket, early or late, to a client that offered psk_ke alone', async () => {
    const p = makePair({
      identity,
      server: early,
      clientMachine: clientHelloProbe((ch) => ({
        ...ch,
        extensions: ch.extensions.map((e) => (e.type === 'psk_key_exchange_modes' ? { ...e, modes: [PskKeyExchangeMode.psk_ke] } : e)),
      })),
    });
    await p.run();
    expect(p.server.state).toBe('connected');
    expect(at(p.serverTrace, 'out', 'new_session_ticket')).toBe(-1);
    expect(storedTickets(p)).toBe(0);
  });
});
