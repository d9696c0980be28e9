/**
 * Where a handshake's CPU time goes: N full then N resumed handshakes between
 * a tlschart client and a tlschart server in this process, over loopback TCP,
 * under V8's CPU profiler (the one `node --cpu-prof` drives, started through
 * node:inspector after a warm-up so module loading and JIT warm-up are not
 * counted). Writes the profile (open it in Chrome DevTools) and prints the
 * split by area (profile-split.ts).
 *
 *   npm run bench:profile     BENCH_CRYPTO=node|noble (default node), BENCH_N=200, BENCH_KINDS=full,resumed
 *
 * BENCH_KINDS=bulk profiles the bulk transfer instead (bulk.ts, BENCH_BULK_MIB=64 after a
 * 16 MiB warm-up).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { measureBulk } from './bulk.js';
import { measureHandshakes } from './handshakes.js';
import { type Profile, printSplit } from './profile-split.js';
import { benchIdentity, type ProviderName, tlschartSide } from './sides.js';

const provider = (process.env.BENCH_CRYPTO ?? 'node') as ProviderName;
if (provider !== 'node' && provider !== 'noble') throw new Error(`BENCH_CRYPTO must be node or noble, got ${JSON.stringify(provider)}`);
const n = Number(process.env.BENCH_N ?? 200);
/** Which handshakes to profile: full, resumed or both (default). */
const kinds = (process.env.BENCH_KINDS ?? 'full,resumed').split(',');
const bulkMiB = Number(process.env.BENCH_BULK_MIB ?? 64);

const id = await benchIdentity();
const side = tlschartSide(provider);
await measureHandshakes(side, id, false, 20);
await measureHandshakes(side, id, true, 20);
if (kinds.includes('bulk')) await measureBulk(side, id, 16 * 1024 * 1024);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const full = kinds.includes('full') ? await measureHandshakes(side, id, false, n) : undefined;
const resumed = kinds.includes('resumed') ? await measureHandshakes(side, id, true, n) : undefined;
const cpuBefore = process.cpuUsage();
const bulk = kinds.includes('bulk') ? await measureBulk(side, id, bulkMiB * 1024 * 1024) : undefined;
const cpu = process.cpuUsage(cpuBefore);
const { profile } = await session.post('Profiler.stop');
session.disconnect();

mkdirSync('.profiles', { recursive: true });
const file = `.profiles/tlschart-${provider}.cpuprofile`;
writeFileSync(file, JSON.stringify(profile));
const figures = (what: string, f: { perSecond: number; cpuMicros: number } | undefined) =>
  f === undefined ? [] : [`${n} ${what} (${f.perSecond.toFixed(1)}/s, ${f.cpuMicros.toFixed(0)} µs CPU each)`];
console.log(
  `${side.name}: ${[
    ...figures('full', full),
    ...figures('resumed', resumed),
    ...(bulk === undefined ? [] : [`${bulkMiB} MiB bulk (${bulk.toFixed(1)} MB/s, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU)`]),
  ].join(' + ')}, under the profiler; profile in ${file}`,
);
printSplit(profile as unknown as Profile);
