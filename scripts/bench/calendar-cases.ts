// The cases of `npm run bench:calendar`: a seeded, deterministic list of (start, working duration,
// end of an elapsed-time query) triples in Europe/London, weighted to where working-time
// arithmetic goes wrong: the days around the clock changes, bank holidays, and the opening and
// closing edges. Nothing here uses Kept's engine (local times come from Intl directly), so the
// cases do not lean on the code they measure.
import { mulberry32 } from '../lib/prng.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const ZONE = 'Europe/London';

/** The seeded generator of the cases (mulberry32). */
export const prng = mulberry32;

const londonParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** London's UTC offset (ms) at instant t, from the platform's zone database. */
export function londonOffset(t: number): number {
  const f: Record<string, number> = {};
  for (const p of londonParts.formatToParts(t)) if (p.type !== 'literal') f[p.type] = +p.value;
  const wall = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour! % 24, f.minute!, f.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The UTC instant of a London wall time on a local date (not for times inside the spring gap). */
export function londonToUtc(localDay: number, msOfDay: number): number {
  const wall = localDay * DAY + msOfDay;
  return wall - londonOffset(wall - londonOffset(wall));
}

/** Local day number (days since 1970-01-01) of instant t in London. */
export function londonDay(t: number): number {
  return Math.floor((t + londonOffset(t)) / DAY);
}

function lastSundayUtc(year: number, month: number): number {
  const last = Date.UTC(year, month + 1, 0);
  return last - new Date(last).getUTCDay() * DAY;
}

/** UK clock changes (01:00 UTC on the last Sunday of March and of October), 2024–2029. */
export const CLOCK_CHANGES: number[] = [];
for (let y = 2024; y <= 2029; y++) CLOCK_CHANGES.push(lastSundayUtc(y, 2) + HOUR, lastSundayUtc(y, 9) + HOUR);

/** 'March' or 'October' when t lies within `days` days of that month's clock change, else null. */
export function nearClockChange(t: number, days = 7): 'March' | 'October' | null {
  const c = CLOCK_CHANGES.find((x) => Math.abs(t - x) <= days * DAY);
  return c === undefined ? null : new Date(c).getUTCMonth() === 2 ? 'March' : 'October';
}

export interface Cases {
  n: number;
  /** Start instants (epoch ms, ms precision). */
  start: Float64Array;
  /** Working durations (ms), from a minute to 10 working days of 9 h. */
  duration: Float64Array;
  /** End of the elapsed-time query [start, to). */
  to: Float64Array;
  /** What each start was drawn for, for the report. */
  kind: Uint8Array;
}

/** The peer libraries, each run in a worker (scripts/bench/peer-worker.ts, calendar-peers.ts). */
export const PEERS = ['moment-business-time', 'dayjs-business-time'] as const;
export type PeerName = (typeof PEERS)[number];

/** Per-task status of a peer call (shared by the main thread and the peer workers). */
export const STATUS = { notRun: 0, ok: 1, threw: 2, hang: 3 } as const;

export const KINDS = ['clock change', 'bank holiday', 'open/close edge', 'anywhere'] as const;

const FIRST = Date.UTC(2025, 0, 1);
const LAST = Date.UTC(2029, 0, 1);
const OPEN = 8 * HOUR;
const CLOSE = 17 * HOUR;
const WORKING_DAY = 9 * HOUR;

/**
 * `n` cases from `seed`, in random order (so any prefix is a sample of the whole), in arrays
 * backed by SharedArrayBuffers so workers read them without copying.
 */
export function makeCases(n: number, seed: number, holidayDates: string[]): Cases {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const shared = (bytes: number) => new SharedArrayBuffer(bytes);
  const cases: Cases = {
    n,
    start: new Float64Array(shared(8 * n)),
    duration: new Float64Array(shared(8 * n)),
    to: new Float64Array(shared(8 * n)),
    kind: new Uint8Array(shared(n)),
  };
  const changes = CLOCK_CHANGES.filter((c) => c >= FIRST && c < LAST);
  const holidays = holidayDates
    .filter((d) => d >= '2025-01-01' && d <= '2028-12-31')
    .map((d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / DAY);

  /** An instant on the edge of opening or closing on local day `day`: exact, or a hair either side. */
  const edge = (day: number): number => {
    const at = londonToUtc(day, rnd() < 0.5 ? OPEN : CLOSE);
    const r = rnd();
    if (r < 0.4) return at;
    const sign = rnd() < 0.5 ? -1 : 1;
    if (r < 0.6) return at + sign;
    if (r < 0.75) return at + sign * 1000;
    if (r < 0.85) return at + sign * MINUTE;
    return at + sign * int(1, 30 * MINUTE);
  };
  /** Anywhere on local day `day` (ms precision), avoiding nothing. */
  const during = (day: number): number => londonToUtc(day, 0) + int(0, DAY - 1);

  for (let i = 0; i < n; i++) {
    let start: number;
    const r = rnd();
    if (r < 0.25) {
      // The week around a clock change: Thursday before to Wednesday after.
      cases.kind[i] = 0;
      const day = Math.floor(pick(changes) / DAY) + int(-3, 3);
      start = rnd() < 0.5 ? edge(day) : during(day);
    } else if (r < 0.45) {
      // A bank holiday, the days before it and the day after.
      cases.kind[i] = 1;
      const day = pick(holidays) + int(-3, 1);
      start = rnd() < 0.5 ? edge(day) : during(day);
    } else if (r < 0.7) {
      cases.kind[i] = 2;
      start = edge(Math.floor(FIRST / DAY) + int(0, (LAST - FIRST) / DAY - 1));
    } else {
      cases.kind[i] = 3;
      start = FIRST + Math.floor(rnd() * (LAST - FIRST));
    }
    cases.start[i] = start;

    let duration: number;
    const d = rnd();
    if (d < 0.25) duration = int(MINUTE, 2 * HOUR); // minutes, any millisecond
    else if (d < 0.4) duration = int(1, 5 * 9 * 60) * MINUTE; // whole minutes up to 5 working days
    else if (d < 0.7) {
      // The pack's targets: 1, 2 and 10 working days, and the at-risk point at 80% of them.
      const days = pick([1, 1, 1, 2, 2, 10]);
      duration = rnd() < 0.7 ? days * WORKING_DAY : 0.8 * days * WORKING_DAY;
    } else duration = int(2 * HOUR, 10 * WORKING_DAY); // hours to 10 working days, any millisecond
    cases.duration[i] = duration;

    let to: number;
    const q = rnd();
    if (q < 0.15) to = start + int(0, 2 * HOUR);
    else if (q < 0.5) to = edge(londonDay(start) + int(0, 21));
    else to = start + int(0, 21 * DAY);
    cases.to[i] = Math.max(start, to);
  }
  return cases;
}
