/**
 * Out-of-order messages on the PSK path, generated with fast-check: the
 * server chart's PSK path (ClientHello with a ticket, client Finished,
 * data) with client messages skipped, repeated, moved or injected
 * (Certificate, CertificateVerify, EndOfEarlyData, KeyUpdate,
 * NewSessionTicket, ChangeCipherSpec, …). Each sequence is run against
 * tlschart's own server engine — the chart's expected reaction — and
 * against the audited server, and the reactions compared.
 *
 * A server that goes on where the chart aborts is the failure fast-check
 * looks for: it shrinks it to the smallest sequence and the finding gives
 * that sequence, its trace and the seed that replays the run
 * (`--seed N --checks out-of-order`). Aborting with another alert than the
 * chart's, or without an alert, is a warning; aborting where the chart goes
 * on is reported as measured.
 */

import fc from 'fast-check';
import { nobleProvider } from '../../../crypto/noble.js';
import type { CertifiedKey } from '../../../machines/types.js';
import { certifiedKey } from '../../../net/options.js';
import { generateSelfSigned } from '../../../pki/generate.js';
import type { FindingDraft, MeasuredValue } from '../../findings.js';
import { ProbeConnection, type ProbeTicket } from '../../probe/client.js';
import { makeHello } from '../../probe/hellos.js';
import {
  applyMutations,
  BASE_PLAN,
  describeMutation,
  describeReaction,
  type Mutation,
  mutationsArbitrary,
  type PlanMessage,
  type Reaction,
  runPlan,
} from '../../probe/plan.js';
import { engineTarget, type Target } from '../../probe/target.js';
import type { AuditContext, ConnectionRecord } from '../context.js';
import { BudgetExhausted, Scope, Unreachable } from '../context.js';
import { type CheckFamily, draft, inconclusive, NO_TICKETS, type ProbeDef } from './common.js';

const check = 'out-of-order';

export const OUT_OF_ORDER_PROBE: ProbeDef = {
  id: 'out-of-order.psk-path',
  check,
  title: 'Out-of-order client messages on the PSK path (fast-check)',
  rfc: {
    section: '4',
    keyword: 'MUST',
    text: 'Protocol messages MUST be sent in the order defined in §4.4.1 and shown in the diagrams in §2. A peer which receives a handshake message in an unexpected order MUST abort the handshake with an "unexpected_message" alert.',
  },
  refusal: 'UnexpectedMessage',
  expected: {
    summary:
      "for every generated sequence, the reaction of tlschart's server chart: the same alert where it aborts, going on where it goes on",
  },
  sends:
    "--runs generated sequences: the PSK path with messages skipped, repeated, moved or injected, each also run against tlschart's own server engine",
};

export type Comparison = 'match' | 'accepted' | 'alert-differs' | 'closed-silently' | 'stricter';

interface LiveReaction extends Reaction {
  /** The server answered our close_notify or sent data: it was still going. */
  alive: boolean;
}

/** How the audited server's reaction compares with the chart's. */
export function compareReactions(chart: Reaction, live: LiveReaction): Comparison {
  if (chart.alert !== null) {
    if (live.alert === null) return live.alive ? 'accepted' : 'closed-silently';
    return live.alert === chart.alert ? 'match' : 'alert-differs';
  }
  return live.alert === null ? 'match' : 'stricter';
}

interface Run {
  mutations: Mutation[];
  plan: PlanMessage[];
  chart: Reaction;
  live: LiveReaction;
  comparison: Comparison;
  record: ConnectionRecord;
}

const planText = (plan: readonly PlanMessage[]) => plan.join(', ');

async function referenceCertificate(): Promise<CertifiedKey> {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  return certifiedKey(g.certPem, g.keyPem, 'the reference server', nobleProvider);
}

/** tlschart's own server engine, as the reference for one audit. */
class Reference {
  private readonly pool: ProbeTicket[] = [];
  constructor(
    private readonly target: Target,
    private readonly hello: Parameters<typeof makeHello>[0],
    private readonly timeoutMs: number,
  ) {}

  private async connection(label: string): Promise<ProbeConnection> {
    return new ProbeConnection({
      transport: await this.target.open(this.timeoutMs),
      deadline: Date.now() + this.timeoutMs,
      label,
      serverName: this.hello?.serverName,
      alpn: undefined,
    });
  }

  private async ticket(): Promise<ProbeTicket> {
    const t = this.pool.shift();
    if (t) return t;
    const c = await this.connection('reference full handshake');
    c.sendHello(makeHello(this.hello));
    if ((await c.readFlight()) === 'finished') {
      c.sendFinished();
      await c.collectTickets(2, 1000);
    }
    await c.finish();
    this.pool.push(...c.tickets);
    const first = this.pool.shift();
    if (!first) throw new Error("tlschart's own server issued no ticket");
    return first;
  }

  async run(plan: readonly PlanMessage[]): Promise<Reaction> {
    const t = await this.ticket();
    const c = await this.connection('reference plan');
    return runPlan(c, plan, t, this.hello);
  }
}

export const outOfOrderFamily: CheckFamily = {
  id: check,
  title: 'Out-of-order messages (fast-check)',
  probes: [OUT_OF_ORDER_PROBE],
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = OUT_OF_ORDER_PROBE;
    const scope = new Scope(check);
    const helloOptions = { serverName: ctx.settings.serverName, alpn: ctx.settings.alpn };
    const reference = new Reference(
      engineTarget({ certificates: [await referenceCertificate()], config: { alpnProtocols: ctx.settings.alpn } }),
      helloOptions,
      ctx.settings.timeoutMs,
    );
    const probeTicket = await ctx.freshTicket(scope);
    if (!probeTicket) {
      emit(inconclusive(P, NO_TICKETS, scope.records));
      return;
    }
    let spare: ProbeTicket | undefined = probeTicket;
    const runs: Run[] = [];
    let stopped: string | undefined;
    let noTicket = 0;
    const property = fc.asyncProperty(mutationsArbitrary, async (mutations) => {
      if (stopped !== undefined) return true;
      const plan = applyMutations(BASE_PLAN, mutations);
      try {
        const chart = await reference.run(plan);
        const t = spare ?? (await ctx.freshTicket(scope));
        spare = undefined;
        if (!t) {
          noTicket++;
          return true;
        }
        let live: LiveReaction | undefined;
        const conn = await ctx.connection(
          scope,
          `sequence: ${planText(plan)}`,
          { description: `sends ${planText(plan)} (${mutations.map(describeMutation).join('; ')})`, poolTickets: false },
          async (c) => {
            const r = await runPlan(c, plan, t, helloOptions);
            // Tickets prove nothing here: a server may send them before it reads the client's flight (§4.6.1).
            live = { ...r, alive: c.closeNotifyReceived || c.log.some((e) => e.dir === 'in' && e.kind === 'application_data') };
            return c;
          },
        );
        const reaction = live as LiveReaction | undefined;
        if (!reaction) return true;
        const comparison = compareReactions(chart, reaction);
        runs.push({ mutations, plan, chart, live: reaction, comparison, record: ctx.recordOf(conn) });
        return comparison !== 'accepted';
      } catch (e) {
        if (e instanceof BudgetExhausted || e instanceof Unreachable) {
          stopped = e.message;
          return true;
        }
        throw e;
      }
    });
    const budget = Math.max(1000, ctx.remainingMs() - 5000);
    const details = await fc.check(property, {
      numRuns: Math.max(1, ctx.settings.runs),
      seed: ctx.settings.seed,
      interruptAfterTimeLimit: budget,
      markInterruptAsFailure: false,
    });
    const sample = (c: Comparison) => runs.filter((r) => r.comparison === c);
    const asMeasured = (r: Run): MeasuredValue => ({
      sequence: planText(r.plan),
      mutations: r.mutations.map(describeMutation).join('; '),
      chart: describeReaction(r.chart),
      server: describeReaction(r.live),
      trace: r.record.trace,
    });
    const measured: Record<string, MeasuredValue> = {
      seed: details.seed,
      runs: details.numRuns,
      sequencesRun: runs.length,
      matching: sample('match').length,
      alertDiffers: sample('alert-differs').slice(0, 5).map(asMeasured),
      closedWithoutAlert: sample('closed-silently').slice(0, 5).map(asMeasured),
      stricterThanChart: sample('stricter').slice(0, 5).map(asMeasured),
      replay: `--seed ${details.seed} --checks out-of-order --runs ${Math.max(1, ctx.settings.runs)}`,
    };
    if (details.failed && details.counterexample) {
      const [mutations] = details.counterexample;
      const key = JSON.stringify(mutations);
      const shrunk = [...runs].reverse().find((r) => JSON.stringify(r.mutations) === key && r.comparison === 'accepted');
      if (!shrunk) {
        const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? 'unknown');
        emit(inconclusive(P, `a generated sequence could not be run: ${error}`, scope.records, measured));
        return;
      }
      emit(
        draft(P, [shrunk.record, ...scope.records.filter((r) => r !== shrunk.record)], {
          rfcVerdict: 'fail',
          observed: {
            summary: `the server went on after ${planText(shrunk.plan)}, where the chart aborts with ${shrunk.chart.alert}`,
            alert: null,
          },
          measured: {
            ...measured,
            counterexample: asMeasured(shrunk),
            shrinks: details.numShrinks,
            counterexamplePath: details.counterexamplePath ?? null,
          },
          reason: `smallest failing sequence (after ${details.numShrinks} shrink step(s)): ${planText(shrunk.plan)}; the chart aborts with ${shrunk.chart.alert}, the server did not`,
        }),
      );
      return;
    }
    if (runs.length === 0) {
      emit(inconclusive(P, stopped ?? (noTicket > 0 ? NO_TICKETS : 'no sequence could be run'), scope.records, measured));
      return;
    }
    const differs = sample('alert-differs').length + sample('closed-silently').length;
    emit(
      draft(P, scope.records, {
        rfcVerdict: differs > 0 ? 'warn' : 'pass',
        observed: {
          summary: `${runs.length} sequence(s): ${sample('match').length} as the chart, ${sample('alert-differs').length} with another alert, ${sample('closed-silently').length} closed without an alert, ${sample('stricter').length} refused where the chart goes on`,
        },
        measured,
        reason:
          (stopped ? `stopped early: ${stopped}; ` : '') +
          (differs > 0
            ? "the server aborted every sequence the chart aborts, not always with the chart's alert"
            : 'the server aborted every sequence the chart aborts, with the same alert'),
      }),
    );
  },
};
