/**
 * The second ClientHello after a HelloRetryRequest (RFC 8446 §4.1.2,
 * §4.2.11.2): the probing server answers the first resumption offer with a
 * HelloRetryRequest under the ticket's cipher suite, asking for a group the
 * client supports but sent no share for (or, when there is none, with a
 * cookie). The second ClientHello must be the first with only the allowed
 * changes, keep every PSK compatible with the suite, and bind each one
 * again, over message_hash(ClientHello1) and the HelloRetryRequest.
 */

import { suiteInfo } from '../../../crypto/suites.js';
import { findExtension } from '../../../wire/extensions.js';
import { ExtensionType } from '../../../wire/types.js';
import type { FindingDraft } from '../../findings.js';
import type { Judgement } from '../../server/checks/common.js';
import { sameBytes } from '../hello.js';
import {
  type ConnectionObservation,
  draft,
  inconclusive,
  noOffer,
  type ProbeDef,
  reaction,
  records,
  resumable,
  resumeIfPossible,
  type Scenario,
  type ScenarioState,
  STANDARD_TICKETS,
} from './common.js';

const check = 'hrr';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });
const PATH = ['expectServerHello', 'expectServerHelloAfterRetry', 'expectEncryptedExtensions', 'expectServerFinished', 'connected'];

export const HRR_PROBES = {
  second: def({
    id: 'hrr.second-hello',
    title: 'The second ClientHello changes only what a HelloRetryRequest allows',
    rfc: {
      section: '4.1.2',
      keyword: 'MUST',
      text: 'The client MUST send the same ClientHello without modification, except: key_share replaced by a single share of the indicated group, early_data removed, the cookie echoed, pre_shared_key updated (ages and binders recomputed, incompatible PSKs optionally removed), padding changed.',
    },
    refusal: 'SecondHelloChanged',
    expected: {
      summary: 'a second ClientHello equal to the first but for key_share, early_data, cookie, pre_shared_key and padding, as allowed',
      statePath: PATH,
    },
    sends: "a HelloRetryRequest, under the ticket's cipher suite, to the first ClientHello that offers a ticket; then resumes",
  }),
  kept: def({
    id: 'hrr.psk-kept',
    title: 'The PSK is kept after a HelloRetryRequest that allows it',
    rfc: {
      section: '4.1.2',
      keyword: 'MUST',
      text: 'Only PSKs incompatible with the cipher suite of the HelloRetryRequest may be removed from the second ClientHello; a compatible one is offered again, with its age and binder recomputed.',
    },
    expected: {
      summary: 'every ticket offered in the first hello, compatible with the suite, offered again in the second',
      statePath: PATH,
    },
    sends: 'the same HelloRetryRequest, whose cipher suite has the hash of the ticket offered',
  }),
  binder: def({
    id: 'hrr.binder',
    title: 'Binders recomputed over message_hash and the HelloRetryRequest',
    rfc: {
      section: '4.2.11.2',
      keyword: 'MUST',
      text: 'After a HelloRetryRequest the binder covers message_hash(ClientHello1), the HelloRetryRequest and the truncated second ClientHello; a server MUST abort if it does not validate.',
    },
    refusal: 'IncorrectBinder',
    expected: {
      summary: 'each binder of the second hello verifies over message_hash(ClientHello1) ‖ HelloRetryRequest ‖ truncated ClientHello2',
      statePath: PATH,
    },
    sends: "the same HelloRetryRequest; the binders of the second hello are recomputed with the ticket's PSK",
  }),
} satisfies Record<string, ProbeDef>;

/** Codes §4.1.2 lets the second hello change. */
const MAY_CHANGE = new Set<number>([
  ExtensionType.key_share,
  ExtensionType.early_data,
  ExtensionType.cookie,
  ExtensionType.pre_shared_key,
  21 /* padding */,
]);

/** What differs between the two hellos beyond §4.1.2's allowances. */
export function secondHelloDifferences(c: ConnectionObservation): string[] {
  const [one, two] = c.hellos;
  const hrr = c.helloRetryRequest;
  if (!one || !two || !hrr) return [];
  const diffs: string[] = [];
  const a = one.hello;
  const b = two.hello;
  if (a.legacyVersion !== b.legacyVersion) diffs.push('legacy_version changed');
  if (!sameBytes(a.random, b.random)) diffs.push('random changed');
  if (!sameBytes(a.legacySessionId, b.legacySessionId)) diffs.push('legacy_session_id changed');
  if (a.cipherSuites.join() !== b.cipherSuites.join()) diffs.push('cipher_suites changed');
  if (!sameBytes(a.legacyCompressionMethods, b.legacyCompressionMethods)) diffs.push('legacy_compression_methods changed');
  const fixed = (exts: typeof one.parsed.extensions) => exts.filter((e) => !MAY_CHANGE.has(e.code));
  const x = fixed(one.parsed.extensions);
  const y = fixed(two.parsed.extensions);
  const codes = (l: typeof x) => l.map((e) => e.code).join(',');
  if (codes(x) !== codes(y)) diffs.push(`extensions [${codes(x)}] became [${codes(y)}]`);
  else {
    for (const [i, e] of x.entries()) if (!sameBytes(e.data, (y[i] as (typeof y)[number]).data)) diffs.push(`extension ${e.code} changed`);
  }
  const asked = findExtension(hrr.extensions, 'key_share_hrr')?.selectedGroup;
  const shares = two.keyShares ?? [];
  if (asked !== undefined && (shares.length !== 1 || shares[0]?.group !== asked))
    diffs.push(`key_share holds ${shares.length} share(s) (${shares.map((s) => s.group).join(', ')}), not one for group ${asked}`);
  if (asked === undefined) {
    const k1 = one.parsed.extensions.find((e) => e.code === ExtensionType.key_share);
    const k2 = two.parsed.extensions.find((e) => e.code === ExtensionType.key_share);
    if ((k1 === undefined) !== (k2 === undefined) || (k1 && k2 && !sameBytes(k1.data, k2.data)))
      diffs.push('key_share changed although the HelloRetryRequest asked for no group');
  }
  if (two.earlyData) diffs.push('early_data still offered');
  const cookie = findExtension(hrr.extensions, 'cookie')?.cookie;
  const echoed = findExtension(b.extensions, 'cookie')?.cookie;
  if (cookie && (!echoed || !sameBytes(cookie, echoed))) diffs.push('the cookie is not echoed');
  if (!cookie && echoed) diffs.push('a cookie the HelloRetryRequest did not send');
  return diffs;
}

const noSecond = (c: ConnectionObservation): Judgement => ({
  rfcVerdict: 'fail',
  observed: { summary: `the client ${reaction(c)} instead of sending a second ClientHello`, alert: c.alert ?? null },
  measured: { reaction: reaction(c) },
  reason: `a valid HelloRetryRequest must be answered with a second ClientHello (§4.1.4); the client ${reaction(c)}`,
});

export const helloRetryScenario: Scenario = {
  id: 'hello-retry',
  check,
  title: 'HelloRetryRequest on resumption',
  does: 'answers the first ClientHello that offers a ticket with a HelloRetryRequest (a group the client sent no share for, or a cookie), then resumes',
  connections: 2,
  instructions: 'connect twice: a full handshake, then one that offers a ticket',
  probes: Object.values(HRR_PROBES),
  reply: (v, s: ScenarioState) => {
    const id = resumable(v);
    if (id && !v.afterRetry && !s.deviated) {
      s.deviated = true;
      return { kind: 'retry', identity: id };
    }
    return resumeIfPossible(v);
  },
  tickets: () => STANDARD_TICKETS,
  judge(s): FindingDraft[] {
    const P = HRR_PROBES;
    const c = s.connections.find((x) => x.retried);
    if (!c) return Object.values(P).map((p) => inconclusive(p, noOffer(s), records(s.connections)));
    const second = c.hellos.length > 1;
    const others = records(s.connections.filter((x) => x !== c));
    if (!second) return Object.values(P).map((p) => draft(p, [c.record], noSecond(c), others));
    const [one, two] = c.hellos as [NonNullable<(typeof c.hellos)[0]>, NonNullable<(typeof c.hellos)[1]>];
    const out: FindingDraft[] = [];
    const diffs = secondHelloDifferences(c);
    out.push(
      draft(
        P.second,
        [c.record],
        {
          rfcVerdict: diffs.length > 0 ? 'fail' : 'pass',
          observed: {
            summary:
              diffs.length > 0 ? `the second ClientHello: ${diffs.join('; ')}` : 'the second ClientHello changes only what §4.1.2 allows',
          },
          measured: {
            differences: diffs,
            askedGroup: c.helloRetryRequest
              ? (findExtension(c.helloRetryRequest.extensions, 'key_share_hrr')?.selectedGroup ?? null)
              : null,
            cookie: c.helloRetryRequest ? findExtension(c.helloRetryRequest.extensions, 'cookie') !== undefined : false,
          },
          reason:
            diffs.length > 0
              ? 'the second ClientHello changes more than a HelloRetryRequest allows'
              : 'the second ClientHello is the first with the allowed changes',
        },
        others,
      ),
    );
    const suite = c.helloRetryRequest ? suiteInfo(c.helloRetryRequest.cipherSuite) : undefined;
    const compatible = one.identities.filter((i) => i.ticket && i.ticket.suite.hash === suite?.hash);
    const dropped = compatible.filter((i) => !two.identities.some((j) => sameBytes(j.identity, i.identity)));
    out.push(
      draft(
        P.kept,
        [c.record],
        {
          rfcVerdict: dropped.length > 0 ? 'fail' : 'pass',
          observed: {
            summary: !two.offersPsk
              ? 'the second ClientHello offers no PSK'
              : dropped.length > 0
                ? `${dropped.length} of ${compatible.length} compatible ticket(s) dropped`
                : `all ${compatible.length} compatible ticket(s) offered again`,
          },
          measured: { compatible: compatible.length, dropped: dropped.length, resumed: c.resumed && c.clientFinished === true },
          reason:
            dropped.length > 0
              ? "a PSK compatible with the HelloRetryRequest's suite was removed"
              : 'the PSK is kept, so the handshake can still resume',
        },
        others,
      ),
    );
    const ours = two.identities.filter((i) => i.ticket);
    if (ours.length === 0)
      out.push(inconclusive(P.binder, 'the second ClientHello offers none of the tickets: no binder to check', [c.record], {}));
    else {
      const bad = ours.filter((i) => i.binderValid !== true);
      out.push(
        draft(
          P.binder,
          [c.record],
          {
            rfcVerdict: bad.length > 0 ? 'fail' : 'pass',
            observed: {
              summary:
                bad.length > 0
                  ? `${bad.length} of ${ours.length} binder(s) of the second hello do not verify`
                  : `the ${ours.length} binder(s) of the second hello verify over message_hash and the HelloRetryRequest`,
            },
            measured: { binders: ours.length, invalid: bad.length, resumed: c.resumed && c.clientFinished === true },
            reason:
              bad.length > 0
                ? 'a binder of the second ClientHello is not recomputed over message_hash(ClientHello1) and the HelloRetryRequest'
                : 'the binders are recomputed',
          },
          others,
        ),
      );
    }
    return out;
  },
};
