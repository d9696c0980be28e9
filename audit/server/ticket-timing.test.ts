/**
 * When the audited server's tickets arrive: after the client Finished (the
 * default of tlschart's server), or with the server's flight, the server having
 * computed the client Finished itself (RFC 8446 §4.6.1; tlschart's
 * earlyTickets, Go's crypto/tls). The probe reads the flight only up to the
 * server Finished, so early tickets are read after its own Finished left: the
 * audit must still say they came before it, and a client that closes at once
 * then keeps them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import type { CertifiedKey, ServerConfig } from '../../machines/types.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import { type AuditRun, auditPort, summary } from '../testing/audit-run.js';
import { startEngineServer } from '../testing/engine-server.js';

let cert: CertifiedKey;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  cert = certifiedKey(g.certPem, g.keyPem, 'ticket timing', nobleProvider);
});

async function audit(config: Partial<ServerConfig>): Promise<AuditRun> {
  const s = await startEngineServer({ certificates: [cert], config });
  try {
    return await auditPort(s.port, { checks: ['tickets.first-ticket-delay', 'tickets.issued'], runs: 1 });
  } finally {
    await s.stop();
  }
}

describe('tickets.first-ticket-delay', () => {
  it('measures the delay after the client Finished of a server that waits for it', async () => {
    const run = await audit({});
    try {
      const f = run.finding('tickets.first-ticket-delay');
      expect(f, summary(run.report)).toMatchObject({ verdict: 'info', measured: { firstTicketBeforeFinished: false } });
      expect(f.measured.firstTicketAfterFinishedMs).toBeGreaterThanOrEqual(0);
      expect(f.observed.summary).toMatch(/ms after the client Finished/);
    } finally {
      await run.remove();
    }
  });

  it('says that the tickets of an earlyTickets server came with its flight, before the client Finished', async () => {
    const run = await audit({ earlyTickets: true });
    try {
      const f = run.finding('tickets.first-ticket-delay');
      expect(f, summary(run.report)).toMatchObject({ verdict: 'info', measured: { firstTicketBeforeFinished: true } });
      expect(f.observed.summary).toMatch(/before the client Finished/);
      // So a client that closes right after its Finished has them all.
      expect(run.finding('tickets.issued')).toMatchObject({
        verdict: 'pass',
        measured: { ticketsWhenWaiting: 2, ticketsWhenClosingAtOnce: 2 },
      });
    } finally {
      await run.remove();
    }
  });
});
