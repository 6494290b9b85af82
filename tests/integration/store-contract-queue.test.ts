// The people's queue store and the alert and holiday commands on PostgreSQL (issue 14, H7), on a real
// SQLite file and a real PostgreSQL:
// - the same contacts, assignments and alerts on both (SQLite through the InlineRunner's commands,
//   PostgreSQL through the set-based writer and PgCommands), then every QueueStorePort read deep-equal:
//   asyncOf(QueueStore) and PgQueueStore — the unassigned work by page and by queues, the team's load,
//   open alerts, a contact's alerts, many contacts' open alerts, one alert; then the port's writes
//   (raise, action once and again, the sequences);
// - alert-action and import-holidays: the same outputs, errors, clocks, holidays, audit entries; the
//   feed hears the import's calendar row and each contact whose clocks moved, exactly once;
// - two instances (two pools) actioning one alert at once: recorded once, as SQLite answers a repeat;
//   a holiday import while another instance adds events: every clock computed with the holidays it
//   committed under (the import waits for the writes in flight; the other instance sees the stamp move).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../db/connection.js';
import { prepareAddEvents } from '../../server/commands/add-events.js';
import { evaluateStored } from '../../server/commands/recompute.js';
import { prepareCreateContact, type ContactInput, type CreateContactInput } from '../../server/commands/create-contact.js';
import type { ImportHolidaysInput } from '../../server/commands/import-holidays.js';
import { FeedFollower, type FeedEntry } from '../../server/cluster/feed.js';
import { BUNDLED_BANK_HOLIDAYS } from '../../server/domain/defaults.js';
import { holidaysFromGovUk, type HolidayList } from '../../server/domain/holidays.js';
import { ContactStore, type ContactRow } from '../../server/store/contacts.js';
import { PgCommands } from '../../server/store/pg/commands.js';
import { pgAlertAction, pgImportHolidays } from '../../server/store/pg/commands-queue.js';
import { PgContactReads } from '../../server/store/pg/contacts.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { PgQueueStore } from '../../server/store/pg/queue.js';
import { loadPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { asyncOf, QUEUE_STORE, type QueueStorePort } from '../../server/store/ports.js';
import { QueueStore } from '../../server/store/queue.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { answer, heardAtLeast, type Answer } from '../helpers/command-answers.js';
import type { TestPg } from '../helpers/pg.js';
import { openTwoDatabases, type TwoDatabases } from '../helpers/two-databases.js';

const NOW = Date.parse('2026-03-10T11:00:00Z'); // a Tuesday, in opening hours
const MAX_EVENTS = 120;
const iso = (ms: number) => new Date(ms).toISOString();

let both: TwoDatabases;
let sqlite: Connection;
let runner: InlineRunner;
let db: TestPg;
let pool: pg.Pool;
let pool2: pg.Pool;
let writer: PgGroupCommitWriter;
let commands: PgCommands;
let follower: FeedFollower;
const heard: FeedEntry[] = [];
let lite: QueueStorePort;
let onPg: QueueStorePort;
/** PostgreSQL's contact ids, SQLite's for each. */
const toLiteId = new Map<string, string>();
const toPgId = new Map<string, string>();
/** The contacts as SQLite created them, in creation order. */
const created: ContactRow[] = [];

/** A PostgreSQL answer with its contact ids put back as SQLite's. */
function asLite(v: unknown): unknown {
  let text = JSON.stringify(v, (_, x: unknown) => (x instanceof Map ? { map: [...x] } : x)) ?? 'null';
  for (const [p, l] of toLiteId) text = text.replaceAll(p, l);
  return JSON.parse(text);
}
/** A SQLite answer as compared (Maps as their entries). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x: unknown) => (x instanceof Map ? { map: [...x] } : x)) ?? 'null');

beforeAll(async () => {
  both = await openTwoDatabases('kept_contract_queue', NOW, MAX_EVENTS);
  ({ sqlite, runner, db, pool, pool2, writer } = both);
  commands = await PgCommands.open(pool, { maxEventsPerContact: MAX_EVENTS, feed: true });
  lite = asyncOf(new QueueStore(sqlite.sqlite), QUEUE_STORE);
  onPg = new PgQueueStore(pool);

  // 16 contacts, each created a millisecond after the last on both (ids are time-ordered, so the two
  // databases' ids sort alike and orders by id compare).
  for (let i = 0; i < 16; i++) {
    const input = prepareCreateContact(contactBody(i, 'queue', NOW) as unknown as ContactInput, { now: NOW - 100 + i, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' }) as CreateContactInput;
    const a = await runner.run('create-contact', input);
    const p = await writer.createContact(input);
    if (!a.created || !p.created) throw new Error('both should create');
    created.push(a.row);
    toLiteId.set(p.row.id, a.row.id);
    toPgId.set(a.row.id, p.row.id);
  }
  // Some assigned, and alerts raised (two on one contact), on both by their commands.
  const onBoth = async (name: 'add-events' | 'contact-action', input: { contactId: string } & Record<string, unknown>) => {
    const a = await runner.run(name, input as never);
    const pgInput = { ...input, contactId: toPgId.get(input.contactId)! };
    const p = await (name === 'add-events' ? commands.addEvents(pgInput as never) : commands.contactAction(pgInput as never));
    expect(asLite(p)).toEqual(plain(a));
  };
  for (const i of [1, 4, 10]) {
    const c = created[i]!;
    await onBoth('add-events', { now: NOW, contactId: c.id, actor: 'token:test', events: prepareAddEvents(c, [{ type: 'assigned', assignee: 'ola.ade', at: iso(c.receivedAt + 60_000) }], NOW).events });
  }
  for (const [i, note] of [[2, 'lives alone'], [7, 'carer away'], [2, 'second call'], [11, null]] as const) {
    await onBoth('contact-action', { now: NOW + i, contactId: created[i]!.id, actor: 'kate.bell@example.org', action: 'flagged', events: [], alert: { kind: 'safeguarding', note } });
  }
});

afterAll(async () => {
  await follower?.stop();
  await both?.close();
});

describe('QueueStorePort on SQLite and PostgreSQL', () => {
  it('every read gives the same answer, and the answers are the ones the store promises', async () => {
    const ids = created.map((c) => c.id);
    const script = async (s: QueueStorePort, id: (liteId: string) => string) => [
      await s.unassigned(100),
      await s.unassigned(3),
      await s.unassigned(100, ['complaint', 'colleague-direct']),
      await s.unassigned(100, []),
      await s.openClockOwners(),
      await s.openAlerts(),
      await s.openAlerts(2),
      await s.alertsOf(id(ids[2]!)),
      await s.alertsOf(id(ids[3]!)),
      await s.openAlertsOf(ids.map(id)),
      await s.openAlertsOf([]),
      await s.alert(2),
      await s.alert(999),
    ];
    const a = plain(await script(lite, (x) => x)) as unknown[];
    const p = asLite(await script(onPg, (x) => toPgId.get(x)!)) as unknown[];
    expect(p).toEqual(a);
    // What each answer should be (so the equality above is about something).
    const [all, three, queues, none, owners, open, openTwo, ofTwo, ofThree, many, manyNone, two, missing] = a as [
      string[], string[], string[], string[], Array<{ contactId: string; assignee: string | null }>, Array<{ id: number }>, unknown[],
      Array<{ note: string }>, unknown[], { map: Array<[string, unknown[]]> }, { map: unknown[] }, { note: string }, null,
    ];
    expect(all.length).toBeGreaterThan(6);
    expect(new Set(all).size).toBe(all.length);
    for (const i of [1, 4, 10]) expect(all).not.toContain(ids[i]);
    expect(three).toEqual(all.slice(0, 3));
    expect(queues.length).toBeGreaterThan(0);
    expect(queues.length).toBeLessThan(all.length);
    expect(queues.every((q) => ['complaint', 'colleague-direct'].some((x) => [created.find((c) => c.id === q)!.route, created.find((c) => c.id === q)!.category].includes(x)))).toBe(true);
    expect(none).toEqual([]);
    // Each open clock's owner is its contact's assignee; those assigned above are ola.ade's.
    const liteContacts = new ContactStore(sqlite.sqlite);
    expect(owners.length).toBeGreaterThan(all.length);
    for (const o of owners) expect(o.assignee).toBe(liteContacts.byId(o.contactId)!.assignee);
    expect(owners.some((o) => o.contactId === ids[1] && o.assignee === 'ola.ade')).toBe(true);
    // Raised at NOW + 2, 7, 2, 11: in raising order, then by id.
    expect(open.map((x) => x.id)).toEqual([1, 3, 2, 4]);
    expect(openTwo).toHaveLength(2);
    expect(ofTwo.map((x) => x.note)).toEqual(['lives alone', 'second call']);
    expect(ofThree).toEqual([]);
    expect(many.map.map(([k, v]) => [k, v.length])).toEqual([[ids[2], 2], [ids[7], 1], [ids[11], 1]]);
    expect(manyNone.map).toEqual([]);
    expect(two).toMatchObject({ id: 2, note: 'carer away', actionedAt: null });
    expect(missing).toBeNull();
  });

  it('the writes give the same answers: an alert raised, actioned once, a repeat refused; the sequences count on', async () => {
    const script = async (s: QueueStorePort, id: (liteId: string) => string) => {
      const raised = await s.raise({ contactId: id(created[5]!.id), kind: 'safeguarding', note: 'from the port', raisedAt: NOW + 50, raisedBy: 'lead@example.org' });
      return [
        raised,
        await s.action(raised, NOW + 60, 'lead@example.org', 'called back'),
        await s.action(raised, NOW + 70, 'other@example.org', 'again'),
        await s.action(999, NOW + 70, 'other@example.org', 'none'),
        await s.alert(raised),
        await s.next('PORT', 2026),
        await s.next('PORT', 2026),
        await s.next('PORT', 2027),
        (await s.openAlerts()).map((x) => x.id),
      ];
    };
    const a = plain(await script(lite, (x) => x));
    expect(asLite(await script(onPg, (x) => toPgId.get(x)!))).toEqual(a);
    expect(a).toEqual([5, true, false, false, expect.objectContaining({ actionedAt: NOW + 60, actionedBy: 'lead@example.org', action: 'called back' }), 1, 2, 1, [1, 3, 2, 4]]);
  });
});

describe('alert-action and import-holidays on SQLite and PostgreSQL', () => {
  it('give the same outputs, errors, clocks, holidays and audit entries; the feed hears the import once', async () => {
    follower = new FeedFollower({ connection: db.url, pruneEveryMs: 0, pollMs: 250, onChanges: (entries) => void heard.push(...entries) });
    await follower.start();
    const england = holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, 'england-and-wales');
    const scotland = holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, 'scotland');
    // Tomorrow a holiday: the running clocks due after it move a working day on.
    const withTomorrow: HolidayList = { ...england, holidays: [...england.holidays, { date: '2026-03-11', title: 'Flood day' }].sort((x, y) => (x.date < y.date ? -1 : 1)) };
    const retitled: HolidayList = { ...scotland, holidays: scotland.holidays.map((h, i) => (i === 0 ? { ...h, title: `${h.title} (moved)` } : h)) };
    const holidays = (lists: HolidayList[], replace = false): ImportHolidaysInput => ({ now: NOW, lists, actor: 'lead@example.org', replace });
    type Step = { name: 'alert-action' | 'import-holidays'; input: Record<string, unknown> };
    const steps: Step[] = [
      { name: 'alert-action', input: { now: NOW + 1000, alertId: 1, actor: 'lead@example.org', action: 'Called back' } },
      { name: 'alert-action', input: { now: NOW + 1001, alertId: 1, actor: 'other@example.org', action: 'Called again' } },
      { name: 'alert-action', input: { now: NOW + 1002, alertId: 999, actor: 'lead@example.org', action: 'none' } },
      { name: 'import-holidays', input: { ...holidays([withTomorrow, scotland]) } },
      // Nothing new: nothing changes, no clock recomputed.
      { name: 'import-holidays', input: { ...holidays([withTomorrow]) } },
      // Removing tomorrow's holiday without replace: refused, nothing changed (the retitle beside it neither).
      { name: 'import-holidays', input: { ...holidays([retitled, england]) } },
      { name: 'import-holidays', input: { ...holidays([england, retitled], true) } },
    ];
    const run = (s: Step): Promise<unknown> =>
      s.name === 'alert-action' ? pgAlertAction(pool, { feed: true }, s.input as never) : pgImportHolidays(pool, { feed: true }, s.input as never);
    const pgAnswers: Answer[] = [];
    for (const s of steps) {
      const a = await answer(runner.run(s.name, s.input as never) as Promise<unknown>);
      const p = await answer(run(s));
      pgAnswers.push(p);
      expect(asLite(p), `${s.name} ${JSON.stringify(a).slice(0, 300)}`).toEqual(plain(a));
    }
    const okOf = (i: number) => (pgAnswers[i] as { ok: Record<string, unknown> }).ok;
    type Imported = { results: Array<{ division: string; added: number; removed: number; calendars: string[]; recomputedContacts: number; movedClocks: number }>; changes: Array<{ contactId: string }> };
    expect([okOf(0), okOf(1), okOf(2)]).toEqual([{ recorded: true }, { recorded: false }, { recorded: false }]);
    const added = okOf(3) as Imported;
    expect(added.results.map((r) => [r.division, r.added, r.removed, r.calendars])).toEqual([['england-and-wales', 1, 0, ['customer-services']], ['scotland', 0, 0, []]]);
    expect(added.results[0]!.movedClocks).toBeGreaterThan(0);
    expect(added.changes.length).toBeGreaterThan(0);
    expect((okOf(4) as Imported)).toMatchObject({ results: [{ added: 0, removed: 0, recomputedContacts: 0, movedClocks: 0 }], changes: [] });
    expect(pgAnswers[5]).toMatchObject({ error: { status: 422, code: 'would-remove-holidays' } });
    const removed = okOf(6) as Imported;
    expect(removed.results.map((r) => [r.division, r.removed])).toEqual([['england-and-wales', 1], ['scotland', 0]]);
    expect(removed.results[0]!.movedClocks).toBe(added.results[0]!.movedClocks);

    // What each database holds: the clocks, the holidays, the alert, the audit entries.
    const liteReads = new ContactStore(sqlite.sqlite);
    const pgReads = new PgContactReads(pool);
    for (const c of created) expect(asLite(await pgReads.clocks(toPgId.get(c.id)!))).toEqual(plain(liteReads.clocks(c.id)));
    const holidaySql = 'SELECT division, date, title FROM holidays ORDER BY division, date';
    expect((await pool.query(holidaySql)).rows).toEqual(sqlite.sqlite.prepare(holidaySql).all());
    expect((await pool.query(holidaySql)).rows.some((h: { title: string }) => h.title.endsWith('(moved)'))).toBe(true);
    expect(asLite(await onPg.alert(1))).toEqual(plain(await lite.alert(1)));
    const audit = (rows: unknown[]) => (rows as Array<{ at: number; actor: string; action: string; detail: string }>).map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }));
    const auditSql = `SELECT at, actor, action, detail FROM audit WHERE action IN ('alert.action', 'holidays.import') ORDER BY id`;
    const liteAudit = audit(sqlite.sqlite.prepare(auditSql).all());
    expect(asLite(audit((await pool.query(auditSql)).rows))).toEqual(liteAudit);
    expect(liteAudit.map((x) => x.action)).toEqual(['alert.action', ...Array<string>(5).fill('holidays.import')]);
    const calendarsSql = 'SELECT id, updated_at FROM calendars ORDER BY id';
    expect((await pool.query(calendarsSql)).rows).toEqual(sqlite.sqlite.prepare(calendarsSql).all());

    // The feed: each import that changed something, its calendar row and then each contact whose clocks moved; once.
    const expected: Array<{ kind: string; id: string }> = [];
    for (const i of [3, 6]) {
      const o = okOf(i) as Imported;
      expected.push({ kind: 'calendar', id: 'customer-services,awaab-working-days' }, ...o.changes.map((c) => ({ kind: 'contact', id: c.contactId })));
    }
    const got = await heardAtLeast(heard, expected.length);
    const idOf = (e: FeedEntry) => (e.kind === 'contact' ? e.payload.contactId : e.kind === 'calendar' ? e.payload.calendars.join() : '');
    expect(got.map((e) => ({ kind: e.kind, id: idOf(e) }))).toEqual(expected);
    expect(JSON.stringify(got)).not.toMatch(/@example\.com|\+44/);
  });
});

describe('two instances at once on PostgreSQL', () => {
  it('one alert actioned by both: recorded once, one audit entry, the first action kept', async () => {
    const store = new PgQueueStore(pool);
    const contactId = toPgId.get(created[6]!.id)!;
    for (let round = 0; round < 5; round++) {
      const id = await store.raise({ contactId, kind: 'safeguarding', note: null, raisedAt: NOW, raisedBy: 'kate.bell@example.org' });
      const both = await Promise.all([
        pgAlertAction(pool, {}, { now: NOW + 1, alertId: id, actor: 'one@example.org', action: 'one' }),
        pgAlertAction(pool2, {}, { now: NOW + 2, alertId: id, actor: 'two@example.org', action: 'two' }),
      ]);
      expect(both.map((b) => b.recorded).sort()).toEqual([false, true]);
      const winner = both[0]!.recorded ? 'one' : 'two';
      expect(await store.alert(id)).toMatchObject({ action: winner, actionedBy: `${winner}@example.org` });
      const entries = await pool.query(`SELECT actor FROM audit WHERE action = 'alert.action' AND detail::jsonb->>'alertId' = $1`, [String(id)]);
      expect(entries.rows).toEqual([{ actor: `${winner}@example.org` }]);
      // Through the store on the two pools: the same.
      const again = await store.raise({ contactId, kind: 'safeguarding', note: null, raisedAt: NOW, raisedBy: 'kate.bell@example.org' });
      const stores = await Promise.all([store.action(again, NOW, 'a', 'a'), new PgQueueStore(pool2).action(again, NOW, 'b', 'b')]);
      expect(stores.sort()).toEqual([false, true]);
    }
  });

  it('a holiday import while another instance adds events: every clock is computed with the holidays it committed under', async () => {
    // The second instance's commands hold the calendars as they are before the import.
    const stale = await PgCommands.open(pool2, { maxEventsPerContact: MAX_EVENTS });
    const before = await loadPgCalendars(pool);
    const rows: ContactRow[] = [];
    for (let i = 0; i < 30; i++) {
      const input = prepareCreateContact({ channel: 'email', externalId: `race-${i}`, receivedAt: iso(NOW - 30 * 60_000 + i * 1000) } as unknown as ContactInput, { now: NOW, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' });
      rows.push((await writer.createContact(input)).row);
    }
    const england = holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, 'england-and-wales');
    const list: HolidayList = { ...england, holidays: [...england.holidays, { date: '2026-03-11', title: 'Race day' }].sort((x, y) => (x.date < y.date ? -1 : 1)) };
    const assign = (r: ContactRow, i: number) => stale.addEvents({ now: NOW, contactId: r.id, actor: 'token:test', events: prepareAddEvents(r, [{ type: 'assigned', assignee: `a${i}`, at: iso(r.receivedAt + 1000) }], NOW).events });
    const [imported] = await Promise.all([
      pgImportHolidays(pool, {}, { now: NOW, lists: [list], actor: 'lead@example.org', replace: false }),
      ...rows.slice(0, 15).map(assign),
    ]);
    // After the import: the instance whose calendars predate it sees the stamp move.
    await Promise.all(rows.slice(15).map((r, i) => assign(r, i + 15)));
    expect(imported.results[0]!.added).toBe(1);
    const after = await loadPgCalendars(pool);
    const reads = new PgContactReads(pool);
    const ids = rows.map((r) => r.id);
    const stored = await reads.byIds(ids);
    const events = await reads.eventsOf(ids);
    const clocks = await reads.clocksOf(ids);
    let moved = 0;
    for (const row of stored) {
      expect(events.get(row.id)).toHaveLength(1);
      const fresh = evaluateStored({ calendars: after.calendars }, row, events.get(row.id)!, NOW).clocks;
      expect(clocks.get(row.id)!.map((k) => k.detail)).toEqual(fresh);
      if (JSON.stringify(evaluateStored({ calendars: before.calendars }, row, events.get(row.id)!, NOW).clocks) !== JSON.stringify(fresh)) moved++;
    }
    // The holiday moves every one of these contacts' clocks: the check above is about something.
    expect(moved).toBe(ids.length);
  });
});
