/** Running an audit from a test: a temp output directory, small --runs, and a lookup by finding id (client audits: client/testing/audit-run.ts). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport, Finding, Profile } from '../findings.js';
import { tcpTarget } from '../probe/target.js';
import { auditServer } from '../server/run.js';

/**
 * --runs of the audit tests: 3 in `npm test`; TLSCHART_AUDIT_RUNS=N for a
 * fuller run (more resumptions, parallel offers and generated out-of-order
 * sequences), and 25 under TLSCHART_DEEP=1 (`npm run test:props` sets it).
 */
export const AUDIT_TEST_RUNS = ((): number => {
  const raw = process.env.TLSCHART_AUDIT_RUNS;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 2) throw new Error(`TLSCHART_AUDIT_RUNS must be an integer of at least 2, got ${JSON.stringify(raw)}`);
    return n;
  }
  const deep = process.env.TLSCHART_DEEP;
  return deep !== undefined && deep !== '' && deep !== '0' ? 25 : 3;
})();

export interface AuditRun {
  report: AuditReport;
  outDir: string;
  /** The finding with this id (throws if the audit has none). */
  finding(id: string): Finding;
  remove(): Promise<void>;
}

export interface AuditRunOptions {
  checks?: string[];
  profile?: Profile;
  runs?: number;
  ca?: string;
  serverName?: string;
  alpn?: string[];
  seed?: number;
}

/** Audit 127.0.0.1:`port` (certificate not judged unless `ca` is given). */
export async function auditPort(port: number, o: AuditRunOptions = {}): Promise<AuditRun> {
  const outDir = await mkdtemp(join(tmpdir(), 'tlschart-audit-test-'));
  const report = await auditServer({
    target: tcpTarget('127.0.0.1', port),
    serverName: o.serverName ?? 'localhost',
    alpn: o.alpn ?? [],
    ca: o.ca,
    insecure: o.ca === undefined,
    profile: o.profile ?? 'rfc',
    runs: o.runs ?? AUDIT_TEST_RUNS,
    timeoutMs: 10_000,
    budgetMs: 90_000,
    concurrency: 4,
    seed: o.seed ?? 20260101,
    settleMs: 250,
    outDir,
    checks: o.checks,
    progress: () => undefined,
  });
  return auditRun(report, outDir);
}

/** A finished audit (of a server or of a client) whose reports and traces are in `outDir`. */
export function auditRun(report: AuditReport, outDir: string): AuditRun {
  return {
    report,
    outDir,
    finding(id) {
      const f = report.findings.find((x) => x.id === id);
      if (!f) throw new Error(`no finding ${id} in ${report.findings.map((x) => x.id).join(', ')}`);
      return f;
    },
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}

/** "id: verdict (observed)" for every finding, for readable assertion failures. */
export function summary(r: AuditReport): string {
  return r.findings.map((f) => `${f.id}: ${f.verdict} (${f.observed.summary})`).join('\n');
}
