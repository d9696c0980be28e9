/**
 * Ticket profile: what the server's NewSessionTickets look like (RFC 8446
 * §4.6.1) — how many per connection (when the client waits, and when it
 * closes straight after the handshake), how soon, their lifetime, fresh
 * ticket_age_add and unique nonces, extensions (early_data), length and
 * entropy, and whether they look stateless (self-encrypted state) or
 * stateful (a lookup key).
 */
import type { FindingDraft, MeasuredValue } from '../../findings.js';
import type { ProbeTicket } from '../../probe/client.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { Scope } from '../context.js';
import { type CheckFamily, draft, hex, inconclusive, NO_TICKETS, type ProbeDef, sendHello } from './common.js';

const check = 'tickets';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

export const TICKET_PROBES = {
  issued: def({
    id: 'tickets.issued',
    title: 'NewSessionTickets after a full handshake',
    rfc: {
      section: 'C.4',
      keyword: 'SHOULD',
      text: 'Servers that issue tickets SHOULD offer at least as many tickets as the number of connections that a client might use; servers SHOULD issue new tickets with every connection.',
    },
    expected: {
      summary:
        'at least one ticket to a client that waits for them; how many reach a client that closes right after its Finished is measured, not judged (the RFC sets no time for them)',
    },
    sends: 'a full handshake that waits for tickets, and one that sends close_notify right after its Finished',
  }),
  delay: def({
    id: 'tickets.first-ticket-delay',
    title: 'Time from the client Finished to the first ticket',
    rfc: { section: '4.6.1', keyword: 'MAY', text: 'A server MAY send NewSessionTicket any time after it receives the client Finished.' },
    expected: { summary: 'measured only' },
    sends: 'the full handshake that waits for tickets',
  }),
  lifetime: def({
    id: 'tickets.lifetime',
    title: 'ticket_lifetime at most 7 days',
    rfc: { section: '4.6.1', keyword: 'MUST', text: 'Servers MUST NOT use any value greater than 604800 seconds (7 days).' },
    expected: { summary: 'every ticket_lifetime ≤ 604800 s' },
    sends: 'full handshakes that collect tickets',
  }),
  ageAdd: def({
    id: 'tickets.age-add-fresh',
    title: 'A fresh ticket_age_add for every ticket',
    rfc: {
      section: '4.6.1',
      keyword: 'MUST',
      text: 'ticket_age_add: a securely generated, random 32-bit value. The server MUST generate a fresh value for each ticket it sends.',
    },
    expected: { summary: 'no two tickets share a ticket_age_add' },
    sends: 'full handshakes that collect tickets',
  }),
  nonce: def({
    id: 'tickets.nonce-unique',
    title: 'ticket_nonce unique among the tickets of a connection',
    rfc: {
      section: '4.6.1',
      keyword: 'MUST',
      text: 'ticket_nonce: a per-ticket value that is unique across all tickets issued on this connection (so that each ticket has its own PSK).',
    },
    expected: { summary: 'no two tickets of one connection share a nonce (nor, therefore, a PSK)' },
    sends: 'full handshakes that collect tickets',
  }),
  earlyData: def({
    id: 'tickets.early-data',
    title: 'Tickets that allow 0-RTT (early_data with max_early_data_size)',
    refusal: 'EarlyDataIgnored',
    rfc: {
      section: '4.6.1',
      keyword: 'policy',
      text: 'A ticket MAY carry early_data with max_early_data_size; tlschart never issues such tickets (it refuses 0-RTT).',
    },
    expected: { summary: 'no early_data extension in any ticket (tlschart policy)' },
    sends: 'full handshakes that collect tickets',
  }),
  shape: def({
    id: 'tickets.shape',
    title: 'Ticket length and entropy',
    rfc: {
      section: '4.6.1',
      keyword: 'MAY',
      text: 'The ticket is an opaque label; it MAY be either a database lookup key or a self-encrypted and self-authenticated value.',
    },
    expected: { summary: 'measured only' },
    sends: 'full handshakes that collect tickets',
  }),
  statefulness: def({
    id: 'tickets.statefulness',
    title: 'Stateless (self-encrypted) or stateful (lookup key) tickets',
    refusal: 'StatelessTicketsRefused',
    rfc: {
      section: '8.1',
      keyword: 'policy',
      text: 'Single-use tickets looked up in a database give forward secrecy to PSK connections; tlschart keeps ticket state on the server (stateful, single-use) and never issues stateless tickets.',
    },
    expected: { summary: 'stateful tickets: short random identifiers that cannot be reused (tlschart policy)' },
    sends: 'one ticket offered twice in sequence, compared with the length and structure of the tickets',
  }),
  bitFlip: def({
    id: 'tickets.bit-flip',
    title: 'A ticket with one bit flipped does not resume',
    rfc: {
      section: '4.6.1',
      keyword: 'MAY',
      text: 'A ticket is a database lookup key or a self-encrypted and self-authenticated value: a modified ticket names no session.',
    },
    expected: { summary: 'a full handshake (the flipped ticket is unknown) or an abort; never a resumption' },
    sends: 'a valid ticket with one bit flipped in its middle, with the binder of the original PSK',
  }),
} satisfies Record<string, ProbeDef>;

/** Shannon entropy in bits per byte of a byte string. */
export function shannonBitsPerByte(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  const counts = new Map<number, number>();
  for (const b of bytes) counts.set(b, (counts.get(b) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / bytes.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function commonPrefix(tickets: readonly Uint8Array[]): number {
  if (tickets.length < 2) return 0;
  const first = tickets[0] as Uint8Array;
  let n = 0;
  while (n < first.length && tickets.every((t) => t.length > n && t[n] === first[n])) n++;
  return n;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export const ticketsFamily: CheckFamily = {
  id: check,
  title: 'Ticket profile',
  probes: Object.values(TICKET_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = TICKET_PROBES;
    const scope = new Scope(check);
    // A client that waits for its tickets (the first may take a while), then one that closes at once.
    const waiting = await ctx.connection(
      scope,
      'full handshake, waiting for tickets',
      { description: 'a full handshake that waits for tickets' },
      async (c) => {
        c.sendHello(ctx.hello());
        if ((await c.readFlight()) === 'finished') {
          c.sendFinished();
          await c.collectTickets(1, Math.min(ctx.settings.timeoutMs / 2, 2000));
          await c.collectTickets(64, ctx.settings.settleMs);
        }
        return c;
      },
    );
    const waitingRecord = ctx.recordOf(waiting);
    const atOnce = await ctx.connection(
      scope,
      'full handshake, closing at once',
      { description: 'a full handshake whose client sends close_notify right after its Finished' },
      async (c) => {
        c.sendHello(ctx.hello());
        if ((await c.readFlight()) === 'finished') {
          c.sendFinished();
          await c.finish();
        }
        return c;
      },
    );
    const perConnection = waiting.tickets.length;
    ctx.ticketsPerConnection = Math.max(ctx.ticketsPerConnection, perConnection);
    emit(
      draft(P.issued, [waitingRecord, ctx.recordOf(atOnce)], {
        rfcVerdict: perConnection > 0 ? 'pass' : 'info',
        observed: {
          summary: `${perConnection} ticket(s) when the client waits, ${atOnce.tickets.length} when it closes right after its Finished`,
        },
        measured: { ticketsWhenWaiting: perConnection, ticketsWhenClosingAtOnce: atOnce.tickets.length },
        reason:
          perConnection === 0
            ? 'the server sends no NewSessionTicket: it does not offer resumption, and the checks that need a ticket are inconclusive'
            : atOnce.tickets.length < perConnection
              ? 'tickets are issued, but a client that closes right after its Finished loses some of them (as a scanner that closes at once would)'
              : 'tickets are issued, also to a client that closes at once',
      }),
    );
    const first = waiting.tickets[0];
    emit(
      first === undefined
        ? inconclusive(P.delay, NO_TICKETS, [waitingRecord])
        : first.afterFinishedMs === undefined
          ? draft(P.delay, [waitingRecord], {
              rfcVerdict: 'info',
              observed: {
                summary:
                  'the first ticket came with the server flight, before the client Finished: the server computed that Finished itself (allowed without client authentication, RFC 8446 §4.6.1)',
              },
              measured: { firstTicketBeforeFinished: true },
              reason: 'measured',
            })
          : draft(P.delay, [waitingRecord], {
              rfcVerdict: 'info',
              observed: { summary: `the first ticket arrived ${first.afterFinishedMs} ms after the client Finished` },
              measured: { firstTicketBeforeFinished: false, firstTicketAfterFinishedMs: first.afterFinishedMs },
              reason: 'measured',
            }),
    );
    if (perConnection === 0) {
      for (const p of [P.lifetime, P.ageAdd, P.nonce, P.earlyData, P.shape, P.statefulness, P.bitFlip])
        emit(inconclusive(p, NO_TICKETS, [waitingRecord]));
      return;
    }
    // More connections for the statistics: `runs` in all.
    const conns = [waiting];
    for (let i = 1; i < Math.max(2, ctx.settings.runs); i++)
      conns.push(await ctx.fullHandshake(scope, `full handshake ${i + 1} for ticket statistics`, { tickets: perConnection }));
    const tickets: ProbeTicket[] = conns.flatMap((c) => c.tickets);
    const records = scope.records;

    const lifetimes = [...new Set(tickets.map((t) => t.lifetimeS))];
    const tooLong = tickets.filter((t) => t.lifetimeS > 604800);
    emit(
      draft(P.lifetime, records, {
        rfcVerdict: tooLong.length > 0 ? 'fail' : 'pass',
        observed: { summary: `ticket_lifetime ${lifetimes.join(', ')} s` },
        measured: { lifetimesS: lifetimes, longerThan7Days: tooLong.length },
        reason: tooLong.length > 0 ? `${tooLong.length} ticket(s) announce a lifetime above 604800 s` : 'every lifetime is within 7 days',
      }),
    );

    const adds = tickets.map((t) => t.ticketAgeAdd);
    const repeatedAdds = adds.length - new Set(adds).size;
    emit(
      draft(P.ageAdd, records, {
        rfcVerdict: repeatedAdds > 0 ? 'fail' : 'pass',
        observed: { summary: `${new Set(adds).size} distinct ticket_age_add values in ${adds.length} tickets` },
        measured: { tickets: adds.length, distinctTicketAgeAdd: new Set(adds).size, zeroTicketAgeAdd: adds.filter((a) => a === 0).length },
        reason: repeatedAdds > 0 ? `${repeatedAdds} ticket(s) reuse a ticket_age_add` : 'every ticket has its own ticket_age_add',
      }),
    );

    const repeatedNonces = conns.map((c) => c.tickets.length - new Set(c.tickets.map((t) => hex(t.nonce))).size).reduce((a, b) => a + b, 0);
    emit(
      draft(P.nonce, records, {
        rfcVerdict: repeatedNonces > 0 ? 'fail' : 'pass',
        observed: {
          summary:
            repeatedNonces > 0 ? `${repeatedNonces} repeated nonce(s) within a connection` : 'every nonce is unique within its connection',
        },
        measured: { nonceLengths: [...new Set(tickets.map((t) => t.nonce.length))], repeatedWithinConnection: repeatedNonces },
        reason: repeatedNonces > 0 ? 'tickets of one connection share a nonce, hence a PSK' : 'no nonce repeats within a connection',
      }),
    );

    const early = tickets.filter((t) => t.maxEarlyDataSize !== undefined);
    emit(
      draft(P.earlyData, records, {
        rfcVerdict: early.length > 0 ? 'info' : 'pass',
        observed: {
          summary:
            early.length > 0
              ? `${early.length} of ${tickets.length} tickets allow early data (max_early_data_size ${[...new Set(early.map((t) => t.maxEarlyDataSize))].join(', ')})`
              : 'no ticket allows early data',
        },
        measured: { ticketsWithEarlyData: early.length, maxEarlyDataSize: [...new Set(early.map((t) => t.maxEarlyDataSize ?? 0))] },
        policy: { rule: 'tlschart never issues tickets that allow 0-RTT', violated: early.length > 0 },
        reason: early.length > 0 ? 'the tickets allow 0-RTT, which RFC 8446 permits and tlschart refuses' : 'no ticket allows 0-RTT',
      }),
    );

    const lengths = tickets.map((t) => t.ticket.length);
    const prefix = commonPrefix(tickets.map((t) => t.ticket));
    const rest = tickets.map((t) => t.ticket.subarray(prefix));
    const bits = rest.map(shannonBitsPerByte);
    const shape: Record<string, MeasuredValue> = {
      lengthMin: Math.min(...lengths),
      lengthMax: Math.max(...lengths),
      commonPrefixBytes: prefix,
      entropyBitsPerByte: round(bits.reduce((a, b) => a + b, 0) / bits.length),
      distinctTickets: new Set(tickets.map((t) => hex(t.ticket))).size,
      tickets: tickets.length,
    };
    emit(
      draft(P.shape, records, {
        rfcVerdict: 'info',
        observed: {
          summary: `tickets of ${shape.lengthMin}–${shape.lengthMax} bytes, ${prefix} byte(s) common prefix, ${shape.entropyBitsPerByte} bits/byte after it`,
        },
        measured: shape,
        reason: 'measured',
      }),
    );

    // Reuse and tampering: does the server still resume with a ticket it has seen, or with a flipped one?
    const reuseScope = new Scope(`${check}/statefulness`);
    const t1 = await ctx.freshTicket(reuseScope);
    let reuse: { first: string; second: string } | undefined;
    if (t1) {
      const a = await sendHello(ctx, reuseScope, 'resumption with a ticket', 'offers a fresh ticket', () =>
        ctx.hello({ offers: [offerTicket(t1)] }),
      );
      const b = await sendHello(ctx, reuseScope, 'the same ticket again', 'offers the same ticket a second time', () =>
        ctx.hello({ offers: [offerTicket(t1)] }),
      );
      reuse = { first: a.outcome, second: b.outcome };
    }
    const longish = Math.min(...lengths) >= 64;
    const keyName = prefix >= 4;
    const reusable = reuse?.first === 'resumed' && reuse.second === 'resumed';
    const evidence = [longish ? `tickets of at least 64 bytes (${Math.min(...lengths)})` : `short tickets (${Math.min(...lengths)} bytes)`];
    if (keyName) evidence.push(`a ${prefix}-byte prefix common to all tickets (a key name)`);
    if (reuse) evidence.push(reusable ? 'a ticket resumed twice' : `a ticket offered twice: ${reuse.first}, then ${reuse.second}`);
    const inference =
      (longish && (keyName || reusable)) || (reusable && longish)
        ? 'stateless'
        : !longish && !keyName && !reusable
          ? 'stateful'
          : 'unclear';
    emit(
      draft(P.statefulness, reuseScope.records, {
        rfcVerdict: reuse?.first === 'resumed' ? 'info' : 'inconclusive',
        observed: { summary: `${inference}: ${evidence.join('; ')}` },
        measured: { inference, ticketLength: Math.min(...lengths), commonPrefixBytes: prefix, resumedTwice: reusable },
        policy: {
          rule: 'tlschart keeps ticket state on the server and never issues stateless tickets',
          violated: inference === 'stateless',
        },
        reason:
          reuse?.first === 'resumed'
            ? `inferred from the evidence: ${evidence.join('; ')}`
            : 'the server did not resume with a fresh ticket, so reuse could not be tried',
      }),
    );

    const flipScope = new Scope(`${check}/bit-flip`);
    const t2 = await ctx.freshTicket(flipScope);
    if (!t2) {
      emit(inconclusive(P.bitFlip, NO_TICKETS));
      return;
    }
    const flipped = t2.ticket.slice();
    const mid = Math.floor(flipped.length / 2);
    flipped[mid] = (flipped[mid] as number) ^ 0x10;
    const r = await sendHello(
      ctx,
      flipScope,
      'a ticket with one bit flipped',
      'offers a valid ticket with one bit flipped in its middle',
      () => ctx.hello({ offers: [offerTicket(t2, { identity: flipped })] }),
    );
    const resumed = r.outcome === 'resumed';
    emit(
      draft(P.bitFlip, flipScope.records, {
        rfcVerdict: resumed ? 'warn' : r.outcome === 'full' || r.outcome === 'aborted' ? 'pass' : 'inconclusive',
        observed: {
          summary: `the server ${resumed ? 'resumed with the modified ticket' : r.outcome === 'full' ? 'did a full handshake' : `answered: ${r.outcome}${r.alert ? ` ${r.alert}` : ''}`}`,
          alert: r.alert ?? null,
        },
        measured: { flippedByte: mid, outcome: r.outcome },
        policy: { rule: 'a tlschart ticket is a random identifier: any other bytes name no session', violated: resumed },
        reason: resumed
          ? 'a ticket with a flipped bit still names the session: the ticket is not authenticated'
          : 'the modified ticket was not accepted as the original',
      }),
    );
  },
};
