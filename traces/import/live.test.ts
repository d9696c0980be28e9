/**
 * `tlschart trace import` on captures made here: dumpcap on the loopback
 * interface (Debian package tshark) records real peers, and the import is
 * judged by the charts and cross-checked against tshark's own decryption.
 *
 * - OpenSSL: `s_server -num_tickets 2 -www` and `s_client -keylogfile`, a full
 *   handshake (`-sess_out`) then a resumption (`-sess_in`);
 * - two third-party stacks: `gnutls-cli --resume` (SSLKEYLOGFILE) against
 *   `openssl s_server`;
 * - `tlschart connect --reconnect 1 --keylog F` against `tlschart serve
 *   --groups P-256`: every connection goes through a HelloRetryRequest, the
 *   second one is resumed, the keys come from tlschart's own key log.
 *
 * A missing peer (dumpcap, tshark, openssl, gnutls-cli) fails under CI=true and skips
 * naming its package otherwise. UPDATE_CAPTURES=1 also copies the captures
 * and key logs into traces/import/fixtures/, which import.test.ts reads
 * without any of these programs.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestContext } from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { type Captured, capture as cliCapture } from '../../cli/testing/capture.js';
import { makeCert, makeTempDir, requirePeer, runGnutlsCli, runOpensslClient, startOpensslServer } from '../../interop/peers.js';
import { HandshakeType } from '../../wire/types.js';
import { EXIT, traceCheck, traceImport } from '../cli-commands.js';
import { loadTrace, type Trace } from '../format.js';
import { startCapture } from './testing/dumpcap.js';
import { connectionsOf, flipped, offsetInRecord, offsetOfClientKeyShare } from './testing/tamper.js';

const update = process.env.UPDATE_CAPTURES === '1';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Made {
  capture: string;
  keylog: string;
  dir: string;
}

/** A temp directory, and openssl s_server (two tickets, -www) with a capture on its port; all removed after the file. */
async function captureOpensslServer(ctx: TestContext) {
  const tmp = await makeTempDir('tlschart-import-');
  cleanups.push(tmp.remove);
  const cert = await makeCert('ecdsa-p256');
  cleanups.push(cert.remove);
  const server = await startOpensslServer({ certPem: cert.certPem, keyPem: cert.keyPem, args: ['-num_tickets', '2', '-www'] });
  cleanups.push(server.stop);
  const cap = await startCapture(ctx, server.port);
  cleanups.push(cap.remove);
  return { tmp, server, cap };
}

/** Capture a full handshake and a resumption between openssl s_server and s_client (once per file run). */
let opensslCapture: Promise<Made> | undefined;
function captureOpenssl(ctx: TestContext): Promise<Made> {
  requirePeer(ctx, 'openssl');
  requirePeer(ctx, 'dumpcap');
  opensslCapture ??= (async () => {
    const { tmp, server, cap } = await captureOpensslServer(ctx);
    const keylog = join(tmp.path, 'client.keys');
    const session = join(tmp.path, 'session.pem');
    const request = 'GET / HTTP/1.0\r\n\r\n';
    const first = await runOpensslClient({
      port: server.port,
      args: ['-ign_eof', '-keylogfile', keylog],
      stdin: request,
      sessOut: session,
    });
    expect(first.output).toMatch(/New, TLSv1\.3/);
    const second = await runOpensslClient({
      port: server.port,
      args: ['-ign_eof', '-keylogfile', keylog],
      stdin: request,
      sessIn: session,
    });
    expect(second.output).toMatch(/Reused, TLSv1\.3/);
    const capture = await cap.stop(2);
    if (update) {
      copyFileSync(capture, join(fixtures, 'openssl-resumption.pcapng'));
      copyFileSync(keylog, join(fixtures, 'openssl-resumption.keys'));
    }
    return { capture, keylog, dir: tmp.path };
  })();
  return opensslCapture;
}

async function importTo(args: string[], out: string): Promise<{ code: number; io: Captured; trace: Trace | undefined }> {
  const o = cliCapture();
  const code = await traceImport([...args, '--out', out], o);
  const loaded = code === EXIT.ok ? loadTrace(out) : undefined;
  return { code, io: o, trace: loaded?.ok ? loaded.trace : undefined };
}

/** Handshake message types per TCP stream and sender, as tshark decrypts them with the same key log. */
async function tsharkMessages(ctx: TestContext, capture: string, keylog: string): Promise<Map<string, number[]>> {
  const tshark = requirePeer(ctx, 'tshark');
  const { stdout } = await promisify(execFile)(tshark, [
    '-r',
    capture,
    '-o',
    `tls.keylog_file:${keylog}`,
    '-Y',
    'tls.handshake.type',
    '-T',
    'fields',
    '-e',
    'tcp.stream',
    '-e',
    'tcp.srcport',
    '-e',
    'tls.handshake.type',
  ]);
  const out = new Map<string, number[]>();
  for (const line of stdout.trim().split('\n')) {
    const [stream, port, types] = line.split('\t');
    const key = `${stream}:${port}`;
    out.set(key, [...(out.get(key) ?? []), ...(types ?? '').split(',').map(Number)]);
  }
  return out;
}

/** The same, from the imported trace: what each side sent. */
function importedMessages(trace: Trace): Map<string, number[]> {
  const out = new Map<string, number[]>();
  trace.handshakes.forEach((h, i) => {
    for (const side of h.sides) {
      const endpoint = side.role === 'client' ? h.capture?.client : h.capture?.server;
      const types = side.steps
        .filter((s) => s.direction === 'out' && s.kind === 'handshake')
        .map((s) => HandshakeType[s.message?.type as keyof typeof HandshakeType]);
      out.set(`${i}:${endpoint?.split(':').pop()}`, types);
    }
  });
  return out;
}

describe('a capture of openssl s_server and s_client made here', () => {
  it('imports, checks as conforming, and shows one resumed connection linked to the first', async (ctx) => {
    const made = await captureOpenssl(ctx);
    const out = join(made.dir, 'openssl.json');
    const { code, io: o, trace } = await importTo([made.capture, '--keylog', made.keylog], out);
    expect(o.err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(o.out).toMatch(
      /connection 1: 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+\n {2}full handshake, TLS_AES_256_GCM_SHA384, x25519; 9 handshake message\(s\) decoded, all records decrypted/,
    );
    expect(o.out).toMatch(/connection 2: .*, resumed \(ticket from 1\)\n {2}resumed \(PSK, psk_dhe_ke\) with a ticket from connection 1, /);
    if (!trace) throw new Error('no trace written');
    expect(trace.handshakes.map((h) => h.capture?.resumes?.handshake)).toEqual([undefined, 0]);
    expect(
      trace.handshakes.filter((h) =>
        h.sides.some((s) =>
          s.steps.some((x) => x.message?.type === 'server_hello' && /"pre_shared_key_server"/.test(JSON.stringify(x.message.fields))),
        ),
      ),
    ).toHaveLength(1);
    // Both Finished of both connections and the one CertificateVerify, recomputed from the capture and the key log.
    const guards = trace.handshakes.flatMap((h) => h.sides.flatMap((s) => s.steps.flatMap((x) => x.guards)));
    expect(guards.map((g) => `${g.guard}=${g.result}`).sort()).toEqual(
      [
        'isClientFinishedValid=true',
        'isClientFinishedValid=true',
        'isServerFinishedValid=true',
        'isServerFinishedValid=true',
        'isServerSignatureValid=true',
      ].sort(),
    );
    const check = cliCapture();
    expect(await traceCheck([out], check)).toBe(EXIT.ok);
    expect(check.out).toMatch(/conforms to RFC 8446 \(\d+ received steps checked, 2 handshake\(s\), 4 side\(s\); group x25519, x25519\)/);
  });

  it('decodes the same handshake messages, both directions, as tshark with the same key log', async (ctx) => {
    const made = await captureOpenssl(ctx);
    const { trace } = await importTo([made.capture, '--keylog', made.keylog], join(made.dir, 'cross.json'));
    if (!trace) throw new Error('no trace written');
    const ours = importedMessages(trace);
    expect(ours.size).toBe(4);
    expect(ours).toEqual(await tsharkMessages(ctx, made.capture, made.keylog));
  });

  it('reports a violation, not a crash, when one byte of a protected record is changed', async (ctx) => {
    const made = await captureOpenssl(ctx);
    const bytes = new Uint8Array(readFileSync(made.capture));
    const [first] = connectionsOf(bytes);
    if (!first) throw new Error('no connection in the capture');
    // Server records: ServerHello, ChangeCipherSpec, then EncryptedExtensions under handshake keys.
    const tampered = join(made.dir, 'tampered.pcapng');
    writeFileSync(tampered, flipped(bytes, offsetInRecord(first.toClient, 2, 3)));
    const out = join(made.dir, 'tampered.json');
    const { code, io: o } = await importTo([tampered, '--keylog', made.keylog], out);
    expect(code).toBe(EXIT.ok);
    expect(o.out).toContain('1 record(s) that do not authenticate');
    const check = cliCapture();
    expect(await traceCheck([out], check)).toBe(EXIT.violation);
    expect(check.out).toContain('VIOLATION in handshake 1');
    expect(check.out).toContain('client side');
    expect(check.out).toContain('message:   malformed');
    expect(check.out).toContain('RFC 8446 §5.2');
    expect(check.out).toContain('a conforming client sends: bad_record_mac');
  });

  it('reports the CertificateVerify that no longer verifies when a byte of the ClientHello is changed', async (ctx) => {
    const made = await captureOpenssl(ctx);
    const bytes = new Uint8Array(readFileSync(made.capture));
    const [first] = connectionsOf(bytes);
    if (!first) throw new Error('no connection in the capture');
    const tampered = join(made.dir, 'tampered-hello.pcapng');
    writeFileSync(tampered, flipped(bytes, offsetOfClientKeyShare(first)));
    const out = join(made.dir, 'tampered-hello.json');
    expect((await importTo([tampered, '--keylog', made.keylog], out)).code).toBe(EXIT.ok);
    const check = cliCapture();
    expect(await traceCheck([out, '--json'], check)).toBe(EXIT.violation);
    expect(JSON.parse(check.out)).toMatchObject({
      conforms: false,
      violation: {
        handshake: 0,
        role: 'client',
        state: 'expectCertificateVerify',
        message: 'certificate_verify',
        section: '§4.4.3',
        alert: 'decrypt_error',
      },
    });
  });

  it('imports the plaintext part without keys and says the rest was not decrypted', async (ctx) => {
    const made = await captureOpenssl(ctx);
    const out = join(made.dir, 'nokeys.json');
    const { code, io: o, trace } = await importTo([made.capture], out);
    expect(code).toBe(EXIT.ok);
    expect(o.err).toContain('no key log given (--keylog FILE): only the plaintext part of each connection was imported');
    expect(o.out).toMatch(
      /note: the key log has no secrets for client random [0-9a-f]{16}…: only the plaintext part was imported .*; \d+ protected record\(s\), \d+ bytes, were not decrypted/,
    );
    if (!trace) throw new Error('no trace written');
    const sent = trace.handshakes.map((h) =>
      h.sides.map((s) => s.steps.filter((x) => x.direction === 'out').map((x) => x.message?.type ?? x.kind)),
    );
    expect(sent).toEqual([
      [
        ['client_hello', 'change_cipher_spec'],
        ['server_hello', 'change_cipher_spec'],
      ],
      [
        ['client_hello', 'change_cipher_spec'],
        ['server_hello', 'change_cipher_spec'],
      ],
    ]);
    expect(trace.handshakes.map((h) => h.capture?.keys)).toEqual(['none', 'none']);
    expect(await traceCheck([out], cliCapture())).toBe(EXIT.ok);
  });
});

describe('a capture of gnutls-cli and openssl s_server made here', () => {
  it('imports two third-party stacks, full then resumed, with the key log GnuTLS writes (SSLKEYLOGFILE), and conforms', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'gnutls-cli');
    requirePeer(ctx, 'dumpcap');
    const { tmp, server, cap } = await captureOpensslServer(ctx);
    const keylog = join(tmp.path, 'gnutls.keys');
    const run = await runGnutlsCli({
      port: server.port,
      resume: true,
      stdin: 'GET / HTTP/1.0\r\n\r\n',
      env: { ...process.env, SSLKEYLOGFILE: keylog },
    });
    expect(run.output).toContain('*** This is a resumed session');
    const capture = await cap.stop(2);
    const out = join(tmp.path, 'gnutls.json');
    const { code, io: o, trace } = await importTo([capture, '--keylog', keylog], out);
    expect(o.err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(o.out).toMatch(/connection 2: .*, resumed \(ticket from 1\)/);
    if (!trace) throw new Error('no trace written');
    expect(trace.handshakes.map((h) => h.capture?.keys)).toEqual(['all', 'all']);
    expect(trace.handshakes.flatMap((h) => h.sides.flatMap((s) => s.steps.flatMap((x) => x.guards.map((g) => g.result))))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(await traceCheck([out], cliCapture())).toBe(EXIT.ok);
  });
});

describe('a capture of tlschart serve and tlschart connect made here', () => {
  it('imports a HelloRetryRequest and a resumption after one, with the keys of tlschart connect --keylog, and conforms', async (ctx) => {
    requirePeer(ctx, 'dumpcap');
    const tmp = await makeTempDir('tlschart-import-');
    cleanups.push(tmp.remove);
    // serve accepts P-256 only: the client's x25519 share gets a HelloRetryRequest on every connection.
    const controller = new AbortController();
    const srvIo = cliCapture(controller.signal);
    const serving = main(['serve', '--port', '0', '--groups', 'P-256', '--www'], srvIo);
    cleanups.push(async () => {
      controller.abort();
      expect(await serving).toBe(0);
    });
    const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const certPath = /certificate: (\S+)/.exec(srvIo.out)?.[1];
    if (!certPath) throw new Error(`serve printed no certificate path: ${srvIo.out}`);
    cleanups.push(() => rm(dirname(certPath), { recursive: true, force: true }));
    const cap = await startCapture(ctx, Number(port));
    cleanups.push(cap.remove);
    const keylog = join(tmp.path, 'tlschart.keys');
    const client = cliCapture();
    const code = await main(
      [
        'connect',
        `127.0.0.1:${port}`,
        '--ca',
        certPath,
        '--servername',
        'localhost',
        '--reconnect',
        '1',
        '--send',
        'GET / HTTP/1.0\\r\\n\\r\\n',
        '--keylog',
        keylog,
      ],
      client,
    );
    expect(client.err).toBe('');
    expect(code).toBe(0);
    expect(client.out).toMatch(/^Reused, TLSv1\.3/m);
    const capture = await cap.stop(2);
    if (update) {
      copyFileSync(capture, join(fixtures, 'tlschart-hrr-resumption.pcapng'));
      copyFileSync(keylog, join(fixtures, 'tlschart-hrr-resumption.keys'));
    }
    const out = join(tmp.path, 'tlschart.json');
    const { code: imported, io: o, trace } = await importTo([capture, '--keylog', keylog], out);
    expect(o.err).toBe('');
    expect(imported).toBe(EXIT.ok);
    if (!trace) throw new Error('no trace written');
    expect(trace.handshakes.map((h) => h.capture?.resumes?.handshake)).toEqual([undefined, 0]);
    const hellos = trace.handshakes.map(
      (h) => h.sides[0]?.steps.filter((s) => s.direction === 'in' && s.message?.type === 'server_hello').length,
    );
    expect(hellos).toEqual([2, 2]); // HelloRetryRequest, then ServerHello
    const guards = trace.handshakes.flatMap((h) => h.sides.flatMap((s) => s.steps.flatMap((x) => x.guards)));
    expect(guards.map((g) => g.result)).toEqual([true, true, true, true, true]);
    expect(await traceCheck([out], cliCapture())).toBe(EXIT.ok);
  });
});
