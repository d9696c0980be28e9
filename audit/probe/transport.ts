/**
 * Byte transports for probe connections: a TCP connection to the audited
 * target, or an in-memory pipe to a tlschart server engine (the chart's own
 * reaction, used as the reference the target is compared with).
 *
 * A transport only moves bytes. It queues what arrives until the probe reads
 * it, and reports the end of the stream (the peer closed, reset, or the
 * connection could not be made) as `ended`, with the reason.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ServerConnection } from '../../engine/connection.js';

export type EndReason = { kind: 'eof' } | { kind: 'reset'; message: string } | { kind: 'local' };

export interface Transport {
  /** Bytes to the peer (ignored once the transport has ended). */
  write(bytes: Uint8Array): void;
  /** Half-close: we send nothing more (TCP FIN). */
  end(): void;
  /** Close both directions now. */
  destroy(): void;
  /** Resolves with the next chunk, or the end of the stream, or `undefined` at the deadline. */
  read(deadline: number): Promise<Uint8Array | EndReason | undefined>;
  /** Whether the peer's side has ended. */
  readonly ended: EndReason | undefined;
}

/** Shared queueing: chunks and the end of the stream, handed out in order. */
abstract class QueuedTransport implements Transport {
  private readonly chunks: Uint8Array[] = [];
  private end_: EndReason | undefined;
  private wake: (() => void) | undefined;

  get ended(): EndReason | undefined {
    return this.chunks.length === 0 ? this.end_ : undefined;
  }

  protected push(chunk: Uint8Array): void {
    if (this.end_ !== undefined) return;
    this.chunks.push(chunk);
    this.notify();
  }

  protected finish(reason: EndReason): void {
    if (this.end_ !== undefined) return;
    this.end_ = reason;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async read(deadline: number): Promise<Uint8Array | EndReason | undefined> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) return chunk;
      if (this.end_ !== undefined) return this.end_;
      const wait = deadline - Date.now();
      if (wait <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if (this.wake === done) this.wake = undefined;
          resolve();
        }, wait);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        this.wake = done;
      });
    }
  }

  abstract write(bytes: Uint8Array): void;
  abstract end(): void;
  abstract destroy(): void;
}

/** A TCP connection. Resolves once connected; rejects when the connection cannot be made before `timeoutMs`. */
export function tcpTransport(host: string, port: number, timeoutMs: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new TcpTransport(socket));
    });
  });
}

/**
 * A connection accepted by a listening socket (the probing server of
 * `audit client`): the same queueing as an outgoing TCP connection.
 */
export function socketTransport(socket: Socket): Transport {
  return new TcpTransport(socket);
}

class TcpTransport extends QueuedTransport {
  constructor(private readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.push(new Uint8Array(d)));
    socket.on('end', () => this.finish({ kind: 'eof' }));
    socket.on('error', (e: Error) => this.finish({ kind: 'reset', message: e.message }));
    socket.on('close', () => this.finish({ kind: 'eof' }));
  }

  write(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(bytes);
  }

  end(): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
    this.finish({ kind: 'local' });
  }
}

/**
 * An in-memory pipe to a tlschart server engine, standing in for a socket:
 * what the probe writes is received by the engine in order; what the engine
 * outputs arrives at the probe. When the engine fails or closes, or the
 * probe half-closes, the probe sees the end of the stream — as it would from
 * a tlschart server over TCP.
 */
export class EngineTransport extends QueuedTransport {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly server: ServerConnection) {
    super();
    server.on('output', (b) => this.push(b.slice()));
    server.on('error', () => void this.queue.then(() => this.finish({ kind: 'eof' })));
    server.on('close', () => void this.queue.then(() => this.finish({ kind: 'eof' })));
  }

  write(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.queue = this.queue.then(() => this.server.receive(copy));
  }

  end(): void {
    // The peer's end of stream: once everything written was processed, the server closes too.
    this.queue = this.queue.then(() => this.server.settled()).then(() => this.finish({ kind: 'eof' }));
  }

  destroy(): void {
    this.finish({ kind: 'local' });
  }
}
