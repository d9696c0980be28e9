/**
 * The client's guards, by name. Each tests the kind of a verdict its judge
 * (judge.ts) computed once for the message; the crypto judges recompute from
 * the transcript and compare in constant time, and none trusts a verdict
 * carried by an event.
 */
import type { TlsEvent } from '../types.js';
import type { ClientContext } from './context.js';
import {
  certificateRequestViolation,
  judgeEncryptedExtensions,
  judgeServerCertificate,
  judgeServerCertificateVerify,
  judgeServerFinished,
  judgeServerHello,
} from './judge.js';

const serverHello = (ctx: ClientContext, e: TlsEvent) => (e.type === 'recv.ServerHello' ? judgeServerHello(ctx, e.msg).kind : undefined);
const certificate = (ctx: ClientContext, e: TlsEvent) =>
  e.type === 'recv.Certificate' ? judgeServerCertificate(ctx, e.msg).kind : undefined;

export const guards = {
  isHelloRetryRequest: (_: ClientContext, e: TlsEvent) => e.type === 'recv.ServerHello' && e.msg.isHelloRetryRequest,
  isValidHelloRetryRequest: (ctx: ClientContext, e: TlsEvent) => serverHello(ctx, e) === 'retry',
  hasServerHelloProblem: (ctx: ClientContext, e: TlsEvent) => serverHello(ctx, e) === 'refuse',
  acceptsUnofferedEarlyData: (ctx: ClientContext, e: TlsEvent) => {
    if (e.type !== 'recv.EncryptedExtensions') return false;
    const v = judgeEncryptedExtensions(ctx, e.msg);
    return v.kind === 'refuse' && v.error.reason === 'UnofferedEarlyData';
  },
  hasEncryptedExtensionsProblem: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.EncryptedExtensions' && judgeEncryptedExtensions(ctx, e.msg).kind === 'refuse',
  isResuming: (ctx: ClientContext) => ctx.resumed,
  hasCertificateRequestProblem: (_: ClientContext, e: TlsEvent) =>
    e.type === 'recv.CertificateRequest' && certificateRequestViolation(e.msg) !== undefined,
  hasServerCertificateProblem: (ctx: ClientContext, e: TlsEvent) => certificate(ctx, e) === 'refuse',
  isServerCertificateTrusted: (ctx: ClientContext, e: TlsEvent) => certificate(ctx, e) === 'trusted',
  /** §4.4.3: the scheme was offered and fits the key (the signature itself may still be bad). */
  isSignatureSchemeAcceptable: (ctx: ClientContext, e: TlsEvent) => {
    if (e.type !== 'recv.CertificateVerify') return false;
    const v = judgeServerCertificateVerify(ctx, e.msg);
    return v.kind === 'verified' || v.error.reason === 'BadSignature';
  },
  isServerSignatureValid: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.CertificateVerify' && judgeServerCertificateVerify(ctx, e.msg).kind === 'verified',
  isServerFinishedValid: (ctx: ClientContext, e: TlsEvent) =>
    e.type === 'recv.Finished' && judgeServerFinished(ctx, e.msg).kind === 'verified',
};
