// The webform adapter and the public form, on a real SQLite file through the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

// The service's clock is ours: the resubmission window is tested by moving it.
let now = Date.parse('2026-03-02T10:00:00Z');
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { now: () => now });
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const API = '/api/v1/ingest/webform';
const FORM = '/forms/contact';
const URLENCODED = { 'content-type': 'application/x-www-form-urlencoded' };
let address = 0;
/** Each call from its own address unless given one, so the public form's rate limit stays out of the way. */
const inject = async (method: 'GET' | 'POST', url: string, payload?: Json | string, headers: Record<string, string> = {}, remoteAddress = `10.0.0.${++address % 250}`) => {
  const r = await t.app.inject({ method, url, remoteAddress, ...(payload !== undefined ? { payload } : {}), headers });
  return { status: r.statusCode, body: r.body, headers: r.headers, json: () => r.json() as Json };
};
const api = (payload: Json | string, headers: Record<string, string> = {}) => inject('POST', API, payload, { ...t.auth, ...(typeof payload === 'string' ? URLENCODED : {}), ...headers });
const form = (fields: Record<string, string>, headers: Record<string, string> = {}, ip?: string) =>
  inject('POST', FORM, new URLSearchParams(fields).toString(), { ...URLENCODED, accept: 'text/html,application/xhtml+xml', ...headers }, ip);
const standards = (c: Json) => (c.clocks as Json[]).map((k) => k.standard);
const clock = (c: Json, standard: string) => (c.clocks as Json[]).find((k) => k.standard === standard);

describe('the integration route', () => {
  it('a urlencoded post opens a webform contact with the customer\'s details and a webform-reply clock', async () => {
    const body = new URLSearchParams({
      formType: 'general',
      name: 'Ann Tenant',
      email: 'ann@example.com',
      phone: '07700 900123',
      address: '1 Harbour View\nPlymouth PL1 1AA',
      reference: 'T-004512',
      preferredContact: 'phone',
      accessibilityNeeds: 'Hard of hearing: text first please',
      subject: 'Rent statement',
      message: 'Please send me my rent statement for last year.',
      submissionId: 'cms-1001',
      submittedAt: '2026-03-02T10:00:00Z',
    }).toString();
    const r = await api(body);
    expect(r.status).toBe(201);
    const c = r.json();
    expect(c).toMatchObject({
      channel: 'webform',
      route: 'customer-services',
      category: 'general',
      externalId: 'cms-1001',
      receivedAt: '2026-03-02T10:00:00.000Z',
      subject: 'Rent statement',
      summary: 'Please send me my rent statement for last year.',
      customer: {
        name: 'Ann Tenant',
        email: 'ann@example.com',
        phone: '07700 900123',
        address: '1 Harbour View\nPlymouth PL1 1AA',
        reference: 'T-004512',
        preferredContact: 'phone',
        accessibilityNeeds: 'Hard of hearing: text first please',
      },
    });
    expect(standards(c)).toEqual(['webform-reply']);
    expect(clock(c, 'webform-reply')!.dueAt).toBe('2026-03-03T10:00:00.000Z');
  });

  it('a JSON post works the same; each form type sets the category', async () => {
    for (const [formType, category] of [
      ['feedback', 'feedback'],
      ['asb', 'asb'],
      ['general', 'general'],
    ] as const) {
      const r = await api({ formType, message: `About ${formType}`, name: 'Bo Resident', submittedAt: '2026-03-02T11:00:00+00:00' });
      expect(r.status).toBe(201);
      expect(r.json().category).toBe(category);
      expect(r.json().subject).toMatch(/web form/);
    }
  });

  it('a complaint gets the complaint clocks and no webform-reply (STANDARDS §7 example 13)', async () => {
    const r = await api({ formType: 'complaint', name: 'Bea Resident', email: 'bea@example.com', message: 'The kitchen repair was not finished.', submittedAt: '2026-03-06T16:00:00Z' });
    expect(r.status).toBe(201);
    const c = r.json();
    expect(c.category).toBe('complaint');
    expect(standards(c)).toEqual(['complaint-acknowledge', 'complaint-resolve']);
    expect(clock(c, 'complaint-acknowledge')!.dueAt).toBe('2026-03-07T16:00:00.000Z');
    expect(clock(c, 'complaint-resolve')!.dueAt).toBe('2026-03-20T16:00:00.000Z');
  });

  it('without submittedAt the server\'s time is the arrival', async () => {
    const r = await api({ message: 'What day are the bins collected?', email: 'cal@example.com' });
    expect(r.json().receivedAt).toBe(new Date(now).toISOString());
  });
});

describe('idempotency', () => {
  it('the same submissionId again is 200 with the stored contact; other content under it is 409', async () => {
    const sub = { formType: 'general', message: 'My boiler is making a noise.', submissionId: 'cms-2001' };
    const first = await api(sub);
    expect(first.status).toBe(201);
    const before = await t.counts();
    now += 30_000; // resent 30 s later without submittedAt: still the same submission
    const again = await api(sub);
    expect([again.status, again.json().id, again.json().receivedAt]).toEqual([200, first.json().id, first.json().receivedAt]);
    expect((await api({ ...sub, message: 'Something else' })).status).toBe(409);
    expect(await t.counts()).toEqual(before);
  });

  it('a double-click without any id is one contact; the same words another day are a new one', async () => {
    now = Date.parse('2026-03-02T10:08:00Z');
    const sub = { formType: 'general', name: 'Di Tenant', message: 'Can I have a parking permit?' };
    const first = await api(sub);
    expect(first.status).toBe(201);
    const before = await t.counts();
    now += 2_000;
    const second = await api(new URLSearchParams(sub).toString());
    expect([second.status, second.json().id]).toEqual([200, first.json().id]);
    now += 9 * 60_000; // a reload-and-resend a few minutes later (into the next 10-minute window)
    expect((await api(sub)).json().id).toBe(first.json().id);
    expect(await t.counts()).toEqual(before);
    now += 24 * 3600_000;
    const nextDay = await api(sub);
    expect(nextDay.status).toBe(201);
    expect(nextDay.json().id).not.toBe(first.json().id);
  });

  it('with submittedAt and no id, an exact replay is 200', async () => {
    const sub = { formType: 'feedback', message: 'Great job on the garden.', submittedAt: '2026-03-02T12:00:00Z' };
    const first = await api(sub);
    const before = await t.counts();
    const again = await api(sub);
    expect([again.status, again.json().id]).toEqual([200, first.json().id]);
    expect(await t.counts()).toEqual(before);
  });
});

describe('bots and bad input store nothing', () => {
  it('a filled honeypot on the public form is answered as accepted and stores nothing', async () => {
    const before = await t.counts();
    const bot = { formType: 'general', name: 'Cheap Pills', email: 'bot@spam.example', message: 'Buy now', kept_trap_leave_empty: 'http://spam.example' };
    const browser = await form(bot);
    expect([browser.status, browser.headers.location]).toEqual([303, '/forms/contact?sent=1']);
    const script = await inject('POST', FORM, bot);
    expect([script.status, script.json()]).toEqual([200, { received: true }]);
    expect(await t.counts()).toEqual(before);
  });

  it('the token API has no honeypot: a real form\'s `website` field is just a field (issue 13)', async () => {
    const r = await api({ formType: 'general', name: 'Dee Tenant', message: 'My neighbour\'s website address is on the letter', website: 'https://example.com' });
    expect(r.status).toBe(201);
  });

  it('missing message, bad formType, a timestamp without offset and other mistakes are 400 naming the field', async () => {
    const before = await t.counts();
    const cases: Array<[Json, string]> = [
      [{ formType: 'general', name: 'No Message' }, 'message'],
      [{ formType: 'general', message: '   ' }, 'message'],
      [{ formType: 'praise', message: 'Hello' }, 'formType'],
      [{ message: 'Hello', submittedAt: '2026-03-02T10:00:00' }, 'submittedAt'],
      [{ message: 'Hello', submittedAt: 'last Tuesday' }, 'submittedAt'],
      [{ message: 'Hello', email: 'not-an-address' }, 'email'],
      [{ message: 'Hello', preferredContact: 'pigeon' }, 'preferredContact'],
      [{ message: 'Hello', preferredContact: 'email' }, 'email'],
      [{ message: 'Hello', preferredContact: 'letter', name: 'Ed' }, 'address'],
      [{ message: 'x'.repeat(10_001) }, 'message'],
      [{ message: 'Hello', phone: 12345678 }, 'phone'],
    ];
    for (const [body, field] of cases) {
      const r = await api(body);
      expect([r.status, r.json().field], JSON.stringify(body).slice(0, 80)).toEqual([400, field]);
    }
    // The same mistakes urlencoded.
    const missing = await api(new URLSearchParams({ formType: 'complaint', name: 'No Message' }).toString());
    expect([missing.status, missing.json().field]).toEqual([400, 'message']);
    expect(await t.counts()).toEqual(before);
  });

  it('the /api route needs a token; the public form does not', async () => {
    const before = await t.counts();
    const r = await inject('POST', API, { message: 'Hello' });
    expect(r.status).toBe(401);
    expect((await inject('POST', API, { message: 'Hello' }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect(await t.counts()).toEqual(before);
    const ok = await form({ message: 'Hello from the website' });
    expect(ok.status).toBe(303);
    expect((await t.counts()).contacts).toBe(before.contacts + 1);
  });
});

describe('a browser', () => {
  it('GET /forms/contact is an accessible HTML form: every field labelled, a legend for the form type, required in words', async () => {
    const r = await inject('GET', FORM);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    const page = r.body;
    expect(page).toContain('<html lang="en-GB">');
    expect(page).toContain('<form method="post" action="/forms/contact"');
    expect(page).toContain('<legend>What is it about?</legend>');
    expect(page).toContain('<label for="message">Your message (required)</label>');
    // The look is the linked stylesheet (the CSP allows no inline style), focus styles included.
    expect(page).toContain('<link rel="stylesheet" href="/forms/contact.css">');
    expect(page).not.toContain('<style');
    expect(page).not.toContain('<script');
    const css = await inject('GET', '/forms/contact.css');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    expect(css.body).toMatch(/:focus-visible\{outline:3px/);
    // Every input and textarea (radios included) has a label tied to its id.
    const ids = [...page.matchAll(/<(?:input|textarea)[^>]* id="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toEqual(expect.arrayContaining(['formType', 'formType-complaint', 'subject', 'message', 'name', 'email', 'phone', 'address', 'reference', 'preferredContact', 'accessibilityNeeds', 'kept_trap_leave_empty']));
    for (const id of ids) expect(page, id).toContain(`<label for="${id}">`);
    // The honeypot is out of sight, out of the tab order and hidden from screen readers.
    expect(page).toMatch(/<div class="hp" aria-hidden="true">.*tabindex="-1"/);
  });

  it('a form post redirects to a clear success page', async () => {
    const r = await form({ formType: 'asb', name: 'Cal', message: 'Loud music every night after midnight.' });
    expect([r.status, r.headers.location]).toEqual([303, '/forms/contact?sent=1']);
    const sent = await inject('GET', '/forms/contact?sent=1');
    expect(sent.body).toContain('role="status"');
    expect(sent.body).toContain('Thank you');
    expect(sent.body).toContain('<title>Message sent');
    const list = (await inject('GET', '/api/v1/contacts?channel=webform&limit=500', undefined, t.auth)).json().items as Json[];
    expect(list.some((c) => c.summary === 'Loud music every night after midnight.' && c.category === 'asb')).toBe(true);
  });

  it('a mistake re-renders the form with the error linked to its field and the visitor\'s answers kept (escaped)', async () => {
    const before = await t.counts();
    const r = await form({ formType: 'complaint', name: 'Dan <b>O\'Neil</b>', email: 'dan@example.com', message: '' });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('<title>Error: Contact us</title>');
    expect(r.body).toContain('role="alert"');
    expect(r.body).toContain('<a href="#message">Enter your message</a>');
    expect(r.body).toMatch(/<textarea id="message"[^>]*aria-describedby="message-hint message-error"[^>]*aria-invalid="true"/);
    expect(r.body).toContain('value="Dan &#60;b&#62;O&#39;Neil&#60;/b&#62;"');
    expect(r.body).not.toContain('<b>O');
    expect(r.body).toMatch(/value="complaint" checked/);
    expect(await t.counts()).toEqual(before);
  });

  it('the /api route answers a browser (urlencoded, Accept text/html) with the redirect or the form', async () => {
    const html = { accept: 'text/html' };
    const ok = await api(new URLSearchParams({ message: 'Sent by a site\'s own form', submittedAt: '2026-03-02T13:00:00Z' }).toString(), html);
    expect([ok.status, ok.headers.location]).toEqual([303, '/forms/contact?sent=1']);
    const bad = await api(new URLSearchParams({ message: 'x', formType: 'nonsense' }).toString(), html);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<a href="#formType">Choose what your message is about</a>');
  });

  it('the public form allows 10 posts a minute from one address', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 10; i++) expect((await form({ message: `Message ${i}`, kept_trap_leave_empty: 'bot' }, {}, ip)).status).toBe(303);
    const limited = await form({ message: 'One more' }, {}, ip);
    expect(limited.status).toBe(429);
    // Retry-After: the seconds left in this address's minute.
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(55);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['content-type']).toMatch(/^text\/html/);
    expect(limited.body).toContain('<title>Error: Contact us</title>');
    expect(limited.body).toContain('Wait a minute');
    expect(limited.body).toContain('>One more</textarea>');
    const script = await inject('POST', FORM, { message: 'As JSON' }, {}, ip);
    expect(script.status).toBe(429);
    expect(script.headers['retry-after']).toBe(limited.headers['retry-after']);
    expect(script.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/^too many posts to the form from this address \(10 a minute\): wait \d+ s$/) });
    expect((await form({ message: 'Another address', kept_trap_leave_empty: 'bot' }, {}, '192.0.2.78')).status).toBe(303);
  });
});
