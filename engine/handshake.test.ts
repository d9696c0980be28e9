import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../crypto/bytes.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';

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
