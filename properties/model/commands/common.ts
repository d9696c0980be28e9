/**
 * What every command shares: opening a session with the model's prediction,
 * keeping the model's tickets in step with what the world observed, the
 * properties checked after every step, and tampering with a queued message.
 */
import { concat, toHex } from '../../../crypto/bytes.js';
import { decodeHandshake } from '../../../wire/handshake.js';
import type { HandshakeMessage } from '../../../wire/types.js';
import type { AttackKind } from '../../support/alerts.js';
import { joinRecords, splitRecords } from '../../support/records.js';
import { CLIENT_VARIANT_ATTACK, type ClientVariant, SERVER_VARIANT_ATTACK, type ServerVariant } from '../../support/variants.js';
import { checkSession } from '../invariants.js';
import { type Model, type ModelTicket, predict } from '../model.js';
import { type ServerId, type Session, serverGotClientHello, type WalletEntry, type World } from '../world.js';

export class PropertyViolation extends Error {
  override readonly name = 'PropertyViolation';
}

export interface OpenOptions {
  serverId: ServerId;
  sni: string;
  /** Index into the model's (and the world's) tickets. */
  ticket?: number | undefined;
  clientVariant?: ClientVariant;
  serverVariant?: ServerVariant;
  replacedClientHello?: Uint8Array;
}

/** Open a session; honest ones get a prediction, variants are recorded as attacks. */
export async function openSession(m: Model, w: World, o: OpenOptions): Promise<Session> {
  const clientVariant = o.clientVariant ?? 'honest';
  const serverVariant = o.serverVariant ?? 'honest';
  const ticket = o.ticket === undefined ? undefined : m.tickets[o.ticket];
  const wallet = o.ticket === undefined ? undefined : w.wallet[o.ticket];
  const forceHelloRetry = m.forceHelloRetryNext;
  const tolerated = clientVariant === 'honest' || clientVariant === 'pskKeOnly';
  const base = predict(m, o.serverId, o.sni, ticket, { forceHelloRetry, clientVariant });
  const prediction = tolerated && serverVariant === 'honest' && !o.replacedClientHello ? base : undefined;
  const configAlert = base.ok ? undefined : base.alert;
  m.session = { serverId: o.serverId, sni: o.sni, ticket: o.ticket, prediction, configAlert, connected: false, closedBy: [] };
  m.forceHelloRetryNext = false;
  const s = await w.open({
    serverId: o.serverId,
    sni: o.sni,
    ticket: wallet,
    clientVariant,
    serverVariant,
    ...(o.replacedClientHello ? { replacedClientHello: o.replacedClientHello } : {}),
  });
  s.configAlert = configAlert;
  const ca = CLIENT_VARIANT_ATTACK[clientVariant];
  const sa = SERVER_VARIANT_ATTACK[serverVariant];
  if (ca) s.attacks.add(ca);
  if (sa) s.attacks.add(sa);
  if (o.replacedClientHello) s.attacks.add('replayClientHello');
  return s;
}

/**
 * The world changed under a session whose ClientHello has not reached its
 * server yet (the clock moved, tickets were evicted): predict again, with
 * the client's offer as it was made.
 */
export function repredict(m: Model, w: World): void {
  const ms = m.session;
  const s = w.current;
  if (!ms || !s || !ms.prediction || serverGotClientHello(s)) return;
  const ticket = ms.ticket === undefined ? undefined : m.tickets[ms.ticket];
  ms.prediction = predict(m, ms.serverId, ms.sni, ticket, {
    forceHelloRetry: s.options.forceHelloRetry,
    clientVariant: s.options.clientVariant,
    offered: ms.prediction.offered,
  });
}

/** The model learns what the attacker let through: an attacked session has no prediction any more. */
export function taint(m: Model, s: Session, attack: AttackKind, victim?: 'client' | 'server', detect = true): void {
  s.attacks.add(attack);
  if (victim) s.applied.push({ attack, victim, detect });
  if (m.session) {
    m.session.prediction = undefined;
    m.session.connected = false;
  }
}

/**
 * Whether a ticket is in its server's store: only once that server verified the client
 * Finished of the connection that issued it. Tickets sent after it (the default) always are;
 * tickets sent with the server's flight (earlyTickets, RFC 8446 §4.6.1) reach the client first,
 * and are stored only if that Finished arrives and verifies: until the issuing connection is
 * over that is unknown, after it they are never stored.
 */
function storedStatus(w: World, e: WalletEntry): ModelTicket['status'] {
  const issuer = e.issuedBy === undefined ? undefined : w.sessions[e.issuedBy];
  if (!issuer) return 'fresh';
  if (issuer.server.context.clientFinished !== undefined) return 'fresh';
  const over = issuer !== w.current || issuer.server.state === 'failed' || issuer.server.state === 'closed';
  return over ? 'used' : 'unknown';
}

/** Keep the model's tickets in step with the world: new sessions in the wallet, tickets the servers took. */
export function syncTickets(m: Model, w: World): void {
  for (let i = m.tickets.length; i < w.wallet.length; i++) {
    const e = w.wallet[i];
    if (!e) continue;
    const t: ModelTicket = {
      serverId: e.serverId,
      sni: e.sni,
      suite: e.suite,
      issuedAt: e.issuedAt,
      receivedAt: e.session.receivedAtMs,
      lifetimeS: e.lifetimeS,
      status: storedStatus(w, e),
    };
    m.tickets.push(t);
  }
  // A ticket that left before the client Finished is settled once its connection is.
  w.wallet.forEach((e, i) => {
    const t = m.tickets[i];
    if (t?.status === 'unknown') t.status = storedStatus(w, e);
  });
  // A server takes (and so uses up) only the ticket it resumes with, once its binder verified
  // (tickets/types.ts): an ignored, unselected or badly bound offer leaves the ticket in its store.
  for (const serverId of ['A', 'B'] as const) {
    for (const take of w.stores[serverId].takes) {
      if (!take.state) continue;
      w.wallet.forEach((entry, i) => {
        const t = m.tickets[i];
        if (t && toHex(entry.session.ticket) === take.identity && entry.serverId === serverId) t.status = 'used';
      });
    }
  }
}

/** Whether a misbehaving variant really sent its altered message (a resumed handshake has no CertificateVerify to flip). */
function noteVariantEffects(s: Session): void {
  const out = (trace: Session['clientTrace'], name: string) =>
    trace.some((e) => e.kind === 'message' && e.direction === 'out' && e.name === name);
  const inn = (trace: Session['clientTrace'], name: string) =>
    trace.some((e) => e.kind === 'message' && e.direction === 'in' && e.name === name);
  const once = (attack: AttackKind | undefined, victim: 'client' | 'server', cond: boolean) => {
    if (attack && cond && !s.applied.some((a) => a.attack === attack && a.victim === victim))
      s.applied.push({ attack, victim, detect: true });
  };
  const cv = s.options.clientVariant;
  const c = s.clientTrace;
  const cond: Record<ClientVariant, boolean> = {
    honest: false,
    pskKeOnly: false,
    earlyData: false,
    endOfEarlyData: out(c, 'end_of_early_data'),
    appDataBeforeFinished: c.some((e) => e.kind === 'appdata' && e.direction === 'out'),
    flippedFinished: out(c, 'finished'),
    flippedSignature: out(c, 'certificate_verify'),
    signatureSchemeMismatch: out(c, 'certificate_verify'),
    skipCertificate: inn(c, 'certificate_request') && out(c, 'finished'),
    untrustedCertificate: c.some((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'certificate' && e.raw.length > 12),
  };
  once(CLIENT_VARIANT_ATTACK[cv], 'server', cond[cv]);
  const sv = s.options.serverVariant;
  const t = s.serverTrace;
  const full = out(t, 'finished') && !s.server.context.resumed;
  const scond: Record<ServerVariant, boolean> = {
    honest: false,
    certificateAfterPsk: out(t, 'finished'),
    flippedFinished: out(t, 'finished'),
    flippedSignature: full,
    signatureSchemeMismatch: full,
    skipCertificateVerify: full,
    skipCertificate: full,
    acceptedEarlyData: out(t, 'encrypted_extensions'),
    untrustedCertificate: full,
  };
  once(SERVER_VARIANT_ATTACK[sv], 'client', scond[sv]);
}

/** The properties, after every command: on the current session and on the world. */
export function afterStep(m: Model, w: World, command: string): void {
  w.log.push(command);
  syncTickets(m, w);
  const s = w.current;
  const problems = [...w.violations];
  if (s) {
    noteVariantEffects(s);
    const predicted = s.configAlert ? [s.configAlert] : [];
    problems.push(...checkSession(s, { predicted, quiet: s.quiet }));
  }
  if (problems.length > 0) {
    throw new PropertyViolation(`${problems.join('\n')}\n  after: ${w.log.join(' → ')}`);
  }
}

/**
 * Rewrite the first queued plaintext handshake message of `type` (going in
 * `dir`) with `fn` on its raw bytes; true if one was found and changed.
 */
export function tamperQueued(
  s: Session,
  dir: 'toServer' | 'toClient',
  type: HandshakeMessage['type'],
  fn: (raw: Uint8Array, msg: HandshakeMessage) => Uint8Array | undefined,
  nth = 0,
): boolean {
  let seen = 0;
  for (const chunk of s.queue) {
    if (chunk.dir !== dir) continue;
    const { records, rest } = splitRecords(chunk.bytes);
    for (const r of records) {
      if (r.type !== 22) continue;
      const d = decodeHandshake(r.body);
      if (!d.ok || d.value.type !== type) continue;
      if (seen++ < nth) continue;
      const raw = fn(r.body, d.value);
      if (!raw) return false;
      r.body = raw;
      chunk.bytes = concat(joinRecords(records), rest);
      return true;
    }
  }
  return false;
}
