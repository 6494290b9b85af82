// Words and numbers for the managers' report page. The server sends every figure, rate and flag
// (server/reports/types.ts); this file only names and formats them, and knows which week is "last week".
import type { ServiceLevelVariant } from '../../server/reports/types.js';

export type { ChangeOnPrevious, PublishedWeek, RegulatorView, ReportChange, StandardRow, TrendPoint, WeeklyReport, WeeklyTrend } from '../../server/reports/types.js';

/** One line of a trend chart (and one column of the table beside it). */
export interface Series {
  label: string;
  values: Array<number | null>;
}

/** The four ways of counting abandons in the phone service level (STANDARDS §6), named for the page. */
export const SERVICE_LEVEL_WORDS: Record<ServiceLevelVariant, { name: string; rule: string }> = {
  standard: { name: 'Standard (§6)', rule: 'answered within 5 minutes ÷ (offered − short abandons); abandons after 5 s count against' },
  'abandons-ignored': { name: 'Abandons ignored', rule: 'answered within 5 minutes ÷ answered' },
  'abandons-in-favour': { name: 'Abandons in favour', rule: '(answered within + abandoned within 5 minutes) ÷ (answered + abandoned)' },
  'removed-from-queue': { name: 'Removed from queue (Amazon Connect)', rule: 'left the queue within 5 minutes ÷ every call offered' },
};

/** "87.1%" from 0.8712 (one decimal: a report is read closely), "—" with nothing to divide. */
export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
}

/** A change in a rate, in percentage points: "+2.3 pts", "−0.8 pts", "0.0 pts". */
export function points(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  const v = Math.round(x * 1000) / 10;
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)} pts`;
}

/** A change in a count: "+12", "−3", "0". */
export function signed(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0';
}

/** A working-time or waiting duration: "42 s", "3 min 20 s", "5 h 10 min", "2 d 3 h". */
export function span(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const negative = ms < 0;
  const s = Math.round(Math.abs(ms) / 1000);
  let words: string;
  if (s < 60) words = `${s} s`;
  else if (s < 3600) words = s % 60 === 0 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  else if (s < 86_400) words = `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  else words = `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
  return negative ? `−${words}` : words;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** "Mon 30 Mar" (and " 2026" with the year), from the parts: Intl's own joining puts a comma after the weekday. */
function day(ms: number, zone: string, year: boolean): string {
  let f = dayFormats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    dayFormats.set(zone, f);
  }
  const parts = f.formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('weekday')} ${get('day')} ${get('month')}${year ? ` ${get('year')}` : ''}`;
}

/** "Mon 30 Mar to Sun 5 Apr 2026" (`to` is exclusive: the last day is the one before it). */
export function weekSpan(from: string, to: string, zone: string): string {
  return `${day(Date.parse(from), zone, false)} to ${day(Date.parse(to) - 1, zone, true)}`;
}

/** "Mon 9 Mar 2026, 07:00" in the report's zone. */
export function instant(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  const time = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
  return `${day(ms, zone, true)}, ${time}`;
}

/** `2026-W10` of a calendar date (ISO 8601: weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekOfDate(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  d.setUTCDate(d.getUTCDate() - weekday + 3); // the week's Thursday decides its year
  const weekYear = d.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((d.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/** The week before the one `now` falls in, in the zone: the week the Monday report is about. */
export function lastWeek(now: number, zone = 'Europe/London'): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now - 7 * 86_400_000);
  const [y, m, d] = parts.split('-').map(Number) as [number, number, number];
  return isoWeekOfDate(y, m, d);
}

/** The week `n` weeks after `week` (n may be negative). */
export function shiftWeek(week: string, n: number): string {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (m === null) return week;
  // The Thursday of the week, moved by n weeks, names the new week.
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const monday1 = Date.UTC(Number(m[1]), 0, 4) - ((jan4.getUTCDay() + 6) % 7) * 86_400_000;
  const thursday = new Date(monday1 + ((Number(m[2]) - 1 + n) * 7 + 3) * 86_400_000);
  return isoWeekOfDate(thursday.getUTCFullYear(), thursday.getUTCMonth() + 1, thursday.getUTCDate());
}

export const WEEK_PATTERN = '\\d{4}-W\\d{2}';

/** The last full quarter and financial year (April to March) before `now`, for the regulator's view. */
export function periods(now: number): Array<{ label: string; from: string; to: string }> {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const q = Math.floor(d.getUTCMonth() / 3); // this quarter, 0-based
  const iso = (yy: number, mm: number, dd: number) => new Date(Date.UTC(yy, mm, dd)).toISOString().slice(0, 10);
  const qFrom = (yy: number, qq: number) => iso(yy, qq * 3, 1);
  const qTo = (yy: number, qq: number) => iso(yy, qq * 3 + 3, 0);
  const prevQ = q === 0 ? { y: y - 1, q: 3 } : { y, q: q - 1 };
  const fyStart = d.getUTCMonth() >= 3 ? y - 1 : y - 2; // the last complete April–March year
  return [
    { label: `Last quarter (${qFrom(prevQ.y, prevQ.q)} to ${qTo(prevQ.y, prevQ.q)})`, from: qFrom(prevQ.y, prevQ.q), to: qTo(prevQ.y, prevQ.q) },
    { label: `Financial year ${fyStart}/${String((fyStart + 1) % 100).padStart(2, '0')}`, from: iso(fyStart, 3, 1), to: iso(fyStart + 1, 2, 31) },
    { label: `Year to date (${iso(y, 0, 1)} to today)`, from: iso(y, 0, 1), to: iso(y, d.getUTCMonth(), d.getUTCDate()) },
  ];
}
