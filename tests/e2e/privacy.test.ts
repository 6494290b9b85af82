// End to end in Chromium (issue 17): an admin finds a person by phone (typed in another format than
// stored), downloads the printable subject access export, sees a legal hold refuse erasure, releases
// it and erases — all from the keyboard. Screenshots of the page and of the export (docs/screenshots
// with KEPT_SCREENSHOT_DIR, else a temp folder). Every name, email and phone here is fictional
// (example.org, Ofcom's 07700 900xxx drama range).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let admin: SignedIn;
const person = { name: 'Alex Example', email: 'alex.example@example.org', phone: '07700 900321', reference: 'TEN-000321', address: '3 Sample Street, Exampletown' };

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web }); // the retention job as deployed: it catches up at start (nothing is due here)
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  for (const s of [person.email, person.phone, '+44 7700 900321', '07700900321', person.name]) recordSecret(s);
  admin = await t.signIn('admin', { email: 'dana.admin@staff.example.org', name: 'Dana Admin' });
  const now = Date.now();
  const at = now - 40 * DAY;
  const make = (body: Parameters<TestApp['service']['createContact']>[0]) => t.service.createContact(body);
  await make({ channel: 'phone', externalId: 'alex-call', receivedAt: iso(at), customer: { name: person.name, phone: '+44 7700 900321' }, events: [{ type: 'answered', at: iso(at + 120_000) }] });
  await make({ channel: 'email', externalId: '<alex-1@mail.example.org>', receivedAt: iso(at + DAY), customer: { name: person.name, email: person.email, phone: person.phone }, subject: 'Boiler making a noise', summary: 'The boiler bangs when the heating comes on.', events: [{ type: 'replied', at: iso(at + DAY + 3 * HOUR) }] });
  await make({ channel: 'webform', category: 'complaint', externalId: 'alex-form', receivedAt: iso(at + 2 * DAY), customer: { ...person, accessibilityNeeds: 'Large print' }, subject: 'Repair not completed', summary: 'The boiler repair was not finished.', events: [{ type: 'acknowledged', at: iso(at + 2 * DAY + HOUR), reference: 'CMP-2026-000001', owner: 'case.officer@staff.example.org' }, { type: 'resolved', at: iso(at + 9 * DAY) }] });
  await make({ channel: 'phone', externalId: 'sam-call', receivedAt: iso(at), customer: { name: 'Sam Example', phone: '07700 900654' }, events: [{ type: 'answered', at: iso(at + 60_000) }] });
  browser = await launchBrowser({ width: 1366, height: 900 });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

describe('an admin in Chromium', () => {
  it('finds a person by phone, exports, is refused under a hold, releases it and erases — from the keyboard', async () => {
    const { page } = browser;
    await useSession(browser, base, admin.cookie);
    await page.goto(`${base}/privacy`);
    await page.getByRole('heading', { name: 'Personal data' }).waitFor();
    expect(page.url()).toBe(`${base}/privacy`);

    // Search by phone, typed in international form (stored as +44 7700 900321 and 07700 900321).
    await page.getByLabel('Search by').focus();
    await page.keyboard.press('ArrowDown'); // Email address → Phone number
    await page.keyboard.press('Tab');
    await page.keyboard.type('+447700900321');
    await page.keyboard.press('Enter');
    const rows = page.getByRole('table').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(3);
    expect(await page.getByRole('table').textContent()).not.toContain('Sam Example');
    expect(new URL(page.url()).search).toBe(''); // the value never in the address bar
    await page.getByRole('heading', { name: 'Retention schedule' }).waitFor();
    await page.getByText(/months after a contact closed/).first().waitFor();
    await page.getByText(/daily \(cron 15 2 \* \* \*\) and at every start/).waitFor();
    await page.screenshot({ path: join(SHOTS, 'privacy-person.png'), fullPage: true });

    // axe-core finds no WCAG A/AA violation on the page with its results, forms and tables.
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(axeSource);
    const audit = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: Array<{ id: string; nodes: unknown[] }>; passes: unknown[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return { violations: r.violations.map((v) => `${v.id} (${v.nodes.length})`), passes: r.passes.length };
    });
    expect(audit.violations).toEqual([]);
    expect(audit.passes).toBeGreaterThan(10); // the rules did run

    // The printable export, downloaded from the keyboard.
    await page.getByRole('button', { name: 'Download printable page' }).focus();
    const [file] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(file.suggestedFilename()).toMatch(/^subject-access-\d{4}-\d\d-\d\d\.html$/);
    const saved = join(SHOTS, '..', `.export-${process.pid}.html`);
    await file.saveAs(saved);
    const html = readFileSync(saved, 'utf8');
    rmSync(saved);
    expect(html).toContain('Alex Example');
    expect(html).toContain('Our deadlines');
    // How it looks (a second tab, the page as saved: no server, no script).
    const view = await browser.context.newPage();
    await view.setContent(html);
    await view.setViewportSize({ width: 900, height: 1100 });
    await view.screenshot({ path: join(SHOTS, 'subject-access-export.png'), fullPage: true });
    await view.close();

    // A legal hold on the selection: erasure is refused while it stands.
    await page.getByLabel('Why the data must be kept').focus();
    await page.keyboard.type('Housing Ombudsman case 2026-0042');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Legal hold placed on 3 contacts.' }).waitFor();
    await page.getByRole('note').filter({ hasText: 'Erasure is refused while this stands: Legal hold (on 3 of the selected contacts).' }).waitFor();
    expect(await page.getByRole('button', { name: /^Erase 3 contacts$/ }).isDisabled()).toBe(true);
    // Release the hold on each contact (buttons reached by Tab and pressed with Enter).
    for (let i = 0; i < 3; i++) {
      await page.getByRole('button', { name: /^Release/ }).first().focus();
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Legal hold released.' }).waitFor();
      await expect.poll(() => page.getByRole('button', { name: /^Release/ }).count()).toBe(2 - i);
    }

    // Erase: reason, approver, the confirmation, then the button.
    await page.getByLabel(/^Reason/).focus();
    await page.keyboard.type('Erasure request received 1 Dec 2026, ref ER-0007');
    await page.keyboard.press('Tab');
    await page.keyboard.type('dpo@staff.example.org');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Erase 3 contacts');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Erased: 3 contacts anonymised.' }).waitFor();
    // The person is no longer found; the other person with the same surname is.
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toContain('No contact holds that phone number.');
    await page.screenshot({ path: join(SHOTS, 'privacy-erased.png'), fullPage: true });
    const other = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/search', headers: admin.headers, payload: { kind: 'name', value: 'example' } });
    expect((other.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['Sam Example']);
  });
});
