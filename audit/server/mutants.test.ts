/**
 * The auditor's mutation gate: tlschart servers that each break one rule,
 * audited with the checks that concern it. The audit must flag each with the
 * right finding; a mutant it does not flag survives and fails its test. The
 * unmutated server, audited with the same checks, passes them all.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import type { ServerOptions } from '../../engine/connection.js';
import type { CertifiedKey } from '../../machines/types.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import type { Profile } from '../findings.js';
import { type AuditRun, auditPort, summary } from '../testing/audit-run.js';
import { startEngineServer } from '../testing/engine-server.js';
import {
  acceptsEarlyData,
  BinderIgnoringServer,
  noTicketsAfterResumption,
  OutOfOrderIgnoringServer,
  omitsKeyShareOnResumption,
  PskKeAcceptingServer,
  ReusableTicketStore,
  repeatsTicketAgeAdd,
  repeatsTicketNonce,
  reusesServerKeyShare,
  SloppyTicketStore,
  sendsCertificateOnResumption,
  ticketLifetimeOverSevenDays,
} from '../testing/mutants.js';

let cert: CertifiedKey;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  cert = certifiedKey(g.certPem, g.keyPem, 'mutant', nobleProvider);
});

/** Every check the binder-ignoring server must fail: each sends a binder that is wrong in its own way. */
const BINDER_CHECKS = [
  'binders.flipped-bit',
  'binders.wrong-length',
  'binders.external-label',
  'binders.wrong-transcript',
  'binders.bad-first-good-second',
  'hrr-psk.recomputed-binder',
];

const GATE_CHECKS = [
  ...BINDER_CHECKS,
  'psk-modes.psk-ke-only',
  'psk-modes.unknown-mode',
  'early-data.accepted',
  'replay',
  'resumption',
  'tickets.lifetime',
  'tickets.age-add-fresh',
  'tickets.nonce-unique',
  'tickets.bit-flip',
];

async function audit(
  server: Omit<Parameters<typeof startEngineServer>[0], 'certificates'>,
  checks: string[],
  profile: Profile = 'rfc',
): Promise<AuditRun> {
  const s = await startEngineServer({ certificates: [cert], ...server });
  try {
    return await auditPort(s.port, { checks, profile, runs: 2 });
  } finally {
    await s.stop();
  }
}

describe('the mutation gate of the auditor', () => {
  it('passes the unmutated server on every check of the gate, strict profile included', async () => {
    const run = await audit({}, GATE_CHECKS, 'strict');
    expect(
      run.report.findings.filter((f) => f.verdict !== 'pass'),
      summary(run.report),
    ).toEqual([]);
    await run.remove();
  });

  it('flags a server that skips the binder check: every wrong-binder check fails, binders.flipped-bit with the server resumed', async () => {
    const run = await audit({ connection: (o, store) => new BinderIgnoringServer(o, store) }, BINDER_CHECKS);
    expect(run.finding('binders.flipped-bit')).toMatchObject({ verdict: 'fail', measured: { outcome: 'resumed' } });
    expect(
      BINDER_CHECKS.map((id) => [id, run.finding(id).verdict]),
      summary(run.report),
    ).toEqual(BINDER_CHECKS.map((id) => [id, 'fail']));
    await run.remove();
  });

  it('flags a server that resumes a psk_ke-only offer: psk-modes.psk-ke-only fails (and with a key share psk_ke forbids), psk-modes.unknown-mode too', async () => {
    const run = await audit({ connection: (o, store) => new PskKeAcceptingServer(o, store) }, [
      'psk-modes.psk-ke-only',
      'psk-modes.unknown-mode',
    ]);
    expect(run.finding('psk-modes.psk-ke-only')).toMatchObject({
      verdict: 'fail',
      measured: { outcome: 'resumed' },
      policy: { violated: true },
    });
    // It also resumes an offer whose only mode is unknown (a psk_dhe_ke offer it never got).
    expect(run.finding('psk-modes.unknown-mode'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server that accepts early data: early-data.accepted fails, and violates the 0-RTT policy', async () => {
    const run = await audit({ machine: acceptsEarlyData }, ['early-data.accepted'], 'strict');
    expect(run.finding('early-data.accepted')).toMatchObject({
      verdict: 'fail',
      measured: { earlyDataAccepted: true },
      policy: { violated: true },
    });
    await run.remove();
  });

  it('flags a server whose tickets resume more than once: replay fails under the strict profile', async () => {
    const run = await audit({ ticketStore: new ReusableTicketStore() }, ['replay'], 'strict');
    expect(run.finding('replay.sequential')).toMatchObject({
      verdict: 'fail',
      rfcVerdict: 'info',
      measured: { first: 'resumed', second: 'resumed' },
    });
    expect(run.finding('replay.parallel')).toMatchObject({ verdict: 'fail', measured: { offers: 2, resumed: 2 } });
    await run.remove();
  });

  it('flags a server that resumes without a key share: resumption.key-share fails', async () => {
    const run = await audit({ machine: omitsKeyShareOnResumption }, ['resumption']);
    expect(run.finding('resumption.key-share'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server that sends its Certificate on resumption: resumption.no-certificate fails', async () => {
    const run = await audit({ machine: sendsCertificateOnResumption(cert) }, ['resumption']);
    expect(run.finding('resumption.no-certificate'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server whose tickets live longer than 7 days: tickets.lifetime fails', async () => {
    const run = await audit({ machine: ticketLifetimeOverSevenDays }, ['tickets.lifetime']);
    expect(run.finding('tickets.lifetime'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server that gives every ticket the same ticket_age_add: tickets.age-add-fresh fails', async () => {
    const run = await audit({ machine: repeatsTicketAgeAdd }, ['tickets.age-add-fresh']);
    expect(run.finding('tickets.age-add-fresh'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server that gives the tickets of a connection one ticket_nonce: tickets.nonce-unique fails', async () => {
    const run = await audit({ machine: repeatsTicketNonce }, ['tickets.nonce-unique']);
    expect(run.finding('tickets.nonce-unique'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server whose store finds a session for a ticket with a bit flipped: tickets.bit-flip warns (a MAY) and violates the policy, a failure under the strict profile', async () => {
    for (const [profile, verdict] of [
      ['rfc', 'warn'],
      ['strict', 'fail'],
    ] as const) {
      const run = await audit({ ticketStore: new SloppyTicketStore() }, ['tickets.bit-flip'], profile);
      expect(run.finding('tickets.bit-flip'), summary(run.report)).toMatchObject({
        verdict,
        measured: { outcome: 'resumed' },
        policy: { violated: true },
      });
      await run.remove();
    }
  });

  it('flags a server that issues no tickets after a resumption: resumption.new-tickets warns (a SHOULD)', async () => {
    const run = await audit({ machine: noTicketsAfterResumption }, ['resumption']);
    expect(run.finding('resumption.new-tickets'), summary(run.report)).toMatchObject({ verdict: 'warn' });
    // The unmutated server gets new tickets on every resumption (the gate's first test audits it too).
    expect(run.finding('resumption.success-rate')).toMatchObject({ verdict: 'pass' });
    await run.remove();
  });

  it('flags a server that answers every connection with the same key share: resumption.fresh-key-share fails', async () => {
    const run = await audit({ machine: reusesServerKeyShare }, ['resumption']);
    expect(run.finding('resumption.fresh-key-share'), summary(run.report)).toMatchObject({ verdict: 'fail' });
    await run.remove();
  });

  it('flags a server that ignores messages out of order: fast-check finds a sequence, shrinks it to one injected message, and the seed replays it', async () => {
    const ignoring = { connection: (o: ServerOptions) => new OutOfOrderIgnoringServer(o) };
    const audits = [];
    for (let i = 0; i < 2; i++) {
      const s = await startEngineServer({ certificates: [cert], ...ignoring });
      try {
        audits.push(await auditPort(s.port, { checks: ['out-of-order'], runs: 12, seed: 424242 }));
      } finally {
        await s.stop();
      }
    }
    const [first, again] = audits.map((a) => a.finding('out-of-order.psk-path'));
    expect(first?.verdict, JSON.stringify(first?.measured)).toBe('fail');
    const counterexample = first?.measured.counterexample as { sequence: string; mutations: string; chart: string; server: string };
    expect(counterexample.mutations).toMatch(/^inject (Certificate|CertificateVerify|EndOfEarlyData|NewSessionTicket) at #\d$/);
    expect(counterexample.sequence).toMatch(
      /^ClientHello, (Certificate|CertificateVerify|EndOfEarlyData|NewSessionTicket), Finished, ApplicationData$/,
    );
    expect(counterexample).toMatchObject({ chart: 'alert unexpected_message', server: 'no alert (handshake completed)' });
    // The same seed, the same counterexample.
    expect(again?.measured.counterexample).toMatchObject({ sequence: counterexample.sequence, mutations: counterexample.mutations });
    // Its trace shows where the server left the chart.
    expect(first?.observed.divergence).toMatchObject({ state: 'expectClientFinished', alert: 'unexpected_message' });
    for (const a of audits) await a.remove();
  }, 120_000);
});
