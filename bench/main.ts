/**
 * `npm run bench`: tlschart and node:tls side by side in one run, for each
 * crypto provider tlschart has (node:crypto, then pure-JavaScript @noble):
 * full and resumed handshakes per second, CPU microseconds per handshake,
 * bulk throughput and heap per idle server connection, with the ratios.
 * Beside the bulk figure, the floor any JavaScript stack over node:crypto
 * stands on: a bare record pipe (bulk-floor.ts) against node:tls, same repeats.
 * The bulk figures are taken with each stack alone in a child process
 * (bulk-child.ts); the others in this process.
 *
 *   BENCH_N=200          handshakes per kind and repeat
 *   BENCH_BULK_MIB=64    bulk transfer size
 *   BENCH_IDLE=200       idle connections for the heap figure
 *   BENCH_WARM=600       before the handshake repeats, per stack and provider: this many full and
 *                        this many resumed handshakes, unmeasured (0: none)
 *   BENCH_BULK_FIGURES=3 per bulk child: transfers measured (their median), after one unmeasured
 *   BENCH_REPEATS=5      every figure is the median of this many runs; tlschart and
 *                        node:tls are measured back to back within each repeat, and
 *                        the ratio is the median of the per-repeat ratios (with their range);
 *                        the heap figures of both providers are taken after all the others
 *   BENCH_CRYPTO=node    only one provider (node | noble)
 *   BENCH_ONLY=handshakes,bulk,heap   only some figures
 *
 * These are benchmark figures, not tests: nothing here fails on a slow run.
 */
import { cpus, loadavg } from 'node:os';
import { bulkInChild } from './bulk-child.js';
import { measureHandshakes } from './handshakes.js';
import { measureIdleHeap } from './heap.js';
import { int, median } from './settings.js';
import { benchIdentity, nodeTlsSide, type ProviderName, type Side, SUITE, tlschartSide } from './sides.js';

const N = int('BENCH_N', 200);
const BULK_MIB = int('BENCH_BULK_MIB', 64);
const IDLE = int('BENCH_IDLE', 200);
const REPEATS = int('BENCH_REPEATS', 5);
const PROVIDERS: ProviderName[] = (() => {
  const v = process.env.BENCH_CRYPTO;
  if (v === undefined || v === '') return ['node', 'noble'];
  if (v !== 'node' && v !== 'noble') throw new Error(`BENCH_CRYPTO must be node or noble, got ${JSON.stringify(v)}`);
  return [v];
})();
/** Before the handshake repeats, per stack: this many full and this many resumed handshakes, not counted. */
const WARM_UP = int('BENCH_WARM', 600, 0);
/** Per bulk child: transfers measured, after one unmeasured. */
const BULK_FIGURES = int('BENCH_BULK_FIGURES', 3);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'handshakes,bulk,heap').split(',').map((s) => s.trim()));

interface Row {
  label: string;
  ours: number[];
  theirs: number[];
  digits: number;
}

function row(label: string, digits: number): Row {
  return { label, ours: [], theirs: [], digits };
}

/**
 * Medians of each side, and the ratio measured within each repeat (tlschart and
 * node:tls back to back, so under the same load): its median and its range.
 */
function print(rows: Row[]): void {
  console.log(`${'figure'.padEnd(34)}${'tlschart'.padStart(10)}${'node:tls'.padStart(10)}${'ratio'.padStart(8)}  ratio range`);
  for (const r of rows) {
    if (r.ours.length === 0) continue;
    const ratios = r.ours.map((x, i) => x / (r.theirs[i] as number));
    const range = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
    console.log(
      `${r.label.padEnd(34)}${median(r.ours).toFixed(r.digits).padStart(10)}${median(r.theirs).toFixed(r.digits).padStart(10)}${median(ratios).toFixed(3).padStart(8)}  ${range}`,
    );
  }
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const id = await benchIdentity();
  console.log(
    `tlschart vs node:tls — node ${process.version}, ${cpus().length} CPU(s), load average ${load()}; ` +
      `median of ${REPEATS}; ${N} handshakes per kind, ${BULK_MIB} MiB bulk, ${IDLE} idle connections; ` +
      `ECDSA P-256 certificate, x25519, ${SUITE}; client and server in one process (bulk: each stack alone in a child process; heap: clients in a child process)`,
  );
  const runs = PROVIDERS.map((provider) => ({
    provider,
    ours: tlschartSide(provider),
    /** The bare record pipe's MB/s, one per repeat beside rows.bulk (node provider only). */
    floor: [] as number[],
    rows: {
      full: row('full handshakes/s', 1),
      resumed: row('resumed handshakes/s', 1),
      fullCpu: row('CPU µs per full handshake', 0),
      resumedCpu: row('CPU µs per resumed handshake', 0),
      bulk: row(`bulk MB/s (${BULK_MIB} MiB)`, 1),
      heap: row('heap KB per idle server connection', 1),
    },
  }));
  for (const { provider, ours, floor, rows } of runs) {
    // Each figure is measured for tlschart and then at once for node:tls, so a pair sees the same load.
    const pair = async (measure: (side: Side) => Promise<void>) => {
      for (const side of [ours, nodeTlsSide]) await measure(side);
    };
    const target = (side: Side, x: Row) => (side === ours ? x.ours : x.theirs);
    // The handshake repeats start after a warm-up, unmeasured: V8 needs far more than one figure's 60
    // first connections to optimise a stack fully. Measured on the development machine, 8 figures of
    // 200 resumed handshakes in a row: tlschart's CPU per handshake 4692, 3545, 2676, then 2600 ± 200
    // µs; node:tls's 1758 down to 1460. Without it the medians hang on the first repeats, and measure
    // how fast each stack gets warm rather than how fast it runs.
    if (ONLY.has('handshakes')) {
      if (WARM_UP > 0)
        for (const side of [ours, nodeTlsSide]) for (const resumed of [false, true]) await measureHandshakes(side, id, resumed, WARM_UP);
      for (let r = 0; r < REPEATS; r++) {
        for (const resumed of [false, true]) {
          await pair(async (side) => {
            const f = await measureHandshakes(side, id, resumed, N);
            target(side, resumed ? rows.resumed : rows.full).push(f.perSecond);
            target(side, resumed ? rows.resumedCpu : rows.fullCpu).push(f.cpuMicros);
          });
        }
      }
    }
    // Each bulk figure comes from a fresh child process holding one stack (bulk-child.ts explains
    // why): tlschart, node:tls at once after it, then (node provider) the bare record pipe.
    if (ONLY.has('bulk')) {
      const bytes = BULK_MIB * 1024 * 1024;
      for (let r = 0; r < REPEATS; r++) {
        rows.bulk.ours.push(bulkInChild(`tlschart:${provider}`, bytes, BULK_FIGURES));
        rows.bulk.theirs.push(bulkInChild('node:tls', bytes, BULK_FIGURES));
        if (provider === 'node') floor.push(bulkInChild('bare pipe', bytes, BULK_FIGURES));
      }
    }
  }
  // The heap figures come last: their forced full collections discard compiled code that sat idle
  // meanwhile, and the CPU figures measured after them would count tlschart's recompilation.
  if (ONLY.has('heap')) {
    for (const { ours, rows } of runs) {
      for (let r = 0; r < REPEATS; r++) {
        for (const side of [ours, nodeTlsSide])
          (side === ours ? rows.heap.ours : rows.heap.theirs).push((await measureIdleHeap(side, id, IDLE)).heapPerConnection / 1024);
      }
    }
  }
  for (const { provider, floor, rows } of runs) {
    console.log(
      `\ncrypto provider: ${provider === 'node' ? 'node (node:crypto, the default of sockets)' : 'noble (pure JavaScript, --crypto noble)'}`,
    );
    print(Object.values(rows));
    if (floor.length > 0) {
      const ratios = floor.map((x, i) => x / (rows.bulk.theirs[i] as number));
      console.log(
        `bulk floor: a bare JavaScript record pipe (node:crypto AES-128-GCM per 2^14-byte record over net.Socket, no TLS) ` +
          `${median(floor).toFixed(1)} MB/s, ${median(ratios).toFixed(3)} of node:tls ` +
          `(${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); tlschart's bulk is ` +
          `${median(rows.bulk.ours.map((x, i) => x / (floor[i] as number))).toFixed(3)} of it`,
      );
    }
  }
  console.log(`\nload average at the end: ${load()}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
