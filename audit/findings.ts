/**
 * The findings model of `tlschart audit` — one shape for every audit, of a
 * server today and of a client later, so the report writers never need to
 * know which side was audited.
 *
 * A check yields one finding: what was probed (id, title), what RFC 8446
 * says (section and BCP 14 keyword, or `policy` for what tlschart refuses by
 * choice), what was expected and what was observed (the alert, the path the
 * peer took through tlschart's chart, the first divergence from the chart),
 * the values measured, and the trace file of every connection the check made.
 *
 * Two verdicts are kept: `rfcVerdict`, the judgement against RFC 8446 alone,
 * and `verdict`, the one the chosen profile gives. `--profile rfc` fails only
 * RFC violations; `--profile strict` also fails a finding whose `policy`
 * says the peer does what tlschart refuses on purpose (psk_ke resumption,
 * 0-RTT, reusable tickets, stateless tickets).
 */

export type Verdict = 'pass' | 'fail' | 'warn' | 'info' | 'inconclusive';
export const VERDICTS: readonly Verdict[] = ['fail', 'warn', 'inconclusive', 'info', 'pass'];

/** BCP 14 keyword of the requirement, or `policy` for a choice tlschart makes where RFC 8446 leaves room. */
export type Keyword = 'MUST' | 'SHOULD' | 'MAY' | 'policy';

export type Profile = 'rfc' | 'strict';
export const PROFILES: readonly Profile[] = ['rfc', 'strict'];

export interface RfcReference {
  /** Section of RFC 8446 (or of the RFC named in `document`), e.g. "4.2.11". */
  section: string;
  keyword: Keyword;
  /** The requirement in a sentence (a quotation where it is short). */
  text: string;
  /** Defaults to RFC 8446; e.g. "RFC 9846" for a rule only the revision states. */
  document?: string;
}

/** Where the observed run first left the path tlschart's chart predicts. */
export interface Divergence {
  /** Index of the step in the trace side, and the chart state there. */
  step: number;
  state: string;
  message: string;
  /** What the chart requires at that point (RFC section included). */
  requirement: string;
  section: string;
  /** The alert a conforming peer sends there; null when it goes on. */
  alert: string | null;
  /** What the peer did instead. */
  recorded: string;
}

/** What a conforming peer does (expected) or what the audited peer did (observed). */
export interface Behaviour {
  /** One sentence for people. */
  summary: string;
  /** The fatal alert sent, `null` for "no alert", absent when it does not matter. */
  alert?: string | null;
  /** Chart states the peer went through, e.g. ["expectClientHello", "expectClientFinished", "connected"]. */
  statePath?: string[];
}

export interface Observed extends Behaviour {
  /** The first divergence of the recorded connections from tlschart's chart, if any. */
  divergence?: Divergence;
}

export type MeasuredValue = string | number | boolean | null | MeasuredValue[] | { [k: string]: MeasuredValue };

/** What tlschart's own policy says about this finding (strict profile). */
export interface PolicyJudgement {
  /** The policy, e.g. "tlschart never resumes psk_ke-only offers". */
  rule: string;
  /** Whether the peer does what the policy refuses. */
  violated: boolean;
}

export interface Finding {
  /** Stable id: `<check>.<probe>`, e.g. "binders.flipped-bit". */
  id: string;
  /** The check family, e.g. "binders". */
  check: string;
  title: string;
  /** The verdict under the profile of the run. */
  verdict: Verdict;
  /** The verdict against RFC 8446 alone. */
  rfcVerdict: Verdict;
  rfc: RfcReference;
  /**
   * The name of the refusal tlschart makes for the same input (e.g.
   * "PskWithoutModes", "IncorrectBinder"), when it makes one; linked to the
   * table of tlschart's refusals later.
   */
  refusal?: string;
  policy?: PolicyJudgement;
  expected: Behaviour;
  observed: Observed;
  measured: Record<string, MeasuredValue>;
  /** Trace files (project trace format), relative to the output directory, one per connection. */
  traces: string[];
  /** Why the verdict is what it is, in a sentence or two (always set for inconclusive). */
  reason: string;
}

/** A finding as a check produces it: the profile decides `verdict` later. */
export type FindingDraft = Omit<Finding, 'verdict'>;

/** The verdict of a draft under a profile. */
export function verdictUnder(draft: Pick<FindingDraft, 'rfcVerdict' | 'policy'>, profile: Profile): Verdict {
  if (profile === 'strict' && draft.policy?.violated === true && draft.rfcVerdict !== 'inconclusive') return 'fail';
  return draft.rfcVerdict;
}

export function applyProfile(draft: FindingDraft, profile: Profile): Finding {
  // Keep the field order of Finding for readable JSON.
  const { id, check, title, rfcVerdict, ...rest } = draft;
  return { id, check, title, verdict: verdictUnder(draft, profile), rfcVerdict, ...rest };
}

export type VerdictCounts = Record<Verdict, number>;

export function countVerdicts(findings: readonly Pick<Finding, 'verdict'>[]): VerdictCounts {
  const counts: VerdictCounts = { pass: 0, fail: 0, warn: 0, info: 0, inconclusive: 0 };
  for (const f of findings) counts[f.verdict]++;
  return counts;
}

/** Exit status of an audit: 0 nothing fails, 1 a finding fails, 2 the audit itself was inconclusive. */
export const AUDIT_EXIT = { ok: 0, failing: 1, inconclusive: 2, usage: 64 } as const;

/** What one audit run was: the subject, when, how, and what it found. */
export interface AuditReport {
  format: 'tlschart-audit';
  version: 1;
  /** "server" today; "client" for `audit client`. */
  subject: { role: 'server' | 'client'; target: string; serverName: string | null };
  tlschart: string;
  startedAt: string;
  durationMs: number;
  profile: Profile;
  settings: Record<string, MeasuredValue>;
  /** Set when the audit could not run at all (unreachable, no TLS 1.3): every finding is inconclusive and the exit status is 2. */
  inconclusive: string | null;
  counts: VerdictCounts;
  findings: Finding[];
}

/** The exit status of a report: see AUDIT_EXIT. */
export function exitStatus(report: Pick<AuditReport, 'inconclusive' | 'findings'>): number {
  if (report.inconclusive !== null) return AUDIT_EXIT.inconclusive;
  return report.findings.some((f) => f.verdict === 'fail') ? AUDIT_EXIT.failing : AUDIT_EXIT.ok;
}

/** "RFC 8446 §4.2.11 MUST". */
export function citation(rfc: RfcReference): string {
  const doc = rfc.document ?? 'RFC 8446';
  return rfc.keyword === 'policy' ? `${doc} §${rfc.section}, tlschart policy` : `${doc} §${rfc.section} ${rfc.keyword}`;
}
