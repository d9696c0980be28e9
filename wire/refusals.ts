/**
 * The one closed table of refusals: every reason tlschart can end a handshake
 * or a connection with, and every behaviour it refuses on purpose without an
 * alert. Each entry names the alert sent, the RFC section that calls for it,
 * the keyword (MUST / SHOULD / MAY when the RFC decides, `policy` when
 * tlschart chooses, `internal` for a fault of our own side) and one sentence.
 *
 * `TlsError` (wire/alerts.ts) is typed to this table: its reason must be a key
 * here and its alert the one the entry names, checked by the compiler. The
 * charts, the record layer, the codec, the certificate checks, the trace
 * monitor, the audit reports and `tlschart refusals` all read it; the README's
 * "Refused on purpose" table is generated from it (a test compares them).
 *
 * The table lives beside the alerts, at the bottom of the layers, because
 * every layer raises refusals: a table in machines/ would force the codec and
 * the record layer to import upwards.
 */
import type { AlertName } from './alerts.js';

export type Keyword = 'MUST' | 'SHOULD' | 'MAY' | 'policy' | 'internal';

/** Who detects it: the side that refuses. */
export type Detector = 'client' | 'server' | 'both';

export interface Refusal {
  /** The alert sent; null for a refusal that is a defined behaviour without an alert. */
  readonly alert: AlertName | null;
  /** RFC 8446 section (or another RFC, named) that calls for it. */
  readonly section: string;
  readonly keyword: Keyword;
  readonly detector: Detector;
  /** One sentence: what was refused and why. */
  readonly sentence: string;
  /** One of the behaviours tlschart refuses on purpose (the README's table). */
  readonly onPurpose?: string;
}

const r = <A extends AlertName | null>(
  alert: A,
  section: string,
  keyword: Keyword,
  detector: Detector,
  sentence: string,
  onPurpose?: string,
): Refusal & { readonly alert: A } =>
  onPurpose === undefined ? { alert, section, keyword, detector, sentence } : { alert, section, keyword, detector, sentence, onPurpose };

const PSK_KE = 'psk_ke (PSK-only) resumption';
const EARLY_DATA = '0-RTT / early data';
const TLS12_AND_BELOW = 'TLS 1.2 and below';

export const REFUSALS = {
  // ------------------------------------------------------------ refused on purpose (no alert, or the exact one)
  PskKeOnlyIgnored: r(
    null,
    '§4.2.9',
    'policy',
    'server',
    'the client offers only psk_dhe_ke; a PSK offered with psk_ke alone is ignored: the server completes a full handshake with (EC)DHE and sends no tickets a client could not use',
    PSK_KE,
  ),
  PskWithoutKeyShare: r(
    'illegal_parameter',
    '§4.2.9',
    'MUST',
    'client',
    'the server resumed without a key share (psk_ke), but only psk_dhe_ke was offered',
    PSK_KE,
  ),
  EarlyDataIgnored: r(
    null,
    '§4.2.10',
    'policy',
    'server',
    'early_data is never offered and never accepted: no early_data in EncryptedExtensions; undecryptable 0-RTT records are skipped up to 16384 bytes, also after a HelloRetryRequest, and never delivered; EndOfEarlyData is unexpected_message',
    EARLY_DATA,
  ),
  EarlyDataLimitExceeded: r(
    'bad_record_mac',
    '§4.2.10',
    'MUST',
    'server',
    'more undecryptable 0-RTT data than the skip limit (16384 bytes by default)',
    EARLY_DATA,
  ),
  UnofferedEarlyData: r(
    'unsupported_extension',
    '§4.2.10',
    'MUST',
    'client',
    'early_data in EncryptedExtensions although the client never offered it',
    EARLY_DATA,
  ),
  StatelessTicketsRefused: r(
    null,
    '§4.6.1',
    'policy',
    'server',
    'a ticket is 32 random bytes naming state kept in a TicketStore; it is looked up without being removed and taken (single use) only after the binder of the selected identity verified',
    'Stateless (RFC 5077) tickets',
  ),
  UnknownPskIgnored: r(
    null,
    '§4.2.11',
    'policy',
    'server',
    'no out-of-band PSK can be configured; an identity that is not a ticket this server issued (unknown, expired, another name) is ignored and the handshake continues in full',
    'Out-of-band PSKs',
  ),
  NoTls13: r(
    'protocol_version',
    '§4.2.1',
    'MUST',
    'both',
    'the peer does not offer or select TLS 1.3; tlschart speaks only TLS 1.3',
    TLS12_AND_BELOW,
  ),
  LegacyVersion: r(
    'protocol_version',
    'Appendix D.5',
    'MUST',
    'server',
    'a ClientHello with legacy_version below 0x0303 (0x0300 is SSL 3.0) is refused, whatever supported_versions says',
    TLS12_AND_BELOW,
  ),
  ServerHelloLegacyVersion: r(
    'protocol_version',
    '§4.1.3',
    'MUST',
    'client',
    'a TLS 1.3 ServerHello has legacy_version 0x0303',
    TLS12_AND_BELOW,
  ),

  // ------------------------------------------------------------ ClientHello (server side)
  Compression: r('illegal_parameter', '§4.1.2', 'MUST', 'both', 'legacy compression must be exactly the null method'),
  ExtensionNotAllowed: r('illegal_parameter', '§4.2', 'MUST', 'both', 'an extension appears in a message it is not defined for'),
  PskWithoutModes: r('missing_extension', '§4.2.9', 'MUST', 'server', 'pre_shared_key offered without psk_key_exchange_modes'),
  BinderCountMismatch: r(
    'illegal_parameter',
    '§4.2.11',
    'MUST',
    'server',
    'the number of PSK binders differs from the number of identities',
  ),
  PskNotLast: r('illegal_parameter', '§4.2.11', 'MUST', 'server', 'pre_shared_key is not the last extension of the ClientHello'),
  GroupsWithoutKeyShare: r('missing_extension', '§9.2', 'MUST', 'server', 'supported_groups and key_share must come together'),
  NoKeyShare: r(
    'missing_extension',
    '§9.2',
    'policy',
    'server',
    'no key_share: tlschart requires (EC)DHE, also on resumption (psk_dhe_ke)',
  ),
  NoSignatureAlgorithms: r(
    'missing_extension',
    '§9.2',
    'MUST',
    'server',
    'a ClientHello for certificate authentication lacks signature_algorithms',
  ),
  DuplicateKeyShare: r('illegal_parameter', '§4.2.8', 'MUST', 'server', 'two key shares for the same group'),
  ShareForUnlistedGroup: r('illegal_parameter', '§4.2.8', 'MUST', 'server', 'a key share for a group supported_groups does not list'),
  InvalidKeyShare: r(
    'illegal_parameter',
    '§4.2.8.2',
    'MUST',
    'both',
    'a key share is not a valid public key of its group (wrong length, off the curve, low order)',
  ),
  UnsupportedGroup: r('illegal_parameter', '§4.2.8', 'MUST', 'both', 'a key share for a group this side does not implement was used'),
  NoCommonCipherSuite: r('handshake_failure', '§4.1.1', 'MUST', 'server', 'no cipher suite in common'),
  NoCommonGroup: r('handshake_failure', '§4.1.1', 'MUST', 'server', 'no key exchange group in common'),
  NoCommonAlpn: r('no_application_protocol', 'RFC 7301 §3.2', 'MUST', 'server', 'none of the offered ALPN protocols is served'),
  NoCertificate: r('handshake_failure', '§4.4.2.2', 'SHOULD', 'server', 'no certificate matches the offered signature_algorithms'),
  IncorrectBinder: r(
    'decrypt_error',
    '§4.2.11.2',
    'MUST',
    'server',
    'the binder of the selected PSK does not match the (truncated) ClientHello',
  ),
  EarlyDataAfterRetry: r('illegal_parameter', '§4.2.10', 'MUST', 'server', 'the second ClientHello offers early_data'),
  CookieMismatch: r('illegal_parameter', '§4.2.2', 'MUST', 'server', 'the second ClientHello does not echo the HelloRetryRequest cookie'),
  SuiteChangedAfterRetry: r('illegal_parameter', '§4.1.4', 'MUST', 'both', 'the cipher suite changed after the HelloRetryRequest'),
  WrongRetryShare: r(
    'illegal_parameter',
    '§4.1.2',
    'MUST',
    'server',
    'the second ClientHello does not carry exactly one share, for the group the HelloRetryRequest asked for',
  ),
  SecondHelloChanged: r(
    'illegal_parameter',
    '§4.1.2',
    'MUST',
    'server',
    'the second ClientHello changes something other than what a HelloRetryRequest allows (key_share, early_data, cookie, pre_shared_key, padding)',
  ),
  SecondHelloAddedPsk: r(
    'illegal_parameter',
    '§4.1.2',
    'MUST',
    'server',
    'the second ClientHello offers a PSK identity the first did not (identities may only be updated or removed)',
  ),
  NoClientVerifier: r(
    'bad_certificate',
    '§4.4.2.4',
    'internal',
    'server',
    'a client certificate arrived but no verifier for client certificates is configured',
  ),
  NoClientCertificate: r(
    'certificate_required',
    '§4.4.2.4',
    'policy',
    'server',
    'a client certificate is required but the client sent none',
  ),

  // ------------------------------------------------------------ ServerHello / HelloRetryRequest (client side)
  UnofferedVersion: r('illegal_parameter', '§4.2.1', 'MUST', 'client', 'the server selected a version that was not offered'),
  SessionIdMismatch: r('illegal_parameter', '§4.1.3', 'MUST', 'client', 'legacy_session_id_echo differs from the legacy_session_id sent'),
  UnofferedCipherSuite: r('illegal_parameter', '§4.1.3', 'MUST', 'client', 'the server selected a cipher suite that was not offered'),
  UnsolicitedExtension: r('unsupported_extension', '§4.2', 'MUST', 'client', 'an extension response the client did not request'),
  SelectedUnofferedPsk: r('illegal_parameter', '§4.2.11', 'MUST', 'client', 'selected_identity is not one of the identities offered'),
  PskHashMismatch: r(
    'illegal_parameter',
    '§4.2.11',
    'MUST',
    'client',
    'the selected cipher suite does not use the hash of the resumed session',
  ),
  MissingKeyShare: r('missing_extension', '§4.2.8', 'MUST', 'client', 'an (EC)DHE ServerHello carries no key_share'),
  UnofferedGroup: r(
    'illegal_parameter',
    '§4.2.8',
    'MUST',
    'client',
    'the server chose a group the client did not offer or sent no share for',
  ),
  RetryForSentShare: r(
    'illegal_parameter',
    '§4.2.8',
    'MUST',
    'client',
    'the HelloRetryRequest asks for a group the client already sent a share for',
  ),
  HelloRetryChangesNothing: r('illegal_parameter', '§4.1.4', 'MUST', 'client', 'a HelloRetryRequest that would not change the ClientHello'),
  SecondHelloRetryRequest: r('unexpected_message', '§4.1.4', 'MUST', 'client', 'a second HelloRetryRequest in one handshake'),
  UnofferedAlpn: r(
    'illegal_parameter',
    'RFC 7301 §3.2',
    'MUST',
    'client',
    'the server selected an ALPN protocol that was not offered, or more than one',
  ),
  CertificateRequestContext: r(
    'illegal_parameter',
    '§4.3.2',
    'MUST',
    'client',
    'certificate_request_context must be empty during the handshake',
  ),
  MissingSignatureAlgorithms: r('missing_extension', '§4.3.2', 'MUST', 'client', 'a CertificateRequest without signature_algorithms'),

  // ------------------------------------------------------------ authentication (both sides)
  CertificateContext: r(
    'illegal_parameter',
    '§4.4.2',
    'MUST',
    'both',
    'a Certificate with a certificate_request_context that was not sent',
  ),
  EmptyCertificate: r('decode_error', '§4.4.2.4', 'MUST', 'client', 'the server sent an empty Certificate'),
  BadSignature: r('decrypt_error', '§4.4.3', 'MUST', 'both', 'the CertificateVerify signature does not verify over the transcript'),
  UnofferedSignatureScheme: r(
    'illegal_parameter',
    '§4.4.3',
    'MUST',
    'both',
    'CertificateVerify uses a scheme that was not offered or does not fit the certificate key',
  ),
  BadFinished: r('decrypt_error', '§4.4.4', 'MUST', 'both', 'Finished.verify_data does not match the transcript'),
  EmptyChain: r('bad_certificate', '§4.4.2.4', 'MUST', 'both', 'a certificate chain with no certificate'),
  BadCertificateEncoding: r('bad_certificate', '§4.4.2.4', 'MUST', 'both', 'a certificate that does not parse'),
  CertificateExpired: r('certificate_expired', '§6.2', 'SHOULD', 'both', 'a certificate whose notAfter is in the past'),
  CertificateNotYetValid: r(
    'bad_certificate',
    '§6.2',
    'SHOULD',
    'both',
    'a certificate whose notBefore is in the future (bad_certificate, as OpenSSL sends)',
  ),
  UnknownCa: r('unknown_ca', '§6.2', 'SHOULD', 'both', 'the chain does not lead to a trusted root'),
  ChainTooLong: r('unknown_ca', '§6.2', 'policy', 'both', 'the chain is longer than tlschart follows'),
  NotACa: r('bad_certificate', 'RFC 5280 §4.2.1.9', 'MUST', 'both', 'an issuer in the chain is not a CA'),
  PathLengthExceeded: r('bad_certificate', 'RFC 5280 §4.2.1.9', 'MUST', 'both', 'the chain exceeds a pathLenConstraint'),
  WeakSignature: r('bad_certificate', '§4.2.3', 'policy', 'both', 'a certificate signature tlschart does not accept (weak hash or key)'),
  BadKeyUsage: r('bad_certificate', 'RFC 5280 §4.2.1.3', 'MUST', 'both', 'keyUsage forbids what the certificate is used for'),
  BadExtendedKeyUsage: r(
    'unsupported_certificate',
    'RFC 5280 §4.2.1.12',
    'MUST',
    'both',
    'extendedKeyUsage does not allow TLS server (or client) authentication',
  ),
  HostnameMismatch: r('bad_certificate', 'RFC 6125 §6', 'MUST', 'client', 'the certificate is not valid for the server name'),
  InvalidTrustAnchor: r('internal_error', '§6.2', 'internal', 'both', 'a configured trust anchor does not parse'),

  // ------------------------------------------------------------ order, record layer and codec
  UnexpectedMessage: r('unexpected_message', '§5, Appendix A', 'MUST', 'both', 'a message that is not allowed in the current state'),
  UnexpectedChangeCipherSpec: r(
    'unexpected_message',
    '§5',
    'MUST',
    'both',
    'a ChangeCipherSpec outside the one allowed during the handshake',
  ),
  InvalidChangeCipherSpec: r('unexpected_message', '§5', 'MUST', 'both', 'a change_cipher_spec record that is not the single byte 0x01'),
  ProtectedChangeCipherSpec: r('unexpected_message', '§5', 'MUST', 'both', 'a change_cipher_spec inside a protected record'),
  UnknownContentType: r('unexpected_message', '§5', 'MUST', 'both', 'a record of an unknown content type'),
  UnsupportedRecordVersion: r('protocol_version', '§5.1', 'policy', 'both', 'a record whose legacy_record_version is not 0x03XX'),
  RecordOverflow: r('record_overflow', '§5.1, §5.2', 'MUST', 'both', 'a record longer than the protocol allows'),
  EmptyFragment: r('unexpected_message', '§5.1', 'MUST', 'both', 'a zero-length Handshake or Alert fragment'),
  InterleavedHandshake: r(
    'unexpected_message',
    '§5.1',
    'MUST',
    'both',
    'another record type in the middle of a fragmented handshake message',
  ),
  HandshakeSpansKeyChange: r('unexpected_message', '§5.1', 'MUST', 'both', 'a handshake message split across a key change'),
  HandshakeMessageTooLarge: r('decode_error', '§4.1.2, §6.2', 'policy', 'both', 'a handshake message longer than the configured limit'),
  UnprotectedRecord: r('unexpected_message', '§5.2', 'MUST', 'both', 'a plaintext record after the keys changed'),
  UnprotectedApplicationData: r('unexpected_message', '§5.1', 'MUST', 'both', 'application data before any keys'),
  BadRecordMac: r('bad_record_mac', '§5.2', 'MUST', 'both', 'a protected record failed authentication'),
  NoInnerContentType: r('unexpected_message', '§5.4', 'MUST', 'both', 'a protected record that decrypts to zeros only'),
  MalformedAlert: r('decode_error', '§6', 'MUST', 'both', 'an alert record that is not exactly two bytes'),
  DecodeError: r('decode_error', '§6.2', 'MUST', 'both', 'a message that cannot be parsed'),
  IllegalFieldValue: r('illegal_parameter', '§6.2', 'MUST', 'both', 'a field that parses but holds a value the protocol forbids'),
  DuplicateExtension: r('illegal_parameter', '§4.2', 'MUST', 'both', 'the same extension twice in one message'),
  UnknownHandshakeType: r('unexpected_message', '§4', 'MUST', 'both', 'a handshake message of an unknown type'),
  TooManyHandshakeRecords: r(
    'unexpected_message',
    '§5.1',
    'policy',
    'both',
    'a handshake message split over more records than the configured limit',
  ),
  TooManyEmptyRecords: r(
    'unexpected_message',
    '§5.1',
    'policy',
    'both',
    'more empty application_data records in a row than the configured limit',
  ),
  TooManyKeyUpdates: r(
    'unexpected_message',
    '§4.6.3',
    'policy',
    'both',
    'more KeyUpdates in a row without application data than the configured limit',
  ),
  SequenceNumberExhausted: r('internal_error', '§5.3', 'MUST', 'both', 'the record sequence number would wrap before a key update'),

  // ------------------------------------------------------------ the peer, the transport, our own faults
  PeerAlert: r(null, '§6', 'MUST', 'both', 'the peer sent a fatal alert (the alert is the one received)'),
  HandshakeTimeout: r('handshake_failure', '§6.2', 'policy', 'both', 'the handshake did not complete in time'),
  ConnectionClosedDuringHandshake: r('handshake_failure', '§6.1', 'policy', 'both', 'the transport closed before the handshake completed'),
  InvalidPrivateKey: r('internal_error', '§6.2', 'internal', 'both', 'our own private key is unusable'),
  WireEncodeError: r('internal_error', '§6.2', 'internal', 'both', 'a message could not be encoded (a bug of this side)'),
  NoWriteKeys: r('internal_error', '§6.2', 'internal', 'both', 'data written before write keys existed (a bug of this side)'),
  InconsistentGuard: r('internal_error', '§6.2', 'internal', 'both', 'a failure branch was taken without a reason (a bug of this side)'),
  InternalError: r('internal_error', '§6.2', 'internal', 'both', 'an exception inside the engine or a chart (a bug of this side)'),
} as const satisfies Record<string, Refusal>;

export type RefusalReason = keyof typeof REFUSALS;

/** The alert a refusal sends; for PeerAlert (no alert of ours) any alert, as received. */
export type AlertOf<R extends RefusalReason> = R extends 'PeerAlert' ? AlertName : NonNullable<(typeof REFUSALS)[R]['alert']>;

/** Reasons that end a connection with an alert of ours (PeerAlert and the no-alert behaviours excluded). */
export type AlertingReason = { [R in RefusalReason]: (typeof REFUSALS)[R]['alert'] extends null ? never : R }[RefusalReason];

export function isRefusalReason(s: string): s is RefusalReason {
  return Object.hasOwn(REFUSALS, s);
}

export function refusalOf(reason: RefusalReason): Refusal {
  return REFUSALS[reason];
}
