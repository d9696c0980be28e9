/**
 * `tlschart serve`: a tlschart server that logs one line per connection,
 * optionally answering HTTP requests like `openssl s_server -www`.
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, type WriteStream, writeFileSync } from 'node:fs';
import { type AddressInfo, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHandshakeQueue, defaultMaxHandshakes } from '../net/admission.js';
import { createServer, type RefusedConnection, type Server, type ServerOptions } from '../net/server.js';
import type { TLSSocket } from '../net/socket.js';
import { generateSelfSigned } from '../pki/generate.js';
import { MAX_TICKET_LIFETIME_S } from '../tickets/types.js';
import { recordTo } from '../traces/recorder.js';
import { TlsError } from '../wire/alerts.js';
import { CRYPTO_OPTIONS, cryptoHelp, cryptoOption, intOption, listOption, OBSERVE_OPTIONS, parse, stringOption } from './args.js';
import { DEFAULT_INSPECT_URL, inspectUrl, startInspectSession } from './inspect.js';
import { type CliIo, CommandError, oneLine, UsageError } from './io.js';
import { LIMIT_OPTIONS, limitHelp, limitValues } from './limits.js';
import { openTicketStore, TICKET_STORE_HELP, TICKET_STORE_OPTIONS, ticketStoreChoice } from './ticket-store.js';

export const SERVE_HELP = `Usage: tlschart serve [options]

Run a TLS 1.3 server until SIGINT or SIGTERM. One line per connection:
full or resumed, cipher suite, group, SNI and ALPN, or the alert when the
handshake failed. Without --www, application data is read and discarded.

Options:
  --host ADDR             address to listen on (default 127.0.0.1)
  --port N                port (default 4433; 0 picks a free one)
  --cert FILE --key FILE  certificate chain (PEM, leaf first) and its private key
                          (ECDSA P-256/P-384, Ed25519 or RSA); without them a
                          throwaway self-signed ECDSA P-256 certificate is made
                          and its path printed
  --tickets N             NewSessionTickets per handshake (default 2)
  --ticket-lifetime S     ticket lifetime in seconds (default 7200, at most 604800)
  --late-tickets          send the tickets only once the client Finished
                          arrived and verified (the engine's default), not
                          right after the server Finished
  --early-tickets         the tickets right after the server Finished (RFC 8446
                          §4.6.1, as Go does), so clients that close as soon
                          as the handshake ends (openssl s_client </dev/null,
                          testssl.sh) get them; they are stored only once the
                          client Finished verified. The default, except with
                          a shared --ticket-store (then a ticket the store
                          could not keep would have been sent)
${TICKET_STORE_HELP}  --alpn LIST             ALPN protocols, comma separated, in preference order
  --groups LIST           key exchange groups in preference order, comma separated
                          (default X25519MLKEM768,x25519,P-256,P-384)
  --www                   answer each HTTP request with a small HTTP/1.0 page
                          giving protocol, cipher and whether the session resumed
  --trace FILE            append each connection to FILE as it ends, one
                          tlschart trace per line (JSON Lines, format
                          tlschart-trace version 1; failed handshakes too):
                          messages with their records, states, guards
                          evaluated; no secrets. Nothing is kept in memory.
                          Then: tlschart trace check|render|view FILE
  --inspect               stream each connection's statechart to an XState
                          inspector over a WebSocket (@statelyai/inspect), at
                          ${DEFAULT_INSPECT_URL} unless --inspect-url says
                          otherwise. Something must listen there, e.g. the
                          bridge of @statelyai/inspect/server
                          (createInspectorServer), whose page shows the
                          inspector UI hosted by Stately
                          (https://stately.ai/inspect). Contexts and events are
                          sanitised first: no secret, key or PSK is sent; public
                          message bytes as hex, application data by length.
  --inspect-url URL       the inspector's WebSocket URL (implies --inspect)
  --keylog FILE           append the secrets in NSS key log format (for Wireshark)
${cryptoHelp(26)}  -h, --help              show this help

Load and abuse (README "Limits"):
  --max-handshakes N      ClientHellos worked on at once (default 2 x cores,
                          here ${defaultMaxHandshakes()}); with the queue full, new connections
                          are closed at once, counted and logged
  --handshake-queue N     ClientHellos that may wait for a slot (default
                          4 x --max-handshakes)
  --idle-timeout S        seconds without traffic before an established
                          connection is closed with close_notify (default 120;
                          0: never)
  --max-tickets N         tickets the in-memory store keeps (default 10000;
                          tickets of clients that never resume go first)
${limitHelp(26, 'default 120')}`;

/** How a failed connection is logged: the alert, who sent it, the reason. */
export function describeFailure(err: Error): string {
  if (err instanceof TlsError) {
    if (err.reason === 'ConnectionClosedDuringHandshake' || err.reason === 'HandshakeTimeout') return `${err.reason}: ${err.message}`;
    return `alert ${err.alert} ${err.remote ? 'received' : 'sent'} (${err.reason}): ${err.message}`;
  }
  const code = (err as Error & { code?: string }).code;
  return code ? `${code}: ${err.message}` : err.message;
}

function wwwPage(s: TLSSocket): string {
  const info = s.handshakeInfo;
  const body = [
    'tlschart serve',
    `Protocol: ${s.getProtocol() ?? '-'}`,
    `Cipher: ${info?.suite ?? '-'}`,
    `Group: ${info?.group ?? '-'}`,
    `Session resumed: ${s.isSessionReused() ? 'yes' : 'no'}`,
    `SNI: ${info?.serverName ?? '-'}`,
    `ALPN: ${info?.alpn ?? '-'}`,
    '',
  ].join('\n');
  return `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Answer the first HTTP request (once its header is complete) and close. */
function serveWww(s: TLSSocket): void {
  let head = '';
  const onData = (d: Buffer) => {
    head += d.toString('latin1');
    if (head.includes('\r\n\r\n') || head.includes('\n\n')) {
      s.off('data', onData);
      s.end(wwwPage(s));
      s.resume();
    } else if (head.length > 65536) {
      s.off('data', onData);
      s.end('HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n');
    }
  };
  s.on('data', onData);
}

async function throwawayCertificate(host: string, io: CliIo): Promise<{ cert: string; key: string }> {
  const dnsNames = ['localhost'];
  const ips = ['127.0.0.1'];
  if (isIP(host) !== 0) {
    if (!ips.includes(host) && host !== '0.0.0.0' && host !== '::') ips.push(host);
  } else if (!dnsNames.includes(host)) dnsNames.push(host);
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames, ips });
  const dir = mkdtempSync(join(tmpdir(), 'tlschart-'));
  const certPath = join(dir, 'cert.pem');
  writeFileSync(certPath, certPem);
  writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
  io.stdout(
    `certificate: ${certPath} (throwaway, self-signed for ${[...dnsNames, ...ips].join(', ')}; clients trust it with --ca ${certPath})\n`,
  );
  return { cert: certPem, key: keyPem };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CommandError(`serve: cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function serve(argv: readonly string[], io: CliIo): Promise<number> {
  const command = 'serve';
  const { values } = parse(
    command,
    argv,
    {
      host: { type: 'string' },
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      tickets: { type: 'string' },
      'ticket-lifetime': { type: 'string' },
      'early-tickets': { type: 'boolean' },
      'late-tickets': { type: 'boolean' },
      alpn: { type: 'string' },
      groups: { type: 'string' },
      www: { type: 'boolean' },
      ...TICKET_STORE_OPTIONS,
      'max-handshakes': { type: 'string' },
      'handshake-queue': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-tickets': { type: 'string' },
      ...LIMIT_OPTIONS,
      ...OBSERVE_OPTIONS,
      ...CRYPTO_OPTIONS,
    },
    0,
  );
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const port = intOption(command, values, 'port', 0, 65535, 4433);
  const tickets = intOption(command, values, 'tickets', 0, 100, 2);
  const lifetime = intOption(command, values, 'ticket-lifetime', 0, MAX_TICKET_LIFETIME_S, 7200);
  const storeChoice = ticketStoreChoice(command, values);
  const certPath = stringOption(values, 'cert');
  const keyPath = stringOption(values, 'key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError(`${command}: --cert and --key go together`);
  if (values['early-tickets'] && values['late-tickets']) {
    throw new UsageError(`${command}: --early-tickets and --late-tickets contradict each other`);
  }
  const tracePath = stringOption(values, 'trace');
  const keylogPath = stringOption(values, 'keylog');
  const alpn = listOption(values, 'alpn');
  const groups = listOption(values, 'groups');
  const maxHandshakes = intOption(command, values, 'max-handshakes', 1, 100_000, defaultMaxHandshakes());
  const handshakeQueue = intOption(command, values, 'handshake-queue', 0, 1_000_000, defaultHandshakeQueue(maxHandshakes));
  const idleTimeout = intOption(command, values, 'idle-timeout', 0, 86_400, 120) * 1000;
  const maxTickets = intOption(command, values, 'max-tickets', 1, 100_000_000, 10000);
  const limits = limitValues(command, values);
  const crypto = cryptoOption(command, values);
  const inspectAt = stringOption(values, 'inspect-url');
  const url =
    inspectAt !== undefined ? inspectUrl(command, inspectAt) : values.inspect ? inspectUrl(command, DEFAULT_INSPECT_URL) : undefined;

  const inspection = url ? await startInspectSession(command, url, (line) => io.stderr(`tlschart ${line}\n`)) : undefined;
  const identity =
    certPath !== undefined && keyPath !== undefined
      ? { cert: readPem(certPath, 'certificate'), key: readPem(keyPath, 'key') }
      : await throwawayCertificate(host, io);

  const ticketStore = await openTicketStore(storeChoice, io);
  // serve asks for no client certificate, so early tickets apply (RFC 8446 §4.6.1): a client that closes
  // the moment its handshake ends still gets them, and they resume only once its Finished verified. With
  // a shared store the default stays late, so that a ticket the store could not keep is never sent.
  const earlyTickets = values['early-tickets'] === true || (values['late-tickets'] !== true && ticketStore.store === undefined);

  // Each connection is written to the trace file when its socket closes, then forgotten.
  // The file is opened before listening; the peer (with the real port) is named once listening, before any connection.
  let traceOut: { file: WriteStream; peer: string; open: number; written: number } | undefined;
  const options: ServerOptions = {
    key: identity.key,
    cert: identity.cert,
    ticketsPerHandshake: tickets,
    ticketLifetime: lifetime,
    earlyTickets,
    ...(ticketStore.store ? { ticketStore: ticketStore.store } : {}),
    maxHandshakes,
    handshakeQueue,
    idleTimeout,
    // --max-tickets sizes the default in-memory store; a shared store is sized where it runs.
    ...(ticketStore.store ? {} : { maxTickets }),
    ...limits,
    crypto,
    ...(alpn ? { ALPNProtocols: alpn } : {}),
    ...(groups ? { groups } : {}),
    ...(tracePath !== undefined
      ? {
          traceCollector: {
            add: (conn, role, label) => {
              const out = traceOut;
              if (!out) return undefined;
              const recorder = recordTo(conn, role, { peer: out.peer });
              out.open++;
              return () => {
                recorder.stop();
                out.file.write(`${JSON.stringify(recorder.trace(label))}\n`);
                out.open--;
                out.written++;
              };
            },
          },
        }
      : {}),
    ...(inspection ? { inspector: inspection.inspector } : {}),
  };
  let server: Server;
  try {
    server = createServer(options);
  } catch (e) {
    await ticketStore.close();
    throw new CommandError(`${command}: ${(e as Error).message}`);
  }
  const keylog = keylogPath === undefined ? undefined : createWriteStream(keylogPath, { flags: 'a', mode: 0o600 });
  if (keylog) server.on('keylog', (line: Buffer) => keylog.write(line));

  // Connections are numbered in the order their handshake ended (completed or failed).
  let count = 0;
  const peerOf = (s: TLSSocket) => `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
  server.on('secureConnection', (s: TLSSocket) => {
    const info = s.handshakeInfo;
    io.stdout(
      `conn ${++count} ${peerOf(s)} ${s.isSessionReused() ? 'resumed' : 'full'} ${info?.suite ?? '-'} ${info?.group ?? '-'} sni=${info?.serverName ?? '-'} alpn=${info?.alpn ?? '-'}\n`,
    );
    s.on('error', (e: Error) => io.stdout(`conn ${peerOf(s)} error after the handshake: ${oneLine(describeFailure(e))}\n`));
    s.once('idle', (ms: number) => io.stdout(`conn ${peerOf(s)} idle for ${ms / 1000} s: closed with close_notify\n`));
    if (values.www) serveWww(s);
    else s.resume();
  });
  server.on('tlsClientError', (e: Error, s: TLSSocket) => {
    io.stdout(`conn ${++count} ${peerOf(s)} failed: ${oneLine(describeFailure(e))}\n`);
  });
  // Refusals come in bursts under load: one line per second at most, with how many.
  let refused = 0;
  let lastRefusal: RefusedConnection | undefined;
  const reportRefusals = () => {
    if (refused === 0 || !lastRefusal) return;
    io.stdout(
      `refused ${refused} connection(s) in the last second: busy (${lastRefusal.running} handshake(s) running, ${lastRefusal.waiting} waiting; --max-handshakes ${maxHandshakes}, --handshake-queue ${handshakeQueue})\n`,
    );
    refused = 0;
  };
  const refusalTimer = setInterval(reportRefusals, 1000);
  refusalTimer.unref();
  server.on('refused', (info: RefusedConnection) => {
    refused++;
    lastRefusal = info;
  });

  if (tracePath !== undefined) {
    // Open before listening: every connection accepted is traced.
    const file = createWriteStream(tracePath, { flags: 'w' });
    const failed = new Promise<never>((_, reject) => file.once('error', reject));
    try {
      await Promise.race([once(file, 'open'), failed]);
    } catch (e) {
      throw new CommandError(
        `${command}: cannot write the trace ${tracePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    failed.catch(() => undefined);
    traceOut = { file, peer: '', open: 0, written: 0 };
  }
  server.listen(port, host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    await ticketStore.close();
    clearInterval(refusalTimer);
    traceOut?.file.destroy();
    throw new CommandError(`${command}: cannot listen on ${host}:${port}: ${err.code ?? err.message}`);
  }
  const addr = server.address() as AddressInfo;
  if (traceOut) traceOut.peer = `clients of tlschart serve on ${addr.address}:${addr.port}`;
  if (tickets > 0) {
    const when = earlyTickets
      ? 'early: with the server flight, kept once the client Finished verified'
      : 'late: after the client Finished verified';
    io.stdout(`tickets: ${tickets} per handshake, ${when}\n`);
  }
  io.stdout(`listening on ${addr.address}:${addr.port}\n`);

  await new Promise<void>((resolve) => {
    if (!io.signal) return;
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await ticketStore.close();
  clearInterval(refusalTimer);
  reportRefusals();
  if (keylog) await new Promise<void>((resolve) => keylog.end(() => resolve()));
  await inspection?.close();
  if (traceOut && tracePath !== undefined) {
    // Connections still open when the server stopped are written too, as far as they got, once their sockets have closed.
    const out = traceOut;
    for (let waited = 0; out.open > 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise<void>((resolve) => out.file.end(() => resolve()));
    io.stdout(`trace of ${out.written} connection(s) in ${tracePath}\n`);
  }
  io.stdout('stopped\n');
  return 0;
}
