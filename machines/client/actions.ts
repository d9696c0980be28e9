/**
 * The client's actions, by name. Each is a pure function (context, event) →
 * the changed part of the context; commands for the engine go to the outbox.
 */
import { EarlySecret, finishedVerifyData, resumptionPsk } from '../../crypto/keyschedule.js';
import { certificateVerifyInput } from '../../crypto/signature.js';
import { suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { verifyFinished } from '../../crypto/witness.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateVerify, Finished } from '../../wire/types.js';
import { failWith, handshakeCommand } from '../common.js';
import type { Command, TlsEvent } from '../types.js';
import type { ClientContext } from './context.js';
import * as logic from './logic.js';
import { certificateRequestProblem, chainVerdict, serverCertificateProblem, serverSignatureWitness } from './guards.js';

type Patch = Partial<ClientContext>;
const th = (ctx: ClientContext, extra: Uint8Array[] = []) => {
  if (!ctx.suite) throw new Error('no suite yet');
  return transcriptHash(ctx.suite.hash, [...ctx.transcript, ...extra], ctx.env.crypto);
};
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
  if (event.type !== 'recv.ServerHello') return {};
  const hrr = event.msg;
  const withHrr = { ...ctx, helloRetryRequest: hrr };
  const { ch2, keyShares, psk, transcript, suite } = logic.secondClientHello(withHrr, hrr);
  const outbox: Command[] = [...ctx.outbox];
  let ccsSent = ctx.ccsSent;
  if (ctx.config.compatibilityMode && !ccsSent) {
    outbox.push({ kind: 'sendChangeCipherSpec' });
    ccsSent = true;
  }
  outbox.push({ kind: 'sendHandshake', raw: ch2.raw, name: 'client_hello' });
  return { helloRetryRequest: hrr, keyShares, offeredPsk: psk, clientHello: ch2, transcript, suite, ccsSent, outbox };
}

/** ServerHello accepted: derive the handshake secrets and switch to handshake keys (§7.1). */
export function acceptServerHello(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.ServerHello') return {};
  const sh = event.msg;
  const suite = suiteInfo(sh.cipherSuite);
  if (!suite) throw new Error('unchecked ServerHello');
  const resumed = logic.selectsPsk(sh);
  const psk = resumed && ctx.offeredPsk ? ctx.offeredPsk.session.psk : undefined;
  const transcript = [...ctx.transcript, sh.raw];
  const helloHash = transcriptHash(suite.hash, transcript, ctx.env.crypto);
  const early = EarlySecret.create(suite, psk, ctx.env.crypto);
  const hs = early.withSharedSecret(logic.sharedSecretOf(ctx, sh));
  const cHs = hs.clientHandshakeTrafficSecret(helloHash);
  const sHs = hs.serverHandshakeTrafficSecret(helloHash);
  const outbox: Command[] = [...ctx.outbox];
  let ccsSent = ctx.ccsSent;
  if (ctx.config.compatibilityMode && !ccsSent) {
    outbox.push({ kind: 'sendChangeCipherSpec' });
    ccsSent = true;
  }
  outbox.push(
    { kind: 'setReadKeys', suite, secret: sHs, epoch: 'handshake' },
    { kind: 'setWriteKeys', suite, secret: cHs, epoch: 'handshake' },
    keylog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', cHs),
    keylog('SERVER_HANDSHAKE_TRAFFIC_SECRET', sHs),
  );
  const ks = findExtension(sh.extensions, 'key_share_server');
  return {
    suite,
    resumed,
    group: ks?.share.group,
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
  if (event.type !== 'recv.EncryptedExtensions') return {};
  return { transcript: [...ctx.transcript, event.msg.raw], alpn: logic.selectedAlpn(event.msg) };
}

export function acceptCertificateRequest(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.CertificateRequest') return {};
  return { transcript: [...ctx.transcript, event.msg.raw], certificateRequest: event.msg };
}

export function acceptServerCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  const verdict = chainVerdict(ctx, event.msg);
  if (!verdict.ok) throw verdict.error;
  return {
    transcript: [...ctx.transcript, event.msg.raw],
    peerChain: event.msg.entries.map((e) => e.certData),
    peerSpki: verdict.leafSpki,
  };
}

export function acceptServerCertificateVerify(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.CertificateVerify' || !ctx.peerSpki) return {};
  const witness = serverSignatureWitness(ctx, event.msg);
  if (!witness) throw new Error('CertificateVerify accepted without a valid signature');
  return { transcript: [...ctx.transcript, event.msg.raw], serverSignature: witness };
}

/**
 * Server Finished verified: derive the application secrets, send the client's
 * second flight (Certificate/CertificateVerify when asked, Finished), switch keys.
 */
export function acceptServerFinishedAndSendClientFlight(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Finished') return {};
  const suite = ctx.suite;
  const hs = ctx.handshakeSecret;
  if (!suite || !hs || !ctx.serverHandshakeSecret || !ctx.clientHandshakeSecret) throw new Error('no handshake secrets');
  // Compute the expected value from the transcript *before* appending the message.
  const witness = verifyFinished(suite, ctx.serverHandshakeSecret, th(ctx), event.msg.verifyData, ctx.env.crypto);
  if (!witness) throw new Error('Finished accepted without verification');
  let transcript = [...ctx.transcript, event.msg.raw];
  const serverFinishedHash = transcriptHash(suite.hash, transcript, ctx.env.crypto);
  const master = hs.toMasterSecret();
  const cAp = master.clientApplicationTrafficSecret(serverFinishedHash);
  const sAp = master.serverApplicationTrafficSecret(serverFinishedHash);
  const exporter = master.exporterMasterSecret(serverFinishedHash);

  const outbox: Command[] = [...ctx.outbox];
  let ccsSent = ctx.ccsSent;
  if (ctx.config.compatibilityMode && !ccsSent) {
    outbox.push({ kind: 'sendChangeCipherSpec' });
    ccsSent = true;
  }
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
      const signature = cert.key.sign(scheme, certificateVerifyInput('client', transcriptHash(suite.hash, transcript, ctx.env.crypto)));
      const cv = handshakeCommand<CertificateVerify>({ type: 'certificate_verify', algorithm: scheme, signature });
      send(cv.cmd, cv.msg.raw);
    }
  }
  const verifyData = finishedVerifyData(suite, ctx.clientHandshakeSecret, transcriptHash(suite.hash, transcript, ctx.env.crypto), ctx.env.crypto);
  const fin = handshakeCommand<Finished>({ type: 'finished', verifyData });
  send(fin.cmd, fin.msg.raw);
  const resumption = master.resumptionMasterSecret(transcriptHash(suite.hash, transcript, ctx.env.crypto));
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
  if (event.type !== 'recv.NewSessionTicket' || !ctx.suite || !ctx.resumptionSecret) return {};
  const nst = event.msg;
  const count = ctx.ticketsReceived + 1;
  if (nst.ticketLifetime === 0 || nst.ticketLifetime > 604800) return { ticketsReceived: count };
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

// ------------------------------------------------------------ failures

export function failHelloRetryRequest(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.ServerHello') return {};
  return failWith(ctx, logic.helloRetryProblem(ctx, event.msg) ?? internal('HelloRetryRequest'));
}

export function failServerHello(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.ServerHello') return {};
  return failWith(ctx, logic.serverHelloProblem(ctx, event.msg) ?? internal('ServerHello'));
}

export function failEncryptedExtensions(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.EncryptedExtensions') return {};
  return failWith(ctx, logic.encryptedExtensionsProblem(ctx, event.msg) ?? internal('EncryptedExtensions'));
}

export function failCertificateRequest(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.CertificateRequest') return {};
  return failWith(ctx, certificateRequestProblem(event.msg) ?? internal('CertificateRequest'));
}

export function failServerCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  return failWith(ctx, serverCertificateProblem(event.msg) ?? internal('Certificate'));
}

export function failUntrustedCertificate(ctx: ClientContext, event: TlsEvent): Patch {
  if (event.type !== 'recv.Certificate') return {};
  const verdict = chainVerdict(ctx, event.msg);
  return failWith(ctx, verdict.ok ? internal('Certificate') : verdict.error);
}

function internal(what: string): TlsError {
  return new TlsError('internal_error', 'InconsistentGuard', `${what}: a failure branch was taken but no problem was found`);
}
