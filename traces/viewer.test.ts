/**
 * The viewer in a real browser (Debian's chromium, driven by playwright-core):
 * step through a trace with the buttons and the keyboard and check, at every
 * step, which state of each chart is highlighted and which message of the
 * sequence chart is current. With CI=true the browser is required.
 * UPDATE_SCREENSHOTS=1 also writes traces/screenshots/viewer.png.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { parseTrace, type Trace } from './format.js';
import { expectedStates, viewerBrowser } from './testing/browser.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const { launch, open } = viewerBrowser();

function golden(name: string): Trace {
  const p = parseTrace(readFileSync(here(`./golden/${name}.json`), 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

interface Highlighted {
  step: number;
  active: string[];
  current: string[];
  position: string;
  title: string;
}

/** What the page highlights now (evaluated in the page; the project's TypeScript has no DOM types). */
async function highlighted(page: Page): Promise<Highlighted> {
  return (await page.evaluate(`(() => ({
    step: Number(document.body.getAttribute('data-step')),
    active: [...document.querySelectorAll('.active')].map((e) => e.id).sort(),
    current: [...document.querySelectorAll('.current')].map((e) => e.id),
    position: document.getElementById('position').textContent,
    title: document.getElementById('step-title').textContent,
  }))()`)) as Highlighted;
}

describe('trace viewer in a browser', () => {
  it('highlights, at every step, the active state of both charts and one current message', async (ctx) => {
    const b = await launch((note) => ctx.skip(note));
    const trace = golden('resumption');
    const expected = expectedStates(trace);
    const page = await open(b, trace);
    for (let i = 0; i < expected.length; i++) {
      const now = await highlighted(page);
      const want = expected[i]!;
      expect(now.step).toBe(i);
      expect(now.position).toBe(`${i + 1} / ${expected.length}`);
      expect(now.active).toEqual([`client-state-${want.states.client}`, `server-state-${want.states.server}`].sort());
      expect(now.current).toHaveLength(1);
      expect(now.current[0]).toMatch(new RegExp(`^seq-arrow-${want.h}-\\d+$`));
      await page.click('#next');
    }
    await page.close();
  });

  it('moves with the keyboard, stops at both ends, and follows the resumption into connected', async (ctx) => {
    const b = await launch((note) => ctx.skip(note));
    const trace = golden('resumption');
    const page = await open(b, trace);
    await page.keyboard.press('ArrowLeft');
    expect((await highlighted(page)).step).toBe(0);
    expect((await highlighted(page)).active).toEqual(['client-state-expectServerHello', 'server-state-expectClientHello']);
    await page.keyboard.press('End');
    const last = await highlighted(page);
    expect(last.active).toEqual(['client-state-connected', 'server-state-connected']);
    await page.keyboard.press('ArrowRight');
    expect((await highlighted(page)).step).toBe(last.step);
    await page.keyboard.press('Home');
    expect((await highlighted(page)).step).toBe(0);
    // In the resumption, the step where the client receives the server Finished: client connected,
    // server still waiting for the client Finished, and the current message is the server's Finished.
    const client = trace.handshakes[1]!.sides.find((s) => s.role === 'client')!;
    const fin = client.steps.find((s) => s.direction === 'in' && s.message?.type === 'finished')!;
    const index = expectedStates(trace).findIndex(
      (_, i) =>
        i >= trace.handshakes[0]!.sides.reduce((n, s) => n + s.steps.length, 0) && expectedStates(trace)[i]!.states.client === 'connected',
    );
    for (let i = 0; i < index; i++) await page.keyboard.press('ArrowRight');
    const at = await highlighted(page);
    expect(at.active).toEqual(['client-state-connected', 'server-state-expectClientFinished']);
    expect(at.title).toContain('client receives finished');
    const label = await page.textContent(`#${at.current[0]}`);
    expect(label).toBe('{Finished}');
    expect(fin.stateAfter).toBe('connected');
    const note = await page.locator('g.note').allTextContents();
    expect(note).toContain('Certificate, CertificateVerify skipped: PSK');
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: here('./screenshots/viewer.png') });
    await page.close();
  });
});

describe('the viewer on the trace `tlschart demo --trace` writes', () => {
  it('steps through both demo handshakes to the resumed connection, showing the skipped authentication', async (ctx) => {
    const b = await launch((note) => ctx.skip(note));
    const { main } = await import('../cli/main.js');
    const file = join(mkdtempSync(join(tmpdir(), 'tlschart-demo-')), 'demo.json');
    const out: string[] = [];
    const code = await main(['demo', '--trace', file], { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t) });
    expect(code, out.join('')).toBe(0);
    const parsed = parseTrace(readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.trace.handshakes).toHaveLength(2);
    const page = await open(b, parsed.trace);
    await page.keyboard.press('End');
    // The demo ends each connection with close_notify both ways.
    expect((await highlighted(page)).active).toEqual(['client-state-closed', 'server-state-closed']);
    // Back to the resumed server Finished arriving at the client.
    await page.keyboard.press('Home');
    const expected = expectedStates(parsed.trace);
    const first = parsed.trace.handshakes[0]!.sides.reduce((n, s) => n + s.steps.length, 0);
    const index = expected.findIndex((e, i) => i >= first && e.states.client === 'connected');
    for (let i = 0; i < index; i++) await page.keyboard.press('ArrowRight');
    const at = await highlighted(page);
    expect(at.active).toEqual(['client-state-connected', 'server-state-expectClientFinished']);
    expect(await page.locator('g.note').allTextContents()).toContain('Certificate, CertificateVerify skipped: PSK');
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: here('./screenshots/demo-viewer.png') });
    await page.close();
  });
});
