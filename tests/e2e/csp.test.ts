// The board and the API docs work in real Chromium under the Content-Security-Policy Kept sends:
// no violation reported, the board goes live, swagger-ui lists the operations. Screenshots of both
// go to KEPT_SCREENSHOT_DIR (docs/screenshots with `npm run test:e2e`).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
let web: string;
let t: TestApp;
let base: string;
let browser: Browser;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser({ width: 1366, height: 768 });
  // The board is a team lead's (issue 10): signed in before the page opens.
  await useSession(browser, base, (await t.signIn('team-lead')).cookie);
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

/** Collects CSP violations the page reports (console and the securitypolicyviolation event). */
async function watchViolations(page: Page): Promise<string[]> {
  const found: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) found.push(m.text());
  });
  await page.exposeFunction('__keptViolation', (v: string) => found.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __keptViolation: (v: string) => void }).__keptViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return found;
}

describe('under the Content-Security-Policy', () => {
  it('the board loads, connects and draws with no violation', async () => {
    const page = await browser.context.newPage();
    const violations = await watchViolations(page);
    const response = await page.goto(base);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('[data-testid=connection][data-state=live]');
    await page.waitForTimeout(500);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('the API docs render their operations with no violation', async () => {
    const page = await browser.context.newPage();
    const violations = await watchViolations(page);
    const response = await page.goto(`${base}/docs`);
    expect(response?.status()).toBeLessThan(400);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    expect(await page.locator('.opblock-summary-path').count()).toBeGreaterThan(10);
    const csp = (await page.request.get(`${base}/docs/static/index.html`)).headers()['content-security-policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    await page.screenshot({ path: join(SHOTS, 'docs-under-csp.png') });
    expect(violations).toEqual([]);
    await page.close();
  });
});
