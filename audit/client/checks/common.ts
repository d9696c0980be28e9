/**
 * What the checks of `tlschart audit client` share: a check is a *scenario*
 * — one run of the client command (or, without --exec, the connections
 * that come while it is armed) during which the probing server behaves in
 * one precise way — and the probes it judges, declared like the probes of
 * `audit server` (id, title, RFC section and keyword, tlschart's refusal of
 * the same input, what a conforming client does) so both audits share one
 * findings model, one report writer and one RFC table.
 */

import { suiteInfo } from '../../../crypto/suites.js';
import { PskKeyExchangeMode, type ServerHello } from '../../../wire/types.js';
import type { FindingDraft, MeasuredValue, Verdict } from '../../findings.js';
import { draft, inconclusive, type Judgement, type ProbeDef } from '../../server/checks/common.js';
import type { ConnectionRecord } from '../../server/context.js';
import type { FlightAnswer, TicketSpec } from '../connection.js';
import type { HelloView, IssuedTicket, OfferedIdentity, TicketRegistry } from '../offers.js';

export type { ProbeDef } from '../../server/checks/common.js';
export { draft, inconclusive };

/** One precise way the probing server answers a resumption offer. */
export type Deviation =
  | 'selected-identity-out-of-range'
  | 'psk-without-key-share'
  | 'suite-hash-mismatch'
  | 'certificate-after-psk'
  | 'certificate-verify-after-psk'
  | 'unoffered-early-data'
  | 'skip-finished'
  | 'wrong-finished';

/** How the probing server answers a ClientHello. */
export type HelloReply =
  | { kind: 'full' }
  | { kind: 'resume'; identity: OfferedIdentity; deviation?: Deviation }
  | { kind: 'retry'; identity: OfferedIdentity };

/** One connection of a scenario, as the checks judge it. */
export interface ConnectionObservation {
  /** 1-based, within the scenario. */
  n: number;
  label: string;
  record: ConnectionRecord;
  startedAt: number;
  /** The ClientHellos (the second one after our HelloRetryRequest). */
  hellos: HelloView[];
  retried: boolean;
  /** Our HelloRetryRequest, when one was sent. */
  helloRetryRequest: ServerHello | undefined;
  /** The reply the flight followed (undefined: no ClientHello, or none that parsed). */
  reply: HelloReply | undefined;
  /** Why the deviation asked for could not be sent, if so. */
  deviationSkipped: string | undefined;
  resumed: boolean;
  answer: FlightAnswer | 'no-hello';
  /** The client's Finished verified (undefined: none arrived). */
  clientFinished: boolean | undefined;
  /** The first fatal alert the client sent, and whether it came encrypted (the client had derived handshake keys). */
  alert: string | undefined;
  alertEncrypted: boolean | undefined;
  /** The client sent a record the probing server could not open: under keys other than the ones it derived. */
  unreadable: boolean;
  /** The client sent any record under handshake or application keys (readable or not) after our ServerHello. */
  sentEncrypted: boolean;
  /** The client ended the connection (FIN or reset) before the probing server did. */
  clientClosedFirst: boolean;
  /** How the client's stream ended: a FIN, or a reset (which may lose what it sent last). */
  clientEnd: 'eof' | 'reset' | undefined;
  tickets: IssuedTicket[];
  earlyData: { records: number; bytes: number };
  endOfEarlyData: boolean;
}

export interface ScenarioSettings {
  ageToleranceMs: number;
}

/** What a scenario sees while it runs and when it judges. */
export interface ScenarioState {
  id: string;
  registry: TicketRegistry;
  connections: ConnectionObservation[];
  settings: ScenarioSettings;
  /** Whether the client offered one of our tickets in an earlier check (it resumes at all). */
  clientResumesElsewhere: boolean;
  /** The deviation (or the HelloRetryRequest) was sent on a connection already. */
  deviated: boolean;
  /** Every ticket sent during the check, as it is sent. */
  issued: IssuedTicket[];
}

export interface Scenario {
  /** The check family, and the scenario's own name (`<family>.<name>` ids belong to it). */
  id: string;
  check: string;
  title: string;
  /** What the probing server does, in a sentence (README, --help). */
  does: string;
  /** Connections a client makes for the check to be judged; listen mode waits for them. */
  connections: number;
  /** What to do in listen mode. */
  instructions: string;
  /** The later connections should use the second server name ({servername2}). */
  otherName?: boolean;
  /** The tickets are under test: a client's HTTP request is answered only after it had the time to refuse them. */
  holdResponse?: boolean;
  /** The probes whose findings this scenario yields (audit-wide probes name the scenarios they need instead). */
  probes: ProbeDef[];
  reply(view: HelloView, s: ScenarioState, connection: number): HelloReply;
  /** Tickets after a completed handshake. */
  tickets(after: { resumed: boolean; connection: number }, s: ScenarioState): TicketSpec[];
  judge(s: ScenarioState): FindingDraft[];
}

export const STANDARD_TICKETS: TicketSpec[] = [{ lifetimeS: 7200 }, { lifetimeS: 7200 }];

/** psk_dhe_ke among the modes. */
export const offersDhe = (v: HelloView): boolean => v.modes?.includes(PskKeyExchangeMode.psk_dhe_ke) ?? false;

/**
 * The identity the probing server can resume with: a ticket it issued and
 * nobody resumed yet, with a binder that verifies, a lifetime above zero and
 * a cipher suite of its hash among the client's, and a key exchange mode the
 * client lists.
 */
export function resumable(v: HelloView): OfferedIdentity | undefined {
  if (!v.modes?.some((m) => m === PskKeyExchangeMode.psk_dhe_ke || m === PskKeyExchangeMode.psk_ke)) return undefined;
  if (v.binderCount !== v.identities.length) return undefined;
  return v.identities.find(
    (id) =>
      id.ticket !== undefined &&
      id.binderValid === true &&
      id.ticket.lifetimeS > 0 &&
      id.ticket.resumedBy === undefined &&
      v.hello.cipherSuites.some((c) => suiteInfo(c)?.hash === id.ticket?.suite.hash),
  );
}

/** Resume when the offer allows it, else a full handshake. */
export function resumeIfPossible(v: HelloView, deviation?: Deviation): HelloReply {
  const id = resumable(v);
  return id ? { kind: 'resume', identity: id, ...(deviation ? { deviation } : {}) } : { kind: 'full' };
}

/** The connection the deviation was sent on. */
export const deviant = (s: ScenarioState): ConnectionObservation | undefined =>
  s.connections.find((c) => c.reply?.kind === 'resume' && c.reply.deviation !== undefined && c.deviationSkipped === undefined);

export const NO_CONNECTION = 'the client made no connection during this check (does the command use {host} and {port}?)';

/** Why a scenario whose point is a resumption could not judge it. */
export function noOffer(s: ScenarioState): string {
  if (s.connections.length === 0) return NO_CONNECTION;
  if (s.issued.length === 0) return `the client made ${s.connections.length} connection(s) but completed no handshake, so it got no ticket`;
  return `the client made ${s.connections.length} connection(s) and never offered a ticket of this check${s.clientResumesElsewhere ? '' : ' (nor of any other: it does not resume, or the command connects only once)'}`;
}

/** The records of some connections. */
export const records = (cs: readonly ConnectionObservation[]): ConnectionRecord[] => cs.map((c) => c.record);

/** "aborted with illegal_parameter", "sent its Finished", … */
export function reaction(c: ConnectionObservation): string {
  if (c.alert !== undefined) return `aborted with ${c.alert}${c.alertEncrypted ? ' (under its handshake keys)' : ''}`;
  if (c.clientFinished === true) return 'went on and sent its Finished';
  if (c.clientFinished === false) return 'went on and sent a Finished that does not verify';
  if (c.unreadable) return 'sent a record under keys the probing server does not hold (most likely an alert)';
  if (c.answer === 'unexpected') return 'went on and sent something else than its Finished';
  if (c.clientClosedFirst)
    return c.clientEnd === 'reset'
      ? 'reset the connection without an alert the probing server could read'
      : 'closed the connection without an alert';
  return 'neither aborted nor went on until the probing server closed the connection';
}

/**
 * The verdict of a deviation a conforming client must refuse with one of
 * `alerts`: that alert passes, another alert warns (refused, with another
 * reason), closing without an alert warns, going on fails. `atServerHello`:
 * the refusal belongs on the ServerHello itself, before any key is derived;
 * a client that answers under handshake keys (an encrypted alert, a record
 * the probing server cannot open, its Finished) accepted the ServerHello,
 * which fails whatever it did next.
 */
export function judgeRefusal(c: ConnectionObservation, alerts: readonly string[], what: string, atServerHello = false): Judgement {
  const want = alerts.join(' or ');
  const measured: Record<string, MeasuredValue> = {
    reaction: reaction(c),
    alert: c.alert ?? null,
    clientFinished: c.clientFinished ?? null,
  };
  if (atServerHello) measured.answeredUnderHandshakeKeys = c.sentEncrypted;
  let rfcVerdict: Verdict;
  let reason: string;
  if (atServerHello && c.sentEncrypted) {
    rfcVerdict = 'fail';
    reason = `the client accepted ${what} and derived handshake keys (it ${reaction(c)}) instead of refusing the ServerHello with ${want}`;
  } else if (c.alert !== undefined && alerts.includes(c.alert)) {
    rfcVerdict = 'pass';
    reason = `the client aborted with ${c.alert}, as required`;
  } else if (c.alert !== undefined || c.unreadable) {
    rfcVerdict = 'warn';
    reason = `the client refused ${what}, but ${c.alert !== undefined ? `with ${c.alert}` : 'with a record the probing server cannot open'} instead of ${want}`;
  } else if (c.clientFinished !== undefined || c.answer === 'unexpected') {
    rfcVerdict = 'fail';
    reason = `the client accepted ${what}: it ${reaction(c)} instead of aborting with ${want}`;
  } else if (c.clientClosedFirst) {
    rfcVerdict = 'warn';
    reason = `the client closed the connection on ${what} without the ${want} alert`;
  } else {
    rfcVerdict = 'fail';
    reason = `the client did not abort on ${what}: no alert until the probing server closed the connection`;
  }
  return { rfcVerdict, observed: { summary: `the client ${reaction(c)}`, alert: c.alert ?? null }, measured, reason };
}

/** A finding from one connection. */
export function fromConnection(
  def: ProbeDef,
  c: ConnectionObservation,
  j: Judgement,
  others: readonly ConnectionObservation[] = [],
): FindingDraft {
  return draft(def, [c.record], j, records(others.filter((o) => o !== c)));
}
