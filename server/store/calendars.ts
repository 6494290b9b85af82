// Calendars, bank holidays and closures as stored; compiled into engine calendars on load.
import type { Sqlite } from '../../db/connection.js';
import { CompiledCalendar, STANDARD_WEEKLY_HOURS, type Closure, type WeeklyHours } from '../domain/calendar.js';
import { BUNDLED_BANK_HOLIDAYS } from '../domain/defaults.js';
import { compareHolidays, DIVISIONS, holidaysFromGovUk, type HolidayChanges, type HolidayList } from '../domain/holidays.js';
import { HOUR } from '../domain/time.js';

export interface CalendarRow {
  id: string;
  name: string;
  timeZone: string;
  weeklyHours: WeeklyHours;
  division: string;
  workingDayMs: number;
  updatedAt: number;
}

export interface ClosureRow {
  id: number;
  calendarId: string;
  from: number;
  to: number;
  reason: string | null;
  createdAt: number;
}

/** The rows as both databases give them (weekly hours as JSON text). */
export type RawCalendar = { id: string; name: string; time_zone: string; weekly_hours: string; division: string; working_day_ms: number; updated_at: number };
export type RawClosure = { id: number; calendar_id: string; from: number; to: number; reason: string | null; created_at: number };

export const calendarFromRow = (r: RawCalendar): CalendarRow => ({
  id: r.id,
  name: r.name,
  timeZone: r.time_zone,
  weeklyHours: JSON.parse(r.weekly_hours) as WeeklyHours,
  division: r.division,
  workingDayMs: r.working_day_ms,
  updatedAt: r.updated_at,
});

export const closureFromRow = (r: RawClosure): ClosureRow => ({ id: r.id, calendarId: r.calendar_id, from: r.from, to: r.to, reason: r.reason, createdAt: r.created_at });

/** A division's holidays as held, in date order (null when none): the years covered are those of the first and last held. */
export function holidayListOf(division: string, rows: Array<{ date: string; title: string }>): HolidayList | null {
  if (rows.length === 0) return null;
  return { division, holidays: rows, coveredFrom: `${rows[0]!.date.slice(0, 4)}-01-01`, coveredTo: `${rows[rows.length - 1]!.date.slice(0, 4)}-12-31` };
}

export class CalendarStore {
  constructor(private readonly sqlite: Sqlite) {}

  /** First start: the customer-services calendar and the bundled GOV.UK holidays. */
  seed(now: number): void {
    // One transaction: a first start either seeds everything or nothing (a crash half-way would
    // otherwise leave a division's holidays missing for good), with one fsync instead of hundreds.
    this.sqlite.transaction(() => this.seedRows(now)).immediate();
  }

  private seedRows(now: number): void {
    const has = this.sqlite.prepare('SELECT COUNT(*) AS n FROM calendars').get() as { n: number };
    if (has.n === 0) {
      this.sqlite
        .prepare('INSERT INTO calendars (id, name, time_zone, weekly_hours, division, working_day_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('customer-services', 'Customer services', 'Europe/London', JSON.stringify(STANDARD_WEEKLY_HOURS), 'england-and-wales', 9 * HOUR, now);
    }
    const holidays = this.sqlite.prepare('SELECT COUNT(*) AS n FROM holidays').get() as { n: number };
    if (holidays.n === 0) {
      for (const division of DIVISIONS) this.replaceHolidays(holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, division));
    }
  }

  all(): CalendarRow[] {
    return (this.sqlite.prepare('SELECT * FROM calendars ORDER BY id').all() as RawCalendar[]).map(calendarFromRow);
  }

  byId(id: string): CalendarRow | undefined {
    return this.all().find((c) => c.id === id);
  }

  holidays(division: string): HolidayList | null {
    return holidayListOf(division, this.sqlite.prepare('SELECT date, title FROM holidays WHERE division = ? ORDER BY date').all(division) as Array<{ date: string; title: string }>);
  }

  /**
   * Replaces a division's holidays with the list as given; returns what changed. Callers decide
   * first whether the change is allowed (IngestService.importHolidays guards removals).
   */
  replaceHolidays(list: HolidayList): HolidayChanges {
    const changes = compareHolidays(this.holidays(list.division)?.holidays ?? [], list.holidays);
    this.sqlite.prepare('DELETE FROM holidays WHERE division = ?').run(list.division);
    const insert = this.sqlite.prepare('INSERT INTO holidays (division, date, title) VALUES (?, ?, ?)');
    for (const h of list.holidays) insert.run(list.division, h.date, h.title);
    return changes;
  }

  closures(calendarId: string): ClosureRow[] {
    return (this.sqlite.prepare('SELECT * FROM closures WHERE calendar_id = ? ORDER BY "from"').all(calendarId) as RawClosure[]).map(closureFromRow);
  }

  addClosure(calendarId: string, c: Closure, now: number): number {
    const r = this.sqlite.prepare('INSERT INTO closures (calendar_id, "from", "to", reason, created_at) VALUES (?, ?, ?, ?, ?)').run(calendarId, c.from, c.to, c.reason ?? null, now);
    return Number(r.lastInsertRowid);
  }

  removeClosure(calendarId: string, id: number): boolean {
    return this.sqlite.prepare('DELETE FROM closures WHERE calendar_id = ? AND id = ?').run(calendarId, id).changes > 0;
  }

  touch(calendarId: string, now: number): void {
    this.sqlite.prepare('UPDATE calendars SET updated_at = ? WHERE id = ?').run(now, calendarId);
  }

  /** The engine calendar for a stored calendar. */
  compile(row: CalendarRow): CompiledCalendar {
    return new CompiledCalendar({
      id: row.id,
      timeZone: row.timeZone,
      weeklyHours: row.weeklyHours,
      holidays: this.holidays(row.division),
      closures: this.closures(row.id).map((c) => ({ from: c.from, to: c.to, ...(c.reason ? { reason: c.reason } : {}) })),
      workingDayMs: row.workingDayMs,
    });
  }
}
