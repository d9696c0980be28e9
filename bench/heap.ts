/**
 * Heap per idle server connection: the V8 heap (after full garbage collections,
 * code spaces left out) the server process holds for each connection that completed
 * its handshake (tickets sent, one byte echoed) and now sits idle. The clients
 * run in a child process (heap-clients.ts, node:tls), so only the server side
 * is counted, for tlschart and node:tls alike. Buffers outside the V8 heap
 * (ArrayBuffer backing stores, OpenSSL's own memory) are not in this figure;
 * `external` reports the ArrayBuffer part for tlschart's honesty.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { getHeapSpaceStatistics } from 'node:v8';
import { COMPACT_AFTER_MS } from '../net/socket.js';
import { fullGc as gc } from './gc.js';
import { echo, type Identity, type Side } from './sides.js';

/**
 * The V8 heap in use after full collections, without the code spaces: the
 * optimizing compiler keeps producing code while the first connections run,
 * which is not memory a connection holds.
 */
function settledHeap(): { heap: number; arrayBuffers: number } {
  for (let i = 0; i < 4; i++) gc();
  const heap = getHeapSpaceStatistics()
    .filter((s) => !s.space_name.startsWith('code_'))
    .reduce((sum, s) => sum + s.space_used_size, 0);
  return { heap, arrayBuffers: process.memoryUsage().arrayBuffers };
}

interface ChildMessage {
  type: 'ready' | 'error';
  message?: string;
}

async function clients(id: Identity, port: number, count: number): Promise<{ close(): Promise<void> }> {
  const child = fork(new URL('./heap-clients.js', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = once(child, 'message') as Promise<[ChildMessage]>;
  child.send({ type: 'start', port, ca: id.certPem, count });
  const [m] = await reply;
  if (m.type === 'error') throw new Error(`heap clients: ${m.message}`);
  return {
    async close() {
      const exited = once(child, 'exit');
      child.send({ type: 'close' });
      await exited;
    },
  };
}

export interface HeapFigures {
  /** heapUsed bytes per idle server connection. */
  heapPerConnection: number;
  /** ArrayBuffer bytes (outside the V8 heap) per idle server connection. */
  arrayBuffersPerConnection: number;
}

export async function measureIdleHeap(side: Side, id: Identity, count: number): Promise<HeapFigures> {
  const server = await side.listen(id, echo);
  try {
    // Warm-up: compiled code, caches and lazily built module state are not per-connection costs.
    const warm = await clients(id, server.port, count);
    await warm.close();
    await new Promise((r) => setTimeout(r, 50));
    const before = settledHeap();
    const c = await clients(id, server.port, count);
    // Idle: past the moment tlschart's sockets let their engines drop carried-out commands (COMPACT_AFTER_MS).
    await new Promise((r) => setTimeout(r, COMPACT_AFTER_MS + 300));
    const after = settledHeap();
    await c.close();
    return {
      heapPerConnection: (after.heap - before.heap) / count,
      arrayBuffersPerConnection: (after.arrayBuffers - before.arrayBuffers) / count,
    };
  } finally {
    await server.close();
  }
}
