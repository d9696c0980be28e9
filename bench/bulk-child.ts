/**
 * The bulk figure of `npm run bench`, taken with each stack alone in a
 * process of its own, as a server process holding one TLS stack runs it.
 *
 * Measured in one shared process, a stack's transfer ran beside the heap the
 * other stack and the earlier figures left: node:tls moved 64 MiB at 540–910
 * MB/s there, and at 925–950 MB/s alone, figure after figure, on the
 * development machine; and a forced collection before each figure, meant to
 * even that out, slowed every stack instead (V8 shrinks the heap and grows it
 * again during the next figure: node:tls 556–698 MB/s after one, tlschart
 * 40 % slower). A child per stack shares nothing and needs no collection.
 *
 * A child makes one transfer unmeasured (V8 optimises during it: the first
 * figure of a fresh process was about half the later ones, for every stack),
 * then `figures` measured ones, and prints their median.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureBulk } from './bulk.js';
import { measureBareBulk } from './bulk-floor.js';
import { median } from './settings.js';
import { benchIdentity, nodeTlsSide, type ProviderName, tlschartSide } from './sides.js';

/** What a child measures: tlschart on a provider, node:tls, or the bare record pipe (bulk-floor.ts). */
export type BulkStack = `tlschart:${ProviderName}` | 'node:tls' | 'bare pipe';

const STACKS: readonly BulkStack[] = ['tlschart:node', 'tlschart:noble', 'node:tls', 'bare pipe'];

/** MB/s of `stack` moving `bytes`: the median of `figures` transfers in a fresh child process, after one more unmeasured. */
export function bulkInChild(stack: BulkStack, bytes: number, figures: number): number {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), stack, String(bytes), String(figures)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const figure = Number(run.stdout.trim());
  if (run.status !== 0 || run.stdout.trim() === '' || !Number.isFinite(figure))
    throw new Error(`the ${stack} bulk child failed (exit ${run.status}): ${JSON.stringify(run.stdout)}`);
  return figure;
}

async function child(stack: BulkStack, bytes: number, figures: number): Promise<void> {
  let transfer: () => Promise<number>;
  if (stack === 'bare pipe') transfer = () => measureBareBulk(bytes);
  else {
    const id = await benchIdentity();
    const side = stack === 'node:tls' ? nodeTlsSide : tlschartSide(stack === 'tlschart:node' ? 'node' : 'noble');
    transfer = () => measureBulk(side, id, bytes);
  }
  await transfer();
  const measured: number[] = [];
  for (let i = 0; i < figures; i++) measured.push(await transfer());
  process.stdout.write(`${median(measured)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [stack, bytes, figures] = process.argv.slice(2);
  if (!STACKS.includes(stack as BulkStack)) throw new Error(`the stack must be one of ${STACKS.join(', ')}, got ${JSON.stringify(stack)}`);
  child(stack as BulkStack, Number(bytes), Number(figures)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  });
}
