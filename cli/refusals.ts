/**
 * `tlschart refusals`: the one table of refusals (wire/refusals.ts) — every
 * reason tlschart ends a handshake with, with its alert, RFC section, keyword
 * and sentence — as text, JSON or Markdown. `--on-purpose` keeps the
 * behaviours tlschart refuses on purpose (the README's table is this output).
 */
import { REFUSALS, type Refusal, type RefusalReason } from '../wire/refusals.js';
import { parse } from './args.js';
import { type CliIo, UsageError } from './io.js';

export const REFUSALS_HELP = `Usage: tlschart refusals [--format text|json|markdown] [--on-purpose]

Print every refusal tlschart makes: the reason a TlsError carries, the alert
sent, the RFC section that calls for it, the keyword (MUST, SHOULD, MAY when the
RFC decides; policy when tlschart chooses; internal for a fault of its own) and
one sentence.

Options:
  --format F     text (default), json, or markdown
  --on-purpose   only what tlschart refuses on purpose (psk_ke, 0-RTT, stateless
                 and out-of-band PSKs, TLS 1.2), as the README shows it
  -h, --help     this help
`;

export interface RefusalRow extends Refusal {
  reason: RefusalReason;
}

export function refusalRows(onPurposeOnly = false): RefusalRow[] {
  return (Object.keys(REFUSALS) as RefusalReason[])
    .map((reason) => ({ reason, ...REFUSALS[reason] }))
    .filter((r) => !onPurposeOnly || r.onPurpose !== undefined);
}

const alertOf = (r: Refusal): string => r.alert ?? '(none)';
const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The refusals as a Markdown table; with `onPurpose`, the README's "Refused on purpose" table. */
export function refusalsMarkdown(onPurposeOnly = false): string {
  const rows = refusalRows(onPurposeOnly);
  if (onPurposeOnly) {
    const lines = ['| What | What tlschart does | Alert | RFC 8446 | Reason |', '|---|---|---|---|---|'];
    for (const r of rows)
      lines.push(
        `| ${cell(r.onPurpose ?? '')} | ${cell(r.sentence)} | ${r.alert ? `\`${r.alert}\`` : 'none'} | ${r.section} | \`${r.reason}\` |`,
      );
    return `${lines.join('\n')}\n`;
  }
  const lines = ['| Reason | Alert | Section | Keyword | Detected by | What |', '|---|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(`| \`${r.reason}\` | ${alertOf(r)} | ${r.section} | ${r.keyword} | ${r.detector} | ${cell(r.sentence)} |`);
  return `${lines.join('\n')}\n`;
}

function refusalsText(rows: RefusalRow[]): string {
  const w = (k: (r: RefusalRow) => string) => Math.max(...rows.map((r) => k(r).length));
  const wr = w((r) => r.reason);
  const wa = w(alertOf);
  const ws = w((r) => r.section);
  const wk = w((r) => r.keyword);
  const head = `${'reason'.padEnd(wr)}  ${'alert'.padEnd(wa)}  ${'section'.padEnd(ws)}  ${'keyword'.padEnd(wk)}  sentence`;
  const body = rows.map(
    (r) => `${r.reason.padEnd(wr)}  ${alertOf(r).padEnd(wa)}  ${r.section.padEnd(ws)}  ${r.keyword.padEnd(wk)}  ${r.sentence}`,
  );
  return `${[head, ...body].join('\n')}\n${rows.length} refusals\n`;
}

export async function refusalsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse('refusals', argv, { format: { type: 'string' }, 'on-purpose': { type: 'boolean' } }, 0);
  if (values.help) {
    io.stdout(REFUSALS_HELP);
    return 0;
  }
  const format = (values.format as string | undefined) ?? 'text';
  const onPurpose = values['on-purpose'] === true;
  const rows = refusalRows(onPurpose);
  switch (format) {
    case 'text':
      io.stdout(refusalsText(rows));
      return 0;
    case 'json':
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    case 'markdown':
      io.stdout(refusalsMarkdown(onPurpose));
      return 0;
    default:
      throw new UsageError(`refusals: unknown format ${JSON.stringify(format)} (text, json or markdown)`);
  }
}
