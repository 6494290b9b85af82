// Awaab's Law in Chromium: an advisor opens an email whose words suggest damp and mould, sees the
// suggestion (no legal clock yet), confirms it, and the hazard's investigation clock appears beside
// LiveWest's reply clock with its rule and "why is this due then?" in whole working days. Screenshots
// (docs/screenshots with KEPT_SCREENSHOT_DIR, else a temp folder): awaab-suggestion.png, awaab-confirmed.png.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, postJson, ROOT, useSession, type Browser, type CreatedContact } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let ann: SignedIn;
let id: string;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  ann = await t.signIn('advisor', { email: 'ann.advisor@staff.example.org', name: 'Ann Advisor', queues: ['customer-services'] });
  id = (
    await postJson<CreatedContact>(base, t.token, '/api/v1/contacts', {
      channel: 'email',
      externalId: 'e2e-awaab-mould',
      receivedAt: new Date(Date.now() - 40 * 60_000).toISOString(),
      subject: 'Black mould in the bedroom',
      summary: 'There is condensation on the windows every morning and black mould behind the wardrobe. My daughter has asthma.',
      customer: { name: 'Priya Sample', vulnerability: 'Child with asthma in the home' },
      events: [{ type: 'assigned', at: new Date(Date.now() - 35 * 60_000).toISOString(), assignee: 'ann.advisor@staff.example.org' }],
    })
  ).id;
  browser = await launchBrowser({ width: 1366, height: 900 });
  mkdirSync(SHOTS, { recursive: true });
  await useSession(browser, base, ann.cookie);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

describe("Awaab's Law on the contact page", () => {
  it('shows the suggestion without a clock; confirming it starts the investigation clock, explained in working days', async () => {
    const { page } = browser;
    await page.goto(`${base}/contacts/${id}`);
    const panel = page.getByRole('region', { name: "Possible hazard (Awaab's Law)" });
    await panel.waitFor();
    expect(await panel.textContent()).toContain('mould, condensation');
    // Only LiveWest's reply clock so far: a suggestion starts no legal clock.
    expect(await page.locator('article.clock').evaluateAll((els) => els.map((e) => e.getAttribute('data-standard')))).toEqual(['email-reply']);
    await page.screenshot({ path: join(SHOTS, 'awaab-suggestion.png'), fullPage: true });

    await panel.getByRole('button', { name: 'Confirm significant hazard' }).click();
    const clock = page.locator('article.clock[data-standard="awaab-significant-investigate"]');
    await clock.waitFor();
    expect(await clock.textContent()).toContain('Significant hazard: investigate within 10 working days of the report');
    // Due at local midnight: said as the end of the 10th working day, not as 00:00 the day after.
    expect((await clock.locator('.due').textContent())?.trim()).toMatch(/^Due the end of \w{3}, \d{1,2} \w{3} \d{4}$/);
    await page.getByRole('status').filter({ hasText: 'Hazard confirmed' }).waitFor();
    await clock.getByText('Why is this due then?').click();
    await clock.getByText(/working day 10/).waitFor();
    expect(await page.getByRole('region', { name: "Significant hazard (Awaab's Law)" }).getByRole('button', { name: 'Raise to emergency hazard' }).isVisible()).toBe(true);
    // What happened: the confirmation with who did it.
    expect(await page.getByRole('region', { name: 'What happened' }).textContent()).toMatch(/Recategorised as hazard-significant\s*by ann\.advisor@staff\.example\.org/);
    await page.screenshot({ path: join(SHOTS, 'awaab-confirmed.png'), fullPage: true });
  });
});
