/**
 * Pieces both statecharts share: failing with an exact alert, the one dummy
 * ChangeCipherSpec of middlebox compatibility, KeyUpdate, application data,
 * alerts and close_notify. Each function is pure: (context, event) → the part of
 * the context that changes; the commands it produces are appended to the outbox.
 */

import { nextApplicationTrafficSecret } from '../crypto/keyschedule.js';
import type { SuiteInfo } from '../crypto/suites.js';
import { transcriptHash } from '../crypto/transcript.js';
import { AlertDescription, alertName, TlsError } from '../wire/alerts.js';
import { partsLength } from '../wire/bytes.js';
import { encodeHandshake } from '../wire/handshake.js';
import type { AlertingReason, AlertOf } from '../wire/refusals.js';
import type { HandshakeMessage, KeyUpdate, Unencoded } from '../wire/types.js';
import type { Command, Environment, ProtocolLimits, TlsEvent } from './types.js';

/** Default `maxKeyUpdates` (as BoringSSL): tlsfuzzer's 32 update_requested in a row still pass. */
export const DEFAULT_MAX_KEY_UPDATES = 32;

/** The fields every connection context has. */
export interface CommonContext {
  env: Environment;
  /** Commands for the engine, drained after every event. */
  outbox: Command[];
  /** Raw handshake messages hashed into the transcript so far. */
  transcript: Uint8Array[];
  suite: SuiteInfo | undefined;
  /** Traffic secrets of the current read and write epochs (after the handshake). */
  readSecret: Uint8Array | undefined;
  writeSecret: Uint8Array | undefined;
  readGeneration: number;
  writeGeneration: number;
  /** A dummy ChangeCipherSpec was received (at most one is allowed, RFC 8446 §5). */
  ccsReceived: boolean;
  /** Our KeyUpdate with update_requested is still unanswered. */
  keyUpdatePending: boolean;
  /** KeyUpdates received since the last application data received (RFC 8446 §4.6.3; see `exceedsKeyUpdateLimit`). */
  keyUpdatesInARow: number;
  /**
   * We answered an update_requested and no application data has been sent or
   * received since: a further request is covered by that answer (§4.6.3: an
   * implementation that "receives multiple KeyUpdates while it is silent"
   * responds "with a single update").
   */
  keyUpdateAnswered: boolean;
  closeNotifySent: boolean;
  /** The peer sent close_notify: nothing more will be read (data after it is ignored, RFC 8446 §6.1). */
  closeNotifyReceived: boolean;
  error: TlsError | undefined;
}

export const commonDefaults = (env: Environment): CommonContext => ({
  env,
  outbox: [],
  transcript: [],
  suite: undefined,
  readSecret: undefined,
  writeSecret: undefined,
  readGeneration: 0,
  writeGeneration: 0,
  ccsReceived: false,
  keyUpdatePending: false,
  keyUpdatesInARow: 0,
  keyUpdateAnswered: false,
  closeNotifySent: false,
  closeNotifyReceived: false,
  error: undefined,
});

/**
 * Middlebox compatibility (RFC 8446 D.4): one dummy ChangeCipherSpec, right
 * after our first handshake message of a connection that uses a legacy session
 * id. Appends it to `outbox` when due; returns whether one has been sent now.
 */
export function dummyChangeCipherSpec(outbox: Command[], due: boolean, alreadySent: boolean): boolean {
  if (!due || alreadySent) return alreadySent;
  outbox.push({ kind: 'sendChangeCipherSpec' });
  return true;
}

/** The event an action was written for; any other is a bug in the chart, never a peer's error. */
export function eventOf<T extends TlsEvent['type']>(event: TlsEvent, type: T): Extract<TlsEvent, { type: T }> {
  if (event.type !== type) throw new Error(`expected a ${type} event, got ${event.type}`);
  return event as Extract<TlsEvent, { type: T }>;
}

/**
 * Transcript-Hash (RFC 8446 §4.4.1) of `messages` (default: the context's
 * transcript) under `suite` (default: the negotiated one), through the
 * connection's crypto provider.
 */
export function transcriptHashOf(
  ctx: CommonContext,
  messages: readonly Uint8Array[] = ctx.transcript,
  suite: SuiteInfo | undefined = ctx.suite,
): Uint8Array {
  if (!suite) throw new Error('no cipher suite negotiated yet');
  return transcriptHash(suite.hash, messages, ctx.env.crypto);
}

/** Encode a handshake message and queue it; returns the encoded message too. */
export function handshakeCommand<M extends HandshakeMessage>(body: Unencoded<M>): { msg: M; cmd: Command } {
  const msg = encodeHandshake(body) as M;
  return { msg, cmd: { kind: 'sendHandshake', raw: msg.raw, name: body.type } };
}

/** Enter `failed`: record the error and (unless the peer sent the alert) send it. */
export function failWith(ctx: CommonContext, error: TlsError): Partial<CommonContext> {
  const outbox = error.remote ? ctx.outbox : [...ctx.outbox, { kind: 'sendAlert', alert: error.alert, level: 2 } as Command];
  return { error, outbox };
}

export function failAlert<R extends AlertingReason>(
  ctx: CommonContext,
  alert: AlertOf<R>,
  reason: R,
  message: string,
): Partial<CommonContext> {
  return failWith(ctx, new TlsError<R>(alert as never, reason, message));
}

/** The event named a message that is not allowed in the current state. */
export function unexpected(ctx: CommonContext, event: TlsEvent, state: string): Partial<CommonContext> {
  const what = event.type.startsWith('recv.') ? event.type.slice(5) : event.type;
  return failAlert(ctx, 'unexpected_message', 'UnexpectedMessage', `${what} is not allowed while ${state}`);
}

/** A received alert: close_notify closes; anything else is fatal in TLS 1.3 (§6). */
export function isCloseNotify(event: TlsEvent): boolean {
  return event.type === 'recv.Alert' && event.description === AlertDescription.close_notify;
}

/** user_canceled is followed by close_notify (§6.1); it is noted, not fatal. */
export function isUserCanceled(event: TlsEvent): boolean {
  return event.type === 'recv.Alert' && event.description === AlertDescription.user_canceled;
}

export function failFromPeerAlert(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  eventOf(event, 'recv.Alert');
  // An alert code RFC 8446 does not define is reported by its number, not as one of ours.
  const alert = alertName(eventOf(event, 'recv.Alert').description);
  return failWith(ctx, new TlsError<'PeerAlert'>(alert, 'PeerAlert', `the peer sent a fatal alert: ${alert}`, true));
}

/**
 * The peer closed its write side (RFC 8446 §6.1). Ours stays open: the
 * application may still write and then close (node's allowHalfOpen decides).
 */
export function peerClosed(ctx: CommonContext): Partial<CommonContext> {
  return { outbox: [...ctx.outbox, { kind: 'peerClosed' }], closeNotifyReceived: true };
}

export function sendCloseNotify(ctx: CommonContext): Partial<CommonContext> {
  if (ctx.closeNotifySent) return {};
  return { outbox: [...ctx.outbox, { kind: 'sendAlert', alert: 'close_notify', level: 1 }], closeNotifySent: true };
}

export function failMalformed(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  return failWith(ctx, eventOf(event, 'recv.Malformed').error);
}

/**
 * Application data reaches the application only in `connected` (the peer's
 * Finished was verified). Data with content ends a run of KeyUpdates; an
 * empty record does not (the record layer limits those on its own).
 */
export function deliverApplicationData(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  const { data } = eventOf(event, 'recv.ApplicationData');
  const outbox: Command[] = [...ctx.outbox, { kind: 'deliver', data }];
  return partsLength(data) > 0 ? { outbox, keyUpdatesInARow: 0, keyUpdateAnswered: false } : { outbox };
}

export function sendApplicationData(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  const { data } = eventOf(event, 'app.write');
  // After our close_notify nothing more is written (§6.1); the engine refuses the call before it gets here.
  if (ctx.closeNotifySent) return {};
  return { outbox: [...ctx.outbox, { kind: 'sendApplicationData', data }], keyUpdateAnswered: false };
}

/**
 * A KeyUpdate flood: more than `maxKeyUpdates` KeyUpdates in a row with no
 * application data received between them. Each one costs a key derivation
 * (and a request, an answer); RFC 8446 names no limit, so the answer is
 * unexpected_message, as BoringSSL sends.
 */
export function exceedsKeyUpdateLimit(ctx: CommonContext, limits: Partial<ProtocolLimits> | undefined, event: TlsEvent): boolean {
  return event.type === 'recv.KeyUpdate' && ctx.keyUpdatesInARow + 1 > (limits?.maxKeyUpdates ?? DEFAULT_MAX_KEY_UPDATES);
}

function requireSuite(ctx: CommonContext): SuiteInfo {
  if (!ctx.suite) throw new Error('no cipher suite negotiated');
  return ctx.suite;
}

/** Send a KeyUpdate and move our write side to the next generation (RFC 8446 §4.6.3, §7.2). */
function updateWrite(ctx: CommonContext, requestUpdate: 0 | 1, outbox: Command[]): Partial<CommonContext> {
  const suite = requireSuite(ctx);
  if (!ctx.writeSecret) throw new Error('no application write secret');
  const { cmd } = handshakeCommand<KeyUpdate>({ type: 'key_update', requestUpdate });
  const next = nextApplicationTrafficSecret(suite, ctx.writeSecret, ctx.env.crypto);
  const gen = ctx.writeGeneration + 1;
  return {
    outbox: [...outbox, cmd, { kind: 'setWriteKeys', suite, secret: next, epoch: `application+${gen}` }],
    writeSecret: next,
    writeGeneration: gen,
  };
}

/** The application asked for a KeyUpdate. */
export function initiateKeyUpdate(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  const req = eventOf(event, 'app.keyUpdate').requestPeerUpdate ? 1 : 0;
  return { ...updateWrite(ctx, req, ctx.outbox), keyUpdatePending: ctx.keyUpdatePending || req === 1 };
}

/**
 * The peer sent a KeyUpdate: our read side moves on; when it asked for an
 * update we answer with update_not_requested — once for any number of
 * requests that arrive while no application data flows either way (§4.6.3).
 */
export function acceptKeyUpdate(ctx: CommonContext, event: TlsEvent): Partial<CommonContext> {
  const { msg } = eventOf(event, 'recv.KeyUpdate');
  const suite = requireSuite(ctx);
  if (!ctx.readSecret) throw new Error('no application read secret');
  const next = nextApplicationTrafficSecret(suite, ctx.readSecret, ctx.env.crypto);
  const gen = ctx.readGeneration + 1;
  const outbox: Command[] = [...ctx.outbox, { kind: 'setReadKeys', suite, secret: next, epoch: `application+${gen}` }];
  // Any KeyUpdate from the peer answers a request of ours; a request from the peer is
  // answered even when ours crossed it in flight (both sides then move two generations).
  const base: Partial<CommonContext> = {
    readSecret: next,
    readGeneration: gen,
    outbox,
    keyUpdatePending: false,
    keyUpdatesInARow: ctx.keyUpdatesInARow + 1,
  };
  if (msg.requestUpdate === 1 && !ctx.closeNotifySent && !ctx.keyUpdateAnswered) {
    return { ...base, ...updateWrite({ ...ctx, ...base } as CommonContext, 0, outbox), keyUpdateAnswered: true };
  }
  return base;
}
