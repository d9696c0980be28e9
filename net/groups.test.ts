/**
 * X25519MLKEM768 over real loopback sockets, tlschart client ↔ tlschart server,
 * and the group names the node:tls-style options accept.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TraceEntry } from '../engine/connection.js';
import { NamedGroup } from '../wire/types.js';
import type { ConnectOptions } from './connect.js';
import { parseGroups } from './options.js';
import type { ServerOptions } from './server.js';
import type { TLSSocket } from './socket.js';
import { loopback } from './testing/fixtures.js';

const fx = loopback();

async function serve(options: Partial<ServerOptions> = {}): Promise<{ port: number; sockets: TLSSocket[] }> {
  const sockets: TLSSocket[] = [];
  const r = await fx.serve(options, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.write('hi');
  });
  return { port: r.port, sockets };
}

/** One connection: waits for the server's greeting (so the tickets came first), then closes. */
async function dial(port: number, options: Partial<ConnectOptions> = {}) {
  let session: Buffer | undefined;
  const trace: TraceEntry[] = [];
  const c = fx.dial(port, { trace: (e) => trace.push(e), ...options });
  c.on('session', (s: Buffer) => (session = s));
  await once(c, 'data');
  const hellos = trace.flatMap((e) => (e.kind === 'message' && e.msg?.type === 'server_hello' ? [e.msg.isHelloRetryRequest] : []));
  c.end();
  return { c, session, hellos };
}

describe('tlschart ↔ tlschart over sockets with X25519MLKEM768', () => {
  it('negotiates the hybrid by default, full then resumed, and both ends say so', async () => {
    const { port, sockets } = await serve();
    const first = await dial(port);
    expect(first.c.handshakeInfo?.group).toBe('X25519MLKEM768');
    expect(first.c.getEphemeralKeyInfo()).toEqual({ type: 'KEM', name: 'X25519MLKEM768', size: 768 });
    expect(first.c.isSessionReused()).toBe(false);
    if (!first.session) throw new Error('no ticket from the first connection');
    const second = await dial(port, { session: first.session });
    expect(second.c.isSessionReused()).toBe(true);
    expect(second.c.handshakeInfo?.group).toBe('X25519MLKEM768');
    expect(sockets.map((s) => [s.handshakeInfo?.group, s.isSessionReused()])).toEqual([
      ['X25519MLKEM768', false],
      ['X25519MLKEM768', true],
    ]);
    expect([...first.hellos, ...second.hellos]).toEqual([false, false]);
  });

  it('uses x25519 when the client asks for it with groups, without a retry', async () => {
    const { port } = await serve();
    const r = await dial(port, { groups: 'x25519' });
    expect(r.c.handshakeInfo?.group).toBe('x25519');
    expect(r.c.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'X25519', size: 253 });
    expect(r.hellos).toEqual([false]);
  });

  it('retries for the hybrid when the server takes nothing else and the client sent only x25519', async () => {
    const { port } = await serve({ groups: 'X25519MLKEM768' });
    const r = await dial(port, { groups: ['x25519', 'X25519MLKEM768'] });
    expect(r.c.handshakeInfo?.group).toBe('X25519MLKEM768');
    expect(r.hellos).toEqual([true, false]);
  });
});

describe('group names', () => {
  it('accept X25519MLKEM768 in any case, beside the classical names', () => {
    expect(parseGroups('X25519MLKEM768,x25519')).toEqual([NamedGroup.X25519MLKEM768, NamedGroup.x25519]);
    expect(parseGroups(['x25519mlkem768', 'P-256'])).toEqual([NamedGroup.X25519MLKEM768, NamedGroup.secp256r1]);
  });

  it('refuse an unknown name and list the known ones', () => {
    expect(() => parseGroups('X25519Kyber768Draft00')).toThrow(
      /unknown group "X25519Kyber768Draft00" \(known: X25519MLKEM768, x25519, P-256, P-384\)/,
    );
  });
});
