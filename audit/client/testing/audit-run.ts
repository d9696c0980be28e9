/**
 * Running a client audit from a test: a throwaway certificate for the two
 * server names, a temp output directory, the probing server on a free
 * loopback port, and a lookup by finding id.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nobleProvider } from '../../../crypto/noble.js';
import type { CertifiedKey } from '../../../machines/types.js';
import { certifiedKey } from '../../../net/options.js';
import { generateSelfSigned } from '../../../pki/generate.js';
import { loadTrace } from '../../../traces/format.js';
import { checkTrace } from '../../../traces/monitor.js';
import type { Profile } from '../../findings.js';
import { type AuditRun, auditRun } from '../../testing/audit-run.js';
import { auditClient } from '../run.js';
import type { ClientRunner } from '../runner.js';

export const SERVER_NAME = 'localhost';
export const SERVER_NAME_2 = 'other.localhost';

let cert: Promise<{ key: CertifiedKey; pem: string }> | undefined;

/** One certificate for every audit of a test file (for both names and 127.0.0.1). */
export function auditCertificate(): Promise<{ key: CertifiedKey; pem: string }> {
  cert ??= generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: [SERVER_NAME, SERVER_NAME_2], ips: ['127.0.0.1'] }).then((g) => ({
    key: certifiedKey(g.certPem, g.keyPem, 'audit client test', nobleProvider),
    pem: g.certPem,
  }));
  return cert;
}

export interface ClientAuditRun extends AuditRun {
  /** The traces of the audit that `trace check` does not accept, with the first violation of each. */
  divergentTraces(): string[];
}

export interface ClientAuditRunOptions {
  checks?: string[];
  profile?: Profile;
  timeoutMs?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** Audit the client `runner` starts. */
export async function auditRunner(runner: ClientRunner, o: ClientAuditRunOptions = {}): Promise<ClientAuditRun> {
  const outDir = await mkdtemp(join(tmpdir(), 'tlschart-audit-client-test-'));
  const c = await auditCertificate();
  const caFile = join(outDir, 'server-cert.pem');
  await writeFile(caFile, c.pem);
  const report = await auditClient({
    runner,
    listen: { host: '127.0.0.1', port: 0 },
    certificate: c.key,
    caFile,
    serverName: SERVER_NAME,
    serverName2: SERVER_NAME_2,
    profile: o.profile ?? 'rfc',
    checks: o.checks,
    timeoutMs: o.timeoutMs ?? 30_000,
    // Shorter than the CLI's 250 ms: clients that wait for the server to close (openssl s_client) make many connections.
    settleMs: 100,
    reactMs: 3000,
    ageToleranceMs: 2000,
    outDir,
    progress: o.progress ?? (() => undefined),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return {
    ...auditRun(report, outDir),
    divergentTraces() {
      const out: string[] = [];
      for (const t of new Set(report.findings.flatMap((f) => f.traces))) {
        const loaded = loadTrace(join(outDir, t));
        if (!loaded.ok) {
          out.push(`${t}: ${loaded.error}`);
          continue;
        }
        const r = checkTrace(loaded.trace);
        if (!r.conforms) out.push(`${t}: step ${r.violation.step} (${r.violation.state}, ${r.violation.message}): ${r.violation.recorded}`);
      }
      return out.sort();
    },
  };
}
