/**
 * The TLS 1.3 server handshake as an XState statechart (RFC 8446 Appendix A.2).
 *
 *   expectClientHello ──(no usable share / cookie)──► expectSecondClientHello
 *        │ ClientHello: ServerHello … Finished sent        │ ClientHello
 *        ├──(CertificateRequest sent)──► expectClientCertificate ──► expectClientCertificateVerify
 *        ▼                                      │ (empty)                   │
 *   expectClientFinished ◄──────────────────────┴───────────────────────────┘
 *        ▼ (Finished verified: tickets issued)
 *   connected ──► closed              any failure ──► failed
 */
import { assign, setup } from 'xstate';
import {
  acceptKeyUpdate,
  deliverApplicationData,
  failAlert,
  failFromPeerAlert,
  failMalformed,
  initiateKeyUpdate,
  isCloseNotify,
  isUserCanceled,
  peerClosed,
  sendApplicationData,
  sendCloseNotify,
  unexpected,
} from '../common.js';
import type { TlsEvent } from '../types.js';
import * as A from './actions.js';
import { initialServerContext, type ServerContext, type ServerInput } from './context.js';
import { guards as G } from './guards.js';

type Patch = Partial<ServerContext>;
const up = (f: (context: ServerContext, event: TlsEvent) => Patch) =>
  assign<ServerContext, TlsEvent, undefined, TlsEvent, never>(({ context, event }) => f(context, event));
const upSelf = (
  f: (a: { context: ServerContext; event: TlsEvent; self: { getSnapshot(): { value: unknown } } }) => Patch,
) => assign<ServerContext, TlsEvent, undefined, TlsEvent, never>((a) => f(a));

type FailParams = { alert: Parameters<typeof failAlert>[1]; reason: string; message: string };

export const serverMachine = setup({
  types: {} as { context: ServerContext; events: TlsEvent; input: ServerInput },
  guards: {
    hasClientHelloProblem: ({ context, event }) => G.hasClientHelloProblem(context, event),
    needsHelloRetry: ({ context, event }) => G.needsHelloRetry(context, event),
    hasResumableTicket: ({ context, event }) => G.hasResumableTicket(context, event),
    hasValidBinder: ({ context, event }) => G.hasValidBinder(context, event),
    requestsClientCertificate: ({ context }) => G.requestsClientCertificate(context),
    hasClientCertificateContextProblem: ({ context, event }) => G.hasClientCertificateContextProblem(context, event),
    isEmptyCertificate: ({ context, event }) => G.isEmptyCertificate(context, event),
    lacksRequiredClientCertificate: ({ context, event }) => G.lacksRequiredClientCertificate(context, event),
    isClientCertificateTrusted: ({ context, event }) => G.isClientCertificateTrusted(context, event),
    isSignatureSchemeAcceptable: ({ context, event }) => G.isSignatureSchemeAcceptable(context, event),
    isClientSignatureValid: ({ context, event }) => G.isClientSignatureValid(context, event),
    isClientFinishedValid: ({ context, event }) => G.isClientFinishedValid(context, event),
    mayAcceptChangeCipherSpec: ({ context }) => G.mayAcceptChangeCipherSpec(context),
    isCloseNotify: ({ event }) => isCloseNotify(event),
    isCloseNotifyAfterOurs: ({ context, event }) => isCloseNotify(event) && context.closeNotifySent,
    hasPeerClosed: ({ context }) => context.closeNotifyReceived,
    isUserCanceled: ({ event }) => isUserCanceled(event),
  },
  actions: {
    sendHelloRetryRequest: up((c, e) => A.sendHelloRetryRequest(c, e)),
    sendServerFlight: up((c, e) => A.sendServerFlight(c, e)),
    acceptEmptyClientCertificate: up((c, e) => A.acceptEmptyClientCertificate(c, e)),
    acceptClientCertificate: up((c, e) => A.acceptClientCertificate(c, e)),
    acceptClientCertificateVerify: up((c, e) => A.acceptClientCertificateVerify(c, e)),
    acceptClientFinished: up((c, e) => A.acceptClientFinished(c, e)),
    issueTickets: up((c) => A.issueTickets(c)),
    acceptKeyUpdate: up((c, e) => acceptKeyUpdate(c, e)),
    initiateKeyUpdate: up((c, e) => initiateKeyUpdate(c, e)),
    deliverApplicationData: up((c, e) => deliverApplicationData(c, e)),
    sendApplicationData: up((c, e) => sendApplicationData(c, e)),
    noteChangeCipherSpec: up(() => ({ ccsReceived: true })),
    clearOutbox: up(() => ({ outbox: [] })),
    sendCloseNotify: up((c) => sendCloseNotify(c)),
    notePeerClosed: up((c) => peerClosed(c)),
    closeOnPeerNotify: up((c) => peerClosed(c)),
    failFromPeerAlert: up((c, e) => failFromPeerAlert(c, e)),
    failMalformed: up((c, e) => failMalformed(c, e)),
    failUnexpected: upSelf(({ context, event, self }) => unexpected(context, event, JSON.stringify(self.getSnapshot().value))),
    failClientHello: up((c, e) => A.failClientHello(c, e)),
    failUntrustedClientCertificate: up((c, e) => A.failUntrustedClientCertificate(c, e)),
    fail: assign(({ context }, p: FailParams) => failAlert(context, p.alert, p.reason, p.message) as Patch),
  },
}).createMachine({
  id: 'server',
  context: ({ input }) => initialServerContext(input),
  initial: 'expectClientHello',
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
        actions: { type: 'fail', params: { alert: 'unexpected_message', reason: 'UnexpectedChangeCipherSpec', message: 'a ChangeCipherSpec before the ClientHello, a second one, or one after Finished (RFC 8446 §5)' } },
      },
    ],
    'recv.*': { target: '.failed', actions: 'failUnexpected' },
    'app.close': { target: '.closed', actions: 'sendCloseNotify' },
    'engine.drained': { actions: 'clearOutbox' },
  },
  states: {
    expectClientHello: {
      on: {
        'recv.ClientHello': [
          { guard: 'hasClientHelloProblem', target: 'failed', actions: 'failClientHello' },
          { guard: 'needsHelloRetry', target: 'expectSecondClientHello', actions: 'sendHelloRetryRequest' },
          { guard: 'hasValidBinder', target: 'expectClientFinished', actions: 'sendServerFlight' },
          {
            guard: 'hasResumableTicket',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'IncorrectBinder', message: 'the PSK binder does not match the ClientHello (RFC 8446 §4.2.11.2)' } },
          },
          { guard: 'requestsClientCertificate', target: 'expectClientCertificate', actions: 'sendServerFlight' },
          { target: 'expectClientFinished', actions: 'sendServerFlight' },
        ],
      },
    },
    expectSecondClientHello: {
      on: {
        'recv.ClientHello': [
          { guard: 'hasClientHelloProblem', target: 'failed', actions: 'failClientHello' },
          { guard: 'hasValidBinder', target: 'expectClientFinished', actions: 'sendServerFlight' },
          {
            guard: 'hasResumableTicket',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'IncorrectBinder', message: 'the PSK binder does not match the ClientHello (RFC 8446 §4.2.11.2)' } },
          },
          { guard: 'requestsClientCertificate', target: 'expectClientCertificate', actions: 'sendServerFlight' },
          { target: 'expectClientFinished', actions: 'sendServerFlight' },
        ],
      },
    },
    expectClientCertificate: {
      on: {
        'recv.Certificate': [
          {
            guard: 'hasClientCertificateContextProblem',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'illegal_parameter', reason: 'CertificateContext', message: 'the client Certificate has a certificate_request_context that was not sent (RFC 8446 §4.4.2)' } },
          },
          {
            guard: 'lacksRequiredClientCertificate',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'certificate_required', reason: 'NoClientCertificate', message: 'a client certificate is required but the client sent none (RFC 8446 §4.4.2.4)' } },
          },
          { guard: 'isEmptyCertificate', target: 'expectClientFinished', actions: 'acceptEmptyClientCertificate' },
          { guard: 'isClientCertificateTrusted', target: 'expectClientCertificateVerify', actions: 'acceptClientCertificate' },
          { target: 'failed', actions: 'failUntrustedClientCertificate' },
        ],
      },
    },
    expectClientCertificateVerify: {
      on: {
        'recv.CertificateVerify': [
          { guard: 'isClientSignatureValid', target: 'expectClientFinished', actions: 'acceptClientCertificateVerify' },
          {
            guard: 'isSignatureSchemeAcceptable',
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'BadSignature', message: 'the client CertificateVerify signature does not verify (RFC 8446 §4.4.3)' } },
          },
          {
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'illegal_parameter', reason: 'UnofferedSignatureScheme', message: 'client CertificateVerify uses a scheme that does not fit its certificate key (RFC 8446 §4.4.3)' } },
          },
        ],
      },
    },
    expectClientFinished: {
      on: {
        'recv.Finished': [
          { guard: 'isClientFinishedValid', target: 'connected', actions: ['acceptClientFinished', 'issueTickets'] },
          {
            target: 'failed',
            actions: { type: 'fail', params: { alert: 'decrypt_error', reason: 'BadFinished', message: 'the client Finished does not match the transcript (RFC 8446 §4.4.4)' } },
          },
        ],
      },
    },
    connected: {
      on: {
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

export type ServerMachine = typeof serverMachine;
