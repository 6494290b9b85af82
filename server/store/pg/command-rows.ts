// The plain row writes of the commands beyond create (server/store/pg/commands.ts, commands-queue.ts)
// and of PgQueueStore, each on a connection (the caller's transaction, or the pool for one statement):
// the audit entry, a year's reference sequence, a safeguarding alert raised and actioned, a calendar's
// closures, a division's holidays and the calendar's stamp. The same rows as the SQLite stores write
// (server/store/audit.ts, queue.ts, calendars.ts).
import type { Closure } from '../../domain/calendar.js';
import type { BankHoliday, HolidayList } from '../../domain/holidays.js';
import type { Queryable } from './contacts.js';

export async function recordAudit(db: Queryable, at: number, actor: string, action: string, detail: unknown): Promise<void> {
  await db.query('INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)', [at, actor, action, JSON.stringify(detail)]);
}

/**
 * The next number of a per-year sequence, in one statement: the row's lock (taken by the upsert)
 * makes two instances issuing at once wait for each other, so no two get the same number.
 */
export async function nextInSequence(db: Queryable, name: string, year: number): Promise<number> {
  const r = await db.query<{ value: number }>(
    'INSERT INTO sequences (name, year, value) VALUES ($1, $2, 1) ON CONFLICT (name, year) DO UPDATE SET value = sequences.value + 1 RETURNING value',
    [name, year],
  );
  return r.rows[0]!.value;
}

/** Raises a safeguarding alert; returns its id. */
export async function raiseAlert(db: Queryable, a: { contactId: string; kind: string; note: string | null; raisedAt: number; raisedBy: string }): Promise<number> {
  const r = await db.query<{ id: number }>('INSERT INTO alerts (contact_id, kind, note, raised_at, raised_by) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
    a.contactId, a.kind, a.note, a.raisedAt, a.raisedBy,
  ]);
  return r.rows[0]!.id;
}

export async function calendarExists(db: Queryable, calendarId: string): Promise<boolean> {
  return ((await db.query('SELECT 1 FROM calendars WHERE id = $1', [calendarId])).rowCount ?? 0) === 1;
}

/** Adds a closure; returns its id. */
export async function insertClosure(db: Queryable, calendarId: string, c: Closure, now: number): Promise<number> {
  const r = await db.query<{ id: number }>('INSERT INTO closures (calendar_id, "from", "to", reason, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
    calendarId, c.from, c.to, c.reason ?? null, now,
  ]);
  return r.rows[0]!.id;
}

/** Removes a closure; returns where it started, or undefined when the calendar has no such closure. */
export async function deleteClosure(db: Queryable, calendarId: string, id: number): Promise<number | undefined> {
  const r = await db.query<{ from: number }>('DELETE FROM closures WHERE calendar_id = $1 AND id = $2 RETURNING "from"', [calendarId, id]);
  return r.rows[0]?.from;
}

/** The calendar's stamp moves (CALENDAR_STAMP): every writer computing with it sees the edit. */
export async function touchCalendar(db: Queryable, calendarId: string, now: number): Promise<void> {
  await db.query('UPDATE calendars SET updated_at = $1 WHERE id = $2', [now, calendarId]);
}

/** Records the action taken on an open alert; false when it was already actioned (a second instance waits on the row, then finds it actioned). */
export async function actionAlert(db: Queryable, id: number, at: number, by: string, action: string): Promise<boolean> {
  const r = await db.query('UPDATE alerts SET actioned_at = $1, actioned_by = $2, action = $3 WHERE id = $4 AND actioned_at IS NULL', [at, by, action, id]);
  return r.rowCount === 1;
}

/** The calendars' ids and divisions, in id order (as CalendarStore.all lists them). */
export async function calendarDivisions(db: Queryable): Promise<Array<{ id: string; division: string }>> {
  // COLLATE "C": SQLite's order (bytewise), whatever the database's collation.
  return (await db.query<{ id: string; division: string }>('SELECT id, division FROM calendars ORDER BY id COLLATE "C"')).rows;
}

/** A division's stored holidays in date order. */
export async function divisionHolidays(db: Queryable, division: string): Promise<BankHoliday[]> {
  return (await db.query<BankHoliday>('SELECT date, title FROM holidays WHERE division = $1 ORDER BY date COLLATE "C"', [division])).rows;
}

/** Replaces a division's holidays with the list as given (the caller has decided it may). */
export async function replaceHolidays(db: Queryable, list: HolidayList): Promise<void> {
  await db.query('DELETE FROM holidays WHERE division = $1', [list.division]);
  await db.query('INSERT INTO holidays (division, date, title) SELECT $1, * FROM unnest($2::text[], $3::text[])', [
    list.division, list.holidays.map((h) => h.date), list.holidays.map((h) => h.title),
  ]);
}
