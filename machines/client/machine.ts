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
import { setup } from 'xstate';
import { chartKit, connectedTransitions, finalStates, rootTransitions } from '../chart-kit.js';
import type { TlsEvent } from '../types.js';
import * as A from './actions.js';
import { type ClientContext, type ClientInput, initialClientContext } from './context.js';
import { guards as G } from './guards.js';

const kit = chartKit<ClientContext>();
const up = kit.up;

export const clientMachine = setup({
  types: {} as { context: ClientContext; events: TlsEvent; input: ClientInput },
  guards: {
    ...kit.guards,
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
  },
  actions: {
    ...kit.actions,
    sendClientHello: up((context) => A.sendClientHello(context)),
    sendSecondClientHello: up((context, event) => A.sendSecondClientHello(context, event)),
    acceptServerHello: up((context, event) => A.acceptServerHello(context, event)),
    acceptEncryptedExtensions: up((context, event) => A.acceptEncryptedExtensions(context, event)),
    acceptCertificateRequest: up((context, event) => A.acceptCertificateRequest(context, event)),
    acceptServerCertificate: up((context, event) => A.acceptServerCertificate(context, event)),
    acceptServerCertificateVerify: up((context, event) => A.acceptServerCertificateVerify(context, event)),
    acceptServerFinishedAndSendClientFlight: up((context, event) => A.acceptServerFinishedAndSendClientFlight(context, event)),
    acceptNewSessionTicket: up((context, event) => A.acceptNewSessionTicket(context, event)),
    forgetHandshake: up((context) => A.forgetHandshake(context)),
    failHelloRetryRequest: up((context, event) => A.failHelloRetryRequest(context, event)),
    failServerHello: up((context, event) => A.failServerHello(context, event)),
    failEncryptedExtensions: up((context, event) => A.failEncryptedExtensions(context, event)),
    failCertificateRequest: up(A.failCertificateRequest),
    failServerCertificate: up(A.failServerCertificate),
    failUntrustedCertificate: up((context, event) => A.failUntrustedCertificate(context, event)),
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => initialClientContext(input),
  initial: 'expectServerHello',
  on: {
    ...rootTransitions,
    'recv.ChangeCipherSpec': [
      { guard: 'mayAcceptChangeCipherSpec', actions: 'noteChangeCipherSpec' },
      {
        target: '.failed',
        actions: {
          type: 'fail',
          params: { reason: 'UnexpectedChangeCipherSpec', message: 'a second or late ChangeCipherSpec (RFC 8446 §5)' },
        },
      },
    ],
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
            actions: {
              type: 'fail',
              params: { reason: 'SecondHelloRetryRequest', message: 'a second HelloRetryRequest (RFC 8446 §4.1.4)' },
            },
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
            actions: {
              type: 'fail',
              params: { reason: 'UnofferedEarlyData', message: 'the server accepted early data that tlschart never offers' },
            },
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
            actions: {
              type: 'fail',
              params: { reason: 'BadSignature', message: 'the server CertificateVerify signature does not verify (RFC 8446 §4.4.3)' },
            },
          },
          {
            target: 'failed',
            actions: {
              type: 'fail',
              params: {
                reason: 'UnofferedSignatureScheme',
                message: 'CertificateVerify uses a scheme that was not offered or does not fit the certificate key (RFC 8446 §4.4.3)',
              },
            },
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
            actions: {
              type: 'fail',
              params: { reason: 'BadFinished', message: 'the server Finished does not match the transcript (RFC 8446 §4.4.4)' },
            },
          },
        ],
      },
    },
    connected: {
      entry: 'forgetHandshake',
      on: {
        'recv.NewSessionTicket': { actions: 'acceptNewSessionTicket' },
        ...connectedTransitions,
      },
    },
    ...finalStates,
  },
});

export type ClientMachine = typeof clientMachine;
