/**
 * Ticket age (RFC 8446 §4.2.10, §4.2.11.1, §8.3): a valid ticket offered
 * with a garbage, a far-future (negative) and a stale (beyond the lifetime)
 * obfuscated_ticket_age, without and with early data. Without early data
 * the server SHOULD proceed with the handshake; with early data it MUST
 * check the age and reject 0-RTT when it is off.
 */
import { randomInt } from 'node:crypto';
import type { FindingDraft } from '../../findings.js';
import type { ProbeTicket } from '../../probe/client.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { type CheckFamily, describeOutcome, draft, outcomeFinding, type ProbeDef, sendHello, withFreshTicket } from './common.js';
import { EARLY_DATA, NO_EARLY_TICKETS } from './early-data.js';

const check = 'ticket-age';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

type AgeKind = 'garbage' | 'future' | 'stale';

/** The obfuscated age to send: random, 10 s in the future (negative age), or an hour past the lifetime. */
export function distortedAge(kind: AgeKind, t: ProbeTicket, nowMs = Date.now()): number {
  const TWO_32 = 0x1_0000_0000;
  const realAge = Math.max(0, nowMs - t.receivedAtMs);
  const claimed =
    kind === 'garbage' ? randomInt(0, 2 ** 32 - 1) : kind === 'future' ? TWO_32 - 10_000 : realAge + t.lifetimeS * 1000 + 3_600_000;
  return kind === 'garbage' ? claimed : (claimed + t.ticketAgeAdd) % TWO_32;
}

const DESCRIBE: Record<AgeKind, string> = {
  garbage: 'a random obfuscated_ticket_age',
  future: 'an age of −10 s (a ticket from the future)',
  stale: 'an age one hour beyond the ticket lifetime',
};

const ONE_RTT = {
  section: '4.2.10',
  keyword: 'SHOULD' as const,
  text: 'A server MUST validate that the ticket age is within a small tolerance of the time since the ticket was issued; if it is not, the server SHOULD proceed with the handshake but reject 0-RTT. It MAY treat a ticket as valid for a shorter time than its lifetime (§4.6.1).',
};
const ZERO_RTT = {
  section: '4.2.10',
  keyword: 'MUST' as const,
  text: 'For PSKs provisioned via NewSessionTicket, a server MUST validate that the ticket age for the selected PSK identity is within a small tolerance of the time since the ticket was issued; if it is not, the server SHOULD proceed with the handshake but reject 0-RTT (§8.3).',
};

function probePair(kind: AgeKind): [ProbeDef, ProbeDef] {
  return [
    def({
      id: `ticket-age.${kind}`,
      title: `A ticket offered with ${DESCRIBE[kind]}`,
      rfc: ONE_RTT,
      expected: { summary: 'the handshake proceeds (resumed, or full if the server judges the ticket too old); no abort' },
      sends: `a fresh ticket with a valid binder and ${DESCRIBE[kind]}, no early data`,
    }),
    def({
      id: `ticket-age.${kind}-0rtt`,
      title: `0-RTT with ${DESCRIBE[kind]}`,
      rfc: ZERO_RTT,
      expected: { summary: 'early data rejected (no early_data in EncryptedExtensions); the handshake may proceed' },
      sends: `a ticket that allows early data, with ${DESCRIBE[kind]}, early_data and one 0-RTT record`,
    }),
  ];
}

const [garbage, garbage0] = probePair('garbage');
const [future, future0] = probePair('future');
const [stale, stale0] = probePair('stale');
export const TICKET_AGE_PROBES = { garbage, future, stale, garbage0, future0, stale0 } satisfies Record<string, ProbeDef>;

export const ticketAgeFamily: CheckFamily = {
  id: check,
  title: 'Ticket age',
  probes: Object.values(TICKET_AGE_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    for (const [kind, p] of [
      ['garbage', garbage],
      ['future', future],
      ['stale', stale],
    ] as const) {
      await withFreshTicket(ctx, p, emit, async (t, scope) => {
        const r = await sendHello(
          ctx,
          scope,
          p.title,
          p.sends,
          () => ctx.hello({ offers: [offerTicket(t, { obfuscatedTicketAge: distortedAge(kind, t) })] }),
          { poolTickets: false },
        );
        emit(
          outcomeFinding(
            p,
            r,
            {
              verdict:
                r.outcome === 'resumed' || r.outcome === 'full'
                  ? r.outcome === 'resumed'
                    ? 'pass'
                    : 'info'
                  : r.outcome === 'aborted'
                    ? 'warn'
                    : 'inconclusive',
              reason:
                r.outcome === 'resumed'
                  ? 'the handshake proceeded with the PSK'
                  : r.outcome === 'full'
                    ? 'the server ignored the ticket (allowed: it may treat a ticket as valid for a shorter time)'
                    : `the server ${describeOutcome(r.outcome, r.alert)} instead of proceeding`,
            },
            scope,
          ),
        );
      });
    }
    for (const [kind, p] of [
      ['garbage', garbage0],
      ['future', future0],
      ['stale', stale0],
    ] as const) {
      await withFreshTicket(
        ctx,
        p,
        emit,
        async (t, scope) => {
          const r = await sendHello(
            ctx,
            scope,
            p.title,
            p.sends,
            () => ctx.hello({ earlyData: true, offers: [offerTicket(t, { obfuscatedTicketAge: distortedAge(kind, t) })] }),
            {
              earlyData: [EARLY_DATA],
              poolTickets: false,
            },
          );
          const accepted = r.conn.earlyDataAccepted;
          emit(
            draft(
              p,
              [r.record],
              {
                rfcVerdict: accepted ? 'fail' : r.outcome === 'aborted' ? 'warn' : r.outcome === 'timeout' ? 'inconclusive' : 'pass',
                observed: {
                  summary: accepted
                    ? 'early data accepted despite the age'
                    : `early data rejected; the server ${describeOutcome(r.outcome, r.alert)}`,
                  alert: r.alert ?? null,
                },
                measured: { earlyDataAccepted: accepted, outcome: r.outcome },
                reason: accepted
                  ? 'the server accepted 0-RTT without validating the ticket age'
                  : 'the age was checked before accepting 0-RTT',
              },
              scope,
            ),
          );
        },
        { accept: (x) => (x.maxEarlyDataSize ?? 0) > 0, none: NO_EARLY_TICKETS },
      );
    }
  },
};
