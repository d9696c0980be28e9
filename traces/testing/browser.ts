/**
 * The trace viewer in a real browser, for the viewer tests: Debian's
 * chromium driven by playwright-core, one headless instance per test file
 * (closed after its tests), a page per trace, and the highlights a trace
 * predicts at every step. Outside CI a missing chromium skips the test,
 * naming the package; with CI=true it fails.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, expect } from 'vitest';
import type { Trace } from '../format.js';
import { viewerHtml } from '../viewer.js';

const CHROMIUM = '/usr/bin/chromium';

export interface ViewerBrowser {
  /** The browser, or a reason to skip (outside CI) — in CI a missing chromium fails. */
  launch(skip: (note: string) => never): Promise<BrowserContext>;
  /** The viewer page of `trace`, which loads nothing but its own file. */
  open(b: BrowserContext, trace: Trace): Promise<Page>;
}

/** Call at the top level of a test file: the browser is started on first use and closed after the file's tests. */
export function viewerBrowser(): ViewerBrowser {
  let browser: BrowserContext | undefined;
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async launch(skip) {
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
    },
    async open(b, trace) {
      const file = join(mkdtempSync(join(tmpdir(), 'tlschart-viewer-')), 'viewer.html');
      writeFileSync(file, await viewerHtml(trace));
      const page = await b.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      return page;
    },
  };
}

/**
 * Expected highlights, from the trace itself: after every step (in the order
 * the viewer steps: by seq, sent before received), its handshake and every
 * side's last stateAfter.
 */
export function expectedStates(trace: Trace): Array<{ h: number; states: Record<string, string> }> {
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
