/**
 * What every TLS 1.3 client must refuse in the server's messages, decided
 * from public material only: the message and the ClientHello the client sent
 * (its suites, groups, shares, session id, PSK identities, ALPN, SNI) and the
 * HelloRetryRequest it got (RFC 8446 §4.1.3, §4.1.4, §4.2, §4.3, §4.4.2). The
 * trace monitor runs these same rules on a recorded handshake of any client.
 *
 * Each rule names a refusal of the table (wire/refusals.ts), which gives the alert.
 */

import { type HashName, suiteInfo } from '../../crypto/suites.js';
import { refuse, type TlsError } from '../../wire/alerts.js';
import { equalBytes } from '../../wire/bytes.js';
import { findExtension } from '../../wire/extensions.js';
import {
  type Certificate,
  type CertificateRequest,
  type ClientHello,
  type EncryptedExtensions,
  type ServerHello,
  TLS12,
  TLS13,
} from '../../wire/types.js';

/** What the client rules may look at besides the server's message. */
export interface ClientView {
  /** The ClientHello most recently sent (the second one after a HelloRetryRequest). */
  clientHello: ClientHello;
  helloRetryRequest: ServerHello | undefined;
  /** Hash of the offered ticket's cipher suite, when the checker knows it (§4.2.11). */
  pskHash: HashName | undefined;
  /** Is the server's share a usable public key of its group (§4.2.8.2, §7.4)? */
  isValidShare(group: number, share: Uint8Array): boolean;
}

const offeredGroups = (ch: ClientHello): number[] => findExtension(ch.extensions, 'supported_groups')?.groups ?? [];
const sharedGroups = (ch: ClientHello): number[] => findExtension(ch.extensions, 'key_share_client')?.shares.map((s) => s.group) ?? [];

/** Checks shared by ServerHello and HelloRetryRequest (§4.1.3, §4.2.1). */
function headerViolation(view: ClientView, sh: ServerHello): TlsError | undefined {
  const ch = view.clientHello;
  // §4.1.3: a TLS 1.3 ServerHello (and HelloRetryRequest) keeps legacy_version 0x0303.
  if (sh.legacyVersion !== TLS12) {
    return refuse(
      'ServerHelloLegacyVersion',
      `ServerHello legacy_version is 0x${sh.legacyVersion.toString(16).padStart(4, '0')}, not 0x0303`,
    );
  }
  const sv = findExtension(sh.extensions, 'supported_versions_server');
  if (!sv) return refuse('NoTls13', 'the server did not select TLS 1.3 (no supported_versions): tlschart speaks only TLS 1.3');
  if (sv.version !== TLS13)
    return refuse('UnofferedVersion', `the server selected version 0x${sv.version.toString(16)}, which was not offered`);
  if (!equalBytes(sh.legacySessionIdEcho, ch.legacySessionId)) {
    return refuse('SessionIdMismatch', 'legacy_session_id_echo differs from the legacy_session_id sent');
  }
  if (!ch.cipherSuites.includes(sh.cipherSuite) || !suiteInfo(sh.cipherSuite)) {
    return refuse('UnofferedCipherSuite', `the server selected cipher suite 0x${sh.cipherSuite.toString(16)}, which was not offered`);
  }
  if (sh.legacyCompressionMethod !== 0) return refuse('Compression', 'legacy_compression_method must be 0');
  const hrr = view.helloRetryRequest;
  if (hrr && hrr !== sh && hrr.cipherSuite !== sh.cipherSuite) {
    return refuse('SuiteChangedAfterRetry', 'the ServerHello cipher suite differs from the HelloRetryRequest');
  }
  return undefined;
}

/** RFC 8446 §4.1.4: what makes a HelloRetryRequest unacceptable. */
export function helloRetryViolation(view: ClientView, hrr: ServerHello): TlsError | undefined {
  const common = headerViolation(view, hrr);
  if (common) return common;
  for (const e of hrr.extensions) {
    if (e.type !== 'supported_versions_server' && e.type !== 'key_share_hrr' && e.type !== 'cookie') {
      return e.type === 'unknown'
        ? refuse('UnsolicitedExtension', `HelloRetryRequest carries extension ${e.code} that the client did not offer`)
        : refuse('ExtensionNotAllowed', `HelloRetryRequest may not carry ${e.type}`);
    }
  }
  const ks = findExtension(hrr.extensions, 'key_share_hrr');
  if (!ks && !findExtension(hrr.extensions, 'cookie')) {
    return refuse('HelloRetryChangesNothing', 'HelloRetryRequest would not change the ClientHello');
  }
  if (ks && !offeredGroups(view.clientHello).includes(ks.selectedGroup)) {
    return refuse('UnofferedGroup', `HelloRetryRequest selects group ${ks.selectedGroup}, which the client did not offer`);
  }
  if (ks && sharedGroups(view.clientHello).includes(ks.selectedGroup)) {
    return refuse('RetryForSentShare', 'HelloRetryRequest asks for a key share the client already sent');
  }
  return undefined;
}

/** RFC 8446 §4.1.3, §4.2: what makes a ServerHello unacceptable. */
export function serverHelloViolation(view: ClientView, sh: ServerHello): TlsError | undefined {
  const common = headerViolation(view, sh);
  if (common) return common;
  const offered = findExtension(view.clientHello.extensions, 'pre_shared_key_client');
  for (const e of sh.extensions) {
    if (e.type === 'supported_versions_server' || e.type === 'key_share_server') continue;
    if (e.type === 'pre_shared_key_server' && offered) continue;
    if (e.type === 'pre_shared_key_server') return refuse('UnsolicitedExtension', 'ServerHello selects a PSK although none was offered');
    return e.type === 'unknown'
      ? refuse('UnsolicitedExtension', `ServerHello carries extension ${e.code} that the client did not offer`)
      : refuse('ExtensionNotAllowed', `ServerHello may not carry ${e.type}`);
  }
  const psk = findExtension(sh.extensions, 'pre_shared_key_server');
  const ks = findExtension(sh.extensions, 'key_share_server');
  if (psk && offered) {
    if (psk.selectedIdentity >= offered.identities.length) {
      return refuse(
        'SelectedUnofferedPsk',
        `ServerHello selects PSK identity ${psk.selectedIdentity}; ${offered.identities.length} were offered`,
      );
    }
    const suite = suiteInfo(sh.cipherSuite);
    if (view.pskHash !== undefined && suite?.hash !== view.pskHash) {
      return refuse('PskHashMismatch', 'the selected cipher suite does not use the hash of the resumed session');
    }
    if (!ks) return refuse('PskWithoutKeyShare', 'the server resumed without a key share (psk_ke), but only psk_dhe_ke was offered');
  }
  if (!ks) return refuse('MissingKeyShare', 'ServerHello has no key_share');
  if (!sharedGroups(view.clientHello).includes(ks.share.group)) {
    return refuse('UnofferedGroup', `ServerHello key_share uses group ${ks.share.group}, for which the client sent no share`);
  }
  if (!view.isValidShare(ks.share.group, ks.share.keyExchange)) {
    return refuse('InvalidKeyShare', `the server's key share for group ${ks.share.group} is not a valid public key`);
  }
  return undefined;
}

/** §4.2, §4.2.10: EncryptedExtensions may only answer what the ClientHello asked for. */
export function encryptedExtensionsViolation(view: ClientView, ee: EncryptedExtensions): TlsError | undefined {
  const ch = view.clientHello;
  for (const e of ee.extensions) {
    switch (e.type) {
      case 'early_data':
        // tlschart never offers early_data (§4.2.10); a client that did would accept it here.
        if (!findExtension(ch.extensions, 'early_data'))
          return refuse('UnofferedEarlyData', 'the server accepted early data that was never offered');
        break;
      case 'server_name':
        if (!findExtension(ch.extensions, 'server_name'))
          return refuse('UnsolicitedExtension', 'server_name in EncryptedExtensions although no SNI was sent');
        break;
      case 'supported_groups':
        break; // §4.2.7: the server may tell its preferences; the client does not act on them
      case 'alpn': {
        const offered = findExtension(ch.extensions, 'alpn')?.protocols;
        if (!offered) return refuse('UnsolicitedExtension', 'the server selected an ALPN protocol although none was offered');
        const [p, ...rest] = e.protocols;
        if (p === undefined || rest.length > 0 || !offered.includes(p)) {
          return refuse('UnofferedAlpn', `the server selected ALPN ${JSON.stringify(e.protocols)}, not exactly one offered protocol`);
        }
        break;
      }
      case 'unknown':
        return refuse('UnsolicitedExtension', `EncryptedExtensions carries extension ${e.code} that the client did not offer`);
      default:
        return refuse('ExtensionNotAllowed', `EncryptedExtensions may not carry ${e.type}`);
    }
  }
  return undefined;
}

/** §4.3.2: a CertificateRequest in the handshake has an empty context and signature_algorithms. */
export function certificateRequestViolation(cr: CertificateRequest): TlsError | undefined {
  if (cr.certificateRequestContext.length !== 0) {
    return refuse('CertificateRequestContext', 'certificate_request_context must be empty during the handshake');
  }
  if (!findExtension(cr.extensions, 'signature_algorithms'))
    return refuse('MissingSignatureAlgorithms', 'CertificateRequest has no signature_algorithms');
  for (const e of cr.extensions) {
    if (e.type === 'unknown' || e.type === 'signature_algorithms' || e.type === 'signature_algorithms_cert') continue;
    return refuse('ExtensionNotAllowed', `CertificateRequest may not carry ${e.type}`);
  }
  return undefined;
}

/** §4.4.2: the server's Certificate has an empty context and at least one entry. */
export function serverCertificateViolation(cert: Certificate): TlsError | undefined {
  if (cert.certificateRequestContext.length !== 0) {
    return refuse('CertificateContext', 'the server Certificate has a non-empty certificate_request_context');
  }
  if (cert.entries.length === 0) return refuse('EmptyCertificate', 'the server sent an empty Certificate (§4.4.2.4)');
  return undefined;
}
