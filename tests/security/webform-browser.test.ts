// The public form in headless Chromium under the app's real headers: styled with no CSP violation, and its own posts pass the same-origin check.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchBrowser, type Browser } from '../e2e/browser.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let browser: Browser;
let base: string;
beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser({ width: 1000, height: 1400 });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('in a browser', () => {
  it('the stylesheet applies, nothing is blocked, and a mistake then a fix ends on the thank-you page', async () => {
    const { page } = browser;
    const problems: string[] = [];
    // A CSP violation is reported on the console; favicon.ico is not Kept's to serve.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of (400|404)/.test(m.text())) problems.push(m.text());
    });
    const origins: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') origins.push(r.headers().origin ?? '(none)');
    });

    await page.goto(`${base}/forms/contact`);
    // Styled by the linked file: the honeypot is off-screen and the fields have their 2 px border.
    expect(await page.$eval('.hp', (el) => getComputedStyle(el).left)).toBe('-10000px');
    expect(await page.$eval('#message', (el) => getComputedStyle(el).borderTopWidth)).toBe('2px');

    await page.fill('#email', 'not-an-address');
    await page.fill('#message', 'The kitchen repair was not finished.');
    await Promise.all([page.waitForURL(`${base}/forms/contact`), page.click('button[type=submit]')]);
    expect(await page.title()).toBe('Error: Contact us');
    expect(await page.$eval('.summary', (el) => getComputedStyle(el).borderTopColor)).toBe('rgb(212, 53, 28)');
    expect(await page.inputValue('#message')).toBe('The kitchen repair was not finished.');

    await page.fill('#email', 'dan@example.com');
    await Promise.all([page.waitForURL(`${base}/forms/contact?sent=1`), page.click('button[type=submit]')]);
    expect(await page.title()).toBe('Message sent – Contact us');

    // With the app's Referrer-Policy no-referrer the browser would have sent `Origin: null` and
    // been refused; the form's pages say same-origin, so it sends its real origin.
    expect(origins).toEqual([base, base]);
    expect(problems).toEqual([]);
  });
});
