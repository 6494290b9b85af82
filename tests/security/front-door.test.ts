// The front door's limits and refusals, each tried the way an attacker or a careless integrator
// would: secrets in URLs and headers kept out of the log, a slow client cut off, a failed-credential
// limit that holds through a spray of addresses, security headers everywhere, caps on events and
// sockets, refusals that name the field, honest health, and a configuration checked at boot.
import { PassThrough } from 'node:stream';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../db/connection.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { redactUrl } from '../../server/http/logging.js';
import { IngestService } from '../../server/ingest/service.js';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

const contact = { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', customer: { name: 'Ann Tenant' } };

describe('secrets never reach the log', () => {
  it('redacts Authorization, cookies and credential query strings, and still says which route answered what', async () => {
    const t = await startTestApp({ KEPT_SOCIAL_VERIFY_TOKEN: 'verify-token-do-not-log', KEPT_SOCIAL_APP_SECRET: 'app-secret-do-not-log' });
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => lines.push(...String(c).split('\n').filter((l) => l !== '')));
    const app = await buildApp({ config: t.config, service: t.service, logger: stream });
    await app.ready();
    try {
      const cookie = 'session=cookie-value-do-not-log';
      recordSecret('cookie-value-do-not-log');
      await app.inject({ method: 'GET', url: '/api/v1/contacts?limit=5', headers: { ...t.auth, cookie } });
      await app.inject({ method: 'POST', url: `/api/v1/ingest/social?access_token=${t.token}&x=1`, payload: '{}', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' } });
      await app.inject({ method: 'GET', url: '/api/v1/ingest/social?hub.mode=subscribe&hub.verify_token=verify-token-do-not-log&hub.challenge=c-123' });
      await app.inject({ method: 'GET', url: `/api/v1/contacts?token=${t.token}&password=hunter2-do-not-log` });
      await app.inject({ method: 'GET', url: '/api/v1/contacts', headers: { authorization: 'Bearer kept_wrong-token-do-not-log' } });
      const text = lines.join('\n');
      for (const secret of [t.token, 'verify-token-do-not-log', 'app-secret-do-not-log', 'cookie-value-do-not-log', 'hunter2-do-not-log', 'kept_wrong-token-do-not-log']) expect(text).not.toContain(secret);
      const completed = lines.map((l) => JSON.parse(l) as { msg?: string; req?: { url: string; route?: string }; res?: { statusCode: number } }).filter((l) => l.res !== undefined);
      expect(completed.length).toBeGreaterThanOrEqual(5);
      expect(text).toContain('"url":"/api/v1/contacts?limit=5"');
      expect(text).toContain('access_token=[redacted]');
      expect(text).toContain('hub.verify_token=[redacted]');
      expect(completed.map((l) => l.res!.statusCode)).toEqual(expect.arrayContaining([200, 401]));
    } finally {
      await app.close();
      await t.close();
    }
  });

  it('keeps filters, redacts everything else, and never throws on a malformed query', () => {
    expect(redactUrl('/api/v1/contacts?status=breached&assignee=sam%40example.org')).toBe('/api/v1/contacts?status=breached&assignee=[redacted]');
    expect(redactUrl('/x?%E0%A4%A=1&access_token')).toBe('/x?%E0%A4%A=[redacted]&access_token=[redacted]');
    expect(redactUrl('/x')).toBe('/x');
  });
});

describe('limits on the connection', () => {
  it('closes a client that sends its body one byte at a time, while health keeps answering', async () => {
    const t = await startTestApp({ KEPT_REQUEST_TIMEOUT_MS: '2000', KEPT_HEADERS_TIMEOUT_MS: '1000' });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    try {
      const started = Date.now();
      const closedAfter = await new Promise<{ ms: number; answer: string }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(`POST /api/v1/contacts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.token}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n`);
        });
        let answer = '';
        socket.on('data', (d) => (answer += String(d)));
        const drip = setInterval(() => socket.write('{'), 100);
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ ms: Date.now() - started, answer });
        });
        socket.on('error', () => undefined);
        setTimeout(() => socket.destroy(), 15_000); // the test's own bound
      });
      const health = await fetch(`${address}/api/v1/health`);
      expect(health.status).toBe(200);
      // Cut off at the request timeout (2 s) plus Node's check interval (1 s), well before our own 15 s bound.
      expect(closedAfter.ms).toBeLessThan(8000);
      expect(closedAfter.answer === '' || closedAfter.answer.startsWith('HTTP/1.1 408')).toBe(true);
      expect(t.counts().contacts).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('closes a client that never finishes its headers', async () => {
    const t = await startTestApp({ KEPT_REQUEST_TIMEOUT_MS: '2000', KEPT_HEADERS_TIMEOUT_MS: '1000' });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const started = Date.now();
      const ms = await new Promise<number>((resolve) => {
        const socket = connect(Number(new URL(address).port), '127.0.0.1', () => socket.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n'));
        const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
        socket.on('close', () => (clearInterval(drip), resolve(Date.now() - started)));
        socket.on('error', () => undefined);
        setTimeout(() => socket.destroy(), 15_000);
      });
      expect(ms).toBeLessThan(8000);
    } finally {
      await t.close();
    }
  });
});

describe('failed credentials are rate limited per address', () => {
  it('holds an address at 429 through a spray of 12,000 other addresses (an LRU that evicts, never a global reset)', async () => {
    const t = await startTestApp({ KEPT_FAILED_AUTH_PER_MINUTE: '5' });
    try {
      const attempt = (ip: string, headers: Record<string, string> = { authorization: 'Bearer kept_guess' }) => t.app.inject({ method: 'GET', url: '/api/v1/contacts', remoteAddress: ip, headers });
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt('203.0.113.7')).statusCode);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await attempt('203.0.113.7');
      expect(limited.headers['retry-after']).toBeDefined();
      expect(limited.json()).toMatchObject({ statusCode: 429, code: 'rate-limited' });
      for (let i = 0; i < 12_000; i++) {
        const r = await attempt(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
        expect(r.statusCode).toBe(401);
        if (i % 1000 === 0) expect((await attempt('203.0.113.7')).statusCode).toBe(429);
      }
      expect((await attempt('203.0.113.7')).statusCode).toBe(429);
      // A valid token is never held back by the failures of others.
      expect((await attempt('203.0.113.8', t.auth)).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    const web = join(`${process.env.TMPDIR ?? '/tmp'}`, `kept-web-${process.pid}`);
    mkdirSync(web, { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Board</title>');
    t = await startTestApp({ KEPT_WEB_ROOT: web });
  });
  afterAll(async () => {
    await t.close();
  });

  it('are on the board, the docs, the public form and every API answer, errors included', async () => {
    for (const [url, headers] of [
      ['/', {}],
      ['/docs', {}],
      ['/docs/static/index.html', {}],
      ['/forms/contact', {}],
      ['/api/v1/health', {}],
      ['/api/v1/contacts', t.auth],
      ['/api/v1/contacts', {}],
      ['/no/such/route', {}],
    ] as Array<[string, Record<string, string>]>) {
      const r = await t.app.inject({ method: 'GET', url, headers });
      expect(r.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      // no-referrer everywhere; the public form keeps same-origin so its own POST carries a Referer for the origin check.
      expect(['no-referrer', 'same-origin'], url).toContain(r.headers['referrer-policy']);
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      expect(r.headers['strict-transport-security'], url).toBeUndefined(); // plain http: no HSTS
    }
  });

  it('send HSTS when Kept is reached over https', async () => {
    const s = await startTestApp({ KEPT_PUBLIC_URL: 'https://kept.example.org' });
    try {
      const r = await s.app.inject({ method: 'GET', url: '/api/v1/health' });
      expect(r.headers['strict-transport-security']).toContain('max-age=31536000');
    } finally {
      await s.close();
    }
  });
});

describe('refusals name the field and the problem', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ KEPT_MAX_EVENTS_PER_CONTACT: '12' });
  });
  afterAll(async () => {
    await t.close();
  });
  const post = (payload: string, contentType = 'application/json') => t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: { ...t.auth, 'content-type': contentType }, payload });

  it('a JSON syntax error gives its position', async () => {
    const r = await post('{"channel": "email",, }');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ field: 'body', code: 'invalid-json' });
    expect(r.json().message).toMatch(/position \d+/);
    // V8 quotes the body for an unexpected token instead of giving a position: Kept finds the position.
    const quoted = await post('{"channel": tru }');
    expect(quoted.json().message).toBe('body: is not valid JSON: Unexpected token " " at position 15');
  });

  it('__proto__ and constructor keys are refused by name and path, not as "not valid JSON"', async () => {
    const a = await post('{"channel":"email","receivedAt":"2026-03-02T10:00:00Z","customer":{"__proto__":{"admin":true}}}');
    expect(a.statusCode).toBe(400);
    expect(a.json()).toMatchObject({ field: 'body.customer.__proto__', code: 'forbidden-key' });
    const b = await post('{"channel":"email","receivedAt":"2026-03-02T10:00:00Z","events":[{"type":"replied","at":"2026-03-02T11:00:00Z","constructor":{"prototype":1}}]}');
    expect(b.json()).toMatchObject({ field: 'body.events[0].constructor' });
    const escaped = await post('{"\\u005f_proto__": 1}');
    expect(escaped.json()).toMatchObject({ field: 'body.__proto__' });
    expect(t.counts().contacts).toBe(0);
  });

  it('415 lists the accepted types; a charset other than UTF-8 is refused by name', async () => {
    const a = await post('channel=email', 'text/plain');
    expect(a.statusCode).toBe(415);
    expect(a.json()).toMatchObject({ field: 'Content-Type', accepted: ['application/json'] });
    const b = await post(JSON.stringify(contact), 'application/json; charset=utf-16');
    expect(b.statusCode).toBe(415);
    expect(b.json().message).toContain('charset=utf-16');
    const c = await post(JSON.stringify(contact), 'application/json; charset=UTF-8');
    expect(c.statusCode).toBe(201);
  });

  it('every 4xx from the API carries a field or a stable code', async () => {
    const answers = await Promise.all([
      post('{}'),
      post('[1,2'),
      post(''),
      t.app.inject({ method: 'GET', url: '/api/v1/contacts?limit=0', headers: t.auth }),
      t.app.inject({ method: 'GET', url: '/api/v1/contacts?status=nope', headers: t.auth }),
      t.app.inject({ method: 'GET', url: '/api/v1/contacts?from=yesterday', headers: t.auth }),
      t.app.inject({ method: 'GET', url: '/api/v1/contacts/none', headers: t.auth }),
    ]);
    for (const r of answers) {
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
      const body = r.json() as { code?: string; field?: string; message: string };
      expect(body.code).toBeTruthy();
      if (r.statusCode === 400) expect(body.field, body.message).toBeTruthy();
    }
  });

  it('a contact holds at most KEPT_MAX_EVENTS_PER_CONTACT events: past it, 422 and nothing stored', async () => {
    const created = (await post(JSON.stringify(contact))).json() as { id: string };
    const events = Array.from({ length: 12 }, (_, i) => ({ type: 'assigned', assignee: `advisor-${i}@example.org`, at: `2026-03-02T10:${String(i + 1).padStart(2, '0')}:00Z` }));
    const add = (body: unknown) => t.app.inject({ method: 'POST', url: `/api/v1/contacts/${created.id}/events`, headers: t.auth, payload: body as object });
    const first = await add(events.slice(0, 10));
    expect(first.statusCode, first.body).toBe(200);
    const over = await add(events.slice(10, 12).concat([{ type: 'assigned', assignee: 'sam@example.org', at: '2026-03-02T11:00:00Z' }]));
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ field: 'events', code: 'too-many-events' });
    expect(await t.service.contacts.events(created.id)).toHaveLength(10);
    const tooMany = await post(JSON.stringify({ ...contact, externalId: 'x-1', events: [...events, { type: 'assigned', assignee: 'sam@example.org', at: '2026-03-02T11:00:00Z' }] }));
    expect(tooMany.statusCode).toBe(422);
  });
});

describe('health', () => {
  it('tells anyone up or degraded, and the details only to a token holder', async () => {
    const t = await startTestApp();
    try {
      const open = (await t.app.inject({ method: 'GET', url: '/api/v1/health' })).json();
      expect(open).toEqual({ status: 'ok' });
      const trusted = (await t.app.inject({ method: 'GET', url: '/api/v1/health', headers: t.auth })).json();
      expect(trusted).toMatchObject({ status: 'ok', database: t.config.dbFile });
    } finally {
      await t.close();
    }
  });
});

describe('live sockets are capped', () => {
  it('refuses a socket past the per-address limit with 503 and a reason, and frees the place on close', async () => {
    const t = await startTestApp({ KEPT_WS_MAX_CLIENTS_PER_ADDRESS: '2' });
    const address = (await t.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
    const open = () =>
      new Promise<{ status: number; ws?: WebSocket }>((resolve) => {
        const ws = new WebSocket(`${address}/api/v1/live`, { headers: t.auth });
        ws.once('open', () => resolve({ status: 101, ws }));
        ws.once('unexpected-response', (_req, res) => (res.resume(), resolve({ status: res.statusCode ?? 0 })));
        ws.once('error', () => resolve({ status: -1 }));
      });
    try {
      const a = await open();
      const b = await open();
      const c = await open();
      expect([a.status, b.status, c.status]).toEqual([101, 101, 503]);
      const closed = new Promise((r) => a.ws!.once('close', r));
      a.ws!.close();
      await closed;
      await new Promise((r) => setTimeout(r, 100));
      const d = await open();
      expect(d.status).toBe(101);
      b.ws!.close();
      d.ws!.close();
    } finally {
      await t.close();
    }
  });
});

describe('configuration is checked at boot', () => {
  it('names a bad value, an unknown KEPT_ variable, and what is allowed', () => {
    expect(() => loadConfig({ KEPT_PACK: 'livewset' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEPT_PACK: 'livewset' })).toThrow(/KEPT_PACK: must be one of livewest, housing-ombudsman \(got "livewset"\)/);
    expect(() => loadConfig({ KEPT_BODY_LIMIT: 'lots' })).toThrow(/KEPT_BODY_LIMIT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ KEPT_PAKC: 'livewest' })).toThrow(/KEPT_PAKC: not a Kept setting/);
    // PostgreSQL: a connection string is taken as it is; a wrong one is refused by name, its value
    // (and a password in it) never echoed.
    expect(loadConfig({ KEPT_DATABASE_URL: 'postgres://kept:s3cret-pw@db.example.org:5432/kept' }).databaseUrl).toBe('postgres://kept:s3cret-pw@db.example.org:5432/kept');
    for (const bad of ['mysql://kept:s3cret-pw@db.example.org/kept', 'postgres://kept:s3cret-pw@db.example.org', 'kept:s3cret-pw@db.example.org/kept']) {
      const pg = () => loadConfig({ KEPT_DATABASE_URL: bad });
      expect(pg).toThrow(/^KEPT_DATABASE_URL: must be postgres:\/\/user:password@host:port\/database \(the value is not repeated here\)$/);
      expect(pg).not.toThrow(/s3cret-pw|db\.example\.org/);
    }
    expect(() => loadConfig({ KEPT_PUBLIC_URL: 'kept.example.org' })).toThrow(/KEPT_PUBLIC_URL/);
    expect(loadConfig({ KEPT_PACK: 'housing-ombudsman', KEPT_PUBLIC_URL: 'https://kept.example.org/' })).toMatchObject({ packFamily: 'housing-ombudsman', publicUrl: 'https://kept.example.org' });
  });

  it('an app built from the defaults starts and serves', async () => {
    const dir = join(process.env.TMPDIR ?? '/tmp', `kept-defaults-${process.pid}`);
    const config = loadConfig({ KEPT_DB: join(dir, 'kept.db'), KEPT_WEB_ROOT: join(dir, 'none') });
    const connection = openDatabase(config.dbFile);
    const app = await buildApp({ config, service: new IngestService(connection) });
    try {
      expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
      connection.close();
    }
  });
});
