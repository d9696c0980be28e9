/**
 * The viewer in a real browser (Debian's chromium, driven by playwright-core):
 * step through a trace with the buttons and the keyboard and check, at every
 * step, which state of each chart is highlighted and which message of the
 * sequence chart is current. With CI=true the browser is required.
 * UPDATE_SCREENSHOTS=1 also writes traces/screenshots/viewer.png.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrace, type Trace } from './format.js';
import { viewerHtml } from './viewer.js';

const CHROMIUM = '/usr/bin/chromium';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function golden(name: string): Trace {
  const p = parseTrace(readFileSync(here(`./golden/${name}.json`), 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

let browser: BrowserContext | undefined;
afterAll(async () => {
  await browser?.close();
});

/** The browser, or a reason to skip (outside CI) — in CI a missing chromium fails. */
async function launch(skip: (note: string) => never): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true')
      throw new Error(`${CHROMIUM} is missing: the viewer test needs Debian package chromium (apt-get install chromium)`);
    skip('chromium not installed: apt-get install chromium');
  }
  // A temporary profile (--user-data-dir) of our own, given the way playwright wants it.
  browser ??= await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tlschart-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return browser;
}

async function open(b: BrowserContext, trace: Trace): Promise<Page> {
  const file = join(mkdtempSync(join(tmpdir(), 'tlschart-viewer-')), 'viewer.html');
  writeFileSync(file, await viewerHtml(trace));
  const page = await b.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
  return page;
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

/** Expected highlights, from the trace itself: every side's last stateAfter up to the step. */
function expectedStates(trace: Trace): Array<{ h: number; states: Record<string, string> }> {
  const out: Array<{ h: number; states: Record<string, string> }> = [];
  trace.handshakes.forEach((hs, h) => {
    const states: Record<string, string> = {};
    for (const s of hs.sides) states[s.role] = s.steps[0]?.stateBefore ?? s.outcome.state;
    const all = hs.sides.flatMap((s) => s.steps.map((step) => ({ role: s.role, step })));
    all.sort((a, b) => a.step.seq - b.step.seq || (a.step.direction === 'out' ? -1 : 1));
    for (const { role, step } of all) {
      states[role] = step.stateAfter;
      out.push({ h, states: { ...states } });
    }
  });
  return out;
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
