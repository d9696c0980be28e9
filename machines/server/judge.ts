/**
 * The server judges each received message once. A judge is a pure function of
 * (context, event) whose tagged verdict the guards test (by its kind) and the
 * actions use (its content): the binder verified by the guard is the witness
 * the context keeps, the clock is read once, the suite is chosen once.
 * Verdicts are memoised per (context, event), so however many guards look at
 * one event, the work is done once.
 */
import { EarlySecret } from '../../crypto/keyschedule.js';
import { schemesForSpki } from '../../crypto/signature.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import {
  type BinderVerified,
  type FinishedVerified,
  type SignatureVerified,
  verifyBinder,
  verifyCertificateVerify,
  verifyFinished,
} from '../../crypto/witness.js';
import { refuse, type TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateVerify, ClientHello, Finished, KeyShareEntry } from '../../wire/types.js';
import { transcriptHashOf } from '../common.js';
import { memo } from '../memo.js';
import type { CertifiedKey, ResolvedTickets, TlsEvent } from '../types.js';
import type { SelectedPsk, ServerContext } from './context.js';
import * as logic from './logic.js';
import { type ClientHelloView, clientHelloViolation } from './rules.js';

export type ClientHelloEvent = Extract<TlsEvent, { type: 'recv.ClientHello' }>;

/** What to do with a ClientHello. */
export type HelloVerdict =
  /** Refused with the table's alert. */
  | { kind: 'refuse'; error: TlsError }
  /** Answer with a HelloRetryRequest (§4.1.4): for `group` (no usable share), or only for a cookie. */
  | { kind: 'retry'; suite: SuiteInfo; group: number | undefined }
  /** A resumable ticket was selected but its binder does not verify (§4.2.11.2). */
  | { kind: 'badBinder'; error: TlsError; psk: SelectedPsk }
  /** Resume: the selected ticket's binder verified; the witness is the one the context keeps. */
  | { kind: 'resume'; suite: SuiteInfo; share: KeyShareEntry; psk: SelectedPsk; binder: BinderVerified; alpn: string | undefined }
  /** A full handshake with certificate authentication (and CertificateRequest when configured). */
  | {
      kind: 'full';
      suite: SuiteInfo;
      share: KeyShareEntry;
      certificate: CertifiedKey;
      scheme: number;
      requestCertificate: boolean;
      alpn: string | undefined;
    };

/** What the public rules see of the server's context (rules.ts). */
export function clientHelloView(ctx: ServerContext): ClientHelloView {
  return {
    helloRetryRequest: ctx.helloRetryRequest,
    clientHello1: ctx.clientHello1,
    groups: ctx.config.groups,
    isValidShare: (group, share) => ctx.env.crypto.isValidShare(group, share),
  };
}

export function judgeClientHello(ctx: ServerContext, event: ClientHelloEvent): HelloVerdict {
  return memo(ctx, event, 'verdict', () => judge(ctx, event.msg, event.tickets));
}

function judge(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets): HelloVerdict {
  const violation = clientHelloViolation(clientHelloView(ctx), ch);
  if (violation) return { kind: 'refuse', error: violation };
  const now = ctx.env.now();
  const policy = policyRefusal(ctx, ch, tickets, now);
  if (policy) return { kind: 'refuse', error: policy };
  const suite = logic.chooseSuite(ctx, ch, tickets, now) as SuiteInfo;
  const share = logic.chooseShare(ctx, ch);
  if (!ctx.helloRetryRequest && (ctx.config.forceHelloRetry || !share)) {
    return { kind: 'retry', suite, group: share ? undefined : logic.retryGroup(ctx, ch) };
  }
  if (!share) return { kind: 'refuse', error: refuse('WrongRetryShare', 'no usable key share after HelloRetryRequest') };
  const alpn = logic.chooseAlpn(ctx, ch);
  const psk = logic.selectPsk(ctx, ch, tickets, suite, now);
  if (psk) {
    const binder = verifySelectedBinder(ctx, ch, suite, psk);
    return binder
      ? { kind: 'resume', suite, share, psk, binder, alpn }
      : { kind: 'badBinder', psk, error: refuse('IncorrectBinder', 'the PSK binder does not match the ClientHello (RFC 8446 §4.2.11.2)') };
  }
  const chosen = logic.chooseCertificate(ctx, ch) as { cert: CertifiedKey; scheme: number };
  return {
    kind: 'full',
    suite,
    share,
    certificate: chosen.cert,
    scheme: chosen.scheme,
    requestCertificate: ctx.config.requestClientCertificate,
    alpn,
  };
}

/** What this server cannot or will not serve (its configuration, its policy), each with the table's alert. */
function policyRefusal(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets, now: number): TlsError | undefined {
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  if (!findExtension(ch.extensions, 'key_share_client')) {
    return refuse('NoKeyShare', 'no key_share: tlschart requires (EC)DHE, also on resumption');
  }
  if (!findExtension(ch.extensions, 'signature_algorithms') && !psk) {
    return refuse('NoSignatureAlgorithms', 'signature_algorithms is required for certificate authentication (§9.2)');
  }
  const suite = logic.chooseSuite(ctx, ch, tickets, now);
  if (!suite) return refuse('NoCommonCipherSuite', 'no cipher suite in common');
  if (logic.mutualGroups(ctx, ch).length === 0) return refuse('NoCommonGroup', 'no key exchange group in common');
  const alpnOffered = findExtension(ch.extensions, 'alpn');
  if (alpnOffered && ctx.config.alpnProtocols.length > 0 && !logic.chooseAlpn(ctx, ch)) {
    return refuse('NoCommonAlpn', `none of the offered ALPN protocols ${JSON.stringify(alpnOffered.protocols)} is served`);
  }
  if (!logic.selectPsk(ctx, ch, tickets, suite, now) && !logic.chooseCertificate(ctx, ch)) {
    return refuse('NoCertificate', 'no certificate matches the offered signature_algorithms');
  }
  return undefined;
}

/** §4.2.11.2: the selected identity's binder, recomputed over the (truncated) transcript, compared in constant time. */
function verifySelectedBinder(ctx: ServerContext, ch: ClientHello, suite: SuiteInfo, psk: SelectedPsk): BinderVerified | undefined {
  const received = findExtension(ch.extensions, 'pre_shared_key_client')?.binders[psk.index];
  const partial = logic.partialHelloHash(ctx, ch, suite);
  if (!received || !partial) return undefined;
  const binderKey = EarlySecret.create(suite, psk.state.psk, ctx.env.crypto).resumptionBinderKey();
  return verifyBinder(suite, binderKey, partial, received, ctx.env.crypto);
}

// ------------------------------------------------------------ client authentication and Finished

export type CertificateVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'empty' } | { kind: 'trusted'; leafSpki: Uint8Array };

/** The client's Certificate (§4.4.2, §4.4.2.4): its context, whether one is required, the chain. */
export function judgeClientCertificate(ctx: ServerContext, cert: Certificate): CertificateVerdict {
  return memo(ctx, cert, 'verdict', (): CertificateVerdict => {
    if (cert.certificateRequestContext.length !== 0) {
      return {
        kind: 'refuse',
        error: refuse('CertificateContext', 'the client Certificate has a certificate_request_context that was not sent (RFC 8446 §4.4.2)'),
      };
    }
    if (cert.entries.length === 0) {
      return ctx.config.requireClientCertificate
        ? {
            kind: 'refuse',
            error: refuse('NoClientCertificate', 'a client certificate is required but the client sent none (RFC 8446 §4.4.2.4)'),
          }
        : { kind: 'empty' };
    }
    const verifier = ctx.config.verifyClientChain;
    if (!verifier) return { kind: 'refuse', error: refuse('NoClientVerifier', 'no client certificate verifier configured') };
    const v = verifier(
      cert.entries.map((e) => e.certData),
      new Date(ctx.env.now()),
    );
    return v.ok ? { kind: 'trusted', leafSpki: v.leafSpki } : { kind: 'refuse', error: v.error };
  });
}

export type SignatureVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'verified'; witness: SignatureVerified };

/** The client's CertificateVerify (§4.4.3): a scheme that fits its key, then the signature over the transcript. */
export function judgeClientCertificateVerify(ctx: ServerContext, cv: CertificateVerify): SignatureVerdict {
  return memo(ctx, cv, 'verdict', (): SignatureVerdict => {
    const spki = ctx.peerSpki;
    if (!spki || !schemesForSpki(spki).includes(cv.algorithm)) {
      return {
        kind: 'refuse',
        error: refuse(
          'UnofferedSignatureScheme',
          'client CertificateVerify uses a scheme that does not fit its certificate key (RFC 8446 §4.4.3)',
        ),
      };
    }
    const witness = verifyCertificateVerify(cv.algorithm, spki, 'client', transcriptHashOf(ctx), cv.signature, ctx.env.crypto);
    return witness
      ? { kind: 'verified', witness }
      : { kind: 'refuse', error: refuse('BadSignature', 'the client CertificateVerify signature does not verify (RFC 8446 §4.4.3)') };
  });
}

export type FinishedVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'verified'; witness: FinishedVerified };

/** The client's Finished (§4.4.4), recomputed from the transcript before it is appended. */
export function judgeClientFinished(ctx: ServerContext, fin: Finished): FinishedVerdict {
  return memo(ctx, fin, 'verdict', (): FinishedVerdict => {
    const { suite, clientHandshakeSecret } = ctx;
    const witness =
      suite && clientHandshakeSecret
        ? verifyFinished(suite, clientHandshakeSecret, transcriptHashOf(ctx), fin.verifyData, ctx.env.crypto)
        : undefined;
    return witness
      ? { kind: 'verified', witness }
      : { kind: 'refuse', error: refuse('BadFinished', 'the client Finished does not match the transcript (RFC 8446 §4.4.4)') };
  });
}
