import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from './main.js';

interface Captured extends CliIo {
  out: string;
  err: string;
  /** Resolves with the first stdout match of `re` (waits for it). */
  waitFor(re: RegExp, within?: number): Promise<RegExpExecArray>;
}

function capture(signal?: AbortSignal): Captured {
  const waiters: Array<() => void> = [];
  const io: Captured = {
    out: '',
    err: '',
    stdout(t) {
      io.out += t;
      for (const w of waiters.splice(0)) w();
    },
    stderr(t) {
      io.err += t;
    },
    waitFor(re, within = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in output: ${io.out}`)), within);
        const check = () => {
          const m = re.exec(io.out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      });
    },
    ...(signal ? { signal } : {}),
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'tlschart-cli-test-'));
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `tlschart serve` in-process, stopped after the test. */
async function startServe(args: string[]): Promise<{ io: Captured; port: number; certPath: string | undefined }> {
  const controller = new AbortController();
  const io = capture(controller.signal);
  const done = main(['serve', '--port', '0', ...args], io);
  stops.push(async () => {
    controller.abort();
    expect(await done).toBe(0);
  });
  const [, port] = await io.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  const certPath = /certificate: (\S+)/.exec(io.out)?.[1];
  // The throwaway certificate's directory is serve's to create and the test's to remove.
  if (certPath !== undefined) stops.push(async () => rmSync(dirname(certPath), { recursive: true, force: true }));
  return { io, port: Number(port), certPath };
}

describe('tlschart demo', () => {
  it('exits 0 and prints the full handshake (steps 1-6) and the resumed one (steps 7-11)', async () => {
    const tracePath = join(dir, 'demo-trace.json');
    const io = capture();
    expect(await main(['demo', '--trace', tracePath], io)).toBe(0);
    expect(io.err).toBe('');
    const [full, resumed] = io.out.split('Handshake 2') as [string, string];
    expect(full).toMatch(/ 1\. ClientHello with key_share\n\s+client -> server\s+ClientHello\s+\[plaintext\]\s+key_share x25519\n/);
    expect(full).toMatch(/ 2\. ServerHello with key_share\n\s+client <- server\s+ServerHello\s+\[plaintext\]\s+key_share x25519/);
    expect(full).toMatch(/client <- server\s+EncryptedExtensions\s+\[encrypted\]/);
    expect(full).toMatch(/client <- server\s+Certificate\s+\[encrypted\]\s+1 certificate/);
    expect(full).toMatch(/client <- server\s+CertificateVerify\s+\[encrypted\]/);
    expect(full).toMatch(/ 5\. NewSessionTicket[^\n]*\n\s+client <- server\s+NewSessionTicket\s+\[encrypted\]/);
    expect(full).toMatch(/ 6\. application data/);
    expect(full).toContain('resumed: no');
    expect(full).not.toContain('pre_shared_key');

    expect(resumed).toMatch(/ 7\. ClientHello[^\n]*\n\s+client -> server\s+ClientHello\s+\[plaintext\]\s+key_share x25519, pre_shared_key/);
    expect(resumed).toMatch(/ 8\. ServerHello[^\n]*\n\s+client <- server\s+ServerHello\s+\[plaintext\]\s+pre_shared_key \(ticket 0 accepted\), key_share x25519/);
    expect(resumed).toMatch(/ 9\. server parameters\n\s+client <- server\s+EncryptedExtensions\s+\[encrypted\]/);
    expect(resumed).toMatch(/10\.[^\n]*\n\s+client <- server\s+Certificate\s+\(skipped\)[^\n]*\n\s+client <- server\s+CertificateVerify\s+\(skipped\)/);
    expect(resumed).toMatch(/client <- server\s+Finished\s+\[encrypted\]/);
    expect(resumed).toMatch(/11\. application data/);
    expect(resumed).toMatch(/protocol TLSv1\.3, suite TLS_AES_128_GCM_SHA256, group x25519, resumed: yes/);

    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as { version: number; connections: Array<{ role: string; entries: Array<Record<string, unknown>> }> };
    expect(trace.version).toBe(1);
    expect(trace.connections.map((c) => c.role)).toEqual(['client', 'server', 'client', 'server']);
    const firstHello = trace.connections[0]?.entries.find((e) => e.kind === 'message' && e.name === 'client_hello');
    expect(firstHello?.raw).toMatch(/^01[0-9a-f]+$/);
    const serverSawPsk = trace.connections[3]?.entries.some((e) => e.kind === 'message' && e.name === 'client_hello' && JSON.stringify(e.msg).includes('pre_shared_key_client'));
    expect(serverSawPsk).toBe(true);
  });
});

describe('tlschart serve and tlschart connect', () => {
  it('connect resumes against serve with --reconnect, saves the session, and resumes again from the file', async () => {
    const srv = await startServe(['--www']);
    expect(srv.certPath).toBeDefined();
    const sessPath = join(dir, 'session.bin');
    const io = capture();
    const code = await main(
      ['connect', `127.0.0.1:${srv.port}`, '--ca', srv.certPath as string, '--servername', 'localhost', '--reconnect', '1', '--send', 'GET / HTTP/1.0\\r\\n\\r\\n', '--sess-out', sessPath],
      io,
    );
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, TLS_AES_128_GCM_SHA256, x25519, tickets received: 2$/m);
    expect(io.out).toMatch(/^Reused, TLSv1\.3, TLS_AES_128_GCM_SHA256, x25519, tickets received: 2$/m);
    expect(io.out).toContain('Session resumed: no');
    expect(io.out).toContain('Session resumed: yes');
    expect(io.out).toMatch(/^HTTP\/1\.0 200 OK\r$/m);

    const again = capture();
    expect(await main(['connect', `localhost:${srv.port}`, '--ca', srv.certPath as string, '--sess-in', sessPath], again)).toBe(0);
    expect(again.out).toMatch(/^Reused, TLSv1\.3/m);

    await srv.io.waitFor(/conn 3 /);
    expect(srv.io.out).toMatch(/^conn 1 127\.0\.0\.1:\d+ full TLS_AES_128_GCM_SHA256 x25519 sni=localhost alpn=-$/m);
    expect(srv.io.out).toMatch(/^conn 2 127\.0\.0\.1:\d+ resumed TLS_AES_128_GCM_SHA256 x25519 sni=localhost alpn=-$/m);
    expect(srv.io.out).toMatch(/^conn 3 127\.0\.0\.1:\d+ resumed /m);
  });

  it('connect fails with exit 1 and the alert name when the certificate is not trusted, and serve logs the alert', async () => {
    const srv = await startServe([]);
    const io = capture();
    expect(await main(['connect', `localhost:${srv.port}`], io)).toBe(1);
    expect(io.err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(io.err).toMatch(/^tlschart: connect: connection 1 to localhost:\d+ failed: alert unknown_ca sent \(UnknownCa\)/);
    await srv.io.waitFor(/conn 1 .* failed: alert unknown_ca received/);
  });

  it('serve uses the given certificate, ALPN and groups, and writes trace and key log files', async () => {
    const { generateSelfSigned } = await import('../pki/generate.js');
    const id = await generateSelfSigned({ keyType: 'ed25519' });
    const certPath = join(dir, 'ed-cert.pem');
    const keyPath = join(dir, 'ed-key.pem');
    writeFileSync(certPath, id.certPem);
    writeFileSync(keyPath, id.keyPem);
    const serverTrace = join(dir, 'serve-trace.json');
    const keylog = join(dir, 'keylog.txt');
    const controller = new AbortController();
    const srvIo = capture(controller.signal);
    const done = main(['serve', '--port', '0', '--cert', certPath, '--key', keyPath, '--alpn', 'h2,http/1.1', '--groups', 'P-384', '--tickets', '1', '--trace', serverTrace, '--keylog', keylog], srvIo);
    const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    expect(srvIo.out).not.toContain('certificate:');
    const io = capture();
    expect(await main(['connect', `127.0.0.1:${port}`, '--ca', certPath, '--servername', 'localhost', '--alpn', 'http/1.1', '--sess-out', join(dir, 's2.bin')], io)).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, TLS_AES_128_GCM_SHA256, secp384r1, tickets received: 1, ALPN http\/1\.1$/m);
    await srvIo.waitFor(/conn 1 .* full TLS_AES_128_GCM_SHA256 secp384r1 sni=localhost alpn=http\/1\.1/);
    controller.abort();
    expect(await done).toBe(0);
    const trace = JSON.parse(readFileSync(serverTrace, 'utf8')) as { connections: unknown[] };
    expect(trace.connections).toHaveLength(1);
    const lines = readFileSync(keylog, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
  });
});

describe('help and usage errors', () => {
  for (const command of ['demo', 'serve', 'connect']) {
    it(`tlschart ${command} --help prints its usage and exits 0`, async () => {
      const io = capture();
      expect(await main([command, '--help'], io)).toBe(0);
      expect(io.out.startsWith(`Usage: tlschart ${command}`)).toBe(true);
      expect(io.out).toContain('-h, --help');
      expect(io.err).toBe('');
    });
  }

  it('tlschart --help lists the commands', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/demo[\s\S]*serve[\s\S]*connect HOST:PORT/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['connect', 'localhost:4433', '--bogus'], /^tlschart: connect: unknown option --bogus \(see tlschart connect --help\)\n$/],
    ['a flag without its value', ['serve', '--port'], /^tlschart: serve: option --port needs a value/],
    ['a port that is not a number', ['serve', '--port', 'http'], /^tlschart: serve: --port must be a whole number, got "http"\n$/],
    ['--cert without --key', ['serve', '--cert', 'x.pem'], /^tlschart: serve: --cert and --key go together\n$/],
    ['a target without a port', ['connect', 'localhost'], /^tlschart: connect: expected HOST:PORT/],
    ['a missing target', ['connect'], /^tlschart: connect: HOST:PORT is missing/],
    ['an extra argument', ['demo', 'now'], /^tlschart: demo: unexpected argument "now"/],
    ['an unknown command', ['handshake'], /^tlschart: unknown command "handshake"/],
  ];
  for (const [what, argv, message] of bad) {
    it(`${what} gives one line on stderr and exit code 2`, async () => {
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      expect(io.err).toMatch(message);
      expect(io.err.trimEnd().split('\n')).toHaveLength(1);
      expect(io.out).toBe('');
    });
  }

  it('a session file that is not a session is one line and exit code 1', async () => {
    const path = join(dir, 'garbage.bin');
    writeFileSync(path, 'garbage');
    const io = capture();
    expect(await main(['connect', 'localhost:1', '--sess-in', path], io)).toBe(1);
    expect(io.err).toBe(`tlschart: connect: ${path} does not hold a tlschart session (made by --sess-out)\n`);
  });
});
