/**
 * From the decoded items of one connection to the two sides of a trace
 * (format.ts): each item is an `out` step of its sender and an `in` step of
 * its receiver, numbered so that the sides interleave as captured.
 *
 * What each step carries, and where it comes from:
 * - records, message (hex and decoded fields), alert, application data
 *   length: the capture, decrypted with the key log (tls.ts);
 * - event: for a received item the chart event it is (`recv.*`); for a sent
 *   item the received handshake message it answers (the server's flight
 *   answers the ClientHello, the client's Finished the server's Finished), or
 *   the side's own move (`app.write`, `app.close`, `app.keyUpdate`); a fatal
 *   alert answers the message it was a verdict on (see `abortTarget`);
 * - stateBefore / stateAfter: tlschart's chart walked along what the peer
 *   was seen to do (observe.ts);
 * - guards: only the outcomes recomputed from the capture and the key log
 *   (verify.ts); every other decision is left to the monitor;
 * - transitions: none (which branch a third-party stack took is not seen).
 */

import { MESSAGE_EVENTS, type TlsEvent } from '../../machines/types.js';
import { AlertDescription, type AlertName, TlsError } from '../../wire/alerts.js';
import { isRefusalReason } from '../../wire/refusals.js';
import type { GuardOutcome, Role, SideTrace, TraceStep } from '../format.js';
import { type Observation, ObservedChart } from './observe.js';
import type { WireItem } from './tls.js';

/** Alerts about the peer's certificate (RFC 8446 §6.2): the verdict is on a Certificate message. */
const CERTIFICATE_ALERTS = new Set([
  'bad_certificate',
  'unsupported_certificate',
  'certificate_revoked',
  'certificate_expired',
  'certificate_unknown',
  'unknown_ca',
  'certificate_required',
]);

const isFatalAlert = (it: WireItem) =>
  it.kind === 'alert' && it.alert !== undefined && it.alert.description !== 'close_notify' && it.alert.description !== 'user_canceled';

/**
 * Which received item a fatal alert answers. The capture shows only that the
 * side sent the alert after receiving a few items (a whole flight may arrive
 * in one segment); the alert names the kind of fault: a certificate alert is
 * about the Certificate, decrypt_error about the Finished or CertificateVerify
 * that does not verify (recomputed, else the first of them), bad_record_mac
 * about a record that does not authenticate; any other alert is taken to be
 * about the first item the side had not answered yet, as a stack stops at the
 * first fault.
 */
export function abortTarget(
  items: readonly WireItem[],
  window: readonly number[],
  alert: string,
  guards: Map<number, GuardOutcome[]>,
): number | undefined {
  const of = (pred: (it: WireItem, i: number) => boolean) => window.find((i) => pred(items[i] as WireItem, i));
  const type = (it: WireItem) => it.decoded?.type;
  if (CERTIFICATE_ALERTS.has(alert)) return [...window].reverse().find((i) => type(items[i] as WireItem) === 'certificate') ?? window[0];
  if (alert === 'decrypt_error') {
    return (
      of((_it, i) => (guards.get(i) ?? []).some((g) => !g.result)) ??
      of((it) => type(it) === 'finished' || type(it) === 'certificate_verify' || type(it) === 'client_hello') ??
      window[0]
    );
  }
  if (alert === 'bad_record_mac' || alert === 'record_overflow') return of((it) => it.kind === 'malformed') ?? window[0];
  return window[0];
}

/** For each side, the received item each of its fatal alerts answers: received item → alert item. */
function abortsOf(items: readonly WireItem[], role: Role, guards: Map<number, GuardOutcome[]>): Map<number, number> {
  const out = new Map<number, number>();
  let window: number[] = [];
  items.forEach((it, i) => {
    if (it.from !== role) {
      if (it.kind !== 'early_data_skipped') window.push(i);
      return;
    }
    if (isFatalAlert(it)) {
      const target = abortTarget(items, window, it.alert?.description ?? '', guards);
      if (target !== undefined && !out.has(target)) out.set(target, i);
    }
    window = [];
  });
  return out;
}

/** What the server sent back to the ClientHello at `i`: a HelloRetryRequest, a ServerHello that accepts a PSK, a CertificateRequest. */
function replyTo(items: readonly WireItem[], i: number): NonNullable<Observation['reply']> {
  const reply = { helloRetry: false, resumed: false, certificateRequest: false };
  let firstHello = true;
  for (const it of items.slice(i + 1)) {
    const m = it.decoded;
    if (it.from === 'client' && m?.type === 'client_hello') break;
    if (it.from !== 'server' || !m) continue;
    if (m.type === 'server_hello') {
      if (firstHello) reply.helloRetry = m.isHelloRetryRequest;
      firstHello = false;
      if (!m.isHelloRetryRequest) reply.resumed = m.extensions.some((e) => e.type === 'pre_shared_key_server');
      if (m.isHelloRetryRequest) break;
    }
    if (m.type === 'certificate_request') reply.certificateRequest = true;
    if (m.type === 'finished') break;
  }
  return reply;
}

/** The chart event a received item is. */
export function eventOf(it: WireItem): TlsEvent {
  switch (it.kind) {
    case 'change_cipher_spec':
      return { type: 'recv.ChangeCipherSpec' };
    case 'alert': {
      const name = it.alert?.description ?? 'internal_error';
      const known = (AlertDescription as Record<string, number>)[name];
      const code = known ?? Number(/^unknown\((\d+)\)$/.exec(name)?.[1] ?? 80);
      return { type: 'recv.Alert', level: it.alert?.level ?? 2, description: code };
    }
    case 'application_data':
      return { type: 'recv.ApplicationData', data: new Uint8Array(it.applicationData?.length ?? 0) };
    case 'handshake': {
      const msg = it.decoded;
      if (!msg) break;
      if (msg.type === 'client_hello') return { type: 'recv.ClientHello', msg, tickets: [] };
      return { type: MESSAGE_EVENTS[msg.type], msg } as TlsEvent;
    }
    default:
      break;
  }
  const e = it.error;
  const alert = (e && e.alert in AlertDescription ? e.alert : 'decode_error') as AlertName;
  return {
    type: 'recv.Malformed',
    error: new TlsError(alert as never, e && isRefusalReason(e.reason) ? e.reason : 'DecodeError', e?.message ?? 'malformed record'),
  };
}

interface EventInfo {
  id: number;
  type: string;
  before: string;
}

/** Build one side of the connection from its items. */
export function buildSide(
  items: readonly WireItem[],
  role: Role,
  guards: Map<number, GuardOutcome[]>,
  config: SideTrace['config'],
): SideTrace {
  const chart = new ObservedChart(role);
  const aborts = abortsOf(items, role, guards);
  const answered = new Map([...aborts].map(([target, alert]) => [alert, target]));
  const events = new Map<number, EventInfo>();
  const init: EventInfo = { id: 0, type: 'xstate.init', before: chart.state };
  let nextId = 1;
  let lastHandshake: EventInfo | undefined;
  let keyUpdateToAnswer: EventInfo | undefined;
  let failure: { alert: string; remote: boolean } | undefined;
  const steps: TraceStep[] = [];

  items.forEach((it, i) => {
    const body = payloadOf(it);
    if (it.from === role) {
      if (it.kind === 'early_data_skipped') return; // the receiver's step shows it
      let ev: EventInfo | undefined;
      const local = (event: TlsEvent): EventInfo => {
        const info = { id: nextId++, type: event.type, before: chart.state };
        chart.local(event);
        return info;
      };
      if (it.kind === 'alert' && it.alert?.description === 'close_notify') ev = local({ type: 'app.close' });
      else if (isFatalAlert(it)) {
        const target = answered.get(i);
        ev = target === undefined ? undefined : events.get(target);
        failure ??= { alert: it.alert?.description ?? 'unknown', remote: false };
      } else if (it.kind === 'application_data') ev = local({ type: 'app.write', data: new Uint8Array(it.applicationData?.length ?? 0) });
      else if (it.decoded?.type === 'key_update') {
        if (keyUpdateToAnswer) {
          ev = keyUpdateToAnswer;
          keyUpdateToAnswer = undefined;
        } else ev = local({ type: 'app.keyUpdate', requestPeerUpdate: it.decoded.requestUpdate === 1 });
      } else if (it.kind === 'handshake' || it.kind === 'change_cipher_spec') ev = lastHandshake ?? init;
      steps.push({
        seq: 2 * i,
        direction: 'out',
        ...body,
        event: ev ? { id: ev.id, type: ev.type } : null,
        stateBefore: ev?.before ?? chart.state,
        stateAfter: chart.state,
        guards: [],
        transitions: [],
      } as TraceStep);
      return;
    }
    if (it.kind === 'early_data_skipped') {
      steps.push({
        seq: 2 * i + 1,
        direction: 'in',
        ...body,
        event: null,
        stateBefore: chart.state,
        stateAfter: chart.state,
        guards: [],
        transitions: [],
      } as TraceStep);
      return;
    }
    const event = eventOf(it);
    const info: EventInfo = { id: nextId++, type: event.type, before: chart.state };
    const observation: Observation = { aborted: aborts.has(i) };
    if (role === 'server' && it.decoded?.type === 'client_hello') observation.reply = replyTo(items, i);
    chart.receive(event, observation);
    events.set(i, info);
    if (it.kind === 'handshake') lastHandshake = info;
    if (it.decoded?.type === 'key_update' && it.decoded.requestUpdate === 1) keyUpdateToAnswer = info;
    if (isFatalAlert(it) && !failure) failure = { alert: it.alert?.description ?? 'unknown', remote: true };
    steps.push({
      seq: 2 * i + 1,
      direction: 'in',
      ...body,
      event: { id: info.id, type: info.type },
      stateBefore: info.before,
      stateAfter: chart.state,
      guards: guards.get(i) ?? [],
      transitions: [],
    } as TraceStep);
  });
  const state = chart.state;
  return {
    role,
    config,
    outcome: { state, ...(state === 'failed' && failure ? { alert: failure.alert, remote: failure.remote } : {}) },
    steps,
  };
}

/** The parts of a step that come straight from the item. */
function payloadOf(it: WireItem): Partial<TraceStep> {
  const p: Partial<TraceStep> = { kind: it.kind, records: it.records };
  if (it.message) p.message = { ...it.message, fields: it.message.fields ?? null };
  if (it.alert) p.alert = it.alert;
  if (it.applicationData) p.applicationData = it.applicationData;
  if (it.earlyDataSkipped) p.earlyDataSkipped = it.earlyDataSkipped;
  if (it.error) p.error = it.error;
  return p;
}
