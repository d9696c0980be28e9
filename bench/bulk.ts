/**
 * Bulk throughput: after one handshake, the client writes `bytes` of
 * application data in 64 KiB chunks (respecting backpressure) and the server
 * reads them; the figure is bytes / time from the first write to the server
 * holding the last byte, in MB/s (10^6 bytes per second). Client and server
 * run in this process, so both the sealing and the opening are counted.
 */
import type { Duplex } from 'node:stream';
import type { Identity, Side } from './sides.js';

const CHUNK = 64 * 1024;

/** The reading side's count: `all` resolves once `bytes` arrived, or rejects with the first failure. */
export function arrival(bytes: number): { add(n: number): void; fail(e: Error): void; all: Promise<void> } {
  let received = 0;
  let done!: () => void;
  let fail!: (e: Error) => void;
  const all = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  return {
    add(n) {
      received += n;
      if (received >= bytes) done();
    },
    fail,
    all,
  };
}

export async function measureBulk(side: Side, id: Identity, bytes: number): Promise<number> {
  const arrived = arrival(bytes);
  const server = await side.listen(id, (s: Duplex) => {
    s.on('data', (d: Buffer) => arrived.add(d.length));
    s.on('error', arrived.fail);
  });
  try {
    const client = await new Promise<Duplex>((resolve, reject) => {
      const c = side.connect(id, server.port, undefined, () => resolve(c));
      c.on('error', reject);
    });
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < bytes; sent += CHUNK) {
      const part = bytes - sent >= CHUNK ? chunk : chunk.subarray(0, bytes - sent);
      if (!client.write(part)) await new Promise((r) => client.once('drain', r));
    }
    await arrived.all;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    client.destroy();
    return bytes / seconds / 1e6;
  } finally {
    await server.close();
  }
}
