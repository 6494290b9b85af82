// Clocks recomputed on PostgreSQL, by the same engine and rules as SQLite's
// (server/commands/recompute.ts: evaluateStored, derivedChanged, clocksMoved), on a connection the
// caller holds in a transaction with the contacts' rows locked.
import type { CalendarChangeResult, ContactChange } from '../../commands/context.js';
import { clocksMoved, derivedChanged, evaluateStored } from '../../commands/recompute.js';
import type { CalendarSet } from '../../domain/clocks.js';
import type { Clock } from '../../domain/model.js';
import type { ContactRow, EventRow } from '../contacts.js';
import { PgContactReads, replaceClocks, updateDerived, type Queryable } from './contacts.js';
import { contactFromPg, type PgRawContact } from './rows.js';

/** Evaluates the contact from its stored events and stores its clocks and derived fields. */
export async function recomputeContact(db: Queryable, calendars: CalendarSet, row: ContactRow, events: EventRow[], now: number): Promise<{ clocks: Clock[]; row: ContactRow }> {
  const { clocks, row: updated } = evaluateStored({ calendars }, row, events, now);
  await replaceClocks(db, row.id, clocks, now);
  if (derivedChanged(row, updated, events)) await updateDerived(db, row.id, updated);
  return { clocks, row: updated };
}

/**
 * Recomputes every contact with a running clock on the calendar (less those due at or before
 * `changedFrom`: as SQLite's recomputeRunning, which says why they cannot move), in the order SQLite
 * walks them; the changes are those whose due instants moved. The contacts' rows are locked first,
 * in id order.
 */
export async function recomputeRunning(db: Queryable, calendars: CalendarSet, calendarId: string, now: number, changedFrom?: number): Promise<CalendarChangeResult & { changes: ContactChange[] }> {
  const found = await db.query<{ contact_id: string }>(
    `SELECT contact_id FROM clocks WHERE open AND calendar = $1 AND ($2::bigint IS NULL OR due_at IS NULL OR due_at > $2::bigint)
     GROUP BY received_at, contact_id ORDER BY received_at, contact_id`,
    [calendarId, changedFrom ?? null],
  );
  const ids = found.rows.map((r) => r.contact_id);
  if (ids.length === 0) return { recomputedContacts: 0, movedClocks: 0, changes: [] };
  const locked = await db.query<PgRawContact>('SELECT * FROM contacts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
  const rows = new Map(locked.rows.map((r) => [r.id, contactFromPg(r)]));
  const reads = new PgContactReads(db);
  const events = await reads.eventsOf(ids);
  const stored = await reads.clocksOf(ids);
  let moved = 0;
  const changes: ContactChange[] = [];
  for (const id of ids) {
    const before = new Map(stored.get(id)!.map((c) => [c.standard, c.dueAt]));
    const { clocks, row } = await recomputeContact(db, calendars, rows.get(id)!, events.get(id)!, now);
    const n = clocksMoved(before, clocks);
    moved += n;
    if (n > 0) changes.push({ contactId: id, contact: row, clocks, at: now });
  }
  return { recomputedContacts: ids.length, movedClocks: moved, changes };
}
