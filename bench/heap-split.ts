/**
 * Where the heap of an idle tlschart server connection goes: the same setup as
 * the heap figure of `npm run bench` (bench/heap.ts: node:tls clients in a child
 * process, a warm-up, then `BENCH_IDLE` connections that completed their
 * handshake and went quiet), then one V8 heap snapshot of the server process.
 * Sizes are *retained* sizes (what would be freed with the object: its
 * dominator subtree), averaged over the connections, for the objects a
 * connection consists of — the engine connection (the chart's snapshot and its
 * context, record layer, listeners; an XState actor only when
 * something observes the connection), the TLSSocket and its net.Socket — and
 * the context's fields one by one.
 *
 *   npm run bench:heap-split            # BENCH_CRYPTO=node|noble, BENCH_IDLE=200
 *
 * A figure for understanding, not a test; `npm run bench` gives the total.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { getHeapSnapshot, getHeapSpaceStatistics } from 'node:v8';
import { COMPACT_AFTER_MS } from '../net/socket.js';
import { fullGc as gc } from './gc.js';
import { benchIdentity, echo, type Identity, type ProviderName, tlschartSide } from './sides.js';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A heap snapshot with its dominator tree and retained sizes. */
export class HeapGraph {
  readonly count: number;
  readonly retained: Float64Array;
  readonly idom: Int32Array;
  readonly #s: RawSnapshot;
  readonly #w: number;
  readonly #ew: number;
  readonly #first: Uint32Array;
  readonly #f: { type: number; name: number; self: number; edges: number; eType: number; eName: number; eTo: number };

  constructor(s: RawSnapshot) {
    this.#s = s;
    const m = s.snapshot.meta;
    this.#w = m.node_fields.length;
    this.#ew = m.edge_fields.length;
    this.#f = {
      type: m.node_fields.indexOf('type'),
      name: m.node_fields.indexOf('name'),
      self: m.node_fields.indexOf('self_size'),
      edges: m.node_fields.indexOf('edge_count'),
      eType: m.edge_fields.indexOf('type'),
      eName: m.edge_fields.indexOf('name_or_index'),
      eTo: m.edge_fields.indexOf('to_node'),
    };
    this.count = s.nodes.length / this.#w;
    this.#first = new Uint32Array(this.count + 1);
    for (let i = 0, e = 0; i < this.count; i++) {
      this.#first[i] = e;
      e += s.nodes[i * this.#w + this.#f.edges] as number;
      this.#first[i + 1] = e;
    }
    [this.idom, this.retained] = this.#dominators();
  }

  type(i: number): string {
    return this.#s.snapshot.meta.node_types[0][this.#s.nodes[i * this.#w + this.#f.type] as number] as string;
  }
  name(i: number): string {
    return this.#s.strings[this.#s.nodes[i * this.#w + this.#f.name] as number] as string;
  }
  self(i: number): number {
    return this.#s.nodes[i * this.#w + this.#f.self] as number;
  }

  /** Strong edges of node `i`: [label, target]. */
  *edges(i: number): Generator<[string, number]> {
    const types = this.#s.snapshot.meta.edge_types[0];
    for (let e = this.#first[i] as number; e < (this.#first[i + 1] as number); e++) {
      const b = e * this.#ew;
      const t = types[this.#s.edges[b + this.#f.eType] as number];
      if (t === 'weak') continue;
      const n = this.#s.edges[b + this.#f.eName] as number;
      const label = t === 'element' || t === 'hidden' ? `[${n}]` : (this.#s.strings[n] as string);
      yield [label, (this.#s.edges[b + this.#f.eTo] as number) / this.#w];
    }
  }

  /** The node reached from `i` along property names, or undefined. */
  walk(i: number, path: string[]): number | undefined {
    let v: number | undefined = i;
    for (const p of path) {
      let next: number | undefined;
      for (const [label, w] of this.edges(v)) if (label === p) next = w;
      if (next === undefined) return undefined;
      v = next;
    }
    return v;
  }

  /** Children of `i` in the dominator tree, by the edge label that reaches them, largest first. */
  owned(i: number): Array<[string, number]> {
    const out = new Map<number, string>();
    for (const [label, w] of this.edges(i)) if (this.idom[w] === i && !out.has(w)) out.set(w, label);
    return [...out]
      .map(([w, label]): [string, number] => [label, w])
      .sort((a, b) => (this.retained[b[1]] ?? 0) - (this.retained[a[1]] ?? 0));
  }

  /** Cooper–Harvey–Kennedy iterative dominators over a post-order from the root (node 0). */
  #dominators(): [Int32Array, Float64Array] {
    const n = this.count;
    const order: number[] = [];
    const po = new Int32Array(n).fill(-1);
    const preds: number[][] = Array.from({ length: n }, () => []);
    const seen = new Uint8Array(n);
    const stack: Array<[number, Generator<[string, number]>]> = [[0, this.edges(0)]];
    seen[0] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [number, Generator<[string, number]>];
      const step = top[1].next();
      if (step.done) {
        stack.pop();
        po[top[0]] = order.length;
        order.push(top[0]);
        continue;
      }
      const w = step.value[1];
      (preds[w] as number[]).push(top[0]);
      if (!seen[w]) {
        seen[w] = 1;
        stack.push([w, this.edges(w)]);
      }
    }
    const idom = new Int32Array(n).fill(-1);
    idom[0] = 0;
    const intersect = (u: number, v: number): number => {
      let a = u;
      let b = v;
      while (a !== b) {
        while ((po[a] as number) < (po[b] as number)) a = idom[a] as number;
        while ((po[b] as number) < (po[a] as number)) b = idom[b] as number;
      }
      return a;
    };
    for (let changed = true; changed; ) {
      changed = false;
      for (let k = order.length - 2; k >= 0; k--) {
        const v = order[k] as number;
        let d = -1;
        for (const p of preds[v] as number[]) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
        if (d !== idom[v]) {
          idom[v] = d;
          changed = true;
        }
      }
    }
    const retained = new Float64Array(n);
    for (const v of order) {
      retained[v] = (retained[v] ?? 0) + this.self(v);
      if (v !== 0) retained[idom[v] as number] = (retained[idom[v] as number] ?? 0) + (retained[v] as number);
    }
    return [idom, retained];
  }
}

/** The V8 heap in use after full collections, code spaces left out (as bench/heap.ts measures it). */
function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc();
  return getHeapSpaceStatistics()
    .filter((s) => !s.space_name.startsWith('code_'))
    .reduce((sum, s) => sum + s.space_used_size, 0);
}

function takeSnapshot(): Promise<RawSnapshot> {
  for (let i = 0; i < 4; i++) gc();
  const chunks: Buffer[] = [];
  const stream = getHeapSnapshot();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return once(stream, 'end').then(() => JSON.parse(Buffer.concat(chunks).toString('utf8')) as RawSnapshot);
}

async function clients(id: Identity, port: number, count: number): Promise<() => Promise<void>> {
  const child = fork(new URL('./heap-clients.js', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = once(child, 'message') as Promise<[{ type: string; message?: string }]>;
  child.send({ type: 'start', port, ca: id.certPem, count });
  const [m] = await reply;
  if (m.type === 'error') throw new Error(`heap clients: ${m.message}`);
  return async () => {
    const exited = once(child, 'exit');
    child.send({ type: 'close' });
    await exited;
  };
}

const instances = (g: HeapGraph, cls: string): number[] => {
  const out: number[] = [];
  for (let i = 0; i < g.count; i++) if (g.type(i) === 'object' && g.name(i) === cls) out.push(i);
  return out;
};

/** Mean retained size of the nodes at `path` under each instance (0 where absent). */
function mean(g: HeapGraph, roots: number[], path: string[]): number {
  let sum = 0;
  for (const r of roots) {
    const v = g.walk(r, path);
    if (v !== undefined && (path.length === 0 || g.idom[v] === g.walk(r, path.slice(0, -1)))) sum += g.retained[v] ?? 0;
  }
  return sum / roots.length;
}

async function main(): Promise<void> {
  const crypto = (process.env.BENCH_CRYPTO ?? 'node') as ProviderName;
  const count = Number(process.env.BENCH_IDLE ?? 200);
  const id = await benchIdentity();
  const server = await tlschartSide(crypto).listen(id, echo);
  const warm = await clients(id, server.port, count);
  await warm();
  await new Promise((r) => setTimeout(r, 50));
  const before = settledHeap();
  const close = await clients(id, server.port, count);
  await new Promise((r) => setTimeout(r, COMPACT_AFTER_MS + 300));
  const perConnection = (settledHeap() - before) / count;
  const g = new HeapGraph(await takeSnapshot());
  await close();
  await server.close();

  const conns = instances(g, 'ServerConnection');
  const row = (label: string, bytes: number) => console.log(`${label.padEnd(52)}${bytes.toFixed(0).padStart(7)}`);
  console.log(`retained bytes per idle tlschart server connection (${crypto} provider, ${conns.length} connections, one heap snapshot)`);
  row('heap per connection, all of it (as npm run bench)', perConnection);
  row('engine connection (ServerConnection)', mean(g, conns, []));
  // A connection nobody observes keeps the chart's snapshot, no XState actor (engine/connection.ts).
  row('  chart snapshot', mean(g, conns, ['snap']));
  row('    context', mean(g, conns, ['snap', 'context']));
  const sample = conns[Math.floor(conns.length / 2)];
  const ctx = sample === undefined ? undefined : g.walk(sample, ['snap', 'context']);
  if (ctx !== undefined) {
    for (const [label] of g.owned(ctx)) {
      const v = mean(g, conns, ['snap', 'context', label]);
      if (v >= 64) row(`      ${label === 'properties' ? '(its property table)' : label}`, v);
    }
  }
  row('  record layer', mean(g, conns, ['layer']));
  row('  event listeners', mean(g, conns, ['_events']));
  const tlsSockets = instances(g, 'TLSSocket');
  row('TLSSocket (net/socket.ts)', mean(g, tlsSockets, []));
  const transports = tlsSockets.map((t) => g.walk(t, ['#transport'])).filter((v): v is number => v !== undefined);
  row('its net.Socket', mean(g, transports, []));
  console.log("(the two tickets per connection live in the server's ticket store: npm run bench:ticket-memory)");
}

await main();
