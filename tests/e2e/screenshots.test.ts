// The board with a realistic Tuesday afternoon on it, in every view a team lead or a wall uses: wall
// mode at 1920×1080 and 1366×768, a laptop at 1366×768 (light and dark), each also seen through a
// simulated colour-vision deficiency (Chromium's own emulation). Each view is checked: no essential
// text cut off (each row's promise, deadline, customer and owner: scrollWidth against clientWidth),
// the wall's smallest text, the list and key figures above a laptop's fold, and axe-core with no
// serious or critical violation. `npm run test:e2e` saves the pictures to docs/screenshots
// (KEPT_SCREENSHOT_DIR); otherwise they go to a temp folder. This process lives on that Tuesday (see
// shiftClock); the board follows the server's clock.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { axeViolations } from './axe.js';
import { buildWeb, launchBrowser, ROOT, useSession, type Browser } from './browser.js';
import { SCENE_PHONE_QUEUES, seedScene, shiftClock } from './scene.js';

const SHOTS = process.env.KEPT_SCREENSHOT_DIR ? resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'kept-shots-'));
/** Tuesday 10 March 2026, 14:35 in London. */
const SCENE_NOW = Date.parse('2026-03-10T14:35:00Z');

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let dark: Browser;
let restoreClock: () => void;
let leadHeaders: Record<string, string>;

beforeAll(async () => {
  web = buildWeb();
  restoreClock = shiftClock(SCENE_NOW);
  t = await startTestApp({ KEPT_WEB_ROOT: web, KEPT_PHONE_QUEUES: SCENE_PHONE_QUEUES });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  await seedScene(base, t.token, Date.now());
  await t.signIn('advisor', { email: 'priya.shah@staff.example.org', name: 'Priya Shah' });
  const signedIn = await t.signIn('team-lead');
  leadHeaders = signedIn.headers;
  const lead = signedIn.cookie;
  browser = await launchBrowser({ width: 1920, height: 1080 }, { bypassCSP: true, colorScheme: 'light' });
  dark = await launchBrowser({ width: 1366, height: 768 }, { bypassCSP: true, colorScheme: 'dark' });
  // The board is a team lead's (issue 10): signed in before the page opens.
  await useSession(browser, base, lead);
  await useSession(dark, base, lead);
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dark?.close();
  await t?.close();
  restoreClock?.();
  if (web) rmSync(web, { recursive: true, force: true });
  if (!process.env.KEPT_SCREENSHOT_DIR) rmSync(SHOTS, { recursive: true, force: true });
});

async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.waitForSelector('[data-testid=connection][data-state=live]');
  await page.waitForSelector('[data-testid=urgent-row]', { state: 'attached' });
  await page.waitForSelector('[data-testid=queue-needed]'); // the phone queues' staffing, polled
  await page.waitForTimeout(300); // the chart draws on the next frame
}

/** Parts of the wall that do not fit the screen: a column or panel whose content overflows it. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('.grid > .left, .grid > .right, [data-testid^=tile-], [data-testid^=promise-], [data-testid=tally], [data-testid=phone-queues]')) {
      if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) out.push(`${el.className.split(' ')[0] || el.dataset.testid} ${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}`);
      const r = el.getBoundingClientRect();
      if (r.bottom > innerHeight + 1) out.push(`${el.dataset.testid ?? el.className} ends at ${Math.round(r.bottom)} > ${innerHeight}`);
    }
    const chart = document.querySelector('[data-testid=urgent]')?.closest('.grid')?.querySelector('canvas');
    if (chart !== null && chart !== undefined && chart.getBoundingClientRect().height < innerHeight * 0.13) out.push(`chart only ${Math.round(chart.getBoundingClientRect().height)} px tall`);
    return out;
  });
}

/** Each shown row's essential parts whose text does not fit their box (cut off or hidden). */
async function cutOff(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const row of document.querySelectorAll<HTMLElement>('[data-testid=urgent-row]')) {
      if (getComputedStyle(row).visibility === 'hidden') continue;
      for (const el of row.querySelectorAll<HTMLElement>('[data-essential]')) {
        if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.dataset.essential}: "${el.textContent?.trim()}" (${el.scrollWidth} > ${el.clientWidth})`);
      }
    }
    // The busy banner's message and the tiles' headings too.
    for (const el of document.querySelectorAll<HTMLElement>('[data-testid=busy-banner] .message, [data-testid^=tile-] h2, [data-testid^=promise-] h3, [data-testid=tally] li, [data-testid=queue-row] th, [data-testid=phone-queues] thead th')) {
      if (el.scrollWidth > el.clientWidth + 1) out.push(`"${el.textContent?.trim()}" (${el.scrollWidth} > ${el.clientWidth})`);
    }
    return out;
  });
}

/** The smallest font size (px) of any visible text on the page, with an example. */
async function smallestText(page: Page): Promise<{ px: number; text: string }> {
  return page.evaluate(() => {
    let best = { px: Infinity, text: '' };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const text = n.textContent?.trim() ?? '';
      const el = n.parentElement;
      if (text === '' || el === null) continue;
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || el.closest('.visually-hidden, [aria-hidden=true], dialog:not([open]), .hidden') !== null) continue;
      const px = parseFloat(s.fontSize);
      if (px < best.px) best = { px, text };
    }
    return best;
  });
}

/** Screenshot as it is, and through a simulated deficiency (deuteranopia: red-green, the commonest). */
async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setEmulatedVisionDeficiency', { type: 'deuteranopia' });
  await page.screenshot({ path: join(SHOTS, `${name}-deuteranopia.png`) });
  await cdp.send('Emulation.setEmulatedVisionDeficiency', { type: 'none' });
  await cdp.detach();
}

describe('board views', () => {
  it('wall mode at 1920×1080: fits the screen, nothing essential cut off, smallest text 22 px, states in words, axe clean', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1920, height: 1080 });
    await open(page, '/?wall=1');
    expect(await page.evaluate(() => document.documentElement.classList.contains('wall'))).toBe(true);
    const { scrollH, innerH } = await page.evaluate(() => ({ scrollH: document.documentElement.scrollHeight, innerH: innerHeight }));
    expect(scrollH).toBeLessThanOrEqual(innerH);
    await shoot(page, 'board-wall');
    expect(await overflowing(page)).toEqual([]);
    await expect(page.getByTestId('busy-banner').textContent()).resolves.toContain('High volumes');
    expect(await cutOff(page)).toEqual([]);
    const smallest = await smallestText(page);
    expect(smallest.px, `smallest: "${smallest.text}"`).toBeGreaterThanOrEqual(22);
    // Every tile says its state in words, not only by colour.
    for (const id of ['tile-phone', 'tile-email', 'tile-webform', 'tile-social', 'tile-voicemail', 'tile-hazards', 'promise-complaint-acknowledge', 'promise-complaint-resolve', 'promise-emergency-make-safe', 'promise-emergency-arrange-repair']) {
      await expect(page.getByTestId(id).textContent(), id).resolves.toMatch(/on track|at risk|breached/i);
    }
    // The caption is the headline's own fraction.
    const headline = Number((await page.getByTestId('service-level').textContent())!.replace('%', ''));
    const caption = (await page.getByTestId('service-level-caption').textContent())!.replace(/\s+/g, ' ');
    const [, within, decided] = /(\d+) of (\d+) decided calls/.exec(caption)!;
    expect(Math.round((100 * Number(within)) / Number(decided))).toBe(headline);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('wall mode at 1366×768: fits, no blank band below the list, nothing essential cut off', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await open(page, '/?wall=1');
    const { scrollH, innerH } = await page.evaluate(() => ({ scrollH: document.documentElement.scrollHeight, innerH: innerHeight }));
    expect(scrollH).toBeLessThanOrEqual(innerH);
    await shoot(page, 'board-wall-1366');
    expect(await overflowing(page)).toEqual([]);
    expect(await cutOff(page)).toEqual([]);
    // The rows shown fill the list: the gap under the last one is less than a row's height.
    const gap = await page.evaluate(() => {
      const list = document.querySelector('[data-testid=urgent] ol')!;
      const shown = [...list.querySelectorAll<HTMLElement>('[data-testid=urgent-row]')].filter((r) => getComputedStyle(r).visibility !== 'hidden');
      const last = shown.at(-1)!.getBoundingClientRect();
      return { gap: list.getBoundingClientRect().bottom - last.bottom, row: last.height };
    });
    expect(gap.gap).toBeLessThan(gap.row);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('laptop at 1366×768: the list and the key figures above the fold, filters, nothing cut off, axe clean', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await open(page, '/');
    expect(await page.evaluate(() => document.documentElement.classList.contains('wall'))).toBe(false);
    for (const id of ['service-level', 'waiting-now', 'estimated-wait', 'recent-service-level', 'urgent-filters']) {
      const box = await page.getByTestId(id).first().boundingBox();
      expect(box!.y + box!.height, id).toBeLessThanOrEqual(768);
    }
    const firstRow = await page.getByTestId('urgent-row').first().boundingBox();
    expect(firstRow!.y + firstRow!.height).toBeLessThanOrEqual(768);
    expect(await cutOff(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await shoot(page, 'board-laptop');
  });

  it('the list filters, orders by severity or deadline, and opens the contact behind a row', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await open(page, '/');
    const statuses = () => page.getByTestId('urgent-row').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.status}/${(r as HTMLElement).dataset.category}`));
    // Most severe first: breached complaints, emergencies and emergency hazards, then other breached, then at risk.
    const rank = (s: string) => (s.startsWith('breached') ? 0 : 2) + (/complaint|emergency-repair|hazard-emergency/.test(s) ? 0 : 1);
    const ranks = (await statuses()).map(rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // A channel tile opens its rows.
    await page.getByTestId('tile-email').getByRole('button').click();
    expect(new URL(page.url()).searchParams.get('channel')).toBe('email');
    const channels = await page.getByTestId('urgent-row').evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
    expect(channels.length).toBeGreaterThan(0);
    expect(channels.every((c) => c.includes('Email'))).toBe(true);
    // Unassigned only.
    await page.getByTestId('filter-owner').selectOption({ label: 'Unassigned' });
    const owners = await page.getByTestId('urgent-row').evaluateAll((rows) => rows.map((r) => (r.querySelector('select') as HTMLSelectElement | null)?.value ?? 'x'));
    expect(owners.every((o) => o === '')).toBe(true);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByTestId('order').selectOption('deadline');
    const dues = await page.getByTestId('urgent-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(dues.length).toBeGreaterThan(1);
    // The broken promises of today, from the tally.
    await page.getByTestId('tally-broken').click();
    await page.getByTestId('broken-dialog').and(page.locator('[open]')).waitFor();
    await page.getByTestId('broken-row').first().waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('weekly-link').getAttribute('href')).resolves.toBe('/reports?week=2026-W11');
    // A saved board (a named filter): ?board=ID shows its rows only, and its name in the heading.
    const saved = await t.app.inject({ method: 'POST', url: '/api/v1/boards', headers: leadHeaders, payload: { name: 'Written', team: 'Digital', filter: { queues: [], channels: ['email', 'webform'], categories: [] } } });
    expect(saved.statusCode, saved.body).toBeLessThan(300);
    const boardId = (saved.json() as { id: number }).id;
    await open(page, `/?board=${boardId}`);
    await expect(page.getByTestId('title').textContent()).resolves.toContain('Written');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=urgent-row]')].every((r) => /Email|Web form/.test(r.textContent ?? '')));
    const written = await page.getByTestId('urgent-row').evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((r) => /Email ·|Web form ·/.test(r))).toBe(true);
    // A row opens its contact.
    const href = await page.getByTestId('urgent-open').first().getAttribute('href');
    await page.getByTestId('urgent-open').first().click();
    await page.waitForURL(`${base}${href}`);
    expect(href).toMatch(/^\/contacts\//);
  });

  it("a team lead's message shows on the board at once, without a reload, and is announced", async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await open(page, '/');
    await page.evaluate(() => ((window as unknown as { __same: boolean }).__same = true));
    await t.app.boardMessages.post('Phones down at 14:00: take messages by hand', null, 'lead@example.org');
    const banner = page.getByTestId('board-message');
    await banner.waitFor({ timeout: 3000 });
    await expect(banner.textContent()).resolves.toContain('Phones down at 14:00: take messages by hand');
    await expect(page.getByTestId('announcer').textContent()).resolves.toContain('Message: Phones down at 14:00');
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true);
    expect(await cutOff(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await t.app.boardMessages.end('lead@example.org');
    await banner.waitFor({ state: 'detached', timeout: 3000 });
  });

  it('"updated hh:mm:ss" turns into a visible warning once the socket is silent past the heartbeat', async () => {
    const { page } = browser;
    await page.clock.install();
    await open(page, '/');
    await expect(page.getByTestId('updated').textContent()).resolves.toMatch(/^updated \d\d:\d\d:\d\d$/);
    expect(await page.getByTestId('connection').getAttribute('data-stale')).toBe('false');
    // 25 s pass in the page with nothing heard (the heartbeat is every 15 s; the warning comes after 20 s).
    await page.clock.fastForward(25_000);
    const connection = page.getByTestId('connection').and(page.locator('[data-stale=true]'));
    await connection.waitFor({ timeout: 3000 });
    await expect(connection.textContent()).resolves.toMatch(/No update for 2\ds.*figures from \d\d:\d\d:\d\d/s);
    await expect(page.getByTestId('announcer').textContent()).resolves.toContain('No update from the server');
  });

  it('laptop in dark mode follows the system preference; axe clean', async () => {
    const { page } = dark;
    await open(page, '/');
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg).toBe('rgb(13, 17, 23)');
    expect(await cutOff(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await shoot(page, 'board-laptop-dark');
  });
});
