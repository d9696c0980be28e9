/**
 * The two TLS stacks the benchmarks compare, behind one small interface:
 * tlschart (net/, with a chosen crypto provider) and node:tls (OpenSSL).
 * Both use the same ECDSA P-256 certificate, TLS_AES_128_GCM_SHA256 and
 * x25519, and every client trusts the certificate (full chain validation).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import { generateSelfSigned } from '../pki/generate.js';

/** Which crypto provider tlschart runs on: node:crypto or pure-JavaScript @noble. */
export type ProviderName = 'node' | 'noble';

export const SUITE = 'TLS_AES_128_GCM_SHA256';

export interface Identity {
  certPem: string;
  keyPem: string;
}

export async function benchIdentity(): Promise<Identity> {
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  return { certPem, keyPem };
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** What a server does with each connection once it is secure. */
export type OnSecure = (socket: Duplex) => void;

export interface Side {
  name: string;
  listen(id: Identity, onSecure: OnSecure): Promise<Listening>;
  /** A client socket; `onSecure` runs once the handshake completed. */
  connect(id: Identity, port: number, session: Buffer | undefined, onSecure: () => void): ClientSocket;
}

/** The part of a TLS client socket the benchmarks use (both stacks have it). */
export interface ClientSocket extends Duplex {
  isSessionReused(): boolean;
}

async function listening(
  server: { listen(port: number, host: string): unknown; address(): AddressInfo | string | null } & NodeJS.EventEmitter,
  close: () => Promise<void>,
): Promise<Listening> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close };
}

export function tlschartSide(crypto: ProviderName): Side {
  return {
    name: `tlschart (${crypto})`,
    listen(id, onSecure) {
      const server = createServer({ key: id.keyPem, cert: id.certPem, cipherSuites: SUITE, groups: 'x25519', crypto }, onSecure);
      return listening(
        server,
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
    },
    connect(id, port, session, onSecure) {
      return connect(
        {
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: id.certPem,
          cipherSuites: SUITE,
          groups: 'x25519',
          crypto,
          ...(session ? { session } : {}),
        },
        onSecure,
      );
    },
  };
}

export const nodeTlsSide: Side = {
  name: 'node:tls',
  listen(id, onSecure) {
    const sockets = new Set<tls.TLSSocket>();
    const server = tls.createServer(
      { key: id.keyPem, cert: id.certPem, minVersion: 'TLSv1.3', ciphers: SUITE, ecdhCurve: 'X25519' },
      (s) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
        onSecure(s);
      },
    );
    return listening(
      server,
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
    );
  },
  connect(id, port, session, onSecure) {
    return tls.connect(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: id.certPem,
        minVersion: 'TLSv1.3',
        ciphers: SUITE,
        ecdhCurve: 'X25519',
        ...(session ? { session } : {}),
      },
      onSecure,
    );
  },
};

/** A server behaviour: echo every byte back, end when the client ends. */
export const echo: OnSecure = (s) => {
  s.on('data', (d: Buffer) => s.write(d));
  s.on('end', () => s.end());
  s.on('error', () => s.destroy());
};
