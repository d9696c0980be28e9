/**
 * A probe connection as a trace in the project format (`traces/format.ts`),
 * seen from the audited server's side: the server "receives" what the probe
 * sent and "sends" what the probe received. The states are tlschart's server
 * chart states that the server's answers correspond to (inferred from the
 * wire: a ServerHello … Finished flight means it now waits for the client
 * Finished, a fatal alert means failed, …), so that
 *
 *   tlschart trace check FILE
 *
 * replays the server's side through the server chart and reports the first
 * place where the audited server reacted differently from the chart, and
 * `trace view` shows its path on the chart.
 *
 * Which message a server output answers: its flight (ServerHello …
 * Finished, HelloRetryRequest) answers the last ClientHello, a
 * NewSessionTicket the last client Finished, anything else (an alert, the
 * end of the stream) the last message sent before it. When the probe sent
 * several messages before the server answered with an alert, the alert is
 * put on the earliest of them that the chart itself refuses: the server may
 * have failed on that one, and a divergence is only reported where no
 * reading of the wire would agree with the chart.
 *
 * Guards are not recorded (they are the server's secret); the monitor infers
 * them from the recorded reactions. For a ClientHello the branch the reaction
 * shows (retry, resume, full handshake, refusal) is recorded as the
 * transition taken, so a resumption the chart would not make (psk_ke only)
 * is reported as such.
 */
import { fromHex } from '../../crypto/bytes.js';
import { serverMachine } from '../../machines/server/machine.js';
import { MESSAGE_NAMES, type SideTrace, type Trace, type TraceStep, type TransitionTaken } from '../../traces/format.js';
import { findExtension } from '../../wire/extensions.js';
import type { HandshakeMessage } from '../../wire/types.js';
import {
  type AuditedTraceMeta,
  auditedTrace,
  blankStep,
  decoded,
  inRecords,
  isFatalAlert,
  isFatalStep,
  messageOf,
  mostAgreeing,
  splitRecords,
} from '../wire-trace.js';
import type { WireEvent } from './endpoint.js';

/** `target`: the audited server, host:port; `label`: what this connection was for; `scenario`: the finding it belongs to. */
export type ProbeTraceMeta = AuditedTraceMeta;

type ServerState =
  | 'expectClientHello'
  | 'expectSecondClientHello'
  | 'expectClientCertificate'
  | 'expectClientFinished'
  | 'connected'
  | 'closed'
  | 'failed';

/** The branch of `recv.ClientHello` in `state` guarded by `guard` (undefined: the unguarded default). */
function clientHelloBranch(state: ServerState, guard: string | undefined, target: ServerState): TransitionTaken | undefined {
  const node = (serverMachine.config.states as Record<string, { on?: Record<string, Array<{ guard?: string }>> }>)[state];
  const branches = node?.on?.['recv.ClientHello'];
  if (!branches) return undefined;
  const index = branches.findIndex((b) => b.guard === guard);
  if (index < 0) return undefined;
  return { source: state, targets: [`server.${target}`], eventType: 'recv.ClientHello', index, guard: guard ?? null };
}

/** A message the probe sent: a step the server received. */
interface Sent {
  index: number;
  kind: string;
  name: string | undefined;
  description: string | undefined;
  offersPsk: boolean;
}

/** What the server did in answer to one message. */
interface Reaction {
  alert: string | undefined;
  hrr: boolean;
  serverHello: HandshakeMessage | undefined;
  certificateRequest: boolean;
  closeNotify: boolean;
  ended: boolean;
  any: boolean;
}

const FLIGHT = new Set(['server_hello', 'encrypted_extensions', 'certificate_request', 'certificate', 'certificate_verify', 'finished']);

interface Built {
  steps: TraceStep[];
  sent: Sent[];
  /** For each step index of a server output: the index in `sent` it answers (-1: none). */
  answers: Map<number, number>;
  /** For each sent index: whether the stream ended right after it. */
  endedAfter: Set<number>;
}

function buildSteps(log: readonly WireEvent[]): Built {
  const steps: TraceStep[] = [];
  const sent: Sent[] = [];
  const answers = new Map<number, number>();
  const endedAfter = new Set<number>();
  const accepted = earlyDataAccepted(log);
  const firstFatal = log.find(
    (e): e is Extract<WireEvent, { dir: 'in'; kind: 'alert' }> =>
      e.dir === 'in' && e.kind === 'alert' && isFatalAlert(e.description, e.level),
  );
  const sentEarly = log.some((e) => e.dir === 'out' && e.kind === 'application_data' && e.epoch === 'early');
  // A refused 0-RTT flight, a ClientHello the server answered, then a fatal alert that is not about
  // our (valid) Finished: the server gave up skipping early data (§4.2.10: up to its configured limit).
  const answeredHello =
    firstFatal !== undefined &&
    log.slice(0, log.indexOf(firstFatal)).some((e) => e.dir === 'in' && e.kind === 'handshake' && e.message?.type === 'server_hello');
  const earlyFailure = !accepted && sentEarly && answeredHello && firstFatal !== undefined && firstFatal.description !== 'decrypt_error';
  let earlyCause: number | undefined;
  let lastHello = -1;
  let firstFinished = -1;
  const addSent = (step: TraceStep, s: Omit<Sent, 'index'>): number => {
    const index = sent.length;
    sent.push({ index, ...s });
    steps.push(step);
    return index;
  };
  // 0-RTT records reach the server with its ClientHello, but it reads them only after sending its flight.
  let pendingEarly: Extract<WireEvent, { dir: 'out'; kind: 'application_data' }>[] = [];
  const flushEarly = (): void => {
    pendingEarly.forEach((ev, i) => {
      const records = splitRecords(ev.records, ev.epoch);
      const base = { ...blankStep(steps.length, 'in'), records };
      const id = sent.length + 1;
      if (accepted) {
        addSent(
          { ...base, kind: 'application_data', applicationData: { length: ev.length }, event: { id, type: 'recv.ApplicationData' } },
          { kind: 'application_data', name: undefined, description: undefined, offersPsk: false },
        );
      } else if (earlyFailure && i === pendingEarly.length - 1) {
        const error = {
          alert: firstFatal?.description ?? 'bad_record_mac',
          reason: 'EarlyDataLimitExceeded',
          message: 'refused 0-RTT records beyond what the server skips (inferred from its alert)',
        };
        earlyCause = addSent(
          { ...base, kind: 'malformed', error, event: { id, type: 'recv.Malformed' } },
          { kind: 'malformed', name: undefined, description: undefined, offersPsk: false },
        );
      } else {
        // Refused 0-RTT: the server skips these records without decrypting them (§4.2.10).
        steps.push({ ...base, kind: 'early_data_skipped', earlyDataSkipped: { bytes: records.reduce((n, r) => n + r.length - 5, 0) } });
      }
    });
    pendingEarly = [];
  };
  for (const ev of log) {
    if (ev.dir === 'out') {
      if (ev.kind === 'end') continue;
      if (ev.kind === 'application_data' && ev.epoch === 'early') {
        pendingEarly.push(ev);
        continue;
      }
      flushEarly();
      const base = { ...blankStep(steps.length, 'in'), records: splitRecords(ev.records, ev.epoch) };
      const id = sent.length + 1;
      switch (ev.kind) {
        case 'handshake': {
          const m = decoded(ev.message);
          const step: TraceStep = {
            ...base,
            kind: 'handshake',
            message: messageOf(ev.message, ev.epoch !== 'plaintext', m),
            event: { id, type: m ? `recv.${MESSAGE_NAMES[m.type] ?? m.type}` : 'recv.Malformed' },
          };
          const index = addSent(step, {
            kind: 'handshake',
            name: ev.name,
            description: undefined,
            offersPsk: m?.type === 'client_hello' && findExtension(m.extensions, 'pre_shared_key_client') !== undefined,
          });
          if (ev.name === 'client_hello') lastHello = index;
          if (ev.name === 'finished' && firstFinished < 0) firstFinished = index;
          break;
        }
        case 'change_cipher_spec':
          addSent(
            { ...base, kind: 'change_cipher_spec', event: { id, type: 'recv.ChangeCipherSpec' } },
            { kind: 'change_cipher_spec', name: undefined, description: undefined, offersPsk: false },
          );
          break;
        case 'alert':
          addSent(
            { ...base, kind: 'alert', alert: { level: ev.level, description: ev.description }, event: { id, type: 'recv.Alert' } },
            { kind: 'alert', name: undefined, description: ev.description, offersPsk: false },
          );
          break;
        case 'application_data':
          addSent(
            { ...base, kind: 'application_data', applicationData: { length: ev.length }, event: { id, type: 'recv.ApplicationData' } },
            { kind: 'application_data', name: undefined, description: undefined, offersPsk: false },
          );
          break;
      }
      continue;
    }
    const last = sent.length - 1;
    if (ev.kind === 'end') {
      if (last >= 0) endedAfter.add(last);
      continue;
    }
    if (ev === firstFatal && earlyFailure) flushEarly();
    const base = { ...blankStep(steps.length, 'out'), records: inRecords(ev.records) };
    let step: TraceStep;
    let answer = sent.length - 1;
    switch (ev.kind) {
      case 'handshake': {
        step = { ...base, kind: 'handshake', message: messageOf(ev.raw, ev.encrypted, ev.message) };
        const type = ev.message?.type ?? '';
        if (FLIGHT.has(type) && lastHello >= 0 && (firstFinished < 0 || firstFinished < lastHello)) answer = lastHello;
        // The handshake is complete at the first client Finished the server accepts: tickets answer that one.
        if (type === 'new_session_ticket' && firstFinished >= 0) answer = firstFinished;
        break;
      }
      case 'change_cipher_spec':
        step = { ...base, kind: 'change_cipher_spec' };
        if (lastHello >= 0) answer = lastHello;
        break;
      case 'alert':
        step = { ...base, kind: 'alert', alert: { level: ev.level, description: ev.description } };
        if (ev === firstFatal && earlyCause !== undefined) answer = earlyCause;
        break;
      case 'application_data':
        step = { ...base, kind: 'application_data', applicationData: { length: ev.length } };
        break;
      case 'unreadable':
        step = { ...base, kind: 'malformed', error: ev.error };
        break;
    }
    answers.set(steps.length, answer);
    steps.push(step);
  }
  flushEarly();
  return { steps, sent, answers, endedAfter };
}

function reactionsOf(b: Built, alertMoves: ReadonlyMap<number, number>): Reaction[] {
  const reactions: Reaction[] = b.sent.map(() => ({
    alert: undefined,
    hrr: false,
    serverHello: undefined,
    certificateRequest: false,
    closeNotify: false,
    ended: false,
    any: false,
  }));
  for (const i of b.endedAfter) {
    const r = reactions[i];
    if (r) r.ended = true;
  }
  for (const [stepIndex, answerTo] of b.answers) {
    const step = b.steps[stepIndex] as TraceStep;
    const isFatal = isFatalStep(step);
    const target = isFatal ? (alertMoves.get(stepIndex) ?? answerTo) : answerTo;
    const r = reactions[target];
    if (!r) continue;
    r.any = true;
    if (step.kind === 'handshake' && step.message) {
      const m = decoded(fromHex(step.message.hex));
      if (m?.type === 'server_hello') {
        if (m.isHelloRetryRequest) r.hrr = true;
        else r.serverHello = m;
      }
      if (m?.type === 'certificate_request') r.certificateRequest = true;
    }
    if (step.kind === 'alert') {
      if (step.alert?.description === 'close_notify') r.closeNotify = true;
      else if (isFatal) r.alert ??= step.alert?.description;
    }
  }
  return reactions;
}

/** Assign states and the ClientHello branch to every step; returns the final state and the server's fatal alert. */
function assignStates(
  b: Built,
  reactions: readonly Reaction[],
  alertMoves: ReadonlyMap<number, number>,
): { state: ServerState; alert: string | undefined } {
  let state: ServerState = 'expectClientHello';
  const afterOf: ServerState[] = [];
  let finalAlert: string | undefined;
  let failedAt = Infinity;
  for (const s of b.sent) {
    const r = reactions[s.index] as Reaction;
    const before: ServerState = state;
    let after: ServerState = before;
    if (before === 'failed' || before === 'closed') after = before;
    else if (s.kind === 'alert') after = s.description === 'close_notify' ? (before === 'connected' ? 'connected' : 'closed') : 'failed';
    else if (r.alert !== undefined) after = 'failed';
    else if (s.name === 'client_hello' && (before === 'expectClientHello' || before === 'expectSecondClientHello')) {
      if (r.hrr && before === 'expectClientHello') after = 'expectSecondClientHello';
      else if (r.serverHello) after = r.certificateRequest ? 'expectClientCertificate' : 'expectClientFinished';
      else if (r.ended || r.closeNotify) after = 'failed';
    } else if (s.name === 'finished' && before === 'expectClientFinished') {
      after = r.ended && !r.any ? 'failed' : 'connected';
    } else if (r.ended && !r.any) after = 'failed';
    if (after === 'failed' && failedAt === Infinity) {
      failedAt = s.index;
      finalAlert = r.alert;
    }
    afterOf.push(after);
    state = after;
  }
  // Steps: in-steps get their before/after; out-steps the state after the message they answer.
  let sentIndex = -1;
  let current: ServerState = 'expectClientHello';
  b.steps.forEach((step, i) => {
    if (step.direction === 'in' && step.event !== null) {
      sentIndex++;
      const s = b.sent[sentIndex] as Sent;
      const after = afterOf[sentIndex] as ServerState;
      step.stateBefore = current;
      step.stateAfter = after;
      step.transitions = [];
      if (s.name === 'client_hello' && (current === 'expectClientHello' || current === 'expectSecondClientHello')) {
        const r = reactions[sentIndex] as Reaction;
        let t: TransitionTaken | undefined;
        if (after === 'expectSecondClientHello') t = clientHelloBranch(current, 'needsHelloRetry', after);
        else if (after === 'expectClientFinished' || after === 'expectClientCertificate') {
          const resumed =
            r.serverHello?.type === 'server_hello' && findExtension(r.serverHello.extensions, 'pre_shared_key_server') !== undefined;
          t = clientHelloBranch(
            current,
            resumed ? 'hasValidBinder' : after === 'expectClientCertificate' ? 'requestsClientCertificate' : undefined,
            after,
          );
        } else if (after === 'failed') {
          t = clientHelloBranch(
            current,
            s.offersPsk && r.alert === 'decrypt_error' ? 'hasResumableTicket' : 'hasClientHelloProblem',
            after,
          );
        }
        if (t) step.transitions = [t];
      }
      current = after;
      return;
    }
    if (step.direction === 'in') {
      step.stateBefore = current;
      step.stateAfter = current;
      return;
    }
    const moved = alertMoves.get(i);
    const answer = moved ?? b.answers.get(i) ?? -1;
    const s = b.sent[answer];
    const st = answer >= 0 ? (afterOf[answer] as ServerState) : current;
    step.event = s ? { id: answer + 1, type: b.steps.find((x) => x.event?.id === answer + 1)?.event?.type ?? 'recv.handshake' } : null;
    step.stateBefore = st;
    step.stateAfter = st;
  });
  return { state, alert: failedAt === Infinity ? undefined : finalAlert };
}

function sideOf(b: Built, alertMoves: ReadonlyMap<number, number>, target: string): SideTrace {
  const reactions = reactionsOf(b, alertMoves);
  const { state, alert } = assignStates(b, reactions, alertMoves);
  return {
    role: 'server',
    config: { audited: true, target, note: 'the audited server as seen from the wire; states inferred from its answers' },
    outcome: { state, ...(state === 'failed' && alert !== undefined ? { alert, reason: 'ObservedAlert', remote: false } : {}) },
    steps: b.steps.map((s) => ({ ...s, records: s.records, transitions: [...s.transitions] })),
  };
}

/**
 * Build the trace of one probe connection. `log` is the probe's record of
 * the connection, in order.
 */
export function probeTrace(log: readonly WireEvent[], meta: ProbeTraceMeta): Trace {
  const b = buildSteps(log);
  const unmoved = sideOf(b, new Map<number, number>(), meta.target);
  // The first fatal alert may answer any message of the burst sent since the server last answered:
  // keep the reading under which the trace agrees with the chart longest (the latest on a tie).
  const alertAt = b.steps.findIndex((s, i) => b.answers.has(i) && isFatalStep(s));
  if (alertAt < 0) return auditedTrace('server', meta, unmoved);
  const answerTo = b.answers.get(alertAt) as number;
  let lastAnswered = -1;
  for (let i = 0; i < alertAt; i++) {
    const to = b.answers.get(i);
    // Tickets do not show what the server has read: it may send them right after its flight (§4.6.1).
    if (to !== undefined && b.steps[i]?.message?.type !== 'new_session_ticket') lastAnswered = Math.max(lastAnswered, to);
  }
  function* readings(): Generator<SideTrace> {
    yield unmoved;
    for (let j = answerTo - 1; j > lastAnswered; j--) yield sideOf(b, new Map([[alertAt, j]]), meta.target);
  }
  return auditedTrace('server', meta, mostAgreeing(readings()));
}

function earlyDataAccepted(log: readonly WireEvent[]): boolean {
  return log.some(
    (e) =>
      e.dir === 'in' &&
      e.kind === 'handshake' &&
      e.message?.type === 'encrypted_extensions' &&
      findExtension(e.message.extensions, 'early_data') !== undefined,
  );
}
