/**
 * `tlschart audit server HOST:PORT`: audit a live server's TLS 1.3 session
 * resumption with tlschart's charts as the oracle (audit/server/run.ts).
 * Prints the report (text, JSON, JUnit or SARIF) on standard output and
 * progress on standard error, and writes the traces, every report format and
 * an HTML index to --out.
 *
 * Exit status: 0 no failing finding, 1 failing findings, 2 inconclusive
 * (target unreachable, no TLS 1.3, untrusted certificate), 64 usage.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AUDIT_EXIT, type Profile } from '../audit/findings.js';
import { parseHostPort, tcpTarget } from '../audit/probe/target.js';
import { auditServer, FAMILIES, selectProbes } from '../audit/server/run.js';
import { intOption, listOption, parse, stringOption } from './args.js';
import { auditClientCommand } from './audit-client.js';
import { type Format, publishReport, reportOptions } from './audit-report.js';
import { type CliIo, oneLine, UsageError } from './io.js';

export const AUDIT_HELP = `Usage: tlschart audit server HOST:PORT [options]
       tlschart audit client --exec 'COMMAND with {host} {port}' [options]

Audit another implementation's TLS 1.3 session resumption, with tlschart's
statecharts, codec, key schedule and record layer as the oracle.

Commands:
  audit server HOST:PORT   probe a live server: tickets, resumption, PSK modes,
                           single use, binders, binding, ticket age, 0-RTT,
                           HelloRetryRequest + PSK, out-of-order messages
  audit client --exec CMD  run a client against a probing server: what it
                           offers on resumption, ticket handling, deviant
                           server replies (without --exec: audit whatever
                           connects)

Run 'tlschart audit server --help' or 'tlschart audit client --help' for the
options and checks.

Exit status: 0 no failing finding, 1 failing findings, 2 inconclusive (target
unreachable, TLS 1.3 not spoken, certificate not trusted; a client that never
connected), 64 usage error.
`;

export const AUDIT_SERVER_HELP = `Usage: tlschart audit server HOST:PORT [options]

Make real connections to HOST:PORT — and to nothing else — with probe clients
that misbehave in one precise way each, and judge the answers against RFC 8446
and tlschart's server chart. Every connection is recorded as a tlschart trace
(the server's side, its states inferred from what it sent) in --out, with an
HTML index linking each finding to the trace viewer of its connections.

Options:
  --servername S       SNI to send and the name the certificate must match
                       (default: HOST when it is a name, none for an address)
  --ca FILE            CA certificates (PEM) the server chain must chain to
                       (default: Node's root store)
  --insecure           do not judge the certificate chain at all
  --alpn LIST          ALPN protocols to offer, comma separated
  --checks LIST        check families or probe ids, comma separated
                       (default: all; see the list below)
  --profile rfc|strict rfc (default) fails only RFC 8446 violations; strict
                       also fails what tlschart refuses by policy: psk_ke
                       resumption, 0-RTT, reusable and stateless tickets
  --format F           text (default), json, junit or sarif on standard output
  --out DIR            where traces and reports go (default: a new directory
                       under the system's temp directory, printed)
  --seed N             fast-check seed of the out-of-order family (default:
                       random, printed in the report to replay a run)
  --runs N             tries of the measured probes and generated sequences
                       (default 8; more for a deeper audit)
  --timeout S          seconds per connection (default 10)
  --budget S           seconds for the whole audit (default 600); checks not
                       done by then are inconclusive
  --concurrency N      connections open at once at most (default 8)
  -h, --help           this text

Checks (families): ${FAMILIES.map((f) => f.id).join(', ')}

Output files in --out: report.json (schema audit/report/audit-report.schema.json),
report.junit.xml, report.sarif (SARIF 2.1.0), index.html, and traces/<finding>/*.json
with a viewer page (*.html) beside each; 'tlschart trace check|render|view' work on them.

Exit status: 0 no failing finding, 1 failing findings, 2 inconclusive (target
unreachable, TLS 1.3 not spoken, certificate not trusted), 64 usage error.
`;

const OPTIONS = {
  servername: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  alpn: { type: 'string' },
  checks: { type: 'string' },
  profile: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  runs: { type: 'string' },
  timeout: { type: 'string' },
  budget: { type: 'string' },
  concurrency: { type: 'string' },
} as const;

interface Parsed {
  host: string;
  port: number;
  serverName: string | undefined;
  ca: string | undefined;
  insecure: boolean;
  alpn: string[];
  checks: string[] | undefined;
  profile: Profile;
  format: Format;
  out: string | undefined;
  seed: number;
  runs: number;
  timeoutS: number;
  budgetS: number;
  concurrency: number;
}

function parseServerArgs(argv: readonly string[]): Parsed | 'help' {
  const p = parse('audit server', argv, OPTIONS, 1);
  if (p.values.help) return 'help';
  const target = p.positionals[0];
  if (target === undefined) throw new UsageError('audit server: needs HOST:PORT (see tlschart audit server --help)');
  const hp = parseHostPort(target);
  if (!hp) throw new UsageError(`audit server: ${JSON.stringify(target)} is not HOST:PORT`);
  const caPath = stringOption(p.values, 'ca');
  const insecure = p.values.insecure === true;
  if (caPath !== undefined && insecure) throw new UsageError('audit server: --ca and --insecure do not go together');
  let ca: string | undefined;
  if (caPath !== undefined) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch (e) {
      throw new UsageError(`audit server: cannot read --ca ${caPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const { profile, format, checks } = reportOptions('audit server', p.values, { FAMILIES, selectProbes });
  const seed = intOption('audit server', p.values, 'seed', 0, 2 ** 31 - 1, randomInt(0, 2 ** 31 - 1));
  const explicitName = stringOption(p.values, 'servername');
  return {
    host: hp.host,
    port: hp.port,
    serverName: explicitName ?? (isIP(hp.host) === 0 ? hp.host : undefined),
    ca,
    insecure,
    alpn: listOption(p.values, 'alpn') ?? [],
    checks,
    profile,
    format,
    out: stringOption(p.values, 'out'),
    seed,
    runs: intOption('audit server', p.values, 'runs', 1, 10000, 8),
    timeoutS: intOption('audit server', p.values, 'timeout', 1, 3600, 10),
    budgetS: intOption('audit server', p.values, 'budget', 1, 86400, 600),
    concurrency: intOption('audit server', p.values, 'concurrency', 1, 256, 8),
  };
}

async function auditServerCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseServerArgs(argv);
  if (a === 'help') {
    io.stdout(AUDIT_SERVER_HELP);
    return AUDIT_EXIT.ok;
  }
  const outDir = resolve(a.out ?? mkdtempSync(join(tmpdir(), 'tlschart-audit-')));
  await mkdir(outDir, { recursive: true });
  const target = tcpTarget(a.host, a.port);
  io.stderr(
    `tlschart audit server ${target.label}: profile ${a.profile}, --runs ${a.runs}, --seed ${a.seed}; traces and reports in ${outDir}\n`,
  );
  const report = await auditServer({
    target,
    serverName: a.serverName,
    alpn: a.alpn,
    ca: a.ca,
    insecure: a.insecure,
    profile: a.profile,
    runs: a.runs,
    timeoutMs: a.timeoutS * 1000,
    budgetMs: a.budgetS * 1000,
    concurrency: a.concurrency,
    seed: a.seed,
    settleMs: 250,
    outDir,
    checks: a.checks,
    progress: (line) => io.stderr(`${line}\n`),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  return publishReport(report, a.format, outDir, io);
}

/** `tlschart audit <command> ...`; usage errors are reported here with exit status 64. */
export async function auditCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout(AUDIT_HELP);
      return AUDIT_EXIT.ok;
    }
    if (sub === 'server') return await auditServerCommand(rest, io);
    if (sub === 'client') return await auditClientCommand(rest, io);
    throw new UsageError(
      sub === undefined
        ? 'audit needs a command: server or client'
        : `unknown audit command ${JSON.stringify(sub)} (audit server HOST:PORT, audit client --exec COMMAND)`,
    );
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tlschart: ${oneLine(e.message)}\n`);
      return AUDIT_EXIT.usage;
    }
    throw e;
  }
}
