/**
 * The client audit of `tlschart connect` (the CLI, run in-process): every
 * check passes, under the strict profile too, and every trace of the audit
 * conforms to the client chart (`tlschart trace check`). The command makes
 * three connections under {servername} (each offering the newest ticket of
 * the one before) and, for offer.other-sni, one under {servername2} with
 * the session saved by the first.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { capture } from '../../cli/testing/capture.js';
import { verdictUnder } from '../findings.js';
import { summary } from '../testing/audit-run.js';
import { ALL_PROBES } from './run.js';
import { functionRunner } from './runner.js';
import { auditRunner } from './testing/audit-run.js';

/** tlschart connect, as a shell template would run it: `connect … --reconnect 2 --sess-out F; connect … --servername {servername2} --sess-in F`. */
const tlschartConnect = functionRunner('tlschart connect --reconnect 2 (in-process)', async (p) => {
  const session = join(p.tmp, 'session.bin');
  const base = (name: string) => ['connect', `${p.host}:${p.port}`, '--servername', name, '--insecure'];
  await main([...base(p.servername), '--reconnect', '2', '--sess-out', session], capture());
  if (p.servername2 !== p.servername && existsSync(session)) await main([...base(p.servername2), '--sess-in', session], capture());
});

describe('tlschart audit client of tlschart connect', () => {
  it('passes every check, under the strict profile too, and every trace conforms to the client chart', async () => {
    const run = await auditRunner(tlschartConnect);
    try {
      expect(run.report.inconclusive).toBeNull();
      expect(run.report.findings.map((f) => f.id)).toEqual(ALL_PROBES.map((p) => p.id));
      expect(
        run.report.findings.filter((f) => f.verdict !== 'pass'),
        summary(run.report),
      ).toEqual([]);
      expect(
        run.report.findings.filter((f) => verdictUnder(f, 'strict') !== 'pass'),
        summary(run.report),
      ).toEqual([]);
      // What the passes rest on: resumptions happened, binders and ages were checked, the refusals were the named alerts.
      expect(run.finding('offer.binder').measured).toMatchObject({ invalid: 0 });
      expect((run.finding('offer.binder').measured.binders as number) > 3).toBe(true);
      expect(run.finding('hrr.binder').measured).toMatchObject({ binders: 1, invalid: 0, resumed: true });
      expect(run.finding('offer.other-sni').measured).toMatchObject({ connectionsUnderAnotherName: 1 });
      expect(run.finding('offer.single-use').measured).toMatchObject({ reoffered: 0 });
      for (const [id, alert] of [
        ['reply.selected-identity-out-of-range', 'illegal_parameter'],
        ['reply.psk-without-key-share', 'illegal_parameter'],
        ['reply.suite-hash-mismatch', 'illegal_parameter'],
        ['reply.certificate-after-psk', 'unexpected_message'],
        ['reply.certificate-verify-after-psk', 'unexpected_message'],
        ['reply.unoffered-early-data', 'unsupported_extension'],
        ['reply.skip-finished', 'unexpected_message'],
        ['reply.wrong-finished', 'decrypt_error'],
        ['ticket-handling.empty-ticket', 'decode_error'],
      ] as const) {
        expect(run.finding(id).observed.alert, id).toBe(alert);
      }
      expect(run.divergentTraces()).toEqual([]);
    } finally {
      await run.remove();
    }
  }, 120_000);
});
