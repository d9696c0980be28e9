/**
 * The floor under bulk throughput in JavaScript: the same transfer as
 * bulk.ts (64 KiB writes, respecting backpressure, both ends in this process),
 * over a bare net.Socket pair, each 2^14-byte piece sealed as a TLS 1.3
 * record would be (AES-128-GCM through node:crypto, a nonce per record, the
 * 5-byte header as additional data, the content type byte, the tag) and
 * opened on the other side. No handshake, no state machine, no checks beyond
 * the tag: what any JavaScript TLS stack over node:crypto pays per record at
 * least. bench/main.ts prints it beside node:tls, so the bulk ratio can be
 * read against what is reachable at all.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, connect as netConnect } from 'node:net';
import { arrival } from './bulk.js';

const CHUNK = 64 * 1024;
const RECORD = 16 * 1024;
const HEADER = 5;
const TAG = 16;
const TYPE = Buffer.of(23);

/** The record nonce: the IV with the sequence number XORed into its last 8 bytes (RFC 8446 §5.3). */
function nonceFor(iv: Buffer, seq: number): Buffer {
  const n = Buffer.from(iv);
  n.writeUInt32BE((n.readUInt32BE(8) ^ seq) >>> 0, 8);
  return n;
}

function seal(key: Buffer, iv: Buffer, seq: number, content: Buffer): Buffer[] {
  const header = Buffer.of(23, 3, 3, (content.length + 1 + TAG) >> 8, (content.length + 1 + TAG) & 0xff);
  const c = createCipheriv('aes-128-gcm', key, nonceFor(iv, seq));
  c.setAAD(header);
  const body = c.update(content);
  const type = c.update(TYPE);
  c.final();
  return [header, body, type, c.getAuthTag()];
}

/** MB/s (10^6 bytes per second) to move `bytes` through the bare record pipe. */
export async function measureBareBulk(bytes: number): Promise<number> {
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const arrived = arrival(bytes);
  const server = createServer((s) => {
    let seq = 0;
    // The first bytes of a record split across reads; only such a record is copied.
    let partial = Buffer.alloc(0);
    const open = (record: Buffer) => {
      const end = record.length - TAG;
      const d = createDecipheriv('aes-128-gcm', key, nonceFor(iv, seq++));
      d.setAuthTag(record.subarray(end));
      d.setAAD(record.subarray(0, HEADER));
      const plaintext = d.update(record.subarray(HEADER, end));
      d.final();
      arrived.add(plaintext.length - 1);
    };
    s.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (partial.length > 0) {
        const byteAt = (i: number) => (i < partial.length ? (partial[i] as number) : (chunk[i - partial.length] as number));
        const have = partial.length + chunk.length;
        const need = have >= HEADER ? HEADER + ((byteAt(3) << 8) | byteAt(4)) : Number.POSITIVE_INFINITY;
        if (have < need) {
          partial = Buffer.concat([partial, chunk]);
          return;
        }
        const taken = need - partial.length;
        open(Buffer.concat([partial, chunk.subarray(0, taken)]));
        data = chunk.subarray(taken);
        partial = Buffer.alloc(0);
      }
      let at = 0;
      while (data.length - at >= HEADER && data.length - at >= HEADER + data.readUInt16BE(at + 3)) {
        const end = at + HEADER + data.readUInt16BE(at + 3);
        open(data.subarray(at, end));
        at = end;
      }
      if (at < data.length) partial = Buffer.from(data.subarray(at));
    });
    s.on('error', arrived.fail);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = netConnect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    await once(client, 'connect');
    const chunk = Buffer.alloc(CHUNK, 0x61);
    let seq = 0;
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < bytes; sent += CHUNK) {
      const part = bytes - sent >= CHUNK ? chunk : chunk.subarray(0, bytes - sent);
      client.cork();
      let more = true;
      for (let o = 0; o < part.length; o += RECORD) {
        for (const piece of seal(key, iv, seq++, part.subarray(o, o + RECORD))) more = client.write(piece);
      }
      client.uncork();
      if (!more) await once(client, 'drain');
    }
    await arrived.all;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return bytes / seconds / 1e6;
  } finally {
    client.destroy();
    server.close();
  }
}
