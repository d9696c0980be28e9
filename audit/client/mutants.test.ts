/**
 * The client audit's mutation gate: tlschart clients that each break one
 * rule (built with clientMachine.provide), audited with the checks that
 * concern them. Each must be flagged by its finding, and the trace of the
 * connection must show where it left the client chart; the unmutated client,
 * audited with the same checks, passes them all (strict profile included).
 */
import { describe, expect, it } from 'vitest';
import type { clientMachine } from '../../machines/client/machine.js';
import { verdictUnder } from '../findings.js';
import { summary } from '../testing/audit-run.js';
import { auditRunner, type ClientAuditRun } from './testing/audit-run.js';
import { engineClientRunner } from './testing/engine-client.js';
import {
  acceptsCertificateAfterPsk,
  acceptsUnofferedEarlyData,
  changesRandomAfterRetry,
  dropsPskAfterRetry,
  keepsLifetimeZeroTickets,
  offersPskKe,
  omitsPskModes,
  reusesKeyShare,
  skipsFinishedCheck,
} from './testing/mutants.js';

/** In the order of the report. */
const GATE = [
  'offer.psk-modes',
  'offer.psk-dhe-ke',
  'offer.fresh-key-share',
  'hrr.second-hello',
  'hrr.psk-kept',
  'ticket-handling.lifetime-zero',
  'reply.certificate-after-psk',
  'reply.unoffered-early-data',
  'reply.wrong-finished',
];

async function audit(machine: typeof clientMachine | undefined, checks: string[]): Promise<ClientAuditRun> {
  return auditRunner(engineClientRunner(machine ? 'a tlschart client mutant' : 'the tlschart client engine', machine), { checks });
}

/** Audit `machine` with `check` alone: the finding must be a failure. */
async function expectFails(machine: typeof clientMachine, check: string): Promise<void> {
  const run = await audit(machine, [check]);
  try {
    expect(run.finding(check), summary(run.report)).toMatchObject({ verdict: 'fail' });
  } finally {
    await run.remove();
  }
}

describe('the mutation gate of the client audit', () => {
  it('passes the unmutated client on every check of the gate, strict profile included', async () => {
    const run = await audit(undefined, GATE);
    try {
      expect(
        run.report.findings.map((f) => [f.id, verdictUnder(f, 'strict')]),
        summary(run.report),
      ).toEqual(GATE.map((id) => [id, 'pass']));
      expect(run.divergentTraces()).toEqual([]);
    } finally {
      await run.remove();
    }
  }, 60_000);

  it('flags a client that accepts early_data in EncryptedExtensions it did not offer: reply.unoffered-early-data fails', async () => {
    const run = await audit(acceptsUnofferedEarlyData, ['reply.unoffered-early-data']);
    try {
      const f = run.finding('reply.unoffered-early-data');
      expect(f, summary(run.report)).toMatchObject({ verdict: 'fail', measured: { clientFinished: true, alert: null } });
      expect(f.observed.divergence).toMatchObject({
        state: 'expectEncryptedExtensions',
        message: 'encrypted_extensions',
        alert: 'unsupported_extension',
      });
    } finally {
      await run.remove();
    }
  }, 60_000);

  it('flags a client that skips the server Finished check: reply.wrong-finished fails', async () => {
    const run = await audit(skipsFinishedCheck, ['reply.wrong-finished']);
    try {
      const f = run.finding('reply.wrong-finished');
      expect(f, summary(run.report)).toMatchObject({ verdict: 'fail', measured: { clientFinished: true, alert: null } });
      // The probing server knows the Finished it sent does not verify: the trace records it, and the chart refuses it.
      expect(f.observed.divergence).toMatchObject({ state: 'expectServerFinished', message: 'finished', alert: 'decrypt_error' });
    } finally {
      await run.remove();
    }
  }, 60_000);

  it('flags a client that accepts a Certificate after a PSK ServerHello: reply.certificate-after-psk fails', async () => {
    const run = await audit(acceptsCertificateAfterPsk, ['reply.certificate-after-psk']);
    try {
      const f = run.finding('reply.certificate-after-psk');
      expect(f, summary(run.report)).toMatchObject({ verdict: 'fail', measured: { clientFinished: true } });
      expect(f.observed.divergence).toMatchObject({ state: 'expectServerFinished', message: 'certificate', alert: 'unexpected_message' });
    } finally {
      await run.remove();
    }
  }, 60_000);

  it('flags a client that offers psk_ke: offer.psk-dhe-ke violates the policy, a failure under the strict profile', async () => {
    const run = await audit(offersPskKe, ['offer.psk-dhe-ke']);
    try {
      const f = run.finding('offer.psk-dhe-ke');
      expect(f, summary(run.report)).toMatchObject({ rfcVerdict: 'info', policy: { violated: true }, measured: { offersPskKe: true } });
      expect(verdictUnder(f, 'strict')).toBe('fail');
    } finally {
      await run.remove();
    }
  }, 60_000);

  /** Mutants each flagged by one failing check: what the client does wrong, the mutant, the check. */
  const FLAGGED: [string, typeof clientMachine, string][] = [
    ['that offers a PSK without psk_key_exchange_modes', omitsPskModes, 'offer.psk-modes'],
    ['that keeps a ticket whose lifetime is 0', keepsLifetimeZeroTickets, 'ticket-handling.lifetime-zero'],
    ['that drops a fitting ticket from its second ClientHello', dropsPskAfterRetry, 'hrr.psk-kept'],
    ['whose second ClientHello has another random', changesRandomAfterRetry, 'hrr.second-hello'],
    ['that sends the same key share on every connection', reusesKeyShare, 'offer.fresh-key-share'],
  ];
  for (const [what, machine, check] of FLAGGED) {
    it(`flags a client ${what}: ${check} fails`, () => expectFails(machine, check), 60_000);
  }
});
