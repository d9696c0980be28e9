/**
 * The report formats, on a real audit of a server that fails one check (a
 * tlschart server that skips its binder check): the JSON validates against
 * its schema, the JUnit XML has one test case per finding with the failure,
 * the SARIF 2.1.0 log has one rule and one result per finding located at its
 * traces, the text has the table and the details, and the HTML index links
 * every connection to a viewer page that exists.
 */

import { readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import { type AuditRun, auditPort } from '../testing/audit-run.js';
import { startEngineServer } from '../testing/engine-server.js';
import { BinderIgnoringServer } from '../testing/mutants.js';
import { jsonReport, junitReport, rfcUrl, sarifReport } from './formats.js';
import { viewerPath, writeHtmlReport } from './html.js';
import { textReport } from './text.js';

let run: AuditRun;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
  const server = await startEngineServer({
    certificates: [certifiedKey(g.certPem, g.keyPem, 'report', nobleProvider)],
    connection: (o, store) => new BinderIgnoringServer(o, store),
  });
  try {
    run = await auditPort(server.port, {
      checks: ['binders.flipped-bit', 'psk-modes.psk-ke-only', 'early-data.replay-sequential', 'resumption.psk-dhe-ke'],
      runs: 2,
    });
  } finally {
    await server.stop();
  }
}, 60_000);

afterAll(async () => {
  await run?.remove();
});

/** Every tag opened is closed, in order: a well-formedness check of the XML we write. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([A-Za-z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, attrs, selfClose] = m;
    if (attrs !== undefined && /[<&](?!amp;|lt;|gt;|quot;|apos;)/.test(attrs)) return false;
    if (close) {
      if (stack.pop() !== name) return false;
    } else if (!selfClose) stack.push(name as string);
  }
  return stack.length === 0;
}

describe('the audit reports', () => {
  it('found what the mutant does: binders.flipped-bit fails', () => {
    expect(run.finding('binders.flipped-bit').verdict).toBe('fail');
  });

  it('JSON validates against audit-report.schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('./audit-report.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const doc = JSON.parse(jsonReport(run.report)) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...(doc as object), findings: [{ id: 'x' }] })).toBe(false);
  });

  it('JUnit XML: one test case per finding, a failure for the failing one, skipped for the inconclusive one', () => {
    const xml = junitReport(run.report);
    expect(wellFormed(xml)).toBe(true);
    expect(xml.match(/<testcase /g)?.length).toBe(run.report.findings.length);
    expect(xml).toMatch(/<testsuites [^>]*tests="4" failures="1"/);
    expect(xml).toMatch(
      /<testcase classname="tlschart\.audit\.binders" name="binders\.flipped-bit: A binder with one bit flipped" time="0">\s*<failure type="RFC 8446 §4\.2\.11 MUST"/,
    );
    // tlschart issues no 0-RTT ticket: the replay of 0-RTT cannot be judged.
    expect(xml).toMatch(/name="early-data\.replay-sequential[^"]*" time="0">\s*<skipped message="inconclusive: /);
  });

  it('SARIF 2.1.0: one rule and one result per finding, the failure an error located at its traces', () => {
    const sarif = JSON.parse(sarifReport(run.report, 'file:///audit/out')) as {
      version: string;
      runs: Array<{
        tool: { driver: { rules: Array<{ id: string; helpUri: string }> } };
        originalUriBaseIds: Record<string, { uri: string }>;
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          level: string;
          kind: string;
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } } }>;
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    const r = sarif.runs[0]!;
    expect(r.tool.driver.rules.map((x) => x.id)).toEqual(run.report.findings.map((f) => f.id));
    expect(r.originalUriBaseIds.AUDITDIR?.uri).toBe('file:///audit/out/');
    for (const res of r.results) expect(r.tool.driver.rules[res.ruleIndex]?.id).toBe(res.ruleId);
    const failing = r.results.find((x) => x.ruleId === 'binders.flipped-bit')!;
    expect(failing).toMatchObject({ level: 'error', kind: 'fail' });
    expect(failing.locations[0]?.physicalLocation.artifactLocation).toEqual({
      uri: run.finding('binders.flipped-bit').traces[0],
      uriBaseId: 'AUDITDIR',
    });
    expect(r.tool.driver.rules.find((x) => x.id === 'binders.flipped-bit')?.helpUri).toBe(
      'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.11',
    );
    // Only a failing kind may carry a level other than none (SARIF 2.1.0 §3.27.9).
    for (const res of r.results) if (res.kind !== 'fail') expect(res.level).toBe('none');
  });

  it('links RFC sections and appendices', () => {
    expect(rfcUrl({ rfc: { section: 'C.4', keyword: 'SHOULD', text: '' } })).toBe('https://www.rfc-editor.org/rfc/rfc8446#appendix-C.4');
    expect(rfcUrl({ rfc: { section: '4.3.8', keyword: 'MUST', text: '', document: 'RFC 9846' } })).toBe(
      'https://www.rfc-editor.org/rfc/rfc9846#section-4.3.8',
    );
  });

  it('text: the counts, a row per finding, then the details of what did not pass', () => {
    const text = textReport(run.report, '/some/dir');
    expect(text).toMatch(/^tlschart audit server 127\.0\.0\.1:\d+ \(SNI localhost\) — profile rfc, 4 findings, \d+ connections/);
    expect(text).toMatch(/fail 1 +warn 0 +info 0 +inconclusive 1 +pass 2/);
    expect(text).toMatch(/^binders\.flipped-bit +fail +§4\.2\.11 MUST +A binder with one bit flipped$/m);
    expect(text).toMatch(
      /^binders\.flipped-bit {2}FAIL {2}RFC 8446 §4\.2\.11 MUST\n {2}A binder with one bit flipped\n {2}expected: abort with decrypt_error\n {2}observed: the server resumed the session/m,
    );
    // The server's path through the chart, inferred from its answers (the chart cannot see a binder without the PSK).
    expect(text).toMatch(/^ {2}path: {5}expectClientHello → expectClientFinished → connected$/m);
    expect(text).not.toMatch(/^resumption\.psk-dhe-ke {2}PASS/m);
  });

  it('HTML: index.html links every connection of every finding to its viewer page', async () => {
    await writeHtmlReport(run.report, run.outDir);
    const index = await readFile(join(run.outDir, 'index.html'), 'utf8');
    const traces = run.report.findings.flatMap((f) => f.traces);
    expect(traces.length).toBeGreaterThan(3);
    for (const t of traces) {
      expect(index).toContain(`href="${viewerPath(t)}"`);
      await access(join(run.outDir, viewerPath(t)));
      const page = await readFile(join(run.outDir, viewerPath(t)), 'utf8');
      expect(page).toContain('id="server-chart"');
    }
    expect(index).toContain('<tr id="binders.flipped-bit">');
  });
});
