// The store's contract (issue 14): the same contacts go into SQLite and PostgreSQL, and every read of
// ContactReads (server/store/ports.ts) — one contact, by external key, its events and clocks, one
// clock, a page of contacts with their events and clocks, the row counts, and every list filter with
// every status, followed page by page through the cursor, deep cursors included, by each walk — gives
// the same answer from both, checked against what was written (an oracle in JS: the rows as written,
// each running clock judged against `now` by the engine's own clockAsOf).
//
// SQLite: a temp file, rows written by the real commands through the InlineRunner (create-contact,
// add-events, set-statuses), read through asyncOf(ContactStore). PostgreSQL: a fresh database, rows
// written by PgContactWrites with clocks from the same engine (evaluateStored over the same calendars),
// read through PgContactReads. Then the PostgreSQL list plans are checked with EXPLAIN (on this data,
// and on a synthetic 200,000-contact database where each must be the ordered walk of its index), and
// the row writes from two instances at once (the contact's row lock, the guarded timer update).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { ADVISORS, yearOfContacts } from '../../scripts/bench/reads-db.js';
import { prepareAddEvents } from '../../server/commands/add-events.js';
import { eventBody } from '../../server/commands/canonical.js';
import { loadCalendars, type CommandContext } from '../../server/commands/context.js';
import { prepareCreateContact, type ContactInput } from '../../server/commands/create-contact.js';
import { evaluateStored } from '../../server/commands/recompute.js';
import { clockAsOf, type CalendarSet } from '../../server/domain/clocks.js';
import type { Clock } from '../../server/domain/model.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { ContactStore, queueOf, type ClockRow, type ContactFilter, type ContactRow, type EventRow, type ListPlan } from '../../server/store/contacts.js';
import { PgContactReads, PgContactWrites, type PgStatement } from '../../server/store/pg/contacts.js';
import { asyncOf, CONTACT_READS, type ContactReads } from '../../server/store/ports.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase, twoPgInstances, type TestPg } from '../helpers/pg.js';
import { explainPlan, planNodes, showPlan, type PlanNode } from '../helpers/pg-plan.js';
import { inTransaction as pgTransaction } from '../../server/store/pg/transaction.js';
import { fillPgYear } from '../../scripts/bench/pg-year.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The instant every write is made at and every list judged at. */
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0); // a Wednesday, in opening hours
/** A week on: the timers that fell due since NOW fire, and some lists are judged then. */
const LATER = NOW + 7 * DAY;
const PACK = 'livewest';
const MAX_EVENTS = 200;
const iso = (ms: number) => new Date(ms).toISOString();
const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

/** Contacts the generator may not give many of: each status, ties on receivedAt, an assignee's work (as the plan test's). */
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
  out.push({ channel: 'phone', externalId: 'q-running', receivedAt: iso(NOW - MINUTE) });
  out.push({ channel: 'phone', externalId: 'q-at-risk', receivedAt: iso(NOW - 270_000) });
  out.push({ channel: 'phone', externalId: 'q-breached', receivedAt: iso(NOW - 10 * MINUTE) });
  // On the boundaries, to the millisecond: at risk from 4 of its 5 minutes (at-risk at NOW), and due at NOW (still at risk).
  out.push({ channel: 'phone', externalId: 'q-at-risk-edge', receivedAt: iso(NOW - 4 * MINUTE) });
  out.push({ channel: 'phone', externalId: 'q-due-edge', receivedAt: iso(NOW - 5 * MINUTE) });
  out.push({ channel: 'phone', externalId: 'q-short', receivedAt: iso(NOW - 30 * MINUTE), events: [{ type: 'abandoned', at: iso(NOW - 30 * MINUTE + 3_000) }] });
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

/** Named phone queues: a repairs line and a rents line (as the plan test's data). */
function withNamedQueues(c: ContactInput, i: number): ContactInput {
  if ((c.channel !== 'phone' && c.channel !== 'voicemail') || c.route !== 'customer-services' || c.source === undefined) return c;
  const queue = c.category === 'repair' || c.category === 'emergency-repair' ? 'repairs' : c.category === 'general' && i % 4 === 0 ? 'rents' : undefined;
  return queue === undefined ? c : { ...c, source: { ...c.source, queue, platformQueue: `Q-${queue}` } };
}

// ------------------------------------------------------------------------------------------------
// What was written (the oracle's side), and the two databases

interface Written {
  row: ContactRow;
  events: Array<Omit<EventRow, 'id'>>;
  clocks: Clock[];
}

const written = new Map<string, Written>();
let calendars: CalendarSet;
let dir: string;
let sqlite: Connection;
let testPg: TestPg;
let postgres: PgConnection;
const stores = {} as Record<'sqlite' | 'postgresql', ContactReads>;
let pgReads: PgContactReads;
/** Timer firings: how many the guarded update stored on PostgreSQL, and how many a second firing stored. */
const firings = { stored: 0, again: 0, overEnded: 0 };
let updated = 0;

/** A clock row as both stores give it. */
function clockRowOf(contactId: string, c: Clock): ClockRow {
  return { contactId, standard: c.standard, status: c.status, open: OPEN.has(c.status), dueAt: c.dueAt, atRiskAt: c.atRiskAt, detail: c };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-store-contract-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(NOW);
  const runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: MAX_EVENTS });
  calendars = loadCalendars(new CalendarStore(sqlite.sqlite));
  // evaluateStored reads the context's calendars only: the engine's answer for a stored contact.
  const engine = { calendars } as CommandContext;
  testPg = await freshPgDatabase('kept_store_contract');
  postgres = await openPostgres(testPg.url, { max: 4 });
  const W = PgContactWrites;

  /** PostgreSQL: one transaction over a connection of the pool. */
  const inTransaction = <T>(work: (client: Parameters<typeof W.insertContact>[0]) => Promise<T>): Promise<T> => pgTransaction(postgres.pool, work);

  // 1. Contacts: SQLite by the create-contact command (group-committed), PostgreSQL by the row writes
  //    with the engine's clocks, 100 contacts to a transaction.
  const inputs = [...[...yearOfContacts({ contacts: 3000, seed: 7, now: NOW })].map(withNamedQueues), ...edgeCases()];
  for (let i = 0; i < inputs.length; i += 500) {
    const outs = await Promise.all(
      inputs.slice(i, i + 500).map((input) => runner.run('create-contact', prepareCreateContact(input, { now: NOW, packFamily: PACK, maxEventsPerContact: MAX_EVENTS, actor: 'contract' }))),
    );
    for (let j = 0; j < outs.length; j += 100) {
      await inTransaction(async (client) => {
        for (const out of outs.slice(j, j + 100)) {
          if (!out.created) throw new Error('a replay in fresh data');
          const events = out.events.map(({ id: _id, ...e }) => e);
          const { clocks, row } = evaluateStored(engine, out.row, out.events, NOW);
          expect(row).toEqual(out.row); // the same engine, the same derived fields
          await W.insertContact(client, row);
          for (const e of events) await W.insertEvent(client, e);
          await W.insertClocks(client, row.id, clocks, NOW);
          written.set(row.id, { row, events, clocks });
        }
      });
    }
  }

  // 2. Events added to some contacts with open clocks (an assignment, a reply, a recategorisation that
  //    changes which standards apply): SQLite by add-events; PostgreSQL with the contact's row locked,
  //    its events read back, its clocks recomputed and replaced.
  const open = [...written.values()].filter((w) => w.clocks.some((c) => c.status !== 'paused' && OPEN.has(c.status)) && w.row.channel !== 'phone');
  for (const [i, w] of open.filter((_, i) => i % 4 === 0).entries()) {
    const at = iso(NOW - (10 + i) * MINUTE);
    const raw = [
      [{ type: 'assigned', at, assignee: ADVISORS[7]! }],
      [{ type: 'replied', at }],
      [{ type: 'recategorised', at, category: w.row.category === 'complaint' ? 'general' : 'complaint' }],
    ][i % 3]!;
    let sqliteOut;
    try {
      sqliteOut = await runner.run('add-events', { ...prepareAddEvents(w.row, raw, NOW), actor: 'contract' });
    } catch {
      continue; // an event the pack refuses for this contact: neither database takes it
    }
    const prepared = prepareAddEvents(w.row, raw, NOW);
    const next = await inTransaction(async (client) => {
      expect(await W.lockContact(client, w.row.id)).toBe(true);
      let seq = await W.nextSeq(client, w.row.id);
      for (const e of prepared.events) {
        await W.insertEvent(client, { contactId: w.row.id, seq: seq++, type: e.type, at: e.at, externalId: e.externalId ?? null, body: eventBody(e), receivedAt: NOW });
      }
      const reads = new PgContactReads(client);
      const row = (await reads.byId(w.row.id))!;
      const { clocks, row: derived } = evaluateStored(engine, row, await reads.events(w.row.id), NOW);
      await W.replaceClocks(client, w.row.id, clocks, NOW);
      await W.updateDerived(client, w.row.id, derived);
      return { row: derived, clocks };
    });
    expect(next.row).toEqual(sqliteOut.change!.contact);
    expect(next.clocks).toEqual(sqliteOut.change!.clocks);
    w.row = next.row;
    w.clocks = next.clocks;
    for (const e of prepared.events) w.events.push({ contactId: w.row.id, seq: w.events.length, type: e.type, at: e.at, externalId: e.externalId ?? null, body: eventBody(e), receivedAt: NOW });
    updated++;
  }

  // 3. Timers, a week on: every running clock past its at-risk or due instant by then gets its
  //    status stored with that instant (SQLite by set-statuses; PostgreSQL by the guarded update, fired
  //    twice: stored once).
  const statuses: Array<{ contactId: string; standard: string; status: string; at: number }> = [];
  for (const w of written.values()) {
    for (const c of w.clocks) {
      if (c.status !== 'running' && c.status !== 'at-risk') continue;
      if (c.dueAt !== null && c.dueAt < LATER) statuses.push({ contactId: w.row.id, standard: c.standard, status: 'breached', at: c.dueAt });
      else if (c.status === 'running' && c.atRiskAt !== null && c.atRiskAt <= LATER) statuses.push({ contactId: w.row.id, standard: c.standard, status: 'at-risk', at: c.atRiskAt });
    }
  }
  // And one firing over a clock that has ended (a timer racing the reply that ended it): stored by neither.
  const ended = [...written.values()].flatMap((w) => w.clocks.filter((c) => c.status === 'met').map((c) => ({ contactId: w.row.id, standard: c.standard, status: 'breached', at: LATER - MINUTE })))[0]!;
  await runner.run('set-statuses', { now: LATER, statuses: [...statuses, ended] });
  await inTransaction(async (client) => {
    for (const s of statuses) if (await W.setStatus(client, s.contactId, s.standard, s.status, s.at, LATER)) firings.stored++;
    for (const s of statuses) if (await W.setStatus(client, s.contactId, s.standard, s.status, s.at, LATER)) firings.again++;
    if (await W.setStatus(client, ended.contactId, ended.standard, ended.status, ended.at, LATER)) firings.overEnded++;
  });
  for (const s of statuses) {
    const w = written.get(s.contactId)!;
    w.clocks = w.clocks.map((c) => (c.standard === s.standard ? { ...c, status: s.status as Clock['status'] } : c));
  }

  await runner.close();
  stores.sqlite = asyncOf(new ContactStore(sqlite.sqlite), CONTACT_READS);
  pgReads = new PgContactReads(postgres.pool);
  stores.postgresql = pgReads;
  await postgres.pool.query('ANALYZE');
}, 300_000);

afterAll(async () => {
  sqlite?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  await postgres?.close();
  await testPg?.drop();
});

// ------------------------------------------------------------------------------------------------
// The oracle: every contact as written, each clock judged against now by the engine (clockAsOf).

function clockMatches(c: Clock, f: ContactFilter): boolean {
  if (f.standard !== undefined && c.standard !== f.standard) return false;
  if (f.status === undefined || f.status.length === 0) return true;
  const judged = clockAsOf(c, calendars, f.now).status;
  return f.status.some((s) => (s === 'open' ? OPEN.has(c.status) : judged === s));
}

function expectedIds(f: Omit<ContactFilter, 'limit' | 'after'>): string[] {
  const filter = { ...f, limit: 0 } as ContactFilter;
  return [...written.values()]
    .filter(({ row: c, clocks }) => {
      if (f.channel !== undefined && c.channel !== f.channel) return false;
      if (f.category !== undefined && c.category !== f.category) return false;
      if (f.assignee !== undefined && c.assignee !== f.assignee) return false;
      if (f.queue !== undefined && queueOf(c) !== f.queue) return false;
      if (f.receivedFrom !== undefined && c.receivedAt < f.receivedFrom) return false;
      if (f.receivedTo !== undefined && c.receivedAt >= f.receivedTo) return false;
      if (f.standard === undefined && (f.status === undefined || f.status.length === 0)) return true;
      return clocks.some((k) => clockMatches(k, filter));
    })
    .map((w) => w.row)
    .sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((c) => c.id);
}

/** Every page from `start` (a cursor) on, following the cursor as the route does; the rows of each page checked whole. */
async function pages(store: ContactReads, f: Omit<ContactFilter, 'limit' | 'after'>, limit: number, shape?: ListPlan['shape'], start?: ContactRow): Promise<string[]> {
  const out: string[] = [];
  let after = start === undefined ? undefined : { receivedAt: start.receivedAt, id: start.id };
  for (let page = 0; page < 500; page++) {
    const rows = await store.list({ ...f, limit: limit + 1, ...(after ? { after } : {}) }, shape);
    const shown = rows.slice(0, limit);
    for (const r of shown) expect(r).toEqual(written.get(r.id)?.row);
    out.push(...shown.map((r) => r.id));
    if (rows.length <= limit) return out;
    const last = shown[shown.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
  throw new Error('more than 500 pages');
}

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
    ['assignee (events added)', { assignee: ADVISORS[7]! }],
    ['assignee + channel', { assignee: ADVISORS[3]!, channel: 'phone' }],
    ['received from/to', { receivedFrom: mid, receivedTo: mid + 30 * DAY }],
    ['received from', { receivedFrom: NOW - 10 * DAY }],
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
  // Judged a week on, over the statuses the timers stored then (and before: a stored `breached`
  // whose due instant is still ahead of an earlier `now` is judged running, as the oracle says).
  for (const status of [['running'], ['at-risk'], ['breached'], ['breached', 'at-risk'], ['open']]) {
    for (const [name, f] of others().slice(0, 8)) out.push([`${status.join(',')} / ${name} / a week on`, { ...f, status, now: LATER }]);
  }
  return out;
}

describe('the data', () => {
  it('has every status, events added, timers stored once', () => {
    expect(written.size).toBeGreaterThan(2500);
    for (const status of STATUSES.flat()) {
      if (status === undefined) continue;
      expect(expectedIds({ status: [status], now: NOW }).length, status).toBeGreaterThan(0);
    }
    expect(updated, 'contacts given events after they were created').toBeGreaterThan(50);
    expect(expectedIds({ assignee: ADVISORS[7]!, now: NOW }).length, 'assigned by an added event').toBeGreaterThan(10);
    expect(firings.stored, 'timer firings stored').toBeGreaterThan(10);
    const edge = (key: string) => [...written.values()].find((w) => w.row.externalId === key)!;
    // The boundaries: at risk from its at-risk instant, and still at risk (not breached) at its due instant.
    expect(edge('q-at-risk-edge').clocks[0]).toMatchObject({ standard: 'phone-answer', atRiskAt: NOW });
    expect(edge('q-due-edge').clocks[0]).toMatchObject({ standard: 'phone-answer', dueAt: NOW });
    expect(expectedIds({ status: ['at-risk'], now: NOW })).toEqual(expect.arrayContaining([edge('q-at-risk-edge').row.id, edge('q-due-edge').row.id]));
    expect(firings.again).toBe(0); // the guarded update: a second firing stores nothing
    expect(firings.overEnded).toBe(0); // nor does a firing over an ended clock
  });
});

describe.each(['sqlite', 'postgresql'] as const)('%s answers the contract', (name) => {
  const store = () => stores[name];
  const ids = () => [...written.keys()];

  it('one contact, by its external key, its events and clocks, one clock', async () => {
    for (const id of ids().filter((_, i) => i % 10 === 0)) {
      const w = written.get(id)!;
      expect(await store().byId(id)).toEqual(w.row);
      if (w.row.externalId !== null) expect(await store().byExternal(w.row.channel, w.row.externalId)).toEqual(w.row);
      const events = await store().events(id);
      expect(events.map(({ id: _id, ...e }) => e)).toEqual(w.events);
      for (const [i, e] of events.entries()) if (i > 0) expect(e.id).toBeGreaterThan(events[i - 1]!.id);
      const clocks = w.clocks.map((c) => clockRowOf(id, c));
      expect(await store().clocks(id)).toEqual(clocks);
      for (const c of clocks) expect(await store().clock(id, c.standard)).toEqual(c);
    }
    expect(await store().byId('no-such-contact')).toBeUndefined();
    expect(await store().byExternal('email', 'no-such-key')).toBeUndefined();
    expect(await store().clock(ids()[0]!, 'no-such-standard')).toBeUndefined();
    expect(await store().events('no-such-contact')).toEqual([]);
  });

  it('a page of contacts with their events and clocks, in the order asked (unknown ids skipped)', async () => {
    const all = ids();
    for (let i = 0; i < all.length; i += 250) {
      const page = [...all.slice(i, i + 250)].reverse();
      const asked = [...page.slice(0, 3), 'no-such-contact', ...page.slice(3)];
      expect(await store().byIds(asked)).toEqual(page.map((id) => written.get(id)!.row));
      const events = await store().eventsOf(asked);
      const clocks = await store().clocksOf(asked);
      expect([...events.keys()]).toEqual(asked);
      expect(events.get('no-such-contact')).toEqual([]);
      for (const id of page) {
        expect(events.get(id)!.map(({ id: _id, ...e }) => e)).toEqual(written.get(id)!.events);
        expect(clocks.get(id)).toEqual(written.get(id)!.clocks.map((c) => clockRowOf(id, c)));
      }
    }
    expect(await store().byIds([])).toEqual([]);
    expect((await store().eventsOf([])).size).toBe(0);
  });

  it('counts its rows (as numbers)', async () => {
    const w = [...written.values()];
    expect(await store().countRows()).toEqual({ contacts: w.length, events: w.reduce((n, x) => n + x.events.length, 0), clocks: w.reduce((n, x) => n + x.clocks.length, 0) });
  });

  it('lists, page by page through the cursor, every filter with every status by every walk, deep cursors included', async () => {
    let checked = 0;
    for (const [caseName, f] of cases()) {
      const expected = expectedIds(f);
      const shapes: Array<ListPlan['shape'] | undefined> = f.status !== undefined || f.standard !== undefined ? [undefined, 'contacts', 'clocks'] : [undefined];
      for (const shape of shapes) {
        expect(await pages(store(), f, 37, shape), `${caseName} (${shape ?? 'chosen'} walk)`).toEqual(expected);
        if (expected.length > 3) {
          const deep = Math.floor((expected.length * 2) / 3);
          const start = written.get(expected[deep]!)!.row;
          expect(await pages(store(), f, 11, shape, start), `${caseName} from a deep cursor (${shape ?? 'chosen'} walk)`).toEqual(expected.slice(deep + 1));
        }
      }
      checked += expected.length;
    }
    expect(checked).toBeGreaterThan(10_000);
  }, 300_000);
});

// ------------------------------------------------------------------------------------------------
// PostgreSQL's plans

const explain = (st: PgStatement, db: PgConnection = postgres): Promise<PlanNode> => explainPlan(db.pool, st);
const nodes = planNodes;
const show = showPlan;

/**
 * What every plan must be, whatever the statistics: every table reached through an index (no Seq Scan),
 * nothing hashed (no join that reads the other table whole), and inside the walk a clock found only by
 * its contact's key (the primary key, or the open clocks' index on (received_at, contact_id)) and a
 * contact only by id. The walk (the first scan outside any subplan) is in the list's order with no Sort
 * (an index scan that stops at the page's end) — or, when the planner judges the rows few (an
 * advisor's, a small queue's, a category's, a rare status's, the open clocks of a few thousand contacts), a bitmap
 * read of that key's range or of the open clocks' partial index, sorted: bounded by the key or the
 * open set, never a sort of the table. Which one is the planner's choice by cost; at a year's scale
 * it is the ordered walk (the next describe).
 */
function assertKeyed(name: string, plan: PlanNode, leads: RegExp | null, o: { sortOk?: boolean; atScale?: boolean } = {}): void {
  const all = nodes(plan);
  const text = show(plan);
  const scans = all.filter(({ node }) => /Scan$/.test(node['Node Type']));
  for (const { node } of scans) expect.soft(node['Node Type'], `${name}: a scan without an index\n${text}`).toMatch(/^(Index (Only )?Scan|Bitmap (Index|Heap) Scan)$/);
  for (const { node } of all) expect.soft(node['Node Type'], `${name}: hashes\n${text}`).not.toMatch(/Hash/);
  const walk = scans.find((x) => !x.inSubPlan && x.node['Node Type'] !== 'Bitmap Heap Scan');
  expect.soft(walk, `${name}: no walk\n${text}`).toBeDefined();
  if (walk === undefined) return;
  if (leads !== null) expect.soft(walk.node['Index Name'], `${name}: the walk\n${text}`).toMatch(leads);
  if (o.sortOk !== true && all.some(({ node }) => node['Node Type'] === 'Sort')) {
    // Sorted only when what is read first is bounded: one key's entries, or (on little data) the open clocks' partial index.
    const bounded = `${walk.node['Node Type']} ${walk.node['Index Name']} ${walk.node['Index Cond'] ?? ''}`;
    const allowed = o.atScale === true ? /^Bitmap Index Scan \S+ \(\(?(assignee|queue|status|standard|category) = / : /^Bitmap Index Scan (\S+ \(\(?(assignee|queue|status|standard|category) = |clocks_open_(received|due) )/;
    expect.soft(bounded, `${name}: sorts, but not one key's ${o.atScale === true ? '' : "or the open clocks' "}entries\n${text}`).toMatch(allowed);
  }
  for (const { node } of scans.filter((x) => x.inSubPlan)) {
    if (node['Relation Name'] === 'clocks' || /^clocks_/.test(node['Index Name'] ?? '')) {
      expect.soft(`${node['Index Name']} ${node['Index Cond']}`, `${name}: a clock by its contact's key\n${text}`).toMatch(/^(clocks_contact_id_standard_pk|clocks_open_received) .*contact_id = c\.id/);
    } else {
      expect.soft(`${node['Index Name']} ${node['Index Cond']}`, `${name}: a contact by id\n${text}`).toMatch(/^(contacts_pkey|contacts_id_assignee) \(\(?id = k\.contact_id\)/);
    }
  }
}

async function assertListPlan(reads: PgContactReads, db: PgConnection, name: string, f: ContactFilter, shape?: ListPlan['shape'], atScale = false): Promise<void> {
  const plan = await reads.listPlan(f, shape);
  // A named queue's list may be walked by its own index or, when the queue is big, by received_at with
  // the queue tested on each row (in order either way); the planner chooses by the queue's share.
  const leads =
    plan.shape === 'contacts'
      ? f.assignee !== undefined
        ? /^contacts_assignee_received$/
        : f.queue !== undefined
          ? /^contacts_(queue_received|received_at)$/
          : f.category !== undefined
            ? /^contacts_(category_received|received_at)$/
            : /^contacts_received_at$/
      : /^clocks_(open_received|open_due|status_received|standard_received)$/;
  for (const [i, st] of plan.statements.entries()) assertKeyed(`${name} [${plan.shape} ${i}]`, await explain(st, db), leads, { atScale });
  for (const [i, st] of plan.counts.entries()) {
    const count = await explain(st, db);
    // A count reads at most SMALL entries (the LIMIT under the aggregate). How it finds them is the
    // planner's choice by cost: a sequential scan when most rows qualify (a shallow cursor), an index
    // when few do (a deep one); either stops at SMALL.
    expect.soft(nodes(count).some(({ node }) => node['Node Type'] === 'Limit'), `${name} [count ${i}]: bounded\n${show(count)}`).toBe(true);
  }
}

describe('postgresql list plans, on these few thousand contacts', () => {
  it('walk an index with only keyed lookups inside, for every filter alone and with every status, by each walk', async () => {
    for (const [name, f] of cases()) {
      await assertListPlan(pgReads, postgres, name, { ...f, limit: 51 });
      await assertListPlan(pgReads, postgres, `${name} after a cursor`, { ...f, limit: 51, after: { receivedAt: NOW - 30 * DAY, id: 'zzzz' } });
      if (f.status !== undefined || f.standard !== undefined) {
        await assertListPlan(pgReads, postgres, `${name} (contacts walk)`, { ...f, limit: 51 }, 'contacts');
        await assertListPlan(pgReads, postgres, `${name} (clocks walk)`, { ...f, limit: 51 }, 'clocks');
      }
    }
  }, 120_000);
});

/**
 * A year's shape without a year's writes: 200,000 contacts, two clocks each (10% open, most of them
 * breached: a backlog), an event each, an advisor on a third of them, two phone queues, written by
 * SQL in a few seconds, then ANALYZE. On a few thousand rows the planner may read a whole small set
 * and sort it; at this size every list must be the ordered walk of its index.
 */
describe('postgresql list plans, at a year\'s scale', () => {
  let big: TestPg;
  let db: PgConnection;
  let reads: PgContactReads;
  const SCALE_NOW = NOW;

  beforeAll(async () => {
    big = await freshPgDatabase('kept_store_contract_scale');
    db = await openPostgres(big.url, { max: 2 });
    await fillPgYear(db.pool, SCALE_NOW);
    reads = new PgContactReads(db.pool);
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await big?.drop();
  });

  it('every list is the ordered walk of its index, with only keyed lookups inside', async () => {
    const filters: Array<[string, Omit<ContactFilter, 'limit' | 'now' | 'status'>]> = [
      ['no other filter', {}],
      ['standard resolve', { standard: 'resolve' }],
      ['channel email', { channel: 'email' }],
      ['channel webform + category complaint', { channel: 'webform', category: 'complaint' }],
      ['assignee', { assignee: 'advisor-04' }],
      ['queue rents', { queue: 'rents' }],
      ['queue customer-services + channel voicemail', { queue: 'customer-services', channel: 'voicemail' }],
      ['received from/to', { receivedFrom: SCALE_NOW - 120 * DAY, receivedTo: SCALE_NOW - 90 * DAY }],
    ];
    const statuses = [undefined, ['running'], ['at-risk'], ['breached'], ['open'], ['met'], ['met-extended'], ['breached', 'at-risk'], ['met', 'missed']];
    for (const status of statuses) {
      for (const [name, f] of filters) {
        const filter: ContactFilter = { ...f, ...(status ? { status } : {}), limit: 51, now: SCALE_NOW };
        const label = `${status?.join(',') ?? 'any status'} / ${name}`;
        await assertListPlan(reads, db, label, filter, undefined, true);
        await assertListPlan(reads, db, `${label} deep`, { ...filter, after: { receivedAt: SCALE_NOW - 200 * DAY, id: '00000000' } }, undefined, true);
        if (status !== undefined) {
          await assertListPlan(reads, db, `${label} (contacts walk)`, filter, 'contacts', true);
          await assertListPlan(reads, db, `${label} (clocks walk)`, filter, 'clocks', true);
        }
      }
    }
  }, 120_000);

  it('plans the issue-9 list (status=breached) as a backward walk of the open clocks\' covering index', async () => {
    const plan = await reads.listPlan({ status: ['breached'], limit: 101, now: SCALE_NOW });
    expect(plan.shape).toBe('clocks');
    const walk = nodes(await explain(plan.statements[0]!, db)).find(({ node }) => /Scan$/.test(node['Node Type']))!.node;
    expect(walk).toMatchObject({ 'Node Type': 'Index Only Scan', 'Index Name': 'clocks_open_received', 'Scan Direction': 'Backward' });
  });

  it('reads one contact, its events and clocks, and a page of them, by key', async () => {
    const ids = (await db.pool.query<{ id: string }>('SELECT id FROM contacts ORDER BY received_at DESC LIMIT 100')).rows.map((r) => r.id);
    const id = ids[0]!;
    const keyed: Array<[string, PgStatement, RegExp, boolean]> = [
      ['contact', { sql: 'SELECT * FROM contacts WHERE id = $1', params: [id] }, /^contacts_(pkey|id_assignee)$/, false],
      ['its events', { sql: 'SELECT * FROM events WHERE contact_id = $1 ORDER BY seq', params: [id] }, /^events_contact_seq$/, false],
      ['its clocks', { sql: 'SELECT * FROM clocks WHERE contact_id = $1 ORDER BY ordinal', params: [id] }, /^clocks_contact_id_standard_pk$/, true],
      ['one clock', { sql: 'SELECT * FROM clocks WHERE contact_id = $1 AND standard = $2', params: [id, 'resolve'] }, /^clocks_contact_id_standard_pk$/, false],
      ['page: contacts', { sql: 'SELECT * FROM contacts WHERE id = ANY($1::text[])', params: [ids] }, /^contacts_(pkey|id_assignee)$/, false],
      ['page: events', { sql: 'SELECT * FROM events WHERE contact_id = ANY($1::text[]) ORDER BY contact_id, seq', params: [ids] }, /^events_contact_seq$/, true],
      ['page: clocks', { sql: 'SELECT * FROM clocks WHERE contact_id = ANY($1::text[]) ORDER BY contact_id, ordinal', params: [ids] }, /^clocks_contact_id_standard_pk$/, true],
      ['by external key', { sql: 'SELECT * FROM contacts WHERE channel = $1 AND external_id = $2', params: ['email', 'x'] }, /^contacts_channel_external_id$/, false],
    ];
    for (const [name, st, lead, sortOk] of keyed) assertKeyed(name, await explain(st, db), lead, { sortOk, atScale: true });
  });
});

/**
 * What SQLite's single writer gave for free, made explicit for many instances: two instances (two
 * pools) adding events to one contact at once each lock its row first, so every event gets its own
 * seq and the stored clocks are the engine's answer over all of them; two instances firing the same
 * timer store the transition once.
 */
describe('postgresql row writes from two instances at once', () => {
  const two = twoPgInstances('kept_store_contract_two');

  const transaction = <T>(conn: PgConnection, work: (client: Parameters<typeof PgContactWrites.insertContact>[0]) => Promise<T>): Promise<T> => pgTransaction(conn.pool, work);

  it('serialise event appends on the contact row lock, and store a timer firing once', async () => {
    const { a, b } = two;
    const engine = { calendars } as CommandContext;
    const w = [...written.values()].find((x) => x.row.channel === 'email' && x.clocks.some((c) => c.status === 'breached' || c.status === 'running'))!;
    await transaction(a, async (client) => {
      await PgContactWrites.insertContact(client, w.row);
      for (const e of w.events) await PgContactWrites.insertEvent(client, e);
      await PgContactWrites.insertClocks(client, w.row.id, w.clocks, NOW);
    });
    // Twelve appends, six from each instance, all at once: each locks, reads the next seq, appends, recomputes.
    const appends = Array.from({ length: 12 }, (_, i) => ({ conn: i % 2 === 0 ? a : b, event: { type: 'assigned', at: iso(NOW - (20 - i) * MINUTE), assignee: ADVISORS[i]! } }));
    await Promise.all(
      appends.map(({ conn, event }) =>
        transaction(conn, async (client) => {
          expect(await PgContactWrites.lockContact(client, w.row.id)).toBe(true);
          const [e] = prepareAddEvents(w.row, [event], NOW).events;
          await PgContactWrites.insertEvent(client, { contactId: w.row.id, seq: await PgContactWrites.nextSeq(client, w.row.id), type: e!.type, at: e!.at, externalId: null, body: eventBody(e!), receivedAt: NOW });
          const reads = new PgContactReads(client);
          const { clocks, row } = evaluateStored(engine, (await reads.byId(w.row.id))!, await reads.events(w.row.id), NOW);
          await PgContactWrites.replaceClocks(client, w.row.id, clocks, NOW);
          await PgContactWrites.updateDerived(client, w.row.id, row);
        }),
      ),
    );
    const reads = new PgContactReads(a.pool);
    const events = await reads.events(w.row.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: w.events.length + 12 }, (_, i) => i));
    const final = evaluateStored(engine, (await reads.byId(w.row.id))!, events, NOW);
    expect(await reads.byId(w.row.id)).toEqual(final.row);
    expect(final.row.assignee).toBe(ADVISORS[11]); // the latest assignment by `at`, whichever committed last
    expect(await reads.clocks(w.row.id)).toEqual(final.clocks.map((c) => clockRowOf(w.row.id, c)));

    // A running clock's transition fired by both instances at once: stored by one.
    const running = final.clocks.find((c) => c.status === 'running' || c.status === 'at-risk');
    const target = running ?? final.clocks[0]!;
    if (running === undefined) await a.pool.query(`UPDATE clocks SET status = 'running', open = true WHERE contact_id = $1 AND standard = $2`, [w.row.id, target.standard]);
    const stored = await Promise.all([a, b, a, b].map((conn) => PgContactWrites.setStatus(conn.pool, w.row.id, target.standard, 'breached', NOW + MINUTE, NOW + MINUTE)));
    expect(stored.filter(Boolean)).toHaveLength(1);
    const clock = (await reads.clock(w.row.id, target.standard))!;
    expect(clock.status).toBe('breached');
    expect(clock.detail.status).toBe('breached');
    expect((await a.pool.query('SELECT status_changed_at FROM clocks WHERE contact_id = $1 AND standard = $2', [w.row.id, target.standard])).rows[0]).toEqual({ status_changed_at: NOW + MINUTE });
  });
});
