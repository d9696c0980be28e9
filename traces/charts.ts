/**
 * The statecharts as pictures and data:
 *
 * - JSON: the machine configuration as written (states, `on`, guard and action
 *   names, fail alerts as action params) — the shape Stately Studio imports
 *   and XState's `createMachine` accepts (functions such as the context
 *   factory are left out by JSON itself);
 * - Mermaid `stateDiagram-v2`, for READMEs;
 * - Graphviz DOT, each state a node with a stable id (`<prefix>state-<name>`)
 *   so the SVG (rendered offline by @viz-js/viz, Graphviz compiled to
 *   WebAssembly) can be highlighted by the trace viewer.
 */

import { instance, type Viz } from '@viz-js/viz';
import type { AnyStateMachine } from 'xstate';
import { clientMachine } from '../machines/client/machine.js';
import { serverMachine } from '../machines/server/machine.js';
import { isRefusalReason, REFUSALS, type RefusalReason } from '../wire/refusals.js';

export type ChartRole = 'client' | 'server';

export function chartMachine(role: ChartRole): AnyStateMachine {
  return role === 'client' ? clientMachine : serverMachine;
}

interface TransitionDef {
  target?: unknown[];
  guard?: string | { type: string };
  actions?: Array<string | { type: string; params?: Record<string, unknown> }>;
  eventType: string;
}

interface StateDef {
  key: string;
  type: string;
  initial?: string | { target?: Array<{ key: string }> };
  on: Record<string, TransitionDef[]>;
  states: Record<string, StateDef>;
}

export interface ChartEdge {
  source: string | undefined; // undefined: declared at the root, valid in every state
  target: string | undefined; // undefined: a transition that stays
  event: string;
  guard: string | undefined;
  actions: string[];
  /** The alert of a `fail` action, if the branch fails. */
  alert: string | undefined;
}

export interface ChartModel {
  id: string;
  initial: string;
  states: Array<{ name: string; final: boolean }>;
  edges: ChartEdge[];
}

/** A transition target, as a state name: definitions hold state nodes (`id` "client.connected") or "#client.connected". */
function targetName(t: unknown): string | undefined {
  const id = typeof t === 'string' ? t : typeof t === 'object' && t !== null && 'id' in t ? String((t as { id: unknown }).id) : undefined;
  return id?.replace(/^#?[^.]+\./, '');
}

/** States and transitions of a machine, from its public definition (`toJSON()`). */
export function chartModel(machine: AnyStateMachine): ChartModel {
  const root = machine.toJSON() as unknown as StateDef & { id: string };
  const edges: ChartEdge[] = [];
  const add = (source: string | undefined, list: Record<string, TransitionDef[]>) => {
    for (const [event, ts] of Object.entries(list)) {
      for (const t of ts) {
        const actions = (t.actions ?? []).map((a) => (typeof a === 'string' ? a : a.type));
        const failAction = (t.actions ?? []).find(
          (a): a is { type: string; params: Record<string, unknown> } => typeof a === 'object' && a.params !== undefined,
        );
        edges.push({
          source,
          target: targetName(t.target?.[0]),
          event,
          guard: typeof t.guard === 'string' ? t.guard : t.guard?.type,
          actions,
          alert:
            failAction?.type === 'fail' && isRefusalReason(String(failAction.params.reason))
              ? (REFUSALS[failAction.params.reason as RefusalReason].alert ?? undefined)
              : undefined,
        });
      }
    }
  };
  add(undefined, root.on);
  const states = Object.values(root.states).map((s) => {
    // A final state's catch-all only absorbs events: nothing to draw.
    if (s.type !== 'final') add(s.key, s.on);
    return { name: s.key, final: s.type === 'final' };
  });
  const initial = typeof root.initial === 'string' ? root.initial : (root.initial?.target?.[0]?.key ?? states[0]?.name ?? '');
  return { id: root.id, initial, states, edges };
}

/** The machine configuration as JSON (guard and action names kept): for Stately Studio and `createMachine`. */
export function chartJson(machine: AnyStateMachine): string {
  return `${JSON.stringify(machine.config, null, 2)}\n`;
}

const edgeLabel = (e: ChartEdge): string => {
  const parts = [e.event];
  if (e.guard) parts.push(`[${e.guard}]`);
  if (e.alert) parts.push(`/ ${e.alert}`);
  return parts.join(' ');
};

/** Mermaid stateDiagram-v2. Root-level transitions (any state) are drawn from a note-like "any state" node. */
export function chartMermaid(machine: AnyStateMachine): string {
  const m = chartModel(machine);
  const esc = (s: string) => s.replace(/[:;#]/g, ' ');
  const lines = ['stateDiagram-v2', `  [*] --> ${m.initial}`];
  for (const e of m.edges) {
    if (e.source === undefined || e.target === undefined) continue;
    lines.push(`  ${e.source} --> ${e.target} : ${esc(edgeLabel(e))}`);
  }
  for (const s of m.states) if (s.final) lines.push(`  ${s.name} --> [*]`);
  const anywhere = m.edges.filter((e) => e.source === undefined);
  if (anywhere.length > 0) {
    lines.push('  state "any state" as anyState');
    for (const e of anywhere) if (e.target) lines.push(`  anyState --> ${e.target} : ${esc(edgeLabel(e))}`);
  }
  const selfLoops = m.edges.filter((e) => e.source !== undefined && e.target === undefined);
  for (const e of selfLoops) lines.push(`  ${e.source} --> ${e.source} : ${esc(edgeLabel(e))}`);
  return `${lines.join('\n')}\n`;
}

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export interface DotOptions {
  /** Prefix of the node ids (default `<machine id>-`). */
  idPrefix?: string;
  /** Label edges with event [guard] / alert (default true); the viewer draws a compact chart without. */
  edgeLabels?: boolean;
}

/** Graphviz DOT; node ids are `${idPrefix}state-<name>` (and `${idPrefix}state-any` for root transitions). */
export function chartDot(machine: AnyStateMachine, opts: DotOptions = {}): string {
  const m = chartModel(machine);
  const prefix = opts.idPrefix ?? `${m.id}-`;
  const labelled = opts.edgeLabels ?? true;
  const label = (labels: string[]) => (labelled ? `label=${dotString(labels.join('\n'))}` : `tooltip=${dotString(labels.join('; '))}`);
  const lines = [
    `digraph ${dotString(m.id)} {`,
    '  rankdir=TB; nodesep=0.35; ranksep=0.45;',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6fb", color="#5a6b8c", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=8, color="#7a869a", fontcolor="#44546a"];',
    `  start [shape=point, width=0.12, id=${dotString(`${prefix}start`)}];`,
  ];
  for (const s of m.states) {
    const attrs = [`id=${dotString(`${prefix}state-${s.name}`)}`, `label=${dotString(s.name)}`];
    if (s.final) attrs.push('peripheries=2');
    if (s.name === 'failed') attrs.push('fillcolor="#fbeaea"', 'color="#b04848"');
    lines.push(`  ${dotString(s.name)} [${attrs.join(', ')}];`);
  }
  lines.push(`  start -> ${dotString(m.initial)};`);
  // Several branches of one event between the same two states are one edge with stacked labels.
  const grouped = new Map<string, string[]>();
  for (const e of m.edges) {
    if (e.source === undefined) continue;
    const key = `${e.source}\u0000${e.target ?? e.source}`;
    grouped.set(key, [...(grouped.get(key) ?? []), edgeLabel(e)]);
  }
  for (const [key, labels] of grouped) {
    const [src, dst] = key.split('\u0000') as [string, string];
    const failing = dst === 'failed';
    lines.push(`  ${dotString(src)} -> ${dotString(dst)} [${label(labels)}${failing ? ', style=dashed, color="#c98f8f"' : ''}];`);
  }
  const anywhere = m.edges.filter((e) => e.source === undefined && e.target !== undefined);
  if (anywhere.length > 0) {
    lines.push(`  any [id=${dotString(`${prefix}state-any`)}, label="any state", shape=note, style=dashed, fillcolor="#ffffff"];`);
    const byTarget = new Map<string, string[]>();
    for (const e of anywhere) byTarget.set(e.target as string, [...(byTarget.get(e.target as string) ?? []), edgeLabel(e)]);
    for (const [t, labels] of byTarget) lines.push(`  any -> ${dotString(t)} [${label(labels)}, style=dotted];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

let viz: Promise<Viz> | undefined;

/** Render DOT to SVG with Graphviz compiled to WebAssembly (no system package, no network). */
export async function dotToSvg(dot: string): Promise<string> {
  viz ??= instance();
  const v = await viz;
  const svg = v.renderString(dot, { format: 'svg' });
  // Keep only the <svg> element so it can be inlined in HTML.
  const start = svg.indexOf('<svg');
  // Graphviz writes '-' as a character reference; plain '-' is valid XML and easier to search.
  return (start >= 0 ? svg.slice(start) : svg).replace(/&#45;/g, '-');
}

/** The chart as an inline SVG whose state nodes carry ids `${idPrefix}state-<name>`. */
export async function chartSvg(machine: AnyStateMachine, opts: DotOptions = {}): Promise<string> {
  return dotToSvg(chartDot(machine, opts));
}
