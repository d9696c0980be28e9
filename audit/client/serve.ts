/**
 * One connection to the probing server, from the first byte to the trace:
 * read the ClientHello, ask the armed scenario how to answer it (a full
 * handshake, a resumption, a HelloRetryRequest, or a resumption that
 * deviates in one precise way), send that flight, read the client's answer,
 * send the scenario's tickets after a completed handshake, serve a little
 * application data, close, and record the connection as a trace of the
 * client's side.
 */
import { SUPPORTED_GROUPS } from '../../crypto/kex.js';
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import type { CertifiedKey } from '../../machines/types.js';
import { findExtension } from '../../wire/extensions.js';
import type { Transport } from '../probe/transport.js';
import { connectionRecord, writeConnectionTrace } from '../wire-trace.js';
import {
  type ConnectionObservation,
  type Deviation,
  type HelloReply,
  resumeIfPossible,
  type Scenario,
  type ScenarioState,
} from './checks/common.js';
import { AuditedConnection, type FlightAnswer, type FlightPlan, InvalidClientShare } from './connection.js';
import type { HelloView, IssuedTicket, TicketRegistry } from './offers.js';
import { clientTrace, type GuardTruth } from './trace.js';

/** Where a deviant flight pauses: right after the message the client must refuse. */
const PAUSE_AFTER: Partial<Record<Deviation, 'server_hello' | 'encrypted_extensions' | 'certificate' | 'certificate_verify'>> = {
  'selected-identity-out-of-range': 'server_hello',
  'psk-without-key-share': 'server_hello',
  'suite-hash-mismatch': 'server_hello',
  'certificate-after-psk': 'certificate',
  'certificate-verify-after-psk': 'certificate_verify',
  'unoffered-early-data': 'encrypted_extensions',
};

/** Server preference: the SHA-256 suites first, so a resumption can be answered with a suite of another hash. */
const SUITE_PREFERENCE = [0x1301, 0x1303, 0x1302];

export interface ServeContext {
  scenario: Scenario;
  state: ScenarioState;
  registry: TicketRegistry;
  certificate: CertifiedKey;
  /** Connection number in the scenario (1-based) and in the audit. */
  n: number;
  global: number;
  deadline: number;
  /** Quiet time after the tickets before the probing server closes. */
  settleMs: number;
  /** How long a deviant flight waits for the client's reaction before the server closes (the reaction may still come). */
  reactMs: number;
  /** How long a deviant flight pauses after the deviant message for the client's reaction before it goes on. */
  pauseMs: number;
  target: string;
  outDir: string;
}

function chooseSuite(view: HelloView, hash?: SuiteInfo['hash'], not?: SuiteInfo['hash']): SuiteInfo | undefined {
  for (const code of [...view.hello.cipherSuites.filter((c) => !SUITE_PREFERENCE.includes(c)), ...SUITE_PREFERENCE]) {
    if (!view.hello.cipherSuites.includes(code)) continue;
    const s = suiteInfo(code);
    if (s && (hash === undefined || s.hash === hash) && (not === undefined || s.hash !== not)) return s;
  }
  return undefined;
}

/** The client's key share we can answer, and the group to ask for when there is none. */
function shareOf(view: HelloView): { group: number; share: Uint8Array } | { retry: number | undefined } {
  const share = view.keyShares?.find((k) => SUPPORTED_GROUPS.includes(k.group));
  if (share) return { group: share.group, share: share.keyExchange };
  const groups = findExtension(view.hello.extensions, 'supported_groups')?.groups ?? [];
  return { retry: groups.find((g) => SUPPORTED_GROUPS.includes(g)) };
}

/** The group a HelloRetryRequest asks for in the hrr check: one the client supports and sent no share for (else a cookie). */
function retryGroup(view: HelloView): number | undefined {
  const sent = new Set((view.keyShares ?? []).map((k) => k.group));
  const groups = findExtension(view.hello.extensions, 'supported_groups')?.groups ?? [];
  return groups.find((g) => SUPPORTED_GROUPS.includes(g) && !sent.has(g));
}

function alpnOf(view: HelloView): string | undefined {
  const offered = findExtension(view.hello.extensions, 'alpn')?.protocols;
  if (!offered || offered.length === 0) return undefined;
  return offered.includes('http/1.1') ? 'http/1.1' : offered[0];
}

interface Planned {
  plan?: FlightPlan;
  scheme?: number | undefined;
  /** Needs a HelloRetryRequest for this group first (no usable key share). */
  retry?: { suite: SuiteInfo; group: number | undefined };
  /** No flight is possible: the alert to send. */
  refuse?: 'handshake_failure';
  deviationSkipped?: string;
}

function planFor(view: HelloView, reply: HelloReply, cert: CertifiedKey): Planned {
  const schemes = findExtension(view.hello.extensions, 'signature_algorithms')?.schemes ?? [];
  const scheme = cert.key.schemes.find((s) => schemes.includes(s));
  const share = shareOf(view);
  const alpn = alpnOf(view);
  if (reply.kind === 'resume' && reply.identity.ticket) {
    const t = reply.identity.ticket;
    let deviationSkipped: string | undefined;
    let suite = view.hello.cipherSuites.includes(t.suite.code) ? t.suite : chooseSuite(view, t.suite.hash);
    const dev = reply.deviation;
    if (dev === 'suite-hash-mismatch') {
      const other = chooseSuite(view, undefined, t.suite.hash);
      if (other) suite = other;
      else deviationSkipped = `the client offers no cipher suite whose hash differs from the ticket's (${t.suite.hash})`;
    }
    if (dev === 'unoffered-early-data' && view.earlyData)
      deviationSkipped = 'the client offered early_data itself, so early_data in EncryptedExtensions would be an answer';
    const applied = deviationSkipped === undefined ? dev : undefined;
    if (!suite) return { refuse: 'handshake_failure' };
    const dhe = view.modes?.includes(1) ?? false;
    let group: number | undefined;
    let clientShare: Uint8Array | undefined;
    if (dhe && applied !== 'psk-without-key-share') {
      if ('retry' in share) return share.retry === undefined ? { refuse: 'handshake_failure' } : { retry: { suite, group: share.retry } };
      group = share.group;
      clientShare = share.share;
    }
    const needsScheme = applied === 'certificate-after-psk' || applied === 'certificate-verify-after-psk';
    if (needsScheme && scheme === undefined) deviationSkipped = 'the client offers no signature algorithm the certificate can sign with';
    const plan: FlightPlan = {
      suite,
      group,
      clientShare,
      psk: { selectedIdentity: applied === 'selected-identity-out-of-range' ? view.identities.length : reply.identity.index, key: t.psk },
      authentication:
        applied === 'certificate-after-psk' ? 'after-psk' : applied === 'certificate-verify-after-psk' ? 'verify-after-psk' : 'none',
      earlyData: applied === 'unoffered-early-data',
      finished: applied === 'wrong-finished' ? 'flipped' : applied === 'skip-finished' ? 'skipped' : 'valid',
      alpn,
      sniAck: false,
    };
    return { plan, scheme, ...(deviationSkipped ? { deviationSkipped } : {}) };
  }
  const suite = chooseSuite(view);
  if (!suite || scheme === undefined) return { refuse: 'handshake_failure' };
  if ('retry' in share) return share.retry === undefined ? { refuse: 'handshake_failure' } : { retry: { suite, group: share.retry } };
  return {
    plan: {
      suite,
      group: share.group,
      clientShare: share.share,
      authentication: 'full',
      earlyData: false,
      finished: 'valid',
      alpn,
      sniAck: view.sni !== undefined,
    },
    scheme,
  };
}

/** Serve one connection for the armed scenario and record it. Never throws for anything the client does. */
export async function serveConnection(transport: Transport, ctx: ServeContext): Promise<ConnectionObservation> {
  const label = `connection ${ctx.n}`;
  const startedAt = Date.now();
  const conn = new AuditedConnection({ transport, deadline: ctx.deadline, label });
  const hellos: HelloView[] = [];
  let reply: HelloReply | undefined;
  let retried = false;
  let deviationSkipped: string | undefined;
  let answer: FlightAnswer | 'no-hello' = 'no-hello';
  const truth: GuardTruth = {};
  const tickets: IssuedTicket[] = [];
  const description: string[] = [];
  const s = ctx.state;
  const readView = async (): Promise<HelloView | undefined> => {
    if (!(await conn.readHello())) return undefined;
    const h = conn.hellos.at(-1);
    if (!h) return undefined;
    const v = ctx.registry.view(h.parsed, h.prefix, h.at);
    hellos.push(v);
    return v;
  };
  try {
    let view = await readView();
    if (!view) {
      const last = conn.log.at(-1);
      // A ClientHello that does not parse is decode_error (§6): its lengths or fields are out of range.
      if (last?.dir === 'in' && last.kind === 'handshake') conn.sendAlert(2, 'decode_error');
      await conn.finish(Date.now() + ctx.reactMs);
    } else {
      reply = ctx.scenario.reply(view, s, ctx.n);
      if (reply.kind === 'retry') {
        const t = reply.identity.ticket;
        const suite = t && (view.hello.cipherSuites.includes(t.suite.code) ? t.suite : chooseSuite(view, t.suite.hash));
        if (suite) {
          conn.sendHelloRetryRequest(suite, retryGroup(view));
          retried = true;
          description.push('HelloRetryRequest');
          view = await readView();
          reply = view ? ctx.scenario.reply(view, s, ctx.n) : undefined;
          if (view && reply?.kind === 'retry') reply = resumeIfPossible(view);
        } else reply = resumeIfPossible(view);
      }
      let planned = view && reply ? planFor(view, reply, ctx.certificate) : undefined;
      if (view && reply && planned?.retry && !retried) {
        conn.sendHelloRetryRequest(planned.retry.suite, planned.retry.group);
        retried = true;
        view = await readView();
        reply = view ? resumeIfPossible(view) : undefined;
        planned = view && reply ? planFor(view, reply, ctx.certificate) : undefined;
      }
      if (!view || !reply || !planned) {
        await conn.finish(Date.now() + ctx.reactMs);
      } else if (!planned.plan) {
        conn.sendAlert(2, planned.refuse ?? 'handshake_failure');
        await conn.finish(Date.now() + ctx.reactMs);
      } else {
        const plan = planned.plan;
        deviationSkipped = planned.deviationSkipped;
        const deviation = reply.kind === 'resume' && deviationSkipped === undefined ? reply.deviation : undefined;
        if (deviation) s.deviated = true;
        if (deviation === 'wrong-finished') truth.serverFinishedValid = false;
        if (deviation === 'suite-hash-mismatch') truth.serverHelloProblem = true;
        const first = view.identities[0];
        if (view.earlyData && !view.afterRetry && first?.ticket) conn.expectEarlyData(first.ticket.suite, first.ticket.psk);
        // A deviant flight pauses after the deviant message for the client's reaction (see sendFlight).
        const pauseAfter = deviation ? PAUSE_AFTER[deviation] : undefined;
        await conn.sendFlight(plan, ctx.certificate, planned.scheme, pauseAfter, () => conn.reacted(Date.now() + ctx.pauseMs));
        description.push(plan.psk ? `resumption${deviation ? ` answered with ${deviation}` : ''}` : 'full handshake');
        answer = await conn.readClientFlight(deviation ? Date.now() + ctx.reactMs : ctx.deadline);
        if (answer === 'finished' && !deviation) {
          if (reply.kind === 'resume' && reply.identity.ticket) reply.identity.ticket.resumedBy = `${ctx.scenario.id}/${label}`;
          const specs = ctx.scenario.tickets({ resumed: plan.psk !== undefined, connection: ctx.n }, s);
          for (const t of conn.sendTickets(specs)) {
            const issued = ctx.registry.issue(t, { scenario: ctx.scenario.id, connection: label, serverName: view.sni });
            s.issued.push(issued);
            tickets.push(issued);
          }
          if (specs.length > 0) description.push(`${specs.length} ticket(s)`);
          const hold = ctx.scenario.holdResponse === true && tickets.length > 0;
          await conn.serveApplication(
            hold ? Math.max(ctx.settleMs, ctx.pauseMs) : ctx.settleMs,
            ctx.reactMs,
            `tlschart audit client: ${ctx.scenario.id}, ${label}`,
            hold ? ctx.pauseMs : 0,
          );
        } else {
          if (answer === 'bad-finished') conn.sendAlert(2, 'decrypt_error');
          if (answer === 'unexpected') conn.sendAlert(2, 'unexpected_message');
          await conn.finish(Date.now() + ctx.reactMs);
        }
      }
    }
  } catch (e) {
    if (!(e instanceof InvalidClientShare)) throw e;
    conn.sendAlert(2, 'illegal_parameter');
    await conn.finish(Date.now() + ctx.reactMs);
  } finally {
    conn.destroy();
  }
  const trace = clientTrace(conn.log, {
    target: ctx.target,
    label,
    scenario: ctx.scenario.id,
    description: `${ctx.scenario.title}: ${description.join(', ') || 'no handshake'}`,
    startedAt,
    truth,
  });
  const rel = await writeConnectionTrace(ctx.outDir, ctx.scenario.id, ctx.global, label, trace);
  const recorded = connectionRecord(trace, rel, label);
  const clientEnd = conn.log.findIndex((e) => e.dir === 'in' && e.kind === 'end');
  const fatal = conn.log.find(
    (e) =>
      e.dir === 'in' && e.kind === 'alert' && e.description !== 'close_notify' && !(e.description === 'user_canceled' && e.level !== 2),
  );
  const afterHello = conn.log.slice(conn.log.findIndex((e) => e.dir === 'out' && e.kind === 'handshake' && e.name === 'server_hello') + 1);
  const sentEncrypted =
    conn.serverHello !== undefined &&
    afterHello.some(
      (e) =>
        e.dir === 'in' &&
        ((e.kind === 'alert' && e.encrypted) ||
          (e.kind === 'handshake' && e.encrypted) ||
          e.kind === 'unreadable' ||
          (e.kind === 'application_data' && !e.records.every((r) => r.epoch === 'early'))),
    );
  const ourEnd = conn.log.findIndex((e) => e.dir === 'out' && e.kind === 'end');
  return {
    n: ctx.n,
    label,
    // An audited client that sent nothing readable still stood in the chart's first state.
    record: recorded.statePath.length > 0 ? recorded : { ...recorded, statePath: ['expectServerHello'] },
    startedAt,
    hellos,
    retried,
    helloRetryRequest: conn.helloRetryRequest,
    reply,
    deviationSkipped,
    resumed: conn.resumed,
    answer,
    clientFinished: conn.clientFinishedValid,
    alert: conn.alertReceived,
    alertEncrypted: fatal?.dir === 'in' && fatal.kind === 'alert' ? fatal.encrypted : undefined,
    unreadable: conn.log.some((e) => e.dir === 'in' && e.kind === 'unreadable'),
    sentEncrypted,
    clientClosedFirst: clientEnd >= 0 && (ourEnd < 0 || clientEnd < ourEnd),
    clientEnd: conn.ended === undefined || conn.ended.kind === 'local' ? undefined : conn.ended.kind,
    tickets,
    earlyData: { ...conn.earlyData },
    endOfEarlyData: conn.endOfEarlyData,
  };
}
