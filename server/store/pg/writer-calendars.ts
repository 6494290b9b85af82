// The calendars the PostgreSQL writer evaluates clocks with: the stored calendars, holidays and
// closures compiled as on SQLite (server/commands/context.ts `loadCalendars`), plus `always` and
// Awaab's Law's statutory calendar; and the first start's seed, safe when several instances start at once.
import type pg from 'pg';
import { ALWAYS, CompiledCalendar, STANDARD_WEEKLY_HOURS, type WeeklyHours } from '../../domain/calendar.js';
import type { CalendarSet } from '../../domain/clocks.js';
import { BUNDLED_BANK_HOLIDAYS } from '../../domain/defaults.js';
import { DIVISIONS, holidaysFromGovUk, type HolidayList } from '../../domain/holidays.js';
import { AWAAB_CALENDAR_ID, AWAAB_DIVISION, awaabCalendar } from '../../domain/packs/awaab.js';
import { HOUR } from '../../domain/time.js';
import { holidayListOf } from '../calendars.js';
import { inTransaction } from './transaction.js';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/**
 * Calendar edits take this advisory lock exclusively (`pg_advisory_xact_lock`); every writer flush
 * takes it shared, so an edit waits for the flushes in flight and no flush evaluates clocks while an
 * edit commits. In memory only: no row is written for it.
 */
export const CALENDAR_EDIT_LOCK = 0x4b_45_50_54_0c; // "KEPT" + 12

/**
 * What changes when a calendar, a closure or a division's holidays change (every edit touches the
 * calendars it changed: server/commands/calendar-edit.ts), as one text value: the writer's flush
 * compares it with the one its clocks were computed with. A few small tables. The holidays count by
 * their dates, not only their number: a division no stored calendar uses (England's, for Awaab's
 * Law) touches no calendar row, and an import that swaps one date for another keeps the count.
 */
export const CALENDAR_STAMP = `concat_ws('/', (SELECT COALESCE(string_agg(id || ':' || updated_at, ',' ORDER BY id), '') FROM calendars),
  (SELECT COUNT(*) FROM closures), (SELECT COALESCE(MAX(id), 0) FROM closures),
  (SELECT COUNT(*) || ':' || COALESCE(SUM(hashtext(division || ':' || date)), 0) FROM holidays))`;

export type CalendarStamp = string;

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** Every stored calendar compiled, plus `always` and Awaab's calendar; with the stamp read in the same snapshot. */
export async function loadPgCalendars(db: Queryable): Promise<{ calendars: CalendarSet; stamp: CalendarStamp }> {
  // One statement, one snapshot: the stamp describes exactly the rows compiled.
  const r = await db.query(`SELECT
      (SELECT COALESCE(json_agg(c ORDER BY c.id), '[]') FROM calendars c) AS calendar_rows,
      (SELECT COALESCE(json_agg(h ORDER BY h.division, h.date), '[]') FROM holidays h) AS holiday_rows,
      (SELECT COALESCE(json_agg(x ORDER BY x.calendar_id, x."from"), '[]') FROM closures x) AS closure_rows,
      ${CALENDAR_STAMP} AS stamp`);
  const row = r.rows[0] as Record<string, unknown>;
  const calendars = json<Array<{ id: string; time_zone: string; weekly_hours: unknown; division: string; working_day_ms: number }>>(row.calendar_rows);
  const holidays = json<Array<{ division: string; date: string; title: string }>>(row.holiday_rows);
  const closures = json<Array<{ calendar_id: string; from: number; to: number; reason: string | null }>>(row.closure_rows);
  const byDivision = new Map<string, Array<{ date: string; title: string }>>();
  for (const h of holidays) {
    let list = byDivision.get(h.division);
    if (list === undefined) byDivision.set(h.division, (list = []));
    list.push({ date: h.date, title: h.title });
  }
  // As CalendarStore.holidays.
  const holidayList = (division: string): HolidayList | null => holidayListOf(division, byDivision.get(division) ?? []);
  const set: Record<string, CalendarSet[string]> = { always: ALWAYS };
  for (const c of calendars) {
    set[c.id] = new CompiledCalendar({
      id: c.id,
      timeZone: c.time_zone,
      weeklyHours: json<WeeklyHours>(c.weekly_hours),
      holidays: holidayList(c.division),
      closures: closures
        .filter((x) => x.calendar_id === c.id)
        .map((x) => ({ from: Number(x.from), to: Number(x.to), ...(x.reason ? { reason: x.reason } : {}) })),
      workingDayMs: Number(c.working_day_ms),
    });
  }
  set[AWAAB_CALENDAR_ID] = awaabCalendar(holidayList(AWAAB_DIVISION));
  return { calendars: set, stamp: row.stamp as string };
}

/**
 * First start: the customer-services calendar and the bundled GOV.UK holidays, as SQLite's
 * CalendarStore.seed. Every row goes in with ON CONFLICT DO NOTHING in one transaction, so two
 * instances starting together seed once and neither fails.
 */
export async function seedPgCalendars(pool: pg.Pool, now: number): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO calendars (id, name, time_zone, weekly_hours, division, working_day_ms, updated_at)
       SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM calendars) ON CONFLICT DO NOTHING`,
      ['customer-services', 'Customer services', 'Europe/London', JSON.stringify(STANDARD_WEEKLY_HOURS), 'england-and-wales', 9 * HOUR, now],
    );
    const has = await client.query('SELECT 1 FROM holidays LIMIT 1');
    if (has.rowCount === 0) {
      const divisions: string[] = [];
      const dates: string[] = [];
      const titles: string[] = [];
      for (const division of DIVISIONS) {
        for (const h of holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, division).holidays) {
          divisions.push(division);
          dates.push(h.date);
          titles.push(h.title);
        }
      }
      await client.query('INSERT INTO holidays (division, date, title) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING', [divisions, dates, titles]);
    }
  });
}
