/**
 * A handshake whose transport went away is abandoned before any expensive
 * step: no key exchange and no signature for a peer that cannot read them.
 * Work is counted through a counting crypto provider passed in the
 * environment (Environment.crypto), so every primitive is seen.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../crypto/noble.js';
import type { CryptoProvider, SigningKey } from '../crypto/provider.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { defaultClientConfig, defaultServerConfig } from './config.js';
import { ClientConnection, type HandshakeGate, ServerConnection } from './connection.js';
import { seededEnvironment } from './env.js';
import { makeIdentity, makePair, type TestIdentity } from './testing/pair.js';

let identity: TestIdentity;
beforeAll(async () => {
  identity = await makeIdentity('ecdsa-p256');
});

/** The real @noble provider with every call counted by name; signatures by keys it loads count as 'sign'. */
function countingProvider(): { provider: CryptoProvider; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const provider = { ...nobleProvider, name: 'counting' } as Record<string, unknown>;
  for (const [key, value] of Object.entries(nobleProvider)) {
    if (typeof value !== 'function') continue;
    provider[key] = (...args: unknown[]) => {
      bump(key);
      const out = (value as (...a: unknown[]) => unknown)(...args);
      if (key !== 'loadSigningKey') return out;
      const k = out as SigningKey;
      return {
        kind: k.kind,
        schemes: k.schemes,
        spki: k.spki,
        sign: (s: number, m: Uint8Array) => {
          bump('sign');
          return k.sign(s, m);
        },
      };
    };
  }
  return { provider: provider as unknown as CryptoProvider, counts };
}

/** A server on a counting provider, and the ClientHello flight of a real client. */
async function serverAndHello(gate?: HandshakeGate) {
  const { provider, counts } = countingProvider();
  const env = seededEnvironment('abandon', Date.now(), provider);
  const server = new ServerConnection({
    ...defaultServerConfig({ certificates: [{ chain: identity.certified.chain, key: provider.loadSigningKey(identity.keyPem) }] }),
    env,
    ticketStore: new MemoryTicketStore(),
    ...(gate ? { gate } : {}),
  });
  server.on('error', () => undefined);
  const out: Uint8Array[] = [];
  server.on('output', (b) => out.push(b));
  const client = new ClientConnection({ ...defaultClientConfig({ serverName: 'localhost' }), env: seededEnvironment('abandon-client') });
  const hello = await new Promise<Uint8Array>((resolve) => client.once('output', resolve));
  for (const k of Object.keys(counts)) delete counts[k];
  return { server, hello, counts, out };
}

describe('abandoning a handshake whose transport closed', () => {
  it('computes the server flight (key share, signature) for a ClientHello when the peer is still there', async () => {
    const { server, hello, counts, out } = await serverAndHello();
    await server.receive(hello);
    expect(counts.acceptShare).toBe(1);
    expect(counts.sign).toBe(1);
    expect(out.length).toBeGreaterThan(0);
    expect(server.state).toBe('expectClientFinished');
  });

  it('computes nothing for a ClientHello still queued when the transport closed', async () => {
    const { server, hello, counts, out } = await serverAndHello();
    const done = server.receive(hello);
    server.abandon();
    await done;
    expect(server.abandoned).toBe(true);
    expect(counts.acceptShare ?? 0).toBe(0);
    expect(counts.sign ?? 0).toBe(0);
    expect(out).toEqual([]);
    expect(server.state).toBe('expectClientHello');
  });

  it('drops the ClientHello a gate was holding when the transport closed meanwhile, and releases the gate', async () => {
    let open!: () => void;
    let released = 0;
    const gate: HandshakeGate = () =>
      new Promise((resolve) => {
        open = () => resolve(() => released++);
      });
    const { server, hello, counts, out } = await serverAndHello(gate);
    const done = server.receive(hello);
    await new Promise((r) => setImmediate(r));
    server.abandon();
    open();
    await done;
    expect(released).toBe(1);
    expect(counts.sign ?? 0).toBe(0);
    expect(out).toEqual([]);
  });

  it('runs the chart once the gate opens and releases it after the flight was computed', async () => {
    let open!: () => void;
    const events: string[] = [];
    const gate: HandshakeGate = (msg) =>
      new Promise((resolve) => {
        events.push(`gate ${msg.type}`);
        open = () => resolve(() => events.push('released'));
      });
    const { server, hello, counts, out } = await serverAndHello(gate);
    server.on('output', () => events.push('output'));
    const done = server.receive(hello);
    await new Promise((r) => setImmediate(r));
    expect(counts.sign ?? 0).toBe(0);
    open();
    await done;
    expect(counts.sign).toBe(1);
    expect(out.length).toBeGreaterThan(0);
    expect(events[0]).toBe('gate client_hello');
    expect(events.at(-1)).toBe('released');
    expect(events.filter((e) => e === 'output').length).toBeGreaterThan(0);
  });

  it('still reports an alert the peer sent before it closed', async () => {
    const { server, counts } = await serverAndHello();
    const done = server.receive(Uint8Array.of(21, 3, 3, 0, 2, 2, 40)); // fatal handshake_failure, plaintext
    server.abandon();
    await done;
    expect(server.state).toBe('failed');
    expect(server.error).toMatchObject({ alert: 'handshake_failure', remote: true });
    expect(counts.sign ?? 0).toBe(0);
  });

  it('changes nothing once the handshake has completed', async () => {
    const p = makePair({ identity });
    await p.run();
    p.server.abandon();
    expect(p.server.abandoned).toBe(false);
    await p.client.write(new TextEncoder().encode('still here'));
    await p.run();
    expect(new TextDecoder().decode(p.received.server.at(-1))).toBe('still here');
  });
});
