#!/usr/bin/env node
/**
 * The `tlschart` command: demo, serve, connect, trace, chart. `main(argv, io)` runs it
 * in-process (the tests do); run as a program, it wires stdout/stderr and
 * SIGINT/SIGTERM and sets the exit code.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { auditCommand } from './audit.js';
import { connectCommand } from './connect.js';
import { demo } from './demo.js';
import { type CliIo, CommandError, oneLine, UsageError } from './io.js';
import { refusalsCommand } from './refusals.js';
import { serve } from './serve.js';
import { chartCommand, traceCommand } from './traces.js';

export type { CliIo } from './io.js';

export const MAIN_HELP = `Usage: tlschart <command> [options]

A TLS 1.3 client and server whose handshakes are XState statecharts.

Commands:
  demo                 full handshake, then PSK resumption, printed as numbered flows
  serve                run a TLS 1.3 server (throwaway certificate unless --cert/--key)
  connect HOST:PORT    connect, print New/Reused, suite, group and tickets received
  audit server HOST:PORT
                       audit a live server's TLS 1.3 session resumption (tickets,
                       PSK modes, binders, replay, ticket age, 0-RTT, HRR,
                       out-of-order messages) with the statecharts as the oracle
  trace check FILE     replay a trace (from --trace FILE) through the statecharts:
                       it conforms to RFC 8446, or the first violation
  trace render FILE    draw a trace as a message sequence chart
                       (--format mermaid|svg|html, --out FILE)
  trace view FILE      write a self-contained HTML page that steps through a trace
  trace import CAPTURE turn a pcap/pcapng capture and its key log (--keylog FILE)
                       into a trace: every TLS 1.3 connection, both sides
  chart client|server  export a handshake statechart (--format mermaid|dot|json|svg)
  audit server HOST:PORT
                       audit a live server's TLS 1.3 session resumption (tickets,
                       PSK modes, binders, replay, ticket age, 0-RTT, HRR,
                       out-of-order messages) with the statecharts as the oracle
  audit client --exec 'COMMAND with {host} {port}'
                       audit a client's TLS 1.3 session resumption with a probing
                       server (what it offers, ticket handling, deviant replies)
  refusals             every refusal tlschart makes: alert, RFC section, keyword
                       (--format text|json|markdown, --on-purpose)

demo, connect and serve take --trace FILE (a trace for the trace commands),
--inspect (stream the statecharts, sanitised, to an XState inspector) and
--keylog FILE (NSS key log, the only way secrets leave).

Run 'tlschart <command> --help' (e.g. 'tlschart trace check --help') for the
options of a command.

Exit status: 0 success, 1 the command failed (e.g. a handshake alert), 2 bad usage.
trace and chart: 0 success (trace check: the trace conforms), 1 the trace
violates RFC 8446, 2 the file cannot be read as a trace, 64 bad usage.
audit: 0 no failing finding, 1 failing findings, 2 inconclusive (target
unreachable, no TLS 1.3; a client that never connected), 64 bad usage.
`;

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => Promise<number>> = {
  demo,
  serve,
  connect: connectCommand,
  audit: auditCommand,
  trace: traceCommand,
  chart: chartCommand,
  refusals: refusalsCommand,
};

/** Run the CLI with `argv` (without node and the script path). Resolves with the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr(MAIN_HELP);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(MAIN_HELP);
    return 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run)
      throw new UsageError(
        `unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(', ')}; see tlschart --help)`,
      );
    return await run(rest, io);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      io.stderr(`tlschart: ${oneLine(err.message)}\n`);
      return 2;
    }
    // Expected failures carry their own sentence; anything else is reported the same way, without a stack.
    const text = err instanceof CommandError ? err.message : `${command}: ${err.message || String(err)}`;
    io.stderr(`tlschart: ${oneLine(text)}\n`);
    return 1;
  }
}

/** True when this module is the program being run (also through the npm bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    // The script path does not resolve: then it is not this file.
    return false;
  }
}

if (isEntryPoint()) {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    signal: controller.signal,
  };
  const argv = process.argv.slice(2);
  main(argv, io).then(
    (code) => {
      process.exitCode = code;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A @statelyai/inspect WebSocket inspector whose server went away reconnects for ever
      // (see inspect.ts); once the command is over, that must not keep the process alive.
      if (argv.some((a) => a === '--inspect' || a.startsWith('--inspect-url'))) setTimeout(() => process.exit(), 2000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`tlschart: ${oneLine(String((e as Error)?.message ?? e))}\n`);
      process.exitCode = 1;
    },
  );
}
