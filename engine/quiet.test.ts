/**
 * What a connection keeps and how often the chart runs once it is up: the
 * commands the engine carried out are dropped by compact(), and application
 * data records that arrive together reach the chart as one event.
 */
import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { OUTBOX_COMPACT_AT } from './connection.js';
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

  it(`is compacted by the engine itself every ${OUTBOX_COMPACT_AT} commands, but not just for completing a handshake`, async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    // A handshake alone leaves fewer commands than that: no chart step is spent emptying them.
    expect(p.client.context.outbox.length).toBeGreaterThan(0);
    expect(p.server.context.outbox.length).toBeGreaterThan(0);
    const writes = 2 * OUTBOX_COMPACT_AT + 8;
    for (let i = 0; i < writes; i++) await p.client.write(new Uint8Array([i]));
    await p.run();
    expect(p.client.context.outbox.length).toBeLessThanOrEqual(OUTBOX_COMPACT_AT);
    expect(p.server.context.outbox.length).toBeLessThanOrEqual(OUTBOX_COMPACT_AT);
    expect(p.received.server).toHaveLength(writes);
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

  it('sends writes given together as one chart event, cut into full records across them, and they arrive intact and in order', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    const parts = [new Uint8Array(10000).fill(1), new Uint8Array(0), new Uint8Array(10000).fill(2), new Uint8Array(30000).fill(3)];
    const before = p.clientTrace.length;
    const sequence = p.client.context.outbox.length;
    await p.client.write(parts);
    const writes = p.clientTrace.slice(before).filter((e) => e.kind === 'transition' && e.event === 'app.write');
    expect(writes).toHaveLength(1);
    const records = p.clientTrace.slice(before).filter((e) => e.kind === 'record' && e.direction === 'out');
    // 50000 bytes: three full records and one of 848, one array (tag 16 + type byte + header 5 per record).
    expect(records.map((r) => (r.kind === 'record' ? r.length : 0))).toEqual([3 * (16384 + 22) + 848 + 22]);
    expect(p.client.context.outbox.length).toBe(sequence + 1);
    await p.run();
    expect(p.received.server.map((d) => d.length)).toEqual([16384, 16384, 16384, 848]);
    expect(concat(...p.received.server)).toEqual(concat(...parts));
  });

  it('processes chunks received together as one stream: the records among them reach the chart as one event', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    const wire: Uint8Array[] = [];
    p.client.on('output', (b) => wire.push(b));
    const data = new Uint8Array(40000).map((_, i) => (i * 7) % 256);
    await p.client.write(data.subarray(0, 25000));
    await p.client.write(data.subarray(25000));
    // Cut the bytes anywhere, mid-record and mid-header, and give them to the server at once.
    const bytes = concat(...wire);
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 20000), bytes.subarray(20000, 20003), bytes.subarray(20003)];
    const before = p.serverTrace.length;
    await p.server.receive(chunks);
    const events = p.serverTrace.slice(before).filter((e) => e.kind === 'transition' && e.event === 'recv.ApplicationData');
    expect(events).toHaveLength(1);
    expect(concat(...p.received.server)).toEqual(data);
    expect(p.server.state).toBe('connected');
  });

  it('empties the outbox once the data of its carried-out commands passes 1 MiB, before 16 commands', async () => {
    const p = makePair({ identity: await makeIdentity('ed25519') });
    await p.run();
    await p.client.compact();
    const chunk = new Uint8Array(300 * 1024).fill(7);
    for (let i = 0; i < 3; i++) await p.client.write(chunk);
    expect(p.client.context.outbox.filter((c) => c.kind === 'sendApplicationData')).toHaveLength(3);
    // 1200 KiB sent in four commands: emptied after the fourth.
    await p.client.write(chunk);
    expect(p.client.context.outbox.filter((c) => c.kind === 'sendApplicationData')).toHaveLength(0);
    await p.client.write(chunk);
    expect(p.client.context.outbox.filter((c) => c.kind === 'sendApplicationData')).toHaveLength(1);
    await p.run();
    expect(concat(...p.received.server).length).toBe(5 * chunk.length);
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
