/**
 * tlschart's server side, shaped like node:tls `createServer()`.
 */
import { EventEmitter } from 'node:events';
import { type AddressInfo, type Server as NetServer, createServer as netCreateServer, type Socket } from 'node:net';
import type { CryptoProvider } from '../crypto/provider.js';
import { chainVerifier, defaultServerConfig, parseLeafOnly } from '../engine/config.js';
import { type HandshakeGate, type HandshakeInfo, ServerConnection, type TraceEntry } from '../engine/connection.js';
import { systemEnvironment } from '../engine/env.js';
import type { Environment, ProtocolLimits, ServerConfig } from '../machines/types.js';
import { validateServerChain } from '../pki/validate.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import { MAX_TICKET_LIFETIME_S, type TicketStore } from '../tickets/types.js';
import { tracedServerMachine } from '../traces/recorder.js';
import type { TlsError } from '../wire/alerts.js';
import { type AdmissionStats, defaultHandshakeQueue, defaultMaxHandshakes, EventLoopTurns, HandshakeAdmission } from './admission.js';
import { type ObserveOptions, observe, wantsTracedMachine } from './observe.js';
import {
  type CryptoOption,
  certifiedKeys,
  cryptoProvider,
  type LimitOptions,
  type PemInput,
  parseAlpn,
  parseCipherSuites,
  parseGroups,
  pemStrings,
  protocolLimits,
  withProvider,
} from './options.js';
import { TLSSocket } from './socket.js';

/**
 * Besides node:tls's options: `traceCollector` records every connection as a
 * handshake of a tlschart trace (labelled with the client's address),
 * `inspect`/`inspector` show each connection's statechart to an XState
 * inspector, sanitised (see observe.ts).
 */
export interface ServerOptions extends ObserveOptions, LimitOptions {
  /** Private key(s), PEM: ECDSA P-256/P-384, Ed25519 or RSA (≥ 2048 bits). Arrays pair with `cert` by index. */
  key: PemInput;
  /** Certificate chain(s), PEM, leaf first; intermediates may follow in the same string. */
  cert: PemInput;
  /** NewSessionTicket messages after each handshake. Default 2. */
  ticketsPerHandshake?: number;
  /** Ticket lifetime in seconds (at most 604800). Default 7200. */
  ticketLifetime?: number;
  /**
   * Send the tickets right after the server Finished instead of after the client Finished
   * (RFC 8446 §4.6.1, as Go does; not when a client certificate is requested). They are stored
   * only once the client Finished verified. A client that closes as soon as its handshake ends
   * (`openssl s_client </dev/null`, testssl.sh) then has them. Default false.
   */
  earlyTickets?: boolean;
  /** Where ticket states live. Default: one MemoryTicketStore for this server, holding `maxTickets`. */
  ticketStore?: TicketStore;
  /** Most tickets the default in-memory store keeps (see tickets/memory-store.ts for which go first). Default 10000. */
  maxTickets?: number;
  /** Ask for a client certificate (CertificateRequest). Default false. */
  requestCert?: boolean;
  /** CAs that issue client certificates (PEM). Default: Node's root store. */
  ca?: PemInput;
  /** With requestCert: refuse clients without a valid certificate. Default true. */
  rejectUnauthorized?: boolean;
  ALPNProtocols?: string[];
  /** Groups in the server's preference order ('X25519MLKEM768', 'x25519', 'P-256', 'P-384'; that is the default). */
  groups?: string | string[];
  /** Cipher suites in the server's preference order. */
  cipherSuites?: string | string[];
  /** Receives every trace entry, with the socket it belongs to. */
  trace?: (entry: TraceEntry, socket: TLSSocket) => void;
  /** Milliseconds a client has to complete the handshake. Default 120000 (as node:tls). 0 disables. */
  handshakeTimeout?: number;
  /** Milliseconds without a byte either way after which an established connection is closed (close_notify). Default 120000. 0 disables. */
  idleTimeout?: number;
  /**
   * ClientHellos worked on at once (admission control, net/admission.ts);
   * beyond it and a full queue, connections are refused ('refused' event).
   * Default: twice the cores (os.availableParallelism()), at least 2.
   */
  maxHandshakes?: number;
  /** ClientHellos that may wait for one of the `maxHandshakes` slots. Default 4 × maxHandshakes. */
  handshakeQueue?: number;
  /** Randomness and clock (and a crypto provider) for every connection; default the system's. */
  env?: () => Environment;
  /**
   * The crypto provider: 'node' (node:crypto, the default) or 'noble' (pure
   * JavaScript @noble; deterministic ECDSA), or a CryptoProvider. The key is
   * loaded into it once, here. With `env`, the env's provider unless this is given.
   */
  crypto?: CryptoOption;
}

/** What a 'refused' event says: who, and when the server said no (before or after its ClientHello arrived). */
export interface RefusedConnection {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  stage: 'accept' | 'clientHello';
  running: number;
  waiting: number;
}

/** Counters since the server started (`server.stats()`). */
export interface ServerStats extends AdmissionStats {
  accepted: number;
  handshakeTimeouts: number;
  idleTimeouts: number;
}

/** The next turn of the event loop after pending I/O was polled (a peer's FIN or RST is seen by then). */
const afterPendingIo = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

function nonNegativeInteger(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new TypeError(`createServer: ${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}

/**
 * Events: 'secureConnection' (TLSSocket), 'tlsClientError' (err, TLSSocket),
 * 'refused' (RefusedConnection: shed under load, closed without a reply),
 * 'connection' (net.Socket), 'keylog' (line, TLSSocket: for connections that arrive while the
 * server has a 'keylog' listener), 'listening', 'close', 'error'.
 */
export class Server extends EventEmitter {
  /** The shared ticket store (the one passed in, or this server's MemoryTicketStore). */
  readonly ticketStore: TicketStore;
  readonly #config: ServerConfig;
  readonly #options: ServerOptions;
  readonly #net: NetServer;
  readonly #transports = new Set<Socket>();
  readonly #authorizeClient: (info: HandshakeInfo) => { authorized: boolean; error?: string };
  readonly #admission: HandshakeAdmission;
  readonly #turns = new EventLoopTurns();
  readonly #handshakeTimeout: number;
  readonly #idleTimeout: number;
  #accepted = 0;
  #handshakeTimeouts = 0;
  #idleTimeouts = 0;
  readonly #provider: CryptoProvider;
  /** The system's randomness and clock with this server's provider, shared by its connections (it holds no state). */
  readonly #systemEnv: Environment;

  constructor(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void) {
    super();
    if (options.key === undefined || options.cert === undefined) throw new TypeError('createServer: key and cert are required');
    this.#options = options;
    this.#provider = cryptoProvider(options.crypto, 'createServer');
    this.#systemEnv = systemEnvironment(this.#provider);
    if (options.ticketStore !== undefined && options.maxTickets !== undefined) {
      throw new TypeError('createServer: maxTickets sizes the default in-memory store; size the ticketStore you pass yourself');
    }
    const maxTickets = nonNegativeInteger('maxTickets', options.maxTickets, 10000, 1);
    this.ticketStore = options.ticketStore ?? new MemoryTicketStore({ maxEntries: maxTickets });
    const maxHandshakes = nonNegativeInteger('maxHandshakes', options.maxHandshakes, defaultMaxHandshakes(), 1);
    this.#admission = new HandshakeAdmission(
      maxHandshakes,
      nonNegativeInteger('handshakeQueue', options.handshakeQueue, defaultHandshakeQueue(maxHandshakes)),
    );
    this.#handshakeTimeout = nonNegativeInteger('handshakeTimeout', options.handshakeTimeout, 120_000);
    this.#idleTimeout = nonNegativeInteger('idleTimeout', options.idleTimeout, 120_000);
    const limits: Partial<ProtocolLimits> = protocolLimits(options, 'createServer');
    const requestCert = options.requestCert === true;
    const rejectClients = requestCert && options.rejectUnauthorized !== false;
    const ca = options.ca === undefined ? undefined : pemStrings(options.ca);
    const overrides: Partial<ServerConfig> = {
      certificates: certifiedKeys(options.cert, options.key, 'createServer', this.#provider),
      alpnProtocols: parseAlpn(options.ALPNProtocols ?? []),
      requestClientCertificate: requestCert,
      requireClientCertificate: rejectClients,
      verifyClientChain: !requestCert
        ? undefined
        : rejectClients
          ? chainVerifier({ purpose: 'client', ...(ca !== undefined ? { ca } : {}) })
          : parseLeafOnly,
      limits,
    };
    if (options.groups !== undefined) overrides.groups = parseGroups(options.groups);
    if (options.cipherSuites !== undefined) overrides.cipherSuites = parseCipherSuites(options.cipherSuites);
    if (options.ticketsPerHandshake !== undefined) {
      if (!Number.isInteger(options.ticketsPerHandshake) || options.ticketsPerHandshake < 0) {
        throw new TypeError('createServer: ticketsPerHandshake must be a non-negative integer');
      }
      overrides.ticketsPerHandshake = options.ticketsPerHandshake;
    }
    if (options.ticketLifetime !== undefined) {
      if (!Number.isInteger(options.ticketLifetime) || options.ticketLifetime < 0 || options.ticketLifetime > MAX_TICKET_LIFETIME_S) {
        throw new TypeError(`createServer: ticketLifetime must be an integer number of seconds in 0..${MAX_TICKET_LIFETIME_S}`);
      }
      overrides.ticketLifetimeS = options.ticketLifetime;
    }
    if (options.earlyTickets !== undefined) {
      if (typeof options.earlyTickets !== 'boolean') throw new TypeError('createServer: earlyTickets must be a boolean');
      overrides.earlyTickets = options.earlyTickets;
    }
    this.#config = defaultServerConfig(overrides);
    this.#authorizeClient = (info) => {
      if (!requestCert) return { authorized: false, error: 'NoCertificateRequested' };
      if (info.peerCertificates.length === 0) return { authorized: false, error: 'NoPeerCertificate' };
      if (rejectClients) return { authorized: true };
      const v = validateServerChain(info.peerCertificates, { now: new Date(), purpose: 'client', ...(ca !== undefined ? { ca } : {}) });
      return v.ok ? { authorized: true } : { authorized: false, error: v.error.reason };
    };

    this.#net = netCreateServer((raw) => this.#accept(raw));
    this.#net.on('listening', () => this.emit('listening'));
    this.#net.on('close', () => this.emit('close'));
    this.#net.on('error', (e) => this.emit('error', e));
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
  }

  /** Listen on `port` (0: an ephemeral one) and `host` (default: all addresses, as net.Server). */
  listen(port?: number, host?: string | (() => void), callback?: () => void): this {
    const cb = typeof host === 'function' ? host : callback;
    const h = typeof host === 'string' ? host : undefined;
    if (cb) this.once('listening', cb);
    if (h === undefined) this.#net.listen(port ?? 0);
    else this.#net.listen(port ?? 0, h);
    return this;
  }

  /** Stop accepting connections; `callback` runs once every open connection has closed. */
  close(callback?: (err?: Error) => void): this {
    this.#net.close(callback);
    return this;
  }

  /** What admission control and the timeouts did so far, and how many handshakes run and wait now. */
  stats(): ServerStats {
    return {
      accepted: this.#accepted,
      handshakeTimeouts: this.#handshakeTimeouts,
      idleTimeouts: this.#idleTimeouts,
      ...this.#admission.stats(),
    };
  }

  /** Destroy every open connection (for a prompt shutdown after close()). */
  closeAllConnections(): void {
    for (const t of this.#transports) t.destroy();
  }

  address(): AddressInfo | string | null {
    return this.#net.address();
  }

  get listening(): boolean {
    return this.#net.listening;
  }

  ref(): this {
    this.#net.ref();
    return this;
  }

  unref(): this {
    this.#net.unref();
    return this;
  }

  #refuse(stage: RefusedConnection['stage'], address: string | undefined, port: number | undefined): void {
    const { running, waiting } = this.#admission.stats();
    if (this.listenerCount('refused') > 0)
      this.emit('refused', { remoteAddress: address, remotePort: port, stage, running, waiting } satisfies RefusedConnection);
  }

  #accept(raw: Socket): void {
    if (this.#admission.saturated) {
      // Shed load before spending anything on this connection: no TLS state, no reply.
      this.#admission.noteRefused();
      this.#refuse('accept', raw.remoteAddress, raw.remotePort);
      raw.on('error', () => undefined);
      raw.destroy();
      return;
    }
    this.#accepted++;
    this.#transports.add(raw);
    // Flights are corked into one write each (net/socket.ts); Nagle's algorithm would only hold
    // back the next one (tickets written after an async store answered) until the peer's delayed ACK.
    raw.setNoDelay(true);
    // Aborted when the transport closes while a ClientHello waits for admission. Made only for such
    // a wait, and aborted only then: abort() makes a DOMException (a stack capture) and dispatches
    // an event, for every connection otherwise.
    let waiting: AbortController | undefined;
    // `on`, not `once`: 'close' comes once anyway, and a once-wrapper costs every idle connection ~150 bytes.
    raw.on('close', () => {
      this.#transports.delete(raw);
      waiting?.abort();
    });
    this.emit('connection', raw);
    const trace = this.#options.trace;
    const socket: TLSSocket = new TLSSocket({
      role: 'server',
      transport: raw,
      authorize: this.#authorizeClient,
      trace: trace ? (entry) => trace(entry, socket) : undefined,
    });
    // Until the handshake completes, failures belong to the server ('tlsClientError'), as in node:tls.
    const onHandshakeError = (err: Error) => {
      if ((err as TlsError).reason === 'HandshakeTimeout') this.#handshakeTimeouts++;
      if (this.listenerCount('tlsClientError') > 0) this.emit('tlsClientError', err as TlsError, socket);
    };
    socket.on('error', onHandshakeError);
    socket.once('secure', () => {
      socket.off('error', onHandshakeError);
      this.emit('secureConnection', socket);
    });
    // Key log lines are made for a connection only if the server has 'keylog' listeners when it
    // arrives (each line costs two hex strings; most servers log nothing).
    if (this.listenerCount('keylog') > 0) socket.on('keylog', (line: Buffer) => this.emit('keylog', line, socket));
    socket.setHandshakeTimeout(this.#handshakeTimeout);
    socket.setIdleTimeout(this.#idleTimeout);
    socket.on('idle', () => this.#idleTimeouts++);
    const custom = this.#options.env?.();
    const env = custom === undefined ? this.#systemEnv : withProvider(custom, this.#options.crypto, this.#provider);
    // Admission control: a ClientHello waits for a slot (or is refused), then for the event loop
    // to poll I/O once more, so that a peer that already closed is seen (and abandoned) first,
    // then for its turn: one handshake's work per turn of the loop (see EventLoopTurns).
    const gate: HandshakeGate = async (msg) => {
      // Only a ClientHello that starts the handshake's work waits. Any other message goes straight
      // to the chart, so a peer that sends, say, a ClientHello where its Finished is due, and
      // closes, still gets its unexpected_message instead of having it dropped with the close.
      if (msg.type !== 'client_hello' || !conn.awaitsClientHello) return undefined;
      const gone = new AbortController();
      if (raw.destroyed) gone.abort();
      waiting = gone;
      try {
        return await admit(gone.signal);
      } finally {
        waiting = undefined;
      }
    };
    const admit = async (gone: AbortSignal): Promise<(() => void) | undefined> => {
      const admitted = await this.#admission.acquire(gone);
      if (!admitted.ok) {
        if (admitted.why === 'busy') {
          conn.abandon();
          this.#refuse('clientHello', raw.remoteAddress, raw.remotePort);
          socket.destroy();
        }
        return undefined;
      }
      await afterPendingIo();
      if (!(await this.#turns.next(gone))) {
        admitted.release();
        return undefined;
      }
      return admitted.release;
    };
    const conn: ServerConnection = new ServerConnection({
      ...this.#config,
      env,
      ticketStore: this.ticketStore,
      gate,
      ...(wantsTracedMachine(this.#options) ? { machine: tracedServerMachine } : {}),
    });
    observe(socket, conn, `connection from ${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`, this.#options);
    socket.attach(conn);
  }
}

export function createServer(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server {
  return new Server(options, secureConnectionListener);
}
