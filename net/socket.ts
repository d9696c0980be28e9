/**
 * TLSSocket: a node:tls-style stream.Duplex over any transport Duplex (a TCP
 * socket normally), driving one sans-IO engine connection.
 *
 *   transport 'data' ─► engine.receive ─► engine 'data' ─► push() (pauses the transport when full)
 *   write()/end() ─► (after the handshake) engine.write / engine.close ─► engine 'output' ─► transport.write
 *
 * Nothing here decides anything about the protocol: errors are the engine's
 * TlsError, or the transport's own error, or — when the transport closes
 * before the handshake completed — a TlsError 'ConnectionClosedDuringHandshake'.
 */

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ClientConnection, HandshakeInfo, ServerConnection, TraceEntry } from '../engine/connection.js';
import { encodeClientSession } from '../tickets/session-codec.js';
import type { ClientSession } from '../tickets/types.js';
import { TlsError } from '../wire/alerts.js';
import { bufferOf, bytesOf } from '../wire/bytes.js';
import { NamedGroup } from '../wire/types.js';
import { type PeerCertificate, peerCertificateObject } from './certificate.js';
import { EPHEMERAL_KEY_INFO } from './options.js';

export type TlsConnection = ClientConnection | ServerConnection;

/** Where key log lines (NSS SSLKEYLOGFILE format, one per secret) go: a function or a writable stream. */
export type KeylogSink = ((line: Buffer) => void) | { write(chunk: Buffer): unknown };

/** What node:tls getCipher() returns. */
export interface CipherInfo {
  name: string;
  standardName: string;
  version: 'TLSv1.3';
}

/** What node:tls getEphemeralKeyInfo() returns on a client ('KEM': tlschart's report for X25519MLKEM768). */
export interface EphemeralKeyInfo {
  type: 'ECDH' | 'KEM';
  name: string;
  size: number;
}

/** How `authorized` is decided once the handshake completed (the engine already enforced what had to be enforced). */
export type Authorizer = (info: HandshakeInfo) => { authorized: boolean; error?: string };

/** Internal construction options: sockets come from connect() and createServer(). */
export interface TLSSocketInit {
  role: 'client' | 'server';
  transport: Duplex;
  authorize: Authorizer;
  trace?: ((entry: TraceEntry) => void) | undefined;
  keylog?: KeylogSink | undefined;
}

const GROUP_CODES: Record<string, number> = {
  X25519MLKEM768: NamedGroup.X25519MLKEM768,
  x25519: NamedGroup.x25519,
  secp256r1: NamedGroup.secp256r1,
  secp384r1: NamedGroup.secp384r1,
};

/** How long a transport may take to deliver our last alert and close after a TLS failure. */
const LINGER_MS = 2000;
/** After activity, how long until the engine is asked to drop the commands it carried out (engine compact()). */
export const COMPACT_AFTER_MS = 500;

/**
 * How much application data may wait in a socket's writable buffer before
 * write() says to wait for 'drain' (node's default is 16 KiB). Each write the
 * engine takes costs a chart step, whatever its size; writes that queued up
 * while the previous one was being sealed go to the engine together
 * (_writev), so a writer may run further ahead: at most this much per
 * connection, and only while it writes faster than the peer reads.
 */
export const WRITABLE_HIGH_WATER_MARK = 256 * 1024;

/** The transport closed before the handshake completed. */
export function closedDuringHandshake(): TlsError {
  const e = new TlsError(
    'handshake_failure',
    'ConnectionClosedDuringHandshake',
    'the peer closed the connection before the TLS handshake completed',
  );
  (e as TlsError & { code: string }).code = 'ECONNRESET';
  return e;
}

type WriteCallback = (error: Error | null | undefined) => void;

export class TLSSocket extends Duplex {
  readonly encrypted = true;
  readonly role: 'client' | 'server';
  /** Whether the peer's certificate chain was validated (client: the server's; server: the client's, when requested). */
  authorized = false;
  /** Why not: the reason name of the validation failure (e.g. 'UnknownCa', 'HostnameMismatch', 'NoPeerCertificate'). */
  authorizationError: string | undefined = undefined;
  /** The negotiated ALPN protocol, false when none was negotiated, null before the handshake. */
  alpnProtocol: string | false | null = null;
  /** What the engine reported when the handshake completed. */
  handshakeInfo: HandshakeInfo | undefined = undefined;
  /** NewSessionTicket messages that produced a session (client). */
  ticketsReceived = 0;

  readonly #transport: Duplex;
  readonly #authorize: Authorizer;
  readonly #trace: ((entry: TraceEntry) => void) | undefined;
  readonly #keylog: KeylogSink | undefined;
  #conn: TlsConnection | undefined;
  #handshaken = false;
  #readEnded = false;
  #pausedTransport = false;
  #corked = false;
  /** The last 'output' said more chunks of the same write follow. */
  #gathering = false;
  /** This turn's writes are corked (see write()): the uncork is scheduled. */
  #tickCorked = false;
  #lastSession: Buffer | undefined;
  #secured: Promise<void>;
  #resolveSecured!: () => void;
  #rejectSecured!: (e: Error) => void;
  #drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  #handshakeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleMs = 0;
  /** When bytes last crossed the transport, either way (for the idle timeout). */
  #lastActivity = 0;
  #compactTimer: NodeJS.Timeout | undefined;
  /** Reads from the transport not yet given to the engine (see #onTransportData), and the flush that will. */
  #reads: Uint8Array[] = [];
  #readsFlush: NodeJS.Immediate | undefined;
  #peer: { address: string | undefined; port: number | undefined; family: string | undefined } | undefined;

  constructor(init: TLSSocketInit) {
    super({ allowHalfOpen: false, decodeStrings: true, writableHighWaterMark: WRITABLE_HIGH_WATER_MARK });
    this.role = init.role;
    this.#transport = init.transport;
    this.#authorize = init.authorize;
    this.#trace = init.trace;
    this.#keylog = init.keylog;
    this.#secured = new Promise<void>((resolve, reject) => {
      this.#resolveSecured = resolve;
      this.#rejectSecured = reject;
    });
    // A failed handshake is reported through 'error'; writers waiting on it see it through their callbacks.
    this.#secured.catch(() => undefined);

    const t = this.#transport;
    t.on('data', (chunk: Buffer) => this.#onTransportData(chunk));
    // A server's peer that half-closes, or any transport that closes or fails, before the
    // handshake completed can never finish it: the engine drops the handshake work still
    // queued at once (abandon), then reports what it already read (afterEngine).
    t.on('end', () => {
      if (this.role === 'server') this.#abandon();
      void this.#afterEngine(() => this.#onTransportEnd());
    });
    t.on('error', (err: Error) => {
      this.#abandon();
      void this.#afterEngine(() => this.destroy(err));
    });
    t.on('close', () => {
      this.#abandon();
      void this.#afterEngine(() => this.#onTransportClose());
    });
    t.on('drain', () => this.#settleDrain(undefined));
    t.on('timeout', () => this.emit('timeout'));
  }

  /** The engine connection (client or server), once the transport is connected. */
  get engine(): TlsConnection | undefined {
    return this.#conn;
  }

  /** Whether the handshake completed. */
  get secured(): boolean {
    return this.#handshaken;
  }

  /** Server name: the SNI sent (client) or received (server); false when there was none. */
  get servername(): string | false {
    return this.handshakeInfo?.serverName ?? false;
  }

  /** @internal Start the engine connection; connect() and the server call this once the transport is up. */
  attach(conn: TlsConnection): void {
    if (this.#conn) throw new Error('TLSSocket: engine already attached');
    this.#conn = conn;
    const net = this.#net();
    if (net) this.#peer = { address: net.remoteAddress, port: net.remotePort, family: net.remoteFamily };
    // Application data leaves as the chunks of one gathered write: the transport writes them together (writev).
    conn.gatherOutput = true;
    conn.on('output', (bytes, more) => {
      const t = this.#transport;
      // The chunks of one gathered write (`more`): the bookkeeping once, at the first.
      const continued = this.#gathering;
      this.#gathering = more === true;
      if (continued) {
        if (!t.destroyed && !t.writableEnded) t.write(bufferOf(bytes));
        return;
      }
      this.#compactSoon();
      if (t.destroyed || t.writableEnded) return;
      this.#lastActivity = Date.now();
      // A flight is several records written while the engine reacts to one input: cork them into
      // one TCP segment (so Nagle's algorithm and delayed ACKs do not stall the handshake), and
      // uncork as soon as that reaction is complete — not a turn of the event loop later, so that
      // tickets leave with the reaction to the client Finished (RFC 8446 §4.6.1).
      if (!this.#corked) {
        this.#corked = true;
        t.cork();
        void conn.settled().then(() => this.#uncork());
      }
      // node:crypto's ciphertext is already a Buffer: bufferOf makes no view of it.
      t.write(bufferOf(bytes));
    });
    // The engine says what was written so far should go now (before the handshake's listeners run).
    conn.on('flush', () => this.#uncork());
    conn.on('data', (data) => {
      if (this.#readEnded || this.destroyed) return;
      if (!this.push(bufferOf(data)) && !this.#pausedTransport) {
        this.#pausedTransport = true;
        this.#transport.pause();
      }
    });
    conn.on('handshake', (info) => this.#onHandshake(info));
    conn.on('session', (s: ClientSession) => {
      this.ticketsReceived++;
      this.#lastSession = Buffer.from(encodeClientSession(s));
      this.emit('session', this.#lastSession);
    });
    conn.keylogConsumer = this;
    conn.on('keylog', (line) => {
      const buf = Buffer.from(line, 'latin1');
      this.emit('keylog', buf);
      const sink = this.#keylog;
      if (typeof sink === 'function') sink(buf);
      else if (sink) sink.write(buf);
    });
    // The engine's 'end' is the peer's close_notify: our readable side ends, our writable side is ours to end.
    conn.on('end', () => this.#endReadable());
    conn.on('error', (e) => this.destroy(e));
    if (this.#trace) conn.on('trace', this.#trace);
  }

  /**
   * @internal Fail the handshake if it has not completed within `ms` (0: never).
   * The connection ends cleanly: handshake work still queued is dropped, a
   * close_notify goes out if we already write under handshake keys (RFC 8446
   * §6.1), then the transport closes; 'error' reports HandshakeTimeout.
   */
  setHandshakeTimeout(ms: number): void {
    if (ms <= 0 || this.#handshaken) return;
    this.#handshakeTimer = setTimeout(() => {
      if (this.#handshaken || this.destroyed) return;
      const error = new TlsError('handshake_failure', 'HandshakeTimeout', `the TLS handshake did not complete within ${ms} ms`);
      const conn = this.#conn;
      conn?.abandon();
      if (!conn?.hasWriteKeys) {
        this.destroy(error);
        return;
      }
      const fallback = setTimeout(() => this.destroy(error), LINGER_MS);
      fallback.unref();
      void conn.close().then(() => {
        clearTimeout(fallback);
        this.destroy(error);
      });
    }, ms);
    this.#handshakeTimer.unref();
  }

  /**
   * @internal Once the handshake has completed, close the connection when no
   * byte has crossed the transport, either way, for `ms` (0: never): a
   * close_notify (RFC 8446 §6.1), then the transport is ended and, if the peer
   * does not close it, destroyed after a short linger. Emits 'idle' first.
   */
  setIdleTimeout(ms: number): void {
    this.#idleMs = ms;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (ms > 0 && this.#handshaken) this.#armIdle(ms);
  }

  #armIdle(delay: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.destroyed || this.#idleMs <= 0) return;
      const quiet = Date.now() - this.#lastActivity;
      if (quiet < this.#idleMs) {
        this.#armIdle(this.#idleMs - quiet);
        return;
      }
      this.#closeIdle();
    }, delay);
    this.#idleTimer.unref();
  }

  #closeIdle(): void {
    this.emit('idle', this.#idleMs);
    const t = this.#transport;
    const linger = setTimeout(() => this.destroy(), LINGER_MS);
    linger.unref();
    this.once('close', () => clearTimeout(linger));
    const conn = this.#conn;
    const closing = conn && !conn.context.closeNotifySent ? conn.close() : Promise.resolve();
    void closing.then(() => {
      if (!t.destroyed && !t.writableEnded) t.end();
    });
  }

  /** The transport is gone or going: drop handshake work the engine has not done yet. */
  #abandon(): void {
    if (!this.#handshaken) this.#conn?.abandon();
  }

  // ------------------------------------------------------------ node:tls methods

  isSessionReused(): boolean {
    return this.handshakeInfo?.resumed ?? false;
  }

  getProtocol(): 'TLSv1.3' | null {
    return this.#handshaken ? 'TLSv1.3' : null;
  }

  getCipher(): CipherInfo | null {
    const suite = this.handshakeInfo?.suite;
    return suite ? { name: suite, standardName: suite, version: 'TLSv1.3' } : null;
  }

  /**
   * The client's ephemeral key exchange; null on a server socket (as node:tls), {} before the handshake.
   * X25519MLKEM768 is reported as { type: 'KEM', name: 'X25519MLKEM768', size: 768 }.
   */
  getEphemeralKeyInfo(): EphemeralKeyInfo | Record<string, never> | null {
    if (this.role === 'server') return null;
    const code = GROUP_CODES[this.handshakeInfo?.group ?? ''];
    const info = code === undefined ? undefined : EPHEMERAL_KEY_INFO[code];
    return info ? { type: info.type, name: info.name, size: info.size } : {};
  }

  /** The peer's certificate (on a resumed connection: the one of the original handshake); {} when there is none. */
  getPeerCertificate(detailed = false): PeerCertificate | Record<string, never> {
    return peerCertificateObject(this.handshakeInfo?.peerCertificates ?? [], detailed);
  }

  /**
   * @internal Whether the engine should make key log lines: a key log sink, a 'keylog'
   * listener (the server adds one only when it has 'keylog' listeners itself), or a listener
   * of the engine's own besides this socket's relay (e.g. traces/keylog.ts's keylogTo).
   */
  get wantsKeylog(): boolean {
    return this.#keylog !== undefined || this.listenerCount('keylog') > 0 || (this.#conn?.listenerCount('keylog') ?? 0) > 1;
  }

  /** The newest session received (client), for `connect({ session })`. */
  getSession(): Buffer | undefined {
    return this.#lastSession;
  }

  /** RFC 8446 §7.5 / RFC 5705 exporter, node's argument order. */
  exportKeyingMaterial(length: number, label: string, context?: Buffer | Uint8Array): Buffer {
    if (!this.#conn || !this.#handshaken) throw new Error('exportKeyingMaterial: the TLS handshake has not completed');
    return bufferOf(this.#conn.exportKeyingMaterial(label, context === undefined ? undefined : new Uint8Array(context), length));
  }

  // ------------------------------------------------------------ transport pass-through

  #net(): Socket | undefined {
    const t = this.#transport as Partial<Socket>;
    return typeof t.setNoDelay === 'function' ? (this.#transport as Socket) : undefined;
  }

  // The peer's address is remembered when the engine starts, so it can still be logged after the transport closed.
  get remoteAddress(): string | undefined {
    return this.#peer?.address ?? this.#net()?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#peer?.port ?? this.#net()?.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.#peer?.family ?? this.#net()?.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.#net()?.localAddress;
  }
  get localPort(): number | undefined {
    return this.#net()?.localPort;
  }
  address(): ReturnType<Socket['address']> | Record<string, never> {
    return this.#net()?.address() ?? {};
  }
  setTimeout(ms: number, callback?: () => void): this {
    this.#net()?.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(noDelay = true): this {
    this.#net()?.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#net()?.setKeepAlive(enable, initialDelay);
    return this;
  }
  ref(): this {
    this.#net()?.ref();
    return this;
  }
  unref(): this {
    this.#net()?.unref();
    return this;
  }

  // ------------------------------------------------------------ stream.Duplex

  override _read(): void {
    if (this.#pausedTransport) {
      this.#pausedTransport = false;
      this.#transport.resume();
    }
  }

  /**
   * Once the handshake is done, the writes of one synchronous run (a writer
   * filling the buffer up to 'drain', say 4 × 64 KiB) are corked until the
   * next tick, so they reach _writev together: one chart event and one sealed
   * batch for all of them, instead of one for the first write and one for the rest.
   */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (this.#handshaken && !this.#tickCorked && !this.destroyed) {
      this.#tickCorked = true;
      this.cork();
      process.nextTick(() => {
        this.#tickCorked = false;
        this.uncork();
      });
    }
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.#send(chunk).then(
      () => cb(),
      (e: Error) => cb(e),
    );
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (error?: Error | null) => void): void {
    // Writes queued meanwhile go to the engine together, not joined: one chart event, full records.
    this.#send(chunks.map((c) => c.chunk)).then(
      () => cb(),
      (e: Error) => cb(e),
    );
  }

  /** Application data waits for the handshake, then for the transport to drain: backpressure end to end. */
  async #send(data: Buffer | Buffer[]): Promise<void> {
    if (!this.#handshaken) await this.#secured;
    const conn = this.#conn;
    if (!conn) throw new Error('TLSSocket: no connection');
    await conn.write(Array.isArray(data) ? data.map(bytesOf) : bytesOf(data));
    if (this.#transport.writableNeedDrain) {
      await new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
    }
  }

  override _final(cb: (error?: Error | null) => void): void {
    const finish = async () => {
      // end() during the handshake closes once it completed (as node:tls); a failed one has nothing to close.
      const ok = await this.#secured.then(
        () => true,
        () => false,
      );
      if (!ok || this.destroyed) return;
      await this.#conn?.close();
      this.#transport.end();
    };
    finish().then(
      () => cb(),
      (e: Error) => cb(e),
    );
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#compactTimer) clearTimeout(this.#compactTimer);
    this.#compactTimer = undefined;
    if (this.#readsFlush !== undefined) clearImmediate(this.#readsFlush);
    this.#readsFlush = undefined;
    this.#reads = [];
    // Only someone still waiting (for the handshake, or for 'drain') needs a reason: a new Error
    // captures a stack, and every connection is destroyed in the end.
    if (err !== null || !this.#handshaken || this.#drainWaiters.length > 0) {
      const reason = err ?? new Error('the socket was destroyed');
      this.#rejectSecured(reason);
      this.#settleDrain(reason);
    }
    const t = this.#transport;
    if (err instanceof TlsError && err.reason !== 'ConnectionClosedDuringHandshake' && !t.destroyed) {
      // Let the alert the engine just wrote reach the peer before the transport goes away.
      t.end();
      t.resume();
      const timer = setTimeout(() => t.destroy(), LINGER_MS);
      timer.unref();
      t.once('close', () => clearTimeout(timer));
    } else {
      t.destroy();
    }
    cb(err);
  }

  // ------------------------------------------------------------ internals

  /**
   * Once the connection has been quiet for COMPACT_AFTER_MS, let the engine drop
   * what it carried out, so an idle connection holds no data or handshake flight.
   * One timer per busy period, not one engine event per record.
   */
  #compactSoon(): void {
    if (this.#compactTimer !== undefined) return;
    this.#compactTimer = setTimeout(() => {
      this.#compactTimer = undefined;
      if (!this.destroyed) void this.#conn?.compact();
    }, COMPACT_AFTER_MS);
    this.#compactTimer.unref();
  }

  #onTransportData(chunk: Buffer): void {
    const conn = this.#conn;
    if (!conn || this.destroyed) return;
    this.#lastActivity = Date.now();
    this.#compactSoon();
    // A transport's 'data' chunk is a fresh buffer nobody writes again: the engine keeps it as it is.
    this.#reads.push(bytesOf(chunk));
    if (!this.#handshaken) {
      this.#flushReads();
      return;
    }
    // Once the handshake is done, the reads of one turn of the event loop (the transport reads up to
    // 64 KiB at a time, several in a row when the peer sends in bulk) go to the engine together, at
    // the end of this turn: their application data reaches the chart as one event, not one per read.
    this.#readsFlush ??= setImmediate(() => this.#flushReads());
  }

  /** Hand the reads not yet given to the engine to it, in order. */
  #flushReads(): void {
    if (this.#readsFlush !== undefined) clearImmediate(this.#readsFlush);
    this.#readsFlush = undefined;
    const reads = this.#reads;
    if (reads.length === 0) return;
    this.#reads = [];
    const conn = this.#conn;
    if (!conn || this.destroyed) return;
    // Failures surface as the engine's 'error' event; the promise only says when the bytes were processed.
    conn.receive(reads.length === 1 ? (reads[0] as Uint8Array) : reads, { owned: true }).catch(() => undefined);
  }

  /** Run `f` once the engine processed every byte received so far (an alert just before a FIN wins over the FIN). */
  async #afterEngine(f: () => void): Promise<void> {
    this.#flushReads();
    if (this.#conn) await this.#conn.settled();
    f();
  }

  #onHandshake(info: HandshakeInfo): void {
    this.handshakeInfo = info;
    this.alpnProtocol = info.alpn ?? false;
    const verdict = this.#authorize(info);
    this.authorized = verdict.authorized;
    this.authorizationError = verdict.error;
    this.#handshaken = true;
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#lastActivity = Date.now();
    if (this.#idleMs > 0) this.#armIdle(this.#idleMs);
    this.#handshakeTimer = undefined;
    this.#resolveSecured();
    // Out of the engine's queue: a listener that throws must not turn into a TLS alert.
    process.nextTick(() => {
      if (!this.destroyed) this.emit(this.role === 'client' ? 'secureConnect' : 'secure');
    });
  }

  #endReadable(): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    this.push(null);
  }

  #onTransportEnd(): void {
    if (this.destroyed) return;
    if (!this.#handshaken) {
      this.destroy(this.#conn?.error ?? closedDuringHandshake());
      return;
    }
    // A FIN without close_notify ends the stream too (node:tls does not treat truncation as an error).
    this.#endReadable();
  }

  #onTransportClose(): void {
    if (this.#drainWaiters.length > 0) this.#settleDrain(new Error('the connection closed'));
    if (this.destroyed) return;
    if (!this.#handshaken) {
      this.destroy(this.#conn?.error ?? closedDuringHandshake());
      return;
    }
    this.#endReadable();
    // Nothing more can arrive or leave: close now, or once a reader took what is still buffered.
    if (this.readableEnded || this.readableLength === 0) this.destroy();
    else this.once('end', () => this.destroy());
  }

  /** End the cork of the current reaction, if one is on (once: a second call finds none). */
  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#transport.uncork();
  }

  #settleDrain(error: Error | undefined): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }
}
