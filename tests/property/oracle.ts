// A brute-force working-time oracle, written without any of the engine's code (nothing from
// server/ is imported). It walks time in 5-minute buckets on the UTC grid and asks the
// platform's time-zone database (Intl.DateTimeFormat#formatToParts) what the local date and
// wall time are at each bucket; a bucket is working when its local wall time lies in a weekly
// interval of its local date and that date is not a holiday. Buckets are cut exactly at
// closure and pause edges and at the query's own endpoints, so any millisecond instant is
// exact (integer ms arithmetic throughout).
//
// Why 5-minute buckets are exact: weekly-hour edges are multiples of 5 local minutes, and the
// oracle checks, for every bucket it classifies, that the zone's UTC offset is a multiple of
// 5 minutes and that any offset change falls on a bucket edge. If a zone ever breaks that, the
// oracle throws rather than answer wrongly.
//
// Bucket classifications are memoised per zone (local date and wall time) and per calendar
// (working or not) in typed arrays over 2024-12-01..2029-02-01, filled a UTC day at a time as
// queries reach them; instants outside that span are classified on the fly (slower, still exact).
import { readFileSync } from 'node:fs';

export type OracleWeekday = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';

export interface OracleCalendar {
  /** IANA zone, e.g. 'Europe/London'. */
  timeZone: string;
  /** 'HH:MM' local, edges on multiples of 5 minutes ('24:00' allowed as an end). */
  weeklyHours: Partial<Record<OracleWeekday, Array<[string, string]>>>;
  /** Local dates 'YYYY-MM-DD' that are not worked. */
  holidays: string[];
  /** Epoch ms, any millisecond; [from, to). */
  closures: Array<{ from: number; to: number }>;
}

const MINUTE_MS = 60_000;
const BUCKET_MS = 5 * MINUTE_MS;
const DAY_MS = 86_400_000;
const BUCKETS_PER_DAY = DAY_MS / BUCKET_MS; // 288
const SLOTS_PER_DAY = (24 * 60) / 5; // 288 local 5-minute slots
const MEMO_FROM = Date.UTC(2024, 11, 1);
const MEMO_TO = Date.UTC(2029, 1, 1);
const MEMO_BUCKETS = (MEMO_TO - MEMO_FROM) / BUCKET_MS;
const MEMO_DAYS = MEMO_BUCKETS / BUCKETS_PER_DAY;
/** addWorking gives up past this instant (a calendar with no working time never reaches its target). */
const SEARCH_LIMIT = Date.UTC(2200, 0, 1);

const WEEKDAY_NAMES: readonly OracleWeekday[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const DEFAULT_WEEKLY_HOURS: OracleCalendar['weeklyHours'] = {
  monday: [['08:00', '17:00']],
  tuesday: [['08:00', '17:00']],
  wednesday: [['08:00', '17:00']],
  thursday: [['08:00', '17:00']],
  friday: [['08:00', '17:00']],
};

const HOLIDAY_FILE = new URL('../../server/domain/gov-uk-bank-holidays.json', import.meta.url);
let holidayDoc: Record<string, { division?: string; events?: Array<{ date?: unknown }> }> | null = null;

/** A calendar with one GOV.UK division's bank holidays (read from the JSON file itself). */
export function oracleCalendarFromGovUk(
  division: string,
  weeklyHours: OracleCalendar['weeklyHours'] = DEFAULT_WEEKLY_HOURS,
  closures: OracleCalendar['closures'] = [],
  timeZone = 'Europe/London',
): OracleCalendar {
  holidayDoc ??= JSON.parse(readFileSync(HOLIDAY_FILE, 'utf8')) as NonNullable<typeof holidayDoc>;
  const entry = holidayDoc[division];
  if (entry === undefined || !Array.isArray(entry.events)) throw new Error(`oracle: no division "${division}" in the GOV.UK file`);
  const holidays = entry.events.map((e) => {
    if (typeof e.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(e.date)) throw new Error(`oracle: bad date in ${division}`);
    return e.date;
  });
  return { timeZone, weeklyHours, holidays, closures };
}

// ---------------------------------------------------------------------------------------------
// Local time per bucket, per zone.

interface LocalBucket {
  /** Days since 1970-01-01 of the local date. */
  day: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Local 5-minute slot of the day, 0..287. */
  slot: number;
}

class ZoneTable {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly day = new Int32Array(MEMO_BUCKETS);
  private readonly weekday = new Int8Array(MEMO_BUCKETS);
  private readonly slot = new Int16Array(MEMO_BUCKETS);
  private readonly filled = new Uint8Array(MEMO_DAYS);
  private readonly outside = new Map<number, LocalBucket>();

  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local wall clock at instant t (whole seconds), as Y-M-D h:m:s fields. */
  private wall(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    for (const p of this.fmt.formatToParts(t)) {
      switch (p.type) {
        case 'year': y = +p.value; break;
        case 'month': mo = +p.value; break;
        case 'day': d = +p.value; break;
        case 'hour': h = +p.value; break;
        case 'minute': mi = +p.value; break;
        case 'second': s = +p.value; break;
        default: break;
      }
    }
    if (h === 24) h = 0; // old ICU wrote midnight as 24 under some options
    return { y, mo, d, h, mi, s };
  }

  /** Offset (local − UTC) in ms at instant t, to the second. */
  private offsetAt(t: number): number {
    const w = this.wall(t);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
  }

  /** Local date, weekday and slot of the bucket starting at t (a multiple of 5 min), and the offset there. */
  private compute(t: number): { local: LocalBucket; offset: number } {
    const w = this.wall(t);
    const localMidnight = Date.UTC(w.y, w.mo - 1, w.d);
    const offset = localMidnight + (w.h * 60 + w.mi) * MINUTE_MS + w.s * 1000 - t;
    if (offset % BUCKET_MS !== 0) {
      throw new Error(`oracle: ${this.timeZone} is at offset ${offset} ms at ${new Date(t).toISOString()}, not a multiple of 5 minutes`);
    }
    const local: LocalBucket = {
      day: localMidnight / DAY_MS,
      weekday: new Date(localMidnight).getUTCDay(),
      slot: (w.h * 60 + w.mi) / 5,
    };
    return { local, offset };
  }

  /** Throws unless the offset at t holds through the whole bucket [t, t + 5 min). */
  private checkHomogeneous(t: number, offset: number, nextOffset: number): void {
    if (nextOffset !== offset && this.offsetAt(t + BUCKET_MS - 1) !== offset) {
      throw new Error(`oracle: ${this.timeZone} changes offset inside the 5-minute bucket at ${new Date(t).toISOString()}`);
    }
  }

  private fillDay(k: number): void {
    const first = k * BUCKETS_PER_DAY;
    const t0 = MEMO_FROM + first * BUCKET_MS;
    // Offsets of every bucket start in the day plus the next day's first, for the homogeneity check.
    const offsets: number[] = [];
    const locals: LocalBucket[] = [];
    for (let j = 0; j < BUCKETS_PER_DAY; j++) {
      const r = this.compute(t0 + j * BUCKET_MS);
      offsets.push(r.offset);
      locals.push(r.local);
    }
    offsets.push(this.offsetAt(t0 + DAY_MS));
    for (let j = 0; j < BUCKETS_PER_DAY; j++) {
      this.checkHomogeneous(t0 + j * BUCKET_MS, offsets[j]!, offsets[j + 1]!);
      const l = locals[j]!;
      this.day[first + j] = l.day;
      this.weekday[first + j] = l.weekday;
      this.slot[first + j] = l.slot;
    }
    this.filled[k] = 1;
  }

  /** Local date, weekday and slot of bucket i (bucket i starts at MEMO_FROM + i × 5 min). */
  local(i: number, out: LocalBucket): void {
    if (i >= 0 && i < MEMO_BUCKETS) {
      const k = Math.floor(i / BUCKETS_PER_DAY);
      if (this.filled[k] === 0) this.fillDay(k);
      out.day = this.day[i]!;
      out.weekday = this.weekday[i]!;
      out.slot = this.slot[i]!;
      return;
    }
    let l = this.outside.get(i);
    if (l === undefined) {
      const t = MEMO_FROM + i * BUCKET_MS;
      const r = this.compute(t);
      this.checkHomogeneous(t, r.offset, this.offsetAt(t + BUCKET_MS));
      l = r.local;
      this.outside.set(i, l);
    }
    out.day = l.day;
    out.weekday = l.weekday;
    out.slot = l.slot;
  }
}

const zoneTables = new Map<string, ZoneTable>();
function zoneTable(timeZone: string): ZoneTable {
  let z = zoneTables.get(timeZone);
  if (z === undefined) {
    z = new ZoneTable(timeZone);
    zoneTables.set(timeZone, z);
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// Working or not per bucket, per calendar (weekly hours and holidays; closures are cut exactly).

function parseHhMm(text: string, isEnd: boolean): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (m === null) throw new Error(`oracle: expected HH:MM, got "${text}"`);
  const minutes = +m[1]! * 60 + +m[2]!;
  if (+m[2]! > 59 || minutes > 1440 || (minutes === 1440 && !isEnd)) throw new Error(`oracle: time of day out of range: "${text}"`);
  if (minutes % 5 !== 0) throw new Error(`oracle: "${text}" is not on a 5-minute edge`);
  return minutes;
}

class CalendarTable {
  private readonly zone: ZoneTable;
  /** slots[weekday][slot] = 1 when that local 5-minute slot is in the weekly hours. */
  private readonly slots: Uint8Array[];
  private readonly holidayDays = new Set<number>();
  private readonly flags = new Int8Array(MEMO_BUCKETS).fill(-1);
  private readonly outside = new Map<number, number>();
  private readonly scratch: LocalBucket = { day: 0, weekday: 0, slot: 0 };

  constructor(cal: OracleCalendar) {
    this.zone = zoneTable(cal.timeZone);
    this.slots = WEEKDAY_NAMES.map((name) => {
      const s = new Uint8Array(SLOTS_PER_DAY);
      for (const [from, to] of cal.weeklyHours[name] ?? []) {
        const a = parseHhMm(from, false);
        const b = parseHhMm(to, true);
        if (b <= a) throw new Error(`oracle: ${name} ${from}–${to} is empty`);
        for (let m = a; m < b; m += 5) s[m / 5] = 1;
      }
      return s;
    });
    for (const date of cal.holidays) {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
      if (m === null) throw new Error(`oracle: holiday "${date}" is not YYYY-MM-DD`);
      this.holidayDays.add(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) / DAY_MS);
    }
  }

  private classify(i: number): number {
    const l = this.scratch;
    this.zone.local(i, l);
    if (this.holidayDays.has(l.day)) return 0;
    return this.slots[l.weekday]![l.slot]!;
  }

  /** 1 when bucket i is working by weekly hours and holidays. */
  working(i: number): number {
    if (i >= 0 && i < MEMO_BUCKETS) {
      let f = this.flags[i]!;
      if (f < 0) {
        f = this.classify(i);
        this.flags[i] = f;
      }
      return f;
    }
    let f = this.outside.get(i);
    if (f === undefined) {
      f = this.classify(i);
      this.outside.set(i, f);
    }
    return f;
  }
}

interface CachedTable {
  timeZone: string;
  weeklyHours: OracleCalendar['weeklyHours'];
  holidays: string[];
  table: CalendarTable;
}
const byObject = new WeakMap<OracleCalendar, CachedTable>();
const byKey = new Map<string, CalendarTable>();

function calendarTable(cal: OracleCalendar): CalendarTable {
  const hit = byObject.get(cal);
  if (hit !== undefined && hit.timeZone === cal.timeZone && hit.weeklyHours === cal.weeklyHours && hit.holidays === cal.holidays) {
    return hit.table;
  }
  const key = `${cal.timeZone}|${JSON.stringify(cal.weeklyHours)}|${cal.holidays.join(',')}`;
  let table = byKey.get(key);
  if (table === undefined) {
    table = new CalendarTable(cal);
    byKey.set(key, table);
  }
  byObject.set(cal, { timeZone: cal.timeZone, weeklyHours: cal.weeklyHours, holidays: cal.holidays, table });
  return table;
}

// ---------------------------------------------------------------------------------------------
// The walk.

/** Closures and pauses as one sorted list of disjoint [from, to) spans where time does not count. */
function exclusions(cal: OracleCalendar, pauses: Array<{ from: number; to: number }>): Array<{ from: number; to: number }> {
  const all = [...cal.closures, ...pauses].filter((x) => x.to > x.from).sort((a, b) => a.from - b.from);
  const merged: Array<{ from: number; to: number }> = [];
  for (const x of all) {
    const last = merged[merged.length - 1];
    if (last !== undefined && x.from <= last.to) last.to = Math.max(last.to, x.to);
    else merged.push({ from: x.from, to: x.to });
  }
  return merged;
}

/**
 * Walks working time from `from`. With `target` null: returns the working ms in [from, to).
 * Otherwise returns the earliest instant at which `target` ms have counted (to = SEARCH_LIMIT).
 */
function walk(cal: OracleCalendar, from: number, to: number, pauses: Array<{ from: number; to: number }>, target: number | null): number {
  for (const x of [from, to]) if (!Number.isInteger(x)) throw new Error(`oracle: instants are integer ms, got ${x}`);
  const table = calendarTable(cal);
  const excl = exclusions(cal, pauses);
  let k = 0; // first exclusion that may still matter
  let acc = 0;
  for (let b = Math.floor((from - MEMO_FROM) / BUCKET_MS); ; b++) {
    const bs = MEMO_FROM + b * BUCKET_MS;
    const a0 = bs > from ? bs : from;
    const e = bs + BUCKET_MS < to ? bs + BUCKET_MS : to;
    if (a0 >= e) {
      if (target === null) return acc;
      throw new Error(`oracle: ${target} ms of working time not reached by ${new Date(SEARCH_LIMIT).toISOString()}`);
    }
    if (table.working(b) === 0) continue;
    // [a0, e) is working by weekly hours and holidays: take out closures and pauses.
    while (k < excl.length && excl[k]!.to <= a0) k++;
    let cur = a0;
    for (let j = k; cur < e; j++) {
      const x = excl[j];
      const pieceEnd = x === undefined || x.from >= e ? e : x.from;
      if (pieceEnd > cur) {
        const len = pieceEnd - cur;
        if (target !== null && acc + len >= target) return cur + (target - acc);
        acc += len;
      }
      if (x === undefined || x.from >= e) break;
      if (x.to > cur) cur = x.to;
    }
  }
}

/** Working ms in [from, to) not inside a pause (0 when to <= from). */
export function oracleCounted(cal: OracleCalendar, from: number, to: number, pauses: Array<{ from: number; to: number }> = []): number {
  if (to <= from) return 0;
  return walk(cal, from, to, pauses, null);
}

/** The earliest instant t >= start at which oracleCounted(cal, start, t, pauses) >= durationMs. */
export function oracleAddWorking(
  cal: OracleCalendar,
  start: number,
  durationMs: number,
  pauses: Array<{ from: number; to: number }> = [],
): number {
  if (durationMs <= 0) return start;
  if (!Number.isInteger(durationMs)) throw new Error(`oracle: durations are integer ms, got ${durationMs}`);
  return walk(cal, start, SEARCH_LIMIT, pauses, durationMs);
}
