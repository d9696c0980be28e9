/**
 * The TLS 1.3 client handshake as an XState statechart (RFC 8446 Appendix A.1).
 *
 *   expectServerHello ──HRR──► expectServerHelloAfterRetry
 *        │ ServerHello               │ ServerHello
 *        ▼                           ▼
 *   expectEncryptedExtensions ──(PSK accepted)──────────────┐
 *        ▼                                                   │
 *   expectCertificateOrCertificateRequest ─► expectCertificate
 *        ▼                                        ▼          │
 *   expectCertificateVerify ◄─────────────────────┘          │
 *        ▼                                                   ▼
 *   expectServerFinished ◄───────────────────────────────────┘
 *        ▼  (Finished verified)
 *   connected ──► closed            any failure ──► failed
 *
 * Guards and actions are referenced by name; their implementations live in
 * guards.ts / actions.ts beside this file.
 */
import { assign, setup } from 'xstate';
import {
  acceptKeyUpdate,
  deliverApplicationData,
  failAlert,
  failFromPeerAlert,
  failMalformed,
  failWith,
  initiateKeyUpdate,
  isCloseNotify,
  isUserCanceled,
  noteChangeCipherSpec,
  peerClosed,
  sendApplicationData,
  sendCloseNotify,
  unexpected,
} from '../common.js';
import type { TlsEvent } from '../types.js';
import * as A from './actions.js';
import { initialClientContext, type ClientContext, type ClientInput } from './context.js';
import { certificateRequestProblem, guards as G, serverCertificateProblem } from './guards.js';

type Patch = Partial<ClientContext>;
/** Every action is a pure (context, event) → patch; this wraps one as an XState assign. */
const up = (f: (context: ClientContext, event: TlsEvent) => Patch) =>
  assign<ClientContext, TlsEvent, undefined, TlsEvent, never>(({ context, event }) => f(context, event));
const upSelf = (
  f: (a: { context: ClientContext; event: TlsEvent; self: { getSnapshot(): { value: unknown } } }) => Patch,
) => assign<ClientContext, TlsEvent, undefined, TlsEvent, never>((a) => f(a));

type FailParams = { alert: Parameters<typeof failAlert>[1]; reason: string; message: string };

export const clientMachine = setup({
  types: {} as { context: ClientContext; events: TlsEvent; input: ClientInput },
  guards: {
    isHelloRetryRequest: ({ context, event }) => G.isHelloRetryRequest(context, event),
    isValidHelloRetryRequest: ({ context, event }) => G.isValidHelloRetryRequest(context, event),
    hasServerHelloProblem: ({ context, event }) => G.hasServerHelloProblem(context, event),
    acceptsUnofferedEarlyData: ({ context, event }) => G.acceptsUnofferedEarlyData(context, event),
    hasEncryptedExtensionsProblem: ({ context, event }) => G.hasEncryptedExtensionsProblem(context, event),
    isResuming: ({ context }) => G.isResuming(context),
    hasCertificateRequestProblem: ({ context, event }) => G.hasCertificateRequestProblem(context, event),
    hasServerCertificateProblem: ({ context, event }) => G.hasServerCertificateProblem(context, event),
    isServerCertificateTrusted: ({ context, event }) => G.isServerCertificateTrusted(context, event),
    isSignatureSchemeAcceptable: ({ context, event }) => G.isSignatureSchemeAcceptable(context, event),
    isServerSignatureValid: ({ context, event }) => G.isServerSignatureValid(context, event),
    isServerFinishedValid: ({ context, event }) => G.isServerFinishedValid(context, event),
    mayAcceptChangeCipherSpec: ({ context }) => !context.ccsReceived && context.serverFinished === undefined,
    isCloseNotify: ({ event }) => isCloseNotify(event),
    isCloseNotifyAfterOurs: ({ context, event }) => isCloseNotify(event) && context.closeNotifySent,
    hasPeerClosed: ({ context }) => context.closeNotifyReceived,
    isUserCanceled: ({ event }) => isUserCanceled(event),
  },
  actions: {
    sendClientHello: up((context) => A.sendClientHello(context)),
    sendSecondClientHello: up((context, event) => A.sendSecondClientHello(context, event)),
    acceptServerHello: up((context, event) => A.acceptServerHello(context, event)),
    acceptEncryptedExtensions: up((context, event) => A.acceptEncryptedExtensions(context, event)),
    acceptCertificateRequest: up((context, event) => A.acceptCertificateRequest(context, event)),
    acceptServerCertificate: up((context, event) => A.acceptServerCertificate(context, event)),
    acceptServerCertificateVerify: up((context, event) => A.acceptServerCertificateVerify(context, event)),
    acceptServerFinishedAndSendClientFlight: up((context, event) =>
      A.acceptServerFinishedAndSendClientFlight(context, event),
    ),
    acceptNewSessionTicket: up((context, event) => A.acceptNewSessionTicket(context, event)),
    acceptKeyUpdate: up((context, event) => acceptKeyUpdate(context, event)),
    initiateKeyUpdate: up((context, event) => initiateKeyUpdate(context, event)),
    deliverApplicationData: up((context, event) => deliverApplicationData(context, event)),
    sendApplicationData: up((context, event) => sendApplicationData(context, event)),
    noteChangeCipherSpec: up(() => noteChangeCipherSpec()),
    clearOutbox: up(() => ({ outbox: [] })),
    sendCloseNotify: up((context) => sendCloseNotify(context)),
    notePeerClosed: up((c) => peerClosed(c)),
    closeOnPeerNotify: up((context) => peerClosed(context)),
    failFromPeerAlert: up((context, event) => failFromPeerAlert(context, event)),
    failMalformed: up((context, event) => failMalformed(context, event)),
    failUnexpected: upSelf(({ context, event, self }) =>
      unexpected(context, event, JSON.stringify(self.getSnapshot().value)),
    ),
    failHelloRetryRequest: up((context, event) => A.failHelloRetryRequest(context, event)),
    failServerHello: up((context, event) => A.failServerHello(context, event)),
    failEncryptedExtensions: up((context, event) => A.failEncryptedExtensions(context, event)),
    failCertificateRequest: up((context, event) =>
      event.type === 'recv.CertificateRequest' ? failWith(context, certificateRequestProblem(event.msg)!) : {},
    ),
    failServerCertificate: up((context, event) =>
      event.type === 'recv.Certificate' ? failWith(context, serverCertificateProblem(event.msg)!) : {},
    ),
    failUntrustedCertificate: up((context, event) => A.failUntrustedCertificate(context, event)),
    fail: assign(({ context }, p: FailParams) => failAlert(context, p.alert, p.reason, p.message) as Partial<ClientContext>),
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => initialClientContext(input),
  initial: 'expectServerHello',
  on: {
    'recv.Alert': [
      { guard: 'isCloseNotify', target: '.closed', actions: 'closeOnPeerNotify' },
      { guard: 'isUserCanceled' },
      { target: '.failed', actions: 'failFromPeerAlert' },
    ],
    'recv.Malformed': { target: '.failed', actions: 'failMalformed' },
    'recv.ChangeCipherSpec': [
      { guard: 'mayAcceptChangeCipherSpec', actions: 'noteChangeCipherSpec' },
      {
        target: '.failed',
        actions: { type: 'fail', params: { alert: 'unexpected_message', reason: 'UnexpectedChangeCipherSpec', message: 'a second or late ChangeCipherSpec (RFC 8446 §5)' } },
      },
    ],
    'recv.*': { target: '.failed', actions: 'failUnexpected' },
    'app.close': { target: '.closed', actions: 'sendCloseNotify' },
    'engine.drained': { actions: 'clearOutbox' },
  },
  states: {
    expectServerHello: {
      entry: 'sendClientHello',
      on: {
        'recv.ServerHello': [
          {
            guard: 'isValidHelloRetryRequest',
            target: 'expectServerHelloAfterRetry',
            actions: 'sendSecondClientHello',
          },
          { guard: 'isHelloRetryRequest', target: 'failed', actions: 'failHelloRetryRequest' },
          { guard: 'hasServerHelloProblem', target: 'failed', actions: 'failServerHello' },
          { target: 'expectEncryptedExtensions', actions: 'acceptServerHello' },
        ],
      },
    },
    expectServerHelloAfterRetry: {
      on: {
        'recv.ServerHello': [
          {
            guard: 'isHelloRetryRequest',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'unexpected_message', reason: 'SecondHelloRetryRequest', message: 'a second HelloRetryRequest (RFC 8446 §4.1.4)' } },
          },
          { guard: 'hasServerHelloProblem', target: 'failed', actions: 'failServerHello' },
          { target: 'expectEncryptedExtensions', actions: 'acceptServerHello' },
        ],
      },
    },
    expectEncryptedExtensions: {
      on: {
        'recv.EncryptedExtensions': [
          {
            guard: 'acceptsUnofferedEarlyData',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'unsupported_extension', reason: 'UnofferedEarlyData', message: 'the server accepted early data that tlschart never offers' } },
          },
          { guard: 'hasEncryptedExtensionsProblem', target: 'failed', actions: 'failEncryptedExtensions' },
          { guard: 'isResuming', target: 'expectServerFinished', actions: 'acceptEncryptedExtensions' },
          { target: 'expectCertificateOrCertificateRequest', actions: 'acceptEncryptedExtensions' },
        ],
      },
    },
    expectCertificateOrCertificateRequest: {
      on: {
        'recv.CertificateRequest': [
          { guard: 'hasCertificateRequestProblem', target: 'failed', actions: 'failCertificateRequest' },
          { target: 'expectCertificate', actions: 'acceptCertificateRequest' },
        ],
        'recv.Certificate': [
          { guard: 'hasServerCertificateProblem', target: 'failed', actions: 'failServerCertificate' },
          { guard: 'isServerCertificateTrusted', target: 'expectCertificateVerify', actions: 'acceptServerCertificate' },
          { target: 'failed', actions: 'failUntrustedCertificate' },
        ],
      },
    },
    expectCertificate: {
      on: {
        'recv.Certificate': [
          { guard: 'hasServerCertificateProblem', target: 'failed', actions: 'failServerCertificate' },
          { guard: 'isServerCertificateTrusted', target: 'expectCertificateVerify', actions: 'acceptServerCertificate' },
          { target: 'failed', actions: 'failUntrustedCertificate' },
        ],
      },
    },
    expectCertificateVerify: {
      on: {
        'recv.CertificateVerify': [
          { guard: 'isServerSignatureValid', target: 'expectServerFinished', actions: 'acceptServerCertificateVerify' },
          {
            guard: 'isSignatureSchemeAcceptable',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'BadSignature', message: 'the server CertificateVerify signature does not verify (RFC 8446 §4.4.3)' } },
          },
          {
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'illegal_parameter', reason: 'UnofferedSignatureScheme', message: 'CertificateVerify uses a scheme that was not offered or does not fit the certificate key (RFC 8446 §4.4.3)' } },
          },
        ],
      },
    },
    expectServerFinished: {
      on: {
        'recv.Finished': [
          { guard: 'isServerFinishedValid', target: 'connected', actions: 'acceptServerFinishedAndSendClientFlight' },
          {
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'BadFinished', message: 'the server Finished does not match the transcript (RFC 8446 §4.4.4)' } },
          },
        ],
      },
    },
    connected: {
      on: {
        'recv.NewSessionTicket': { actions: 'acceptNewSessionTicket' },
        'recv.KeyUpdate': { actions: 'acceptKeyUpdate' },
        // RFC 8446 §6.1: data after the peer's close_notify is ignored.
        'recv.ApplicationData': [{ guard: 'hasPeerClosed' }, { actions: 'deliverApplicationData' }],
        'app.write': { actions: 'sendApplicationData' },
        'app.keyUpdate': { actions: 'initiateKeyUpdate' },
        // Half-close (RFC 8446 §6.1): each side closes its own write side; `closed` once both have.
        'recv.Alert': [
          { guard: 'isCloseNotifyAfterOurs', target: 'closed', actions: 'notePeerClosed' },
          { guard: 'isCloseNotify', actions: 'notePeerClosed' },
          { guard: 'isUserCanceled' },
          { target: 'failed', actions: 'failFromPeerAlert' },
        ],
        'app.close': [
          { guard: 'hasPeerClosed', target: 'closed', actions: 'sendCloseNotify' },
          { actions: 'sendCloseNotify' },
        ],
      },
    },
    // Final and absorbing: the catch-all keeps even a pure transition() on a stored
    // snapshot from leaving (the root handlers would otherwise still match).
    closed: { type: 'final', on: { '*': {} } },
    failed: { type: 'final', on: { '*': {} } },
  },
});

export type ClientMachine = typeof clientMachine;
