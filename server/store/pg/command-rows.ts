// The plain row writes of the commands beyond create (server/store/pg/commands.ts), each on a
// connection the caller holds in a transaction: the audit entry, a year's reference sequence, a
// safeguarding alert, a calendar's closures and its stamp. The same rows as the SQLite stores write
// (server/store/audit.ts, queue.ts, calendars.ts).
import type { Closure } from '../../domain/calendar.js';
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
