/**
 * What the check families share: the declaration of a probe (id, title, the
 * RFC requirement, tlschart's own refusal), how a finding is drafted from
 * the connections a probe made, and the one question most probes ask — how
 * did the server answer this ClientHello?
 */

import { nobleProvider } from '../../../crypto/noble.js';
import { suiteInfo } from '../../../crypto/suites.js';
import { messageHashMessage } from '../../../crypto/transcript.js';
import { findExtension } from '../../../wire/extensions.js';
import { decodeHandshake } from '../../../wire/handshake.js';
import type { ServerHello } from '../../../wire/types.js';
import type { Behaviour, FindingDraft, MeasuredValue, PolicyJudgement, RfcReference, Verdict } from '../../findings.js';
import type { ProbeConnection, ProbeTicket } from '../../probe/client.js';
import type { HelloOptions, ProbeHello } from '../../probe/hellos.js';
import { type AuditContext, type ConnectionRecord, Scope } from '../context.js';

/** The static declaration of one probe: what it checks and what a conforming server does. */
export interface ProbeDef {
  id: string;
  check: string;
  title: string;
  rfc: RfcReference;
  /** tlschart's refusal of the same input, by reason name. */
  refusal?: string;
  expected: Behaviour;
  /** What the probe sends, for the README and --help. */
  sends: string;
}

export interface CheckFamily {
  id: string;
  title: string;
  probes: ProbeDef[];
  /** Run the probes of this family; `emit` each finding as soon as it is known. */
  run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void>;
}

export interface Judgement {
  rfcVerdict: Verdict;
  observed: Behaviour;
  measured?: Record<string, MeasuredValue>;
  reason: string;
  policy?: PolicyJudgement;
}

/** A finding from a probe declaration, the connections it made and the judgement. */
export function draft(
  def: ProbeDef,
  records: readonly ConnectionRecord[],
  j: Judgement,
  setup?: Scope | readonly ConnectionRecord[],
): FindingDraft {
  // The connections that decided the finding first, then the others the probe made (to get tickets, ...).
  const others = setup === undefined ? [] : setup instanceof Scope ? setup.traces : setup.map((r) => r.trace);
  const traces = [...new Set([...records.map((r) => r.trace), ...others])];
  const divergence = records.find((r) => r.divergence !== undefined)?.divergence;
  const statePath = records.length === 1 ? records[0]?.statePath : undefined;
  return {
    id: def.id,
    check: def.check,
    title: def.title,
    rfcVerdict: j.rfcVerdict,
    rfc: def.rfc,
    ...(def.refusal !== undefined ? { refusal: def.refusal } : {}),
    ...(j.policy ? { policy: j.policy } : {}),
    expected: def.expected,
    observed: {
      ...(statePath && j.observed.statePath === undefined ? { statePath } : {}),
      ...j.observed,
      ...(divergence ? { divergence } : {}),
    },
    measured: j.measured ?? {},
    traces,
    reason: j.reason,
  };
}

/** A probe that could not judge: the connections it made are listed, but none decided anything. */
export function inconclusive(
  def: ProbeDef,
  reason: string,
  records: readonly ConnectionRecord[] = [],
  measured: Record<string, MeasuredValue> = {},
  setup?: Scope,
): FindingDraft {
  return draft(def, [], { rfcVerdict: 'inconclusive', observed: { summary: reason }, measured, reason }, [
    ...records,
    ...(setup?.records ?? []),
  ]);
}

/** How the server answered a ClientHello. */
export type HelloOutcome = 'resumed' | 'full' | 'hello_retry_request' | 'aborted' | 'closed' | 'timeout' | 'unreadable';

export interface HelloResult {
  outcome: HelloOutcome;
  /** The fatal alert, when aborted. */
  alert: string | undefined;
  conn: ProbeConnection;
  record: ConnectionRecord;
}

export function outcomeOf(c: ProbeConnection, end: Awaited<ReturnType<ProbeConnection['readFlight']>>): HelloOutcome {
  if (c.alertReceived !== undefined) return 'aborted';
  if (end === 'hello_retry_request') return 'hello_retry_request';
  if (c.serverHello) return c.resumed ? 'resumed' : 'full';
  if (end === 'timeout') return 'timeout';
  if (end === 'unreadable') return 'unreadable';
  return 'closed';
}

/** "resumed", "a full handshake", "aborted with decrypt_error", … */
export function describeOutcome(o: HelloOutcome, alert?: string): string {
  switch (o) {
    case 'resumed':
      return 'resumed the session';
    case 'full':
      return 'ignored the PSK and completed a full handshake';
    case 'hello_retry_request':
      return 'answered with a HelloRetryRequest';
    case 'aborted':
      return `aborted with ${alert ?? 'an alert'}`;
    case 'closed':
      return 'closed the connection without an alert';
    case 'timeout':
      return 'did not answer before the timeout';
    case 'unreadable':
      return 'answered with records the probe could not read';
  }
}

/**
 * Send one ClientHello and read the server's answer; when it completes a
 * handshake, finish it properly (our Finished, the tickets) before closing.
 */
export async function sendHello(
  ctx: AuditContext,
  scope: Scope,
  label: string,
  description: string,
  build: () => ProbeHello,
  o: { complete?: boolean; poolTickets?: boolean; earlyData?: Uint8Array[]; afterFlight?: (c: ProbeConnection) => Promise<void> } = {},
): Promise<HelloResult> {
  let outcome: HelloOutcome = 'timeout';
  const conn = await ctx.connection(
    scope,
    label,
    { description, ...(o.poolTickets !== undefined ? { poolTickets: o.poolTickets } : {}) },
    async (c) => {
      const hello = build();
      c.sendHello(o.earlyData ? { ...hello, earlyData: o.earlyData } : hello);
      const end = await c.readFlight();
      outcome = outcomeOf(c, end);
      if (o.afterFlight) await o.afterFlight(c);
      else if ((outcome === 'resumed' || outcome === 'full') && o.complete !== false && c.serverFinishedValid) {
        c.sendFinished();
        await c.collectTickets(Math.max(1, ctx.ticketsPerConnection), ctx.settings.settleMs);
      }
      await c.finish();
      if (outcome !== 'aborted' && c.alertReceived !== undefined && !c.serverFinishedReceived) outcome = 'aborted';
      return c;
    },
  );
  return { outcome, alert: conn.alertReceived, conn, record: ctx.recordOf(conn) };
}

/**
 * The verdict of a probe whose only conforming answer is to abort (a bad
 * binder, a missing extension): the named alert passes; another alert is a
 * warning (the connection was refused, with another reason); resuming or
 * going on without the PSK fails when RFC 8446 says the server MUST abort.
 */
export function judgeMustAbort(
  r: Pick<HelloResult, 'outcome' | 'alert'>,
  alerts: readonly string[],
  o: { onFull?: Verdict; onResumed?: Verdict; onClosed?: Verdict } = {},
): { verdict: Verdict; reason: string } {
  const want = alerts.join(' or ');
  switch (r.outcome) {
    case 'aborted':
      return alerts.includes(r.alert ?? '')
        ? { verdict: 'pass', reason: `the server aborted with ${r.alert}, as required` }
        : { verdict: 'warn', reason: `the server aborted, but with ${r.alert} instead of ${want}` };
    case 'resumed':
      return { verdict: o.onResumed ?? 'fail', reason: `the server resumed the session instead of aborting with ${want}` };
    case 'full':
      return { verdict: o.onFull ?? 'fail', reason: `the server went on with a full handshake instead of aborting with ${want}` };
    case 'closed':
      return { verdict: o.onClosed ?? 'warn', reason: `the server closed the connection without the ${want} alert` };
    case 'hello_retry_request':
      return { verdict: 'warn', reason: `the server answered with a HelloRetryRequest instead of aborting with ${want}` };
    case 'timeout':
    case 'unreadable':
      return { verdict: 'inconclusive', reason: `the server ${describeOutcome(r.outcome)}` };
  }
}

/**
 * A finding decided by the server's answer to one ClientHello: the answer is
 * what was observed (between `o.before`, what led to it, and `o.after`) with
 * its alert, and what was measured (with `o.measured` after it).
 */
export function outcomeFinding(
  def: ProbeDef,
  r: Pick<HelloResult, 'outcome' | 'alert' | 'record'>,
  j: { verdict: Verdict; reason: string },
  setup: Scope,
  o: { before?: string; after?: string; measured?: Record<string, MeasuredValue> } = {},
): FindingDraft {
  return draft(
    def,
    [r.record],
    {
      rfcVerdict: j.verdict,
      observed: { summary: `${o.before ?? ''}the server ${describeOutcome(r.outcome, r.alert)}${o.after ?? ''}`, alert: r.alert ?? null },
      measured: { outcome: r.outcome, ...o.measured },
      reason: j.reason,
    },
    setup,
  );
}

/**
 * One probe that needs an unused ticket: a scope of its own, a fresh ticket
 * (one `accept` takes), and `probe` with both; without such a ticket the
 * finding is inconclusive (`none` says why) and lists the connections made
 * looking for one.
 */
export async function withFreshTicket(
  ctx: AuditContext,
  def: ProbeDef,
  emit: (d: FindingDraft) => void,
  probe: (t: ProbeTicket, scope: Scope) => Promise<void>,
  o: { accept?: (t: ProbeTicket) => boolean; none?: string } = {},
): Promise<void> {
  const scope = new Scope(def.id);
  const t = await ctx.freshTicket(scope, o.accept);
  if (!t) emit(inconclusive(def, o.none ?? NO_TICKETS, scope.records));
  else await probe(t, scope);
}

export const NO_TICKETS = 'the server issued no ticket after a full handshake, so there is nothing to resume with';

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * The second ClientHello after a HelloRetryRequest (RFC 8446 §4.1.2): the
 * same hello, with one key share for the group asked for, the cookie echoed,
 * and the PSK binders recomputed over message_hash(ClientHello1),
 * HelloRetryRequest and the truncated second hello (§4.2.11.2).
 */
export function retryOptions(first: ProbeHello, hrr: ServerHello, o: HelloOptions): HelloOptions {
  const suite = suiteInfo(hrr.cipherSuite);
  const group = findExtension(hrr.extensions, 'key_share_hrr')?.selectedGroup;
  const cookie = findExtension(hrr.extensions, 'cookie')?.cookie;
  return {
    random: first.random,
    legacySessionId: first.legacySessionId,
    keyShares: first.keyShares,
    ...(group !== undefined ? { shareGroups: [group] } : {}),
    ...(cookie ? { cookie } : {}),
    ...(suite ? { transcriptPrefix: [messageHashMessage(suite.hash, first.raw, nobleProvider), hrr.raw] } : {}),
    ...o,
  };
}

/** The binders of a ClientHello, as sent. */
export function bindersOf(raw: Uint8Array): Uint8Array[] {
  const d = decodeHandshake(raw);
  if (!d.ok || d.value.type !== 'client_hello') return [];
  return findExtension(d.value.extensions, 'pre_shared_key_client')?.binders ?? [];
}
