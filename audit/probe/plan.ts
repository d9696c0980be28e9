/**
 * Message sequences on the PSK path, seen from the server chart: the path
 * `expectClientHello —ClientHello(PSK)→ expectClientFinished —Finished→
 * connected` with client messages skipped, repeated, moved or injected.
 * A plan is a list of abstract client messages; `runPlan` sends it on a probe
 * connection, turning each into real bytes for whatever server is on the
 * other end (the binder, the Finished and the epochs come from that
 * connection's own keys), so the same plan can be run against the audited
 * server and against tlschart's own server engine and the reactions
 * compared.
 */
import fc from 'fast-check';
import { encodeHandshake } from '../../wire/handshake.js';
import { ContentType, SignatureScheme } from '../../wire/types.js';
import type { ProbeConnection, ProbeTicket } from './client.js';
import { type HelloOptions, makeHello, offerTicket } from './hellos.js';

export const PLAN_MESSAGES = [
  'ClientHello',
  'ChangeCipherSpec',
  'Certificate',
  'CertificateVerify',
  'EndOfEarlyData',
  'Finished',
  'KeyUpdate',
  'NewSessionTicket',
  'ApplicationData',
] as const;
export type PlanMessage = (typeof PLAN_MESSAGES)[number];

/** The conforming PSK path: ClientHello with the PSK, the client Finished, then data. */
export const BASE_PLAN: readonly PlanMessage[] = ['ClientHello', 'Finished', 'ApplicationData'];

export type Mutation =
  | { kind: 'skip'; at: number }
  | { kind: 'repeat'; at: number }
  | { kind: 'move'; from: number; to: number }
  | { kind: 'inject'; message: PlanMessage; at: number };

/** Apply mutations in order; positions wrap around the current length. */
export function applyMutations(base: readonly PlanMessage[], mutations: readonly Mutation[]): PlanMessage[] {
  const plan = [...base];
  for (const m of mutations) {
    const n = plan.length;
    switch (m.kind) {
      case 'skip':
        if (n > 0) plan.splice(m.at % n, 1);
        break;
      case 'repeat':
        if (n > 0) plan.splice(m.at % n, 0, plan[m.at % n] as PlanMessage);
        break;
      case 'move':
        if (n > 1) {
          const [x] = plan.splice(m.from % n, 1);
          plan.splice(m.to % n, 0, x as PlanMessage);
        }
        break;
      case 'inject':
        plan.splice(m.at % (n + 1), 0, m.message);
        break;
    }
  }
  return plan;
}

export function describeMutation(m: Mutation): string {
  switch (m.kind) {
    case 'skip':
      return `skip #${m.at}`;
    case 'repeat':
      return `repeat #${m.at}`;
    case 'move':
      return `move #${m.from} to #${m.to}`;
    case 'inject':
      return `inject ${m.message} at #${m.at}`;
  }
}

const position = fc.nat({ max: 7 });
export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('skip' as const), at: position }),
  fc.record({ kind: fc.constant('repeat' as const), at: position }),
  fc.record({ kind: fc.constant('move' as const), from: position, to: position }),
  fc.record({ kind: fc.constant('inject' as const), message: fc.constantFrom(...PLAN_MESSAGES), at: position }),
);

/** One to three mutations of the PSK path. */
export const mutationsArbitrary: fc.Arbitrary<Mutation[]> = fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 });

/** How a server reacted to a plan: the first fatal alert it sent, or none. */
export interface Reaction {
  alert: string | null;
  /** The server's chart-level outcome: it completed the handshake, or not. */
  connected: boolean;
}

/** "unexpected_message", or "no alert (connected)". */
export function describeReaction(r: Reaction): string {
  return r.alert !== null ? `alert ${r.alert}` : r.connected ? 'no alert (handshake completed)' : 'no alert';
}

const PLAN_DATA = new TextEncoder().encode('tlschart audit: out-of-order probe\n');

/** Send one abstract message on `c`, in the epoch the client would be in at that point. */
function sendOne(c: ProbeConnection, m: Exclude<PlanMessage, 'ClientHello'>): void {
  const epoch = c.finishedSentAt !== undefined ? 'application' : c.canWrite('handshake') ? 'handshake' : 'plaintext';
  if (m === 'ChangeCipherSpec') {
    c.sendChangeCipherSpec();
    return;
  }
  if (epoch !== 'plaintext' && c.currentWriteEpoch !== epoch) c.setWrite(epoch);
  if (epoch === 'plaintext' && c.currentWriteEpoch !== 'plaintext') c.setWrite('plaintext');
  const hashLen = c.suite?.hashLen ?? 32;
  switch (m) {
    case 'Finished':
      if (epoch === 'handshake') {
        c.sendHandshake(c.clientFinished(), 'finished', { transcript: true });
        c.afterClientFinished();
      } else c.sendHandshake(encodeHandshake({ type: 'finished', verifyData: new Uint8Array(hashLen) }).raw, 'finished');
      return;
    case 'Certificate':
      c.sendHandshake(
        encodeHandshake({ type: 'certificate', certificateRequestContext: new Uint8Array(0), entries: [] }).raw,
        'certificate',
      );
      return;
    case 'CertificateVerify':
      c.sendHandshake(
        encodeHandshake({ type: 'certificate_verify', algorithm: SignatureScheme.ecdsa_secp256r1_sha256, signature: new Uint8Array(64) })
          .raw,
        'certificate_verify',
      );
      return;
    case 'EndOfEarlyData':
      c.sendHandshake(encodeHandshake({ type: 'end_of_early_data' }).raw, 'end_of_early_data');
      return;
    case 'KeyUpdate':
      c.sendHandshake(encodeHandshake({ type: 'key_update', requestUpdate: 0 }).raw, 'key_update');
      if (epoch === 'application') c.updateWriteKeys();
      return;
    case 'NewSessionTicket':
      c.sendHandshake(
        encodeHandshake({
          type: 'new_session_ticket',
          ticketLifetime: 60,
          ticketAgeAdd: 0,
          ticketNonce: new Uint8Array(1),
          ticket: new Uint8Array(32),
          extensions: [],
        }).raw,
        'new_session_ticket',
      );
      return;
    case 'ApplicationData':
      if (epoch === 'plaintext') c.sendRecord(ContentType.application_data, PLAN_DATA);
      else c.sendApplicationData(PLAN_DATA);
      return;
  }
}

/**
 * Run `plan` on `c`, offering `ticket` in the (first) ClientHello: after that
 * ClientHello the server's flight is read, so the messages after it can use
 * its keys. Then close_notify, and read until the server closes: the first
 * fatal alert it sent is its reaction to the plan.
 */
export async function runPlan(
  c: ProbeConnection,
  plan: readonly PlanMessage[],
  ticket: ProbeTicket,
  hello: HelloOptions = {},
): Promise<Reaction> {
  let helloSent: Uint8Array | undefined;
  for (const m of plan) {
    if (c.ended || c.alertReceived !== undefined) break;
    if (m === 'ClientHello') {
      if (!helloSent) {
        const h = makeHello({ ...hello, offers: [offerTicket(ticket)] });
        helloSent = h.raw;
        c.sendHello(h);
        await c.readFlight();
      } else {
        sendAgain(c, helloSent);
      }
      continue;
    }
    sendOne(c, m);
  }
  await c.finish();
  return { alert: c.alertReceived ?? null, connected: c.alertReceived === undefined && c.finishedSentAt !== undefined };
}

function sendAgain(c: ProbeConnection, raw: Uint8Array): void {
  const epoch = c.finishedSentAt !== undefined ? 'application' : c.canWrite('handshake') ? 'handshake' : 'plaintext';
  if (epoch !== 'plaintext' && c.currentWriteEpoch !== epoch) c.setWrite(epoch);
  c.sendHandshake(raw, 'client_hello');
}
