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
  badFinishedOnResumption,
  EndOfEarlyDataIgnoringServer,
  ForgetfulTicketStore,
  fallsBackToPskKe,
  HashBlindServer,
  issuesEarlyDataTickets,
  MALFORMED_PSK,
  MalformedPskIgnoringServer,
  ModesAssumingServer,
  MUTANT_MAX_EARLY_DATA,
  NonAtomicTicketStore,
  noTicketsAfterResumption,
  OutOfOrderIgnoringServer,
  omitsKeyShareOnResumption,
  PskKeAcceptingServer,
  PskKeFallbackServer,
  RetryBinderIgnoringServer,
  ReusableTicketStore,
  repeatsTicketAgeAdd,
  repeatsTicketNonce,
  reusesServerKeyShare,
  SloppyTicketStore,
  sendsCertificateOnResumption,
  skipsNoEarlyDataAfterRetry,
  skipsNoRefusedEarlyData,
  statelessTickets,
  TicketBurningServer,
  ticketLifetimeOverSevenDays,
  zeroRttServer,
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
  'binders.empty',
  'binders.count-mismatch',
  'binders.psk-not-last',
  'binders.ticket-kept',
  'binding.cipher-hash',
  'hrr-psk.stale-binder',
  'psk-modes.psk-ke-only',
  'psk-modes.unknown-mode',
  'psk-modes.missing-modes',
  'psk-modes.dhe-without-key-share',
  'early-data.accepted',
  'early-data.refused-skipped',
  'early-data.eoed-out-of-place',
  'early-data.hello-retry',
  'replay',
  'resumption',
  'tickets.lifetime',
  'tickets.age-add-fresh',
  'tickets.nonce-unique',
  'tickets.early-data',
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

  it('flags a server that ignores a pre_shared_key its codec refuses and does a full handshake: binders.empty and binders.psk-not-last fail, binders.count-mismatch warns', async () => {
    for (const [refused, id, verdict] of [
      [MALFORMED_PSK.emptyBinder, 'binders.empty', 'fail'],
      [MALFORMED_PSK.notLast, 'binders.psk-not-last', 'fail'],
      [MALFORMED_PSK.countMismatch, 'binders.count-mismatch', 'warn'],
    ] as const) {
      const run = await audit({ connection: (o) => new MalformedPskIgnoringServer(o, refused) }, [
        'binders.empty',
        'binders.psk-not-last',
        'binders.count-mismatch',
      ]);
      expect(run.finding(id), summary(run.report)).toMatchObject({ verdict, measured: { outcome: 'full' }, observed: { alert: null } });
      // Only the refusal it ignores: the other two are still refused as the gate requires.
      expect(
        run.report.findings.filter((f) => f.id !== id).map((f) => [f.id, f.verdict]),
        summary(run.report),
      ).toEqual(['binders.empty', 'binders.count-mismatch', 'binders.psk-not-last'].filter((x) => x !== id).map((x) => [x, 'pass']));
      await run.remove();
    }
  });

  it('flags a server that skips the binder check after its HelloRetryRequest: hrr-psk.stale-binder fails, a recomputed binder still resumes', async () => {
    const run = await audit({ connection: (o, store) => new RetryBinderIgnoringServer(o, store) }, [
      'hrr-psk.stale-binder',
      'hrr-psk.recomputed-binder',
    ]);
    expect(run.finding('hrr-psk.stale-binder'), summary(run.report)).toMatchObject({ verdict: 'fail', measured: { outcome: 'resumed' } });
    expect(run.finding('hrr-psk.recomputed-binder')).toMatchObject({ verdict: 'pass', measured: { outcome: 'resumed' } });
    await run.remove();
  });

  it('flags a server that resumes an offer without psk_key_exchange_modes: psk-modes.missing-modes fails', async () => {
    const run = await audit({ connection: (o, store) => new ModesAssumingServer(o, store) }, ['psk-modes.missing-modes']);
    expect(run.finding('psk-modes.missing-modes'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      measured: { outcome: 'resumed' },
      observed: { alert: null },
    });
    await run.remove();
  });

  it('flags a server that falls back to psk_ke when a psk_dhe_ke offer has no key share: psk-modes.dhe-without-key-share fails', async () => {
    const run = await audit({ machine: fallsBackToPskKe, connection: (o, store) => new PskKeFallbackServer(o, store) }, [
      'psk-modes.dhe-without-key-share',
    ]);
    const f = run.finding('psk-modes.dhe-without-key-share');
    expect(f, summary(run.report)).toMatchObject({ verdict: 'fail', measured: { outcome: 'resumed' } });
    expect(f.observed.summary).toBe('the server resumed the session without (EC)DHE (psk_ke, not offered)');
    await run.remove();
  });

  it('flags a server that takes a ticket before it verifies the binder: binders.ticket-kept warns, the bad binder itself is still refused', async () => {
    const run = await audit({ connection: (o, store) => new TicketBurningServer(o, store) }, [
      'binders.ticket-kept',
      'binders.flipped-bit',
    ]);
    expect(run.finding('binders.ticket-kept'), summary(run.report)).toMatchObject({
      verdict: 'warn',
      measured: { badOffer: 'aborted', validOffer: 'full' },
    });
    expect(run.finding('binders.flipped-bit')).toMatchObject({ verdict: 'pass', observed: { alert: 'decrypt_error' } });
    await run.remove();
  });

  it('flags a server that selects a PSK of another hash: binding.cipher-hash warns (an abort where a full handshake was due)', async () => {
    const run = await audit({ connection: (o) => new HashBlindServer(o) }, ['binding.cipher-hash', 'resumption.psk-dhe-ke']);
    expect(run.finding('binding.cipher-hash'), summary(run.report)).toMatchObject({
      verdict: 'warn',
      measured: { outcome: 'aborted', ticketSuite: 'TLS_AES_128_GCM_SHA256' },
      observed: { alert: 'internal_error' },
    });
    // A ticket offered with its own suite still resumes.
    expect(run.finding('resumption.psk-dhe-ke')).toMatchObject({ verdict: 'pass' });
    await run.remove();
  });

  it('flags a server that lets an EndOfEarlyData pass where the client Finished belongs: early-data.eoed-out-of-place fails', async () => {
    const run = await audit({ connection: (o) => new EndOfEarlyDataIgnoringServer(o) }, ['early-data.eoed-out-of-place']);
    expect(run.finding('early-data.eoed-out-of-place'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      measured: { alert: null },
    });
    await run.remove();
  });

  it('flags a server whose resumed Finished does not verify: resumption.psk-dhe-ke fails', async () => {
    const run = await audit({ machine: badFinishedOnResumption }, ['resumption.psk-dhe-ke']);
    expect(run.finding('resumption.psk-dhe-ke'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      measured: { outcome: 'resumed' },
      observed: { summary: 'resumed, but the server Finished does not verify' },
    });
    await run.remove();
  });

  it('flags a server whose tickets never resume: resumption.psk-dhe-ke and resumption.success-rate warn', async () => {
    const run = await audit({ ticketStore: new ForgetfulTicketStore() }, ['resumption.psk-dhe-ke', 'resumption.success-rate']);
    expect(run.finding('resumption.psk-dhe-ke'), summary(run.report)).toMatchObject({ verdict: 'warn', measured: { outcome: 'full' } });
    expect(run.finding('resumption.success-rate')).toMatchObject({ verdict: 'warn', measured: { tries: 2, resumed: 0 } });
    await run.remove();
  });

  it('flags a server that does not skip refused early data: early-data.refused-skipped warns, 1 KiB ending in bad_record_mac', async () => {
    const run = await audit({ machine: skipsNoRefusedEarlyData }, ['early-data.refused-skipped']);
    expect(run.finding('early-data.refused-skipped'), summary(run.report)).toMatchObject({
      verdict: 'warn',
      measured: { skipped1KiB: false, alert1KiB: 'bad_record_mac' },
    });
    await run.remove();
  });

  it('flags a server that does not skip early data after its HelloRetryRequest: early-data.hello-retry warns', async () => {
    const run = await audit({ machine: skipsNoEarlyDataAfterRetry }, ['early-data.hello-retry', 'early-data.refused-skipped']);
    expect(run.finding('early-data.hello-retry'), summary(run.report)).toMatchObject({
      verdict: 'warn',
      measured: { completed: false, secondHello: 'aborted with unexpected_message' },
    });
    // Without a retry it skips them.
    expect(run.finding('early-data.refused-skipped')).toMatchObject({ verdict: 'pass', measured: { skipped1KiB: true } });
    await run.remove();
  });

  it('flags a server whose tickets allow 0-RTT: tickets.early-data is info under RFC 8446 and violates the policy, a failure under the strict profile', async () => {
    const run = await audit({ machine: issuesEarlyDataTickets }, ['tickets.early-data'], 'strict');
    expect(run.finding('tickets.early-data'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      rfcVerdict: 'info',
      measured: { maxEarlyDataSize: [MUTANT_MAX_EARLY_DATA] },
      policy: { violated: true },
    });
    await run.remove();
  });

  const REPLAY_CHECKS = ['early-data.replay-sequential', 'early-data.replay-parallel'];

  it('passes a 0-RTT server whose tickets are single use on both replay checks: what the replay mutants break is single use', async () => {
    const run = await audit({ machine: zeroRttServer }, REPLAY_CHECKS);
    expect(run.finding('early-data.replay-sequential'), summary(run.report)).toMatchObject({
      verdict: 'pass',
      measured: { acceptedFirst: true, acceptedReplay: false },
    });
    expect(run.finding('early-data.replay-parallel')).toMatchObject({ verdict: 'pass', measured: { connections: 2, accepted: 1 } });
    await run.remove();
  });

  it('flags a 0-RTT server whose tickets resume more than once: early-data.replay-sequential and early-data.replay-parallel fail', async () => {
    const run = await audit({ machine: zeroRttServer, ticketStore: new ReusableTicketStore() }, REPLAY_CHECKS);
    expect(run.finding('early-data.replay-sequential'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      measured: { acceptedFirst: true, acceptedReplay: true },
    });
    expect(run.finding('early-data.replay-parallel')).toMatchObject({ verdict: 'fail', measured: { connections: 2, accepted: 2 } });
    await run.remove();
  });

  it('flags a 0-RTT server whose store takes a ticket in two steps: early-data.replay-parallel fails, the sequential replay is still refused', async () => {
    const run = await audit({ machine: zeroRttServer, ticketStore: new NonAtomicTicketStore() }, REPLAY_CHECKS);
    expect(run.finding('early-data.replay-parallel'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      measured: { connections: 2, accepted: 2 },
    });
    expect(run.finding('early-data.replay-sequential')).toMatchObject({ verdict: 'pass', measured: { acceptedReplay: false } });
    await run.remove();
  });

  it('flags a server that issues stateless tickets: tickets.statefulness infers stateless, info under RFC 8446, a failure under the strict profile', async () => {
    const run = await audit(statelessTickets(), ['tickets.statefulness'], 'strict');
    expect(run.finding('tickets.statefulness'), summary(run.report)).toMatchObject({
      verdict: 'fail',
      rfcVerdict: 'info',
      measured: { inference: 'stateless', commonPrefixBytes: 4, resumedTwice: true },
      policy: { violated: true },
    });
    await run.remove();
    // The unmutated server's tickets are inferred stateful (info, not in the gate: the check only reports).
    const control = await audit({}, ['tickets.statefulness'], 'strict');
    expect(control.finding('tickets.statefulness'), summary(control.report)).toMatchObject({
      verdict: 'info',
      measured: { inference: 'stateful', resumedTwice: false },
      policy: { violated: false },
    });
    await control.remove();
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
