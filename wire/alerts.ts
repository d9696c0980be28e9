/**
 * Alerts (RFC 8446 §6) and the one error type every layer raises.
 */

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

const byCode = new Map<number, AlertName>(
  Object.entries(AlertDescription).map(([k, v]) => [v, k as AlertName]),
);

/** Name of an alert code, or `unknown(N)` for a value RFC 8446 does not define. */
export function alertName(code: number): string {
  return byCode.get(code) ?? `unknown(${code})`;
}

export function isAlertName(s: string): s is AlertName {
  return Object.prototype.hasOwnProperty.call(AlertDescription, s);
}

/**
 * The single error type of tlschart: the alert to send (or that was received),
 * a stable reason name for programs, and a sentence for people.
 */
export class TlsError extends Error {
  override readonly name = 'TlsError';
  constructor(
    readonly alert: AlertName,
    readonly reason: string,
    message: string,
    /** true when the alert came from the peer rather than being raised locally. */
    readonly remote = false,
  ) {
    super(message);
  }
}
