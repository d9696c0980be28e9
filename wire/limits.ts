/**
 * How long a handshake message of each type can legally be (RFC 8446 §4):
 * the sum of its fields at their largest, as the presentation language of
 * §3 bounds them. A header that announces more than that cannot carry a
 * message that decodes, so the record layer refuses it with decode_error
 * (§6.2: "the length of the message was incorrect") as soon as the 4-byte
 * header has arrived, before any of the body is buffered.
 *
 * Only the Certificate message (a certificate_list<0..2^24-1>) has no useful
 * legal bound; the configured limit (`maxHandshakeMessage`) caps it and every
 * other type.
 */
import { HandshakeType } from './types.js';

/** Largest legal body (without the 4-byte header) of each handshake message type. */
export const LEGAL_MAX_HANDSHAKE_BODY: Readonly<Record<number, number>> = {
  /**
   * §4.1.2: legacy_version 2 + random 32 + legacy_session_id<0..32> (1 + 32)
   * + cipher_suites<2..2^16-2> (2 + 65534) + legacy_compression_methods<1..2^8-1>
   * (1 + 255) + extensions<8..2^16-1> (2 + 65535) = 131396.
   */
  [HandshakeType.client_hello]: 2 + 32 + (1 + 32) + (2 + 65534) + (1 + 255) + (2 + 65535),
  /** §4.1.3: 2 + 32 + legacy_session_id_echo (1 + 32) + cipher_suite 2 + compression 1 + extensions<6..2^16-1> (2 + 65535). */
  [HandshakeType.server_hello]: 2 + 32 + (1 + 32) + 2 + 1 + (2 + 65535),
  /** §4.6.1: lifetime 4 + age_add 4 + nonce<0..255> (1 + 255) + ticket<1..2^16-1> (2 + 65535) + extensions<0..2^16-2> (2 + 65534). */
  [HandshakeType.new_session_ticket]: 4 + 4 + (1 + 255) + (2 + 65535) + (2 + 65534),
  /** §4.5: an empty struct. */
  [HandshakeType.end_of_early_data]: 0,
  /** §4.3.1: extensions<0..2^16-1>. */
  [HandshakeType.encrypted_extensions]: 2 + 65535,
  /** §4.3.2: certificate_request_context<0..2^8-1> (1 + 255) + extensions<2..2^16-1> (2 + 65535). */
  [HandshakeType.certificate_request]: 1 + 255 + (2 + 65535),
  /** §4.4.3: algorithm 2 + signature<0..2^16-1> (2 + 65535). */
  [HandshakeType.certificate_verify]: 2 + 2 + 65535,
  /** §4.4.4: verify_data is Hash.length bytes; no hash TLS 1.3 defines is longer than 64. */
  [HandshakeType.finished]: 64,
  /** §4.6.3: one KeyUpdateRequest byte. */
  [HandshakeType.key_update]: 1,
};

/** The largest legal ClientHello with its header: every ClientHello the field limits of §4.1.2 allow fits. */
export const MAX_CLIENT_HELLO_MESSAGE = 4 + (LEGAL_MAX_HANDSHAKE_BODY[HandshakeType.client_hello] as number);

/**
 * The most bytes (header included) a handshake message of `type` may announce
 * under a configured limit `configured` (header included): the smaller of the
 * two. Types without a legal bound here (Certificate, unknown types) get the
 * configured limit; an unknown type is refused by the decoder once read.
 */
export function handshakeMessageLimit(type: number, configured: number): number {
  const legal = LEGAL_MAX_HANDSHAKE_BODY[type];
  return legal === undefined ? configured : Math.min(configured, 4 + legal);
}
