/**
 * What a connection keeps and how often the chart runs once it is up: the
 * commands the engine carried out are dropped by compact(), and application
 * data records that arrive together reach the chart as one event.
 */
import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { makeIdentity, makePair } from './testing/pair.js';

describe('a connection once it is up', () => {
  it('keeps no carried-out command after compact(), and keeps working', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    await p.server.compact();
    await p.client.compact();
    await p.client.write(new Uint8Array(100).fill(1));
    await p.server.write(new Uint8Array(200).fill(2));
    await p.run();
    expect(p.server.context.outbox.map((c) => c.kind).sort()).toEqual(['deliver', 'sendApplicationData']);
    expect(p.client.context.outbox.map((c) => c.kind).sort()).toEqual(['deliver', 'sendApplicationData']);
    await p.server.compact();
    await p.client.compact();
    expect(p.server.context.outbox).toEqual([]);
    expect(p.client.context.outbox).toEqual([]);
    await p.client.write(new Uint8Array(300).fill(3));
    await p.run();
    expect(p.received.server.map((d) => d.length)).toEqual([100, 300]);
    expect(p.server.state).toBe('connected');
  });

  it('is compacted by the engine itself every 16 commands', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    for (let i = 0; i < 40; i++) await p.client.write(new Uint8Array([i]));
    await p.run();
    expect(p.client.context.outbox.length).toBeLessThanOrEqual(16);
    expect(p.server.context.outbox.length).toBeLessThanOrEqual(16);
    expect(p.received.server).toHaveLength(40);
  });

  it('hands application data records that arrive together to the chart as one event, in order', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    const data = new Uint8Array(3 * 16384 + 10).map((_, i) => i % 251);
    await p.client.write(data); // four records, one chunk of bytes
    const before = p.serverTrace.length;
    await p.run();
    // One event, so one 'appdata' step in the engine's trace, with every byte, and one transition of the chart.
    const steps = p.serverTrace.slice(before).filter((e) => e.kind === 'appdata' && e.direction === 'in');
    expect(steps).toEqual([{ kind: 'appdata', direction: 'in', length: data.length }]);
    const transitions = p.serverTrace.slice(before).filter((e) => e.kind === 'transition' && e.event === 'recv.ApplicationData');
    expect(transitions).toHaveLength(1);
    // The records' contents are handed on as they were opened, not joined.
    expect(p.received.server.map((d) => d.length)).toEqual([16384, 16384, 16384, 10]);
    expect(concat(...p.received.server)).toEqual(data);
  });

  it('still hands over data and a close_notify that arrive together in their order', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    await p.client.write(new Uint8Array(20000).fill(9));
    await p.client.close();
    let ended = false;
    p.server.on('end', () => (ended = true));
    await p.run();
    expect(p.received.server.map((d) => d.length)).toEqual([16384, 20000 - 16384]);
    expect(ended).toBe(true);
  });
});
