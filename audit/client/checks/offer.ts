/**
 * What the client offers on resumption (RFC 8446 §4.2.9, §4.2.10, §4.2.11,
 * §4.6.1, §C.4): psk_key_exchange_modes with psk_dhe_ke, pre_shared_key
 * last, a binder that verifies, an honest ticket age, a fresh key share,
 * early data only with a ticket that allows it, each ticket once, and a
 * ticket only under the server name it was issued for.
 *
 * These probes are judged over every ClientHello of the audit — whatever
 * check it came in — since they are about the client and not about one
 * answer of the server. Three checks make the offers happen: `resumption`
 * (a full handshake, two tickets, then a resumption), `single-use` (one
 * ticket, a resumption that brings no new one, then a third connection) and
 * `other-sni` (the later connections under a second server name).
 */
import { toHex } from '../../../crypto/bytes.js';
import { PskKeyExchangeMode } from '../../../wire/types.js';
import type { FindingDraft, MeasuredValue } from '../../findings.js';
import { ageError, type HelloView, type OfferedIdentity } from '../offers.js';
import {
  type ConnectionObservation,
  draft,
  inconclusive,
  offersDhe,
  type ProbeDef,
  records,
  resumeIfPossible,
  type Scenario,
  type ScenarioSettings,
  STANDARD_TICKETS,
} from './common.js';

const check = 'offer';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

export const OFFER_PROBES = {
  offered: def({
    id: 'offer.ticket-offered',
    title: 'A ticket is offered on a later connection',
    rfc: {
      section: '2.2',
      keyword: 'MAY',
      text: 'Once a handshake has completed, the server can send the client a PSK identity (a ticket) that the client MAY use in future handshakes.',
    },
    expected: { summary: 'a later ClientHello offers one of the tickets (else the other offer checks cannot judge)' },
    sends: 'a full handshake with two tickets (lifetime 7200 s), then resumes the ticket offered',
  }),
  modes: def({
    id: 'offer.psk-modes',
    title: 'psk_key_exchange_modes comes with every PSK offer',
    rfc: { section: '4.2.9', keyword: 'MUST', text: 'In order to use PSKs, clients MUST also send a "psk_key_exchange_modes" extension.' },
    refusal: 'PskWithoutModes',
    expected: { summary: 'every ClientHello with pre_shared_key carries psk_key_exchange_modes' },
    sends: 'every ClientHello of the audit that offers a PSK is looked at',
  }),
  dheOnly: def({
    id: 'offer.psk-dhe-ke',
    title: 'Resumption offered with psk_dhe_ke only',
    rfc: {
      section: '4.2.9',
      keyword: 'policy',
      text: 'psk_ke (PSK-only key establishment, no forward secrecy) and psk_dhe_ke (PSK with (EC)DHE) are both defined; a client may list either. tlschart offers psk_dhe_ke only, so a resumption always adds a fresh (EC)DHE exchange.',
    },
    expected: { summary: 'psk_key_exchange_modes = [psk_dhe_ke]: psk_ke never offered' },
    sends: 'every ClientHello of the audit that offers a PSK is looked at',
  }),
  last: def({
    id: 'offer.psk-last',
    title: 'pre_shared_key is the last extension',
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'The "pre_shared_key" extension MUST be the last extension in the ClientHello (this facilitates implementation).',
    },
    refusal: 'PskNotLast',
    expected: { summary: 'pre_shared_key last in every ClientHello that offers a PSK' },
    sends: 'every ClientHello of the audit that offers a PSK is looked at',
  }),
  binder: def({
    id: 'offer.binder',
    title: 'Every binder verifies',
    rfc: {
      section: '4.2.11.2',
      keyword: 'MUST',
      text: 'Each binder is an HMAC, keyed like Finished with the binder_key of its PSK, over the transcript hash of the ClientHello truncated before the binders list (after a HelloRetryRequest, over message_hash(ClientHello1), the HelloRetryRequest and the truncated second ClientHello); a server MUST abort if the selected one does not validate.',
    },
    refusal: 'IncorrectBinder',
    expected: { summary: 'the binder of every identity naming one of the tickets verifies, recomputed with its PSK' },
    sends: "every identity of the audit that names a ticket of the probing server: its binder recomputed with that ticket's PSK",
  }),
  age: def({
    id: 'offer.ticket-age',
    title: "The obfuscated ticket age is the ticket's age plus ticket_age_add",
    rfc: {
      section: '4.2.11.1',
      keyword: 'MUST',
      text: "The client's view of the age of a ticket is the time since the receipt of the NewSessionTicket; obfuscated_ticket_age is that age in milliseconds plus the ticket_age_add of the ticket, modulo 2^32. Clients MUST NOT attempt to use tickets whose age is greater than their ticket_lifetime.",
    },
    expected: {
      summary:
        'every (obfuscated_ticket_age − ticket_age_add) mod 2^32 is within the tolerance of the time since the probing server sent the ticket',
    },
    sends:
      'every identity of the audit that names a ticket of the probing server: its age compared with the time since the ticket was sent',
  }),
  keyShare: def({
    id: 'offer.key-share',
    title: 'A key share with every psk_dhe_ke offer',
    rfc: {
      section: '4.2.9',
      keyword: 'MUST',
      text: 'psk_dhe_ke: PSK with (EC)DHE key establishment. In this mode, the client and server MUST supply "key_share" values as described in Section 4.2.8.',
    },
    refusal: 'NoKeyShare',
    expected: { summary: 'every ClientHello that offers a PSK with psk_dhe_ke carries key_share (its client_shares may be empty, §4.2.8)' },
    sends: 'every ClientHello of the audit that offers a PSK with psk_dhe_ke is looked at',
  }),
  freshShare: def({
    id: 'offer.fresh-key-share',
    title: 'A fresh key share on every connection',
    rfc: {
      section: '4.3.8',
      keyword: 'MUST',
      document: 'RFC 9846',
      text: 'Clients and servers MUST NOT reuse a key share for multiple connections (RFC 8446 §4.2.8 states no rule; its revision does).',
    },
    expected: { summary: 'no client key share appears on two connections' },
    sends: 'the key shares of every ClientHello of the audit are compared',
  }),
  earlyData: def({
    id: 'offer.early-data',
    title: 'early_data only with a ticket that allows it',
    rfc: {
      section: '4.2.10',
      keyword: 'MUST',
      text: 'When a PSK is used and early data is allowed for that PSK (a ticket whose NewSessionTicket carried early_data, §4.6.1), the client can send application data in its first flight; the PSK used for it MUST be the first one listed, and a second ClientHello after a HelloRetryRequest carries no early_data.',
    },
    expected: { summary: 'early_data offered only with a first identity whose ticket allowed early data, never after a HelloRetryRequest' },
    sends: 'every ClientHello of the audit is looked at; tickets allow early data only in the ticket-handling.early-data check',
  }),
  singleUse: def({
    id: 'offer.single-use',
    title: 'A resumed ticket is not offered again',
    rfc: {
      section: 'C.4',
      keyword: 'SHOULD',
      text: 'Clients SHOULD NOT reuse a ticket for multiple connections: reuse lets passive observers correlate connections.',
    },
    expected: { summary: 'no ticket offered again once a connection resumed with it' },
    sends: 'one ticket; the resumption with it brings no new ticket; then whatever the client offers on a third connection',
  }),
  otherSni: def({
    id: 'offer.other-sni',
    title: 'A ticket offered only under the server name it came from',
    rfc: {
      section: '4.6.1',
      keyword: 'SHOULD',
      text: 'Clients MUST only resume if the new SNI value is valid for the server certificate presented in the original session, and SHOULD only resume if the SNI value matches the one used in the original session (the certificate of the probing server is valid for both names).',
    },
    expected: { summary: 'no ticket offered with a server_name other than the one of the connection that got it' },
    sends: "two tickets under {servername}; the command's later connections use {servername2}",
  }),
} satisfies Record<string, ProbeDef>;

/** Which scenario makes each audit-wide probe judgeable. */
export const OFFER_SCENARIOS: Record<string, string[]> = {
  'offer.ticket-offered': ['resumption'],
  'offer.psk-modes': ['resumption'],
  'offer.psk-dhe-ke': ['resumption'],
  'offer.psk-last': ['resumption'],
  'offer.binder': ['resumption'],
  'offer.ticket-age': ['resumption'],
  'offer.key-share': ['resumption'],
  'offer.fresh-key-share': ['resumption'],
  'offer.early-data': ['resumption'],
  'offer.single-use': ['single-use'],
  'offer.other-sni': ['other-sni'],
};

export const resumptionScenario: Scenario = {
  id: 'resumption',
  check,
  title: 'Resumption',
  does: 'a full handshake with two tickets (lifetime 7200 s), then resumes the ticket the client offers',
  connections: 2,
  instructions: 'connect twice: a full handshake, then one that offers a ticket of the first',
  probes: [],
  reply: (v) => resumeIfPossible(v),
  tickets: () => STANDARD_TICKETS,
  judge: () => [],
};

export const singleUseScenario: Scenario = {
  id: 'single-use',
  check,
  title: 'Single use',
  does: 'one ticket after a full handshake; a resumption with it brings no new ticket; then a third connection',
  connections: 3,
  instructions: 'connect three times: a full handshake, a resumption, and one more',
  probes: [],
  reply: (v) => resumeIfPossible(v),
  tickets: ({ resumed }) => (resumed ? [] : [{ lifetimeS: 7200 }]),
  judge: () => [],
};

export const otherSniScenario: Scenario = {
  id: 'other-sni',
  check,
  title: 'Another server name',
  does: 'two tickets under {servername}; a ticket offered under another name gets a full handshake',
  connections: 2,
  instructions: 'connect with SNI {servername}, then with SNI {servername2}',
  otherName: true,
  probes: [],
  reply: (v) => {
    const r = resumeIfPossible(v);
    return r.kind === 'resume' && r.identity.ticket?.serverName !== v.sni ? { kind: 'full' } : r;
  },
  tickets: () => STANDARD_TICKETS,
  judge: () => [],
};

/** A connection of any check, with the check it belongs to. */
export interface Seen {
  scenario: string;
  c: ConnectionObservation;
}

interface HelloSeen extends Seen {
  h: HelloView;
}

const hexShare = (s: { group: number; keyExchange: Uint8Array }) => `${s.group}:${toHex(s.keyExchange)}`;

const ms = (n: number) => Math.round(n);

/** The audit-wide findings about the client's offers, from every connection of the audit. */
export function judgeOffers(all: readonly Seen[], wanted: ReadonlySet<string>, settings: ScenarioSettings): FindingDraft[] {
  const P = OFFER_PROBES;
  const out: FindingDraft[] = [];
  const hellos: HelloSeen[] = all.flatMap((s) => s.c.hellos.map((h) => ({ ...s, h })));
  const psk = hellos.filter((x) => x.h.offersPsk);
  const ours = psk.filter((x) => x.h.identities.some((i) => i.ticket));
  const idsOfOurs: Array<{ x: HelloSeen; id: OfferedIdentity }> = ours.flatMap((x) =>
    x.h.identities.filter((i) => i.ticket).map((id) => ({ x, id })),
  );
  const recs = (xs: readonly Seen[]) => records([...new Set(xs.map((x) => x.c))]);
  const none = all.length === 0 ? 'the client made no connection' : 'the client never offered a PSK in the whole audit';
  const emit = (d: FindingDraft) => {
    if (wanted.has(d.id)) out.push(d);
  };

  // offer.ticket-offered
  if (ours.length > 0) {
    emit(
      draft(P.offered, recs(ours), {
        rfcVerdict: 'pass',
        observed: { summary: `${ours.length} ClientHello(s) offered a ticket of the probing server` },
        measured: { offers: ours.length },
        reason: 'the client resumes',
      }),
    );
  } else {
    emit(
      draft(
        P.offered,
        [],
        {
          rfcVerdict: 'info',
          observed: { summary: none },
          measured: { connections: all.length, pskOffers: psk.length },
          reason: `${none}: it does not resume, or the command connects only once; the other offer checks cannot judge`,
        },
        recs(all),
      ),
    );
  }

  // offer.psk-modes
  if (psk.length === 0) emit(inconclusive(P.modes, none, recs(all)));
  else {
    const bad = psk.filter((x) => x.h.modes === undefined);
    emit(
      draft(P.modes, recs(bad.length > 0 ? bad : psk), {
        rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            bad.length > 0
              ? `${bad.length} of ${psk.length} PSK offer(s) without psk_key_exchange_modes`
              : `all ${psk.length} PSK offer(s) carry psk_key_exchange_modes`,
        },
        measured: { pskOffers: psk.length, withoutModes: bad.length },
        reason:
          bad.length > 0 ? 'pre_shared_key offered without psk_key_exchange_modes' : 'psk_key_exchange_modes came with every PSK offer',
      }),
    );
  }

  // offer.psk-dhe-ke
  const withModes = psk.filter((x) => x.h.modes !== undefined);
  if (withModes.length === 0)
    emit(inconclusive(P.dheOnly, psk.length === 0 ? none : 'no PSK offer carried psk_key_exchange_modes', recs(all)));
  else {
    const modeSets = [...new Set(withModes.map((x) => JSON.stringify(x.h.modes)))];
    const pskKe = withModes.filter((x) => x.h.modes?.includes(PskKeyExchangeMode.psk_ke));
    const noDhe = withModes.filter((x) => !offersDhe(x.h));
    const violated = pskKe.length > 0 || noDhe.length > 0;
    const names = (m: number[] | undefined) => (m ?? []).map((v) => (v === 0 ? 'psk_ke' : v === 1 ? 'psk_dhe_ke' : String(v))).join(', ');
    emit(
      draft(P.dheOnly, recs(violated ? [...pskKe, ...noDhe] : withModes), {
        rfcVerdict: violated ? 'info' : 'pass',
        observed: { summary: `psk_key_exchange_modes = ${[...new Set(withModes.map((x) => `[${names(x.h.modes)}]`))].join(' / ')}` },
        measured: {
          modes: modeSets.map((m) => JSON.parse(m) as MeasuredValue),
          offersPskKe: pskKe.length > 0,
          offersPskDheKe: noDhe.length < withModes.length,
        },
        reason: violated
          ? noDhe.length > 0
            ? 'the client offers resumption without (EC)DHE only (psk_ke), which RFC 8446 allows'
            : 'the client also offers psk_ke, which RFC 8446 allows: a server may then resume without (EC)DHE'
          : 'only psk_dhe_ke is offered',
        policy: { rule: 'tlschart offers psk_dhe_ke only: no resumption without a fresh (EC)DHE exchange', violated },
      }),
    );
  }

  // offer.psk-last
  if (psk.length === 0) emit(inconclusive(P.last, none, recs(all)));
  else {
    const bad = psk.filter((x) => !x.h.parsed.pskLast);
    emit(
      draft(P.last, recs(bad.length > 0 ? bad : psk), {
        rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            bad.length > 0
              ? `pre_shared_key before the last extension in ${bad.length} ClientHello(s)`
              : `pre_shared_key last in all ${psk.length} PSK offer(s)`,
        },
        measured: { pskOffers: psk.length, notLast: bad.length },
        reason: bad.length > 0 ? 'pre_shared_key is not the last extension' : 'pre_shared_key is always last',
      }),
    );
  }

  // offer.binder
  if (idsOfOurs.length === 0)
    emit(inconclusive(P.binder, psk.length === 0 ? none : 'no PSK offer named a ticket of the probing server', recs(all)));
  else {
    const bad = idsOfOurs.filter(({ id }) => id.binderValid !== true);
    const counts = ours.filter((x) => x.h.binderCount !== x.h.identities.length);
    const failing = [...bad.map((b) => b.x), ...counts];
    emit(
      draft(P.binder, recs(failing.length > 0 ? failing : ours), {
        rfcVerdict: failing.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            failing.length > 0
              ? `${bad.length} of ${idsOfOurs.length} binder(s) do not verify${counts.length > 0 ? `; ${counts.length} offer(s) with a binder count other than the identity count` : ''}`
              : `all ${idsOfOurs.length} binder(s) verify${ours.some((x) => x.h.afterRetry) ? ' (including after a HelloRetryRequest)' : ''}`,
        },
        measured: { binders: idsOfOurs.length, invalid: bad.length, afterRetry: ours.filter((x) => x.h.afterRetry).length },
        reason:
          failing.length > 0
            ? 'a binder does not match the PSK of the ticket it names over the truncated ClientHello'
            : "every binder recomputed with its ticket's PSK matches",
      }),
    );
  }

  // offer.ticket-age
  if (idsOfOurs.length === 0)
    emit(inconclusive(P.age, psk.length === 0 ? none : 'no PSK offer named a ticket of the probing server', recs(all)));
  else {
    const errors = idsOfOurs.map(({ x, id }) => ({ x, e: ageError(id) ?? 0, id }));
    const bad = errors.filter(({ e }) => Math.abs(e) > settings.ageToleranceMs);
    const worst = errors.reduce((m, { e }) => (Math.abs(e) > Math.abs(m) ? e : m), 0);
    emit(
      draft(P.age, recs(bad.length > 0 ? bad.map((b) => b.x) : ours), {
        rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            bad.length > 0
              ? `${bad.length} of ${errors.length} age(s) off by more than ${settings.ageToleranceMs} ms (worst ${ms(worst)} ms)`
              : `every age within ${settings.ageToleranceMs} ms of the time since the ticket was sent (worst ${ms(worst)} ms)`,
        },
        measured: {
          toleranceMs: settings.ageToleranceMs,
          worstErrorMs: ms(worst),
          ages: errors
            .slice(0, 8)
            .map(({ id, e }) => ({ claimedMs: id.claimedAgeMs ?? null, sinceSentMs: id.elapsedMs ?? null, errorMs: ms(e) })),
        },
        reason:
          bad.length > 0
            ? "the obfuscated ticket age does not decode, with the ticket's ticket_age_add, to the time since the ticket was sent"
            : 'the ticket ages are honest',
      }),
    );
  }

  // offer.key-share
  const dhe = psk.filter((x) => offersDhe(x.h));
  if (dhe.length === 0) emit(inconclusive(P.keyShare, psk.length === 0 ? none : 'no PSK offer listed psk_dhe_ke', recs(all)));
  else {
    // §4.2.8: an empty client_shares is legal (it asks the server for a HelloRetryRequest); what
    // psk_dhe_ke cannot do without is the key_share extension itself, as the server chart refuses (NoKeyShare).
    const bad = dhe.filter((x) => x.h.keyShares === undefined);
    const empty = dhe.filter((x) => x.h.keyShares?.length === 0).length;
    const asking = empty > 0 ? ` (${empty} with an empty client_shares, asking for a HelloRetryRequest, §4.2.8)` : '';
    emit(
      draft(P.keyShare, recs(bad.length > 0 ? bad : dhe), {
        rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            bad.length > 0
              ? `${bad.length} psk_dhe_ke offer(s) without a key_share extension`
              : `all ${dhe.length} psk_dhe_ke offer(s) carry a key_share extension${asking}`,
        },
        measured: { dheOffers: dhe.length, withoutShare: bad.length, emptyShares: empty },
        reason: bad.length > 0 ? 'psk_dhe_ke offered with no key_share to do (EC)DHE with' : 'every psk_dhe_ke offer carries key_share',
      }),
    );
  }

  // offer.fresh-key-share
  const byShare = new Map<string, Set<ConnectionObservation>>();
  for (const x of hellos) for (const s of x.h.keyShares ?? []) byShare.set(hexShare(s), (byShare.get(hexShare(s)) ?? new Set()).add(x.c));
  const shares = [...byShare.values()];
  if (shares.length === 0) emit(inconclusive(P.freshShare, all.length === 0 ? none : 'no ClientHello carried a key share', recs(all)));
  else {
    const reused = shares.filter((cs) => cs.size > 1);
    emit(
      draft(P.freshShare, records(reused.length > 0 ? [...new Set(reused.flatMap((cs) => [...cs]))] : []), {
        rfcVerdict: reused.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            reused.length > 0
              ? `${reused.length} key share(s) sent on more than one connection`
              : `${shares.length} key share(s), each on one connection`,
        },
        measured: { shares: shares.length, reused: reused.length },
        reason:
          reused.length > 0 ? 'the client reuses an ephemeral key share across connections' : 'every connection has its own key shares',
      }),
    );
  }

  // offer.early-data
  if (ours.length === 0)
    emit(inconclusive(P.earlyData, psk.length === 0 ? none : 'no PSK offer named a ticket of the probing server', recs(all)));
  else {
    const ed = hellos.filter((x) => x.h.earlyData);
    const bad = ed.filter((x) => x.h.afterRetry || x.h.identities[0]?.ticket?.maxEarlyDataSize === undefined);
    emit(
      draft(P.earlyData, recs(bad.length > 0 ? bad : ed), {
        rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            bad.length > 0
              ? `early_data offered ${bad.length} time(s) without a first ticket that allows it${bad.some((x) => x.h.afterRetry) ? ' (or after a HelloRetryRequest)' : ''}`
              : ed.length > 0
                ? `early_data offered ${ed.length} time(s), each with a first ticket that allows it`
                : 'early_data never offered',
        },
        measured: { earlyDataOffers: ed.length, withoutPermission: bad.length },
        reason: bad.length > 0 ? 'early data offered with a PSK that does not allow it' : 'early data only where a ticket allows it',
      }),
    );
  }

  // offer.single-use
  {
    const resumedAt = new Map<string, number>();
    for (const s of all) if (s.c.resumed && s.c.clientFinished) resumedAt.set(`${s.scenario}/${s.c.label}`, s.c.startedAt);
    // Judgeable: a connection after a resumption of the same check (with --exec, one run of the client).
    const after = all.filter((s) =>
      all.some((r) => r.scenario === s.scenario && r.c.resumed && r.c.clientFinished === true && r.c.startedAt < s.c.startedAt),
    );
    const reuse = idsOfOurs.filter(({ x, id }) => {
      const by = id.ticket?.resumedBy;
      const at = by === undefined ? undefined : resumedAt.get(by);
      return at !== undefined && by !== `${x.scenario}/${x.c.label}` && x.c.startedAt > at;
    });
    if (reuse.length > 0) {
      emit(
        draft(P.singleUse, recs(reuse.map((r) => r.x)), {
          rfcVerdict: 'warn',
          observed: { summary: `${reuse.length} offer(s) of a ticket a connection had already resumed with` },
          measured: { reoffered: reuse.length, tickets: [...new Set(reuse.map((r) => r.id.ticket?.id.slice(0, 16) ?? ''))] },
          reason: 'the client offers a ticket again after resuming with it',
          policy: { rule: 'tlschart offers each ticket once (its cache gives a session out once)', violated: true },
        }),
      );
    } else if (after.length === 0) {
      emit(
        inconclusive(
          P.singleUse,
          'no connection came after a resumption: the check needs a full handshake, a resumption, then a third connection',
          recs(all),
        ),
      );
    } else {
      emit(
        draft(P.singleUse, recs(after), {
          rfcVerdict: 'pass',
          observed: { summary: `${after.length} connection(s) after a resumption offered no ticket already resumed with` },
          measured: { connectionsAfterResumption: after.length, reoffered: 0 },
          reason: 'no ticket was offered again',
          policy: { rule: 'tlschart offers each ticket once (its cache gives a session out once)', violated: false },
        }),
      );
    }
  }

  // offer.other-sni
  {
    const crossing = idsOfOurs.filter(({ x, id }) => id.ticket !== undefined && id.ticket.serverName !== x.h.sni);
    const chances = hellos.filter((x) =>
      all.some((s) => s.scenario === x.scenario && s.c.startedAt < x.c.startedAt && s.c.tickets.some((t) => t.serverName !== x.h.sni)),
    );
    if (crossing.length > 0) {
      emit(
        draft(P.otherSni, recs(crossing.map((r) => r.x)), {
          rfcVerdict: 'warn',
          observed: { summary: `${crossing.length} ticket(s) offered under another server name than the one they came from` },
          measured: { offers: crossing.map(({ x, id }) => ({ ticketFrom: id.ticket?.serverName ?? null, offeredUnder: x.h.sni ?? null })) },
          reason: "the client offers a ticket under another SNI than the original connection's",
        }),
      );
    } else if (chances.length === 0) {
      emit(
        inconclusive(
          P.otherSni,
          "no connection used another server name after tickets were issued: the command's later connections should use {servername2}",
          recs(all),
        ),
      );
    } else {
      emit(
        draft(P.otherSni, recs(chances), {
          rfcVerdict: 'pass',
          observed: { summary: `${chances.length} connection(s) under another server name offered none of its tickets` },
          measured: { connectionsUnderAnotherName: chances.length },
          reason: 'tickets stay with the server name they came from',
        }),
      );
    }
  }
  return out;
}
