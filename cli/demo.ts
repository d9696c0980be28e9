/**
 * `tlschart demo`: a tlschart server and a tlschart client on 127.0.0.1 do a
 * full handshake, then resume with a ticket from it; both handshakes are
 * printed as the seed document's numbered flows, from the engine's traces.
 * With --trace FILE, each handshake is recorded from both ends as one pair.
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type AddressInfo, connect as netConnect } from 'node:net';
import type { ClientConnection, ServerConnection, TraceEntry } from '../engine/connection.js';
import { type ConnectOptions, connect } from '../net/connect.js';
import type { TraceCollectorLike } from '../net/observe.js';
import { createServer } from '../net/server.js';
import type { TLSSocket, TlsConnection } from '../net/socket.js';
import { generateSelfSigned } from '../pki/generate.js';
import { TraceCollector } from '../traces/recorder.js';
import { CRYPTO_OPTIONS, cryptoHelp, cryptoOption, OBSERVE_OPTIONS, parse, stringOption } from './args.js';
import { flowLines, messageNames, renderFlow } from './flow.js';
import { DEFAULT_INSPECT_URL, type InspectSession, inspectUrl, startInspectSession } from './inspect.js';
import { type CliIo, CommandError } from './io.js';

export const DEMO_HELP = `Usage: tlschart demo [--trace FILE] [--inspect] [--keylog FILE] [--crypto node|noble]

Start a tlschart server on 127.0.0.1 (an ephemeral port, a throwaway
self-signed ECDSA P-256 certificate), connect a tlschart client that trusts
that certificate, do a full handshake, keep a NewSessionTicket, reconnect
with it (PSK with (EC)DHE, psk_dhe_ke) and print both handshakes as numbered
message flows (steps 1-6, then 7-11), built from the engine's trace.

Exits 0 only if the second handshake really resumed.

Options:
  --trace FILE       write both handshakes as a tlschart trace (JSON, format
                     tlschart-trace version 1), each recorded from both ends:
                     messages with their records, states, guards evaluated; no
                     secrets. Then: tlschart trace check|render|view FILE
  --inspect          stream the client's and the server's statecharts to an
                     XState inspector over a WebSocket (@statelyai/inspect),
                     at ${DEFAULT_INSPECT_URL} unless --inspect-url says otherwise.
                     Something must listen there, e.g. the bridge of
                     @statelyai/inspect/server (createInspectorServer), whose
                     page shows the inspector UI hosted by Stately
                     (https://stately.ai/inspect). Contexts and events are
                     sanitised first: no secret, key or PSK is sent; public
                     message bytes as hex, application data by length.
  --inspect-url URL  the inspector's WebSocket URL (implies --inspect)
  --keylog FILE      append the secrets in NSS key log format (for Wireshark)
${cryptoHelp(21)}  -h, --help         show this help
`;

/**
 * Records each demo handshake from both ends as one pair, client and server
 * steps interleaved: the server builds its connection when it accepts (before
 * the client's engine exists), so that connection waits here for its client's.
 */
class HandshakePairs implements TraceCollectorLike {
  #server: ServerConnection | undefined;
  #arrived: (() => void) | undefined;

  constructor(readonly collector: TraceCollector) {}

  /** Resolves once the server built the connection of the next client (call before dialling). */
  nextServer(): Promise<void> {
    if (this.#server) return Promise.resolve();
    return new Promise((resolve) => (this.#arrived = resolve));
  }

  add(conn: TlsConnection, role: 'client' | 'server', label?: string): void {
    if (role === 'server') {
      if (this.#server) throw new Error('demo: a second server connection before the client of the first');
      this.#server = conn as ServerConnection;
      this.#arrived?.();
      this.#arrived = undefined;
      return;
    }
    const server = this.#server;
    if (!server) throw new Error('demo: a client connection before its server connection');
    this.#server = undefined;
    this.collector.pair(conn as ClientConnection, server, label);
  }
}

/** What each client connection of the demo is given besides host, port and CA. */
interface Observation {
  pairs: HandshakePairs | undefined;
  inspection: InspectSession | undefined;
  keylog: WriteStream | undefined;
}

interface Outcome {
  socket: TLSSocket;
  trace: TraceEntry[];
  sessions: Buffer[];
  reply: string;
}

/** With --trace: a TCP connection the server has accepted and built its engine connection for. */
async function acceptedTransport(port: number, pairs: HandshakePairs): Promise<ReturnType<typeof netConnect>> {
  const serverReady = pairs.nextServer();
  const transport = netConnect({ host: '127.0.0.1', port });
  const failed = new Promise<never>((_, reject) => transport.once('error', reject));
  await Promise.race([Promise.all([once(transport, 'connect'), serverReady]), failed]);
  return transport;
}

/** One client connection: handshake, a request, the server's answer (which comes after its tickets), close. */
async function runClient(
  port: number,
  ca: string,
  session: Buffer | undefined,
  label: string,
  watch: Observation,
  crypto: 'node' | 'noble',
): Promise<Outcome> {
  const trace: TraceEntry[] = [];
  const sessions: Buffer[] = [];
  const keylog = watch.keylog;
  const options: ConnectOptions = {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca,
    crypto,
    trace: (e) => trace.push(e),
    ...(session ? { session } : {}),
    ...(watch.pairs ? { socket: await acceptedTransport(port, watch.pairs), traceCollector: watch.pairs, traceLabel: label } : {}),
    ...(watch.inspection ? { inspector: watch.inspection.inspector } : {}),
    ...(keylog ? { keylog: (line: Buffer) => keylog.write(line) } : {}),
  };
  const socket = connect(options);
  socket.on('session', (s: Buffer) => sessions.push(s));
  const failed = new Promise<never>((_, reject) => socket.once('error', reject));
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  await Promise.race([once(socket, 'secureConnect'), failed]);
  socket.write('hello from the tlschart client\n');
  await Promise.race([ended, failed]);
  await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
  return { socket, trace, sessions, reply: Buffer.concat(chunks).toString() };
}

function summary(s: TLSSocket): string {
  const info = s.handshakeInfo;
  return `protocol ${s.getProtocol() ?? '-'}, suite ${info?.suite ?? '-'}, group ${info?.group ?? '-'}, resumed: ${s.isSessionReused() ? 'yes' : 'no'}`;
}

export async function demo(argv: readonly string[], io: CliIo): Promise<number> {
  const command = 'demo';
  const { values } = parse(command, argv, { ...OBSERVE_OPTIONS, ...CRYPTO_OPTIONS }, 0);
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  const tracePath = stringOption(values, 'trace');
  const keylogPath = stringOption(values, 'keylog');
  const crypto = cryptoOption(command, values);
  const inspectAt = stringOption(values, 'inspect-url');
  const url =
    inspectAt !== undefined ? inspectUrl(command, inspectAt) : values.inspect ? inspectUrl(command, DEFAULT_INSPECT_URL) : undefined;

  const inspection = url ? await startInspectSession(command, url, (line) => io.stderr(`tlschart ${line}\n`)) : undefined;
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const collector =
    tracePath === undefined
      ? undefined
      : new TraceCollector({
          peer: 'tlschart client and server in one process, over 127.0.0.1',
          scenario: 'demo',
          description: 'tlschart demo: a full handshake that establishes a PSK, then a resumption with it (psk_dhe_ke)',
        });
  const pairs = collector ? new HandshakePairs(collector) : undefined;
  const serverClosed: Array<Promise<void>> = [];
  const server = createServer(
    {
      key: keyPem,
      cert: certPem,
      crypto,
      ...(pairs ? { traceCollector: pairs } : {}),
      ...(inspection ? { inspector: inspection.inspector } : {}),
    },
    (socket) => {
      serverClosed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(`hello from the tlschart server, resumed: ${socket.isSessionReused() ? 'yes' : 'no'}\n`));
    },
  );
  const serverErrors: string[] = [];
  server.on('tlsClientError', (e: Error) => serverErrors.push(e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const keylog = keylogPath === undefined ? undefined : createWriteStream(keylogPath, { flags: 'a', mode: 0o600 });
  const watch: Observation = { pairs, inspection, keylog };
  try {
    io.stdout(`tlschart demo: server on 127.0.0.1:${port}, throwaway ECDSA P-256 certificate for localhost, ${crypto} crypto provider\n\n`);
    if (inspection) io.stdout(`inspecting both ends, sanitised, at ${inspection.url}\n\n`);
    let first: Outcome;
    let second: Outcome;
    try {
      first = await runClient(port, certPem, undefined, 'full handshake, establishes a PSK', watch, crypto);
      const ticket = first.sessions.at(-1);
      if (!ticket) throw new CommandError('demo: the server sent no NewSessionTicket, nothing to resume with');
      second = await runClient(port, certPem, ticket, 'resumption with the PSK (psk_dhe_ke)', watch, crypto);
    } catch (e) {
      if (e instanceof CommandError) throw e;
      const why = serverErrors.length > 0 ? ` (server: ${serverErrors.join('; ')})` : '';
      throw new CommandError(`demo: ${(e as Error).message}${why}`);
    }

    io.stdout(`Handshake 1: full handshake, establishes a PSK (${first.sessions.length} tickets received)\n`);
    io.stdout(`${renderFlow(flowLines(first.trace, false)).join('\n')}\n`);
    io.stdout(`  ${summary(first.socket)}\n\n`);
    io.stdout(`Handshake 2: resumption with the PSK from a ticket of handshake 1\n`);
    io.stdout(`${renderFlow(flowLines(second.trace, second.socket.isSessionReused(), messageNames(first.trace))).join('\n')}\n`);
    io.stdout(`  ${summary(second.socket)}\n`);
    if (!second.socket.isSessionReused()) throw new CommandError('demo: the second handshake did not resume the session');
    return 0;
  } finally {
    // Let the server's side of each connection finish (its last close_notify is part of the trace).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(serverClosed), new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (keylog) await new Promise<void>((resolve) => keylog.end(() => resolve()));
    await inspection?.close();
    if (collector && tracePath !== undefined && collector.size > 0) {
      await collector.save(tracePath);
      io.stdout(`\ntrace of ${collector.size} handshake(s), both ends, written to ${tracePath} (tlschart trace check ${tracePath})\n`);
    }
  }
}
