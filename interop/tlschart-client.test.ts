/**
 * tlschart's client (net/connect) against real TLS 1.3 servers: OpenSSL,
 * GnuTLS, Node's tls and Go's crypto/tls. Each case does a full handshake,
 * keeps a ticket, and resumes with it; both ends are checked where the peer
 * reports resumption.
 */
import type { TestContext } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { receivedServerHello, runTlschartClient, sawHelloRetryRequest, type TlschartRun } from '../net/testing/run-client.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import {
  buildGo,
  type CertFiles,
  type CertKind,
  findPeer,
  makeCert,
  type Peer,
  parseConnectionLines,
  requirePeer,
  startGnutlsServer,
  startGoServer,
  startNodeTlsServer,
  startOpensslServer,
} from './peers.js';

const HTTP_GET = 'GET / HTTP/1.0\r\n\r\n';
const peers: Peer[] = [];
const certs = new Map<CertKind, Promise<CertFiles>>();

function cert(kind: CertKind): Promise<CertFiles> {
  let c = certs.get(kind);
  if (!c) {
    c = makeCert(kind);
    certs.set(kind, c);
  }
  return c;
}

async function track(p: Promise<Peer>): Promise<Peer> {
  const peer = await p;
  peers.push(peer);
  return peer;
}

beforeAll(async () => {
  // A cold Go build takes ~20-30 s; do it once here rather than inside a test.
  if ('path' in findPeer('go')) await buildGo();
}, 300_000);

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  for (const c of certs.values()) await (await c).remove();
});

/** Full handshake (keeping the newest ticket), then a resumption with it. */
async function fullThenResumed(port: number, ca: string, send: string, extra: Parameters<typeof runTlschartClient>[0]['options'] = {}) {
  // An HTTP request is answered and closed by the server; anything else is echoed.
  const until = send === HTTP_GET ? {} : { until: send };
  const full = await runTlschartClient({ port, ca, send, options: extra, ...until });
  expect(full.socket.isSessionReused()).toBe(false);
  expect(full.sessions.length).toBeGreaterThan(0);
  const resumed = await runTlschartClient({ port, ca, send, session: full.sessions.at(-1), options: extra, ...until });
  return { full, resumed };
}

function serverHelloExtensions(run: TlschartRun): string[] {
  return receivedServerHello(run.trace)?.extensions.map((e) => e.type) ?? [];
}

describe('tlschart client to openssl s_server -tls1_3 -num_tickets 2', () => {
  for (const kind of ['rsa', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as CertKind[]) {
    it(`does a full handshake with a ${kind} certificate, then resumes`, async (ctx: TestContext) => {
      requirePeer(ctx, 'openssl');
      const c = await cert(kind);
      const server = await track(startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args: ['-num_tickets', '2', '-www'] }));
      const { full, resumed } = await fullThenResumed(server.port, c.certPem, HTTP_GET);
      expect(full.sessions).toHaveLength(2);
      expect(full.socket.authorized).toBe(true);
      expect(full.received).toMatch(/New, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
      expect(resumed.socket.isSessionReused()).toBe(true);
      // s_server's status page says so too.
      expect(resumed.received).toMatch(/Reused, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
      expect(serverHelloExtensions(resumed)).toEqual(expect.arrayContaining(['pre_shared_key_server', 'key_share_server']));
    });
  }

  it('resumes with psk_dhe_ke against -allow_no_dhe_kex: the ServerHello still carries a key_share', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const c = await cert('ecdsa-p256');
    const server = await track(
      startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args: ['-num_tickets', '2', '-allow_no_dhe_kex', '-www'] }),
    );
    const { resumed } = await fullThenResumed(server.port, c.certPem, HTTP_GET);
    expect(resumed.socket.isSessionReused()).toBe(true);
    const sh = receivedServerHello(resumed.trace);
    expect(sh && findExtension(sh.extensions, 'pre_shared_key_server')?.selectedIdentity).toBe(0);
    expect(sh && findExtension(sh.extensions, 'key_share_server')?.share.group).toBeDefined();
    // What tlschart offered: psk_dhe_ke only, never psk_ke.
    const sent = resumed.trace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'client_hello');
    const hello = sent?.kind === 'message' ? decodeHandshake(sent.raw) : undefined;
    const modes =
      hello?.ok && hello.value.type === 'client_hello' ? findExtension(hello.value.extensions, 'psk_key_exchange_modes')?.modes : undefined;
    expect(modes).toEqual([1]);
  });

  it('answers a HelloRetryRequest from -groups P-256 when it offered an x25519 share first', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const c = await cert('ecdsa-p256');
    const server = await track(
      startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args: ['-num_tickets', '2', '-groups', 'P-256', '-www'] }),
    );
    const { full, resumed } = await fullThenResumed(server.port, c.certPem, HTTP_GET, { groups: ['x25519', 'P-256'] });
    expect(sawHelloRetryRequest(full.trace)).toBe(true);
    expect(full.socket.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'prime256v1', size: 256 });
    expect(resumed.socket.isSessionReused()).toBe(true);
  });

  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    it(`negotiates ${suite} and resumes with it`, async (ctx: TestContext) => {
      requirePeer(ctx, 'openssl');
      const c = await cert('ecdsa-p256');
      const server = await track(startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args: ['-num_tickets', '2', '-www'] }));
      const { full, resumed } = await fullThenResumed(server.port, c.certPem, HTTP_GET, { cipherSuites: [suite] });
      expect(full.socket.getCipher()?.name).toBe(suite);
      expect(full.received).toContain(`Cipher is ${suite}`);
      expect(resumed.socket.isSessionReused()).toBe(true);
      expect(resumed.received).toContain(`Reused, TLSv1.3, Cipher is ${suite}`);
    });
  }
});

describe('tlschart client to gnutls-serv', () => {
  it('does a full handshake, then resumes', async (ctx: TestContext) => {
    requirePeer(ctx, 'gnutls-serv');
    const c = await cert('ecdsa-p256');
    const server = await track(startGnutlsServer({ certPem: c.certPem, keyPem: c.keyPem, mode: 'echo' }));
    const { full, resumed } = await fullThenResumed(server.port, c.certPem, 'ping\n', {});
    expect(full.received).toBe('ping\n');
    expect(resumed.socket.isSessionReused()).toBe(true);
    expect(resumed.received).toBe('ping\n');
    await server.waitForOutput('This is a resumed session');
  });
});

describe('tlschart client to a node:tls server', () => {
  it('does a full handshake, then resumes', async () => {
    const c = await cert('ecdsa-p256');
    const server = await track(startNodeTlsServer({ certPem: c.certPem, keyPem: c.keyPem }));
    const { full, resumed } = await fullThenResumed(server.port, c.certPem, 'ping\n', {});
    expect(full.received).toBe('ping\n');
    expect(resumed.socket.isSessionReused()).toBe(true);
    await server.waitForOutput(/conn=2 resumed=true/);
    expect(parseConnectionLines(server.output()).map((l) => l.resumed)).toEqual(['false', 'true']);
  });
});

describe('tlschart client to a Go crypto/tls server', () => {
  it('does a full handshake, then resumes', async (ctx: TestContext) => {
    requirePeer(ctx, 'go');
    const c = await cert('ecdsa-p256');
    const server = await track(startGoServer({ certPem: c.certPem, keyPem: c.keyPem }));
    const { full, resumed } = await fullThenResumed(server.port, c.certPem, 'ping\n', { groups: ['x25519'] });
    expect(full.received).toBe('ping\n');
    expect(resumed.socket.isSessionReused()).toBe(true);
    await server.waitForOutput(/conn=2 resumed=true/);
  });

  it('answers the HelloRetryRequest of a Go server that takes only P-384', async (ctx: TestContext) => {
    requirePeer(ctx, 'go');
    const c = await cert('ecdsa-p384');
    const server = await track(startGoServer({ certPem: c.certPem, keyPem: c.keyPem, groups: ['P-384'] }));
    const run = await runTlschartClient({ port: server.port, ca: c.certPem, send: 'ping\n', until: 'ping\n' });
    expect(sawHelloRetryRequest(run.trace)).toBe(true);
    expect(run.socket.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'secp384r1', size: 384 });
  });
});
