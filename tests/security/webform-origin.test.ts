// The public form refuses posts made by another site's page (Origin, else Referer), through the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FORM = '/forms/contact';
const URLENCODED = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml' };

let address = 0;
/** A browser-style post of the form from its own address (so the rate limit stays out of the way). */
async function post(t: TestApp, headers: Record<string, string>, fields: Record<string, string> = { message: `Hello ${address}` }) {
  const r = await t.app.inject({ method: 'POST', url: FORM, remoteAddress: `10.9.${Math.floor(++address / 250)}.${address % 250}`, headers: { ...URLENCODED, ...headers }, payload: new URLSearchParams(fields).toString() });
  return { status: r.statusCode, headers: r.headers, json: () => r.json() as Json };
}

describe('without KEPT_PUBLIC_URL: the post must come from the Host it was sent to', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a post from another site is refused 403 naming the Origin header, and nothing is stored', async () => {
    const before = t.counts();
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'http://evil.localhost', 'http://localhost:8080', 'null', 'file://', 'not a url', '']) {
      const r = await post(t, { host: 'localhost', origin });
      expect(r.status, origin).toBe(403);
      expect(r.json(), origin).toMatchObject({ statusCode: 403, error: 'Forbidden', field: 'Origin', message: expect.stringMatching(/^Origin: must be this site \(localhost\) for a post to the form; got /) });
    }
    expect(t.counts()).toEqual(before);
  });

  it('without Origin, a Referer from another site is refused naming Referer', async () => {
    const r = await post(t, { host: 'localhost', referer: 'https://evil.example/forms/contact' });
    expect([r.status, r.json().field]).toEqual([403, 'Referer']);
    // Origin is what counts when both are sent.
    expect((await post(t, { host: 'localhost', origin: 'http://localhost', referer: 'https://evil.example/' })).status).toBe(303);
    expect((await post(t, { host: 'localhost', origin: 'https://evil.example', referer: 'http://localhost/forms/contact' })).json().field).toBe('Origin');
  });

  it('a post from the form\'s own page is accepted, in either scheme (behind a TLS proxy Kept sees http)', async () => {
    const ok: Array<Record<string, string>> = [
      { host: 'localhost', origin: 'http://localhost' },
      { host: 'localhost:80', origin: 'http://localhost' },
      { host: 'kept.example.org', origin: 'https://kept.example.org' },
      { host: 'KEPT.example.org', origin: 'https://kept.example.org' },
      { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' },
      { host: '127.0.0.1:3000', referer: 'http://127.0.0.1:3000/forms/contact?sent=1' },
    ];
    for (const headers of ok) expect((await post(t, headers)).status, JSON.stringify(headers)).toBe(303);
    expect((await post(t, { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3001' })).status).toBe(403);
  });

  it('a post with neither Origin nor Referer is allowed (old browsers, privacy tools, integrations)', async () => {
    const r = await post(t, { host: 'localhost' });
    expect([r.status, r.headers.location]).toEqual([303, '/forms/contact?sent=1']);
    const script = await t.app.inject({ method: 'POST', url: FORM, remoteAddress: '10.9.200.1', payload: { message: 'From a script' } });
    expect([script.statusCode, script.json()]).toEqual([200, { received: true }]);
  });

  it('a refused post is checked before the body is read and does not use up the address\'s posts', async () => {
    const ip = '10.9.201.1';
    for (let i = 0; i < 15; i++) {
      const r = await t.app.inject({ method: 'POST', url: FORM, remoteAddress: ip, headers: { ...URLENCODED, origin: 'https://evil.example' }, payload: 'message=x' });
      expect(r.statusCode).toBe(403);
    }
    const own = await t.app.inject({ method: 'POST', url: FORM, remoteAddress: ip, headers: { ...URLENCODED, origin: 'http://localhost' }, payload: 'message=mine&kept_trap_leave_empty=bot' });
    expect(own.statusCode).toBe(303);
  });

  it('the integration route (token) has no Origin check: its callers are servers', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/webform', headers: { ...t.auth, origin: 'https://cms.example' }, payload: { message: 'Sent by a CMS', submittedAt: '2026-03-02T10:00:00Z' } });
    expect(r.statusCode).toBe(201);
  });
});

describe('with KEPT_PUBLIC_URL: the post must come from exactly that origin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ KEPT_PUBLIC_URL: 'https://kept.example.org' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('its own origin is accepted; the Host, another scheme or another port are not', async () => {
    expect((await post(t, { host: 'kept.example.org', origin: 'https://kept.example.org' })).status).toBe(303);
    expect((await post(t, { host: '10.0.0.5:3000', referer: 'https://kept.example.org/forms/contact' })).status).toBe(303);
    for (const origin of ['http://kept.example.org', 'https://kept.example.org:8443', 'http://localhost', 'https://evil.example']) {
      const r = await post(t, { host: 'localhost', origin });
      expect([r.status, r.json().field, r.json().message], origin).toEqual([403, 'Origin', `Origin: must be this site (https://kept.example.org) for a post to the form; got "${origin}"`]);
    }
    expect((await post(t, { host: 'localhost' })).status).toBe(303);
  });
});
