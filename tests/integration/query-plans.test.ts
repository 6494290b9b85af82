// Query plans of the reads, on a real SQLite file with a few thousand contacts written through the real
// IngestService (so every clock is the engine's): every list filter of GET /api/v1/contacts, alone and
// with a status, walks one index in (received_at, id) order and does only keyed lookups inside that walk
// (no range scan of clocks per contact: the quadratic plan of issue 9), with and without ANALYZE; and
// its pages, followed by the cursor, hold the same ids in the same order as a brute-force filter in JS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../db/connection.js';
import { ADVISORS, yearOfContacts } from '../../scripts/bench/reads-db.js';
import type { ContactInput } from '../../server/ingest/service.js';
import { ContactStore, queueOf, SOCIAL_AWAITING_REPLY_SQL, type ClockRow, type ContactFilter, type ContactRow, type ListPlan } from '../../server/store/contacts.js';
import { LiveStore } from '../../server/store/live.js';
import { QUEUE_SQL } from '../../server/store/queue.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The instant every list and every brute-force judgement is made at (the service's clock is frozen there). */
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0); // a Wednesday, in opening hours
const iso = (ms: number) => new Date(ms).toISOString();

let t: TestApp;
let store: ContactStore;
let contacts: ContactRow[];
let clocksOf: Map<string, ClockRow[]>;

/** Contacts the generator may not give a few thousand of: each status, ties on receivedAt, an assignee's work. */
function edgeCases(): ContactInput[] {
  const out: ContactInput[] = [];
  const tie = NOW - 2 * DAY; // twelve contacts received at the same millisecond: ordered by id
  for (let i = 0; i < 12; i++) {
    const channel = (['phone', 'email', 'webform', 'social', 'voicemail'] as const)[i % 5]!;
    const events: Array<Record<string, unknown>> = [];
    if (channel === 'phone') events.push({ type: 'answered', at: iso(tie + (i % 2 === 0 ? 30_000 : 9 * MINUTE)) });
    else if (i % 3 === 0) events.push({ type: 'replied', at: iso(tie + 3 * 60 * MINUTE) });
    if (i % 4 === 1) events.push({ type: 'assigned', at: iso(tie + MINUTE), assignee: ADVISORS[3]! });
    out.push({ channel, category: i % 6 === 5 ? 'complaint' : 'general', externalId: `tie-${i}`, receivedAt: iso(tie), events });
  }
  // Calls in the queue now: running, at risk (past 4 of their 5 minutes), breached.
  out.push({ channel: 'phone', externalId: 'q-running', receivedAt: iso(NOW - MINUTE) });
  out.push({ channel: 'phone', externalId: 'q-at-risk', receivedAt: iso(NOW - 270_000) });
  out.push({ channel: 'phone', externalId: 'q-breached', receivedAt: iso(NOW - 10 * MINUTE) });
  out.push({ channel: 'phone', externalId: 'q-short', receivedAt: iso(NOW - 30 * MINUTE), events: [{ type: 'abandoned', at: iso(NOW - 30 * MINUTE + 3_000) }] });
  // Complaints: paused now, met and missed after an extension, assigned.
  const complaint = (id: string, received: number, events: Array<Record<string, unknown>>): ContactInput => ({
    channel: 'webform',
    category: 'complaint',
    externalId: id,
    receivedAt: iso(received),
    events: [{ type: 'assigned', at: iso(received + MINUTE), assignee: ADVISORS[3]! }, { type: 'acknowledged', at: iso(received + 60 * MINUTE), reference: `R-${id}`, owner: ADVISORS[3]! }, ...events],
  });
  out.push(complaint('c-paused', NOW - 5 * DAY, [{ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting information', at: iso(NOW - 3 * DAY) }]));
  const r = NOW - 60 * DAY;
  out.push(complaint('c-met-ext', r, [{ type: 'extended', clock: 'complaint-resolve', until: iso(r + 24 * DAY), reason: 'agreed', at: iso(r + 8 * DAY) }, { type: 'resolved', at: iso(r + 20 * DAY) }]));
  out.push(complaint('c-missed-ext', r + 1, [{ type: 'extended', clock: 'complaint-resolve', until: iso(r + 24 * DAY), reason: 'agreed', at: iso(r + 8 * DAY) }, { type: 'resolved', at: iso(r + 30 * DAY) }]));
  out.push({ channel: 'email', externalId: 'e-cancelled', receivedAt: iso(NOW - 9 * DAY), events: [{ type: 'cancelled', reason: 'spam', at: iso(NOW - 9 * DAY + MINUTE) }] });
  return out;
}

/**
 * Named phone queues (issue 13), in this test's data only (the bench generator's calls stay on the two
 * built-in queues, named after their routes, so its cached database needs no rebuild): a repairs line
 * (repair and emergency-repair calls and voicemails of customer services) and a rents line (one in
 * four of its general ones). The edge cases' calls carry no source: their queue is their route.
 */
function withNamedQueues(c: ContactInput, i: number): ContactInput {
  if ((c.channel !== 'phone' && c.channel !== 'voicemail') || c.route !== 'customer-services' || c.source === undefined) return c;
  const queue = c.category === 'repair' || c.category === 'emergency-repair' ? 'repairs' : c.category === 'general' && i % 4 === 0 ? 'rents' : undefined;
  return queue === undefined ? c : { ...c, source: { ...c.source, queue, platformQueue: `Q-${queue}` } };
}

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  const inputs = [...[...yearOfContacts({ contacts: 3000, seed: 7, now: NOW })].map(withNamedQueues), ...edgeCases()];
  for (let i = 0; i < inputs.length; i += 500) await Promise.all(inputs.slice(i, i + 500).map((c) => t.service.createContact(c)));
  const ids = (t.connection.sqlite.prepare('SELECT id FROM contacts').all() as Array<{ id: string }>).map((r) => r.id);
  // The SQLite store itself: its plans, and its answers against brute force, are what this file checks.
  store = new ContactStore(t.connection.sqlite);
  contacts = store.byIds(ids);
  clocksOf = store.clocksOf(ids);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

// ------------------------------------------------------------------------------------------------
// Brute force: every contact, every clock, judged by the service's own `asOf` (not by the SQL).

const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

function clockMatches(c: ClockRow, f: ContactFilter): boolean {
  if (f.standard !== undefined && c.standard !== f.standard) return false;
  if (f.status === undefined || f.status.length === 0) return true;
  const judged = t.service.asOf(c.detail, f.now).status;
  return f.status.some((s) => (s === 'open' ? OPEN.has(c.status) : judged === s));
}

function bruteForce(f: Omit<ContactFilter, 'limit' | 'after'>): string[] {
  const filter = { ...f, limit: 0 } as ContactFilter;
  return contacts
    .filter((c) => {
      if (f.channel !== undefined && c.channel !== f.channel) return false;
      if (f.category !== undefined && c.category !== f.category) return false;
      if (f.assignee !== undefined && c.assignee !== f.assignee) return false;
      if (f.queue !== undefined && queueOf(c) !== f.queue) return false;
      if (f.receivedFrom !== undefined && c.receivedAt < f.receivedFrom) return false;
      if (f.receivedTo !== undefined && c.receivedAt >= f.receivedTo) return false;
      if (f.standard === undefined && (f.status === undefined || f.status.length === 0)) return true;
      return (clocksOf.get(c.id) ?? []).some((k) => clockMatches(k, filter));
    })
    .sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((c) => c.id);
}

/** Every page from `start` (a cursor) on, following the cursor as the route does. */
function pages(f: Omit<ContactFilter, 'limit' | 'after'>, limit: number, shape?: ListPlan['shape'], start?: ContactRow): string[] {
  const out: string[] = [];
  let after = start === undefined ? undefined : { receivedAt: start.receivedAt, id: start.id };
  for (let page = 0; page < 500; page++) {
    const rows = store.list({ ...f, limit: limit + 1, ...(after ? { after } : {}) }, shape);
    const shown = rows.slice(0, limit);
    out.push(...shown.map((r) => r.id));
    if (rows.length <= limit) return out;
    const last = shown[shown.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
  throw new Error('more than 500 pages');
}

// ------------------------------------------------------------------------------------------------
// Plans

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

function explain(sql: string, params: unknown): PlanRow[] {
  const st = t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  return (params === undefined ? st.all() : Array.isArray(params) ? st.all(...params) : st.all(params)) as PlanRow[];
}

/** Forgets the planner statistics (openDatabase's PRAGMA optimize may have gathered some) and reloads. */
function dropStatistics(): void {
  const sqlite = t.connection.sqlite;
  for (const table of ['sqlite_stat1', 'sqlite_stat4']) {
    if (sqlite.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(table) !== undefined) sqlite.exec(`DELETE FROM ${table}`);
  }
  sqlite.exec('ANALYZE sqlite_master'); // makes the planner re-read the (now empty) statistics
}

const LOOP = /^(SCAN|SEARCH) (\w+)( EXISTS)? /;

/**
 * The first loop walks `lead` (when given); every other loop on clocks is a SEARCH on the primary key
 * by contact_id, every other loop on contacts a SEARCH by id; nothing is sorted (a sort reads every
 * matching row before the first is returned) unless `sortOk`.
 */
/** The live store's statements with parameters of the right count (a `?` is never inside a literal there). */
function boardReads(): Array<[string, string, unknown, { lead: RegExp; sortOk?: boolean }]> {
  const st = new LiveStore(t.connection.sqlite, new Map([['email-reply', 'email']])).statements;
  const args = (sql: string, first: unknown[]) => [...first, ...Array<unknown>((sql.match(/\?/g) ?? []).length - first.length).fill(1)];
  const open = /^SCAN k USING (COVERING )?INDEX clocks_open_received/;
  return [
    ['board: running clocks, first page', st.firstPage, args(st.firstPage, ['email-reply', 'email']), { lead: open }],
    ['board: running clocks, next page', st.nextPage, args(st.nextPage, ['email-reply', 'email']), { lead: /^SEARCH k USING (COVERING )?INDEX clocks_open_received/ }],
    ["board: today's calls", st.calls, [NOW - DAY], { lead: /^SEARCH c USING INDEX contacts_received_at \(received_at>\?\)/ }],
    ["board: today's contacts", st.received, [NOW - DAY], { lead: /^SEARCH contacts USING COVERING INDEX contacts_received_at \(received_at>\?\)/ }],
    ['board: clocks handled today', st.handled, [NOW - DAY], { lead: /^SEARCH k USING INDEX clocks_ended_at \(ended_at>\?\)/ }],
    ["board: waiting calls' phone queues", st.queue, ['["a","b"]'], { lead: /^SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)/ }],
  ];
}

function assertKeyed(name: string, rows: PlanRow[], opts: { lead?: RegExp; sortOk?: boolean; inner?: RegExp } = {}): void {
  const text = rows.map((r) => `${r.id}/${r.parent} ${r.detail}`).join('\n');
  if (opts.inner !== undefined) expect(rows.some((r) => opts.inner!.test(r.detail)), `${name}: ${opts.inner} in\n${text}`).toBe(true);
  const loops = rows.filter((r) => LOOP.test(r.detail) && !/json_each/.test(r.detail));
  expect(loops.length, `${name}: no loop in\n${text}`).toBeGreaterThan(0);
  if (opts.lead !== undefined) expect(loops[0]!.detail, `${name}: the walk\n${text}`).toMatch(opts.lead);
  const inner = /json_each/.test(rows[0]?.detail ?? '') ? loops : loops.slice(1);
  for (const r of inner) {
    const table = LOOP.exec(r.detail)![2];
    if (table === 'k' || table === 'clocks') {
      // By the primary key, or by the open clocks' covering index on the contact's whole key there.
      expect(r.detail, `${name}: a loop on clocks inside the walk must be keyed on contact_id\n${text}`).toMatch(
        /^SEARCH \w+( EXISTS)? USING (COVERING )?INDEX (sqlite_autoindex_clocks_1 \(contact_id=\?|clocks_open_received \(received_at=\? AND contact_id=\?( AND standard=\?)?\))/,
      );
    } else if (table === 'c' || table === 'contacts') {
      // By id, or by the whole key of contacts_received_at (received_at and id: one row).
      expect(r.detail, `${name}: a loop on contacts inside the walk must be by id\n${text}`).toMatch(/^SEARCH \w+ USING (COVERING )?INDEX (sqlite_autoindex_contacts_1 \(id=\?\)|contacts_id_assignee \(id=\?( AND assignee=\?)?\)|contacts_received_at \(received_at=\? AND id=\?\))/);
    } else if (table === 'events') {
      expect(r.detail, `${name}: events by contact\n${text}`).toMatch(/^SEARCH events USING (COVERING )?INDEX events_contact_seq \(contact_id=\?\)/);
    }
  }
  // Never a full scan of a table (a walk of an index in order is a SCAN … USING INDEX).
  for (const r of loops) expect(r.detail, `${name}: full table scan\n${text}`).toMatch(/USING|VIRTUAL TABLE/);
  if (opts.sortOk !== true) expect(text, `${name}: sorts\n${text}`).not.toMatch(/TEMP B-TREE FOR (ORDER BY|RIGHT PART|LAST TERM)/);
}

function assertListPlan(name: string, f: ContactFilter, shape?: ListPlan['shape']): ListPlan {
  const plan = store.listPlan(f, shape);
  for (const [i, st] of plan.statements.entries()) {
    const rows = explain(st.sql, st.params);
    const lead =
      plan.shape === 'contacts'
        ? f.assignee !== undefined
          ? /USING INDEX contacts_assignee_received \(assignee=\?/
          : f.queue !== undefined
            ? /^SEARCH c USING INDEX contacts_queue_received \(queue=\?/
            : f.category !== undefined
              ? /^SEARCH c USING INDEX contacts_category_received \(category=\?/
              : /^(SCAN|SEARCH) c USING INDEX contacts_received_at\b/
        : /^(SCAN|SEARCH) k USING COVERING INDEX clocks_(open|status|standard)_received\b/;
    assertKeyed(`${name} [${plan.shape} ${i}]`, rows, { lead });
  }
  for (const [i, st] of plan.counts.entries()) assertKeyed(`${name} [count ${i}]`, explain(st.sql, st.params), { sortOk: true });
  return plan;
}

// ------------------------------------------------------------------------------------------------
// The filters: every one alone, and each with every status.

const STATUSES: Array<string[] | undefined> = [
  undefined,
  ['running'],
  ['at-risk'],
  ['breached'],
  ['paused'],
  ['open'],
  ['met'],
  ['missed'],
  ['met-extended'],
  ['missed-extended'],
  ['abandoned'],
  ['abandoned-short'],
  ['cancelled'],
  ['breached', 'at-risk'],
  ['met', 'missed'],
  ['paused', 'breached', 'cancelled'],
];

function others(): Array<[string, Omit<ContactFilter, 'limit' | 'now' | 'status'>]> {
  const mid = NOW - 120 * DAY;
  return [
    ['no other filter', {}],
    ['standard email-reply', { standard: 'email-reply' }],
    ['standard complaint-resolve', { standard: 'complaint-resolve' }],
    ['channel email', { channel: 'email' }],
    ['channel voicemail', { channel: 'voicemail' }],
    ['category complaint', { category: 'complaint' }],
    ['channel webform + category complaint', { channel: 'webform', category: 'complaint' }],
    ['assignee', { assignee: ADVISORS[3]! }],
    ['assignee + channel', { assignee: ADVISORS[3]!, channel: 'phone' }],
    ['received from/to', { receivedFrom: mid, receivedTo: mid + 30 * DAY }],
    ['received from', { receivedFrom: NOW - 10 * DAY }],
    // Named phone queues (issue 13): a big line, a small one, a built-in one, and with the other filters.
    ['queue repairs', { queue: 'repairs' }],
    ['queue rents', { queue: 'rents' }],
    ['queue customer-services', { queue: 'customer-services' }],
    ['queue out-of-hours + channel phone', { queue: 'out-of-hours', channel: 'phone' }],
    ['queue rents + channel voicemail', { queue: 'rents', channel: 'voicemail' }],
    ['queue repairs + category emergency-repair', { queue: 'repairs', category: 'emergency-repair' }],
    ['queue repairs + standard phone-answer', { queue: 'repairs', standard: 'phone-answer' }],
    ['queue customer-services + assignee', { queue: 'customer-services', assignee: ADVISORS[3]! }],
    ['queue rents + received from/to', { queue: 'rents', receivedFrom: mid, receivedTo: mid + 30 * DAY }],
    ['queue nobody uses', { queue: 'asb-line' }],
  ];
}

function cases(): Array<[string, Omit<ContactFilter, 'limit' | 'after'>]> {
  const out: Array<[string, Omit<ContactFilter, 'limit' | 'after'>]> = [];
  for (const status of STATUSES) {
    for (const [name, f] of others()) out.push([`${status?.join(',') ?? 'any status'} / ${name}`, { ...f, ...(status ? { status } : {}), now: NOW }]);
  }
  return out;
}

describe('GET /api/v1/contacts: plans and results', () => {
  it('has data for every status (so no case below passes empty)', () => {
    for (const status of STATUSES.flat()) {
      if (status === undefined) continue;
      expect(bruteForce({ status: [status], now: NOW }).length, status).toBeGreaterThan(0);
    }
    expect(contacts.length).toBeGreaterThan(2500);
    // Each named queue has calls and voicemails; the edge cases' calls (no source) are on their route's queue.
    for (const queue of ['repairs', 'rents', 'customer-services']) {
      for (const channel of ['phone', 'voicemail']) expect(bruteForce({ queue, channel, now: NOW }).length, `${queue} ${channel}`).toBeGreaterThan(5);
    }
    expect(bruteForce({ queue: 'out-of-hours', channel: 'phone', now: NOW }).length).toBeGreaterThan(5); // the generator's voicemails are all customer services'
    expect(queueOf(contacts.find((c) => c.externalId === 'q-running')!)).toBe('customer-services');
    expect(contacts.filter((c) => c.channel !== 'phone' && c.channel !== 'voicemail').every((c) => queueOf(c) === null)).toBe(true);
    // The stored column is the same rule.
    const stored = new Map((t.connection.sqlite.prepare('SELECT id, queue FROM contacts').all() as Array<{ id: string; queue: string | null }>).map((r) => [r.id, r.queue]));
    for (const c of contacts) expect(stored.get(c.id), c.id).toBe(queueOf(c));
    // Migration 0011's backfill (rows stored before the column) gives the same, run on these rows and rolled back.
    const backfill = readFileSync(join(MIGRATIONS_FOLDER, '0011_contacts_queue.sql'), 'utf8').split('--> statement-breakpoint').find((st) => /UPDATE `contacts` SET `queue`/.test(st))!;
    const sqlite = t.connection.sqlite;
    sqlite.exec('BEGIN');
    try {
      sqlite.exec('UPDATE contacts SET queue = NULL');
      sqlite.exec(backfill);
      const refilled = sqlite.prepare('SELECT id, queue FROM contacts').all() as Array<{ id: string; queue: string | null }>;
      for (const r of refilled) expect(r.queue, r.id).toBe(stored.get(r.id));
    } finally {
      sqlite.exec('ROLLBACK');
    }
  });

  it('walks one index in order with only keyed lookups inside, for every filter alone and with every status (no statistics)', () => {
    dropStatistics();
    for (const [name, f] of cases()) {
      assertListPlan(name, { ...f, limit: 51 });
      assertListPlan(`${name} after a cursor`, { ...f, limit: 51, after: { receivedAt: NOW - 30 * DAY, id: 'zzzz' } });
      if (f.status !== undefined || f.standard !== undefined) {
        assertListPlan(`${name} (contacts walk)`, { ...f, limit: 51 }, 'contacts');
        assertListPlan(`${name} (clocks walk)`, { ...f, limit: 51 }, 'clocks');
      }
    }
  });

  it('keeps those plans after ANALYZE', () => {
    t.connection.sqlite.exec('ANALYZE');
    for (const [name, f] of cases()) {
      assertListPlan(name, { ...f, limit: 51 });
      if (f.status !== undefined || f.standard !== undefined) {
        assertListPlan(`${name} (contacts walk)`, { ...f, limit: 51 }, 'contacts');
        assertListPlan(`${name} (clocks walk)`, { ...f, limit: 51 }, 'clocks');
      }
    }
  });

  it('plans the issue-9 list (status=breached) as a walk of the open clocks, not a range scan of clocks per contact', () => {
    const plan = assertListPlan('breached', { status: ['breached'], limit: 101, now: NOW });
    expect(plan.shape).toBe('clocks');
    expect(explain(plan.statements[0]!.sql, plan.statements[0]!.params).map((r) => r.detail)).toEqual(['SCAN k USING COVERING INDEX clocks_open_received']);
  });

  it('returns, page by page through the cursor, the ids a brute-force filter gives, in the same order', () => {
    let checked = 0;
    for (const [name, f] of cases()) {
      const expected = bruteForce(f);
      const shapes: Array<ListPlan['shape'] | undefined> = f.status !== undefined || f.standard !== undefined ? [undefined, 'contacts', 'clocks'] : [undefined];
      for (const shape of shapes) {
        expect(pages(f, 37, shape), `${name} (${shape ?? 'chosen'} walk)`).toEqual(expected);
        // Deep: from a cursor two thirds of the way down.
        if (expected.length > 3) {
          const start = contacts.find((c) => c.id === expected[Math.floor((expected.length * 2) / 3)])!;
          expect(pages(f, 11, shape, start), `${name} from a deep cursor (${shape ?? 'chosen'} walk)`).toEqual(expected.slice(Math.floor((expected.length * 2) / 3) + 1));
        }
      }
      checked += expected.length;
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('pages through the route the same way, with the views built in one batch equal to single views', async () => {
    for (const query of ['status=met&channel=email', 'status=breached', 'category=complaint&status=open', `assignee=${ADVISORS[3]!}`, 'standard=complaint-resolve', 'queue=rents', 'queue=repairs&status=met,missed', 'queue=repairs&channel=voicemail&status=open']) {
      const params = new URLSearchParams(query);
      const f: Omit<ContactFilter, 'limit' | 'after'> = { now: NOW };
      if (params.get('status')) f.status = params.get('status')!.split(',');
      if (params.get('channel')) f.channel = params.get('channel')!;
      if (params.get('category')) f.category = params.get('category')!;
      if (params.get('assignee')) f.assignee = params.get('assignee')!;
      if (params.get('standard')) f.standard = params.get('standard')!;
      if (params.get('queue')) f.queue = params.get('queue')!;
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await t.app.inject({ method: 'GET', url: `/api/v1/contacts?${query}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, headers: t.auth });
        expect(r.statusCode, `${query}: ${r.body}`).toBe(200);
        const body = r.json() as { items: Array<{ id: string }>; nextCursor: string | null };
        ids.push(...body.items.map((i) => i.id));
        if (ids.length <= 100) {
          // The first page's views, built in one batch, equal the one-contact views (same instant).
          const rows = store.byIds(body.items.map((i) => i.id));
          expect(await t.service.views(rows, NOW)).toEqual(await Promise.all(rows.map((r) => t.service.view(r.id, NOW))));
        }
        cursor = body.nextCursor;
      } while (cursor !== null);
      expect(ids, query).toEqual(bruteForce(f));
    }
  });
});

describe('the other reads: one contact, explain, a page of views, the board at start, calendar edits, social replies', () => {
  const one = () => contacts.find((c) => (clocksOf.get(c.id) ?? []).length > 1)!;

  it('are keyed lookups, with and without statistics', () => {
    for (const stats of [false, true]) {
      if (!stats) dropStatistics();
      else t.connection.sqlite.exec('ANALYZE');
      const c = one();
      const ids = JSON.stringify(contacts.slice(0, 100).map((x) => x.id));
      const reads: Array<[string, string, unknown, { lead: RegExp; sortOk?: boolean; inner?: RegExp }]> = [
        // GET /api/v1/contacts/:id
        ['contact', 'SELECT * FROM contacts WHERE id = ?', [c.id], { lead: /^SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)/ }],
        ['its events', 'SELECT * FROM events WHERE contact_id = ? ORDER BY seq', [c.id], { lead: /^SEARCH events USING INDEX events_contact_seq \(contact_id=\?\)/ }],
        ['its clocks', 'SELECT contact_id, standard, status, open, due_at, at_risk_at, detail FROM clocks WHERE contact_id = ? ORDER BY rowid', [c.id], { lead: /^SEARCH clocks USING INDEX sqlite_autoindex_clocks_1 \(contact_id=\?\)/, sortOk: true }],
        // GET …/clocks/:standard/explain
        ['one clock', 'SELECT contact_id, standard, status, open, due_at, at_risk_at, detail FROM clocks WHERE contact_id = ? AND standard = ?', [c.id, 'x'], { lead: /^SEARCH clocks USING INDEX sqlite_autoindex_clocks_1 \(contact_id=\? AND standard=\?\)/ }],
        // A page of views (json_each of the page's ids)
        ['page: contacts', 'SELECT * FROM contacts WHERE id IN (SELECT value FROM json_each(?))', [ids], { lead: /^SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)/ }],
        ['page: events', 'SELECT * FROM events WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY contact_id, seq', [ids], { lead: /^SEARCH events USING INDEX events_contact_seq \(contact_id=\?\)/, sortOk: true }],
        ['page: clocks', 'SELECT contact_id, standard, status, open, due_at, at_risk_at, detail FROM clocks WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY rowid', [ids], { lead: /^SEARCH clocks USING INDEX sqlite_autoindex_clocks_1 \(contact_id=\?\)/, sortOk: true }],
        // A calendar edit: the contacts with running clocks on the calendar
        ['calendar edit', 'SELECT DISTINCT contact_id FROM clocks INDEXED BY clocks_open_received WHERE open = 1 AND calendar = ?', ['customer-services'], { lead: /^SCAN clocks USING COVERING INDEX clocks_open_received/, sortOk: true }],
        // GET /api/v1/team: each open clock's owner from the covering (id, assignee) index, never the wide row
        ['team load', QUEUE_SQL.openClockOwners, [], { lead: /^SCAN k USING COVERING INDEX clocks_open_received/, sortOk: true, inner: /^SEARCH c USING COVERING INDEX contacts_id_assignee \(id=\?\)/ }],
        // The board at start and its figures: the store's own statements (server/store/live.ts), with
        // one standard implying its channel so the CASE and its keyed look-up are both planned.
        ...boardReads(),
      ];
      for (const [name, sql, params, opts] of reads) assertKeyed(`${name}${stats ? ' (ANALYZE)' : ''}`, explain(sql, params), opts);
    }
  });

  it("a page's reply to a sender's messages uses the sender index", () => {
    assertKeyed('social sender', explain(SOCIAL_AWAITING_REPLY_SQL, ['psid-1', NOW]), { lead: /^SEARCH c USING INDEX contacts_social_sender \(<expr>=\? AND received_at<\?\)/, sortOk: true });
    // and its answer matches a brute-force filter
    const senders = contacts.filter((c) => c.channel === 'social' && c.source?.kind === 'message');
    let found = 0;
    for (const sender of new Set(senders.map((c) => c.source!.senderId as string))) {
      const expected = senders
        .filter((c) => c.source!.senderId === sender && c.receivedAt <= NOW && (clocksOf.get(c.id) ?? []).some((k) => k.open && k.standard.endsWith('-reply')))
        .sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : -1))
        .map((c) => c.id);
      expect(store.socialMessagesAwaitingReply(sender, NOW)).toEqual(expected);
      found += expected.length;
    }
    expect(found).toBeGreaterThan(0);
  });
});
