/**
 * `tlschart audit server`: run the selected checks against one target and
 * collect their findings.
 *
 * First a preflight: a standard TLS 1.3 handshake, which tells whether the
 * target can be audited at all (reachable, speaks TLS 1.3, its certificate
 * is trusted unless --insecure) and how many tickets it sends. Then the
 * check families in a fixed order, each connection through the audit
 * context (timeout, budget, concurrency, traces); a family that cannot go
 * on (budget spent, target gone) leaves its remaining probes inconclusive
 * with the reason. Last, the findings about every resumption of the audit
 * (Certificate on resumption, key shares).
 */
import { validateServerChain } from '../../pki/validate.js';
import { tlschartVersion } from '../../traces/format.js';
import { type AuditReport, applyProfile, countVerdicts, type FindingDraft } from '../findings.js';
import { bindersFamily } from './checks/binders.js';
import { bindingFamily } from './checks/binding.js';
import { type CheckFamily, inconclusive, type ProbeDef } from './checks/common.js';
import { earlyDataFamily } from './checks/early-data.js';
import { hrrPskFamily } from './checks/hrr-psk.js';
import { outOfOrderFamily } from './checks/out-of-order.js';
import { pskModesFamily } from './checks/psk-modes.js';
import { replayFamily } from './checks/replay.js';
import { auditWideFindings, RESUMPTION_PROBES, resumptionFamily } from './checks/resumption.js';
import { ticketAgeFamily } from './checks/ticket-age.js';
import { ticketsFamily } from './checks/tickets.js';
import { AuditContext, type AuditSettings, BudgetExhausted, Scope, Unreachable } from './context.js';

/** Every check family, in the order they run. */
export const FAMILIES: readonly CheckFamily[] = [
  ticketsFamily,
  resumptionFamily,
  pskModesFamily,
  replayFamily,
  bindersFamily,
  bindingFamily,
  ticketAgeFamily,
  earlyDataFamily,
  hrrPskFamily,
  outOfOrderFamily,
];

/** The probes judged over the whole audit, after every family ran. */
const AUDIT_WIDE: readonly ProbeDef[] = [RESUMPTION_PROBES.noCertificate, RESUMPTION_PROBES.keyShare, RESUMPTION_PROBES.freshShare];

export const ALL_PROBES: readonly ProbeDef[] = FAMILIES.flatMap((f) => f.probes);

/**
 * The probes a --checks list selects: a family id ("binders") or a probe id
 * ("binders.flipped-bit"); undefined selects all. Returns the unknown names
 * too, for the usage error.
 */
export function selectProbes(names: readonly string[] | undefined): { probes: ProbeDef[]; unknown: string[] } {
  if (names === undefined || names.length === 0) return { probes: [...ALL_PROBES], unknown: [] };
  const unknown = names.filter((n) => !FAMILIES.some((f) => f.id === n) && !ALL_PROBES.some((p) => p.id === n));
  const probes = ALL_PROBES.filter((p) => names.includes(p.check) || names.includes(p.id));
  return { probes, unknown };
}

export interface AuditOptions extends AuditSettings {
  /** Family or probe ids; undefined: everything. */
  checks: string[] | undefined;
}

interface Preflight {
  ok: boolean;
  reason: string;
}

async function preflight(ctx: AuditContext): Promise<Preflight> {
  const scope = new Scope('preflight');
  const s = ctx.settings;
  const budgetSpent = `the audit budget of ${Math.round(s.budgetMs / 1000)} s is spent before the first handshake completed`;
  try {
    const conn = await ctx.connection(
      scope,
      'preflight: a full handshake, waiting for tickets',
      { description: 'can the target be audited: TLS 1.3, certificate, tickets' },
      async (c) => {
        c.sendHello(ctx.hello());
        const end = await c.readFlight();
        if (end === 'finished' && c.serverFinishedValid) {
          c.sendFinished();
          await c.collectTickets(1, Math.min(s.timeoutMs / 2, 2000));
          await c.collectTickets(64, s.settleMs);
        }
        return c;
      },
    );
    if (conn.speaksTls13 === false || conn.alertReceived === 'protocol_version') {
      return {
        ok: false,
        reason: `${s.target.label} does not speak TLS 1.3 (${conn.alertReceived ? `alert ${conn.alertReceived}` : 'its ServerHello selects an older version'})`,
      };
    }
    if (!conn.serverFinishedReceived && ctx.remainingMs() <= 0) {
      return { ok: false, reason: budgetSpent };
    }
    if (!conn.serverFinishedReceived || conn.serverFinishedValid !== true) {
      const what = conn.alertReceived
        ? `alert ${conn.alertReceived}`
        : (conn.keysUnknown ?? (conn.timedOut ? 'no answer before the timeout' : 'the connection ended'));
      return { ok: false, reason: `no TLS 1.3 handshake with ${s.target.label} completed (${what})` };
    }
    if (!s.insecure) {
      const chain = conn.certificate?.entries.map((e) => e.certData) ?? [];
      const v = validateServerChain(chain, {
        now: new Date(),
        purpose: 'server',
        ...(s.ca !== undefined ? { ca: s.ca } : {}),
        ...(s.serverName !== undefined ? { serverName: s.serverName } : {}),
      });
      if (!v.ok)
        return {
          ok: false,
          reason: `the certificate of ${s.target.label} is not trusted: ${v.error.message} (use --ca FILE, or --insecure to audit anyway)`,
        };
    }
    ctx.ticketsPerConnection = conn.tickets.length;
    return { ok: true, reason: `TLS 1.3 with ${conn.suite?.name ?? '?'}, ${conn.tickets.length} ticket(s) per connection` };
  } catch (e) {
    // The budget may run out before the preflight's connection even starts (a tiny budget, a slow machine): the same reason.
    if (e instanceof BudgetExhausted && !s.signal?.aborted) return { ok: false, reason: budgetSpent };
    if (e instanceof Unreachable || e instanceof BudgetExhausted) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Run an audit of one server. Never throws for anything the target does; the report says it. */
export async function auditServer(o: AuditOptions): Promise<AuditReport> {
  const ctx = new AuditContext(o);
  const { probes } = selectProbes(o.checks);
  const wanted = new Set(probes.map((p) => p.id));
  const drafts = new Map<string, FindingDraft>();
  const emit = (d: FindingDraft) => {
    if (!wanted.has(d.id) || drafts.has(d.id)) return;
    drafts.set(d.id, d);
    o.progress(`  ${d.id.padEnd(34)} ${d.rfcVerdict}${d.policy?.violated ? ' (policy)' : ''}`);
  };
  const pre = await preflight(ctx);
  o.progress(`preflight: ${pre.reason}`);
  let inconclusiveReason: string | null = pre.ok ? null : pre.reason;
  if (pre.ok) {
    const families = FAMILIES.filter((f) => f.probes.some((p) => wanted.has(p.id) && !AUDIT_WIDE.includes(p)));
    for (const [i, family] of families.entries()) {
      o.progress(`[${i + 1}/${families.length}] ${family.title} (${family.id})`);
      try {
        await family.run(ctx, emit);
      } catch (e) {
        const err = e as Error;
        const why = e instanceof BudgetExhausted || e instanceof Unreachable ? err.message : `the check could not run: ${err.message}`;
        for (const p of family.probes) if (!AUDIT_WIDE.includes(p)) emit(inconclusive(p, why));
        if (e instanceof Unreachable && ctx.connectionCount <= 1) inconclusiveReason = err.message;
      }
    }
    for (const d of auditWideFindings(ctx, ctx.observations)) emit(d);
  }
  const findings = probes
    .map((p) => drafts.get(p.id) ?? inconclusive(p, inconclusiveReason ?? 'not run'))
    .map((d) => applyProfile(d, o.profile));
  return {
    format: 'tlschart-audit',
    version: 1,
    subject: { role: 'server', target: o.target.label, serverName: o.serverName ?? null },
    tlschart: tlschartVersion(),
    startedAt: new Date(ctx.startedAt).toISOString(),
    durationMs: Date.now() - ctx.startedAt,
    profile: o.profile,
    settings: {
      alpn: o.alpn,
      checks: o.checks ?? [],
      runs: o.runs,
      timeoutS: o.timeoutMs / 1000,
      budgetS: o.budgetMs / 1000,
      concurrency: o.concurrency,
      seed: o.seed,
      insecure: o.insecure,
      connections: ctx.connectionCount,
    },
    inconclusive: inconclusiveReason,
    counts: countVerdicts(findings),
    findings,
  };
}
