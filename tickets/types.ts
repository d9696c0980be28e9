/**
 * Session tickets, stateful only (RFC 8446 §4.6.1): a ticket is an opaque
 * random identifier; the resumption state stays on the server, in a
 * {@link TicketStore}. Nothing here encrypts state into the ticket.
 */

/** What the server remembers about a ticket it issued (RFC 8446 §4.6.1). */
export interface ServerSessionState {
  /** PSK derived from resumption_master_secret and the ticket nonce (§4.6.1). */
  psk: Uint8Array;
  /** Cipher suite of the connection that issued the ticket; its hash must match on resumption (§4.2.11). */
  suite: number;
  serverName: string | undefined;
  alpn: string | undefined;
  issuedAtMs: number;
  /** ticket_lifetime in seconds, at most 604800 (7 days). */
  lifetimeS: number;
  /** ticket_age_add, to de-obfuscate the client's obfuscated_ticket_age. */
  ticketAgeAdd: number;
  /** DER chain of the client certificate, empty if the client did not authenticate. */
  clientCertificates: Uint8Array[];
}

/**
 * Server-side ticket storage. Asynchronous so a shared store (several
 * servers resuming each other's sessions) fits; the engine looks tickets up
 * before it sends the ClientHello event to the machine.
 */
export interface TicketStore {
  put(ticket: Uint8Array, state: ServerSessionState): Promise<void>;
  /** The state of `ticket`, removed so that it can be used once only (RFC 8446 §8.1 anti-replay); undefined if unknown or expired. */
  take(ticket: Uint8Array): Promise<ServerSessionState | undefined>;
}

/** What a client keeps from a NewSessionTicket to resume later (RFC 8446 §4.6.1, §4.2.11). */
export interface ClientSession {
  serverName: string;
  ticket: Uint8Array;
  psk: Uint8Array;
  suite: number;
  ticketAgeAdd: number;
  lifetimeS: number;
  receivedAtMs: number;
  alpn: string | undefined;
  /** DER chain the server authenticated with in the original handshake. */
  peerCertificates: Uint8Array[];
}

/** Client-side tickets, per server name. */
export interface ClientTicketCache {
  add(session: ClientSession): void;
  /** The newest unexpired session for `serverName`, removed so it is offered once (RFC 8446 §C.4). */
  take(serverName: string, nowMs: number): ClientSession | undefined;
  size(): number;
}

/** Longest ticket lifetime a peer may announce: seven days (RFC 8446 §4.6.1). */
export const MAX_TICKET_LIFETIME_S = 604800;
