/**
 * Every ticket the probing server issued during the audit, and what the
 * audited client made of them: each ClientHello that offers a PSK is
 * analysed against the tickets — which ticket each identity names, whether
 * its binder verifies (recomputed with the ticket's PSK over the truncated
 * hello, after a HelloRetryRequest over message_hash(ClientHello1) and the
 * HelloRetryRequest first, RFC 8446 §4.2.11.2), and the ticket age it claims
 * against the time the ticket was sent (§4.2.11.1).
 */
import { constantTimeEqual, toHex } from '../../crypto/bytes.js';
import { computeBinder, ticketAgeFromObfuscated } from '../../crypto/keyschedule.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { findExtension } from '../../wire/extensions.js';
import type { ClientHello, KeyShareEntry } from '../../wire/types.js';
import type { SentTicket } from './connection.js';
import { modesOf, type ParsedHello, sniOf, truncatedHello } from './hello.js';
import { earlySecret, P, resumptionBinderKey } from './schedule.js';

/** A ticket the probing server sent, and where. */
export interface IssuedTicket extends SentTicket {
  /** The ticket bytes as hex. */
  id: string;
  /** The check and the connection that sent it. */
  scenario: string;
  connection: string;
  /** SNI of the connection that got it (undefined: none). */
  serverName: string | undefined;
  /** Set once a connection resumed with it. */
  resumedBy: string | undefined;
}

/** One identity of a pre_shared_key extension, as judged against the issued tickets. */
export interface OfferedIdentity {
  index: number;
  identity: Uint8Array;
  obfuscatedAge: number;
  ticket: IssuedTicket | undefined;
  /** Whether its binder verifies with the ticket's PSK (undefined: not a ticket of ours, or no binder for it). */
  binderValid: boolean | undefined;
  /** The ticket age the client claims, and the milliseconds since the ticket was sent. */
  claimedAgeMs: number | undefined;
  elapsedMs: number | undefined;
}

/** One ClientHello, as the checks look at it. */
export interface HelloView {
  parsed: ParsedHello;
  hello: ClientHello;
  at: number;
  /** The second ClientHello of a connection, after our HelloRetryRequest. */
  afterRetry: boolean;
  sni: string | undefined;
  modes: number[] | undefined;
  offersPsk: boolean;
  identities: OfferedIdentity[];
  /** binders sent, and identities: equal counts are required (§4.2.11). */
  binderCount: number;
  keyShares: KeyShareEntry[] | undefined;
  earlyData: boolean;
}

export class TicketRegistry {
  private readonly byId = new Map<string, IssuedTicket>();

  issue(t: SentTicket, where: { scenario: string; connection: string; serverName: string | undefined }): IssuedTicket {
    const issued: IssuedTicket = { ...t, id: toHex(t.ticket), ...where, resumedBy: undefined };
    if (!t.empty) this.byId.set(issued.id, issued);
    return issued;
  }

  get(identity: Uint8Array): IssuedTicket | undefined {
    return this.byId.get(toHex(identity));
  }

  get all(): IssuedTicket[] {
    return [...this.byId.values()];
  }

  /** Analyse a ClientHello received at `at`; `prefix` is the transcript before it (after a HelloRetryRequest). */
  view(parsed: ParsedHello, prefix: readonly Uint8Array[], at: number): HelloView {
    const ch = parsed.hello;
    const psk = findExtension(ch.extensions, 'pre_shared_key_client');
    const truncated = truncatedHello(parsed);
    const identities: OfferedIdentity[] = (psk?.identities ?? []).map((id, index) => {
      const ticket = this.get(id.identity);
      const binder = psk?.binders[index];
      let binderValid: boolean | undefined;
      if (ticket && binder && truncated) {
        const suite = ticket.suite;
        const key = resumptionBinderKey(suite, earlySecret(suite, ticket.psk));
        const expected = computeBinder(suite, key, transcriptHash(suite.hash, [...prefix, truncated], P), P);
        binderValid = constantTimeEqual(expected, binder);
      }
      return {
        index,
        identity: id.identity,
        obfuscatedAge: id.obfuscatedTicketAge,
        ticket,
        binderValid,
        claimedAgeMs: ticket ? ticketAgeFromObfuscated(id.obfuscatedTicketAge, ticket.ageAdd) : undefined,
        elapsedMs: ticket ? at - ticket.sentAtMs : undefined,
      };
    });
    return {
      parsed,
      hello: ch,
      at,
      afterRetry: prefix.length > 0,
      sni: sniOf(ch),
      modes: modesOf(ch),
      offersPsk: psk !== undefined,
      identities,
      binderCount: psk?.binders.length ?? 0,
      keyShares: findExtension(ch.extensions, 'key_share_client')?.shares,
      earlyData: findExtension(ch.extensions, 'early_data') !== undefined,
    };
  }
}

/** A signed difference, claimed minus elapsed, in ms. */
export const ageError = (id: OfferedIdentity): number | undefined =>
  id.claimedAgeMs === undefined || id.elapsedMs === undefined ? undefined : signedAge(id.claimedAgeMs) - id.elapsedMs;

/** A claimed age just below 2^32 is a small negative number (a ticket from the future). */
const signedAge = (a: number): number => (a > 0x80000000 ? a - 0x100000000 : a);
