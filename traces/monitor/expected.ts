/**
 * What may come in each state, read from the chart definition itself (the
 * events each state handles, RFC 8446 Appendix A), so that a chart given to
 * the monitor — a copy with a state more, a branch less — is described as it
 * is. The RFC section cited is the one that defines the message the state
 * waits for; the table below is a fact of the wire format (which section
 * defines which message), not of any chart.
 */
import type { AnyStateMachine } from 'xstate';
import { MESSAGE_EVENTS } from '../../machines/types.js';
import { REFUSALS } from '../../wire/refusals.js';
import type { HandshakeMessage } from '../../wire/types.js';
import { type ChartModel, chartModel } from '../charts.js';
import type { Role, TraceStep } from '../format.js';
import { describeStep } from './recorded.js';

/** The RFC 8446 section that defines each handshake message (and so says when it may be sent). */
const MESSAGE_SECTIONS: Readonly<Record<HandshakeMessage['type'], string>> = {
  client_hello: '§4.1.2',
  server_hello: '§4.1.3',
  end_of_early_data: '§4.5',
  encrypted_extensions: '§4.3.1',
  certificate_request: '§4.3.2',
  certificate: '§4.4.2',
  certificate_verify: '§4.4.3',
  finished: '§4.4.4',
  new_session_ticket: '§4.6.1',
  key_update: '§4.6.3',
};
/** Sections for what is not a handshake message. */
const RECORD_SECTIONS: Readonly<Record<string, string>> = { application_data: '§2', change_cipher_spec: 'Appendix D.4', alert: '§6' };

const MESSAGE_OF_EVENT = new Map<string, HandshakeMessage['type']>(
  Object.entries(MESSAGE_EVENTS).map(([m, e]) => [e, m as HandshakeMessage['type']]),
);
/** "certificate_request" → "CertificateRequest". */
const title = (m: string): string => m.replace(/(^|_)([a-z])/g, (_x, _u: string, c: string) => c.toUpperCase());
const appendix = (role: Role): string => (role === 'client' ? 'Appendix A.1' : 'Appendix A.2');

const models = new WeakMap<AnyStateMachine, ChartModel>();
function modelOf(chart: AnyStateMachine): ChartModel {
  let m = models.get(chart);
  if (!m) {
    m = chartModel(chart);
    models.set(chart, m);
  }
  return m;
}

/** The handshake messages a state takes (its own `recv.*` transitions, not the root's catch-alls). */
function takes(model: ChartModel, state: string): HandshakeMessage['type'][] {
  const out: HandshakeMessage['type'][] = [];
  for (const e of model.edges) {
    const m = e.source === state ? MESSAGE_OF_EVENT.get(e.event) : undefined;
    if (m && !out.includes(m)) out.push(m);
  }
  return out;
}

const isFinal = (model: ChartModel, state: string | undefined) => model.states.some((s) => s.name === state && s.final);

/**
 * Of the messages a state takes, the ones every way on still needs: each
 * transition that does not fail either takes it or leads to a state that does
 * (expectCertificateOrCertificateRequest: Certificate, not the optional
 * CertificateRequest).
 */
function required(model: ChartModel, state: string, here: HandshakeMessage['type'][]): HandshakeMessage['type'][] {
  const onward = model.edges.filter((e) => e.source === state && MESSAGE_OF_EVENT.has(e.event) && !isFinal(model, e.target));
  const needed = here.filter((m) =>
    onward.every((e) => MESSAGE_OF_EVENT.get(e.event) === m || takes(model, e.target ?? state).includes(m)),
  );
  return needed.length > 0 ? needed : here;
}

/** One section for several: their common parent (§4.6.1 and §4.6.3: §4.6), or all of them. */
function commonSection(sections: string[]): string {
  const [first, ...rest] = sections;
  if (!first) return '§4';
  if (rest.length === 0) return first;
  const parts = first.split('.');
  let n = parts.length;
  for (const s of rest) {
    const p = s.split('.');
    let i = 0;
    while (i < n && p[i] === parts[i]) i++;
    n = i;
  }
  return n >= 2 ? parts.slice(0, n).join('.') : sections.join(', ');
}

/** Messages that only certificate authentication sends: none of them comes in a handshake that resumed with a PSK (§2.2). */
const CERTIFICATE_AUTHENTICATION = new Set<string>(['certificate_request', 'certificate', 'certificate_verify']);

/** What RFC 8446 requires of `message` arriving in `state` of `chart`, for unexpected_message and for a trace that left the chart's path. */
export function expectedHere(
  chart: AnyStateMachine,
  role: Role,
  state: string,
  message: string,
  resumed: boolean,
): { requirement: string; section: string } {
  const model = modelOf(chart);
  const here = takes(model, state);
  const isMessage = Object.hasOwn(MESSAGE_SECTIONS, message);
  const anywhere = model.states.some((s) => takes(model, s.name).includes(message as HandshakeMessage['type']));
  if (isMessage && !anywhere) {
    const section = MESSAGE_SECTIONS[message as HandshakeMessage['type']];
    return {
      requirement: `no state of the ${role} chart takes ${title(message)}: RFC 8446 ${section} says when it may be sent, and here it never may; it is unexpected_message (${appendix(role)})`,
      section,
    };
  }
  const list = here.map(title).join(' or ');
  if (resumed && CERTIFICATE_AUTHENTICATION.has(message)) {
    return {
      requirement: `with a PSK the server authenticates with the PSK: no CertificateRequest, Certificate or CertificateVerify; in ${state} the ${role} takes ${list || 'nothing'} (${appendix(role)})`,
      section: '§2.2',
    };
  }
  if (here.length === 0) {
    return {
      requirement: `in ${state} the ${role} takes no handshake message; ${title(message)} is ${REFUSALS.UnexpectedMessage.alert} (${appendix(role)})`,
      section: '§4',
    };
  }
  return {
    requirement: `in ${state} the ${role} takes ${list} (${appendix(role)}); ${title(message)} there is unexpected_message`,
    section: commonSection(required(model, state, here).map((m) => MESSAGE_SECTIONS[m])),
  };
}

/** What RFC 8446 requires of a step the side sent while the chart is still in `now`. */
export function sendingRule(chart: AnyStateMachine, role: Role, now: string, step: TraceStep): { requirement: string; section: string } {
  const model = modelOf(chart);
  const message = describeStep(step);
  const section = MESSAGE_SECTIONS[message as HandshakeMessage['type']] ?? RECORD_SECTIONS[step.kind] ?? '§4';
  const via = [
    ...new Set(model.edges.filter((e) => e.source === now && e.target === step.stateAfter).map((e) => e.event.replace(/^recv\./, ''))),
  ];
  const how =
    via.length > 0
      ? `which it reaches from ${now} only on ${via.join(' or ')}`
      : `which it does not reach from ${now} on what it received so far`;
  return {
    requirement: `in ${now}: the ${role} sends ${message} as part of going to ${step.stateAfter}, ${how} (${appendix(role)})`,
    section,
  };
}
