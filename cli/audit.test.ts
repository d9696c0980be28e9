/**
 * `tlschart audit`: help, usage errors (64), an unreachable target and a
 * server without TLS 1.3 (2), an audit of `tlschart serve` run in-process
 * (0, every report written), and a failing one (1).
 */

import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEngineServer } from '../audit/testing/engine-server.js';
import { BinderIgnoringServer } from '../audit/testing/mutants.js';
import { nobleProvider } from '../crypto/noble.js';
import { certifiedKey } from '../net/options.js';
import { generateSelfSigned } from '../pki/generate.js';
import { main } from './main.js';
import { type Captured, capture } from './testing/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tlschart-audit-cli-test-'));
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; io: Captured }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, io };
}

/** `tlschart serve` in-process on a free port, stopped after the test. */
async function startServe(): Promise<{ port: number; certPath: string }> {
  const controller = new AbortController();
  const io = capture(controller.signal);
  const done = main(['serve', '--port', '0'], io);
  const [, port] = await io.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  const certPath = /certificate: (\S+)/.exec(io.out)?.[1] as string;
  stops.push(async () => {
    controller.abort();
    expect(await done).toBe(0);
    rmSync(dirname(certPath), { recursive: true, force: true });
  });
  return { port: Number(port), certPath };
}

describe('tlschart audit: help and usage', () => {
  it('lists audit in the main help, and prints its own help', async () => {
    expect((await run(['--help'])).io.out).toMatch(/^ {2}audit server HOST:PORT\n/m);
    const audit = await run(['audit', '--help']);
    expect(audit.code).toBe(0);
    expect(audit.io.out).toMatch(/^Usage: tlschart audit server HOST:PORT \[options\]/);
    const server = await run(['audit', 'server', '--help']);
    expect(server.code).toBe(0);
    expect(server.io.out).toContain(
      'Checks (families): tickets, resumption, psk-modes, replay, binders, binding, ticket-age, early-data, hrr-psk, out-of-order',
    );
    expect(server.io.out).toMatch(/--profile rfc\|strict/);
  });

  it.each([
    [['audit'], /audit needs a command: server/],
    [['audit', 'clients'], /unknown audit command "clients"/],
    [['audit', 'server'], /needs HOST:PORT/],
    [['audit', 'server', 'localhost'], /"localhost" is not HOST:PORT/],
    [['audit', 'server', '127.0.0.1:1', '--ca', 'x.pem', '--insecure'], /--ca and --insecure do not go together/],
    [['audit', 'server', '127.0.0.1:1', '--profile', 'lenient'], /--profile must be rfc or strict/],
    [['audit', 'server', '127.0.0.1:1', '--format', 'xml'], /--format must be text, json, junit, sarif/],
    [['audit', 'server', '127.0.0.1:1', '--checks', 'binders,nonsense'], /unknown check "nonsense"/],
    [['audit', 'server', '127.0.0.1:1', '--runs', '0'], /--runs must be between 1 and 10000/],
    [['audit', 'server', '127.0.0.1:1', '--frobnicate'], /unknown option --frobnicate/],
  ])('%j is a usage error: exit 64, one line on stderr', async (argv, message) => {
    const { code, io } = await run(argv);
    expect(code).toBe(64);
    expect(io.err).toMatch(message);
    expect(io.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('tlschart audit server', () => {
  it('exits 2 when the target is unreachable: every finding inconclusive, with the reason', async () => {
    const closed = netServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const out = join(dir, 'unreachable');
    const { code, io } = await run([
      'audit',
      'server',
      `127.0.0.1:${port}`,
      '--insecure',
      '--checks',
      'binders',
      '--format',
      'json',
      '--out',
      out,
    ]);
    expect(code).toBe(2);
    const report = JSON.parse(io.out) as { inconclusive: string; counts: { inconclusive: number }; findings: unknown[] };
    expect(report.inconclusive).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    expect(report.counts.inconclusive).toBe(report.findings.length);
  });

  it('exits 2 against a server that does not speak TLS 1.3', async () => {
    const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
    const server = tls.createServer({ key: g.keyPem, cert: g.certPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { code, io } = await run([
      'audit',
      'server',
      `127.0.0.1:${(server.address() as AddressInfo).port}`,
      '--insecure',
      '--checks',
      'binders',
      '--out',
      join(dir, 'tls12'),
    ]);
    expect(code).toBe(2);
    expect(io.out).toMatch(/INCONCLUSIVE: 127\.0\.0\.1:\d+ does not speak TLS 1\.3 \(alert protocol_version\)/);
  });

  it('audits tlschart serve: exit 0, the report on stdout, every report and trace in --out', async () => {
    const serve = await startServe();
    const out = join(dir, 'serve');
    const { code, io } = await run([
      'audit',
      'server',
      `127.0.0.1:${serve.port}`,
      '--servername',
      'localhost',
      '--ca',
      serve.certPath,
      '--checks',
      'binders,psk-modes',
      '--runs',
      '2',
      '--seed',
      '7',
      '--out',
      out,
    ]);
    expect(code, io.out + io.err).toBe(0);
    expect(io.out).toMatch(/^tlschart audit server 127\.0\.0\.1:\d+ \(SNI localhost\) — profile rfc, 13 findings/);
    expect(io.out).toMatch(/^binders\.flipped-bit +pass +§4\.2\.11 MUST/m);
    expect(io.err).toMatch(/--seed 7; traces and reports in /);
    expect(io.err).toMatch(/\[1\/2\] PSK key exchange modes \(psk-modes\)/);
    for (const f of ['report.json', 'report.junit.xml', 'report.sarif', 'index.html']) expect(existsSync(join(out, f)), f).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { findings: Array<{ id: string; traces: string[] }> };
    const flipped = report.findings.find((f) => f.id === 'binders.flipped-bit');
    expect(flipped?.traces.length).toBeGreaterThan(0);
    // The traces are project traces: trace check replays one through the server chart.
    const check = await run(['trace', 'check', join(out, flipped!.traces[0]!)]);
    expect(check.code).toBe(0);
    expect(check.io.out).toMatch(/conforms to RFC 8446/);
  });

  it('exits 1 when a finding fails, with the format asked for on stdout', async () => {
    const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
    const server = await startEngineServer({
      certificates: [certifiedKey(g.certPem, g.keyPem, 'cli', nobleProvider)],
      connection: (o, store) => new BinderIgnoringServer(o, store),
    });
    stops.push(() => server.stop());
    const { code, io } = await run([
      'audit',
      'server',
      `127.0.0.1:${server.port}`,
      '--insecure',
      '--checks',
      'binders.flipped-bit',
      '--format',
      'sarif',
      '--out',
      join(dir, 'failing'),
    ]);
    expect(code).toBe(1);
    const sarif = JSON.parse(io.out) as { version: string; runs: Array<{ results: Array<{ ruleId: string; level: string }> }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.results).toEqual([expect.objectContaining({ ruleId: 'binders.flipped-bit', level: 'error' })]);
    expect(io.err).toMatch(/1 failing finding\(s\)/);
  });
});
