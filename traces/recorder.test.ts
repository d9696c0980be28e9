/**
 * The recorder: inbound bytes are tied to the steps they produced however
 * they were chunked, guard outcomes (true and false) come from the traced
 * machines, recording leaves the connection's behaviour unchanged, and a
 * collector of several connections writes a trace that reads back and conforms.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../crypto/bytes.js';
import { ClientConnection, ServerConnection } from '../engine/connection.js';
import { clientMachine } from '../machines/client/machine.js';
import { loadTrace, type SideTrace } from './format.js';
import { checkTrace } from './monitor.js';
import { recordTo, TraceCollector } from './recorder.js';
import { freshState, link, scenarioByName } from './testing/scenarios.js';

/** A client and server of the full-handshake scenario, the client fed by `deliver`. */
async function clientSide(
  deliver: (chunks: Uint8Array[]) => Uint8Array[],
  machine?: typeof clientMachine,
): Promise<{ side: SideTrace; out: string[] }> {
  const sc = scenarioByName('full-handshake');
  const s = freshState(sc);
  const spec = sc.handshakes[0]!;
  const client = new ClientConnection({ ...spec.client(s), ...(machine ? { machine } : {}) });
  const server = new ServerConnection(spec.server(s));
  const rec = recordTo(client, 'client');
  const out: string[] = [];
  client.on('output', (b) => out.push(toHex(b)));
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  client.on('output', (b) => toServer.push(b));
  server.on('output', (b) => toClient.push(b));
  for (let round = 0; round < 20; round++) {
    await client.settled();
    await server.settled();
    for (const b of toServer.splice(0)) await server.receive(b);
    await server.settled();
    const flight = toClient.splice(0);
    if (flight.length === 0 && toServer.length === 0) break;
    for (const c of deliver(flight)) await client.receive(c);
  }
  await client.settled();
  rec.stop();
  return { side: rec.side(), out };
}

const summary = (side: SideTrace) =>
  side.steps.map((s) => `${s.direction}:${s.message?.type ?? s.kind}:${s.records.map((r) => `${r.epoch}/${r.length}`).join('+')}`);

describe('recording a connection', () => {
  it('ties every inbound record to the step it produced, whether the flight came in one chunk or in 7-byte pieces', async () => {
    const byRecord = await clientSide((chunks) => chunks);
    const oneChunk = await clientSide((chunks) => (chunks.length ? [concat(...chunks)] : []));
    const pieces = await clientSide((chunks) => {
      const all = concat(...chunks);
      const out: Uint8Array[] = [];
      for (let i = 0; i < all.length; i += 7) out.push(all.slice(i, i + 7));
      return out;
    });
    expect(summary(oneChunk.side)).toEqual(summary(byRecord.side));
    expect(summary(pieces.side)).toEqual(summary(byRecord.side));
    // and the client sent the same bytes in all three runs: recording changes nothing
    expect(oneChunk.out).toEqual(byRecord.out);
    expect(pieces.out).toEqual(byRecord.out);
    // The hellos carry X25519MLKEM768 shares: 1216 + 32 bytes in the ClientHello, 1120 in the ServerHello.
    expect(summary(byRecord.side).slice(0, 8)).toEqual([
      'out:client_hello:plaintext/1413',
      'in:server_hello:plaintext/1215',
      'out:change_cipher_spec:plaintext/6',
      'in:change_cipher_spec:plaintext/6',
      'in:encrypted_extensions:handshake/32',
      'in:certificate:handshake/506',
      'in:certificate_verify:handshake/101',
      'in:finished:handshake/58',
    ]);
    expect(summary(byRecord.side).filter((x) => x.startsWith('in:new_session_ticket:application/'))).toHaveLength(2);
  });

  it('records guard outcomes, false ones included, only from a traced machine; transitions always', async () => {
    const traced = await clientSide((c) => c);
    const plain = await clientSide((c) => c, clientMachine);
    const sh = (side: SideTrace) => side.steps.find((s) => s.direction === 'in' && s.message?.type === 'server_hello')!;
    expect(sh(traced.side).guards).toEqual([
      { guard: 'isValidHelloRetryRequest', result: false },
      { guard: 'isHelloRetryRequest', result: false },
      { guard: 'hasServerHelloProblem', result: false },
    ]);
    expect(sh(plain.side).guards).toEqual([]);
    for (const side of [traced.side, plain.side]) {
      expect(sh(side).transitions).toEqual([
        {
          source: 'expectServerHello',
          targets: ['client.expectEncryptedExtensions'],
          eventType: 'recv.ServerHello',
          index: 3,
          guard: null,
        },
      ]);
      expect(sh(side)).toMatchObject({
        stateBefore: 'expectServerHello',
        stateAfter: 'expectEncryptedExtensions',
        event: { type: 'recv.ServerHello' },
      });
    }
    expect(plain.out).toEqual(traced.out);
  });

  it('gives receive back when stopped', async () => {
    const sc = scenarioByName('full-handshake');
    const s = freshState(sc);
    const client = new ClientConnection(sc.handshakes[0]!.client(s));
    const rec = recordTo(client, 'client');
    expect(Object.hasOwn(client, 'receive')).toBe(true);
    rec.stop();
    expect(Object.hasOwn(client, 'receive')).toBe(false);
    await client.settled();
    expect(rec.side().steps.map((x) => x.message?.type)).toEqual([]);
  });

  it('collects a pair and a lone client into one trace that reads back and conforms', async () => {
    const sc = scenarioByName('resumption');
    const s = freshState(sc);
    const collector = new TraceCollector({ peer: 'in-memory', description: 'collector test' });
    const c1 = new ClientConnection(sc.handshakes[0]!.client(s));
    const s1 = new ServerConnection(sc.handshakes[0]!.server(s));
    collector.pair(c1, s1, 'first');
    c1.on('session', (x) => s.sessions.push(x));
    await link(c1, s1).run();
    const c2 = new ClientConnection(sc.handshakes[1]!.client(s));
    const s2 = new ServerConnection(sc.handshakes[1]!.server(s));
    collector.add(c2, 'client', 'resumed, client side only');
    await link(c2, s2).run();
    const file = join(mkdtempSync(join(tmpdir(), 'tlschart-collect-')), 'run.json');
    await collector.save(file, new Date(Date.UTC(2026, 0, 1)));
    const back = loadTrace(file);
    if (!back.ok) throw new Error(back.error);
    expect(back.trace.meta).toMatchObject({
      role: 'pair',
      peer: 'in-memory',
      description: 'collector test',
      time: '2026-01-01T00:00:00.000Z',
    });
    expect(back.trace.handshakes.map((h) => [h.label, h.sides.map((x) => x.role)])).toEqual([
      ['first', ['client', 'server']],
      ['resumed, client side only', ['client']],
    ]);
    expect(back.trace.handshakes[1]!.sides[0]!.outcome.state).toBe('connected');
    expect(checkTrace(back.trace)).toMatchObject({ conforms: true });
    expect(() => new TraceCollector({ peer: 'x' }).trace()).toThrow(/no connection/);
  });
});
