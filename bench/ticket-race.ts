/**
 * The ticket race of a client that closes the moment its handshake ends:
 * `openssl s_client -sess_out F </dev/null` (as testssl.sh runs it) against
 * `tlschart serve --www` (tickets right after the server Finished, RFC 8446
 * §4.6.1: serve's default), `tlschart serve --www --late-tickets` (tickets
 * after the client Finished) and `openssl s_server -num_tickets 2 -www`, side
 * by side in one run, the servers taking turns so that all see the same load. s_client keeps a ticket only if one arrived before it closed, so the
 * figure is how many of N tries left a session file holding a ticket
 * (`openssl sess_id -text` shows "TLS session ticket:"). RFC 8446 §4.6.1.
 *
 *   npm run bench:ticket-race          # 30 tries per server
 *   RACE_N=100 npm run bench:ticket-race
 *
 * A benchmark, not a test: the result depends on the machine and its load
 * (the load average is printed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSigned } from '../pki/generate.js';
import { sessionHoldsTicket } from './openssl-session.js';
import { type RunningServer, startServer } from './servers.js';

const N = Number(process.env.RACE_N ?? 30);

/** One s_client that closes at once; whether the session file it wrote holds a ticket. */
async function oneTry(port: number, sessFile: string): Promise<boolean> {
  rmSync(sessFile, { force: true });
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-sess_out', sessFile], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await once(child, 'exit');
  return sessionHoldsTicket(sessFile);
}

async function main(): Promise<void> {
  if (spawnSync('openssl', ['version']).status !== 0) throw new Error('openssl is not installed (Debian package openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'tlschart-race-'));
  const servers: RunningServer[] = [];
  try {
    const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    writeFileSync(certPath, certPem);
    writeFileSync(keyPath, keyPem);
    for (const name of ['tlschart', 'tlschart-late', 'openssl']) {
      const s = await startServer(name, certPath, keyPath);
      if (s) servers.push(s);
    }
    const load0 = loadavg()[0] ?? 0;
    const kept = new Map(servers.map((s) => [s.name, 0]));
    for (let i = 0; i < N; i++) {
      // Take turns, and reverse the order every other round.
      const order = i % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) if (await oneTry(s.port, join(dir, `${s.name}.pem`))) kept.set(s.name, (kept.get(s.name) ?? 0) + 1);
    }
    console.log(
      `s_client -sess_out </dev/null, ${N} tries per server (${availableParallelism()} cores, load average ${load0.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end)`,
    );
    console.log('server                          tries with a ticket');
    const label: Record<string, string> = {
      tlschart: 'tlschart serve',
      'tlschart-late': 'tlschart serve --late-tickets',
      openssl: 'openssl s_server -num_tickets 2',
    };
    for (const s of servers) console.log(`${(label[s.name] ?? s.name).padEnd(32)}${String(kept.get(s.name)).padStart(3)} of ${N}`);
  } finally {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
