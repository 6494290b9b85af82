// The integration API on a real SQLite file: contacts, events, paging, explain, calendars, auth, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { TokenStore } from '../../server/store/tokens.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ KEPT_BODY_LIMIT: '65536' });
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(url: string, payload: unknown, headers: Record<string, string> = t.auth) {
  const r = await t.app.inject({ method: 'POST', url, payload: payload as Json, headers });
  return { status: r.statusCode, body: r.json() as Json };
}
async function get(url: string, headers: Record<string, string> = t.auth) {
  const r = await t.app.inject({ method: 'GET', url, headers });
  return { status: r.statusCode, body: r.json() as Json };
}

const email = (externalId: string, extra: Json = {}) => ({
  channel: 'email',
  externalId,
  receivedAt: '2026-03-02T10:00:00Z',
  subject: 'Boiler not working',
  customer: { name: 'Ann Tenant', email: 'ann@example.com', preferredContact: 'email', accessibilityNeeds: 'Large print' },
  ...extra,
});

describe('POST /api/v1/contacts', () => {
  it('creates a contact with its clocks (201), stored on disk', async () => {
    const r = await post('/api/v1/contacts', email('m-create'));
    expect(r.status).toBe(201);
    expect(r.body.clocks[0]).toMatchObject({ standard: 'email-reply', dueAt: '2026-03-03T10:00:00.000Z', standardVersion: 'livewest-1' });
    expect(r.body.customer.accessibilityNeeds).toBe('Large print');
    const row = t.connection.sqlite.prepare('SELECT due_at FROM clocks WHERE contact_id = ?').get(r.body.id) as { due_at: number };
    expect(new Date(row.due_at).toISOString()).toBe('2026-03-03T10:00:00.000Z');
  });

  it('answers a replay with 200 and the stored contact, and the same key with other content 409', async () => {
    const first = await post('/api/v1/contacts', email('m-replay'));
    const before = t.counts();
    const replay = await post('/api/v1/contacts', email('m-replay'));
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    const conflict = await post('/api/v1/contacts', email('m-replay', { subject: 'Something else' }));
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toMatch(/already exists with different content/);
    expect(t.counts()).toEqual(before);
  });

  it('STANDARDS §7 row 14 through the API: events in any order', async () => {
    const created = await post('/api/v1/contacts', { channel: 'webform', category: 'complaint', externalId: 'form-14', receivedAt: '2026-03-06T16:00:00Z' });
    expect(created.body.clocks.map((c: Json) => c.standard)).toEqual(['complaint-acknowledge', 'complaint-resolve']);
    const resumed = await post(`/api/v1/contacts/${created.body.id}/events`, { type: 'resumed', clock: 'complaint-resolve', at: '2026-03-10T09:00:00Z', externalId: 'e2' });
    expect(resumed.status).toBe(200);
    const paused = await post(`/api/v1/contacts/${created.body.id}/events`, [{ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z', externalId: 'e1' }]);
    expect(paused.body.added).toBe(1);
    const resolve = paused.body.contact.clocks.find((c: Json) => c.standard === 'complaint-resolve');
    expect(resolve.dueAt).toBe('2026-03-23T13:00:00.000Z');
    // Replayed events are ignored.
    const before = t.counts();
    const again = await post(`/api/v1/contacts/${created.body.id}/events`, { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-09T12:00:00Z', externalId: 'e1' });
    expect(again.body.added).toBe(0);
    expect(t.counts()).toEqual(before);
  });

  it('a reply event meets the clock and GET shows events and clocks', async () => {
    const c = await post('/api/v1/contacts', email('m-reply'));
    await post(`/api/v1/contacts/${c.body.id}/events`, { type: 'replied', at: '2026-03-03T09:00:00Z' });
    const g = await get(`/api/v1/contacts/${c.body.id}`);
    expect(g.status).toBe(200);
    expect(g.body.events).toEqual([{ type: 'replied', at: '2026-03-03T09:00:00.000Z', seq: 0 }]);
    expect(g.body.clocks[0].status).toBe('met');
  });
});

describe('bad input changes nothing', () => {
  const cases: Array<[string, unknown, number, string | undefined]> = [
    ['unknown channel', { channel: 'fax', receivedAt: '2026-03-02T10:00:00Z' }, 400, 'channel'],
    ['timestamp without offset', { channel: 'email', receivedAt: '2026-03-02T10:00:00' }, 400, 'receivedAt'],
    ['missing receivedAt', { channel: 'email' }, 400, 'receivedAt'],
    ['unknown field', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', colour: 'red' }, 400, 'colour'],
    ['event before receivedAt', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'replied', at: '2026-03-02T09:00:00Z' }] }, 400, 'events[0].at'],
    ['acknowledged without owner', { channel: 'email', category: 'complaint', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'acknowledged', reference: 'C1', at: '2026-03-02T11:00:00Z' }] }, 400, 'events[0].owner'],
    ['pause of an unpausable clock', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'paused', clock: 'email-reply', reason: 'x', at: '2026-03-02T11:00:00Z' }] }, 400, 'events[0].clock'],
    ['unknown event type', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'emailed', at: '2026-03-02T11:00:00Z' }] }, 400, 'events[0].type'],
  ];
  for (const [name, body, status, field] of cases) {
    it(`${name}: ${status} naming ${field}`, async () => {
      const before = t.counts();
      const r = await post('/api/v1/contacts', body);
      expect(r.status).toBe(status);
      expect(r.body.field).toBe(field);
      expect(r.body.message).toContain(field);
      expect(t.counts()).toEqual(before);
    });
  }

  it('invalid JSON is 400, an oversized body 413, an unknown id 404, never 500', async () => {
    const before = t.counts();
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', payload: '{"channel":', headers: { ...t.auth, 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    const big = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', payload: JSON.stringify(email('big', { summary: 'x'.repeat(70_000) })), headers: { ...t.auth, 'content-type': 'application/json' } });
    expect(big.statusCode).toBe(413);
    expect(big.json().message).toMatch(/larger than the limit/);
    expect((await post('/api/v1/contacts/nope/events', { type: 'replied', at: '2026-03-03T09:00:00Z' })).status).toBe(404);
    expect((await get('/api/v1/contacts/nope')).status).toBe(404);
    const wrongType = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', payload: 'hello', headers: { ...t.auth, 'content-type': 'text/csv' } });
    expect(wrongType.statusCode).toBe(415);
    expect(t.counts()).toEqual(before);
  });

  it('a bad event on an existing contact is rejected and stores nothing', async () => {
    const c = await post('/api/v1/contacts', email('m-bad-event'));
    const before = t.counts();
    const r = await post(`/api/v1/contacts/${c.body.id}/events`, { type: 'paused', clock: 'email-reply', reason: 'x', at: '2026-03-02T11:00:00Z' });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('event.clock');
    expect(t.counts()).toEqual(before);
  });
});

describe('auth', () => {
  it('needs a bearer token except for health', async () => {
    expect((await get('/api/v1/contacts', {})).status).toBe(401);
    expect((await get('/api/v1/contacts', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get('/api/v1/health', {})).status).toBe(200);
  });
  it('a revoked token stops working at once', async () => {
    const token = await t.service.tokens.create('short-lived', Date.now());
    expect((await get('/api/v1/contacts', { authorization: `Bearer ${token}` })).status).toBe(200);
    await t.service.tokens.revoke('short-lived', Date.now());
    expect((await get('/api/v1/contacts', { authorization: `Bearer ${token}` })).status).toBe(401);
    expect(JSON.stringify(t.connection.sqlite.prepare('SELECT * FROM api_tokens').all())).not.toContain(token);
  });
  it('a token revoked by another process (the sla command) stops working within 250 ms', async () => {
    const token = await t.service.tokens.create('cli-revoked', Date.now());
    const header = { authorization: `Bearer ${token}` };
    expect((await get('/api/v1/contacts', header)).status).toBe(200);
    expect((await get('/api/v1/contacts', header)).status).toBe(200); // now served from the cache
    const other = openDatabase(t.config.dbFile); // what `sla token revoke` opens
    try {
      expect(new TokenStore(other.sqlite).revoke('cli-revoked', Date.now())).toBe(true);
    } finally {
      other.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await get('/api/v1/contacts', header)).status).toBe(401);
  });
});

describe('GET /api/v1/contacts', () => {
  it('filters by channel, status and standard and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await post('/api/v1/contacts', { channel: 'social', externalId: `s-${i}`, receivedAt: `2026-05-0${i + 1}T10:00:00Z`, ...(i % 2 ? { events: [{ type: 'replied', at: `2026-05-0${i + 1}T11:00:00Z` }] } : {}) });
    }
    const page1 = await get('/api/v1/contacts?channel=social&limit=2');
    expect(page1.body.items.map((c: Json) => c.externalId)).toEqual(['s-4', 's-3']);
    const page2 = await get(`/api/v1/contacts?channel=social&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((c: Json) => c.externalId)).toEqual(['s-2', 's-1']);
    const page3 = await get(`/api/v1/contacts?channel=social&limit=2&cursor=${page2.body.nextCursor}`);
    expect(page3.body.items.map((c: Json) => c.externalId)).toEqual(['s-0']);
    expect(page3.body.nextCursor).toBeNull();
    const met = await get('/api/v1/contacts?channel=social&status=met&standard=social-reply');
    expect(met.body.items.map((c: Json) => c.externalId)).toEqual(['s-3', 's-1']);
    const breached = await get('/api/v1/contacts?channel=social&status=breached');
    expect(breached.body.items.map((c: Json) => c.externalId)).toEqual(['s-4', 's-2', 's-0']);
    const ranged = await get(`/api/v1/contacts?channel=social&from=${encodeURIComponent('2026-05-02T00:00:00Z')}&to=${encodeURIComponent('2026-05-04T00:00:00Z')}`);
    expect(ranged.body.items.map((c: Json) => c.externalId)).toEqual(['s-2', 's-1']);
    expect((await get('/api/v1/contacts?status=late')).status).toBe(400);
    expect((await get('/api/v1/contacts?from=2026-05-02')).body.field).toBe('from');
  });
});

describe('explain', () => {
  it('returns the steps behind dueAt', async () => {
    const c = await post('/api/v1/contacts', { channel: 'email', externalId: 'm-explain', receivedAt: '2026-04-02T14:00:00Z' });
    const e = await get(`/api/v1/contacts/${c.body.id}/clocks/email-reply/explain`);
    expect(e.status).toBe(200);
    expect(e.body.dueAt).toBe('2026-04-07T14:00:00.000Z');
    expect(e.body.steps.map((s: Json) => s.kind)).toContain('holiday');
    expect(e.body.text).toContain('Good Friday');
    expect((await get(`/api/v1/contacts/${c.body.id}/clocks/phone-answer/explain`)).status).toBe(404);
  });
});

describe('calendars', () => {
  it('a closure recomputes running clocks in one transaction, is audited, and can be removed', async () => {
    const c = await post('/api/v1/contacts', { channel: 'email', externalId: 'm-xmas', receivedAt: '2099-12-24T10:00:00Z' });
    expect(c.body.clocks[0].dueAt).toBe('2099-12-25T10:00:00.000Z');
    const added = await post('/api/v1/calendars/customer-services/closures', { from: '2099-12-24T12:00:00Z', to: '2099-12-24T17:00:00Z', reason: 'Christmas Eve' });
    expect(added.status).toBe(201);
    expect(added.body.movedClocks).toBeGreaterThanOrEqual(1);
    // 2099 is past the holiday data: 25 December counts as a weekday there.
    expect((await get(`/api/v1/contacts/${c.body.id}`)).body.clocks[0].dueAt).toBe('2099-12-25T15:00:00.000Z');
    const audit = await get('/api/v1/audit');
    expect(audit.body.items[0]).toMatchObject({ action: 'closure.add', detail: { calendar: 'customer-services', movedClocks: added.body.movedClocks } });
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/calendars/customer-services/closures/${added.body.id}`, headers: t.auth });
    expect(removed.statusCode).toBe(200);
    expect((await get(`/api/v1/contacts/${c.body.id}`)).body.clocks[0].dueAt).toBe('2099-12-25T10:00:00.000Z');
    expect((await post('/api/v1/calendars/customer-services/closures', { from: '2099-12-24T12:00:00Z', to: '2099-12-24T11:00:00Z' })).body.field).toBe('to');
  });

  it('importing holidays recomputes the clocks that depend on them', async () => {
    const c = await post('/api/v1/contacts', { channel: 'email', externalId: 'm-new-holiday', receivedAt: '2099-06-01T10:00:00Z' });
    expect(c.body.clocks[0].dueAt).toBe('2099-06-02T10:00:00.000Z'); // 11:00 BST
    const cal = await get('/api/v1/calendars/customer-services');
    const dates = cal.body.holidays.dates as Array<{ date: string; title: string }>;
    const file = { 'england-and-wales': { division: 'england-and-wales', events: [...dates, { date: '2099-06-02', title: 'A proclaimed holiday' }] } };
    const r = await post('/api/v1/holidays/import', file);
    expect(r.status).toBe(200);
    expect(r.body.divisions[0]).toMatchObject({ division: 'england-and-wales', added: 1, removed: 0 });
    expect((await get(`/api/v1/contacts/${c.body.id}`)).body.clocks[0].dueAt).toBe('2099-06-03T10:00:00.000Z');
    expect((await post('/api/v1/holidays/import', { nothing: true })).status).toBe(400);
  });

  it('describes a calendar: zone, hours, holiday coverage, open now', async () => {
    const r = await get('/api/v1/calendars');
    expect(r.body.items[0]).toMatchObject({ id: 'customer-services', timeZone: 'Europe/London', division: 'england-and-wales' });
    expect(typeof r.body.items[0].openNow).toBe('boolean');
  });
});

describe('a real listening port', () => {
  it('serves the API and the OpenAPI document', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const docs = await fetch(`${address}/docs/json`);
    const spec = (await docs.json()) as Json;
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toContain('/api/v1/contacts');
    const r = await fetch(`${address}/api/v1/contacts`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify(email('m-port')) });
    expect(r.status).toBe(201);
  });
});
