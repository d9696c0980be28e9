/**
 * The TLS 1.3 server handshake as an XState statechart (RFC 8446 Appendix A.2).
 *
 *   expectClientHello ──(no usable share / cookie)──► expectSecondClientHello
 *        │ ClientHello: ServerHello … Finished sent        │ ClientHello
 *        ├──(CertificateRequest sent)──► expectClientCertificate ──► expectClientCertificateVerify
 *        ▼                                      │ (empty)                   │
 *   expectClientFinished ◄──────────────────────┴───────────────────────────┘
 *        ▼ (Finished verified: tickets issued)
 *   connected (handshake state dropped on entry) ──► closed              any failure ──► failed
 */
import { setup } from 'xstate';
import { chartKit, connectedTransitions, finalStates, rootTransitions } from '../chart-kit.js';
import type { TlsEvent } from '../types.js';
import * as A from './actions.js';
import { initialServerContext, type ServerContext, type ServerInput } from './context.js';
import { guards as G } from './guards.js';

const kit = chartKit<ServerContext>();

/**
 * After the ClientHello checks (and the retry decision on the first hello):
 * resume only with a verified binder, refuse a resumable ticket whose binder
 * does not verify, else a full handshake, with or without client authentication.
 */
const acceptHello = [
  { guard: 'hasValidBinder', target: 'expectClientFinished', actions: 'sendServerFlight' },
  {
    guard: 'hasResumableTicket',
    target: 'failed',
    actions: {
      type: 'fail',
      params: { reason: 'IncorrectBinder', message: 'the PSK binder does not match the ClientHello (RFC 8446 §4.2.11.2)' },
    },
  },
  { guard: 'requestsClientCertificate', target: 'expectClientCertificate', actions: 'sendServerFlight' },
  { target: 'expectClientFinished', actions: 'sendServerFlight' },
] as const;
const up = kit.up;

export const serverMachine = setup({
  types: {} as { context: ServerContext; events: TlsEvent; input: ServerInput },
  guards: {
    ...kit.guards,
    hasClientHelloProblem: ({ context, event }) => G.hasClientHelloProblem(context, event),
    needsHelloRetry: ({ context, event }) => G.needsHelloRetry(context, event),
    hasResumableTicket: ({ context, event }) => G.hasResumableTicket(context, event),
    hasValidBinder: ({ context, event }) => G.hasValidBinder(context, event),
    requestsClientCertificate: ({ context, event }) => G.requestsClientCertificate(context, event),
    hasClientCertificateContextProblem: ({ context, event }) => G.hasClientCertificateContextProblem(context, event),
    isEmptyCertificate: ({ context, event }) => G.isEmptyCertificate(context, event),
    lacksRequiredClientCertificate: ({ context, event }) => G.lacksRequiredClientCertificate(context, event),
    isClientCertificateTrusted: ({ context, event }) => G.isClientCertificateTrusted(context, event),
    isSignatureSchemeAcceptable: ({ context, event }) => G.isSignatureSchemeAcceptable(context, event),
    isClientSignatureValid: ({ context, event }) => G.isClientSignatureValid(context, event),
    isClientFinishedValid: ({ context, event }) => G.isClientFinishedValid(context, event),
    mayAcceptChangeCipherSpec: ({ context }) => G.mayAcceptChangeCipherSpec(context),
  },
  actions: {
    ...kit.actions,
    sendHelloRetryRequest: up((c, e) => A.sendHelloRetryRequest(c, e)),
    sendServerFlight: up((c, e) => A.sendServerFlight(c, e)),
    acceptEmptyClientCertificate: up((c, e) => A.acceptEmptyClientCertificate(c, e)),
    acceptClientCertificate: up((c, e) => A.acceptClientCertificate(c, e)),
    acceptClientCertificateVerify: up((c, e) => A.acceptClientCertificateVerify(c, e)),
    acceptClientFinished: up((c, e) => A.acceptClientFinished(c, e)),
    issueTickets: up((c) => A.issueTickets(c)),
    completeHandshake: up((c) => A.completeHandshake(c)),
    forgetHandshake: up((c) => A.forgetHandshake(c)),
    failClientHello: up((c, e) => A.failClientHello(c, e)),
    failUntrustedClientCertificate: up((c, e) => A.failUntrustedClientCertificate(c, e)),
  },
}).createMachine({
  id: 'server',
  context: ({ input }) => initialServerContext(input),
  initial: 'expectClientHello',
  on: {
    ...rootTransitions,
    'recv.ChangeCipherSpec': [
      { guard: 'mayAcceptChangeCipherSpec', actions: 'noteChangeCipherSpec' },
      {
        target: '.failed',
        actions: {
          type: 'fail',
          params: {
            reason: 'UnexpectedChangeCipherSpec',
            message: 'a ChangeCipherSpec before the ClientHello, a second one, or one after Finished (RFC 8446 §5)',
          },
        },
      },
    ],
  },
  states: {
    expectClientHello: {
      on: {
        'recv.ClientHello': [
          { guard: 'hasClientHelloProblem', target: 'failed', actions: 'failClientHello' },
          { guard: 'needsHelloRetry', target: 'expectSecondClientHello', actions: 'sendHelloRetryRequest' },
          ...acceptHello,
        ],
      },
    },
    expectSecondClientHello: {
      on: {
        'recv.ClientHello': [{ guard: 'hasClientHelloProblem', target: 'failed', actions: 'failClientHello' }, ...acceptHello],
      },
    },
    expectClientCertificate: {
      on: {
        'recv.Certificate': [
          {
            guard: 'hasClientCertificateContextProblem',
            target: 'failed',
            actions: {
              type: 'fail',
              params: {
                reason: 'CertificateContext',
                message: 'the client Certificate has a certificate_request_context that was not sent (RFC 8446 §4.4.2)',
              },
            },
          },
          {
            guard: 'lacksRequiredClientCertificate',
            target: 'failed',
            actions: {
              type: 'fail',
              params: {
                reason: 'NoClientCertificate',
                message: 'a client certificate is required but the client sent none (RFC 8446 §4.4.2.4)',
              },
            },
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
            actions: {
              type: 'fail',
              params: { reason: 'BadSignature', message: 'the client CertificateVerify signature does not verify (RFC 8446 §4.4.3)' },
            },
          },
          {
            target: 'failed',
            actions: {
              type: 'fail',
              params: {
                reason: 'UnofferedSignatureScheme',
                message: 'client CertificateVerify uses a scheme that does not fit its certificate key (RFC 8446 §4.4.3)',
              },
            },
          },
        ],
      },
    },
    expectClientFinished: {
      on: {
        'recv.Finished': [
          { guard: 'isClientFinishedValid', target: 'connected', actions: ['acceptClientFinished', 'issueTickets', 'completeHandshake'] },
          {
            target: 'failed',
            actions: {
              type: 'fail',
              params: { reason: 'BadFinished', message: 'the client Finished does not match the transcript (RFC 8446 §4.4.4)' },
            },
          },
        ],
      },
    },
    connected: {
      entry: 'forgetHandshake',
      on: {
        ...connectedTransitions,
      },
    },
    ...finalStates,
  },
});

export type ServerMachine = typeof serverMachine;
