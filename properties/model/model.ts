/**
 * The model of the model-based suite: small on purpose. It knows the clock,
 * the tickets the client holds (and whether each may still be unused on its
 * server), and for an honest connection what must come out of it: connected
 * or the one failure the configurations call for, resumed or not, which
 * suite, how many tickets. Attacked connections get no prediction, only the
 * properties (invariants.ts).
 */

import { suiteInfo } from '../../crypto/suites.js';
import { MAX_TICKET_LIFETIME_S } from '../../tickets/types.js';
import type { AlertName } from '../../wire/alerts.js';
import type { WorldSetup } from '../arbitraries/config.js';
import type { ClientVariant } from '../support/variants.js';
import type { ServerId } from './world.js';

export interface ModelTicket {
  serverId: ServerId;
  sni: string;
  suite: number;
  issuedAt: number;
  receivedAt: number;
  lifetimeS: number;
  /**
   * fresh: in its store; used: taken, evicted, or never stored; unknown: its server may still
   * store it (a ticket sent with the server's flight, before the client Finished: earlyTickets).
   */
  status: 'fresh' | 'used' | 'unknown';
}

export type Prediction =
  | { ok: true; resumed: boolean | undefined; suite: number; tickets: number; helloRetry: boolean; offered: boolean }
  | { ok: false; side: 'client' | 'server'; alert: AlertName; offered: boolean };

export interface ModelSession {
  serverId: ServerId;
  sni: string;
  /** Index of the offered ticket in `tickets`. */
  ticket: number | undefined;
  /** undefined once an attack touched the session (or for a misbehaving peer). */
  prediction: Prediction | undefined;
  /** The failure the configurations alone call for, if any: allowed whatever else happens. */
  configAlert: AlertName | undefined;
  connected: boolean;
  /** Sides that sent close_notify (RFC 8446 §6.1: each closes its own write side). */
  closedBy: Array<'client' | 'server'>;
}

export interface Model {
  setup: WorldSetup;
  now: number;
  tickets: ModelTicket[];
  forceHelloRetryNext: boolean;
  session: ModelSession | undefined;
}

export function initialModel(setup: WorldSetup, now: number): Model {
  return { setup, now, tickets: [], forceHelloRetryNext: false, session: undefined };
}

const hashOf = (suite: number) => suiteInfo(suite)?.hash;

/** Whether the client still offers a ticket: unexpired on its own clock, a hash it offers (RFC 8446 §4.6.1, §4.2.11). */
export function clientOffers(m: Model, t: ModelTicket): boolean {
  const age = m.now - t.receivedAt;
  return age >= 0 && age < t.lifetimeS * 1000 && m.setup.client.cipherSuites.some((c) => hashOf(c) === hashOf(t.suite));
}

/** Whether the server answers the first ClientHello with a HelloRetryRequest (RFC 8446 §4.1.4): forced, or no usable share. */
export function needsHelloRetry(m: Model, serverId: ServerId, forced: boolean): boolean {
  const c = m.setup.client;
  const s = m.setup.servers[serverId];
  const mutual = s.groups.filter((g) => c.groups.includes(g));
  return s.forceHelloRetry || forced || !mutual.some((g) => c.keyShareGroups.includes(g));
}

/**
 * What an honest connection to `serverId` under `sni`, offering `ticket`,
 * must end in — the server's decisions of RFC 8446 §4.1.1 (suite, group,
 * HelloRetryRequest), §4.2.11 (PSK), §4.3.2 (client certificate) and
 * RFC 7301 (ALPN), computed from the configurations alone.
 */
export function predict(
  m: Model,
  serverId: ServerId,
  sni: string,
  ticket: ModelTicket | undefined,
  opts: { forceHelloRetry: boolean; clientVariant: ClientVariant; offered?: boolean },
): Prediction {
  const c = m.setup.client;
  const s = m.setup.servers[serverId];
  // Whether the client offers the ticket is decided when it builds its ClientHello (its own clock then).
  const offered = ticket !== undefined && (opts.offered ?? clientOffers(m, ticket));
  const pskDhe = opts.clientVariant !== 'pskKeOnly';
  const found = offered && ticket.serverId === serverId && ticket.status !== 'used' && m.now < ticket.issuedAt + ticket.lifetimeS * 1000;
  const certain = !offered || ticket.serverId !== serverId || ticket.status !== 'unknown';
  const suite =
    found && pskDhe && c.cipherSuites.includes(ticket.suite) && s.cipherSuites.includes(ticket.suite)
      ? ticket.suite
      : s.cipherSuites.find((x) => c.cipherSuites.includes(x));
  if (suite === undefined) return { ok: false, side: 'server', alert: 'handshake_failure', offered };
  const mutual = s.groups.filter((g) => c.groups.includes(g));
  if (mutual.length === 0) return { ok: false, side: 'server', alert: 'handshake_failure', offered };
  if (c.alpn.length > 0 && s.alpn.length > 0 && !s.alpn.some((p) => c.alpn.includes(p))) {
    return { ok: false, side: 'server', alert: 'no_application_protocol', offered };
  }
  const helloRetry = needsHelloRetry(m, serverId, opts.forceHelloRetry);
  const resumed = found && pskDhe && hashOf(ticket.suite) === hashOf(suite) && ticket.sni === sni;
  if (s.clientAuth === 'require' && !resumed && !c.clientCertificate) {
    return { ok: false, side: 'server', alert: 'certificate_required', offered };
  }
  const lifetime = Math.min(Math.max(0, Math.floor(s.ticketLifetimeS)), MAX_TICKET_LIFETIME_S);
  const tickets = pskDhe && lifetime > 0 ? s.ticketsPerHandshake : 0;
  return { ok: true, resumed: certain ? resumed : undefined, suite, tickets, helloRetry, offered };
}
