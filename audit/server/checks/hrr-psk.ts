/**
 * HelloRetryRequest and PSK (RFC 8446 §4.1.2, §4.1.4, §4.2.11.2): a first
 * ClientHello with a ticket and no key share draws a HelloRetryRequest; the
 * second ClientHello's binder must be computed over message_hash(ClientHello1),
 * the HelloRetryRequest and the truncated second hello. A correct binder
 * resumes, the first hello's (stale) binder is refused, and a second hello
 * that adds a PSK the first did not offer is reported as what the server
 * does.
 */
import type { FindingDraft } from '../../findings.js';
import { fixedBinder } from '../../probe/hello.js';
import { type HelloOptions, offerTicket } from '../../probe/hellos.js';
import type { AuditContext, Scope } from '../context.js';
import {
  bindersOf,
  type CheckFamily,
  describeOutcome,
  type HelloOutcome,
  inconclusive,
  judgeMustAbort,
  outcomeFinding,
  outcomeOf,
  type ProbeDef,
  retryOptions,
  withFreshTicket,
} from './common.js';

const check = 'hrr-psk';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

export const HRR_PSK_PROBES = {
  recomputed: def({
    id: 'hrr-psk.recomputed-binder',
    title: 'After a HelloRetryRequest, a recomputed binder resumes',
    rfc: {
      section: '4.2.11.2',
      keyword: 'MAY',
      text: 'After a HelloRetryRequest the binder is computed over Transcript-Hash(ClientHello1, HelloRetryRequest, Truncate(ClientHello2)); a server that resumes checks exactly that.',
    },
    expected: {
      summary: 'HelloRetryRequest, then a resumption',
      statePath: ['expectClientHello', 'expectSecondClientHello', 'expectClientFinished', 'connected'],
    },
    sends: 'ClientHello1 with a fresh ticket and an empty key_share; ClientHello2 with the key share asked for and the recomputed binder',
  }),
  stale: def({
    id: 'hrr-psk.stale-binder',
    title: "After a HelloRetryRequest, the first hello's binder is refused",
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'The server MUST validate the binder of the selected PSK (over the transcript with the HelloRetryRequest) and abort if it does not validate.',
    },
    refusal: 'IncorrectBinder',
    expected: {
      summary: 'abort with decrypt_error',
      alert: 'decrypt_error',
      statePath: ['expectClientHello', 'expectSecondClientHello', 'failed'],
    },
    sends: 'ClientHello2 carrying the binder of ClientHello1 unchanged',
  }),
  gained: def({
    id: 'hrr-psk.gained-psk',
    title: 'A second ClientHello that adds a PSK',
    refusal: 'SecondHelloAddedPsk',
    rfc: {
      section: '4.1.2',
      keyword: 'MUST',
      text: 'After a HelloRetryRequest the client MUST send the same ClientHello except for the listed changes; adding a pre_shared_key is not one of them. RFC 8446 does not say what the server must do about it.',
    },
    expected: { summary: 'reported as measured' },
    sends: 'ClientHello1 without PSK and with an empty key_share; ClientHello2 adding a fresh ticket with a correct binder',
  }),
} satisfies Record<string, ProbeDef>;

interface RetryRun {
  retried: boolean;
  outcome: HelloOutcome;
  alert: string | undefined;
}

/** ClientHello1 (empty key share), then ClientHello2 built from the HelloRetryRequest. */
async function retry(
  ctx: AuditContext,
  scope: Scope,
  label: string,
  description: string,
  first: HelloOptions,
  second: (firstRaw: Uint8Array) => HelloOptions,
): Promise<RetryRun & { record: ReturnType<AuditContext['recordOf']> }> {
  let run: RetryRun = { retried: false, outcome: 'timeout', alert: undefined };
  const conn = await ctx.connection(scope, label, { description, poolTickets: false }, async (c) => {
    const h1 = ctx.hello({ ...first, shareGroups: [] });
    c.sendHello(h1);
    const end = await c.readFlight();
    if (end !== 'hello_retry_request' || !c.helloRetryRequest) {
      run = { retried: false, outcome: outcomeOf(c, end), alert: c.alertReceived };
      return c;
    }
    c.sendHello(ctx.hello(retryOptions(h1, c.helloRetryRequest, second(h1.raw))));
    const end2 = await c.readFlight();
    run = { retried: true, outcome: outcomeOf(c, end2), alert: c.alertReceived };
    if (end2 === 'finished' && c.serverFinishedValid) {
      c.sendFinished();
      await c.collectTickets(1, ctx.settings.settleMs);
    }
    return c;
  });
  return { ...run, record: ctx.recordOf(conn) };
}

export const hrrPskFamily: CheckFamily = {
  id: check,
  title: 'HelloRetryRequest + PSK',
  probes: Object.values(HRR_PSK_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = HRR_PSK_PROBES;
    const noRetry = (r: RetryRun) =>
      `the server did not answer a ClientHello without key share with a HelloRetryRequest (it ${describeOutcome(r.outcome, r.alert)})`;
    await withFreshTicket(ctx, P.recomputed, emit, async (t, scope) => {
      const r = await retry(ctx, scope, 'HRR, recomputed binder', P.recomputed.sends, { offers: [offerTicket(t)] }, () => ({
        offers: [offerTicket(t)],
      }));
      emit(
        !r.retried
          ? inconclusive(P.recomputed, noRetry(r), [r.record])
          : outcomeFinding(
              P.recomputed,
              r,
              {
                verdict:
                  r.outcome === 'resumed' ? 'pass' : r.outcome === 'full' ? 'info' : r.outcome === 'aborted' ? 'fail' : 'inconclusive',
                reason:
                  r.outcome === 'resumed'
                    ? 'the binder over the retried transcript was accepted'
                    : r.outcome === 'aborted'
                      ? 'a correctly bound second ClientHello was refused'
                      : `the server ${describeOutcome(r.outcome, r.alert)}`,
              },
              scope,
              { before: 'HelloRetryRequest, then ' },
            ),
      );
    });
    await withFreshTicket(ctx, P.stale, emit, async (t, scope) => {
      const r = await retry(ctx, scope, 'HRR, stale binder', P.stale.sends, { offers: [offerTicket(t)] }, (firstRaw) => {
        const stale = bindersOf(firstRaw)[0] ?? new Uint8Array(t.suite.hashLen);
        return { offers: [offerTicket(t, { binder: fixedBinder(stale, 'the binder of ClientHello1') })] };
      });
      if (!r.retried) emit(inconclusive(P.stale, noRetry(r), [r.record]));
      else {
        const j = judgeMustAbort(r, ['decrypt_error']);
        emit(outcomeFinding(P.stale, r, j, scope, { before: 'HelloRetryRequest, then ' }));
      }
    });
    await withFreshTicket(ctx, P.gained, emit, async (t, scope) => {
      const r = await retry(ctx, scope, 'HRR, PSK added in ClientHello2', P.gained.sends, {}, () => ({ offers: [offerTicket(t)] }));
      emit(
        !r.retried
          ? inconclusive(P.gained, noRetry(r), [r.record])
          : outcomeFinding(
              P.gained,
              r,
              {
                verdict: r.outcome === 'timeout' || r.outcome === 'unreadable' ? 'inconclusive' : 'info',
                reason:
                  r.outcome === 'resumed'
                    ? 'the server resumed with a PSK the first ClientHello did not offer'
                    : `the server ${describeOutcome(r.outcome, r.alert)}`,
              },
              scope,
              { before: 'HelloRetryRequest, then ' },
            ),
      );
    });
  },
};
