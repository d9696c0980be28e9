import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TraceEntry } from '../engine/connection.js';
import { freePort } from '../interop/peers.js';
import type { TLSSocket } from './socket.js';
import { collect, loopback, nextClientError, nextError } from './testing/fixtures.js';

const { serve, dial, rawServer } = loopback();

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Write `data` in `chunk`-sized pieces, waiting for 'drain' whenever write() says so; resolves when every callback fired. */
async function writeAll(s: TLSSocket, data: Buffer, chunk: number): Promise<number> {
  let callbacks = 0;
  const done: Promise<void>[] = [];
  for (let off = 0; off < data.length; off += chunk) {
    done.push(new Promise<void>((resolve, reject) => s.write(data.subarray(off, off + chunk), (e) => (e ? reject(e) : resolve()))));
    if (s.writableNeedDrain) await once(s, 'drain');
  }
  await Promise.all(done.map((p) => p.then(() => void callbacks++)));
  return callbacks;
}

describe('streams: backpressure, order and half-close', () => {
  it('carries 5 MB each way intact and in order, honouring backpressure, with every write callback fired', async () => {
    const size = 5 * 1024 * 1024;
    const up = randomBytes(size);
    const down = randomBytes(size);
    let atServer: Promise<Buffer> | undefined;
    const r = await serve({}, (s) => {
      // The server closes only once it has sent everything and received everything (tlschart's engine
      // stops reading once it has sent close_notify, so neither side may close early).
      const chunks: Buffer[] = [];
      let got = 0;
      let receivedAll!: () => void;
      const everything = new Promise<void>((resolve) => (receivedAll = resolve));
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        got += d.length;
        if (got >= size) receivedAll();
      });
      atServer = Promise.all([writeAll(s, down, 100_000), everything]).then(() => {
        s.end();
        return Buffer.concat(chunks);
      });
    });
    const c = dial(r.port);
    const clientGot = collect(c);
    await once(c, 'secureConnect');
    const callbacks = await writeAll(c, up, 65_536);
    expect(callbacks).toBe(Math.ceil(size / 65_536));
    const received = await clientGot;
    expect(received.length).toBe(size);
    expect(sha256(received)).toBe(sha256(down));
    const upload = await (atServer as Promise<Buffer>);
    expect(upload.length).toBe(size);
    expect(sha256(upload)).toBe(sha256(up));
  }, 60_000);

  it.each(['node', 'noble'] as const)(
    'writes of one tick reach the chart as one app.write, and writes of any size, together or apart, arrive intact, in order, in records of at most 2^14 bytes (%s provider)',
    async (crypto) => {
      const serverChunks: Buffer[] = [];
      let received!: (all: Promise<Buffer>) => void;
      const atServer = new Promise<Promise<Buffer>>((resolve) => (received = resolve));
      const r = await serve({ crypto }, (s) => {
        s.on('data', (d: Buffer) => serverChunks.push(d));
        received(collect(s));
      });
      const trace: TraceEntry[] = [];
      const c = dial(r.port, { crypto, trace: (e) => trace.push(e) });
      await once(c, 'secureConnect');
      const writes = () => trace.filter((e) => e.kind === 'transition' && e.event === 'app.write').length;
      const sent: Buffer[] = [];
      const write = (n: number) =>
        new Promise<void>((resolve, reject) => {
          const chunk = randomBytes(n);
          sent.push(chunk);
          c.write(chunk, (e) => (e ? reject(e) : resolve()));
        });
      // One synchronous run of writes, well under the writable high-water mark: one chart event.
      await Promise.all([1, 16383, 16385, 100_000, 7].map(write));
      expect(writes()).toBe(1);
      await Promise.all([50_000, 3].map(write));
      expect(writes()).toBe(2);
      // Then sizes that straddle records and reads, some in a tick of their own, with backpressure.
      for (let i = 0; i < 60; i++) {
        const pending = write(((i * 7919) % 70_000) + (i % 3));
        if (i % 4 === 0) await pending;
        if (c.writableNeedDrain) await once(c, 'drain');
      }
      c.end();
      const all = await await atServer;
      expect(all.length).toBe(Buffer.concat(sent).length);
      expect(sha256(all)).toBe(sha256(Buffer.concat(sent)));
      // The engine hands each record's content on as it was opened: none is larger than a record (§5.1).
      expect(serverChunks.every((d) => d.length <= 16384)).toBe(true);
    },
    60_000,
  );

  it('a slow reader pauses the sender instead of buffering without bound', async () => {
    let serverSocket: TLSSocket | undefined;
    const r = await serve({}, (s) => {
      serverSocket = s;
      s.pause();
    });
    const c = dial(r.port);
    await once(c, 'secureConnect');
    const chunk = Buffer.alloc(64 * 1024, 7);
    let accepted = 0;
    // Keep writing until write() asks us to wait; with a paused reader that must happen.
    while (c.write(chunk)) {
      accepted += chunk.length;
      expect(accepted).toBeLessThan(64 * 1024 * 1024);
    }
    expect(c.writableNeedDrain).toBe(true);
    const drained = once(c, 'drain');
    serverSocket?.resume();
    await drained;
  }, 30_000);

  it('writes made before secureConnect are sent once the handshake is done, in order', async () => {
    let got: Promise<Buffer> | undefined;
    const r = await serve({}, (s) => (got = collect(s)));
    const c = dial(r.port);
    const parts = ['one ', 'two ', 'three ', 'four'];
    for (const p of parts) c.write(p);
    c.end();
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect((await (got as Promise<Buffer>)).toString()).toBe(parts.join(''));
  });

  it('end() sends close_notify, then the server sees the end and both sides close', async () => {
    const serverTrace: TraceEntry[] = [];
    const r = await serve({ trace: (e) => serverTrace.push(e) });
    const serverSide = once(r.server, 'secureConnection') as Promise<[TLSSocket]>;
    const c = dial(r.port);
    await once(c, 'secureConnect');
    const [s] = await serverSide;
    const serverClosed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    const got = collect(s);
    c.end('last words');
    expect((await got).toString()).toBe('last words');
    await serverClosed;
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(serverTrace).toContainEqual({ kind: 'alert', direction: 'in', level: 1, alert: 'close_notify' });
  });

  it('half-close: the client ends after its request and still reads the reply the server writes afterwards', async () => {
    const r = await serve({}, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      // The reply is written only after the client's close_notify arrived (RFC 8446 §6.1).
      s.on('end', () => s.end(`reply to ${Buffer.concat(parts).toString()}`));
    });
    const c = dial(r.port);
    c.end('request');
    const got = await collect(c);
    expect(got.toString()).toBe('reply to request');
  });

  it('a server that ends after writing: the client reads everything, then end', async () => {
    const r = await serve({}, (s) => {
      s.write('part 1, ');
      s.end('part 2');
    });
    const c = dial(r.port);
    expect((await collect(c)).toString()).toBe('part 1, part 2');
  });
});

describe('transport failures give an error event, never a hang', () => {
  it('a server that closes the TCP connection during the handshake', async () => {
    const port = await rawServer((s) => s.once('data', () => s.end()));
    const c = dial(port);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const err = await nextError(c);
    expect(err.reason).toBe('ConnectionClosedDuringHandshake');
    expect(err.code).toBe('ECONNRESET');
    await closed;
  });

  it('a server that resets the connection during the handshake', async () => {
    const port = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
    const err = await nextError(dial(port));
    expect(err.code).toBe('ECONNRESET');
  });

  it('a server that does not speak TLS gets a fatal alert and the socket is destroyed', async () => {
    let answer: Promise<Buffer> | undefined;
    const port = await rawServer((s) => {
      answer = collect(s);
      s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const c = dial(port);
    const err = await nextError(c);
    expect(err.name).toBe('TlsError');
    expect(err.remote).toBe(false);
    // The alert record reached the peer before the connection closed: level 2, then the description.
    const bytes = await (answer as Promise<Buffer>);
    const alertAt = bytes.lastIndexOf(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02]));
    expect(alertAt).toBeGreaterThan(0);
    expect(c.destroyed).toBe(true);
  });

  it('a client that disappears during the handshake is a tlsClientError on the server', async () => {
    const r = await serve();
    const err = nextClientError(r.server);
    const raw = netConnect(r.port, '127.0.0.1', () => raw.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01])));
    expect((await err).reason).toBe('ConnectionClosedDuringHandshake');
  });

  it('a client that never finishes the handshake is dropped after handshakeTimeout', async () => {
    const r = await serve({ handshakeTimeout: 200 });
    const err = nextClientError(r.server);
    const raw = netConnect(r.port, '127.0.0.1');
    const closedByServer = once(raw, 'close');
    raw.on('error', () => undefined);
    expect((await err).reason).toBe('HandshakeTimeout');
    await closedByServer;
  });

  it('a connection refused is an error event with ECONNREFUSED', async () => {
    const port = await freePort();
    const err = await nextError(dial(port));
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('writes still pending when the handshake fails call back with the error', async () => {
    const port = await rawServer((s) => s.once('data', () => s.end()));
    const c = dial(port);
    c.on('error', () => undefined);
    const result = await new Promise<Error | null | undefined>((resolve) => c.write('never sent', (e) => resolve(e)));
    expect(result).toBeInstanceOf(Error);
  });
});
