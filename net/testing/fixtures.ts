/** Helpers for the net/ tests: certificates, servers on ephemeral loopback ports, collecting streams. */
import { once } from 'node:events';
import { type AddressInfo, type Server as NetServer, createServer as netCreateServer, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { afterEach, beforeAll } from 'vitest';
import { type GeneratedCertificate, generateSelfSigned, type KeyType } from '../../pki/generate.js';
import type { TlsError } from '../../wire/alerts.js';
import { type ConnectOptions, connect } from '../connect.js';
import { createServer, type Server, type ServerOptions } from '../server.js';
import type { TLSSocket } from '../socket.js';

export interface TestPki {
  /** A CA and a leaf it issued for localhost / 127.0.0.1. */
  ca: GeneratedCertificate;
  leaf: GeneratedCertificate;
}

export async function makePki(keyType: KeyType = 'ecdsa-p256', names: { dnsNames?: string[]; ips?: string[] } = {}): Promise<TestPki> {
  const ca = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'tlschart net test CA' });
  const leaf = await generateSelfSigned({
    keyType,
    issuer: ca,
    dnsNames: names.dnsNames ?? ['localhost'],
    ips: names.ips ?? ['127.0.0.1'],
  });
  return { ca, leaf };
}

export interface Running {
  server: Server;
  port: number;
  /** Stop listening and destroy what is still open. */
  stop(): Promise<void>;
}

export async function listen(server: Server): Promise<Running> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export async function startServer(options: ServerOptions, onSecure?: (s: TLSSocket) => void): Promise<Running> {
  return listen(createServer(options, onSecure));
}

/** Everything a readable delivers until 'end' (rejects on 'error'). */
export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** The first 'error' event of an emitter, or a rejection naming what happened instead. */
export function nextError(e: NodeJS.EventEmitter, within = 10_000): Promise<TlsError & { code?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error event')), within);
    e.once('error', (err: TlsError) => {
      clearTimeout(timer);
      resolve(err);
    });
    e.once('secureConnect', () => {
      clearTimeout(timer);
      reject(new Error('the handshake succeeded'));
    });
  });
}

/** Resolve with the server's first tlsClientError. */
export function nextClientError(server: Server, within = 10_000): Promise<TlsError> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no tlsClientError')), within);
    server.once('tlsClientError', (err: TlsError) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

/** Sessions a client socket emits, and a promise for the first `n`. */
export function sessions(socket: TLSSocket, n = 1): { list: Buffer[]; first: Promise<Buffer[]> } {
  const list: Buffer[] = [];
  const first = new Promise<Buffer[]>((resolve, reject) => {
    socket.on('session', (s: Buffer) => {
      list.push(s);
      if (list.length === n) resolve([...list]);
    });
    socket.once('error', reject);
  });
  return { list, first };
}

/** What a net/ test file works with: see `loopback()`. */
export interface Loopback {
  /** The file's CA and leaf (localhost, 127.0.0.1), made once before its tests. */
  readonly pki: TestPki;
  /** A tlschart server with the leaf, on a free loopback port. */
  serve(options?: Partial<ServerOptions>, onSecure?: (s: TLSSocket) => void): Promise<Running>;
  /** A tlschart client to 127.0.0.1:`port` for localhost, trusting the CA. */
  dial(port: number, options?: Partial<ConnectOptions>): TLSSocket;
  /** A plain TCP server whose connections `onConnection` handles; its port. */
  rawServer(onConnection: (s: Socket) => void): Promise<number>;
  /** A socket opened some other way, destroyed with the others. */
  track<T extends TLSSocket | Socket>(socket: T): T;
}

/**
 * The loopback fixture of a net/ test file (call it at the top level): the
 * PKI before the tests, and after each test every socket it dialled or
 * tracked destroyed, then every server it started stopped.
 */
export function loopback(keyType: KeyType = 'ecdsa-p256'): Loopback {
  let pki: TestPki | undefined;
  const sockets: Array<TLSSocket | Socket> = [];
  const running: Running[] = [];
  const rawServers: NetServer[] = [];
  beforeAll(async () => {
    pki = await makePki(keyType);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const r of running.splice(0)) await r.stop();
    for (const s of rawServers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
  });
  const fixture: Loopback = {
    get pki(): TestPki {
      if (!pki) throw new Error('the loopback PKI is made in beforeAll: use it inside a test');
      return pki;
    },
    async serve(options = {}, onSecure) {
      const r = await startServer({ key: fixture.pki.leaf.keyPem, cert: fixture.pki.leaf.certPem, ...options }, onSecure);
      running.push(r);
      return r;
    },
    dial(port, options = {}) {
      const c = connect({ host: '127.0.0.1', servername: 'localhost', port, ca: fixture.pki.ca.certPem, ...options });
      sockets.push(c);
      return c;
    },
    async rawServer(onConnection) {
      const s = netCreateServer(onConnection);
      rawServers.push(s);
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      return (s.address() as AddressInfo).port;
    },
    track(socket) {
      sockets.push(socket);
      return socket;
    },
  };
  return fixture;
}
