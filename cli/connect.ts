/**
 * `tlschart connect HOST:PORT`: connect, print one summary line per
 * connection, optionally send a request, save or reuse a session, reconnect.
 */
import { createWriteStream, readFileSync, type WriteStream, writeFileSync } from 'node:fs';
import { type ConnectOptions, connect as tlsConnect } from '../net/connect.js';
import type { TLSSocket } from '../net/socket.js';
import { decodeClientSession } from '../tickets/session-codec.js';
import { TraceCollector } from '../traces/recorder.js';
import { CRYPTO_OPTIONS, cryptoHelp, cryptoOption, intOption, listOption, OBSERVE_OPTIONS, parse, stringOption } from './args.js';
import { DEFAULT_INSPECT_URL, inspectUrl, startInspectSession } from './inspect.js';
import { type CliIo, CommandError, oneLine, UsageError } from './io.js';
import { LIMIT_OPTIONS, limitHelp, limitValues } from './limits.js';
import { describeFailure } from './serve.js';

export const CONNECT_HELP = `Usage: tlschart connect HOST:PORT [options]

Connect with TLS 1.3 and print one line per connection:
  New|Reused, TLSv1.3, <cipher suite>, <group>, tickets received: N
On failure, exit with status 1 and the alert that ended the handshake.

Options:
  --servername NAME  SNI and the name the certificate must match (default: HOST,
                     unless HOST is an IP address)
  --ca FILE          trust the CA certificates in FILE (PEM) instead of Node's root store
  --insecure         do not judge the certificate chain (the CertificateVerify
                     signature is still checked)
  --sess-out FILE    save the newest session ticket to FILE (never one already
                     offered: a ticket is used once)
  --sess-in FILE     resume with the session saved in FILE
  --reconnect N      reconnect N more times, each time with the newest ticket
  --alpn LIST        offer these ALPN protocols, comma separated
  --groups LIST      key exchange groups in preference order, comma separated
                     (default X25519MLKEM768,x25519,P-256,P-384); the first gets
                     a key share, and when it is X25519MLKEM768 the first
                     classical group after it too
  --suites LIST      cipher suites in preference order, comma separated
  --send TEXT        send TEXT once connected (\\r \\n \\t \\\\ are understood), then
                     print what arrives until the server closes or 1 s of quiet
  --trace FILE       write every connection as a tlschart trace (JSON, format
                     tlschart-trace version 1; failed connections too): messages
                     with their records, states, guards evaluated; no secrets.
                     Then: tlschart trace check|render|view FILE
  --inspect          stream each connection's statechart to an XState inspector
                     over a WebSocket (@statelyai/inspect), at
                     ${DEFAULT_INSPECT_URL} unless --inspect-url says otherwise.
                     Something must listen there, e.g. the bridge of
                     @statelyai/inspect/server (createInspectorServer), whose
                     page shows the inspector UI hosted by Stately
                     (https://stately.ai/inspect). Contexts and events are
                     sanitised first: no secret, key or PSK is sent; public
                     message bytes as hex, application data by length.
  --inspect-url URL  the inspector's WebSocket URL (implies --inspect)
  --keylog FILE      append the secrets in NSS key log format (for Wireshark)
${cryptoHelp(21)}  -h, --help         show this help

Timeouts and limits (README "Limits"):
  --idle-timeout S   close an established connection with close_notify after
                     S seconds without traffic (default 0: never)
${limitHelp(21, 'default 120')}`;

/** How long to wait for tickets after the handshake when none has come (TLS 1.3 sends them afterwards). */
const TICKET_WAIT_MS = 300;
/** After a ticket, how long to wait for more of the same flight. */
const TICKET_QUIET_MS = 50;
/** With --send: how long without data counts as "the server is done". */
const READ_QUIET_MS = 1000;

export function parseHostPort(target: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(target) ?? /^([^:]+):(\d+)$/.exec(target);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535))
    throw new UsageError(`connect: expected HOST:PORT (e.g. localhost:4433 or [::1]:4433), got ${JSON.stringify(target)}`);
  return { host: m[1] as string, port };
}

/** The escapes --send understands: \r \n \t \\. */
export function unescapeSend(text: string): string {
  return text.replace(/\\([rnt\\])/g, (_, c: string) => ({ r: '\r', n: '\n', t: '\t', '\\': '\\' })[c] as string);
}

/** What one connection leaves behind, filled in as it goes. */
interface ConnectionRecord {
  sessions: Buffer[];
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CommandError(`connect: cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Resolves when `ms` pass without `bump()` being called. */
function quietTimer(ms: number): { bump(): void; done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const bump = () => {
    clearTimeout(timer);
    timer = setTimeout(resolve, ms);
  };
  bump();
  return { bump, done, cancel: () => clearTimeout(timer) };
}

async function oneConnection(
  options: ConnectOptions,
  send: string | undefined,
  waitForTickets: boolean,
  io: CliIo,
  record: ConnectionRecord,
): Promise<TLSSocket> {
  const socket = tlsConnect(options);
  let failure: Error | undefined;
  const failed = new Promise<void>((resolve) =>
    socket.once('error', (e: Error) => {
      failure = e;
      resolve();
    }),
  );
  socket.on('warning', (w: Error) => io.stderr(`tlschart connect: warning: ${oneLine(w.message)}\n`));
  socket.on('session', (b: Buffer) => record.sessions.push(b));
  let lastData = '';
  socket.on('data', (d: Buffer) => {
    lastData = d.toString('latin1');
    io.stdout(d.toString('utf8'));
  });
  let peerEnded = false;
  const ended = new Promise<void>((resolve) =>
    socket.once('end', () => {
      peerEnded = true;
      resolve();
    }),
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const secure = new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  await Promise.race([secure, failed]);

  if (!failure && waitForTickets) {
    // TLS 1.3 tickets come after the handshake: wait for the first, then a little for the rest of the flight.
    let quiet: ReturnType<typeof quietTimer> | undefined;
    let give: NodeJS.Timeout | undefined;
    const tickets = new Promise<void>((resolve) => {
      give = setTimeout(resolve, TICKET_WAIT_MS);
      socket.on('session', () => {
        clearTimeout(give);
        if (quiet) quiet.bump();
        else {
          quiet = quietTimer(TICKET_QUIET_MS);
          void quiet.done.then(resolve);
        }
      });
    });
    await Promise.race([tickets, ended, failed]);
    clearTimeout(give);
    quiet?.cancel();
  }
  // A server that closes right after the handshake (stunnel running /bin/echo) has not failed: the
  // handshake is reported, the text is not sent, and the next connection goes on.
  if (!failure && send !== undefined && (peerEnded || !socket.writable)) {
    io.stderr('tlschart connect: the server closed the connection after the handshake; --send text not sent\n');
  } else if (!failure && send !== undefined) {
    socket.write(unescapeSend(send));
    const quiet = quietTimer(READ_QUIET_MS);
    socket.on('data', () => quiet.bump());
    await Promise.race([quiet.done, ended, failed]);
    quiet.cancel();
    if (lastData.length > 0 && !lastData.endsWith('\n')) io.stdout('\n');
  }
  if (!failure) {
    socket.end();
    const linger = setTimeout(() => socket.destroy(), 1000);
    await closed;
    clearTimeout(linger);
  } else await closed;
  if (failure) throw failure;
  return socket;
}

export async function connectCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const command = 'connect';
  const { values, positionals } = parse(
    command,
    argv,
    {
      servername: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean' },
      'sess-out': { type: 'string' },
      'sess-in': { type: 'string' },
      reconnect: { type: 'string' },
      alpn: { type: 'string' },
      groups: { type: 'string' },
      suites: { type: 'string' },
      send: { type: 'string' },
      'idle-timeout': { type: 'string' },
      ...LIMIT_OPTIONS,
      ...OBSERVE_OPTIONS,
      ...CRYPTO_OPTIONS,
    },
    1,
  );
  if (values.help) {
    io.stdout(CONNECT_HELP);
    return 0;
  }
  const target = positionals[0];
  if (target === undefined) throw new UsageError(`${command}: HOST:PORT is missing (see tlschart connect --help)`);
  const { host, port } = parseHostPort(target);
  const reconnects = intOption(command, values, 'reconnect', 0, 1000, 0);
  const sessOut = stringOption(values, 'sess-out');
  const sessIn = stringOption(values, 'sess-in');
  const tracePath = stringOption(values, 'trace');
  const keylogPath = stringOption(values, 'keylog');
  const send = stringOption(values, 'send');
  const servername = stringOption(values, 'servername');
  const caPath = stringOption(values, 'ca');
  const alpn = listOption(values, 'alpn');
  const groups = listOption(values, 'groups');
  const suites = listOption(values, 'suites');
  const crypto = cryptoOption(command, values);
  const inspectAt = stringOption(values, 'inspect-url');
  const url =
    inspectAt !== undefined ? inspectUrl(command, inspectAt) : values.inspect ? inspectUrl(command, DEFAULT_INSPECT_URL) : undefined;
  const limits = limitValues(command, values);
  const idleTimeout = intOption(command, values, 'idle-timeout', 0, 86_400, 0) * 1000;

  let session: Buffer | undefined;
  if (sessIn !== undefined) {
    session = readFile(sessIn, 'session file');
    if (!decodeClientSession(new Uint8Array(session)))
      throw new CommandError(`${command}: ${sessIn} does not hold a tlschart session (made by --sess-out)`);
  }
  const base: ConnectOptions = {
    host,
    port,
    crypto,
    ...(servername !== undefined ? { servername } : {}),
    ...(caPath !== undefined ? { ca: readFile(caPath, 'CA file').toString('utf8') } : {}),
    ...(values.insecure ? { rejectUnauthorized: false } : {}),
    ...(alpn ? { ALPNProtocols: alpn } : {}),
    ...(groups ? { groups } : {}),
    ...(suites ? { cipherSuites: suites } : {}),
    ...limits,
    ...(idleTimeout > 0 ? { idleTimeout } : {}),
  };
  const inspection = url ? await startInspectSession(command, url, (line) => io.stderr(`tlschart ${line}\n`)) : undefined;
  if (inspection) base.inspector = inspection.inspector;
  const collector = tracePath === undefined ? undefined : new TraceCollector({ peer: target });
  if (collector) base.traceCollector = collector;
  let keylog: WriteStream | undefined;
  if (keylogPath !== undefined) {
    keylog = createWriteStream(keylogPath, { flags: 'a', mode: 0o600 });
    const sink = keylog;
    base.keylog = (line) => sink.write(line);
  }

  let newest: Buffer | undefined;
  let received = 0;
  try {
    for (let i = 0; i <= reconnects; i++) {
      const record: ConnectionRecord = { sessions: [] };
      const options: ConnectOptions = {
        ...base,
        ...(session ? { session } : {}),
        traceLabel: `connection ${i + 1} to ${target}${session ? ', offering a ticket' : ''}`,
      };
      let s: TLSSocket;
      try {
        s = await oneConnection(options, send, sessOut !== undefined || i < reconnects, io, record);
      } catch (e) {
        throw new CommandError(`${command}: connection ${i + 1} to ${target} failed: ${oneLine(describeFailure(e as Error))}`);
      }
      const info = s.handshakeInfo;
      io.stdout(
        `${s.isSessionReused() ? 'Reused' : 'New'}, ${s.getProtocol() ?? '-'}, ${info?.suite ?? '-'}, ${info?.group ?? '-'}, tickets received: ${record.sessions.length}${info?.alpn ? `, ALPN ${info.alpn}` : ''}\n`,
      );
      // A ticket is offered once (RFC 8446 §C.4): the next connection takes the newest one just received,
      // and a ticket this connection offered is never saved again, even when no new one came.
      newest = record.sessions.at(-1) ?? (session ? undefined : newest);
      received += record.sessions.length;
      session = record.sessions.at(-1);
    }
    if (sessOut !== undefined) {
      if (!newest)
        throw new CommandError(
          `${command}: ${received > 0 ? 'no unused session ticket left (a ticket is offered once)' : 'no session ticket arrived'}, ${sessOut} not written`,
        );
      writeFileSync(sessOut, newest, { mode: 0o600 });
    }
  } finally {
    if (keylog) {
      const k = keylog;
      await new Promise<void>((resolve) => k.end(() => resolve()));
    }
    await inspection?.close();
    if (collector && tracePath !== undefined) {
      if (collector.size > 0) {
        await collector.save(tracePath);
        io.stderr(`tlschart connect: trace of ${collector.size} connection(s) written to ${tracePath}\n`);
      } else io.stderr(`tlschart connect: no TLS connection started, ${tracePath} not written\n`);
    }
  }
  return 0;
}
