/**
 * The text report: a header, one table row per finding, then the details of
 * every finding that did not simply pass (expected, observed, why, the first
 * divergence from tlschart's chart, what was measured, the traces).
 */
import { type AuditReport, citation, type Finding, type MeasuredValue } from '../findings.js';

const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n));

function measuredText(m: Record<string, MeasuredValue>): string[] {
  return Object.entries(m).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

export function subjectLine(r: AuditReport): string {
  if (r.subject.role === 'client')
    return `${r.subject.target}${r.subject.serverName ? ` (probing server as ${r.subject.serverName})` : ''}`;
  return `${r.subject.target}${r.subject.serverName ? ` (SNI ${r.subject.serverName})` : ''}`;
}

function details(f: Finding, role: AuditReport['subject']['role'] = 'server'): string[] {
  const lines = [
    `${f.id}  ${f.verdict.toUpperCase()}${f.verdict !== f.rfcVerdict ? ` (RFC alone: ${f.rfcVerdict})` : ''}  ${citation(f.rfc)}`,
    `  ${f.title}`,
  ];
  lines.push(`  expected: ${f.expected.summary}`);
  lines.push(`  observed: ${f.observed.summary}`);
  lines.push(`  why:      ${f.reason}`);
  if (f.policy) lines.push(`  policy:   ${f.policy.rule}${f.policy.violated ? ` (not kept by this ${role})` : ''}`);
  if (f.refusal) lines.push(`  tlschart: refuses the same input (${f.refusal})`);
  if (f.observed.statePath) lines.push(`  path:     ${f.observed.statePath.join(' → ')}`);
  const d = f.observed.divergence;
  if (d)
    lines.push(
      `  chart:    at step ${d.step} (${d.state}, ${d.message}) RFC 8446 ${d.section}: ${d.requirement}; the ${role}: ${d.recorded}`,
    );
  const m = measuredText(f.measured);
  if (m.length > 0) lines.push(`  measured: ${m.join(', ')}`);
  if (f.traces.length > 0)
    lines.push(`  traces:   ${f.traces.slice(0, 4).join(', ')}${f.traces.length > 4 ? ` (+${f.traces.length - 4} more)` : ''}`);
  return lines;
}

/** The report as text, for a terminal. `outDir` is said where the traces and the HTML report are. */
export function textReport(r: AuditReport, outDir?: string): string {
  const c = r.counts;
  const out: string[] = [];
  out.push(
    `tlschart audit ${r.subject.role} ${subjectLine(r)} — profile ${r.profile}, ${r.findings.length} findings, ${String(r.settings.connections ?? '?')} connections, ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  out.push(`  fail ${c.fail}  warn ${c.warn}  info ${c.info}  inconclusive ${c.inconclusive}  pass ${c.pass}`);
  if (r.inconclusive !== null) out.push(`  INCONCLUSIVE: ${r.inconclusive}`);
  if (outDir) out.push(`  traces and HTML report: ${outDir}`);
  out.push('');
  const width = Math.max(...r.findings.map((f) => f.id.length), 10) + 2;
  out.push(`${pad('ID', width)}${pad('VERDICT', 14)}${pad('RFC', 22)}TITLE`);
  for (const f of r.findings) {
    const rfc = `${f.rfc.document === undefined ? '' : `${f.rfc.document} `}§${f.rfc.section} ${f.rfc.keyword}`;
    out.push(`${pad(f.id, width)}${pad(f.verdict, 14)}${pad(rfc, 22)}${f.title}`);
  }
  const notPass = r.findings.filter((f) => f.verdict !== 'pass');
  if (notPass.length > 0) {
    out.push('', 'Details (every finding that is not a plain pass)', '');
    for (const f of notPass) out.push(...details(f, r.subject.role), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
