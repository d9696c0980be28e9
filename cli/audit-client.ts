/**
 * `tlschart audit client --exec 'COMMAND with {host} {port}'`: audit a
 * client's TLS 1.3 session resumption with a probing server
 * (audit/client/run.ts). Each check starts the command once; without --exec
 * the probing server listens and audits whatever connects, announcing on
 * standard error which check is armed. The report goes to standard output
 * (text, JSON, JUnit or SARIF), progress to standard error, and the traces,
 * every report format and an HTML index to --out.
 *
 * Exit status: 0 no failing finding, 1 failing findings, 2 inconclusive (the
 * client never connected, the address cannot be listened on), 64 usage.
 */

import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALL_PROBES, auditClient, FAMILIES, selectProbes } from '../audit/client/run.js';
import { execRunner, PLACEHOLDERS, placeholdersIn } from '../audit/client/runner.js';
import { AUDIT_EXIT, type Profile } from '../audit/findings.js';
import { parseHostPort } from '../audit/probe/target.js';
import { nobleProvider } from '../crypto/noble.js';
import type { CertifiedKey } from '../machines/types.js';
import { certifiedKey } from '../net/options.js';
import { generateSelfSigned } from '../pki/generate.js';
import { intOption, parse, stringOption } from './args.js';
import { type Format, publishReport, reportOptions } from './audit-report.js';
import { type CliIo, UsageError } from './io.js';

export const AUDIT_CLIENT_HELP = `Usage: tlschart audit client --exec 'COMMAND with {host} {port}' [options]
       tlschart audit client [--listen HOST:PORT] [options]

Audit a client's TLS 1.3 session resumption with a probing server that
behaves in one precise way per check: what the client offers when it
resumes, how it handles unusual tickets, and whether it refuses deviant
server replies with the alert RFC 8446 names. Every connection is recorded as
a tlschart trace of the client's side (its states inferred from what it sent)
in --out, with an HTML index linking each finding to the trace viewer.

With --exec, each check starts COMMAND once (sh -c, its own process group,
standard input an open pipe) and ends when it exits; COMMAND should connect
two or three times and resume (a full handshake, then the ticket it got).
Placeholders, filled in per check:
  {host} {port}     where the probing server listens
  {servername}      the name its certificate is for (SNI to send)
  {servername2}     a second name of the certificate: {servername} except in
                    offer.other-sni, where the later connections should use it
  {tmp}             a fresh directory per run (session files), removed after
  {cafile}          the certificate (PEM), for clients that verify it
Without --exec the probing server listens and audits whatever connects,
arming one check at a time and saying on standard error what it waits for.

Options:
  --exec COMMAND       the client command template (see above)
  --listen HOST:PORT   where to listen (default 127.0.0.1 on a free port
                       with --exec, 127.0.0.1:4433 without)
  --cert F --key F     the probing server's certificate chain and key (PEM;
                       default: a throwaway ECDSA P-256 certificate for
                       {servername}, {servername2} and 127.0.0.1)
  --servername NAME    {servername} (default localhost)
  --servername2 NAME   {servername2} (default other.localhost)
  --checks LIST        check families or probe ids, comma separated
                       (default: all; see the list below)
  --profile rfc|strict rfc (default) fails only RFC 8446 violations; strict
                       also fails what tlschart refuses by policy: psk_ke,
                       0-RTT, reused tickets, tickets kept past their limit
  --format F           text (default), json, junit or sarif on standard output
  --out DIR            where traces and reports go (default: a new directory
                       under the system's temp directory, printed)
  --timeout S          seconds per check (default 20 with --exec, 300 without)
  --age-tolerance MS   how far a claimed ticket age may be from the time
                       since the ticket was sent (default 2000)
  -h, --help           this text

Checks (families): ${FAMILIES.map((f) => f.id).join(', ')}
  ${ALL_PROBES.map((p) => p.id).join('\n  ')}

Output files in --out: report.json, report.junit.xml, report.sarif,
index.html, server-cert.pem, commands/<check>.log (the command's output) and
traces/<check>/*.json with a viewer page (*.html) beside each; 'tlschart
trace check|render|view' work on them.

Exit status: 0 no failing finding, 1 failing findings, 2 inconclusive (the
client never connected, the address cannot be listened on), 64 usage error.
`;

const OPTIONS = {
  exec: { type: 'string' },
  listen: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  servername: { type: 'string' },
  servername2: { type: 'string' },
  checks: { type: 'string' },
  profile: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  timeout: { type: 'string' },
  'age-tolerance': { type: 'string' },
} as const;

interface Parsed {
  exec: string | undefined;
  host: string;
  port: number;
  cert: { certPem: string; keyPem: string } | undefined;
  serverName: string;
  serverName2: string;
  checks: string[] | undefined;
  profile: Profile;
  format: Format;
  out: string | undefined;
  timeoutS: number;
  ageToleranceMs: number;
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`audit client: cannot read --${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseClientArgs(argv: readonly string[]): Parsed | 'help' {
  const p = parse('audit client', argv, OPTIONS, 0);
  if (p.values.help) return 'help';
  const exec = stringOption(p.values, 'exec');
  if (exec !== undefined) {
    if (exec.trim() === '') throw new UsageError('audit client: --exec needs a command');
    if (!exec.includes('{port}'))
      throw new UsageError(
        `audit client: the --exec command never uses {port}, so the client cannot find the probing server (placeholders: ${PLACEHOLDERS.map((n) => `{${n}}`).join(' ')})`,
      );
  }
  const listen = stringOption(p.values, 'listen') ?? (exec !== undefined ? '127.0.0.1:0' : '127.0.0.1:4433');
  const hp = /^[^:]+:0$/.test(listen) ? { host: listen.slice(0, -2), port: 0 } : parseHostPort(listen);
  if (!hp || isIP(hp.host) === 0)
    throw new UsageError(`audit client: --listen must be IP:PORT (e.g. 127.0.0.1:4433), got ${JSON.stringify(listen)}`);
  const certPath = stringOption(p.values, 'cert');
  const keyPath = stringOption(p.values, 'key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('audit client: --cert and --key go together');
  const cert =
    certPath !== undefined && keyPath !== undefined ? { certPem: readPem(certPath, 'cert'), keyPem: readPem(keyPath, 'key') } : undefined;
  const serverName = stringOption(p.values, 'servername') ?? 'localhost';
  const serverName2 = stringOption(p.values, 'servername2') ?? 'other.localhost';
  for (const [flag, n] of [
    ['servername', serverName],
    ['servername2', serverName2],
  ] as const) {
    if (!NAME.test(n) || isIP(n) !== 0) throw new UsageError(`audit client: --${flag} must be a DNS name, got ${JSON.stringify(n)}`);
  }
  if (serverName.toLowerCase() === serverName2.toLowerCase())
    throw new UsageError('audit client: --servername and --servername2 must differ');
  const { profile, format, checks } = reportOptions('audit client', p.values, { FAMILIES, selectProbes });
  return {
    exec,
    host: hp.host,
    port: hp.port,
    cert,
    serverName,
    serverName2,
    checks,
    profile,
    format,
    out: stringOption(p.values, 'out'),
    timeoutS: intOption('audit client', p.values, 'timeout', 1, 86400, exec !== undefined ? 20 : 300),
    ageToleranceMs: intOption('audit client', p.values, 'age-tolerance', 0, 3_600_000, 2000),
  };
}

async function certificate(a: Parsed): Promise<{ key: CertifiedKey; pem: string }> {
  if (a.cert) {
    try {
      return { key: certifiedKey(a.cert.certPem, a.cert.keyPem, 'audit client', nobleProvider), pem: a.cert.certPem };
    } catch (e) {
      throw new UsageError(`audit client: ${(e as Error).message}`);
    }
  }
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: [a.serverName, a.serverName2], ips: [a.host] });
  return { key: certifiedKey(g.certPem, g.keyPem, 'audit client', nobleProvider), pem: g.certPem };
}

export async function auditClientCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseClientArgs(argv);
  if (a === 'help') {
    io.stdout(AUDIT_CLIENT_HELP);
    return AUDIT_EXIT.ok;
  }
  const outDir = resolve(a.out ?? (await mkdtemp(join(tmpdir(), 'tlschart-audit-client-'))));
  await mkdir(outDir, { recursive: true });
  const cert = await certificate(a);
  const caFile = join(outDir, 'server-cert.pem');
  await writeFile(caFile, cert.pem);
  const runner = a.exec !== undefined ? execRunner(a.exec) : undefined;
  const used = a.exec !== undefined ? placeholdersIn(a.exec) : [];
  io.stderr(
    `tlschart audit client ${a.exec !== undefined ? `--exec ${JSON.stringify(a.exec)}` : `--listen ${a.host}:${a.port}`}: profile ${a.profile}; traces and reports in ${outDir}\n`,
  );
  if (a.exec !== undefined && !used.includes('servername2'))
    io.stderr('note: the command never uses {servername2}, so offer.other-sni will be inconclusive\n');
  const report = await auditClient({
    runner,
    listen: { host: a.host, port: a.port },
    certificate: cert.key,
    caFile,
    serverName: a.serverName,
    serverName2: a.serverName2,
    profile: a.profile,
    checks: a.checks,
    timeoutMs: a.timeoutS * 1000,
    settleMs: 250,
    reactMs: 3000,
    ageToleranceMs: a.ageToleranceMs,
    outDir,
    progress: (line) => io.stderr(`${line}\n`),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  return publishReport(report, a.format, outDir, io);
}
