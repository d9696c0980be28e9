/**
 * The scheduler's bounds: every connection goes through the one target, no
 * more than --concurrency are open at once, a spent budget leaves the
 * remaining checks inconclusive with the reason, and --checks selects
 * families or single probes.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import type { CertifiedKey } from '../../machines/types.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import { engineTarget, type Target } from '../probe/target.js';
import type { Transport } from '../probe/transport.js';
import { ALL_PROBES, type AuditOptions, auditServer, selectProbes } from './run.js';

let cert: CertifiedKey;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
  cert = certifiedKey(g.certPem, g.keyPem, 'run', nobleProvider);
});

/** A target that counts the connections opened through it and how many were open at once. */
function counting(inner: Target): Target & { opened: number; maxOpen: number } {
  let open = 0;
  const t = {
    label: inner.label,
    opened: 0,
    maxOpen: 0,
    async open(timeoutMs: number): Promise<Transport> {
      const transport = await inner.open(timeoutMs);
      t.opened++;
      open++;
      t.maxOpen = Math.max(t.maxOpen, open);
      let closed = false;
      const done = () => {
        if (!closed) open--;
        closed = true;
      };
      return {
        write: (b) => transport.write(b),
        end: () => transport.end(),
        destroy: () => {
          done();
          transport.destroy();
        },
        read: async (deadline) => transport.read(deadline),
        get ended() {
          return transport.ended;
        },
      };
    },
  };
  return t;
}

async function audit(target: Target, o: Partial<AuditOptions> = {}) {
  const outDir = await mkdtemp(join(tmpdir(), 'tlschart-audit-run-'));
  try {
    return await auditServer({
      target,
      serverName: 'localhost',
      alpn: [],
      ca: undefined,
      insecure: true,
      profile: 'rfc',
      runs: 4,
      timeoutMs: 5000,
      budgetMs: 60_000,
      concurrency: 2,
      seed: 1,
      settleMs: 100,
      outDir,
      checks: undefined,
      progress: () => undefined,
      ...o,
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

describe('the audit scheduler', () => {
  it('opens every connection through its one target, never more than --concurrency at once', async () => {
    const target = counting(engineTarget({ certificates: [cert] }));
    const report = await audit(target, { checks: ['replay'], concurrency: 2 });
    expect(report.findings.map((f) => f.verdict)).toEqual(['pass', 'pass']);
    expect(target.opened).toBe(report.settings.connections);
    expect(target.maxOpen).toBe(2);
    expect(report.findings.find((f) => f.id === 'replay.parallel')?.measured).toMatchObject({ offers: 4, resumed: 1, concurrency: 2 });
  });

  it('is inconclusive as a whole when its budget is spent before the first handshake, or before it could start', async () => {
    // A server whose answer never arrives: the preflight's handshake waits until the budget is spent.
    const inner = engineTarget({ certificates: [cert] });
    const silent: Target = {
      label: inner.label,
      async open(timeoutMs: number): Promise<Transport> {
        const transport = await inner.open(timeoutMs);
        return {
          write: (b) => transport.write(b),
          end: () => transport.end(),
          destroy: () => transport.destroy(),
          read: async (deadline) => {
            await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
            return undefined;
          },
          ended: undefined,
        };
      },
    };
    for (const [target, budgetMs] of [
      [silent, 300],
      [inner, 0],
    ] as const) {
      const report = await audit(target, { checks: ['binders'], budgetMs });
      expect(report.inconclusive).toMatch(/budget of 0 s is spent before the first handshake completed/);
      expect(report.findings.every((f) => f.verdict === 'inconclusive')).toBe(true);
    }
  });

  it('leaves the checks it cannot run any more inconclusive, with the reason, when it is stopped', async () => {
    const controller = new AbortController();
    const report = await audit(engineTarget({ certificates: [cert] }), {
      checks: ['psk-modes', 'binders'],
      signal: controller.signal,
      progress: (line) => {
        if (line.includes('(binders)')) controller.abort();
      },
    });
    expect(report.inconclusive).toBeNull();
    const byCheck = (c: string) => report.findings.filter((f) => f.check === c);
    expect(byCheck('psk-modes').map((f) => f.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(byCheck('binders').every((f) => f.verdict === 'inconclusive' && f.reason === 'the audit was interrupted')).toBe(true);
  });

  it('selects families and single probes, and names what it does not know', () => {
    expect(selectProbes(['binders']).probes.map((p) => p.id)).toContain('binders.flipped-bit');
    expect(selectProbes(['binders.empty', 'replay']).probes.map((p) => p.id)).toEqual([
      'replay.sequential',
      'replay.parallel',
      'binders.empty',
    ]);
    expect(selectProbes(['nope', 'binders']).unknown).toEqual(['nope']);
    expect(selectProbes(undefined).probes.length).toBe(49);
  });

  it('is documented: the README has a row for every probe, with its RFC section and keyword', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const p of ALL_PROBES) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${p.id}\` |`));
      expect(row, p.id).toBeDefined();
      expect(row, p.id).toContain(`§${p.rfc.section} ${p.rfc.keyword} |`);
    }
  });
});
