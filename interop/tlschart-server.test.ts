/**
 * tlschart's server (net/createServer) against real TLS 1.3 clients:
 * openssl s_client, gnutls-cli, Node's tls and Go's crypto/tls. Resumption is
 * checked at both ends: the client's own report and the server socket's
 * isSessionReused(). 0-RTT data offered by OpenSSL must never be accepted nor
 * reach the application.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEntry } from '../engine/connection.js';
import type { ServerOptions } from '../net/server.js';
import type { TLSSocket } from '../net/socket.js';
import { type Running, startServer } from '../net/testing/fixtures.js';
import { generateSelfSigned } from '../pki/generate.js';
import {
  buildGo,
  type CertFiles,
  findPeer,
  makeCert,
  makeTempDir,
  type Peer,
  requirePeer,
  runGnutlsCli,
  runGoClient,
  runNodeTlsClient,
  runOpensslClient,
  startOpensslServer,
  type TempDir,
} from './peers.js';

interface Seen {
  socket: TLSSocket;
  /** Everything the application received on this connection. */
  data: string;
  trace: TraceEntry[];
}

let identity: CertFiles;
let tmp: TempDir;
const servers: Running[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  if ('path' in findPeer('go')) await buildGo();
  identity = await makeCert('ecdsa-p256');
  tmp = await makeTempDir();
}, 300_000);

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  for (const s of servers.splice(0)) await s.stop();
});

afterAll(async () => {
  await identity.remove();
  await tmp.remove();
});

/**
 * A tlschart server that answers the first data of each connection with
 * "tlschart resumed=<yes|no>" and closes; `seen` lists the connections in the
 * order their handshakes completed.
 */
async function tlschartServer(
  options: Partial<ServerOptions> = {},
): Promise<{ port: number; seen: Seen[]; traces: Map<TLSSocket, TraceEntry[]> }> {
  const seen: Seen[] = [];
  const traces = new Map<TLSSocket, TraceEntry[]>();
  const r = await startServer(
    {
      key: identity.keyPem,
      cert: identity.certPem,
      trace: (e, s) => {
        const list = traces.get(s) ?? [];
        list.push(e);
        traces.set(s, list);
      },
      ...options,
    },
    (socket) => {
      const entry: Seen = { socket, data: '', trace: traces.get(socket) ?? [] };
      seen.push(entry);
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        const first = entry.data === '';
        entry.data += d.toString('utf8');
        if (first) socket.end(`tlschart resumed=${socket.isSessionReused() ? 'yes' : 'no'}\n`);
      });
    },
  );
  servers.push(r);
  return { port: r.port, seen, traces };
}

const sessionFile = (name: string) => path.join(tmp.path, `${name}-${Math.random().toString(36).slice(2)}.pem`);

describe('openssl s_client to a tlschart server', () => {
  it('-sess_out then -sess_in: New, then Reused, TLSv1.3', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const srv = await tlschartServer();
    const sess = sessionFile('s_client');
    const first = await runOpensslClient({
      port: srv.port,
      sessOut: sess,
      stdin: 'hello\n',
      args: ['-ign_eof', '-CAfile', identity.certFile],
    });
    expect(first.output).toMatch(/New, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
    expect(first.output).toMatch(/Verify return code: 0 \(ok\)/);
    expect(first.output).toContain('tlschart resumed=no');
    const second = await runOpensslClient({ port: srv.port, sessIn: sess, stdin: 'hello\n', args: ['-ign_eof'] });
    expect(second.output).toMatch(/Reused, TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
    expect(second.output).toContain('tlschart resumed=yes');
    expect(srv.seen.map((s) => s.socket.isSessionReused())).toEqual([false, true]);
  });

  it('earlyTickets: an s_client that closes as soon as its handshake ends still keeps a ticket, and resumes with it', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const srv = await tlschartServer({ earlyTickets: true });
    // No -ign_eof and nothing on stdin: s_client closes right after its Finished (as testssl.sh runs it).
    // It keeps a session only if a NewSessionTicket was processed before then; -sess_in then resumes.
    const files = [sessionFile('early-1'), sessionFile('early-2'), sessionFile('early-3')];
    for (const sessOut of files) {
      const run = await runOpensslClient({ port: srv.port, sessOut, args: ['-CAfile', identity.certFile] });
      expect(run.output).toMatch(/New, TLSv1\.3/);
    }
    for (const sessIn of files) {
      const run = await runOpensslClient({ port: srv.port, sessIn, stdin: 'hello\n', args: ['-ign_eof'] });
      expect(run.output).toMatch(/Reused, TLSv1\.3/);
    }
    // The tickets left with the server's flight: before the client Finished arrived.
    const first = srv.seen[0] as Seen;
    const index = (direction: string, name: string) =>
      first.trace.findIndex((e) => e.kind === 'message' && e.direction === direction && e.name === name);
    expect(index('out', 'new_session_ticket')).toBeGreaterThan(index('out', 'finished'));
    expect(index('out', 'new_session_ticket')).toBeLessThan(index('in', 'finished'));
    expect(srv.seen.map((s) => s.socket.isSessionReused())).toEqual([false, false, false, true, true, true]);
  });

  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    it(`serves ${suite} when the client asks only for it`, async (ctx: TestContext) => {
      requirePeer(ctx, 'openssl');
      const srv = await tlschartServer();
      const run = await runOpensslClient({ port: srv.port, stdin: 'hi\n', args: ['-ign_eof', '-ciphersuites', suite] });
      expect(run.output).toContain(`New, TLSv1.3, Cipher is ${suite}`);
      expect(srv.seen[0]?.socket.getCipher()?.name).toBe(suite);
    });
  }

  it('sends a HelloRetryRequest to a client whose key share is for a group the server does not take', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const srv = await tlschartServer({ groups: ['P-384'] });
    const run = await runOpensslClient({ port: srv.port, stdin: 'hi\n', args: ['-ign_eof', '-groups', 'X25519:P-384'] });
    expect(run.output).toContain('tlschart resumed=no');
    expect(run.output).toMatch(/Server Temp Key: ECDH, (secp384r1|P-384)/);
    const sent = srv.seen[0]?.trace.filter((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'server_hello') ?? [];
    expect(sent).toHaveLength(2);
  });

  it('verifies a client certificate that s_client sends', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const client = await makeCert('ecdsa-p384');
    try {
      const srv = await tlschartServer({ requestCert: true, ca: client.certPem });
      const run = await runOpensslClient({
        port: srv.port,
        stdin: 'hi\n',
        args: ['-ign_eof', '-cert', client.certFile, '-key', client.keyFile],
      });
      expect(run.output).toContain('tlschart resumed=no');
      expect(srv.seen[0]?.socket.authorized).toBe(true);
    } finally {
      await client.remove();
    }
  });

  it('-early_data with a tlschart session: s_client does not send it (the tickets allow none), the handshake resumes', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    const srv = await tlschartServer();
    const sess = sessionFile('early');
    await runOpensslClient({ port: srv.port, sessOut: sess, stdin: 'hello\n', args: ['-ign_eof'] });
    const early = path.join(tmp.path, 'early.txt');
    await writeFile(early, 'EARLY DATA THAT MUST NOT ARRIVE\n');
    const run = await runOpensslClient({
      port: srv.port,
      sessIn: sess,
      stdin: 'after the handshake\n',
      args: ['-ign_eof', '-early_data', early],
    });
    expect(run.output).toMatch(/Reused, TLSv1\.3/);
    expect(run.output).toMatch(/Early data was not sent/);
    expect(run.output).toContain('tlschart resumed=yes');
    expect(srv.seen[1]?.data).toBe('after the handshake\n');
  });

  it('-early_data with a session that allows it: the server refuses it, skips it, and the application never sees it', async (ctx: TestContext) => {
    requirePeer(ctx, 'openssl');
    // A session from an OpenSSL server that accepts early data: s_client will send 0-RTT data with it.
    const other = await generateSelfSigned({ keyType: 'ecdsa-p256' });
    // (s_server cannot combine -early_data with -www, so it never closes: s_client is stopped after a moment;
    // -sess_out is written as soon as the ticket arrives.)
    const lenient = await startOpensslServer({ certPem: other.certPem, keyPem: other.keyPem, args: ['-early_data', '-num_tickets', '1'] });
    peers.push(lenient);
    const sess = sessionFile('lenient');
    const got = await runOpensslClient({ port: lenient.port, sessOut: sess, stdin: 'hello\n', args: ['-ign_eof'], timeoutMs: 1500 });
    expect(got.output).toMatch(/New, TLSv1\.3/);

    const srv = await tlschartServer();
    const early = path.join(tmp.path, 'early-offered.txt');
    await writeFile(early, 'EARLY DATA THAT MUST NOT ARRIVE\n');
    const run = await runOpensslClient({
      port: srv.port,
      sessIn: sess,
      stdin: 'after the handshake\n',
      args: ['-ign_eof', '-early_data', early],
    });
    expect(run.output).toMatch(/Early data was rejected/);
    expect(run.output).toMatch(/New, TLSv1\.3/);
    expect(run.output).toContain('tlschart resumed=no');
    const conn = srv.seen[0] as Seen;
    expect(conn.data).toBe('after the handshake\n');
    const clientHello = conn.trace.find((e) => e.kind === 'message' && e.direction === 'in' && e.name === 'client_hello');
    expect(
      clientHello?.kind === 'message' &&
        clientHello.msg?.type === 'client_hello' &&
        clientHello.msg.extensions.some((x) => x.type === 'early_data'),
    ).toBe(true);
    const skipped = conn.trace.filter((e) => e.kind === 'earlyDataSkipped');
    expect(skipped.length).toBeGreaterThan(0);
    const encryptedExtensions = conn.trace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'encrypted_extensions');
    expect(encryptedExtensions?.kind === 'message' && Buffer.from(encryptedExtensions.raw).toString('hex')).toBe('080000020000');
  });
});

describe('gnutls-cli to a tlschart server', () => {
  it('--resume: the second connection is resumed at both ends', async (ctx: TestContext) => {
    requirePeer(ctx, 'gnutls-cli');
    const srv = await tlschartServer();
    const run = await runGnutlsCli({
      port: srv.port,
      caFile: identity.certFile,
      resume: true,
      waitForTicket: true,
      args: ['--sni-hostname', 'localhost'],
    });
    expect(run.output).toContain('- Handshake was completed');
    expect(run.output).toContain('*** This is a resumed session');
    expect(srv.seen.map((s) => s.socket.isSessionReused())).toEqual([false, true]);
  });
});

describe('node:tls client to a tlschart server', () => {
  it('resumes with the session node received: isSessionReused() at both ends', async () => {
    const srv = await tlschartServer();
    const first = await runNodeTlsClient({ port: srv.port, ca: identity.certPem, servername: 'localhost', send: 'hello\n' });
    expect(first.reused).toBe(false);
    expect(first.authorized).toBe(true);
    expect(first.sessions).toHaveLength(2);
    const second = await runNodeTlsClient({
      port: srv.port,
      ca: identity.certPem,
      servername: 'localhost',
      send: 'hello\n',
      session: first.sessions[1] as Buffer,
    });
    expect(second.reused).toBe(true);
    expect(second.received).toBe('tlschart resumed=yes\n');
    expect(srv.seen[1]?.socket.isSessionReused()).toBe(true);
  });
});

describe('Go crypto/tls client to a tlschart server', () => {
  it('resumes from its ClientSessionCache: DidResume on the second connection', async (ctx: TestContext) => {
    requirePeer(ctx, 'go');
    const srv = await tlschartServer();
    const run = await runGoClient({ port: srv.port, connections: 2, caFile: identity.certFile, serverName: 'localhost' });
    expect(run.connections.map((c) => c.resumed)).toEqual(['false', 'true']);
    expect(run.connections.map((c) => c.version)).toEqual(['TLSv1.3', 'TLSv1.3']);
    expect(srv.seen.map((s) => s.socket.isSessionReused())).toEqual([false, true]);
    expect(srv.seen.map((s) => s.data)).toEqual(['ping\n', 'ping\n']);
  });
});
