/**
 * `tlschart audit client`: run the selected checks against one client and
 * collect their findings.
 *
 * The probing server listens on one loopback address for the whole audit.
 * The checks run one after the other; while a check is armed, every
 * connection that arrives is served the way that check says (the
 * connections that arrive while none is armed are closed at once). With a
 * runner (--exec), each check starts the client once and ends when it has
 * exited; without one, each check waits for its connections (or its
 * timeout) and the next is armed. Last, the findings about what the client
 * offered, over every ClientHello of the audit.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertifiedKey } from '../../machines/types.js';
import { tlschartVersion } from '../../traces/format.js';
import { type AuditReport, applyProfile, countVerdicts, type FindingDraft, type Profile } from '../findings.js';
import { socketTransport } from '../probe/transport.js';
import { type ConnectionObservation, inconclusive, type ProbeDef, type Scenario, type ScenarioState } from './checks/common.js';
import { HRR_PROBES, helloRetryScenario } from './checks/hrr.js';
import {
  judgeOffers,
  OFFER_PROBES,
  OFFER_SCENARIOS,
  otherSniScenario,
  resumptionScenario,
  type Seen,
  singleUseScenario,
} from './checks/offer.js';
import { REPLY_PROBES, replyScenarios } from './checks/replies.js';
import {
  earlyDataTicketScenario,
  emptyTicketScenario,
  lifetimeOverWeekScenario,
  lifetimeZeroScenario,
  manyTicketsScenario,
  TICKET_PROBES,
  unknownExtensionScenario,
} from './checks/tickets.js';
import { TicketRegistry } from './offers.js';
import type { ClientRunner, ClientRunResult } from './runner.js';
import { serveConnection } from './serve.js';

/** Every check (scenario), in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  resumptionScenario,
  singleUseScenario,
  otherSniScenario,
  helloRetryScenario,
  lifetimeZeroScenario,
  lifetimeOverWeekScenario,
  unknownExtensionScenario,
  emptyTicketScenario,
  manyTicketsScenario,
  earlyDataTicketScenario,
  ...replyScenarios,
];

export interface ClientFamily {
  id: string;
  title: string;
  probes: ProbeDef[];
}

export const FAMILIES: readonly ClientFamily[] = [
  { id: 'offer', title: 'What the client offers on resumption', probes: Object.values(OFFER_PROBES) },
  { id: 'hrr', title: 'The second ClientHello after a HelloRetryRequest', probes: Object.values(HRR_PROBES) },
  { id: 'ticket-handling', title: 'Ticket handling', probes: Object.values(TICKET_PROBES) },
  { id: 'reply', title: 'Deviant server replies', probes: Object.values(REPLY_PROBES) },
];

export const ALL_PROBES: readonly ProbeDef[] = FAMILIES.flatMap((f) => f.probes);

/** The probes a --checks list selects (family or probe ids; undefined: all), and the names it does not know. */
export function selectProbes(names: readonly string[] | undefined): { probes: ProbeDef[]; unknown: string[] } {
  if (names === undefined || names.length === 0) return { probes: [...ALL_PROBES], unknown: [] };
  const unknown = names.filter((n) => !FAMILIES.some((f) => f.id === n) && !ALL_PROBES.some((p) => p.id === n));
  return { probes: ALL_PROBES.filter((p) => names.includes(p.check) || names.includes(p.id)), unknown };
}

/** The scenarios the probes need, in run order. */
export function scenariosFor(probes: readonly ProbeDef[]): Scenario[] {
  const ids = new Set(probes.map((p) => p.id));
  const needed = new Set(probes.flatMap((p) => OFFER_SCENARIOS[p.id] ?? []));
  return SCENARIOS.filter((s) => needed.has(s.id) || s.probes.some((p) => ids.has(p.id)));
}

export interface ClientAuditOptions {
  /** How the client is started for each check; undefined: listen and audit whatever connects. */
  runner: ClientRunner | undefined;
  /** Where the probing server listens (port 0: a free one). */
  listen: { host: string; port: number };
  certificate: CertifiedKey;
  /** {cafile}: a PEM file of the certificate (written by the caller). */
  caFile: string;
  /** {servername}: the name the certificate is for. */
  serverName: string;
  /** {servername2}: the second name of offer.other-sni (the certificate holds both). */
  serverName2: string;
  profile: Profile;
  checks: string[] | undefined;
  /** Per check. */
  timeoutMs: number;
  /** Quiet time after the tickets before the probing server closes a connection. */
  settleMs: number;
  /** How long a deviant flight waits for the client's reaction before the probing server closes. */
  reactMs: number;
  ageToleranceMs: number;
  outDir: string;
  progress: (line: string) => void;
  signal?: AbortSignal;
}

interface Armed {
  scenario: Scenario;
  state: ScenarioState;
  deadline: number;
  count: number;
  open: Set<Promise<void>>;
  error: Error | undefined;
  /** Resolves when a connection finished (listen mode waits on it). */
  changed: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function settle(open: Set<Promise<void>>, untilMs: number): Promise<void> {
  while (open.size > 0 && Date.now() < untilMs) await Promise.race([Promise.all([...open]), sleep(Math.max(1, untilMs - Date.now()))]);
}

/** Run an audit of one client. Never throws for anything the client does; the report says it. */
export async function auditClient(o: ClientAuditOptions): Promise<AuditReport> {
  const startedAt = Date.now();
  const { probes } = selectProbes(o.checks);
  const wanted = new Set(probes.map((p) => p.id));
  const scenarios = scenariosFor(probes);
  const registry = new TicketRegistry();
  const drafts = new Map<string, FindingDraft>();
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let armed: Armed | undefined;
  let total = 0;
  let inconclusiveReason: string | null = null;
  const runs: ClientRunResult[] = [];
  const emit = (d: FindingDraft) => {
    if (!wanted.has(d.id) || drafts.has(d.id)) return;
    drafts.set(d.id, d);
    o.progress(`  ${d.id.padEnd(40)} ${d.rfcVerdict}${d.policy?.violated ? ' (policy)' : ''}`);
  };

  const server = createServer((socket) => {
    const a = armed;
    if (!a || Date.now() >= a.deadline) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const n = ++a.count;
    const global = ++total;
    const job = serveConnection(socketTransport(socket), {
      scenario: a.scenario,
      state: a.state,
      registry,
      certificate: o.certificate,
      n,
      global,
      deadline: a.deadline,
      settleMs: o.settleMs,
      reactMs: o.reactMs,
      pauseMs: Math.min(1000, o.reactMs),
      target: o.runner?.label ?? `whatever connects to ${o.listen.host}`,
      outDir: o.outDir,
    }).then(
      (obs: ConnectionObservation) => {
        a.state.connections.push(obs);
        a.state.connections.sort((x, y) => x.n - y.n);
      },
      (e: unknown) => {
        a.error ??= e as Error;
        socket.destroy();
      },
    );
    a.open.add(job);
    void job.finally(() => {
      a.open.delete(job);
      a.changed();
    });
  });
  try {
    server.listen(o.listen.port, o.listen.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
  } catch (e) {
    const reason = `the probing server cannot listen on ${o.listen.host}:${o.listen.port}: ${(e as Error).message}`;
    return report(
      o,
      startedAt,
      probes.map((p) => applyProfile(inconclusive(p, reason), o.profile)),
      reason,
      0,
    );
  }
  const port = (server.address() as AddressInfo).port;
  const where = `${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${port}`;
  o.progress(`probing server on ${where}; certificate for ${o.serverName}, ${o.serverName2}`);
  let clientResumes = false;
  try {
    for (const [i, scenario] of scenarios.entries()) {
      if (o.signal?.aborted) break;
      const state: ScenarioState = {
        id: scenario.id,
        registry,
        connections: [],
        settings: { ageToleranceMs: o.ageToleranceMs },
        clientResumesElsewhere: clientResumes,
        deviated: false,
        issued: [],
      };
      let wake: () => void = () => undefined;
      const a: Armed = {
        scenario,
        state,
        deadline: Date.now() + o.timeoutMs,
        count: 0,
        open: new Set(),
        error: undefined,
        changed: () => wake(),
      };
      armed = a;
      o.progress(`[${i + 1}/${scenarios.length}] ${scenario.title} (${scenario.id}): ${scenario.does}`);
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), o.timeoutMs);
      const onAbort = () => stop.abort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      let run: ClientRunResult | undefined;
      try {
        if (o.runner) {
          const tmp = await mkdtemp(join(tmpdir(), 'tlschart-audit-client-run-'));
          try {
            run = await o.runner.run(
              {
                host: o.listen.host,
                port,
                servername: o.serverName,
                servername2: scenario.otherName ? o.serverName2 : o.serverName,
                tmp,
                cafile: o.caFile,
              },
              stop.signal,
            );
          } finally {
            await rm(tmp, { recursive: true, force: true });
          }
          runs.push(run);
          // The client is gone: its connections end now; give them the time to be recorded.
          await settle(a.open, Date.now() + o.reactMs + 1000);
        } else {
          const instructions = scenario.instructions.replace('{servername}', o.serverName).replace('{servername2}', o.serverName2);
          o.progress(
            `armed: ${scenario.id} — ${instructions} (to ${where}, SNI ${scenario.otherName ? `${o.serverName} then ${o.serverName2}` : o.serverName}); waiting up to ${Math.round(o.timeoutMs / 1000)} s`,
          );
          while (!stop.signal.aborted && (a.state.connections.length < scenario.connections || a.open.size > 0)) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              stop.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          }
          await settle(a.open, Date.now() + o.reactMs + 1000);
        }
      } finally {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        armed = undefined;
      }
      if (run) {
        await mkdir(join(o.outDir, 'commands'), { recursive: true });
        await writeFile(
          join(o.outDir, 'commands', `${scenario.id}.log`),
          `$ ${run.command}\n${run.output}\n[exit ${run.code ?? run.signal}${run.timedOut ? ', stopped at the timeout' : ''}]\n`,
        );
      }
      for (const c of state.connections) seen.push({ scenario: scenario.id, c });
      if (state.connections.some((c) => c.hellos.some((h) => h.identities.some((id) => id.ticket)))) clientResumes = true;
      if (a.error) {
        for (const p of scenario.probes) emit(inconclusive(p, `the check could not run: ${a.error.message}`));
        continue;
      }
      const interrupted = o.signal?.aborted === true;
      for (const d of scenario.judge(state)) {
        const why = interrupted
          ? 'the audit was interrupted'
          : run?.timedOut && state.connections.length === 0
            ? `the client made no connection before the timeout of ${Math.round(o.timeoutMs / 1000)} s`
            : undefined;
        emit(d.rfcVerdict === 'inconclusive' && why !== undefined ? { ...d, reason: why, observed: { summary: why } } : d);
      }
    }
    for (const d of judgeOffers(seen, wanted, { ageToleranceMs: o.ageToleranceMs })) emit(d);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (total === 0) {
    const last = runs.at(-1);
    const hint = last
      ? `; the command exited ${last.code !== null ? `with status ${last.code}` : `on ${last.signal}`}${last.output.trim() ? `: ${last.output.trim().split('\n').slice(-1)[0]}` : ''}`
      : '';
    inconclusiveReason = o.signal?.aborted
      ? 'the audit was interrupted before any connection'
      : `the client never connected to ${where}${hint}`;
  }
  const notRun = o.signal?.aborted ? 'the audit was interrupted' : (inconclusiveReason ?? 'not run');
  const findings = probes.map((p) => drafts.get(p.id) ?? inconclusive(p, notRun)).map((d) => applyProfile(d, o.profile));
  return report(o, startedAt, findings, inconclusiveReason, total, where);
}

function report(
  o: ClientAuditOptions,
  startedAt: number,
  findings: AuditReport['findings'],
  inconclusiveReason: string | null,
  connections: number,
  where?: string,
): AuditReport {
  return {
    format: 'tlschart-audit',
    version: 1,
    subject: {
      role: 'client',
      target: o.runner?.label ?? `whatever connects to ${where ?? `${o.listen.host}:${o.listen.port}`}`,
      serverName: o.serverName,
    },
    tlschart: tlschartVersion(),
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    profile: o.profile,
    settings: {
      exec: o.runner?.label ?? null,
      listen: where ?? `${o.listen.host}:${o.listen.port}`,
      servername: o.serverName,
      servername2: o.serverName2,
      checks: o.checks ?? [],
      timeoutS: o.timeoutMs / 1000,
      settleMs: o.settleMs,
      ageToleranceMs: o.ageToleranceMs,
      connections,
    },
    inconclusive: inconclusiveReason,
    counts: countVerdicts(findings),
    findings,
  };
}
