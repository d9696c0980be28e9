/**
 * A connection runs its chart with the machine's own transition function
 * (XState's ActorLogic.transition) until something asks for the XState actor,
 * then through the actor (engine/connection.ts). Whichever way, and whenever
 * the actor is asked for, the chart must take the same steps: the same
 * seeded connections are run three ways and their traces compared entry by
 * entry (states, transitions with their guards, every message byte for byte).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../crypto/bytes.js';
import { NamedGroup } from '../wire/types.js';
import type { TraceEntry } from './connection.js';
import { makeIdentity, makePair, type Pair, type TestIdentity } from './testing/pair.js';

type Mode = 'no actor' | 'actor from the start' | 'actor after the first flight';

const line = (e: TraceEntry): string => {
  switch (e.kind) {
    case 'message':
      return `message ${e.direction} ${e.name} ${toHex(e.raw)}`;
    case 'transition':
      return `transition ${e.source} -> ${e.targets.join(',')} on ${e.eventType} [${e.guard ?? ''}] #${e.index}`;
    case 'state':
      return `state ${e.from} -> ${e.to} on ${e.event}`;
    default:
      return `${e.kind}`;
  }
};

/**
 * A full handshake after a HelloRetryRequest (the client's only key share is for a group
 * the server does not take), data both ways, a KeyUpdate, close_notify both ways.
 */
async function run(identity: TestIdentity, mode: Mode): Promise<{ pair: Pair; snapshotsSeen: number }> {
  let pair: Pair | undefined;
  let snapshotsSeen = 0;
  const observe = (p: Pair) => {
    for (const conn of [p.client, p.server]) conn.actor.subscribe(() => snapshotsSeen++);
  };
  const p = makePair({
    identity,
    seed: 'one chart, two ways of running it',
    client: { groups: [NamedGroup.secp256r1, NamedGroup.x25519], keyShareGroups: [NamedGroup.secp256r1] },
    server: { groups: [NamedGroup.x25519] },
    tamper: (_dir, bytes, index) => {
      if (mode === 'actor after the first flight' && index === 1 && pair) observe(pair);
      return [bytes];
    },
  });
  pair = p;
  if (mode === 'actor from the start') observe(p);
  await p.run();
  await p.client.write(new Uint8Array(100).fill(1));
  await p.server.write(new Uint8Array(200).fill(2));
  await p.client.keyUpdate(true);
  await p.run();
  await p.client.close();
  await p.run();
  await p.server.close();
  await p.run();
  return { pair: p, snapshotsSeen };
}

describe('a connection without an actor and one with', () => {
  it('take the same steps, whenever the actor is asked for, and the actor carries on from where the chart was', async () => {
    const identity = await makeIdentity('ed25519');
    const runs = new Map<Mode, { pair: Pair; snapshotsSeen: number }>();
    for (const mode of ['no actor', 'actor from the start', 'actor after the first flight'] as const)
      runs.set(mode, await run(identity, mode));
    const plain = runs.get('no actor');
    if (!plain) throw new Error('no run');
    const traceOf = (p: Pair) => ({ client: p.clientTrace.map(line), server: p.serverTrace.map(line) });
    const reference = traceOf(plain.pair);
    // The run went where it should: a retry, then connected, then closed on both sides.
    expect(reference.client.filter((l) => l.startsWith('message out client_hello'))).toHaveLength(2);
    expect([plain.pair.client.state, plain.pair.server.state]).toEqual(['closed', 'closed']);
    expect(plain.pair.received.server.map((d) => d.length)).toEqual([100]);
    expect(plain.pair.received.client.map((d) => d.length)).toEqual([200]);
    for (const mode of ['actor from the start', 'actor after the first flight'] as const) {
      const r = runs.get(mode);
      if (!r) throw new Error('no run');
      expect(traceOf(r.pair), mode).toEqual(reference);
      // Events went through the actor once it existed, and it holds the connection's own state.
      expect(r.snapshotsSeen, mode).toBeGreaterThan(10);
      expect(r.pair.server.actor.getSnapshot().context, mode).toBe(r.pair.server.context);
      expect(r.pair.client.actor.getSnapshot().value, mode).toBe('closed');
    }
  });
});
