/**
 * An imported capture in the trace viewer (Debian's chromium, driven by
 * playwright-core, as traces/viewer.test.ts does): every step highlights the
 * states the trace gives both sides and one message; the resumed connection
 * shows the authentication it skipped. With CI=true the browser is required.
 * UPDATE_SCREENSHOTS=1 also writes traces/screenshots/import-viewer.png (the
 * README shows it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectedStates, viewerBrowser } from '../testing/browser.js';
import { importCapture } from './index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const { launch, open } = viewerBrowser();

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
    const page = await open(b, r.trace);
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
      expect(at.active).toEqual([`client-state-${want.states.client}`, `server-state-${want.states.server}`].sort());
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
