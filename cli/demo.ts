/**
 * `tlschart demo`: a tlschart server and a tlschart client on 127.0.0.1 do a
 * full handshake, then resume with a ticket from it; both handshakes are
 * printed as the seed document's numbered flows, from the engine's traces.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TraceEntry } from '../engine/connection.js';
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import type { TLSSocket } from '../net/socket.js';
import { generateSelfSigned } from '../pki/generate.js';
import { parse, stringOption } from './args.js';
import { flowLines, messageNames, renderFlow } from './flow.js';
import { CommandError, type CliIo } from './io.js';
import { writeTraceFile, type TraceConnection } from './trace-file.js';

export const DEMO_HELP = `Usage: tlschart demo [--trace FILE]

Start a tlschart server on 127.0.0.1 (an ephemeral port, a throwaway
self-signed ECDSA P-256 certificate), connect a tlschart client that trusts
that certificate, do a full handshake, keep a NewSessionTicket, reconnect
with it (PSK with (EC)DHE, psk_dhe_ke) and print both handshakes as numbered
message flows (steps 1-6, then 7-11), built from the engine's trace.

Exits 0 only if the second handshake really resumed.

Options:
  --trace FILE   write every trace entry of the four connections (two clients,
                 two servers) as JSON: {version: 1, connections: [{role, entries}]}
  -h, --help     show this help
`;

interface Outcome {
  socket: TLSSocket;
  trace: TraceEntry[];
  sessions: Buffer[];
  reply: string;
}

/** One client connection: handshake, a request, the server's answer (which comes after its tickets), close. */
async function runClient(port: number, ca: string, session: Buffer | undefined): Promise<Outcome> {
  const trace: TraceEntry[] = [];
  const sessions: Buffer[] = [];
  const socket = connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca,
    trace: (e) => trace.push(e),
    ...(session ? { session } : {}),
  });
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
  const { values } = parse('demo', argv, { trace: { type: 'string' } }, 0);
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  const tracePath = stringOption(values, 'trace');

  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const serverTraces = new Map<TLSSocket, TraceEntry[]>();
  const server = createServer(
    {
      key: keyPem,
      cert: certPem,
      trace: (entry, socket) => {
        const list = serverTraces.get(socket) ?? [];
        list.push(entry);
        serverTraces.set(socket, list);
      },
    },
    (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(`hello from the tlschart server, resumed: ${socket.isSessionReused() ? 'yes' : 'no'}\n`));
    },
  );
  const serverErrors: string[] = [];
  server.on('tlsClientError', (e: Error) => serverErrors.push(e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  try {
    io.stdout(`tlschart demo: server on 127.0.0.1:${port}, throwaway ECDSA P-256 certificate for localhost\n\n`);
    let first: Outcome;
    let second: Outcome;
    try {
      first = await runClient(port, certPem, undefined);
      const ticket = first.sessions.at(-1);
      if (!ticket) throw new CommandError('demo: the server sent no NewSessionTicket, nothing to resume with');
      second = await runClient(port, certPem, ticket);
    } catch (e) {
      if (e instanceof CommandError) throw e;
      const why = serverErrors.length > 0 ? ` (server: ${serverErrors.join('; ')})` : '';
      throw new CommandError(`demo: ${(e as Error).message}${why}`);
    }

    io.stdout(`Handshake 1: full handshake, establishes a PSK (${first.sessions.length} tickets received)\n`);
    io.stdout(renderFlow(flowLines(first.trace, false)).join('\n') + '\n');
    io.stdout(`  ${summary(first.socket)}\n\n`);
    io.stdout(`Handshake 2: resumption with the PSK from a ticket of handshake 1\n`);
    io.stdout(renderFlow(flowLines(second.trace, second.socket.isSessionReused(), messageNames(first.trace))).join('\n') + '\n');
    io.stdout(`  ${summary(second.socket)}\n`);

    if (tracePath !== undefined) {
      const connections: TraceConnection[] = [];
      const serverSide = [...serverTraces.values()];
      for (const [i, c] of [first, second].entries()) {
        connections.push({ role: 'client', entries: c.trace });
        const s = serverSide[i];
        if (s) connections.push({ role: 'server', entries: s });
      }
      writeTraceFile(tracePath, connections);
      io.stdout(`\ntrace written to ${tracePath}\n`);
    }
    if (!second.socket.isSessionReused()) throw new CommandError('demo: the second handshake did not resume the session');
    return 0;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
