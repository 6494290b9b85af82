// The board's stores' contract (issue 14 item 1): the same data goes into SQLite and PostgreSQL, and
// every read of LiveReads, CalendarReads, NoticePort, SavedBoardPort and AlertPort (server/store/ports.ts)
// gives the same answer from both — the running clocks followed page by page through their cursor
// (page sizes 1, 7 and 1000, across contacts received at the same millisecond and inside one contact's
// clocks) and checked against the clocks as written, today's ledger, the urgent rows' words and
// queues, calendars, holidays and closures, notices and the board message, saved boards and displays'
// choices, alert rules, sends, due clocks and safeguarding flags. Then the page statements are planned
// with EXPLAIN: an ordered walk of the open clocks' index, never a scan and sort of clocks.
//
// SQLite: a temp file, every row written by the real commands through the InlineRunner (add-closure,
// create-contact, set-statuses, contact-action, add-notice, withdraw-notice, board-message, save-board,
// display-boards, delete-board, save-alert-rule, delete-alert-rule, record-alert-send), read through
// asyncOf(store, NAMES). PostgreSQL: a fresh database, contacts by PgContactWrites with clocks from the
// engine over the calendars PgCalendarStore compiles, and every other row by the PostgreSQL stores'
// own writes (closures, displays and flags, which have no PostgreSQL store yet, by plain SQL).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { fillPgYear } from '../../scripts/bench/pg-year.js';
import { ADVISORS, yearOfContacts } from '../../scripts/bench/reads-db.js';
import type { CommandContext } from '../../server/commands/context.js';
import { prepareCreateContact, type ContactInput } from '../../server/commands/create-contact.js';
import { evaluateStored } from '../../server/commands/recompute.js';
import { DIVISIONS } from '../../server/domain/holidays.js';
import type { Clock } from '../../server/domain/model.js';
import { impliedChannels } from '../../server/live/live.js';
import { AlertStore, type AlertRuleInput } from '../../server/store/alerts.js';
import { CalendarStore } from '../../server/store/calendars.js';
import type { ContactRow } from '../../server/store/contacts.js';
import { LiveStore, type OpenClockCursor, type OpenClockRow } from '../../server/store/live.js';
import { NoticeStore, type NoticeKind } from '../../server/store/notices.js';
import { PeopleStore } from '../../server/store/people.js';
import { PgAlertStore } from '../../server/store/pg/alerts.js';
import { PgCalendarStore } from '../../server/store/pg/calendars.js';
import { PgContactWrites } from '../../server/store/pg/contacts.js';
import { PgLiveStore } from '../../server/store/pg/live.js';
import { PgNoticeStore } from '../../server/store/pg/notices.js';
import { PgSavedBoardStore } from '../../server/store/pg/saved-boards.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import {
  ALERT_READS,
  asyncOf,
  CALENDAR_READS,
  LIVE_READS,
  NOTICE_READS,
  SAVED_BOARD_READS,
  type AlertReads,
  type CalendarReads,
  type LiveReads,
  type NoticeReads,
  type SavedBoardReads,
} from '../../server/store/ports.js';
import { SavedBoardStore, type BoardFilter } from '../../server/store/saved-boards.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase, twoPgInstances, type TestPg } from '../helpers/pg.js';
import { explainPlan, planNodes, showPlan } from '../helpers/pg-plan.js';
import { inTransaction as pgTransaction } from '../../server/store/pg/transaction.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The instant the contacts are written at. */
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0); // a Wednesday, in opening hours (London is on UTC in November)
/** Two hours on: the timers that fell due meanwhile are stored, and the board and notices are written then. */
const LATER = NOW + 2 * HOUR;
const DAY_START = NOW - (NOW % DAY);
const PACK = 'livewest';
const MAX_EVENTS = 200;
const ACTOR = 'lead@example.org';
const iso = (ms: number) => new Date(ms).toISOString();
const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);
/** Bytewise, as SQLite's BINARY and PostgreSQL's COLLATE "C" compare ids. */
const bytewise = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Contacts the generator may not give: many received at one millisecond (each with clocks open), and today's named phone queues. */
function edgeCases(): ContactInput[] {
  const out: ContactInput[] = [];
  const tie = NOW - 3 * HOUR;
  for (let i = 0; i < 12; i++) {
    const channel = (['email', 'webform', 'social', 'phone'] as const)[i % 4]!;
    out.push({
      channel,
      category: i % 3 === 0 ? 'complaint' : i % 3 === 1 ? 'repair' : 'general',
      externalId: `tie-${i}`,
      receivedAt: iso(tie),
      customer: { name: `Customer ${i}`, email: `c${i}@example.org` },
      subject: `Tied ${i}`,
      ...(channel === 'phone' ? { source: { callId: `tie-call-${i}`, queue: i % 2 === 0 ? 'repairs' : 'rents' } } : {}),
    });
  }
  // Today's calls: waiting, answered, abandoned, a callback; one names a queue, one none.
  out.push({ channel: 'phone', externalId: 'q-waiting', receivedAt: iso(NOW - 2 * MINUTE), source: { callId: 'w1', queue: 'repairs' } });
  out.push({ channel: 'phone', externalId: 'q-answered', receivedAt: iso(NOW - 20 * MINUTE), source: { callId: 'a1' }, events: [{ type: 'answered', at: iso(NOW - 19 * MINUTE) }] });
  out.push({ channel: 'phone', externalId: 'q-abandoned', receivedAt: iso(NOW - 40 * MINUTE), events: [{ type: 'abandoned', at: iso(NOW - 38 * MINUTE) }] });
  out.push({ channel: 'phone', externalId: 'q-callback', receivedAt: iso(NOW - 50 * MINUTE), events: [{ type: 'callback-requested', at: iso(NOW - 48 * MINUTE) }] });
  // A complaint whose resolution clock is paused (an open clock the board shows, never judged due).
  const r = NOW - 5 * DAY;
  out.push({
    channel: 'webform',
    category: 'complaint',
    externalId: 'c-paused',
    receivedAt: iso(r),
    events: [
      { type: 'assigned', at: iso(r + MINUTE), assignee: ADVISORS[3]! },
      { type: 'acknowledged', at: iso(r + HOUR), reference: 'R-paused', owner: ADVISORS[3]! },
      { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting information', at: iso(NOW - 3 * DAY) },
    ],
  });
  return out;
}

// ------------------------------------------------------------------------------------------------
// The two databases, written alike

interface Written {
  row: ContactRow;
  clocks: Clock[];
}

const written = new Map<string, Written>();
let dir: string;
let sqlite: Connection;
let testPg: TestPg;
let postgres: PgConnection;
const implied = impliedChannels();
/** Each port on each database. */
const live = {} as Record<'sqlite' | 'postgresql' | 'sqliteNoImplied' | 'postgresqlNoImplied', LiveReads>;
const cal = {} as Record<'sqlite' | 'postgresql', CalendarReads>;
const notices = {} as Record<'sqlite' | 'postgresql', NoticeReads>;
const boards = {} as Record<'sqlite' | 'postgresql', SavedBoardReads>;
const alerts = {} as Record<'sqlite' | 'postgresql', AlertReads>;
let pgLive: PgLiveStore;
let pgCalendars: PgCalendarStore;
/** What both databases handed back when written (ids), compared as they come. */
const ids = { notices: [] as number[], boards: [] as number[], rules: [] as number[], sends: [] as number[], displays: [] as number[], flags: [] as number[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-board-contract-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(NOW);
  testPg = await freshPgDatabase('kept_board_contract');
  postgres = await openPostgres(testPg.url, { max: 4 });
  const pool = postgres.pool;
  await seedPgCalendars(pool, NOW);
  const runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: MAX_EVENTS });
  const pgNotices = new PgNoticeStore(pool);
  const pgBoards = new PgSavedBoardStore(pool);
  const pgAlerts = new PgAlertStore(pool);
  pgCalendars = new PgCalendarStore(pool);

  // 1. Closures (before any contact, so no clock moves): one past, two from the same instant ahead.
  //    PostgreSQL has no calendar edit command yet: the rows and the calendar's touch as the command writes them.
  const closures = [
    { from: NOW - 30 * DAY, to: NOW - 29 * DAY, reason: 'staff training' },
    { from: NOW + 5 * DAY, to: NOW + 6 * DAY, reason: 'office move' },
    { from: NOW + 5 * DAY, to: NOW + 5 * DAY + 4 * HOUR },
  ];
  for (const closure of closures) {
    const out = await runner.run('add-closure', { now: NOW, calendarId: 'customer-services', closure, actor: ACTOR });
    const pgId = (await pool.query<{ id: number }>('INSERT INTO closures (calendar_id, "from", "to", reason, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id', ['customer-services', closure.from, closure.to, closure.reason ?? null, NOW])).rows[0]!.id;
    await pool.query('UPDATE calendars SET updated_at = $1 WHERE id = $2', [NOW, 'customer-services']);
    expect(pgId).toBe(out.id);
  }

  // 2. Contacts: SQLite by create-contact; PostgreSQL by the row writes, with the engine's clocks over
  //    the calendars PgCalendarStore compiles (so a calendar read differently would show in the clocks).
  const engine = { calendars: await pgCalendars.compiled() } as CommandContext;
  const inputs = [...yearOfContacts({ contacts: 3000, seed: 11, now: NOW }), ...edgeCases()];
  const outs = await Promise.all(inputs.map((input) => runner.run('create-contact', prepareCreateContact(input, { now: NOW, packFamily: PACK, maxEventsPerContact: MAX_EVENTS, actor: 'contract' }))));
  for (let i = 0; i < outs.length; i += 100) {
    await inTransaction(async (client) => {
      for (const out of outs.slice(i, i + 100)) {
        if (!out.created) throw new Error('a replay in fresh data');
        const { clocks, row } = evaluateStored(engine, out.row, out.events, NOW);
        expect(row).toEqual(out.row);
        await PgContactWrites.insertContact(client, row);
        for (const { id: _id, ...e } of out.events) await PgContactWrites.insertEvent(client, e);
        await PgContactWrites.insertClocks(client, row.id, clocks, NOW);
        written.set(row.id, { row, clocks });
      }
    });
  }

  // 3. Timers, two hours on: each running clock past its due or at-risk instant by then stored so.
  const statuses: Array<{ contactId: string; standard: string; status: 'breached' | 'at-risk'; at: number }> = [];
  for (const w of written.values()) {
    for (const c of w.clocks) {
      if (c.status !== 'running' && c.status !== 'at-risk') continue;
      if (c.dueAt !== null && c.dueAt < LATER) statuses.push({ contactId: w.row.id, standard: c.standard, status: 'breached', at: c.dueAt });
      else if (c.status === 'running' && c.atRiskAt !== null && c.atRiskAt <= LATER) statuses.push({ contactId: w.row.id, standard: c.standard, status: 'at-risk', at: c.atRiskAt });
    }
  }
  await runner.run('set-statuses', { now: LATER, statuses });
  await inTransaction(async (client) => {
    for (const s of statuses) expect(await PgContactWrites.setStatus(client, s.contactId, s.standard, s.status, s.at, LATER)).toBe(true);
  });
  for (const s of statuses) {
    const w = written.get(s.contactId)!;
    w.clocks = w.clocks.map((c) => (c.standard === s.standard ? { ...c, status: s.status } : c));
  }

  // 4. Safeguarding flags (and one flag of another kind) raised on some contacts.
  const flagged = [...written.keys()].filter((_, i) => i % 500 === 3);
  for (const [i, contactId] of flagged.entries()) {
    const kind = i === 2 ? 'vulnerability' : 'safeguarding';
    const at = LATER + i * MINUTE;
    const out = await runner.run('contact-action', { now: at, contactId, actor: ACTOR, action: 'flag', events: [], alert: { kind, note: null } });
    const pgId = (await pool.query<{ id: number }>('INSERT INTO alerts (contact_id, kind, note, raised_at, raised_by) VALUES ($1, $2, NULL, $3, $4) RETURNING id', [contactId, kind, at, ACTOR])).rows[0]!.id;
    expect(pgId).toBe(out.alertId);
    ids.flags.push(pgId);
  }

  // 5. Notices: past, in force (two overlapping), to come, one withdrawn; the board message posted, replaced, ended, posted again.
  const noticeInputs: Array<{ kind: NoticeKind; title: string; message: string; startsAt: number; endsAt: number }> = [
    { kind: 'technical', title: 'Phones down', message: 'Our phone lines were down.', startsAt: NOW - 2 * DAY, endsAt: NOW - DAY },
    { kind: 'weather', title: 'Snow', message: 'Visits may be late.', startsAt: NOW - HOUR, endsAt: NOW + DAY },
    { kind: 'other', title: 'Training', message: 'Fewer advisors this afternoon.', startsAt: NOW - HOUR, endsAt: NOW + 3 * HOUR },
    { kind: 'technical', title: 'Upgrade', message: 'The portal is offline tonight.', startsAt: NOW + 8 * HOUR, endsAt: NOW + 10 * HOUR },
    { kind: 'weather', title: 'Floods', message: 'Withdrawn.', startsAt: NOW + HOUR, endsAt: NOW + 2 * DAY },
  ];
  for (const [i, notice] of noticeInputs.entries()) {
    const { id } = await runner.run('add-notice', { now: LATER + i, actor: ACTOR, notice });
    expect(await pgNotices.addNotice(notice, ACTOR, LATER + i)).toBe(id);
    ids.notices.push(id);
  }
  await runner.run('withdraw-notice', { now: LATER + 10, actor: ACTOR, id: ids.notices[4]! });
  expect(await pgNotices.withdraw(ids.notices[4]!, LATER + 10)).toBe(true);
  expect(await pgNotices.withdraw(ids.notices[4]!, LATER + 11)).toBe(false); // withdrawn once
  const messages: Array<{ text: string | null; until: number | null; at: number }> = [
    { text: 'Team meeting at 2', until: null, at: LATER + 20 },
    { text: 'Storm: prioritise emergencies', until: LATER + DAY, at: LATER + 21 },
    { text: null, until: null, at: LATER + 22 },
    { text: 'Back to normal', until: LATER + HOUR, at: LATER + 23 },
  ];
  for (const m of messages) {
    const out = await runner.run('board-message', { now: m.at, actor: ACTOR, text: m.text, until: m.until });
    if (m.text === null) expect(await pgNotices.endMessage(ACTOR, m.at)).toBe(out.ended);
    else expect(await pgNotices.postMessage(m.text, ACTOR, m.at, m.until)).toBe(out.id);
  }

  // 6. Displays and saved boards: teams and names whose bytewise order is not their alphabetical one;
  //    one board renamed, choices made, then a board deleted that two displays chose.
  const people = new PeopleStore(sqlite.sqlite);
  for (const name of ['Wall 1', 'Wall 2', 'Wall 3']) {
    const { display } = people.createDisplay(name, ACTOR, LATER);
    const pgId = (await pool.query<{ id: number }>('INSERT INTO displays (name, secret_hash, created_at, created_by) VALUES ($1, $2, $3, $4) RETURNING id', [name, `hash-${name}`, LATER, ACTOR])).rows[0]!.id;
    expect(pgId).toBe(display.id);
    ids.displays.push(pgId);
  }
  people.revokeDisplay(ids.displays[2]!, LATER + 1);
  await pool.query('UPDATE displays SET revoked_at = $1 WHERE id = $2', [LATER + 1, ids.displays[2]]);
  const filter = (over: Partial<BoardFilter>): BoardFilter => ({ queues: [], channels: [], categories: [], ...over });
  const boardInputs = [
    { name: 'Repairs', team: 'repairs', filter: filter({ categories: ['repair', 'emergency-repair'] }) },
    { name: 'complaints', team: 'Customer', filter: filter({ categories: ['complaint'] }) },
    { name: 'Zeta', team: 'customer', filter: filter({ channels: ['email', 'webform'] }) },
    { name: 'alpha', team: 'Customer', filter: filter({ queues: ['rents'] }) },
    { name: 'Älteste', team: 'customer', filter: filter({ channels: ['phone'] }) },
  ];
  for (const [i, board] of boardInputs.entries()) {
    const { id } = await runner.run('save-board', { now: LATER + i, actor: ACTOR, board });
    expect(await pgBoards.insert(board, ACTOR, LATER + i)).toBe(id);
    ids.boards.push(id);
  }
  const renamed = { name: 'Complaints (stage 1)', team: 'Customer', filter: filter({ categories: ['complaint'], channels: ['email'] }) };
  await runner.run('save-board', { now: LATER + 30, actor: ACTOR, id: ids.boards[1]!, board: renamed });
  expect(await pgBoards.update(ids.boards[1]!, renamed, LATER + 30)).toBe(true);
  expect(await pgBoards.update(9999, renamed, LATER + 30)).toBe(false);
  const choices = [
    { displayId: ids.displays[0]!, boards: [ids.boards[0]!, ids.boards[1]!, ids.boards[3]!], rotateSeconds: 30 },
    { displayId: ids.displays[1]!, boards: [ids.boards[1]!], rotateSeconds: 60 },
  ];
  for (const c of choices) {
    await runner.run('display-boards', { now: LATER + 40, actor: ACTOR, ...c });
    await pgBoards.setChoice(c.displayId, c.boards, c.rotateSeconds, ACTOR, LATER + 40);
  }
  await runner.run('delete-board', { now: LATER + 50, actor: ACTOR, id: ids.boards[1]! });
  expect(await pgBoards.remove(ids.boards[1]!, ACTOR, LATER + 50)).toBe(true);
  expect(await pgBoards.remove(ids.boards[1]!, ACTOR, LATER + 51)).toBe(false);

  // 7. Alert rules: three made (one with webhooks, one disabled), one changed, one deleted; sends, two at one instant.
  const rule = (over: Partial<AlertRuleInput>): AlertRuleInput => ({ name: 'Breaches', kind: 'breach', threshold: null, standards: [], emails: [ACTOR], teamsUrl: null, slackUrl: null, quietMinutes: 15, enabled: true, ...over });
  const rules = [
    rule({}),
    rule({ name: 'Calls waiting', kind: 'calls-waiting', threshold: 5, teamsUrl: 'https://example.webhook.office.com/x', slackUrl: 'https://hooks.slack.com/services/x' }),
    rule({ name: 'Safeguarding', kind: 'safeguarding', emails: [ACTOR, 'duty@example.org'], enabled: false, standards: ['complaint-resolve'] }),
  ];
  for (const [i, r] of rules.entries()) {
    const { id } = await runner.run('save-alert-rule', { now: LATER + i, actor: ACTOR, rule: r });
    expect(await pgAlerts.insert(r, ACTOR, LATER + i)).toBe(id);
    ids.rules.push(id);
  }
  const changed = rule({ name: 'Calls waiting (10)', kind: 'calls-waiting', threshold: 10, enabled: false, slackUrl: 'https://hooks.slack.com/services/y' });
  await runner.run('save-alert-rule', { now: LATER + 60, actor: ACTOR, id: ids.rules[1]!, rule: changed });
  expect(await pgAlerts.update(ids.rules[1]!, changed, LATER + 60)).toBe(true);
  await runner.run('delete-alert-rule', { now: LATER + 70, actor: ACTOR, id: ids.rules[2]! });
  expect(await pgAlerts.remove(ids.rules[2]!, LATER + 70)).toBe(true);
  expect(await pgAlerts.update(ids.rules[2]!, changed, LATER + 71)).toBe(false); // deleted: no longer changed
  const sends: Array<{ ruleId: number; now: number; keys: string[]; subject: string; outcome: Record<string, string> }> = [
    { ruleId: ids.rules[0]!, now: LATER + 100, keys: ['a/phone-answer'], subject: 'One breach', outcome: { email: 'sent' } },
    { ruleId: ids.rules[0]!, now: LATER + 200, keys: ['b/resolve', 'c/resolve'], subject: 'Two breaches', outcome: { email: 'sent' } },
    { ruleId: ids.rules[0]!, now: LATER + 200, keys: ['test'], subject: 'Test', outcome: { email: 'failed: refused' } },
    { ruleId: ids.rules[1]!, now: LATER + 150, keys: ['test'], subject: 'Test', outcome: { teams: 'sent', slack: 'sent' } },
  ];
  for (const s of sends) {
    const { id } = await runner.run('record-alert-send', s);
    expect(await pgAlerts.recordSend(s.ruleId, s.now, s.keys, s.subject, s.outcome)).toBe(id);
    ids.sends.push(id);
  }

  await runner.close();
  live.sqlite = asyncOf(new LiveStore(sqlite.sqlite, implied), LIVE_READS);
  live.sqliteNoImplied = asyncOf(new LiveStore(sqlite.sqlite), LIVE_READS);
  pgLive = new PgLiveStore(pool, implied);
  live.postgresql = pgLive;
  live.postgresqlNoImplied = new PgLiveStore(pool);
  cal.sqlite = asyncOf(new CalendarStore(sqlite.sqlite), CALENDAR_READS);
  cal.postgresql = pgCalendars;
  notices.sqlite = asyncOf(new NoticeStore(sqlite.sqlite), NOTICE_READS);
  notices.postgresql = pgNotices;
  boards.sqlite = asyncOf(new SavedBoardStore(sqlite.sqlite), SAVED_BOARD_READS);
  boards.postgresql = pgBoards;
  alerts.sqlite = asyncOf(new AlertStore(sqlite.sqlite), ALERT_READS);
  alerts.postgresql = pgAlerts;
  await pool.query('ANALYZE');
}, 300_000);

afterAll(async () => {
  sqlite?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  await postgres?.close();
  await testPg?.drop();
});

/** PostgreSQL: one transaction over a connection of the pool. */
const inTransaction = <T>(work: (client: Parameters<typeof PgContactWrites.insertContact>[0]) => Promise<T>): Promise<T> => pgTransaction(postgres.pool, work);

/** The same read of both databases: equal answers (returned, so the caller can check what it holds). */
async function same<P, T>(ports: Record<'sqlite' | 'postgresql', P>, read: (port: P) => Promise<T>): Promise<T> {
  const [fromSqlite, fromPg] = await Promise.all([read(ports.sqlite), read(ports.postgresql)]);
  expect(fromPg).toEqual(fromSqlite);
  return fromPg;
}

// ------------------------------------------------------------------------------------------------
// The live board

/** Every running clock as written: [key, receivedAt, contactId, standard, status, dueAt, atRiskAt, channel], in the open clocks' index order. */
function expectedOpenClocks(withImplied: boolean): OpenClockRow[] {
  const rows: OpenClockRow[] = [];
  for (const { row, clocks } of written.values()) {
    for (const c of clocks) {
      if (!OPEN.has(c.status)) continue;
      const channel = (withImplied ? implied.get(c.standard) : undefined) ?? row.channel;
      rows.push([`${row.id}/${c.standard}`, row.receivedAt, row.id, c.standard, c.status, c.dueAt, c.atRiskAt, channel]);
    }
  }
  return rows.sort((a, b) => a[1] - b[1] || bytewise(a[2], b[2]) || bytewise(a[3], b[3]));
}

/** Every page of running clocks, following the cursor from the last row of each; the pages of both databases compared one by one. */
async function walk(sqlitePort: LiveReads, pgPort: LiveReads, pageSize: number): Promise<OpenClockRow[]> {
  const out: OpenClockRow[] = [];
  let after: OpenClockCursor | null = null;
  for (let page = 0; page < 10_000; page++) {
    const [a, b]: [OpenClockRow[], OpenClockRow[]] = await Promise.all([sqlitePort.openClocks(after, pageSize), pgPort.openClocks(after, pageSize)]);
    expect(b, `page ${page} of ${pageSize}`).toEqual(a);
    out.push(...b);
    if (b.length < pageSize) return out;
    const last: OpenClockRow = b[b.length - 1]!;
    after = { receivedAt: last[1], contactId: last[2], standard: last[3] };
  }
  throw new Error('too many pages');
}

describe('the live board (LiveReads)', () => {
  it('gives every running clock, page by page through the cursor, as written, on both', async () => {
    const expected = expectedOpenClocks(true);
    // Enough to matter: ties on receivedAt, several clocks of one contact, both kinds of channel.
    expect(expected.length).toBeGreaterThan(200);
    const tied = expected.filter((r) => r[1] === NOW - 3 * HOUR);
    expect(new Set(tied.map((r) => r[2])).size).toBeGreaterThanOrEqual(10);
    expect(tied.length).toBeGreaterThan(new Set(tied.map((r) => r[2])).size);
    expect(new Set(expected.map((r) => r[4]))).toEqual(new Set(['running', 'at-risk', 'breached', 'paused']));
    for (const size of [1, 7, 1000]) expect(await walk(live.sqlite, live.postgresql, size)).toEqual(expected);
    // Without implied channels every channel is the contact's: the same rows.
    expect(await walk(live.sqliteNoImplied, live.postgresqlNoImplied, 7)).toEqual(expectedOpenClocks(false));
    expect(expectedOpenClocks(false)).toEqual(expected); // each implied channel is its contact's
  }, 60_000);

  it("gives today's calls, contacts received and clocks handled alike", async () => {
    for (const since of [DAY_START, NOW - 30 * DAY, LATER + DAY]) {
      const calls = await same(live, (s) => s.callsSince(since));
      const received = await same(live, (s) => s.receivedSince(since));
      const handled = await Promise.all([live.sqlite.handledSince(since), live.postgresql.handledSince(since)]);
      // A set on both (the ledger counts it): compared in one order.
      const key = (h: { contactId: string; standard: string }) => `${h.contactId}/${h.standard}`;
      const sorted = handled.map((h) => [...h].sort((a, b) => bytewise(key(a), key(b))));
      expect(sorted[1]).toEqual(sorted[0]);
      const contacts = [...written.values()].filter((w) => w.row.receivedAt >= since);
      expect(received.map(([id]) => id).sort()).toEqual(contacts.map((w) => w.row.id).sort());
      expect(calls.map((c) => c.id).sort()).toEqual(contacts.filter((w) => w.row.channel === 'phone' && w.clocks.some((c) => c.standard === 'phone-answer')).map((w) => w.row.id).sort());
      if (since === DAY_START) {
        expect(calls.some((c) => c.callback)).toBe(true);
        expect(calls.some((c) => c.answeredAt !== null)).toBe(true);
        expect(sorted[0]!.length).toBeGreaterThan(0);
      }
      if (since === LATER + DAY) expect([calls, received, sorted[0]]).toEqual([[], [], []]);
    }
  });

  it("gives the urgent rows' words and the calls' queues by contact, alike", async () => {
    const open = [...new Set(expectedOpenClocks(true).map((r) => r[2]))];
    const asked = [...open, 'no-such-contact'];
    const details = await same(live, async (s) => Object.fromEntries(await s.details(asked)));
    expect(Object.keys(details).sort()).toEqual(open.sort());
    const tied = written.get([...written.values()].find((w) => w.row.externalId === 'tie-0')!.row.id)!;
    expect(details[tied.row.id]).toEqual({ category: 'complaint', customerName: 'Customer 0', subject: 'Tied 0', assignee: null, route: tied.row.route });
    const phones = [...written.values()].filter((w) => w.row.channel === 'phone').map((w) => w.row.id);
    const queues = await same(live, async (s) => Object.fromEntries(await s.queues([...phones, 'no-such-contact'])));
    expect(Object.keys(queues).length).toBeGreaterThan(0);
    expect(Object.keys(queues).length).toBeLessThan(phones.length); // a call naming no queue has none
    expect(queues[[...written.values()].find((w) => w.row.externalId === 'q-waiting')!.row.id]).toBe('repairs');
    expect(await same(live, async (s) => [...(await s.details([]))])).toEqual([]);
    expect(await same(live, async (s) => [...(await s.queues([]))])).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// Calendars, notices, saved boards, alert rules

describe('calendars (CalendarReads)', () => {
  it('gives the calendars, each division\'s holidays and each calendar\'s closures alike', async () => {
    const all = await same(cal, (s) => s.all());
    expect(all.map((c) => c.id)).toEqual(['customer-services']);
    expect(all[0]!.updatedAt).toBe(NOW); // touched by the closures
    for (const id of ['customer-services', 'no-such-calendar']) {
      await same(cal, (s) => s.byId(id));
      await same(cal, (s) => s.closures(id));
    }
    const closures = await same(cal, (s) => s.closures('customer-services'));
    expect(closures.map((c) => c.reason)).toEqual(['staff training', 'office move', null]); // two from one instant: in the order added
    for (const division of [...DIVISIONS, 'no-such-division']) await same(cal, (s) => s.holidays(division));
    expect((await cal.postgresql.holidays('england-and-wales'))!.holidays.length).toBeGreaterThan(10);
  });
});

describe('notices and the board message (NoticePort)', () => {
  it('gives each notice, the one in force and those to come at every instant, and the standing message alike', async () => {
    for (const id of [...ids.notices, 9999]) await same(notices, (s) => s.notice(id));
    const instants = [NOW - 3 * DAY, NOW - 2 * DAY, NOW - DAY - 1, NOW, NOW + HOUR + 1, NOW + 3 * HOUR, NOW + 9 * HOUR, NOW + 3 * DAY];
    const inForce = [];
    for (const t of instants) {
      inForce.push((await same(notices, (s) => s.inForce(t)))?.title ?? null);
      await same(notices, (s) => s.upcoming(t));
    }
    // Two overlapping: the latest started (here the later id); the withdrawn one never.
    expect(inForce).toEqual([null, 'Phones down', 'Phones down', 'Training', 'Training', 'Snow', 'Upgrade', null]);
    expect((await notices.postgresql.upcoming(NOW)).map((n) => n.title)).toEqual(['Training', 'Upgrade', 'Snow']);
    const message = await same(notices, (s) => s.message());
    expect(message).toMatchObject({ text: 'Back to normal', by: ACTOR, at: LATER + 23, until: LATER + HOUR });
  });
});

describe('saved boards and displays (SavedBoardPort)', () => {
  it('gives the boards in team and name order (bytewise), each board, names, choices and displays alike', async () => {
    const all = await same(boards, (s) => s.all());
    expect(all.map((b) => `${b.team}/${b.name}`)).toEqual(['Customer/alpha', 'customer/Zeta', 'customer/Älteste', 'repairs/Repairs']);
    for (const id of [...ids.boards, 9999]) await same(boards, (s) => s.byId(id));
    for (const name of ['Repairs', 'Complaints (stage 1)', 'complaints', 'repairs']) await same(boards, (s) => s.idByName(name));
    const choices = await same(boards, (s) => s.choices());
    // The deleted board taken out of the display that chose it with others, and the display that chose it alone cleared.
    expect(choices).toEqual([{ displayId: ids.displays[0], boards: [ids.boards[0], ids.boards[3]], rotateSeconds: 30, updatedBy: ACTOR, updatedAt: LATER + 50 }]);
    for (const id of [...ids.displays, 9999]) {
      await same(boards, (s) => s.choice(id));
      await same(boards, (s) => s.displayActive(id));
    }
    expect(await Promise.all(ids.displays.map((id) => boards.postgresql.displayActive(id)))).toEqual([true, true, false]);
  });
});

describe('alert rules, sends and the evaluator\'s reads (AlertPort)', () => {
  it('gives the rules, each rule, its sends and its last real send alike', async () => {
    const rules = await same(alerts, (s) => s.rules());
    expect(rules.map((r) => [r.name, r.enabled, r.threshold])).toEqual([
      ['Breaches', true, null],
      ['Calls waiting (10)', false, 10],
    ]);
    for (const id of [...ids.rules, 9999]) {
      await same(alerts, (s) => s.rule(id));
      await same(alerts, (s) => s.lastSend(id));
      await same(alerts, (s) => s.sendsOf(id));
      await same(alerts, (s) => s.sendsOf(id, 1));
    }
    expect(await alerts.postgresql.lastSend(ids.rules[0]!)).toBe(LATER + 200);
    expect(await alerts.postgresql.lastSend(ids.rules[1]!)).toBeNull(); // a test send starts no quiet period
    expect((await alerts.postgresql.sendsOf(ids.rules[0]!)).map((s) => s.id)).toEqual([ids.sends[2], ids.sends[1], ids.sends[0]]);
  });

  it('gives the clocks that fell due in a span, and the safeguarding flags after an id, alike', async () => {
    let some = 0;
    for (const [from, to] of [[NOW - 30 * DAY, NOW], [NOW - DAY, LATER], [NOW, NOW + 30 * DAY], [NOW - 400 * DAY, NOW + 400 * DAY]] as const) {
      for (const limit of [1, 5, 1000]) some += (await same(alerts, (s) => s.dueBetween(from, to, limit))).length;
    }
    expect(some).toBeGreaterThan(50);
    for (const after of [0, ids.flags[0]!, ids.flags[ids.flags.length - 1]!]) {
      for (const limit of [1, 200]) await same(alerts, (s) => s.flagsAfter(after, limit));
    }
    const flags = await same(alerts, (s) => s.flagsAfter(0, 200));
    expect(flags.map((f) => f.id)).toEqual(ids.flags.filter((_, i) => i !== 2)); // the other kind left out
    expect(await same(alerts, (s) => s.lastFlagId())).toBe(ids.flags[ids.flags.length - 1]);
  });
});

// ------------------------------------------------------------------------------------------------
// The start-up load's plan

/**
 * What every page of running clocks must be, whatever the statistics: a forward walk of
 * clocks_open_received (an index scan that stops at the LIMIT), the channel looked up by the contact's
 * key; no sequential or bitmap scan, no sort, no hash.
 */
async function assertOpenClocksWalk(pool: PgConnection['pool'], cursor: OpenClockCursor): Promise<void> {
  for (const store of [new PgLiveStore(pool, implied), new PgLiveStore(pool)]) {
    for (const st of [store.pageStatement(null, 50), store.pageStatement(cursor, 50), store.pageStatement(cursor, 2000)]) {
      const plan = await explainPlan(pool, st);
      const all = planNodes(plan);
      const text = showPlan(plan);
      expect.soft(all.filter(({ node }) => /Seq Scan|Bitmap/.test(node['Node Type'])), `a scan not by index\n${text}`).toEqual([]);
      expect.soft(all.filter(({ node }) => /Sort|Hash|Materialize/.test(node['Node Type'])), `a sort or hash\n${text}`).toEqual([]);
      const walk = all.find(({ node, inSubPlan }) => !inSubPlan && /Scan$/.test(node['Node Type']))!.node;
      expect.soft(walk, text).toMatchObject({ 'Index Name': 'clocks_open_received', 'Scan Direction': 'Forward' });
      expect.soft(walk['Node Type'], text).toMatch(/^Index (Only )?Scan$/);
      for (const { node } of all.filter((x) => x.inSubPlan && /Scan$/.test(x.node['Node Type']))) {
        expect.soft(node['Index Name'], `the channel by the contact's key\n${text}`).toMatch(/^(contacts_received_at|contacts_pkey|contacts_id_assignee)$/);
      }
    }
  }
}

describe('the running clocks\' page plan on PostgreSQL', () => {
  it('is a forward walk of clocks_open_received that stops at the page, on these few thousand contacts', async () => {
    const mid = expectedOpenClocks(true)[100]!;
    await assertOpenClocksWalk(postgres.pool, { receivedAt: mid[1], contactId: mid[2], standard: mid[3] });
  });

  it("is the same walk at a year's scale (200,000 contacts, 40,000 clocks running), from the start and from deep in", async () => {
    const big = await freshPgDatabase('kept_board_contract_scale');
    const db = await openPostgres(big.url, { max: 2 });
    try {
      await fillPgYear(db.pool, NOW);
      const deep = (await db.pool.query<{ received_at: number; contact_id: string; standard: string }>('SELECT received_at, contact_id, standard FROM clocks WHERE open ORDER BY received_at, contact_id, standard OFFSET 30000 LIMIT 1')).rows[0]!;
      await assertOpenClocksWalk(db.pool, { receivedAt: deep.received_at, contactId: deep.contact_id, standard: deep.standard });
    } finally {
      await db.close();
      await big.drop();
    }
  }, 120_000);
});

/**
 * What SQLite's single writer gave the board message for free, made explicit for many instances: two
 * instances (two pools) posting and ending it at once leave at most one message standing, the last
 * posted; and a saved board deleted while displays choose it leaves no display naming it.
 */
describe('the board message and saved boards from two instances at once', () => {
  const two = twoPgInstances('kept_board_contract_two');

  it('leave one message standing, the last posted', async () => {
    const { a, b } = two;
    const stores = [new PgNoticeStore(a.pool), new PgNoticeStore(b.pool)];
    for (let round = 0; round < 3; round++) {
      const posted = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % 2]!.postMessage(`message ${round}.${i}`, ACTOR, LATER + i, null)));
      const standing = await a.pool.query<{ id: number }>('SELECT id FROM board_messages WHERE ended_at IS NULL');
      expect(standing.rows).toEqual([{ id: Math.max(...posted) }]);
      expect((await stores[1]!.message())!.id).toBe(Math.max(...posted));
    }
    const ended = await Promise.all([stores[0]!.endMessage(ACTOR, LATER + 100), stores[1]!.endMessage(ACTOR, LATER + 100)]);
    expect(ended.filter(Boolean)).toHaveLength(1); // one ended it, the other found none standing
    expect(await stores[0]!.message()).toBeUndefined();
  });

  it('delete a board out of every display that chose it', async () => {
    const { a, b } = two;
    const [first, second] = [new PgSavedBoardStore(a.pool), new PgSavedBoardStore(b.pool)];
    const displays: number[] = [];
    for (const name of ['Wall A', 'Wall B', 'Wall C']) {
      displays.push((await a.pool.query<{ id: number }>('INSERT INTO displays (name, secret_hash, created_at, created_by) VALUES ($1, $2, $3, $4) RETURNING id', [name, `hash-${name}`, LATER, ACTOR])).rows[0]!.id);
    }
    const filter: BoardFilter = { queues: [], channels: [], categories: [] };
    const boardIds = [await first.insert({ name: 'One', team: 't', filter }, ACTOR, LATER), await first.insert({ name: 'Two', team: 't', filter }, ACTOR, LATER)];
    await Promise.all(displays.map((d, i) => (i % 2 === 0 ? first : second).setChoice(d, i === 2 ? [boardIds[0]!] : boardIds, 30, ACTOR, LATER)));
    // Both instances delete board One at once: one deletes it, and every display is left with what it chose besides.
    const removed = await Promise.all([first.remove(boardIds[0]!, ACTOR, LATER + 1), second.remove(boardIds[0]!, ACTOR, LATER + 1)]);
    expect(removed.filter(Boolean)).toHaveLength(1);
    expect((await second.choices()).map((c) => [c.displayId, c.boards])).toEqual([
      [displays[0], [boardIds[1]]],
      [displays[1], [boardIds[1]]],
    ]);
  });
});
