// Contacts, their append-only events and their clocks: the only code that writes those tables.
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../../db/connection.js';
import type { Clock } from '../domain/model.js';
import { clockJsonText } from '../domain/json.js';
import { parseStoredInstant } from '../domain/time.js';

export interface Customer {
  name?: string;
  email?: string;
  phone?: string;
  address?: string;
  reference?: string;
  preferredContact?: string;
  accessibilityNeeds?: string;
  /** A vulnerability the customer has told us of (free text, shown before anything else). */
  vulnerability?: string;
  /** A safety or safeguarding concern: raises the team leads' alert when the contact arrives. */
  safeguarding?: boolean;
}

export interface ContactRow {
  id: string;
  channel: string;
  route: string;
  category: string;
  initialCategory: string;
  externalId: string | null;
  receivedAt: number;
  packFamily: string;
  customer: Customer | null;
  subject: string | null;
  summary: string | null;
  assignee: string | null;
  callback: boolean;
  contentHash: string;
  source: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

export interface EventRow {
  id: number;
  contactId: string;
  seq: number;
  type: string;
  at: number;
  externalId: string | null;
  /** The event as received, timestamps as ISO strings. */
  body: Record<string, unknown>;
  receivedAt: number;
}

export interface ClockRow {
  contactId: string;
  standard: string;
  status: string;
  open: boolean;
  dueAt: number | null;
  atRiskAt: number | null;
  detail: Clock;
}

export interface ContactFilter {
  status?: string[];
  standard?: string;
  channel?: string;
  assignee?: string;
  category?: string;
  /** A named phone queue (the contacts' `queue` column: phone and voicemail contacts only). */
  queue?: string;
  receivedFrom?: number;
  receivedTo?: number;
  /** Page after this (receivedAt, id), newest first. */
  after?: { receivedAt: number; id: string };
  limit: number;
  now: number;
}

/**
 * A contact's columns in the order they are read: the hot reads (a page of views: up to a hundred
 * contacts, their events and clocks) take rows as arrays (better-sqlite3's raw mode), which costs less
 * than an object per row made from the column names.
 */
const CONTACT_COLUMNS = [
  'id', 'channel', 'route', 'category', 'initial_category', 'external_id', 'received_at', 'pack_family', 'customer', 'subject', 'summary',
  'assignee', 'callback', 'content_hash', 'source', 'created_at', 'updated_at',
] as const;
const CONTACT_SELECT = CONTACT_COLUMNS.join(', ');
/** The same, of the contact aliased `c` (the lists' statements). */
const CONTACT_SELECT_C = CONTACT_COLUMNS.map((c) => `c.${c}`).join(', ');
type RawContact = [
  id: string, channel: string, route: string, category: string, initialCategory: string, externalId: string | null, receivedAt: number, packFamily: string,
  customer: string | null, subject: string | null, summary: string | null, assignee: string | null, callback: number, contentHash: string, source: string | null,
  createdAt: number, updatedAt: number,
];
/**
 * The named phone queue (issue 13) stored with a contact: a phone or voicemail contact's
 * `source.queue` when it is text (the telephony adapters always set it), else its route (the two
 * built-in queues are named after the routes, and before named queues a call's queue was its route);
 * null for the other channels. The same rule as migration 0011's backfill.
 */
export function queueOf(c: Pick<ContactRow, 'channel' | 'route' | 'source'>): string | null {
  if (c.channel !== 'phone' && c.channel !== 'voicemail') return null;
  const q = c.source?.queue;
  return typeof q === 'string' ? q : c.route;
}

const EVENT_SELECT = 'id, contact_id, seq, type, at, external_id, body, received_at';
type RawEvent = [id: number, contactId: string, seq: number, type: string, at: number, externalId: string | null, body: string, receivedAt: number];
const CLOCK_SELECT = 'contact_id, standard, status, open, due_at, at_risk_at, detail';
type RawClock = [contactId: string, standard: string, status: string, open: number, dueAt: number | null, atRiskAt: number | null, detail: string];

const OPEN_STATUSES = new Set(['running', 'at-risk', 'breached', 'paused']);

function contactFromRaw(r: RawContact): ContactRow {
  return {
    id: r[0],
    channel: r[1],
    route: r[2],
    category: r[3],
    initialCategory: r[4],
    externalId: r[5],
    receivedAt: r[6],
    packFamily: r[7],
    customer: r[8] === null ? null : (JSON.parse(r[8]) as Customer),
    subject: r[9],
    summary: r[10],
    assignee: r[11],
    callback: r[12] === 1,
    contentHash: r[13],
    source: r[14] === null ? null : (JSON.parse(r[14]) as Record<string, unknown>),
    createdAt: r[15],
    updatedAt: r[16],
  };
}

type StoredClockKeys = { rowid: number; standard: string; status: string; open: number; due_at: number | null; at_risk_at: number | null; ended_at: number | null; calendar: string };

/** A clock's row as stored (status_changed_at is set by timers only: a recompute clears it). */
function clockRow(contactId: string, c: Clock, now: number) {
  return {
    contactId,
    standard: c.standard,
    standardVersion: c.standardVersion,
    calendar: c.calendar,
    status: c.status,
    open: OPEN_STATUSES.has(c.status) ? 1 : 0,
    startedAt: c.startedAt,
    dueAt: c.dueAt,
    atRiskAt: c.atRiskAt,
    fulfilledAt: c.fulfilledAt,
    endedAt: c.endedAt,
    targetMs: c.targetMs,
    countedMs: c.countedMs,
    statusChangedAt: null,
    detail: clockJsonText(c), // the same text as JSON.stringify(clockToJson(c)), built directly
    updatedAt: now,
  };
}

function eventFromRaw(r: RawEvent): EventRow {
  return { id: r[0], contactId: r[1], seq: r[2], type: r[3], at: r[4], externalId: r[5], body: JSON.parse(r[6]) as Record<string, unknown>, receivedAt: r[7] };
}

function clockFromRaw(r: RawClock): ClockRow {
  return { contactId: r[0], standard: r[1], status: r[2], open: r[3] === 1, dueAt: r[4], atRiskAt: r[5], detail: clockFromJson(r[6]) };
}

/** Stored clock detail back to a Clock (instants were stored as ISO strings); the PostgreSQL store reads it the same way. */
export function clockFromJson(text: string): Clock {
  const j = JSON.parse(text) as Record<string, unknown>;
  const ms = (v: unknown): number | null => (typeof v === 'string' ? parseStoredInstant(v) : null);
  const clock: Clock = {
    standard: j.standard as string,
    standardVersion: j.standardVersion as string,
    calendar: j.calendar as string,
    startedAt: ms(j.startedAt)!,
    dueAt: ms(j.dueAt),
    atRiskAt: ms(j.atRiskAt),
    status: j.status as Clock['status'],
    fulfilledAt: ms(j.fulfilledAt),
    endedAt: ms(j.endedAt),
    targetMs: j.targetMs as number,
    countedMs: j.countedMs as number,
    remainingMs: j.remainingMs as number,
  };
  if ('originalDueAt' in j) clock.originalDueAt = ms(j.originalDueAt);
  if (typeof j.extendedUntil === 'string') clock.extendedUntil = parseStoredInstant(j.extendedUntil);
  if (typeof j.reason === 'string') clock.reason = j.reason;
  if (j.callback === true) clock.callback = true;
  if (Array.isArray(j.pauses)) {
    clock.pauses = (j.pauses as Array<{ from: string; to: string | null; reason: string }>).map((p) => ({ from: parseStoredInstant(p.from), to: p.to === null ? null : parseStoredInstant(p.to), reason: p.reason }));
  }
  if (j.beyondHolidayData === true) clock.beyondHolidayData = true;
  if (Array.isArray(j.notes)) clock.notes = j.notes as string[];
  return clock;
}

/** A sender's social messages awaiting a reply (parameters: sender id, received by). */
export const SOCIAL_AWAITING_REPLY_SQL = `SELECT c.id FROM contacts c INDEXED BY contacts_social_sender
  WHERE c.channel = 'social' AND json_extract(c.source, '$.senderId') = ? AND c.received_at <= ?
    AND json_extract(c.source, '$.kind') = 'message'
    AND EXISTS (SELECT 1 FROM clocks k WHERE k.contact_id = c.id AND +k.open = 1 AND +k.standard LIKE '%-reply')
  ORDER BY c.received_at DESC, c.id DESC`;

/** The statements of a list, with the bounded counts that choose between the two walks. */
export interface ListPlan {
  shape: 'contacts' | 'clocks';
  statements: Array<{ sql: string; params: Record<string, unknown> }>;
  counts: Array<{ sql: string; params: Record<string, unknown> }>;
}

type ListKey = { received_at: number; id: string };

/** Statuses judged against now from an open clock's due and at-risk instants (the others are stored). */
const JUDGED = new Set(['running', 'at-risk', 'breached', 'open']);

/** receivedFrom / receivedTo / the cursor, on `at` and `id` (a contact's or a clock's copy). */
function rangeTerms(f: ContactFilter, params: Record<string, unknown>, at: string, id: string): string[] {
  const t: string[] = [];
  if (f.receivedFrom !== undefined) {
    t.push(`${at} >= @receivedFrom`);
    params.receivedFrom = f.receivedFrom;
  }
  if (f.receivedTo !== undefined) {
    t.push(`${at} < @receivedTo`);
    params.receivedTo = f.receivedTo;
  }
  if (f.after !== undefined) {
    // A row value: the index seeks straight to the cursor, however deep.
    t.push(`(${at}, ${id}) < (@afterAt, @afterId)`);
    params.afterAt = f.after.receivedAt;
    params.afterId = f.after.id;
  }
  return t;
}

/**
 * The SQL for one status of a clock k. Running statuses are judged against @now from the due and
 * at-risk instants; paused and the final statuses are stored. `plus` ('+') keeps the planner from
 * choosing an index by the term; `withOpen` adds `open = 1` to the judged ones (the open-clock
 * index implies it).
 */
function statusTerm(s: string, i: number, params: Record<string, unknown>, plus: '' | '+', withOpen: boolean): string {
  const open = withOpen ? `${plus}k.open = 1 AND ` : '';
  switch (s) {
    case 'breached':
      return `(${open}${plus}k.status != 'paused' AND ${plus}k.due_at < @now)`;
    case 'at-risk':
      return `(${open}${plus}k.status != 'paused' AND ${plus}k.due_at >= @now AND ${plus}k.at_risk_at <= @now)`;
    case 'running':
      return `(${open}${plus}k.status != 'paused' AND ${plus}k.due_at >= @now AND (${plus}k.at_risk_at IS NULL OR ${plus}k.at_risk_at > @now))`;
    case 'open':
      return withOpen ? `(${plus}k.open = 1)` : '(1)';
    default:
      // Stored: paused (open) and the final statuses (ended); the status alone says which.
      params[`status${i}`] = s;
      return `(${plus}k.status = @status${i})`;
  }
}

export class ContactStore {
  private readonly s;

  constructor(private readonly sqlite: Sqlite) {
    this.s = {
      byId: sqlite.prepare<[string], RawContact>(`SELECT ${CONTACT_SELECT} FROM contacts WHERE id = ?`).raw(true),
      byExternal: sqlite.prepare<[string, string], RawContact>(`SELECT ${CONTACT_SELECT} FROM contacts WHERE channel = ? AND external_id = ?`).raw(true),
      events: sqlite.prepare<[string], RawEvent>(`SELECT ${EVENT_SELECT} FROM events WHERE contact_id = ? ORDER BY seq`).raw(true),
      eventByExternal: sqlite.prepare<[string, string], RawEvent>(`SELECT ${EVENT_SELECT} FROM events WHERE contact_id = ? AND external_id = ?`).raw(true),
      nextSeq: sqlite.prepare<[string], { next: number }>('SELECT COALESCE(MAX(seq) + 1, 0) AS next FROM events WHERE contact_id = ?'),
      insertContact: sqlite.prepare(
        `INSERT INTO contacts (id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary, assignee, callback, content_hash, source, queue, created_at, updated_at)
         VALUES (@id, @channel, @route, @category, @initialCategory, @externalId, @receivedAt, @packFamily, @customer, @subject, @summary, @assignee, @callback, @contentHash, @source, @queue, @createdAt, @updatedAt)`,
      ),
      insertEvent: sqlite.prepare(
        'INSERT INTO events (contact_id, seq, type, at, external_id, body, received_at) VALUES (@contactId, @seq, @type, @at, @externalId, @body, @receivedAt)',
      ),
      // SQLite rewrites every index holding a column named in SET, changed or not: when only updated_at
      // moves (most recomputes), the first statement leaves contacts_received_at and the assignee index alone.
      touchDerived: sqlite.prepare('UPDATE contacts SET updated_at = @updatedAt WHERE id = @id AND category = @category AND assignee IS @assignee AND callback = @callback'),
      updateDerived: sqlite.prepare('UPDATE contacts SET category = @category, assignee = @assignee, callback = @callback, updated_at = @updatedAt WHERE id = @id'),
      deleteClocks: sqlite.prepare('DELETE FROM clocks WHERE contact_id = ?'),
      clockKeys: sqlite.prepare<[string], StoredClockKeys>('SELECT rowid, standard, status, open, due_at, at_risk_at, ended_at, calendar FROM clocks WHERE contact_id = ? ORDER BY rowid'),
      // Every column but the key and received_at (the contact's): indexes holding a changed column are rewritten.
      updateClock: sqlite.prepare(
        `UPDATE clocks SET standard_version = @standardVersion, calendar = @calendar, status = @status, open = @open, started_at = @startedAt, due_at = @dueAt, at_risk_at = @atRiskAt,
           fulfilled_at = @fulfilledAt, ended_at = @endedAt, target_ms = @targetMs, counted_ms = @countedMs, status_changed_at = @statusChangedAt, detail = @detail, updated_at = @updatedAt
         WHERE rowid = @rowid`,
      ),
      // Only columns no index of running clocks holds: for a running clock the row alone is rewritten (the
      // weekly report's clocks_report_ended holds ended clocks only, open = 0; an ended clock recomputed
      // with the same values rewrites its entry there too).
      updateClockBody: sqlite.prepare(
        `UPDATE clocks SET standard_version = @standardVersion, started_at = @startedAt, fulfilled_at = @fulfilledAt, target_ms = @targetMs, counted_ms = @countedMs,
           status_changed_at = @statusChangedAt, detail = @detail, updated_at = @updatedAt
         WHERE rowid = @rowid`,
      ),
      receivedAt: sqlite.prepare<[string], number>('SELECT received_at FROM contacts WHERE id = ?').pluck(),
      clocks: sqlite.prepare<[string], RawClock>(`SELECT ${CLOCK_SELECT} FROM clocks WHERE contact_id = ? ORDER BY rowid`).raw(true),
      // The open clocks' index carries the calendar: no table row read (without it, and without statistics, a walk of every clock).
      openClockContacts: sqlite.prepare<[string], { contact_id: string }>('SELECT DISTINCT contact_id FROM clocks INDEXED BY clocks_open_received WHERE open = 1 AND calendar = ?'),
      // The same, less the clocks due at or before an instant (their working time up to then is settled).
      openClockContactsDueAfter: sqlite.prepare<[string, number], { contact_id: string }>(
        'SELECT DISTINCT contact_id FROM clocks INDEXED BY clocks_open_received WHERE open = 1 AND calendar = ? AND (due_at IS NULL OR due_at > ?)',
      ),
      setStatus: sqlite.prepare('UPDATE clocks SET status = @status, status_changed_at = @at, detail = json_set(detail, \'$.status\', @status), updated_at = @updatedAt WHERE contact_id = @contactId AND standard = @standard AND open = 1 AND status IN (\'running\', \'at-risk\')'),
      openClocks: sqlite.prepare<[], RawClock>(`SELECT ${CLOCK_SELECT} FROM clocks INDEXED BY clocks_open_received WHERE open = 1`).raw(true),
      clock: sqlite.prepare<[string, string], RawClock>(`SELECT ${CLOCK_SELECT} FROM clocks WHERE contact_id = ? AND standard = ?`).raw(true),
      // A page of views in three statements, whatever its length (ids as a JSON array).
      byIds: sqlite.prepare<[string], RawContact>(`SELECT ${CONTACT_SELECT} FROM contacts WHERE id IN (SELECT value FROM json_each(?))`).raw(true),
      eventsOf: sqlite.prepare<[string], RawEvent>(`SELECT ${EVENT_SELECT} FROM events WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY contact_id, seq`).raw(true),
      clocksOf: sqlite.prepare<[string], RawClock>(`SELECT ${CLOCK_SELECT} FROM clocks WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY rowid`).raw(true),
    };
  }

  /** List statements by their text: a few dozen shapes (one per combination of filters), prepared once each. */
  private readonly statements = new Map<string, Statement>();

  private cached(sql: string): Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      if (this.statements.size >= 512) this.statements.clear();
      st = this.sqlite.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  byId(id: string): ContactRow | undefined {
    const r = this.s.byId.get(id);
    return r === undefined ? undefined : contactFromRaw(r);
  }

  byExternal(channel: string, externalId: string): ContactRow | undefined {
    const r = this.s.byExternal.get(channel, externalId);
    return r === undefined ? undefined : contactFromRaw(r);
  }

  events(contactId: string): EventRow[] {
    return this.s.events.all(contactId).map(eventFromRaw);
  }

  eventByExternal(contactId: string, externalId: string): EventRow | undefined {
    const r = this.s.eventByExternal.get(contactId, externalId);
    return r === undefined ? undefined : eventFromRaw(r);
  }

  nextSeq(contactId: string): number {
    return this.s.nextSeq.get(contactId)!.next;
  }

  insertContact(c: ContactRow): void {
    this.s.insertContact.run({
      ...c,
      customer: c.customer === null ? null : JSON.stringify(c.customer),
      source: c.source === null ? null : JSON.stringify(c.source),
      queue: queueOf(c),
      callback: c.callback ? 1 : 0,
    });
  }

  insertEvent(e: Omit<EventRow, 'id'>): void {
    this.s.insertEvent.run({ ...e, body: JSON.stringify(e.body) });
  }

  updateDerived(id: string, d: { category: string; assignee: string | null; callback: boolean; updatedAt: number }): void {
    const params = { id, ...d, callback: d.callback ? 1 : 0 };
    if (this.s.touchDerived.run(params).changes === 0) this.s.updateDerived.run(params);
  }

  /**
   * Replaces a contact's clock rows with the engine's latest answer. The same standards in the same
   * order (nearly every recompute) are updated in place, and a row whose indexed columns (status,
   * open, due, at-risk, ended, calendar) did not move rewrites only its own columns: one B-tree write
   * instead of twelve (the row and five indexes, deleted then inserted). A calendar edit recomputes
   * every running clock, most of which keep their due instant. Otherwise the rows are deleted and
   * inserted again (the engine's order is the rowid order).
   */
  replaceClocks(contactId: string, clocks: Clock[], now: number): void {
    const stored = this.s.clockKeys.all(contactId);
    if (stored.length !== clocks.length || clocks.some((c, i) => stored[i]!.standard !== c.standard)) {
      this.s.deleteClocks.run(contactId);
      this.insertClocks(contactId, clocks, now);
      return;
    }
    clocks.forEach((c, i) => {
      const r = stored[i]!;
      const row = clockRow(contactId, c, now);
      if (r.status === row.status && r.open === row.open && r.due_at === row.dueAt && r.at_risk_at === row.atRiskAt && r.ended_at === row.endedAt && r.calendar === row.calendar) {
        this.s.updateClockBody.run({ ...row, rowid: r.rowid });
      } else this.s.updateClock.run({ ...row, rowid: r.rowid });
    });
  }

  /**
   * Stores the clocks of a contact that has none yet (a new contact: nothing to delete), in one
   * statement. `receivedAt` is the contact's (copied so lists can page clocks in the contacts'
   * order): given by a new contact's command, else read.
   */
  insertClocks(contactId: string, clocks: Clock[], now: number, receivedAt: number = this.s.receivedAt.get(contactId)!): void {
    if (clocks.length === 0) return;
    const args: unknown[] = [];
    for (const c of clocks) {
      const r = clockRow(contactId, c, now);
      args.push(r.contactId, r.standard, receivedAt, r.standardVersion, r.calendar, r.status, r.open, r.startedAt, r.dueAt, r.atRiskAt, r.fulfilledAt, r.endedAt, r.targetMs, r.countedMs, r.statusChangedAt, r.detail, r.updatedAt);
    }
    this.insertClocksStatement(clocks.length).run(args);
  }

  /** `INSERT INTO clocks … VALUES (…), …` for n clocks, prepared once per n (a contact has a few). */
  private insertClocksStatement(n: number): Statement {
    let st = this.insertClocksBy[n];
    if (st === undefined) {
      const row = `(${Array.from({ length: 17 }, () => '?').join(', ')})`;
      st = this.sqlite.prepare(
        `INSERT INTO clocks (contact_id, standard, received_at, standard_version, calendar, status, open, started_at, due_at, at_risk_at, fulfilled_at, ended_at, target_ms, counted_ms, status_changed_at, detail, updated_at)
         VALUES ${Array.from({ length: n }, () => row).join(', ')}`,
      );
      this.insertClocksBy[n] = st;
    }
    return st;
  }
  private readonly insertClocksBy: Array<Statement | undefined> = [];

  clocks(contactId: string): ClockRow[] {
    return this.s.clocks.all(contactId).map(clockFromRaw);
  }

  /** Every running clock (for the scheduler's start-up pass). */
  openClocks(): ClockRow[] {
    return this.s.openClocks.all().map(clockFromRaw);
  }

  /** Records a timer's status change at the instant it really happened. */
  setStatus(contactId: string, standard: string, status: string, at: number, now: number): void {
    this.s.setStatus.run({ contactId, standard, status, at, updatedAt: now });
  }

  /**
   * Contacts with an open clock on the calendar; with `dueAfter`, only those with one due after it
   * (or paused, with no due instant).
   */
  contactIdsWithOpenClocksOn(calendarId: string, dueAfter?: number): string[] {
    const rows = dueAfter === undefined ? this.s.openClockContacts.all(calendarId) : this.s.openClockContactsDueAfter.all(calendarId, dueAfter);
    return rows.map((r) => r.contact_id);
  }

  /**
   * Contacts newest first, filtered. A running clock's status is judged against `now` in SQL
   * (from its dueAt and atRiskAt), so the list is right between timer firings.
   *
   * Every statement walks an index in (received_at, id) order from the cursor and stops at the
   * page's end; the only per-row lookups are keyed (a contact by id, a clock by its primary key).
   * Which index leads depends on the filter: see `listPlan`. The plans are asserted in
   * tests/integration/query-plans.test.ts and measured by `npm run bench:reads`.
   */
  list(f: ContactFilter, shape?: ListPlan['shape']): ContactRow[] {
    const plan = this.listPlan(f, shape);
    if (plan.shape === 'contacts') {
      const st = plan.statements[0]!;
      return (this.cached(st.sql).raw(true).all(st.params) as RawContact[]).map(contactFromRaw);
    }
    // Clock-led: each statement gives (received_at, id) in order; merge, drop repeats, keep the page.
    const keys: ListKey[] = [];
    for (const st of plan.statements) for (const k of this.cached(st.sql).all(st.params) as ListKey[]) keys.push(k);
    if (plan.statements.length > 1) keys.sort((a, b) => b.received_at - a.received_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const ids: string[] = [];
    for (const k of keys) {
      if (ids.length === f.limit) break;
      if (ids[ids.length - 1] !== k.id) ids.push(k.id);
    }
    return this.byIds(ids);
  }

  /**
   * The statements `list(f)` runs (for EXPLAIN QUERY PLAN in the plan test and the benchmark).
   * Two shapes:
   *
   * - **contacts**: walk contacts newest first — by `contacts_assignee_received` when an assignee is
   *   named, else by `contacts_queue_received` when a named phone queue is (issue 13: phone and
   *   voicemail contacts only), else by `contacts_category_received` when a category is, else by
   *   `contacts_received_at`; each but the assignee's carries the channel (and the category) so those
   *   filters are judged in the index — and test a status or standard with a
   *   correlated EXISTS on the clocks' primary key (contact_id [, standard]), or, when every status
   *   asked for is judged from open clocks (running, at-risk, breached, open), on the covering
   *   `clocks_open_received` by (received_at, contact_id): no clock row read. Used with no status and
   *   no standard, and for an assignee, a queue, or a channel with a category (few contacts) unless
   *   the clocks asked for are rarer still.
   * - **clocks**: walk clocks newest first by their contact's received_at (copied onto each clock):
   *   running, at-risk, breached and open by the partial index of open clocks, which holds what
   *   judges them against now; a stored status (paused, met, missed…) by `clocks_status_received`;
   *   a standard alone by `clocks_standard_received`. A contact is looked up by id only to test its
   *   channel or category. A rare status (met-extended) is as quick as a common one, where a walk
   *   over contacts would visit most of a million to fill a page. Statuses of both kinds are
   *   separate statements, merged by (received_at, id).
   *
   * The leading index is named (INDEXED BY: a missing index is an error, never a silent scan) and
   * the other terms on its table are written `+col`, or the contact comes second through CROSS
   * JOIN, so no statistics can turn a keyed lookup into a range scan inside the walk (the
   * quadratic plan of issue 9: a range over clocks(open, due_at) for every contact).
   */
  listPlan(f: ContactFilter, shape?: ListPlan['shape']): ListPlan {
    const statuses = [...new Set(f.status ?? [])];
    const filtersClocks = statuses.length > 0 || f.standard !== undefined;
    // `shape` forces a walk (the plan test and the benchmark compare both); clocks need a status or standard.
    if (!filtersClocks || shape === 'contacts') return this.contactLed(f, statuses);
    // The contacts' side is narrow when an assignee is named (its own index), or both channel and
    // category (the category's index, judging the channel in it, where the clocks' walk would look up
    // every clock's contact: a status on voicemail compliments, 0.2% of contacts, read 55,000).
    // A named queue too (its own index): a small line (rents) is a few percent of contacts.
    const narrowContacts = f.assignee !== undefined || f.queue !== undefined || (f.channel !== undefined && f.category !== undefined);
    if (!narrowContacts || shape === 'clocks') return this.clockLed(f, statuses);
    // Then walk whichever side is smaller, judged by counting each side's index entries up to a
    // bound (two short index walks, well under a millisecond): a rare status (met-extended) still
    // leads from the clocks.
    const clocks = this.clockLed(f, statuses);
    const contacts = this.contactLed(f, statuses);
    const bound = ContactStore.SMALL;
    const clockEntries = clocks.counts.reduce((n, c) => n + (this.cached(c.sql).get(c.params) as { n: number }).n, 0);
    if (clockEntries >= bound) return contacts;
    const contactEntries = (this.cached(contacts.counts[0]!.sql).get(contacts.counts[0]!.params) as { n: number }).n;
    return contactEntries <= clockEntries ? contacts : clocks;
  }

  /** Index entries counted (at most) when choosing which side of a narrow list to walk. */
  static readonly SMALL = 2000;

  private contactLed(f: ContactFilter, statuses: string[]): ListPlan {
    const params: Record<string, unknown> = { limit: f.limit, now: f.now };
    const where: string[] = [];
    let index = 'contacts_received_at';
    if (f.assignee !== undefined) {
      index = 'contacts_assignee_received';
      where.push('c.assignee = @assignee');
      params.assignee = f.assignee;
    } else if (f.queue !== undefined) {
      // A queue's own index (phone and voicemail contacts), which carries channel and category.
      index = 'contacts_queue_received';
      where.push('c.queue = @queue');
      params.queue = f.queue;
    } else if (f.category !== undefined) {
      // The category's own index, which carries the channel: a rare pair (voicemail compliments)
      // passes that category's entries only.
      index = 'contacts_category_received';
      where.push('c.category = @category');
      params.category = f.category;
    }
    where.push(...rangeTerms(f, params, 'c.received_at', 'c.id'));
    const lead = [...where];
    if (f.channel !== undefined) {
      where.push('+c.channel = @channel');
      params.channel = f.channel;
    }
    if (f.category !== undefined && index !== 'contacts_category_received') {
      where.push('+c.category = @category');
      params.category = f.category;
    }
    if (f.queue !== undefined && f.assignee !== undefined) {
      // Led by the assignee's index (an advisor's work is narrower than a line's): the queue is a filter.
      where.push('+c.queue = @queue');
      params.queue = f.queue;
    }
    if (statuses.length > 0 && statuses.every((s) => JUDGED.has(s))) {
      // Only statuses judged from open clocks: keyed on the open clocks' index by the contact's whole
      // key there (received_at, id: the clock carries its contact's received_at), which covers what
      // judges them, so no clock row (the wide detail) is read per contact: at 1,000,000 contacts a
      // walk of a queue's 49,000 contacts for its running clocks took 10 ms this way, 55 ms by the row.
      const clockWhere = ['k.open = 1', 'k.received_at = c.received_at', 'k.contact_id = c.id'];
      if (f.standard !== undefined) {
        clockWhere.push('k.standard = @standard');
        params.standard = f.standard;
      }
      clockWhere.push(`(${statuses.map((s, i) => statusTerm(s, i, params, '', false)).join(' OR ')})`);
      where.push(`EXISTS (SELECT 1 FROM clocks k INDEXED BY clocks_open_received WHERE ${clockWhere.join(' AND ')})`);
    } else if (statuses.length > 0 || f.standard !== undefined) {
      // Keyed on the primary key, contact_id (and standard); every other term is a filter (+).
      const clockWhere = ['k.contact_id = c.id'];
      if (f.standard !== undefined) {
        clockWhere.push('k.standard = @standard');
        params.standard = f.standard;
      }
      if (statuses.length > 0) clockWhere.push(`(${statuses.map((s, i) => statusTerm(s, i, params, '+', true)).join(' OR ')})`);
      where.push(`EXISTS (SELECT 1 FROM clocks k WHERE ${clockWhere.join(' AND ')})`);
    }
    const from = `FROM contacts c INDEXED BY ${index}`;
    const sql = `SELECT ${CONTACT_SELECT_C} ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY c.received_at DESC, c.id DESC LIMIT @limit`;
    const count = `SELECT COUNT(*) AS n FROM (SELECT 1 ${from}${lead.length ? ` WHERE ${lead.join(' AND ')}` : ''} LIMIT ${ContactStore.SMALL})`;
    return { shape: 'contacts', statements: [{ sql, params }], counts: [{ sql: count, params }] };
  }

  private clockLed(f: ContactFilter, statuses: string[]): ListPlan {
    const params: Record<string, unknown> = { limit: f.limit, now: f.now };
    const range = rangeTerms(f, params, 'k.received_at', 'k.contact_id');
    const contact: string[] = [];
    if (f.channel !== undefined) {
      contact.push('c.channel = @channel');
      params.channel = f.channel;
    }
    if (f.category !== undefined) {
      contact.push('c.category = @category');
      params.category = f.category;
    }
    if (f.assignee !== undefined) {
      contact.push('c.assignee = @assignee');
      params.assignee = f.assignee;
    }
    if (f.queue !== undefined) {
      // `+`: never a search of contacts_queue_received per clock (ANALYZE picks it for a queue it has
      // no figures for): the contact is found by id, its queue tested on the row.
      contact.push('+c.queue = @queue');
      params.queue = f.queue;
    }
    const join = contact.length > 0 ? ' CROSS JOIN contacts c ON c.id = k.contact_id' : '';
    if (f.standard !== undefined) params.standard = f.standard;
    const statements: ListPlan['statements'] = [];
    const counts: ListPlan['counts'] = [];
    const add = (index: string, lead: string[], filter: string[], distinct: boolean) => {
      const from = `FROM clocks k INDEXED BY ${index}`;
      const where = [...lead, ...range, ...filter, ...contact].join(' AND ');
      statements.push({
        sql: `SELECT ${distinct ? 'DISTINCT ' : ''}k.received_at, k.contact_id AS id ${from}${join} WHERE ${where} ORDER BY k.received_at DESC, k.contact_id DESC LIMIT @limit`,
        params,
      });
      counts.push({ sql: `SELECT COUNT(*) AS n FROM (SELECT 1 ${from} WHERE ${[...lead, ...range].join(' AND ')} LIMIT ${ContactStore.SMALL})`, params });
    };
    if (statuses.length === 0) {
      // A standard alone: one clock per contact and standard, so no DISTINCT.
      add('clocks_standard_received', ['k.standard = @standard'], [], false);
      return { shape: 'clocks', statements, counts };
    }
    const standard = f.standard !== undefined ? ['+k.standard = @standard'] : [];
    // Judged against now from the open clocks: running, at-risk, breached, open.
    const judged = statuses.filter((s) => JUDGED.has(s));
    if (judged.length > 0) {
      const either = judged.includes('open') ? [] : [`(${judged.map((s) => statusTerm(s, statuses.indexOf(s), params, '', false)).join(' OR ')})`];
      add('clocks_open_received', ['k.open = 1'], [...either, ...standard], true);
    }
    // Stored: paused and the final statuses, one statement each (an IN list would lose the order).
    for (const [i, s] of statuses.entries()) {
      if (JUDGED.has(s)) continue;
      params[`status${i}`] = s;
      add('clocks_status_received', [`k.status = @status${i}`], standard, true);
    }
    return { shape: 'clocks', statements, counts };
  }

  /** Contacts by id, in the order given (unknown ids skipped): one statement. */
  byIds(ids: readonly string[]): ContactRow[] {
    if (ids.length === 0) return [];
    const byId = new Map(this.s.byIds.all(JSON.stringify(ids)).map((r) => [r[0], r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r === undefined ? [] : [contactFromRaw(r)];
    });
  }

  /** Events of many contacts (each contact's in seq order), for a page of views: one statement. */
  eventsOf(ids: readonly string[]): Map<string, EventRow[]> {
    const out = new Map<string, EventRow[]>(ids.map((id) => [id, []]));
    if (ids.length > 0) for (const r of this.s.eventsOf.all(JSON.stringify(ids))) out.get(r[1])?.push(eventFromRaw(r));
    return out;
  }

  /** Clocks of many contacts (each contact's in the engine's order), for a page of views: one statement. */
  clocksOf(ids: readonly string[]): Map<string, ClockRow[]> {
    const out = new Map<string, ClockRow[]>(ids.map((id) => [id, []]));
    if (ids.length > 0) for (const r of this.s.clocksOf.all(JSON.stringify(ids))) out.get(r[0])?.push(clockFromRaw(r));
    return out;
  }

  /** One clock by its primary key (the explain route). */
  clock(contactId: string, standard: string): ClockRow | undefined {
    const r = this.s.clock.get(contactId, standard);
    return r === undefined ? undefined : clockFromRaw(r);
  }

  /**
   * A sender's private-message (social) contacts still awaiting a reply (an open `*-reply` clock),
   * received at or before `receivedBy`, newest first: what the page's message to them answers.
   */
  socialMessagesAwaitingReply(senderId: string, receivedBy: number): string[] {
    // The sender's social contacts by the partial expression index (a sender has a few), each tested
    // for an open reply clock on the clocks' primary key. Written as the index is: same expression.
    const rows = this.cached(SOCIAL_AWAITING_REPLY_SQL).all(senderId, receivedBy) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  countRows(): { contacts: number; events: number; clocks: number } {
    const one = (t: string) => (this.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { contacts: one('contacts'), events: one('events'), clocks: one('clocks') };
  }
}
