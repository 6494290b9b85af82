// A wall screen in Chromium (issue 10): an admin creates a display; its link opens the live board
// with nobody signed in, and the screen can read nothing else. Revoked, it loses the board.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';
import { buildWeb, launchBrowser, type Browser } from './browser.js';

let web: string;
let t: TestApp;
let base: string;
let browser: Browser;

beforeAll(async () => {
  web = buildWeb();
  t = await startTestApp({ KEPT_WEB_ROOT: web });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser({ width: 1366, height: 768 });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (web) rmSync(web, { recursive: true, force: true });
});

describe('a wall-screen display', () => {
  it('its link opens the live board; the screen reads nothing else; revoked, the board is gone', async () => {
    const admin = await t.signIn('admin');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/displays', headers: admin.headers, payload: { name: 'Reception wall' } });
    expect(created.statusCode).toBe(201);
    const { secret, display } = created.json() as { secret: string; link: string; display: { id: number } };
    recordSecret(secret);
    const { page } = browser;
    await page.goto(`${base}/display?key=${secret}`);
    await page.getByTestId('connection').and(page.locator('[data-state=live]')).waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).pathname).toBe('/');
    // The page's own requests for anything but the board are refused.
    const statuses = await page.evaluate(async () => Promise.all(['/api/v1/contacts', '/api/v1/users', '/api/v1/audit', '/api/v1/calendars'].map(async (u) => (await fetch(u)).status)));
    expect(statuses).toEqual([403, 403, 403, 403]);
    const cookies = await browser.context.cookies(base);
    expect(cookies.find((c) => c.name === 'kept_display')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookies.find((c) => c.name === 'kept_session')).toBeUndefined();
    // Revoked: the next socket is refused.
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/displays/${display.id}`, headers: admin.headers });
    expect(revoke.statusCode).toBe(204);
    const me = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    expect(me).toBe(401);
  });
});
