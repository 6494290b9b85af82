// Property tests: the working-time engine against a brute-force oracle (./oracle.ts, which
// shares no code with server/). Tens of thousands of seeded random cases, weighted towards the
// places calendars go wrong: clock changes, bank holidays, opening and closing edges, closures
// with millisecond bounds, and pauses.
//
// Reproduce a failure with the seed it prints:  KEPT_PROPERTY_SEED=<seed> npx vitest run tests/property
// Run more cases:                                KEPT_PROPERTY_SCALE=5 npx vitest run tests/property
import { describe, expect, it } from 'vitest';
import { ALWAYS, CompiledCalendar, type Closure, type WorkingCalendar } from '../../server/domain/calendar.js';
import { evaluateContact } from '../../server/domain/clocks.js';
import { parseContact } from '../../server/domain/contact.js';
import { BUNDLED_BANK_HOLIDAYS, customerServicesCalendar } from '../../server/domain/defaults.js';
import { holidaysFromGovUk } from '../../server/domain/holidays.js';
import { LIVEWEST_1 } from '../../server/domain/standards.js';
import { oracleAddWorking, oracleCalendarFromGovUk, oracleCounted, type OracleCalendar } from './oracle.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WORKING_DAY = 9 * HOUR;
const TEN_WORKING_DAYS = 10 * WORKING_DAY;
const FROM_2025 = Date.UTC(2025, 0, 1);
const TO_2029 = Date.UTC(2029, 0, 1);
const NOW = Date.UTC(2030, 0, 1);

const BASE_SEED = (Number(process.env.KEPT_PROPERTY_SEED ?? 0x6b657074) >>> 0) || 1;
const SCALE = Math.max(0.01, Number(process.env.KEPT_PROPERTY_SCALE ?? 1));

const iso = (t: number): string => new Date(t).toISOString();

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and helpers.

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [a, b]. */
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }
  /** Integer in [1, max], log-uniform: as many milliseconds-scale values as days-scale ones. */
  logInt(max: number): number {
    return Math.max(1, Math.min(max, Math.round(Math.exp(this.next() * Math.log(max)))));
  }
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Local time for generating cases (Intl; independent of both the engine and the oracle).

const formatters = new Map<string, Intl.DateTimeFormat>();
function offsetAt(zone: string, t: number): number {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const v: Record<string, number> = {};
  for (const p of f.formatToParts(t)) v[p.type] = +p.value;
  const whole = Math.floor(t / SECOND) * SECOND;
  return Date.UTC(v.year!, v.month! - 1, v.day!, v.hour! % 24, v.minute!, v.second!) - whole;
}

function localDay(zone: string, t: number): number {
  return Math.floor((t + offsetAt(zone, t)) / DAY);
}

/** The UTC instant of a local wall time (approximate inside a skipped hour: good enough to aim cases). */
function zonedToUtc(zone: string, day: number, minuteOfDay: number): number {
  const local = day * DAY + minuteOfDay * MINUTE;
  const guess = local - offsetAt(zone, local);
  return local - offsetAt(zone, guess);
}

/** Every offset change of a zone in [from, to), to the millisecond. */
function transitions(zone: string, from: number, to: number): number[] {
  const out: number[] = [];
  let prev = offsetAt(zone, from);
  for (let t = from + DAY; t < to; t += DAY) {
    const o = offsetAt(zone, t);
    if (o !== prev) {
      let lo = t - DAY;
      let hi = t;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      out.push(hi);
      prev = o;
    }
  }
  return out;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return +h! * 60 + +m!;
}

// ---------------------------------------------------------------------------------------------
// Calendars under test: the oracle's and the engine's view of the same data.

type Hours = OracleCalendar['weeklyHours'];
const weekdays = (intervals: Array<[string, string]>): Hours => ({
  monday: intervals,
  tuesday: intervals,
  wednesday: intervals,
  thursday: intervals,
  friday: intervals,
});
const STANDARD_HOURS: Hours = weekdays([['08:00', '17:00']]);
const LUNCH_HOURS: Hours = {
  ...weekdays([
    ['08:00', '12:30'],
    ['13:30', '17:00'],
  ]),
  saturday: [['09:00', '12:00']],
};
/** Hours that straddle London's clock changes (Sunday 01:00 GMT ↔ 02:00 BST) and local midnight. */
const LONDON_NIGHT_HOURS: Hours = {
  ...weekdays([['08:00', '17:00']]),
  monday: [
    ['00:30', '02:30'],
    ['08:00', '17:00'],
  ],
  saturday: [
    ['01:00', '01:30'],
    ['23:55', '24:00'],
  ],
  sunday: [
    ['00:00', '03:00'],
    ['22:00', '24:00'],
  ],
};
/** Santiago changes clocks at local midnight (Saturday 24:00 → Sunday 01:00; Sunday 00:00 → Saturday 23:00). */
const SANTIAGO_HOURS: Hours = {
  ...weekdays([['08:00', '17:00']]),
  saturday: [['22:00', '24:00']],
  sunday: [
    ['00:00', '02:00'],
    ['09:00', '13:00'],
  ],
};
/** Lord Howe Island moves its clocks by 30 minutes at 02:00 local. */
const LORD_HOWE_HOURS: Hours = {
  ...weekdays([['08:00', '17:00']]),
  saturday: [['00:00', '24:00']],
  sunday: [['01:00', '03:00']],
};

interface Variant {
  label: string;
  zone: string;
  oracle: OracleCalendar;
  /** The engine calendar with these closures (cached when there are none). */
  engine: (closures: Closure[]) => WorkingCalendar;
  /** Local minutes of the weekly hours' edges. */
  edges: number[];
  /** Offset changes in 2025–2028. */
  transitions: number[];
  /** Local day numbers of holidays in 2025–2028. */
  holidayDays: number[];
}

function variant(label: string, zone: string, division: string, hours: Hours, build: (closures: Closure[]) => WorkingCalendar): Variant {
  const oracle = oracleCalendarFromGovUk(division, hours, [], zone);
  const base = build([]);
  const edges = new Set<number>();
  for (const list of Object.values(hours)) for (const [a, b] of list ?? []) edges.add(minutesOf(a)).add(minutesOf(b) % 1440);
  const holidayDays = oracle.holidays
    .filter((d) => d >= '2025-01-01' && d <= '2028-12-31')
    .map((d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / DAY);
  return {
    label,
    zone,
    oracle,
    engine: (closures) => (closures.length === 0 ? base : build(closures)),
    edges: [...edges],
    transitions: transitions(zone, FROM_2025 - 7 * DAY, TO_2029 + 7 * DAY),
    holidayDays,
  };
}

function compiled(zone: string, division: string, hours: Hours): (closures: Closure[]) => WorkingCalendar {
  const holidays = holidaysFromGovUk(BUNDLED_BANK_HOLIDAYS, division);
  return (closures) =>
    new CompiledCalendar({ id: 'customer-services', timeZone: zone, weeklyHours: hours, holidays, closures, workingDayMs: WORKING_DAY });
}

function customerServices(division: string, timeZone = 'Europe/London'): Variant {
  return variant(`customer-services ${division} ${timeZone}`, timeZone, division, STANDARD_HOURS, (closures) =>
    customerServicesCalendar({ division, closures, timeZone }),
  );
}

// ---------------------------------------------------------------------------------------------
// Case generation.

const JITTERS = [0, 0, 0, 1, 2, 999, 1000, 1001, 59_999, 60_000, 60_001, 299_999, 300_000, 300_001];

function jitter(r: Rng): number {
  const c = r.next();
  if (c < 0.7) return r.sign() * r.pick(JITTERS);
  if (c < 0.9) return r.sign() * r.int(1, 10 * MINUTE);
  return r.sign() * r.int(1, 3 * HOUR);
}

function edgeOn(r: Rng, v: Variant, day: number): number {
  return zonedToUtc(v.zone, day, r.pick(v.edges));
}

function randomDay(r: Rng): number {
  return r.int(FROM_2025 / DAY, TO_2029 / DAY - 1);
}

/** Where a scenario happens: near a clock change, a bank holiday, an opening edge, or anywhere. */
function anchor(r: Rng, v: Variant): number {
  const c = r.next();
  if (c < 0.3 && v.transitions.length > 0) {
    const tr = r.pick(v.transitions);
    if (r.chance(0.4)) return tr + jitter(r);
    if (r.chance(0.5)) return edgeOn(r, v, localDay(v.zone, tr) + r.int(-3, 3)) + jitter(r);
    return tr + r.int(-3 * DAY, 3 * DAY);
  }
  if (c < 0.55 && v.holidayDays.length > 0) {
    const day = r.pick(v.holidayDays) + r.int(-2, 2);
    if (r.chance(0.6)) return edgeOn(r, v, day) + jitter(r);
    return zonedToUtc(v.zone, day, 0) + r.int(0, DAY - 1);
  }
  if (c < 0.8) return edgeOn(r, v, randomDay(r)) + jitter(r);
  return r.int(FROM_2025, TO_2029 - 1);
}

function closuresNear(r: Rng, v: Variant, a: number): Closure[] {
  const out: Closure[] = [];
  const n = r.int(1, 4);
  const day0 = localDay(v.zone, a);
  for (let i = 0; i < n; i++) {
    const c = r.next();
    const day = day0 + r.int(-2, 6);
    let from: number;
    let to: number;
    if (c < 0.25) {
      // Whole local days.
      from = zonedToUtc(v.zone, day, 0);
      to = zonedToUtc(v.zone, day + r.int(1, 3), 0);
    } else if (c < 0.5) {
      // Part of a day, on 5-minute local times (e.g. Christmas Eve from 12:00, a training afternoon).
      const m1 = r.chance(0.5) ? r.pick(v.edges) : r.int(0, 287) * 5;
      const m2 = r.chance(0.5) ? r.pick(v.edges) : r.int(0, 288) * 5;
      from = zonedToUtc(v.zone, day, Math.min(m1, m2));
      to = zonedToUtc(v.zone, day, Math.max(m1, m2) === Math.min(m1, m2) ? Math.max(m1, m2) + 60 : Math.max(m1, m2));
      if (r.chance(0.5)) from += jitter(r);
      if (r.chance(0.5)) to += jitter(r);
    } else if (c < 0.8) {
      // Any millisecond bounds.
      from = a + r.int(-2 * DAY, 8 * DAY);
      to = from + r.logInt(3 * DAY);
    } else {
      // A sliver at an edge.
      from = edgeOn(r, v, day) + jitter(r);
      to = from + r.int(1, 2000);
    }
    if (to > from) out.push({ from, to });
  }
  return out;
}

function caseStart(r: Rng, v: Variant, a: number, closures: Closure[]): number {
  const c = r.next();
  if (c < 0.25) return a + jitter(r);
  if (c < 0.5) return edgeOn(r, v, localDay(v.zone, a) + r.int(-2, 4)) + jitter(r);
  if (c < 0.65 && closures.length > 0) {
    const cl = r.pick(closures);
    return (r.chance(0.5) ? cl.from : cl.to) + jitter(r);
  }
  if (c < 0.75 && v.transitions.length > 0) {
    const near = v.transitions.filter((t) => Math.abs(t - a) < 5 * DAY);
    if (near.length > 0) return r.pick(near) + jitter(r);
  }
  return a + r.int(-2 * DAY, 4 * DAY);
}

/** An instant near t worth aiming at: an edge of a later day, a closure bound, or t plus some time. */
function aimAfter(r: Rng, v: Variant, t: number, closures: Closure[]): number {
  const c = r.next();
  if (c < 0.5) return edgeOn(r, v, localDay(v.zone, t) + r.int(0, 12)) + (r.chance(0.3) ? jitter(r) : 0);
  if (c < 0.7 && closures.length > 0) {
    const cl = r.pick(closures);
    return r.chance(0.5) ? cl.from : cl.to;
  }
  return t + r.logInt(14 * DAY);
}

function duration(r: Rng, v: Variant, o: OracleCalendar, start: number, closures: Closure[]): number {
  const c = r.next();
  let d: number;
  if (c < 0.02) d = 0;
  else if (c < 0.1) d = r.int(1, 1000);
  else if (c < 0.16) d = r.int(1, 60) * SECOND;
  else if (c < 0.3) d = r.int(1, 10) * WORKING_DAY;
  else if (c < 0.4) d = r.int(1, 10) * WORKING_DAY + r.sign() * r.pick([1, 999, 1000, 60_000, 300_000]);
  else if (c < 0.55) d = r.int(1, TEN_WORKING_DAYS);
  else if (c < 0.65) d = r.int(1, 90 * 60) * MINUTE;
  else if (c < 0.75) d = r.int(1, 90) * HOUR;
  else {
    // Exactly the working time up to an edge or closure bound: the answer should land on it.
    const target = aimAfter(r, v, start, closures);
    d = target > start ? oracleCounted(o, start, target) : 0;
    if (d === 0 || d > TEN_WORKING_DAYS) d = r.int(1, 10) * WORKING_DAY;
  }
  return Math.min(Math.max(d, 0), TEN_WORKING_DAYS);
}

// ---------------------------------------------------------------------------------------------
// The run: scenarios (a calendar with some closures, around an anchor) of many cases each.

interface Mismatch {
  calendar: string;
  check: string;
  closures: Array<[string, string]>;
  start: string;
  durationMs?: number;
  end?: string;
  pauses?: Array<[string, string]>;
  expected: string | number | boolean | null;
  got: string | number | boolean | null;
}

interface Counts {
  cases: number;
  addWorking: number;
  countedBetween: number;
  isOpen: number;
  nextOpening: number;
  pausedDueAt: number;
  oracleSelf: number;
  mismatches: number;
}

const CASES_PER_SCENARIO = 30;

function run(name: string, variants: Variant[], cases: number): { counts: Counts; mismatches: Mismatch[]; seed: number } {
  const seed = (BASE_SEED ^ hashName(name)) >>> 0;
  const r = new Rng(seed);
  const counts: Counts = { cases: 0, addWorking: 0, countedBetween: 0, isOpen: 0, nextOpening: 0, pausedDueAt: 0, oracleSelf: 0, mismatches: 0 };
  const mismatches: Mismatch[] = [];
  const target = Math.ceil(cases * SCALE);
  while (counts.cases < target) {
    const v = r.pick(variants);
    const a = anchor(r, v);
    const closures = r.chance(0.3) ? [] : closuresNear(r, v, a);
    const o: OracleCalendar = { ...v.oracle, closures };
    const eng = v.engine(closures);
    const shownClosures = closures.map((c): [string, string] => [iso(c.from), iso(c.to)]);
    const report = (m: Omit<Mismatch, 'calendar' | 'closures'>): void => {
      counts.mismatches++;
      if (mismatches.length < 20) mismatches.push({ calendar: v.label, closures: shownClosures, ...m });
    };
    for (let k = 0; k < CASES_PER_SCENARIO && counts.cases < target; k++) {
      counts.cases++;
      const start = caseStart(r, v, a, closures);
      const s = iso(start);

      // addWorking
      const d = duration(r, v, o, start, closures);
      const expectedDue = oracleAddWorking(o, start, d);
      const gotDue = eng.addWorking(start, d);
      counts.addWorking++;
      if (gotDue !== expectedDue) report({ check: 'addWorking', start: s, durationMs: d, expected: iso(expectedDue), got: iso(gotDue) });
      if (r.chance(0.1)) {
        // The oracle agrees with itself: the answer counts exactly d, and a millisecond earlier does not.
        counts.oracleSelf++;
        const at = oracleCounted(o, start, expectedDue);
        const before = oracleCounted(o, start, expectedDue - 1);
        if (at !== d || (d > 0 && before >= d)) {
          report({ check: 'oracle self-check', start: s, durationMs: d, expected: d, got: `${at} at due, ${before} 1 ms before` });
        }
      }

      // countedBetween
      const e = r.chance(0.5) ? expectedDue + (r.chance(0.5) ? jitter(r) : 0) : r.chance(0.1) ? start - r.logInt(DAY) : aimAfter(r, v, start, closures);
      const expectedCount = oracleCounted(o, start, e);
      const gotCount = eng.countedBetween(start, e);
      counts.countedBetween++;
      if (gotCount !== expectedCount) report({ check: 'countedBetween', start: s, end: iso(e), expected: expectedCount, got: gotCount });

      // isOpen and nextOpening
      const expectedOpen = oracleCounted(o, start, start + 1) === 1;
      counts.isOpen++;
      if (eng.isOpen(start) !== expectedOpen) report({ check: 'isOpen', start: s, expected: expectedOpen, got: !expectedOpen });
      const expectedNext = oracleAddWorking(o, start, 1) - 1;
      const gotNext = eng.nextOpening(start);
      counts.nextOpening++;
      if (gotNext !== expectedNext) report({ check: 'nextOpening', start: s, expected: iso(expectedNext), got: iso(gotNext) });

      // A complaint's 10-working-day resolve clock with pauses, through the clock engine.
      if (r.chance(0.25)) {
        const pauses: Array<{ from: number; to: number }> = [];
        let t = start;
        for (let i = r.int(1, 4); i > 0; i--) {
          const g = r.next();
          const from =
            g < 0.2 ? t : g < 0.5 ? t + r.logInt(3 * DAY) : g < 0.8 ? Math.max(t, aimAfter(r, v, t, closures) + jitter(r)) : t + Math.abs(jitter(r));
          const l = r.next();
          const to = l < 0.1 ? from : l < 0.3 ? from + r.int(1, 1000) : l < 0.6 ? from + r.logInt(2 * DAY) : Math.max(from, aimAfter(r, v, from, closures));
          pauses.push({ from, to });
          t = to;
        }
        const contact = parseContact({
          id: 'property',
          channel: 'webform',
          category: 'complaint',
          receivedAt: s,
          events: pauses.flatMap((p) => [
            { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting the customer', at: iso(p.from) },
            { type: 'resumed', clock: 'complaint-resolve', at: iso(p.to) },
          ]),
        });
        const clock = evaluateContact(contact, LIVEWEST_1, { always: ALWAYS, 'customer-services': eng }, NOW).clocks.find(
          (c) => c.standard === 'complaint-resolve',
        );
        const expectedPausedDue = oracleAddWorking(o, start, TEN_WORKING_DAYS, pauses);
        counts.pausedDueAt++;
        if (clock?.dueAt !== expectedPausedDue) {
          report({
            check: 'complaint-resolve dueAt with pauses',
            start: s,
            durationMs: TEN_WORKING_DAYS,
            pauses: pauses.map((p): [string, string] => [iso(p.from), iso(p.to)]),
            expected: iso(expectedPausedDue),
            got: clock?.dueAt == null ? null : iso(clock.dueAt),
          });
        }
      }
    }
  }
  return { counts, mismatches, seed };
}

function assertNoMismatches(name: string, result: ReturnType<typeof run>): void {
  const { counts, mismatches, seed } = result;
  const checks = counts.addWorking + counts.countedBetween + counts.isOpen + counts.nextOpening + counts.pausedDueAt;
  console.log(
    `${name}: ${counts.cases} cases, ${checks} comparisons (addWorking ${counts.addWorking}, countedBetween ${counts.countedBetween}, ` +
      `isOpen ${counts.isOpen}, nextOpening ${counts.nextOpening}, paused dueAt ${counts.pausedDueAt}; oracle self-checks ${counts.oracleSelf}), seed ${BASE_SEED}`,
  );
  const shown = mismatches
    .slice(0, 5)
    .map((m) => JSON.stringify(m))
    .join('\n');
  expect(
    counts.mismatches,
    `${counts.mismatches} mismatches between engine and oracle in "${name}" ` +
      `(reproduce: KEPT_PROPERTY_SEED=${BASE_SEED} npx vitest run tests/property; stream seed ${seed}). First cases:\n${shown}`,
  ).toBe(0);
}

// ---------------------------------------------------------------------------------------------

describe('working-time engine against the brute-force oracle', () => {
  it('customer-services, england-and-wales (Mon–Fri 08:00–17:00 Europe/London)', () => {
    const result = run('england-and-wales', [customerServices('england-and-wales')], 6000);
    assertNoMismatches('customer-services england-and-wales', result);
  });

  it('customer-services, scotland', () => {
    assertNoMismatches('customer-services scotland', run('scotland', [customerServices('scotland')], 3000));
  });

  it('customer-services, northern-ireland', () => {
    assertNoMismatches('customer-services northern-ireland', run('northern-ireland', [customerServices('northern-ireland')], 3000));
  });

  it('lunch break and Saturday morning (Mon–Fri 08:00–12:30, 13:30–17:00; Sat 09:00–12:00)', () => {
    const v = variant('lunch + Saturday, england-and-wales, Europe/London', 'Europe/London', 'england-and-wales', LUNCH_HOURS,
      compiled('Europe/London', 'england-and-wales', LUNCH_HOURS));
    assertNoMismatches('lunch + Saturday', run('lunch', [v], 4000));
  });

  it('another zone: customer-services hours in America/New_York', () => {
    assertNoMismatches('America/New_York', run('new-york', [customerServices('england-and-wales', 'America/New_York')], 3000));
  });

  it('hours across the clock changes (London nights, Santiago midnight changes, Lord Howe half-hour changes)', () => {
    const variants = [
      variant('night hours, england-and-wales, Europe/London', 'Europe/London', 'england-and-wales', LONDON_NIGHT_HOURS,
        compiled('Europe/London', 'england-and-wales', LONDON_NIGHT_HOURS)),
      variant('midnight changes, scotland, America/Santiago', 'America/Santiago', 'scotland', SANTIAGO_HOURS,
        compiled('America/Santiago', 'scotland', SANTIAGO_HOURS)),
      variant('half-hour changes, northern-ireland, Australia/Lord_Howe', 'Australia/Lord_Howe', 'northern-ireland', LORD_HOWE_HOURS,
        compiled('Australia/Lord_Howe', 'northern-ireland', LORD_HOWE_HOURS)),
    ];
    assertNoMismatches('across clock changes', run('clock-changes', variants, 3000));
  });
});

describe('the oracle itself reproduces STANDARDS §7', () => {
  const ew = oracleCalendarFromGovUk('england-and-wales');
  const due = (cal: OracleCalendar, start: string, ms: number, pauses: Array<{ from: number; to: number }> = []): string =>
    iso(oracleAddWorking(cal, Date.parse(start), ms, pauses));

  it('rows 1–7: due instants of 1- and 2-working-day clocks', () => {
    expect(due(ew, '2026-03-02T10:00:00Z', WORKING_DAY)).toBe('2026-03-03T10:00:00.000Z'); // 1
    expect(due(ew, '2026-03-07T11:00:00Z', WORKING_DAY)).toBe('2026-03-09T17:00:00.000Z'); // 2
    expect(due(ew, '2026-03-02T08:00:00Z', WORKING_DAY)).toBe('2026-03-02T17:00:00.000Z'); // 3
    expect(due(ew, '2026-04-02T14:00:00Z', WORKING_DAY)).toBe('2026-04-07T14:00:00.000Z'); // 4
    expect(due(ew, '2026-12-24T12:00:00Z', 2 * WORKING_DAY)).toBe('2026-12-30T12:00:00.000Z'); // 5
    expect(due(ew, '2026-03-27T16:00:00Z', WORKING_DAY)).toBe('2026-03-30T15:00:00.000Z'); // 6
    expect(due(ew, '2026-10-23T08:30:00Z', WORKING_DAY)).toBe('2026-10-26T09:30:00.000Z'); // 7
  });

  it('rows 8–9: the due instant is the earliest one (met at dueAt, missed 1 ms after)', () => {
    const start = Date.parse('2026-03-02T10:00:00Z');
    const dueAt = oracleAddWorking(ew, start, WORKING_DAY);
    expect(oracleCounted(ew, start, dueAt)).toBe(WORKING_DAY);
    expect(oracleCounted(ew, start, dueAt - 1)).toBe(WORKING_DAY - 1);
  });

  it('rows 13–14: complaint-resolve, and 6 working hours paused', () => {
    expect(due(ew, '2026-03-06T16:00:00Z', TEN_WORKING_DAYS)).toBe('2026-03-20T16:00:00.000Z');
    const pause = { from: Date.parse('2026-03-09T12:00:00Z'), to: Date.parse('2026-03-10T09:00:00Z') };
    expect(oracleCounted(ew, pause.from, pause.to)).toBe(6 * HOUR);
    expect(due(ew, '2026-03-06T16:00:00Z', TEN_WORKING_DAYS, [pause])).toBe('2026-03-23T13:00:00.000Z');
  });

  it('row 16: a bank holiday in Scotland only', () => {
    expect(due(ew, '2026-08-03T09:00:00Z', WORKING_DAY)).toBe('2026-08-04T09:00:00.000Z');
    expect(due(oracleCalendarFromGovUk('scotland'), '2026-08-03T09:00:00Z', WORKING_DAY)).toBe('2026-08-04T16:00:00.000Z');
  });

  it('row 17: a closure on Christmas Eve afternoon', () => {
    const closed = oracleCalendarFromGovUk('england-and-wales', undefined, [
      { from: Date.parse('2026-12-24T12:00:00Z'), to: Date.parse('2026-12-24T17:00:00Z') },
    ]);
    expect(due(closed, '2026-12-24T10:00:00Z', WORKING_DAY)).toBe('2026-12-29T15:00:00.000Z');
  });

  it('the generator aims at the right days: London changes clocks on the last Sundays of March and October at 01:00 UTC', () => {
    const london = transitions('Europe/London', FROM_2025, TO_2029).map(iso);
    expect(london).toEqual([
      '2025-03-30T01:00:00.000Z', '2025-10-26T01:00:00.000Z',
      '2026-03-29T01:00:00.000Z', '2026-10-25T01:00:00.000Z',
      '2027-03-28T01:00:00.000Z', '2027-10-31T01:00:00.000Z',
      '2028-03-26T01:00:00.000Z', '2028-10-29T01:00:00.000Z',
    ]);
  });
});
