/**
 * The HTML report in the output directory: `index.html` with one row per
 * finding (verdict, RFC section with a link, what was observed, why) and,
 * for each connection it made, a link to that trace's viewer page (written
 * beside the trace by traces/viewer.ts) and to the trace itself.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTrace } from '../../traces/format.js';
import { viewerHtml } from '../../traces/viewer.js';
import { type AuditReport, citation, type Finding, type MeasuredValue } from '../findings.js';
import { rfcUrl } from './formats.js';
import { subjectLine } from './text.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The viewer page of a trace file: the same path with .html. */
export const viewerPath = (trace: string) => trace.replace(/\.json$/, '.html');

const COLORS: Record<Finding['verdict'], string> = {
  fail: '#c62828',
  warn: '#ef6c00',
  info: '#1565c0',
  inconclusive: '#6d6d6d',
  pass: '#2e7d32',
};

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em} .meta{color:#555;margin-bottom:1em}
table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4} .verdict{font-weight:600;color:#fff;border-radius:3px;padding:.05em .45em;white-space:nowrap}
code{font-size:.92em} details{margin-top:.3em} pre{white-space:pre-wrap;margin:.3em 0;background:#fafafa;padding:.4em}
.counts span{margin-right:1em}`;

function measured(m: Record<string, MeasuredValue>): string {
  const entries = Object.entries(m);
  if (entries.length === 0) return '';
  return `<pre>${esc(entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n'))}</pre>`;
}

function row(f: Finding, role: AuditReport['subject']['role'] = 'server'): string {
  const traces = f.traces
    .map((t, i) => `<a href="${esc(viewerPath(t))}" title="${esc(t)}">connection ${i + 1}</a> (<a href="${esc(t)}">json</a>)`)
    .join(', ');
  const d = f.observed.divergence;
  const detail = [
    `<b>Expected:</b> ${esc(f.expected.summary)}`,
    `<b>Observed:</b> ${esc(f.observed.summary)}`,
    f.observed.statePath ? `<b>Chart path:</b> ${esc(f.observed.statePath.join(' → '))}` : '',
    d
      ? `<b>First divergence from the chart:</b> step ${d.step} (${esc(d.state)}, ${esc(d.message)}): RFC 8446 ${esc(d.section)} ${esc(d.requirement)}; the ${role}: ${esc(d.recorded)}`
      : '',
    f.policy ? `<b>tlschart policy:</b> ${esc(f.policy.rule)}${f.policy.violated ? ` — not kept by this ${role}` : ''}` : '',
    f.refusal ? `<b>tlschart refusal:</b> ${esc(f.refusal)}` : '',
    `<b>Requirement:</b> ${esc(f.rfc.text)}`,
  ].filter((x) => x !== '');
  return `<tr id="${esc(f.id)}">
<td><span class="verdict" style="background:${COLORS[f.verdict]}">${f.verdict}</span>${f.verdict !== f.rfcVerdict ? `<br><small>RFC: ${f.rfcVerdict}</small>` : ''}</td>
<td><code>${esc(f.id)}</code><br>${esc(f.title)}</td>
<td><a href="${esc(rfcUrl(f))}">${esc(citation(f.rfc))}</a></td>
<td>${esc(f.reason)}<details><summary>details</summary>${detail.map((x) => `<div>${x}</div>`).join('')}${measured(f.measured)}</details></td>
<td>${traces || '—'}</td>
</tr>`;
}

export function indexHtml(r: AuditReport): string {
  const c = r.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlschart audit: ${esc(subjectLine(r))}</title><style>${STYLE}</style></head>
<body>
<h1>tlschart audit ${r.subject.role} ${esc(subjectLine(r))}</h1>
<div class="meta">profile ${esc(r.profile)} · ${esc(r.startedAt)} · ${(r.durationMs / 1000).toFixed(1)} s · ${esc(String(r.settings.connections ?? '?'))} connections · tlschart ${esc(r.tlschart)} · <a href="report.json">report.json</a> · <a href="report.junit.xml">JUnit</a> · <a href="report.sarif">SARIF</a></div>
<div class="counts">${(['fail', 'warn', 'info', 'inconclusive', 'pass'] as const).map((v) => `<span><span class="verdict" style="background:${COLORS[v]}">${v}</span> ${c[v]}</span>`).join('')}</div>
${r.inconclusive ? `<p><b>The audit was inconclusive:</b> ${esc(r.inconclusive)}</p>` : ''}
<p>Each connection link opens its trace in the tlschart viewer: the audited ${r.subject.role}'s side, its states inferred from what it sent, stepped through on tlschart's ${r.subject.role} chart. <code>tlschart trace check FILE</code> replays a trace through the chart.</p>
<table><thead><tr><th>verdict</th><th>finding</th><th>RFC</th><th>why</th><th>connections</th></tr></thead>
<tbody>
${r.findings.map((f) => row(f, r.subject.role)).join('\n')}
</tbody></table>
</body></html>
`;
}

/** Write the viewer page of every trace the findings name, then index.html. */
export async function writeHtmlReport(r: AuditReport, outDir: string): Promise<void> {
  const traces = [...new Set(r.findings.flatMap((f) => f.traces))];
  for (const t of traces) {
    const parsed = parseTrace(await readFile(join(outDir, t), 'utf8'));
    if (!parsed.ok) throw new Error(`${t}: ${parsed.error}`);
    await writeFile(join(outDir, viewerPath(t)), await viewerHtml(parsed.trace));
  }
  await writeFile(join(outDir, 'index.html'), indexHtml(r));
}
