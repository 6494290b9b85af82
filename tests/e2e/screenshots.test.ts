// The board with a realistic Tuesday afternoon on it, in wall mode at 1920×1080 and on a laptop at
// 1366×768. `npm run test:e2e` saves them to docs/screenshots (KEPT_SCREENSHOT_DIR); a plain
// `npm test` writes them to a temp folder, so it leaves the working tree alone. This file's process
// lives on that Tuesday (see shiftClock), so the real server computes "today" for it; the board
// follows the server's clock.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';
import { seedScene, shiftClock } from './scene.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
/** Tuesday 10 March 2026, 14:35 in London. */
const SCENE_NOW = Date.parse('2026-03-10T14:35:00Z');

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let restoreClock: () => void;

beforeAll(async () => {
  web = buildWeb();
  restoreClock = shiftClock(SCENE_NOW);
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  await seedScene(base, t.token, Date.now());
  browser = await launchBrowser({ width: 1920, height: 1080 });
  // The board is a team lead's (issue 10): signed in before the page opens.
  await useSession(browser, base, (await t.signIn('team-lead')).cookie);
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  restoreClock?.();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

describe('screenshots', () => {
  it('wall mode at 1920×1080 fits the screen without scrolling', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${base}/?wall=1`);
    await page.waitForSelector('[data-testid=connection][data-state=live]');
    await page.waitForSelector('[data-testid=urgent-row]');
    expect(await page.evaluate(() => document.documentElement.classList.contains('wall'))).toBe(true);
    await page.waitForTimeout(300); // the chart draws on the next frame
    const { scrollH, innerH } = await page.evaluate(() => ({ scrollH: document.documentElement.scrollHeight, innerH: innerHeight }));
    expect(scrollH).toBeLessThanOrEqual(innerH);
    await expect(page.getByTestId('busy-banner').textContent()).resolves.toContain('High volumes');
    await page.screenshot({ path: join(SHOTS, 'board-wall.png') });
  });

  it('laptop at 1366×768', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(base);
    await page.waitForSelector('[data-testid=connection][data-state=live]');
    await page.waitForSelector('[data-testid=urgent-row]');
    expect(await page.evaluate(() => document.documentElement.classList.contains('wall'))).toBe(false);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'board-laptop.png') });
  });
});
