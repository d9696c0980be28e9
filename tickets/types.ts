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
 * What the engine says about the connection that issued a ticket, as a hint a
 * store may use to choose what to forget first (the in-memory store keeps
 * tickets of clients that resume over those of clients that never do).
 */
export interface TicketIssue {
  /** The issuing connection was itself a resumption: its client has redeemed a ticket before. */
  resumed: boolean;
}

/** A value, or a promise of it: a store that can answer at once need not cost an event-loop turn. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Server-side ticket storage: the contract every implementation keeps, so that
 * a store shared by several servers (a database, Redis) can implement it
 * atomically. `tickets/testing/contract.ts` is the executable form of this
 * contract; every implementation runs it.
 *
 * The engine uses it in this order for one ClientHello (RFC 8446 §4.2.11, §8.1):
 *
 *  1. `get` each offered identity — a lookup that removes nothing, so an offer
 *     that is ignored (psk_ke only), not selected, or badly bound leaves every
 *     ticket in place: seeing an identity on the wire is not enough to burn it;
 *  2. the chart verifies the binder of the identity it would select;
 *  3. only then `take` that one ticket. If the take finds nothing (another
 *     connection, on this server or another one, took it first), the handshake
 *     falls back to a full one — never to resumption.
 *
 * Rules:
 * - `put(t, s)` completes (returns, or its promise resolves) only once a later
 *   `get`/`take` of `t` from any server sharing the store can see `s`. It may
 *   complete synchronously (the in-memory store does): the engine then sends the
 *   NewSessionTicket in the same turn. A rejection means the ticket was not
 *   stored; the engine then does not send it.
 * - `get(t)` returns the state stored under `t`, or undefined when unknown,
 *   expired (issuedAtMs + lifetimeS·1000 ≤ now) or unreadable. It never removes.
 * - `take(t)` removes `t` and returns its state, atomically: of any number of
 *   concurrent `take(t)` calls, across every server sharing the store, at most
 *   one gets the state; all others get undefined. An expired ticket is removed
 *   and yields undefined.
 * - Tickets are compared by their bytes. States come back equal in every field
 *   (PSK, suite, names, times, ticket_age_add, client certificate chain).
 * - Failures of a shared store (unreachable, timeout, garbage under its key
 *   prefix) surface as undefined from `get`/`take` — an unknown ticket — never as
 *   a resumption; `put` rejects.
 */
export interface TicketStore {
  /** `issue` is a hint (see TicketIssue); a store may ignore it. */
  put(ticket: Uint8Array, state: ServerSessionState, issue?: TicketIssue): MaybePromise<void>;
  /** The state of `ticket` without removing it; undefined if unknown, expired or unreadable. */
  get(ticket: Uint8Array): MaybePromise<ServerSessionState | undefined>;
  /** Remove `ticket` and return its state; at most one concurrent caller gets it (RFC 8446 §8.1 single use). */
  take(ticket: Uint8Array): MaybePromise<ServerSessionState | undefined>;
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
