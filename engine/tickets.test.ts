import { beforeAll, describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { MemoryClientTicketCache } from '../tickets/client-cache.js';
import { decodeClientSession, encodeClientSession } from '../tickets/session-codec.js';
import { seededEnvironment } from './env.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';
import { rewriteMessage, ticketProbe } from './testing/probes.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ed25519');
});

describe('client tickets', () => {
  it('exports a session to bytes, imports it again and resumes with it', async () => {
    const first = makePair({ identity });
    await first.run();
    const bytes = encodeClientSession(first.sessions[0]!);
    const session = decodeClientSession(bytes);
    expect(session).toBeDefined();
    const p = makePair({ identity, store: first.store, env: first.env, client: { session: session! } });
    await p.run();
    expect(p.client.info?.resumed).toBe(true);
  });

  it('keeps tickets per server name in the cache and resumes with the newest', async () => {
    const cache = new MemoryClientTicketCache();
    const first = makePair({ identity });
    await first.run();
    for (const s of first.sessions) cache.add(s);
    expect(cache.take('other.example', first.env.now())).toBeUndefined();
    const newest = cache.take('localhost', first.env.now());
    expect(newest).toBe(first.sessions[1]);
    const p = makePair({ identity, store: first.store, env: first.env, client: { session: newest! } });
    await p.run();
    expect(p.client.info?.resumed).toBe(true);
  });

  it('does not keep tickets with lifetime 0 or over 604800 s', async () => {
    const lifetimes = [0, 604801];
    const p = makePair({
      identity,
      serverMachine: ticketProbe((cmds) =>
        cmds.map((c, i) =>
          c.kind === 'storeTicket'
            ? {
                ...c,
                raw: rewriteMessage(c.raw, (n) => (n.type === 'new_session_ticket' ? { ...n, ticketLifetime: lifetimes[i] ?? 1 } : n)),
              }
            : c,
        ),
      ),
    });
    await p.run();
    expect(p.client.state).toBe('connected');
    expect(p.client.context.ticketsReceived).toBe(2);
    expect(p.sessions).toHaveLength(0);
  });

  it('refuses a NewSessionTicket with an empty ticket with decode_error', async () => {
    const p = makePair({
      identity,
      serverMachine: ticketProbe((cmds) =>
        cmds.map((c) => {
          if (c.kind !== 'storeTicket') return c;
          // lifetime, age_add, nonce<0..255>, ticket<1..2^16-1> left empty, extensions<0..2^16-2>
          const body = concat(new Uint8Array([0, 0, 0x1c, 0x20, 1, 2, 3, 4, 1, 0]), new Uint8Array([0, 0]), new Uint8Array([0, 0]));
          return { ...c, raw: concat(new Uint8Array([4, 0, 0, body.length]), body) };
        }),
      ),
    });
    await p.run();
    expect(p.client.state).toBe('failed');
    expect(p.client.error?.alert).toBe('decode_error');
    expect(p.server.error?.alert).toBe('decode_error');
  });
});

describe('determinism', () => {
  it('replays a handshake byte for byte from the same seed and clock', async () => {
    const run = async () => {
      const env = seededEnvironment('replay', Date.now() - (Date.now() % 86_400_000));
      const p = makePair({ identity, env });
      const bytes: Uint8Array[] = [];
      p.client.on('output', (b) => bytes.push(b));
      p.server.on('output', (b) => bytes.push(b));
      await p.run();
      const first = makePair({ identity, env, store: p.store, client: { session: p.sessions[0]! } });
      first.client.on('output', (b) => bytes.push(b));
      first.server.on('output', (b) => bytes.push(b));
      await first.run();
      expect(first.client.info?.resumed).toBe(true);
      return Buffer.from(concat(...bytes)).toString('hex');
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThan(2000);
    expect(a).toBe(b);
  });
});
