import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';
import { utf8 } from '../crypto/bytes.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

describe('full handshake and resumption between tlschart client and server', () => {
  it('completes a full handshake and delivers application data both ways', async () => {
    const store = new MemoryTicketStore();
    const p = makePair({ store, identity });
    await p.client.write(utf8('hello server'));
    await p.run();
    expect(p.client.error).toBeUndefined();
    expect(p.server.error).toBeUndefined();
    expect(p.client.state).toBe('connected');
    expect(p.server.state).toBe('connected');
    expect(p.client.info?.resumed).toBe(false);
    expect(p.sessions.length).toBe(2);
    expect(new TextDecoder().decode(p.received.server[0])).toBe('hello server');
  });
});

describe('scratch resumption', () => {
  it('resumes', async () => {
    const p1 = makePair({ identity });
    await p1.run();
    const session = p1.sessions[0];
    const p2 = makePair({ store: p1.store, identity, client: { session }, env: p1.env });
    await p2.run();
    console.log(p2.client.error, p2.server.error, p2.client.state, p2.server.state, p2.client.info, p2.sessions.length);
    expect(p2.client.info?.resumed).toBe(true);
  });
});
