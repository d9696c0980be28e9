/**
 * What `tlschart audit server` and `tlschart audit client` share: the report
 * options (--checks, --profile, --format), the report on standard output and
 * every format written to --out, and the exit status with its one-line
 * summary on standard error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUDIT_EXIT, type AuditReport, exitStatus, PROFILES, type Profile } from '../audit/findings.js';
import { jsonReport, junitReport, sarifReport } from '../audit/report/formats.js';
import { writeHtmlReport } from '../audit/report/html.js';
import { textReport } from '../audit/report/text.js';
import { listOption, type Parsed, stringOption } from './args.js';
import { type CliIo, UsageError } from './io.js';

export const FORMATS = ['text', 'json', 'junit', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** The check selection of one audit command: its families and how it tells unknown names. */
export interface CheckCatalogue {
  readonly FAMILIES: readonly { id: string }[];
  selectProbes(names: readonly string[] | undefined): { unknown: string[] };
}

/** --profile, --format and --checks, each refused with a usage error naming `command` when it is not one the audit knows. */
export function reportOptions(
  command: string,
  values: Parsed['values'],
  catalogue: CheckCatalogue,
): { profile: Profile; format: Format; checks: string[] | undefined } {
  const profile = stringOption(values, 'profile') ?? 'rfc';
  if (!(PROFILES as readonly string[]).includes(profile))
    throw new UsageError(`${command}: --profile must be rfc or strict, got ${JSON.stringify(profile)}`);
  const format = stringOption(values, 'format') ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`${command}: --format must be ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const checks = listOption(values, 'checks');
  if (checks) {
    const { unknown } = catalogue.selectProbes(checks);
    if (unknown.length > 0)
      throw new UsageError(
        `${command}: unknown check ${unknown.map((u) => JSON.stringify(u)).join(', ')} (families: ${catalogue.FAMILIES.map((f) => f.id).join(', ')})`,
      );
  }
  return { profile: profile as Profile, format: format as Format, checks };
}

/** The report in `format`, for standard output. */
export function render(report: AuditReport, format: Format, outDir: string): string {
  switch (format) {
    case 'text':
      return textReport(report, outDir);
    case 'json':
      return jsonReport(report);
    case 'junit':
      return junitReport(report);
    case 'sarif':
      return sarifReport(report, pathToFileURL(outDir).href);
  }
}

/** Write every report format and the HTML index to `outDir`. */
export async function writeReports(report: AuditReport, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'report.json'), jsonReport(report));
  await writeFile(join(outDir, 'report.junit.xml'), junitReport(report));
  await writeFile(join(outDir, 'report.sarif'), sarifReport(report, pathToFileURL(outDir).href));
  await writeHtmlReport(report, outDir);
}

/**
 * The end of an audit command: every report written to `outDir`, the one in
 * `format` on standard output, a one-line summary on standard error; the exit
 * status (0 no failing finding, 1 failing findings, 2 inconclusive).
 */
export async function publishReport(report: AuditReport, format: Format, outDir: string, io: CliIo): Promise<number> {
  await writeReports(report, outDir);
  io.stdout(render(report, format, outDir));
  const status = exitStatus(report);
  io.stderr(
    `${status === AUDIT_EXIT.ok ? 'no failing finding' : status === AUDIT_EXIT.failing ? `${report.counts.fail} failing finding(s)` : `inconclusive: ${report.inconclusive}`}; ${join(outDir, 'index.html')}\n`,
  );
  return status;
}
