/**
 * Properties 1-7 as checks on one pure transition of a chart: (before, event,
 * after). Each returns the violations it finds, as sentences; an empty list
 * means the step is fine. The checks recompute what they can independently
 * (binder input, Finished witness key) rather than trusting the machine.
 */
import { constantTimeEqual } from '../../crypto/bytes.js';
import { EarlySecret } from '../../crypto/keyschedule.js';
import { suiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { BinderVerified, FinishedVerified, SignatureVerified } from '../../crypto/witness.js';
import type { ClientContext } from '../../machines/client/context.js';
import type { ServerContext } from '../../machines/server/context.js';
import type { Command, TlsEvent } from '../../machines/types.js';
import { type AlertName, isAlertName } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, truncatedClientHello } from '../../wire/handshake.js';
import { type ClientHello, PskKeyExchangeMode } from '../../wire/types.js';
import { ALERT_TABLE, type AttackKind } from './alerts.js';
import { type ClientSnapshot, type ServerSnapshot, type Snapshot, stateOf } from './pure.js';

/** An event of the symbolic alphabet: real material plus what it is meant to be. */
export interface LabelledEvent {
  /** Short name for printing paths. */
  label: string;
  event: TlsEvent;
  /** Set for a mutated/attacking message. */
  attack?: AttackKind;
  /** States in which the attack is aimed (where its honest original would have been taken). */
  target?: readonly string[];
}

/** Alerts a message may draw when it arrives in a state that expects its type but is not the honest one. */
const BY_MESSAGE: Record<string, readonly AlertName[]> = {
  'recv.ClientHello': [
    'decode_error',
    'illegal_parameter',
    'missing_extension',
    'protocol_version',
    'handshake_failure',
    'no_application_protocol',
    'decrypt_error',
  ],
  'recv.ServerHello': ['illegal_parameter', 'missing_extension', 'unsupported_extension', 'protocol_version', 'unexpected_message'],
  'recv.EncryptedExtensions': ['illegal_parameter', 'unsupported_extension'],
  'recv.Certificate': [
    'decode_error',
    'illegal_parameter',
    'bad_certificate',
    'unknown_ca',
    'certificate_required',
    'unsupported_certificate',
    'certificate_expired',
  ],
  'recv.CertificateRequest': ['illegal_parameter', 'missing_extension'],
  'recv.CertificateVerify': ['decrypt_error', 'illegal_parameter'],
  'recv.Finished': ['decrypt_error'],
};

/** Event types a state handles itself (not only through the root's catch-all). */
export function ownEventTypes(snapshot: Snapshot): Set<string> {
  const node = (snapshot.machine as unknown as { root: { states: Record<string, { on?: Record<string, unknown> }> } }).root.states[
    stateOf(snapshot)
  ];
  return new Set(Object.keys(node?.on ?? {}));
}

const newCommands = (before: Snapshot, after: Snapshot): Command[] => {
  const a = (before.context as { outbox: Command[] }).outbox;
  const b = (after.context as { outbox: Command[] }).outbox;
  return b.length >= a.length ? b.slice(a.length) : b;
};

/** A ticket leaving or kept: stored and sent, sent with the flight (early tickets), or kept after it left. */
const isTicket = (c: Command): boolean =>
  c.kind === 'storeTicket' || c.kind === 'keepTicket' || (c.kind === 'sendHandshake' && c.name === 'new_session_ticket');

/** Checks common to both sides: no exception, failed is final and carries an error, exact alerts. */
function commonChecks(before: Snapshot, le: LabelledEvent, after: Snapshot, thrown: unknown, out: string[]): void {
  const from = stateOf(before);
  const to = stateOf(after);
  if (thrown !== undefined) {
    out.push(`an exception escaped the chart in ${from} on ${le.label}: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    return;
  }
  const err = (after.context as { error: { alert: AlertName; remote: boolean; reason: string } | undefined }).error;
  if (to === 'failed') {
    if (after.status !== 'done') out.push(`failed is not final (status ${after.status})`);
    if (!err) out.push(`entered failed from ${from} on ${le.label} without an error`);
  } else if (err && to !== 'failed') {
    out.push(`an error (${err.alert}) was recorded but the chart is in ${to}`);
  }
  if (from === 'failed' || from === 'closed') {
    if (to !== from) out.push(`left the final state ${from} on ${le.label}`);
    return;
  }
  if (to === 'failed' && err) {
    const ev = le.event;
    let allowed: readonly AlertName[];
    if (ev.type === 'recv.Alert') allowed = err.remote && isAlertName(err.alert) ? [err.alert] : [];
    else if (ev.type === 'recv.Malformed') allowed = isAlertName(ev.error.alert) ? [ev.error.alert] : [];
    else if (!ownEventTypes(before).has(ev.type) || ev.type === 'recv.ChangeCipherSpec' || ev.type === 'recv.EndOfEarlyData')
      allowed = ['unexpected_message'];
    else if (le.attack && (le.target ?? []).includes(from)) allowed = ALERT_TABLE[le.attack].alerts;
    else allowed = BY_MESSAGE[ev.type] ?? ['unexpected_message'];
    if (!allowed.includes(err.alert)) {
      out.push(
        `${from} --${le.label}--> failed with ${err.alert} (${err.reason}); RFC 8446 allows ${allowed.join(' | ') || 'no failure'} here`,
      );
    }
  }
  if (le.attack && ALERT_TABLE[le.attack].mustFail && (le.target ?? []).includes(from) && to !== 'failed') {
    out.push(`the attack ${le.attack} (${le.label}) was accepted in ${from} (now ${to})`);
  }
}

export function checkClientStep(before: ClientSnapshot, le: LabelledEvent, after: ClientSnapshot, thrown: unknown): string[] {
  const out: string[] = [];
  commonChecks(before, le, after, thrown, out);
  if (thrown !== undefined) return out;
  const ctx = after.context as ClientContext;
  const to = stateOf(after);
  // 1. connected ⇒ the server's Finished (and, in a full handshake, its signature) was verified.
  if (to === 'connected') {
    const fin = ctx.serverFinished;
    if (!(fin instanceof FinishedVerified) || !ctx.serverHandshakeSecret || !fin.isFor(ctx.serverHandshakeSecret)) {
      out.push('client connected without a FinishedVerified witness for the server handshake secret');
    }
    if (!ctx.resumed) {
      const sig = ctx.serverSignature;
      if (!(sig instanceof SignatureVerified) || sig.role !== 'server' || !ctx.peerSpki || !sig.isFor(ctx.peerSpki)) {
        out.push('client connected in a full handshake without a verified server CertificateVerify');
      }
    }
  }
  // 1. application data reaches the application only in connected.
  for (const c of newCommands(before, after)) {
    if (c.kind === 'deliver' && stateOf(before) !== 'connected') out.push(`client delivered application data in ${stateOf(before)}`);
  }
  // 2. resumed ⇒ an offered PSK with psk_dhe_ke and a key share in both hellos.
  if (ctx.resumed && !(before.context as ClientContext).resumed) {
    const ch = ctx.clientHello;
    const modes = ch && findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes;
    if (!ctx.offeredPsk) out.push('client resumed without having offered a PSK');
    if (!modes?.includes(PskKeyExchangeMode.psk_dhe_ke)) out.push('client resumed without offering psk_dhe_ke');
    if (!ch || !findExtension(ch.extensions, 'key_share_client')) out.push('client resumed without a key share in its ClientHello');
    if (le.event.type === 'recv.ServerHello' && !findExtension(le.event.msg.extensions, 'key_share_server')) {
      out.push('client resumed on a ServerHello without key_share (psk_ke)');
    }
  }
  // 4. a server that accepts early data is refused.
  if (le.event.type === 'recv.EncryptedExtensions' && findExtension(le.event.msg.extensions, 'early_data') && to !== 'failed') {
    out.push('client went on after EncryptedExtensions with early_data');
  }
  return out;
}

/** Transcript-Hash(prefix ‖ Truncate(ClientHello)) recomputed here, for property 5. */
function expectedPartialHash(ctx: ServerContext, ch: ClientHello): Uint8Array | undefined {
  const suite = ctx.suite;
  const t = truncatedClientHello(ch.raw);
  if (!suite || !t.ok) return undefined;
  const prefix =
    ctx.helloRetryRequest && ctx.clientHello1
      ? [messageHashMessage(suite.hash, ctx.clientHello1.raw, ctx.env.crypto), ctx.helloRetryRequest.raw]
      : [];
  return transcriptHash(suite.hash, [...prefix, t.value], ctx.env.crypto);
}

export function checkServerStep(before: ServerSnapshot, le: LabelledEvent, after: ServerSnapshot, thrown: unknown): string[] {
  const out: string[] = [];
  commonChecks(before, le, after, thrown, out);
  if (thrown !== undefined) return out;
  const ctx = after.context as ServerContext;
  const to = stateOf(after);
  const added = newCommands(before, after);
  // 1. connected ⇒ the client's Finished (and its signature, if it sent a certificate) was verified.
  if (to === 'connected') {
    const fin = ctx.clientFinished;
    if (!(fin instanceof FinishedVerified) || !ctx.clientHandshakeSecret || !fin.isFor(ctx.clientHandshakeSecret)) {
      out.push('server connected without a FinishedVerified witness for the client handshake secret');
    }
    if (ctx.clientCertificateRequested && ctx.peerChain.length > 0 && !ctx.resumed) {
      const sig = ctx.clientSignature;
      if (!(sig instanceof SignatureVerified) || sig.role !== 'client' || !ctx.peerSpki || !sig.isFor(ctx.peerSpki)) {
        out.push('server accepted a client certificate without a verified client CertificateVerify');
      }
    }
  }
  for (const c of added) {
    if (c.kind === 'deliver' && stateOf(before) !== 'connected') out.push(`server delivered application data in ${stateOf(before)}`);
    // 4. never early_data in EncryptedExtensions, never max_early_data_size in a ticket.
    const raw = c.kind === 'sendHandshake' ? c.raw : c.kind === 'storeTicket' ? c.raw : undefined;
    if (raw) {
      const d = decodeHandshake(raw);
      if (d.ok && d.value.type === 'encrypted_extensions' && findExtension(d.value.extensions, 'early_data')) {
        out.push('server accepted early data in EncryptedExtensions');
      }
      if (d.ok && d.value.type === 'new_session_ticket' && findExtension(d.value.extensions, 'early_data_ticket')) {
        out.push('server announced max_early_data_size in a ticket');
      }
    }
  }
  // The step that enters connected drops the hellos from the context; that step still issues the tickets.
  const ch = ctx.clientHello ?? (before.context as ServerContext).clientHello;
  // 3. a psk_ke-only offer never resumes, and such a client gets no tickets.
  if (ch) {
    const modes = findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes ?? [];
    if (!modes.includes(PskKeyExchangeMode.psk_dhe_ke)) {
      if (ctx.resumed) out.push('server resumed a client that offered no psk_dhe_ke');
      if (added.some(isTicket)) out.push('server sent tickets to a client that offered no psk_dhe_ke');
    }
  }
  // 2, 5, 7. resumed ⇒ a binder verified over the right transcript, for a usable ticket, with a fresh share.
  if (ctx.resumed && !(before.context as ServerContext).resumed) {
    const sel = ctx.selectedPsk;
    const suite = ctx.suite;
    const binder = ctx.binder;
    const psk = ch && findExtension(ch.extensions, 'pre_shared_key_client');
    if (!ch || !sel || !suite || !psk) {
      out.push('server resumed without a selected PSK');
    } else {
      const binderKey = EarlySecret.create(suite, sel.state.psk, ctx.env.crypto).resumptionBinderKey();
      const partial = expectedPartialHash(ctx, ch);
      const received = psk.binders[sel.index];
      if (!(binder instanceof BinderVerified) || !binder.isFor(binderKey))
        out.push('server resumed without a BinderVerified witness for the selected PSK');
      else if (!partial || !constantTimeEqual(binder.partialClientHelloHash, partial)) {
        out.push(
          ctx.helloRetryRequest
            ? 'the binder after HelloRetryRequest was not computed over message_hash(CH1) ‖ HRR ‖ Truncate(CH2)'
            : 'the binder was not computed over Truncate(ClientHello)',
        );
      } else if (!received || !constantTimeEqual(binder.binder, received))
        out.push('the verified binder is not the one the client sent for the selected identity');
      const modes = findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes ?? [];
      if (!modes.includes(PskKeyExchangeMode.psk_dhe_ke)) out.push('server resumed without psk_dhe_ke');
      if (!findExtension(ch.extensions, 'key_share_client') || !ctx.serverShare) out.push('server resumed without an (EC)DHE share');
      const sh = added.find((c) => c.kind === 'sendHandshake' && c.name === 'server_hello');
      const shMsg = sh && sh.kind === 'sendHandshake' ? decodeHandshake(sh.raw) : undefined;
      if (!shMsg?.ok || shMsg.value.type !== 'server_hello' || !findExtension(shMsg.value.extensions, 'key_share_server')) {
        out.push('server resumed without a key_share in its ServerHello');
      }
      const state = sel.state;
      const now = ctx.env.now();
      if (now >= state.issuedAtMs + state.lifetimeS * 1000 || now < state.issuedAtMs) out.push('server resumed an expired ticket');
      if (state.serverName !== findExtension(ch.extensions, 'server_name')?.hostName) out.push('server resumed a ticket under another SNI');
      if (suiteInfo(state.suite)?.hash !== suite.hash) out.push('server resumed a ticket under another hash');
    }
  }
  if (!ctx.resumed && ctx.binder !== undefined) out.push('a binder witness exists but the handshake is not resumed');
  return out;
}
