/**
 * What both statecharts share, by name: the guards and actions of alerts,
 * close_notify, ChangeCipherSpec, KeyUpdate and application data, and the
 * transitions that handle them at the root and in `connected`. Each machine
 * spreads these into its own `setup()` and config.
 */
import { assign } from 'xstate';
import { refuse } from '../wire/alerts.js';
import type { AlertingReason } from '../wire/refusals.js';
import {
  acceptKeyUpdate,
  type CommonContext,
  deliverApplicationData,
  exceedsKeyUpdateLimit,
  failFromPeerAlert,
  failMalformed,
  failWith,
  initiateKeyUpdate,
  isCloseNotify,
  isUserCanceled,
  peerClosed,
  sendApplicationData,
  sendCloseNotify,
  unexpected,
} from './common.js';
import type { ProtocolLimits, TlsEvent } from './types.js';

/** A chart's failure branch names its refusal; the alert comes from the refusal table (wire/refusals.ts). */
export type FailParams = { reason: AlertingReason; message?: string };

export function chartKit<C extends CommonContext & { config: { limits?: Partial<ProtocolLimits> | undefined } }>() {
  type Patch = Partial<C>;
  /** Every action is a pure (context, event) → patch; this wraps one as an XState assign. */
  const up = (f: (context: C, event: TlsEvent) => Partial<CommonContext> | Patch) =>
    assign<C, TlsEvent, undefined, TlsEvent, never>(({ context, event }) => f(context, event) as Patch);

  const guards = {
    isCloseNotify: ({ event }: { event: TlsEvent }) => isCloseNotify(event),
    isCloseNotifyAfterOurs: ({ context, event }: { context: C; event: TlsEvent }) => isCloseNotify(event) && context.closeNotifySent,
    hasPeerClosed: ({ context }: { context: C }) => context.closeNotifyReceived,
    isUserCanceled: ({ event }: { event: TlsEvent }) => isUserCanceled(event),
    exceedsKeyUpdateLimit: ({ context, event }: { context: C; event: TlsEvent }) =>
      exceedsKeyUpdateLimit(context, context.config.limits, event),
  };

  const actions = {
    acceptKeyUpdate: up(acceptKeyUpdate),
    initiateKeyUpdate: up(initiateKeyUpdate),
    deliverApplicationData: up(deliverApplicationData),
    sendApplicationData: up(sendApplicationData),
    noteChangeCipherSpec: up(() => ({ ccsReceived: true })),
    clearOutbox: up(() => ({ outbox: [] })),
    sendCloseNotify: up((c) => sendCloseNotify(c)),
    notePeerClosed: up((c) => peerClosed(c)),
    closeOnPeerNotify: up((c) => peerClosed(c)),
    failFromPeerAlert: up(failFromPeerAlert),
    failMalformed: up(failMalformed),
    failUnexpected: assign<C, TlsEvent, undefined, TlsEvent, never>(
      ({ context, event, self }) => unexpected(context, event, JSON.stringify(self.getSnapshot().value)) as Patch,
    ),
    fail: assign<C, TlsEvent, FailParams, TlsEvent, never>(({ context }, p) => failWith(context, refuse(p.reason, p.message)) as Patch),
  };

  return { up, guards, actions };
}

/**
 * Root transitions, inherited by every state that does not handle the event
 * itself: a close_notify during the handshake ends it, user_canceled is noted,
 * any other alert is fatal (RFC 8446 §6.2), and a message not allowed in the
 * current state is unexpected_message.
 */
export const rootTransitions = {
  'recv.Alert': [
    { guard: 'isCloseNotify', target: '.closed', actions: 'closeOnPeerNotify' },
    { guard: 'isUserCanceled' },
    { target: '.failed', actions: 'failFromPeerAlert' },
  ],
  'recv.Malformed': { target: '.failed', actions: 'failMalformed' },
  'recv.*': { target: '.failed', actions: 'failUnexpected' },
  'app.close': { target: '.closed', actions: 'sendCloseNotify' },
  'engine.drained': { actions: 'clearOutbox' },
} as const;

/** In `connected`: application data, KeyUpdate and the half-close of RFC 8446 §6.1. */
export const connectedTransitions = {
  // RFC 8446 §6.1: data after the peer's close_notify is ignored.
  'recv.ApplicationData': [{ guard: 'hasPeerClosed' }, { actions: 'deliverApplicationData' }],
  'recv.KeyUpdate': [
    {
      guard: 'exceedsKeyUpdateLimit',
      target: 'failed',
      actions: {
        type: 'fail',
        params: { reason: 'TooManyKeyUpdates', message: 'too many KeyUpdates in a row without application data (RFC 8446 §4.6.3)' },
      },
    },
    { actions: 'acceptKeyUpdate' },
  ],
  'app.write': { actions: 'sendApplicationData' },
  'app.keyUpdate': { actions: 'initiateKeyUpdate' },
  // Each side closes its own write side; `closed` once both have.
  'recv.Alert': [
    { guard: 'isCloseNotifyAfterOurs', target: 'closed', actions: 'notePeerClosed' },
    { guard: 'isCloseNotify', actions: 'notePeerClosed' },
    { guard: 'isUserCanceled' },
    { target: 'failed', actions: 'failFromPeerAlert' },
  ],
  'app.close': [{ guard: 'hasPeerClosed', target: 'closed', actions: 'sendCloseNotify' }, { actions: 'sendCloseNotify' }],
} as const;

/** Final and absorbing: the catch-all keeps even a pure transition() on a stored snapshot from leaving. */
export const finalStates = {
  closed: { type: 'final', on: { '*': {} } },
  failed: { type: 'final', on: { '*': {} } },
} as const;
