/**
 * Command handlers for the tlschart CLI (cli/main.ts wires them):
 *
 *   tlschart trace check FILE [--json]
 *   tlschart trace render FILE [--format mermaid|svg|html] [--out FILE]
 *   tlschart trace view FILE [--out FILE]
 *   tlschart trace import CAPTURE [--keylog FILE] [--out FILE] [--json]
 *   tlschart chart client|server [--format mermaid|dot|json|svg] [--out FILE]
 *
 * Each takes the arguments after its command words and an `io` for output,
 * and returns the exit code: 0 success (trace conforms), 1 the trace violates
 * RFC 8446, 2 the file cannot be read as a trace, 64 usage error (EX_USAGE).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { chartDot, chartJson, chartMachine, chartMermaid, chartSvg } from './charts.js';
import { loadTrace, serializeTrace, type Trace } from './format.js';
import { type ImportReport, importCapture } from './import/index.js';
import { checkTrace } from './monitor.js';
import { negotiatedGroups, sequenceHtml, sequenceMermaid, sequenceSvg } from './sequence.js';
import { viewerHtml } from './viewer.js';

export const EXIT = { ok: 0, violation: 1, unreadable: 2, usage: 64 } as const;

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** process.stdout / process.stderr. */
export const processIo: CommandIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

export const TRACE_CHECK_HELP = `Usage: tlschart trace check FILE [--json]

Replay a trace through the statechart of each recorded side, as a conformance
monitor: the received messages are fed, decoded from the recorded bytes, to a
fresh machine; what needs secrets (Finished, signatures, binders) is taken
from the trace, everything else is recomputed (message order per state,
extension rules, psk_dhe_ke only, no early data, the alert of each refusal).

Prints that the trace conforms, or the first violation: handshake, side,
step, state, message, what RFC 8446 requires there (section) and the alert a
conforming implementation sends.

Options:
  --json     print the result as JSON
  -h, --help this text

Exit status: 0 conforms, 1 violation, 2 unreadable file, 64 usage error.
`;

export const TRACE_RENDER_HELP = `Usage: tlschart trace render FILE [--format mermaid|svg|html] [--out FILE]

Draw a trace as a message sequence chart (client and server lanes), in the
notation of RFC 8446 §2: {…} under handshake keys, […] under application
keys, (…) under 0-RTT keys; notes where resumption skips authentication
("Certificate, CertificateVerify skipped: PSK") and where something is refused.

Options:
  --format F  mermaid (default; Mermaid sequenceDiagram text), svg, or html
              (a self-contained page with the SVG inline, works offline)
  --out FILE  write to FILE instead of standard output
  -h, --help  this text

Exit status: 0 written, 2 unreadable file, 64 usage error.
`;

export const TRACE_VIEW_HELP = `Usage: tlschart trace view FILE [--out FILE]

Write one self-contained HTML page that steps through the trace (Next /
Previous buttons, arrow keys): each step highlights the active state of the
client and server machines on their statecharts and the current message on
the sequence chart, and shows the record, decoded fields and guards.

Options:
  --out FILE  the page to write (default: FILE with .html instead of .json)
  -h, --help  this text

Exit status: 0 written, 2 unreadable file, 64 usage error.
`;

export const TRACE_IMPORT_HELP = `Usage: tlschart trace import CAPTURE [--keylog FILE] [--out FILE] [--json] [--inspect]

Turn a packet capture (pcap or pcapng: tcpdump, dumpcap, tshark, Wireshark)
of TLS 1.3 connections into one tlschart trace: TCP reassembled per
direction, records decrypted with the secrets of an NSS key log
(SSLKEYLOGFILE, as browsers, curl, OpenSSL -keylogfile and tlschart --keylog
write it), every handshake message decoded, both sides of every connection.

Each TLS 1.3 connection becomes one handshake of the trace, labelled with its
endpoints; a connection that resumed with a ticket issued by an earlier one
names it. Finished and CertificateVerify are recomputed from the capture and
the key log, so 'trace check' catches a peer that accepts a bad one; PSK
binders cannot be (the key log has no resumption secret). Without a key log
(or without a connection's secrets) only the plaintext part is imported:
ClientHello, ServerHello or HelloRetryRequest, ChangeCipherSpec; the rest is
reported as not decrypted. No secret is written to the trace.

Options:
  --keylog FILE  the NSS key log (also read: keys a pcapng file carries in a
                 Decryption Secrets Block, as editcap --inject-secrets adds)
  --out FILE     the trace to write (default: CAPTURE with .json instead of
                 .pcap/.pcapng); one file holds every connection
  --json         print the import report as JSON
  --inspect      also replay the trace into an XState inspector over a
                 WebSocket (@statelyai/inspect), at ws://localhost:8080 unless
                 --inspect-url says otherwise: one actor per side of each
                 connection, its chart, the events received and the states
                 reached (sanitised, as for demo/serve/connect --inspect)
  --inspect-url URL  the inspector's WebSocket URL (implies --inspect)
  -h, --help     this text

Then: tlschart trace check FILE, trace view FILE, trace render FILE.

Exit status: 0 written, 1 --inspect: nothing answers at the inspector's URL,
2 the capture or key log cannot be read, or holds no TLS 1.3 connection,
64 usage error.
`;

export const CHART_HELP = `Usage: tlschart chart client|server [--format mermaid|dot|json|svg] [--out FILE]

Export a handshake statechart.

Options:
  --format F  mermaid (default; stateDiagram-v2 for READMEs), dot (Graphviz),
              json (the machine configuration with guard and action names,
              for Stately Studio's import and XState's createMachine), or svg
              (Graphviz rendered offline; node ids state-<name>)
  --out FILE  write to FILE instead of standard output
  -h, --help  this text

Exit status: 0 written, 64 usage error.
`;

type Parsed = { ok: true; values: Record<string, string | boolean | undefined>; positionals: string[] } | { ok: false; error: string };

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): Parsed {
  try {
    const r = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { ok: true, values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function usage(io: CommandIo, help: string, problem: string): number {
  io.stderr(`${problem}\n\n${help}`);
  return EXIT.usage;
}

async function emit(io: CommandIo, out: string | undefined, text: string): Promise<void> {
  if (out === undefined) {
    io.stdout(text);
    return;
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  io.stderr(`wrote ${out}\n`);
}

function readTrace(io: CommandIo, file: string): Trace | undefined {
  const r = loadTrace(file);
  if (!r.ok) {
    io.stderr(`tlschart: ${file} is not a readable tlschart trace: ${r.error}\n`);
    return undefined;
  }
  return r.trace;
}

/** `tlschart trace check FILE [--json]` */
export async function traceCheck(argv: string[], io: CommandIo = processIo): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } });
  if (!p.ok) return usage(io, TRACE_CHECK_HELP, p.error);
  if (p.values.help) {
    io.stdout(TRACE_CHECK_HELP);
    return EXIT.ok;
  }
  if (p.positionals.length !== 1) return usage(io, TRACE_CHECK_HELP, 'trace check needs exactly one FILE');
  const file = p.positionals[0] as string;
  const trace = readTrace(io, file);
  if (!trace) return EXIT.unreadable;
  const result = checkTrace(trace);
  if (p.values.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return result.conforms ? EXIT.ok : EXIT.violation;
  }
  const sides = trace.handshakes.reduce((n, h) => n + h.sides.length, 0);
  if (result.conforms) {
    const groups = negotiatedGroups(trace).join(', ');
    io.stdout(
      `${file}: conforms to RFC 8446 (${result.steps} received steps checked, ${trace.handshakes.length} handshake(s), ${sides} side(s); group ${groups})\n`,
    );
    return EXIT.ok;
  }
  const v = result.violation;
  io.stdout(
    [
      `${file}: VIOLATION in handshake ${v.handshake + 1} (${v.label}), ${v.role} side, step ${v.step} (seq ${v.seq})`,
      `  state:     ${v.state}`,
      `  message:   ${v.message}`,
      `  RFC 8446 ${v.section}: ${v.requirement}`,
      `  a conforming ${v.role} sends: ${v.alert ?? 'no alert (it goes on as described)'}`,
      `  the trace: ${v.recorded}`,
      '',
    ].join('\n'),
  );
  return EXIT.violation;
}

/** `tlschart trace render FILE [--format mermaid|svg|html] [--out FILE]` */
export async function traceRender(argv: string[], io: CommandIo = processIo): Promise<number> {
  const p = parse(argv, { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' } });
  if (!p.ok) return usage(io, TRACE_RENDER_HELP, p.error);
  if (p.values.help) {
    io.stdout(TRACE_RENDER_HELP);
    return EXIT.ok;
  }
  if (p.positionals.length !== 1) return usage(io, TRACE_RENDER_HELP, 'trace render needs exactly one FILE');
  const format = (p.values.format as string | undefined) ?? 'mermaid';
  if (!['mermaid', 'svg', 'html'].includes(format)) return usage(io, TRACE_RENDER_HELP, `unknown format ${format}`);
  const trace = readTrace(io, p.positionals[0] as string);
  if (!trace) return EXIT.unreadable;
  const text = format === 'mermaid' ? sequenceMermaid(trace) : format === 'svg' ? `${sequenceSvg(trace)}\n` : sequenceHtml(trace);
  await emit(io, p.values.out as string | undefined, text);
  return EXIT.ok;
}

/** `tlschart trace view FILE [--out FILE]` */
export async function traceView(argv: string[], io: CommandIo = processIo): Promise<number> {
  const p = parse(argv, { out: { type: 'string', short: 'o' } });
  if (!p.ok) return usage(io, TRACE_VIEW_HELP, p.error);
  if (p.values.help) {
    io.stdout(TRACE_VIEW_HELP);
    return EXIT.ok;
  }
  if (p.positionals.length !== 1) return usage(io, TRACE_VIEW_HELP, 'trace view needs exactly one FILE');
  const file = p.positionals[0] as string;
  const trace = readTrace(io, file);
  if (!trace) return EXIT.unreadable;
  const out = (p.values.out as string | undefined) ?? (file.endsWith('.json') ? `${file.slice(0, -5)}.html` : `${file}.html`);
  await emit(io, out, await viewerHtml(trace));
  return EXIT.ok;
}

/** `tlschart trace import CAPTURE [--keylog FILE] [--out FILE] [--json]`; `then` gets the trace once it is written (the CLI's --inspect). */
export async function traceImport(argv: string[], io: CommandIo = processIo, then?: (trace: Trace) => Promise<void>): Promise<number> {
  const p = parse(argv, { keylog: { type: 'string', short: 'k' }, out: { type: 'string', short: 'o' }, json: { type: 'boolean' } });
  if (!p.ok) return usage(io, TRACE_IMPORT_HELP, p.error);
  if (p.values.help) {
    io.stdout(TRACE_IMPORT_HELP);
    return EXIT.ok;
  }
  if (p.positionals.length !== 1) return usage(io, TRACE_IMPORT_HELP, 'trace import needs exactly one CAPTURE');
  const file = p.positionals[0] as string;
  const keylogFile = p.values.keylog as string | undefined;
  let bytes: Uint8Array;
  let keylog: string | undefined;
  try {
    bytes = new Uint8Array(await readFile(file));
    keylog = keylogFile === undefined ? undefined : await readFile(keylogFile, 'utf8');
  } catch (e) {
    io.stderr(`tlschart: cannot read ${(e as NodeJS.ErrnoException).path ?? file}: ${(e as Error).message}\n`);
    return EXIT.unreadable;
  }
  const result = importCapture(bytes, keylog, {
    captureName: basename(file),
    ...(keylogFile !== undefined ? { keylogName: basename(keylogFile) } : {}),
  });
  if (!result.ok) {
    io.stderr(`tlschart: ${file}: ${result.error}\n`);
    if (result.report) for (const s of result.report.skipped) io.stderr(`  skipped ${s}\n`);
    return EXIT.unreadable;
  }
  const out = (p.values.out as string | undefined) ?? `${file.replace(/\.(pcapng|pcap|cap)$/i, '')}.json`;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, serializeTrace(result.trace));
  if (p.values.json) io.stdout(`${JSON.stringify({ out, ...result.report }, null, 2)}\n`);
  else io.stdout(importSummary(file, keylogFile, out, result.report));
  await then?.(result.trace);
  const unread = result.report.connections.filter((c) => c.capture.keys === 'none' || c.capture.keys === 'some');
  if (unread.length > 0) {
    io.stderr(
      keylogFile === undefined && !result.report.keylog.embedded
        ? `tlschart: no key log given (--keylog FILE): only the plaintext part of each connection was imported\n`
        : `tlschart: the key log lacks secrets for ${unread.length} of ${result.report.connections.length} connection(s): their protected records were not decrypted (see the notes above)\n`,
    );
  }
  return EXIT.ok;
}

/** The import report for people. */
export function importSummary(file: string, keylogFile: string | undefined, out: string, r: ImportReport): string {
  const lines: string[] = [];
  const keys = keylogFile === undefined ? (r.keylog.embedded ? 'key log embedded in the capture' : 'no key log') : `key log ${keylogFile}`;
  const secrets =
    keylogFile === undefined && !r.keylog.embedded
      ? ''
      : `: ${r.keylog.secrets} TLS 1.3 secret(s) for ${r.keylog.clientRandoms} client random(s)`;
  lines.push(`${file}: ${r.format}, ${r.packets} packets, ${r.tcpConnections} TCP connection(s); ${keys}${secrets}`);
  for (const problem of [...r.problems, ...r.keylog.problems]) lines.push(`  warning: ${problem}`);
  for (const c of r.connections) {
    lines.push(c.label);
    const kind = c.resumed
      ? `resumed (PSK, ${c.group ? 'psk_dhe_ke' : 'psk_ke'})${c.capture.resumes ? ` with a ticket from connection ${c.capture.resumes.handshake + 1}` : ''}`
      : 'full handshake';
    const decrypted = {
      all: c.badRecords ? 'keys for every record' : 'all records decrypted',
      some: 'some records not decrypted',
      none: 'nothing decrypted',
      'not-needed': 'nothing encrypted',
    }[c.capture.keys];
    lines.push(
      `  ${kind}, ${c.suite ?? 'suite unknown'}, ${c.group ?? 'no key share'}; ${c.messages} handshake message(s) decoded, ${decrypted}${c.badRecords ? `, ${c.badRecords} record(s) that do not authenticate` : ''}`,
    );
    lines.push(`  states at the end: client ${c.outcome.client}, server ${c.outcome.server}`);
    for (const n of c.capture.notes) lines.push(`  note: ${n}`);
  }
  for (const s of r.skipped) lines.push(`skipped ${s}`);
  lines.push(`wrote ${out} (${r.connections.length} handshake(s)); next: tlschart trace check ${out}, tlschart trace view ${out}`);
  return `${lines.join('\n')}\n`;
}

/** `tlschart chart client|server [--format mermaid|dot|json|svg] [--out FILE]` */
export async function chartExport(argv: string[], io: CommandIo = processIo): Promise<number> {
  const p = parse(argv, { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' } });
  if (!p.ok) return usage(io, CHART_HELP, p.error);
  if (p.values.help) {
    io.stdout(CHART_HELP);
    return EXIT.ok;
  }
  const role = p.positionals[0];
  if (p.positionals.length !== 1 || (role !== 'client' && role !== 'server')) return usage(io, CHART_HELP, 'chart needs client or server');
  const format = (p.values.format as string | undefined) ?? 'mermaid';
  const machine = chartMachine(role);
  let text: string;
  switch (format) {
    case 'mermaid':
      text = chartMermaid(machine);
      break;
    case 'dot':
      text = chartDot(machine, { idPrefix: '' });
      break;
    case 'json':
      text = chartJson(machine);
      break;
    case 'svg':
      text = `${await chartSvg(machine, { idPrefix: '' })}\n`;
      break;
    default:
      return usage(io, CHART_HELP, `unknown format ${format}`);
  }
  await emit(io, p.values.out as string | undefined, text);
  return EXIT.ok;
}
