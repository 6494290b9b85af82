// ISO weeks in local time (issue 16): Monday 00:00 to the next Monday 00:00 in the centre's zone, so
// the week the clocks go forward is 167 hours long and the week they go back 169.
import { localToUtc } from '../domain/calendar.js';
import { dateOfDayNumber, dayNumberOf, DAY, HOUR, weekdayOfDayNumber, zoneOffset } from '../domain/time.js';
import { ValidationError } from '../errors.js';
import type { IsoWeek, WeekBounds } from './types.js';

export const REPORT_ZONE = 'Europe/London';
const WEEK_RE = /^(\d{4})-W(\d{2})$/;

/** Monday = 0 … Sunday = 6. */
const isoWeekday = (dayNumber: number) => (weekdayOfDayNumber(dayNumber) + 6) % 7;

/** Day number of the Monday of week 1 of an ISO year (the week holding 4 January). */
function firstMonday(year: number): number {
  const jan4 = dayNumberOf(`${String(year).padStart(4, '0')}-01-04`);
  return jan4 - isoWeekday(jan4);
}

/** 52 or 53. */
export function weeksInIsoYear(year: number): number {
  return (firstMonday(year + 1) - firstMonday(year)) / 7;
}

/** The local day number (days since 1970-01-01 of the local date) of an instant. */
export function localDayNumber(instant: number, zone = REPORT_ZONE): number {
  return Math.floor((instant + zoneOffset(zone, instant)) / DAY);
}

/** The UTC instant of local midnight starting a local day. */
export function startOfLocalDay(dayNumber: number, zone = REPORT_ZONE): number {
  return localToUtc(zone, dayNumber * DAY);
}

/** Parses `2026-W10`; a bad string is a ValidationError naming `field`. */
export function parseIsoWeek(week: unknown, field = 'week'): { year: number; week: number; monday: number } {
  const m = typeof week === 'string' ? WEEK_RE.exec(week) : null;
  if (m === null) throw new ValidationError(field, 'an ISO week written YYYY-Www, e.g. 2026-W10');
  const year = Number(m[1]);
  const n = Number(m[2]);
  if (year < 2000 || year > 2199) throw new ValidationError(field, 'a year from 2000 to 2199');
  const max = weeksInIsoYear(year);
  if (n < 1 || n > max) throw new ValidationError(field, `week ${n} does not exist in ${year} (weeks 01–${max})`);
  return { year, week: n, monday: firstMonday(year) + 7 * (n - 1) };
}

const format = (year: number, week: number): IsoWeek => `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;

/** The ISO week holding a local day. */
export function isoWeekOfDay(dayNumber: number): IsoWeek {
  const thursday = dayNumber - isoWeekday(dayNumber) + 3;
  const year = Number(dateOfDayNumber(thursday).slice(0, 4));
  return format(year, Math.floor((thursday - firstMonday(year)) / 7) + 1);
}

/** The ISO week an instant falls in, in local time. */
export function isoWeekOf(instant: number, zone = REPORT_ZONE): IsoWeek {
  return isoWeekOfDay(localDayNumber(instant, zone));
}

/** The week `n` weeks after (negative: before). */
export function shiftIsoWeek(week: IsoWeek, n: number): IsoWeek {
  return isoWeekOfDay(parseIsoWeek(week).monday + 7 * n);
}

export function previousIsoWeek(week: IsoWeek): IsoWeek {
  return shiftIsoWeek(week, -1);
}

/** The week's bounds: [Monday 00:00 local, next Monday 00:00 local). */
export function isoWeekBounds(week: IsoWeek, zone = REPORT_ZONE, field = 'week'): WeekBounds {
  const { monday } = parseIsoWeek(week, field);
  const from = startOfLocalDay(monday, zone);
  const to = startOfLocalDay(monday + 7, zone);
  return { week, from, to, hours: (to - from) / HOUR, zone };
}

/** The local date range [from, to] (YYYY-MM-DD, both inclusive) as instants [start of from, start of the day after to). */
export function localDateRange(from: unknown, to: unknown, zone = REPORT_ZONE): { from: number; to: number; fromDate: string; toDate: string } {
  const day = (v: unknown, field: string): number => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new ValidationError(field, 'a date written YYYY-MM-DD');
    const n = dayNumberOf(v);
    if (dateOfDayNumber(n) !== v) throw new ValidationError(field, `no such date: ${v}`);
    if (v < '2000-01-01' || v > '2199-12-31') throw new ValidationError(field, 'a date from 2000 to 2199');
    return n;
  };
  const a = day(from, 'from');
  const b = day(to, 'to');
  if (b < a) throw new ValidationError('to', 'must be on or after from');
  if (b - a > 5 * 366) throw new ValidationError('to', 'a period of at most five years');
  return { from: startOfLocalDay(a, zone), to: startOfLocalDay(b + 1, zone), fromDate: from as string, toDate: to as string };
}
