/**
 * The ticket race of issue #9 (item 5): `openssl s_client -sess_out F </dev/null`
 * closes the moment its handshake ends (as testssl.sh runs it), so it keeps a
 * ticket only if one reached it by then. `tlschart serve` (the CLI, with its
 * defaults) must leave it a ticket at least as often as `openssl s_server
 * -num_tickets 2` in the same run. serve sends its tickets right after its
 * Finished (RFC 8446 §4.6.1; they resume only once the client Finished
 * verified), so every try keeps one. Real binaries, taking turns.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionHoldsTicket } from '../bench/openssl-session.js';
import { main } from '../cli/main.js';
import { capture } from '../cli/testing/capture.js';
import { generateSelfSigned } from '../pki/generate.js';
import { type Peer, requirePeer, runOpensslClient, startOpensslServer } from './peers.js';

const TRIES = 10;
const dir = mkdtempSync(join(tmpdir(), 'tlschart-race-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One s_client that closes at once: whether it kept a ticket. */
async function oneTry(openssl: string, port: number, sessFile: string): Promise<boolean> {
  rmSync(sessFile, { force: true });
  const run = await runOpensslClient({ port, sessOut: sessFile, args: ['-servername', 'localhost'] });
  expect(run.output).toMatch(/New, TLSv1\.3/);
  return sessionHoldsTicket(sessFile, openssl);
}

describe('s_client </dev/null keeps a ticket from tlschart serve at least as often as from openssl s_server', () => {
  it(`${TRIES} tries each, taking turns; a kept ticket resumes`, async (ctx: TestContext) => {
    const opensslPath = requirePeer(ctx, 'openssl');
    const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    writeFileSync(certPath, certPem);
    writeFileSync(keyPath, keyPem);
    const controller = new AbortController();
    const srvIo = capture(controller.signal);
    const serving = main(['serve', '--port', '0', '--cert', certPath, '--key', keyPath, '--www'], srvIo);
    let openssl: Peer | undefined;
    try {
      const [, port] = await srvIo.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      openssl = await startOpensslServer({ certPem, keyPem, args: ['-num_tickets', '2', '-www'] });
      const servers = [
        { name: 'tlschart serve', port: Number(port), kept: 0 },
        { name: 'openssl s_server', port: openssl.port, kept: 0 },
      ];
      for (let i = 0; i < TRIES; i++) {
        const order = i % 2 === 0 ? servers : [...servers].reverse();
        for (const s of order) if (await oneTry(opensslPath, s.port, join(dir, `${i}-${s.port}.pem`))) s.kept++;
      }
      const [ours, theirs] = servers as [(typeof servers)[0], (typeof servers)[0]];
      await ctx.annotate(`tickets kept: tlschart serve ${ours.kept} of ${TRIES}, openssl s_server ${theirs.kept} of ${TRIES}`);
      expect(ours.kept).toBeGreaterThanOrEqual(theirs.kept);
      // The tickets leave with serve's flight, so no try loses the race.
      expect(ours.kept).toBe(TRIES);
      // A kept ticket is a real one: offered with -sess_in, the server resumes.
      const resumed = await runOpensslClient({
        port: ours.port,
        sessIn: join(dir, `0-${ours.port}.pem`),
        stdin: 'GET / HTTP/1.0\r\n\r\n',
        args: ['-servername', 'localhost', '-ign_eof'],
      });
      expect(resumed.output).toMatch(/Reused, TLSv1\.3/);
    } finally {
      await openssl?.stop();
      controller.abort();
      expect(await serving).toBe(0);
    }
  }, 120_000);
});
