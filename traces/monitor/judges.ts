/**
 * How the monitor answers the guards of a chart.
 *
 * By default a guard is the chart's own implementation, run on the monitor's
 * public context (context.ts): the EncryptedExtensions, CertificateRequest and
 * Certificate rules, ChangeCipherSpec, close_notify, resumption, and any guard
 * a chart adds. The monitor has its own rule only for guards whose chart
 * implementation needs what a trace cannot give:
 *
 * - the hellos: the chart's judges also hold private keys, tickets and the
 *   server's certificates, so the monitor runs the same public rules the
 *   judges start with (machines/server/rules.ts `clientHelloViolation`,
 *   machines/client/rules.ts `helloRetryViolation`, `serverHelloViolation`)
 *   on a view built from what it knows; the server's policy after those rules
 *   (suites, groups, ALPN, certificates it has) comes from the trace;
 * - secrets and the side's own choices: the PSK binder and ticket lookup,
 *   whether to retry, whether to ask for a client certificate, certificate
 *   trust and the Finished MAC take the outcome the trace recorded for the
 *   step, or else the one its reaction shows;
 * - CertificateVerify needs no secret: the chart's own judge recomputes it on
 *   the public transcript with the key of the peer's certificate, whenever the
 *   monitor has both; otherwise the trace decides.
 *
 * Two checks the client side cannot always make: PskHashMismatch needs the
 * hash of the offered ticket's suite, which a trace records only as the
 * client's `sessionSuite` (without it that check is skipped); and the server's
 * share of a KEM group (a hybrid such as X25519MLKEM768) is a ciphertext only
 * the client's decapsulation can judge. In both cases the trace decides.
 */
import { nobleProvider } from '../../crypto/noble.js';
import type { ClientContext } from '../../machines/client/context.js';
import { judgeEncryptedExtensions } from '../../machines/client/judge.js';
import {
  type ClientView,
  certificateRequestViolation,
  helloRetryViolation,
  serverCertificateViolation,
  serverHelloViolation,
} from '../../machines/client/rules.js';
import { offersPskDheKe } from '../../machines/server/logic.js';
import { type ClientHelloView, clientHelloViolation } from '../../machines/server/rules.js';
import type { TlsEvent } from '../../machines/types.js';
import type { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { RefusalReason } from '../../wire/refusals.js';
import type { ClientHello, ServerHello } from '../../wire/types.js';
import type { Role, SideTrace, TraceStep } from '../format.js';
import { offeredPskHash, type PublicContext, recordedFlag, serverGroups } from './context.js';
import { type Knowledge, suiteOf } from './knowledge.js';
import { failedWith, recordedGuard, repliedResumed, repliedWithCertificateRequest, repliedWithRetry } from './recorded.js';

/** One received step being replayed: what the monitor's guards may look at. */
export interface Replay {
  role: Role;
  side: SideTrace;
  step: TraceStep;
  k: Knowledge;
  context: PublicContext;
  /** Refusals without an alert that the monitor's rules applied (PskKeOnlyIgnored): they explain a branch the trace did not take. */
  notes: Set<RefusalReason>;
}

/** A guard implementation as XState calls it. */
export type GuardImpl = (args: { context: unknown; event: TlsEvent }, params?: unknown) => boolean;

/** A monitor rule: the replayed step, the event, and the chart's own guard on the public context. */
type Rule = (r: Replay, event: TlsEvent, chartGuard: () => boolean) => boolean;

// ------------------------------------------------------------ public views for the charts' rules

/** §4.1.2, §4.2: what the server's rules see — its HelloRetryRequest, the first ClientHello, the groups it would use. */
export function clientHelloView(r: Replay): ClientHelloView {
  return {
    helloRetryRequest: r.k.helloRetry,
    clientHello1: r.k.clientHello1,
    groups: serverGroups(r.side.config),
    isValidShare: (group, share) => nobleProvider.isValidShare(group, share),
  };
}

/**
 * (EC)DHE groups (RFC 8446 §4.2.7: ECDHE 0x0017–0x001E, FFDHE 0x0100–0x01FF):
 * the server's share has the form of a client's, so the provider's public
 * check applies to it. For any other group (a KEM, such as a hybrid) the
 * server's share is a ciphertext that only decapsulation — with the client's
 * secret key — can judge.
 */
export const isDheGroup = (group: number): boolean => (group >= 0x0017 && group <= 0x001e) || (group >= 0x0100 && group <= 0x01ff);

/** §4.1.3, §4.1.4: what the client's rules see — the ClientHello it sent, the HelloRetryRequest it got. */
export function clientView(r: Replay): ClientView | undefined {
  const ch = r.k.clientHello;
  if (!ch) return undefined;
  return {
    clientHello: ch,
    helloRetryRequest: r.k.helloRetry,
    pskHash: findExtension(ch.extensions, 'pre_shared_key_client') ? offeredPskHash(r.side.config) : undefined,
    // A KEM ciphertext passes here; whether the client could decapsulate it is taken from the trace (hasServerHelloProblem).
    isValidShare: (group, share) => !isDheGroup(group) || nobleProvider.isValidShare(group, share),
  };
}

/** The client's rules on a ServerHello or HelloRetryRequest. */
function serverHelloRefusal(r: Replay, sh: ServerHello): TlsError | undefined {
  const view = clientView(r);
  if (!view) return undefined;
  return sh.isHelloRetryRequest ? helloRetryViolation(view, sh) : serverHelloViolation(view, sh);
}

/**
 * The refusal the charts' public rules find in a received message, for a
 * failure branch whose action is not a `fail` naming its reason (the chart's
 * action reads its judge's verdict, which the monitor recomputes here).
 */
export function publicRefusal(r: Replay, event: TlsEvent): TlsError | undefined {
  if (r.role === 'server') return event.type === 'recv.ClientHello' ? clientHelloViolation(clientHelloView(r), event.msg) : undefined;
  switch (event.type) {
    case 'recv.ServerHello':
      return serverHelloRefusal(r, event.msg);
    case 'recv.EncryptedExtensions': {
      if (!r.k.clientHello) return undefined;
      const v = judgeEncryptedExtensions(r.context as unknown as ClientContext, event.msg);
      return v.kind === 'refuse' ? v.error : undefined;
    }
    case 'recv.CertificateRequest':
      return certificateRequestViolation(event.msg);
    case 'recv.Certificate':
      return serverCertificateViolation(event.msg);
    default:
      return undefined;
  }
}

// ------------------------------------------------------------ outcomes from the trace

/** The outcome the trace recorded for this guard on this step, else the one its reaction shows. */
const fromTrace = (r: Replay, name: string, reaction: () => boolean): boolean => recordedGuard(r.step, name) ?? reaction();
const failed = (r: Replay) => r.step.stateAfter === 'failed';
const failedWithAlert = (r: Replay, ...alerts: string[]) => failedWith(r.side, r.step, ...alerts);
/** A guard whose outcome needs a secret or the side's policy: recorded outcome, else reaction. */
const traced =
  (name: string, reaction: (r: Replay) => boolean): Rule =>
  (r) =>
    fromTrace(r, name, () => reaction(r));

/** CertificateVerify: the chart's own judge on the public transcript when the monitor has the peer's key; else the trace. */
const signature =
  (name: string, reaction: (r: Replay) => boolean): Rule =>
  (r, _e, chartGuard) =>
    r.k.peerSpki !== undefined && suiteOf(r.k) !== undefined ? chartGuard() : fromTrace(r, name, () => reaction(r));

const helloOf = (e: TlsEvent): ClientHello | undefined => (e.type === 'recv.ClientHello' ? e.msg : undefined);
const serverHelloOf = (e: TlsEvent): ServerHello | undefined => (e.type === 'recv.ServerHello' ? e.msg : undefined);

/**
 * Resumption: a ticket lookup and a binder (secrets, the server's store), but
 * only on an offer the server chart can resume — a pre_shared_key with
 * psk_dhe_ke (machines/server/logic.ts `offersPskDheKe`). A trace that resumes
 * a psk_ke-only offer gets the note that explains the branch (§4.2.9).
 */
const resumption =
  (name: string, reaction: (r: Replay) => boolean): Rule =>
  (r, e) => {
    const ch = helloOf(e);
    if (!ch || !findExtension(ch.extensions, 'pre_shared_key_client')) return false;
    const traceSays = fromTrace(r, name, () => reaction(r));
    if (!offersPskDheKe(ch)) {
      if (traceSays) r.notes.add('PskKeOnlyIgnored');
      return false;
    }
    return traceSays;
  };

// ------------------------------------------------------------ the rules, by guard name

const CLIENT_RULES: Record<string, Rule> = {
  isValidHelloRetryRequest: (r, e) => {
    const sh = serverHelloOf(e);
    return sh?.isHelloRetryRequest === true && serverHelloRefusal(r, sh) === undefined;
  },
  hasServerHelloProblem: (r, e) => {
    const sh = serverHelloOf(e);
    if (!sh || sh.isHelloRetryRequest) return false;
    if (serverHelloRefusal(r, sh)) return true;
    // What the monitor may lack: the offered ticket's hash (PskHashMismatch) when the trace does not name it,
    // and a KEM share, which only the client's decapsulation judges. There the trace decides.
    const pskUnjudged = findExtension(sh.extensions, 'pre_shared_key_server') !== undefined && clientView(r)?.pskHash === undefined;
    const share = findExtension(sh.extensions, 'key_share_server')?.share;
    const shareUnjudged = share !== undefined && !isDheGroup(share.group);
    return (pskUnjudged || shareUnjudged) && fromTrace(r, 'hasServerHelloProblem', () => failedWithAlert(r, 'illegal_parameter'));
  },
  isServerCertificateTrusted: traced('isServerCertificateTrusted', (r) => !failed(r)),
  isSignatureSchemeAcceptable: signature('isSignatureSchemeAcceptable', (r) => !failedWithAlert(r, 'illegal_parameter')),
  isServerSignatureValid: signature('isServerSignatureValid', (r) => !failed(r)),
  isServerFinishedValid: traced('isServerFinishedValid', (r) => !failedWithAlert(r, 'decrypt_error')),
};

const SERVER_RULES: Record<string, Rule> = {
  hasClientHelloProblem: (r, e) => {
    const ch = helloOf(e);
    if (!ch) return false;
    if (clientHelloViolation(clientHelloView(r), ch)) return true;
    // Past the public rules, the server's own policy (suites, groups, ALPN, its certificates) refuses or not: the trace says.
    return fromTrace(r, 'hasClientHelloProblem', () => failed(r) && !failedWithAlert(r, 'decrypt_error'));
  },
  needsHelloRetry: traced('needsHelloRetry', (r) => repliedWithRetry(r.side, r.step)),
  hasValidBinder: resumption('hasValidBinder', (r) => repliedResumed(r.side, r.step)),
  hasResumableTicket: resumption('hasResumableTicket', (r) => repliedResumed(r.side, r.step) || failedWithAlert(r, 'decrypt_error')),
  requestsClientCertificate: (r) =>
    recordedFlag(r.side.config, 'requestClientCertificate') ??
    fromTrace(r, 'requestsClientCertificate', () => repliedWithCertificateRequest(r.side, r.step)),
  // The chart's own judge decides from the recorded configuration; a trace without it (an import) shows the reaction.
  lacksRequiredClientCertificate: (r, e, chartGuard) =>
    recordedFlag(r.side.config, 'requireClientCertificate') !== undefined
      ? chartGuard()
      : e.type === 'recv.Certificate' && e.msg.entries.length === 0 && failedWithAlert(r, 'certificate_required'),
  isClientCertificateTrusted: traced('isClientCertificateTrusted', (r) => !failed(r)),
  isSignatureSchemeAcceptable: signature('isSignatureSchemeAcceptable', (r) => !failedWithAlert(r, 'illegal_parameter')),
  isClientSignatureValid: signature('isClientSignatureValid', (r) => !failed(r)),
  isClientFinishedValid: traced('isClientFinishedValid', (r) => !failedWithAlert(r, 'decrypt_error')),
};

/**
 * The chart's own guard on the public context. A guard that cannot run there
 * (it throws for want of a secret the context does not hold) takes the
 * trace's outcome, as a secret-needing guard does.
 */
function runChartGuard(r: Replay, name: string, original: GuardImpl, event: TlsEvent, params: unknown): boolean {
  try {
    return original({ context: r.context, event }, params);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return fromTrace(r, name, () => !failed(r));
  }
}

/** Every guard of `chart`, as the monitor answers it during the replay of the step `current()` returns. */
export function monitorGuards(role: Role, originals: Record<string, GuardImpl>, current: () => Replay): Record<string, GuardImpl> {
  const rules = role === 'client' ? CLIENT_RULES : SERVER_RULES;
  const guards: Record<string, GuardImpl> = {};
  for (const [name, original] of Object.entries(originals)) {
    const rule = rules[name];
    guards[name] = ({ event }, params) => {
      const r = current();
      const chartGuard = () => runChartGuard(r, name, original, event, params);
      return rule ? rule(r, event, chartGuard) : chartGuard();
    };
  }
  return guards;
}
