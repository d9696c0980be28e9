/**
 * The client audit against real clients whose behaviour is known (Debian's
 * openssl, gnutls-bin, golang-go and curl, and node:tls), each started by
 * `--exec` exactly as a user would, each asserting the findings it earns.
 * A missing peer fails under CI=true and is skipped, naming its package,
 * otherwise.
 *
 * Every finding of every client is asserted: the ones below are what each
 * earns besides `pass`.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildGo, requirePeer } from '../../interop/peers.js';
import { exitStatus, type Verdict } from '../findings.js';
import { summary } from '../testing/audit-run.js';
import { execRunner } from './runner.js';
import { auditRunner, type ClientAuditRun } from './testing/audit-run.js';

const NODE_CLIENT = fileURLToPath(new URL('./testing/node-client.mjs', import.meta.url));

/**
 * openssl s_client, three runs chained by session files: a full handshake
 * that saves its session, a resumption under {servername2} that saves the
 * next, and a third connection with it.
 */
const OPENSSL_TEMPLATE =
  'openssl s_client -connect {host}:{port} -servername {servername} -sess_out {tmp}/s1 -quiet; ' +
  'openssl s_client -connect {host}:{port} -servername {servername2} -sess_in {tmp}/s1 -sess_out {tmp}/s2 -quiet; ' +
  'openssl s_client -connect {host}:{port} -servername {servername2} -sess_in {tmp}/s2 -quiet';
const GNUTLS_TEMPLATE = 'gnutls-cli --insecure --resume --port {port} --sni-hostname {servername} {host}';
const NODE_TEMPLATE = `node ${NODE_CLIENT} {host} {port} {servername} {servername2}`;
const CURL_TEMPLATE =
  'curl -sk --resolve {servername}:{port}:{host} --resolve {servername2}:{port}:{host} https://{servername}:{port}/1 https://{servername2}:{port}/2 https://{servername2}:{port}/3';
const goTemplate = (client: string) => `${client} -host {host} -port {port} -n 3 -servername {servername} -send '' -wait 300ms`;

/** Every finding's verdict: `pass` unless listed. */
function expectVerdicts(run: ClientAuditRun, notPass: Record<string, Verdict>): void {
  const got = Object.fromEntries(run.report.findings.filter((f) => f.verdict !== 'pass').map((f) => [f.id, f.verdict]));
  expect(got, summary(run.report)).toEqual(notPass);
}

async function audit(template: string): Promise<ClientAuditRun> {
  return auditRunner(execRunner(template));
}

// The audits run side by side: each has its own probing server and client processes, and mostly waits.
describe.concurrent('tlschart audit client against real clients', () => {
  it('openssl s_client -sess_out/-sess_in: offers a saved ticket under any name and the ticket with lifetime 0; refuses psk_ke with missing_extension', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await audit(OPENSSL_TEMPLATE);
    try {
      expectVerdicts(run, {
        'offer.other-sni': 'warn',
        'ticket-handling.lifetime-zero': 'fail',
        'ticket-handling.lifetime-over-7-days': 'info',
        'reply.psk-without-key-share': 'warn',
      });
      expect(run.finding('reply.psk-without-key-share').observed.alert).toBe('missing_extension');
      expect(run.finding('ticket-handling.empty-ticket').observed.alert).toBe('decode_error');
      expect(run.finding('offer.other-sni').measured.offers).toEqual([{ ticketFrom: 'localhost', offeredUnder: 'other.localhost' }]);
      expect(run.finding('hrr.binder').measured).toMatchObject({ invalid: 0, resumed: true });
      expect(exitStatus(run.report)).toBe(1);
    } finally {
      await run.remove();
    }
  }, 120_000);

  it('openssl s_client -early_data: 0-RTT with the ticket that allows it, opened under the early traffic keys (tlschart policy: none)', async (ctx) => {
    requirePeer(ctx, 'openssl');
    const run = await auditRunner(
      execRunner(
        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' > {tmp}/early; " +
          'openssl s_client -connect {host}:{port} -servername {servername} -sess_out {tmp}/s -quiet; ' +
          'openssl s_client -connect {host}:{port} -servername {servername} -sess_in {tmp}/s -early_data {tmp}/early -quiet',
      ),
      { checks: ['ticket-handling.early-data', 'offer.early-data'] },
    );
    try {
      expect(run.finding('offer.early-data'), summary(run.report)).toMatchObject({
        verdict: 'pass',
        measured: { earlyDataOffers: 1, withoutPermission: 0 },
      });
      expect(run.finding('ticket-handling.early-data')).toMatchObject({
        rfcVerdict: 'info',
        policy: { violated: true },
        measured: { earlyData: true, earlyRecords: 1, earlyBytes: 18, firstIdentityAllowsEarlyData: true },
      });
      expect(run.divergentTraces()).toEqual([]);
    } finally {
      await run.remove();
    }
  }, 60_000);

  it('gnutls-cli --resume: offers psk_ke, goes on after an empty ticket, derives keys for a ServerHello it must refuse', async (ctx) => {
    requirePeer(ctx, 'gnutls-cli');
    const run = await audit(GNUTLS_TEMPLATE);
    try {
      expectVerdicts(run, {
        'offer.psk-dhe-ke': 'info',
        // Two connections only, under one name: nothing comes after the resumption, and no second name is used.
        'offer.single-use': 'inconclusive',
        'offer.other-sni': 'inconclusive',
        'ticket-handling.lifetime-over-7-days': 'info',
        'ticket-handling.empty-ticket': 'fail',
        'reply.selected-identity-out-of-range': 'fail',
        'reply.psk-without-key-share': 'info',
        'reply.suite-hash-mismatch': 'fail',
      });
      expect(run.finding('offer.psk-dhe-ke')).toMatchObject({ policy: { violated: true }, measured: { offersPskKe: true } });
      // It listed psk_ke, so a resumption without key_share is one it asked for (and finished).
      expect(run.finding('reply.psk-without-key-share')).toMatchObject({ measured: { clientFinished: true }, policy: { violated: true } });
      expect(run.finding('reply.selected-identity-out-of-range').measured).toMatchObject({ answeredUnderHandshakeKeys: true });
      expect(run.finding('reply.suite-hash-mismatch').measured).toMatchObject({ answeredUnderHandshakeKeys: true });
    } finally {
      await run.remove();
    }
  }, 120_000);

  it('node:tls passing `session`: as OpenSSL underneath it, offers a ticket under another name and the ticket with lifetime 0', async () => {
    const run = await audit(NODE_TEMPLATE);
    try {
      expectVerdicts(run, {
        'offer.other-sni': 'warn',
        'ticket-handling.lifetime-zero': 'fail',
        'ticket-handling.lifetime-over-7-days': 'info',
        'reply.psk-without-key-share': 'warn',
      });
    } finally {
      await run.remove();
    }
  }, 120_000);

  it('Go crypto/tls (1.19): a wrong binder after a HelloRetryRequest, reused tickets, an empty ticket and unoffered early_data accepted', async (ctx) => {
    requirePeer(ctx, 'go');
    const { client } = await buildGo();
    const run = await audit(goTemplate(client));
    try {
      expectVerdicts(run, {
        'offer.binder': 'fail',
        'offer.single-use': 'warn',
        'offer.other-sni': 'inconclusive',
        'hrr.binder': 'fail',
        'ticket-handling.empty-ticket': 'fail',
        'reply.unoffered-early-data': 'fail',
      });
      // Only the binder of the second ClientHello is wrong (the probing server recomputes it with the ticket's PSK).
      expect(run.finding('hrr.binder').measured).toMatchObject({ binders: 1, invalid: 1 });
      expect(run.finding('offer.binder').measured).toMatchObject({ invalid: 1, afterRetry: 1 });
    } finally {
      await run.remove();
    }
  }, 180_000);

  it('curl (OpenSSL 3.0), three URLs in one process: a session cache per host name; the ticket with lifetime 0 is offered', async (ctx) => {
    requirePeer(ctx, 'curl');
    const run = await audit(CURL_TEMPLATE);
    try {
      expectVerdicts(run, {
        'ticket-handling.lifetime-zero': 'fail',
        'ticket-handling.lifetime-over-7-days': 'info',
        'reply.psk-without-key-share': 'warn',
      });
      expect(run.finding('offer.other-sni').measured).toMatchObject({ connectionsUnderAnotherName: 2 });
    } finally {
      await run.remove();
    }
  }, 120_000);
});
