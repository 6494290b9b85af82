import { KeptError } from '../errors.js';
import type { HolidayList } from './holidays.js';
import {
  DAY,
  EARLIEST_INSTANT,
  LATEST_INSTANT,
  MINUTE,
  assertTimeZone,
  dateOfDayNumber,
  dayNumberOf,
  offsetSpans,
  weekdayOfDayNumber,
  zoneOffset,
} from './time.js';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local working intervals per weekday, "HH:MM" to "HH:MM" ("24:00" allowed as an end). */
export type WeeklyHours = Partial<Record<Weekday, Array<[string, string]>>>;

export interface Closure {
  from: number;
  to: number;
  reason?: string;
}

/** A calendar is data: when time counts. */
export interface CalendarSpec {
  id: string;
  timeZone: string;
  weeklyHours: WeeklyHours;
  holidays: HolidayList | null;
  closures: Closure[];
  workingDayMs: number;
}

/** Working-time arithmetic over one calendar. Instants are epoch ms, durations ms. */
export interface WorkingCalendar {
  readonly id: string;
  readonly timeZone: string;
  readonly workingDayMs: number;
  /** Working time counted from the calendar's origin to t: a monotone position. */
  position(t: number): number;
  /** The earliest instant whose position reaches p. */
  instantAt(p: number): number;
  /** Working time counted in [from, to). */
  countedBetween(from: number, to: number): number;
  /** The earliest instant at which `duration` of working time has counted from `start`. */
  addWorking(start: number, duration: number): number;
  isOpen(t: number): boolean;
  /** t itself when open, else the start of the next working interval. */
  nextOpening(t: number): number;
  /** False when t's local date lies outside the bank-holiday data (weekly hours only). */
  holidaysKnownAt(t: number): boolean;
  /** Working intervals overlapping [from, to), clipped, with their local date. */
  workingIntervals(from: number, to: number): WorkingInterval[];
  /** Local day number (days since 1970-01-01 of the local date) at t. */
  localDayNumber(t: number): number;
  /** Close of the nth working day after the local date of t (day 1 = first working day after it). */
  closeOfNthWorkingDayAfter(t: number, n: number): number;
  /** What a local date holds, for explanations. */
  dayInfo(dayNumber: number): DayInfo;
}

export interface WorkingInterval {
  from: number;
  to: number;
  dayNumber: number;
}

export interface DayInfo {
  date: string;
  weekday: Weekday;
  holiday: string | null;
  holidaysKnown: boolean;
  /** Weekly hours of the date in UTC, before holidays and closures. */
  weeklyIntervals: Array<{ from: number; to: number }>;
  closures: Closure[];
}

/** A calendar that cannot be built or cannot answer (bad hours, unknown zone, beyond 2199). */
export class CalendarError extends KeptError {
  constructor(message: string) {
    super(400, 'invalid-calendar', message);
  }
}

function parseClock(text: string, field: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (m === null) throw new CalendarError(`${field}: expected HH:MM, got "${text}"`);
  const minutes = +m[1]! * 60 + +m[2]!;
  if (+m[2]! > 59 || minutes > 24 * 60) throw new CalendarError(`${field}: time of day out of range: "${text}"`);
  return minutes * MINUTE;
}

/** Weekly hours as sorted, merged [from, to) offsets in ms from local midnight, per weekday. */
function compileWeekly(weeklyHours: WeeklyHours): number[][][] {
  const perDay: number[][][] = [];
  let total = 0;
  for (let d = 0; d < 7; d++) {
    const name = WEEKDAYS[d]!;
    const raw = weeklyHours[name] ?? [];
    const intervals = raw
      .map(([from, to], i) => {
        const a = parseClock(from, `weeklyHours.${name}[${i}][0]`);
        const b = parseClock(to, `weeklyHours.${name}[${i}][1]`);
        if (b <= a) throw new CalendarError(`weeklyHours.${name}[${i}]: end ${to} must be after start ${from}`);
        return [a, b];
      })
      .sort((x, y) => x[0]! - y[0]!);
    const merged: number[][] = [];
    for (const iv of intervals) {
      const last = merged[merged.length - 1];
      if (last !== undefined && iv[0]! <= last[1]!) last[1] = Math.max(last[1]!, iv[1]!);
      else merged.push([iv[0]!, iv[1]!]);
      total += iv[1]! - iv[0]!;
    }
    perDay.push(merged);
  }
  if (total === 0) throw new CalendarError('weeklyHours: at least one working interval is required');
  return perDay;
}

/** Growable parallel arrays of working intervals in UTC with running totals. */
class IntervalTable {
  starts = new Float64Array(1024);
  ends = new Float64Array(1024);
  cumBefore = new Float64Array(1024);
  cumAfter = new Float64Array(1024);
  days = new Int32Array(1024);
  length = 0;

  push(from: number, to: number, day: number): void {
    if (to <= from) return;
    const n = this.length;
    if (n > 0 && this.ends[n - 1] === from && this.days[n - 1] === day) {
      // Adjacent pieces of one day (split at a compile boundary) join into one interval.
      this.ends[n - 1] = to;
      this.cumAfter[n - 1] = this.cumAfter[n - 1]! + (to - from);
      return;
    }
    if (n === this.starts.length) this.grow();
    const before = n === 0 ? 0 : this.cumAfter[n - 1]!;
    this.starts[n] = from;
    this.ends[n] = to;
    this.cumBefore[n] = before;
    this.cumAfter[n] = before + (to - from);
    this.days[n] = day;
    this.length = n + 1;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const extend = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.starts = extend(this.starts, (n) => new Float64Array(n));
    this.ends = extend(this.ends, (n) => new Float64Array(n));
    this.cumBefore = extend(this.cumBefore, (n) => new Float64Array(n));
    this.cumAfter = extend(this.cumAfter, (n) => new Float64Array(n));
    this.days = extend(this.days, (n) => new Int32Array(n));
  }
}

const COMPILE_CHUNK_YEARS = 10;
const FIRST_COMPILE_END = Date.UTC(2031, 0, 1);

function normaliseClosures(closures: Closure[]): Closure[] {
  const sorted = closures.filter((c) => c.to > c.from).sort((a, b) => a.from - b.from);
  const merged: Closure[] = [];
  for (const c of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && c.from <= last.to) last.to = Math.max(last.to, c.to);
    else merged.push({ ...c });
  }
  return merged;
}

/**
 * A calendar compiled to working intervals in UTC with prefix sums: positions and instants
 * are a binary search away. Compiled from 2000 onwards in ten-year chunks as queries reach them.
 */
export class CompiledCalendar implements WorkingCalendar {
  readonly id: string;
  readonly timeZone: string;
  readonly workingDayMs: number;
  readonly spec: CalendarSpec;
  private readonly weekly: number[][][];
  private readonly holidayDays: Map<number, string>;
  private readonly holidaysFrom: number;
  private readonly holidaysTo: number;
  /** The holiday data's coverage as UTC instants [from, to), so the check needs no zone lookup. */
  private readonly holidaysFromInstant: number;
  private readonly holidaysToInstant: number;
  private readonly closures: Closure[];
  private readonly table = new IntervalTable();
  private compiledTo = EARLIEST_INSTANT;

  constructor(spec: CalendarSpec) {
    try {
      assertTimeZone(spec.timeZone);
    } catch {
      throw new CalendarError(`timeZone: unknown time zone "${spec.timeZone}"`);
    }
    if (!(spec.workingDayMs > 0)) throw new CalendarError('workingDayMs: must be a positive number of ms');
    this.spec = spec;
    this.id = spec.id;
    this.timeZone = spec.timeZone;
    this.workingDayMs = spec.workingDayMs;
    this.weekly = compileWeekly(spec.weeklyHours);
    this.holidayDays = new Map();
    for (const h of spec.holidays?.holidays ?? []) this.holidayDays.set(dayNumberOf(h.date), h.title);
    this.holidaysFrom = spec.holidays ? dayNumberOf(spec.holidays.coveredFrom) : 1;
    this.holidaysTo = spec.holidays ? dayNumberOf(spec.holidays.coveredTo) : 0;
    this.holidaysFromInstant = spec.holidays ? localToUtc(this.timeZone, this.holidaysFrom * DAY) : 0;
    this.holidaysToInstant = spec.holidays ? localToUtc(this.timeZone, (this.holidaysTo + 1) * DAY) : 0;
    this.closures = normaliseClosures(spec.closures);
    this.compileUntil(FIRST_COMPILE_END);
  }

  /** The same calendar with other closures (a new immutable value). */
  withClosures(closures: Closure[]): CompiledCalendar {
    return new CompiledCalendar({ ...this.spec, closures });
  }

  private compileUntil(until: number): void {
    while (this.compiledTo < until) {
      const from = this.compiledTo;
      const to = Math.min(LATEST_INSTANT + 30 * DAY, Date.UTC(new Date(from).getUTCFullYear() + COMPILE_CHUNK_YEARS, 0, 1));
      this.compileChunk(from, to);
      this.compiledTo = to;
      if (to >= LATEST_INSTANT + 30 * DAY) break;
    }
  }

  private compileChunk(from: number, to: number): void {
    const closures = this.closures;
    let c = 0;
    while (c < closures.length && closures[c]!.to <= from) c++;
    for (const span of offsetSpans(this.timeZone, from, to)) {
      const off = span.offset;
      const firstDay = Math.floor((span.from + off) / DAY);
      const lastDay = Math.floor((span.to - 1 + off) / DAY);
      for (let day = firstDay; day <= lastDay; day++) {
        if (this.holidayDays.has(day)) continue;
        const local0 = day * DAY;
        for (const [a, b] of this.weekly[weekdayOfDayNumber(day)]!) {
          let ivFrom = Math.max(local0 + a! - off, span.from);
          const ivTo = Math.min(local0 + b! - off, span.to);
          if (ivTo <= ivFrom) continue;
          // Cut closures out of [ivFrom, ivTo).
          while (c < closures.length && closures[c]!.to <= ivFrom) c++;
          let k = c;
          while (k < closures.length && closures[k]!.from < ivTo) {
            const cl = closures[k]!;
            if (cl.from > ivFrom) this.table.push(ivFrom, cl.from, day);
            ivFrom = Math.max(ivFrom, cl.to);
            if (cl.to > ivTo) break;
            k++;
          }
          if (ivFrom < ivTo) this.table.push(ivFrom, ivTo, day);
        }
      }
    }
  }

  private ensureInstant(t: number): void {
    if (t >= this.compiledTo) {
      if (t >= LATEST_INSTANT + 30 * DAY) throw new CalendarError('instant beyond the supported years (2000–2199)');
      this.compileUntil(t + DAY);
    }
  }

  /** Index of the last interval starting at or before t, or -1. */
  private indexAtOrBefore(t: number): number {
    const starts = this.table.starts;
    let lo = 0;
    let hi = this.table.length - 1;
    if (hi < 0 || starts[0]! > t) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(t: number): number {
    this.ensureInstant(t);
    const i = this.indexAtOrBefore(t);
    if (i < 0) return 0;
    const end = this.table.ends[i]!;
    return this.table.cumBefore[i]! + (t < end ? t : end) - this.table.starts[i]!;
  }

  instantAt(p: number): number {
    if (p <= 0) return this.table.length > 0 ? Math.min(EARLIEST_INSTANT, this.table.starts[0]!) : EARLIEST_INSTANT;
    while (this.table.length === 0 || this.table.cumAfter[this.table.length - 1]! < p) {
      if (this.compiledTo >= LATEST_INSTANT) throw new CalendarError('target cannot be reached before 2200');
      this.compileUntil(Date.UTC(new Date(this.compiledTo).getUTCFullYear() + COMPILE_CHUNK_YEARS, 0, 1));
    }
    const cumAfter = this.table.cumAfter;
    let lo = 0;
    let hi = this.table.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumAfter[mid]! >= p) hi = mid;
      else lo = mid + 1;
    }
    return this.table.starts[lo]! + (p - this.table.cumBefore[lo]!);
  }

  countedBetween(from: number, to: number): number {
    if (to <= from) return 0;
    return this.position(to) - this.position(from);
  }

  addWorking(start: number, duration: number): number {
    if (duration <= 0) return start;
    return this.instantAt(this.position(start) + duration);
  }

  isOpen(t: number): boolean {
    this.ensureInstant(t);
    const i = this.indexAtOrBefore(t);
    return i >= 0 && t < this.table.ends[i]!;
  }

  nextOpening(t: number): number {
    if (this.isOpen(t)) return t;
    return this.instantAt(this.position(t) + 1) - 1;
  }

  localDayNumber(t: number): number {
    return Math.floor((t + zoneOffset(this.timeZone, t)) / DAY);
  }

  holidaysKnownAt(t: number): boolean {
    return t >= this.holidaysFromInstant && t < this.holidaysToInstant;
  }

  workingIntervals(from: number, to: number): WorkingInterval[] {
    this.ensureInstant(to);
    const out: WorkingInterval[] = [];
    let i = Math.max(0, this.indexAtOrBefore(from));
    const { starts, ends, days } = this.table;
    for (; i < this.table.length && starts[i]! < to; i++) {
      const a = Math.max(from, starts[i]!);
      const b = Math.min(to, ends[i]!);
      if (b > a) out.push({ from: a, to: b, dayNumber: days[i]! });
    }
    return out;
  }

  closeOfNthWorkingDayAfter(t: number, n: number): number {
    let day = this.localDayNumber(t);
    let close = t;
    for (let k = 0; k < n; k++) {
      let i = this.firstIndexAfterDay(day);
      while (i >= this.table.length) {
        if (this.compiledTo >= LATEST_INSTANT) throw new CalendarError('no working day before 2200');
        this.compileUntil(Date.UTC(new Date(this.compiledTo).getUTCFullYear() + COMPILE_CHUNK_YEARS, 0, 1));
        i = this.firstIndexAfterDay(day);
      }
      day = this.table.days[i]!;
      this.ensureInstant(this.table.starts[i]! + 2 * DAY); // the whole of that local day compiled
      let j = i;
      while (j + 1 < this.table.length && this.table.days[j + 1] === day) j++;
      close = this.table.ends[j]!;
    }
    return close;
  }

  /** First interval whose local date is after `day` (the table length when none is compiled yet). */
  private firstIndexAfterDay(day: number): number {
    const days = this.table.days;
    let lo = 0;
    let hi = this.table.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (days[mid]! > day) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  dayInfo(dayNumber: number): DayInfo {
    const local0 = dayNumber * DAY;
    const weekday = WEEKDAYS[weekdayOfDayNumber(dayNumber)]!;
    const weeklyIntervals: Array<{ from: number; to: number }> = [];
    for (const [a, b] of this.weekly[weekdayOfDayNumber(dayNumber)]!) {
      weeklyIntervals.push({ from: localToUtc(this.timeZone, local0 + a!), to: localToUtc(this.timeZone, local0 + b!) });
    }
    const dayFrom = localToUtc(this.timeZone, local0);
    const dayTo = localToUtc(this.timeZone, local0 + DAY);
    return {
      date: dateOfDayNumber(dayNumber),
      weekday,
      holiday: this.holidayDays.get(dayNumber) ?? null,
      holidaysKnown: dayNumber >= this.holidaysFrom && dayNumber <= this.holidaysTo,
      weeklyIntervals,
      closures: this.closures.filter((c) => c.from < dayTo && c.to > dayFrom),
    };
  }
}

/** The UTC instant of a local wall time (ms since local 1970 epoch); a skipped time maps past the gap. */
export function localToUtc(timeZone: string, localMs: number): number {
  let guess = localMs - zoneOffset(timeZone, localMs);
  const second = localMs - zoneOffset(timeZone, guess);
  if (second !== guess) guess = Math.max(guess, second);
  return guess;
}

/** The built-in `always` calendar: every instant counts (24/7/365). */
export class AlwaysCalendar implements WorkingCalendar {
  readonly id = 'always';
  readonly timeZone = 'UTC';
  readonly workingDayMs = DAY;
  position(t: number): number {
    return t;
  }
  instantAt(p: number): number {
    return p;
  }
  countedBetween(from: number, to: number): number {
    return to > from ? to - from : 0;
  }
  addWorking(start: number, duration: number): number {
    return duration > 0 ? start + duration : start;
  }
  isOpen(): boolean {
    return true;
  }
  nextOpening(t: number): number {
    return t;
  }
  holidaysKnownAt(): boolean {
    return true;
  }
  workingIntervals(from: number, to: number): WorkingInterval[] {
    return to > from ? [{ from, to, dayNumber: Math.floor(from / DAY) }] : [];
  }
  localDayNumber(t: number): number {
    return Math.floor(t / DAY);
  }
  closeOfNthWorkingDayAfter(t: number, n: number): number {
    return (Math.floor(t / DAY) + n + 1) * DAY;
  }
  dayInfo(dayNumber: number): DayInfo {
    return {
      date: dateOfDayNumber(dayNumber),
      weekday: WEEKDAYS[weekdayOfDayNumber(dayNumber)]!,
      holiday: null,
      holidaysKnown: true,
      weeklyIntervals: [{ from: dayNumber * DAY, to: (dayNumber + 1) * DAY }],
      closures: [],
    };
  }
}

export const ALWAYS = new AlwaysCalendar();

/** Monday–Friday 08:00–17:00, the customer-services default. */
export const STANDARD_WEEKLY_HOURS: WeeklyHours = {
  monday: [['08:00', '17:00']],
  tuesday: [['08:00', '17:00']],
  wednesday: [['08:00', '17:00']],
  thursday: [['08:00', '17:00']],
  friday: [['08:00', '17:00']],
};
