/**
 * tlschart's client side, shaped like node:tls `connect()`.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CryptoProvider } from '../crypto/provider.js';
import { chainVerifier, defaultClientConfig, keyShareGroupsFor, parseLeafOnly } from '../engine/config.js';
import { ClientConnection, type TraceEntry } from '../engine/connection.js';
import { systemEnvironment } from '../engine/env.js';
import type { CertifiedKey, ClientConfig, Environment } from '../machines/types.js';
import { validateServerChain } from '../pki/validate.js';
import { decodeClientSession } from '../tickets/session-codec.js';
import type { ClientSession, ClientTicketCache } from '../tickets/types.js';
import { tracedClientMachine } from '../traces/recorder.js';
import { type ObserveOptions, observe, wantsTracedMachine } from './observe.js';
import {
  type CryptoOption,
  certifiedKey,
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
import { type KeylogSink, TLSSocket } from './socket.js';

/**
 * Besides node:tls's options: `traceCollector` records the connection as a
 * tlschart trace (label: `traceLabel`), `inspect`/`inspector` show its
 * statechart to an XState inspector, sanitised (see observe.ts).
 */
export interface ConnectOptions extends ObserveOptions, LimitOptions {
  /** Default 'localhost'. */
  host?: string;
  port?: number;
  /** SNI and the name the certificate must match. Default: `host`, unless it is an IP address (then no SNI, and the IP is matched). */
  servername?: string;
  /** Trusted CA certificates (PEM). Default: Node's root store (tls.rootCertificates). */
  ca?: PemInput;
  /** Default true. false: the chain is not judged (authorized/authorizationError tell), the CertificateVerify signature still is. */
  rejectUnauthorized?: boolean;
  /** A Buffer from an earlier 'session' event; one that does not decode is ignored ('warning' event) and a full handshake is done. */
  session?: Buffer | Uint8Array;
  /**
   * A client ticket cache (tickets/client-cache.ts) shared by connections: without `session`,
   * the newest unexpired session for the server name is taken from it (each is offered once,
   * RFC 8446 §C.4), and every session this connection receives is added to it.
   */
  ticketCache?: ClientTicketCache;
  ALPNProtocols?: string[];
  /**
   * 'X25519MLKEM768' | 'x25519' | 'P-256' | 'P-384' (also 'secp256r1', 'prime256v1', 'secp384r1'), in
   * preference order; the first gets a key share, and when it is X25519MLKEM768 the first classical
   * group after it too. Default: X25519MLKEM768, x25519, P-256, P-384 (shares for the first two).
   */
  groups?: string | string[];
  /** TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256: colon separated or an array. */
  cipherSuites?: string | string[];
  /** Client certificate chain (PEM) and key, sent when the server asks (CertificateRequest). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** An existing transport (a connected or connecting net.Socket, or any Duplex) instead of a new TCP connection. */
  socket?: Duplex;
  /** Receives every trace entry of the connection (messages, records, state changes, guards). */
  trace?: (entry: TraceEntry) => void;
  /** The label of this connection's handshake in the `traceCollector`'s trace. Default: the collector's. */
  traceLabel?: string;
  /** Receives key log lines (NSS format); the socket also emits 'keylog'. */
  keylog?: KeylogSink;
  /** Randomness and clock (and a crypto provider); default the system's. For reproducible traces in tests. */
  env?: Environment;
  /**
   * Milliseconds from connect() until the handshake must be complete (the TCP
   * connection included); then 'error' with reason HandshakeTimeout, after a
   * close_notify if handshake keys were in use. Default 120000. 0 disables.
   */
  handshakeTimeout?: number;
  /** Milliseconds without a byte either way after which the established connection is closed (close_notify, 'idle' event). Default 0: never. */
  idleTimeout?: number;
  /**
   * The crypto provider: 'node' (node:crypto, the default) or 'noble' (pure
   * JavaScript @noble; deterministic ECDSA), or a CryptoProvider. With `env`,
   * the env's provider unless this is given.
   */
  crypto?: CryptoOption;
}

interface Prepared {
  config: ClientConfig;
  session: ClientSession | undefined;
  warning: string | undefined;
  /** Name the certificate is checked against. */
  checkName: string;
  ca: string[] | undefined;
  reject: boolean;
}

function clientCertificate(options: ConnectOptions, crypto: CryptoProvider): CertifiedKey | undefined {
  if (options.cert === undefined && options.key === undefined) return undefined;
  if (options.cert === undefined || options.key === undefined) throw new TypeError('connect: cert and key go together');
  return certifiedKey(options.cert, options.key, 'connect', crypto);
}

/** Options to engine configuration; throws TypeError on a bad option. `crypto` loads the client key, if any. */
export function prepareClient(
  options: ConnectOptions,
  now: number,
  crypto: CryptoProvider = cryptoProvider(options.crypto, 'connect'),
): Prepared {
  const host = options.host ?? 'localhost';
  const servername =
    options.servername !== undefined && options.servername !== '' ? options.servername : isIP(host) === 0 ? host : undefined;
  const checkName = servername ?? host;
  const ca = options.ca === undefined ? undefined : pemStrings(options.ca);
  const reject = options.rejectUnauthorized !== false;
  const verifyServerChain = reject
    ? chainVerifier({ purpose: 'server', serverName: checkName, ...(ca !== undefined ? { ca } : {}) })
    : parseLeafOnly;
  const groups = options.groups === undefined ? undefined : parseGroups(options.groups);
  const overrides: Partial<ClientConfig> = {
    serverName: servername,
    alpnProtocols: parseAlpn(options.ALPNProtocols ?? []),
    verifyServerChain,
    clientCertificate: clientCertificate(options, crypto),
    limits: protocolLimits(options, 'connect'),
  };
  if (groups) {
    overrides.groups = groups;
    overrides.keyShareGroups = keyShareGroupsFor(groups);
  }
  if (options.cipherSuites !== undefined) overrides.cipherSuites = parseCipherSuites(options.cipherSuites);
  const config = defaultClientConfig(overrides);

  let session: ClientSession | undefined;
  let warning: string | undefined;
  if (options.session === undefined && options.ticketCache !== undefined && servername !== undefined) {
    session = options.ticketCache.take(servername, now);
  }
  if (options.session !== undefined || session !== undefined) {
    session ??= decodeClientSession(new Uint8Array(options.session ?? new Uint8Array(0)));
    if (!session) warning = 'the session does not decode as a tlschart session; doing a full handshake';
    else if (session.serverName.toLowerCase() !== (servername ?? '').toLowerCase()) {
      // RFC 8446 §4.6.1: a client SHOULD only resume if the SNI matches the one of the original session.
      warning = `the session was made for server name ${JSON.stringify(session.serverName)}, not ${JSON.stringify(servername ?? '')}; doing a full handshake`;
      session = undefined;
    } else if (reject) {
      // A session made with rejectUnauthorized: false must not let a later, stricter connection skip validation.
      const v = validateServerChain(session.peerCertificates, {
        now: new Date(now),
        purpose: 'server',
        serverName: checkName,
        ...(ca !== undefined ? { ca } : {}),
      });
      if (!v.ok) {
        warning = `the session's server certificate is not trusted here (${v.error.reason}); doing a full handshake`;
        session = undefined;
      }
    }
  }
  return { config, session, warning, checkName, ca, reject };
}

/**
 * Open a TLS 1.3 connection. `secureConnectListener` is added to 'secureConnect'.
 * Events: 'secureConnect', 'session' (Buffer, one per ticket), 'keylog' (Buffer),
 * 'data', 'end', 'close', 'error' (TlsError with .alert and .reason, or a transport error), 'warning'.
 */
export function connect(options: ConnectOptions, secureConnectListener?: () => void): TLSSocket {
  const provider = cryptoProvider(options.crypto, 'connect');
  const env = options.env === undefined ? systemEnvironment(provider) : withProvider(options.env, options.crypto, provider);
  const prepared = prepareClient(options, env.now(), env.crypto);
  if (options.socket === undefined && options.port === undefined) throw new TypeError('connect: port is required');
  for (const name of ['handshakeTimeout', 'idleTimeout'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw new TypeError(`connect: ${name} must be a non-negative integer number of milliseconds, got ${v}`);
  }
  const transport: Duplex = options.socket ?? netConnect({ host: options.host ?? 'localhost', port: options.port as number });

  const socket = new TLSSocket({
    role: 'client',
    transport,
    trace: options.trace,
    keylog: options.keylog,
    authorize: (info) => {
      if (prepared.reject) return { authorized: true };
      const v = validateServerChain(info.peerCertificates, {
        now: new Date(env.now()),
        purpose: 'server',
        serverName: prepared.checkName,
        ...(prepared.ca !== undefined ? { ca: prepared.ca } : {}),
      });
      return v.ok ? { authorized: true } : { authorized: false, error: v.error.reason };
    },
  });
  if (secureConnectListener) socket.once('secureConnect', secureConnectListener);
  socket.setHandshakeTimeout(options.handshakeTimeout ?? 120_000);
  socket.setIdleTimeout(options.idleTimeout ?? 0);
  if (prepared.warning !== undefined) {
    const message = prepared.warning;
    process.nextTick(() => socket.emit('warning', new Error(message)));
  }

  const start = () => {
    if (socket.destroyed) return;
    const conn = new ClientConnection({
      ...prepared.config,
      session: prepared.session,
      env,
      ...(wantsTracedMachine(options) ? { machine: tracedClientMachine } : {}),
    });
    observe(socket, conn, options.traceLabel, options);
    const cache = options.ticketCache;
    if (cache) conn.on('session', (s) => cache.add(s));
    socket.attach(conn);
  };
  if ((transport as Partial<Socket>).connecting === true) transport.once('connect', start);
  else start();
  return socket;
}
