/**
 * How the engine uses the ticket store (tickets/types.ts): identities are
 * looked up without being removed, and only the ticket whose binder verified
 * is taken, atomically — so a ticket cannot be burnt by someone who only saw
 * its identity, and a ticket resumes at most once even under concurrency.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../crypto/bytes.js';
import { nobleProvider } from '../crypto/noble.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { MemoryTicketStore } from '../tickets/memory-store.js';
import type { ServerSessionState, TicketStore } from '../tickets/types.js';
import { PskKeyExchangeMode } from '../wire/types.js';
import { seededEnvironment } from './env.js';
import { makeIdentity, makePair, type Pair, type TestIdentity } from './testing/pair.js';
import { clientHelloProbe } from './testing/probes.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ed25519');
});

async function firstConnection(): Promise<Pair> {
  const first = makePair({ identity });
  await first.run();
  expect(first.sessions).toHaveLength(2);
  return first;
}

/** The honest client resumes with `first`'s ticket 0 on `store`. */
async function resumes(first: Pair, store: TicketStore = first.store): Promise<boolean> {
  const p = makePair({ identity, store, env: first.env, client: { session: first.sessions[0]! } });
  await p.run();
  expect(p.client.isConnected).toBe(true);
  return p.client.info?.resumed === true;
}

describe('the engine and the ticket store', () => {
  it('leaves a ticket in place when the binder offered with it does not verify', async () => {
    const first = await firstConnection();
    const forged = makePair({
      identity,
      store: first.store,
      env: first.env,
      client: { session: { ...first.sessions[0]!, psk: new Uint8Array(32).fill(1) } },
    });
    await forged.run();
    expect(forged.server.error?.reason).toBe('IncorrectBinder');
    expect(await first.store.get(first.sessions[0]!.ticket)).toBeDefined();
    expect(await resumes(first)).toBe(true);
  });

  it('leaves a ticket in place when it is offered with psk_ke alone (ignored, full handshake)', async () => {
    const first = await firstConnection();
    const pskKe = makePair({
      identity,
      store: first.store,
      env: first.env,
      client: { session: first.sessions[0]! },
      clientMachine: clientHelloProbe((ch) => ({
        ...ch,
        extensions: ch.extensions.map((e) => (e.type === 'psk_key_exchange_modes' ? { ...e, modes: [PskKeyExchangeMode.psk_ke] } : e)),
      })),
    });
    await pskKe.run();
    expect(pskKe.server.context.resumed).toBe(false);
    expect(await first.store.get(first.sessions[0]!.ticket)).toBeDefined();
    expect(await resumes(first)).toBe(true);
  });

  it('takes only the selected ticket: another identity offered in the same hello stays', async () => {
    const first = await firstConnection();
    const [selected, other] = first.sessions;
    const p = makePair({
      identity,
      store: first.store,
      env: first.env,
      client: { session: selected! },
      clientMachine: clientHelloProbe((ch) => ({
        ...ch,
        extensions: ch.extensions.map((e) =>
          e.type === 'pre_shared_key_client'
            ? {
                ...e,
                identities: [...e.identities, { identity: other!.ticket, obfuscatedTicketAge: 0 }],
                binders: [...e.binders, new Uint8Array(32)],
              }
            : e,
        ),
      })),
    });
    await p.run();
    expect(p.server.context.resumed).toBe(true);
    expect(p.server.context.selectedPsk?.index).toBe(0);
    expect(await first.store.get(selected!.ticket)).toBeUndefined();
    expect(await first.store.get(other!.ticket)).toBeDefined();
  });

  it('resumes exactly one of 8 concurrent hellos with one ticket; the others fall back to full handshakes', async () => {
    const first = await firstConnection();
    // A store that answers on a later turn, so every lookup happens before any take.
    const memory = first.store as MemoryTicketStore;
    const slow: TicketStore = {
      put: (t, s) => memory.put(t, s),
      get: (t) => new Promise<ServerSessionState | undefined>((r) => setTimeout(() => r(memory.get(t)), 5)),
      take: (t) => new Promise<ServerSessionState | undefined>((r) => setTimeout(() => r(memory.take(t)), 5)),
    };
    const pairs = Array.from({ length: 8 }, (_, i) =>
      makePair({
        identity,
        store: slow,
        env: seededEnvironment(`concurrent-${i}`, first.env.now()),
        client: { session: first.sessions[0]! },
      }),
    );
    await Promise.all(pairs.map((p) => p.run()));
    expect(pairs.every((p) => p.client.isConnected && p.server.isConnected)).toBe(true);
    expect(pairs.filter((p) => p.server.context.resumed)).toHaveLength(1);
    expect(pairs.filter((p) => p.client.info?.resumed)).toHaveLength(1);
  });

  it('never resumes on a ticket it could not take: a failed take is a full handshake', async () => {
    const first = await firstConnection();
    const memory = first.store as MemoryTicketStore;
    const takes: boolean[] = [];
    // Another server took the ticket between this connection's lookup and its take.
    const racing: TicketStore = {
      put: (t, s) => memory.put(t, s),
      get: (t) => memory.get(t),
      take: (t) => {
        memory.take(t);
        takes.push(true);
        return undefined;
      },
    };
    const p = makePair({ identity, store: racing, env: first.env, client: { session: first.sessions[0]! } });
    await p.run();
    expect(takes).toEqual([true]);
    expect(p.server.context.resumed).toBe(false);
    expect(p.client.info?.resumed).toBe(false);
    expect(p.client.isConnected).toBe(true);
  });

  it('does not send a ticket the store could not keep, and the connection goes on', async () => {
    const failing: TicketStore = {
      put: () => Promise.reject(new Error('store unreachable')),
      get: () => undefined,
      take: () => undefined,
    };
    const p = makePair({ identity, store: failing });
    const notStored: Error[] = [];
    p.server.on('ticketNotStored', (e) => notStored.push(e));
    await p.run();
    expect(p.client.isConnected && p.server.isConnected).toBe(true);
    expect(p.sessions).toHaveLength(0);
    expect(notStored.map((e) => e.message)).toEqual(['store unreachable', 'store unreachable']);
  });
});

/** The real @noble provider, counting the binder keys it derives (HKDF-Expand-Label "res binder", RFC 8446 §7.1). */
function binderCounting(): { provider: CryptoProvider; count: () => number } {
  let n = 0;
  const label = utf8('tls13 res binder');
  const contains = (hay: Uint8Array) => hay.some((_, i) => label.every((b, j) => hay[i + j] === b));
  return {
    provider: {
      ...nobleProvider,
      hkdfExpand: (h, prk, info, length) => {
        if (contains(info)) n++;
        return nobleProvider.hkdfExpand(h, prk, info, length);
      },
    },
    count: () => n,
  };
}

describe('each verdict is computed once', () => {
  it('derives one binder on each side for a resumed handshake, however many guards and actions look at it', async () => {
    const first = await firstConnection();
    const client = binderCounting();
    const server = binderCounting();
    const clientEnv = seededEnvironment('binder-count-client', first.env.now(), client.provider);
    const serverEnv = seededEnvironment('binder-count-server', first.env.now(), server.provider);
    const p = makePair({ identity, store: first.store, env: clientEnv, serverEnv, client: { session: first.sessions[0]! } });
    await p.run();
    expect(p.client.info?.resumed).toBe(true);
    expect({ client: client.count(), server: server.count() }).toEqual({ client: 1, server: 1 });
  });
});

describe('tickets leave with the reaction to the client Finished', () => {
  it('writes both NewSessionTickets before any other turn of the event loop once the client Finished verified', async () => {
    const p = makePair({ identity });
    const marks: string[] = [];
    let turned = false;
    p.server.on('trace', (e) => {
      if (e.kind === 'state' && e.to === 'connected') {
        marks.push('connected');
        setImmediate(() => (turned = true));
      }
      if (e.kind === 'message' && e.direction === 'out' && e.name === 'new_session_ticket')
        marks.push(turned ? 'ticket after a turn' : 'ticket');
    });
    await p.run();
    expect(marks).toEqual(['connected', 'ticket', 'ticket']);
  });
});
