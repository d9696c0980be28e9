/**
 * The audit against real servers whose answers are known (Debian's openssl,
 * gnutls-bin and golang-go, started with interop/peers.ts): each run with
 * the checks that concern it, each asserting the findings those servers
 * earn. A missing peer fails under CI=true and is skipped, naming its
 * package, otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CertFiles,
  makeCert,
  type Peer,
  requirePeer,
  startGnutlsServer,
  startGoServer,
  startOpensslServer,
} from '../../interop/peers.js';
import { exitStatus, type Profile } from '../findings.js';
import { type AuditRun, auditPort, AUDIT_TEST_RUNS as N, summary } from '../testing/audit-run.js';

let cert: CertFiles | undefined;

/** One ECDSA P-256 certificate for every server (made with openssl, once the test knows openssl is there). */
async function certificate(): Promise<CertFiles> {
  cert ??= await makeCert('ecdsa-p256');
  return cert;
}

afterAll(async () => {
  await cert?.remove();
});

async function auditPeer(start: (c: CertFiles) => Promise<Peer>, checks: string[], profile: Profile = 'rfc'): Promise<AuditRun> {
  const c = await certificate();
  const peer = await start(c);
  try {
    return await auditPort(peer.port, { checks, profile, ca: c.certPem });
  } finally {
    await peer.stop();
  }
}

const openssl = (args: string[]) => (c: CertFiles) => startOpensslServer({ certPem: c.certPem, keyPem: c.keyPem, args });

describe('tlschart audit server against openssl s_server', () => {
  it('-tls1_3 -num_tickets 2: its tickets resume again and again, also --runs times at once; psk_ke is refused', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await auditPeer(
      openssl(['-num_tickets', '2']),
      ['tickets.issued', 'tickets.first-ticket-delay', 'replay', 'psk-modes.psk-ke-only', 'binders.flipped-bit'],
      'strict',
    );
    expect(run.finding('tickets.issued').measured).toMatchObject({ ticketsWhenWaiting: 2 });
    // OpenSSL sends its tickets once it has read the client Finished.
    expect(run.finding('tickets.first-ticket-delay')).toMatchObject({ verdict: 'info', measured: { firstTicketBeforeFinished: false } });
    expect(run.finding('replay.sequential')).toMatchObject({
      rfcVerdict: 'info',
      verdict: 'fail',
      measured: { first: 'resumed', second: 'resumed' },
    });
    expect(run.finding('replay.parallel')).toMatchObject({ rfcVerdict: 'info', verdict: 'fail', measured: { offers: N, resumed: N } });
    expect(run.finding('replay.parallel').observed.summary).toBe(`${N} of ${N} resumed`);
    expect(run.finding('psk-modes.psk-ke-only')).toMatchObject({ verdict: 'pass', measured: { outcome: 'full' } });
    // OpenSSL answers a binder that does not verify with illegal_parameter; RFC 8446 §6.2 names decrypt_error.
    expect(run.finding('binders.flipped-bit')).toMatchObject({ verdict: 'warn', observed: { alert: 'illegal_parameter' } });
    expect(exitStatus(run.report)).toBe(1);
    await run.remove();
  }, 90_000);

  it('-allow_no_dhe_kex: a psk_ke-only offer resumes, without a key share — a warning against RFC 8446, a failure under strict', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await auditPeer(openssl(['-num_tickets', '2', '-allow_no_dhe_kex']), ['psk-modes.psk-ke-only'], 'strict');
    expect(run.finding('psk-modes.psk-ke-only')).toMatchObject({
      verdict: 'fail',
      rfcVerdict: 'warn',
      measured: { outcome: 'resumed', serverKeyShare: false },
      policy: { violated: true },
    });
    // The trace shows where the server left tlschart's chart: it resumed a psk_ke-only offer.
    expect(run.finding('psk-modes.psk-ke-only').observed.divergence).toMatchObject({
      step: 0,
      state: 'expectClientHello',
      section: '§4.2.9',
    });
    await run.remove();
  }, 90_000);

  it('-early_data: 0-RTT is accepted (a policy finding), its replay is refused, the ticket age is checked', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await auditPeer(openssl(['-num_tickets', '2', '-early_data']), [
      'early-data',
      'ticket-age.garbage-0rtt',
      'ticket-age.stale-0rtt',
    ]);
    expect(run.finding('early-data.accepted')).toMatchObject({
      verdict: 'info',
      measured: { earlyDataAccepted: true, maxEarlyDataSize: 16384 },
      policy: { violated: true },
    });
    expect(run.finding('early-data.replay-sequential')).toMatchObject({ verdict: 'pass', measured: { acceptedReplay: false } });
    expect(run.finding('early-data.replay-parallel')).toMatchObject({ verdict: 'pass', measured: { connections: N, accepted: 1 } });
    expect(run.finding('ticket-age.garbage-0rtt')).toMatchObject({ verdict: 'pass', measured: { earlyDataAccepted: false } });
    expect(run.finding('ticket-age.stale-0rtt')).toMatchObject({ verdict: 'pass', measured: { earlyDataAccepted: false } });
    expect(run.finding('early-data.hello-retry')).toMatchObject({ verdict: 'pass' });
    await run.remove();
  }, 90_000);

  it('-early_data -no_anti_replay: the same 0-RTT flight is accepted again, in sequence and --runs times at once — RFC 8446 §8 MUST', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await auditPeer(openssl(['-num_tickets', '2', '-early_data', '-no_anti_replay']), [
      'early-data.accepted',
      'early-data.replay-sequential',
      'early-data.replay-parallel',
    ]);
    expect(run.finding('early-data.replay-sequential')).toMatchObject({ verdict: 'fail', measured: { acceptedReplay: true } });
    expect(run.finding('early-data.replay-parallel')).toMatchObject({ verdict: 'fail', measured: { connections: N, accepted: N } });
    await run.remove();
  }, 90_000);
});

describe('tlschart audit server against gnutls-serv', () => {
  it('resumes, with reusable stateless tickets; a PSK without modes gets unsupported_extension instead of missing_extension', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'gnutls-serv');
    const run = await auditPeer(
      (c) => startGnutlsServer({ certPem: c.certPem, keyPem: c.keyPem }),
      ['tickets.statefulness', 'resumption.psk-dhe-ke', 'psk-modes', 'binders.flipped-bit'],
    );
    expect(run.finding('resumption.psk-dhe-ke').verdict, summary(run.report)).toBe('pass');
    expect(run.finding('tickets.statefulness').measured).toMatchObject({ inference: 'stateless', resumedTwice: true });
    expect(run.finding('psk-modes.psk-ke-only')).toMatchObject({ verdict: 'pass', measured: { outcome: 'full' } });
    expect(run.finding('psk-modes.missing-modes')).toMatchObject({ verdict: 'warn', observed: { alert: 'unsupported_extension' } });
    expect(run.finding('binders.flipped-bit')).toMatchObject({ verdict: 'warn', observed: { alert: 'illegal_parameter' } });
    await run.remove();
  }, 90_000);
});

describe('tlschart audit server against a Go crypto/tls server', () => {
  it('ignores a PSK offered without psk_key_exchange_modes where RFC 8446 §4.2.9 says the server MUST abort', async (ctx) => {
    requirePeer(ctx, 'openssl');
    requirePeer(ctx, 'go');
    const run = await auditPeer(
      (c) => startGoServer({ certPem: c.certPem, keyPem: c.keyPem }),
      ['psk-modes.missing-modes', 'binders.flipped-bit', 'replay.sequential', 'resumption.psk-dhe-ke', 'tickets.first-ticket-delay'],
    );
    expect(run.finding('resumption.psk-dhe-ke').verdict, summary(run.report)).toBe('pass');
    // Go sends its tickets right after its Finished, having computed the client's (RFC 8446 §4.6.1).
    expect(run.finding('tickets.first-ticket-delay')).toMatchObject({ verdict: 'info', measured: { firstTicketBeforeFinished: true } });
    expect(run.finding('psk-modes.missing-modes')).toMatchObject({ verdict: 'fail', measured: { outcome: 'full' } });
    expect(run.finding('binders.flipped-bit')).toMatchObject({ verdict: 'pass', observed: { alert: 'decrypt_error' } });
    expect(run.finding('replay.sequential')).toMatchObject({ verdict: 'info', measured: { second: 'resumed' } });
    await run.remove();
  }, 180_000);
});
