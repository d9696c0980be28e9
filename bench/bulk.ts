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

export async function measureBulk(side: Side, id: Identity, bytes: number): Promise<number> {
  let received = 0;
  let done!: () => void;
  let failed!: (e: Error) => void;
  const allReceived = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const server = await side.listen(id, (s: Duplex) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= bytes) done();
    });
    s.on('error', failed);
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
    await allReceived;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    client.destroy();
    return bytes / seconds / 1e6;
  } finally {
    await server.close();
  }
}
