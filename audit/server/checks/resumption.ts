/**
 * Resumption: a psk_dhe_ke offer of a fresh ticket resumes (RFC 8446 §2.2,
 * §4.2.11), over `runs` tries; a resumed handshake carries no Certificate
 * or CertificateVerify (§2.2, Appendix A) and a server key share
 * (psk_dhe_ke, §4.2.9), never one used before (RFC 9846 §4.3.8); a resumed
 * connection gets new tickets (§C.4).
 */
import type { FindingDraft } from '../../findings.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { Scope } from '../context.js';
import { type CheckFamily, draft, type HelloResult, inconclusive, NO_TICKETS, type ProbeDef, sendHello } from './common.js';

const check = 'resumption';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

export const RESUMPTION_PROBES = {
  works: def({
    id: 'resumption.psk-dhe-ke',
    title: 'A psk_dhe_ke offer of a fresh ticket resumes',
    rfc: {
      section: '4.2.11',
      keyword: 'MAY',
      text: 'A server that issues tickets accepts them: it selects the PSK, validates its binder and resumes with a fresh (EC)DHE exchange.',
    },
    expected: {
      summary: 'ServerHello with pre_shared_key (identity 0) and key_share, EncryptedExtensions, Finished',
      statePath: ['expectClientHello', 'expectClientFinished', 'connected'],
    },
    sends: 'a ClientHello offering one fresh ticket with psk_dhe_ke, a valid binder and the honest ticket age',
  }),
  rate: def({
    id: 'resumption.success-rate',
    title: 'Resumption success rate over --runs tries',
    rfc: {
      section: 'C.4',
      keyword: 'SHOULD',
      text: 'Servers that issue tickets SHOULD issue new tickets with every connection, so that clients always have one to resume with.',
    },
    expected: { summary: 'every try resumes' },
    sends: '--runs ClientHellos, each offering a fresh ticket',
  }),
  noCertificate: def({
    id: 'resumption.no-certificate',
    title: 'No Certificate or CertificateVerify on resumption',
    rfc: {
      section: '2.2',
      keyword: 'MUST',
      text: 'With a PSK the server authenticates with the PSK: either a PSK or a certificate is used, never both; messages MUST be sent in the order of §2 and Appendix A, which has no Certificate after a PSK ServerHello.',
    },
    refusal: 'UnexpectedMessage',
    expected: { summary: 'a resumed handshake is ServerHello, EncryptedExtensions, Finished' },
    sends: 'every resumption of the audit is looked at',
  }),
  keyShare: def({
    id: 'resumption.key-share',
    title: 'A psk_dhe_ke resumption carries the server key share',
    rfc: {
      section: '4.2.9',
      keyword: 'MUST',
      text: 'psk_dhe_ke: PSK with (EC)DHE key establishment. In this mode, the client and server MUST supply "key_share" values.',
    },
    refusal: 'PskWithoutKeyShare',
    expected: { summary: 'every resumption offered with psk_dhe_ke alone has a key_share in its ServerHello' },
    sends: 'every psk_dhe_ke resumption of the audit is looked at',
  }),
  freshShare: def({
    id: 'resumption.fresh-key-share',
    title: 'A fresh server key share on every connection',
    rfc: {
      section: '4.3.8',
      keyword: 'MUST',
      document: 'RFC 9846',
      text: 'Clients and servers MUST NOT reuse a key share for multiple connections (RFC 8446 §4.2.8 states no rule; its revision does).',
    },
    expected: { summary: 'no server key share appears on two connections' },
    sends: 'the server key share of every connection of the audit is compared',
  }),
  newTickets: def({
    id: 'resumption.new-tickets',
    title: 'New tickets after a resumption',
    rfc: { section: 'C.4', keyword: 'SHOULD', text: 'Servers SHOULD issue new tickets with every connection.' },
    expected: { summary: 'at least one NewSessionTicket after a resumed handshake' },
    sends: 'the resumptions of the success-rate probe',
  }),
} satisfies Record<string, ProbeDef>;

export const resumptionFamily: CheckFamily = {
  id: check,
  title: 'Resumption',
  probes: Object.values(RESUMPTION_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = RESUMPTION_PROBES;
    const scope = new Scope(check);
    const tries: HelloResult[] = [];
    const n = Math.max(1, ctx.settings.runs);
    for (let i = 0; i < n; i++) {
      const t = await ctx.freshTicket(scope);
      if (!t) break;
      tries.push(
        await sendHello(ctx, scope, `resumption ${i + 1}`, 'offers a fresh ticket with psk_dhe_ke', () =>
          ctx.hello({ offers: [offerTicket(t)] }),
        ),
      );
    }
    if (tries.length === 0) {
      for (const p of [P.works, P.rate, P.newTickets]) emit(inconclusive(p, NO_TICKETS, scope.records));
    } else {
      const first = tries[0] as HelloResult;
      const ok = first.outcome === 'resumed' && first.conn.serverFinishedValid === true && first.conn.selectedIdentity === 0;
      emit(
        draft(
          P.works,
          [first.record],
          {
            rfcVerdict: ok ? 'pass' : first.outcome === 'resumed' ? 'fail' : 'warn',
            observed: {
              summary: ok
                ? 'resumed: ServerHello selected identity 0, the server Finished verified under the PSK'
                : first.outcome === 'resumed'
                  ? `resumed, but ${first.conn.serverFinishedValid === false ? 'the server Finished does not verify' : `selected identity ${first.conn.selectedIdentity}`}`
                  : `the server did not resume: ${first.outcome}${first.alert ? ` (${first.alert})` : ''}`,
              alert: first.alert ?? null,
            },
            measured: { outcome: first.outcome },
            reason: ok
              ? 'resumption works'
              : first.outcome === 'resumed'
                ? 'the resumption is not the one offered or its Finished is wrong'
                : 'the server issues tickets but does not accept a fresh one',
          },
          scope,
        ),
      );
      const resumed = tries.filter((r) => r.outcome === 'resumed').length;
      emit(
        draft(
          P.rate,
          tries.map((r) => r.record),
          {
            rfcVerdict: resumed === tries.length ? 'pass' : 'warn',
            observed: { summary: `${resumed} of ${tries.length} resumed` },
            measured: { tries: tries.length, resumed, outcomes: tries.map((r) => r.outcome) },
            reason: resumed === tries.length ? 'every fresh ticket resumed' : 'some fresh tickets did not resume',
          },
          scope,
        ),
      );
      const resumedTries = tries.filter((r) => r.outcome === 'resumed' && r.conn.finishedSentAt !== undefined);
      const withTickets = resumedTries.filter((r) => r.conn.tickets.length > 0).length;
      emit(
        resumedTries.length === 0
          ? inconclusive(
              P.newTickets,
              'no resumption completed',
              tries.map((r) => r.record),
            )
          : draft(
              P.newTickets,
              resumedTries.map((r) => r.record),
              {
                rfcVerdict: withTickets === resumedTries.length ? 'pass' : 'warn',
                observed: { summary: `${withTickets} of ${resumedTries.length} resumed connections got new tickets` },
                measured: {
                  resumed: resumedTries.length,
                  withNewTickets: withTickets,
                  ticketsPerResumption: resumedTries.map((r) => r.conn.tickets.length),
                },
                reason:
                  withTickets === resumedTries.length
                    ? 'new tickets after every resumption'
                    : 'a client that resumed got no new ticket to resume with next time',
              },
              scope,
            ),
      );
    }
  },
};

/**
 * The findings about every resumption of the whole audit, made after all
 * other checks: Certificate on resumption, the server key share on
 * psk_dhe_ke resumptions, and key share reuse across connections.
 */
export function auditWideFindings(ctx: AuditContext, observations: ResumptionObservation[]): FindingDraft[] {
  const P = RESUMPTION_PROBES;
  const out: FindingDraft[] = [];
  const resumed = observations.filter((o) => o.resumed);
  if (resumed.length === 0) {
    out.push(inconclusive(P.noCertificate, 'no connection of the audit resumed'));
    out.push(inconclusive(P.keyShare, 'no connection of the audit resumed'));
  } else {
    const withCert = resumed.filter((o) => o.certificate);
    out.push(
      draft(P.noCertificate, withCert.length > 0 ? withCert.map((o) => o.record) : resumed.slice(0, 3).map((o) => o.record), {
        rfcVerdict: withCert.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            withCert.length > 0
              ? `${withCert.length} of ${resumed.length} resumptions carried a Certificate or CertificateVerify`
              : `none of ${resumed.length} resumptions carried a Certificate`,
        },
        measured: { resumptions: resumed.length, withCertificate: withCert.length },
        reason:
          withCert.length > 0
            ? 'the server sent certificate authentication in a PSK handshake'
            : 'PSK handshakes authenticate with the PSK only',
      }),
    );
    const dheOnly = resumed.filter((o) => o.offeredDheOnly);
    const missing = dheOnly.filter((o) => !o.keyShare);
    out.push(
      dheOnly.length === 0
        ? inconclusive(P.keyShare, 'no psk_dhe_ke-only offer resumed')
        : draft(P.keyShare, missing.length > 0 ? missing.map((o) => o.record) : dheOnly.slice(0, 3).map((o) => o.record), {
            rfcVerdict: missing.length > 0 ? 'fail' : 'pass',
            observed: {
              summary:
                missing.length > 0
                  ? `${missing.length} of ${dheOnly.length} psk_dhe_ke resumptions had no server key share`
                  : `all ${dheOnly.length} psk_dhe_ke resumptions had a server key share`,
            },
            measured: { resumptions: dheOnly.length, withoutKeyShare: missing.length },
            reason:
              missing.length > 0
                ? 'the server resumed without (EC)DHE although the client offered psk_dhe_ke only'
                : 'every psk_dhe_ke resumption used a fresh (EC)DHE exchange',
          }),
    );
  }
  const reused = [...ctx.serverShares.entries()].filter(([, conns]) => conns.length > 1);
  const total = [...ctx.serverShares.values()].reduce((n, c) => n + c.length, 0);
  out.push(
    total === 0
      ? inconclusive(P.freshShare, 'no server key share was seen')
      : draft(P.freshShare, [], {
          rfcVerdict: reused.length > 0 ? 'fail' : 'pass',
          observed: {
            summary:
              reused.length > 0
                ? `${reused.length} server key share(s) appeared on more than one connection`
                : `${total} server key shares, all different`,
          },
          measured: { keyShares: total, reused: reused.length, reusedOn: reused.slice(0, 5).map(([, c]) => c) },
          reason:
            reused.length > 0
              ? 'the server reuses its (EC)DHE share: connections are not independent, forward secrecy is weakened'
              : 'every connection got a fresh server key share',
        }),
  );
  return out;
}

/** What the audit-wide findings need to know about one connection that got a ServerHello. */
export interface ResumptionObservation {
  resumed: boolean;
  certificate: boolean;
  keyShare: boolean;
  /** The ClientHello offered psk_dhe_ke and not psk_ke. */
  offeredDheOnly: boolean;
  record: import('../context.js').ConnectionRecord;
}
