/**
 * `tlschart trace check|render|view|import` and `tlschart chart` through main():
 * on a trace the demo really recorded, on a copy with a mutated message, on
 * files that are no trace; exit codes as the trace commands define them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import { loadTrace, serializeTrace, type Trace } from '../traces/format.js';
import { rewriteReceived } from '../traces/testing/mutate.js';
import type { ServerHello } from '../wire/types.js';
import { main } from './main.js';
import { type Captured, capture } from './testing/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tlschart-cli-traces-'));
const demoTrace = join(dir, 'out.json');
let trace: Trace;

beforeAll(async () => {
  const io = capture();
  expect(await main(['demo', '--trace', demoTrace], io)).toBe(0);
  const loaded = loadTrace(demoTrace);
  if (!loaded.ok) throw new Error(loaded.error);
  trace = loaded.trace;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; io: Captured }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, io };
}

describe('tlschart trace check', () => {
  it('says the demo trace conforms and exits 0', async () => {
    const { code, io } = await run(['trace', 'check', demoTrace]);
    expect(code).toBe(0);
    expect(io.out).toMatch(
      /^.*out\.json: conforms to RFC 8446 \(\d+ received steps checked, 2 handshake\(s\), 4 side\(s\); group X25519MLKEM768, X25519MLKEM768\)\n$/,
    );
    const json = await run(['trace', 'check', demoTrace, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.io.out)).toMatchObject({ conforms: true });
  });

  it('reports a violation with exit 1 when the resumed ServerHello lost its key_share (a psk_ke answer)', async () => {
    const mutated = rewriteReceived<ServerHello>(trace, 1, 'client', 'server_hello', (sh) => ({
      ...sh,
      extensions: sh.extensions.filter((e) => e.type !== 'key_share_server'),
    }));
    const file = join(dir, 'mutated.json');
    writeFileSync(file, serializeTrace(mutated));
    const { code, io } = await run(['trace', 'check', file]);
    expect(code).toBe(1);
    expect(io.out).toContain('VIOLATION in handshake 2 (resumption with the PSK (psk_dhe_ke)), client side');
    expect(io.out).toContain('state:     expectServerHello');
    expect(io.out).toContain('message:   server_hello');
    expect(io.out).toContain('RFC 8446 §4.2.9');
    expect(io.out).toContain('a conforming client sends: illegal_parameter');
  });

  it('exits 2 for a missing file, a file that is not JSON and JSON that is not a trace', async () => {
    writeFileSync(join(dir, 'garbage.json'), 'not json');
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ version: 1, connections: [] }));
    for (const f of ['absent.json', 'garbage.json', 'old.json']) {
      const { code, io } = await run(['trace', 'check', join(dir, f)]);
      expect(code).toBe(2);
      expect(io.err).toContain('is not a readable tlschart trace');
      expect(io.out).toBe('');
    }
  });
});

describe('tlschart trace render and view', () => {
  it('renders an SVG sequence chart with a client and a server lane', async () => {
    const out = join(dir, 'out.svg');
    const { code, io } = await run(['trace', 'render', demoTrace, '--format', 'svg', '--out', out]);
    expect(code).toBe(0);
    expect(io.err).toBe(`wrote ${out}\n`);
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/<text[^>]*>Client<\/text>/);
    expect(svg).toMatch(/<text[^>]*>Server<\/text>/);
    expect(svg).toContain('full handshake, establishes a PSK');
    expect(svg).toContain('{CertificateVerify}');
    // The same chart on standard output without --out.
    const stdout = await run(['trace', 'render', demoTrace, '--format', 'svg']);
    expect(stdout.code).toBe(0);
    expect(stdout.io.out).toBe(svg);
  });

  it('renders Mermaid sequenceDiagram text by default and with --format mermaid', async () => {
    const byDefault = await run(['trace', 'render', demoTrace]);
    const explicit = await run(['trace', 'render', demoTrace, '--format', 'mermaid']);
    expect(byDefault.code).toBe(0);
    expect(explicit.code).toBe(0);
    expect(explicit.io.out).toBe(byDefault.io.out);
    expect(explicit.io.out.startsWith('sequenceDiagram\n')).toBe(true);
    expect(explicit.io.out).toContain('participant C as Client');
    expect(explicit.io.out).toContain('Note over C,S: Certificate, CertificateVerify skipped: PSK');
  });

  it('writes the viewer as one self-contained HTML page that loads nothing from the network', async () => {
    const out = join(dir, 'view.html');
    const { code } = await run(['trace', 'view', demoTrace, '--out', out]);
    expect(code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.toLowerCase().startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('id="client-state-expectServerHello"');
    expect(html).toContain('id="server-state-expectClientHello"');
    // Only XML namespace names may look like URLs; nothing is fetched.
    const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
    expect(urls.filter((u) => u !== 'http://www.w3.org/2000/svg' && u !== 'http://www.w3.org/1999/xlink')).toEqual([]);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?\/\//i);
  });

  it('renders and views only readable traces, and refuses an unknown format as a usage error', async () => {
    expect((await run(['trace', 'render', join(dir, 'absent.json')])).code).toBe(2);
    expect((await run(['trace', 'view', join(dir, 'absent.json')])).code).toBe(2);
    const png = await run(['trace', 'render', demoTrace, '--format', 'png']);
    expect(png.code).toBe(64);
    expect(png.io.err).toContain('unknown format png');
  });
});

describe('tlschart chart', () => {
  const states = (m: typeof clientMachine | typeof serverMachine) => Object.keys(m.config.states ?? {});

  it('exports the client chart as a Mermaid stateDiagram with every state', async () => {
    const { code, io } = await run(['chart', 'client', '--format', 'mermaid']);
    expect(code).toBe(0);
    expect(io.out).toMatch(/^stateDiagram/);
    expect(states(clientMachine)).toContain('expectServerFinished');
    for (const s of states(clientMachine)) expect(io.out).toMatch(new RegExp(`\\b${s}\\b`));
  });

  it('exports the server chart as DOT, JSON and SVG', async () => {
    const dot = await run(['chart', 'server', '--format', 'dot']);
    expect(dot.io.out).toContain('digraph "server"');
    const json = await run(['chart', 'server', '--format', 'json']);
    expect(Object.keys((JSON.parse(json.io.out) as { states: object }).states).sort()).toEqual(states(serverMachine).sort());
    const svg = await run(['chart', 'server', '--format', 'svg']);
    expect(svg.code).toBe(0);
    expect(svg.io.out).toContain('id="state-expectClientHello"');
  });

  it('exits 64 for an unknown chart', async () => {
    const { code, io } = await run(['chart', 'proxy']);
    expect(code).toBe(64);
    expect(io.err).toContain('Usage: tlschart chart client|server');
  });
});

describe('the trace command itself', () => {
  it('prints its help with --help and exits 0', async () => {
    const { code, io } = await run(['trace', '--help']);
    expect(code).toBe(0);
    expect(io.out.startsWith('Usage: tlschart trace check|render|view FILE')).toBe(true);
  });

  it('exits 64 without a subcommand or with an unknown one, and each subcommand has its own help', async () => {
    for (const argv of [['trace'], ['trace', 'replay', demoTrace]]) {
      const { code, io } = await run(argv);
      expect(code).toBe(64);
      expect(io.err).toContain('Usage: tlschart trace check|render|view FILE');
    }
    for (const sub of ['check', 'render', 'view']) {
      const { code, io } = await run(['trace', sub, '--help']);
      expect(code).toBe(0);
      expect(io.out.startsWith(`Usage: tlschart trace ${sub} FILE`)).toBe(true);
    }
    const imp = await run(['trace', 'import', '--help']);
    expect(imp.code).toBe(0);
    expect(imp.io.out.startsWith('Usage: tlschart trace import CAPTURE')).toBe(true);
  });
});
