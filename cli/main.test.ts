import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import { startEngineServer } from '../audit/testing/engine-server.js';
import { nobleProvider } from '../crypto/noble.js';
import * as serverActions from '../machines/server/actions.js';
import type { ServerContext } from '../machines/server/context.js';
import { serverMachine } from '../machines/server/machine.js';
import { createServer } from '../net/index.js';
import { certifiedKey } from '../net/options.js';
import type { TLSSocket } from '../net/socket.js';
import { generateSelfSigned } from '../pki/generate.js';
import { loadTrace } from '../traces/format.js';
import { main } from './main.js';
import { type Captured, capture } from './testing/capture.js';

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
    expect(full).toMatch(
      / 1\. ClientHello with key_share\n\s+client -> server\s+ClientHello\s+\[plaintext\]\s+key_share X25519MLKEM768, x25519\n/,
    );
    expect(full).toMatch(/ 2\. ServerHello with key_share\n\s+client <- server\s+ServerHello\s+\[plaintext\]\s+key_share X25519MLKEM768/);
    expect(full).toMatch(/client <- server\s+EncryptedExtensions\s+\[encrypted\]/);
    expect(full).toMatch(/client <- server\s+Certificate\s+\[encrypted\]\s+1 certificate/);
    expect(full).toMatch(/client <- server\s+CertificateVerify\s+\[encrypted\]/);
    expect(full).toMatch(/ 5\. NewSessionTicket[^\n]*\n\s+client <- server\s+NewSessionTicket\s+\[encrypted\]/);
    expect(full).toMatch(/ 6\. application data/);
    expect(full).toContain('resumed: no');
    expect(full).not.toContain('pre_shared_key');

    expect(resumed).toMatch(
      / 7\. ClientHello[^\n]*\n\s+client -> server\s+ClientHello\s+\[plaintext\]\s+key_share X25519MLKEM768, x25519, pre_shared_key/,
    );
    expect(resumed).toMatch(
      / 8\. ServerHello[^\n]*\n\s+client <- server\s+ServerHello\s+\[plaintext\]\s+pre_shared_key \(ticket 0 accepted\), key_share X25519MLKEM768/,
    );
    expect(resumed).toMatch(/ 9\. server parameters\n\s+client <- server\s+EncryptedExtensions\s+\[encrypted\]/);
    expect(resumed).toMatch(
      /10\.[^\n]*\n\s+client <- server\s+Certificate\s+\(skipped\)[^\n]*\n\s+client <- server\s+CertificateVerify\s+\(skipped\)/,
    );
    expect(resumed).toMatch(/client <- server\s+Finished\s+\[encrypted\]/);
    expect(resumed).toMatch(/11\. application data/);
    expect(resumed).toMatch(/protocol TLSv1\.3, suite TLS_AES_128_GCM_SHA256, group X25519MLKEM768, resumed: yes/);

    expect(io.out).toContain(`trace of 2 handshake(s), both ends, written to ${tracePath}`);

    // The trace: both handshakes, each from both ends, in the tlschart trace format.
    const loaded = loadTrace(tracePath);
    if (!loaded.ok) throw new Error(loaded.error);
    const trace = loaded.trace;
    expect(trace.meta).toMatchObject({ role: 'pair', scenario: 'demo' });
    expect(trace.handshakes.map((h) => [h.label, h.sides.map((x) => `${x.role}:${x.outcome.state}`)])).toEqual([
      ['full handshake, establishes a PSK', ['client:closed', 'server:closed']],
      ['resumption with the PSK (psk_dhe_ke)', ['client:closed', 'server:closed']],
    ]);
    const firstHello = trace.handshakes[0]!.sides[0]!.steps[0]!;
    expect(firstHello).toMatchObject({ seq: 0, direction: 'out', message: { type: 'client_hello' } });
    expect(firstHello.message?.hex).toMatch(/^01[0-9a-f]+$/);
    const serverSide = trace.handshakes[1]!.sides[1]!;
    const received = serverSide.steps.find((x) => x.direction === 'in' && x.message?.type === 'client_hello');
    expect(JSON.stringify(received?.message?.fields)).toContain('pre_shared_key_client');
    // The resumed server sent no Certificate and no CertificateVerify.
    expect(serverSide.steps.filter((x) => x.direction === 'out').map((x) => x.message?.type ?? x.kind)).not.toContain('certificate');

    const check = capture();
    expect(await main(['trace', 'check', tracePath], check)).toBe(0);
    expect(check.out).toMatch(
      /: conforms to RFC 8446 \(\d+ received steps checked, 2 handshake\(s\), 4 side\(s\); group X25519MLKEM768, X25519MLKEM768\)\n$/,
    );
    expect(check.out.startsWith(tracePath)).toBe(true);
  });
});

describe('tlschart serve and tlschart connect', () => {
  it('connect resumes against serve with --reconnect, saves the session, and resumes again from the file', async () => {
    const srv = await startServe(['--www']);
    expect(srv.certPath).toBeDefined();
    const sessPath = join(dir, 'session.bin');
    const io = capture();
    const code = await main(
      [
        'connect',
        `127.0.0.1:${srv.port}`,
        '--ca',
        srv.certPath as string,
        '--servername',
        'localhost',
        '--reconnect',
        '1',
        '--send',
        'GET / HTTP/1.0\\r\\n\\r\\n',
        '--sess-out',
        sessPath,
      ],
      io,
    );
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, TLS_AES_128_GCM_SHA256, X25519MLKEM768, tickets received: 2$/m);
    expect(io.out).toMatch(/^Reused, TLSv1\.3, TLS_AES_128_GCM_SHA256, X25519MLKEM768, tickets received: 2$/m);
    expect(io.out).toContain('Session resumed: no');
    expect(io.out).toContain('Session resumed: yes');
    expect(io.out).toMatch(/^HTTP\/1\.0 200 OK\r$/m);

    const again = capture();
    expect(await main(['connect', `localhost:${srv.port}`, '--ca', srv.certPath as string, '--sess-in', sessPath], again)).toBe(0);
    expect(again.out).toMatch(/^Reused, TLSv1\.3/m);

    await srv.io.waitFor(/conn 3 /);
    expect(srv.io.out).toMatch(/^conn 1 127\.0\.0\.1:\d+ full TLS_AES_128_GCM_SHA256 X25519MLKEM768 sni=localhost alpn=-$/m);
    expect(srv.io.out).toMatch(/^conn 2 127\.0\.0\.1:\d+ resumed TLS_AES_128_GCM_SHA256 X25519MLKEM768 sni=localhost alpn=-$/m);
    expect(srv.io.out).toMatch(/^conn 3 127\.0\.0\.1:\d+ resumed /m);
  });

  for (const [serverCrypto, clientCrypto] of [
    ['noble', 'node'],
    ['node', 'noble'],
  ] as const) {
    it(`serve --crypto ${serverCrypto} and connect --crypto ${clientCrypto} do a full handshake and resume`, async () => {
      const srv = await startServe(['--crypto', serverCrypto]);
      const io = capture();
      const args = [
        'connect',
        `127.0.0.1:${srv.port}`,
        '--ca',
        srv.certPath as string,
        '--servername',
        'localhost',
        '--reconnect',
        '1',
        '--crypto',
        clientCrypto,
      ];
      expect(await main(args, io)).toBe(0);
      expect(io.out).toMatch(/^New, TLSv1\.3, TLS_AES_128_GCM_SHA256, X25519MLKEM768, tickets received: 2$/m);
      expect(io.out).toMatch(/^Reused, TLSv1\.3, TLS_AES_128_GCM_SHA256, X25519MLKEM768, tickets received: 2$/m);
      await srv.io.waitFor(/conn 2 /);
      expect(srv.io.out).toMatch(/^conn 2 127\.0\.0\.1:\d+ resumed /m);
    });
  }

  it('demo --crypto noble runs the demo on the pure-JavaScript provider and exits 0', async () => {
    const io = capture();
    expect(await main(['demo', '--crypto', 'noble'], io)).toBe(0);
    expect(io.out).toMatch(/throwaway ECDSA P-256 certificate for localhost, noble crypto provider/);
    expect(io.out).toMatch(/resumed: yes/);
  });

  it('connect --sess-out never saves a ticket it offered: after a resumption that brings no new ticket there is none to save (RFC 8446 §C.4)', async () => {
    const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    // A server that sends tickets after a full handshake only.
    const machine = serverMachine.provide({
      actions: {
        issueTickets: assign(({ context }: { context: ServerContext }) => (context.resumed ? {} : serverActions.issueTickets(context))),
      },
    });
    const server = await startEngineServer({ certificates: [certifiedKey(g.certPem, g.keyPem, 'test', nobleProvider)], machine });
    stops.push(() => server.stop());
    const path = join(dir, 'used-once.bin');
    const io = capture();
    expect(
      await main(
        ['connect', `127.0.0.1:${server.port}`, '--servername', 'localhost', '--insecure', '--reconnect', '1', '--sess-out', path],
        io,
      ),
    ).toBe(1);
    expect(io.out).toMatch(/^New, TLSv1\.3, \S+, \S+, tickets received: 2\nReused, TLSv1\.3, \S+, \S+, tickets received: 0\n$/);
    expect(io.err).toBe(`tlschart: connect: no unused session ticket left (a ticket is offered once), ${path} not written\n`);
    expect(existsSync(path)).toBe(false);
  });

  it('connect --trace against serve --trace writes traces of both ends that tlschart trace check accepts', async () => {
    const serverTrace = join(dir, 'serve-both.json');
    const clientTrace = join(dir, 'connect-both.json');
    const controller = new AbortController();
    const srvIo = capture(controller.signal);
    const done = main(['serve', '--port', '0', '--trace', serverTrace], srvIo);
    const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const certPath = /certificate: (\S+)/.exec(srvIo.out)?.[1] as string;
    stops.push(async () => rmSync(dirname(certPath), { recursive: true, force: true }));
    const io = capture();
    expect(
      await main(
        ['connect', `127.0.0.1:${port}`, '--ca', certPath, '--servername', 'localhost', '--reconnect', '1', '--trace', clientTrace],
        io,
      ),
    ).toBe(0);
    expect(io.out).toMatch(/^Reused, TLSv1\.3/m);
    expect(io.err).toBe(`tlschart connect: trace of 2 connection(s) written to ${clientTrace}\n`);
    await srvIo.waitFor(/conn 2 /);
    controller.abort();
    expect(await done).toBe(0);
    expect(srvIo.out).toContain(`trace of 2 connection(s) in ${serverTrace}`);

    const client = loadTrace(clientTrace);
    if (!client.ok) throw new Error(client.error);
    expect(client.trace.meta).toMatchObject({ role: 'client', peer: `127.0.0.1:${port}` });
    expect(client.trace.handshakes.map((h) => h.label)).toEqual([
      `connection 1 to 127.0.0.1:${port}`,
      `connection 2 to 127.0.0.1:${port}, offering a ticket`,
    ]);
    const resumed = client.trace.handshakes[1]!.sides[0]!;
    expect(resumed.steps.filter((x) => x.direction === 'in').map((x) => x.message?.type ?? x.kind)).not.toContain('certificate');
    expect(resumed.outcome.state).toBe('closed');
    for (const file of [clientTrace, serverTrace]) {
      const check = capture();
      expect(await main(['trace', 'check', file], check)).toBe(0);
      expect(check.out).toMatch(
        /conforms to RFC 8446 \(\d+ received steps checked, 2 handshake\(s\), 2 side\(s\); group X25519MLKEM768, X25519MLKEM768\)/,
      );
    }
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
    const done = main(
      [
        'serve',
        '--port',
        '0',
        '--cert',
        certPath,
        '--key',
        keyPath,
        '--alpn',
        'h2,http/1.1',
        '--groups',
        'P-384',
        '--tickets',
        '1',
        '--trace',
        serverTrace,
        '--keylog',
        keylog,
      ],
      srvIo,
    );
    const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    expect(srvIo.out).not.toContain('certificate:');
    const io = capture();
    expect(
      await main(
        [
          'connect',
          `127.0.0.1:${port}`,
          '--ca',
          certPath,
          '--servername',
          'localhost',
          '--alpn',
          'http/1.1',
          '--sess-out',
          join(dir, 's2.bin'),
        ],
        io,
      ),
    ).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, TLS_AES_128_GCM_SHA256, secp384r1, tickets received: 1, ALPN http\/1\.1$/m);
    await srvIo.waitFor(/conn 1 .* full TLS_AES_128_GCM_SHA256 secp384r1 sni=localhost alpn=http\/1\.1/);
    controller.abort();
    expect(await done).toBe(0);
    expect(srvIo.out).toContain(`trace of 1 connection(s) in ${serverTrace}`);
    const trace = loadTrace(serverTrace);
    if (!trace.ok) throw new Error(trace.error);
    expect(trace.trace.meta).toMatchObject({ role: 'server', peer: `clients of tlschart serve on 127.0.0.1:${port}` });
    expect(trace.trace.handshakes).toHaveLength(1);
    expect(trace.trace.handshakes[0]!.sides[0]!.config).toMatchObject({
      groups: ['secp384r1'],
      alpnProtocols: ['h2', 'http/1.1'],
      ticketsPerHandshake: 1,
    });
    const check = capture();
    expect(await main(['trace', 'check', serverTrace], check)).toBe(0);
    expect(check.out).toContain('conforms to RFC 8446');
    const lines = readFileSync(keylog, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
  });

  /** serve with `flags` and --trace; one connect --reconnect 1; the server side of the first handshake's steps. */
  async function ticketOrder(flags: string[], name: string, announced: RegExp) {
    const serverTrace = join(dir, name);
    const controller = new AbortController();
    const srvIo = capture(controller.signal);
    const done = main(['serve', '--port', '0', ...flags, '--trace', serverTrace], srvIo);
    const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    expect(srvIo.out).toMatch(announced);
    const io = capture();
    expect(await main(['connect', `127.0.0.1:${port}`, '--insecure', '--reconnect', '1'], io)).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, .*tickets received: 2/m);
    expect(io.out).toMatch(/^Reused, TLSv1\.3/m);
    await srvIo.waitFor(/conn 2 .* resumed/);
    controller.abort();
    expect(await done).toBe(0);
    const trace = loadTrace(serverTrace);
    if (!trace.ok) throw new Error(trace.error);
    const check = capture();
    expect(await main(['trace', 'check', serverTrace], check)).toBe(0);
    expect(check.out).toContain('conforms to RFC 8446');
    const steps = trace.trace.handshakes[0]!.sides[0]!.steps;
    return (direction: string, type: string) => steps.findIndex((x) => x.direction === direction && x.message?.type === type);
  }

  it('serve sends its tickets before the client Finished arrives by default (early tickets); the trace conforms and they resume', async () => {
    const at = await ticketOrder([], 'early-trace.json', /^tickets: 2 per handshake, early: with the server flight/m);
    expect(at('out', 'new_session_ticket')).toBeGreaterThan(at('out', 'finished'));
    expect(at('out', 'new_session_ticket')).toBeLessThan(at('in', 'finished'));
  });

  it('serve --late-tickets sends them only after the client Finished', async () => {
    const at = await ticketOrder(
      ['--late-tickets'],
      'late-trace.json',
      /^tickets: 2 per handshake, late: after the client Finished verified$/m,
    );
    expect(at('in', 'finished')).toBeGreaterThan(0);
    expect(at('out', 'new_session_ticket')).toBeGreaterThan(at('in', 'finished'));
  });

  it('serve refuses --early-tickets together with --late-tickets', async () => {
    const io = capture();
    expect(await main(['serve', '--port', '0', '--early-tickets', '--late-tickets'], io)).toBe(2);
    expect(io.err).toContain('serve: --early-tickets and --late-tickets contradict each other');
  });
});

describe('tlschart connect against servers that end the connection or send odd alerts', () => {
  /** A tlschart server whose application reacts to each connection with `onSecure`. */
  async function serverThat(onSecure: (s: TLSSocket, raw: Socket) => void): Promise<{ port: number; caPath: string }> {
    const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const caPath = join(dir, `ca-${Math.random().toString(16).slice(2)}.pem`);
    writeFileSync(caPath, certPem);
    const raws: Socket[] = [];
    const server = createServer({ cert: certPem, key: keyPem }, (s) => onSecure(s, raws.shift() as Socket));
    server.on('connection', (raw: Socket) => raws.push(raw));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    stops.push(() => new Promise<void>((r) => server.close(() => r())));
    return { port: (server.address() as AddressInfo).port, caPath };
  }

  it('reports each completed handshake and goes on when the server closes right after it, instead of failing on --send', async () => {
    const { port, caPath } = await serverThat((s) => s.end());
    const io = capture();
    const code = await main(
      [
        'connect',
        `127.0.0.1:${port}`,
        '--ca',
        caPath,
        '--servername',
        'localhost',
        '--reconnect',
        '1',
        '--send',
        'hello',
        '--sess-out',
        join(dir, 'closed.sess'),
      ],
      io,
    );
    expect(io.err).not.toContain('ERR_STREAM_WRITE_AFTER_END');
    expect(code).toBe(0);
    expect(io.out).toMatch(/^New, TLSv1\.3, [^\n]+\nReused, TLSv1\.3, /);
    expect(io.err).toContain('the server closed the connection after the handshake; --send text not sent');
  });

  it('names an alert code RFC 8446 does not define by its number, not as internal_error', async () => {
    const { port, caPath } = await serverThat((s, raw) => {
      // A fatal alert with description 137, protected under this connection's application keys.
      const engine = s.engine as unknown as { layer: { writeAlert(level: number, description: number): Uint8Array } };
      raw.write(engine.layer.writeAlert(2, 137));
    });
    const io = capture();
    expect(await main(['connect', `127.0.0.1:${port}`, '--ca', caPath, '--servername', 'localhost', '--send', 'x'], io)).toBe(1);
    expect(io.err).toMatch(/alert 137 \(unknown\) received \(PeerAlert\)/);
    expect(io.err).not.toContain('internal_error');
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
    [
      'an unknown flag',
      ['connect', 'localhost:4433', '--bogus'],
      /^tlschart: connect: unknown option --bogus \(see tlschart connect --help\)\n$/,
    ],
    ['a flag without its value', ['serve', '--port'], /^tlschart: serve: option --port needs a value/],
    ['a port that is not a number', ['serve', '--port', 'http'], /^tlschart: serve: --port must be a whole number, got "http"\n$/],
    ['--cert without --key', ['serve', '--cert', 'x.pem'], /^tlschart: serve: --cert and --key go together\n$/],
    ['a target without a port', ['connect', 'localhost'], /^tlschart: connect: expected HOST:PORT/],
    ['a missing target', ['connect'], /^tlschart: connect: HOST:PORT is missing/],
    ['an extra argument', ['demo', 'now'], /^tlschart: demo: unexpected argument "now"/],
    ['an unknown command', ['handshake'], /^tlschart: unknown command "handshake"/],
    [
      'a crypto provider connect does not know',
      ['connect', 'localhost:4433', '--crypto', 'openssl'],
      /^tlschart: connect: --crypto must be node or noble, got "openssl"\n$/,
    ],
    ['a crypto provider serve does not know', ['serve', '--crypto', 'js'], /^tlschart: serve: --crypto must be node or noble, got "js"\n$/],
    [
      'a crypto provider demo does not know',
      ['demo', '--crypto', 'NODE'],
      /^tlschart: demo: --crypto must be node or noble, got "NODE"\n$/,
    ],
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
