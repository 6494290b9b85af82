// The settings page in Chromium (issue 11): a team lead puts a message on every board and adds an
// alert rule (its Slack address shown masked from then on); an admin sets a public notice, saves a
// board and chooses what a wall display shows. axe-core finds no serious or critical violation.
// Screenshots: docs/screenshots/settings-*.png with KEPT_SCREENSHOT_DIR, else a temp folder.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';
import { axeViolations } from './axe.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
const SLACK = 'https://hooks.slack.com/services/T0KEPT/B0KEPT/kdSettingsSecret9Q';

let web: string;
let t: TestApp;
let base: string;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  recordSecret('kdSettingsSecret9Q');
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

async function as(role: 'team-lead' | 'admin', name: string): Promise<Browser> {
  const browser = await launchBrowser({ width: 1366, height: 900 }, { bypassCSP: true });
  const who = await t.signIn(role, { name });
  await useSession(browser, base, who.cookie);
  await browser.page.goto(`${base}/settings`);
  await browser.page.getByRole('heading', { name: 'Settings' }).waitFor();
  return browser;
}

describe('the settings page', () => {
  it('a team lead puts a message on every board and adds an alert rule', async () => {
    const browser = await as('team-lead', 'Tia Lead');
    const { page } = browser;
    try {
      await page.getByLabel('New message').fill('Phones down at 14:00: take messages by hand');
      await page.getByRole('button', { name: 'Put on every board' }).click();
      await page.getByText('The message is on every board.').waitFor();
      await page.getByText('“Phones down at 14:00: take messages by hand”').waitFor();
      expect(t.app.boardMessages.current()?.text).toBe('Phones down at 14:00: take messages by hand');

      const rules = page.getByRole('region', { name: 'Alert rules' });
      await rules.getByLabel('Name', { exact: true }).fill('Complaints floor');
      await rules.getByLabel('When').selectOption('calls-waiting');
      await rules.getByLabel('Threshold (calls)').fill('10');
      await rules.getByLabel('Email to (comma-separated)').fill('floor.leads@example.org');
      await rules.getByLabel('Slack webhook address').fill(SLACK);
      await rules.getByRole('button', { name: 'Add rule' }).click();
      await page.getByText('Rule “Complaints floor” added.').waitFor();
      await rules.getByText(`Calls waiting above 10 → email to floor.leads@example.org; Slack https://hooks.slack.com/…${SLACK.slice(-4)}.`, { exact: false }).waitFor();
      expect(await page.content()).not.toContain('kdSettingsSecret9Q');

      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'settings-team-lead.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('an admin sets a public notice, saves a board and chooses what a display shows', async () => {
    const display = await t.openDisplay('Repairs wall');
    const browser = await as('admin', 'Ada Admin');
    const { page } = browser;
    try {
      await page.getByLabel('Title').fill('Our phone lines are down');
      await page.getByLabel('Message', { exact: true }).fill('We are fixing it. You can still send us a message with this form.');
      await page.getByLabel('Ends').fill(new Date(Date.now() + 3 * 3_600_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
      await page.getByRole('button', { name: 'Set notice' }).click();
      await page.getByText('Notice “Our phone lines are down” set.').waitFor();
      const status = (await (await fetch(`${base}/api/v1/status/public`)).json()) as { notice: { title: string } | null };
      expect(status.notice?.title).toBe('Our phone lines are down');

      await page.getByLabel('Name', { exact: true }).fill('Repairs');
      await page.getByLabel('Team', { exact: true }).fill('Repairs team');
      await page.getByLabel('Categories (comma-separated)').fill('repair, emergency-repair');
      await page.getByRole('checkbox', { name: 'phone' }).check();
      await page.getByRole('button', { name: 'Save board' }).click();
      await page.getByText('Board “Repairs” saved.').waitFor();

      const form = page.locator('form.display');
      await form.getByRole('checkbox', { name: 'Repairs' }).check();
      await form.getByLabel('Seconds each').fill('45');
      await form.getByRole('button', { name: 'Save for Repairs wall' }).click();
      await page.getByText('Repairs wall shows one board.').waitFor();
      const seen = (await t.app.inject({ method: 'GET', url: '/api/v1/boards', headers: { cookie: display.cookie } })).json() as { items: Array<{ id: number; filter: { channels: string[]; categories: string[] } }>; rotation: { boards: number[]; seconds: number } };
      expect(seen.items[0]!.filter).toEqual({ queues: [], channels: ['phone'], categories: ['repair', 'emergency-repair'] });
      expect(seen.rotation).toEqual({ boards: [seen.items[0]!.id], seconds: 45 });

      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'settings-admin.png'), fullPage: true });

      // The contact form shows the notice.
      await page.goto(`${base}/forms/contact`);
      await page.getByRole('heading', { name: 'Our phone lines are down' }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'contact-form-notice.png') });
    } finally {
      await browser.close();
    }
  });
});
