/**
 * Alerts (RFC 8446 §6) and the one error type every layer raises.
 */
import { type AlertingReason, type AlertOf, REFUSALS, type Refusal, type RefusalReason } from './refusals.js';

/** AlertDescription values from RFC 8446 §6, by name. */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof AlertDescription;

const byCode = new Map<number, AlertName>(Object.entries(AlertDescription).map(([k, v]) => [v, k as AlertName]));

/** Name of an alert code, or `alert N (unknown)` for a value RFC 8446 does not define. */
export function alertName(code: number): AlertName | UnknownAlert {
  return byCode.get(code) ?? unknownAlert(code);
}

export function isAlertName(s: string): s is AlertName {
  return Object.hasOwn(AlertDescription, s);
}

/** How an alert code RFC 8446 does not define is named when a peer sends one. */
export type UnknownAlert = `alert ${number} (unknown)`;

export const unknownAlert = (code: number): UnknownAlert => `alert ${code} (unknown)`;

/**
 * The single error type of tlschart: the alert to send (or that was received),
 * a stable reason name for programs — a key of the refusal table
 * (wire/refusals.ts), whose alert the compiler holds each call site to — and a
 * sentence for people.
 */
export class TlsError<R extends RefusalReason = RefusalReason> extends Error {
  override readonly name = 'TlsError';
  constructor(
    /** The alert of the table entry for `reason`; for PeerAlert, the alert received (named even if unknown). */
    readonly alert: R extends 'PeerAlert' ? AlertName | UnknownAlert : AlertOf<R>,
    readonly reason: R,
    message: string,
    /** true when the alert came from the peer rather than being raised locally. */
    readonly remote = false,
  ) {
    super(message);
  }

  /** The table entry: section, keyword, sentence. */
  get refusal(): Refusal {
    return REFUSALS[this.reason];
  }
}

/** A refusal of ours, with the alert its table entry names. */
export function refuse<R extends AlertingReason>(reason: R, message: string = REFUSALS[reason].sentence): TlsError<R> {
  return new TlsError<R>(REFUSALS[reason].alert as never, reason, message);
}

/** The alert to send for an error raised on this side (never a peer's alert). */
export function alertToSend(error: TlsError): AlertName {
  if (error.remote || !isAlertName(error.alert)) throw new Error(`${error.reason}: not an alert of ours to send`);
  return error.alert;
}
