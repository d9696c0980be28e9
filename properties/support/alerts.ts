/**
 * Property 6: every rejection ends in the alert RFC 8446 names. One table
 * from the kind of attack (or misbehaviour) to the alert(s) the detecting
 * side may send; a set has more than one entry only where the RFC leaves the
 * choice open or the attack's effect depends on which byte it hits.
 */
import type { AlertName } from '../../wire/alerts.js';

/** Alerts a corrupted plaintext hello can lead to, depending on the field it hits (§4.1.2-§4.1.4, §4.2, §6.2). */
const HELLO_FIELDS: AlertName[] = [
  'decode_error', // §6.2: a message that cannot be parsed
  'illegal_parameter', // §4.1.3, §4.2: a field with a value the RFC forbids
  'missing_extension', // §4.2, §9.2: a mandatory extension gone
  'unsupported_extension', // §4.2: an extension the peer did not offer
  'protocol_version', // §4.2.1, §5.1: no TLS 1.3 any more
  'handshake_failure', // §4.1.1: nothing in common any more
  'no_application_protocol', // RFC 7301 §3.2
  'unexpected_message', // §5, §6.2: a message of the wrong type now
  'decrypt_error', // §4.4.3, §4.4.4, §4.2.11.2: the peers' transcripts (or the binder input) differ
  'bad_record_mac', // §5.2: the peers derived different keys (a changed key share or random)
  'record_overflow', // §5.1/§5.2: a length field changed
];

export type AttackKind =
  // record-level attacker actions
  | 'flipBitEncrypted' // a bit of a protected record's header or body
  | 'flipBitPlaintext' // a bit of a plaintext record (hello, CCS, plaintext alert)
  | 'drop'
  | 'duplicate'
  | 'reorder'
  | 'truncate'
  | 'injectOtherSession'
  | 'replayClientHello'
  // handshake-level attacks and misbehaving peers
  | 'flippedFinished'
  | 'flippedSignature'
  | 'signatureSchemeMismatch'
  | 'untrustedCertificate'
  | 'emptyCertificate'
  | 'badBinder'
  | 'staleBinder'
  | 'missingCookie'
  | 'pskNotLast'
  | 'pskWithoutModes'
  | 'pskKeOnly'
  | 'stripPskDheKeOnWire'
  | 'earlyData'
  | 'earlyDataOverLimit'
  | 'earlyDataAfterRetry'
  | 'endOfEarlyData'
  | 'appDataBeforeFinished'
  | 'certificateAfterPsk'
  | 'skippedMessage'
  | 'earlyChangeCipherSpec'
  | 'secondChangeCipherSpec'
  | 'serverHelloSessionIdMismatch'
  | 'serverHelloUnofferedSuite'
  | 'serverHelloExtraExtension'
  | 'serverHelloNoKeyShare'
  | 'serverHelloInvalidShare'
  | 'serverHelloUnofferedPsk'
  | 'serverHelloNoSupportedVersions'
  | 'helloRetryForSentShare'
  | 'helloRetryUnofferedGroup'
  | 'helloRetryChangesNothing'
  | 'secondHelloRetryRequest'
  | 'acceptedEarlyData'
  | 'malformed';

export interface Expectation {
  /** The alerts the detecting side may send. */
  alerts: readonly AlertName[];
  /**
   * Whether the attack must be refused: in a chart, the transition it aims at goes to failed;
   * between two engines, once it took effect its victim never reaches connected. False where
   * it may be absorbed (a dropped dummy CCS) or is tolerated by design (psk_ke-only, refused 0-RTT).
   */
  mustFail: boolean;
  /** Where in RFC 8446 the answer comes from. */
  rfc: string;
}

const e = (alerts: AlertName[], mustFail: boolean, rfc: string): Expectation => ({ alerts, mustFail, rfc });

export const ALERT_TABLE: Readonly<Record<AttackKind, Expectation>> = {
  // The AEAD covers the whole protected record, header included as AAD (§5.2). A flip in the
  // content type byte can also make it an unknown type or an unprotected handshake/alert record
  // after keys (§5: unexpected_message), or a malformed plaintext alert (decode_error); a flip in
  // the major version byte is not TLS (protocol_version, §5.1); in the length, record_overflow.
  flipBitEncrypted: e(['bad_record_mac', 'unexpected_message', 'decode_error', 'protocol_version', 'record_overflow'], false, '§5.1, §5.2'),
  flipBitPlaintext: e([...HELLO_FIELDS], false, '§4.1, §4.2, §4.4.4, §5.1'),
  // A lost or repeated protected record breaks the sequence number (§5.3): bad_record_mac; a lost
  // or repeated plaintext message leaves the peer with a message it cannot take now.
  drop: e(['bad_record_mac', 'unexpected_message'], false, '§5.3, §6.2'),
  // A repeated ClientHello after a HelloRetryRequest is judged as the second ClientHello (§4.1.2).
  duplicate: e(['bad_record_mac', 'unexpected_message', ...HELLO_FIELDS], false, '§4.1.2, §5.3, §6.2'),
  reorder: e(['bad_record_mac', 'unexpected_message', ...HELLO_FIELDS], false, '§5.3, §6.2'),
  truncate: e(
    ['bad_record_mac', 'unexpected_message', 'decode_error', 'record_overflow', 'protocol_version', ...HELLO_FIELDS],
    false,
    '§5.1, §5.2',
  ),
  injectOtherSession: e([...HELLO_FIELDS], false, '§4.4.4, §5.2, §6.2'),
  // A replayed ClientHello cannot finish: the server waits for a Finished nobody can compute.
  replayClientHello: e([...HELLO_FIELDS], true, '§8, §8.1'),
  flippedFinished: e(['decrypt_error'], true, '§4.4.4'),
  flippedSignature: e(['decrypt_error'], true, '§4.4.3'),
  signatureSchemeMismatch: e(['illegal_parameter'], true, '§4.4.3'),
  untrustedCertificate: e(['unknown_ca', 'bad_certificate'], true, '§4.4.2.4'),
  emptyCertificate: e(['decode_error'], true, '§4.4.2.4'),
  // The server that uses the PSK recomputes the binder: decrypt_error. A server that does not use it
  // (unknown ticket) goes on in full over the altered ClientHello: the handshake keys of the two
  // sides then differ (§7.1) and the first protected record fails (§5.2).
  badBinder: e(['decrypt_error', 'bad_record_mac'], true, '§4.2.11.2, §5.2'),
  // A second ClientHello that also changes more than a retry allows is refused as such (§4.1.2).
  staleBinder: e(['decrypt_error', 'bad_record_mac', 'illegal_parameter'], true, '§4.2.11.2, §4.1.2, §4.1.4, §5.2'),
  missingCookie: e(['illegal_parameter'], true, '§4.2.2, §4.1.2'),
  pskNotLast: e(['illegal_parameter'], true, '§4.2.11'),
  pskWithoutModes: e(['missing_extension'], true, '§4.2.9'),
  // tlschart ignores a psk_ke-only offer and completes a full handshake.
  pskKeOnly: e([], false, '§4.2.9'),
  // Rewriting the modes in flight changes the server's transcript from the ClientHello on, so
  // the two sides derive different handshake keys (§7.1): the first protected record fails.
  // After a HelloRetryRequest the second ClientHello's binder covers message_hash of the first,
  // which the server hashed as altered: decrypt_error (§4.2.11.2) — or, when only one of the two
  // hellos was altered, the second no longer matches the first: illegal_parameter (§4.1.2).
  stripPskDheKeOnWire: e(['bad_record_mac', 'decrypt_error', 'illegal_parameter'], true, '§7.1, §5.2, §4.2.11.2, §4.1.2'),
  // Refused 0-RTT is skipped up to a limit (§4.2.10) and never delivered.
  earlyData: e([], false, '§4.2.10'),
  earlyDataOverLimit: e(['bad_record_mac'], true, '§4.2.10'),
  // 0-RTT records that arrive after the second ClientHello cannot be decrypted under the handshake key.
  earlyDataAfterRetry: e(['bad_record_mac'], true, '§4.2.10, §5.2'),
  endOfEarlyData: e(['unexpected_message'], true, '§4.5'),
  appDataBeforeFinished: e(['unexpected_message', 'bad_record_mac'], true, '§5, §5.2'),
  certificateAfterPsk: e(['unexpected_message'], true, '§4.2.11, §6.2'),
  skippedMessage: e(['unexpected_message'], true, '§4.4, §6.2 (SKIP/SMACK)'),
  earlyChangeCipherSpec: e(['unexpected_message'], true, '§5'),
  secondChangeCipherSpec: e(['unexpected_message'], true, '§5'),
  serverHelloSessionIdMismatch: e(['illegal_parameter'], true, '§4.1.3'),
  serverHelloUnofferedSuite: e(['illegal_parameter'], true, '§4.1.3'),
  serverHelloExtraExtension: e(['illegal_parameter', 'unsupported_extension'], true, '§4.2'),
  serverHelloNoKeyShare: e(['missing_extension', 'illegal_parameter'], true, '§4.2.8, §4.2.9'),
  serverHelloInvalidShare: e(['illegal_parameter'], true, '§4.2.8.2'),
  serverHelloUnofferedPsk: e(['illegal_parameter', 'unsupported_extension'], true, '§4.2.11'),
  serverHelloNoSupportedVersions: e(['protocol_version'], true, '§4.2.1'),
  helloRetryForSentShare: e(['illegal_parameter'], true, '§4.1.4'),
  helloRetryUnofferedGroup: e(['illegal_parameter'], true, '§4.1.4'),
  helloRetryChangesNothing: e(['illegal_parameter'], true, '§4.1.4'),
  secondHelloRetryRequest: e(['unexpected_message'], true, '§4.1.4'),
  acceptedEarlyData: e(['unsupported_extension'], true, '§4.2.10'),
  malformed: e(['decode_error', 'illegal_parameter'], true, '§6.2'),
};

export function allowedAlerts(kinds: Iterable<AttackKind>): Set<AlertName> {
  const out = new Set<AlertName>();
  for (const k of kinds) for (const a of ALERT_TABLE[k].alerts) out.add(a);
  return out;
}
