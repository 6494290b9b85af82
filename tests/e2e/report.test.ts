// End to end in Chromium (issue 16): a manager signs in and lands on last week's report (2026-W14,
// with Good Friday and a closure in it), reads it, goes to the week before from the keyboard (the
// 167-hour week the clocks went forward), downloads the CSV (parsed back and compared with the API's
// JSON), publishes the week and regenerates it, opens a breach's contact, switches to the
// regulator's view, and prints to PDF: the PDF's pages are rendered to images (poppler's pdftoppm)
// and checked for what paper must not carry (navigation, controls, dark backgrounds).
// Twelve weeks of work are posted through the real API first (report-scene.ts). This process lives
// on Wednesday 8 April 2026 (shiftClock), and so does the browser's clock.
import { parse } from 'csv-parse/sync';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeeklyReport } from '../../server/reports/types.js';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, postJson, ROOT, useSession, type Browser } from './browser.js';
import { seedReportScene } from './report-scene.js';
import { shiftClock } from './scene.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
/** Wednesday 8 April 2026, 10:00 in London (BST). */
const SCENE_NOW = Date.parse('2026-04-08T09:00:00Z');
const WEEK = '2026-W14';

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let manager: SignedIn;
let restoreClock: () => void;
const work = mkdtempSync(join(tmpdir(), 'kept-report-e2e-'));

beforeAll(async () => {
  web = buildWeb();
  restoreClock = shiftClock(SCENE_NOW);
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  await seedReportScene(base, t.token, { lastMonday: '2026-03-30', weeks: 12, holidays: ['2026-04-03'], now: Date.now() });
  await postJson(base, t.token, '/api/v1/calendars/customer-services/closures', { from: '2026-04-01T12:00:00+01:00', to: '2026-04-01T14:00:00+01:00', reason: 'All-staff training' });
  // Hazards (Awaab's Law) in W14: an emergency investigated, made safe and summarised in time; damp and
  // mould investigated on Tuesday whose summary (3 working days) was never sent; damp and mould not yet investigated.
  const hazard = (externalId: string, channel: string, category: string, receivedAt: string, events: Array<Record<string, unknown>>) =>
    postJson(base, t.token, '/api/v1/contacts', { channel, externalId, category, receivedAt, customer: { name: 'Hazard fixture' }, subject: category === 'hazard-emergency' ? 'Smell of gas in the kitchen' : 'Black mould in the bedroom', events });
  await hazard('hz-1', 'email', 'hazard-emergency', '2026-03-31T09:00:00+01:00', [
    { type: 'investigation-concluded', at: '2026-03-31T15:00:00+01:00' },
    { type: 'made-safe', at: '2026-04-01T10:00:00+01:00' },
    { type: 'summary-sent', at: '2026-04-02T10:00:00+01:00' },
  ]);
  await hazard('hz-2', 'email', 'hazard-significant', '2026-03-30T09:00:00+01:00', [{ type: 'investigation-concluded', at: '2026-03-31T10:00:00+01:00' }]);
  await hazard('hz-3', 'webform', 'hazard-significant', '2026-04-01T11:00:00+01:00', []);
  manager = await t.signIn('manager', { email: 'olu.manager@staff.example.org', name: 'Olu Manager' });
  browser = await launchBrowser({ width: 1366, height: 900 });
  await browser.page.clock.setFixedTime(SCENE_NOW);
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  restoreClock?.();
  if (web) rmSync(web, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

const apiJson = async <T>(path: string): Promise<T> => {
  const r = await fetch(`${base}${path}`, { headers: { cookie: manager.cookie, accept: 'application/json' } });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};

describe('a manager in Chromium', () => {
  it('signs in, lands on last week, reads it, moves by keyboard, downloads the CSV, publishes, regenerates, follows a breach', async () => {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.getByLabel('Email').focus();
    await page.keyboard.type(manager.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(manager.password);
    await page.keyboard.press('Enter');
    // A manager's home is the report, on last week.
    await page.getByRole('heading', { name: 'Weekly report', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/reports');
    const summary = page.getByRole('heading', { name: new RegExp(`^${WEEK}:`) });
    await summary.waitFor();
    expect(await summary.textContent()).toBe(`${WEEK}: Mon 30 Mar to Sun 5 Apr 2026`);
    const report = await apiJson<WeeklyReport>(`/api/v1/reports/weekly/${WEEK}`);
    const main = page.locator('main');
    await page.locator('#trend-compliance-title').waitFor();
    const text = (await main.textContent())!;
    expect(text).toContain('Bank holiday 2026-04-03: Good Friday');
    expect(text).toContain('All-staff training');
    expect(text).toContain('Draft: built just now');
    // Every standard row of the JSON is on the page with its compliance.
    const rows = await page.locator('section[aria-labelledby=standards-h] tbody tr').allTextContents();
    expect(rows).toHaveLength(report.standards.length);
    // The worst breaches, each a link to its contact page.
    const breachLinks = page.locator('section[aria-labelledby=breaches-h] tbody th a');
    expect(await breachLinks.count()).toBe(report.worstBreaches.length);
    expect(report.worstBreaches.length).toBeGreaterThan(0);
    expect(await breachLinks.first().getAttribute('href')).toBe(report.worstBreaches[0]!.href);
    // Four trends, each with its table (twelve weeks).
    for (const id of ['trend-compliance', 'trend-phone', 'trend-complaints', 'trend-volume']) {
      expect(await page.locator(`figure[aria-labelledby=${id}-title] tbody tr`).count()).toBe(12);
      expect(await page.locator(`figure[aria-labelledby=${id}-title] canvas`).count()).toBe(1);
    }
    // Hazards (Awaab's Law): the JSON's figures on the page, the summary never sent open past target.
    expect(report.hazards.emergency).toMatchObject({ received: 1, investigatedInTime: 1, summariesSentInTime: 1, madeSafeInTime: 1 });
    expect(report.hazards.significant).toMatchObject({ received: 2, investigated: 1, summariesDue: 1, summariesSent: 0 });
    expect(report.hazards.significant.openPastTarget.map((o) => o.standard)).toEqual(['awaab-summary']);
    const hazards = page.getByTestId('hazards').first();
    const received = await hazards.locator('tbody tr').first().locator('td').allTextContents();
    expect(received).toEqual(['1', '2']);
    expect(await hazards.locator('a[href^="/contacts/"]').count()).toBe(1);
    // The phone service level variants: all four named, the figure the server sent for each.
    const options = await page.locator('#variant option').allTextContents();
    expect(options).toHaveLength(4);
    expect(options[0]).toContain('Standard (§6)');
    await page.waitForTimeout(300); // the charts draw on the next frame
    await page.screenshot({ path: join(SHOTS, 'report-week.png'), fullPage: true });

    // The week before, by keyboard: the clocks went forward in it.
    await page.getByRole('button', { name: '← Previous week' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^2026-W13:/ }).waitFor();
    expect(await main.textContent()).toContain('The clocks changed this week: it was 167 hours long.');
    await page.getByRole('button', { name: 'Next week →' }).focus();
    await page.keyboard.press('Enter');
    await summary.waitFor();

    // Download the CSV: what the API serves, and its standards rows carry the JSON's figures.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`kept-${WEEK}.csv`);
    const file = join(work, 'report.csv');
    await download.saveAs(file);
    const csv = readFileSync(file, 'utf8');
    const records = parse(csv, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    const standards = csvTable(records, 'standards');
    expect(standards).toHaveLength(report.standards.length);
    for (const s of report.standards) {
      const row = standards.find((r) => r.standard === s.standard && r.channel === s.channel);
      expect(row, `${s.standard}/${s.channel} in the CSV`).toBeDefined();
      for (const k of ['clocks', 'met', 'missed', 'breached', 'cancelled', 'metExtended', 'missedExtended'] as const) expect(Number(row![k]), `${s.standard} ${k}`).toBe(s[k]);
      expect(row!.compliance === '' ? null : Number(row!.compliance)).toBe(s.compliance);
    }
    const phone = csvTable(records, 'phone');
    expect(phone).toHaveLength(1);
    expect(Number(phone[0]!.offered)).toBe(report.phone.offered);
    expect(phone[0]!.serviceLevel === '' ? null : Number(phone[0]!.serviceLevel)).toBe(report.phone.serviceLevel);
    expect(csvTable(records, 'report')[0]).toMatchObject({ week: WEEK, state: 'draft' });

    // Publish (from the keyboard), then regenerate with a reason.
    await page.getByRole('button', { name: `Publish ${WEEK}` }).focus();
    await page.keyboard.press('Enter');
    await page.getByText(`${WEEK} is published`).waitFor();
    await page.getByText(/^Published on Wed 8 Apr 2026, 10:00 by olu\.manager@staff\.example\.org\./).waitFor();
    await page.getByLabel(/Regenerate with today's data/).fill('late telephony export loaded');
    await page.keyboard.press('Enter');
    await page.getByText(new RegExp(`${WEEK} regenerated \\(revision 2\\)`)).waitFor();
    expect((await apiJson<WeeklyReport>(`/api/v1/reports/weekly/${WEEK}`)).publication).toMatchObject({ state: 'regenerated', revision: 2 });

    // A breach leads to its contact.
    const href = (await breachLinks.first().getAttribute('href'))!;
    await breachLinks.first().click();
    await page.waitForURL((u) => u.pathname === href);
    await page.locator('main h1').waitFor();
    await page.goBack();
    await summary.waitFor();
  });

  it('follows a figure to the contacts behind it: a keyboard link opens them, a page at a time, as many as the figure', async () => {
    const { page } = browser;
    await useSession(browser, base, manager.cookie); // (signed in already when the test above ran; this one may run alone)
    await page.goto(`${base}/reports?week=${WEEK}`);
    await page.locator('#trend-volume-title').waitFor();
    const report = await apiJson<WeeklyReport>(`/api/v1/reports/weekly/${WEEK}`);
    expect(report.phone.offered).toBeGreaterThan(25); // more than one page of the list
    // The phone table's "calls offered", by keyboard: its accessible name says what it counts.
    const offered = page.getByRole('link', { name: `${report.phone.offered} calls offered — phone: show the contacts` });
    await offered.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `${report.phone.offered} calls offered — phone` });
    await dialog.waitFor();
    await dialog.getByText(`of ${report.phone.offered},`).waitFor();
    let rows = await dialog.locator('tbody tr').count();
    const contactLinks = dialog.locator('tbody th a');
    expect(await contactLinks.first().getAttribute('href')).toMatch(/^\/contacts\//);
    await page.screenshot({ path: join(SHOTS, 'report-figure-contacts.png') });
    // Page by page to the end: every contact behind the figure, none twice.
    const seen = new Set(await contactLinks.evaluateAll((as) => as.map((a) => a.getAttribute('href'))));
    for (let pages = 1; pages < 20; pages++) {
      const next = dialog.getByRole('button', { name: 'Next →' });
      if (await next.isDisabled()) break;
      const before = await contactLinks.first().getAttribute('href');
      await next.click();
      await page.waitForFunction((h) => document.querySelector('dialog[open] tbody th a')?.getAttribute('href') !== h, before);
      rows += await dialog.locator('tbody tr').count();
      for (const h of await contactLinks.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) seen.add(h);
    }
    expect(rows).toBe(report.phone.offered);
    expect(seen.size).toBe(report.phone.offered);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Back where the keyboard was: on the figure's link.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`${report.phone.offered} calls offered — phone: show the contacts`);

    // A standards cell: its list's rows equal the figure, each of that standard and channel.
    const s = report.standards.find((x) => x.missed > 0 && x.missed <= 25)!;
    expect(s).toBeDefined();
    const cell = page.locator('section[aria-labelledby=standards-h] tbody a.figure[aria-label^="' + s.missed + ' missed — "]').first();
    await cell.click();
    const missed = page.getByRole('dialog');
    await missed.getByText(`of ${s.missed},`).waitFor();
    expect(await missed.locator('tbody tr').count()).toBe(s.missed);
    expect(new Set(await missed.locator('tbody td:nth-of-type(3)').allTextContents())).toEqual(new Set(['Missed']));
    await missed.getByRole('button', { name: 'Close' }).click();
    await missed.waitFor({ state: 'hidden' });
    // Zero is a plain number (nothing behind it); every other counted cell of the standards table is a link.
    const links = await page.locator('section[aria-labelledby=standards-h] tbody a.figure').count();
    const nonZero = report.standards.reduce((n, x) => n + [x.clocks, x.met, x.missed, x.breached, x.metExtended, x.missedExtended, x.cancelled].filter((v) => v > 0).length, 0);
    expect(links).toBe(nonZero);
    // A figure's address (its link's href, copied or opened in a new tab) opens the same list.
    const href = (await cell.getAttribute('href'))!;
    await page.goto(`${base}${href}`);
    const fromAddress = page.getByRole('dialog');
    await fromAddress.getByText(`of ${s.missed},`).waitFor();
    expect(await fromAddress.locator('tbody tr').count()).toBe(s.missed);
    await page.keyboard.press('Escape');
  });

  it('prints the week on A4: no navigation or controls, no dark backgrounds, charts on the paper; the pages looked at as images', async () => {
    const { page } = browser;
    await page.goto(`${base}/reports?week=${WEEK}`);
    await page.locator('#trend-volume-title').waitFor();
    await page.waitForTimeout(300);
    await page.emulateMedia({ media: 'print' });
    // The charts redraw at their paper size (180 mm wide at 96 dpi ≈ 680 px).
    await page.waitForFunction(() => [...document.querySelectorAll('figure canvas')].every((c) => Math.abs((c as HTMLCanvasElement).getBoundingClientRect().width - 680) < 3));
    const pdf = join(work, 'report.pdf');
    await page.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true });
    await page.emulateMedia({ media: 'screen' });

    // poppler-utils (pdfinfo, pdftotext, pdftoppm): `apt-get install -y poppler-utils` where it is missing.
    for (const tool of ['pdfinfo', 'pdftotext', 'pdftoppm']) {
      try {
        execFileSync(tool, ['-v'], { stdio: 'pipe' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${tool} is not installed: apt-get install -y poppler-utils`);
      }
    }
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    const pages = Number(/Pages:\s+(\d+)/.exec(info)![1]);
    expect(info).toMatch(/Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)/);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(pages).toBeLessThanOrEqual(10);
    const words = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(words).toContain(`${WEEK}: Mon 30 Mar to Sun 5 Apr 2026`);
    expect(words).toContain('Twelve-week trends');
    for (const absent of ['Sign out', 'Live board', 'Download CSV', 'Previous week', "Regenerate with today's data"]) expect(words, absent).not.toContain(absent);

    // Every page rendered to an image: no page is dark (mean luminance, share of near-black pixels).
    execFileSync('pdftoppm', ['-r', '40', '-gray', pdf, join(work, 'page')]);
    const pgms = readdirSync(work).filter((f) => f.startsWith('page') && f.endsWith('.pgm')).sort();
    expect(pgms).toHaveLength(pages);
    for (const f of pgms) {
      const { pixels } = readPgm(readFileSync(join(work, f)));
      const mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
      const dark = pixels.filter((p) => p < 60).length / pixels.length;
      expect(mean, f).toBeGreaterThan(200);
      expect(dark, f).toBeLessThan(0.08);
    }
    // The pages as PNG, to look at.
    execFileSync('pdftoppm', ['-r', '70', '-png', '-f', '1', '-l', String(Math.min(pages, 3)), pdf, join(SHOTS, 'report-print-page')]);
  });

  it("shows the regulator's view for a period", async () => {
    const { page } = browser;
    await page.goto(`${base}/reports?week=${WEEK}`);
    await page.getByRole('link', { name: "Regulator's view (TSM)" }).click();
    await page.getByRole('heading', { name: "Regulator's view", level: 1 }).waitFor();
    await page.getByLabel('From').fill('2026-01-01');
    await page.getByLabel('to', { exact: true }).fill('2026-03-31');
    await page.getByLabel('to', { exact: true }).press('Enter');
    await page.getByRole('heading', { name: 'Tenant Satisfaction Measures, 2026-01-01 to 2026-03-31' }).waitFor();
    expect(new URL(page.url()).search).toBe('?view=regulator&from=2026-01-01&to=2026-03-31');
    const ch01 = await page.locator('table', { hasText: 'CH01' }).locator('tbody tr').allTextContents();
    expect(ch01).toHaveLength(2);
    await page.screenshot({ path: join(SHOTS, 'report-regulator.png'), fullPage: true });
  });
});

interface AxeViolation {
  id: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

describe('the report page for assistive technology', () => {
  it('has no axe-core violations (WCAG 2.1 A/AA and best practice), on the week and on the regulator’s view', async () => {
    // Its own browser: axe-core waits on the clock, which the first browser holds still.
    const plain = await launchBrowser({ width: 1366, height: 900 });
    try {
      await useSession(plain, base, manager.cookie);
      const axe = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
      for (const [path, ready] of [
        [`/reports?week=${WEEK}`, '#trend-volume-title'],
        ['/reports?view=regulator&from=2026-01-01&to=2026-03-31', 'text=Tenant Satisfaction Measures'],
      ] as const) {
        await plain.page.goto(`${base}${path}`);
        await plain.page.locator(ready).waitFor();
        // Injected through DevTools (the page's CSP allows no inline script), then run.
        await plain.page.evaluate(`${axe}\n;0`);
        const violations = await plain.page.evaluate(async () => {
          const run = (globalThis as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe.run;
          const result = await run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
          return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
        });
        expect(violations, path).toEqual([]);
      }
      // …and with a figure's contacts open (the modal dialog).
      await plain.page.goto(`${base}/reports?week=${WEEK}`);
      await plain.page.locator('#trend-volume-title').waitFor();
      await plain.page.locator('a.figure').first().click();
      await plain.page.locator('dialog[open] tbody tr').first().waitFor();
      await plain.page.evaluate(`${axe}\n;0`);
      const inDialog = await plain.page.evaluate(async () => {
        const run = (globalThis as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe.run;
        const result = await run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
        return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
      });
      expect(inDialog, 'a figure’s contacts').toEqual([]);
    } finally {
      await plain.close();
    }
  });
});

/** One table of the report's CSV (each record starts with its table's name; each table with a `table` header record). */
function csvTable(records: string[][], name: string): Array<Record<string, string>> {
  const first = records.findIndex((r) => r[0] === name);
  if (first < 1) return [];
  const header = records[first - 1]!;
  expect(header[0]).toBe('table');
  return records.filter((r) => r[0] === name).map((r) => Object.fromEntries(header.slice(1).map((h, i) => [h, r[i + 1] ?? ''])));
}

/** A binary PGM (P5, 8-bit), as pdftoppm -gray writes it. */
function readPgm(buf: Buffer): { width: number; height: number; pixels: Uint8Array } {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'))!;
  const width = Number(header[1]);
  const height = Number(header[2]);
  return { width, height, pixels: buf.subarray(header[0].length, header[0].length + width * height) };
}
