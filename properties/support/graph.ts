/**
 * Exhaustive exploration of one chart with `xstate/graph`: every simple path
 * from the initial state over a symbolic alphabet of labelled, real events.
 * The chart is wrapped so that an exception becomes a vertex of its own
 * (instead of aborting the traversal), and each transition is checked once,
 * when the adjacency map computes it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { AnyActorLogic } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { concat, toHex } from '../../crypto/bytes.js';
import type { ClientContext } from '../../machines/client/context.js';
import type { ServerContext } from '../../machines/server/context.js';
import { checkClientStep, checkServerStep, type LabelledEvent } from './chart-checks.js';
import { type AnyChart, type ClientSnapshot, type ServerSnapshot, type Snapshot, stateOf } from './pure.js';

export interface GraphReport {
  vertices: number;
  edges: number;
  paths: number;
  /** Paths with at least one violating transition. */
  badPaths: number;
  longest: number;
  /** Violations, each with the path (labels) that leads to it. */
  violations: string[];
  /** Final states reached by some path, with flags (for non-vacuity checks). */
  reached: Set<string>;
}

type Labelled = LabelledEvent & { id: number };

const keys = new WeakMap<object, string>();

function transcriptDigest(t: readonly Uint8Array[]): string {
  const parts: Uint8Array[] = [];
  for (const m of t) parts.push(Uint8Array.of(m.length >> 16, (m.length >> 8) & 0xff, m.length & 0xff), m);
  return toHex(sha256(concat(...parts))).slice(0, 16);
}

/** The vertex a snapshot stands for: state, transcript and the flags that change what may happen next. */
export function vertexKey(side: 'client' | 'server', s: Snapshot): string {
  const cached = keys.get(s);
  if (cached) return cached;
  let key: string;
  const thrown = (s as unknown as { thrownBy?: string }).thrownBy;
  if (thrown !== undefined) key = `exception:${thrown}`;
  else {
    const v = stateOf(s);
    const err = (s.context as { error?: { alert: string; reason: string } }).error;
    if (v === 'failed') key = `failed:${err?.alert}:${err?.reason}`;
    else if (v === 'closed') key = 'closed';
    else if (side === 'client') {
      const c = s.context as ClientContext;
      key = JSON.stringify([
        v,
        transcriptDigest(c.transcript),
        c.resumed,
        c.ccsReceived,
        !!c.helloRetryRequest,
        !!c.certificateRequest,
        !!c.serverFinished,
      ]);
    } else {
      const c = s.context as ServerContext;
      key = JSON.stringify([
        v,
        transcriptDigest(c.transcript),
        c.resumed,
        c.ccsReceived,
        !!c.helloRetryRequest,
        c.clientCertificateRequested,
        c.peerChain.length,
        c.offersPskDheKe,
        c.earlyDataOffered,
        !!c.clientFinished,
      ]);
    }
  }
  keys.set(s, key);
  return key;
}

class FirstViolation extends Error {}

/**
 * Breadth-first over the chart until the first transition that breaks a
 * property; returns it with the shortest path that leads to it (used by the
 * mutation gate, where one counterexample is enough), or undefined.
 */
export function firstViolation(
  side: 'client' | 'server',
  machine: AnyChart,
  input: unknown,
  alphabet: readonly LabelledEvent[],
): string | undefined {
  const parents = new Map<string, { parent: string; label: string } | undefined>();
  let found: string | undefined;
  const onEdge = (from: Snapshot, le: Labelled, to: Snapshot, v: string[]) => {
    const fk = vertexKey(side, from);
    if (!parents.has(fk)) parents.set(fk, undefined);
    const tk = vertexKey(side, to);
    if (!parents.has(tk)) parents.set(tk, { parent: fk, label: le.label });
    if (v.length > 0) {
      const labels = [le.label];
      for (let k = parents.get(fk); k; k = parents.get(k.parent)) labels.unshift(k.label);
      found = `${v.join('; ')}\n    path: ${labels.join(' → ')}`;
      throw new FirstViolation(found);
    }
  };
  try {
    traverse(side, machine, input, alphabet, onEdge);
  } catch (e) {
    if (!(e instanceof FirstViolation)) throw e;
  }
  return found;
}

type EdgeHook = (from: Snapshot, le: Labelled, to: Snapshot, violations: string[]) => void;

function traverse(side: 'client' | 'server', machine: AnyChart, input: unknown, alphabet: readonly LabelledEvent[], onEdge: EdgeHook) {
  const events: Labelled[] = alphabet.map((e, id) => ({ ...e, id }));
  const check = side === 'client' ? checkClientStep : checkServerStep;

  const logic = {
    config: machine.config,
    getInitialSnapshot: (scope: unknown, inp: unknown) => (machine as AnyActorLogic).getInitialSnapshot(scope as never, inp),
    transition: (s: Snapshot, le: Labelled, scope: unknown): Snapshot => {
      let next: Snapshot;
      let thrown: unknown;
      try {
        next = (machine as AnyActorLogic).transition(s, le.event, scope as never) as Snapshot;
        if (next.status === 'error') thrown = next.error ?? 'error status';
      } catch (e) {
        thrown = e;
        next = s;
      }
      const v = check(s as ClientSnapshot & ServerSnapshot, le, next as ClientSnapshot & ServerSnapshot, thrown);
      if (thrown !== undefined) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        next = Object.assign(Object.create(null) as object, s, { status: 'error', thrownBy: message }) as Snapshot;
      }
      onEdge(s, le, next, v);
      return next;
    },
  };

  return getSimplePaths(
    logic as unknown as AnyActorLogic,
    {
      input,
      events: (s: Snapshot) => (s.status === 'active' && (s as unknown as { thrownBy?: string }).thrownBy === undefined ? events : []),
      serializeState: (s: Snapshot) => vertexKey(side, s),
      serializeEvent: (e: Labelled) => String(e.id),
    } as never,
  ) as unknown as Array<{ state: Snapshot; steps: Array<{ state: Snapshot; event: Labelled }> }>;
}

/** Every simple path of the chart over the alphabet, each transition checked against properties 1-7. */
export function exploreChart(
  side: 'client' | 'server',
  machine: AnyChart,
  input: unknown,
  alphabet: readonly LabelledEvent[],
): GraphReport {
  const edgeViolations = new Map<string, string[]>();
  let edges = 0;
  const paths = traverse(side, machine, input, alphabet, (from, le, _to, v) => {
    edges++;
    if (v.length > 0) edgeViolations.set(`${vertexKey(side, from)}#${le.id}`, v);
  });
  const violations: string[] = [];
  const reached = new Set<string>();
  const vertices = new Set<string>();
  const reported = new Set<string>();
  let badPaths = 0;
  let longest = 0;
  for (const p of paths) {
    let bad = false;
    // getSimplePaths gives steps as (event, state after it), the first being (xstate.init, initial state).
    longest = Math.max(longest, p.steps.length - 1);
    const labels: string[] = [];
    for (let i = 1; i < p.steps.length; i++) {
      const from = (p.steps[i - 1] as (typeof p.steps)[number]).state;
      const st = p.steps[i] as (typeof p.steps)[number];
      vertices.add(vertexKey(side, from));
      labels.push(st.event.label);
      const edge = `${vertexKey(side, from)}#${st.event.id}`;
      const v = edgeViolations.get(edge);
      if (v) bad = true;
      if (v && !reported.has(edge) && violations.length < 20) {
        reported.add(edge);
        violations.push(`${v.join('; ')}\n    path: ${labels.join(' → ')}`);
      }
    }
    if (bad) badPaths++;
    vertices.add(vertexKey(side, p.state));
    const fs = p.state;
    const flags = side === 'client' ? (fs.context as ClientContext).resumed : (fs.context as ServerContext).resumed;
    // `connected` drops the HelloRetryRequest from the context: any state of the path that held one counts.
    const hrr = p.steps.some((st) => !!(st.state.context as { helloRetryRequest?: unknown }).helloRetryRequest);
    reached.add(`${stateOf(fs)}${flags ? '+resumed' : ''}${hrr ? '+hrr' : ''}`);
  }
  return { vertices: vertices.size, edges, paths: paths.length, badPaths, longest, violations, reached };
}
