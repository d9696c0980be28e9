/**
 * 0-RTT (RFC 8446 §2.3, §4.2.10, §8): is early data accepted; if so, is the
 * same 0-RTT flight accepted twice (in sequence, in parallel); is refused
 * early data skipped (and how much); EndOfEarlyData out of place; early data
 * around a HelloRetryRequest.
 */
import { randomBytes } from 'node:crypto';
import { utf8 } from '../../../crypto/bytes.js';
import { suiteInfo } from '../../../crypto/suites.js';
import { encodeHandshake } from '../../../wire/handshake.js';
import { CipherSuite } from '../../../wire/types.js';
import type { FindingDraft } from '../../findings.js';
import type { ProbeTicket } from '../../probe/client.js';
import { literalBinder } from '../../probe/hello.js';
import { offerTicket, type ProbeHello } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { Scope } from '../context.js';
import {
  type CheckFamily,
  describeOutcome,
  draft,
  type HelloResult,
  inconclusive,
  type ProbeDef,
  retryOptions,
  sendHello,
} from './common.js';

const check = 'early-data';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

export const EARLY_DATA = utf8('tlschart audit: a 0-RTT probe, safe to drop\n');
export const NO_EARLY_TICKETS = 'the server issues no ticket that allows early data (no max_early_data_size)';

export const EARLY_DATA_PROBES = {
  accepted: def({
    id: 'early-data.accepted',
    title: '0-RTT data accepted',
    refusal: 'EarlyDataIgnored',
    rfc: {
      section: '4.2.10',
      keyword: 'policy',
      text: 'A server MAY accept early data (early_data in EncryptedExtensions) with a ticket that allows it; tlschart never accepts 0-RTT.',
    },
    expected: { summary: 'early data refused: no early_data in EncryptedExtensions (tlschart policy)' },
    sends: 'a ticket that allows early data, offered with early_data and one 0-RTT record',
  }),
  replaySequential: def({
    id: 'early-data.replay-sequential',
    title: 'The same 0-RTT flight accepted twice in sequence',
    rfc: {
      section: '8',
      keyword: 'MUST',
      text: 'The server MUST ensure that any instance of it would accept 0-RTT for the same 0-RTT handshake at most once.',
    },
    expected: { summary: 'the replayed flight has its early data refused (or is aborted)' },
    sends: 'the bytes of an accepted 0-RTT flight (ClientHello and early data) sent again on a new connection',
  }),
  replayParallel: def({
    id: 'early-data.replay-parallel',
    title: 'The same 0-RTT flight accepted on --runs connections at once',
    rfc: {
      section: '8',
      keyword: 'MUST',
      text: 'The server MUST ensure that any instance of it would accept 0-RTT for the same 0-RTT handshake at most once.',
    },
    expected: { summary: 'early data accepted on at most one of the connections' },
    sends: 'one 0-RTT flight sent on --runs connections opened together',
  }),
  skipped: def({
    id: 'early-data.refused-skipped',
    title: 'Refused early data is skipped',
    refusal: 'EarlyDataLimitExceeded',
    rfc: {
      section: '4.2.10',
      keyword: 'MUST',
      text: 'A server that ignores early_data returns a regular 1-RTT response and skips past early data by trial decryption, discarding records that fail deprotection up to the configured max_early_data_size.',
    },
    expected: {
      summary:
        'a full handshake that completes despite 1 KiB of undecryptable early data; more than the limit may be refused with bad_record_mac',
    },
    sends: 'early_data with an unknown PSK identity and 1 KiB of 0-RTT records; then 20 000 bytes',
  }),
  endOfEarlyData: def({
    id: 'early-data.eoed-out-of-place',
    title: 'EndOfEarlyData without accepted early data',
    rfc: {
      section: '4.5',
      keyword: 'MUST',
      text: 'If the server does not send early_data in EncryptedExtensions, the client MUST NOT send EndOfEarlyData; a handshake message in an unexpected order MUST be answered with unexpected_message (§4).',
    },
    refusal: 'UnexpectedMessage',
    expected: {
      summary: 'abort with unexpected_message',
      alert: 'unexpected_message',
      statePath: ['expectClientHello', 'expectClientFinished', 'failed'],
    },
    sends: 'a full handshake, then EndOfEarlyData under the handshake keys where the client Finished belongs, then close_notify',
  }),
  hrr: def({
    id: 'early-data.hello-retry',
    title: 'Early data around a HelloRetryRequest',
    refusal: 'EarlyDataIgnored',
    rfc: {
      section: '4.2.10',
      keyword: 'MUST',
      text: 'A server that answers early_data with a HelloRetryRequest ignores the early data by skipping all records with an external content type of application_data, up to the configured max_early_data_size; the second ClientHello MUST NOT offer early_data.',
    },
    expected: {
      summary:
        'HelloRetryRequest, the early records skipped, the second ClientHello resumes (tlschart answers bad_record_mac instead, by design)',
    },
    sends: 'early_data, a valid ticket and no key share (forcing a HelloRetryRequest) with one 0-RTT record; then the second ClientHello',
  }),
} satisfies Record<string, ProbeDef>;

const allowsEarly = (t: ProbeTicket) => (t.maxEarlyDataSize ?? 0) > 0;

async function zeroRtt(ctx: AuditContext, scope: Scope, label: string, description: string, hello: () => ProbeHello): Promise<HelloResult> {
  return sendHello(ctx, scope, label, description, hello, { earlyData: [EARLY_DATA] });
}

export const earlyDataFamily: CheckFamily = {
  id: check,
  title: '0-RTT',
  probes: Object.values(EARLY_DATA_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = EARLY_DATA_PROBES;
    const scope = new Scope(P.accepted.id);
    const t = await ctx.freshTicket(scope, allowsEarly);
    if (!t) {
      // The server's tickets do not allow early data: offer it anyway, with an ordinary ticket.
      const plain = await ctx.freshTicket(scope);
      if (!plain) emit(inconclusive(P.accepted, NO_EARLY_TICKETS, scope.records));
      else {
        const r = await zeroRtt(
          ctx,
          scope,
          '0-RTT with a ticket that does not allow it',
          'offers early_data with a ticket without max_early_data_size',
          () => ctx.hello({ earlyData: true, offers: [offerTicket(plain)] }),
        );
        emit(
          draft(
            P.accepted,
            [r.record],
            {
              rfcVerdict: r.conn.earlyDataAccepted ? 'fail' : 'pass',
              observed: {
                summary: r.conn.earlyDataAccepted
                  ? 'early data accepted with a ticket that did not allow it'
                  : `early data refused; the server ${describeOutcome(r.outcome, r.alert)}`,
              },
              measured: { earlyDataAccepted: r.conn.earlyDataAccepted, ticketAllowsEarlyData: false },
              policy: { rule: 'tlschart never accepts 0-RTT', violated: r.conn.earlyDataAccepted },
              reason: r.conn.earlyDataAccepted
                ? 'early data may only be accepted with a ticket whose max_early_data_size allows it (§4.2.10)'
                : 'the server issues no 0-RTT tickets and refused early data',
            },
            scope,
          ),
        );
      }
      for (const p of [P.replaySequential, P.replayParallel])
        emit(inconclusive(p, `${NO_EARLY_TICKETS}; replay needs accepted early data`));
    } else {
      // One 0-RTT flight, kept so it can be replayed byte for byte.
      const hello = ctx.hello({ earlyData: true, offers: [offerTicket(t)] });
      const first = await zeroRtt(ctx, scope, '0-RTT flight', 'offers early_data with a ticket that allows it', () => hello);
      const acceptedOnce = first.conn.earlyDataAccepted;
      emit(
        draft(
          P.accepted,
          [first.record],
          {
            rfcVerdict: 'info',
            observed: {
              summary: acceptedOnce
                ? `early data accepted (max_early_data_size ${t.maxEarlyDataSize})`
                : `early data refused; the server ${describeOutcome(first.outcome, first.alert)}`,
            },
            measured: {
              earlyDataAccepted: acceptedOnce,
              maxEarlyDataSize: t.maxEarlyDataSize ?? null,
              resumed: first.outcome === 'resumed',
            },
            policy: { rule: 'tlschart never accepts 0-RTT (0-RTT data can be replayed)', violated: acceptedOnce },
            reason: acceptedOnce
              ? '0-RTT is accepted: RFC 8446 allows it; its data has no replay protection across server instances'
              : 'the server issues 0-RTT tickets but refused early data',
          },
          scope,
        ),
      );
      if (!acceptedOnce) {
        for (const p of [P.replaySequential, P.replayParallel])
          emit(inconclusive(p, 'early data was not accepted even once, so its replay cannot be judged', [first.record]));
      } else {
        const rs = new Scope(P.replaySequential.id);
        const again = await zeroRtt(
          ctx,
          rs,
          'the same 0-RTT flight again',
          'sends the bytes of the accepted 0-RTT flight again',
          () => hello,
        );
        const twice = again.conn.earlyDataAccepted;
        emit(
          draft(
            P.replaySequential,
            [first.record, again.record],
            {
              rfcVerdict: twice ? 'fail' : 'pass',
              observed: {
                summary: twice
                  ? 'the replayed 0-RTT flight was accepted again'
                  : `the replay: early data refused; the server ${describeOutcome(again.outcome, again.alert)}`,
              },
              measured: { acceptedFirst: true, acceptedReplay: twice, replayOutcome: again.outcome },
              reason: twice ? 'the same 0-RTT data was accepted twice by the same server' : 'the replayed early data was refused',
            },
            rs,
          ),
        );
        const rp = new Scope(P.replayParallel.id);
        const t2 = await ctx.freshTicket(rp, allowsEarly);
        if (!t2) emit(inconclusive(P.replayParallel, NO_EARLY_TICKETS));
        else {
          const h2 = ctx.hello({ earlyData: true, offers: [offerTicket(t2)] });
          const n = Math.max(2, ctx.settings.runs);
          const results = await Promise.all(
            Array.from({ length: n }, (_, i) =>
              zeroRtt(
                ctx,
                rp,
                `parallel 0-RTT flight ${i + 1} of ${n}`,
                `the same 0-RTT flight as ${n - 1} other connections at once`,
                () => h2,
              ),
            ),
          );
          const accepted = results.filter((r) => r.conn.earlyDataAccepted).length;
          emit(
            draft(
              P.replayParallel,
              results.map((r) => r.record),
              {
                rfcVerdict: accepted > 1 ? 'fail' : 'pass',
                observed: { summary: `early data accepted on ${accepted} of ${n} connections` },
                measured: { connections: n, accepted, concurrency: Math.min(n, ctx.settings.concurrency) },
                reason: accepted > 1 ? `the same 0-RTT flight was accepted ${accepted} times` : 'the flight was accepted at most once',
              },
              rp,
            ),
          );
        }
      }
    }

    {
      // Refused early data: an unknown identity, so the server cannot decrypt what follows.
      const s = new Scope(P.skipped.id);
      const suite = suiteInfo(CipherSuite.TLS_AES_128_GCM_SHA256);
      if (!suite) throw new Error('no TLS_AES_128_GCM_SHA256');
      const unknownOffer = () => ({
        identity: { identity: new Uint8Array(randomBytes(32)), obfuscatedTicketAge: 0 },
        binder: literalBinder(new Uint8Array(randomBytes(32)), 'binder of an unknown identity'),
        secret: { psk: new Uint8Array(randomBytes(32)), suite },
      });
      const small = await sendHello(
        ctx,
        s,
        'refused early data, 1 KiB',
        'offers early_data with an unknown identity and sends 1 KiB of 0-RTT data',
        () => ctx.hello({ earlyData: true, offers: [unknownOffer()] }),
        {
          earlyData: [new Uint8Array(1024)],
        },
      );
      const large = await sendHello(
        ctx,
        s,
        'refused early data, 20 000 bytes',
        'the same with 20 000 bytes of 0-RTT data',
        () => ctx.hello({ earlyData: true, offers: [unknownOffer()] }),
        {
          earlyData: [new Uint8Array(16000), new Uint8Array(4000)],
        },
      );
      const done = (r: HelloResult) => r.conn.finishedSentAt !== undefined && r.conn.alertReceived === undefined;
      const completed = done(small);
      emit(
        draft(
          P.skipped,
          [small.record, large.record],
          {
            rfcVerdict: small.conn.earlyDataAccepted
              ? 'fail'
              : completed
                ? 'pass'
                : small.outcome === 'full' || small.outcome === 'aborted'
                  ? 'warn'
                  : 'inconclusive',
            observed: {
              summary: `1 KiB: ${completed ? 'skipped, the handshake completed' : small.conn.alertReceived ? `aborted with ${small.conn.alertReceived}` : describeOutcome(small.outcome)}; 20 000 bytes: ${done(large) ? 'skipped, the handshake completed' : large.conn.alertReceived ? `aborted with ${large.conn.alertReceived}` : describeOutcome(large.outcome)}`,
              alert: small.conn.alertReceived ?? null,
            },
            measured: {
              skipped1KiB: completed,
              skipped20000Bytes: done(large),
              alert1KiB: small.conn.alertReceived ?? null,
              alert20000Bytes: large.conn.alertReceived ?? null,
            },
            reason: small.conn.earlyDataAccepted
              ? 'early data was accepted for a PSK the server cannot know'
              : completed
                ? 'refused early data is skipped'
                : 'the server does not skip even 1 KiB of refused early data',
          },
          s,
        ),
      );
    }

    {
      const s = new Scope(P.endOfEarlyData.id);
      let alert: string | undefined;
      let completed = false;
      const conn = await ctx.connection(s, 'EndOfEarlyData out of place', { description: P.endOfEarlyData.sends }, async (c) => {
        c.sendHello(ctx.hello());
        if ((await c.readFlight()) === 'finished' && c.serverFinishedValid) {
          // EndOfEarlyData where the client Finished belongs; then only close_notify, so that
          // whatever the server says answers the EndOfEarlyData (tickets may come before, §4.6.1).
          c.setWrite('handshake');
          c.sendHandshake(encodeHandshake({ type: 'end_of_early_data' }).raw, 'end_of_early_data');
          await c.finish();
          completed = true;
        }
        alert = c.alertReceived;
        return c;
      });
      const record = ctx.recordOf(conn);
      if (!completed) emit(inconclusive(P.endOfEarlyData, 'the full handshake did not get to the server Finished', [record]));
      else {
        const refused = alert !== undefined;
        emit(
          draft(
            P.endOfEarlyData,
            [record],
            {
              rfcVerdict: alert === 'unexpected_message' ? 'pass' : refused ? 'warn' : 'fail',
              observed: {
                summary: refused ? `aborted with ${alert}` : 'no alert: the EndOfEarlyData was accepted or ignored',
                alert: alert ?? null,
              },
              measured: { alert: alert ?? null, closeNotifyAnswered: conn.closeNotifyReceived },
              reason:
                alert === 'unexpected_message'
                  ? 'refused as required'
                  : refused
                    ? `refused, but with ${alert}`
                    : 'the server did not abort on an EndOfEarlyData it never asked for',
            },
            s,
          ),
        );
      }
    }

    {
      const s = new Scope(P.hrr.id);
      const tk = (await ctx.freshTicket(s, allowsEarly)) ?? (await ctx.freshTicket(s));
      if (!tk) emit(inconclusive(P.hrr, 'the server issued no ticket', s.records));
      else {
        let retried = false;
        let secondOutcome = '';
        const first = ctx.hello({ earlyData: true, shareGroups: [], offers: [offerTicket(tk)] });
        const conn = await ctx.connection(s, 'early data, then a HelloRetryRequest', { description: P.hrr.sends }, async (c) => {
          c.sendHello({ ...first, earlyData: [EARLY_DATA] });
          const end = await c.readFlight();
          if (end === 'hello_retry_request' && c.helloRetryRequest) {
            retried = true;
            const second = ctx.hello(retryOptions(first, c.helloRetryRequest, { offers: [offerTicket(tk)] }));
            c.sendHello(second);
            const end2 = await c.readFlight();
            secondOutcome = c.alertReceived
              ? `aborted with ${c.alertReceived}`
              : end2 === 'finished'
                ? c.resumed
                  ? 'resumed'
                  : 'full handshake'
                : end2;
            if (end2 === 'finished' && c.serverFinishedValid) {
              c.sendFinished();
              await c.collectTickets(1, ctx.settings.settleMs);
            }
          }
          await c.finish();
          return c;
        });
        const record = ctx.recordOf(conn);
        const completed = conn.finishedSentAt !== undefined && conn.alertReceived === undefined;
        emit(
          !retried
            ? inconclusive(
                P.hrr,
                `the server did not answer a ClientHello without key share with a HelloRetryRequest (${conn.alertReceived ?? 'no retry'})`,
                [record],
              )
            : draft(
                P.hrr,
                [record],
                {
                  rfcVerdict: completed ? 'pass' : conn.alertReceived ? 'warn' : 'inconclusive',
                  observed: {
                    summary: `HelloRetryRequest, then: ${secondOutcome}${completed ? ' (the early records were skipped)' : ''}`,
                    alert: conn.alertReceived ?? null,
                  },
                  measured: { secondHello: secondOutcome, completed, resumed: conn.resumed },
                  reason: completed
                    ? 'early data sent before a HelloRetryRequest was skipped'
                    : `the server did not skip the early records after its HelloRetryRequest (${conn.alertReceived ?? secondOutcome})`,
                },
                s,
              ),
        );
      }
    }
  },
};
