/**
 * The client audit's mutation gate: tlschart clients that each break one
 * rule (built with clientMachine.provide, or the chart with one transition
 * added), audited with the checks that concern them. Each must be flagged by
 * its finding, and where a mutant goes on where the chart refuses, the trace
 * of the connection must show where it left the client chart; the unmutated client,
 * audited with the same checks, passes them all (strict profile included).
 */
import { describe, expect, it } from 'vitest';
import type { clientMachine } from '../../machines/client/machine.js';
import { verdictUnder } from '../findings.js';
import { summary } from '../testing/audit-run.js';
import { auditRunner, type ClientAuditRun } from './testing/audit-run.js';
import { engineClientRunner } from './testing/engine-client.js';
import {
  acceptsApplicationDataBeforeFinished,
  acceptsCertificateAfterPsk,
  acceptsCertificateVerifyAfterPsk,
  acceptsOutOfRangeIdentity,
  acceptsPskWithoutKeyShare,
  acceptsSuiteHashMismatch,
  acceptsUnofferedEarlyData,
  bindsSecondHelloAlone,
  bindsWithWrongKey,
  changesRandomAfterRetry,
  dropsPskAfterRetry,
  emptiesKeySharesWithPsk,
  ignoresMalformedTicket,
  keepsLifetimeZeroTickets,
  keepsTicketsOverSevenDays,
  offersEarlyDataWhereAllowed,
  offersEarlyDataWithoutPermission,
  offersPskKe,
  omitsKeyShareWithPsk,
  omitsPskModes,
  omitsTicketAgeAdd,
  putsPskFirst,
  refusesManyTickets,
  refusesUnknownTicketExtension,
  reoffersResumedTicket,
  reusesKeyShare,
  skipsFinishedCheck,
} from './testing/mutants.js';

/** In the order of the report. */
const GATE = [
  'offer.psk-modes',
  'offer.psk-dhe-ke',
  'offer.psk-last',
  'offer.binder',
  'offer.ticket-age',
  'offer.key-share',
  'offer.fresh-key-share',
  'offer.early-data',
  'offer.single-use',
  'hrr.second-hello',
  'hrr.psk-kept',
  'hrr.binder',
  'ticket-handling.lifetime-zero',
  'ticket-handling.lifetime-over-7-days',
  'ticket-handling.unknown-extension',
  'ticket-handling.empty-ticket',
  'ticket-handling.many',
  'ticket-handling.early-data',
  'reply.selected-identity-out-of-range',
  'reply.psk-without-key-share',
  'reply.suite-hash-mismatch',
  'reply.certificate-after-psk',
  'reply.certificate-verify-after-psk',
  'reply.unoffered-early-data',
  'reply.skip-finished',
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
    ["that binds its PSK offer with another key than the ticket's", bindsWithWrongKey, 'offer.binder'],
    ['that binds its second ClientHello without message_hash and the HelloRetryRequest', bindsSecondHelloAlone, 'hrr.binder'],
    ['that sends ticket ages without ticket_age_add', omitsTicketAgeAdd, 'offer.ticket-age'],
    ['that offers early_data with a ticket that does not allow it', offersEarlyDataWithoutPermission, 'offer.early-data'],
    ['that offers psk_dhe_ke without key_share', omitsKeyShareWithPsk, 'offer.key-share'],
  ];
  for (const [what, machine, check] of FLAGGED) {
    it(`flags a client ${what}: ${check} fails`, () => expectFails(machine, check), 60_000);
  }

  it('passes a client whose psk_dhe_ke offer has an empty client_shares (RFC 8446 §4.2.8): offer.key-share asks for the extension, not a share', async () => {
    const run = await audit(emptiesKeySharesWithPsk, ['offer.key-share']);
    try {
      const f = run.finding('offer.key-share');
      expect(f, summary(run.report)).toMatchObject({
        verdict: 'pass',
        measured: { withoutShare: 0 },
        observed: { summary: expect.stringContaining('empty client_shares') },
      });
      // Every first hello with a PSK had its shares emptied (the second, after the retry, has one).
      expect(f?.measured?.emptyShares).toBeGreaterThan(0);
    } finally {
      await run.remove();
    }
  }, 60_000);

  /**
   * Mutants that go on where the chart refuses: what the client does wrong, the mutant, the
   * check, what the probing server measured, and where the trace leaves the client chart.
   */
  const DIVERGING: [string, typeof clientMachine, string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      'that puts pre_shared_key first',
      putsPskFirst,
      'offer.psk-last',
      {},
      // Where it happened: the ClientHello itself, which the codec refuses (§4.2.11).
      { message: 'sent client_hello', section: '§4.2.11', alert: null, requirement: expect.stringMatching(/pre_shared_key/) },
    ],
    [
      'that accepts a selected_identity out of range',
      acceptsOutOfRangeIdentity,
      'reply.selected-identity-out-of-range',
      { clientFinished: true, alert: null, answeredUnderHandshakeKeys: true },
      { state: 'expectServerHello', message: 'server_hello', alert: 'illegal_parameter' },
    ],
    [
      'that accepts a PSK ServerHello without key_share',
      acceptsPskWithoutKeyShare,
      'reply.psk-without-key-share',
      { clientFinished: true, alert: null, answeredUnderHandshakeKeys: true },
      { state: 'expectServerHello', message: 'server_hello', alert: 'illegal_parameter' },
    ],
    [
      'that accepts a CertificateVerify after a PSK ServerHello',
      acceptsCertificateVerifyAfterPsk,
      'reply.certificate-verify-after-psk',
      { clientFinished: true, alert: null },
      { state: 'expectServerFinished', message: 'certificate_verify', alert: 'unexpected_message' },
    ],
    [
      'that takes application data in place of the server Finished',
      acceptsApplicationDataBeforeFinished,
      'reply.skip-finished',
      { clientFinished: null, alert: null },
      { state: 'expectServerFinished', message: 'application_data', alert: 'unexpected_message' },
    ],
    [
      'that ignores a NewSessionTicket with an empty ticket',
      ignoresMalformedTicket,
      'ticket-handling.empty-ticket',
      { alert: null },
      { state: 'connected', message: 'new_session_ticket', alert: 'decode_error' },
    ],
    [
      `that refuses more than 8 tickets`,
      refusesManyTickets,
      'ticket-handling.many',
      { alert: 'unexpected_message' },
      { state: 'connected', message: 'new_session_ticket', alert: null },
    ],
    [
      'that refuses a ticket with an unknown extension',
      refusesUnknownTicketExtension,
      'ticket-handling.unknown-extension',
      { alert: 'unsupported_extension' },
      { state: 'connected', message: 'new_session_ticket', alert: null },
    ],
  ];
  for (const [what, machine, check, measured, divergence] of DIVERGING) {
    it(`flags a client ${what}: ${check} fails`, async () => {
      const run = await audit(machine, [check]);
      try {
        const f = run.finding(check);
        expect(f, summary(run.report)).toMatchObject({ verdict: 'fail', measured });
        expect(f.observed.divergence).toMatchObject(divergence);
      } finally {
        await run.remove();
      }
    }, 60_000);
  }

  it("flags a client that does not compare the suite's hash with the ticket's: reply.suite-hash-mismatch fails", async () => {
    const run = await audit(acceptsSuiteHashMismatch, ['reply.suite-hash-mismatch']);
    try {
      // It keys the handshake its own way: no Finished the probing server can read, but it answered under handshake keys.
      expect(run.finding('reply.suite-hash-mismatch'), summary(run.report)).toMatchObject({
        verdict: 'fail',
        measured: { answeredUnderHandshakeKeys: true, alert: null, clientFinished: null },
      });
    } finally {
      await run.remove();
    }
  }, 60_000);

  /** Mutants that break a SHOULD or tlschart's policy: the RFC verdict and what was measured; each fails under the strict profile. */
  const POLICY: [string, typeof clientMachine, string, string, Record<string, unknown>][] = [
    ['that offers again the ticket it resumed with', reoffersResumedTicket, 'offer.single-use', 'warn', { reoffered: 1 }],
    [
      'that keeps a ticket whose lifetime is over 7 days',
      keepsTicketsOverSevenDays,
      'ticket-handling.lifetime-over-7-days',
      'info',
      { offered: true },
    ],
  ];
  for (const [what, machine, check, rfcVerdict, measured] of POLICY) {
    it(`flags a client ${what}: ${check} violates the policy, a failure under the strict profile`, async () => {
      const run = await audit(machine, [check]);
      try {
        const f = run.finding(check);
        expect(f, summary(run.report)).toMatchObject({ rfcVerdict, policy: { violated: true }, measured });
        expect(verdictUnder(f, 'strict')).toBe('fail');
      } finally {
        await run.remove();
      }
    }, 60_000);
  }

  it('flags a client that offers early_data with a ticket that allows it: ticket-handling.early-data violates the policy, and offer.early-data passes it', async () => {
    const run = await audit(offersEarlyDataWhereAllowed, ['offer.early-data', 'ticket-handling.early-data']);
    try {
      const f = run.finding('ticket-handling.early-data');
      expect(f, summary(run.report)).toMatchObject({
        rfcVerdict: 'info',
        policy: { violated: true },
        measured: { earlyData: true, earlyRecords: 0, firstIdentityAllowsEarlyData: true },
      });
      expect(verdictUnder(f, 'strict')).toBe('fail');
      // RFC 8446 §4.2.10 allows this offer: the check of offers without permission tells the two apart.
      expect(run.finding('offer.early-data')).toMatchObject({ verdict: 'pass', measured: { earlyDataOffers: 1, withoutPermission: 0 } });
    } finally {
      await run.remove();
    }
  }, 60_000);
});
