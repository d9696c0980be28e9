/**
 * Headless Chromium (Debian `chromium`, driven by playwright-core) against
 * `tlschart serve --www`, in-process: Chromium sends an X25519MLKEM768 share
 * next to its x25519 one in every ClientHello, so a default tlschart server
 * answers with the hybrid. Two page loads: the second one comes on a new
 * connection (the server closes after each answer) and resumes with the ticket
 * of the first (psk_dhe_ke, a fresh hybrid share). Checked on the server side:
 * its log, the page it served and its trace. With CI=true the browser is required.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiatedGroups } from '../traces/sequence.js';
import { makeTempDir, type TempDir } from './peers.js';
import { helloRetries, offeredShares, withServe } from './serve-www.js';

const CHROMIUM = '/usr/bin/chromium';
let tmp: TempDir;

beforeAll(async () => {
  tmp = await makeTempDir('tlschart-chromium-test-');
});
afterAll(async () => {
  await tmp.remove();
});

/** A fresh browser profile each time, so no session from an earlier run is offered. */
async function withBrowser(skip: (note: string) => never, body: (b: BrowserContext) => Promise<void>): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true')
      throw new Error(`${CHROMIUM} is missing: this test needs Debian package chromium (apt-get install chromium)`);
    skip('chromium not installed: apt-get install chromium');
  }
  const profile = mkdtempSync(join(tmpdir(), 'tlschart-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--ignore-certificate-errors',
    ],
  });
  try {
    await body(browser);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Two page loads; the text of each page (the --www page: protocol, cipher, group, resumed). */
/**
 * Loads pages until one arrives over a resumed connection (at most four). The server closes the
 * connection after each response; Chromium may also have opened a speculative connection before
 * the first tickets arrived, which then carries the next page in full — so "the second load
 * resumes" is not a promise Chromium makes, "a later load resumes" is.
 */
async function twoLoads(browser: BrowserContext, origin: string): Promise<string[]> {
  const page = await browser.newPage();
  const texts: string[] = [];
  for (const path of ['/first', '/second', '/third', '/fourth']) {
    const response = await page.goto(`${origin}${path}`);
    expect(response?.status()).toBe(200);
    texts.push((await response?.text()) ?? '');
    if (texts.length >= 2 && /Session resumed: yes/.test(texts.at(-1) ?? '')) break;
  }
  await page.close();
  return texts;
}

/** Failures in the server log other than a connection the browser closed before its handshake (a preconnect it did not need). */
const realFailures = (log: string): string[] =>
  log.split('\n').filter((l) => /failed:/.test(l) && !/ConnectionClosedDuringHandshake/.test(l));

describe('Chromium headless → tlschart serve --www', () => {
  it('negotiates X25519MLKEM768 for a full connection and for the resumed one', async (ctx) => {
    await withBrowser(
      (note) => ctx.skip(note),
      async (browser) => {
        let pages: string[] = [];
        const { log, trace } = await withServe(tmp, [], async (origin) => {
          pages = await twoLoads(browser, origin);
        });
        expect(pages[0]).toMatch(/Group: X25519MLKEM768\nSession resumed: no\n/);
        expect(pages.at(-1)).toMatch(/Group: X25519MLKEM768\nSession resumed: yes\n/);
        // Every connection Chromium opened used the hybrid; at least one full and one resumed.
        const conns = [...log.matchAll(/^conn \d+ \S+ (full|resumed) TLS_\w+ (\S+) sni=localhost/gm)];
        expect(conns.length).toBeGreaterThanOrEqual(2);
        expect(new Set(conns.map((m) => m[2]))).toEqual(new Set(['X25519MLKEM768']));
        expect(conns.map((m) => m[1])).toContain('full');
        expect(conns.map((m) => m[1])).toContain('resumed');
        expect(realFailures(log)).toEqual([]);
        // The ClientHellos carried both shares (0x11ec and 0x001d, whatever else) and needed no retry.
        for (const shares of offeredShares(trace)) expect(shares).toEqual(expect.arrayContaining(['11ec', '1d']));
        expect(helloRetries(trace).every((r) => !r)).toBe(true);
        expect(new Set(negotiatedGroups(trace))).toEqual(new Set(['X25519MLKEM768']));
      },
    );
  });

  it('falls back to x25519 when the server does not take the hybrid: the 1216-byte share is ignored, no HelloRetryRequest', async (ctx) => {
    await withBrowser(
      (note) => ctx.skip(note),
      async (browser) => {
        let pages: string[] = [];
        const { trace } = await withServe(tmp, ['--groups', 'x25519,P-256'], async (origin) => {
          pages = await twoLoads(browser, origin);
        });
        expect(pages[0]).toMatch(/Group: x25519\nSession resumed: no\n/);
        expect(pages.at(-1)).toMatch(/Group: x25519\nSession resumed: yes\n/);
        expect(helloRetries(trace).every((r) => !r)).toBe(true);
        expect(new Set(negotiatedGroups(trace))).toEqual(new Set(['x25519']));
      },
    );
  });
});
