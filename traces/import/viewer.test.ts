/**
 * An imported capture in the trace viewer (Debian's chromium, driven by
 * playwright-core, as traces/viewer.test.ts does): every step highlights the
 * states the trace gives both sides and one message; the resumed connection
 * shows the authentication it skipped. With CI=true the browser is required.
 * UPDATE_SCREENSHOTS=1 also writes traces/screenshots/import-viewer.png (the
 * README shows it).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trace } from '../format.js';
import { viewerHtml } from '../viewer.js';
import { importCapture } from './index.js';

const CHROMIUM = '/usr/bin/chromium';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

let browser: BrowserContext | undefined;
afterAll(async () => {
  await browser?.close();
});

async function launch(skip: (note: string) => never): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true')
      throw new Error(`${CHROMIUM} is missing: the viewer test needs Debian package chromium (apt-get install chromium)`);
    skip('chromium not installed: apt-get install chromium');
  }
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

/** Each side's state after every step, in the order the viewer steps (by seq, sent before received). */
function expectedStates(trace: Trace): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const hs of trace.handshakes) {
    const states: Record<string, string> = {};
    for (const s of hs.sides) states[s.role] = s.steps[0]?.stateBefore ?? s.outcome.state;
    const all = hs.sides.flatMap((s) => s.steps.map((step) => ({ role: s.role, step })));
    all.sort((a, b) => a.step.seq - b.step.seq || (a.step.direction === 'out' ? -1 : 1));
    for (const { role, step } of all) {
      states[role] = step.stateAfter;
      out.push({ ...states });
    }
  }
  return out;
}

describe('the viewer on an imported capture', () => {
  it('steps through both captured connections, both sides, to the resumed client receiving the server Finished', async (ctx) => {
    const b = await launch((note) => ctx.skip(note));
    const name = 'openssl-resumption';
    const r = importCapture(
      new Uint8Array(readFileSync(here(`./fixtures/${name}.pcapng`))),
      readFileSync(here(`./fixtures/${name}.keys`), 'utf8'),
      {
        captureName: `${name}.pcapng`,
        keylogName: `${name}.keys`,
      },
    );
    if (!r.ok) throw new Error(r.error);
    const file = join(mkdtempSync(join(tmpdir(), 'tlschart-import-viewer-')), 'viewer.html');
    writeFileSync(file, await viewerHtml(r.trace));
    const page = await b.newPage();
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(file).href);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    const now = async () =>
      (await page.evaluate(`(() => ({
        active: [...document.querySelectorAll('.active')].map((e) => e.id).sort(),
        current: [...document.querySelectorAll('.current')].map((e) => e.id),
        title: document.getElementById('step-title').textContent,
        heading: document.querySelector('header h1').textContent,
      }))()`)) as { active: string[]; current: string[]; title: string; heading: string };
    const expected = expectedStates(r.trace);
    expect((await now()).heading).toBe('tlschart · imported from openssl-resumption.pcapng');
    let resumedFinished = -1;
    for (const [i, want] of expected.entries()) {
      const at = await now();
      expect(at.active).toEqual([`client-state-${want.client}`, `server-state-${want.server}`].sort());
      expect(at.current).toHaveLength(1);
      if (resumedFinished < 0 && at.title.startsWith('2. ') && at.title.endsWith('client receives finished')) resumedFinished = i;
      await page.keyboard.press('ArrowRight');
    }
    expect(resumedFinished).toBeGreaterThan(0);
    await page.keyboard.press('Home');
    for (let i = 0; i < resumedFinished; i++) await page.keyboard.press('ArrowRight');
    const at = await now();
    expect(at.active).toEqual(['client-state-connected', 'server-state-expectClientFinished']);
    expect(await page.textContent(`#${at.current[0]}`)).toBe('{Finished}');
    expect(await page.locator('g.note').allTextContents()).toContain('Certificate, CertificateVerify skipped: PSK');
    expect(await page.textContent('#step-detail')).toContain('guard isServerFinishedValid: true');
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: here('../screenshots/import-viewer.png') });
    await page.close();
  });
});
