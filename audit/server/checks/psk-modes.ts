/**
 * PSK key exchange modes (RFC 8446 §4.2.9): a valid ticket offered with
 * psk_ke only, with an unknown mode only, with no psk_key_exchange_modes at
 * all, and with psk_dhe_ke but no key share to do (EC)DHE with.
 */

import { PskKeyExchangeMode } from '../../../wire/types.js';
import type { FindingDraft } from '../../findings.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import {
  type CheckFamily,
  describeOutcome,
  draft,
  judgeMustAbort,
  outcomeFinding,
  type ProbeDef,
  sendHello,
  withFreshTicket,
} from './common.js';

const check = 'psk-modes';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

/** A mode value no document defines (RFC 8446 reserves 2..255 for future use). */
export const UNKNOWN_MODE = 0x7f;

export const PSK_MODE_PROBES = {
  pskKe: def({
    id: 'psk-modes.psk-ke-only',
    title: 'A valid ticket offered with psk_ke only',
    refusal: 'PskKeOnlyIgnored',
    rfc: {
      section: '4.2.9',
      keyword: 'policy',
      text: 'psk_ke (PSK-only key establishment, no forward secrecy) MAY be selected when the client lists it; in that mode the server MUST NOT supply a key_share. tlschart never resumes a psk_ke-only offer: it does a full handshake and sends no tickets.',
    },
    expected: {
      summary: 'the PSK is ignored: a full handshake (tlschart); an RFC server may resume, then without key_share',
      statePath: ['expectClientHello', 'expectClientFinished', 'connected'],
    },
    sends: 'a fresh ticket with a valid binder, psk_key_exchange_modes = [psk_ke], and a key share for the fallback',
  }),
  unknown: def({
    id: 'psk-modes.unknown-mode',
    title: 'A valid ticket offered with an unknown mode only',
    rfc: {
      section: '4.2.9',
      keyword: 'MUST',
      text: 'Servers MUST NOT select a key exchange mode that is not listed by the client; without an acceptable PSK the server SHOULD perform a non-PSK handshake (§4.2.11).',
    },
    expected: {
      summary: 'a full handshake: no mode the server knows was offered',
      statePath: ['expectClientHello', 'expectClientFinished', 'connected'],
    },
    sends: `a fresh ticket with psk_key_exchange_modes = [${UNKNOWN_MODE}] (undefined)`,
  }),
  missing: def({
    id: 'psk-modes.missing-modes',
    title: 'pre_shared_key without psk_key_exchange_modes',
    rfc: {
      section: '4.2.9',
      keyword: 'MUST',
      text: 'If clients offer "pre_shared_key" without a "psk_key_exchange_modes" extension, servers MUST abort the handshake.',
    },
    refusal: 'PskWithoutModes',
    expected: { summary: 'abort with missing_extension', alert: 'missing_extension', statePath: ['expectClientHello', 'failed'] },
    sends: 'a fresh ticket with a valid binder and no psk_key_exchange_modes extension',
  }),
  noShare: def({
    id: 'psk-modes.dhe-without-key-share',
    title: 'psk_dhe_ke offered without any key share',
    rfc: {
      section: '4.2.9',
      keyword: 'MUST',
      text: 'In psk_dhe_ke mode the client and server MUST supply "key_share" values; a server MUST NOT fall back to psk_ke, which was not listed.',
    },
    refusal: 'NoKeyShare',
    expected: {
      summary: 'abort (tlschart: missing_extension); never a resumption without (EC)DHE',
      alert: 'missing_extension',
      statePath: ['expectClientHello', 'failed'],
    },
    sends: 'a fresh ticket with psk_dhe_ke and neither key_share nor supported_groups (a PSK-only ClientHello that §9.2 allows)',
  }),
} satisfies Record<string, ProbeDef>;

export const pskModesFamily: CheckFamily = {
  id: check,
  title: 'PSK key exchange modes',
  probes: Object.values(PSK_MODE_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = PSK_MODE_PROBES;

    await withFreshTicket(ctx, P.pskKe, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'psk_ke-only offer',
        'offers a valid ticket with psk_ke as the only mode',
        () => ctx.hello({ modes: [PskKeyExchangeMode.psk_ke], offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      const withShare = r.conn.serverKeyShare !== undefined;
      const accepted = r.outcome === 'resumed';
      emit(
        draft(
          P.pskKe,
          [r.record],
          {
            rfcVerdict: accepted
              ? withShare
                ? 'fail'
                : 'warn'
              : r.outcome === 'full'
                ? 'pass'
                : r.outcome === 'aborted'
                  ? 'info'
                  : 'inconclusive',
            observed: {
              summary: accepted
                ? `the server resumed the psk_ke-only offer${withShare ? ', and sent a key_share although psk_ke forbids it' : ' without (EC)DHE: no forward secrecy for this connection'}`
                : `the server ${describeOutcome(r.outcome, r.alert)}${r.outcome === 'full' ? `; ${r.conn.tickets.length} ticket(s) issued to this psk_ke-only client` : ''}`,
              alert: r.alert ?? null,
            },
            measured: { outcome: r.outcome, serverKeyShare: withShare, ticketsToPskKeClient: r.conn.tickets.length },
            policy: { rule: 'tlschart never resumes a psk_ke-only offer (no forward secrecy)', violated: accepted },
            reason: accepted
              ? withShare
                ? 'a server resuming in psk_ke mode MUST NOT supply a key_share (§4.2.9)'
                : 'psk_ke resumption is allowed by RFC 8446 but gives up forward secrecy'
              : r.outcome === 'full'
                ? 'the psk_ke-only offer was not resumed'
                : `the server ${describeOutcome(r.outcome, r.alert)}`,
          },
          scope,
        ),
      );
    });

    await withFreshTicket(ctx, P.unknown, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'unknown mode only',
        `offers a valid ticket with mode ${UNKNOWN_MODE} only`,
        () => ctx.hello({ modes: [UNKNOWN_MODE], offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      emit(
        outcomeFinding(
          P.unknown,
          r,
          {
            verdict: r.outcome === 'full' ? 'pass' : r.outcome === 'resumed' ? 'fail' : r.outcome === 'aborted' ? 'warn' : 'inconclusive',
            reason:
              r.outcome === 'resumed'
                ? 'the server selected a key exchange mode the client did not list'
                : r.outcome === 'aborted'
                  ? 'the server refused the connection instead of doing a non-PSK handshake (§4.2.11 SHOULD)'
                  : `the server ${describeOutcome(r.outcome, r.alert)}`,
          },
          scope,
        ),
      );
    });

    await withFreshTicket(ctx, P.missing, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'no psk_key_exchange_modes',
        'offers a valid ticket without psk_key_exchange_modes',
        () => ctx.hello({ modes: null, offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      const j = judgeMustAbort(r, ['missing_extension']);
      emit(outcomeFinding(P.missing, r, j, scope));
    });

    await withFreshTicket(ctx, P.noShare, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'psk_dhe_ke without key share',
        'offers a valid ticket with psk_dhe_ke and no key_share or supported_groups',
        () => ctx.hello({ groups: null, shareGroups: null, offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      // Any abort is right here (no alert is named for it); resuming without a share is the violation.
      const j = judgeMustAbort(r, [r.alert ?? 'missing_extension']);
      const resumedWithoutShare = r.outcome === 'resumed' && r.conn.serverKeyShare === undefined;
      emit(
        outcomeFinding(
          P.noShare,
          r,
          { verdict: j.verdict, reason: r.outcome === 'aborted' ? `the server refused the ClientHello (${r.alert})` : j.reason },
          scope,
          { after: resumedWithoutShare ? ' without (EC)DHE (psk_ke, not offered)' : '' },
        ),
      );
    });
  },
};
