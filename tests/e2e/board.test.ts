// The live board in real Chromium against the real server: contacts posted through the API change
// the board without a reload; a clock turns breached at its due instant; after a dropped socket the
// board says "Reconnecting…" and catches up on what it missed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { rmSync } from 'node:fs';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, postJson, useSession, type Browser, type CreatedContact } from './browser.js';

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;
let page: Page;
let n = 0;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser({ width: 1366, height: 768 });
  // The board is a team lead's (issue 10): signed in before the page opens. An advisor to assign work to.
  await t.signIn('advisor', { email: 'sam.jones@staff.example.org', name: 'Sam Jones' });
  await useSession(browser, base, (await t.signIn('team-lead')).cookie);
  page = browser.page;
  page.on('pageerror', (e) => console.error('page error:', e));
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
});

const phoneTile = () => page.getByTestId('tile-phone');
const connection = () => page.getByTestId('connection');

async function phoneWaiting(): Promise<number> {
  return Number(await phoneTile().getByTestId('waiting-now').textContent());
}

/** Waits in the page until the phone tile shows `count` waiting; returns the page's clock then (ms). */
async function untilPhoneWaiting(count: number, timeout = 5000): Promise<number> {
  // Function predicates (not strings): the page runs under script-src 'self', which forbids eval.
  const handle = await page.waitForFunction(
    (want) => {
      const e = document.querySelector('[data-testid=tile-phone] [data-testid=waiting-now]');
      return e !== null && e.textContent?.trim() === want ? Date.now() : false;
    },
    String(count),
    { polling: 10, timeout },
  );
  return (await handle.jsonValue()) as number;
}

function postCall(receivedAt: number, name: string): Promise<CreatedContact> {
  return postJson<CreatedContact>(base, t.token, '/api/v1/contacts', {
    channel: 'phone',
    externalId: `e2e-${++n}`,
    receivedAt: new Date(receivedAt).toISOString(),
    customer: { name },
    subject: 'Repairs',
  });
}

/** Another board on the wall (a plain WebSocket client): with it listening, the hub keeps deltas to replay. */
function otherBoard(): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live`, { headers: t.auth });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('the live board', () => {
  it('loads: five channel tiles, live, open or closed, nothing at risk', async () => {
    await page.goto(base);
    await connection().and(page.locator('[data-state=live]')).waitFor();
    for (const channel of ['phone', 'email', 'webform', 'social', 'voicemail']) {
      await expect(page.getByTestId(`tile-${channel}`).isVisible()).resolves.toBe(true);
    }
    await expect(connection().textContent()).resolves.toContain('Live');
    await expect(page.getByTestId('open-status').textContent()).resolves.toMatch(/Open now|Closed · opens /);
    await expect(page.getByTestId('urgent').textContent()).resolves.toContain('Nothing at risk or breached');
    // The heading is the board calendar's name (KEPT_BOARD_CALENDAR), as stored.
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Customer services');
    // Marks this document: if anything below reloaded the page, the mark would be gone.
    await page.evaluate('window.__sameDocument = true');
  });

  it("a safeguarding concern shows on the team lead's board until an action is recorded", async () => {
    await expect(page.getByTestId('safeguarding-alerts').count()).resolves.toBe(0);
    await postJson(base, t.token, '/api/v1/contacts', {
      channel: 'email',
      externalId: `e2e-safeguarding-${++n}`,
      receivedAt: new Date().toISOString(),
      customer: { name: 'Eve Tenant', safeguarding: true },
      subject: 'Worried about my neighbour',
    });
    // The board re-reads the alerts every 10 s; a reload is not needed.
    const banner = page.getByTestId('safeguarding-alerts');
    await banner.waitFor({ timeout: 15_000 });
    await expect(banner.textContent()).resolves.toContain('Safeguarding: 1 concern waiting for action');
    await expect(banner.textContent()).resolves.toContain('Worried about my neighbour');
    const [alert] = ((await (await fetch(`${base}/api/v1/alerts`, { headers: { authorization: `Bearer ${t.token}` } })).json()) as { items: Array<{ id: number }> }).items;
    await postJson(base, t.token, `/api/v1/alerts/${alert!.id}/actions`, { action: 'Called the tenant back; referred to the safeguarding lead' });
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('a new call shows on the phone tile within a second, without a reload', async () => {
    const before = await phoneWaiting();
    const posted = Date.now();
    await postCall(Date.now(), 'Ada Lovelace');
    const shownAt = await untilPhoneWaiting(before + 1, 2000);
    expect(shownAt - posted).toBeLessThan(1000);
    await expect(phoneTile().getByTestId('oldest-waiting').textContent()).resolves.toMatch(/^\d+s$/);
    // No phone queues configured and no platform data (handle times, advisors' states): no queue panel, not an empty one.
    await expect(page.getByTestId('phone-queues').count()).resolves.toBe(0);
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
  });

  it('a waiting call turns breached on the board within a second of its due instant', async () => {
    const breachedBefore = Number(await phoneTile().getByTestId('breached').textContent());
    // phone-answer is due 5 minutes after receivedAt: this call is at risk now and due in 2 s.
    const call = await postCall(Date.now() - (4 * 60 + 58) * 1000, 'Grace Hopper');
    const clock = call.clocks.find((c) => c.standard === 'phone-answer')!;
    expect(clock.status).toBe('at-risk');
    const dueAt = Date.parse(clock.dueAt!);
    const row = page.locator(`[data-testid=urgent-row][data-key="${call.id}/phone-answer"]`);
    await row.and(page.locator('[data-status=at-risk]')).waitFor({ timeout: 1500 });
    const atRisk = await row.textContent();
    expect(atRisk).toContain('At risk');
    expect(atRisk).toMatch(/due in \ds/);
    expect(atRisk).toContain('Answer call');
    expect(atRisk).toContain('Grace Hopper');

    const seen = await page.waitForFunction(
      ({ key, want }) => {
        const row = document.querySelector(`[data-testid=urgent-row][data-key="${key}"][data-status=breached]`);
        const tile = document.querySelector('[data-testid=tile-phone] [data-testid=breached]');
        return row !== null && tile !== null && tile.textContent?.trim() === want ? Date.now() : false;
      },
      { key: `${call.id}/phone-answer`, want: String(breachedBefore + 1) },
      { polling: 10, timeout: 5000 },
    );
    const late = ((await seen.jsonValue()) as number) - dueAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    const breached = await row.textContent();
    expect(breached).toContain('Breached');
    expect(breached).toMatch(/overdue by \ds/);
    await expect(phoneTile().getByTestId('over-target').textContent()).resolves.toMatch(/1\s+over 5\s+min/);

    // The team lead assigns it from the list, from the keyboard: the row shows the advisor without a reload.
    const select = row.getByTestId('assign');
    await select.focus();
    await select.selectOption('sam.jones@staff.example.org');
    await expect.poll(async () => (await t.service.contacts.byId(call.id))?.assignee, { timeout: 3000 }).toBe('sam.jones@staff.example.org');
    await expect.poll(async () => (await row.getByTestId('assign').inputValue()), { timeout: 3000 }).toBe('sam.jones@staff.example.org');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  });

  it('after a dropped socket it says "Reconnecting…", then catches up on what it missed without a reload', async () => {
    const other = await otherBoard();
    try {
      const before = await phoneWaiting();
      const snapshots = await page.getByTestId('board').getAttribute('data-snapshots');
      // The network goes (the browser cannot reconnect) and the server drops every socket.
      await browser.context.setOffline(true);
      t.app.hub.disconnectAll();
      const other2 = await otherBoard(); // the other screen is back at once
      try {
        await connection().and(page.locator('[data-state=reconnecting]')).waitFor({ timeout: 2000 });
        await expect(connection().textContent()).resolves.toContain('Reconnecting…');
        // Something happens while this board is away.
        await postCall(Date.now(), 'Alan Turing');
        await page.waitForTimeout(300);
        expect(await phoneWaiting()).toBe(before);
        // Back online: it reconnects with ?since=<last seq> and the server replays the missed delta.
        const online = Date.now();
        await browser.context.setOffline(false);
        const caughtUp = await untilPhoneWaiting(before + 1, 5000);
        expect(caughtUp - online).toBeLessThan(1500);
        await connection().and(page.locator('[data-state=live]')).waitFor();
        expect(await page.getByTestId('board').getAttribute('data-snapshots')).toBe(snapshots); // replayed, not resent
        await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
      } finally {
        other2.close();
      }
    } finally {
      other.close();
    }
  });

  it('with no other board listening, it catches up from a fresh snapshot', async () => {
    await page.waitForTimeout(100);
    expect(t.app.hub.clientCount).toBe(1); // only this page
    const before = await phoneWaiting();
    const snapshots = Number(await page.getByTestId('board').getAttribute('data-snapshots'));
    await browser.context.setOffline(true);
    t.app.hub.disconnectAll();
    await connection().and(page.locator('[data-state=reconnecting]')).waitFor({ timeout: 2000 });
    await postCall(Date.now(), 'Mary Somerville');
    await browser.context.setOffline(false);
    await untilPhoneWaiting(before + 1, 5000);
    expect(Number(await page.getByTestId('board').getAttribute('data-snapshots'))).toBe(snapshots + 1);
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
  });

  it('keys: w toggles wall mode (dark, ?wall=1), r reconnects now; focus is visible', async () => {
    await connection().and(page.locator('[data-state=live]')).waitFor();
    const toggle = page.getByRole('button', { name: /wall mode/i });
    await page.keyboard.press('w');
    await expect(page.evaluate('document.documentElement.classList.contains("wall")')).resolves.toBe(true);
    expect(new URL(page.url()).searchParams.get('wall')).toBe('1');
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('true');
    const background = await page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    expect(background).toBe('rgb(9, 12, 16)');
    await page.keyboard.press('w');
    await expect(page.evaluate('document.documentElement.classList.contains("wall")')).resolves.toBe(false);
    expect(new URL(page.url()).searchParams.get('wall')).toBeNull();

    // r: drop the socket and connect again at once.
    await page.evaluate(`(() => {
      window.__states = [];
      const el = document.querySelector('[data-testid=connection]');
      new MutationObserver(() => window.__states.push(document.querySelector('[data-testid=connection]').dataset.state))
        .observe(el.parentElement, { subtree: true, attributes: true, attributeFilter: ['data-state'], childList: true });
    })()`);
    await page.keyboard.press('r');
    await page.waitForFunction(
      () => (window as unknown as { __states: string[] }).__states.includes('reconnecting') && (document.querySelector('[data-testid=connection]') as HTMLElement | null)?.dataset.state === 'live',
      undefined,
      { timeout: 3000 },
    );
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);

    // Keyboard focus shows.
    await page.keyboard.press('Tab');
    const focus = (await page.evaluate(`(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { tag: el.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    })()`)) as { tag: string; outline: string; width: number };
    // A button, or (on a team lead's board, from where the last focus was) an urgent row's assign list.
    expect(['BUTTON', 'SELECT']).toContain(focus.tag);
    expect(focus.outline).not.toBe('none');
    expect(focus.width).toBeGreaterThanOrEqual(2);
  });
});
