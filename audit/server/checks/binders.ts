/**
 * PSK binders (RFC 8446 §4.2.11, §4.2.11.2): a valid ticket offered with a
 * binder that must not validate — one bit flipped, one byte too long,
 * empty, computed with the external label, over another transcript —, one
 * binder too many, a bad binder on identity 0 with a good one on identity
 * 1, and pre_shared_key not the last extension. Each with the alert RFC
 * 8446 names (decrypt_error for a binder that does not validate, §6.2;
 * decode_error for a field out of range, §6.2; illegal_parameter for
 * pre_shared_key not last, §4.2.11). And afterwards: can the ticket still
 * be used, or did a badly bound offer destroy it?
 */
import { randomBytes } from 'node:crypto';
import type { FindingDraft } from '../../findings.js';
import type { ProbeTicket } from '../../probe/client.js';
import {
  type BinderMaker,
  externalLabelBinder,
  flippedBinder,
  literalBinder,
  longBinder,
  otherTranscriptBinder,
} from '../../probe/hello.js';
import { type HelloOptions, offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { Scope } from '../context.js';
import {
  type CheckFamily,
  describeOutcome,
  draft,
  inconclusive,
  judgeMustAbort,
  outcomeFinding,
  type ProbeDef,
  sendHello,
  withFreshTicket,
} from './common.js';

const check = 'binders';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

const MUST_VALIDATE = {
  section: '4.2.11',
  keyword: 'MUST' as const,
  text: 'Prior to accepting PSK key establishment, the server MUST validate the corresponding binder value. If this value is not present or does not validate, the server MUST abort the handshake (decrypt_error: a PSK binder could not be validated, §6.2).',
};
const abortDecryptError = { summary: 'abort with decrypt_error', alert: 'decrypt_error', statePath: ['expectClientHello', 'failed'] };

export const BINDER_PROBES = {
  flipped: def({
    id: 'binders.flipped-bit',
    title: 'A binder with one bit flipped',
    rfc: MUST_VALIDATE,
    refusal: 'IncorrectBinder',
    expected: abortDecryptError,
    sends: 'a fresh ticket whose valid binder has its last bit flipped',
  }),
  long: def({
    id: 'binders.wrong-length',
    title: 'A binder one byte longer than Hash.length',
    rfc: MUST_VALIDATE,
    refusal: 'IncorrectBinder',
    expected: abortDecryptError,
    sends: 'a fresh ticket whose binder is the valid HMAC followed by one zero byte',
  }),
  empty: def({
    id: 'binders.empty',
    title: 'An empty binder',
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'opaque PskBinderEntry<32..255> and binders<33..2^16-1>: an empty binder is out of range, a message that cannot be decoded (decode_error, §6.2), and a binder that is not present (the server MUST abort).',
    },
    refusal: 'DecodeError',
    expected: { summary: 'abort with decode_error', alert: 'decode_error', statePath: ['expectClientHello', 'failed'] },
    sends: 'a fresh ticket with a zero-length binder',
  }),
  count: def({
    id: 'binders.count-mismatch',
    title: 'One binder more than identities',
    rfc: {
      section: '4.2.11',
      keyword: 'SHOULD',
      text: 'binders: a series of HMAC values, one for each value in the identities list and in the same order. A list that does not match is inconsistent (illegal_parameter, §6.2); RFC 8446 names no alert for it.',
    },
    refusal: 'BinderCountMismatch',
    expected: { summary: 'abort (tlschart: illegal_parameter)', alert: 'illegal_parameter', statePath: ['expectClientHello', 'failed'] },
    sends: 'one fresh ticket with its valid binder followed by a second, random binder',
  }),
  external: def({
    id: 'binders.external-label',
    title: 'A binder computed with the external-PSK label',
    rfc: MUST_VALIDATE,
    refusal: 'IncorrectBinder',
    expected: abortDecryptError,
    sends: 'a fresh ticket whose binder key is derived with "ext binder" instead of "res binder" (§7.1)',
  }),
  transcript: def({
    id: 'binders.wrong-transcript',
    title: 'A binder over another ClientHello',
    rfc: MUST_VALIDATE,
    refusal: 'IncorrectBinder',
    expected: abortDecryptError,
    sends: 'a fresh ticket whose binder is computed over the same ClientHello with another random',
  }),
  secondGood: def({
    id: 'binders.bad-first-good-second',
    title: 'A bad binder on identity 0, a good one on identity 1',
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'The server MUST validate the binder of the PSK it selects and abort if it does not validate; servers SHOULD NOT attempt to validate multiple binders but select a single PSK and validate solely its binder.',
    },
    refusal: 'IncorrectBinder',
    expected: {
      summary: 'abort with decrypt_error (the server selects identity 0); never a resumption with identity 0',
      alert: 'decrypt_error',
      statePath: ['expectClientHello', 'failed'],
    },
    sends: 'two fresh tickets: identity 0 with a flipped binder, identity 1 with a valid binder',
  }),
  notLast: def({
    id: 'binders.psk-not-last',
    title: 'pre_shared_key not the last extension',
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'The "pre_shared_key" extension MUST be the last extension in the ClientHello. Servers MUST check that it is the last extension and otherwise fail the handshake with an "illegal_parameter" alert.',
    },
    refusal: 'PskNotLast',
    expected: { summary: 'abort with illegal_parameter', alert: 'illegal_parameter', statePath: ['expectClientHello', 'failed'] },
    sends: 'a fresh ticket with a valid binder, pre_shared_key placed before the last extension',
  }),
  kept: def({
    id: 'binders.ticket-kept',
    title: 'A badly bound offer does not destroy the ticket',
    rfc: {
      section: '8.1',
      keyword: 'policy',
      text: 'Anyone who sees a ticket on the wire can offer it with a bad binder. tlschart takes a ticket from its store only after the binder verified, so such an offer leaves the ticket usable by its owner.',
    },
    expected: { summary: 'the ticket resumes after a refused offer with a flipped binder' },
    sends: 'a fresh ticket with a flipped binder (refused), then the same ticket with a valid binder',
  }),
} satisfies Record<string, ProbeDef>;

/** One ticket, one binder to offer it with, and the alerts that pass. */
async function mustAbort(
  ctx: AuditContext,
  emit: (d: FindingDraft) => void,
  p: ProbeDef,
  alerts: string[],
  hello: (t: ProbeTicket) => HelloOptions,
): Promise<void> {
  await withFreshTicket(ctx, p, emit, async (t, scope) => {
    const r = await sendHello(ctx, scope, p.title, p.sends, () => ctx.hello(hello(t)), { poolTickets: false });
    emit(outcomeFinding(p, r, judgeMustAbort(r, alerts), scope));
  });
}

const withBinder =
  (make: (t: ProbeTicket) => BinderMaker) =>
  (t: ProbeTicket): HelloOptions => ({ offers: [offerTicket(t, { binder: make(t) })] });

export const bindersFamily: CheckFamily = {
  id: check,
  title: 'Binders',
  probes: Object.values(BINDER_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = BINDER_PROBES;
    await mustAbort(
      ctx,
      emit,
      P.flipped,
      ['decrypt_error'],
      withBinder((t) => flippedBinder(t.suite, t.psk)),
    );
    await mustAbort(
      ctx,
      emit,
      P.long,
      ['decrypt_error'],
      withBinder((t) => longBinder(t.suite, t.psk)),
    );
    await mustAbort(
      ctx,
      emit,
      P.empty,
      ['decode_error'],
      withBinder(() => literalBinder(new Uint8Array(0), 'empty binder')),
    );
    await mustAbort(
      ctx,
      emit,
      P.external,
      ['decrypt_error'],
      withBinder((t) => externalLabelBinder(t.suite, t.psk)),
    );
    await mustAbort(
      ctx,
      emit,
      P.transcript,
      ['decrypt_error'],
      withBinder((t) => otherTranscriptBinder(t.suite, t.psk)),
    );
    await mustAbort(ctx, emit, P.notLast, ['illegal_parameter'], (t) => ({ offers: [offerTicket(t)], pskNotLast: true }));

    // One binder too many: resuming with identity 0 breaks no MUST, so it is a warning.
    await withFreshTicket(ctx, P.count, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        P.count.title,
        P.count.sends,
        () =>
          ctx.hello({
            offers: [offerTicket(t)],
            extraBinders: [literalBinder(new Uint8Array(randomBytes(t.suite.hashLen)), 'random extra binder')],
          }),
        { poolTickets: false },
      );
      const aborted = r.outcome === 'aborted';
      emit(
        outcomeFinding(
          P.count,
          r,
          {
            verdict: aborted ? 'pass' : r.outcome === 'resumed' || r.outcome === 'full' ? 'warn' : 'inconclusive',
            reason: aborted
              ? `the inconsistent pre_shared_key was refused (${r.alert})`
              : `the server accepted a pre_shared_key with more binders than identities (${r.outcome})`,
          },
          scope,
        ),
      );
    });

    {
      const scope = new Scope(P.secondGood.id);
      const [t0, t1] = await ctx.freshTickets(scope, 2);
      if (!t0 || !t1) emit(inconclusive(P.secondGood, 'two tickets are needed and the server did not issue them', scope.records));
      else {
        const r = await sendHello(
          ctx,
          scope,
          P.secondGood.title,
          P.secondGood.sends,
          () => ctx.hello({ offers: [offerTicket(t0, { binder: flippedBinder(t0.suite, t0.psk) }), offerTicket(t1)] }),
          { poolTickets: false },
        );
        const sel = r.conn.selectedIdentity;
        let verdict = judgeMustAbort(r, ['decrypt_error'], { onFull: 'warn' });
        if (r.outcome === 'resumed') {
          verdict =
            sel === 0
              ? { verdict: 'fail', reason: 'the server resumed with identity 0, whose binder does not validate' }
              : {
                  verdict: 'warn',
                  reason:
                    'the server skipped identity 0 and resumed with identity 1: it validated more than one binder or passed over a valid ticket (§4.2.11 SHOULD NOT)',
                };
        }
        emit(
          outcomeFinding(P.secondGood, r, verdict, scope, {
            after: sel !== undefined ? ` with identity ${sel}` : '',
            measured: { selectedIdentity: sel ?? null },
          }),
        );
      }
    }

    await withFreshTicket(ctx, P.kept, emit, async (t, scope) => {
      const bad = await sendHello(
        ctx,
        scope,
        'offer with a flipped binder',
        'offers a fresh ticket with a flipped binder',
        () => ctx.hello({ offers: [offerTicket(t, { binder: flippedBinder(t.suite, t.psk) })] }),
        { poolTickets: false },
      );
      const good = await sendHello(ctx, scope, 'the same ticket, valid binder', 'offers the same ticket with its valid binder', () =>
        ctx.hello({ offers: [offerTicket(t)] }),
      );
      const kept = good.outcome === 'resumed';
      emit(
        bad.outcome === 'resumed'
          ? inconclusive(P.kept, 'the server resumed the badly bound offer (see binders.flipped-bit)', [bad.record, good.record])
          : draft(
              P.kept,
              [bad.record, good.record],
              {
                rfcVerdict: kept ? 'pass' : good.outcome === 'full' ? 'warn' : 'inconclusive',
                observed: {
                  summary: `after the refused offer (${describeOutcome(bad.outcome, bad.alert)}), the valid offer ${kept ? 'resumed' : `did not resume: ${describeOutcome(good.outcome, good.alert)}`}`,
                },
                measured: { badOffer: bad.outcome, validOffer: good.outcome },
                reason: kept
                  ? 'a badly bound offer leaves the ticket usable'
                  : 'a badly bound offer destroyed the ticket: whoever sees a ticket on the wire can deny its owner the resumption',
              },
              scope,
            ),
      );
    });
  },
};
