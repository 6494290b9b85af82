// The API's reads on PostgreSQL (issue 14): server/readers/ports.ts builds the table of reads
// (READ_NAMES) over the asynchronous ports; on a real SQLite file and a real PostgreSQL:
// - the same contacts, events, assignments and alerts on both (SQLite through the InlineRunner's
//   commands, PostgreSQL through the set-based writer and PgCommands), then every read name answers the
//   same on both: inlineReads (the reader threads' table, on this thread) and pgReads(pool) — the
//   views' JSON text byte for byte (the contact ids put back as SQLite's), the parts deep-equal; lists
//   with several filters followed page by page through the cursor; the queue with an assignee, without,
//   by queues; explainable's three answers; a contact's page with its alerts; open alerts with their
//   contacts. portReads over the SQLite ports (sqliteStores, no snapshot) answers the same too;
// - one snapshot: inside pgSnapshot a contact committed by the writer meanwhile is not seen, after it is;
//   a read that fails rolls back and hands its connection back, and the next read works.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../db/connection.js';
import { prepareAddEvents } from '../../server/commands/add-events.js';
import { loadCalendars } from '../../server/commands/context.js';
import { prepareCreateContact, type ContactInput, type CreateContactInput } from '../../server/commands/create-contact.js';
import type { CalendarSet } from '../../server/domain/clocks.js';
import { pgReads, pgSnapshot, portReads } from '../../server/readers/ports.js';
import { inlineReads, READ_NAMES, type QueueRequest, type Reads } from '../../server/readers/reads.js';
import { CalendarStore } from '../../server/store/calendars.js';
import type { ContactFilter, ContactRow } from '../../server/store/contacts.js';
import { PgCommands } from '../../server/store/pg/commands.js';
import { pgAlertAction } from '../../server/store/pg/commands-queue.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { loadPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { sqliteStores } from '../../server/store/stores.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { openTwoDatabases, type TwoDatabases } from '../helpers/two-databases.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NOW = Date.parse('2026-03-10T11:00:00Z'); // a Tuesday, in opening hours
/** Two days on: more of the running clocks judged at risk or breached. */
const LATER = NOW + 2 * DAY;
const MAX_EVENTS = 120;
const iso = (ms: number) => new Date(ms).toISOString();

/** The lists asked for: every contact, statuses judged now and later, stored statuses, each column, a range. */
const FILTERS: ContactFilter[] = [
  { limit: 500, now: NOW },
  { limit: 7, now: NOW, status: ['open'] },
  { limit: 500, now: LATER, status: ['breached', 'at-risk'] },
  { limit: 500, now: NOW, status: ['paused'] },
  { limit: 500, now: NOW, channel: 'phone' },
  { limit: 500, now: NOW, assignee: 'ola.ade' },
  { limit: 500, now: NOW, assignee: 'ola.ade', status: ['open'] },
  { limit: 500, now: NOW, category: 'complaint', status: ['open'] },
  { limit: 500, now: NOW, queue: 'customer-services' },
  { limit: 500, now: NOW, standard: 'complaint-resolve' },
  { limit: 500, now: NOW, receivedFrom: NOW - 4 * 60 * MINUTE, receivedTo: NOW - 5 * MINUTE },
];
/** My queue: an advisor's with every queue, another's cut short (judged later), the unassigned work by queues, no queues. */
const REQUESTS: QueueRequest[] = [
  { assignee: 'ola.ade', limit: 200, unassignedLimit: 200, queues: null, now: NOW },
  { assignee: 'ola.ade', limit: 2, unassignedLimit: 3, queues: null, now: LATER },
  { assignee: null, limit: 200, unassignedLimit: 200, queues: ['complaint', 'colleague-direct'], now: NOW },
  { assignee: 'ola.ade', limit: 200, unassignedLimit: 200, queues: [], now: NOW },
];

let both: TwoDatabases;
let sqlite: Connection;
let runner: InlineRunner;
let pool: pg.Pool;
let writer: PgGroupCommitWriter;
let commands: PgCommands;
let liteCalendars: CalendarSet;
let pgCalendars: CalendarSet;
/** PostgreSQL's contact ids, SQLite's for each (and back). */
const toLiteId = new Map<string, string>();
const toPgId = new Map<string, string>();
/** The contacts as SQLite created them, in creation order, and as they are after the events added. */
const created: ContactRow[] = [];
let creations = 0;

/** A PostgreSQL answer with its contact ids put back as SQLite's (inside the views' JSON text too), Maps as their entries. */
function asLite(v: unknown): unknown {
  let text = JSON.stringify(v, (_, x: unknown) => (x instanceof Map ? { map: [...x] } : x)) ?? 'null';
  for (const [p, l] of toLiteId) text = text.replaceAll(p, l);
  return JSON.parse(text);
}
/** A SQLite answer as compared. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x: unknown) => (x instanceof Map ? { map: [...x] } : x)) ?? 'null');

/** Creates one contact on both databases, each a millisecond after the last (ids are time-ordered, so both databases' ids sort alike). */
async function create(body: ContactInput): Promise<ContactRow> {
  const input = prepareCreateContact(body, { now: NOW - 1000 + creations++, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' }) as CreateContactInput;
  const a = await runner.run('create-contact', input);
  const p = await writer.createContact(input);
  if (!a.created || !p.created) throw new Error('both should create');
  toLiteId.set(p.row.id, a.row.id);
  toPgId.set(a.row.id, p.row.id);
  return a.row;
}

/** The same command on both databases, the PostgreSQL one given its own contact id; the answers compared. */
async function onBoth(name: 'add-events' | 'contact-action', input: { contactId: string } & Record<string, unknown>): Promise<void> {
  const a = await runner.run(name, input as never);
  const pgInput = { ...input, contactId: toPgId.get(input.contactId)! };
  const p = await (name === 'add-events' ? commands.addEvents(pgInput as never) : commands.contactAction(pgInput as never));
  expect(asLite(p)).toEqual(plain(a));
}

beforeAll(async () => {
  both = await openTwoDatabases('kept_contract_reads', NOW, MAX_EVENTS);
  ({ sqlite, runner, pool, writer } = both);
  commands = await PgCommands.open(pool, { maxEventsPerContact: MAX_EVENTS });
  liteCalendars = loadCalendars(new CalendarStore(sqlite.sqlite));
  pgCalendars = (await loadPgCalendars(pool)).calendars;

  // 40 contacts of every channel, route and kind (answered, abandoned, replied, complaints acknowledged,
  // emergencies attended), some assigned; then the edge cases the generator gives few of.
  for (let i = 0; i < 40; i++) created.push(await create(contactBody(i, 'reads', NOW) as unknown as ContactInput));
  // Six contacts received at the same millisecond: a list orders them by id, and a page may end among them.
  const tie = NOW - 3 * 60 * MINUTE;
  for (let i = 0; i < 6; i++) {
    created.push(await create({ channel: i % 2 === 0 ? 'email' : 'webform', category: i === 5 ? 'complaint' : 'general', externalId: `tie-${i}`, receivedAt: iso(tie), subject: 'Damp and mould in the bathroom' }));
  }
  // A call still waiting (running now, breached later), one past its answer time, and a paused complaint.
  created.push(await create({ channel: 'phone', externalId: 'q-running', receivedAt: iso(NOW - MINUTE) }));
  created.push(await create({ channel: 'phone', externalId: 'q-breached', receivedAt: iso(NOW - 10 * MINUTE) }));
  const r = NOW - 5 * DAY;
  created.push(
    await create({
      channel: 'webform',
      category: 'complaint',
      externalId: 'c-paused',
      receivedAt: iso(r),
      events: [
        { type: 'assigned', at: iso(r + MINUTE), assignee: 'kate.bell' },
        { type: 'acknowledged', at: iso(r + 60 * MINUTE), reference: 'R-c-paused', owner: 'kate.bell' },
        { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting information', at: iso(NOW - 3 * DAY) },
      ],
    }),
  );

  // Assigned to ola.ade by add-events on both; alerts raised (two on one contact, one on an assigned one).
  for (const i of [1, 5, 10, 41, 43]) {
    const c = created[i]!;
    await onBoth('add-events', { now: NOW, contactId: c.id, actor: 'token:test', events: prepareAddEvents(c, [{ type: 'assigned', assignee: 'ola.ade', at: iso(Math.max(c.receivedAt, NOW - 2 * MINUTE)) }], NOW).events });
  }
  for (const [i, note] of [[2, 'lives alone'], [5, 'carer away'], [2, 'second call'], [11, null], [44, 'no heating']] as const) {
    await onBoth('contact-action', { now: NOW + i, contactId: created[i]!.id, actor: 'kate.bell@example.org', action: 'flagged', events: [], alert: { kind: 'safeguarding', note } });
  }
  // One alert actioned: no longer open, still on the contact's page.
  await runner.run('alert-action', { now: NOW + 100, alertId: 4, actor: 'lead@example.org', action: 'called back' } as never);
  await pgAlertAction(pool, {}, { now: NOW + 100, alertId: 4, actor: 'lead@example.org', action: 'called back' });
});

afterAll(async () => {
  await both?.close();
});

/** Every read of READ_NAMES by its name (`contacts.byId`…), each asked with PostgreSQL's own contact ids there. */
async function script(reads: Reads, id: (liteId: string) => string): Promise<Record<string, unknown>> {
  const ids = created.map((c) => c.id);
  const out: Record<string, unknown> = {};
  const c = reads.contacts;
  const paused = id(ids[48]!);
  const standard = (await c.clocks(paused))[0]!.standard;
  // contacts: the store's reads, then the pages that gather a contact's events and clocks.
  out['contacts.byId'] = [await c.byId(id(ids[3]!)), await c.byId('no-such-contact')];
  out['contacts.byExternal'] = [await c.byExternal('email', 'reads-1'), await c.byExternal('email', 'nothing')];
  out['contacts.events'] = [await c.events(id(ids[0]!)), await c.events(paused)];
  out['contacts.clocks'] = [await c.clocks(id(ids[41]!)), await c.clocks(paused)];
  out['contacts.clock'] = [await c.clock(paused, standard), await c.clock(paused, 'no-such-standard')];
  out['contacts.list'] = await Promise.all(FILTERS.map((f) => c.list(f)));
  out['contacts.byIds'] = await c.byIds([ids[9]!, 'no-such-contact', ids[2]!].map(id));
  out['contacts.eventsOf'] = await c.eventsOf(ids.slice(0, 12).map(id));
  out['contacts.clocksOf'] = await c.clocksOf(ids.slice(10, 30).map(id));
  out['contacts.countRows'] = await c.countRows();
  out['contacts.page'] = await Promise.all(FILTERS.slice(0, 4).map((f) => c.page(f)));
  out['contacts.parts'] = [await c.parts(paused), await c.parts('no-such-contact')];
  out['contacts.explainable'] = [await c.explainable(paused, standard), await c.explainable(paused, 'no-such-standard'), await c.explainable('no-such-contact', standard)];

  // views: each list followed through its cursor to the end, five at a time (each side its own cursor).
  const pages: unknown[][] = [];
  for (const f of FILTERS) {
    let after: ContactFilter['after'];
    pages.push([]);
    for (let n = 0; n < 20; n++) {
      const page = await reads.views.list({ ...f, limit: 6, ...(after === undefined ? {} : { after }) }, 5);
      pages[pages.length - 1]!.push(page);
      if (!page.more) break;
      after = page.last!;
    }
  }
  out['views.list'] = pages;
  out['views.contact'] = [await reads.views.contact(paused, NOW), await reads.views.contact(id(ids[0]!), LATER), await reads.views.contact('no-such-contact', NOW)];
  out['views.queue'] = await Promise.all(REQUESTS.map((q) => reads.views.queue(q)));

  // queue: the store's reads, then the pages.
  const q = reads.queue;
  out['queue.unassigned'] = [await q.unassigned(100), await q.unassigned(3), await q.unassigned(100, ['complaint']), await q.unassigned(100, [])];
  out['queue.openClockOwners'] = await q.openClockOwners();
  out['queue.openAlerts'] = [await q.openAlerts(), await q.openAlerts(2)];
  out['queue.alertsOf'] = [await q.alertsOf(id(ids[2]!)), await q.alertsOf(id(ids[3]!))];
  out['queue.openAlertsOf'] = [await q.openAlertsOf(ids.map(id)), await q.openAlertsOf([])];
  out['queue.alert'] = [await q.alert(2), await q.alert(4), await q.alert(999)];
  out['queue.page'] = await Promise.all(REQUESTS.map((r) => q.page(r)));
  out['queue.contactPage'] = [await q.contactPage(id(ids[2]!)), await q.contactPage(id(ids[11]!)), await q.contactPage('no-such-contact')];
  out['queue.alertsWithContacts'] = await q.alertsWithContacts();
  return out;
}

describe('the API reads on SQLite and PostgreSQL', () => {
  it('every read name gives the same answer: the views the same JSON text, the parts the same rows', async () => {
    const lite = inlineReads(sqlite.sqlite, () => liteCalendars);
    const onPg = pgReads(pool, () => pgCalendars);
    const a = plain(await script(lite, (x) => x)) as Record<string, unknown>;
    const p = asLite(await script(onPg, (x) => toPgId.get(x) ?? x)) as Record<string, unknown>;
    // Read by read, so a difference names its read; and every read name asked.
    for (const name of Object.keys(a)) expect(p[name], name).toEqual(a[name]);
    expect(Object.keys(a).sort()).toEqual(Object.entries(READ_NAMES).flatMap(([g, names]) => names.map((n) => `${g}.${n}`)).sort());

    // What the answers should be (so the equalities above are about something).
    const ids = created.map((c) => c.id);
    type View = { id: string; events: unknown[]; clocks: Array<{ standard: string }> };
    type ListPage = { items: string; more: boolean; last: { receivedAt: number; id: string } | null };
    const list = a['contacts.list'] as ContactRow[][];
    expect(list[0]).toHaveLength(created.length);
    expect(list[1]).toHaveLength(7);
    expect(list[2]!.length).toBeGreaterThan(0);
    expect(list[3]!.map((r) => r.externalId)).toContain('c-paused');
    for (const r of list[5]!) expect(r.assignee).toBe('ola.ade');
    expect(list[5]!.length).toBeGreaterThan(list[6]!.length);
    expect(list[6]!.length).toBeGreaterThanOrEqual(3);
    expect(list[9]!.map((r) => r.category)).toContain('complaint');
    // Each list's pages, in order, are the list itself (the one asked for 7 cut short): every contact once, ties on receivedAt by id.
    const pages = a['views.list'] as ListPage[][];
    for (const [i, walk] of pages.entries()) {
      const walked = walk.flatMap((pg) => (JSON.parse(pg.items) as View[]).map((v) => v.id));
      expect(i === 1 ? walked.slice(0, 7) : walked, JSON.stringify(FILTERS[i])).toEqual(list[i]!.map((r) => r.id));
      expect(walk.at(-1)!.more).toBe(false);
    }
    expect(pages[0]!.length).toBe(Math.ceil(created.length / 5));
    const tie = list[0]!.filter((r) => r.externalId?.startsWith('tie-')).map((r) => r.id);
    expect(tie).toHaveLength(6);
    expect(tie).toEqual([...tie].sort().reverse());
    // One contact's view: its events and its clocks.
    const [pausedView, later, missingView] = a['views.contact'] as [string, string, null];
    expect(JSON.parse(pausedView)).toMatchObject({ id: ids[48], events: [{ type: 'assigned' }, { type: 'acknowledged' }, { type: 'paused' }] });
    expect((JSON.parse(pausedView) as View).clocks.length).toBeGreaterThan(0);
    expect((JSON.parse(later) as View).id).toBe(ids[0]);
    expect(missingView).toBeNull();
    // My queue: the advisor's open contacts (an alert shown where there is one), the unassigned work, none for no queues.
    type Queue = { items: string | null; unassigned: string };
    type Item = { id: string; safeguarding: unknown[] };
    const [ola, short, byQueues, noQueues] = a['views.queue'] as Queue[];
    const olaItems = JSON.parse(ola!.items!) as Item[];
    expect(olaItems.map((x) => x.id).sort()).toEqual(list[6]!.map((r) => r.id).sort());
    expect(olaItems.find((x) => x.id === ids[5])!.safeguarding).toHaveLength(1);
    expect((JSON.parse(ola!.unassigned) as unknown[]).length).toBeGreaterThan(10);
    expect(JSON.parse(short!.items!)).toHaveLength(2);
    expect(JSON.parse(short!.unassigned)).toHaveLength(3);
    expect(byQueues!.items).toBeNull();
    expect((JSON.parse(byQueues!.unassigned) as unknown[]).length).toBeGreaterThan(0);
    expect(JSON.parse(noQueues!.unassigned)).toEqual([]);
    // The queue's parts: the same contacts as the views, each list with its own contacts' events, clocks and open alerts.
    type Parts = { rows: ContactRow[]; events: { map: Array<[string, unknown[]]> }; clocks: { map: Array<[string, unknown[]]> }; alerts: { map: Array<[string, unknown[]]> } };
    const openAlerts = (a['queue.openAlertsOf'] as Array<{ map: Array<[string, unknown[]]> }>)[0]!.map;
    const [olaParts] = a['queue.page'] as Array<{ assigned: Parts | null; unassigned: Parts }>;
    for (const [side, items] of [[olaParts!.assigned!, olaItems], [olaParts!.unassigned, JSON.parse(ola!.unassigned) as Item[]]] as const) {
      const of = side.rows.map((r) => r.id);
      expect([...of].sort()).toEqual(items.map((x) => x.id).sort());
      expect(side.events.map.map(([k]) => k)).toEqual(of);
      expect(side.clocks.map.map(([k]) => k)).toEqual(of);
      expect(side.alerts.map).toEqual(openAlerts.filter(([k]) => of.includes(k)));
    }
    expect(olaParts!.assigned!.alerts.map.map(([k, v]) => [k, v.length])).toEqual([[ids[5], 1]]);
    // Explainable: the clock; the contact without that clock; neither.
    const [found, noClock, noContact] = a['contacts.explainable'] as Array<{ clock: unknown; contactExists: boolean }>;
    expect(found).toMatchObject({ contactExists: true, clock: { contactId: ids[48] } });
    expect(noClock).toEqual({ contactExists: true });
    expect(noContact).toEqual({ contactExists: false });
    // A contact's page: every alert it has had; open alerts with their contacts (the actioned one gone).
    const [twoAlerts, actioned, missingPage] = a['queue.contactPage'] as Array<{ alerts: Array<{ note: string | null; actionedAt: number | null }> } | null>;
    expect(twoAlerts!.alerts.map((x) => x.note)).toEqual(['lives alone', 'second call']);
    expect(actioned!.alerts).toMatchObject([{ note: null, actionedAt: NOW + 100 }]);
    expect(missingPage).toBeNull();
    const withContacts = a['queue.alertsWithContacts'] as { alerts: Array<{ contactId: string }>; contacts: ContactRow[] };
    expect(withContacts.alerts).toHaveLength(4);
    expect(withContacts.contacts.map((r) => r.id)).toEqual([...new Set(withContacts.alerts.map((x) => x.contactId))]);
  });

  it('portReads over the SQLite ports (no snapshot) answers as the reader threads\' table does', async () => {
    const lite = inlineReads(sqlite.sqlite, () => liteCalendars);
    const ports = portReads(sqliteStores(sqlite.sqlite), () => liteCalendars);
    const a = plain(await script(lite, (x) => x)) as Record<string, unknown>;
    const b = plain(await script(ports, (x) => x)) as Record<string, unknown>;
    for (const name of Object.keys(a)) expect(b[name], name).toEqual(a[name]);
  });
});

describe('one snapshot on PostgreSQL', () => {
  it('a contact committed while a snapshot reads is not seen inside it, and is after', async () => {
    const snapshot = pgSnapshot(pool);
    const before = (await pgReads(pool, () => pgCalendars).contacts.countRows()).contacts;
    let extra: string | undefined;
    const seen = await snapshot(async (p) => {
      const first = await p.contacts.countRows();
      // Another connection of the pool commits a new contact meanwhile.
      const input = prepareCreateContact({ channel: 'email', externalId: 'during-snapshot', receivedAt: iso(NOW - MINUTE) }, { now: NOW + 5000, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' }) as CreateContactInput;
      extra = (await writer.createContact(input)).row.id;
      const second = await p.contacts.countRows();
      return { first, second, byId: await p.contacts.byId(extra), list: (await p.contacts.list({ limit: 500, now: NOW })).length };
    });
    expect(seen.first.contacts).toBe(before);
    expect(seen.second).toEqual(seen.first);
    expect(seen.byId).toBeUndefined();
    expect(seen.list).toBe(before);
    const reads = pgReads(pool, () => pgCalendars);
    expect((await reads.contacts.countRows()).contacts).toBe(before + 1);
    expect((await reads.contacts.byId(extra!))?.externalId).toBe('during-snapshot');
  });

  it('a read that fails rolls back and hands its connection back; the next reads work', async () => {
    const snapshot = pgSnapshot(pool);
    const reads = pgReads(pool, () => pgCalendars);
    // More failures than the pool has connections: a connection kept would leave the reads after waiting.
    for (let i = 0; i < 6; i++) {
      await expect(
        snapshot(async (p) => {
          await p.contacts.byId(toPgId.get(created[0]!.id)!);
          throw new Error(`read ${i} failed`);
        }),
      ).rejects.toThrow(`read ${i} failed`);
    }
    // A statement PostgreSQL refuses (text cannot hold U+0000): the transaction aborted, rolled back.
    await expect(snapshot(async (p) => [await p.contacts.byId(toPgId.get(created[0]!.id)!), await p.contacts.clock('x', 'bad\u0000')])).rejects.toThrow();
    const client = await pool.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE \'idle in transaction%\'')).rows[0]).toEqual({ n: 0 });
    } finally {
      client.release();
    }
    const page = await reads.views.list({ limit: 6, now: NOW }, 5);
    expect(JSON.parse(page.items)).toHaveLength(5);
    expect(await reads.queue.contactPage(toPgId.get(created[2]!.id)!)).toMatchObject({ alerts: [{ note: 'lives alone' }, { note: 'second call' }] });
  });
});
