/**
 * Real TLS 1.3 peers for interop tests: OpenSSL (s_server / s_client), GnuTLS
 * (gnutls-serv / gnutls-cli), Go's crypto/tls (interop/go/*.go) and Node's own
 * `tls`, all over loopback sockets; also Debian's redis-server, the ticket
 * store several tlschart servers share.
 *
 * Rules this module keeps:
 * - A missing peer is never a silent skip: `requirePeer` fails under CI and
 *   otherwise skips the test with a message naming the Debian package.
 * - Every process started here is killed by `stop()` (SIGTERM, then SIGKILL
 *   after a grace period) and, as a last resort, when the test worker exits.
 * - Temporary files (PEM copies, session files) live in per-peer temp dirs
 *   that `stop()` / `remove()` delete.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'vitest';

// ---------------------------------------------------------------------------
// Finding peers
// ---------------------------------------------------------------------------

export type PeerName = 'openssl' | 'gnutls-serv' | 'gnutls-cli' | 'go' | 'redis-server' | 'dumpcap' | 'tshark' | 'curl';

export type PeerLookup = { path: string } | { missing: string };

/** The executable behind each peer and the Debian package that installs it. */
export const PEER_PACKAGES: Readonly<Record<PeerName, { binary: string; debianPackage: string }>> = {
  openssl: { binary: 'openssl', debianPackage: 'openssl' },
  'gnutls-serv': { binary: 'gnutls-serv', debianPackage: 'gnutls-bin' },
  'gnutls-cli': { binary: 'gnutls-cli', debianPackage: 'gnutls-bin' },
  go: { binary: 'go', debianPackage: 'golang-go' },
  'redis-server': { binary: 'redis-server', debianPackage: 'redis-server' },
  // Packet capture for the trace import tests (traces/import/); dumpcap comes with tshark.
  dumpcap: { binary: 'dumpcap', debianPackage: 'tshark' },
  tshark: { binary: 'tshark', debianPackage: 'tshark' },
  curl: { binary: 'curl', debianPackage: 'curl' },
};

function isExecutableFile(candidate: string): boolean {
  try {
    accessSync(candidate, fsConstants.X_OK);
    return statSync(candidate).isFile();
  } catch (err) {
    if (isErrno(err)) return false; // ENOENT, EACCES, ENOTDIR: not this one
    throw err;
  }
}

/** Looks the peer up on `PATH` (read at call time). */
export function findPeer(name: PeerName): PeerLookup {
  const { binary, debianPackage } = PEER_PACKAGES[name];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, binary);
    if (isExecutableFile(candidate)) return { path: candidate };
  }
  return { missing: `${binary} not found: apt-get install ${debianPackage}` };
}

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * Returns the peer's path. When it is missing: under CI (`CI` set) throws an
 * Error whose message names the Debian package; otherwise skips the current
 * test with that message (`ctx.skip(message)`), so it shows up as skipped
 * with a reason, never silently.
 */
export function requirePeer(ctx: Pick<TestContext, 'skip'>, name: PeerName): string {
  const found = findPeer(name);
  if ('path' in found) return found.path;
  if (isCi()) throw new Error(`${found.missing} (required when CI is set)`);
  return ctx.skip(found.missing);
}

function peerPathOrThrow(name: PeerName): string {
  const found = findPeer(name);
  if ('path' in found) return found.path;
  throw new Error(found.missing);
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/** A running server. */
export interface Peer {
  /** The loopback port it accepts connections on (127.0.0.1). */
  readonly port: number;
  /** Process id; undefined for the in-process node:tls server. */
  readonly pid: number | undefined;
  /** stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  /** Resolves with the output once it matches; rejects on timeout or exit. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its temp files. Idempotent. */
  stop(): Promise<void>;
}

/** A client run to completion. */
export interface ClientRun {
  /** Exit code, or null when killed by a signal (e.g. on timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the harness killed it because it ran past `timeoutMs`. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  readonly output: string;
  /** The command line, for failure messages. */
  readonly command: string;
}

const SIGTERM_GRACE_MS = 2_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort against orphans when a test forgot stop() or the worker dies.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Launched {
  readonly child: ChildProcess;
  readonly command: string;
  readonly closed: Promise<Exit>;
  output(): string;
  stdout(): string;
  stderr(): string;
  waitForOutput(pattern: RegExp | string, timeoutMs: number, failOn?: RegExp): Promise<string>;
  stop(): Promise<void>;
}

function delay(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

function matches(text: string, pattern: RegExp | string): boolean {
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

/**
 * Spawns a process with piped stdio. `stdin` is written and closed, or kept
 * open with 'keep-open' (s_server quits when its stdin reaches EOF).
 */
function launch(
  file: string,
  args: readonly string[],
  options: { stdin: string | 'keep-open'; env?: NodeJS.ProcessEnv; cwd?: string },
): Launched {
  installExitHook();
  const command = [file, ...args].map(quoteArg).join(' ');
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  live.add(child);
  const both: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const notes: string[] = [];
  const events = new EventEmitter();
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out.push(chunk);
    both.push(chunk);
    events.emit('data');
  });
  child.stderr?.on('data', (chunk: string) => {
    err.push(chunk);
    both.push(chunk);
    events.emit('data');
  });
  // A client may exit before reading its stdin (EPIPE); keep that as a note.
  child.stdin?.on('error', (e: Error) => notes.push(`stdin: ${e.message}`));
  if (options.stdin !== 'keep-open') child.stdin?.end(options.stdin);

  const closed = new Promise<Exit>((resolve) => {
    child.once('error', (e: Error) => {
      notes.push(`spawn: ${e.message}`);
      if (child.pid === undefined) {
        live.delete(child);
        resolve({ code: null, signal: null });
      }
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let exited: Exit | undefined;
  void closed.then((exit) => {
    exited = exit;
    events.emit('exit');
  });

  const output = (): string => both.join('');
  const describe = (): string =>
    `${command}\n--- output so far ---\n${output()}${notes.length > 0 ? `\n--- harness notes ---\n${notes.join('\n')}` : ''}`;

  const waitForOutput = (pattern: RegExp | string, timeoutMs: number, failOn?: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        events.off('data', check);
        events.off('exit', check);
      };
      function check(): void {
        const text = output();
        if (matches(text, pattern)) {
          cleanup();
          resolve(text);
        } else if (failOn?.test(text)) {
          cleanup();
          reject(new Error(`output matched ${String(failOn)} while waiting for ${String(pattern)}: ${describe()}`));
        } else if (exited !== undefined) {
          cleanup();
          reject(
            new Error(
              `exited (code ${String(exited.code)}, signal ${String(exited.signal)}) before printing ${String(pattern)}: ${describe()}`,
            ),
          );
        }
      }
      timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}: ${describe()}`));
      }, timeoutMs);
      events.on('data', check);
      events.on('exit', check);
      check();
    });

  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    child.stdin?.destroy();
    child.kill('SIGTERM');
    if ((await Promise.race([closed, delay(SIGTERM_GRACE_MS)])) !== 'timeout') return;
    child.kill('SIGKILL');
    await Promise.race([closed, delay(SIGTERM_GRACE_MS)]);
  };

  return {
    child,
    command,
    closed,
    output,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    waitForOutput,
    stop,
  };
}

const DEFAULT_CLIENT_TIMEOUT_MS = 15_000;

/** Runs a client to completion; kills it (and marks `timedOut`) after `timeoutMs`. */
async function runToCompletion(
  file: string,
  args: readonly string[],
  options: { stdin: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ClientRun> {
  const proc = launch(file, args, options.env === undefined ? { stdin: options.stdin } : { stdin: options.stdin, env: options.env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop();
  }, options.timeoutMs);
  const exit = await proc.closed;
  clearTimeout(timer);
  return {
    code: exit.code,
    signal: exit.signal,
    timedOut,
    stdout: proc.stdout(),
    stderr: proc.stderr(),
    output: proc.output(),
    command: proc.command,
  };
}

// ---------------------------------------------------------------------------
// Temp files, ports, certificates
// ---------------------------------------------------------------------------

export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/** A fresh directory under the OS temp dir, e.g. for s_client session files. */
export async function makeTempDir(prefix = 'tlschart-interop-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A port that was free on 127.0.0.1 a moment ago: bind a node server to
 * port 0, read the port, close it. Another process may take it before the
 * peer binds it, so the server starters retry on "address in use".
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  if (address === null || typeof address === 'string') throw new Error('net server has no TCP address');
  return address.port;
}

export type CertKind = 'rsa' | 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

/** A self-signed certificate for CN=localhost with SANs DNS:localhost and IP:127.0.0.1. */
export interface CertFiles {
  readonly kind: CertKind;
  readonly certPem: string;
  readonly keyPem: string;
  /** The certificate; being self-signed, it is also the CA file clients trust. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly dir: string;
  remove(): Promise<void>;
}

const KEY_ARGS: Readonly<Record<CertKind, readonly string[]>> = {
  rsa: ['-newkey', 'rsa:2048', '-sha256'],
  'ecdsa-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-sha256'],
  'ecdsa-p384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'],
  ed25519: ['-newkey', 'ed25519'],
};

/** Makes a fresh key and self-signed certificate with `openssl req -x509`. */
export async function makeCert(kind: CertKind): Promise<CertFiles> {
  const openssl = peerPathOrThrow('openssl');
  const dir = await makeTempDir(`tlschart-cert-${kind}-`);
  const certFile = path.join(dir.path, 'cert.pem');
  const keyFile = path.join(dir.path, 'key.pem');
  const run = await runToCompletion(
    openssl,
    [
      'req',
      '-x509',
      ...KEY_ARGS[kind],
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdin: '', timeoutMs: DEFAULT_CLIENT_TIMEOUT_MS },
  );
  if (run.code !== 0) {
    await dir.remove();
    throw new Error(`makeCert(${kind}) failed: ${run.command}\n${run.output}`);
  }
  return {
    kind,
    certPem: await readFile(certFile, 'utf8'),
    keyPem: await readFile(keyFile, 'utf8'),
    certFile,
    keyFile,
    dir: dir.path,
    remove: dir.remove,
  };
}

async function writeKeyPair(dir: string, certPem: string, keyPem: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await writeFile(certFile, certPem);
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;
const ADDRESS_IN_USE = /address already in use|unable to bind|bind\(\) failed/i;

function asPeer(proc: Launched, port: number, cleanup: () => Promise<void>): Peer {
  let stopping: Promise<void> | undefined;
  return {
    port,
    pid: proc.child.pid,
    output: proc.output,
    waitForOutput: (pattern, timeoutMs = READY_TIMEOUT_MS) => proc.waitForOutput(pattern, timeoutMs),
    stop: () => {
      // The temporary files go whether the process stopped cleanly or not.
      stopping ??= proc.stop().then(cleanup, async (e: unknown) => {
        await cleanup();
        throw e;
      });
      return stopping;
    },
  };
}

/**
 * Starts a server that must be told its port: picks a free one, waits for the
 * server's own "listening" line (printed after listen(), so the port accepts
 * connections), and retries with another port when the bind failed.
 */
async function startOnFreePort(
  file: string,
  argsFor: (port: number) => string[],
  readyFor: (port: number) => RegExp,
  tmp: TempDir,
): Promise<Peer> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const proc = launch(file, argsFor(port), { stdin: 'keep-open' });
    try {
      await proc.waitForOutput(readyFor(port), READY_TIMEOUT_MS, ADDRESS_IN_USE);
      return asPeer(proc, port, tmp.remove);
    } catch (err) {
      lastError = err;
      const text = proc.output();
      await proc.stop();
      if (!ADDRESS_IN_USE.test(text)) break;
    }
  }
  await tmp.remove();
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export interface OpensslServerOptions {
  certPem: string;
  keyPem: string;
  /** Extra s_server flags, e.g. ['-num_tickets','2'], ['-www'], ['-groups','P-256'], ['-early_data']. */
  args?: readonly string[];
  /** Adds -tls1_3 (default true). */
  tls13Only?: boolean;
}

/**
 * `openssl s_server -accept 127.0.0.1:<port> -cert -key -tls1_3 ...args`, with
 * stdin kept open (s_server quits at stdin EOF). Ready when it prints ACCEPT.
 * Without -www it serves one connection at a time, prints what it receives
 * and "Reused session-id" for resumed connections; with -www it answers
 * `GET /` with a status page and closes, printing nothing per connection.
 */
export async function startOpensslServer(opts: OpensslServerOptions): Promise<Peer> {
  const openssl = peerPathOrThrow('openssl');
  const args = opts.args ?? [];
  if (args.includes('-quiet')) throw new Error('s_server -quiet hides the ACCEPT line the harness waits for');
  const tmp = await makeTempDir('tlschart-openssl-');
  const { certFile, keyFile } = await writeKeyPair(tmp.path, opts.certPem, opts.keyPem);
  return startOnFreePort(
    openssl,
    (port) => [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      certFile,
      '-key',
      keyFile,
      ...(opts.tls13Only === false ? [] : ['-tls1_3']),
      ...args,
    ],
    () => /^ACCEPT$/m,
    tmp,
  );
}

export const GNUTLS_TLS13_ONLY = 'NORMAL:-VERS-ALL:+VERS-TLS1.3';

export interface GnutlsServerOptions {
  certPem: string;
  keyPem: string;
  /** Extra gnutls-serv flags, appended last. */
  args?: readonly string[];
  /** --priority (default NORMAL:-VERS-ALL:+VERS-TLS1.3). */
  priority?: string;
  /** http (gnutls-serv's default: answer a GET and close) or echo. Default http. */
  mode?: 'http' | 'echo';
  /** none (--disable-client-cert, default), request (gnutls-serv's own default), require. */
  clientAuth?: 'none' | 'request' | 'require';
}

/**
 * `gnutls-serv --port <port> --x509certfile --x509keyfile --priority ...`.
 * It binds 0.0.0.0 and :: (no option for loopback only); ready when the IPv4
 * listener prints "...done". Per connection it prints
 * "* Accepted connection from IPv4 127.0.0.1 port N" and, on resumption,
 * "*** This is a resumed session".
 */
export async function startGnutlsServer(opts: GnutlsServerOptions): Promise<Peer> {
  const gnutlsServ = peerPathOrThrow('gnutls-serv');
  const tmp = await makeTempDir('tlschart-gnutls-');
  const { certFile, keyFile } = await writeKeyPair(tmp.path, opts.certPem, opts.keyPem);
  const clientAuth = { none: ['--disable-client-cert'], request: [], require: ['--require-client-cert'] }[opts.clientAuth ?? 'none'];
  return startOnFreePort(
    gnutlsServ,
    (port) => [
      '--port',
      String(port),
      '--x509certfile',
      certFile,
      '--x509keyfile',
      keyFile,
      '--priority',
      opts.priority ?? GNUTLS_TLS13_ONLY,
      (opts.mode ?? 'http') === 'echo' ? '--echo' : '--http',
      ...clientAuth,
      ...(opts.args ?? []),
    ],
    (port) => new RegExp(`listening on IPv4 0\\.0\\.0\\.0 port ${port}\\.\\.\\.done`),
    tmp,
  );
}

export interface GoServerOptions {
  certPem: string;
  keyPem: string;
  /** CurvePreferences, e.g. ['x25519'] or ['P-384'] (Go sends HelloRetryRequest for a group it prefers). */
  groups?: readonly string[];
  /** echo (default): echo until the client closes; once: echo one read, then close_notify. */
  mode?: 'echo' | 'once';
  /** Extra flags of interop/go/server.go: -no-tickets, -alpn h2,http/1.1, -client-auth request|require, -client-ca f. */
  args?: readonly string[];
}

/**
 * interop/go/server.go: TLS 1.3 only, binds 127.0.0.1:0 itself and prints
 * "listening port=N", then one line per connection:
 * `conn=N resumed=<DidResume> version=TLSv1.3 suite=TLS_AES_128_GCM_SHA256 alpn=- sni=-`
 * or `conn=N error="..."` (see parseConnectionLines).
 */
export async function startGoServer(opts: GoServerOptions): Promise<Peer> {
  const { server } = await buildGo();
  const tmp = await makeTempDir('tlschart-go-');
  const { certFile, keyFile } = await writeKeyPair(tmp.path, opts.certPem, opts.keyPem);
  const proc = launch(
    server,
    [
      '-cert',
      certFile,
      '-key',
      keyFile,
      '-port',
      '0',
      '-mode',
      opts.mode ?? 'echo',
      ...(opts.groups === undefined ? [] : ['-groups', opts.groups.join(',')]),
      ...(opts.args ?? []),
    ],
    { stdin: 'keep-open' },
  );
  try {
    const text = await proc.waitForOutput(/^listening port=(\d+)$/m, READY_TIMEOUT_MS);
    const port = Number(/^listening port=(\d+)$/m.exec(text)?.[1]);
    return asPeer(proc, port, tmp.remove);
  } catch (err) {
    await proc.stop();
    await tmp.remove();
    throw err;
  }
}

export interface RedisServerOptions {
  /** A fixed port, e.g. to start Redis again where it ran before; default a free one. */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--rename-command', 'GETDEL', ''] to act as Redis < 6.2. */
  args?: readonly string[];
}

/**
 * Debian's `redis-server` (not a TLS peer: the shared ticket store) on
 * 127.0.0.1, without persistence (`--save '' --appendonly no`), its working
 * dir a temp dir that stop() removes. Ready when it prints "Ready to accept
 * connections".
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<Peer> {
  const redis = peerPathOrThrow('redis-server');
  const tmp = await makeTempDir('tlschart-redis-');
  const argsFor = (port: number): string[] => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmp.path,
    ...(opts.args ?? []),
  ];
  const ready = /Ready to accept connections/;
  if (opts.port === undefined) return startOnFreePort(redis, argsFor, () => ready, tmp);
  const proc = launch(redis, argsFor(opts.port), { stdin: '' });
  try {
    await proc.waitForOutput(ready, READY_TIMEOUT_MS, ADDRESS_IN_USE);
    return asPeer(proc, opts.port, tmp.remove);
  } catch (err) {
    await proc.stop();
    await tmp.remove();
    throw err;
  }
}

export interface NodeTlsServerOptions {
  certPem: string;
  keyPem: string;
  /** echo (default): echo until the client ends; once: echo the first chunk, then end. */
  mode?: 'echo' | 'once';
  /** Extra node:tls server options (ciphers, ecdhCurve, ALPNProtocols, ...). */
  options?: tls.TlsOptions;
}

/**
 * An in-process node:tls server, TLS 1.3 only, printing the same lines as the
 * Go server: `conn=N resumed=.. version=TLSv1.3 suite=<IANA name> alpn=.. sni=..`,
 * or `conn=N error="..."` for a failed handshake (N counts handshakes, in the
 * order they finish). It keeps each socket open until the client ends it:
 * a node:tls 1.3 server that ends the socket right after the handshake sends
 * no NewSessionTicket.
 */
export async function startNodeTlsServer(opts: NodeTlsServerOptions): Promise<Peer> {
  const lines: string[] = [];
  const events = new EventEmitter();
  const sockets = new Set<tls.TLSSocket>();
  const say = (line: string): void => {
    lines.push(line);
    events.emit('data');
  };
  let handshakes = 0;
  const server = tls.createServer(
    { cert: opts.certPem, key: opts.keyPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ...opts.options },
    (socket) => {
      const n = ++handshakes;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      say(
        `conn=${n} resumed=${String(socket.isSessionReused())} version=${socket.getProtocol() ?? '-'} ` +
          `suite=${socket.getCipher().standardName} alpn=${socket.alpnProtocol || '-'} ` +
          `sni=${typeof socket.servername === 'string' && socket.servername !== '' ? socket.servername : '-'}`,
      );
      socket.on('data', (chunk: Buffer) => {
        socket.write(chunk);
        if (opts.mode === 'once') socket.end();
      });
      socket.on('end', () => socket.end());
      socket.on('error', (e: Error) => say(`conn=${n} error=${JSON.stringify(e.message)}`));
    },
  );
  server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => {
    say(`conn=${++handshakes} error=${JSON.stringify(e.message)}`);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('node:tls server has no TCP address');
  const output = (): string => lines.map((l) => `${l}\n`).join('');
  let stopping: Promise<void> | undefined;
  return {
    port: address.port,
    pid: undefined,
    output,
    waitForOutput: (pattern, timeoutMs = READY_TIMEOUT_MS) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!matches(output(), pattern)) return;
          clearTimeout(timer);
          events.off('data', check);
          resolve(output());
        };
        const timer = setTimeout(() => {
          events.off('data', check);
          reject(new Error(`node:tls server: timed out after ${timeoutMs} ms waiting for ${String(pattern)}:\n${output()}`));
        }, timeoutMs);
        events.on('data', check);
        check();
      }),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

export interface OpensslClientOptions {
  port: number;
  /** Extra s_client flags, e.g. ['-ign_eof'], ['-groups','P-384'], ['-ciphersuites', ...]. */
  args?: readonly string[];
  /** Written to s_client's stdin, then EOF (default: nothing). */
  stdin?: string;
  /** -sess_out file: s_client writes the session (ticket) it receives. */
  sessOut?: string;
  /** -sess_in file: s_client offers that session (PSK resumption). */
  sessIn?: string;
  /** Adds -tls1_3 (default true). */
  tls13Only?: boolean;
  timeoutMs?: number;
}

/**
 * `openssl s_client -connect 127.0.0.1:<port> -tls1_3 [-sess_out f] [-sess_in f] ...args`.
 * Look for "New, TLSv1.3, Cipher is ..." or "Reused, TLSv1.3, Cipher is ..."
 * in the output. Without -ign_eof it closes at stdin EOF, possibly before the
 * server's tickets arrive: send data and add -ign_eof so it waits for the
 * server's reply and close.
 */
export function runOpensslClient(opts: OpensslClientOptions): Promise<ClientRun> {
  const openssl = peerPathOrThrow('openssl');
  return runToCompletion(
    openssl,
    [
      's_client',
      '-connect',
      `127.0.0.1:${opts.port}`,
      ...(opts.tls13Only === false ? [] : ['-tls1_3']),
      ...(opts.sessOut === undefined ? [] : ['-sess_out', opts.sessOut]),
      ...(opts.sessIn === undefined ? [] : ['-sess_in', opts.sessIn]),
      ...(opts.args ?? []),
    ],
    { stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS },
  );
}

export interface GnutlsCliOptions {
  port: number;
  /** Extra gnutls-cli flags, placed before the host. */
  args?: readonly string[];
  /** Written to stdin, then EOF (default: nothing). */
  stdin?: string;
  /** --x509cafile; without it --insecure (no certificate verification). */
  caFile?: string;
  /** --priority (default NORMAL:-VERS-ALL:+VERS-TLS1.3). */
  priority?: string;
  /** --resume: connect, then connect again offering the session. */
  resume?: boolean;
  /**
   * --waitresumption: block until a NewSessionTicket arrives before the second
   * connection. Blocks until the timeout when the server sends no ticket.
   */
  waitForTicket?: boolean;
  timeoutMs?: number;
  /** The environment (default: this process's), e.g. with SSLKEYLOGFILE for a key log. */
  env?: NodeJS.ProcessEnv;
}

/**
 * `gnutls-cli --port <port> --priority ... [--resume] ...args 127.0.0.1`.
 * Prints "- Handshake was completed", on resumption "- Resume Handshake was
 * completed" and "*** This is a resumed session".
 */
export function runGnutlsCli(opts: GnutlsCliOptions): Promise<ClientRun> {
  const gnutlsCli = peerPathOrThrow('gnutls-cli');
  return runToCompletion(
    gnutlsCli,
    [
      '--port',
      String(opts.port),
      ...(opts.caFile === undefined ? ['--insecure'] : ['--x509cafile', opts.caFile]),
      '--priority',
      opts.priority ?? GNUTLS_TLS13_ONLY,
      ...(opts.resume === true ? ['--resume'] : []),
      ...(opts.waitForTicket === true ? ['--waitresumption'] : []),
      ...(opts.args ?? []),
      '127.0.0.1',
    ],
    { stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS, ...(opts.env ? { env: opts.env } : {}) },
  );
}

export interface GoClientOptions {
  port: number;
  /** Sequential connections sharing one tls.NewLRUClientSessionCache (default 1). */
  connections?: number;
  /** CurvePreferences; Go sends a key share for the first group only. */
  groups?: readonly string[];
  /** Written after each handshake (default "ping\n"; '' writes nothing). */
  send?: string;
  /** Stop reading once the server has been silent this long (default 2000 ms). */
  waitMs?: number;
  /** Trusted roots; without it the server certificate is not verified. */
  caFile?: string;
  /** SNI and the name verified (default: no SNI, the IP is verified). */
  serverName?: string;
  /** Extra flags of interop/go/client.go: -alpn, -cert, -key. */
  args?: readonly string[];
  timeoutMs?: number;
}

/**
 * interop/go/client.go. One line per connection:
 * `conn=N resumed=<DidResume> version=TLSv1.3 suite=... alpn=- received=<bytes> end=eof|idle`
 * or `conn=N error="..."` (exit code 1). `connections` holds them parsed.
 */
export async function runGoClient(opts: GoClientOptions): Promise<ClientRun & { connections: ConnectionLine[] }> {
  const { client } = await buildGo();
  const run = await runToCompletion(
    client,
    [
      '-port',
      String(opts.port),
      '-n',
      String(opts.connections ?? 1),
      '-send',
      opts.send ?? 'ping\n',
      '-wait',
      `${opts.waitMs ?? 2000}ms`,
      ...(opts.groups === undefined ? [] : ['-groups', opts.groups.join(',')]),
      ...(opts.caFile === undefined ? [] : ['-cafile', opts.caFile]),
      ...(opts.serverName === undefined ? [] : ['-servername', opts.serverName]),
      ...(opts.args ?? []),
    ],
    { stdin: '', timeoutMs: opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS },
  );
  return { ...run, connections: parseConnectionLines(run.stdout) };
}

export interface NodeTlsClientOptions {
  port: number;
  /** A session from an earlier connection's `sessions` to resume. */
  session?: Buffer;
  /** Written after the handshake (default: nothing). */
  send?: string;
  /** Finish as soon as the received text matches. */
  until?: RegExp | string;
  /** Finish once the server has been silent this long (default 1000 ms). Ends earlier when the server ends. */
  idleMs?: number;
  /** Verify the server against this CA (PEM); without it, no verification. */
  ca?: string;
  servername?: string;
  /** Extra node:tls connect options. */
  options?: tls.ConnectionOptions;
  timeoutMs?: number;
}

export interface NodeTlsClientResult {
  readonly reused: boolean;
  readonly protocol: string | null;
  /** IANA name, e.g. TLS_AES_256_GCM_SHA384. */
  readonly suite: string;
  readonly alpn: string | false;
  readonly authorized: boolean;
  /** Every session ('session' event: one per NewSessionTicket in TLS 1.3). */
  readonly sessions: Buffer[];
  readonly received: string;
  /** A socket error after the handshake completed, if any. */
  readonly error: string | undefined;
}

/**
 * Connects once with node:tls (TLS 1.3 only), writes `send`, reads until
 * `until` matches, the server ends, or it has been silent for `idleMs`, then
 * ends the socket. Rejects when the handshake fails.
 */
export function runNodeTlsClient(opts: NodeTlsClientOptions): Promise<NodeTlsClientResult> {
  return new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    let received = '';
    let error: string | undefined;
    let info: Pick<NodeTlsClientResult, 'reused' | 'protocol' | 'suite' | 'alpn' | 'authorized'> | undefined;
    let idle: NodeJS.Timeout | undefined;
    let finishing = false;
    const socket = tls.connect({
      host: '127.0.0.1',
      port: opts.port,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      rejectUnauthorized: opts.ca !== undefined,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...(opts.session === undefined ? {} : { session: opts.session }),
      ...opts.options,
    });
    const overall = setTimeout(() => {
      socket.destroy();
      reject(new Error(`node:tls client timed out after ${opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS} ms; received: ${received}`));
    }, opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS);
    const armIdle = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(finish, opts.idleMs ?? 1000);
    };
    function finish(): void {
      if (finishing) return;
      finishing = true;
      if (idle !== undefined) clearTimeout(idle);
      socket.end();
    }
    socket.setEncoding('utf8');
    socket.on('session', (session: Buffer) => sessions.push(session));
    socket.once('secureConnect', () => {
      info = {
        reused: socket.isSessionReused(),
        protocol: socket.getProtocol(),
        suite: socket.getCipher().standardName,
        alpn: socket.alpnProtocol ?? false,
        authorized: socket.authorized,
      };
      if (opts.send !== undefined && opts.send !== '') socket.write(opts.send);
      armIdle();
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (opts.until !== undefined && matches(received, opts.until)) finish();
      else armIdle();
    });
    socket.on('end', finish);
    socket.on('error', (e: Error) => {
      error = e.message;
    });
    socket.on('close', () => {
      clearTimeout(overall);
      if (idle !== undefined) clearTimeout(idle);
      if (info === undefined) reject(new Error(`node:tls handshake failed: ${error ?? 'closed before the handshake completed'}`));
      else resolve({ ...info, sessions, received, error });
    });
  });
}

// ---------------------------------------------------------------------------
// Output parsing
// ---------------------------------------------------------------------------

/** One `conn=N key=value ...` line of the Go peers or the node:tls server. */
export type ConnectionLine = Readonly<Record<string, string>>;

/**
 * Parses the `conn=N key=value ...` lines in a peer's output (other lines are
 * ignored). Quoted values (`error="..."`) are unquoted.
 */
export function parseConnectionLines(text: string): ConnectionLine[] {
  const lines: ConnectionLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('conn=')) continue;
    const fields: Record<string, string> = {};
    for (const m of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const [, key, raw] = m;
      if (key === undefined || raw === undefined) continue;
      fields[key] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
    lines.push(fields);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Go peers
// ---------------------------------------------------------------------------

const INTEROP_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.dirname(INTEROP_DIR);
/** Where buildGo puts binaries and Go's build cache. */
export const GO_CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'tlschart-interop');
const GO_SOURCES = { server: path.join(INTEROP_DIR, 'go', 'server.go'), client: path.join(INTEROP_DIR, 'go', 'client.go') };

export interface GoBinaries {
  readonly server: string;
  readonly client: string;
}

let goBuild: Promise<GoBinaries> | undefined;

/**
 * Compiles interop/go/server.go and client.go (standard library only, GOPATH
 * mode, no module downloads, CGO off) into node_modules/.cache/tlschart-interop/
 * bin-<hash of sources and `go version`>/, with GOCACHE and GOPATH in the same
 * dir. Done once per process and reused across runs while the hash holds; a
 * cold build takes ~20-30 s. Concurrent test files may build at once: each
 * writes a temp file and renames it into place.
 */
export function buildGo(): Promise<GoBinaries> {
  if (goBuild === undefined) {
    const pending = compileGo();
    goBuild = pending;
    pending.catch(() => {
      if (goBuild === pending) goBuild = undefined; // a later call retries
    });
  }
  return goBuild;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (isErrno(err) && err.code === 'ENOENT') return false;
    throw err;
  }
}

async function compileGo(): Promise<GoBinaries> {
  const go = peerPathOrThrow('go');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
    GOENV: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOCACHE: path.join(GO_CACHE_DIR, 'gocache'),
    GOPATH: path.join(GO_CACHE_DIR, 'gopath'),
  };
  const version = await runToCompletion(go, ['version'], { stdin: '', timeoutMs: DEFAULT_CLIENT_TIMEOUT_MS, env });
  if (version.code !== 0) throw new Error(`go version failed:\n${version.output}`);
  const hash = createHash('sha256');
  hash.update(version.stdout);
  for (const source of [GO_SOURCES.server, GO_SOURCES.client]) hash.update(await readFile(source));
  const binDir = path.join(GO_CACHE_DIR, `bin-${hash.digest('hex').slice(0, 16)}`);
  const binaries: GoBinaries = { server: path.join(binDir, 'server'), client: path.join(binDir, 'client') };
  await mkdir(binDir, { recursive: true });
  for (const name of ['server', 'client'] as const) {
    if (await exists(binaries[name])) continue;
    const tmp = `${binaries[name]}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const build = await runToCompletion(go, ['build', '-trimpath', '-o', tmp, GO_SOURCES[name]], {
      stdin: '',
      timeoutMs: 300_000,
      env,
    });
    if (build.code !== 0) {
      await rm(tmp, { force: true });
      throw new Error(`building ${GO_SOURCES[name]} failed: ${build.command}\n${build.output}`);
    }
    await rename(tmp, binaries[name]);
  }
  return binaries;
}

function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}

// ---------------------------------------------------------------------------
// Deno (npm devDependency `deno`): rustls for TLS, and its own WebCrypto
// ---------------------------------------------------------------------------

/** The scripts Deno runs, beside this file (plain JavaScript: Deno APIs are not in the project's types). */
export const DENO_SCRIPTS = {
  fetch: path.join(INTEROP_DIR, 'deno', 'fetch.mjs'),
  serve: path.join(INTEROP_DIR, 'deno', 'serve.mjs'),
  hybridKem: path.join(INTEROP_DIR, 'deno', 'hybrid-kem.mjs'),
} as const;

/** The deno binary the npm package installed (node_modules/.bin/deno), or why it is missing. */
export function findDeno(): PeerLookup {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'deno');
  if (isExecutableFile(bin)) return { path: bin };
  return { missing: `${bin} not found: npm ci installs the devDependency deno (npm registry)` };
}

/** Like requirePeer, for Deno: fails under CI, otherwise skips the test naming what to install. */
export function requireDeno(ctx: Pick<TestContext, 'skip'>): string {
  const found = findDeno();
  if ('path' in found) return found.path;
  if (isCi()) throw new Error(`${found.missing} (required when CI is set)`);
  return ctx.skip(found.missing);
}

/** Deno's environment: no update checks, no colour, its cache under node_modules/.cache. */
function denoEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NO_COLOR: '1',
    DENO_NO_UPDATE_CHECK: '1',
    DENO_DIR: path.join(REPO_ROOT, 'node_modules', '.cache', 'tlschart-deno'),
  };
}

export interface DenoFetchOptions {
  deno: string;
  /** https://localhost:PORT, without a path. */
  origin: string;
  /** Paths fetched one after the other, each on a new connection (the server closes after answering). */
  paths: readonly string[];
  timeoutMs?: number;
}

/** Deno's fetch (rustls, its default groups), certificate errors ignored for localhost only. Prints "PATH STATUS BODY" lines. */
export function runDenoFetch(opts: DenoFetchOptions): Promise<ClientRun> {
  const args = [
    'run',
    '--quiet',
    '--allow-net=localhost',
    '--unsafely-ignore-certificate-errors=localhost',
    DENO_SCRIPTS.fetch,
    opts.origin,
    ...opts.paths,
  ];
  return runToCompletion(opts.deno, args, { stdin: '', timeoutMs: opts.timeoutMs ?? 30_000, env: denoEnv() });
}

export interface DenoServerOptions {
  deno: string;
  certPem: string;
  keyPem: string;
}

/** Deno.serve over TLS (rustls, its default groups and tickets), answering every request with a short text. */
export async function startDenoServer(opts: DenoServerOptions): Promise<Peer> {
  const tmp = await makeTempDir('tlschart-deno-');
  const { certFile, keyFile } = await writeKeyPair(tmp.path, opts.certPem, opts.keyPem);
  const proc = launch(
    opts.deno,
    ['run', '--quiet', '--allow-net=127.0.0.1', `--allow-read=${tmp.path}`, DENO_SCRIPTS.serve, certFile, keyFile],
    {
      stdin: 'keep-open',
      env: denoEnv(),
    },
  );
  try {
    const text = await proc.waitForOutput(/^listening port=(\d+)$/m, 30_000);
    return asPeer(proc, Number(/^listening port=(\d+)$/m.exec(text)?.[1]), tmp.remove);
  } catch (err) {
    await proc.stop();
    await tmp.remove();
    throw err;
  }
}

/** Runs interop/deno/hybrid-kem.mjs with one JSON request on stdin; resolves with its JSON answer. */
export async function runDenoHybridKem(deno: string, request: Record<string, string>): Promise<Record<string, string>> {
  const run = await runToCompletion(deno, ['run', '--quiet', DENO_SCRIPTS.hybridKem], {
    stdin: JSON.stringify(request),
    timeoutMs: 30_000,
    env: denoEnv(),
  });
  if (run.code !== 0) throw new Error(`${run.command} failed (code ${String(run.code)}):\n${run.output}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}
