// End to end in Chromium (issue 13): the reports page shows the week's phone figures per named queue
// in its own section under the phone figures: a repairs line and a rents line apart.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const QUEUES = JSON.stringify([
  { id: 'repairs', name: 'Repairs line', category: 'repair' },
  { id: 'rents', name: 'Rents line' },
]);

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web, KEPT_PHONE_QUEUES: QUEUES }, { now: () => NOW });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/ingest/telephony',
    headers: t.auth,
    payload: [
      { callId: 'R1', event: 'queued', at: '2026-03-02T09:00:00Z', queue: 'repairs' },
      { callId: 'R1', event: 'answered', at: '2026-03-02T09:01:00Z' },
      { callId: 'R2', event: 'queued', at: '2026-03-02T09:10:00Z', queue: 'repairs' },
      { callId: 'R2', event: 'answered', at: '2026-03-02T09:17:00Z' },
      { callId: 'N1', event: 'queued', at: '2026-03-03T11:00:00Z', queue: 'rents' },
      { callId: 'N1', event: 'abandoned', at: '2026-03-03T11:06:00Z' },
    ],
  });
  expect(r.statusCode, r.body).toBeLessThan(300);
  browser = await launchBrowser({ width: 1366, height: 900 });
  await browser.page.clock.setFixedTime(NOW);
  await useSession(browser, base, (await t.signIn('manager')).cookie);
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

describe('the reports page', () => {
  it('shows each named queue apart under the phone figures', async () => {
    const { page } = browser;
    await page.goto(`${base}/reports?week=2026-W10`);
    const section = page.getByTestId('phone-by-queue');
    await section.waitFor();
    await expect(section.getByRole('heading', { name: 'Phone by queue' }).count()).resolves.toBe(1);
    const rows = await section.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim() ?? '')));
    // Customer services had no call (a row of zeros); repairs 2 answered, one within 5 minutes (1 min, 7 min);
    // rents one call abandoned after 6 minutes.
    expect(rows.map((r) => r.slice(0, 7))).toEqual([
      ['Customer services', '0', '0', '0', '0', '0', '—'],
      ['Repairs line', '2', '2', '1', '0', '0', '50.0%'],
      ['Rents line', '1', '0', '0', '1', '0', '0.0%'],
    ]);
    // The section comes after the phone figures.
    const order = await page.evaluate(() => {
      const ids = [...document.querySelectorAll('h2')].map((h) => h.id);
      return [ids.indexOf('phone-h'), ids.indexOf('queues-h'), ids.indexOf('complaints-h')];
    });
    expect(order[0]).toBeLessThan(order[1]!);
    expect(order[1]).toBeLessThan(order[2]!);
    await section.screenshot({ path: join(SHOTS, 'report-phone-by-queue.png') });
  });
});
