/**
 * The client's actions, by name. Each is a pure function (context, event) →
 * the changed part of the context; commands for the engine go to the outbox.
 */
import { EarlySecret, finishedVerifyData, resumptionPsk } from '../../crypto/keyschedule.js';
import { certificateVerifyInput } from '../../crypto/signature.js';
import { isKeepableLifetime } from '../../tickets/client-cache.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateVerify, Finished } from '../../wire/types.js';
import { dummyChangeCipherSpec, eventOf, failWith, handshakeCommand, transcriptHashOf } from '../common.js';
import type { Command, TlsEvent } from '../types.js';
import type { ClientContext } from './context.js';
import {
  certificateRequestViolation,
  judgeEncryptedExtensions,
  judgeServerCertificate,
  judgeServerCertificateVerify,
  judgeServerFinished,
  judgeServerHello,
} from './judge.js';
import * as logic from './logic.js';

type Patch = Partial<ClientContext>;

const keylog = (label: string, secret: Uint8Array): Command => ({ kind: 'keylog', label, secret });

/** Entry of expectServerHello: the first ClientHello (RFC 8446 §4.1.2). */
export function sendClientHello(ctx: ClientContext): Patch {
  const random = ctx.env.random(32);
  // D.4: in compatibility mode a non-empty legacy_session_id makes middleboxes see a resumption.
  const legacySessionId = ctx.config.compatibilityMode ? ctx.env.random(32) : new Uint8Array(0);
  const keyShares = ctx.config.keyShareGroups.map((g) => ctx.env.crypto.generateKeyPair(g, ctx.env.random));
  const psk = logic.usableSession(ctx);
  const next = { ...ctx, clientRandom: random, legacySessionId, keyShares };
  const ch = logic.buildClientHello(next, { random, legacySessionId, keyShares, cookie: undefined, psk, prefix: [] });
  return {
    clientRandom: random,
    legacySessionId,
    keyShares,
    offeredPsk: psk,
    clientHello: ch,
    clientHello1: ch,
    transcript: [ch.raw],
    outbox: [...ctx.outbox, { kind: 'sendHandshake', raw: ch.raw, name: 'client_hello' }],
  };
}

/** HelloRetryRequest accepted: ClientHello2 with the requested share, cookie and recomputed binder. */
export function sendSecondClientHello(ctx: ClientContext, event: TlsEvent): Patch {
  const hrr = eventOf(event, 'recv.ServerHello').msg;
  const withHrr = { ...ctx, helloRetryRequest: hrr };
  const { ch2, keyShares, psk, transcript, suite } = logic.secondClientHello(withHrr, hrr);
  const outbox: Command[] = [...ctx.outbox];
  const ccsSent = dummyChangeCipherSpec(outbox, ctx.config.compatibilityMode, ctx.ccsSent);
  outbox.push({ kind: 'sendHandshake', raw: ch2.raw, name: 'client_hello' });
  return { helloRetryRequest: hrr, keyShares, offeredPsk: psk, clientHello: ch2, transcript, suite, ccsSent, outbox };
}

/** ServerHello accepted: derive the handshake secrets and switch to handshake keys (§7.1). */
export function acceptServerHello(ctx: ClientContext, event: TlsEvent): Patch {
  const sh = eventOf(event, 'recv.ServerHello').msg;
  const verdict = judgeServerHello(ctx, sh);
  if (verdict.kind !== 'accept') throw new Error(`ServerHello accepted for a ${verdict.kind} verdict`);
  const { suite, resumed } = verdict;
  const psk = resumed && ctx.offeredPsk ? ctx.offeredPsk.session.psk : undefined;
  const transcript = [...ctx.transcript, sh.raw];
  const helloHash = transcriptHashOf(ctx, transcript, suite);
  const early = EarlySecret.create(suite, psk, ctx.env.crypto);
  const hs = early.withSharedSecret(verdict.sharedSecret);
  const cHs = hs.clientHandshakeTrafficSecret(helloHash);
  const sHs = hs.serverHandshakeTrafficSecret(helloHash);
  const outbox: Command[] = [...ctx.outbox];
  const ccsSent = dummyChangeCipherSpec(outbox, ctx.config.compatibilityMode, ctx.ccsSent);
  outbox.push(
    { kind: 'setReadKeys', suite, secret: sHs, epoch: 'handshake' },
    { kind: 'setWriteKeys', suite, secret: cHs, epoch: 'handshake' },
    keylog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', cHs),
    keylog('SERVER_HANDSHAKE_TRAFFIC_SECRET', sHs),
  );
  return {
    suite,
    resumed,
    group: verdict.group,
    transcript,
    earlySecret: early,
    handshakeSecret: hs,
    clientHandshakeSecret: cHs,
    serverHandshakeSecret: sHs,
    peerChain: resumed && ctx.offeredPsk ? ctx.offeredPsk.session.peerCertificates : [],
    ccsSent,
    outbox,
  };
}

export function acceptEncryptedExtensions(ctx: ClientContext, event: TlsEvent): Patch {
  const ee = eventOf(event, 'recv.EncryptedExtensions').msg;
  const verdict = judgeEncryptedExtensions(ctx, ee);
  if (verdict.kind !== 'accept') throw new Error('EncryptedExtensions accepted for a refused verdict');
  return { transcript: [...ctx.transcript, ee.raw], alpn: verdict.alpn };
}

export function acceptCertificateRequest(ctx: ClientContext, event: TlsEvent): Patch {
  const cr = eventOf(event, 'recv.CertificateRequest').msg;
  return { transcript: [...ctx.transcript, cr.raw], certificateRequest: cr };
}

export function acceptServerCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  const cert = eventOf(event, 'recv.Certificate').msg;
  const verdict = judgeServerCertificate(ctx, cert);
  if (verdict.kind !== 'trusted') throw new Error('server Certificate accepted without a trusted chain');
  return {
    transcript: [...ctx.transcript, cert.raw],
    peerChain: cert.entries.map((e) => e.certData),
    peerSpki: verdict.leafSpki,
  };
}

export function acceptServerCertificateVerify(ctx: ClientContext, event: TlsEvent): Patch {
  const cv = eventOf(event, 'recv.CertificateVerify').msg;
  const verdict = judgeServerCertificateVerify(ctx, cv);
  if (verdict.kind !== 'verified') throw new Error('CertificateVerify accepted without a valid signature');
  return { transcript: [...ctx.transcript, cv.raw], serverSignature: verdict.witness };
}

/**
 * Server Finished verified: derive the application secrets, send the client's
 * second flight (Certificate/CertificateVerify when asked, Finished), switch keys.
 */
export function acceptServerFinishedAndSendClientFlight(ctx: ClientContext, event: TlsEvent): Patch {
  const fin = eventOf(event, 'recv.Finished').msg;
  const suite = ctx.suite;
  const hs = ctx.handshakeSecret;
  if (!suite || !hs || !ctx.clientHandshakeSecret) throw new Error('no handshake secrets');
  // The judge computed the expected value from the transcript *before* the message is appended.
  const verdict = judgeServerFinished(ctx, fin);
  if (verdict.kind !== 'verified') throw new Error('Finished accepted without verification');
  const witness = verdict.witness;
  let transcript = [...ctx.transcript, fin.raw];
  const serverFinishedHash = transcriptHashOf(ctx, transcript, suite);
  const master = hs.toMasterSecret();
  const cAp = master.clientApplicationTrafficSecret(serverFinishedHash);
  const sAp = master.serverApplicationTrafficSecret(serverFinishedHash);
  const exporter = master.exporterMasterSecret(serverFinishedHash);

  const outbox: Command[] = [...ctx.outbox];
  const ccsSent = dummyChangeCipherSpec(outbox, ctx.config.compatibilityMode, ctx.ccsSent);
  const send = (cmd: Command, raw: Uint8Array) => {
    outbox.push(cmd);
    transcript = [...transcript, raw];
  };
  if (ctx.certificateRequest) {
    const cr = ctx.certificateRequest;
    const offered = findExtension(cr.extensions, 'signature_algorithms')?.schemes ?? [];
    const cert = ctx.config.clientCertificate;
    const scheme = cert?.key.schemes.find((s) => offered.includes(s));
    const chain = cert && scheme !== undefined ? cert.chain : [];
    const c = handshakeCommand<Certificate>({
      type: 'certificate',
      certificateRequestContext: cr.certificateRequestContext,
      entries: chain.map((certData) => ({ certData, extensions: [] })),
    });
    send(c.cmd, c.msg.raw);
    if (cert && scheme !== undefined) {
      const signature = cert.key.sign(scheme, certificateVerifyInput('client', transcriptHashOf(ctx, transcript, suite)));
      const cv = handshakeCommand<CertificateVerify>({ type: 'certificate_verify', algorithm: scheme, signature });
      send(cv.cmd, cv.msg.raw);
    }
  }
  const verifyData = finishedVerifyData(suite, ctx.clientHandshakeSecret, transcriptHashOf(ctx, transcript, suite), ctx.env.crypto);
  const finished = handshakeCommand<Finished>({ type: 'finished', verifyData });
  send(finished.cmd, finished.msg.raw);
  const resumption = master.resumptionMasterSecret(transcriptHashOf(ctx, transcript, suite));
  outbox.push(
    { kind: 'setWriteKeys', suite, secret: cAp, epoch: 'application' },
    { kind: 'setReadKeys', suite, secret: sAp, epoch: 'application' },
    keylog('CLIENT_TRAFFIC_SECRET_0', cAp),
    keylog('SERVER_TRAFFIC_SECRET_0', sAp),
    keylog('EXPORTER_SECRET', exporter),
    { kind: 'handshakeComplete' },
  );
  return {
    serverFinished: witness,
    transcript,
    masterSecret: master,
    readSecret: sAp,
    writeSecret: cAp,
    exporterSecret: exporter,
    resumptionSecret: resumption,
    ccsSent,
    outbox,
  };
}

/**
 * NewSessionTicket (§4.6.1): derive the ticket's PSK and hand the session to the
 * engine; tickets with lifetime 0 or over 7 days are not kept.
 */
export function acceptNewSessionTicket(ctx: ClientContext, event: TlsEvent): Patch {
  const nst = eventOf(event, 'recv.NewSessionTicket').msg;
  if (!ctx.suite || !ctx.resumptionSecret) throw new Error('NewSessionTicket accepted before the handshake completed');
  const count = ctx.ticketsReceived + 1;
  if (!isKeepableLifetime(nst.ticketLifetime)) return { ticketsReceived: count };
  const psk = resumptionPsk(ctx.suite, ctx.resumptionSecret, nst.ticketNonce, ctx.env.crypto);
  const session = {
    serverName: ctx.config.serverName ?? '',
    ticket: nst.ticket,
    psk,
    suite: ctx.suite.code,
    ticketAgeAdd: nst.ticketAgeAdd,
    lifetimeS: nst.ticketLifetime,
    receivedAtMs: ctx.env.now(),
    alpn: ctx.alpn,
    peerCertificates: ctx.peerChain,
  };
  return { ticketsReceived: count, outbox: [...ctx.outbox, { kind: 'sessionTicket', session }] };
}

/**
 * Entering `connected`: drop what only the handshake needed — the hellos, the
 * transcript, our key shares (their private keys), the offered ticket, the
 * early, handshake and master secrets and our handshake traffic secret
 * (RFC 8446 §7.1: no further use once the application, exporter and resumption
 * secrets are derived). Kept: the suite, the application traffic secrets
 * (KeyUpdate, §7.2), the exporter secret (§7.5), the resumption secret (tickets
 * keep arriving after the handshake, §4.6.1), ALPN, the server's chain,
 * `resumed`, the client random (key log lines) and the evidence `connected`
 * rests on: the server Finished witness with the server handshake secret it was
 * checked under, and the server's signature witness with its key.
 */
export function forgetHandshake(ctx: ClientContext): Patch {
  return {
    keyShares: [],
    clientHello: undefined,
    clientHello1: undefined,
    helloRetryRequest: undefined,
    offeredPsk: undefined,
    earlySecret: undefined,
    handshakeSecret: undefined,
    masterSecret: undefined,
    clientHandshakeSecret: undefined,
    certificateRequest: undefined,
    transcript: ctx.transcript.length === 0 ? ctx.transcript : [],
  };
}

// ------------------------------------------------------------ failures

/** Fail with the error of a refusing verdict; a failure branch without one is a bug of the chart. */
function refusedBy(ctx: ClientContext, verdict: { kind: string; error?: TlsError }, what: string): Patch {
  return failWith(
    ctx,
    verdict.error ?? new TlsError('internal_error', 'InconsistentGuard', `${what}: a failure branch was taken but no problem was found`),
  );
}

export function failHelloRetryRequest(ctx: ClientContext, event: TlsEvent): Patch {
  return refusedBy(ctx, judgeServerHello(ctx, eventOf(event, 'recv.ServerHello').msg), 'HelloRetryRequest');
}

export function failServerHello(ctx: ClientContext, event: TlsEvent): Patch {
  return refusedBy(ctx, judgeServerHello(ctx, eventOf(event, 'recv.ServerHello').msg), 'ServerHello');
}

export function failEncryptedExtensions(ctx: ClientContext, event: TlsEvent): Patch {
  return refusedBy(ctx, judgeEncryptedExtensions(ctx, eventOf(event, 'recv.EncryptedExtensions').msg), 'EncryptedExtensions');
}

export function failCertificateRequest(ctx: ClientContext, event: TlsEvent): Patch {
  const error = certificateRequestViolation(eventOf(event, 'recv.CertificateRequest').msg);
  return refusedBy(ctx, error ? { kind: 'refuse', error } : { kind: 'accept' }, 'CertificateRequest');
}

export function failServerCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  return refusedBy(ctx, judgeServerCertificate(ctx, eventOf(event, 'recv.Certificate').msg), 'Certificate');
}

export function failUntrustedCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  return refusedBy(ctx, judgeServerCertificate(ctx, eventOf(event, 'recv.Certificate').msg), 'Certificate');
}
