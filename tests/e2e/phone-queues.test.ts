// The board's phone queues (issue 13) in real Chromium against the real server: calls posted through
// Kept's telephony format into two named queues (KEPT_PHONE_QUEUES) and advisors' states through
// the Genesys Cloud route show each queue apart — calls waiting and the oldest, today's offered,
// answered and abandoned, handle time, the advisors needed beside those who took calls and those
// available — and a new call joins its own queue's row without a reload. The team page shows each
// advisor's platform state beside their load.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { axeViolations } from './axe.js';
import { buildWeb, launchBrowser, postJson, ROOT, useSession, type Browser } from './browser.js';

const QUEUES = JSON.stringify([
  { id: 'repairs', name: 'Repairs line', category: 'repair', match: ['Repairs'] },
  { id: 'rents', name: 'Rents line', match: ['Rents'] },
]);
const MIN = 60_000;

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let page: Page;
let n = 0;
const iso = (ms: number) => new Date(ms).toISOString();

/** A call's log in Kept's telephony format. */
function call(queue: string, queuedAgo: number, outcome: { answeredAfter?: number; agent?: string; talk?: number; wrap?: number; abandonedAfter?: number } = {}) {
  const callId = `e2e-queue-${++n}`;
  const at = Date.now() - queuedAgo;
  const log: Array<Record<string, unknown>> = [{ callId, event: 'queued', at: iso(at), queue, caller: { name: `Caller ${n}` } }];
  if (outcome.answeredAfter !== undefined) {
    const answered = at + outcome.answeredAfter;
    log.push({ callId, event: 'answered', at: iso(answered), agent: outcome.agent });
    if (outcome.talk !== undefined) log.push({ callId, event: 'ended', at: iso(answered + (outcome.talk + (outcome.wrap ?? 0)) * 1000), talkSeconds: outcome.talk, wrapSeconds: outcome.wrap ?? 0 });
  }
  if (outcome.abandonedAfter !== undefined) log.push({ callId, event: 'abandoned', at: iso(at + outcome.abandonedAfter) });
  return postJson(base, t.token, '/api/v1/ingest/telephony', log);
}

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web, KEPT_PHONE_QUEUES: QUEUES });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  // Repairs: three answered by two advisors (handle 300 s and 420 s and 360 s), one abandoned, two waiting.
  await call('Repairs', 20 * MIN, { answeredAfter: 30_000, agent: 'Ann Lee', talk: 240, wrap: 60 });
  await call('Repairs', 16 * MIN, { answeredAfter: 40_000, agent: 'Bob Ray', talk: 360, wrap: 60 });
  await call('Repairs', 14 * MIN, { answeredAfter: 20_000, agent: 'Ann Lee', talk: 300, wrap: 60 });
  await call('Repairs', 12 * MIN, { abandonedAfter: 90_000 });
  await call('Repairs', 3 * MIN);
  await call('Repairs', 1 * MIN);
  // Rents: one answered (handle 200 s), one waiting.
  await call('Rents', 10 * MIN, { answeredAfter: 15_000, agent: 'Cy Moss', talk: 150, wrap: 50 });
  await call('Rents', 2 * MIN);
  // The advisors' states, as Genesys Cloud reports them.
  const state = (name: string, status: string, i: number) => ({ topicName: `v2.users.e2e-${i}.routingStatus`, version: '2', eventBody: { user: { name }, routingStatus: { status, startTime: iso(Date.now() - MIN) } } });
  await postJson(base, t.token, '/api/v1/ingest/genesys-cloud', [state('Ann Lee', 'IDLE', 1), state('Bob Ray', 'INTERACTING', 2), state('Cy Moss', 'OFF_QUEUE', 3)]);
  browser = await launchBrowser({ width: 1366, height: 768 }, { bypassCSP: true }); // axe-core is injected as a script
  await useSession(browser, base, (await t.signIn('team-lead')).cookie);
  page = browser.page;
  page.on('pageerror', (e) => console.error('page error:', e));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
});

/** The figures of one queue's row, by test id. */
async function row(queue: string): Promise<Record<string, string>> {
  const r = page.locator(`[data-testid=queue-row][data-queue=${queue}]`);
  const cells = await r.locator('[data-testid]').evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.testid!, e.textContent!.trim()]));
  return { name: (await r.locator('th').textContent())!.trim(), ...Object.fromEntries(cells) };
}

describe('the phone queues on the board', () => {
  it('shows each named queue apart: waiting, oldest, today, handle time, advisors needed, took calls, available', async () => {
    await page.goto(base);
    await page.getByTestId('connection').and(page.locator('[data-state=live]')).waitFor();
    await page.getByTestId('queue-needed').first().waitFor();
    // The built-in queues had no calls: only the two named ones show.
    expect(await page.getByTestId('queue-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.queue))).toEqual(['repairs', 'rents']);
    const repairs = await row('repairs');
    expect(repairs).toMatchObject({ name: 'Repairs line', 'queue-waiting': '2', 'queue-offered': '6', 'queue-answered': '3', 'queue-abandoned': '1', 'queue-handle': '6m 00s' });
    expect(repairs['queue-oldest']).toMatch(/^3m 0\ds$/);
    const rents = await row('rents');
    expect(rents).toMatchObject({ name: 'Rents line', 'queue-waiting': '1', 'queue-offered': '2', 'queue-answered': '1', 'queue-abandoned': '0', 'queue-handle': '3m 20s' });
    expect(rents['queue-oldest']).toMatch(/^2m 0\ds$/);
    // Advisors needed: Erlang C at the current half hour's calls (a number, or — when none came in it yet).
    for (const r of [repairs, rents]) expect(r['queue-needed']).toMatch(/^(\d+|—)$/);
    // Available now: of the advisors who took the queue's calls today (Ann idle; Bob on a call; Cy away).
    expect(repairs['queue-available']).toBe('1');
    expect(rents['queue-available']).toBe('0');
    await expect(page.getByTestId('advisors-now').textContent()).resolves.toMatch(/1\s*available\s*1\s*on a call\s*0\s*wrap-up\s*1\s*away/);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('a new call joins its own queue without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { __same: boolean }).__same = true));
    await call('Rents', 0);
    await page.waitForFunction(() => document.querySelector('[data-testid=queue-row][data-queue=rents] [data-testid=queue-waiting]')?.textContent?.trim() === '2', undefined, { timeout: 3000 });
    expect((await row('repairs'))['queue-waiting']).toBe('2');
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true);
  });

  it("the team page shows each advisor's platform state beside their load", async () => {
    await page.goto(`${base}/team`);
    await page.getByTestId('advisor-state').first().waitFor();
    const states = await page.getByTestId('advisor-state').evaluateAll((els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.advisor!, e.textContent!.trim()])));
    expect(states).toMatchObject({ 'Ann Lee': 'Available', 'Bob Ray': 'On a call', 'Cy Moss': 'Away' });
    if (process.env.KEPT_SCREENSHOT_DIR) await page.screenshot({ path: join(resolve(ROOT, process.env.KEPT_SCREENSHOT_DIR), 'team-phone-states.png') });
    expect(await axeViolations(page)).toEqual([]);
  });
});
