/**
 * Proves the interop harness against real peers talking to each other, so it
 * is known to work before tlschart's own client and server are plugged in.
 * Each resumption test checks both ends where the peer reports it (client
 * output and server log): a test that only read one side could pass on a
 * misparsed line.
 */
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  buildGo,
  type CertFiles,
  findPeer,
  makeCert,
  makeTempDir,
  type Peer,
  parseConnectionLines,
  requirePeer,
  runGnutlsCli,
  runGoClient,
  runNodeTlsClient,
  runOpensslClient,
  startGnutlsServer,
  startGoServer,
  startNodeTlsServer,
  startOpensslServer,
  type TempDir,
} from './peers.js';

const HTTP_GET = 'GET / HTTP/1.0\r\n\r\n';

const peers: Peer[] = [];
const dirs: TempDir[] = [];
let certPromise: Promise<CertFiles> | undefined;

function track(peer: Peer): Peer {
  peers.push(peer);
  return peer;
}

async function tempDir(): Promise<TempDir> {
  const dir = await makeTempDir();
  dirs.push(dir);
  return dir;
}

function serverCert(): Promise<CertFiles> {
  certPromise ??= makeCert('ecdsa-p256');
  return certPromise;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ESRCH') return false;
    throw err;
  }
}

beforeAll(async () => {
  // A cold Go build takes ~20-30 s; do it once here rather than inside a test.
  if ('path' in findPeer('go')) await buildGo();
}, 300_000);

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
  await Promise.all(dirs.splice(0).map((dir) => dir.remove()));
  vi.unstubAllEnvs();
});

afterAll(async () => {
  if (certPromise !== undefined) await (await certPromise).remove();
});

describe('finding peers', () => {
  it('names the Debian package of a peer that is not on PATH', async () => {
    const empty = await tempDir();
    vi.stubEnv('PATH', empty.path);
    expect(findPeer('gnutls-serv')).toEqual({ missing: 'gnutls-serv not found: apt-get install gnutls-bin' });
    expect(findPeer('gnutls-cli')).toEqual({ missing: 'gnutls-cli not found: apt-get install gnutls-bin' });
    expect(findPeer('go')).toEqual({ missing: 'go not found: apt-get install golang-go' });
    expect(findPeer('openssl')).toEqual({ missing: 'openssl not found: apt-get install openssl' });
  });

  it('finds an executable on PATH and passes over a file that is not executable', async () => {
    const bin = await tempDir();
    const cli = path.join(bin.path, 'gnutls-cli');
    await writeFile(cli, '#!/bin/sh\nexit 0\n');
    await chmod(cli, 0o755);
    await writeFile(path.join(bin.path, 'openssl'), 'not a program\n');
    vi.stubEnv('PATH', bin.path);
    expect(findPeer('gnutls-cli')).toEqual({ path: cli });
    expect(findPeer('openssl')).toEqual({ missing: 'openssl not found: apt-get install openssl' });
  });

  it('fails a test for a missing peer under CI and skips it with the package name otherwise', async () => {
    const empty = await tempDir();
    vi.stubEnv('PATH', empty.path);
    const notes: unknown[][] = [];
    const skipped = new Error('skipped');
    const ctx: Pick<TestContext, 'skip'> = {
      skip: ((...args: unknown[]) => {
        notes.push(args);
        throw skipped;
      }) as TestContext['skip'],
    };

    vi.stubEnv('CI', 'true');
    expect(() => requirePeer(ctx, 'gnutls-serv')).toThrow('gnutls-serv not found: apt-get install gnutls-bin');
    expect(notes).toEqual([]);

    vi.stubEnv('CI', '');
    expect(() => requirePeer(ctx, 'gnutls-serv')).toThrow(skipped);
    expect(notes).toEqual([['gnutls-serv not found: apt-get install gnutls-bin']]);
  });
});

describe('real peers resume TLS 1.3 sessions with each other', () => {
  it('openssl s_client resumes a session with the Go server', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'go');
    const cert = await serverCert();
    const server = track(await startGoServer({ certPem: cert.certPem, keyPem: cert.keyPem, mode: 'once' }));
    const sessionFile = path.join((await tempDir()).path, 'session.pem');
    const clientArgs = ['-ign_eof', '-CAfile', cert.certFile, '-verify_return_error'];

    const first = await runOpensslClient({ port: server.port, sessOut: sessionFile, stdin: HTTP_GET, args: clientArgs });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/^New, TLSv1\.3, Cipher is TLS_\w+$/m);
    expect(first.output).toContain('Verify return code: 0 (ok)');
    expect(first.stdout, 'the Go server echoes the request').toContain('GET / HTTP/1.0');

    const second = await runOpensslClient({ port: server.port, sessIn: sessionFile, stdin: HTTP_GET, args: clientArgs });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/^Reused, TLSv1\.3, Cipher is TLS_\w+$/m);

    const lines = parseConnectionLines(await server.waitForOutput(/^conn=2 /m));
    expect(lines).toMatchObject([
      { conn: '1', resumed: 'false', version: 'TLSv1.3' },
      { conn: '2', resumed: 'true', version: 'TLSv1.3' },
    ]);
  });

  it('the Go client resumes against openssl s_server sending two tickets per handshake', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'go');
    const cert = await serverCert();
    const server = track(await startOpensslServer({ certPem: cert.certPem, keyPem: cert.keyPem, args: ['-num_tickets', '2', '-www'] }));

    const run = await runGoClient({ port: server.port, connections: 2, send: HTTP_GET, caFile: cert.certFile });
    expect(run.code, run.output).toBe(0);
    expect(run.connections).toMatchObject([
      { conn: '1', resumed: 'false', version: 'TLSv1.3', end: 'eof' },
      { conn: '2', resumed: 'true', version: 'TLSv1.3', end: 'eof' },
    ]);
    expect(Number(run.connections[1]?.received), 'the -www status page came back').toBeGreaterThan(0);
  });

  it('gnutls-cli --resume resumes against openssl s_server', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'gnutls-cli');
    const cert = await serverCert();
    const server = track(await startOpensslServer({ certPem: cert.certPem, keyPem: cert.keyPem, args: ['-num_tickets', '2', '-www'] }));

    const run = await runGnutlsCli({ port: server.port, caFile: cert.certFile, resume: true, waitForTicket: true });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('- Status: The certificate is trusted.');
    expect(run.output).toMatch(/^- Description: \(TLS1\.3-X\.509\)/m);
    expect(run.output).toMatch(/^- Handshake was completed$/m);
    expect(run.output).toMatch(/^- Resume Handshake was completed$/m);
    expect(run.output).toContain('*** This is a resumed session');
  });

  it('a node:tls client resumes against gnutls-serv with the session from its first connection', async (ctx) => {
    requirePeer(ctx, 'gnutls-serv');
    const cert = await serverCert();
    const server = track(await startGnutlsServer({ certPem: cert.certPem, keyPem: cert.keyPem }));

    const first = await runNodeTlsClient({ port: server.port, send: HTTP_GET, ca: cert.certPem });
    expect(first).toMatchObject({ protocol: 'TLSv1.3', reused: false, authorized: true, error: undefined });
    expect(first.received).toMatch(/^HTTP\/1\.0 200 OK\r?$/m);
    const session = first.sessions.at(-1);
    expect(session, 'gnutls-serv sent a NewSessionTicket').toBeInstanceOf(Buffer);

    const second = await runNodeTlsClient({
      port: server.port,
      send: HTTP_GET,
      ca: cert.certPem,
      ...(session === undefined ? {} : { session }),
    });
    expect(second).toMatchObject({ protocol: 'TLSv1.3', reused: true, error: undefined });
    expect(second.received).toMatch(/^HTTP\/1\.0 200 OK\r?$/m);

    const log = await server.waitForOutput(/\*\*\* This is a resumed session/);
    expect(log.match(/^\* Accepted connection from IPv4 127\.0\.0\.1/gm)).toHaveLength(2);
    expect(log.match(/\*\*\* This is a resumed session/g)).toHaveLength(1);
  });

  it('the Go client resumes against the node:tls server, which keeps sockets open long enough to send tickets', async (ctx) => {
    requirePeer(ctx, 'go');
    const cert = await serverCert();
    const server = track(await startNodeTlsServer({ certPem: cert.certPem, keyPem: cert.keyPem }));

    const run = await runGoClient({ port: server.port, connections: 2, send: 'ping\n', waitMs: 300, caFile: cert.certFile });
    expect(run.code, run.output).toBe(0);
    expect(run.connections).toMatchObject([
      { conn: '1', resumed: 'false', version: 'TLSv1.3', received: '5' },
      { conn: '2', resumed: 'true', version: 'TLSv1.3', received: '5' },
    ]);
    const lines = parseConnectionLines(await server.waitForOutput(/^conn=2 /m));
    expect(lines).toMatchObject([
      { conn: '1', resumed: 'false', version: 'TLSv1.3', suite: run.connections[0]?.suite },
      { conn: '2', resumed: 'true', version: 'TLSv1.3', suite: run.connections[1]?.suite },
    ]);
  });
});

describe('real peers complete full handshakes', () => {
  it('a node:tls client completes a full handshake with the Go server and gets its data echoed', async (ctx) => {
    requirePeer(ctx, 'go');
    const cert = await serverCert();
    const server = track(await startGoServer({ certPem: cert.certPem, keyPem: cert.keyPem }));

    const result = await runNodeTlsClient({ port: server.port, send: 'hello go\n', until: 'hello go\n', ca: cert.certPem });
    expect(result).toMatchObject({ protocol: 'TLSv1.3', reused: false, authorized: true, received: 'hello go\n' });
    expect(result.suite).toMatch(/^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);

    const lines = parseConnectionLines(await server.waitForOutput(/^conn=1 /m));
    expect(lines).toMatchObject([{ conn: '1', resumed: 'false', version: 'TLSv1.3', suite: result.suite }]);
  });

  it('the Go server negotiates the group it is restricted to, with a HelloRetryRequest when needed', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'go');
    const cert = await serverCert();
    const server = track(await startGoServer({ certPem: cert.certPem, keyPem: cert.keyPem, groups: ['P-384'], mode: 'once' }));
    // s_client sends an x25519 key share first; the Go server only takes P-384.
    const run = await runOpensslClient({
      port: server.port,
      stdin: 'hi\n',
      args: ['-ign_eof', '-groups', 'x25519:P-384', '-msg'],
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^Server Temp Key: ECDH, secp384r1, 384 bits$/m);
    expect(run.output.match(/<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], ServerHello/g)).toHaveLength(2);
  });
});

describe('stopping peers', () => {
  it('stop() ends the server process for good and can be called twice', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const cert = await serverCert();
    const server = track(await startOpensslServer({ certPem: cert.certPem, keyPem: cert.keyPem }));
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');
    expect(isAlive(pid ?? -1)).toBe(true);

    await server.stop();
    await server.stop();
    expect(isAlive(pid ?? -1)).toBe(false);
    expect(server.output()).toMatch(/^ACCEPT$/m);
  });
});
