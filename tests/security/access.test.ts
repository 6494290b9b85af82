// Access is a property of the route: the route table is read from the app itself, and every
// protected route is tried with no credential, a bad one, a revoked one, and its path spelled every
// way a router might decode (percent-encoding, double and trailing slashes, `;`, dot segments),
// over real HTTP with the path sent byte for byte. None may answer data or store anything.
import { request as httpRequest } from 'node:http';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Access, registerAccess } from '../../server/http/access.js';
import { asyncOf } from '../../server/store/ports.js';
import fastifyRateLimit from '@fastify/rate-limit';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let port: number;
let contactId: string;
let revoked: string;

/** A raw HTTP request: the path goes on the wire exactly as written (no URL normalisation). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const enc = (c: string, upper: boolean) => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex.toLowerCase()}`;
};
const isLetter = (c: string) => /[a-z]/i.test(c);

/** Every spelling of `path` a router might take for the same route. */
export function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const join = (segs: string[]) => `/${segs.join('/')}`;
  const out = new Set<string>([path]);
  segments.forEach((seg, i) => {
    const firstLetter = [...seg].findIndex(isLetter);
    if (firstLetter === -1) return;
    for (const upper of [false, true]) {
      const first = seg.slice(0, firstLetter) + enc(seg[firstLetter]!, upper) + seg.slice(firstLetter + 1);
      const every = [...seg].map((c) => (isLetter(c) ? enc(c, upper) : c)).join('');
      out.add(join(segments.map((s, j) => (j === i ? first : s))));
      out.add(join(segments.map((s, j) => (j === i ? every : s))));
    }
    out.add(join(segments.map((s, j) => (j === i ? `${s};x` : s)))); // matrix parameter
    out.add(join(segments.map((s, j) => (j === i ? `${s}/` : s)))); // a double slash after it
    out.add(join(segments.flatMap((s, j) => (j === i ? ['.', s] : [s])))); // dot segment before it
    out.add(join(segments.flatMap((s, j) => (j === i ? ['x', '..', s] : [s])))); // dot-dot
    out.add(join(segments.flatMap((s, j) => (j === i ? ['%2e', s] : [s])))); // encoded dot
  });
  out.add(`/${path}`); // leading double slash
  out.add(`${path}/`); // trailing slash
  out.add(`${path};`);
  out.add(join(segments.map((s) => [...s].map((c) => (isLetter(c) ? enc(c, true) : c)).join('')))); // every letter everywhere
  return [...out];
}

/** A concrete path for a route pattern: a real contact and standard, a real calendar. */
function concrete(url: string): string {
  return url
    .replace(':standard', 'email-reply')
    .replace(':closureId', '1')
    .replace(':week', '2026-W10')
    .replace(':name', 'test')
    .replace(':id', url.startsWith('/api/v1/calendars') ? 'customer-services' : url.startsWith('/api/v1/contacts') ? contactId : '1');
}

const tokenAllowed = (a: Access) => a === 'token' || (typeof a === 'object' && a.token === true);

// Awaited: the helper's counts are read through the contacts' port (a promise spread would be `{}`).
const rowsOf = async () => ({ ...(await t.counts()), audit: (t.connection.sqlite.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n });

beforeAll(async () => {
  t = await startTestApp({ KEPT_FAILED_AUTH_PER_MINUTE: '1000000', KEPT_SOCIAL_APP_SECRET: 'app-secret-for-access-tests' });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(address).port);
  const created = await t.service.createContact({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z', customer: { name: 'Ann Tenant', email: 'ann@example.com' }, summary: 'Leaking tap' });
  contactId = created.contact.id;
  revoked = await t.service.tokens.create('revoked', Date.now());
  await t.service.tokens.revoke('revoked', Date.now());
});
afterAll(async () => {
  await t.close();
});

describe('the route table', () => {
  it('declares every route, and the protected ones are the API routes that hold or change data', () => {
    const table = t.app.routeAccess;
    expect(table.length).toBeGreaterThan(15);
    const protectedRoutes = table.filter((r) => r.access !== 'public').map((r) => `${r.method} ${r.url}`);
    expect(protectedRoutes).toEqual(
      expect.arrayContaining([
        'GET /api/v1/contacts',
        'POST /api/v1/contacts',
        'GET /api/v1/contacts/:id',
        'POST /api/v1/contacts/:id/events',
        'GET /api/v1/contacts/:id/clocks/:standard/explain',
        'POST /api/v1/ingest/email',
        'POST /api/v1/ingest/telephony',
        'POST /api/v1/ingest/webform',
        'POST /api/v1/ingest/social',
        'POST /api/v1/ingest/amazon-connect',
        'POST /api/v1/ingest/genesys-cloud',
        'GET /api/v1/staffing',
        'GET /api/v1/advisors',
        'GET /api/v1/admin/phone-queues',
        'GET /api/v1/calendars',
        'POST /api/v1/calendars/:id/closures',
        'DELETE /api/v1/calendars/:id/closures/:closureId',
        'POST /api/v1/holidays/import',
        'GET /api/v1/audit',
        'GET /api/v1/live',
      ]),
    );
    const publicRoutes = table.filter((r) => r.access === 'public').map((r) => r.url);
    // Sign-in itself and the display link are public; so are the web app's pages (they hold no data).
    for (const url of publicRoutes.filter((u) => u.startsWith('/api/') || u.startsWith('/forms') || u.startsWith('/docs'))) expect(url).toMatch(/^\/(api\/v1\/(health|status\/public|ingest\/social|ingest\/twilio|session|session\/csrf)$|forms\/|docs)/);
  });

  it('refuses to start when a route has no access declaration', async () => {
    const app = Fastify();
    await app.register(fastifyRateLimit, { global: false });
    registerAccess(app, { tokens: asyncOf(t.service.tokens, ['verify']), failedAuthPerMinute: 10 });
    app.get('/declared', { config: { access: 'public' } }, async () => 'ok');
    app.get('/forgotten', async () => 'oops');
    await expect(app.ready()).rejects.toThrow(/GET \/forgotten/);
  });
});

describe('every protected route, every spelling', () => {
  it('answers 401 (or no route) without a valid credential, and stores nothing', async () => {
    const before = await rowsOf();
    const protectedRoutes = t.app.routeAccess.filter((r) => r.access !== 'public' && r.method !== 'HEAD');
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(25);
    const credentials: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['bad', { authorization: 'Bearer kept_not-a-real-token' }],
      ['revoked', { authorization: `Bearer ${revoked}` }],
      ['malformed', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ];
    const answers: string[] = [];
    let tried = 0;
    for (const route of protectedRoutes) {
      const body = route.method === 'POST' ? JSON.stringify({ channel: 'email', receivedAt: '2026-03-02T10:00:00Z', type: 'replied', at: '2026-03-02T11:00:00Z', message: 'hi', from: '2026-12-24T00:00:00Z', to: '2026-12-25T00:00:00Z' }) : undefined;
      for (const path of spellings(concrete(route.url))) {
        for (const [name, headers] of credentials) {
          if (name !== 'none' && path !== concrete(route.url)) continue; // every spelling without a credential; each credential on the plain path
          const r = await raw(route.method, path, headers, body);
          tried++;
          if (![401, 404].includes(r.status)) answers.push(`${route.method} ${path} (${name}) → ${r.status} ${r.body.slice(0, 120)}`);
          expect(r.body).not.toContain('Ann Tenant');
          expect(r.body).not.toContain('ann@example.com');
        }
      }
    }
    expect(answers).toEqual([]);
    expect(tried).toBeGreaterThan(500);
    expect(await rowsOf()).toEqual(before);
  });

  it('the same routes answer with the token (the table is live, not a list of dead paths)', async () => {
    // Reads an integration may make (the people's own pages and the admin's routes take no token).
    for (const route of t.app.routeAccess.filter((r) => tokenAllowed(r.access) && r.method === 'GET' && r.url.startsWith('/api/v1/') && !r.url.includes('live') && !r.url.includes('/page') && !['/api/v1/queue', '/api/v1/team', '/api/v1/alerts'].includes(r.url))) {
      // Routes whose query is required get a valid one.
      const query = route.url === '/api/v1/reports/regulator' ? '?from=2026-01-01&to=2026-03-31' : '';
      const r = await raw('GET', `${concrete(route.url)}${query}`, t.auth);
      expect(r.status, route.url).toBe(200);
    }
  });

  it('an access token in the query is taken only where the route says so', async () => {
    const r = await raw('GET', `/api/v1/contacts?access_token=${t.token}`);
    expect(r.status).toBe(401);
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

  it('refuses no credential, any Origin alone (its own included), a bad and a revoked token; takes a token', async () => {
    expect(await open({})).toBe(401);
    expect(await open({ origin: 'http://evil.example' })).toBe(401);
    expect(await open({ origin: 'null' })).toBe(401);
    // Until issue 10 the board's own Origin was enough: now a session or a display is needed too (tests/security/roles.test.ts).
    expect(await open({ origin: `http://127.0.0.1:${port}` })).toBe(401);
    expect(await open({ authorization: 'Bearer kept_wrong' })).toBe(401);
    expect(await open({}, `?access_token=${revoked}`)).toBe(401);
    expect(await open(t.auth)).toBe(101);
  });
});
