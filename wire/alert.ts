/**
 * The Alert message (RFC 8446 §6): `struct { AlertLevel level; AlertDescription description; }`,
 * two bytes. Unknown descriptions are kept as numbers (§6: "unknown alert
 * types MUST be treated as error alerts" is for the engine to apply).
 */
import { AlertDescription, type AlertName } from './alerts.js';
import { decodeWith, fail } from './reader.js';
import type { AlertMessage, Decoded } from './types.js';
import { encodeFail, Writer } from './writer.js';

export const AlertLevel = { warning: 1, fatal: 2 } as const;

/** Decode a 2-byte alert. Other lengths are decode_error, a level other than 1/2 illegal_parameter. */
export function decodeAlert(bytes: Uint8Array): Decoded<AlertMessage> {
  return decodeWith(bytes, 'alert', (r) => {
    if (r.remaining !== 2) fail('DecodeError', 'alert', `is ${r.remaining} byte(s), an alert is 2`);
    const level = r.u8('alert.level');
    if (level !== AlertLevel.warning && level !== AlertLevel.fatal) {
      fail('IllegalFieldValue', 'alert.level', `${level} is neither warning(1) nor fatal(2)`);
    }
    const description = r.u8('alert.description');
    return { level, description };
  });
}

/** Encode an alert; the level must be 1 or 2 and the description a byte. */
export function encodeAlert(alert: AlertMessage): Uint8Array {
  if (alert.level !== AlertLevel.warning && alert.level !== AlertLevel.fatal) {
    encodeFail('alert.level', `${alert.level} is neither warning(1) nor fatal(2)`);
  }
  return new Writer().u8(alert.level, 'alert.level').u8(alert.description, 'alert.description').finish();
}

/** An alert by name, fatal unless said otherwise (TLS 1.3 alerts other than close_notify/user_canceled are fatal, §6). */
export function alertMessage(name: AlertName, level: 1 | 2 = AlertLevel.fatal): AlertMessage {
  return { level, description: AlertDescription[name] };
}
