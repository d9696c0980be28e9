/**
 * Ticket handling (RFC 8446 §4.6.1, §4.2.10, §6): after a full handshake
 * the probing server sends tickets with one unusual property each — a
 * lifetime of zero, a lifetime over seven days, an extension no registry
 * assigns, an empty ticket field, a dozen tickets at once, permission for
 * early data — and watches what the client does with them, then and on its
 * next connection.
 */
import type { FindingDraft, MeasuredValue, Verdict } from '../../findings.js';
import type { Judgement } from '../../server/checks/common.js';
import type { TicketSpec } from '../connection.js';
import type { IssuedTicket } from '../offers.js';
import {
  type ConnectionObservation,
  draft,
  inconclusive,
  noOffer,
  type ProbeDef,
  reaction,
  records,
  resumeIfPossible,
  type Scenario,
  type ScenarioState,
} from './common.js';

const check = 'ticket-handling';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });
const SEVEN_DAYS = 604800;
export const MANY_TICKETS = 12;
export const EARLY_DATA_LIMIT = 16384;

export const TICKET_PROBES = {
  zero: def({
    id: 'ticket-handling.lifetime-zero',
    title: 'A ticket with lifetime 0 is not used',
    rfc: {
      section: '4.6.1',
      keyword: 'MUST',
      text: 'A ticket_lifetime of zero indicates that the ticket should be discarded immediately; clients MUST NOT attempt to use tickets whose age is greater than their ticket_lifetime (§4.2.11.1).',
    },
    expected: { summary: 'the ticket with lifetime 0 is never offered (the other ticket of the same connection may be)' },
    sends: 'after a full handshake, a ticket with lifetime 7200 s, then (newest) one with lifetime 0',
  }),
  overWeek: def({
    id: 'ticket-handling.lifetime-over-7-days',
    title: 'A ticket lifetime over seven days',
    rfc: {
      section: '4.6.1',
      keyword: 'MUST',
      text: 'Servers MUST NOT use any value greater than 604800 seconds (7 days); clients MUST NOT cache tickets for longer than 7 days, regardless of the ticket_lifetime. Whether a client caps a kept ticket at 7 days cannot be seen in one run.',
    },
    expected: { summary: 'the ticket is dropped or refused (tlschart drops it); a client that keeps it must not keep it past 7 days' },
    sends: `after a full handshake, one ticket with lifetime ${SEVEN_DAYS + 1} s (one second over 7 days)`,
  }),
  unknownExtension: def({
    id: 'ticket-handling.unknown-extension',
    title: 'An unknown ticket extension is ignored',
    rfc: { section: '4.6.1', keyword: 'MUST', text: 'NewSessionTicket extensions: clients MUST ignore unrecognized extensions.' },
    expected: { summary: 'the handshake goes on and the ticket is offered on the next connection, as any other' },
    sends: 'after a full handshake, one ticket carrying an extension of unassigned code 0x7777',
  }),
  empty: def({
    id: 'ticket-handling.empty-ticket',
    title: 'An empty ticket field is refused',
    rfc: {
      section: '6',
      keyword: 'MUST',
      text: 'ticket is opaque ticket<1..2^16-1> (§4.6.1); peers which receive a message that cannot be parsed according to the syntax (e.g. an out-of-range length) MUST terminate the connection with a "decode_error" alert.',
    },
    refusal: 'DecodeError',
    expected: {
      summary: 'abort with decode_error on the NewSessionTicket',
      alert: 'decode_error',
      statePath: [
        'expectServerHello',
        'expectEncryptedExtensions',
        'expectCertificateOrCertificateRequest',
        'expectCertificateVerify',
        'expectServerFinished',
        'connected',
        'failed',
      ],
    },
    sends: 'after a full handshake, one NewSessionTicket whose ticket field has length 0',
  }),
  many: def({
    id: 'ticket-handling.many',
    title: 'Many tickets on one connection',
    rfc: {
      section: '4.6.1',
      keyword: 'MAY',
      text: 'Servers MAY send multiple tickets on a single connection, either immediately after each other or after specific events.',
    },
    expected: { summary: `all ${MANY_TICKETS} tickets accepted without an alert; one of them offered on the next connection` },
    sends: `after a full handshake, ${MANY_TICKETS} tickets in a row`,
  }),
  earlyData: def({
    id: 'ticket-handling.early-data',
    title: 'A ticket that allows early data',
    rfc: {
      section: '4.2.10',
      keyword: 'policy',
      text: `A ticket with early_data (max_early_data_size, §4.6.1) lets the client send 0-RTT data; then its PSK MUST be the first identity and no more than max_early_data_size bytes may be sent. tlschart never sends early data (0-RTT can be replayed, §8).`,
    },
    expected: {
      summary: 'no 0-RTT data (tlschart); a client that sends some does so with that ticket first and within max_early_data_size',
    },
    sends: `after a full handshake, one ticket with early_data, max_early_data_size ${EARLY_DATA_LIMIT}; early data, if sent, is refused (no early_data in EncryptedExtensions) and measured`,
  }),
} satisfies Record<string, ProbeDef>;

/** The connection that received the scenario's special tickets, and the later ones. */
function split(s: ScenarioState): { first: ConnectionObservation | undefined; later: ConnectionObservation[] } {
  const first = s.connections.find((c) => c.tickets.length > 0);
  return { first, later: first ? s.connections.filter((c) => c.startedAt > first.startedAt) : [] };
}

/**
 * The client refused the connection that brought the tickets under test
 * (`when`: "on the ticket", …): that connection decides, with its alert.
 */
function refused(
  P: ProbeDef,
  s: ScenarioState,
  first: ConnectionObservation,
  rfcVerdict: Verdict,
  when: string,
  reason: string,
): FindingDraft {
  return draft(
    P,
    [first.record],
    {
      rfcVerdict,
      observed: { summary: `the client ${reaction(first)} ${when}`, alert: first.alert ?? null },
      measured: { alert: first.alert ?? null },
      reason,
    },
    records(s.connections),
  );
}

/** Offers, in later connections, of a ticket matching `which`. */
function offersOf(later: readonly ConnectionObservation[], which: (t: IssuedTicket) => boolean): ConnectionObservation[] {
  return later.filter((c) => c.hellos.some((h) => h.identities.some((i) => i.ticket && which(i.ticket))));
}

const offersAny = (later: readonly ConnectionObservation[]) =>
  later.filter((c) => c.hellos.some((h) => h.identities.some((i) => i.ticket)));

/** The client sent a fatal alert on the connection that got the tickets, after they were sent. */
const refusedTickets = (c: ConnectionObservation | undefined): boolean =>
  c !== undefined && c.clientFinished === true && c.alert !== undefined;

function notUsed(
  s: ScenarioState,
  def: ProbeDef,
  _first: ConnectionObservation,
  later: ConnectionObservation[],
  what: string,
): FindingDraft {
  if (later.length === 0) return inconclusive(def, `the client made no connection after the one that got ${what}`, records(s.connections));
  if (!s.clientResumesElsewhere && offersAny(later).length === 0)
    return inconclusive(
      def,
      `the client offered no ticket afterwards, and none in the other checks either: it does not resume`,
      records(s.connections),
    );
  return draft(
    def,
    records(later),
    {
      rfcVerdict: 'warn',
      observed: { summary: `${what} was not offered on the next connection` },
      measured: { laterConnections: later.length },
      reason: `the client discarded ${what} although it resumes otherwise`,
    },
    records(s.connections),
  );
}

const ticketsScenario = (o: {
  id: string;
  title: string;
  does: string;
  probe: ProbeDef;
  tickets: TicketSpec[];
  judge: (s: ScenarioState) => FindingDraft;
  holdResponse?: boolean;
}): Scenario => ({
  ...(o.holdResponse ? { holdResponse: true } : {}),
  id: o.id,
  check,
  title: o.title,
  does: o.does,
  connections: 2,
  instructions: 'connect twice: a full handshake that receives the tickets, then another connection',
  probes: [o.probe],
  reply: (v) => resumeIfPossible(v),
  // The first completed handshake of the check gets the tickets under test; later ones none, so the next offer is about them.
  tickets: (_, s) => (s.issued.length > 0 ? [] : o.tickets),
  judge: (s) => [o.judge(s)],
});

export const lifetimeZeroScenario = ticketsScenario({
  id: 'lifetime-zero',
  title: 'Ticket lifetime 0',
  does: TICKET_PROBES.zero.sends,
  probe: TICKET_PROBES.zero,
  tickets: [{ lifetimeS: 7200 }, { lifetimeS: 0 }],
  judge(s) {
    const P = TICKET_PROBES.zero;
    const { first, later } = split(s);
    if (!first) return inconclusive(P, noOffer(s), records(s.connections));
    if (refusedTickets(first)) {
      return refused(
        P,
        s,
        first,
        'warn',
        'after the tickets',
        'a lifetime of 0 is a valid value; the client refused the connection instead of discarding the ticket',
      );
    }
    const zero = offersOf(later, (t) => t.lifetimeS === 0);
    if (zero.length > 0) {
      const id = zero.flatMap((c) => c.hellos.flatMap((h) => h.identities)).find((i) => i.ticket?.lifetimeS === 0);
      return draft(
        P,
        records(zero),
        {
          rfcVerdict: 'fail',
          observed: { summary: `the ticket with lifetime 0 was offered, ${id?.elapsedMs ?? '?'} ms after it was sent` },
          measured: { offered: true, sinceSentMs: id?.elapsedMs ?? null, claimedAgeMs: id?.claimedAgeMs ?? null },
          reason: 'the client offered a ticket whose lifetime of 0 s had run out (its age, in milliseconds, is over its lifetime)',
        },
        records(s.connections),
      );
    }
    const other = offersOf(later, (t) => t.lifetimeS > 0 && t.scenario === s.id);
    if (other.length > 0) {
      return draft(
        P,
        records(other),
        {
          rfcVerdict: 'pass',
          observed: { summary: 'the other ticket was offered, never the one with lifetime 0' },
          measured: { offered: false },
          reason: 'the ticket with lifetime 0 was discarded',
        },
        records(s.connections),
      );
    }
    return inconclusive(
      P,
      later.length === 0
        ? 'the client made no connection after the one that got the tickets'
        : 'the client offered neither ticket on its later connections: whether it discards a lifetime of 0 cannot be told',
      records(s.connections),
    );
  },
});

export const lifetimeOverWeekScenario = ticketsScenario({
  id: 'lifetime-over-7-days',
  title: 'Ticket lifetime over 7 days',
  does: TICKET_PROBES.overWeek.sends,
  probe: TICKET_PROBES.overWeek,
  tickets: [{ lifetimeS: SEVEN_DAYS + 1 }],
  judge(s) {
    const P = TICKET_PROBES.overWeek;
    const policy = (violated: boolean) => ({ rule: 'tlschart drops a ticket whose lifetime is over 7 days', violated });
    const { first, later } = split(s);
    if (!first) return inconclusive(P, noOffer(s), records(s.connections));
    if (refusedTickets(first)) {
      const ok = first.alert === 'illegal_parameter' || first.alert === 'decode_error';
      return draft(
        P,
        [first.record],
        {
          rfcVerdict: ok ? 'pass' : 'warn',
          observed: { summary: `the client ${reaction(first)} on the ticket`, alert: first.alert ?? null },
          measured: { reaction: reaction(first) },
          reason: ok
            ? 'the client refused a ticket the server was not allowed to send'
            : `the client refused the ticket with ${first.alert}, where illegal_parameter names a forbidden value`,
          policy: policy(false),
        },
        records(s.connections),
      );
    }
    const offered = offersOf(later, (t) => t.lifetimeS > SEVEN_DAYS);
    if (offered.length > 0) {
      return draft(
        P,
        records(offered),
        {
          rfcVerdict: 'info',
          observed: { summary: `the ticket with lifetime ${SEVEN_DAYS + 1} s was kept and offered` },
          measured: { offered: true },
          reason: 'RFC 8446 lets a client keep the ticket for up to 7 days; whether this one caps it there cannot be seen in one run',
          policy: policy(true),
        },
        records(s.connections),
      );
    }
    if (later.length > 0 && (s.clientResumesElsewhere || offersAny(later).length > 0)) {
      return draft(
        P,
        records(later),
        {
          rfcVerdict: 'pass',
          observed: { summary: 'the ticket was not offered on the next connection' },
          measured: { offered: false },
          reason: 'the client dropped a ticket with a lifetime over 7 days',
          policy: policy(false),
        },
        records(s.connections),
      );
    }
    return inconclusive(
      P,
      later.length === 0
        ? 'the client made no connection after the one that got the ticket'
        : 'the client offers no tickets at all, so dropping this one tells nothing',
      records(s.connections),
    );
  },
});

export const unknownExtensionScenario = ticketsScenario({
  id: 'unknown-extension',
  title: 'Unknown ticket extension',
  does: TICKET_PROBES.unknownExtension.sends,
  probe: TICKET_PROBES.unknownExtension,
  tickets: [{ lifetimeS: 7200, unknownExtension: true }],
  judge(s) {
    const P = TICKET_PROBES.unknownExtension;
    const { first, later } = split(s);
    if (!first) return inconclusive(P, noOffer(s), records(s.connections));
    if (refusedTickets(first)) {
      return refused(P, s, first, 'fail', 'on the ticket', 'an unrecognized ticket extension must be ignored, not refused');
    }
    const offered = offersOf(later, (t) => t.unknownExtension);
    if (offered.length > 0)
      return draft(
        P,
        records(offered),
        {
          rfcVerdict: 'pass',
          observed: { summary: 'the ticket was offered on the next connection' },
          measured: { offered: true },
          reason: 'the unknown extension was ignored',
        },
        records(s.connections),
      );
    return notUsed(s, P, first, later, 'the ticket with the unknown extension');
  },
});

export const emptyTicketScenario = ticketsScenario({
  id: 'empty-ticket',
  title: 'Empty ticket',
  does: TICKET_PROBES.empty.sends,
  probe: TICKET_PROBES.empty,
  tickets: [{ lifetimeS: 7200, empty: true }],
  holdResponse: true,
  judge(s) {
    const P = TICKET_PROBES.empty;
    const { first } = split(s);
    if (!first || first.tickets.length === 0) return inconclusive(P, noOffer(s), records(s.connections));
    const measured: Record<string, MeasuredValue> = { reaction: reaction(first), alert: first.alert ?? null };
    if (first.alert !== undefined) {
      const ok = first.alert === 'decode_error';
      return draft(
        P,
        [first.record],
        {
          rfcVerdict: ok ? 'pass' : 'warn',
          observed: { summary: `the client aborted with ${first.alert}`, alert: first.alert },
          measured,
          reason: ok
            ? 'the client refused the malformed ticket with decode_error, as required'
            : `the client refused the malformed ticket, but with ${first.alert} instead of decode_error`,
        },
        records(s.connections),
      );
    }
    const j: Judgement = {
      rfcVerdict: 'fail',
      observed: { summary: 'the client went on after a NewSessionTicket with an empty ticket field', alert: null },
      measured,
      reason:
        'a NewSessionTicket whose ticket field is empty does not parse (ticket<1..2^16-1>); the client did not abort with decode_error',
    };
    return draft(P, [first.record], j, records(s.connections));
  },
});

export const manyTicketsScenario = ticketsScenario({
  id: 'many-tickets',
  title: 'Many tickets',
  does: TICKET_PROBES.many.sends,
  probe: TICKET_PROBES.many,
  tickets: Array.from({ length: MANY_TICKETS }, () => ({ lifetimeS: 7200 })),
  judge(s) {
    const P = TICKET_PROBES.many;
    const { first, later } = split(s);
    if (!first) return inconclusive(P, noOffer(s), records(s.connections));
    if (refusedTickets(first)) {
      return refused(
        P,
        s,
        first,
        'fail',
        `during the ${MANY_TICKETS} tickets`,
        'a server may send several tickets; the client refused them',
      );
    }
    const batch = first.tickets.map((t) => t.id);
    const offered = later.flatMap((c) =>
      c.hellos.flatMap((h) =>
        h.identities.filter((i) => i.ticket && batch.includes(i.ticket.id)).map((i) => batch.indexOf(i.ticket?.id ?? '')),
      ),
    );
    if (offered.length > 0) {
      return draft(
        P,
        records(offersOf(later, (t) => batch.includes(t.id))),
        {
          rfcVerdict: 'pass',
          observed: {
            summary: `the ${MANY_TICKETS} tickets were accepted; ticket ${offered.map((i) => i + 1).join(', ')} of ${MANY_TICKETS} offered next`,
          },
          measured: { tickets: MANY_TICKETS, offeredIndex: offered.map((i) => i + 1) },
          reason: 'the client took every ticket and resumed with one of them',
        },
        records(s.connections),
      );
    }
    return notUsed(s, P, first, later, `any of the ${MANY_TICKETS} tickets`);
  },
});

export const earlyDataTicketScenario = ticketsScenario({
  id: 'early-data-ticket',
  title: 'Ticket that allows early data',
  does: TICKET_PROBES.earlyData.sends,
  probe: TICKET_PROBES.earlyData,
  tickets: [{ lifetimeS: 7200, maxEarlyDataSize: EARLY_DATA_LIMIT }],
  judge(s) {
    const P = TICKET_PROBES.earlyData;
    const policy = (violated: boolean) => ({ rule: 'tlschart never sends early data (0-RTT can be replayed)', violated });
    const { first, later } = split(s);
    if (!first) return inconclusive(P, noOffer(s), records(s.connections));
    const offering = offersOf(later, (t) => t.maxEarlyDataSize !== undefined);
    if (offering.length === 0)
      return inconclusive(
        P,
        later.length === 0
          ? 'the client made no connection after the one that got the ticket'
          : 'the client did not offer the ticket that allows early data',
        records(s.connections),
      );
    const withEd = offering.filter((c) => c.hellos[0]?.earlyData);
    if (withEd.length === 0) {
      return draft(
        P,
        records(offering),
        {
          rfcVerdict: 'pass',
          observed: { summary: 'the ticket was offered without early data' },
          measured: { earlyData: false },
          reason: 'the client sends no 0-RTT data',
          policy: policy(false),
        },
        records(s.connections),
      );
    }
    const c = withEd[0] as ConnectionObservation;
    const firstId = c.hellos[0]?.identities[0]?.ticket;
    const measured: Record<string, MeasuredValue> = {
      earlyData: true,
      earlyRecords: c.earlyData.records,
      earlyBytes: c.earlyData.bytes,
      maxEarlyDataSize: EARLY_DATA_LIMIT,
      firstIdentityAllowsEarlyData: firstId?.maxEarlyDataSize !== undefined,
    };
    if (firstId?.maxEarlyDataSize === undefined || c.earlyData.bytes > EARLY_DATA_LIMIT) {
      return draft(
        P,
        [c.record],
        {
          rfcVerdict: 'fail',
          observed: {
            summary:
              firstId?.maxEarlyDataSize === undefined
                ? 'early data offered with another PSK first'
                : `${c.earlyData.bytes} bytes of 0-RTT data, over max_early_data_size ${EARLY_DATA_LIMIT}`,
          },
          measured,
          reason:
            firstId?.maxEarlyDataSize === undefined
              ? 'the PSK of early data must be the first identity'
              : 'more 0-RTT data than the ticket allows',
          policy: policy(true),
        },
        records(s.connections),
      );
    }
    return draft(
      P,
      [c.record],
      {
        rfcVerdict: 'info',
        observed: {
          summary: `0-RTT: early_data offered, ${c.earlyData.records} record(s), ${c.earlyData.bytes} byte(s) opened under the early traffic keys`,
        },
        measured,
        reason: 'RFC 8446 allows 0-RTT with this ticket; tlschart never sends any',
        policy: policy(true),
      },
      records(s.connections),
    );
  },
});
