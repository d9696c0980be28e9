/**
 * Types shared by the client and server statecharts: configuration, the events
 * the engine sends (message material, never verdicts) and the commands the
 * machines leave in their outbox for the engine to carry out.
 */
import type { CryptoProvider, SigningKey } from '../crypto/provider.js';
import type { SuiteInfo } from '../crypto/suites.js';
import type { ClientSession, ServerSessionState } from '../tickets/types.js';
import type { AlertName, TlsError } from '../wire/alerts.js';
import type { ByteParts } from '../wire/bytes.js';
import type {
  Certificate,
  CertificateRequest,
  CertificateVerify,
  ClientHello,
  EncryptedExtensions,
  EndOfEarlyData,
  Finished,
  HandshakeMessage,
  KeyUpdate,
  NewSessionTicket,
  ServerHello,
} from '../wire/types.js';

/**
 * What a connection gets from outside: randomness and the clock (so a handshake
 * replays byte for byte) and the one crypto provider every primitive goes through.
 */
export interface Environment {
  /** n random bytes. */
  random(n: number): Uint8Array;
  /** milliseconds since the epoch. */
  now(): number;
  /** Hashing, HKDF, AEAD, key exchange and signatures for this connection (crypto/provider.ts). */
  crypto: CryptoProvider;
}

/** Result of checking a peer's certificate chain; the engine/net layer supplies the checker. */
export type ChainVerdict = { ok: true; leafSpki: Uint8Array } | { ok: false; error: TlsError };

/** Checks a DER chain (leaf first) at a given time; synchronous, pure. */
export type ChainVerifier = (chain: readonly Uint8Array[], now: Date) => ChainVerdict;

export interface CertifiedKey {
  /** DER certificates, leaf first. */
  chain: Uint8Array[];
  key: SigningKey;
}

/**
 * What a peer may make this side do before it is cut off (README, "Limits").
 * The statecharts enforce `maxKeyUpdates`; the record layer the others.
 */
export interface ProtocolLimits {
  /** KeyUpdates received in a row without application data between them (RFC 8446 §4.6.3); one more is unexpected_message. Default 32. */
  maxKeyUpdates: number;
  /** Empty application_data records received in a row; one more is unexpected_message. Default 32. */
  maxEmptyRecords: number;
  /** Largest handshake message, its 4-byte header included; larger is decode_error. Default 262144 (each type also held to its legal maximum). */
  maxHandshakeMessage: number;
  /** Most records one handshake message may be split across; more is unexpected_message. Default 256. */
  maxHandshakeRecords: number;
}

export interface ClientConfig {
  /** SNI and the name the certificate must match. */
  serverName: string | undefined;
  alpnProtocols: string[];
  /** Supported groups in preference order. */
  groups: number[];
  /** Groups that get a key share in the first ClientHello (default: the first group). */
  keyShareGroups: number[];
  cipherSuites: number[];
  signatureSchemes: number[];
  /** Middlebox compatibility mode (RFC 8446 D.4): 32-byte legacy_session_id and one dummy CCS. */
  compatibilityMode: boolean;
  /**
   * Checks the server's chain and names its key. With rejectUnauthorized: false the
   * engine passes a checker that only parses the leaf; the CertificateVerify
   * signature is verified either way.
   */
  verifyServerChain: ChainVerifier;
  /** Used when the server sends a CertificateRequest. */
  clientCertificate: CertifiedKey | undefined;
  /** A ticket to offer (looked up by the engine before the machine starts). */
  session: ClientSession | undefined;
  /** Limits on the peer (defaults in ProtocolLimits' comments). */
  limits?: Partial<ProtocolLimits> | undefined;
}

export interface ServerConfig {
  certificates: CertifiedKey[];
  groups: number[];
  cipherSuites: number[];
  alpnProtocols: string[];
  ticketsPerHandshake: number;
  ticketLifetimeS: number;
  requestClientCertificate: boolean;
  requireClientCertificate: boolean;
  verifyClientChain: ChainVerifier | undefined;
  /** Always answer the first ClientHello with a HelloRetryRequest carrying a cookie. */
  forceHelloRetry: boolean;
  /** How many bytes of refused 0-RTT data are skipped before bad_record_mac (RFC 8446 §4.2.10). */
  maxEarlyDataSkip: number;
  /**
   * Send the tickets right after the server Finished, not after the client Finished (RFC 8446
   * §4.6.1: a server that requests no client certificate may compute the client Finished it
   * expects). They are kept in the ticket store only once that client Finished arrived and
   * verified. Off by default: the seed document's order, tickets after the client Finished.
   */
  earlyTickets: boolean;
  /** Limits on the peer (defaults in ProtocolLimits' comments). */
  limits?: Partial<ProtocolLimits> | undefined;
}

// ------------------------------------------------------------------ events

/** What the engine found in the ticket store for each offered identity, index by index. */
export type ResolvedTickets = readonly (ServerSessionState | undefined)[];

export type HandshakeEvent =
  | { type: 'recv.ClientHello'; msg: ClientHello; tickets: ResolvedTickets }
  | { type: 'recv.ServerHello'; msg: ServerHello }
  | { type: 'recv.EncryptedExtensions'; msg: EncryptedExtensions }
  | { type: 'recv.Certificate'; msg: Certificate }
  | { type: 'recv.CertificateRequest'; msg: CertificateRequest }
  | { type: 'recv.CertificateVerify'; msg: CertificateVerify }
  | { type: 'recv.Finished'; msg: Finished }
  | { type: 'recv.NewSessionTicket'; msg: NewSessionTicket }
  | { type: 'recv.KeyUpdate'; msg: KeyUpdate }
  | { type: 'recv.EndOfEarlyData'; msg: EndOfEarlyData };

export type TlsEvent =
  | HandshakeEvent
  | { type: 'recv.ChangeCipherSpec' }
  /** One record's content, or the contents of the records that arrived together, in order (not joined). */
  | { type: 'recv.ApplicationData'; data: ByteParts }
  | { type: 'recv.Alert'; level: number; description: number }
  /** The record layer or the decoder failed: the error names the alert. */
  | { type: 'recv.Malformed'; error: TlsError }
  /** One write, or several queued writes in order (not joined). */
  | { type: 'app.write'; data: ByteParts }
  | { type: 'app.keyUpdate'; requestPeerUpdate: boolean }
  | { type: 'app.close' }
  /** The engine carried out every command so far; the outbox can be emptied. */
  | { type: 'engine.drained' };

export type TlsEventType = TlsEvent['type'];

/** The event that carries each kind of received handshake message. */
export const MESSAGE_EVENTS: Readonly<Record<HandshakeMessage['type'], HandshakeEvent['type']>> = {
  client_hello: 'recv.ClientHello',
  server_hello: 'recv.ServerHello',
  encrypted_extensions: 'recv.EncryptedExtensions',
  certificate: 'recv.Certificate',
  certificate_request: 'recv.CertificateRequest',
  certificate_verify: 'recv.CertificateVerify',
  finished: 'recv.Finished',
  new_session_ticket: 'recv.NewSessionTicket',
  key_update: 'recv.KeyUpdate',
  end_of_early_data: 'recv.EndOfEarlyData',
};

// ------------------------------------------------------------------ commands

/** Instructions the machine leaves for the engine, in order. */
export type Command =
  | { kind: 'sendHandshake'; raw: Uint8Array; name: string }
  | { kind: 'sendChangeCipherSpec' }
  | { kind: 'sendAlert'; alert: AlertName; level: 1 | 2 }
  | { kind: 'sendApplicationData'; data: ByteParts }
  | { kind: 'setReadKeys'; suite: SuiteInfo; secret: Uint8Array; epoch: Epoch }
  | { kind: 'setWriteKeys'; suite: SuiteInfo; secret: Uint8Array; epoch: Epoch }
  | { kind: 'skipEarlyData'; limit: number }
  | { kind: 'stopSkippingEarlyData' }
  | { kind: 'deliver'; data: ByteParts }
  | { kind: 'storeTicket'; ticket: Uint8Array; state: ServerSessionState; raw: Uint8Array }
  /** Keep the state of a ticket whose NewSessionTicket already left (early tickets): store only. */
  | { kind: 'keepTicket'; ticket: Uint8Array; state: ServerSessionState }
  | { kind: 'sessionTicket'; session: ClientSession }
  | { kind: 'handshakeComplete' }
  | { kind: 'peerClosed' }
  | { kind: 'keylog'; label: string; secret: Uint8Array };

export type Epoch = 'handshake' | 'application' | `application+${number}`;

/** Names of the NSS key log labels (SSLKEYLOGFILE format) tlschart emits. */
export type KeyLogLabel =
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EXPORTER_SECRET';
