/**
 * The client judges each received message once: a pure function of
 * (context, message), memoised, whose tagged verdict the guards test and the
 * actions use — the (EC)DHE secret computed while checking the ServerHello is
 * the one the key schedule takes, the witnesses minted while checking the
 * CertificateVerify and the Finished are the ones the context keeps.
 */
import type { SharedSecretResult } from '../../crypto/provider.js';
import { schemesForSpki } from '../../crypto/signature.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { type FinishedVerified, type SignatureVerified, verifyCertificateVerify, verifyFinished } from '../../crypto/witness.js';
import { refuse, type TlsError } from '../../wire/alerts.js';
import { findExtension } from '../../wire/extensions.js';
import type { Certificate, CertificateVerify, EncryptedExtensions, Finished, ServerHello } from '../../wire/types.js';
import { transcriptHashOf } from '../common.js';
import { memo } from '../memo.js';
import type { ClientContext } from './context.js';
import {
  type ClientView,
  certificateRequestViolation,
  encryptedExtensionsViolation,
  helloRetryViolation,
  serverCertificateViolation,
  serverHelloViolation,
} from './rules.js';

export { certificateRequestViolation };

/** The (EC)DHE agreement with our share for the server's, once per ServerHello. */
function agreement(ctx: ClientContext, sh: ServerHello, group: number, share: Uint8Array): SharedSecretResult {
  return memo(ctx, sh, 'agreement', () => {
    const mine = ctx.keyShares.find((k) => k.group === group);
    if (!mine) return { ok: false, error: refuse('UnofferedGroup', `no share of ours for group ${group}`) };
    return ctx.env.crypto.completeShare(mine, share);
  });
}

/** What the public rules see of the client's context. */
export function clientView(ctx: ClientContext, sh?: ServerHello): ClientView {
  const ch = ctx.clientHello;
  if (!ch) throw new Error('no ClientHello sent yet');
  return {
    clientHello: ch,
    helloRetryRequest: ctx.helloRetryRequest,
    pskHash: ctx.offeredPsk?.suite.hash,
    // The agreement with our own private key decides, and its secret is kept for the key schedule.
    isValidShare: (group, share) => (sh ? agreement(ctx, sh, group, share).ok : ctx.env.crypto.isValidShare(group, share)),
  };
}

export type ServerHelloVerdict =
  /** A valid HelloRetryRequest: send the second ClientHello. */
  | { kind: 'retry' }
  /** A HelloRetryRequest or ServerHello refused with the table's alert. */
  | { kind: 'refuseRetry'; error: TlsError }
  | { kind: 'refuse'; error: TlsError }
  | { kind: 'accept'; suite: SuiteInfo; resumed: boolean; group: number; sharedSecret: Uint8Array };

export function judgeServerHello(ctx: ClientContext, sh: ServerHello): ServerHelloVerdict {
  return memo(ctx, sh, 'verdict', (): ServerHelloVerdict => {
    if (sh.isHelloRetryRequest) {
      const error = helloRetryViolation(clientView(ctx), sh);
      return error ? { kind: 'refuseRetry', error } : { kind: 'retry' };
    }
    const error = serverHelloViolation(clientView(ctx, sh), sh);
    if (error) return { kind: 'refuse', error };
    const ks = findExtension(sh.extensions, 'key_share_server');
    const suite = suiteInfo(sh.cipherSuite);
    if (!ks || !suite) throw new Error('ServerHello rules passed without a key share or a known suite');
    const shared = agreement(ctx, sh, ks.share.group, ks.share.keyExchange);
    if (!shared.ok) return { kind: 'refuse', error: shared.error };
    const resumed = findExtension(sh.extensions, 'pre_shared_key_server') !== undefined;
    return { kind: 'accept', suite, resumed, group: ks.share.group, sharedSecret: shared.value };
  });
}

export type EncryptedExtensionsVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'accept'; alpn: string | undefined };

export function judgeEncryptedExtensions(ctx: ClientContext, ee: EncryptedExtensions): EncryptedExtensionsVerdict {
  return memo(ctx, ee, 'verdict', (): EncryptedExtensionsVerdict => {
    // §4.2.10: early data the client never offered is refused before anything else in the message.
    const offeredEarlyData = ctx.clientHello !== undefined && findExtension(ctx.clientHello.extensions, 'early_data') !== undefined;
    if (findExtension(ee.extensions, 'early_data') && !offeredEarlyData) {
      return { kind: 'refuse', error: refuse('UnofferedEarlyData', 'the server accepted early data that tlschart never offers') };
    }
    const error = encryptedExtensionsViolation(clientView(ctx), ee);
    return error ? { kind: 'refuse', error } : { kind: 'accept', alpn: findExtension(ee.extensions, 'alpn')?.protocols[0] };
  });
}

export type CertificateVerdict =
  | { kind: 'refuse'; error: TlsError }
  | { kind: 'untrusted'; error: TlsError }
  | { kind: 'trusted'; leafSpki: Uint8Array };

/** The server's Certificate: its form (§4.4.2), then the chain (the configured verifier). */
export function judgeServerCertificate(ctx: ClientContext, cert: Certificate): CertificateVerdict {
  return memo(ctx, cert, 'verdict', (): CertificateVerdict => {
    const error = serverCertificateViolation(cert);
    if (error) return { kind: 'refuse', error };
    const v = ctx.config.verifyServerChain(
      cert.entries.map((e) => e.certData),
      new Date(ctx.env.now()),
    );
    return v.ok ? { kind: 'trusted', leafSpki: v.leafSpki } : { kind: 'untrusted', error: v.error };
  });
}

export type SignatureVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'verified'; witness: SignatureVerified };

/** §4.4.3: a scheme the client offered that fits the certificate's key, then the signature over the transcript. */
export function judgeServerCertificateVerify(ctx: ClientContext, cv: CertificateVerify): SignatureVerdict {
  return memo(ctx, cv, 'verdict', (): SignatureVerdict => {
    const spki = ctx.peerSpki;
    if (!spki || !ctx.config.signatureSchemes.includes(cv.algorithm) || !schemesForSpki(spki).includes(cv.algorithm)) {
      return {
        kind: 'refuse',
        error: refuse(
          'UnofferedSignatureScheme',
          'CertificateVerify uses a scheme that was not offered or does not fit the certificate key (RFC 8446 §4.4.3)',
        ),
      };
    }
    const witness = verifyCertificateVerify(cv.algorithm, spki, 'server', transcriptHashOf(ctx), cv.signature, ctx.env.crypto);
    return witness
      ? { kind: 'verified', witness }
      : { kind: 'refuse', error: refuse('BadSignature', 'the server CertificateVerify signature does not verify (RFC 8446 §4.4.3)') };
  });
}

export type FinishedVerdict = { kind: 'refuse'; error: TlsError } | { kind: 'verified'; witness: FinishedVerified };

/** §4.4.4: the server Finished, recomputed from the transcript before it is appended. */
export function judgeServerFinished(ctx: ClientContext, fin: Finished): FinishedVerdict {
  return memo(ctx, fin, 'verdict', (): FinishedVerdict => {
    const { suite, serverHandshakeSecret } = ctx;
    const witness =
      suite && serverHandshakeSecret
        ? verifyFinished(suite, serverHandshakeSecret, transcriptHashOf(ctx), fin.verifyData, ctx.env.crypto)
        : undefined;
    return witness
      ? { kind: 'verified', witness }
      : { kind: 'refuse', error: refuse('BadFinished', 'the server Finished does not match the transcript (RFC 8446 §4.4.4)') };
  });
}
