// Calendars, bank holidays and closures as stored, on PostgreSQL (issue 14): the CalendarReads of
// ../ports.ts giving the SQLite CalendarStore's answers through its own row readings, and the whole
// set compiled for the engine by the writer's loadPgCalendars (one snapshot), never a second compiler.
import type { CalendarSet } from '../../domain/clocks.js';
import type { HolidayList } from '../../domain/holidays.js';
import { calendarFromRow, closureFromRow, holidayListOf, type CalendarRow, type ClosureRow, type RawCalendar, type RawClosure } from '../calendars.js';
import type { CalendarReads } from '../ports.js';
import type { Queryable } from './contacts.js';
import { loadPgCalendars } from './writer-calendars.js';

// Text keys ordered bytewise (`COLLATE "C"`), as SQLite's BINARY, whatever the database's locale.
export class PgCalendarStore implements CalendarReads {
  constructor(private readonly db: Queryable) {}

  async all(): Promise<CalendarRow[]> {
    return (await this.db.query<RawCalendar>('SELECT * FROM calendars ORDER BY id COLLATE "C"')).rows.map(calendarFromRow);
  }

  async byId(id: string): Promise<CalendarRow | undefined> {
    const r = (await this.db.query<RawCalendar>('SELECT * FROM calendars WHERE id = $1', [id])).rows[0];
    return r === undefined ? undefined : calendarFromRow(r);
  }

  async holidays(division: string): Promise<HolidayList | null> {
    return holidayListOf(division, (await this.db.query<{ date: string; title: string }>('SELECT date, title FROM holidays WHERE division = $1 ORDER BY date COLLATE "C"', [division])).rows);
  }

  /** A calendar's closures by start (two from the same instant in the order they were added, as SQLite's index gives them). */
  async closures(calendarId: string): Promise<ClosureRow[]> {
    return (await this.db.query<RawClosure>('SELECT * FROM closures WHERE calendar_id = $1 ORDER BY "from", id', [calendarId])).rows.map(closureFromRow);
  }

  /** Every stored calendar compiled (with `always` and Awaab's), as the writer loads them. */
  async compiled(): Promise<CalendarSet> {
    return (await loadPgCalendars(this.db)).calendars;
  }
}
