/**
 * The server's actions, by name: pure (context, event) → changed context, with
 * commands for the engine in the outbox.
 */
import { EarlySecret, finishedVerifyData, resumptionPsk } from '../../crypto/keyschedule.js';
import { certificateVerifyInput, SUPPORTED_SIGNATURE_SCHEMES } from '../../crypto/signature.js';
import { type SuiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { verifyBinder, verifyFinished } from '../../crypto/witness.js';
import { clientChainVerdict, clientSignatureWitness } from './guards.js';
import type { ServerSessionState } from '../../tickets/types.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import { hrrRandom } from '../../wire/handshake.js';
import type {
  Certificate,
  CertificateRequest,
  CertificateVerify,
  EncryptedExtensions,
  Extension,
  Finished,
  NewSessionTicket,
  ServerHello,
} from '../../wire/types.js';
import { TLS12, TLS13 } from '../../wire/types.js';
import { failWith, handshakeCommand } from '../common.js';
import type { Command, TlsEvent } from '../types.js';
import type { ServerContext } from './context.js';
import * as logic from './logic.js';

type Patch = Partial<ServerContext>;
const keylog = (label: string, secret: Uint8Array): Command => ({ kind: 'keylog', label, secret });
const th = (ctx: ServerContext, suite: SuiteInfo, transcript: readonly Uint8Array[]) => transcriptHash(suite.hash, transcript, ctx.env.crypto);

function clientHelloOf(event: TlsEvent) {
  if (event.type !== 'recv.ClientHello') throw new Error(`expected a ClientHello event, got ${event.type}`);
  return event;
}

/** Answer the first ClientHello with a HelloRetryRequest (§4.1.4), with a cookie when forced. */
export function sendHelloRetryRequest(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg: ch, tickets } = clientHelloOf(event);
  const suite = logic.chooseSuite(ctx, ch, tickets);
  if (!suite) throw new Error('unchecked ClientHello');
  const needShare = logic.chooseShare(ctx, ch) === undefined;
  const group = needShare ? logic.retryGroup(ctx, ch) : undefined;
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
  let ccsSent = ctx.ccsSent;
  if (ch.legacySessionId.length > 0 && !ccsSent) {
    outbox.push({ kind: 'sendChangeCipherSpec' }); // D.4: right after the first server handshake message
    ccsSent = true;
  }
  const earlyDataOffered = findExtension(ch.extensions, 'early_data') !== undefined;
  // 0-RTT records sent with the first hello can never be read: the client must not send any after a retry.
  if (earlyDataOffered) outbox.push({ kind: 'skipEarlyData', limit: 0 });
  return {
    clientRandom: ch.random,
    clientHello1: ch,
    clientHello: ch,
    helloRetryRequest: hrr.msg,
    cookie,
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
  const { msg: ch, tickets } = clientHelloOf(event);
  const suite = logic.chooseSuite(ctx, ch, tickets);
  const share = logic.chooseShare(ctx, ch);
  if (!suite || !share) throw new Error('unchecked ClientHello');
  const selected = logic.selectPsk(ctx, ch, tickets);
  const resumed = selected !== undefined;
  // The client's share was checked by clientHelloProblem; a failure here is a bug, not a peer error.
  const accepted = ctx.env.crypto.acceptShare(share.group, share.keyExchange, ctx.env.random);
  if (!accepted.ok) throw accepted.error;
  const shared = accepted.secret;
  const serverShare = { group: share.group, keyExchange: accepted.share };
  const early = EarlySecret.create(suite, selected?.state.psk, ctx.env.crypto);

  let binder: Patch['binder'];
  if (selected) {
    const partial = logic.partialHelloHash(ctx, ch, suite);
    const psk = findExtension(ch.extensions, 'pre_shared_key_client');
    const received = psk?.binders[selected.index];
    binder = partial && received ? verifyBinder(suite, early.resumptionBinderKey(), partial, received, ctx.env.crypto) : undefined;
    if (!binder) throw new Error('PSK used without a verified binder');
  }

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
  let ccsSent = ctx.ccsSent;
  if (ch.legacySessionId.length > 0 && !ccsSent) {
    outbox.push({ kind: 'sendChangeCipherSpec' });
    ccsSent = true;
  }

  const helloHash = th(ctx, suite, transcript);
  const hs = early.withSharedSecret(shared);
  const cHs = hs.clientHandshakeTrafficSecret(helloHash);
  const sHs = hs.serverHandshakeTrafficSecret(helloHash);
  outbox.push(
    { kind: 'setWriteKeys', suite, secret: sHs, epoch: 'handshake' },
    keylog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', cHs),
    keylog('SERVER_HANDSHAKE_TRAFFIC_SECRET', sHs),
  );

  // EncryptedExtensions: never early_data (tlschart refuses 0-RTT, §4.2.10).
  const sni = findExtension(ch.extensions, 'server_name')?.hostName;
  const alpn = logic.chooseAlpn(ctx, ch);
  const eeExt: Extension[] = [];
  if (sni !== undefined && !resumed) eeExt.push({ type: 'server_name', hostName: undefined });
  if (alpn !== undefined) eeExt.push({ type: 'alpn', protocols: [alpn] });
  const ee = handshakeCommand<EncryptedExtensions>({ type: 'encrypted_extensions', extensions: eeExt });
  send(ee.cmd, ee.msg.raw);

  let certificate: Patch['certificate'];
  let clientCertificateRequested = false;
  if (!resumed) {
    if (ctx.config.requestClientCertificate) {
      const cr = handshakeCommand<CertificateRequest>({
        type: 'certificate_request',
        certificateRequestContext: new Uint8Array(0),
        extensions: [{ type: 'signature_algorithms', schemes: [...SUPPORTED_SIGNATURE_SCHEMES] }],
      });
      send(cr.cmd, cr.msg.raw);
      clientCertificateRequested = true;
    }
    const chosen = logic.chooseCertificate(ctx, ch);
    if (!chosen) throw new Error('unchecked ClientHello: no certificate');
    certificate = chosen.cert;
    const cert = handshakeCommand<Certificate>({
      type: 'certificate',
      certificateRequestContext: new Uint8Array(0),
      entries: chosen.cert.chain.map((certData) => ({ certData, extensions: [] })),
    });
    send(cert.cmd, cert.msg.raw);
    const signature = chosen.cert.key.sign(chosen.scheme, certificateVerifyInput('server', th(ctx, suite, transcript)));
    const cv = handshakeCommand<CertificateVerify>({ type: 'certificate_verify', algorithm: chosen.scheme, signature });
    send(cv.cmd, cv.msg.raw);
  }
  const fin = handshakeCommand<Finished>({ type: 'finished', verifyData: finishedVerifyData(suite, sHs, th(ctx, suite, transcript), ctx.env.crypto) });
  send(fin.cmd, fin.msg.raw);

  const serverFinishedHash = th(ctx, suite, transcript);
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
    binder,
    offersPskDheKe: logic.offersPskDheKe(ch),
    earlyDataOffered: ctx.earlyDataOffered || earlyDataOffered,
    serverName: sni,
    alpn,
    handshakeSecret: hs,
    masterSecret: master,
    clientHandshakeSecret: cHs,
    serverHandshakeSecret: sHs,
    clientApplicationSecret: cAp,
    writeSecret: sAp,
    exporterSecret: exporter,
    certificate,
    clientCertificateRequested,
    peerChain: selected ? selected.state.clientCertificates : [],
    transcript,
    ccsSent,
    outbox,
  };
}

export function acceptEmptyClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  return { transcript: [...ctx.transcript, event.msg.raw], peerChain: [] };
}

export function acceptClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  const verdict = clientChainVerdict(ctx, event.msg);
  if (!verdict.ok) throw verdict.error;
  return { transcript: [...ctx.transcript, event.msg.raw], peerChain: event.msg.entries.map((e) => e.certData), peerSpki: verdict.leafSpki };
}

export function failUntrustedClientCertificate(ctx: ServerContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  const verdict = clientChainVerdict(ctx, event.msg);
  return failWith(ctx, verdict.ok ? new TlsError('internal_error', 'InconsistentGuard', 'certificate failure branch taken for a trusted chain') : verdict.error);
}

export function acceptClientCertificateVerify(ctx: ServerContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.CertificateVerify') return {};
  const w = clientSignatureWitness(ctx, event.msg);
  if (!w) throw new Error('client CertificateVerify accepted without verification');
  return { transcript: [...ctx.transcript, event.msg.raw], clientSignature: w };
}

/** Client Finished verified: switch to the client's application keys and derive the resumption secret. */
export function acceptClientFinished(ctx: ServerContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Finished') return {};
  const { suite, clientHandshakeSecret, masterSecret, clientApplicationSecret } = ctx;
  if (!suite || !clientHandshakeSecret || !masterSecret || !clientApplicationSecret) throw new Error('no handshake secrets');
  const w = verifyFinished(suite, clientHandshakeSecret, th(ctx, suite, ctx.transcript), event.msg.verifyData, ctx.env.crypto);
  if (!w) throw new Error('client Finished accepted without verification');
  const transcript = [...ctx.transcript, event.msg.raw];
  return {
    clientFinished: w,
    transcript,
    readSecret: clientApplicationSecret,
    resumptionSecret: masterSecret.resumptionMasterSecret(th(ctx, suite, transcript)),
    outbox: [
      ...ctx.outbox,
      { kind: 'setReadKeys', suite, secret: clientApplicationSecret, epoch: 'application' },
      { kind: 'handshakeComplete' },
    ],
  };
}

const MAX_TICKET_LIFETIME_S = 604800; // RFC 8446 §4.6.1: seven days

/**
 * NewSessionTickets (§4.6.1): opaque random identifiers for state kept in the
 * store; never max_early_data_size; only for clients that offered psk_dhe_ke.
 */
export function issueTickets(ctx: ServerContext): Patch {
  const { suite, resumptionSecret } = ctx;
  if (!suite || !resumptionSecret || !ctx.offersPskDheKe) return {};
  const lifetimeS = Math.min(Math.max(0, Math.floor(ctx.config.ticketLifetimeS)), MAX_TICKET_LIFETIME_S);
  if (lifetimeS === 0) return {};
  const outbox: Command[] = [...ctx.outbox];
  for (let i = 0; i < ctx.config.ticketsPerHandshake; i++) {
    const ticket = ctx.env.random(32);
    const nonce = ctx.env.random(8);
    const addBytes = ctx.env.random(4);
    const ticketAgeAdd = (((addBytes[0] as number) << 24) | ((addBytes[1] as number) << 16) | ((addBytes[2] as number) << 8) | (addBytes[3] as number)) >>> 0;
    const nst = handshakeCommand<NewSessionTicket>({
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
      serverName: ctx.serverName,
      alpn: ctx.alpn,
      issuedAtMs: ctx.env.now(),
      lifetimeS,
      ticketAgeAdd,
      clientCertificates: ctx.peerChain,
    };
    outbox.push({ kind: 'storeTicket', ticket, state, raw: nst.msg.raw });
  }
  return { outbox, ticketsIssued: ctx.ticketsIssued + ctx.config.ticketsPerHandshake };
}

export function failClientHello(ctx: ServerContext, event: TlsEvent): Patch {
  const { msg, tickets } = clientHelloOf(event);
  return failWith(
    ctx,
    logic.clientHelloProblem(ctx, msg, tickets) ??
      new TlsError('internal_error', 'InconsistentGuard', 'ClientHello failure branch taken without a problem'),
  );
}

