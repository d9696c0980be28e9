/**
 * tlschart's default ClientHello (X25519MLKEM768 + x25519 shares) against the
 * Debian peers that do not know the hybrid group — OpenSSL 3.0, GnuTLS 3.7,
 * Go 1.19's crypto/tls and Node 20's tls: each ignores the 1216-byte share and
 * answers the x25519 one, with no HelloRetryRequest, full then resumed.
 */
import type { TestContext } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { receivedServerHello, runTlschartClient, sawHelloRetryRequest, type TlschartRun } from '../net/testing/run-client.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import { NamedGroup } from '../wire/types.js';
import {
  buildGo,
  type CertFiles,
  findPeer,
  makeCert,
  type Peer,
  requirePeer,
  startGnutlsServer,
  startGoServer,
  startNodeTlsServer,
  startOpensslServer,
} from './peers.js';

const peers: Peer[] = [];
let c: CertFiles;

beforeAll(async () => {
  if ('path' in findPeer('go')) await buildGo();
  c = await makeCert('ecdsa-p256');
}, 300_000);
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await c.remove();
});

/** The key-share groups of the ClientHello tlschart sent. */
function sentShares(run: TlschartRun): number[] {
  const sent = run.trace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'client_hello');
  const d = sent?.kind === 'message' ? decodeHandshake(sent.raw) : undefined;
  return d?.ok && d.value.type === 'client_hello'
    ? (findExtension(d.value.extensions, 'key_share_client')?.shares ?? []).map((s) => s.group)
    : [];
}

async function expectX25519FullThenResumed(port: number, send: string, until?: string): Promise<void> {
  const opts = { port, ca: c.certPem, send, ...(until ? { until } : {}) };
  const full = await runTlschartClient(opts);
  const resumed = await runTlschartClient({ ...opts, session: full.sessions.at(-1) });
  for (const [run, reused] of [
    [full, false],
    [resumed, true],
  ] as const) {
    expect(sentShares(run)).toEqual([NamedGroup.X25519MLKEM768, NamedGroup.x25519]);
    expect(sawHelloRetryRequest(run.trace)).toBe(false);
    const sh = receivedServerHello(run.trace);
    expect(sh && findExtension(sh.extensions, 'key_share_server')?.share.group).toBe(NamedGroup.x25519);
    expect(run.socket.handshakeInfo?.group).toBe('x25519');
    expect(run.socket.isSessionReused()).toBe(reused);
  }
}

describe("tlschart's default hybrid ClientHello to peers without X25519MLKEM768", () => {
  it('openssl s_server (OpenSSL 3.0) answers x25519, full then resumed', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const server = await startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args: ['-num_tickets', '2', '-www'] });
    peers.push(server);
    await expectX25519FullThenResumed(server.port, 'GET / HTTP/1.0\r\n\r\n');
  });

  it('gnutls-serv (GnuTLS 3.7) answers x25519, full then resumed', async (ctx: TestContext) => {
    requirePeer(ctx, 'gnutls-serv');
    const server = await startGnutlsServer({ certPem: c.certPem, keyPem: c.keyPem, mode: 'echo' });
    peers.push(server);
    await expectX25519FullThenResumed(server.port, 'ping\n', 'ping\n');
  });

  it("Go 1.19's crypto/tls answers x25519, full then resumed", async (ctx: TestContext) => {
    requirePeer(ctx, 'go');
    const server = await startGoServer({ certPem: c.certPem, keyPem: c.keyPem });
    peers.push(server);
    await expectX25519FullThenResumed(server.port, 'ping\n', 'ping\n');
  });

  it("Node 20's tls (OpenSSL 3.0) answers x25519, full then resumed", async () => {
    const server = await startNodeTlsServer({ certPem: c.certPem, keyPem: c.keyPem });
    peers.push(server);
    await expectX25519FullThenResumed(server.port, 'ping\n', 'ping\n');
  });
});
