/**
 * Load and abuse benchmark: `tlschart serve`, `openssl s_server` and a
 * node:tls server side by side in the same run, each in its own process,
 * driven by the same load generator (bench/load-client.ts, node:tls clients
 * in another process).
 *
 * For each server, phases one after the other on the same server process:
 *   honest N      N concurrent clients in closed loops, full and resumed
 *                 handshakes alternately, one HTTP request each, a refused
 *                 attempt retried after a backoff, TIMEOUT per attempt
 *   abuse         the first level again with abusive peers beside it: idle
 *                 connections, slow-loris ClientHellos (a byte a second),
 *                 half-open ones (ClientHello, FIN, never read) and resets
 * and prints goodput (completed handshakes per second), p50/p99 handshake
 * latency, errors by kind and the server's RSS, then the targets of issue #13:
 * goodput at the highest level ≥ 90 % of the lowest; honest p99 under abuse
 * ≤ 2× without. LOAD_SOAK_SECONDS runs the abuse mix that long against
 * tlschart alone and prints its RSS every 30 s (flat RSS is the target).
 *
 *   npm run bench:load                                  # about 3 minutes
 *   LOAD_SECONDS=60 LOAD_TIMEOUT_MS=15000 npm run bench:load   # the issue's measurement
 *   LOAD_LEVELS=50,200,500 LOAD_SERVERS=tlschart,openssl,node
 *   LOAD_ABUSE=idle=200,slowloris=100,halfopen=20,reset=20
 *   LOAD_SOAK_SECONDS=600 LOAD_SERVERS=tlschart     # RSS over 10 minutes
 *   LOAD_REPEATS=3                                  # every phase 3 times (interleaved); medians
 *
 * A benchmark, not a test: the numbers depend on the machine and on whatever
 * else runs on it (the load average is printed).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSigned } from '../pki/generate.js';
import type { AbuseMix, PhaseParams, PhaseResult } from './load-client.js';
import { type RunningServer, startServer as start } from './servers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);
const TIMEOUT_MS = Number(process.env.LOAD_TIMEOUT_MS ?? 5000);
const LEVELS = (process.env.LOAD_LEVELS ?? '50,200,500').split(',').map(Number);
const SERVERS = (process.env.LOAD_SERVERS ?? 'tlschart,openssl,node').split(',');
const SOAK_SECONDS = Number(process.env.LOAD_SOAK_SECONDS ?? 0);
const REPEATS = Number(process.env.LOAD_REPEATS ?? 1);
const ABUSE: AbuseMix = { idle: 200, slowloris: 100, halfopen: 20, reset: 20 };
for (const part of (process.env.LOAD_ABUSE ?? '').split(',').filter((x) => x !== '')) {
  const [k, v] = part.split('=');
  if (!(k !== undefined && k in ABUSE) || !Number.isFinite(Number(v))) throw new Error(`LOAD_ABUSE: ${part}?`);
  ABUSE[k as keyof AbuseMix] = Number(v);
}

/** CPU time a process has used so far, user + system, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15 (1-based), in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process, in MB (Linux /proc). */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function phase(
  server: RunningServer,
  caPath: string,
  clients: number,
  seconds: number,
  abuse: AbuseMix | undefined,
): Promise<PhaseResult & { rssMax: number; rssEnd: number; cpu: number }> {
  const cpu0 = cpuSeconds(server.pid);
  const params: PhaseParams = {
    port: server.port,
    servername: 'localhost',
    caPath,
    clients,
    seconds,
    timeoutMs: TIMEOUT_MS,
    ...(abuse ? { abuse } : {}),
  };
  const child = spawn(process.execPath, [join(here, 'load-client.js'), JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(server.pid))), 1000);
  await once(child, 'exit');
  clearInterval(sampler);
  const rssEnd = rssMb(server.pid);
  const line = out.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line) as PhaseResult;
  return { ...result, rssMax: Math.max(rssMax, rssEnd), rssEnd, cpu: cpuSeconds(server.pid) - cpu0 };
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function errorsText(errors: Record<string, number>): string {
  const parts = Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tlschart-load-'));
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  writeFileSync(certPath, certPem);
  writeFileSync(keyPath, keyPem);
  const abuseText = `idle ${ABUSE.idle}, slow-loris ${ABUSE.slowloris}, half-open ${ABUSE.halfopen}/s, reset ${ABUSE.reset}/s`;
  console.log(
    `load benchmark: ${SECONDS} s per phase${REPEATS > 1 ? ` × ${REPEATS} repeats (medians; goodput range in brackets)` : ''}, ${TIMEOUT_MS} ms client timeout, levels ${LEVELS.join('/')}, abuse: ${abuseText}`,
  );
  console.log(
    `machine: ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start, node ${process.version}`,
  );
  console.log('');
  console.log(
    'server     phase                           goodput/s  full/resumed   p50 ms   p99 ms  CPU ms/hs  CPU %   RSS MB end (max)   errors',
  );
  const summary: string[] = [];
  try {
    for (const name of SERVERS) {
      const server = await start(name, certPath, keyPath);
      if (!server) continue;
      try {
        type Measured = PhaseResult & { rssMax: number; rssEnd: number; cpu: number };
        const runs = new Map<string, Measured[]>();
        const phases: Array<{ label: string; clients: number; abuse: AbuseMix | undefined }> = [
          ...LEVELS.map((level) => ({ label: `honest ${level}`, clients: level, abuse: undefined })),
          { label: `honest ${LEVELS[0]} + abuse`, clients: LEVELS[0] as number, abuse: ABUSE },
        ];
        // Repeats go round the phases, so that a change in the machine's load spreads over all of them.
        for (let r = 0; r < REPEATS; r++) {
          for (const ph of phases) {
            const m = await phase(server, certPath, ph.clients, SECONDS, ph.abuse);
            runs.set(ph.label, [...(runs.get(ph.label) ?? []), m]);
          }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
        const summaryOf = (label: string) => {
          const ms = runs.get(label) as Measured[];
          const goodputs = ms.map((m) => m.completed / m.seconds);
          const errors: Record<string, number> = {};
          for (const m of ms) for (const [k, v] of Object.entries(m.errors)) errors[k] = (errors[k] ?? 0) + v;
          return {
            goodput: median(goodputs),
            range: REPEATS > 1 ? ` (${fmt(Math.min(...goodputs))}-${fmt(Math.max(...goodputs))})` : '',
            full: ms.reduce((a, m) => a + m.full, 0),
            resumed: ms.reduce((a, m) => a + m.resumed, 0),
            completed: ms.reduce((a, m) => a + m.completed, 0),
            p50: median(ms.map((m) => m.p50)),
            p99: median(ms.map((m) => m.p99)),
            rssEnd: (ms.at(-1) as Measured).rssEnd,
            rssMax: Math.max(...ms.map((m) => m.rssMax)),
            // Server CPU per completed handshake, and the share of one core it used: with the machine
            // shared, wall-clock goodput moves with other load; CPU per handshake shows wasted work.
            cpuPerHandshake: ms.some((m) => m.completed > 0)
              ? (1000 * ms.reduce((a, m) => a + m.cpu, 0)) / ms.reduce((a, m) => a + m.completed, 0)
              : NaN,
            cpuShare: ms.reduce((a, m) => a + m.cpu, 0) / ms.reduce((a, m) => a + m.seconds, 0),
            errors,
          };
        };
        for (const ph of phases) {
          const x = summaryOf(ph.label);
          console.log(
            `${name.padEnd(10)} ${ph.label.padEnd(20)} ${`${fmt(x.goodput)}${x.range}`.padStart(20)}  ${`${x.full}/${x.resumed}`.padStart(12)} ${fmt(x.p50, 0).padStart(8)} ${fmt(x.p99, 0).padStart(8)} ${fmt(x.cpuPerHandshake, 1).padStart(10)} ${fmt(100 * x.cpuShare, 0).padStart(6)}   ${`${fmt(x.rssEnd, 0)} (${fmt(x.rssMax, 0)})`.padEnd(17)}  ${errorsText(x.errors)}`,
          );
        }
        const base = LEVELS[0] as number;
        const low = summaryOf(`honest ${base}`);
        const high = summaryOf(`honest ${LEVELS.at(-1)}`);
        const abused = summaryOf(`honest ${base} + abuse`);
        const ratio = high.goodput / low.goodput;
        const p99Ratio = abused.completed === 0 ? Infinity : abused.p99 / low.p99;
        summary.push(
          `${name}: goodput at ${LEVELS.at(-1)} clients = ${fmt(100 * ratio, 0)} % of goodput at ${base} (target ≥ 90 %: ${ratio >= 0.9 ? 'met' : 'not met'}); ` +
            (abused.completed === 0
              ? 'no honest handshake completed under abuse (target: p99 ≤ 2× without: not met)'
              : `honest p99 under abuse = ${fmt(p99Ratio, 2)}× without (target ≤ 2×: ${p99Ratio <= 2 ? 'met' : 'not met'}; ${abused.completed} handshakes completed under abuse)`),
        );
        const row = (label: string, r: Measured) =>
          console.log(
            `${name.padEnd(10)} ${label.padEnd(20)} ${fmt(r.completed / r.seconds).padStart(10)}  ${`${r.full}/${r.resumed}`.padStart(12)} ${fmt(r.p50, 0).padStart(8)} ${fmt(r.p99, 0).padStart(8)}   ${`${fmt(r.rssEnd, 0)} (${fmt(r.rssMax, 0)})`.padEnd(17)}  ${errorsText(r.errors)}`,
          );
        if (SOAK_SECONDS > 0 && name === 'tlschart') {
          console.log(`\n${name}: soak, ${SOAK_SECONDS} s of honest ${base} + abuse, RSS every 30 s:`);
          const samples: string[] = [];
          const started = Date.now();
          const sampler = setInterval(() => {
            samples.push(`${Math.round((Date.now() - started) / 1000)} s: ${fmt(rssMb(server.pid), 0)} MB`);
            console.log(`  ${samples.at(-1)}`);
          }, 30_000);
          const soak = await phase(server, certPath, base, SOAK_SECONDS, ABUSE);
          clearInterval(sampler);
          row(`soak ${SOAK_SECONDS} s`, soak);
          console.log('');
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
  for (const s of summary) console.log(s);
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exitCode = 1;
});
