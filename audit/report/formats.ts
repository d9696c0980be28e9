/**
 * The machine-readable reports: JSON (the AuditReport itself, described by
 * audit-report.schema.json), JUnit XML (one test case per finding: fail is a
 * failure, inconclusive is skipped) and SARIF 2.1.0 (one rule per probe,
 * one result per finding, each located at its trace files).
 */
import { type AuditReport, citation, type Finding } from '../findings.js';
import { subjectLine } from './text.js';

export const SCHEMA_ID = 'https://tlschart.invalid/audit-report.schema.json';

export function jsonReport(r: AuditReport): string {
  return `${JSON.stringify({ $schema: SCHEMA_ID, ...r }, null, 2)}\n`;
}

/** RFC editor link for a section ("4.2.11", "C.4"). */
export function rfcUrl(f: Pick<Finding, 'rfc'>): string {
  const doc = (f.rfc.document ?? 'RFC 8446').replace(/\s+/g, '').toLowerCase();
  const anchor = /^[A-Z]/.test(f.rfc.section) ? `appendix-${f.rfc.section}` : `section-${f.rfc.section}`;
  return `https://www.rfc-editor.org/rfc/${doc}#${anchor}`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function findingText(f: Finding, role: AuditReport['subject']['role'] = 'server'): string {
  const lines = [
    `${f.title} (${citation(f.rfc)})`,
    `verdict: ${f.verdict}${f.verdict !== f.rfcVerdict ? ` (RFC alone: ${f.rfcVerdict})` : ''}`,
    `expected: ${f.expected.summary}`,
    `observed: ${f.observed.summary}`,
    `why: ${f.reason}`,
  ];
  if (f.observed.divergence)
    lines.push(
      `chart: step ${f.observed.divergence.step} (${f.observed.divergence.state}): ${f.observed.divergence.requirement}; the ${role}: ${f.observed.divergence.recorded}`,
    );
  if (Object.keys(f.measured).length > 0) lines.push(`measured: ${JSON.stringify(f.measured)}`);
  if (f.traces.length > 0) lines.push(`traces: ${f.traces.join(' ')}`);
  return lines.join('\n');
}

export function junitReport(r: AuditReport): string {
  const families = [...new Set(r.findings.map((f) => f.check))];
  const seconds = (r.durationMs / 1000).toFixed(3);
  const count = (fs: Finding[], v: Finding['verdict']) => fs.filter((f) => f.verdict === v).length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${xml(`tlschart audit ${r.subject.role} ${subjectLine(r)}`)}" tests="${r.findings.length}" failures="${count(r.findings, 'fail')}" errors="0" skipped="${count(r.findings, 'inconclusive')}" time="${seconds}" timestamp="${xml(r.startedAt)}">`,
  );
  for (const family of families) {
    const fs = r.findings.filter((f) => f.check === family);
    out.push(
      `  <testsuite name="${xml(family)}" tests="${fs.length}" failures="${count(fs, 'fail')}" errors="0" skipped="${count(fs, 'inconclusive')}" time="0">`,
    );
    out.push(
      `    <properties><property name="target" value="${xml(r.subject.target)}"/><property name="profile" value="${xml(r.profile)}"/></properties>`,
    );
    for (const f of fs) {
      out.push(`    <testcase classname="tlschart.audit.${xml(f.check)}" name="${xml(`${f.id}: ${f.title}`)}" time="0">`);
      if (f.verdict === 'fail')
        out.push(
          `      <failure type="${xml(citation(f.rfc))}" message="${xml(f.reason)}">${xml(findingText(f, r.subject.role))}</failure>`,
        );
      if (f.verdict === 'inconclusive') out.push(`      <skipped message="${xml(`inconclusive: ${f.reason}`)}"/>`);
      out.push(`      <system-out>${xml(findingText(f, r.subject.role))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

const SARIF_LEVEL: Record<Finding['verdict'], { kind: string; level: string }> = {
  fail: { kind: 'fail', level: 'error' },
  warn: { kind: 'fail', level: 'warning' },
  info: { kind: 'informational', level: 'none' },
  inconclusive: { kind: 'review', level: 'none' },
  pass: { kind: 'pass', level: 'none' },
};

/** SARIF 2.1.0; trace locations are relative to the output directory (uriBaseId AUDITDIR). */
export function sarifReport(r: AuditReport, outDirUri?: string): string {
  const rules = r.findings.map((f) => ({
    id: f.id,
    name: f.id.replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase()),
    shortDescription: { text: f.title },
    fullDescription: { text: `${citation(f.rfc)}: ${f.rfc.text}` },
    helpUri: rfcUrl(f),
    help: { text: `Expected: ${f.expected.summary}` },
    properties: { tags: ['tls', 'tls1.3', 'session-resumption', f.check], keyword: f.rfc.keyword, section: f.rfc.section },
  }));
  const results = r.findings.map((f, ruleIndex) => ({
    ruleId: f.id,
    ruleIndex,
    kind: SARIF_LEVEL[f.verdict].kind,
    level: SARIF_LEVEL[f.verdict].level,
    message: { text: `${f.observed.summary}. ${f.reason}.` },
    locations: (f.traces.length > 0 ? f.traces : ['index.html']).slice(0, 10).map((t) => ({
      physicalLocation: { artifactLocation: { uri: t, uriBaseId: 'AUDITDIR' } },
      logicalLocations: [{ name: r.subject.target, kind: 'module' }],
    })),
    properties: { verdict: f.verdict, rfcVerdict: f.rfcVerdict, target: r.subject.target, measured: f.measured },
  }));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'tlschart audit', version: r.tlschart, informationUri: 'https://www.rfc-editor.org/rfc/rfc8446', rules } },
        ...(outDirUri ? { originalUriBaseIds: { AUDITDIR: { uri: outDirUri.endsWith('/') ? outDirUri : `${outDirUri}/` } } } : {}),
        invocations: [
          {
            executionSuccessful: r.inconclusive === null,
            startTimeUtc: r.startedAt,
            ...(r.inconclusive ? { toolExecutionNotifications: [{ message: { text: r.inconclusive }, level: 'error' }] } : {}),
          },
        ],
        properties: { target: r.subject.target, profile: r.profile, counts: r.counts },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
