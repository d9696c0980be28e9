/**
 * The command handlers the CLI wires: exit codes (0 conforms, 1 violation,
 * 2 unreadable, 64 usage), what they print, and the files they write.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capture } from '../cli/testing/capture.js';
import { chartExport, EXIT, traceCheck, traceRender, traceView } from './cli-commands.js';
import { parseTrace, serializeTrace } from './format.js';
import { skipReceived } from './testing/mutate.js';

const goldenDir = fileURLToPath(new URL('./golden/', import.meta.url));
const golden = (n: string) => join(goldenDir, `${n}.json`);

const tmp = () => mkdtempSync(join(tmpdir(), 'tlschart-traces-'));

describe('tlschart trace check', () => {
  for (const f of readdirSync(goldenDir).filter((x) => x.endsWith('.json'))) {
    it(`exits 0 for ${f} and says it conforms`, async () => {
      const o = capture();
      expect(await traceCheck([join(goldenDir, f)], o)).toBe(EXIT.ok);
      expect(o.out).toMatch(/conforms to RFC 8446 \(\d+ received steps checked/);
    });
  }

  it('names the group each handshake settled on: X25519MLKEM768 by default, x25519 for a client without it', async () => {
    const hybrid = capture();
    expect(await traceCheck([golden('resumption')], hybrid)).toBe(EXIT.ok);
    expect(hybrid.out).toMatch(/2 handshake\(s\), 4 side\(s\); group X25519MLKEM768, X25519MLKEM768\)\n$/);
    const classic = capture();
    expect(await traceCheck([golden('resumption-x25519')], classic)).toBe(EXIT.ok);
    expect(classic.out).toMatch(/; group x25519, x25519\)\n$/);
    const hrr = capture();
    expect(await traceCheck([golden('hello-retry')], hrr)).toBe(EXIT.ok);
    expect(hrr.out).toMatch(/; group x25519\)\n$/);
  });

  it('exits 1 for a trace with a skipped EncryptedExtensions and names state, message, section and alert', async () => {
    const p = parseTrace(readFileSync(golden('full-handshake'), 'utf8'));
    if (!p.ok) throw new Error(p.error);
    const file = join(tmp(), 'skipped.json');
    writeFileSync(file, serializeTrace(skipReceived(p.trace, 0, 'client', 'encrypted_extensions')));
    const o = capture();
    expect(await traceCheck([file], o)).toBe(EXIT.violation);
    expect(o.out).toContain('VIOLATION in handshake 1 (full handshake), client side');
    expect(o.out).toContain('state:     expectEncryptedExtensions');
    expect(o.out).toContain('message:   certificate');
    expect(o.out).toContain('RFC 8446 §4.3.1');
    expect(o.out).toContain('a conforming client sends: unexpected_message');
    const j = capture();
    expect(await traceCheck([file, '--json'], j)).toBe(EXIT.violation);
    expect(JSON.parse(j.out)).toMatchObject({ conforms: false, violation: { section: '§4.3.1', alert: 'unexpected_message' } });
  });

  it('exits 2 for a missing file, a file that is not JSON and JSON that is not a trace', async () => {
    const d = tmp();
    writeFileSync(join(d, 'garbage.json'), 'not json at all');
    writeFileSync(join(d, 'other.json'), JSON.stringify({ format: 'pcapng' }));
    for (const f of [join(d, 'absent.json'), join(d, 'garbage.json'), join(d, 'other.json')]) {
      const o = capture();
      expect(await traceCheck([f], o)).toBe(EXIT.unreadable);
      expect(o.err).toContain('is not a readable tlschart trace');
    }
  });

  it('exits 64 on usage errors and 0 with the help text for --help', async () => {
    for (const argv of [[], ['a.json', 'b.json'], ['--frobnicate', 'a.json']]) {
      const o = capture();
      expect(await traceCheck(argv, o)).toBe(EXIT.usage);
      expect(o.err).toContain('Usage: tlschart trace check FILE');
    }
    const h = capture();
    expect(await traceCheck(['--help'], h)).toBe(EXIT.ok);
    expect(h.out).toContain('Exit status: 0 conforms, 1 violation, 2 unreadable file, 64 usage error.');
  });
});

describe('tlschart trace render and view', () => {
  it('renders Mermaid to standard output, SVG and HTML to files', async () => {
    const o = capture();
    expect(await traceRender([golden('resumption')], o)).toBe(EXIT.ok);
    expect(o.out).toContain('Note over C,S: Certificate, CertificateVerify skipped: PSK');
    const d = tmp();
    for (const format of ['svg', 'html']) {
      const out = join(d, `r.${format}`);
      expect(await traceRender([golden('resumption'), '--format', format, '--out', out], capture())).toBe(EXIT.ok);
      const text = readFileSync(out, 'utf8');
      expect(text).toContain(format === 'svg' ? '<svg' : '<!doctype html>');
      expect(text).toContain('{Finished}');
    }
    expect(await traceRender([golden('resumption'), '--format', 'png'], capture())).toBe(EXIT.usage);
    expect(await traceRender([join(d, 'none.json')], capture())).toBe(EXIT.unreadable);
  });

  it('writes the viewer next to the trace by default', async () => {
    const d = tmp();
    const file = join(d, 'run.json');
    copyFileSync(golden('hello-retry'), file);
    const o = capture();
    expect(await traceView([file], o)).toBe(EXIT.ok);
    const html = readFileSync(join(d, 'run.html'), 'utf8');
    expect(html).toContain('id="client-state-expectServerHelloAfterRetry"');
    expect(html).toContain('id="timeline"');
    expect(o.err).toContain(`wrote ${join(d, 'run.html')}`);
    expect(await traceView([], capture())).toBe(EXIT.usage);
  });
});

describe('tlschart chart', () => {
  it('exports both charts in every format', async () => {
    for (const role of ['client', 'server']) {
      const m = capture();
      expect(await chartExport([role], m)).toBe(EXIT.ok);
      expect(m.out.startsWith('stateDiagram-v2')).toBe(true);
      const d = capture();
      expect(await chartExport([role, '--format', 'dot'], d)).toBe(EXIT.ok);
      expect(d.out).toContain(`digraph "${role}"`);
      const j = capture();
      expect(await chartExport([role, '--format', 'json'], j)).toBe(EXIT.ok);
      expect(JSON.parse(j.out)).toMatchObject({ id: role });
      const s = capture();
      expect(await chartExport([role, '--format', 'svg'], s)).toBe(EXIT.ok);
      expect(s.out).toContain('id="state-connected"');
    }
  });

  it('exits 64 for an unknown chart or format', async () => {
    expect(await chartExport(['proxy'], capture())).toBe(EXIT.usage);
    expect(await chartExport(['client', '--format', 'png'], capture())).toBe(EXIT.usage);
  });
});
