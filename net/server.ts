/**
 * tlschart's server side, shaped like node:tls `createServer()`.
 */
import { EventEmitter } from 'node:events';
import { createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { chainVerifier, defaultServerConfig, parseLeafOnly } from '../engine/config.js';
import { ServerConnection, type HandshakeInfo, type TraceEntry } from '../engine/connection.js';
import { systemEnvironment } from '../engine/env.js';
import type { Environment, ServerConfig } from '../machines/types.js';
import { validateServerChain } from '../pki/validate.js';
import { tracedServerMachine } from '../traces/recorder.js';
import { MemoryTicketStore } from '../tickets/memory-store.js';
import type { TicketStore } from '../tickets/types.js';
import type { TlsError } from '../wire/alerts.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { certifiedKeys, cryptoProvider, parseAlpn, parseCipherSuites, parseGroups, pemStrings, withProvider, type CryptoOption, type PemInput } from './options.js';
import { observe, wantsTracedMachine, type ObserveOptions } from './observe.js';
import { TLSSocket } from './socket.js';

/**
 * Besides node:tls's options: `traceCollector` records every connection as a
 * handshake of a tlschart trace (labelled with the client's address),
 * `inspect`/`inspector` show each connection's statechart to an XState
 * inspector, sanitised (see observe.ts).
 */
export interface ServerOptions extends ObserveOptions {
  /** Private key(s), PEM: ECDSA P-256/P-384, Ed25519 or RSA (≥ 2048 bits). Arrays pair with `cert` by index. */
  key: PemInput;
  /** Certificate chain(s), PEM, leaf first; intermediates may follow in the same string. */
  cert: PemInput;
  /** NewSessionTicket messages after each handshake. Default 2. */
  ticketsPerHandshake?: number;
  /** Ticket lifetime in seconds (at most 604800). Default 7200. */
  ticketLifetime?: number;
  /** Where ticket states live. Default: one MemoryTicketStore for this server. */
  ticketStore?: TicketStore;
  /** Ask for a client certificate (CertificateRequest). Default false. */
  requestCert?: boolean;
  /** CAs that issue client certificates (PEM). Default: Node's root store. */
  ca?: PemInput;
  /** With requestCert: refuse clients without a valid certificate. Default true. */
  rejectUnauthorized?: boolean;
  ALPNProtocols?: string[];
  /** Groups in the server's preference order ('x25519', 'P-256', 'P-384', ...). */
  groups?: string | string[];
  /** Cipher suites in the server's preference order. */
  cipherSuites?: string | string[];
  /** Receives every trace entry, with the socket it belongs to. */
  trace?: (entry: TraceEntry, socket: TLSSocket) => void;
  /** Milliseconds a client has to complete the handshake. Default 120000 (as node:tls). 0 disables. */
  handshakeTimeout?: number;
  /** Randomness and clock (and a crypto provider) for every connection; default the system's. */
  env?: () => Environment;
  /**
   * The crypto provider: 'node' (node:crypto, the default) or 'noble' (pure
   * JavaScript @noble; deterministic ECDSA), or a CryptoProvider. The key is
   * loaded into it once, here. With `env`, the env's provider unless this is given.
   */
  crypto?: CryptoOption;
}

/**
 * Events: 'secureConnection' (TLSSocket), 'tlsClientError' (err, TLSSocket),
 * 'connection' (net.Socket), 'keylog' (line, TLSSocket), 'listening', 'close', 'error'.
 */
export class Server extends EventEmitter {
  /** The shared ticket store (the one passed in, or this server's MemoryTicketStore). */
  readonly ticketStore: TicketStore;
  readonly #config: ServerConfig;
  readonly #options: ServerOptions;
  readonly #net: NetServer;
  readonly #transports = new Set<Socket>();
  readonly #authorizeClient: (info: HandshakeInfo) => { authorized: boolean; error?: string };
  readonly #provider: CryptoProvider;
  /** The system's randomness and clock with this server's provider, shared by its connections (it holds no state). */
  readonly #systemEnv: Environment;

  constructor(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void) {
    super();
    if (options.key === undefined || options.cert === undefined) throw new TypeError('createServer: key and cert are required');
    this.#options = options;
    this.#provider = cryptoProvider(options.crypto, 'createServer');
    this.#systemEnv = systemEnvironment(this.#provider);
    this.ticketStore = options.ticketStore ?? new MemoryTicketStore();
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
      if (!Number.isInteger(options.ticketLifetime) || options.ticketLifetime < 0 || options.ticketLifetime > 604800) {
        throw new TypeError('createServer: ticketLifetime must be an integer number of seconds in 0..604800');
      }
      overrides.ticketLifetimeS = options.ticketLifetime;
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

  #accept(raw: Socket): void {
    this.#transports.add(raw);
    raw.once('close', () => this.#transports.delete(raw));
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
      if (this.listenerCount('tlsClientError') > 0) this.emit('tlsClientError', err as TlsError, socket);
    };
    socket.on('error', onHandshakeError);
    socket.once('secure', () => {
      socket.off('error', onHandshakeError);
      this.emit('secureConnection', socket);
    });
    socket.on('keylog', (line: Buffer) => {
      if (this.listenerCount('keylog') > 0) this.emit('keylog', line, socket);
    });
    socket.setHandshakeTimeout(this.#options.handshakeTimeout ?? 120_000);
    const custom = this.#options.env?.();
    const env = custom === undefined ? this.#systemEnv : withProvider(custom, this.#options.crypto, this.#provider);
    const conn = new ServerConnection({
      ...this.#config,
      env,
      ticketStore: this.ticketStore,
      ...(wantsTracedMachine(this.#options) ? { machine: tracedServerMachine } : {}),
    });
    observe(socket, conn, `connection from ${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`, this.#options);
    socket.attach(conn);
  }
}

export function createServer(options: ServerOptions, secureConnectionListener?: (socket: TLSSocket) => void): Server {
  return new Server(options, secureConnectionListener);
}
