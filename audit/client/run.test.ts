/**
 * The client audit's scheduler: which checks a --checks list runs, listen
 * mode (no --exec: one check armed at a time, whatever connects is served
 * by it), a client that never connects (inconclusive, exit status 2), an
 * interrupted audit, an address that cannot be listened on, and the README
 * row of every check.
 */

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitStatus } from '../findings.js';
import { ALL_PROBES, auditClient, type ClientAuditOptions, scenariosFor, selectProbes } from './run.js';
import { functionRunner } from './runner.js';
import { auditCertificate, auditRunner, SERVER_NAME, SERVER_NAME_2 } from './testing/audit-run.js';
import { connectEngine } from './testing/engine-client.js';

async function options(o: Partial<ClientAuditOptions>): Promise<ClientAuditOptions & { remove(): Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'tlschart-audit-client-run-test-'));
  const c = await auditCertificate();
  return {
    runner: undefined,
    listen: { host: '127.0.0.1', port: 0 },
    certificate: c.key,
    caFile: join(outDir, 'cert.pem'),
    serverName: SERVER_NAME,
    serverName2: SERVER_NAME_2,
    profile: 'rfc',
    checks: undefined,
    timeoutMs: 20_000,
    settleMs: 100,
    reactMs: 3000,
    ageToleranceMs: 2000,
    outDir,
    progress: () => undefined,
    ...o,
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}

describe('which checks run', () => {
  it('selects families and single probes, names what it does not know, and runs the checks they need', () => {
    expect(selectProbes(['ticket-handling']).probes.map((p) => p.id)).toContain('ticket-handling.empty-ticket');
    expect(selectProbes(['offer.binder', 'nope']).unknown).toEqual(['nope']);
    expect(selectProbes(undefined).probes.length).toBe(28);
    expect(scenariosFor(selectProbes(['offer.binder', 'offer.single-use']).probes).map((s) => s.id)).toEqual(['resumption', 'single-use']);
    expect(scenariosFor(selectProbes(['reply']).probes)).toHaveLength(8);
    expect(scenariosFor(selectProbes(['hrr.binder', 'ticket-handling.many']).probes).map((s) => s.id)).toEqual([
      'hello-retry',
      'many-tickets',
    ]);
  });

  it('is documented: the README has a row for every check, with its RFC section and keyword', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const p of ALL_PROBES) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${p.id}\` |`));
      expect(row, p.id).toBeDefined();
      expect(row, p.id).toContain(`${p.rfc.document === undefined ? '' : `${p.rfc.document} `}§${p.rfc.section} ${p.rfc.keyword} |`);
    }
  });
});

describe('listen mode: whatever connects', () => {
  it('arms one check at a time, says what it waits for, and audits the connections that come', async () => {
    const lines: string[] = [];
    let clientDone: Promise<unknown> = Promise.resolve();
    const o = await options({
      checks: ['ticket-handling.many', 'ticket-handling.unknown-extension'],
      progress: (line) => {
        lines.push(line);
        const port = Number(/probing server on 127\.0\.0\.1:(\d+)/.exec(lines.join('\n'))?.[1]);
        if (line.startsWith('armed: ')) {
          // A client that connects twice, offering on the second connection the newest ticket of the first.
          clientDone = (async () => {
            const first = await connectEngine({ host: '127.0.0.1', port, serverName: SERVER_NAME });
            const session = first.sessions.at(-1);
            await connectEngine({ host: '127.0.0.1', port, serverName: SERVER_NAME, ...(session ? { session } : {}) });
          })();
        }
      },
    });
    try {
      const report = await auditClient(o);
      await clientDone;
      expect(lines.filter((l) => l.startsWith('armed: '))).toEqual([
        expect.stringMatching(
          /^armed: unknown-extension — connect twice: a full handshake that receives the tickets, then another connection \(to 127\.0\.0\.1:\d+, SNI localhost\); waiting up to 20 s$/,
        ),
        expect.stringMatching(/^armed: many-tickets — connect twice/),
      ]);
      expect(report.subject).toEqual({
        role: 'client',
        target: expect.stringMatching(/^whatever connects to 127\.0\.0\.1:\d+$/),
        serverName: 'localhost',
      });
      expect(report.findings.map((f) => [f.id, f.verdict])).toEqual([
        ['ticket-handling.unknown-extension', 'pass'],
        ['ticket-handling.many', 'pass'],
      ]);
      expect(report.settings.connections).toBe(4);
    } finally {
      await o.remove();
    }
  }, 60_000);
});

describe('an audit that cannot judge', () => {
  it('reports a client that never connects as inconclusive (exit status 2), with what the command said', async () => {
    const run = await auditRunner(
      functionRunner('a client that never connects', async () => Promise.reject(new Error('connect ECONNREFUSED'))),
      { checks: ['ticket-handling.many', 'offer.binder'] },
    );
    try {
      expect(run.report.inconclusive).toMatch(
        /^the client never connected to 127\.0\.0\.1:\d+; the command exited with status 1: connect ECONNREFUSED$/,
      );
      expect(run.report.findings.map((f) => f.verdict)).toEqual(['inconclusive', 'inconclusive']);
      expect(exitStatus(run.report)).toBe(2);
    } finally {
      await run.remove();
    }
  });

  it('leaves the checks it cannot run any more inconclusive when it is interrupted', async () => {
    const controller = new AbortController();
    const run = await auditRunner(
      functionRunner('a client that waits', (_p, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve()))),
      {
        checks: ['ticket-handling'],
        signal: controller.signal,
        progress: (l) => l.includes('(lifetime-zero)') && setTimeout(() => controller.abort(), 50),
      },
    );
    try {
      expect(
        run.report.findings.every((f) => f.verdict === 'inconclusive' && f.reason === 'the audit was interrupted'),
        JSON.stringify(run.report.findings.map((f) => f.reason)),
      ).toBe(true);
    } finally {
      await run.remove();
    }
  });

  it('says so when the address cannot be listened on', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as AddressInfo).port;
    const o = await options({
      runner: functionRunner('x', async () => undefined),
      listen: { host: '127.0.0.1', port },
      checks: ['ticket-handling.many'],
    });
    try {
      const report = await auditClient(o);
      expect(report.inconclusive).toMatch(new RegExp(`^the probing server cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
      expect(exitStatus(report)).toBe(2);
    } finally {
      busy.close();
      await o.remove();
    }
  });
});
