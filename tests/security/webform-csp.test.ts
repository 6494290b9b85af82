// The public form works under a strict CSP: no inline style or script in any of its pages, its stylesheet served as a file.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const FORM = '/forms/contact';
const CSS = '/forms/contact.css';
const BROWSER = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml' };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Every page the form can show: blank, sent, a field error, a whole-form error (rate limited). */
async function pages(): Promise<Array<{ name: string; status: number; headers: Record<string, unknown>; body: string }>> {
  const get = (url: string) => t.app.inject({ method: 'GET', url, remoteAddress: '10.20.0.1' });
  const post = (payload: string, remoteAddress: string) => t.app.inject({ method: 'POST', url: FORM, remoteAddress, headers: BROWSER, payload });
  const blank = await get(FORM);
  const sent = await get(`${FORM}?sent=1`);
  const invalid = await post('formType=complaint&email=nope&message=Hi', '10.20.0.2');
  let limited = await post('message=Hi&kept_trap_leave_empty=bot', '10.20.0.3');
  for (let i = 0; i < 20 && limited.statusCode !== 429; i++) limited = await post('message=Hi&kept_trap_leave_empty=bot', '10.20.0.3');
  return [
    { name: 'blank', ...blank, status: blank.statusCode },
    { name: 'sent', ...sent, status: sent.statusCode },
    { name: 'invalid', ...invalid, status: invalid.statusCode },
    { name: 'limited', ...limited, status: limited.statusCode },
  ].map(({ name, status, headers, body }) => ({ name, status, headers, body }));
}

describe('the form pages', () => {
  it('have no inline style, style attribute, script or event handler, and link the stylesheet', async () => {
    const all = await pages();
    expect(all.map((p) => [p.name, p.status])).toEqual([
      ['blank', 200],
      ['sent', 200],
      ['invalid', 400],
      ['limited', 429],
    ]);
    for (const { name, body } of all) {
      expect(body, name).not.toMatch(/<style/i);
      expect(body, name).not.toMatch(/\sstyle\s*=/i);
      expect(body, name).not.toMatch(/<script/i);
      expect(body, name).not.toMatch(/\son[a-z]+\s*=/i);
      expect(body, name).not.toMatch(/javascript:/i);
      expect(body, name).toContain(`<link rel="stylesheet" href="${CSS}">`);
    }
  });

  it('are sent with a CSP that allows no inline style or script (the app\'s own, not weakened), and Referrer-Policy same-origin', async () => {
    const appCsp = (await t.app.inject({ method: 'GET', url: '/api/v1/health' })).headers['content-security-policy'];
    for (const { name, headers } of await pages()) {
      const csp = String(headers['content-security-policy']);
      expect(csp, name).toMatch(/style-src 'self'/);
      expect(csp, name).toMatch(/form-action 'self'/);
      expect(csp, name).toMatch(/frame-ancestors 'none'/);
      expect(csp, name).not.toContain('unsafe-inline');
      // When the app sets a policy for everything, the page keeps it rather than sending its own.
      if (appCsp !== undefined) expect(csp, name).toBe(appCsp);
      // Not no-referrer: with it, a browser posts the page's own form with `Origin: null`.
      expect(headers['referrer-policy'], name).toBe('same-origin');
      expect(headers['cache-control'], name).toBe('no-store');
      expect(headers['x-content-type-options'], name).toBe('nosniff');
    }
  });

  it('keep their accessibility features: error summary linked to the field, aria-describedby, labels, honeypot', async () => {
    const invalid = (await pages()).find((p) => p.name === 'invalid')!.body;
    expect(invalid).toContain('<div class="summary" role="alert" tabindex="-1"><h2>There is a problem</h2>');
    expect(invalid).toContain('<a href="#email">Enter an email address in the correct format, like name@example.com</a>');
    expect(invalid).toMatch(/<input id="email"[^>]*aria-describedby="email-error"[^>]*aria-invalid="true"/);
    expect(invalid).toContain('<p class="error-message" id="email-error"><span class="visually-hidden">Error:</span>');
    expect(invalid).toContain('<div class="hp" aria-hidden="true"><label for="kept_trap_leave_empty">Leave this field empty</label><input id="kept_trap_leave_empty" name="kept_trap_leave_empty" type="text" tabindex="-1" autocomplete="off"></div>');
  });
});

describe('the stylesheet', () => {
  it('is the file server/http/forms/contact-form.css, as text/css with a cache header and an ETag', async () => {
    const r = await t.app.inject({ method: 'GET', url: CSS });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(r.headers['cache-control']).toBe('public, max-age=3600');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body).toBe(readFileSync(new URL('../../server/http/forms/contact-form.css', import.meta.url), 'utf8'));
    // Every class the pages use is styled there (the honeypot's hiding included).
    for (const cls of ['hp', 'visually-hidden', 'summary', 'error-message', 'invalid', 'panel', 'hint', 'choice', 'group']) expect(r.body).toContain(`.${cls}{`);
    const etag = String(r.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await t.app.inject({ method: 'GET', url: CSS, headers: { 'if-none-match': `W/${etag}` } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
  });

  it('needs no token', async () => {
    const r = await t.app.inject({ method: 'GET', url: CSS, headers: { authorization: 'Bearer not-a-token' } });
    expect(r.statusCode).toBe(200);
  });
});
