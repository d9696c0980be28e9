/**
 * The server's actions, by name: pure (context, event) → changed context, with
 * commands for the engine in the outbox.
 */
import { EarlySecret, finishedVerifyData, resumptionPsk } from '../../crypto/keyschedule.js';
import { certificateVerifyInput, SUPPORTED_SIGNATURE_SCHEMES } from '../../crypto/signature.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import { messageHashMessage } from '../../crypto/transcript.js';
import { MAX_TICKET_LIFETIME_S, type ServerSessionState } from '../../tickets/types.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { encodeHandshake, hrrRandom } from '../../wire/handshake.js';
import type {
  Certificate,
  CertificateRequest,
  CertificateVerify,
  ClientHello,
  EncryptedExtensions,
  Extension,
  Finished,
  NewSessionTicket,
  ServerHello,
} from '../../wire/types.js';
import { TLS12, TLS13 } from '../../wire/types.js';
import { dummyChangeCipherSpec, eventOf, failWith, handshakeCommand, transcriptHashOf } from '../common.js';
import type { Command, TlsEvent } from '../types.js';
import type { PendingTicket, ServerContext } from './context.js';
import { type HelloVerdict, judgeClientCertificate, judgeClientCertificateVerify, judgeClientFinished, judgeClientHello } from './judge.js';
import * as logic from './logic.js';

type Patch = Partial<ServerContext>;
const keylog = (label: string, secret: Uint8Array): Command => ({ kind: 'keylog', label, secret });
/** The client random once connected: empty (nothing is logged after the server's flight), one array for every connection. */
const NO_CLIENT_RANDOM = new Uint8Array(0);

/** The ClientHello event and the judge's verdict on it, which every ClientHello action acts on. */
function verdictOf(ctx: ServerContext, event: TlsEvent): { ch: ClientHello; verdict: HelloVerdict } {
  const hello = eventOf(event, 'recv.ClientHello');
  return { ch: hello.msg, verdict: judgeClientHello(ctx, hello) };
}

/** Answer the first ClientHello with a HelloRetryRequest (§4.1.4), with a cookie when forced. */
export function sendHelloRetryRequest(ctx: ServerContext, event: TlsEvent): Patch {
  const { ch, verdict } = verdictOf(ctx, event);
  if (verdict.kind !== 'retry') throw new Error(`HelloRetryRequest sent for a ${verdict.kind} verdict`);
  const { suite, group } = verdict;
  const cookie = ctx.config.forceHelloRetry ? ctx.env.random(32) : undefined;
  const extensions: Extension[] = [{ type: 'supported_versions_server', version: TLS13 }];
  if (group !== undefined) extensions.push({ type: 'key_share_hrr', selectedGroup: group });
  if (cookie) extensions.push({ type: 'cookie', cookie });
  const hrr = handshakeCommand<ServerHello>({
    type: 'server_hello',
    isHelloRetryRequest: true,
    legacyVersion: TLS12,
    random: hrrRandom(),
    legacySessionIdEcho: ch.legacySessionId,
    cipherSuite: suite.code,
    legacyCompressionMethod: 0,
    extensions,
  });
  const outbox: Command[] = [...ctx.outbox, hrr.cmd];
  const ccsSent = dummyChangeCipherSpec(outbox, ch.legacySessionId.length > 0, ctx.ccsSent);
  const earlyDataOffered = findExtension(ch.extensions, 'early_data') !== undefined;
  // §4.2.10: 0-RTT records sent with the first hello, before the client saw this retry, are
  // skipped up to the same limit as without a retry; the second ClientHello ends the skipping.
  if (earlyDataOffered) outbox.push({ kind: 'skipEarlyData', limit: ctx.config.maxEarlyDataSkip });
  return {
    clientRandom: ch.random,
    clientHello1: ch,
    clientHello: ch,
    helloRetryRequest: hrr.msg,
    group,
    suite,
    earlyDataOffered,
    transcript: [messageHashMessage(suite.hash, ch.raw, ctx.env.crypto), hrr.msg.raw],
    ccsSent,
    outbox,
  };
}

/**
 * The ClientHello is acceptable: ServerHello, EncryptedExtensions, then (full
 * handshake) CertificateRequest?, Certificate, CertificateVerify, and Finished.
 * A resumed handshake sends no Certificate/CertificateVerify (§4.2.11).
 */
export function sendServerFlight(ctx: ServerContext, event: TlsEvent): Patch {
  const { ch, verdict } = verdictOf(ctx, event);
  // Witnesses, not booleans: resumption only with the binder the judge verified.
  if (verdict.kind !== 'resume' && verdict.kind !== 'full') throw new Error(`server flight sent for a ${verdict.kind} verdict`);
  const { suite, share, alpn } = verdict;
  const resumed = verdict.kind === 'resume';
  const selected = resumed ? verdict.psk : undefined;
  // The client's share was checked by the judge; a failure here is a bug, not a peer error.
  const accepted = ctx.env.crypto.acceptShare(share.group, share.keyExchange, ctx.env.random);
  if (!accepted.ok) throw accepted.error;
  const serverShare = { group: share.group, keyExchange: accepted.share };
  const early = EarlySecret.create(suite, selected?.state.psk, ctx.env.crypto);

  const outbox: Command[] = [...ctx.outbox];
  if (ctx.helloRetryRequest) outbox.push({ kind: 'stopSkippingEarlyData' });
  let transcript = [...logic.transcriptPrefix(ctx), ch.raw];
  const send = (cmd: Command, raw: Uint8Array) => {
    outbox.push(cmd);
    transcript = [...transcript, raw];
  };

  const shExtensions: Extension[] = [
    { type: 'supported_versions_server', version: TLS13 },
    { type: 'key_share_server', share: serverShare },
  ];
  if (selected) shExtensions.push({ type: 'pre_shared_key_server', selectedIdentity: selected.index });
  const sh = handshakeCommand<ServerHello>({
    type: 'server_hello',
    isHelloRetryRequest: false,
    legacyVersion: TLS12,
    random: ctx.env.random(32),
    legacySessionIdEcho: ch.legacySessionId,
    cipherSuite: suite.code,
    legacyCompressionMethod: 0,
    extensions: shExtensions,
  });
  send(sh.cmd, sh.msg.raw);
  const ccsSent = dummyChangeCipherSpec(outbox, ch.legacySessionId.length > 0, ctx.ccsSent);

  const helloHash = transcriptHashOf(ctx, transcript, suite);
  const hs = early.withSharedSecret(accepted.secret);
  const cHs = hs.clientHandshakeTrafficSecret(helloHash);
  const sHs = hs.serverHandshakeTrafficSecret(helloHash);
  outbox.push(
    { kind: 'setWriteKeys', suite, secret: sHs, epoch: 'handshake' },
    keylog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', cHs),
    keylog('SERVER_HANDSHAKE_TRAFFIC_SECRET', sHs),
  );

  // EncryptedExtensions: never early_data (tlschart refuses 0-RTT, §4.2.10).
  const sni = findExtension(ch.extensions, 'server_name')?.hostName;
  const eeExt: Extension[] = [];
  if (sni !== undefined && !resumed) eeExt.push({ type: 'server_name', hostName: undefined });
  if (alpn !== undefined) eeExt.push({ type: 'alpn', protocols: [alpn] });
  const ee = handshakeCommand<EncryptedExtensions>({ type: 'encrypted_extensions', extensions: eeExt });
  send(ee.cmd, ee.msg.raw);

  let clientCertificateRequested = false;
  if (verdict.kind === 'full') {
    if (verdict.requestCertificate) {
      const cr = handshakeCommand<CertificateRequest>({
        type: 'certificate_request',
        certificateRequestContext: new Uint8Array(0),
        extensions: [{ type: 'signature_algorithms', schemes: [...SUPPORTED_SIGNATURE_SCHEMES] }],
      });
      send(cr.cmd, cr.msg.raw);
      clientCertificateRequested = true;
    }
    const cert = handshakeCommand<Certificate>({
      type: 'certificate',
      certificateRequestContext: new Uint8Array(0),
      entries: verdict.certificate.chain.map((certData) => ({ certData, extensions: [] })),
    });
    send(cert.cmd, cert.msg.raw);
    const signature = verdict.certificate.key.sign(
      verdict.scheme,
      certificateVerifyInput('server', transcriptHashOf(ctx, transcript, suite)),
    );
    const cv = handshakeCommand<CertificateVerify>({ type: 'certificate_verify', algorithm: verdict.scheme, signature });
    send(cv.cmd, cv.msg.raw);
  }
  const fin = handshakeCommand<Finished>({
    type: 'finished',
    verifyData: finishedVerifyData(suite, sHs, transcriptHashOf(ctx, transcript, suite), ctx.env.crypto),
  });
  send(fin.cmd, fin.msg.raw);

  const serverFinishedHash = transcriptHashOf(ctx, transcript, suite);
  const master = hs.toMasterSecret();
  const cAp = master.clientApplicationTrafficSecret(serverFinishedHash);
  const sAp = master.serverApplicationTrafficSecret(serverFinishedHash);
  const exporter = master.exporterMasterSecret(serverFinishedHash);
  outbox.push(
    { kind: 'setWriteKeys', suite, secret: sAp, epoch: 'application' },
    { kind: 'setReadKeys', suite, secret: cHs, epoch: 'handshake' },
    keylog('CLIENT_TRAFFIC_SECRET_0', cAp),
    keylog('SERVER_TRAFFIC_SECRET_0', sAp),
    keylog('EXPORTER_SECRET', exporter),
  );
  const peerChain = selected ? selected.state.clientCertificates : [];
  // Early tickets (§4.6.1): without a client certificate to wait for, the client Finished is
  // known in advance, and with it the resumption secret. The tickets leave now, under the
  // application key; the store keeps them once that Finished arrived and verified (issueTickets),
  // so tickets of a client that never finishes resume nothing.
  let pendingTickets: PendingTicket[] = [];
  if (ctx.config.earlyTickets && !clientCertificateRequested && logic.offersPskDheKe(ch)) {
    const expected = encodeHandshake<Finished>({
      type: 'finished',
      verifyData: finishedVerifyData(suite, cHs, serverFinishedHash, ctx.env.crypto),
    });
    const resumption = master.resumptionMasterSecret(transcriptHashOf(ctx, [...transcript, expected.raw], suite));
    const tickets = newTickets(ctx, suite, resumption, { serverName: sni, alpn, clientCertificates: peerChain });
    for (const t of tickets) outbox.push({ kind: 'sendHandshake', raw: t.raw, name: 'new_session_ticket' });
    pendingTickets = tickets.map(({ ticket, state }) => ({ ticket, state }));
  }
  const earlyDataOffered = findExtension(ch.extensions, 'early_data') !== undefined;
  // §4.2.10: early_data is ignored; the client's 0-RTT records fail under the handshake key and are skipped.
  if (earlyDataOffered && !ctx.helloRetryRequest) outbox.push({ kind: 'skipEarlyData', limit: ctx.config.maxEarlyDataSkip });

  return {
    clientRandom: ctx.helloRetryRequest ? ctx.clientRandom : ch.random,
    clientHello1: ctx.clientHello1 ?? ch,
    clientHello: ch,
    suite,
    group: share.group,
    serverShare,
    selectedPsk: selected,
    resumed,
    binder: resumed ? verdict.binder : undefined,
    offersPskDheKe: logic.offersPskDheKe(ch),
    earlyDataOffered: ctx.earlyDataOffered || earlyDataOffered,
    serverName: sni,
    alpn,
    masterSecret: master,
    clientHandshakeSecret: cHs,
    serverHandshakeSecret: sHs,
    clientApplicationSecret: cAp,
    writeSecret: sAp,
    exporterSecret: exporter,
    clientCertificateRequested,
    peerChain,
    pendingTickets,
    transcript,
    ccsSent,
    outbox,
  };
}

function certificateOf(ctx: ServerContext, event: TlsEvent) {
  const { msg } = eventOf(event, 'recv.Certificate');
  return { msg, verdict: judgeClientCertificate(ctx, msg) };
}

export function acceptEmptyClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg } = certificateOf(ctx, event);
  return { transcript: [...ctx.transcript, msg.raw], peerChain: [] };
}

export function acceptClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg, verdict } = certificateOf(ctx, event);
  if (verdict.kind !== 'trusted') throw new Error('client certificate accepted without a trusted chain');
  return { transcript: [...ctx.transcript, msg.raw], peerChain: msg.entries.map((e) => e.certData), peerSpki: verdict.leafSpki };
}

export function failUntrustedClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  const { verdict } = certificateOf(ctx, event);
  return failWith(
    ctx,
    verdict.kind === 'refuse'
      ? verdict.error
      : new TlsError('internal_error', 'InconsistentGuard', 'certificate failure branch taken for a trusted chain'),
  );
}

export function acceptClientCertificateVerify(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg } = eventOf(event, 'recv.CertificateVerify');
  const verdict = judgeClientCertificateVerify(ctx, msg);
  if (verdict.kind !== 'verified') throw new Error('client CertificateVerify accepted without verification');
  return { transcript: [...ctx.transcript, msg.raw], clientSignature: verdict.witness };
}

/** Client Finished verified: switch to the client's application keys and derive the resumption secret. */
export function acceptClientFinished(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg } = eventOf(event, 'recv.Finished');
  const { suite, masterSecret, clientApplicationSecret } = ctx;
  if (!suite || !masterSecret || !clientApplicationSecret) throw new Error('no handshake secrets');
  const verdict = judgeClientFinished(ctx, msg);
  if (verdict.kind !== 'verified') throw new Error('client Finished accepted without verification');
  const w = verdict.witness;
  const transcript = [...ctx.transcript, msg.raw];
  return {
    clientFinished: w,
    transcript,
    readSecret: clientApplicationSecret,
    resumptionSecret: masterSecret.resumptionMasterSecret(transcriptHashOf(ctx, transcript, suite)),
    outbox: [...ctx.outbox, { kind: 'setReadKeys', suite, secret: clientApplicationSecret, epoch: 'application' }],
  };
}

/** A NewSessionTicket and the state the store keeps under its ticket. */
interface NewTicket extends PendingTicket {
  raw: Uint8Array;
}

/**
 * The NewSessionTickets of a handshake (§4.6.1): opaque random identifiers for
 * state kept in the store; never max_early_data_size; none with a lifetime of 0.
 */
function newTickets(
  ctx: ServerContext,
  suite: SuiteInfo,
  resumptionSecret: Uint8Array,
  binding: Pick<ServerSessionState, 'serverName' | 'alpn' | 'clientCertificates'>,
): NewTicket[] {
  const lifetimeS = Math.min(Math.max(0, Math.floor(ctx.config.ticketLifetimeS)), MAX_TICKET_LIFETIME_S);
  if (lifetimeS === 0) return [];
  const tickets: NewTicket[] = [];
  for (let i = 0; i < ctx.config.ticketsPerHandshake; i++) {
    const ticket = ctx.env.random(32);
    const nonce = ctx.env.random(8);
    const addBytes = ctx.env.random(4);
    const ticketAgeAdd =
      (((addBytes[0] as number) << 24) | ((addBytes[1] as number) << 16) | ((addBytes[2] as number) << 8) | (addBytes[3] as number)) >>> 0;
    const nst = encodeHandshake<NewSessionTicket>({
      type: 'new_session_ticket',
      ticketLifetime: lifetimeS,
      ticketAgeAdd,
      ticketNonce: nonce,
      ticket,
      extensions: [],
    });
    const state: ServerSessionState = {
      psk: resumptionPsk(suite, resumptionSecret, nonce, ctx.env.crypto),
      suite: suite.code,
      serverName: binding.serverName,
      alpn: binding.alpn,
      issuedAtMs: ctx.env.now(),
      lifetimeS,
      ticketAgeAdd,
      clientCertificates: binding.clientCertificates,
    };
    tickets.push({ ticket, state, raw: nst.raw });
  }
  return tickets;
}

/**
 * The client Finished verified: the tickets, only for clients that offered
 * psk_dhe_ke. Stored, then sent; or, if they left with the server's flight
 * (early tickets), now kept in the store.
 */
export function issueTickets(ctx: ServerContext): Patch {
  if (ctx.pendingTickets.length > 0) {
    const keep = ctx.pendingTickets.map(({ ticket, state }): Command => ({ kind: 'keepTicket', ticket, state }));
    return { outbox: [...ctx.outbox, ...keep], pendingTickets: [] };
  }
  const { suite, resumptionSecret } = ctx;
  if (!suite || !resumptionSecret || !ctx.offersPskDheKe) return {};
  const tickets = newTickets(ctx, suite, resumptionSecret, {
    serverName: ctx.serverName,
    alpn: ctx.alpn,
    clientCertificates: ctx.peerChain,
  });
  if (tickets.length === 0) return {};
  const store = tickets.map(({ ticket, state, raw }): Command => ({ kind: 'storeTicket', ticket, state, raw }));
  return { outbox: [...ctx.outbox, ...store] };
}

/** The handshake is complete: after the tickets, so they leave in the same flush as the reaction to the client Finished. */
export function completeHandshake(ctx: ServerContext): Patch {
  return { outbox: [...ctx.outbox, { kind: 'handshakeComplete' }] };
}

/**
 * Entering `connected`: drop what only the handshake needed (RFC 8446 §4.4.1:
 * the transcript ends with the client Finished; §7.1: the handshake and master
 * secrets have no further use once the application, exporter and resumption
 * secrets are derived and the tickets issued). Kept: the suite, the application
 * traffic secrets (KeyUpdate, §7.2), the exporter secret (§7.5), ALPN, server
 * name, the client's chain, `resumed` and
 * the evidence `connected` rests on — the client Finished witness with the
 * client handshake secret it was checked under, the client's signature witness
 * with its key, and on a resumption the binder witness with the PSK it was for.
 */
export function forgetHandshake(ctx: ServerContext): Patch {
  return {
    clientHello1: undefined,
    clientHello: undefined,
    helloRetryRequest: undefined,
    serverShare: undefined,
    masterSecret: undefined,
    serverHandshakeSecret: undefined,
    clientApplicationSecret: undefined,
    // No ticket is issued after the handshake: the tickets went out with the reaction to the client Finished
    // (or with the server's flight, and were kept in the store then).
    resumptionSecret: undefined,
    pendingTickets: [],
    transcript: ctx.transcript.length === 0 ? ctx.transcript : [],
    // Key log lines are indexed by it, but the server logs every secret while it sends its flight: none is left.
    // (Also a view into the received ClientHello, which it would keep alive.)
    clientRandom: NO_CLIENT_RANDOM,
  };
}

export function failClientHello(ctx: ServerContext, event: TlsEvent): Patch {
  const { verdict } = verdictOf(ctx, event);
  return failWith(
    ctx,
    verdict.kind === 'refuse'
      ? verdict.error
      : new TlsError('internal_error', 'InconsistentGuard', 'ClientHello failure branch taken without a problem'),
  );
}
