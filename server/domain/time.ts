// Instants are epoch milliseconds (UTC). Strings and time zones live only at these edges.
import { ValidationError } from '../errors.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Earliest and latest instants Kept accepts: its calendars are compiled over this span. */
export const EARLIEST_INSTANT = Date.UTC(2000, 0, 1);
export const LATEST_INSTANT = Date.UTC(2200, 0, 1);

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|([+-])(\d{2}):?(\d{2}))$/;
const ISO_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?$/;

/** A timestamp Kept cannot read; callers name the field (they know it, this module does not). */
export class InstantError extends ValidationError {
  constructor(rule: string) {
    super('timestamp', rule, 'invalid-instant');
    this.message = rule;
  }
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return MONTH_DAYS[month - 1]!;
}

/** The unsigned decimal number written in text[from, to), or -1 if any character there is not a digit. */
function digits(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The common forms `YYYY-MM-DDTHH:MM:SS.sssZ` and `…SS.sss+HH:MM` read without a regular expression
 * (the batch evaluator's hot path). Anything else, or anything out of range, answers -1 and is left
 * to the full parser, which gives the reason.
 */
function parseCommonInstant(text: string): number {
  const n = text.length;
  if ((n !== 24 && n !== 29) || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46) return -1;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  const fraction = digits(text, 20, 23);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || fraction < 0) return -1;
  let offsetMinutes = 0;
  if (n === 24) {
    if (text.charCodeAt(23) !== 90) return -1; // Z
  } else {
    const sign = text.charCodeAt(23);
    if ((sign !== 43 && sign !== 45) || text.charCodeAt(26) !== 58) return -1;
    const oh = digits(text, 24, 26);
    const om = digits(text, 27, 29);
    if (oh < 0 || om < 0 || oh > 18 || om > 59) return -1;
    offsetMinutes = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return -1;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * MINUTE;
  return ms < EARLIEST_INSTANT || ms >= LATEST_INSTANT ? -1 : ms;
}

/**
 * An instant Kept stored itself (formatInstant's text) back to epoch ms: the fast path above, else
 * Date.parse (text written by an older version). For trusted stored text only; input is parseInstant's.
 */
export function parseStoredInstant(text: string): number {
  const fast = parseCommonInstant(text);
  return fast >= 0 ? fast : Date.parse(text);
}

/**
 * Parses an ISO-8601 timestamp that carries an offset (`Z` or `+01:00`) to epoch ms.
 * Throws InstantError with a readable reason otherwise; never guesses a zone.
 */
export function parseInstant(text: unknown): number {
  if (typeof text !== 'string') throw new InstantError('must be an ISO-8601 timestamp string');
  const fast = parseCommonInstant(text);
  if (fast >= 0) return fast;
  const m = ISO_WITH_OFFSET.exec(text);
  if (m === null) {
    if (ISO_WITHOUT_OFFSET.test(text)) {
      throw new InstantError(`timestamp without offset "${text}": add Z or an offset such as +01:00`);
    }
    throw new InstantError(`not an ISO-8601 timestamp: "${text}"`);
  }
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = m[6] === undefined ? 0 : +m[6];
  const fraction = m[7] === undefined ? 0 : Math.floor(+(m[7] + '000').slice(0, 3));
  if (month < 1 || month > 12) throw new InstantError(`month out of range in "${text}"`);
  if (day < 1 || day > daysInMonth(year, month)) throw new InstantError(`day out of range in "${text}"`);
  if (hour > 23 || minute > 59 || second > 59) throw new InstantError(`time of day out of range in "${text}"`);
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = +m[10]!;
    const om = +m[11]!;
    if (oh > 18 || om > 59) throw new InstantError(`offset out of range in "${text}"`);
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * MINUTE;
  if (ms < EARLIEST_INSTANT || ms >= LATEST_INSTANT) {
    throw new InstantError(`"${text}" is outside the supported years 2000–2199`);
  }
  return ms;
}

const PAD2: string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** `YYYY-MM-DDT` of day numbers already formatted (bounded: the supported years are 2000–2199). */
const dayPrefixes = new Map<number, string>();

/** `YYYY-MM-DDT` of a day number (civil-from-days, H. Hinnant; no Date object on the hot path). */
function dayPrefix(day: number): string {
  const known = dayPrefixes.get(day);
  if (known !== undefined) return known;
  let text: string;
  if (day < 0 || day > 200_000) {
    text = new Date(day * DAY).toISOString().slice(0, 11);
  } else {
    const z = day + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    text = `${y}-${PAD2[m]}-${PAD2[d]}T`;
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, text);
  }
  return text;
}

/** ISO-8601 UTC with milliseconds, the only output form (output is hot: no Date object per call). */
export function formatInstant(ms: number): string {
  if (!Number.isFinite(ms)) return new Date(ms).toISOString(); // throws RangeError, as Date does
  const day = Math.floor(ms / DAY);
  let rest = ms - day * DAY;
  const h = Math.floor(rest / HOUR);
  rest -= h * HOUR;
  const m = Math.floor(rest / MINUTE);
  rest -= m * MINUTE;
  const sec = Math.floor(rest / 1000);
  return `${dayPrefix(day)}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[Math.floor(rest - sec * 1000)]}Z`;
}

/** Day number (days since 1970-01-01) of a calendar date written YYYY-MM-DD. */
export function dayNumberOf(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) throw new InstantError(`not a date (YYYY-MM-DD): "${date}"`);
  return Math.floor(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) / DAY);
}

/** YYYY-MM-DD of a day number. */
export function dateOfDayNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday, of a day number. */
export function weekdayOfDayNumber(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function offsetFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = offsetFormatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError when the platform's time-zone database does not know the zone. */
export function assertTimeZone(timeZone: string): void {
  offsetFormatter(timeZone);
}

/** Offset of local time from UTC in ms at an instant (local = utc + offset), from Intl. */
export function zoneOffset(timeZone: string, ms: number): number {
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  const parts = offsetFormatter(timeZone).formatToParts(wholeSecond);
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of parts) {
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
  return Date.UTC(y, mo - 1, d, h, mi, s) - wholeSecond;
}

/** A span of constant offset: [from, to) in UTC with local = utc + offset. */
export interface OffsetSpan {
  from: number;
  to: number;
  offset: number;
}

/**
 * Splits [from, to) into spans of constant UTC offset. Offsets are sampled weekly and each
 * change is bisected to the second (zone transitions fall on whole seconds).
 */
export function offsetSpans(timeZone: string, from: number, to: number): OffsetSpan[] {
  const key = `${timeZone} ${from} ${to}`;
  let spans = spanCache.get(key);
  if (spans === undefined) {
    spans = computeOffsetSpans(timeZone, from, to);
    spanCache.set(key, spans);
  }
  return spans;
}

const spanCache = new Map<string, OffsetSpan[]>();

function computeOffsetSpans(timeZone: string, from: number, to: number): OffsetSpan[] {
  const spans: OffsetSpan[] = [];
  const step = 7 * DAY;
  let spanStart = from;
  let currentOffset = zoneOffset(timeZone, from);
  let probe = from;
  while (probe < to) {
    const next = Math.min(probe + step, to);
    const nextOffset = zoneOffset(timeZone, next === to ? to - 1 : next);
    if (nextOffset !== currentOffset) {
      // Bisect (probe, next] for the first second with the new offset.
      let lo = Math.floor(probe / 1000);
      let hi = Math.ceil((next === to ? to - 1 : next) / 1000);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffset(timeZone, mid * 1000) === currentOffset) lo = mid;
        else hi = mid;
      }
      const change = hi * 1000;
      spans.push({ from: spanStart, to: change, offset: currentOffset });
      spanStart = change;
      currentOffset = zoneOffset(timeZone, change);
      probe = change;
      continue;
    }
    probe = next;
  }
  spans.push({ from: spanStart, to, offset: currentOffset });
  return spans;
}

/** Human-readable duration, e.g. "7h 00m" or "2m 30.5s". */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const hours = Math.floor(rest / HOUR);
  rest -= hours * HOUR;
  const minutes = Math.floor(rest / MINUTE);
  rest -= minutes * MINUTE;
  if (rest === 0) return `${sign}${hours}h ${String(minutes).padStart(2, '0')}m`;
  const seconds = rest / 1000;
  return `${sign}${hours}h ${String(minutes).padStart(2, '0')}m ${seconds}s`;
}
