/**
 * The server's guards, by name. The binder, CertificateVerify and Finished
 * guards recompute from the transcript and compare in constant time.
 */
import { EarlySecret } from '../../crypto/keyschedule.js';
import { schemesForSpki } from '../../crypto/signature.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { verifyBinder, verifyCertificateVerify, verifyFinished } from '../../crypto/witness.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateVerify } from '../../wire/types.js';
import type { SignatureVerified } from '../../crypto/witness.js';
import { memo } from '../memo.js';
import type { ChainVerdict } from '../types.js';
import type { TlsEvent } from '../types.js';
import type { ServerContext } from './context.js';
import * as logic from './logic.js';

const th = (ctx: ServerContext) => {
  if (!ctx.suite) throw new Error('no suite yet');
  return transcriptHash(ctx.suite.hash, ctx.transcript, ctx.env.crypto);
};

/** The client's chain, judged once per (context, message) for the guard and its actions. */
export function clientChainVerdict(ctx: ServerContext, cert: Certificate): ChainVerdict {
  return memo(ctx, cert, 'chain', () => {
    const verifier = ctx.config.verifyClientChain;
    if (!verifier) return { ok: false, error: new TlsError('bad_certificate', 'NoClientVerifier', 'no client certificate verifier configured') };
    return verifier(cert.entries.map((e) => e.certData), new Date(ctx.env.now()));
  });
}

/** The client's CertificateVerify, checked once per (context, message) for the guard and its action. */
export function clientSignatureWitness(ctx: ServerContext, cv: CertificateVerify): SignatureVerified | undefined {
  const spki = ctx.peerSpki;
  if (!spki) return undefined;
  return memo(ctx, cv, 'signature', () => verifyCertificateVerify(cv.algorithm, spki, 'client', th(ctx), cv.signature, ctx.env.crypto));
}

/** §4.4.3: the scheme must fit the client certificate's key. */
function isSchemeAcceptable(ctx: ServerContext, e: TlsEvent): boolean {
  return e.type === 'recv.CertificateVerify' && ctx.peerSpki !== undefined && schemesForSpki(ctx.peerSpki).includes(e.msg.algorithm);
}

export const guards = {
  hasClientHelloProblem: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.ClientHello' && logic.clientHelloProblem(ctx, e.msg, e.tickets) !== undefined,
  needsHelloRetry: (ctx: ServerContext, e: TlsEvent) => e.type === 'recv.ClientHello' && logic.needsHelloRetry(ctx, e.msg),
  /** A stored ticket is usable and the client offered psk_dhe_ke (psk_ke alone is ignored). */
  hasResumableTicket: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.ClientHello' && logic.selectPsk(ctx, e.msg, e.tickets) !== undefined,
  /**
   * §4.2.11.2: there is a resumable ticket and the binder of the selected
   * identity, recomputed over the (truncated) transcript, matches.
   */
  hasValidBinder: (ctx: ServerContext, e: TlsEvent) => {
    if (e.type !== 'recv.ClientHello') return false;
    const selected = logic.selectPsk(ctx, e.msg, e.tickets);
    const suite = logic.chooseSuite(ctx, e.msg, e.tickets);
    const received = findExtension(e.msg.extensions, 'pre_shared_key_client')?.binders[selected?.index ?? -1];
    if (!selected || !suite || !received) return false;
    const partial = logic.partialHelloHash(ctx, e.msg, suite);
    if (!partial) return false;
    const binderKey = EarlySecret.create(suite, selected.state.psk, ctx.env.crypto).resumptionBinderKey();
    return verifyBinder(suite, binderKey, partial, received, ctx.env.crypto) !== undefined;
  },
  requestsClientCertificate: (ctx: ServerContext) => ctx.config.requestClientCertificate,
  hasClientCertificateContextProblem: (_: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && e.msg.certificateRequestContext.length !== 0,
  isEmptyCertificate: (_: ServerContext, e: TlsEvent) => e.type === 'recv.Certificate' && e.msg.entries.length === 0,
  lacksRequiredClientCertificate: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && e.msg.entries.length === 0 && ctx.config.requireClientCertificate,
  isClientCertificateTrusted: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && clientChainVerdict(ctx, e.msg).ok,
  isSignatureSchemeAcceptable: isSchemeAcceptable,
  isClientSignatureValid: (ctx: ServerContext, e: TlsEvent): boolean =>
    e.type === 'recv.CertificateVerify' &&
    ctx.peerSpki !== undefined &&
    isSchemeAcceptable(ctx, e) &&
    clientSignatureWitness(ctx, e.msg) !== undefined,
  isClientFinishedValid: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Finished' &&
    ctx.suite !== undefined &&
    ctx.clientHandshakeSecret !== undefined &&
    verifyFinished(ctx.suite, ctx.clientHandshakeSecret, th(ctx), e.msg.verifyData, ctx.env.crypto) !== undefined,
  /** §5 / D.4: one dummy ChangeCipherSpec, after the ClientHello and before the client's Finished. */
  mayAcceptChangeCipherSpec: (ctx: ServerContext) =>
    ctx.clientHello1 !== undefined && !ctx.ccsReceived && ctx.clientFinished === undefined,
};
