import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEntry } from '../engine/connection.js';
import type { KeyType } from '../pki/generate.js';
import { generateSelfSigned } from '../pki/generate.js';
import { type ConnectOptions, connect } from './connect.js';
import type { ServerOptions } from './server.js';
import type { TLSSocket } from './socket.js';
import { collect, makePki, nextClientError, type Running, sessions, startServer, type TestPki } from './testing/fixtures.js';

let pki: TestPki;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  pki = await makePki('ecdsa-p256');
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// ------------------------------------------------------------ tlschart client → node:tls server

interface NodeServer {
  port: number;
  /** Server-side sockets, in accept order. */
  sockets: tls.TLSSocket[];
  server: tls.Server;
}

/** A node:tls server that greets each client and keeps the connection open (a node server that ends at once sends no tickets). */
async function nodeServer(options: tls.TlsOptions = {}): Promise<NodeServer> {
  const sockets: tls.TLSSocket[] = [];
  const server = tls.createServer({ key: pki.leaf.keyPem, cert: pki.leaf.certPem, minVersion: 'TLSv1.3', ...options }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.write(`hello ${s.isSessionReused() ? 'again' : 'stranger'}`);
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, sockets, server };
}

function dial(port: number, options: Partial<ConnectOptions> = {}): TLSSocket {
  const c = connect({ host: '127.0.0.1', servername: 'localhost', port, ca: pki.ca.certPem, ...options });
  cleanups.push(() => void c.destroy());
  return c;
}

describe('tlschart client to a node:tls server', () => {
  it('sends writes corked together as one chart event, in records node accepts, and node echoes every byte in order', async () => {
    const ns = await nodeServer();
    const entries: TraceEntry[] = [];
    const c = dial(ns.port, { trace: (e) => entries.push(e) });
    await once(c, 'data'); // node's greeting: the handshake is done
    const pieces = [1, 16383, 16385, 0, 7, 40000, 3].map((n, i) => randomBytes(n + i));
    const sent = Buffer.concat(pieces);
    const echoed: Buffer[] = [];
    let got = 0;
    const allEchoed = new Promise<void>((resolve) =>
      c.on('data', (d: Buffer) => {
        echoed.push(d);
        got += d.length;
        if (got >= sent.length) resolve();
      }),
    );
    const before = entries.length;
    c.cork();
    for (const p of pieces) c.write(p);
    c.uncork();
    await allEchoed;
    expect(Buffer.concat(echoed).equals(sent)).toBe(true);
    const writes = entries.slice(before).filter((e) => e.kind === 'transition' && e.event === 'app.write');
    // The corked writes reach the socket's _writev together: one event for the chart, one array of records.
    expect(writes).toHaveLength(1);
  });

  it('receives node sending megabytes in small writes intact and in order', async () => {
    const ns = await nodeServer();
    const c = dial(ns.port);
    await once(c, 'data');
    const sent = randomBytes(3 * 1024 * 1024 + 5);
    const received: Buffer[] = [];
    let got = 0;
    const all = new Promise<void>((resolve) =>
      c.on('data', (d: Buffer) => {
        received.push(d);
        got += d.length;
        if (got >= sent.length) resolve();
      }),
    );
    const server = ns.sockets[0];
    if (server === undefined) throw new Error('node accepted no connection');
    server.removeAllListeners('data'); // no echo: node only sends
    for (let off = 0; off < sent.length; off += 1000) server.write(sent.subarray(off, off + 1000));
    await all;
    expect(Buffer.concat(received).equals(sent)).toBe(true);
  });

  it('does a full handshake, then resumes with a ticket node sent', async () => {
    const ns = await nodeServer();
    const c1 = dial(ns.port);
    const got = sessions(c1, 2);
    const [greeting] = (await once(c1, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    const tickets = await got.first;
    expect(c1.isSessionReused()).toBe(false);

    const c2 = dial(ns.port, { session: tickets[1] as Buffer });
    const [again] = (await once(c2, 'data')) as [Buffer];
    expect(again.toString()).toBe('hello again');
    expect(c2.isSessionReused()).toBe(true);
    expect(ns.sockets[1]?.isSessionReused()).toBe(true);
  });

  it('derives the same exporter values and the same suite as node', async () => {
    const ns = await nodeServer();
    const c = dial(ns.port, { cipherSuites: ['TLS_AES_256_GCM_SHA384'] });
    await once(c, 'data');
    const theirs = ns.sockets[0] as tls.TLSSocket;
    expect(theirs.getCipher().name).toBe('TLS_AES_256_GCM_SHA384');
    const ours = c.exportKeyingMaterial(48, 'EXPORTER-tlschart-test', Buffer.from([1, 2, 3]));
    expect(theirs.exportKeyingMaterial(48, 'EXPORTER-tlschart-test', Buffer.from([1, 2, 3])).equals(ours)).toBe(true);
  });

  for (const keyType of ['ecdsa-p384', 'ed25519', 'rsa-2048'] as KeyType[]) {
    it(`verifies node's CertificateVerify made with a ${keyType} key`, async () => {
      const leaf = await generateSelfSigned({ keyType, issuer: pki.ca });
      const ns = await nodeServer({ key: leaf.keyPem, cert: leaf.certPem });
      const c = dial(ns.port);
      const [greeting] = (await once(c, 'data')) as [Buffer];
      expect(greeting.toString()).toBe('hello stranger');
      expect(c.authorized).toBe(true);
    });
  }

  it('agrees on ALPN and exchanges data that node echoes', async () => {
    const ns = await nodeServer({ ALPNProtocols: ['h2', 'http/1.1'] });
    const c = dial(ns.port, { ALPNProtocols: ['http/1.1'] });
    await once(c, 'data');
    expect(c.alpnProtocol).toBe('http/1.1');
    c.write('echo me');
    const [echo] = (await once(c, 'data')) as [Buffer];
    expect(echo.toString()).toBe('echo me');
  });

  it('authenticates with a client certificate that node verifies', async () => {
    const client = await generateSelfSigned({ keyType: 'ecdsa-p256', issuer: pki.ca, dnsNames: ['client.test'], ips: [] });
    const ns = await nodeServer({ requestCert: true, rejectUnauthorized: true, ca: pki.ca.certPem });
    const c = dial(ns.port, { cert: client.certPem, key: client.keyPem });
    await once(c, 'data');
    const theirs = ns.sockets[0] as tls.TLSSocket;
    expect(theirs.authorized).toBe(true);
    expect(theirs.getPeerCertificate().subject.CN).toBe('client.test');
  });

  it('refuses node when its certificate is from another CA, and node hears unknown_ca', async () => {
    const stranger = await makePki('ecdsa-p256');
    const ns = await nodeServer({ key: stranger.leaf.keyPem, cert: stranger.leaf.certPem });
    const nodeSide = once(ns.server, 'tlsClientError') as Promise<[Error]>;
    const c = dial(ns.port);
    const [err] = (await once(c, 'error')) as [Error & { alert?: string }];
    expect(err.alert).toBe('unknown_ca');
    const [theirs] = await nodeSide;
    expect(theirs.message).toMatch(/unknown ca/i);
  });
});

// ------------------------------------------------------------ node:tls client → tlschart server

async function serve(options: Partial<ServerOptions> = {}, onSecure?: (s: TLSSocket) => void): Promise<Running> {
  const r = await startServer({ key: pki.leaf.keyPem, cert: pki.leaf.certPem, ...options }, onSecure);
  cleanups.push(() => r.stop());
  return r;
}

const greeter = (s: TLSSocket) => {
  s.on('error', () => undefined);
  s.write(`hello ${s.isSessionReused() ? 'again' : 'stranger'}`);
  s.on('data', (d: Buffer) => s.write(d));
};

function nodeDial(port: number, options: tls.ConnectionOptions = {}): tls.TLSSocket {
  const c = tls.connect({ host: '127.0.0.1', servername: 'localhost', port, ca: pki.ca.certPem, minVersion: 'TLSv1.3', ...options });
  cleanups.push(() => void c.destroy());
  return c;
}

describe('node:tls client to a tlschart server', () => {
  it('does a full handshake that node accepts, then node resumes with a ticket from tlschart', async () => {
    const serverSockets: TLSSocket[] = [];
    const r = await serve({}, (s) => {
      serverSockets.push(s);
      greeter(s);
    });
    const c1 = nodeDial(r.port);
    const firstTicket = once(c1, 'session') as Promise<[Buffer]>;
    const [greeting] = (await once(c1, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    expect(c1.getProtocol()).toBe('TLSv1.3');
    expect(c1.authorized).toBe(true);
    expect(c1.getCipher().name).toBe('TLS_AES_128_GCM_SHA256');
    const [session] = await firstTicket;

    const c2 = nodeDial(r.port, { session });
    const [again] = (await once(c2, 'data')) as [Buffer];
    expect(again.toString()).toBe('hello again');
    expect(c2.isSessionReused()).toBe(true);
    expect(serverSockets[1]?.isSessionReused()).toBe(true);
  });

  it('logs the same key log lines as node for the same connection', async () => {
    const r = await serve({}, greeter);
    const ours: string[] = [];
    r.server.on('keylog', (line: Buffer) => ours.push(line.toString()));
    const c = nodeDial(r.port);
    const theirs: string[] = [];
    c.on('keylog', (line: Buffer) => theirs.push(line.toString()));
    await once(c, 'data');
    expect(theirs.length).toBeGreaterThanOrEqual(4);
    for (const line of theirs) expect(ours).toContain(line);
  });

  it('retries with HelloRetryRequest when node offers an x25519 share and the server takes only P-384', async () => {
    const r = await serve({ groups: ['P-384'] }, greeter);
    const c = nodeDial(r.port, { ecdhCurve: 'X25519:P-384' });
    const [greeting] = (await once(c, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    expect(c.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'secp384r1', size: 384 });
  });

  it('negotiates ALPN and the ChaCha20 suite with node', async () => {
    let alpn: string | false | null = null;
    const r = await serve({ ALPNProtocols: ['h2'] }, (s) => {
      alpn = s.alpnProtocol;
      s.end('bye');
    });
    const c = nodeDial(r.port, { ALPNProtocols: ['http/1.1', 'h2'], ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
    expect((await collect(c)).toString()).toBe('bye');
    expect(c.alpnProtocol).toBe('h2');
    expect(alpn).toBe('h2');
    expect(c.getCipher().name).toBe('TLS_CHACHA20_POLY1305_SHA256');
  });

  it('verifies the client certificate node sends when the server asks', async () => {
    const client = await generateSelfSigned({ keyType: 'rsa-2048', issuer: pki.ca, dnsNames: ['client.test'], ips: [] });
    let seen: TLSSocket | undefined;
    const r = await serve({ requestCert: true, ca: pki.ca.certPem }, (s) => {
      seen = s;
      s.end('ok');
    });
    const c = nodeDial(r.port, { cert: client.certPem, key: client.keyPem });
    expect((await collect(c)).toString()).toBe('ok');
    expect(seen?.authorized).toBe(true);
    expect(seen?.getPeerCertificate().subject).toEqual(expect.objectContaining({ CN: 'client.test' }));
  });

  it('reports a client that hung up when node refuses the certificate (node sends no alert)', async () => {
    const stranger = await makePki('ecdsa-p256');
    const r = await serve({ key: stranger.leaf.keyPem, cert: stranger.leaf.certPem });
    const ours = nextClientError(r.server);
    const c = nodeDial(r.port);
    const [theirs] = (await once(c, 'error')) as [Error & { code?: string }];
    expect(theirs.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // node checks the chain after OpenSSL's handshake and hangs up without an alert.
    expect((await ours).reason).toBe('ConnectionClosedDuringHandshake');
  });
});
