/**
 * The trace viewer: one self-contained HTML page (inline SVG, inline script,
 * no network) that steps through a trace. Each step highlights the active
 * state of the client and server machines on their statecharts (Graphviz SVG
 * with one id per state: `client-state-<name>`, `server-state-<name>`) and
 * the current message on the sequence chart (`seq-arrow-<handshake>-<i>`),
 * and shows the step itself: record, decoded fields, event, guards.
 *
 * Keys: → / n / space next, ← / p previous, Home / End first / last.
 */

import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import { chartSvg } from './charts.js';
import type { Role, Trace, TraceStep } from './format.js';
import { bracketed, sequenceModel, sequenceSvg } from './sequence.js';

export interface TimelineEntry {
  handshake: number;
  role: Role;
  step: number;
  seq: number;
  /** Id of the sequence-chart element for this step, if drawn. */
  arrow: string | null;
  /** Each machine's state after this step (absent: that side was not recorded). */
  states: Partial<Record<Role, string>>;
  title: string;
  detail: string;
}

const shorten = (_key: string, v: unknown) =>
  typeof v === 'string' && v.length > 96 && /^[0-9a-f]+$/.test(v) ? `${v.slice(0, 96)}… (${v.length / 2} bytes)` : v;

function describe(step: TraceStep, role: Role): string {
  const what =
    step.kind === 'handshake'
      ? (step.message?.type ?? 'handshake')
      : step.kind === 'alert'
        ? `alert ${step.alert?.description ?? ''}`
        : step.kind.replace(/_/g, ' ');
  return `${role} ${step.direction === 'out' ? 'sends' : 'receives'} ${what}`;
}

function detailOf(step: TraceStep): string {
  const lines: string[] = [];
  lines.push(`state: ${step.stateBefore} → ${step.stateAfter}`);
  if (step.event) lines.push(`event: ${step.event.type}`);
  for (const r of step.records) lines.push(`record: type ${r.contentType}, epoch ${r.epoch}, ${r.length} bytes`);
  for (const g of step.guards) lines.push(`guard ${g.guard}: ${g.result ? 'true' : 'false'}`);
  for (const t of step.transitions)
    lines.push(`transition: ${t.source} → ${t.targets.join(', ') || '(stays)'} on ${t.eventType}${t.guard ? ` [${t.guard}]` : ''}`);
  if (step.alert) lines.push(`alert: ${step.alert.description} (level ${step.alert.level})`);
  if (step.error) lines.push(`error: ${step.error.alert} ${step.error.reason}: ${step.error.message}`);
  if (step.message) lines.push('', JSON.stringify(step.message.fields, shorten, 2));
  return lines.join('\n');
}

/** Every step of every handshake, both sides interleaved in the order they happened. */
export function timeline(trace: Trace): TimelineEntry[] {
  const model = sequenceModel(trace);
  const out: TimelineEntry[] = [];
  for (const [h, hs] of trace.handshakes.entries()) {
    const states: Partial<Record<Role, string>> = {};
    for (const side of hs.sides) {
      const first = side.steps[0];
      states[side.role] = first ? first.stateBefore : side.outcome.state;
    }
    const all = hs.sides.flatMap((side) => side.steps.map((step, index) => ({ role: side.role, step, index })));
    all.sort((a, b) => a.step.seq - b.step.seq || (a.step.direction === 'out' ? -1 : 1));
    for (const { role, step, index } of all) {
      states[role] = step.stateAfter;
      const arrow = model.stepArrow.get(`${h}:${role}:${index}`);
      out.push({
        handshake: h,
        role,
        step: index,
        seq: step.seq,
        arrow: arrow === undefined ? null : `seq-arrow-${h}-${arrow}`,
        states: { ...states },
        title: `${h + 1}. ${hs.label} — ${describe(step, role)}`,
        detail: detailOf(step),
      });
    }
  }
  return out;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON that can sit inside a <script> element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:Helvetica,Arial,sans-serif;color:#1d2733;background:#f7f8fa}
header{display:flex;align-items:center;gap:16px;padding:10px 18px;background:#243447;color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}
header .meta{font-size:12px;opacity:.8}
header .controls{margin-left:auto;display:flex;align-items:center;gap:10px}
button{font-size:14px;padding:6px 14px;border-radius:5px;border:1px solid #8aa1b9;background:#fff;color:#1d2733;cursor:pointer}
#position{font-variant-numeric:tabular-nums;min-width:70px;text-align:center}
main{display:grid;grid-template-columns:minmax(560px,660px) 1fr;gap:14px;padding:14px}
.panel{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px;overflow:auto}
.panel h2{font-size:14px;margin:0 0 6px 0;color:#3b4b5e}
#sequence-panel{max-height:calc(100vh - 330px)}
#detail{height:250px}
#step-title{font-size:14px;font-weight:600;margin-bottom:6px}
#detail pre{margin:0;font-size:11px;line-height:1.35;white-space:pre-wrap;word-break:break-all}
#charts{display:flex;flex-direction:column;gap:14px}
#charts svg{width:100%;height:calc(50vh - 100px)}
.chart-panel .active-state{font-size:13px;margin-bottom:4px}
.chart-panel .active-state b{color:#b35c00}
g.node.active>path,g.node.active>polygon,g.node.active>ellipse{fill:#ffd166!important;stroke:#d35400!important;stroke-width:3px}
g.node.active text{font-weight:bold}
g.arrow.current .hl{fill:#fff0b3}
g.arrow.current line{stroke-width:3.5}
g.arrow.current text{font-weight:bold}
g.note.current rect{stroke-width:2.5}
`;

const SCRIPT = `
(function(){
  var steps = JSON.parse(document.getElementById('timeline').textContent);
  var i = 0;
  function byId(id){ return id ? document.getElementById(id) : null; }
  function show(n){
    i = Math.max(0, Math.min(steps.length - 1, n));
    document.querySelectorAll('.active').forEach(function(e){ e.classList.remove('active'); });
    document.querySelectorAll('.current').forEach(function(e){ e.classList.remove('current'); });
    var s = steps[i];
    ['client','server'].forEach(function(role){
      var name = s.states[role];
      var node = name ? byId(role + '-state-' + name) : null;
      if (node) node.classList.add('active');
      var label = document.getElementById(role + '-active');
      if (label) label.textContent = name || '(not recorded)';
    });
    var arrow = byId(s.arrow);
    if (arrow) { arrow.classList.add('current'); if (arrow.scrollIntoView) arrow.scrollIntoView({block:'nearest'}); }
    document.getElementById('position').textContent = (i + 1) + ' / ' + steps.length;
    document.getElementById('step-title').textContent = s.title;
    document.getElementById('step-detail').textContent = s.detail;
    document.body.setAttribute('data-step', String(i));
  }
  document.getElementById('next').addEventListener('click', function(){ show(i + 1); });
  document.getElementById('prev').addEventListener('click', function(){ show(i - 1); });
  document.addEventListener('keydown', function(e){
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown' || e.key === 'n' || e.key === ' ') { show(i + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp' || e.key === 'p') { show(i - 1); e.preventDefault(); }
    else if (e.key === 'Home') { show(0); e.preventDefault(); }
    else if (e.key === 'End') { show(steps.length - 1); e.preventDefault(); }
  });
  show(0);
})();
`;

/** The viewer page for a trace: self-contained HTML. */
export async function viewerHtml(trace: Trace): Promise<string> {
  const [client, server] = await Promise.all([
    chartSvg(clientMachine, { idPrefix: 'client-', edgeLabels: false }),
    chartSvg(serverMachine, { idPrefix: 'server-', edgeLabels: false }),
  ]);
  const steps = timeline(trace);
  const title = trace.meta.scenario ?? `${trace.meta.role} ↔ ${trace.meta.peer}`;
  const legend = `${bracketed('…', 'handshake')} handshake keys, ${bracketed('…', 'application')} application keys, ${bracketed('…', 'early')} 0-RTT keys`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tlschart viewer: ${xml(title)}</title>
<style>${STYLE}</style></head>
<body data-step="0">
<header>
  <div><h1>tlschart · ${xml(title)}</h1><div class="meta">tlschart ${xml(trace.meta.tlschart)} · ${xml(trace.meta.role)} · peer ${xml(trace.meta.peer)} · ${xml(trace.meta.time)} · ${xml(legend)}</div></div>
  <div class="controls"><button id="prev" type="button" title="previous step (←)">◀ Previous</button><span id="position"></span><button id="next" type="button" title="next step (→)">Next ▶</button></div>
</header>
<main>
  <div>
    <section class="panel" id="sequence-panel"><h2>Messages</h2>${sequenceSvg(trace, { idPrefix: 'seq-' })}</section>
    <section class="panel" id="detail"><div id="step-title"></div><pre id="step-detail"></pre></section>
  </div>
  <div id="charts">
    <section class="panel chart-panel" id="client-chart"><h2>Client chart</h2><div class="active-state">active: <b id="client-active"></b></div>${client}</section>
    <section class="panel chart-panel" id="server-chart"><h2>Server chart</h2><div class="active-state">active: <b id="server-active"></b></div>${server}</section>
  </div>
</main>
<script type="application/json" id="timeline">${scriptJson(steps)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
