/**
 * A connection of the probing server as a trace in the project format
 * (`traces/format.ts`), seen from the audited client's side: the client
 * "sends" what the probing server received and "receives" what it sent.
 * The states are tlschart's client chart states that the client's answers
 * correspond to, inferred from the wire: a client that sends its Finished
 * accepted every message of our flight; a fatal alert means failed, on the
 * message it answers. So
 *
 *   tlschart trace check FILE
 *
 * replays the client's side through the client chart and reports the first
 * place where the audited client reacted differently from the chart, and
 * `trace view` shows its path on the chart.
 *
 * Which of our messages a fatal alert answers: the client may have failed on
 * any message we sent since it last showed progress (its second ClientHello
 * answers our HelloRetryRequest, its Finished our Finished). The alert is
 * put where the trace agrees with the chart longest (the earliest message on
 * a tie: there the chart refuses the same message and only the alert
 * differs), so a divergence is only reported where no reading of the wire
 * would agree with the chart.
 *
 * Guards: the probing server holds every key, so it knows what the client's
 * crypto guards must find — whether the Finished it sent verifies, whether
 * its CertificateVerify does, whether the cipher suite of a PSK ServerHello
 * has the ticket's hash. Those outcomes are recorded on the step; the
 * monitor predicts from them, and a client that accepts a wrong Finished is
 * a divergence. Chain trust is the client's own business and is left to its
 * reaction.
 */
import { type GuardOutcome, MESSAGE_NAMES, type SideTrace, type Trace, type TraceStep } from '../../traces/format.js';
import { findExtension } from '../../wire/extensions.js';
import type { WireEvent } from '../probe/endpoint.js';
import {
  type AuditedTraceMeta,
  auditedTrace,
  blankStep,
  decoded,
  handshakeTypeName,
  inRecords,
  isFatalAlert,
  messageOf,
  mostAgreeing,
  splitRecords,
} from '../wire-trace.js';

/** `target`: the audited client (the command, or "whatever connects to …"). */
export interface ClientTraceMeta extends AuditedTraceMeta {
  /** What the client's crypto guards must find, known to the probing server. */
  truth: GuardTruth;
}

export interface GuardTruth {
  /** Our server Finished verifies (false: we flipped a bit). */
  serverFinishedValid?: boolean;
  /** Our ServerHello breaks a rule only the ticket's owner can see (a suite of another hash than the ticket's). */
  serverHelloProblem?: boolean;
}

type ClientState =
  | 'expectServerHello'
  | 'expectServerHelloAfterRetry'
  | 'expectEncryptedExtensions'
  | 'expectCertificateOrCertificateRequest'
  | 'expectCertificate'
  | 'expectCertificateVerify'
  | 'expectServerFinished'
  | 'connected'
  | 'failed';

/** A message we sent, as the client received it. */
interface Received {
  step: number;
  /** What it is, for the natural next state. */
  what: string;
  /** Whether it is a PSK ServerHello. */
  psk: boolean;
}

interface Built {
  steps: TraceStep[];
  received: Received[];
  /** Client steps and the received index they answer; null: not yet placed (a fatal alert). */
  answers: Map<number, number | null>;
  /**
   * Where the client gave up: its first fatal alert, or the first record it
   * sent that the probing server cannot open (under keys of its own, most
   * likely an alert), or the end of its stream before its Finished and
   * before ours. `step`: where in the steps it happened; no description when
   * no alert can be read.
   */
  fatal: { step: number; description: string | undefined; progress: number } | undefined;
}

function build(log: readonly WireEvent[], truth: GuardTruth): Built {
  const steps: TraceStep[] = [];
  const received: Received[] = [];
  const answers = new Map<number, number | null>();
  let fatal: Built['fatal'];
  let clientFinished = false;
  let serverEnded = false;
  let lastProgress = -1;
  let localId = 1000;
  let resumedFlight = false;
  const indexOfType = (type: string): number => {
    for (let i = received.length - 1; i >= 0; i--) if (received[i]?.what === type) return i;
    return -1;
  };
  const clientStep = (step: TraceStep, answer: number | null | 'local'): void => {
    const i = steps.length;
    steps.push(step);
    if (answer === 'local') return;
    answers.set(i, answer);
  };
  for (const ev of log) {
    if (ev.dir === 'out') {
      // What the probing server sent: the client received it.
      if (ev.kind === 'end') {
        serverEnded = true;
        continue;
      }
      const base = { ...blankStep(steps.length, 'in'), records: splitRecords(ev.records, ev.epoch) };
      const id = received.length + 1;
      let step: TraceStep;
      let what: string;
      let psk = false;
      switch (ev.kind) {
        case 'handshake': {
          const m = decoded(ev.message);
          what = m?.type === 'server_hello' && m.isHelloRetryRequest ? 'hello_retry_request' : (m?.type ?? ev.name);
          psk = m?.type === 'server_hello' && findExtension(m.extensions, 'pre_shared_key_server') !== undefined;
          if (m?.type === 'server_hello' && !m.isHelloRetryRequest) resumedFlight = psk;
          const guards: GuardOutcome[] = [];
          if (what === 'finished' && truth.serverFinishedValid !== undefined)
            guards.push({ guard: 'isServerFinishedValid', result: truth.serverFinishedValid });
          if (what === 'server_hello' && truth.serverHelloProblem) guards.push({ guard: 'hasServerHelloProblem', result: true });
          step = {
            ...base,
            kind: 'handshake',
            message: messageOf(ev.message, ev.epoch !== 'plaintext', m),
            guards,
            event: { id, type: `recv.${MESSAGE_NAMES[m?.type ?? ''] ?? 'Malformed'}` },
          };
          break;
        }
        case 'change_cipher_spec':
          what = 'change_cipher_spec';
          step = { ...base, kind: 'change_cipher_spec', event: { id, type: 'recv.ChangeCipherSpec' } };
          break;
        case 'alert':
          what = 'alert';
          step = { ...base, kind: 'alert', alert: { level: ev.level, description: ev.description }, event: { id, type: 'recv.Alert' } };
          break;
        case 'application_data':
          what = 'application_data';
          step = { ...base, kind: 'application_data', applicationData: { length: ev.length }, event: { id, type: 'recv.ApplicationData' } };
          break;
      }
      received.push({ step: steps.length, what, psk: psk || (what !== 'server_hello' && resumedFlight) });
      steps.push(step);
      continue;
    }
    // What the client sent.
    if (ev.kind === 'end') {
      if (fatal === undefined && !clientFinished && !serverEnded && received.length > 0)
        fatal = { step: steps.length, description: undefined, progress: lastProgress };
      continue;
    }
    const base = { ...blankStep(steps.length, 'out'), records: inRecords(ev.records) };
    switch (ev.kind) {
      case 'handshake': {
        const m = ev.message;
        const type = m?.type ?? handshakeTypeName(ev.raw) ?? 'handshake';
        const step: TraceStep = { ...base, kind: 'handshake', message: messageOf(ev.raw, ev.encrypted, m) };
        if (type === 'client_hello') {
          const hrr = indexOfType('hello_retry_request');
          if (hrr < 0) {
            step.event = { id: 0, type: 'xstate.init' };
            clientStep(step, 'local');
          } else {
            lastProgress = hrr;
            clientStep(step, hrr);
          }
        } else if (type === 'finished' || type === 'end_of_early_data') {
          const fin = indexOfType('finished');
          const at = fin >= 0 ? fin : received.length - 1;
          if (type === 'finished') {
            lastProgress = Math.max(lastProgress, at);
            clientFinished = true;
          }
          clientStep(step, at);
        } else {
          step.event = { id: localId++, type: type === 'key_update' ? 'app.keyUpdate' : 'app.write' };
          clientStep(step, 'local');
        }
        break;
      }
      case 'change_cipher_spec':
        clientStep({ ...base, kind: 'change_cipher_spec' }, received.length > 0 ? received.length - 1 : 'local');
        if (received.length === 0) (steps[steps.length - 1] as TraceStep).event = null;
        break;
      case 'alert': {
        const step: TraceStep = { ...base, kind: 'alert', alert: { level: ev.level, description: ev.description } };
        if (isFatalAlert(ev.description, ev.level) && fatal === undefined) {
          fatal = { step: steps.length, description: ev.description, progress: lastProgress };
          clientStep(step, null);
        } else if (ev.description === 'close_notify') {
          step.event = { id: localId++, type: 'app.close' };
          clientStep(step, 'local');
        } else clientStep(step, 'local');
        break;
      }
      case 'application_data': {
        const early = ev.records.length > 0 && ev.records.every((r) => r.epoch === 'early');
        const step: TraceStep = { ...base, kind: 'application_data', applicationData: { length: ev.length } };
        // 0-RTT data has no place in tlschart's chart (it never sends any): recorded, not replayed.
        if (!early) step.event = { id: localId++, type: 'app.write' };
        clientStep(step, 'local');
        break;
      }
      case 'unreadable':
        if (fatal === undefined && received.length > 0 && !clientFinished)
          fatal = { step: steps.length, description: undefined, progress: lastProgress };
        clientStep({ ...base, kind: 'malformed', error: ev.error }, 'local');
        break;
    }
  }
  return { steps, received, answers, fatal };
}

/** The state a client that accepts `what` goes to from `state`. */
function natural(state: ClientState, r: Received): ClientState {
  switch (r.what) {
    case 'hello_retry_request':
      return state === 'expectServerHello' ? 'expectServerHelloAfterRetry' : state;
    case 'server_hello':
      return state === 'expectServerHello' || state === 'expectServerHelloAfterRetry' ? 'expectEncryptedExtensions' : state;
    case 'encrypted_extensions':
      return state === 'expectEncryptedExtensions' ? (r.psk ? 'expectServerFinished' : 'expectCertificateOrCertificateRequest') : state;
    case 'certificate_request':
      return state === 'expectCertificateOrCertificateRequest' ? 'expectCertificate' : state;
    case 'certificate':
      return 'expectCertificateVerify';
    case 'certificate_verify':
      return 'expectServerFinished';
    case 'finished':
      return 'connected';
    default:
      return state;
  }
}

/**
 * Assign states, in the order of the steps: every received message accepted
 * (its natural next state) up to `failedAt` (the culprit of the fatal alert,
 * or of an end without one), failed from there; close_notify each way as
 * the chart has it (§6.1: `closed` once both sides sent one).
 */
function sideOf(b: Built, failedAt: number | undefined, target: string): SideTrace {
  const steps = b.steps.map((s) => ({ ...s, guards: [...s.guards], transitions: [...s.transitions] }));
  let state = 'expectServerHello' as ClientState | 'closed';
  let clientClosed = false;
  let serverClosed = false;
  let k = -1;
  const final = () => state === 'failed' || state === 'closed';
  steps.forEach((step, i) => {
    const before = state;
    if (step.direction === 'in') {
      k++;
      const r = b.received[k] as Received;
      if (final()) {
        // absorbing
      } else if (k === failedAt) state = 'failed';
      else if (r.what === 'alert') {
        const a = step.alert;
        if (a?.description === 'close_notify') {
          serverClosed = true;
          state = state === 'connected' ? (clientClosed ? 'closed' : 'connected') : 'closed';
        } else if (!(a?.description === 'user_canceled' && a.level !== 2)) state = 'failed';
      } else state = natural(state as ClientState, r);
      step.stateBefore = before;
      step.stateAfter = state;
      return;
    }
    const answer = b.answers.get(i);
    if (answer === null) {
      if (failedAt !== undefined && b.received[failedAt]) step.event = (steps[(b.received[failedAt] as Received).step] as TraceStep).event;
    } else if (typeof answer === 'number' && answer >= 0) {
      step.event = (steps[(b.received[answer] as Received).step] as TraceStep).event;
    } else if (step.event?.type === 'app.close' && !final()) {
      clientClosed = true;
      state = state === 'connected' ? (serverClosed ? 'closed' : 'connected') : 'closed';
    }
    step.stateBefore = before;
    step.stateAfter = state;
  });
  const alert = b.fatal?.description;
  return {
    role: 'client',
    config: {
      audited: true,
      target,
      note: 'the audited client as seen from the wire; states inferred from its answers; crypto guard outcomes are what the probing server, which holds every key, knows they must be',
    },
    outcome: { state, ...(state === 'failed' && alert !== undefined ? { alert, reason: 'ObservedAlert', remote: false } : {}) },
    steps,
  };
}

/** Build the trace of one connection of the probing server; `log` is its record of the connection, in order. */
export function clientTrace(log: readonly WireEvent[], meta: ClientTraceMeta): Trace {
  const b = build(log, meta.truth);
  const fatal = b.fatal;
  if (!fatal) return auditedTrace('client', meta, sideOf(b, undefined, meta.target));
  const before = b.received.filter((r) => r.step < fatal.step).length - 1;
  const from = fatal.progress + 1;
  // On a tie the earliest reading wins: there the chart refuses the same message, only the alert differs.
  function* readings(): Generator<SideTrace> {
    yield sideOf(b, Math.min(from, Math.max(before, 0)), meta.target);
    for (let j = from + 1; j <= before; j++) yield sideOf(b, j, meta.target);
  }
  return auditedTrace('client', meta, mostAgreeing(readings()));
}
