// The board's figures as a pure function: the running clocks, today's ledger, the board's calendar
// and the site facts in; BoardFigures out. No clock is read (`now` is a parameter), no store is
// touched: tests/unit/board.test.ts checks the figures by hand.
import { localToUtc, type WorkingCalendar } from '../domain/calendar.js';
import { phoneStats, type CallOutcome } from '../domain/metrics.js';
import { DAY, MINUTE, dateOfDayNumber } from '../domain/time.js';
import type { BoardFigures, BusyNotice, ChannelTile, IntradayBucket, LiveChannel, PromiseTally, PromiseTile, RecentServiceLevel } from './protocol.js';
import { openingWords, type PublicWording } from './site.js';

export const LIVE_CHANNELS: readonly LiveChannel[] = ['phone', 'email', 'webform', 'social', 'voicemail'];
const CHANNEL_INDEX: Readonly<Record<string, number>> = Object.fromEntries(LIVE_CHANNELS.map((ch, i) => [ch, i]));
const HALF_HOUR = 30 * MINUTE;

/**
 * The first response a contact on `channel` is waiting for, as its channel tile counts it: an answer,
 * a reply, an acknowledgement or a make-safe. On the phone tile only the call itself counts: an
 * answered emergency or complaint call is no longer waiting in the queue (its other clocks still show
 * as at risk or breached), and is handled once, when answered.
 */
export function isFirstResponse(standard: string, channel?: string): boolean {
  if (channel === 'phone') return standard === 'phone-answer';
  return standard === 'phone-answer' || standard.endsWith('-reply') || standard.endsWith('-acknowledge') || standard === 'emergency-make-safe';
}

/** A running clock as the board counts it (LiveService keeps one per open clock). */
export interface RunningClock {
  /** "contactId/standard" */
  readonly key: string;
  readonly contactId: string;
  readonly standard: string;
  /** running, at-risk, breached or paused. */
  status: string;
  readonly dueAt: number | null;
  readonly atRiskAt: number | null;
  readonly channel: string;
  readonly receivedAt: number;
  /** The contact's one first-response clock that counts it as waiting on its channel's tile. */
  countsWaiting: boolean;
}

/** Today in the board calendar's zone. */
export interface LocalDay {
  /** Local midnight, as a UTC instant. */
  start: number;
  /** The next local midnight (23 or 25 hours later on a clock-change day). */
  end: number;
  /** YYYY-MM-DD */
  date: string;
  timeZone: string;
}

export function localDay(calendar: WorkingCalendar, now: number): LocalDay {
  const day = calendar.localDayNumber(now);
  const timeZone = calendar.timeZone;
  return { start: localToUtc(timeZone, day * DAY), end: localToUtc(timeZone, (day + 1) * DAY), date: dateOfDayNumber(day), timeZone };
}

/** Today's ledger as the board reads it. */
export interface TodayFigures {
  /** Calls received today, with their phone-answer outcome. */
  calls: Iterable<CallOutcome>;
  /** receivedAt of every contact received today, any channel. */
  received: Iterable<number>;
  /** Clocks met or missed today, counted per channel and standard. */
  handled: Iterable<{ channel: string; standard: string; n: number }>;
  /** Each clock that ended met or missed today: its standard, outcome and due instant (for the kept/broken tally). */
  ended: Iterable<EndedClock>;
}

/** A clock that ended today as met, missed, met-extended or missed-extended. */
export interface EndedClock {
  standard: string;
  status: string;
  dueAt: number | null;
}

/** The site facts: the board's calendar and what the configuration and the pack say. */
export interface BoardSite {
  calendar: WorkingCalendar;
  /** The board's heading: the calendar's name. */
  title: string;
  /** The pack's phone-answer target (ms), or null when the pack has none. */
  phoneTargetMs: number | null;
  /** Busy from this many calls waiting (KEPT_BUSY_CALLS_WAITING)… */
  busyCallsWaiting: number;
  /** …or an oldest wait this long (KEPT_BUSY_OLDEST_WAIT_SECONDS). */
  busyOldestWaitSeconds: number;
  wording: PublicWording;
  /** The service level aimed for, 0–1 (KEPT_BOARD_SERVICE_LEVEL_TARGET): the chart's target line. */
  serviceLevelTarget: number;
  /** The pack's standards for complaints and emergencies (those applying by category), in pack order. */
  promiseStandards: readonly string[];
  /** The hazard standards (Awaab's Law, the packs beside the centre's), in pack order: their own tile, not the channels'. */
  hazardStandards: readonly string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The closed message for `now`: `{nextOpening}` in words. */
function closedMessage(site: BoardSite, now: number, next: number): string {
  const cal = site.calendar;
  const when = openingWords(next, cal.localDayNumber(next) - cal.localDayNumber(now), cal.timeZone);
  return site.wording.closed.replace(/\{nextOpening\}/g, when);
}

/** The busy notice from the phone queue: busy only while open; the words customers are shown. */
export function busyNotice(site: BoardSite, now: number, callsWaiting: number, oldestCall: number): BusyNotice {
  const longestWaitSeconds = callsWaiting > 0 ? Math.max(0, Math.floor((now - oldestCall) / 1000)) : 0;
  const open = site.calendar.isOpen(now);
  const busy = open && (callsWaiting >= site.busyCallsWaiting || longestWaitSeconds >= site.busyOldestWaitSeconds);
  const message = !open ? closedMessage(site, now, site.calendar.nextOpening(now)) : busy ? site.wording.busy : site.wording.open;
  return { busy, message, callsWaiting, longestWaitSeconds };
}

/** The phone queue now: calls waiting (open phone-answer clocks) and the oldest's receivedAt. */
export function phoneQueue(clocks: Iterable<RunningClock>, now: number): { callsWaiting: number; oldest: number } {
  let callsWaiting = 0;
  let oldest = now;
  for (const c of clocks) {
    if (c.standard !== 'phone-answer') continue;
    callsWaiting++;
    if (c.receivedAt < oldest) oldest = c.receivedAt;
  }
  return { callsWaiting, oldest };
}

/**
 * Half hours of today (local time) for the chart: from the calendar's first opening today to its last
 * closing, widened to the first contact received and to the half hour now is in (never past local
 * midnight). A day the calendar is closed (a weekend, a bank holiday) shows only the half hours from
 * its first contact to now, and none before a contact arrives.
 */
export function intradayBuckets(day: LocalDay, calendar: WorkingCalendar, now: number, calls: readonly CallOutcome[], received: Iterable<number>, targetMs: number | null): IntradayBucket[] {
  const align = (t: number) => day.start + Math.floor((t - day.start) / HALF_HOUR) * HALF_HOUR;
  const opening = calendar.workingIntervals(day.start, day.end);
  let first = Infinity;
  let last = -Infinity;
  if (opening.length > 0) {
    first = align(opening[0]!.from);
    last = align(opening[opening.length - 1]!.to - 1) + HALF_HOUR;
  }
  const times: number[] = [];
  for (const r of received) {
    if (r < day.start || r >= day.end) continue;
    times.push(r);
    if (r < first) first = align(r);
  }
  if (first === Infinity) return [];
  if (now >= day.start && now < day.end) last = Math.max(last, align(now) + HALF_HOUR);
  last = Math.min(last, day.end);
  const n = Math.max(0, Math.ceil((last - first) / HALF_HOUR));
  const volume = new Array<number>(n).fill(0);
  const bucketCalls: CallOutcome[][] = Array.from({ length: n }, () => []);
  for (const r of times) {
    const i = Math.floor((r - first) / HALF_HOUR);
    if (i >= 0 && i < n) volume[i]!++;
  }
  for (const c of calls) {
    const i = Math.floor((c.receivedAt - first) / HALF_HOUR);
    if (i >= 0 && i < n) bucketCalls[i]!.push(c);
  }
  const label = labelFormat(day.timeZone);
  const buckets: IntradayBucket[] = [];
  for (let i = 0; i < n; i++) {
    const from = first + i * HALF_HOUR;
    buckets.push({ from: iso(from), label: label.format(from), volume: volume[i]!, callsOffered: bucketCalls[i]!.length, serviceLevel: targetMs === null ? null : phoneStats(bucketCalls[i]!, now, targetMs).serviceLevel });
  }
  return buckets;
}

const labels = new Map<string, Intl.DateTimeFormat>();
function labelFormat(timeZone: string): Intl.DateTimeFormat {
  let f = labels.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    labels.set(timeZone, f);
  }
  return f;
}

/** The windows of the recent service levels, minutes. */
export const RECENT_MINUTES = [15, 30, 60] as const;
/** The estimated wait reads the answer rate over this window. */
const ESTIMATE_WINDOW = 15 * MINUTE;

/**
 * Estimated wait for a caller joining now: the caller is answered after everyone waiting ahead and
 * then themselves, (waiting + 1) calls, at the rate calls were answered over the last 15 minutes.
 * Nobody waiting and calls being answered: 0. No call answered in 15 minutes: null (nothing to go on).
 */
export function estimatedWait(calls: readonly CallOutcome[], now: number, callsWaiting: number): { ms: number | null; answered: number } {
  let answered = 0;
  for (const c of calls) {
    if (c.answeredAt !== null && (c.status === 'met' || c.status === 'missed') && c.answeredAt > now - ESTIMATE_WINDOW && c.answeredAt <= now) answered++;
  }
  if (answered === 0) return { ms: null, answered };
  if (callsWaiting === 0) return { ms: 0, answered };
  return { ms: Math.round(((callsWaiting + 1) * ESTIMATE_WINDOW) / answered), answered };
}

/** The service level over calls that entered the queue in the last `minutes` (STANDARDS §6, the same rule as today's). */
export function recentServiceLevel(calls: readonly CallOutcome[], now: number, targetMs: number, minutes: number): RecentServiceLevel {
  const since = now - minutes * MINUTE;
  const s = phoneStats(
    calls.filter((c) => c.receivedAt > since && c.receivedAt <= now),
    now,
    targetMs,
  );
  return { minutes, serviceLevel: s.serviceLevel, answeredWithinTarget: s.answeredWithinTarget, decided: s.answered + s.abandons + s.waitingOverTarget, stillWaiting: s.waiting - s.waitingOverTarget };
}

/** One standard's running clocks, as the board's single pass counts them. */
interface StandardCount {
  open: number;
  atRisk: number;
  breached: number;
  paused: number;
  extended: number;
  /** Breached clocks whose due instant fell today (today's broken promises still open). */
  breachedDueToday: number;
  /** Soonest due instant not yet passed, or Infinity. */
  next: number;
}

/**
 * Per-standard counts of the running clocks: one Map look-up per clock (a one-entry cache in front:
 * a few standards repeat across 100,000 clocks), feeding the complaint and emergency figures and the
 * broken-today tally.
 */
class StandardCounter {
  readonly by = new Map<string, StandardCount>();
  private lastStandard = '';
  private last: StandardCount | null = null;
  constructor(
    private readonly dueFrom: number,
    private readonly dueTo: number,
  ) {}
  add(c: RunningClock): void {
    let k = this.last;
    if (k === null || c.standard !== this.lastStandard) {
      k = this.by.get(c.standard) ?? null;
      if (k === null) this.by.set(c.standard, (k = { open: 0, atRisk: 0, breached: 0, paused: 0, extended: 0, breachedDueToday: 0, next: Infinity }));
      this.last = k;
      this.lastStandard = c.standard;
    }
    k.open++;
    const status = c.status;
    const due = c.dueAt;
    // An extended clock has an agreed due instant and no at-risk instant (STANDARDS §3); a paused one has neither.
    if (status !== 'paused' && due !== null && c.atRiskAt === null) k.extended++;
    if (status === 'breached') {
      k.breached++;
      if (due !== null && due >= this.dueFrom && due < this.dueTo) k.breachedDueToday++;
      return;
    }
    if (status === 'paused') {
      k.paused++;
      return;
    }
    if (status === 'at-risk') k.atRisk++;
    if (due !== null && due < k.next) k.next = due;
  }
  promises(standards: readonly string[]): PromiseTile[] {
    return standards.map((standard) => {
      const k = this.by.get(standard);
      if (k === undefined) return { standard, open: 0, atRisk: 0, breached: 0, paused: 0, extended: 0, nextDueAt: null };
      return { standard, open: k.open, atRisk: k.atRisk, breached: k.breached, paused: k.paused, extended: k.extended, nextDueAt: k.next === Infinity ? null : iso(k.next) };
    });
  }
  breachedToday(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [standard, k] of this.by) if (k.breachedDueToday > 0) out[standard] = k.breachedDueToday;
    return out;
  }
}

const KEPT = new Set(['met', 'met-extended']);
const MISSED = new Set(['missed', 'missed-extended']);

/**
 * Today's promises per standard: kept = ended met (or met within an extension) today; broken = due
 * today before now and not met by then: still breached, or ended missed with its due instant today.
 * Standards with neither are left out; the promise standards come first, then the rest by name.
 */
export function promiseTally(day: LocalDay, now: number, breachedDueToday: Readonly<Record<string, number>>, ended: Iterable<EndedClock>, first: readonly string[]): PromiseTally[] {
  const by = new Map<string, PromiseTally>();
  const get = (standard: string) => {
    let t = by.get(standard);
    if (t === undefined) by.set(standard, (t = { standard, kept: 0, keptExtended: 0, broken: 0 }));
    return t;
  };
  const dueToday = (dueAt: number | null) => dueAt !== null && dueAt >= day.start && dueAt < Math.min(now, day.end);
  for (const e of ended) {
    if (KEPT.has(e.status)) {
      const t = get(e.standard);
      t.kept++;
      if (e.status === 'met-extended') t.keptExtended++;
    } else if (MISSED.has(e.status) && dueToday(e.dueAt)) get(e.standard).broken++;
  }
  for (const [standard, n] of Object.entries(breachedDueToday)) get(standard).broken += n;
  const rank = new Map(first.map((s, i) => [s, i]));
  return [...by.values()].sort((a, b) => (rank.get(a.standard) ?? Infinity) - (rank.get(b.standard) ?? Infinity) || (a.standard < b.standard ? -1 : a.standard > b.standard ? 1 : 0));
}

/** The board: channel tiles, today's phone figures, the intraday chart and the busy notice, as of `now`. */
export function boardFigures(now: number, clocks: Iterable<RunningClock>, today: TodayFigures, site: BoardSite): BoardFigures {
  const day = localDay(site.calendar, now);
  const target = site.phoneTargetMs;
  // One pass over the running clocks: no per-delta sets or string tests (100,000 clocks ≈ a few ms).
  const tiles: ChannelTile[] = LIVE_CHANNELS.map((ch) => ({ channel: ch, waitingNow: 0, oldestWaitingSince: null, handledToday: 0, atRisk: 0, breached: 0 }));
  const oldest = LIVE_CHANNELS.map(() => Infinity);
  const standards = new StandardCounter(day.start, Math.min(now, day.end));
  let callsOver = 0;
  let callsWaiting = 0;
  let oldestCall = now;
  const hazard = new Set(site.hazardStandards);
  for (const c of clocks) {
    standards.add(c);
    const i = CHANNEL_INDEX[c.channel];
    if (i === undefined) continue;
    const tile = tiles[i]!;
    // A hazard's statutory clocks are the hazard tile's, not the channel's: an email about mould is
    // not a late reply because its investigation is at risk.
    if (c.status === 'at-risk' || c.status === 'breached') {
      if (!hazard.has(c.standard)) {
        if (c.status === 'at-risk') tile.atRisk++;
        else tile.breached++;
      }
    }
    if (c.countsWaiting) {
      tile.waitingNow++;
      if (c.receivedAt < oldest[i]!) oldest[i] = c.receivedAt;
    }
    if (c.standard === 'phone-answer') {
      callsWaiting++;
      if (c.receivedAt < oldestCall) oldestCall = c.receivedAt;
      if (target !== null && now - c.receivedAt > target) callsOver++;
    }
  }
  tiles.forEach((t, i) => {
    if (oldest[i] !== Infinity) t.oldestWaitingSince = iso(oldest[i]!);
  });
  for (const h of today.handled) {
    const tile = tiles[CHANNEL_INDEX[h.channel] ?? -1];
    if (tile !== undefined && isFirstResponse(h.standard, h.channel)) tile.handledToday += h.n;
  }
  const calls = [...today.calls];
  // With no phone target in the pack nothing is "within target": the counts stand, the level does not.
  const stats = phoneStats(calls, now, target ?? Infinity);
  const estimate = estimatedWait(calls, now, callsWaiting);
  const open = site.calendar.isOpen(now);
  return {
    at: iso(now),
    today: day.date,
    timeZone: day.timeZone,
    calendar: site.calendar.id,
    title: site.title,
    openNow: open,
    nextOpening: iso(site.calendar.nextOpening(now)),
    tiles,
    phone: {
      targetMs: target,
      serviceLevel: target === null ? null : stats.serviceLevel,
      offered: stats.offered,
      answeredWithinTarget: target === null ? 0 : stats.answeredWithinTarget,
      shortAbandons: stats.shortAbandons,
      abandons: stats.abandons,
      callsWaitingOverTarget: callsOver,
      callbacksRequested: stats.callbacksRequested,
      callbacksConnected: stats.callbacksConnected,
      averageSpeedOfAnswerMs: stats.averageSpeedOfAnswerMs,
      decided: target === null ? 0 : stats.answered + stats.abandons + stats.waitingOverTarget,
      stillWaiting: target === null ? stats.waiting : stats.waiting - stats.waitingOverTarget,
      recent: target === null ? [] : RECENT_MINUTES.map((m) => recentServiceLevel(calls, now, target, m)),
      estimatedWaitMs: estimate.ms,
      answeredLast15: estimate.answered,
    },
    serviceLevelTarget: site.serviceLevelTarget,
    promises: standards.promises(site.promiseStandards),
    hazards: standards.promises(site.hazardStandards),
    tally: promiseTally(day, now, standards.breachedToday(), today.ended, site.promiseStandards),
    intraday: intradayBuckets(day, site.calendar, now, calls, today.received, target),
    busy: busyNotice(site, now, callsWaiting, oldestCall),
  };
}
