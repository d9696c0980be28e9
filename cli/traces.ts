/**
 * `tlschart trace check|render|view|import` and `tlschart chart`: the handlers of
 * traces/cli-commands.ts, with their own help texts and exit codes (0 success
 * or conforms, 1 violation, 2 unreadable file, 64 usage error) passed through
 * unchanged.
 */
import { chartExport, EXIT, TRACE_IMPORT_HELP, traceCheck, traceImport, traceRender, traceView } from '../traces/cli-commands.js';
import { inspectTrace } from '../traces/import/inspect.js';
import { DEFAULT_INSPECT_URL, inspectUrl, startInspectSession } from './inspect.js';
import { type CliIo, UsageError } from './io.js';

export const TRACE_HELP = `Usage: tlschart trace check|render|view FILE [options]
       tlschart trace import CAPTURE [--keylog FILE] [--out FILE]

Work with a trace written by --trace FILE (demo, connect, serve) or made
from a packet capture by trace import: format tlschart-trace version 1,
every handshake message with its records, the states and the guards
evaluated; no secrets.

Commands:
  trace check FILE [--json]
        replay the trace through the statecharts as a conformance monitor:
        it conforms to RFC 8446, or the first violation (state, message,
        section, the alert a conforming peer sends)
  trace render FILE [--format mermaid|svg|html] [--out FILE]
        draw the trace as a message sequence chart with client and server
        lanes (default Mermaid sequenceDiagram text on standard output)
  trace view FILE [--out FILE]
        write one self-contained HTML page that steps through the trace
        on the statecharts (default: FILE with .html instead of .json)
  trace import CAPTURE [--keylog FILE] [--out FILE] [--json] [--inspect]
        turn a pcap/pcapng capture of TLS 1.3 connections and its NSS key
        log into one trace (every connection, both sides, decrypted);
        without keys only the plaintext part (default: CAPTURE.json)

Run 'tlschart trace <command> --help' for the options of each.

Exit status: 0 success (check: the trace conforms), 1 the trace violates
RFC 8446, 2 the file cannot be read as a trace (import: as a capture with a
TLS 1.3 connection), 64 usage error.
`;

const TRACE_COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  check: traceCheck,
  render: traceRender,
  view: traceView,
  import: traceImportCommand,
};

/**
 * `trace import` with `--inspect` / `--inspect-url URL` (the CLI's options,
 * as for demo, serve and connect): the imported trace is replayed into the
 * inspector once it is written.
 */
async function traceImportCommand(argv: string[], io: CliIo): Promise<number> {
  const command = 'trace import';
  const rest: string[] = [];
  let url: URL | undefined;
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string;
      if (a === '--inspect') url ??= inspectUrl(command, DEFAULT_INSPECT_URL);
      else if (a === '--inspect-url' || a.startsWith('--inspect-url=')) {
        const value = a === '--inspect-url' ? argv[++i] : a.slice('--inspect-url='.length);
        if (value === undefined) throw new UsageError(`${command}: option --inspect-url needs a value`);
        url = inspectUrl(command, value);
      } else rest.push(a);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`tlschart: ${e.message}\n\n${TRACE_IMPORT_HELP}`);
    return EXIT.usage;
  }
  if (!url) return traceImport(rest, io);
  const session = await startInspectSession(command, url, (line) => io.stderr(`tlschart ${line}\n`));
  try {
    return await traceImport(rest, io, async (trace) => {
      const observer = session.observer();
      const actors = inspectTrace(trace, (ev) => observer.inspect(ev));
      observer.stop();
      io.stdout(`inspecting ${actors} side(s), sanitised, at ${session.url}\n`);
    });
  } finally {
    await session.close();
  }
}

/** `tlschart trace <check|render|view|import> ...` */
export async function traceCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(TRACE_HELP);
    return EXIT.ok;
  }
  const run = sub === undefined ? undefined : TRACE_COMMANDS[sub];
  if (!run) {
    const problem =
      sub === undefined
        ? 'trace needs a command: check, render, view or import'
        : `unknown trace command ${JSON.stringify(sub)} (check, render, view, import)`;
    io.stderr(`tlschart: ${problem}\n\n${TRACE_HELP}`);
    return EXIT.usage;
  }
  return run(rest, io);
}

/** `tlschart chart client|server ...` */
export function chartCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return chartExport([...argv], io);
}
