import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REFUSALS } from '../wire/refusals.js';
import { main } from './main.js';
import { refusalsMarkdown } from './refusals.js';
import { capture } from './testing/capture.js';

describe('tlschart refusals', () => {
  it('lists every refusal of the table as JSON, each with its alert, section and keyword', async () => {
    const io = capture();
    expect(await main(['refusals', '--format', 'json'], io)).toBe(0);
    const rows = JSON.parse(io.out) as Array<{ reason: string; alert: string | null; section: string; keyword: string; sentence: string }>;
    expect(rows.map((r) => r.reason)).toEqual(Object.keys(REFUSALS));
    expect(rows.find((r) => r.reason === 'IncorrectBinder')).toMatchObject({
      alert: 'decrypt_error',
      section: '§4.2.11.2',
      keyword: 'MUST',
    });
    expect(rows.find((r) => r.reason === 'PskKeOnlyIgnored')).toMatchObject({ alert: null, keyword: 'policy' });
    for (const r of rows) {
      expect(r.section, r.reason).toMatch(/§|Appendix/);
      expect(['MUST', 'SHOULD', 'MAY', 'policy', 'internal'], r.reason).toContain(r.keyword);
      expect(r.sentence.length, r.reason).toBeGreaterThan(10);
    }
  });

  it('prints a text table by default and refuses an unknown format as bad usage', async () => {
    const io = capture();
    expect(await main(['refusals'], io)).toBe(0);
    expect(io.out).toMatch(/^reason\s+alert\s+section\s+keyword\s+sentence\n/);
    expect(io.out).toMatch(/\nSecondHelloAddedPsk\s+illegal_parameter\s+§4\.1\.2\s+MUST\s+/);
    expect(io.out).toContain(`${Object.keys(REFUSALS).length} refusals`);
    const bad = capture();
    expect(await main(['refusals', '--format', 'xml'], bad)).toBe(2);
    expect(bad.err).toMatch(/unknown format "xml"/);
  });

  it('is the source of the README table "Refused on purpose"', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- refusals:on-purpose:begin -->\n([\s\S]*?)<!-- refusals:on-purpose:end -->/.exec(readme)?.[1];
    expect(block).toBe(refusalsMarkdown(true));
  });
});
