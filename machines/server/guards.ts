/**
 * The server's guards, by name. Each tests the kind of a verdict its judge
 * (judge.ts) computed once for the event: the binder, CertificateVerify and
 * Finished judges recompute from the transcript and compare in constant time.
 */
import type { TlsEvent } from '../types.js';
import type { ServerContext } from './context.js';
import { type HelloVerdict, judgeClientCertificate, judgeClientCertificateVerify, judgeClientFinished, judgeClientHello } from './judge.js';

const hello = (ctx: ServerContext, e: TlsEvent): HelloVerdict['kind'] | undefined =>
  e.type === 'recv.ClientHello' ? judgeClientHello(ctx, e).kind : undefined;

const certificateRefusal = (ctx: ServerContext, e: TlsEvent): string | undefined => {
  if (e.type !== 'recv.Certificate') return undefined;
  const v = judgeClientCertificate(ctx, e.msg);
  return v.kind === 'refuse' ? v.error.reason : undefined;
};

export const guards = {
  hasClientHelloProblem: (ctx: ServerContext, e: TlsEvent) => hello(ctx, e) === 'refuse',
  needsHelloRetry: (ctx: ServerContext, e: TlsEvent) => hello(ctx, e) === 'retry',
  /** §4.2.11.2: a resumable ticket was selected and its binder, recomputed over the (truncated) transcript, matches. */
  hasValidBinder: (ctx: ServerContext, e: TlsEvent) => hello(ctx, e) === 'resume',
  /** A usable ticket with psk_dhe_ke (psk_ke alone is ignored) was selected, but its binder does not match. */
  hasResumableTicket: (ctx: ServerContext, e: TlsEvent) => hello(ctx, e) === 'badBinder',
  requestsClientCertificate: (ctx: ServerContext, e: TlsEvent) => {
    if (e.type !== 'recv.ClientHello') return false;
    const v = judgeClientHello(ctx, e);
    return v.kind === 'full' && v.requestCertificate;
  },
  hasClientCertificateContextProblem: (ctx: ServerContext, e: TlsEvent) => certificateRefusal(ctx, e) === 'CertificateContext',
  lacksRequiredClientCertificate: (ctx: ServerContext, e: TlsEvent) => certificateRefusal(ctx, e) === 'NoClientCertificate',
  isEmptyCertificate: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && judgeClientCertificate(ctx, e.msg).kind === 'empty',
  isClientCertificateTrusted: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Certificate' && judgeClientCertificate(ctx, e.msg).kind === 'trusted',
  /** §4.4.3: the scheme fits the client certificate's key (the signature itself may still be bad). */
  isSignatureSchemeAcceptable: (ctx: ServerContext, e: TlsEvent) => {
    if (e.type !== 'recv.CertificateVerify') return false;
    const v = judgeClientCertificateVerify(ctx, e.msg);
    return v.kind === 'verified' || v.error.reason === 'BadSignature';
  },
  isClientSignatureValid: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.CertificateVerify' && judgeClientCertificateVerify(ctx, e.msg).kind === 'verified',
  isClientFinishedValid: (ctx: ServerContext, e: TlsEvent) =>
    e.type === 'recv.Finished' && judgeClientFinished(ctx, e.msg).kind === 'verified',
  /** §5 / D.4: one dummy ChangeCipherSpec, after the ClientHello and before the client's Finished. */
  mayAcceptChangeCipherSpec: (ctx: ServerContext) => ctx.clientHello1 !== undefined && !ctx.ccsReceived && ctx.clientFinished === undefined,
};
