/**
 * `tlschart audit client`: help, usage errors (64), a client that never
 * connects (2), an audit of a node:tls client started by --exec (1: it
 * offers a ticket whose lifetime is 0), every report written and the JSON
 * valid against its schema, and listen mode with a client that connects to
 * the announced address (0).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../audit/client/testing/engine-client.js';
import type { AuditReport } from '../audit/findings.js';
import { main } from './main.js';
import { type Captured, capture } from './testing/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tlschart-audit-client-cli-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NODE_CLIENT = fileURLToPath(new URL('../audit/client/testing/node-client.mjs', import.meta.url));

async function run(argv: string[], io: Captured = capture()): Promise<{ code: number; io: Captured }> {
  const code = await main(argv, io);
  return { code, io };
}

describe('tlschart audit client: help and usage', () => {
  it('is listed in the main and audit help, and prints its own help with the placeholders and checks', async () => {
    expect((await run(['--help'])).io.out).toMatch(/^ {2}audit client --exec 'COMMAND with \{host\} \{port\}'\n/m);
    expect((await run(['audit', '--help'])).io.out).toMatch(/^ {2}audit client --exec CMD {2}run a client against a probing server/m);
    const help = await run(['audit', 'client', '--help']);
    expect(help.code).toBe(0);
    expect(help.io.out).toMatch(/^Usage: tlschart audit client --exec 'COMMAND with \{host\} \{port\}' \[options\]/);
    for (const p of ['{host} {port}', '{servername}', '{servername2}', '{tmp}', '{cafile}']) expect(help.io.out).toContain(p);
    expect(help.io.out).toContain('Checks (families): offer, hrr, ticket-handling, reply');
    expect(help.io.out).toContain('  reply.wrong-finished\n');
  });

  it.each([
    [['audit', 'client', '--exec', 'openssl s_client -connect {host}:4433'], /never uses \{port\}/],
    [['audit', 'client', '--exec', '   '], /--exec needs a command/],
    [['audit', 'client', '--listen', 'localhost:4433'], /--listen must be IP:PORT/],
    [['audit', 'client', '--cert', 'c.pem'], /--cert and --key go together/],
    [['audit', 'client', '--checks', 'offer,nope'], /unknown check "nope"/],
    [['audit', 'client', '--profile', 'lax'], /--profile must be rfc or strict/],
    [['audit', 'client', '--format', 'xml'], /--format must be text, json, junit, sarif/],
    [['audit', 'client', '--servername', 'same', '--servername2', 'same'], /must differ/],
    [['audit', 'client', '--servername', '127.0.0.1'], /--servername must be a DNS name/],
    [['audit', 'client', 'extra'], /unexpected argument "extra"/],
  ])('%j is a usage error (64)', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(64);
    expect(r.io.err).toMatch(message);
  });
});

describe('tlschart audit client --exec', () => {
  it('exits 2 when the command never connects, saying what it printed', async () => {
    const out = join(dir, 'never');
    const r = await run([
      'audit',
      'client',
      '--exec',
      'echo "nothing on {port}"; exit 7',
      '--checks',
      'ticket-handling.many',
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.io.err).toMatch(
      /inconclusive: the client never connected to 127\.0\.0\.1:\d+; the command exited with status 7: nothing on \d+/,
    );
    expect(readFileSync(join(out, 'commands', 'many-tickets.log'), 'utf8')).toMatch(
      /^\$ echo "nothing on \d+"; exit 7\nnothing on \d+\n\n\[exit 7\]\n$/,
    );
  });

  it('audits a node:tls client: exit 1 for the ticket with lifetime 0 it offers; every report written, the JSON valid', async () => {
    const out = join(dir, 'node');
    const r = await run([
      'audit',
      'client',
      '--exec',
      `node ${NODE_CLIENT} {host} {port} {servername} {servername2}`,
      '--checks',
      'ticket-handling.lifetime-zero,ticket-handling.many',
      '--format',
      'json',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.io.out) as AuditReport;
    expect(report.subject).toEqual({
      role: 'client',
      target: `node ${NODE_CLIENT} {host} {port} {servername} {servername2}`,
      serverName: 'localhost',
    });
    expect(report.findings.map((f) => [f.id, f.verdict])).toEqual([
      ['ticket-handling.lifetime-zero', 'fail'],
      ['ticket-handling.many', 'pass'],
    ]);
    const schema = JSON.parse(readFileSync(new URL('../audit/report/audit-report.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({
      allErrors: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      validateFormats: false,
    }).compile(schema);
    expect(validate(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
    for (const f of ['report.junit.xml', 'report.sarif', 'index.html', 'server-cert.pem', 'commands/lifetime-zero.log'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const traces = readdirSync(join(out, 'traces', 'lifetime-zero'));
    expect(traces.filter((t) => t.endsWith('.json')).length).toBe(3);
    expect(traces.filter((t) => t.endsWith('.html')).length).toBe(3);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('<h1>tlschart audit client node ');
    expect(readFileSync(join(out, 'report.junit.xml'), 'utf8')).toContain('<testsuites name="tlschart audit client node ');
    // The failing connection's trace passes trace check: offering a ticket is not a chart question.
    const failing = report.findings[0]?.traces[0] as string;
    expect((await run(['trace', 'check', join(out, failing)])).code).toBe(0);
  }, 60_000);
});

describe('tlschart audit client without --exec', () => {
  it('listens, says which check is armed, audits the client that connects, and exits 0', async () => {
    let armed: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (armed = resolve));
    const io = capture();
    const stderr = io.stderr.bind(io);
    io.stderr = (t) => {
      stderr(t);
      if (t.startsWith('armed: ')) armed();
    };
    const done = run(
      [
        'audit',
        'client',
        '--listen',
        '127.0.0.1:0',
        '--checks',
        'ticket-handling.unknown-extension',
        '--timeout',
        '30',
        '--out',
        join(dir, 'listen'),
      ],
      io,
    );
    await ready;
    const port = Number(/probing server on 127\.0\.0\.1:(\d+)/.exec(io.err)?.[1]);
    const first = await connectEngine({ host: '127.0.0.1', port, serverName: 'localhost' });
    const session = first.sessions.at(-1);
    await connectEngine({ host: '127.0.0.1', port, serverName: 'localhost', ...(session ? { session } : {}) });
    const r = await done;
    expect(r.code).toBe(0);
    expect(io.err).toMatch(
      /^armed: unknown-extension — connect twice: a full handshake that receives the tickets, then another connection \(to 127\.0\.0\.1:\d+, SNI localhost\); waiting up to 30 s$/m,
    );
    expect(io.out).toMatch(
      /^tlschart audit client whatever connects to 127\.0\.0\.1:\d+ \(probing server as localhost\) — profile rfc, 1 findings, 2 connections/,
    );
    expect(io.out).toMatch(/^ticket-handling\.unknown-extension +pass +§4\.6\.1 MUST +An unknown ticket extension is ignored$/m);
  }, 60_000);
});
