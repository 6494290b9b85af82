// The people's routes (issue 10): an advisor's queue in due order, the team's load, actions as events
// (complaint references, pauses, transfers), the contact page's explanations, safeguarding alerts.
// People sign in over HTTP (tests/helpers/app.ts signIn): advisors with the queues they work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_SQL } from '../../server/store/queue.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let auth: Record<string, string>;
let now = Date.parse('2026-03-02T12:00:00Z');
const people: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  t = await startTestApp({}, { now: () => now });
  auth = t.auth;
  people.ann = (await t.signIn('advisor', { email: 'ann@kept.example', queues: ['customer-services'] })).headers;
  people.bob = (await t.signIn('advisor', { email: 'bob@kept.example', queues: ['customer-services'] })).headers;
  people.cy = (await t.signIn('advisor', { email: 'cy@kept.example', queues: ['out-of-hours'] })).headers;
  people.lee = (await t.signIn('team-lead', { email: 'lee@kept.example' })).headers;
});
afterAll(async () => {
  await t.close();
});

const ANN = () => people.ann!;
const BOB = () => people.bob!;
const CY = () => people.cy!;
const LEAD = () => people.lee!;

async function call(method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) {
  const r = await t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Json }) });
  return { status: r.statusCode, body: r.json() as Json };
}

async function contact(externalId: string, receivedAt: string, extra: Json = {}): Promise<string> {
  const r = await call('POST', '/api/v1/contacts', auth, { channel: 'email', externalId, receivedAt, subject: externalId, customer: { name: 'Cara Tenant', email: 'cara@example.com', preferredContact: 'letter', accessibilityNeeds: 'Large print' }, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

const ids: Record<string, string> = {};

describe('the queue', () => {
  beforeAll(async () => {
    ids.late = await contact('q-late', '2026-03-02T11:00:00Z', { events: [{ type: 'assigned', at: '2026-03-02T11:00:00Z', assignee: 'ann@kept.example' }] });
    ids.early = await contact('q-early', '2026-03-02T09:00:00Z', {
      events: [{ type: 'assigned', at: '2026-03-02T09:00:00Z', assignee: 'ann@kept.example' }],
      customer: { name: 'Dev Tenant', preferredContact: 'phone', accessibilityNeeds: 'BSL video relay', vulnerability: 'Recently bereaved' },
    });
    ids.bobs = await contact('q-bob', '2026-03-02T08:00:00Z', { events: [{ type: 'assigned', at: '2026-03-02T08:00:00Z', assignee: 'bob@kept.example' }] });
    ids.free = await contact('q-free', '2026-03-02T10:00:00Z');
    ids.flagged = await contact('q-flagged', '2026-03-02T10:30:00Z', { customer: { name: 'Eve Tenant', safeguarding: true, vulnerability: 'Fears for her safety at home' } });
  });

  it('an advisor sees their open contacts in due order, with what to know first, and the unassigned work', async () => {
    const r = await call('GET', '/api/v1/queue', ANN());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items.map((i: Json) => i.id)).toEqual([ids.early, ids.late]);
    expect(r.body.items[0].customer).toEqual({ name: 'Dev Tenant', preferredContact: 'phone', accessibilityNeeds: 'BSL video relay', vulnerability: 'Recently bereaved' });
    expect(r.body.items[0].customer.email).toBeUndefined();
    expect(r.body.unassigned.map((i: Json) => i.id)).toEqual([ids.free, ids.flagged]);
    expect(r.body.unassigned[1].safeguarding).toHaveLength(1);
    expect(JSON.stringify(r.body)).not.toContain(ids.bobs);
  });

  it('an advisor sees only the unassigned work of the queues they work', async () => {
    const r = await call('GET', '/api/v1/queue', CY());
    expect(r.body.items).toEqual([]);
    expect(r.body.unassigned).toEqual([]);
    expect((await call('GET', `/api/v1/contacts/${ids.free}/page`, CY())).status).toBe(404);
    expect((await call('POST', `/api/v1/contacts/${ids.free}/actions`, CY(), { action: 'take' })).status).toBe(404);
  });

  it('roles: an advisor reads no team view, no alerts, and assigns nothing in bulk', async () => {
    expect((await call('GET', '/api/v1/team', ANN())).status).toBe(403);
    expect((await call('GET', '/api/v1/alerts', ANN())).status).toBe(403);
    expect((await call('POST', '/api/v1/assignments', ANN(), { contactIds: [ids.free], assignee: 'ann@kept.example' })).status).toBe(403);
  });

  it('an advisor may not read another advisor\'s queue or contact', async () => {
    expect((await call('GET', '/api/v1/queue?assignee=bob%40kept.example', ANN())).status).toBe(403);
    expect((await call('GET', `/api/v1/contacts/${ids.bobs}/page`, ANN())).status).toBe(404);
    expect((await call('POST', `/api/v1/contacts/${ids.bobs}/actions`, ANN(), { action: 'replied' })).status).toBe(404);
  });

  it('a team lead reads any advisor\'s queue or the unassigned work; a token must name one', async () => {
    expect((await call('GET', '/api/v1/queue?assignee=bob%40kept.example', LEAD())).body.items.map((i: Json) => i.id)).toEqual([ids.bobs]);
    expect((await call('GET', '/api/v1/queue?assignee=unassigned', LEAD())).body.items.map((i: Json) => i.id)).toEqual([ids.free, ids.flagged]);
    expect((await call('GET', '/api/v1/queue', auth)).status).toBe(400);
    expect((await call('GET', '/api/v1/queue', {})).status).toBe(401);
  });

  it('the contact page explains each clock', async () => {
    const r = await call('GET', `/api/v1/contacts/${ids.early}/page`, ANN());
    expect(r.status).toBe(200);
    expect(r.body.contact.id).toBe(ids.early);
    const e = r.body.explanations['email-reply'];
    expect(e.steps[0]).toMatchObject({ kind: 'start' });
    expect(e.steps.at(-1)).toMatchObject({ kind: 'due' });
    expect(typeof e.text).toBe('string');
    // The page offers only what the pack allows: an email reply clock cannot pause or be extended.
    expect(r.body.rules['email-reply']).toEqual({ pausable: false, extendable: false });
  });

  it('replied is an event with who and when, and the clock is met', async () => {
    now = Date.parse('2026-03-02T12:30:00Z');
    const r = await call('POST', `/api/v1/contacts/${ids.early}/actions`, ANN(), { action: 'replied' });
    expect(r.status).toBe(200);
    const ev = r.body.contact.events.at(-1);
    expect(ev).toMatchObject({ type: 'replied', at: '2026-03-02T12:30:00.000Z', by: 'ann@kept.example' });
    expect(r.body.contact.clocks.find((c: Json) => c.standard === 'email-reply').status).toBe('met');
    expect((await call('GET', '/api/v1/queue', ANN())).body.items.map((i: Json) => i.id)).toEqual([ids.late]);
  });

  it('acknowledging a complaint issues the year\'s next reference and names the advisor as owner', async () => {
    const a = await contact('q-cmp-1', '2026-03-02T11:30:00Z', { category: 'complaint', events: [{ type: 'assigned', at: '2026-03-02T11:30:00Z', assignee: 'ann@kept.example' }] });
    const b = await contact('q-cmp-2', '2026-03-02T11:31:00Z', { category: 'complaint', events: [{ type: 'assigned', at: '2026-03-02T11:31:00Z', assignee: 'ann@kept.example' }] });
    const [ra, rb] = await Promise.all([
      call('POST', `/api/v1/contacts/${a}/actions`, ANN(), { action: 'acknowledge' }),
      call('POST', `/api/v1/contacts/${b}/actions`, ANN(), { action: 'acknowledge' }),
    ]);
    expect([ra.body.reference, rb.body.reference].sort()).toEqual(['CMP-2026-000001', 'CMP-2026-000002']);
    expect(ra.body.contact.events.at(-1)).toMatchObject({ type: 'acknowledged', owner: 'ann@kept.example', reference: ra.body.reference });
  });

  it('pause needs a reason; resume and extend find the clock; cancel takes a known reason', async () => {
    const id = await contact('q-pause', '2026-03-02T11:50:00Z', { category: 'complaint', events: [{ type: 'assigned', at: '2026-03-02T11:50:00Z', assignee: 'ann@kept.example' }] });
    expect((await call('GET', `/api/v1/contacts/${id}/page`, ANN())).body.rules['complaint-resolve']).toEqual({ pausable: true, extendable: true });
    const resolve = (b: Json) => b.contact.clocks.find((c: Json) => c.standard === 'complaint-resolve');
    expect((await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'pause' })).status).toBe(400);
    const p = await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'pause', reason: 'awaiting customer' });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(resolve(p.body).status).toBe('paused');
    const r = await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'resume' });
    expect(resolve(r.body).status).not.toBe('paused');
    const x = await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'extend', until: '2026-03-27T17:00:00Z', reason: 'agreed with customer' });
    expect(x.status, JSON.stringify(x.body)).toBe(200);
    expect(resolve(x.body).dueAt).toBe('2026-03-27T17:00:00.000Z');
    expect((await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'cancel', reason: 'bored' })).status).toBe(400);
    const c = await call('POST', `/api/v1/contacts/${id}/actions`, ANN(), { action: 'cancel', reason: 'withdrawn' });
    expect(resolve(c.body).status).toBe('cancelled');
  });

  it('an advisor takes unassigned work and transfers only their own', async () => {
    expect((await call('POST', `/api/v1/contacts/${ids.free}/actions`, BOB(), { action: 'assign', assignee: 'ann@kept.example' })).status).toBe(403);
    const t = await call('POST', `/api/v1/contacts/${ids.free}/actions`, BOB(), { action: 'take' });
    expect(t.body.contact.assignee).toBe('bob@kept.example');
    const x = await call('POST', `/api/v1/contacts/${ids.free}/actions`, BOB(), { action: 'assign', assignee: 'ann@kept.example' });
    expect(x.body.contact.assignee).toBe('ann@kept.example');
  });

  it('a team lead assigns many at once and reads each advisor\'s load', async () => {
    const a = await contact('q-bulk-1', '2026-03-02T11:40:00Z');
    const b = await contact('q-bulk-2', '2026-03-02T11:41:00Z');
    const r = await call('POST', '/api/v1/assignments', LEAD(), { contactIds: [a, b], assignee: 'bob@kept.example' });
    expect(r.status).toBe(200);
    expect((await call('POST', '/api/v1/assignments', ANN(), { contactIds: [a], assignee: 'ann@kept.example' })).status).toBe(403);
    const team = await call('GET', '/api/v1/team', LEAD());
    expect(team.status).toBe(200);
    expect(team.body.advisors.find((x: Json) => x.assignee === 'bob@kept.example')).toMatchObject({ open: 3 });
    expect(team.body.unassigned.open).toBe(1);
    expect(team.body.alerts).toBe(1);
  });

  it('a safeguarding flag stays on the team lead\'s list until an action is recorded, once', async () => {
    const f = await call('POST', `/api/v1/contacts/${ids.late}/actions`, ANN(), { action: 'flag', note: 'Mentioned a threat from a neighbour' });
    expect(f.body.alertId).toBeGreaterThan(0);
    const list = await call('GET', '/api/v1/alerts', LEAD());
    expect(list.body.items.map((a: Json) => a.contactId)).toEqual([ids.flagged, ids.late]);
    expect(list.body.items[0]).toMatchObject({ raisedBy: 'integration', kind: 'safeguarding' });
    const id = list.body.items[0].id;
    const done = await call('POST', `/api/v1/alerts/${id}/actions`, LEAD(), { action: 'Called the customer; referred to the safeguarding lead' });
    expect(done.body).toMatchObject({ actionedBy: 'lee@kept.example', actionedAt: '2026-03-02T12:30:00.000Z' });
    expect((await call('POST', `/api/v1/alerts/${id}/actions`, LEAD(), { action: 'again' })).status).toBe(409);
    expect((await call('GET', '/api/v1/alerts', LEAD())).body.items.map((a: Json) => a.contactId)).toEqual([ids.late]);
  });

  it('every statement walks a named index with keyed lookups (no table scan)', () => {
    for (const [name, sql] of Object.entries(QUEUE_SQL)) {
      const plan = t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.includes('?') ? ['[]'] : [{ limit: 10, now, queues: null }]).slice(0, 1)) as Array<{ detail: string }>;
      for (const row of plan) expect(`${name}: ${row.detail}`).not.toMatch(/SCAN (c|k|alerts|contacts|clocks)\b(?! USING)/);
    }
  });
});
