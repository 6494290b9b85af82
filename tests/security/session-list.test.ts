// A person's own sessions: listed with their times (never the ids), the current one marked; nobody
// else's; and not without a session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('GET /api/v1/session/list', () => {
  it('lists my sessions, marks this one, shows no id, and nothing of anyone else', async () => {
    const ann = await t.signIn('advisor', { email: 'ann.list@staff.example.org' });
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: ann.email, password: ann.password } });
    expect(again.statusCode).toBe(200);
    await t.signIn('advisor', { email: 'bob.list@staff.example.org' });
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/session/list', headers: { cookie: ann.cookie } });
    expect(r.statusCode).toBe(200);
    const items = r.json().items as Array<Record<string, unknown>>;
    // Two open (this one and the second sign-in); the one-time password's session ended at the change.
    expect(items.filter((i) => i.revokedAt === null)).toHaveLength(2);
    expect(items.filter((i) => i.current === true)).toHaveLength(1);
    for (const i of items) expect(Object.keys(i).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'lastSeenAt', 'revokedAt']);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session/list' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session/list', headers: t.auth })).statusCode).toBe(403);
  });
});
