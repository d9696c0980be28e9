/** Helpers for the net/ tests: certificates, servers on ephemeral loopback ports, collecting streams. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { type GeneratedCertificate, generateSelfSigned, type KeyType } from '../../pki/generate.js';
import type { TlsError } from '../../wire/alerts.js';
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
