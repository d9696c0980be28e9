/**
 * Handshakes per second over loopback TCP, tlschart and node:tls side by side
 * in the same run, full and resumed, reported as ratios (tlschart / node).
 *
 *   npm run bench                 # 200 handshakes per kind
 *   BENCH_N=1000 npm run bench
 *
 * Both servers use the same ECDSA P-256 certificate and the client trusts it;
 * every connection sends one byte and waits for the echo so tickets arrive.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import { generateSelfSigned } from '../pki/generate.js';

const N = Number(process.env.BENCH_N ?? 200);

interface Side {
  name: string;
  /** One connection: resolves with the session to reuse next time. */
  connect(port: number, session: Buffer | undefined): Promise<{ session: Buffer | undefined; reused: boolean }>;
  listen(): Promise<{ port: number; close(): Promise<void> }>;
}

async function main(): Promise<void> {
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256' });

  const echo = (s: NodeJS.ReadWriteStream & { end(): void }) => {
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  };

  const tlschart: Side = {
    name: 'tlschart',
    async listen() {
      const server = createServer({ key: keyPem, cert: certPem }, (s) => echo(s));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return {
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
      };
    },
    connect: (port, session) =>
      new Promise((resolve, reject) => {
        let latest: Buffer | undefined;
        const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certPem, ...(session ? { session } : {}) });
        c.on('session', (s: Buffer) => (latest = s));
        c.on('error', reject);
        c.once('data', () => {
          const reused = c.isSessionReused();
          c.end();
          c.once('close', () => resolve({ session: latest, reused }));
        });
        c.write('x');
      }),
  };

  const node: Side = {
    name: 'node:tls',
    async listen() {
      const server = tls.createServer({ key: keyPem, cert: certPem, minVersion: 'TLSv1.3' }, (s) => echo(s));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
    },
    connect: (port, session) =>
      new Promise((resolve, reject) => {
        let latest: Buffer | undefined;
        const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certPem, minVersion: 'TLSv1.3', ...(session ? { session } : {}) });
        c.on('session', (s: Buffer) => (latest = s));
        c.on('error', reject);
        c.once('data', () => {
          const reused = c.isSessionReused();
          c.end();
          c.once('close', () => resolve({ session: latest, reused }));
        });
        c.write('x');
      }),
  };

  const rate = async (side: Side, resumed: boolean): Promise<number> => {
    const server = await side.listen();
    try {
      let { session } = await side.connect(server.port, undefined); // warm-up, and a first ticket
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        const r = await side.connect(server.port, resumed ? session : undefined);
        if (resumed && !r.reused) throw new Error(`${side.name}: connection ${i} did not resume`);
        session = r.session ?? session;
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return N / seconds;
    } finally {
      await server.close();
    }
  };

  console.log(`handshakes per second over loopback TCP, ${N} connections each (client and server in one process)`);
  console.log('kind      tlschart   node:tls   ratio');
  for (const resumed of [false, true]) {
    const ours = await rate(tlschart, resumed);
    const theirs = await rate(node, resumed);
    const kind = resumed ? 'resumed' : 'full   ';
    console.log(`${kind}  ${ours.toFixed(1).padStart(8)}   ${theirs.toFixed(1).padStart(8)}   ${(ours / theirs).toFixed(3)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
