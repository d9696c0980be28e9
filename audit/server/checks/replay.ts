/**
 * Single use: the same ticket offered twice in sequence, and `runs` times in
 * parallel (at most --concurrency at once), reported as measured ("8 of 8
 * resumed"). RFC 8446 lets a server accept a ticket more than once (§8.1
 * describes single-use tickets as the simplest anti-replay defence; §C.4
 * asks clients not to reuse tickets); tlschart takes a ticket from its store
 * when it resumes, so a ticket resumes at most once.
 */
import type { FindingDraft } from '../../findings.js';
import type { ProbeTicket } from '../../probe/client.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext, Scope } from '../context.js';
import { type CheckFamily, draft, type HelloResult, inconclusive, type ProbeDef, sendHello, withFreshTicket } from './common.js';

const check = 'replay';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

const RULE = {
  section: '8.1',
  keyword: 'policy' as const,
  text: 'RFC 8446 allows a server to accept a ticket more than once (clients SHOULD NOT reuse tickets, §C.4; single-use tickets are the simplest anti-replay defence, §8.1). tlschart resumes each ticket at most once.',
};

export const REPLAY_PROBES = {
  sequential: def({
    id: 'replay.sequential',
    title: 'The same ticket offered twice in sequence',
    rfc: RULE,
    refusal: 'StatelessTicketsRefused',
    expected: { summary: 'the first offer resumes, the second gets a full handshake (tlschart policy)' },
    sends: 'one fresh ticket offered on two connections, one after the other',
  }),
  parallel: def({
    id: 'replay.parallel',
    title: 'The same ticket offered on --runs connections at once',
    rfc: RULE,
    refusal: 'StatelessTicketsRefused',
    expected: { summary: 'at most one of the connections resumes (tlschart policy)' },
    sends: 'one fresh ticket offered on --runs connections opened together (at most --concurrency at once)',
  }),
} satisfies Record<string, ProbeDef>;

export const replayFamily: CheckFamily = {
  id: check,
  title: 'Single use / replay',
  probes: Object.values(REPLAY_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = REPLAY_PROBES;
    await withFreshTicket(ctx, P.sequential, emit, async (t, scope) => {
      const a = await sendHello(ctx, scope, 'first offer', 'offers a fresh ticket', () => ctx.hello({ offers: [offerTicket(t)] }));
      const b = await sendHello(ctx, scope, 'second offer of the same ticket', 'offers the same ticket again', () =>
        ctx.hello({ offers: [offerTicket(t)] }),
      );
      if (a.outcome !== 'resumed') {
        emit(inconclusive(P.sequential, `the first offer did not resume (${a.outcome}), so reuse cannot be judged`, [a.record, b.record]));
      } else {
        const reused = b.outcome === 'resumed';
        emit(
          draft(
            P.sequential,
            [a.record, b.record],
            {
              rfcVerdict: reused ? 'info' : 'pass',
              observed: {
                summary: reused ? 'the ticket resumed twice' : `the second offer: ${b.outcome}${b.alert ? ` (${b.alert})` : ''}`,
              },
              measured: { first: a.outcome, second: b.outcome },
              policy: { rule: 'a tlschart ticket resumes at most once', violated: reused },
              reason: reused
                ? 'the server accepts a ticket more than once: connections that reuse it can be linked, and its PSK has no forward secrecy'
                : 'the ticket is single-use',
            },
            scope,
          ),
        );
      }
    });
    await withFreshTicket(ctx, P.parallel, emit, async (t, scope) => {
      const n = Math.max(2, ctx.settings.runs);
      const results = await parallelOffers(ctx, scope, t, n);
      const resumed = results.filter((r) => r.outcome === 'resumed').length;
      emit(
        resumed === 0
          ? inconclusive(
              P.parallel,
              `none of the ${n} parallel offers resumed`,
              results.map((r) => r.record),
              { offers: n, resumed },
            )
          : draft(
              P.parallel,
              results.map((r) => r.record),
              {
                rfcVerdict: resumed > 1 ? 'info' : 'pass',
                observed: { summary: `${resumed} of ${n} resumed` },
                measured: {
                  offers: n,
                  resumed,
                  concurrency: Math.min(n, ctx.settings.concurrency),
                  outcomes: results.map((r) => r.outcome),
                },
                policy: { rule: 'a tlschart ticket resumes at most once, also under concurrent offers', violated: resumed > 1 },
                reason: resumed > 1 ? `the same ticket resumed ${resumed} times in parallel` : 'only one of the parallel offers resumed',
              },
              scope,
            ),
      );
    });
  },
};

/** Offer `t` on `n` connections started together (the context limits how many are open at once). */
export function parallelOffers(ctx: AuditContext, scope: Scope, t: ProbeTicket, n: number): Promise<HelloResult[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      sendHello(ctx, scope, `parallel offer ${i + 1} of ${n}`, `offers the same ticket as ${n - 1} other connections at once`, () =>
        ctx.hello({ offers: [offerTicket(t)] }),
      ),
    ),
  );
}
