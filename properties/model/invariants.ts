/**
 * Properties 1-7 checked on a session of the engine pair after every step,
 * from the connections' contexts (the witnesses), their traces (what went
 * out and came in, in order) and the data events. The binder of a resumed
 * handshake is recomputed here from the ClientHello bytes the server
 * received, independently of the chart.
 */
import { constantTimeEqual } from '../../crypto/bytes.js';
import { computeBinder, EarlySecret } from '../../crypto/keyschedule.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { BinderVerified, FinishedVerified, SignatureVerified } from '../../crypto/witness.js';
import type { TraceEntry } from '../../engine/connection.js';
import type { AlertName } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, truncatedClientHello } from '../../wire/handshake.js';
import { type HandshakeMessage, PskKeyExchangeMode } from '../../wire/types.js';
import { ALERT_TABLE, allowedAlerts } from '../support/alerts.js';
import { lastClientHelloIn, type Session } from './world.js';

type MessageEntry = Extract<TraceEntry, { kind: 'message' }>;

function messages(
  trace: readonly TraceEntry[],
  direction: 'in' | 'out',
): Array<{ at: number; entry: MessageEntry; msg: HandshakeMessage | undefined }> {
  const out: Array<{ at: number; entry: MessageEntry; msg: HandshakeMessage | undefined }> = [];
  trace.forEach((e, at) => {
    if (e.kind !== 'message' || e.direction !== direction) return;
    const d = decodeHandshake(e.raw);
    out.push({ at, entry: e, msg: e.msg ?? (d.ok ? d.value : undefined) });
  });
  return out;
}

const contains = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay).includes(Buffer.from(needle));

/** Property 2 and 5: the server's resumption, re-derived from its trace. */
function checkResumption(s: Session, out: string[]): void {
  const ctx = s.server.context;
  if (!ctx.resumed) return;
  const sel = ctx.selectedPsk;
  const suite = ctx.suite;
  const ins = messages(s.serverTrace, 'in').filter((m) => m.msg?.type === 'client_hello');
  const outs = messages(s.serverTrace, 'out').filter((m) => m.msg?.type === 'server_hello');
  const sh = outs.find((m) => m.msg?.type === 'server_hello' && !m.msg.isHelloRetryRequest);
  const hrr = outs.find((m) => m.msg?.type === 'server_hello' && m.msg.isHelloRetryRequest);
  if (!sel || !suite || !sh) {
    out.push('server resumed without a selected PSK or a ServerHello');
    return;
  }
  // The ClientHello that carried the binder is the last one received before the ServerHello went out.
  const chIn = ins.filter((m) => m.at < sh.at).at(-1);
  const ch = chIn?.msg;
  if (!chIn || ch?.type !== 'client_hello') {
    out.push('the ServerHello of a resumed handshake went out before any ClientHello came in');
    return;
  }
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  const binder = psk?.binders[sel.index];
  const partial = truncatedClientHello(chIn.entry.raw);
  const first = ins[0];
  const prefix = hrr && first && first.at < hrr.at ? [messageHashMessage(suite.hash, first.entry.raw, ctx.env.crypto), hrr.entry.raw] : [];
  if (hrr && prefix.length === 0) out.push('resumed after a HelloRetryRequest without a first ClientHello');
  if (!binder || !partial.ok) out.push('server resumed on a ClientHello without a binder for the selected identity');
  else {
    const key = EarlySecret.create(suite, sel.state.psk, ctx.env.crypto).resumptionBinderKey();
    const expected = computeBinder(suite, key, transcriptHash(suite.hash, [...prefix, partial.value], ctx.env.crypto), ctx.env.crypto);
    if (!constantTimeEqual(expected, binder)) {
      out.push(
        hrr
          ? 'server resumed although the binder was not computed over message_hash(CH1) ‖ HRR ‖ Truncate(CH2)'
          : 'server resumed on a binder that does not verify',
      );
    }
    if (!(ctx.binder instanceof BinderVerified) || !ctx.binder.isFor(key))
      out.push('server resumed without a BinderVerified witness for the PSK');
  }
  if (!findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes.includes(PskKeyExchangeMode.psk_dhe_ke))
    out.push('server resumed without psk_dhe_ke offered');
  if (!findExtension(ch.extensions, 'key_share_client')) out.push('server resumed on a ClientHello without key_share');
  if (sh.msg?.type !== 'server_hello' || !findExtension(sh.msg.extensions, 'key_share_server'))
    out.push('server resumed without a key_share in its ServerHello');
}

export interface CheckContext {
  /** Alerts the configurations themselves call for (an honest mismatch), beyond the attacks'. */
  predicted: AlertName[];
  /** Nothing is in flight any more: every refusal that will happen has happened. */
  quiet: boolean;
}

/** Every property that can be checked on one session right now. */
export function checkSession(s: Session, cc: CheckContext): string[] {
  const out: string[] = [];
  const attacks = [...s.attacks];
  const allowed = allowedAlerts(attacks);
  for (const a of cc.predicted) allowed.add(a);
  for (const e of s.exceptions) out.push(e);
  for (const side of ['client', 'server'] as const) {
    const conn = side === 'client' ? s.client : s.server;
    const state = conn.state;
    // 6. every rejection is the final failed state, with an alert RFC 8446 names for what happened.
    if (conn.error && state !== 'failed')
      out.push(`${side}: ended with ${conn.error.alert} (${conn.error.reason}) but its chart is in ${state}, not failed`);
    if (state === 'failed' && !conn.error) out.push(`${side}: failed without an error`);
    if (conn.error && !conn.error.remote && !(allowed as ReadonlySet<string>).has(conn.error.alert)) {
      out.push(
        `${side}: sent ${conn.error.alert} (${conn.error.reason}: ${conn.error.message}); after ${attacks.join(', ') || 'no attack'} RFC 8446 allows ${[...allowed].join(' | ') || 'no failure'}`,
      );
    }
    // 1. connected ⇒ the peer's Finished was verified; data only after that.
    if (state === 'connected') {
      if (side === 'client') {
        const c = s.client.context;
        if (
          !(c.serverFinished instanceof FinishedVerified) ||
          !c.serverHandshakeSecret ||
          !c.serverFinished.isFor(c.serverHandshakeSecret)
        ) {
          out.push('client: connected without the FinishedVerified witness for the server Finished');
        }
        if (!c.resumed && (!(c.serverSignature instanceof SignatureVerified) || !c.peerSpki || !c.serverSignature.isFor(c.peerSpki))) {
          out.push('client: connected in a full handshake without a verified server signature');
        }
      } else {
        const c = s.server.context;
        if (
          !(c.clientFinished instanceof FinishedVerified) ||
          !c.clientHandshakeSecret ||
          !c.clientFinished.isFor(c.clientHandshakeSecret)
        ) {
          out.push('server: connected without the FinishedVerified witness for the client Finished');
        }
        if (
          c.clientCertificateRequested &&
          c.peerChain.length > 0 &&
          (!(c.clientSignature instanceof SignatureVerified) || !c.peerSpki || !c.clientSignature.isFor(c.peerSpki))
        ) {
          out.push('server: accepted a client certificate without a verified client signature');
        }
      }
    }
    for (const d of s.data[side]) {
      if (d.state !== 'connected' || !d.witness)
        out.push(`${side}: application data reached the application in ${d.state}${d.witness ? '' : ' without a verified Finished'}`);
      // 4. no 0-RTT byte reaches the application.
      if (s.earlyMarker && contains(d.bytes, s.earlyMarker)) out.push(`${side}: 0-RTT data reached the application`);
    }
  }
  checkResumption(s, out);
  // 3. psk_ke only ⇒ no resumption, no tickets.
  const sctx = s.server.context;
  // Once connected the server's context no longer holds the hellos: the last one it received is read from its trace.
  const sch = sctx.clientHello ?? lastClientHelloIn(s.serverTrace);
  if (sch && !findExtension(sch.extensions, 'psk_key_exchange_modes')?.modes.includes(PskKeyExchangeMode.psk_dhe_ke)) {
    if (sctx.resumed) out.push('server resumed a psk_ke-only offer');
    if (messages(s.serverTrace, 'out').some((m) => m.msg?.type === 'new_session_ticket'))
      out.push('server sent tickets to a client that did not offer psk_dhe_ke');
  }
  // 4. never early_data in EncryptedExtensions, never max_early_data_size in a ticket (unless the attacker forged it).
  for (const m of messages(s.serverTrace, 'out')) {
    if (m.msg?.type === 'encrypted_extensions' && findExtension(m.msg.extensions, 'early_data') && !s.attacks.has('acceptedEarlyData'))
      out.push('server accepted early data');
    if (m.msg?.type === 'new_session_ticket' && findExtension(m.msg.extensions, 'early_data_ticket'))
      out.push('server put max_early_data_size in a ticket');
  }
  for (const m of messages(s.clientTrace, 'in')) {
    if (m.msg?.type === 'encrypted_extensions' && findExtension(m.msg.extensions, 'early_data') && s.client.state !== 'failed') {
      out.push('client went on after early_data in EncryptedExtensions');
    }
  }
  // An attack that must be refused was refused: once it took effect, its victim never connected;
  // and when nothing else disturbed the session, the victim itself refused it, with an alert of the table.
  const onlyApplied = attacks.every((a) => s.applied.some((x) => x.attack === a));
  for (const { attack, victim, detect } of s.applied) {
    if (!ALERT_TABLE[attack].mustFail) continue;
    const conn = victim === 'server' ? s.server : s.client;
    if (conn.state === 'connected' || conn.info !== undefined) out.push(`the attack ${attack} was accepted: the ${victim} connected`);
    if (detect && cc.quiet && onlyApplied && cc.predicted.length === 0) {
      const err = conn.error;
      if (!err || err.remote || !(ALERT_TABLE[attack].alerts as readonly string[]).includes(err.alert)) {
        out.push(
          `the ${victim} did not refuse ${attack} itself with ${ALERT_TABLE[attack].alerts.join(' | ')} (it is ${conn.state}${err ? `, ${err.remote ? 'received' : 'sent'} ${err.alert}` : ''})`,
        );
      }
    }
  }
  return out;
}
