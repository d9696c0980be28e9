/**
 * Conformance monitor: replays a trace through the statechart of the recorded
 * side and reports whether what the trace shows is what a conforming
 * implementation does, or the first place where it is not.
 *
 * For each side of each handshake, a fresh actor of that side's chart (the
 * real machine definition: its states, events, branches and guard names) gets
 * the side's received messages as events, decoded from the recorded bytes.
 * What the monitor cannot recompute without secrets it takes from the trace:
 *
 * - crypto and store guards (Finished, CertificateVerify, binder, chain trust,
 *   ticket lookup) take the outcome recorded for that step — or, in a trace
 *   without guard outcomes, the outcome the recorded reaction shows;
 * - everything decidable from public material is recomputed: which message
 *   is allowed in which state (the chart), the extension rules of ServerHello,
 *   HelloRetryRequest, EncryptedExtensions and ClientHello against what the
 *   recorded side itself sent, resumption only with psk_dhe_ke, at most one
 *   ChangeCipherSpec, early_data never accepted, and the alert each refusal
 *   calls for.
 *
 * Actions are replaced by ones that touch no keys: the monitor keeps its own
 * small record of what was sent and received.
 *
 * After each received message the monitor compares its prediction (next
 * state, branch, alert) with the trace. The first difference is the
 * violation: step, state, message, what RFC 8446 requires there (section) and
 * the alert a conforming implementation sends.
 */
import { decodeError } from '../wire/reader.js';
import { isRefusalReason, REFUSALS, type AlertingReason } from '../wire/refusals.js';
import { createActor, type AnyStateMachine, type InspectionEvent } from 'xstate';
import { fromHex } from '../crypto/bytes.js';
import { suiteInfo } from '../crypto/suites.js';
import { defaultClientConfig, defaultServerConfig } from '../engine/config.js';
import { seededEnvironment } from '../engine/env.js';
import { clientMachine } from '../machines/client/machine.js';
import { certificateRequestViolation as certificateRequestProblem, serverCertificateViolation as serverCertificateProblem } from '../machines/client/rules.js';
import { serverMachine } from '../machines/server/machine.js';
import { MESSAGE_EVENTS, type TlsEvent } from '../machines/types.js';
import { AlertDescription, TlsError, type AlertName } from '../wire/alerts.js';
import { findDisallowedExtension, findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import { PskKeyExchangeMode, TLS13, type ClientHello, type EncryptedExtensions, type HandshakeMessage, type ServerHello } from '../wire/types.js';
import type { Role, SideTrace, Trace, TraceStep } from './format.js';

export interface Violation {
  /** Index of the handshake in the trace, and its label. */
  handshake: number;
  label: string;
  role: Role;
  /** Index of the step in the side's steps, and its sequence number. */
  step: number;
  seq: number;
  /** The state the conforming chart was in when the message arrived. */
  state: string;
  /** The message (or record kind) received. */
  message: string;
  /** What RFC 8446 requires at this point. */
  requirement: string;
  /** The RFC 8446 section that says so. */
  section: string;
  /** The alert a conforming implementation sends here; null when it goes on without one. */
  alert: string | null;
  /** What the trace shows instead. */
  recorded: string;
}

export type CheckResult = { conforms: true; steps: number } | { conforms: false; steps: number; violation: Violation };

/** Check every side of every handshake; the first violation ends the check. */
export function checkTrace(trace: Trace): CheckResult {
  let steps = 0;
  for (const [h, hs] of trace.handshakes.entries()) {
    for (const side of hs.sides) {
      const r = checkSide(side, { handshake: h, label: hs.label });
      steps += r.steps;
      if (!r.conforms) return { conforms: false, steps, violation: r.violation };
    }
  }
  return { conforms: true, steps };
}

// ------------------------------------------------------------------ what the monitor knows

interface Knowledge {
  /** The last ClientHello the recorded side sent (client) or received (server). */
  clientHello: ClientHello | undefined;
  /** The HelloRetryRequest sent (server) or received (client). */
  helloRetry: ServerHello | undefined;
  /** The ServerHello (not HRR) sent (server) or accepted (client). */
  serverHello: ServerHello | undefined;
  ccsReceived: boolean;
  peerFinished: boolean;
  clientHelloSeen: boolean;
  /** close_notify sent by the recorded side / received from the peer (RFC 8446 §6.1). */
  closeNotifySent: boolean;
  closeNotifyReceived: boolean;
}

interface Prediction {
  alert: string;
  reason: string;
  section: string;
  requirement: string;
  remote: boolean;
}

const sectionOf = (text: string): string | undefined => /§\s?([0-9A-D][0-9.]*)/.exec(text)?.[0]?.replace(/\s/, '');

/** Where RFC 8446 says what may come in each state, for unexpected_message. */
function expectedHere(role: Role, state: string, k: Knowledge, message: string): { requirement: string; section: string } {
  const resumed = k.serverHello !== undefined && findExtension(k.serverHello.extensions, 'pre_shared_key_server') !== undefined;
  if (role === 'server' && message === 'end_of_early_data') {
    return {
      requirement: 'EndOfEarlyData is sent only after the server accepted early data (early_data in EncryptedExtensions), which tlschart never does; anything out of order is unexpected_message (Appendix A.2)',
      section: '§4.5',
    };
  }
  const table: Record<string, [string, string]> =
    role === 'client'
      ? {
          expectServerHello: ['the server answers the ClientHello with a ServerHello or a HelloRetryRequest', '§4.1.3'],
          expectServerHelloAfterRetry: ['after a HelloRetryRequest the server sends a ServerHello', '§4.1.4'],
          expectEncryptedExtensions: ['EncryptedExtensions comes right after the ServerHello (Appendix A.1: WAIT_EE)', '§4.3.1'],
          expectCertificateOrCertificateRequest: ['without a PSK the server sends CertificateRequest or Certificate next (Appendix A.1: WAIT_CERT_CR)', '§4.4.2'],
          expectCertificate: ['after a CertificateRequest the server sends its Certificate (Appendix A.1: WAIT_CERT)', '§4.4.2'],
          expectCertificateVerify: ['CertificateVerify follows the server Certificate (Appendix A.1: WAIT_CV)', '§4.4.3'],
          expectServerFinished: resumed
            ? ['with a PSK the server authenticates with the PSK: no Certificate or CertificateVerify, Finished comes next (Appendix A.1: WAIT_EE → WAIT_FINISHED)', '§2.2']
            : ['the server Finished follows CertificateVerify (Appendix A.1: WAIT_FINISHED)', '§4.4.4'],
          connected: ['after the handshake only NewSessionTicket, KeyUpdate, alerts and application data may arrive', '§4.6'],
        }
      : {
          expectClientHello: ['the client opens with a ClientHello', '§4.1.2'],
          expectSecondClientHello: ['after a HelloRetryRequest the client sends a second ClientHello', '§4.1.2'],
          expectClientCertificate: ['after a CertificateRequest the client sends a Certificate (possibly empty) (Appendix A.2: WAIT_CERT)', '§4.4.2'],
          expectClientCertificateVerify: ['CertificateVerify follows a non-empty client Certificate (Appendix A.2: WAIT_CV)', '§4.4.3'],
          expectClientFinished: ['the client Finished comes next (Appendix A.2: WAIT_FINISHED)', '§4.4.4'],
          connected: ['after the handshake only KeyUpdate, alerts and application data may arrive', '§4.6'],
        };
  const [requirement, section] = table[state] ?? [`${message} is not allowed in state ${state}`, '§4'];
  return { requirement, section };
}

/** The RFC section and sentence for the failures the charts name. */
const REASONS: Record<string, [string, string]> = {
  BadFinished: ['Finished.verify_data must equal HMAC(finished_key, Transcript-Hash); otherwise decrypt_error', '§4.4.4'],
  BadSignature: ['the CertificateVerify signature must verify over the transcript; otherwise decrypt_error', '§4.4.3'],
  UnofferedSignatureScheme: ['CertificateVerify must use a scheme the peer offered and the certificate key supports; otherwise illegal_parameter', '§4.4.3'],
  IncorrectBinder: ['the PSK binder must verify over the truncated ClientHello; otherwise decrypt_error', '§4.2.11.2'],
  UnofferedEarlyData: ['early_data may appear in EncryptedExtensions only if the client offered it; an unsolicited extension response is unsupported_extension', '§4.2.10'],
  SecondHelloRetryRequest: ['a client receiving a second HelloRetryRequest aborts with unexpected_message', '§4.1.4'],
  UnexpectedChangeCipherSpec: ['one unprotected change_cipher_spec may arrive during the handshake, and no other; otherwise unexpected_message', '§5'],
  NoClientCertificate: ['a server that requires client authentication aborts with certificate_required when the client sends none', '§4.4.2.4'],
  CertificateContext: ['the certificate_request_context must be the one the server sent (empty during the handshake)', '§4.4.2'],
  CertificateRequestContext: ['certificate_request_context is empty during the handshake', '§4.3.2'],
  EmptyCertificate: ['the server must send at least one certificate; an empty server Certificate is decode_error', '§4.4.2.4'],
  NoTls13: ['a TLS 1.3 implementation that negotiates no TLS 1.3 aborts with protocol_version', '§4.2.1'],
  UnofferedVersion: ['the selected version must be one the client offered', '§4.2.1'],
  SessionIdMismatch: ['legacy_session_id_echo must equal the client\'s legacy_session_id', '§4.1.3'],
  UnofferedCipherSuite: ['the server selects a cipher suite the client offered', '§4.1.3'],
  SuiteChangedAfterRetry: ['the ServerHello cipher suite must be the one of the HelloRetryRequest', '§4.1.4'],
  UnsolicitedExtension: ['an extension response the client did not request is unsupported_extension', '§4.2'],
  ExtensionNotAllowed: ['an extension not specified for the message it appears in is illegal_parameter', '§4.2'],
  SelectedUnofferedPsk: ['selected_identity must be within the range of the identities the client sent', '§4.2.11'],
  PskWithoutKeyShare: ['the client offered psk_dhe_ke only: a PSK ServerHello must carry a key_share', '§4.2.9'],
  PskHashMismatch: ['the PSK\'s hash must be the hash of the selected cipher suite', '§4.2.11'],
  MissingKeyShare: ['an (EC)DHE ServerHello carries key_share', '§4.2.8'],
  UnofferedGroup: ['the server\'s key share must be in a group the client sent a share for', '§4.2.8'],
  GroupChangedAfterRetry: ['after a HelloRetryRequest the ServerHello uses the group it asked for', '§4.1.4'],
  RetryForSentShare: ['a HelloRetryRequest must not ask for a group the client already sent a share for', '§4.2.8'],
  HelloRetryChangesNothing: ['a HelloRetryRequest that would not change the ClientHello is illegal_parameter', '§4.1.4'],
  Compression: ['legacy_compression_methods is exactly one null byte in TLS 1.3', '§4.1.2'],
  PskWithoutModes: ['a ClientHello with pre_shared_key must carry psk_key_exchange_modes; otherwise missing_extension', '§4.2.9'],
  BinderCountMismatch: ['there is one binder per PSK identity', '§4.2.11'],
  CookieMismatch: ['the second ClientHello echoes the HelloRetryRequest cookie', '§4.2.2'],
  PskKeOnlyResumed: ['tlschart resumes only with psk_dhe_ke: a PSK offered with psk_ke alone is ignored and the handshake is done in full', '§4.2.9'],
};

/** What may be sent when, for the side's own messages. */
const SENDING: Record<string, [string, string]> = {
  new_session_ticket: ['the server sends NewSessionTicket only after it has received the client Finished', '§4.6.1'],
  application_data: ['application data is sent only once the handshake is complete', '§2'],
  finished: ['Finished is sent after the peer\'s flight was verified', '§4.4.4'],
  key_update: ['KeyUpdate is sent only after the handshake is complete', '§4.6.3'],
  client_hello: ['a second ClientHello answers a HelloRetryRequest only', '§4.1.2'],
};

// ------------------------------------------------------------------ structural checks

function decode(hex: string, hashLen?: number): ReturnType<typeof decodeHandshake> {
  return decodeHandshake(fromHex(hex), hashLen === undefined ? {} : { hashLen });
}

/** §4.1.3, §4.1.4, §4.2: what the client can tell about a ServerHello from public material. */
function serverHelloProblem(k: Knowledge, sh: ServerHello): string | undefined {
  const ch = k.clientHello;
  if (!ch) return undefined;
  const sv = findExtension(sh.extensions, 'supported_versions_server');
  if (!sv) return 'NoTls13';
  if (sv.version !== TLS13) return 'UnofferedVersion';
  if (!sameHex(sh.legacySessionIdEcho, ch.legacySessionId)) return 'SessionIdMismatch';
  if (!ch.cipherSuites.includes(sh.cipherSuite)) return 'UnofferedCipherSuite';
  if (k.helloRetry && !sh.isHelloRetryRequest && k.helloRetry.cipherSuite !== sh.cipherSuite) return 'SuiteChangedAfterRetry';
  if (sh.isHelloRetryRequest) {
    if (findDisallowedExtension(sh.extensions, 'hello_retry_request')) return 'ExtensionNotAllowed';
    const ks = findExtension(sh.extensions, 'key_share_hrr');
    if (!ks && !findExtension(sh.extensions, 'cookie')) return 'HelloRetryChangesNothing';
    const sent = findExtension(ch.extensions, 'key_share_client')?.shares.map((s) => s.group) ?? [];
    if (ks && sent.includes(ks.selectedGroup)) return 'RetryForSentShare';
    if (ks && !(findExtension(ch.extensions, 'supported_groups')?.groups ?? []).includes(ks.selectedGroup)) return 'UnofferedGroup';
    return undefined;
  }
  for (const e of sh.extensions) {
    if (e.type === 'unknown') return 'UnsolicitedExtension';
    if (e.type === 'pre_shared_key_server' && !findExtension(ch.extensions, 'pre_shared_key_client')) return 'UnsolicitedExtension';
  }
  if (findDisallowedExtension(sh.extensions, 'server_hello')) return 'ExtensionNotAllowed';
  const psk = findExtension(sh.extensions, 'pre_shared_key_server');
  const ks = findExtension(sh.extensions, 'key_share_server');
  if (psk) {
    const offered = findExtension(ch.extensions, 'pre_shared_key_client')?.identities.length ?? 0;
    if (psk.selectedIdentity >= offered) return 'SelectedUnofferedPsk';
    const modes = findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes ?? [];
    if (!ks && !modes.includes(PskKeyExchangeMode.psk_ke)) return 'PskWithoutKeyShare';
  }
  if (!ks) return psk ? undefined : 'MissingKeyShare';
  const sent = findExtension(ch.extensions, 'key_share_client')?.shares.map((s) => s.group) ?? [];
  if (!sent.includes(ks.share.group)) return 'UnofferedGroup';
  const asked = k.helloRetry && findExtension(k.helloRetry.extensions, 'key_share_hrr');
  if (asked && asked.selectedGroup !== ks.share.group) return 'GroupChangedAfterRetry';
  return undefined;
}

/** §4.2, §4.2.10: EncryptedExtensions may only answer what the ClientHello asked for. */
function encryptedExtensionsProblem(k: Knowledge, ee: EncryptedExtensions): string | undefined {
  const ch = k.clientHello;
  if (!ch) return undefined;
  for (const e of ee.extensions) {
    switch (e.type) {
      case 'server_name':
        if (!findExtension(ch.extensions, 'server_name')) return 'UnsolicitedExtension';
        break;
      case 'supported_groups':
        break;
      case 'alpn': {
        const offered = findExtension(ch.extensions, 'alpn')?.protocols;
        if (!offered) return 'UnsolicitedExtension';
        if (e.protocols.length !== 1 || !offered.includes(e.protocols[0] as string)) return 'ExtensionNotAllowed';
        break;
      }
      case 'early_data':
        if (!findExtension(ch.extensions, 'early_data')) return 'UnofferedEarlyData';
        break;
      case 'unknown':
        return 'UnsolicitedExtension';
      default:
        return 'ExtensionNotAllowed';
    }
  }
  return undefined;
}

/** §4.1.2, §4.2: what the server can tell about a ClientHello from public material. */
function clientHelloProblem(k: Knowledge, ch: ClientHello): string | undefined {
  const sv = findExtension(ch.extensions, 'supported_versions_client');
  if (!sv || !sv.versions.includes(TLS13)) return 'NoTls13';
  if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) return 'Compression';
  if (findDisallowedExtension(ch.extensions, 'client_hello')) return 'ExtensionNotAllowed';
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  if (psk && !findExtension(ch.extensions, 'psk_key_exchange_modes')) return 'PskWithoutModes';
  if (psk && psk.identities.length !== psk.binders.length) return 'BinderCountMismatch';
  const hrr = k.helloRetry;
  if (hrr) {
    const cookie = findExtension(hrr.extensions, 'cookie');
    const echoed = findExtension(ch.extensions, 'cookie');
    if (cookie && (!echoed || !sameHex(echoed.cookie, cookie.cookie))) return 'CookieMismatch';
    if (!ch.cipherSuites.includes(hrr.cipherSuite)) return 'SuiteChangedAfterRetry';
  }
  return undefined;
}

const offersPskDheKe = (ch: ClientHello | undefined): boolean =>
  ch !== undefined &&
  findExtension(ch.extensions, 'pre_shared_key_client') !== undefined &&
  (findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes.includes(PskKeyExchangeMode.psk_dhe_ke) ?? false);

function sameHex(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ------------------------------------------------------------------ one side

interface Where {
  handshake: number;
  label: string;
}

function describeStep(s: TraceStep): string {
  if (s.kind === 'handshake') return s.message?.type ?? 'handshake';
  if (s.kind === 'alert') return `alert(${s.alert?.description ?? '?'})`;
  return s.kind;
}

/** The alert the recorded side sent while handling `step`'s event (or the side's final error). */
function recordedAlert(side: SideTrace, step: TraceStep): string | undefined {
  const id = step.event?.id;
  const sent = side.steps.find((s) => s.direction === 'out' && s.kind === 'alert' && s.event?.id === id && s.alert?.level === 2);
  if (sent?.alert) return sent.alert.description;
  if (step.stateAfter === 'failed') return side.outcome.alert;
  return undefined;
}

/** What the recorded side sent while handling `step`'s event. */
const repliesTo = (side: SideTrace, step: TraceStep): TraceStep[] =>
  side.steps.filter((s) => s.direction === 'out' && step.event !== null && s.event?.id === step.event.id);

function eventFor(step: TraceStep, k: Knowledge): { event: TlsEvent; msg?: HandshakeMessage } {
  switch (step.kind) {
    case 'change_cipher_spec':
      return { event: { type: 'recv.ChangeCipherSpec' } };
    case 'alert': {
      const name = step.alert?.description ?? 'internal_error';
      const code = (AlertDescription as Record<string, number>)[name] ?? 80;
      return { event: { type: 'recv.Alert', level: step.alert?.level ?? 2, description: code } };
    }
    case 'application_data':
      return { event: { type: 'recv.ApplicationData', data: new Uint8Array(step.applicationData?.length ?? 0) } };
    case 'malformed': {
      const e = step.error;
      const alert = (e && e.alert in AlertDescription ? e.alert : 'decode_error') as AlertName;
      const reason = e && isRefusalReason(e.reason) ? e.reason : 'DecodeError';
      return { event: { type: 'recv.Malformed', error: new TlsError(alert as never, reason, e?.message ?? 'malformed record') } };
    }
    default: {
      const suite = k.serverHello?.cipherSuite;
      const hashLen = suite === undefined ? undefined : suiteInfo(suite)?.hashLen;
      const d = decode(step.message?.hex ?? '', hashLen);
      if (!d.ok) return { event: { type: 'recv.Malformed', error: decodeError(d.error) } };
      const msg = d.value;
      const type = MESSAGE_EVENTS[msg.type];
      return msg.type === 'client_hello' ? { event: { type: 'recv.ClientHello', msg, tickets: [] }, msg } : { event: { type, msg } as TlsEvent, msg };
    }
  }
}


type GuardFn = (args: { event: TlsEvent }) => boolean;

export function checkSide(side: SideTrace, where: Where = { handshake: 0, label: 'handshake' }): CheckResult {
  const role = side.role;
  const k: Knowledge = {
    clientHello: undefined,
    helloRetry: undefined,
    serverHello: undefined,
    ccsReceived: false,
    peerFinished: false,
    clientHelloSeen: false,
    closeNotifySent: false,
    closeNotifyReceived: false,
  };
  let current: TraceStep | undefined;
  let predicted: Prediction | undefined;
  const taken: Array<{ source: string; eventType: string; index: number }> = [];

  const recorded = (name: string): boolean | undefined => current?.guards.find((g) => g.guard === name)?.result;
  /** A guard the monitor cannot recompute: the recorded outcome, else what the recorded reaction shows. */
  const opaque = (name: string, fromReaction: () => boolean) => recorded(name) ?? fromReaction();
  const failedWith = (...alerts: string[]) => current !== undefined && current.stateAfter === 'failed' && alerts.includes(recordedAlert(side, current) ?? '');
  const cfg = side.config;

  const msgOf = <T extends HandshakeMessage['type']>(e: TlsEvent, type: T): Extract<HandshakeMessage, { type: T }> | undefined =>
    'msg' in e && e.msg.type === type ? (e.msg as Extract<HandshakeMessage, { type: T }>) : undefined;

  const clientGuards: Record<string, GuardFn> = {
    isHelloRetryRequest: ({ event }) => msgOf(event, 'server_hello')?.isHelloRetryRequest ?? false,
    isValidHelloRetryRequest: ({ event }) => {
      const sh = msgOf(event, 'server_hello');
      return sh !== undefined && sh.isHelloRetryRequest && serverHelloProblem(k, sh) === undefined && opaque('isValidHelloRetryRequest', () => !failedWith('illegal_parameter', 'unsupported_extension', 'protocol_version'));
    },
    hasServerHelloProblem: ({ event }) => {
      const sh = msgOf(event, 'server_hello');
      return sh !== undefined && (serverHelloProblem(k, sh) !== undefined || (recorded('hasServerHelloProblem') ?? failedWith('illegal_parameter', 'missing_extension', 'protocol_version', 'unsupported_extension')));
    },
    acceptsUnofferedEarlyData: ({ event }) => {
      const ee = msgOf(event, 'encrypted_extensions');
      return ee !== undefined && findExtension(ee.extensions, 'early_data') !== undefined && !(k.clientHello && findExtension(k.clientHello.extensions, 'early_data'));
    },
    hasEncryptedExtensionsProblem: ({ event }) => {
      const ee = msgOf(event, 'encrypted_extensions');
      return ee !== undefined && (encryptedExtensionsProblem(k, ee) !== undefined || (recorded('hasEncryptedExtensionsProblem') ?? false));
    },
    isResuming: () => k.serverHello !== undefined && findExtension(k.serverHello.extensions, 'pre_shared_key_server') !== undefined,
    hasCertificateRequestProblem: ({ event }) => {
      const cr = msgOf(event, 'certificate_request');
      return cr !== undefined && certificateRequestProblem(cr) !== undefined;
    },
    hasServerCertificateProblem: ({ event }) => {
      const c = msgOf(event, 'certificate');
      return c !== undefined && serverCertificateProblem(c) !== undefined;
    },
    isServerCertificateTrusted: () => opaque('isServerCertificateTrusted', () => current?.stateAfter !== 'failed'),
    isSignatureSchemeAcceptable: ({ event }) => {
      const cv = msgOf(event, 'certificate_verify');
      const offered = k.clientHello ? (findExtension(k.clientHello.extensions, 'signature_algorithms')?.schemes ?? []) : [];
      return cv !== undefined && offered.includes(cv.algorithm) && opaque('isSignatureSchemeAcceptable', () => !failedWith('illegal_parameter'));
    },
    isServerSignatureValid: ({ event }) => {
      const cv = msgOf(event, 'certificate_verify');
      const offered = k.clientHello ? (findExtension(k.clientHello.extensions, 'signature_algorithms')?.schemes ?? []) : [];
      return cv !== undefined && offered.includes(cv.algorithm) && opaque('isServerSignatureValid', () => current?.stateAfter !== 'failed');
    },
    isServerFinishedValid: () => opaque('isServerFinishedValid', () => !failedWith('decrypt_error')),
    mayAcceptChangeCipherSpec: () => !k.ccsReceived && !k.peerFinished,
  };

  const serverGuards: Record<string, GuardFn> = {
    hasClientHelloProblem: ({ event }) => {
      const ch = msgOf(event, 'client_hello');
      return ch !== undefined && (clientHelloProblem(k, ch) !== undefined || (recorded('hasClientHelloProblem') ?? (current?.stateAfter === 'failed' && !failedWith('decrypt_error'))));
    },
    needsHelloRetry: () =>
      opaque('needsHelloRetry', () => current !== undefined && repliesTo(side, current).some((s) => s.message?.type === 'server_hello' && isHrrHex(s.message.hex))),
    hasValidBinder: ({ event }) => offersPskDheKe(msgOf(event, 'client_hello')) && opaque('hasValidBinder', () => resumedBy(side, current)),
    hasResumableTicket: ({ event }) => offersPskDheKe(msgOf(event, 'client_hello')) && opaque('hasResumableTicket', () => resumedBy(side, current) || failedWith('decrypt_error')),
    requestsClientCertificate: () =>
      typeof cfg['requestClientCertificate'] === 'boolean'
        ? cfg['requestClientCertificate']
        : opaque('requestsClientCertificate', () => current !== undefined && repliesTo(side, current).some((s) => s.message?.type === 'certificate_request')),
    hasClientCertificateContextProblem: ({ event }) => (msgOf(event, 'certificate')?.certificateRequestContext.length ?? 0) !== 0,
    isEmptyCertificate: ({ event }) => msgOf(event, 'certificate')?.entries.length === 0,
    lacksRequiredClientCertificate: ({ event }) =>
      msgOf(event, 'certificate')?.entries.length === 0 &&
      (typeof cfg['requireClientCertificate'] === 'boolean' ? cfg['requireClientCertificate'] : failedWith('certificate_required')),
    isClientCertificateTrusted: () => opaque('isClientCertificateTrusted', () => current?.stateAfter !== 'failed'),
    isSignatureSchemeAcceptable: () => opaque('isSignatureSchemeAcceptable', () => !failedWith('illegal_parameter')),
    isClientSignatureValid: () => opaque('isClientSignatureValid', () => current?.stateAfter !== 'failed'),
    isClientFinishedValid: () => opaque('isClientFinishedValid', () => !failedWith('decrypt_error')),
    mayAcceptChangeCipherSpec: () => k.clientHelloSeen && !k.ccsReceived && !k.peerFinished,
  };

  const isCloseNotify = (e: TlsEvent) => e.type === 'recv.Alert' && e.description === AlertDescription.close_notify;
  const commonGuards: Record<string, GuardFn> = {
    isCloseNotifyAfterOurs: ({ event }) => isCloseNotify(event) && k.closeNotifySent,
    hasPeerClosed: () => k.closeNotifyReceived,
  };
  const base: AnyStateMachine = role === 'client' ? clientMachine : serverMachine;
  const own = { ...commonGuards, ...(role === 'client' ? clientGuards : serverGuards) };
  const guards: Record<string, GuardFn> = {};
  for (const name of Object.keys(base.implementations.guards ?? {})) {
    const original = (base.implementations.guards as Record<string, GuardFn>)[name];
    // isCloseNotify, isUserCanceled and any guard on the event alone: the chart's own (pure, no secrets).
    guards[name] = own[name] ?? (({ event }) => opaque(name, () => eventOnly(original, event, k, current)));
  }

  const fail = (alert: string, reason: string, fallback: string, remote = false) => {
    const [requirement, section] = REASONS[reason] ?? [fallback, sectionOf(fallback) ?? '§6'];
    predicted = { alert, reason, section, requirement, remote };
  };
  const structuralFail = (problem: string | undefined, defaultAlert: string) => {
    const reason = problem ?? 'Unknown';
    const alert = problem ? alertFor(problem) : (current ? recordedAlert(side, current) : undefined) ?? defaultAlert;
    fail(alert, reason, `the ${current ? describeStep(current) : 'message'} is refused with ${alert}`);
  };
  const actions: Record<string, (args: { event: TlsEvent; self: { getSnapshot(): { value: unknown } } }, params?: unknown) => void> = {};
  for (const name of Object.keys(base.implementations.actions ?? {})) actions[name] = () => undefined;
  Object.assign(actions, {
    fail: (_: unknown, p: { reason: AlertingReason; message?: string }) => fail(REFUSALS[p.reason].alert, p.reason, p.message ?? REFUSALS[p.reason].sentence),
    failUnexpected: ({ event, self }: { event: TlsEvent; self: { getSnapshot(): { value: unknown } } }) => {
      const state = String(self.getSnapshot().value);
      const message = 'msg' in event ? event.msg.type : event.type.replace(/^recv\./, '');
      const { requirement, section } = expectedHere(role, state, k, message);
      predicted = { alert: 'unexpected_message', reason: 'UnexpectedMessage', requirement, section, remote: false };
    },
    failMalformed: ({ event }: { event: TlsEvent }) => {
      if (event.type === 'recv.Malformed') fail(event.error.alert, event.error.reason, `${event.error.message} (RFC 8446 §4)`);
    },
    failFromPeerAlert: ({ event }: { event: TlsEvent }) => {
      predicted = { alert: event.type === 'recv.Alert' ? String(event.description) : '', reason: 'PeerAlert', section: '§6.2', requirement: 'a fatal alert from the peer ends the connection', remote: true };
    },
    failServerHello: ({ event }: { event: TlsEvent }) => structuralFail('msg' in event && event.msg.type === 'server_hello' ? serverHelloProblem(k, event.msg) : undefined, 'illegal_parameter'),
    failHelloRetryRequest: ({ event }: { event: TlsEvent }) => structuralFail('msg' in event && event.msg.type === 'server_hello' ? serverHelloProblem(k, event.msg) : undefined, 'illegal_parameter'),
    failEncryptedExtensions: ({ event }: { event: TlsEvent }) => structuralFail('msg' in event && event.msg.type === 'encrypted_extensions' ? encryptedExtensionsProblem(k, event.msg) : undefined, 'unsupported_extension'),
    failClientHello: ({ event }: { event: TlsEvent }) => structuralFail('msg' in event && event.msg.type === 'client_hello' ? clientHelloProblem(k, event.msg) : undefined, 'illegal_parameter'),
    failCertificateRequest: ({ event }: { event: TlsEvent }) => {
      const e = event.type === 'recv.CertificateRequest' ? certificateRequestProblem(event.msg) : undefined;
      if (e) fail(e.alert, e.reason, e.message);
    },
    failServerCertificate: ({ event }: { event: TlsEvent }) => {
      const e = event.type === 'recv.Certificate' ? serverCertificateProblem(event.msg) : undefined;
      if (e) fail(e.alert, e.reason, e.message);
    },
    failUntrustedCertificate: () => structuralFail(undefined, 'bad_certificate'),
    failUntrustedClientCertificate: () => structuralFail(undefined, 'bad_certificate'),
  });

  const monitorMachine = base.provide({ guards, actions } as never);
  const env = seededEnvironment('monitor');
  const input = { config: role === 'client' ? defaultClientConfig() : defaultServerConfig(), env };
  const actor = createActor(monitorMachine, {
    input,
    inspect: (ev: InspectionEvent) => {
      if (ev.type !== '@xstate.microstep') return;
      const ts = (ev as unknown as { _transitions: Array<{ source: { path: string[]; on?: Record<string, unknown[]> }; eventType: string }> })._transitions;
      for (const t of ts) taken.push({ source: t.source.path.join('.') || '(root)', eventType: t.eventType, index: (t.source.on?.[t.eventType] ?? []).indexOf(t) });
    },
  });
  actor.start();
  const stateOf = () => {
    const v = actor.getSnapshot().value;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };

  const sentLocal = new Set<number>();
  let checked = 0;
  for (const [i, step] of side.steps.entries()) {
    // What the recorded side itself sent shapes what it may receive.
    if (step.direction === 'out') {
      if (step.kind === 'handshake' && step.message) {
        const d = decode(step.message.hex);
        if (d.ok && d.value.type === 'client_hello' && role === 'client') k.clientHello = d.value;
        if (d.ok && d.value.type === 'server_hello' && role === 'server') {
          if (d.value.isHelloRetryRequest) k.helloRetry = d.value;
          else k.serverHello = d.value;
        }
      }
      const ev = step.event;
      if (ev && ev.type.startsWith('app.') && !sentLocal.has(ev.id) && actor.getSnapshot().status === 'active') {
        sentLocal.add(ev.id);
        actor.send(localEvent(step));
      }
      if (step.kind === 'alert' && step.alert?.description === 'close_notify') k.closeNotifySent = true;
      // What the side sends must fit the state it is in (tickets only after the client Finished, …).
      const now = stateOf();
      if (ev && now !== step.stateAfter) {
        const [requirement, section] = SENDING[describeStep(step)] ?? [`nothing is sent in ${now} but what the handshake calls for`, '§4'];
        return {
          conforms: false,
          steps: checked,
          violation: {
            ...where,
            role,
            step: i,
            seq: step.seq,
            state: now,
            message: `sent ${describeStep(step)}`,
            requirement: `in ${now}: ${requirement}`,
            section,
            alert: null,
            recorded: `the trace sends it as part of going to ${step.stateAfter}`,
          },
        };
      }
      continue;
    }
    if (step.kind === 'early_data_skipped') continue;
    if (actor.getSnapshot().status !== 'active') break;
    current = step;
    predicted = undefined;
    taken.length = 0;
    const before = stateOf();
    const { event, msg } = eventFor(step, k);
    if (msg?.type === 'client_hello' && role === 'server') {
      k.clientHello = msg;
      k.clientHelloSeen = true;
    }
    actor.send(event);
    checked++;
    const after = stateOf();
    const violation = (p: { requirement: string; section: string; alert: string | null }, rec: string): CheckResult => ({
      conforms: false,
      steps: checked,
      violation: { ...where, role, step: i, seq: step.seq, state: before, message: describeStep(step), requirement: p.requirement, section: p.section, alert: p.alert, recorded: rec },
    });
    const recAlert = recordedAlert(side, step);
    const prediction = predicted as Prediction | undefined; // set by the monitor's actions during send()
    if (after === 'failed' && prediction && !prediction.remote) {
      if (step.stateAfter !== 'failed') {
        return violation(prediction, `the trace accepts it and goes on to ${step.stateAfter} without an alert`);
      }
      if (recAlert !== undefined && recAlert !== prediction.alert) {
        return violation(prediction, `the trace aborts with ${recAlert}`);
      }
    } else if (step.stateAfter === 'failed' && after !== 'failed') {
      return violation(
        { requirement: `a conforming ${role} accepts this ${describeStep(step)} in ${before} and goes on to ${after}`, section: expectedHere(role, before, k, describeStep(step)).section, alert: null },
        `the trace aborts with ${recAlert ?? 'an error'}`,
      );
    } else if (after !== step.stateAfter) {
      return violation(
        { requirement: `a conforming ${role} goes from ${before} to ${after} on ${describeStep(step)}`, section: expectedHere(role, before, k, describeStep(step)).section, alert: null },
        `the trace goes to ${step.stateAfter}`,
      );
    } else {
      const rec = step.transitions[0];
      const mine = taken[0];
      if (rec && mine && rec.index >= 0 && (rec.source !== mine.source || rec.index !== mine.index)) {
        const pskKe = role === 'server' && msg?.type === 'client_hello' && findExtension(msg.extensions, 'pre_shared_key_client') !== undefined && !offersPskDheKe(msg);
        const [requirement, section] = pskKe ? (REASONS['PskKeOnlyResumed'] as [string, string]) : [`a conforming ${role} takes branch ${mine.index} of ${mine.source} on ${mine.eventType}`, '§4'];
        return violation({ requirement, section, alert: null }, `the trace takes branch ${rec.index} (guard ${rec.guard ?? 'none'})`);
      }
    }
    // What was accepted becomes part of what the monitor knows.
    if (after !== 'failed') {
      if (msg?.type === 'server_hello' && role === 'client') {
        if (msg.isHelloRetryRequest) k.helloRetry = msg;
        else k.serverHello = msg;
      }
      if (step.kind === 'change_cipher_spec') k.ccsReceived = true;
      if (step.kind === 'alert' && step.alert?.description === 'close_notify') k.closeNotifyReceived = true;
      if (msg?.type === 'finished') k.peerFinished = true;
    }
  }
  actor.stop();
  return { conforms: true, steps: checked };
}

/**
 * A guard of the chart the monitor has no rule for: run it on the event and
 * the little the monitor knows, or follow the trace if it needs more.
 */
function eventOnly(original: GuardFn | undefined, event: TlsEvent, k: Knowledge, step: TraceStep | undefined): boolean {
  if (!original) return false;
  const context = { ccsReceived: k.ccsReceived, closeNotifySent: k.closeNotifySent, closeNotifyReceived: k.closeNotifyReceived };
  try {
    return original({ event, context } as never);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return step?.stateAfter !== 'failed';
  }
}

function localEvent(step: TraceStep): TlsEvent {
  const type = step.event?.type;
  if (type === 'app.close') return { type: 'app.close' };
  if (type === 'app.keyUpdate') {
    const d = step.message ? decode(step.message.hex) : undefined;
    return { type: 'app.keyUpdate', requestPeerUpdate: d?.ok === true && d.value.type === 'key_update' && d.value.requestUpdate === 1 };
  }
  return { type: 'app.write', data: new Uint8Array(step.applicationData?.length ?? 0) };
}

const HRR_HEX = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
/** ServerHello hex: 4-byte header, 2-byte legacy_version, then the random. */
const isHrrHex = (hex: string): boolean => hex.slice(12, 12 + 64) === HRR_HEX;

function resumedBy(side: SideTrace, step: TraceStep | undefined): boolean {
  if (!step) return false;
  const sh = repliesTo(side, step).find((s) => s.message?.type === 'server_hello' && !isHrrHex(s.message.hex));
  if (!sh?.message) return false;
  const d = decode(sh.message.hex);
  return d.ok && d.value.type === 'server_hello' && findExtension(d.value.extensions, 'pre_shared_key_server') !== undefined;
}

/** The alert each structural problem calls for. */
function alertFor(reason: string): string {
  switch (reason) {
    case 'NoTls13':
      return 'protocol_version';
    case 'UnsolicitedExtension':
    case 'UnofferedEarlyData':
      return 'unsupported_extension';
    case 'MissingKeyShare':
    case 'PskWithoutModes':
      return 'missing_extension';
    default:
      return 'illegal_parameter';
  }
}
