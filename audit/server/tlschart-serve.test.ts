/**
 * The audit against a server whose answers are known: tlschart's own
 * (`createServer` from net/, as `tlschart serve` runs it, on a loopback
 * socket). Every RFC check passes, the strict profile passes, each refusal
 * comes with the alert RFC 8446 names, and every connection's trace
 * conforms to the server chart.
 *
 * Two expectations follow tlschart's intended server behaviour rather than
 * the one this branch started from (see the report to the lead): a ClientHello
 * with a bad binder leaves its ticket in place (the engine looks tickets up
 * and takes the selected one only after its binder verified), and 0-RTT
 * records sent before a HelloRetryRequest are skipped (RFC 8446 §4.2.10).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Running, startServer, type TestPki } from '../../net/testing/fixtures.js';
import { loadTrace } from '../../traces/format.js';
import { checkTrace } from '../../traces/monitor.js';
import { exitStatus } from '../findings.js';
import { type AuditRun, auditPort, AUDIT_TEST_RUNS as N, summary } from '../testing/audit-run.js';

let pki: TestPki;
let server: Running;
let rfc: AuditRun;
let strict: AuditRun;

beforeAll(async () => {
  pki = await makePki();
  server = await startServer({ key: pki.leaf.keyPem, cert: pki.leaf.certPem });
  rfc = await auditPort(server.port, { ca: pki.ca.certPem });
  strict = await auditPort(server.port, { ca: pki.ca.certPem, profile: 'strict' });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rfc?.remove();
  await strict?.remove();
});

async function tracesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.json')) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe('tlschart audit server against tlschart serve', () => {
  it('passes every RFC check: no finding fails, the audit exits 0', () => {
    expect(rfc.report.inconclusive).toBeNull();
    expect(
      rfc.report.findings.filter((f) => f.verdict === 'fail'),
      summary(rfc.report),
    ).toEqual([]);
    expect(exitStatus(rfc.report)).toBe(0);
  });

  it('passes the strict profile too: it keeps every policy it has', () => {
    expect(
      strict.report.findings.filter((f) => f.verdict === 'fail'),
      summary(strict.report),
    ).toEqual([]);
    expect(strict.report.findings.filter((f) => f.policy?.violated)).toEqual([]);
  });

  it('resumes a fresh ticket with psk_dhe_ke every time, without a Certificate, with a fresh key share', () => {
    for (const id of [
      'resumption.psk-dhe-ke',
      'resumption.success-rate',
      'resumption.no-certificate',
      'resumption.key-share',
      'resumption.fresh-key-share',
      'resumption.new-tickets',
    ]) {
      expect(rfc.finding(id).verdict, id).toBe('pass');
    }
    expect(rfc.finding('resumption.success-rate').measured).toMatchObject({ tries: N, resumed: N });
  });

  it('issues 2 tickets of 7200 s after a full handshake, also to a client that closes at once', () => {
    expect(rfc.finding('tickets.issued').measured).toEqual({ ticketsWhenWaiting: 2, ticketsWhenClosingAtOnce: 2 });
    expect(rfc.finding('tickets.lifetime').measured).toMatchObject({ lifetimesS: [7200] });
    expect(rfc.finding('tickets.statefulness').measured).toMatchObject({ inference: 'stateful', ticketLength: 32, resumedTwice: false });
  });

  it('refuses each bad binder with the alert RFC 8446 names', () => {
    const alerts: Record<string, string> = {
      'binders.flipped-bit': 'decrypt_error',
      'binders.wrong-length': 'decrypt_error',
      'binders.empty': 'decode_error',
      'binders.count-mismatch': 'illegal_parameter',
      'binders.external-label': 'decrypt_error',
      'binders.wrong-transcript': 'decrypt_error',
      'binders.bad-first-good-second': 'decrypt_error',
      'binders.psk-not-last': 'illegal_parameter',
      'hrr-psk.stale-binder': 'decrypt_error',
    };
    for (const [id, alert] of Object.entries(alerts))
      expect({ id, verdict: rfc.finding(id).verdict, alert: rfc.finding(id).observed.alert }).toEqual({ id, verdict: 'pass', alert });
  });

  it('keeps a ticket offered with a bad binder: the same ticket resumes afterwards', () => {
    expect(rfc.finding('binders.ticket-kept'), summary(rfc.report)).toMatchObject({
      verdict: 'pass',
      measured: { badOffer: 'aborted', validOffer: 'resumed' },
    });
  });

  it('ignores a psk_ke-only or unknown-mode offer (full handshake, no tickets for psk_ke) and aborts a PSK without modes with missing_extension', () => {
    expect(rfc.finding('psk-modes.psk-ke-only')).toMatchObject({ verdict: 'pass', measured: { outcome: 'full', ticketsToPskKeClient: 0 } });
    expect(rfc.finding('psk-modes.unknown-mode')).toMatchObject({ verdict: 'pass', measured: { outcome: 'full' } });
    expect(rfc.finding('psk-modes.missing-modes')).toMatchObject({ verdict: 'pass', observed: { alert: 'missing_extension' } });
    expect(rfc.finding('psk-modes.dhe-without-key-share')).toMatchObject({ verdict: 'pass', observed: { alert: 'missing_extension' } });
  });

  it('resumes each ticket at most once, also when it is offered on --runs connections at once', () => {
    expect(rfc.finding('replay.sequential')).toMatchObject({ verdict: 'pass', measured: { first: 'resumed', second: 'full' } });
    expect(rfc.finding('replay.parallel')).toMatchObject({ verdict: 'pass', measured: { offers: N, resumed: 1 } });
  });

  it('never accepts 0-RTT; skips refused early data up to 16384 bytes, then bad_record_mac; refuses EndOfEarlyData with unexpected_message', () => {
    expect(rfc.finding('early-data.accepted')).toMatchObject({ verdict: 'pass', measured: { earlyDataAccepted: false } });
    expect(rfc.finding('early-data.refused-skipped')).toMatchObject({
      verdict: 'pass',
      measured: { skipped1KiB: true, skipped20000Bytes: false, alert20000Bytes: 'bad_record_mac' },
    });
    expect(rfc.finding('early-data.eoed-out-of-place')).toMatchObject({ verdict: 'pass', observed: { alert: 'unexpected_message' } });
    // tlschart never issues 0-RTT tickets: replay and 0-RTT ticket ages cannot be tried, and the findings say so.
    for (const id of ['early-data.replay-sequential', 'early-data.replay-parallel', 'ticket-age.garbage-0rtt'])
      expect(rfc.finding(id).verdict, id).toBe('inconclusive');
  });

  it('skips 0-RTT records sent before its HelloRetryRequest and resumes with the second ClientHello (RFC 8446 §4.2.10)', () => {
    expect(rfc.finding('early-data.hello-retry')).toMatchObject({ verdict: 'pass', measured: { completed: true } });
  });

  it('resumes after a HelloRetryRequest only with the binder recomputed over the retried transcript', () => {
    expect(rfc.finding('hrr-psk.recomputed-binder')).toMatchObject({ verdict: 'pass', measured: { outcome: 'resumed' } });
  });

  it('does not resume a ticket under another hash or another server name', () => {
    expect(rfc.finding('binding.cipher-hash')).toMatchObject({ verdict: 'pass', measured: { outcome: 'full' } });
    expect(rfc.finding('binding.sni').measured).toMatchObject({ outcome: 'full' });
  });

  it('reacts to every generated out-of-order sequence as its own chart does, and says how to replay the run', () => {
    const f = rfc.finding('out-of-order.psk-path');
    expect(f.verdict, JSON.stringify(f.measured)).toBe('pass');
    expect(f.measured).toMatchObject({ seed: 20260101, runs: N });
    expect(f.measured.replay).toBe(`--seed 20260101 --checks out-of-order --runs ${N}`);
  });

  it("records every connection as a trace that conforms to tlschart's server chart", async () => {
    const files = await tracesUnder(join(rfc.outDir, 'traces'));
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const t = loadTrace(file);
      expect(t.ok, file).toBe(true);
      if (t.ok) expect(checkTrace(t.trace), file).toMatchObject({ conforms: true });
    }
    // And each finding names traces that exist among them.
    const named = new Set(rfc.report.findings.flatMap((f) => f.traces).map((t) => join(rfc.outDir, t)));
    for (const n of named) expect(files, n).toContain(n);
  });
});
