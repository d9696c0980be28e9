/**
 * Transition coverage of the statecharts: every (state, event, branch) the
 * definition contains, and which of them a set of runs actually took.
 */
import type { AnyStateMachine } from 'xstate';

interface NodeLike {
  path: string[];
  type?: string;
  on?: Record<string, unknown[]>;
  states?: Record<string, NodeLike>;
}

/** `state|event|branch` for every transition of the machine, plus `state` for every state. */
export function allTransitions(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const states: string[] = [];
  const transitions: string[] = [];
  const walk = (n: NodeLike) => {
    const name = n.path.join('.') || '(root)';
    if (n.path.length > 0) states.push(name);
    // A final state's catch-all only absorbs events (the engine stops its actor there);
    // properties/machines.test.ts checks that final states are absorbing.
    if (n.type === 'final') return;
    for (const [event, list] of Object.entries(n.on ?? {})) {
      for (let i = 0; i < list.length; i++) transitions.push(`${name}|${event}|${i}`);
    }
    for (const c of Object.values(n.states ?? {})) walk(c);
  };
  walk((machine as unknown as { root: NodeLike }).root);
  return { states, transitions };
}

/**
 * The two kinds of trace entry coverage reads (the engine's TraceEntry has
 * them among others): a state change, and a transition the chart took.
 */
export type CoverageEntry =
  | { kind: 'state'; from: string; to: string }
  | { kind: 'transition'; source: string; eventType: string; index: number }
  | { kind: string };

/** Collects the transitions and states a connection's trace shows. */
export class CoverageRecorder {
  readonly transitions = new Set<string>();
  readonly states = new Set<string>();

  record(entry: CoverageEntry, initialState?: string): void {
    if (initialState) this.states.add(initialState);
    if (entry.kind === 'state' && 'from' in entry) {
      this.states.add(entry.from);
      this.states.add(entry.to);
    }
    if (entry.kind === 'transition' && 'index' in entry && entry.index >= 0) {
      this.transitions.add(`${entry.source}|${entry.eventType}|${entry.index}`);
    }
  }

  report(machine: AnyStateMachine) {
    const all = allTransitions(machine);
    const missingStates = all.states.filter((s) => !this.states.has(s));
    const missingTransitions = all.transitions.filter((t) => !this.transitions.has(t));
    const taken = all.transitions.length - missingTransitions.length;
    const visited = all.states.length - missingStates.length;
    return {
      states: { total: all.states.length, visited, missing: missingStates },
      transitions: { total: all.transitions.length, taken, missing: missingTransitions },
      percent: (100 * (taken + visited)) / (all.transitions.length + all.states.length),
    };
  }
}
