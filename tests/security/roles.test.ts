// The role matrix (issue 10): every route of the live route table × every role, no credential, a
// wall-screen display and an integration token, each answered 401/403 where it must; the live
// socket with each credential and a forged Origin; and, at the end, the database file grepped for
// every password, session id and display secret used.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Access, formatAccess, ROLES, type Role } from '../../server/http/access.js';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

let t: TestApp;
let port: number;
let contactId: string;
const signedIn = {} as Record<Role, SignedIn>;
let display: { cookie: string; secret: string; id: number };
const secrets: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ KEPT_FAILED_AUTH_PER_MINUTE: '1000000' });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(address).port);
  contactId = (await t.service.createContact({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z', customer: { name: 'Ann Tenant', email: 'ann@example.com' }, summary: 'Leaking tap' })).contact.id;
  for (const role of ROLES) {
    signedIn[role] = await t.signIn(role);
    secrets.push(signedIn[role].password, ...signedIn[role].cookie.split('; ').map((c) => c.split('=')[1]!));
  }
  display = await t.openDisplay('Reception');
  secrets.push(display.secret, t.token);
});
afterAll(async () => {
  await t.close();
});

/** A concrete path: a real contact, a real calendar, and ids that name nothing (so an allowed call changes nothing). */
function concrete(url: string): string {
  return url
    .replace(':standard', 'email-reply')
    .replace(':closureId', '999999')
    .replace(':name', 'no-such-token')
    .replace(':id', url.startsWith('/api/v1/calendars') ? 'customer-services' : url.startsWith('/api/v1/contacts') ? contactId : '999999');
}

type Credential = { name: string; kind: 'none' | 'role' | 'display' | 'token'; role?: Role; headers: Record<string, string> };

function allowed(access: Access, c: Credential): boolean {
  if (access === 'public') return true;
  if (access === 'token') return c.kind === 'token';
  if (c.kind === 'token') return access.token === true;
  if (c.kind === 'display') return access.display === true;
  if (c.kind === 'role') return access.roles.includes(c.role!);
  return false;
}

describe('the role matrix', () => {
  it('every route × every credential: 401 without one, 403 with the wrong one, through with the right one', async () => {
    // Sessions of its own: the matrix signs them out at its end.
    const own = {} as Record<Role, SignedIn>;
    for (const role of ROLES) {
      own[role] = await t.signIn(role);
      secrets.push(own[role].password);
    }
    const credentials: Credential[] = [
      { name: 'none', kind: 'none', headers: {} },
      ...ROLES.map((role) => ({ name: role, kind: 'role' as const, role, headers: own[role].headers })),
      { name: 'display', kind: 'display', headers: { cookie: display.cookie } },
      { name: 'token', kind: 'token', headers: t.auth },
    ];
    // Signing out last: it ends the session the other rows use.
    const routes = t.app.routeAccess
      .filter((r) => r.access !== 'public' && r.method !== 'HEAD')
      .sort((a, b) => Number(a.method === 'DELETE' && a.url === '/api/v1/session') - Number(b.method === 'DELETE' && b.url === '/api/v1/session'));
    expect(routes.length).toBeGreaterThan(25);
    const wrong: string[] = [];
    const matrix: string[] = [];
    for (const route of routes) {
      const row: string[] = [];
      for (const c of credentials) {
        const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
        const r = await t.app.inject({ method: route.method as 'GET', url: concrete(route.url), headers: c.headers, ...(body !== undefined ? { payload: body } : {}) });
        const ok = allowed(route.access, c);
        const expected = ok ? 'through' : c.kind === 'none' ? 401 : c.kind === 'token' || (c.kind !== 'display' && route.access !== 'token') || (c.kind === 'display' && route.access !== 'token') ? 403 : 401;
        // Through the door: any answer but the access hook's refusals (a route's own 401, e.g. a webhook signature, is past it).
        const refusal = (r.statusCode === 401 && ['Authorization', 'Cookie'].includes((r.json() as { field?: string }).field ?? '')) || (r.statusCode === 403 && ['forbidden', 'csrf', 'password-change-required'].includes((r.json() as { code?: string }).code ?? ''));
        const good = ok ? !refusal : r.statusCode === expected;
        if (!good) wrong.push(`${route.method} ${route.url} as ${c.name}: ${r.statusCode} (expected ${expected}) ${r.body.slice(0, 100)}`);
        if (!ok) expect(r.body).not.toContain('Ann Tenant');
        row.push(ok ? 'y' : '-');
      }
      matrix.push(`${route.method} ${route.url} [${formatAccess(route.access)}] ${row.join('')}`);
    }
    expect(wrong).toEqual([]);
    // Spot checks that the matrix is the issue's, not merely self-consistent.
    const line = (m: string, u: string) => matrix.find((l) => l.startsWith(`${m} ${u} [`))!;
    // columns: none, advisor, team-lead, manager, admin, display, token
    expect(line('GET', '/api/v1/live')).toMatch(/ --yy-yy$/);
    expect(line('GET', '/api/v1/contacts')).toMatch(/ --yy--y$/);
    expect(line('POST', '/api/v1/contacts/:id/events')).toMatch(/ --y---y$/);
    expect(line('POST', '/api/v1/users')).toMatch(/ ----y--$/);
    expect(line('GET', '/api/v1/audit')).toMatch(/ ----y-y$/);
    // Issue 11: alert rules and the board message are the floor's; notices and displays the admin's.
    expect(line('POST', '/api/v1/alert-rules')).toMatch(/ --yy---$/);
    expect(line('PUT', '/api/v1/board/message')).toMatch(/ --yy---$/);
    expect(line('GET', '/api/v1/board/message')).toMatch(/ --yy-y-$/);
    expect(line('POST', '/api/v1/notices')).toMatch(/ ----y--$/);
    expect(line('GET', '/api/v1/boards')).toMatch(/ --yyyy-$/);
    expect(line('PUT', '/api/v1/displays/:id/boards')).toMatch(/ ----y--$/);
    expect(line('POST', '/api/v1/ingest/email')).toMatch(/ ------y$/);
    expect(line('POST', '/api/v1/calendars/:id/closures')).toMatch(/ ----y-y$/);
    // The weekly report (issue 16): read by managers, team leads, admins and integrations; published by people only.
    expect(line('GET', '/api/v1/reports/weekly/:week')).toMatch(/ --yyy-y$/);
    // …and the contacts behind each of its figures, to the same people.
    expect(line('GET', '/api/v1/reports/weekly/:week/contacts')).toMatch(/ --yyy-y$/);
    expect(line('POST', '/api/v1/reports/weekly/:week/publish')).toMatch(/ --yyy--$/);
    expect(line('POST', '/api/v1/reports/weekly/:week/regenerate')).toMatch(/ --yyy--$/);
    expect(line('GET', '/api/v1/reports/trend')).toMatch(/ --yyy-y$/);
    expect(line('GET', '/api/v1/reports/regulator')).toMatch(/ --yyy-y$/);
    expect(line('POST', '/api/v1/ingest/amazon-connect')).toMatch(/ ------y$/);
    expect(line('POST', '/api/v1/ingest/genesys-cloud')).toMatch(/ ------y$/);
    expect(line('GET', '/api/v1/staffing')).toMatch(/ --yyyyy$/);
    expect(line('GET', '/api/v1/advisors')).toMatch(/ --yyyyy$/);
    expect(line('GET', '/api/v1/admin/phone-queues')).toMatch(/ ----y--$/);
  });
});

describe('the live socket', () => {
  const open = (headers: Record<string, string>, query = '') =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live${query}`, { headers });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      ws.once('error', () => resolve(-1));
    });
  const origin = () => `http://127.0.0.1:${port}`;

  it('no credential, or the old same-origin trick, is refused', async () => {
    expect(await open({})).toBe(401);
    expect(await open({ origin: origin() })).toBe(401);
    // Origin equal to a forged Host: never trusted.
    expect(await open({ origin: 'http://evil.example', host: 'evil.example' })).toBe(401);
  });

  it('a board role with Kept\'s own Origin opens it; a forged or missing Origin does not', async () => {
    for (const role of ['team-lead', 'manager'] as const) expect(await open({ cookie: signedIn[role].cookie, origin: origin() }), role).toBe(101);
    expect(await open({ cookie: signedIn['team-lead'].cookie, origin: `http://localhost:${port}` })).toBe(101);
    expect(await open({ cookie: signedIn['team-lead'].cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await open({ cookie: signedIn['team-lead'].cookie, origin: 'http://evil.example', host: 'evil.example' })).toBe(403);
    expect(await open({ cookie: signedIn['team-lead'].cookie, origin: 'null' })).toBe(403);
    expect(await open({ cookie: signedIn['team-lead'].cookie })).toBe(403);
  });

  it('an advisor and an admin are refused the board', async () => {
    expect(await open({ cookie: signedIn.advisor.cookie, origin: origin() })).toBe(403);
    expect(await open({ cookie: signedIn.admin.cookie, origin: origin() })).toBe(403);
  });

  it('a display opens it from Kept\'s origin, not from another; a revoked display is refused', async () => {
    expect(await open({ cookie: display.cookie, origin: origin() })).toBe(101);
    expect(await open({ cookie: display.cookie, origin: 'http://evil.example' })).toBe(403);
    const other = await t.openDisplay('Soon revoked');
    secrets.push(other.secret);
    expect(await open({ cookie: other.cookie, origin: origin() })).toBe(101);
    await t.app.people.revokeDisplay(other.id, Date.now());
    expect(await open({ cookie: other.cookie, origin: origin() })).toBe(401);
  });

  it('an API token still opens it (header or query), with no Origin', async () => {
    expect(await open(t.auth)).toBe(101);
    expect(await open({}, `?access_token=${t.token}`)).toBe(101);
  });
});

describe('a display', () => {
  it('sees the board and nothing else', async () => {
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: display.cookie } });
    expect(me.json()).toMatchObject({ role: 'display', name: 'Reception', email: null });
    for (const url of ['/api/v1/contacts', `/api/v1/contacts/${contactId}`, '/api/v1/calendars', '/api/v1/audit', '/api/v1/users']) {
      expect((await t.app.inject({ method: 'GET', url, headers: { cookie: display.cookie } })).statusCode, url).toBe(403);
    }
  });

  it('a wrong link is 401 and sets nothing', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/display?key=kd_not-a-real-display-secret-at-all' });
    expect(r.statusCode).toBe(401);
    expect(r.headers['set-cookie']).toBeUndefined();
  });
});

describe('secrets at rest', () => {
  it('the database file holds no password, session id, display secret or token in clear', () => {
    t.connection.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat([readFileSync(t.config.dbFile), ...['-wal'].flatMap((s) => { try { return [readFileSync(`${t.config.dbFile}${s}`)]; } catch { return []; } })]).toString('latin1');
    const found = secrets.filter((s) => s.length >= 8 && bytes.includes(s));
    expect(secrets.length).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });
});
