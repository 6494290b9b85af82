// "Explain this deadline": the steps by which a clock's dueAt was reached, as data and as text.
import type { WorkingCalendar } from './calendar.js';
import type { CalendarSet } from './clocks.js';
import type { Clock } from './model.js';
import { PACKS, type StandardDef } from './standards.js';
import { formatDuration } from './time.js';

export type ExplainStep =
  | { kind: 'start'; at: number }
  | { kind: 'target'; targetMs: number; calendar: string; measure: 'elapsed' | 'working' }
  /** An `end-of-day` standard: due at the close of the Nth working day after the local date it started. */
  | { kind: 'end-of-day'; workingDays: number; startDate: string }
  | { kind: 'working-day'; date: string; n: number }
  | { kind: 'elapsed'; from: number; to: number; ms: number; totalMs: number }
  | { kind: 'counted'; date: string; from: number; to: number; ms: number; totalMs: number }
  | { kind: 'holiday'; date: string; name: string }
  | { kind: 'non-working-day'; date: string; weekday: string }
  | { kind: 'closure'; date: string; from: number; to: number; reason: string | null }
  | { kind: 'paused'; from: number; to: number | null; workingMs: number; reason: string }
  | { kind: 'holidays-unknown'; date: string }
  | { kind: 'extended'; originalDueAt: number | null; until: number }
  | { kind: 'paused-now'; since: number; remainingMs: number }
  | { kind: 'due'; at: number };

export interface Explanation {
  standard: string;
  standardVersion: string;
  calendar: string;
  timeZone: string;
  dueAt: number | null;
  /** The standard's rule in words, from its pack ("Significant hazard: investigate within 10 working days of the report"). */
  rule?: string;
  steps: ExplainStep[];
  text: string;
}

/** The standard a clock started under, from the pack version it names. */
function standardOf(clock: Clock): StandardDef | undefined {
  for (const p of PACKS) if (p.id === clock.standardVersion) return p.standards.find((d) => d.id === clock.standard);
  return undefined;
}

/** End-of-day counting: whole working days after the local date the clock started, up to the one it is due at the close of. */
function endOfDaySteps(clock: Clock, cal: WorkingCalendar, workingDays: number, end: number): ExplainStep[] {
  const steps: ExplainStep[] = [];
  const firstDay = cal.localDayNumber(clock.startedAt);
  steps.push({ kind: 'end-of-day', workingDays, startDate: cal.dayInfo(firstDay).date });
  const lastDay = cal.localDayNumber(Math.max(clock.startedAt, end - 1));
  let n = 0;
  let unknownSaid = false;
  for (let day = firstDay + 1; day <= lastDay && n < workingDays; day++) {
    const info = cal.dayInfo(day);
    if (!info.holidaysKnown && !unknownSaid) {
      steps.push({ kind: 'holidays-unknown', date: info.date });
      unknownSaid = true;
    }
    if (info.holiday !== null) steps.push({ kind: 'holiday', date: info.date, name: info.holiday });
    else if (info.weeklyIntervals.length === 0) steps.push({ kind: 'non-working-day', date: info.date, weekday: info.weekday });
    else {
      const whole = info.closures.some((c) => info.weeklyIntervals.every((w) => c.from <= w.from && c.to >= w.to));
      for (const c of info.closures) steps.push({ kind: 'closure', date: info.date, from: c.from, to: c.to, reason: c.reason ?? null });
      if (!whole) steps.push({ kind: 'working-day', date: info.date, n: ++n });
    }
  }
  return steps;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function local(ms: number, timeZone: string, withDate = true): string {
  const key = `${timeZone}|${withDate}`;
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      ...(withDate ? { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      ...(withDate ? { timeZoneName: 'short' } : {}),
      hourCycle: 'h23',
    } as Intl.DateTimeFormatOptions);
    formatters.set(key, f);
  }
  const text = f.format(ms);
  const millis = ms % 60_000;
  return millis === 0 ? text : `${text} (+${millis / 1000}s)`;
}

/** Pieces of [from, to) outside every pause, and the pause overlaps. */
function splitByPauses(from: number, to: number, pauses: Array<{ from: number; to: number }>): { counted: Array<[number, number]>; paused: Array<[number, number]> } {
  const counted: Array<[number, number]> = [];
  const paused: Array<[number, number]> = [];
  let cursor = from;
  for (const p of pauses) {
    if (p.to <= cursor || p.from >= to) continue;
    if (p.from > cursor) counted.push([cursor, p.from]);
    paused.push([Math.max(cursor, p.from), Math.min(to, p.to)]);
    cursor = Math.min(to, p.to);
  }
  if (cursor < to) counted.push([cursor, to]);
  return { counted, paused };
}

function workingSteps(clock: Clock, cal: WorkingCalendar, end: number, now: number): ExplainStep[] {
  const steps: ExplainStep[] = [];
  const pauses = (clock.pauses ?? []).map((p) => ({ from: p.from, to: p.to ?? Math.max(now, p.from), reason: p.reason }));
  const intervals = cal.workingIntervals(clock.startedAt, end);
  const firstDay = cal.localDayNumber(clock.startedAt);
  const lastDay = cal.localDayNumber(Math.max(clock.startedAt, end - 1));
  let total = 0;
  let k = 0;
  let unknownSaid = false;
  for (let day = firstDay; day <= lastDay; day++) {
    const info = cal.dayInfo(day);
    if (!info.holidaysKnown && !unknownSaid) {
      steps.push({ kind: 'holidays-unknown', date: info.date });
      unknownSaid = true;
    }
    if (info.holiday !== null) {
      steps.push({ kind: 'holiday', date: info.date, name: info.holiday });
      continue;
    }
    if (info.weeklyIntervals.length === 0) {
      steps.push({ kind: 'non-working-day', date: info.date, weekday: info.weekday });
      continue;
    }
    for (const c of info.closures) steps.push({ kind: 'closure', date: info.date, from: c.from, to: c.to, reason: c.reason ?? null });
    for (; k < intervals.length && intervals[k]!.dayNumber === day; k++) {
      const iv = intervals[k]!;
      const split = splitByPauses(iv.from, iv.to, pauses);
      const pieces = [
        ...split.counted.map(([a, b]) => ({ a, b, paused: false })),
        ...split.paused.map(([a, b]) => ({ a, b, paused: true })),
      ].sort((x, y) => x.a - y.a);
      for (const { a, b, paused } of pieces) {
        if (paused) {
          const p = pauses.find((q) => q.from <= a && q.to >= b)!;
          steps.push({ kind: 'paused', from: a, to: b, workingMs: b - a, reason: p.reason });
        } else {
          total += b - a;
          steps.push({ kind: 'counted', date: info.date, from: a, to: b, ms: b - a, totalMs: total });
        }
      }
    }
  }
  return steps;
}

/** The steps behind one clock's dueAt (or, while paused, behind the time left). */
export function explainClock(clock: Clock, calendars: CalendarSet, now: number): Explanation {
  const cal = calendars[clock.calendar];
  if (cal === undefined) throw new Error(`no calendar "${clock.calendar}"`);
  const measure = cal.id === 'always' ? 'elapsed' : 'working';
  const steps: ExplainStep[] = [
    { kind: 'start', at: clock.startedAt },
    { kind: 'target', targetMs: clock.targetMs, calendar: cal.id, measure },
  ];
  const reached = clock.originalDueAt !== undefined ? clock.originalDueAt : clock.dueAt;
  const pausedSince = clock.status === 'paused' ? clock.pauses![clock.pauses!.length - 1]!.from : null;
  const end = reached ?? pausedSince ?? now;
  const def = standardOf(clock);
  if (def?.mode === 'end-of-day' && (clock.pauses ?? []).length === 0) {
    steps.pop();
    steps.push(...endOfDaySteps(clock, cal, def.target.workingDays ?? 1, end));
  } else if (measure === 'elapsed') {
    steps.push({ kind: 'elapsed', from: clock.startedAt, to: end, ms: end - clock.startedAt, totalMs: end - clock.startedAt });
  } else {
    steps.push(...workingSteps(clock, cal, end, now));
  }
  if (pausedSince !== null) steps.push({ kind: 'paused-now', since: pausedSince, remainingMs: clock.remainingMs });
  if (clock.extendedUntil !== undefined) steps.push({ kind: 'extended', originalDueAt: clock.originalDueAt ?? null, until: clock.extendedUntil });
  if (clock.dueAt !== null) steps.push({ kind: 'due', at: clock.dueAt });
  const timeZone = cal.id === 'always' ? calendars['customer-services']?.timeZone ?? 'Europe/London' : cal.timeZone;
  return {
    standard: clock.standard,
    standardVersion: clock.standardVersion,
    calendar: cal.id,
    timeZone,
    dueAt: clock.dueAt,
    ...(def !== undefined ? { rule: def.title } : {}),
    steps,
    text: explainText(steps, timeZone),
  };
}

function stepText(s: ExplainStep, tz: string): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  switch (s.kind) {
    case 'start':
      return `Clock started ${local(s.at, tz)} (${iso(s.at)}).`;
    case 'target':
      return s.measure === 'elapsed'
        ? `Target: ${formatDuration(s.targetMs)} elapsed — every instant counts (calendar "always").`
        : `Target: ${formatDuration(s.targetMs)} of working time on the "${s.calendar}" calendar.`;
    case 'end-of-day':
      return `Target: the end of the ${ordinal(s.workingDays)} working day after ${s.startDate} (that day itself does not count).`;
    case 'working-day':
      return `${s.date}: working day ${s.n}.`;
    case 'elapsed':
      return `Counted ${formatDuration(s.ms)} of elapsed time, ${local(s.from, tz)} to ${local(s.to, tz)}.`;
    case 'counted':
      return `${s.date}: counted ${local(s.from, tz, false)}–${local(s.to, tz, false)} (${formatDuration(s.ms)}; ${formatDuration(s.totalMs)} so far).`;
    case 'holiday':
      return `${s.date}: skipped, bank holiday (${s.name}).`;
    case 'non-working-day':
      return `${s.date}: skipped, no working hours on ${s.weekday[0]!.toUpperCase()}${s.weekday.slice(1)}.`;
    case 'closure':
      return `${s.date}: closed ${local(s.from, tz)} to ${local(s.to, tz)}${s.reason ? ` (${s.reason})` : ''}; not counted.`;
    case 'paused':
      return `Paused ${local(s.from, tz)} to ${s.to === null ? 'now' : local(s.to, tz)} (${formatDuration(s.workingMs)} of working time not counted${s.reason ? `: ${s.reason}` : ''}).`;
    case 'holidays-unknown':
      return `From ${s.date} the calendar has no bank-holiday data: counting weekly hours only.`;
    case 'paused-now':
      return `Paused since ${local(s.since, tz)}: ${formatDuration(s.remainingMs)} left; due instant recomputed on resume.`;
    case 'extended':
      return `Extended by agreement: due ${local(s.until, tz)} instead of ${s.originalDueAt === null ? 'the original target' : local(s.originalDueAt, tz)}.`;
    case 'due':
      return `Due ${local(s.at, tz)} (${iso(s.at)}).`;
  }
}

function ordinal(n: number): string {
  const tail = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${tail}`;
}

export function explainText(steps: ExplainStep[], timeZone: string): string {
  return steps.map((s) => stepText(s, timeZone)).join('\n');
}
