/**
 * Conformance monitor: replays a trace through the statechart of the recorded
 * side and reports whether what the trace shows is what a conforming
 * implementation does, or the first place where it is not.
 *
 * For each side of each handshake, a fresh actor of that side's chart — the
 * production chart, or one given to `checkTrace` — gets the side's received
 * messages as events, decoded from the recorded bytes. Every structural
 * prediction comes from the charts' own code (monitor/judges.ts):
 *
 * - guards run the chart's own implementation on the monitor's public context
 *   (monitor/context.ts: the hellos, the transcript, the suite, the peer's
 *   certificate key; no secret), so a guard a chart adds is followed as is;
 * - the hellos are judged by the public rules the charts' judges start with
 *   (`clientHelloViolation`, `helloRetryViolation`, `serverHelloViolation`),
 *   on a view of what the recorded side sent and received;
 * - CertificateVerify is recomputed by the chart's own judge on the public
 *   transcript;
 * - only what needs secrets or the side's own policy comes from the trace: the
 *   PSK binder and ticket lookup, the Finished MAC, certificate trust, and the
 *   server's choices (retry, client authentication, what its configuration
 *   refuses) — the outcome recorded for the step, else the one its reaction
 *   shows.
 *
 * Actions touch no keys: `fail` names its refusal, whose alert, RFC section
 * and sentence come from the table (wire/refusals.ts); a failure branch with
 * another action takes the refusal the public rules found in the message;
 * unexpected_message cites what the chart's state takes (monitor/expected.ts).
 *
 * After each received message the monitor compares its prediction (next
 * state, branch, alert) with the trace, and each sent message with the state
 * the chart is in. The first difference is the violation: step, state,
 * message, what RFC 8446 requires there (section) and the alert a conforming
 * implementation sends.
 */
import { type AnyActorRef, type AnyStateMachine, createActor, type InspectionEvent } from 'xstate';
import { defaultClientConfig, defaultServerConfig } from '../engine/config.js';
import { guardName } from '../engine/connection.js';
import { seededEnvironment } from '../engine/env.js';
import type { FailParams } from '../machines/chart-kit.js';
import { clientMachine } from '../machines/client/machine.js';
import { failFromPeerAlert } from '../machines/common.js';
import { serverMachine } from '../machines/server/machine.js';
import type { TlsEvent } from '../machines/types.js';
import { refuse } from '../wire/alerts.js';
import { REFUSALS } from '../wire/refusals.js';
import type { HandshakeMessage } from '../wire/types.js';
import type { Role, SideTrace, Trace, TraceStep } from './format.js';
import { publicContext } from './monitor/context.js';
import { localEvent, receivedEvent } from './monitor/events.js';
import { expectedHere, sendingRule } from './monitor/expected.js';
import { type GuardImpl, monitorGuards, publicRefusal, type Replay } from './monitor/judges.js';
import { emptyKnowledge, isResumed, type Knowledge, learnReceived, learnSent } from './monitor/knowledge.js';
import { type Prediction, predictionFromTrace, predictionOf } from './monitor/predict.js';
import { describeStep, recordedAlert } from './monitor/recorded.js';

export interface Violation {
  /** Index of the handshake in the trace, and its label. */
  handshake: number;
  label: string;
  role: Role;
  /** Index of the step in the side's steps, and its sequence number. */
  step: number;
  seq: number;
  /** The state the conforming chart was in when the message arrived. */
  state: string;
  /** The message (or record kind) received. */
  message: string;
  /** What RFC 8446 requires at this point. */
  requirement: string;
  /** The RFC 8446 section that says so. */
  section: string;
  /** The alert a conforming implementation sends here; null when it goes on without one. */
  alert: string | null;
  /** What the trace shows instead. */
  recorded: string;
}

export type CheckResult = { conforms: true; steps: number } | { conforms: false; steps: number; violation: Violation };

/** The charts the monitor replays; each defaults to the production chart of its role. */
export interface CheckOptions {
  charts?: { client?: AnyStateMachine; server?: AnyStateMachine };
}

/** Check every side of every handshake; the first violation ends the check. */
export function checkTrace(trace: Trace, options: CheckOptions = {}): CheckResult {
  let steps = 0;
  for (const [h, hs] of trace.handshakes.entries()) {
    for (const side of hs.sides) {
      const r = checkSide(side, { handshake: h, label: hs.label }, chartFor(side.role, options));
      steps += r.steps;
      if (!r.conforms) return { conforms: false, steps, violation: r.violation };
    }
  }
  return { conforms: true, steps };
}

const chartFor = (role: Role, options: CheckOptions): AnyStateMachine =>
  options.charts?.[role] ?? (role === 'client' ? clientMachine : serverMachine);

interface Where {
  handshake: number;
  label: string;
}

/** Check one side against `chart` (default: the production chart of its role). */
export function checkSide(
  side: SideTrace,
  where: Where = { handshake: 0, label: 'handshake' },
  chart: AnyStateMachine = chartFor(side.role, {}),
): CheckResult {
  const replay = startReplay(side, chart);
  const violation = (i: number, step: TraceStep, v: Finding, state: string, message: string): CheckResult => ({
    conforms: false,
    steps: replay.checked,
    violation: { ...where, role: side.role, step: i, seq: step.seq, state, message, ...v },
  });
  try {
    for (const [i, step] of side.steps.entries()) {
      if (step.direction === 'out') {
        const now = replay.state();
        const v = checkSent(replay, step);
        if (v) return violation(i, step, v, now, `sent ${describeStep(step)}`);
        continue;
      }
      if (step.kind === 'early_data_skipped') continue;
      if (!replay.active()) break;
      const seen = receive(replay, step);
      replay.checked++;
      const v = compareReceived(replay, seen, step);
      if (v) return violation(i, step, v, seen.before, describeStep(step));
      if (seen.after !== 'failed') learnReceived(replay.k, step, seen.msg);
    }
    return { conforms: true, steps: replay.checked };
  } finally {
    replay.actor.stop();
  }
}

// ------------------------------------------------------------------ the replay of one side

/** A transition the chart took, as the recorder names it (engine/connection.ts). */
interface Taken {
  source: string;
  eventType: string;
  index: number;
  guard: string | null;
  targets: string[];
}

interface ReplayState {
  role: Role;
  side: SideTrace;
  chart: AnyStateMachine;
  k: Knowledge;
  actor: AnyActorRef;
  /** The chart's own initial context, the base of every public context. */
  initial: object;
  /** The step being replayed, what the guards look at. */
  current: Replay;
  /** The failure a chart action named while handling the current event. */
  failure: Prediction | undefined;
  /** Transitions the chart took for the current event. */
  taken: Taken[];
  /** Local events (app.*) already sent, by event id. */
  sentLocal: Set<number>;
  checked: number;
  state(): string;
  active(): boolean;
}

/** A step for guards evaluated before any step (a chart with eventless transitions). */
const NO_STEP: TraceStep = {
  seq: -1,
  direction: 'in',
  kind: 'handshake',
  records: [],
  event: null,
  stateBefore: '',
  stateAfter: '',
  guards: [],
  transitions: [],
};

function replayOf(r: ReplayState, step: TraceStep): Replay {
  return { role: r.role, side: r.side, step, k: r.k, context: publicContext(r.role, r.initial, r.side.config, r.k), notes: new Set() };
}

type ActionImpl = (args: { event: TlsEvent }, params?: unknown) => void;

/**
 * The chart's actions are not run (they derive keys and build messages; the
 * monitor learns what was sent from the trace), except the chart kit's
 * failures, which say what a conforming side refuses with.
 */
function monitorActions(r: ReplayState): Record<string, ActionImpl> {
  const actions: Record<string, ActionImpl> = {};
  for (const name of Object.keys(r.chart.implementations.actions ?? {})) actions[name] = () => undefined;
  const set = (p: Prediction) => {
    r.failure = p;
  };
  return {
    ...actions,
    fail: (_args, params) => {
      const p = params as FailParams;
      set(predictionOf(refuse(p.reason, p.message), false));
    },
    failUnexpected: () => {
      const message = describeStep(r.current.step);
      const { requirement, section } = expectedHere(r.chart, r.role, r.state(), message, isResumed(r.k));
      set({ alert: REFUSALS.UnexpectedMessage.alert, reason: 'UnexpectedMessage', requirement, section, remote: false });
    },
    failMalformed: ({ event }) => {
      if (event.type === 'recv.Malformed') set(predictionOf(event.error));
    },
    failFromPeerAlert: ({ event }) => {
      const error = failFromPeerAlert({ outbox: [] } as never, event).error;
      if (error) set(predictionOf(error));
    },
  };
}

function startReplay(side: SideTrace, chart: AnyStateMachine): ReplayState {
  const role = side.role;
  const r: ReplayState = {
    role,
    side,
    chart,
    k: emptyKnowledge(role),
    actor: undefined as unknown as AnyActorRef, // created below: its guards and actions close over `r`
    initial: {},
    current: undefined as unknown as Replay,
    failure: undefined,
    taken: [],
    sentLocal: new Set(),
    checked: 0,
    state: () => {
      const v = r.actor.getSnapshot().value as unknown;
      return typeof v === 'string' ? v : JSON.stringify(v);
    },
    active: () => r.actor.getSnapshot().status === 'active',
  };
  r.current = replayOf(r, NO_STEP);
  const originals = (chart.implementations.guards ?? {}) as Record<string, GuardImpl>;
  const machine = chart.provide({ guards: monitorGuards(role, originals, () => r.current), actions: monitorActions(r) } as never);
  const input = { config: role === 'client' ? defaultClientConfig() : defaultServerConfig(), env: seededEnvironment('monitor') };
  r.actor = createActor(machine, {
    input,
    inspect: (ev: InspectionEvent) => {
      if (ev.type !== '@xstate.microstep') return;
      // The branch taken: its guard and target, as the trace records them (a chart given to the monitor may number its branches otherwise).
      type Definition = {
        source: { path: string[]; on?: Record<string, unknown[]> };
        target?: Array<{ id: string }>;
        guard?: unknown;
        eventType: string;
      };
      for (const t of (ev as unknown as { _transitions: Definition[] })._transitions) {
        r.taken.push({
          source: t.source.path.join('.') || '(root)',
          eventType: t.eventType,
          index: (t.source.on?.[t.eventType] ?? []).indexOf(t),
          guard: guardName(t.guard) ?? null,
          targets: (t.target ?? []).map((x) => x.id),
        });
      }
    },
  });
  r.actor.start();
  r.initial = r.actor.getSnapshot().context as object;
  return r;
}

// ------------------------------------------------------------------ sending, receiving, comparing

/** What a violation says besides where it is. */
type Finding = Pick<Violation, 'requirement' | 'section' | 'alert' | 'recorded'>;

/** A step the side sent: it shapes what the side may receive, and must fit the state the chart is in. */
function checkSent(r: ReplayState, step: TraceStep): Finding | undefined {
  const refused = learnSent(r.k, step);
  // A handshake message the codec refuses (pre_shared_key not last, say): the side broke the
  // message's own rules. Reported where it happened: the monitor, which learns only from what it
  // can decode, would otherwise go on without that message and blame a later one.
  if (refused) {
    return {
      requirement: `the ${r.role} sends a ${describeStep(step)} that RFC 8446 does not allow: ${refused.message}`,
      section: REFUSALS[refused.reason].section,
      alert: null,
      recorded: 'the trace sends it',
    };
  }
  const ev = step.event;
  if (ev?.type.startsWith('app.') && !r.sentLocal.has(ev.id) && r.active()) {
    r.sentLocal.add(ev.id);
    r.current = replayOf(r, step);
    r.actor.send(localEvent(step, r.k));
  }
  const now = r.state();
  if (!ev || now === step.stateAfter) return undefined;
  // Tickets only after the client Finished, Finished only after the peer's flight was verified, …
  return { ...sendingRule(r.chart, r.role, now, step), alert: null, recorded: `the trace sends it as part of going to ${step.stateAfter}` };
}

interface Seen {
  before: string;
  after: string;
  msg: HandshakeMessage | undefined;
  /** What a conforming side refuses with, when the chart failed. */
  prediction: Prediction | undefined;
  notes: Replay['notes'];
  taken: Taken[];
}

/** Send a received step to the chart; collect where it went and, if it failed, with what. */
function receive(r: ReplayState, step: TraceStep): Seen {
  const before = r.state();
  const { event, msg } = receivedEvent(step, r.k);
  r.current = replayOf(r, step);
  r.failure = undefined;
  r.taken.length = 0;
  r.actor.send(event);
  const after = r.state();
  let prediction: Prediction | undefined;
  if (after === 'failed') {
    const found = r.failure ? undefined : publicRefusal(r.current, event);
    prediction = r.failure ?? (found ? predictionOf(found) : predictionFromTrace(r.role, r.side, step));
  }
  return { before, after, msg, prediction, notes: r.current.notes, taken: [...r.taken] };
}

/** The chart's reaction against the trace's: state, alert, branch. */
function compareReceived(r: ReplayState, seen: Seen, step: TraceStep): Finding | undefined {
  const { before, after, prediction: p } = seen;
  const recAlert = recordedAlert(r.side, step);
  const expected = () => expectedHere(r.chart, r.role, before, describeStep(step), isResumed(r.k));
  if (after === 'failed' && p && !p.remote) {
    const refusal = { requirement: p.requirement, section: p.section, alert: p.alert };
    if (step.stateAfter !== 'failed')
      return { ...refusal, recorded: `the trace accepts it and goes on to ${step.stateAfter} without an alert` };
    if (recAlert !== undefined && recAlert !== p.alert) return { ...refusal, recorded: `the trace aborts with ${recAlert}` };
    return undefined;
  }
  if (step.stateAfter === 'failed' && after !== 'failed') {
    return {
      requirement: `a conforming ${r.role} accepts this ${describeStep(step)} in ${before} and goes on to ${after}`,
      section: expected().section,
      alert: null,
      recorded: `the trace aborts with ${recAlert ?? 'an error'}`,
    };
  }
  if (after !== step.stateAfter) {
    return {
      requirement: `a conforming ${r.role} goes from ${before} to ${after} on ${describeStep(step)}`,
      section: expected().section,
      alert: null,
      recorded: `the trace goes to ${step.stateAfter}`,
    };
  }
  return compareBranch(r.role, seen, step);
}

/** Same state, another branch: the recorded side decided differently (a PSK it should have ignored, say). */
function compareBranch(role: Role, seen: Seen, step: TraceStep): Finding | undefined {
  const rec = step.transitions[0];
  const mine = seen.taken[0];
  if (!rec || !mine) return undefined;
  if (rec.source === mine.source && rec.guard === mine.guard && rec.targets.join() === mine.targets.join()) return undefined;
  const recorded = `the trace takes branch ${rec.index} (guard ${rec.guard ?? 'none'})`;
  const [note] = seen.notes;
  if (note) return { requirement: REFUSALS[note].sentence, section: REFUSALS[note].section, alert: REFUSALS[note].alert, recorded };
  return {
    requirement: `a conforming ${role} takes branch ${mine.index} (guard ${mine.guard ?? 'none'}) of ${mine.source} on ${mine.eventType}`,
    section: '§4',
    alert: null,
    recorded,
  };
}
