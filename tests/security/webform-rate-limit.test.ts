// The public form's rate limit never forgets a held address because many others posted (the old limiter forgot everyone at 10,001).
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../../server/errors.js';
import { formErrorHandler, formPostRateLimit, formRateLimit, FORM_RATE_LIMIT_ADDRESSES } from '../../server/http/plugins/form-rate-limit.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FORM = '/forms/contact';
const BROWSER = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml' };
/** A filled honeypot: validated and answered like a person's post, nothing stored. */
const BOT = 'message=Hello&kept_trap_leave_empty=bot';

describe('the real app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  const post = (remoteAddress: string, payload = BOT, headers: Record<string, string> = BROWSER) => t.app.inject({ method: 'POST', url: FORM, remoteAddress, headers, payload });

  it('an address held at 429 stays held after 10,001 other addresses have posted', async () => {
    const held = '203.0.113.9';
    for (let i = 0; i < 10; i++) expect((await post(held)).statusCode).toBe(303);
    expect((await post(held)).statusCode).toBe(429);

    // More addresses than the old limiter's 10,000, each posting once from 10.x.y.z.
    const others = 10_001;
    expect(FORM_RATE_LIMIT_ADDRESSES).toBeGreaterThan(others);
    for (let i = 0; i < others; i++) {
      const r = await post(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (r.statusCode !== 303) expect.fail(`address ${i}: ${r.statusCode} ${r.body}`);
    }

    const browser = await post(held, 'message=Still+me');
    expect(browser.statusCode).toBe(429);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    expect(Number(browser.headers['retry-after'])).toBeGreaterThan(0);
    expect(browser.body).toContain('role="alert"');
    expect(browser.body).toContain('You have sent several messages in the last minute. Wait a minute, then send your message again.');
    expect(browser.body).toContain('>Still me</textarea>');

    const script = await post(held, JSON.stringify({ message: 'Still me' }), { 'content-type': 'application/json' });
    expect(script.statusCode).toBe(429);
    expect(Number(script.headers['retry-after'])).toBeGreaterThan(0);
    expect(script.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('too many posts to the form from this address') });
    // A script that asks for JSON only gets JSON, even when it posts urlencoded.
    const json = await post(held, BOT, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    expect([json.statusCode, (json.json() as Json).statusCode]).toEqual([429, 429]);
  }, 120_000);

  it('an IPv6 address is counted with its /64 (one household, one allowance)', async () => {
    for (let i = 0; i < 10; i++) expect((await post(`2001:db8:1:2::${i + 1}`)).statusCode).toBe(303);
    expect((await post('2001:db8:1:2:ffff::1')).statusCode).toBe(429);
    expect((await post('2001:db8:1:3::1')).statusCode).toBe(303);
  });

  it('the form page and the stylesheet are not limited', async () => {
    for (let i = 0; i < 30; i++) {
      expect((await t.app.inject({ method: 'GET', url: FORM, remoteAddress: '203.0.113.50' })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/forms/contact.css', remoteAddress: '203.0.113.50' })).statusCode).toBe(200);
    }
  });
});

describe('the store forgets the longest-unseen address, one at a time, never everyone', () => {
  // A small store (5 addresses, 2 posts a minute) on a bare app, so eviction can be watched. The
  // bare app has no @fastify/rate-limit of its own: formRateLimit registers it in the form's scope.
  const app = Fastify();
  beforeAll(async () => {
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof TooManyRequestsError) return reply.status(429).send({ statusCode: 429, error: 'Too Many Requests', message: error.message });
      return reply.status(500).send({ message: String(error) });
    });
    await app.register(async (scope) => {
      await formRateLimit(scope);
      scope.post(FORM, { config: { rateLimit: formPostRateLimit(2, 5) }, errorHandler: formErrorHandler }, async () => ({ received: true }));
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });
  const post = async (remoteAddress: string) => (await app.inject({ method: 'POST', url: FORM, remoteAddress, payload: { message: 'x' } })).statusCode;

  it('an address that keeps trying is never forgotten, however many others post', async () => {
    expect([await post('192.0.2.1'), await post('192.0.2.1'), await post('192.0.2.1')]).toEqual([200, 200, 429]);
    for (let i = 0; i < 200; i++) {
      expect(await post(`198.51.100.${i}`)).toBe(200);
      // Every third newcomer, the held address tries again: it is then the most recently seen.
      if (i % 3 === 2) expect(await post('192.0.2.1'), `after ${i + 1} others`).toBe(429);
    }
  });

  it('one that goes quiet is forgotten only once the store is full of newer ones, and alone', async () => {
    expect([await post('192.0.2.2'), await post('192.0.2.2'), await post('192.0.2.2')]).toEqual([200, 200, 429]);
    expect([await post('192.0.2.3'), await post('192.0.2.3'), await post('192.0.2.3')]).toEqual([200, 200, 429]);
    // Three newcomers fill the store (192.0.2.2 and .3 are still in it)…
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) expect(await post(ip)).toBe(200);
    expect(await post('192.0.2.3')).toBe(429);
    // …a fourth pushes out the longest-unseen one, 192.0.2.2, while 192.0.2.3 stays held.
    expect(await post('203.0.113.4')).toBe(200);
    expect(await post('192.0.2.3')).toBe(429);
    expect(await post('192.0.2.2')).toBe(200);
  });
});
