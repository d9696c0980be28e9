/**
 * The client's guards, by name. Crypto guards recompute from the transcript and
 * compare in constant time; none of them trusts a verdict carried by an event.
 */
import { schemesForSpki } from '../../crypto/signature.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { verifyCertificateVerify, verifyFinished } from '../../crypto/witness.js';
import { TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateRequest, CertificateVerify } from '../../wire/types.js';
import type { SignatureVerified } from '../../crypto/witness.js';
import { memo } from '../memo.js';
import type { ChainVerdict, TlsEvent } from '../types.js';
import type { ClientContext } from './context.js';
import * as logic from './logic.js';

const th = (ctx: ClientContext) => {
  if (!ctx.suite) throw new Error('no suite yet');
  return transcriptHash(ctx.suite.hash, ctx.transcript, ctx.env.crypto);
};

export function chainVerdict(ctx: ClientContext, cert: Certificate): ChainVerdict {
  return memo(ctx, cert, 'chain', () =>
    ctx.config.verifyServerChain(
      cert.entries.map((e) => e.certData),
      new Date(ctx.env.now()),
    ),
  );
}

/** The server's CertificateVerify, checked once per (context, message) for the guard and its action. */
export function serverSignatureWitness(ctx: ClientContext, cv: CertificateVerify): SignatureVerified | undefined {
  const spki = ctx.peerSpki;
  if (!spki) return undefined;
  return memo(ctx, cv, 'signature', () => verifyCertificateVerify(cv.algorithm, spki, 'server', th(ctx), cv.signature, ctx.env.crypto));
}

/** §4.4.2: the server's Certificate has an empty context and at least one entry. */
export function serverCertificateProblem(cert: Certificate): TlsError | undefined {
  if (cert.certificateRequestContext.length !== 0) {
    return new TlsError('illegal_parameter', 'CertificateContext', 'the server Certificate has a non-empty certificate_request_context');
  }
  if (cert.entries.length === 0) {
    return new TlsError('decode_error', 'EmptyCertificate', 'the server sent an empty Certificate (§4.4.2.4)');
  }
  return undefined;
}

/** §4.3.2: a CertificateRequest in the handshake has an empty context and signature_algorithms. */
export function certificateRequestProblem(cr: CertificateRequest): TlsError | undefined {
  if (cr.certificateRequestContext.length !== 0) {
    return new TlsError('illegal_parameter', 'CertificateRequestContext', 'certificate_request_context must be empty during the handshake');
  }
  if (!findExtension(cr.extensions, 'signature_algorithms')) {
    return new TlsError('missing_extension', 'MissingSignatureAlgorithms', 'CertificateRequest has no signature_algorithms');
  }
  for (const e of cr.extensions) {
    if (e.type === 'unknown' || e.type === 'signature_algorithms' || e.type === 'signature_algorithms_cert') continue;
    return new TlsError('illegal_parameter', 'ExtensionNotAllowed', `CertificateRequest may not carry ${e.type}`);
  }
  return undefined;
}

/** §4.4.3: the scheme must be one the client offered and must fit the certificate's key. */
function isSchemeAcceptable(ctx: ClientContext, e: TlsEvent): boolean {
  return (
    e.type === 'recv.CertificateVerify' &&
    ctx.peerSpki !== undefined &&
    ctx.config.signatureSchemes.includes(e.msg.algorithm) &&
    schemesForSpki(ctx.peerSpki).includes(e.msg.algorithm)
  );
}

export const guards = {
  isHelloRetryRequest: (_: ClientContext, e: TlsEvent) => e.type === 'recv.ServerHello' && e.msg.isHelloRetryRequest,
  isValidHelloRetryRequest: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.ServerHello' && e.msg.isHelloRetryRequest && logic.helloRetryProblem(ctx, e.msg) === undefined,
  hasServerHelloProblem: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.ServerHello' && logic.serverHelloProblem(ctx, e.msg) !== undefined,
  acceptsUnofferedEarlyData: (_: ClientContext, e: TlsEvent) =>
    e.type === 'recv.EncryptedExtensions' && logic.acceptsUnofferedEarlyData(e.msg),
  hasEncryptedExtensionsProblem: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.EncryptedExtensions' && logic.encryptedExtensionsProblem(ctx, e.msg) !== undefined,
  isResuming: (ctx: ClientContext) => ctx.resumed,
  hasCertificateRequestProblem: (_: ClientContext, e: TlsEvent) =>
    e.type === 'recv.CertificateRequest' && certificateRequestProblem(e.msg) !== undefined,
  hasServerCertificateProblem: (_: ClientContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && serverCertificateProblem(e.msg) !== undefined,
  isServerCertificateTrusted: (ctx: ClientContext, e: TlsEvent) => e.type === 'recv.Certificate' && chainVerdict(ctx, e.msg).ok,
  isSignatureSchemeAcceptable: isSchemeAcceptable,
  /** The scheme is acceptable and the signature verifies over the transcript so far. */
  isServerSignatureValid: (ctx: ClientContext, e: TlsEvent): boolean =>
    e.type === 'recv.CertificateVerify' &&
    ctx.peerSpki !== undefined &&
    isSchemeAcceptable(ctx, e) &&
    serverSignatureWitness(ctx, e.msg) !== undefined,
  isServerFinishedValid: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.Finished' &&
    ctx.suite !== undefined &&
    ctx.serverHandshakeSecret !== undefined &&
    verifyFinished(ctx.suite, ctx.serverHandshakeSecret, th(ctx), e.msg.verifyData, ctx.env.crypto) !== undefined,
};
