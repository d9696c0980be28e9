/**
 * Decoded TLS 1.3 handshake messages and extensions (RFC 8446 §4).
 *
 * Every decoded message keeps the exact bytes it was decoded from (`raw`,
 * including the 4-byte handshake header) so the transcript hash is taken over
 * what was really received. Unknown enum values are kept as numbers.
 */
import type { AlertName } from './alerts.js';
import type { RefusalReason } from './refusals.js';

// ---------------------------------------------------------------- registries

export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;
export type HandshakeTypeName = keyof typeof HandshakeType;

export const ContentType = {
  invalid: 0,
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;

export const ExtensionType = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  application_layer_protocol_negotiation: 16,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  signature_algorithms_cert: 50,
  key_share: 51,
} as const;

export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;

export const NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  x25519: 0x001d,
  /** ML-KEM-768 + X25519 hybrid, draft-ietf-tls-ecdhe-mlkem §5 (IANA value 4588). */
  X25519MLKEM768: 0x11ec,
} as const;

export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
} as const;

export const PskKeyExchangeMode = { psk_ke: 0, psk_dhe_ke: 1 } as const;

export const TLS13 = 0x0304;
export const TLS12 = 0x0303;

/** SHA-256("HelloRetryRequest"), the ServerHello.random that marks an HRR (RFC 8446 §4.1.3). */
export const HRR_RANDOM_HEX = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

// ---------------------------------------------------------------- extensions

export interface KeyShareEntry {
  group: number;
  keyExchange: Uint8Array;
}

export interface PskIdentity {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

/**
 * One extension. `type` is the name for the extensions tlschart understands;
 * anything else is kept as `unknown` with its code and body.
 * Extensions whose body depends on the message they appear in have one variant
 * per form (`key_share` in ClientHello vs ServerHello vs HelloRetryRequest, ...).
 */
export type Extension =
  | { type: 'server_name'; hostName: string | undefined } // empty body (server side) => hostName undefined
  | { type: 'supported_groups'; groups: number[] }
  | { type: 'signature_algorithms'; schemes: number[] }
  | { type: 'signature_algorithms_cert'; schemes: number[] }
  | { type: 'supported_versions_client'; versions: number[] }
  | { type: 'supported_versions_server'; version: number }
  | { type: 'key_share_client'; shares: KeyShareEntry[] }
  | { type: 'key_share_server'; share: KeyShareEntry }
  | { type: 'key_share_hrr'; selectedGroup: number }
  | { type: 'psk_key_exchange_modes'; modes: number[] }
  | { type: 'pre_shared_key_client'; identities: PskIdentity[]; binders: Uint8Array[] }
  | { type: 'pre_shared_key_server'; selectedIdentity: number }
  | { type: 'early_data' } // ClientHello and EncryptedExtensions form (empty body)
  | { type: 'early_data_ticket'; maxEarlyDataSize: number } // NewSessionTicket form
  | { type: 'cookie'; cookie: Uint8Array }
  | { type: 'alpn'; protocols: string[] }
  | { type: 'unknown'; code: number; data: Uint8Array };

export type ExtensionName = Extension['type'];

/** Which message an extension block belongs to; decides which form is decoded. */
export type ExtensionContext =
  | 'client_hello'
  | 'server_hello'
  | 'hello_retry_request'
  | 'encrypted_extensions'
  | 'certificate_request'
  | 'certificate_entry'
  | 'new_session_ticket';

// ---------------------------------------------------------------- messages

interface Raw {
  /** Exact bytes of the whole handshake message, header included, as received or as encoded. */
  raw: Uint8Array;
}

export interface ClientHello extends Raw {
  type: 'client_hello';
  legacyVersion: number;
  random: Uint8Array; // 32 bytes
  legacySessionId: Uint8Array; // 0..32
  cipherSuites: number[];
  legacyCompressionMethods: Uint8Array;
  extensions: Extension[];
}

/** A ServerHello or, when `isHelloRetryRequest`, a HelloRetryRequest (same wire struct). */
export interface ServerHello extends Raw {
  type: 'server_hello';
  isHelloRetryRequest: boolean;
  legacyVersion: number;
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  legacyCompressionMethod: number;
  extensions: Extension[];
}

export interface EncryptedExtensions extends Raw {
  type: 'encrypted_extensions';
  extensions: Extension[];
}

export interface CertificateEntry {
  certData: Uint8Array; // DER X.509
  extensions: Extension[];
}

export interface Certificate extends Raw {
  type: 'certificate';
  certificateRequestContext: Uint8Array;
  entries: CertificateEntry[];
}

export interface CertificateRequest extends Raw {
  type: 'certificate_request';
  certificateRequestContext: Uint8Array;
  extensions: Extension[];
}

export interface CertificateVerify extends Raw {
  type: 'certificate_verify';
  algorithm: number;
  signature: Uint8Array;
}

export interface Finished extends Raw {
  type: 'finished';
  verifyData: Uint8Array;
}

export interface NewSessionTicket extends Raw {
  type: 'new_session_ticket';
  ticketLifetime: number;
  ticketAgeAdd: number;
  ticketNonce: Uint8Array;
  ticket: Uint8Array;
  extensions: Extension[];
}

export interface KeyUpdate extends Raw {
  type: 'key_update';
  /** 0 update_not_requested, 1 update_requested (RFC 8446 §4.6.3). */
  requestUpdate: number;
}

export interface EndOfEarlyData extends Raw {
  type: 'end_of_early_data';
}

export type HandshakeMessage =
  | ClientHello
  | ServerHello
  | EncryptedExtensions
  | Certificate
  | CertificateRequest
  | CertificateVerify
  | Finished
  | NewSessionTicket
  | KeyUpdate
  | EndOfEarlyData;

/** A message body before encoding: the same shape without `raw`. */
export type Unencoded<M extends HandshakeMessage> = Omit<M, 'raw'>;

export interface AlertMessage {
  level: number; // 1 warning, 2 fatal
  description: number;
}

// ---------------------------------------------------------------- decode results

/** Why decoding failed: the refusal (wire/refusals.ts), which field, and the alert RFC 8446 calls for. */
export interface DecodeFailure {
  reason: CodecReason;
  alert: AlertName;
  field: string;
  message: string;
}

/** The refusals the codec raises (wire/refusals.ts). */
export type CodecReason = Extract<
  RefusalReason,
  | 'DecodeError'
  | 'IllegalFieldValue'
  | 'DuplicateExtension'
  | 'PskNotLast'
  | 'DuplicateKeyShare'
  | 'BinderCountMismatch'
  | 'UnknownHandshakeType'
  | 'InternalError'
>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: DecodeFailure };
