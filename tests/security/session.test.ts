// Sign-in and sessions (issue 10): the HTTP contract, cookie attributes, the one-time password,
// CSRF, throttling per account and per address, the temporary lock, expiry, revocation, the audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, oneTimePassword } from '../../server/people/passwords.js';
import { cookiesFrom, recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let clock = Date.now();
let address = 0;
/** Each test signs in from its own address, so per-address counts do not leak between tests. */
const nextAddress = () => `10.0.${Math.floor(++address / 250)}.${(address % 250) + 1}`;

beforeAll(async () => {
  t = await startTestApp({ KEPT_FAILED_AUTH_PER_MINUTE: '8', KEPT_SIGNIN_LOCK_AFTER: '3', KEPT_SIGNIN_LOCK_MINUTES: '15', KEPT_SESSION_IDLE_MINUTES: '30', KEPT_SESSION_MAX_HOURS: '2' }, { now: () => clock });
});
afterAll(async () => {
  await t.close();
});

async function person(role: 'advisor' | 'team-lead' | 'manager' | 'admin', email: string) {
  const password = oneTimePassword();
  recordSecret(password);
  const user = await t.app.people.create({ email, name: email.split('@')[0]!, role, passwordHash: await hashPassword(password) }, clock);
  return { user, password };
}

const signIn = (email: string, password: string, remoteAddress = nextAddress()) => t.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress, payload: { email, password } });

describe('POST /api/v1/session', () => {
  it('signs in: 200, the person, a CSRF token, and an HttpOnly SameSite=Lax cookie holding a random id stored hashed', async () => {
    const { password } = await person('team-lead', 'Lead.One@Staff.example.org');
    const r = await signIn('lead.one@staff.example.org', password);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ email: 'lead.one@staff.example.org', name: 'Lead.One', role: 'team-lead', mustChangePassword: true });
    expect(typeof r.json().csrfToken).toBe('string');
    const session = r.cookies.find((c) => c.name === 'kept_session')!;
    recordSecret(session.value);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(session.secure).toBeUndefined();
    expect(session.value.length).toBeGreaterThanOrEqual(40);
    const stored = t.connection.sqlite.prepare('SELECT id_hash FROM sessions').pluck().all() as string[];
    expect(stored).not.toContain(session.value);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('a wrong password and an unknown email answer the same 401, naming nothing more', async () => {
    const { password } = await person('advisor', 'adv.wrong@staff.example.org');
    const wrong = await signIn('adv.wrong@staff.example.org', `${password}x`);
    const unknown = await signIn('nobody@staff.example.org', password);
    for (const r of [wrong, unknown]) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ statusCode: 401, error: 'Unauthorized', code: 'unauthorized', message: 'email or password is wrong' });
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('a disabled account cannot sign in, and its sessions end at once', async () => {
    const { user, password } = await person('manager', 'mgr.disabled@staff.example.org');
    const ok = await signIn(user.email, password);
    const cookie = cookiesFrom(ok.headers['set-cookie']);
    recordSecret(ok.cookies.find((c) => c.name === 'kept_session')!.value);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(200);
    await t.app.people.disable(user.id, clock);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await signIn(user.email, password)).statusCode).toBe(401);
  });

  it('is Secure when KEPT_PUBLIC_URL is https', async () => {
    const https = await startTestApp({ KEPT_PUBLIC_URL: 'https://kept.example.org' });
    try {
      const password = oneTimePassword();
      recordSecret(password);
      https.app.people.create({ email: 'tl@staff.example.org', name: 'TL', role: 'team-lead', passwordHash: await hashPassword(password) }, Date.now());
      const r = await https.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'tl@staff.example.org', password } });
      const session = r.cookies.find((c) => c.name === 'kept_session')!;
      recordSecret(session.value);
      expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
      const csrf = r.cookies.find((c) => c.name === 'kept_csrf')!;
      expect(csrf).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
    } finally {
      await https.close();
    }
  });
});

describe('the one-time password', () => {
  it('must be changed before anything else; the new password follows the rules; old sessions end', async () => {
    const { password } = await person('team-lead', 'lead.otp@staff.example.org');
    const first = await signIn('lead.otp@staff.example.org', password);
    recordSecret(first.cookies.find((c) => c.name === 'kept_session')!.value);
    let cookie = cookiesFrom(first.headers['set-cookie']);
    const headers = () => ({ cookie, 'x-csrf-token': first.json().csrfToken as string });
    const blocked = await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: headers() });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ code: 'password-change-required' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: headers() })).json()).toMatchObject({ mustChangePassword: true });
    const weak = await t.app.inject({ method: 'POST', url: '/api/v1/session/password', headers: headers(), payload: { current: password, new: 'short' } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({ field: 'new', code: 'weak-password' });
    const same = await t.app.inject({ method: 'POST', url: '/api/v1/session/password', headers: headers(), payload: { current: password, new: password } });
    expect(same.statusCode).toBe(400);
    const wrongCurrent = await t.app.inject({ method: 'POST', url: '/api/v1/session/password', headers: headers(), payload: { current: `${password}x`, new: 'a-much-better-password-1' } });
    expect(wrongCurrent.json()).toMatchObject({ field: 'current', code: 'wrong-password' });
    const next = 'correct horse battery staple 7';
    recordSecret(next);
    const changed = await t.app.inject({ method: 'POST', url: '/api/v1/session/password', headers: headers(), payload: { current: password, new: next } });
    expect(changed.statusCode).toBe(204);
    const old = cookie;
    recordSecret(changed.cookies.find((c) => c.name === 'kept_session')!.value);
    cookie = cookiesFrom(changed.headers['set-cookie'], cookie);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { cookie: old } })).statusCode).toBe(401);
    expect((await signIn('lead.otp@staff.example.org', password)).statusCode).toBe(401);
    expect((await signIn('lead.otp@staff.example.org', next)).statusCode).toBe(200);
  });
});

describe('CSRF', () => {
  it('a state-changing request with the session cookie needs X-CSRF-Token; an API token needs none', async () => {
    const lead = await t.signIn('team-lead');
    const contact = (await t.service.createContact({ channel: 'email', receivedAt: new Date(clock - 3_600_000).toISOString(), customer: { name: 'C' }, summary: 's' })).contact.id;
    const event = { type: 'assigned', at: new Date(clock - 60_000).toISOString(), assignee: 'adv@staff.example.org' };
    const url = `/api/v1/contacts/${contact}/events`;
    const none = await t.app.inject({ method: 'POST', url, headers: { cookie: lead.cookie }, payload: event });
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ code: 'csrf', field: 'X-CSRF-Token' });
    const wrong = await t.app.inject({ method: 'POST', url, headers: { cookie: lead.cookie, 'x-csrf-token': 'forged' }, payload: event });
    expect(wrong.json()).toMatchObject({ code: 'csrf' });
    // A cross-site page has the session cookie (SameSite=Lax aside) but not the CSRF secret cookie.
    const noSecret = await t.app.inject({ method: 'POST', url, headers: { cookie: lead.cookie.split('; ').filter((c) => !c.startsWith('kept_csrf=')).join('; '), 'x-csrf-token': lead.csrfToken }, payload: event });
    expect(noSecret.json()).toMatchObject({ code: 'csrf' });
    expect((await t.counts()).events).toBe(0);
    const ok = await t.app.inject({ method: 'POST', url, headers: lead.headers, payload: event });
    expect(ok.statusCode).toBe(200);
    const byToken = await t.app.inject({ method: 'POST', url, headers: t.auth, payload: { ...event, at: new Date(clock - 30_000).toISOString() } });
    expect(byToken.statusCode).toBe(200);
    // The person's change is in the audit trail under their email, the integration's under its token's name.
    const audit = (await t.service.audit.page({ actor: lead.email, action: 'contact.events' }));
    expect(audit.items.map((i) => i.detail)).toEqual([{ contactId: contact, events: ['assigned'] }]);
    expect((await t.service.audit.page({ actor: 'test', action: 'contact.events' })).items.map((i) => i.detail)).toEqual([{ contactId: contact, events: ['assigned'] }]);
  });

  it('records who opened each contact (the token, or the public form) in the same transaction, with no customer details', async () => {
    const byApi = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: t.auth, payload: { channel: 'email', receivedAt: new Date(clock).toISOString(), customer: { name: 'Bo Tenant', email: 'bo.audit@example.com', phone: '07700 900777' }, summary: 'Broken gate' } });
    expect(byApi.statusCode).toBe(201);
    const form = await t.app.inject({ method: 'POST', url: '/forms/contact', headers: { host: 'localhost', origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: 'name=Cy+Tenant&email=cy.audit%40example.com&message=Damp+in+the+bedroom' });
    expect(form.statusCode).toBe(303);
    const created = (await t.service.audit.page({ action: 'contact.create' })).items;
    expect(created.find((i) => i.actor === 'test')?.detail).toEqual({ contactId: byApi.json().id, channel: 'email', route: 'customer-services', category: 'general', events: [] });
    expect(created.find((i) => i.actor === 'public-form')?.detail).toMatchObject({ channel: 'webform' });
    const all = JSON.stringify(created);
    for (const secret of ['bo.audit@example.com', '07700 900777', 'Bo Tenant', 'Broken gate', 'cy.audit@example.com']) expect(all).not.toContain(secret);
  });

  it('sign-out needs it too, and ends the session', async () => {
    const m = await t.signIn('manager');
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: m.cookie } })).statusCode).toBe(403);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: m.headers });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'kept_session')?.value).toBe('');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: m.cookie } })).statusCode).toBe(401);
  });
});

describe('throttling and the lock', () => {
  it('locks an account after 3 failures in a row: the next try is 429 even with the right password, audited; the same for an unknown email', async () => {
    const { user, password } = await person('advisor', 'adv.lock@staff.example.org');
    for (let i = 0; i < 3; i++) expect((await signIn(user.email, `wrong-${i}-${password}`)).statusCode).toBe(401);
    const locked = await signIn(user.email, password);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);
    expect(locked.json().message).not.toMatch(/adv\.lock/);
    expect((await t.app.people.byEmail(user.email))!.lockedUntil).toBeGreaterThan(clock);
    expect((await t.service.audit.page({ actor: user.email, action: 'user.locked' })).items).toHaveLength(1);
    expect((await t.service.audit.page({ actor: user.email, action: 'session.signin-failed' })).items).toHaveLength(3);
    // An email nobody has: throttled the same way, so a 429 tells nothing about who has an account.
    for (let i = 0; i < 3; i++) expect((await signIn("ghost@staff.example.org", `wrong-${i}-${password}`)).statusCode).toBe(401);
    expect((await signIn('ghost@staff.example.org', password)).statusCode).toBe(429);
  });

  it('the database lock holds after the throttle window; it ends when its time is up', async () => {
    const { user, password } = await person('advisor', 'adv.lock2@staff.example.org');
    await t.app.people.recordFailure(user.id, 1, 15 * 60_000, clock);
    // A restart forgets the in-memory throttle; the lock in the database still refuses (401, nothing more).
    expect((await signIn(user.email, password)).statusCode).toBe(401);
    clock += 16 * 60_000;
    const after = await signIn(user.email, password);
    expect(after.statusCode).toBe(200);
    recordSecret(after.cookies.find((c) => c.name === 'kept_session')!.value);
  });

  it('throttles an address trying many accounts: 429 once it has failed KEPT_FAILED_AUTH_PER_MINUTE times', async () => {
    const from = nextAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await signIn(`spray-${i}@staff.example.org`, 'not the password', from)).statusCode);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(401));
    expect(statuses.slice(8)).toEqual([429, 429]);
    // Another address is not held back.
    const { password } = await person('manager', 'mgr.ok@staff.example.org');
    const ok = await signIn('mgr.ok@staff.example.org', password);
    expect(ok.statusCode).toBe(200);
    recordSecret(ok.cookies.find((c) => c.name === 'kept_session')!.value);
  });
});

describe('session lifetimes', () => {
  it('ends after the idle time, and after the absolute time however busy', async () => {
    const a = await t.signIn('manager');
    const get = () => t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: a.cookie } });
    expect((await get()).statusCode).toBe(200);
    clock += 29 * 60_000;
    expect((await get()).statusCode).toBe(200);
    clock += 31 * 60_000;
    expect((await get()).statusCode).toBe(401);
    const b = await t.signIn('manager');
    for (let i = 0; i < 5; i++) {
      clock += 25 * 60_000;
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: b.cookie } })).statusCode, `after ${(i + 1) * 25} min`).toBe(i < 4 ? 200 : 401);
    }
  });
});

describe('the audit trail', () => {
  it('records sign-ins and admin changes; admins read it filtered and paged', async () => {
    const admin = await t.signIn('admin');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: 'New.Advisor@staff.example.org', name: 'New Advisor', role: 'advisor', queues: ['repairs'] } });
    expect(created.statusCode).toBe(201);
    recordSecret(created.json().oneTimePassword);
    expect(created.json().user).toMatchObject({ email: 'new.advisor@staff.example.org', role: 'advisor', queues: ['repairs'], mustChangePassword: true });
    const reset = await t.app.inject({ method: 'POST', url: `/api/v1/users/${created.json().user.id}/reset`, headers: admin.headers });
    recordSecret(reset.json().oneTimePassword);
    expect(reset.json().oneTimePassword).not.toBe(created.json().oneTimePassword);
    // The admin's answers name the person, never the stored hash or the failure count (every route
    // answering a user: created, reset, disabled, enabled, queues set, the list).
    const id = created.json().user.id as number;
    const answers = [
      created.json().user,
      reset.json().user,
      (await t.app.inject({ method: 'POST', url: `/api/v1/users/${id}/disable`, headers: admin.headers })).json(),
      (await t.app.inject({ method: 'POST', url: `/api/v1/users/${id}/enable`, headers: admin.headers })).json(),
      (await t.app.inject({ method: 'PUT', url: `/api/v1/users/${id}/queues`, headers: admin.headers, payload: { queues: ['repairs', 'rents'] } })).json(),
      ...(await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })).json().items,
    ] as Array<Record<string, unknown>>;
    expect(answers.find((u) => u.id === id && Array.isArray(u.queues) && u.queues.length === 2)).toMatchObject({ email: 'new.advisor@staff.example.org', disabled: false });
    for (const u of answers) expect(Object.keys(u).sort()).toEqual(['createdAt', 'disabled', 'email', 'id', 'lockedUntil', 'mustChangePassword', 'name', 'queues', 'role']);
    const q = (query: string) => t.app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: { cookie: admin.cookie } });
    const mine = (await q(`actor=${encodeURIComponent(admin.email)}`)).json();
    expect(mine.items.map((i: { action: string }) => i.action)).toEqual(['user.queues', 'user.enable', 'user.disable', 'user.reset', 'user.create', 'user.password-changed', 'session.signin']);
    const page1 = (await q('action=session.signin&limit=2')).json();
    expect(page1.items).toHaveLength(2);
    const page2 = (await q(`action=session.signin&limit=2&cursor=${page1.next}`)).json();
    expect(page2.items[0].id).toBeLessThan(page1.items[1].id);
    const none = (await q(`from=${new Date(clock + 60_000).toISOString()}`)).json();
    expect(none.items).toEqual([]);
    // Keyed plans: each filter walks an index in id order (no sort, no OFFSET).
    const plan = (sql: string, ...args: unknown[]) => (t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    expect(plan('SELECT id FROM audit INDEXED BY audit_actor_id WHERE actor = ? AND id < ? ORDER BY id DESC LIMIT 51', 'a', 10)).not.toMatch(/TEMP B-TREE/);
    expect(plan('SELECT id FROM audit INDEXED BY audit_action_id WHERE action = ? AND at >= ? ORDER BY id DESC LIMIT 51', 'a', 10)).not.toMatch(/TEMP B-TREE/);
    expect(plan('SELECT id FROM audit WHERE at >= ? AND id < ? ORDER BY id DESC LIMIT 51', 0, 10)).not.toMatch(/TEMP B-TREE/);
    // Nobody's password, and no customer's contact details, in the trail.
    const all = JSON.stringify((await t.service.audit.page({ limit: 500 })).items);
    expect(all).not.toContain(created.json().oneTimePassword);
    expect(all).not.toContain('ghost@staff.example.org');
  });
});
