// The weekly report's figures (issue 16, STANDARDS §6): pure functions over the clocks that started
// in the week, judged as of one instant (`asOf`). No I/O: server/reports/weekly.ts reads the rows.
import { phoneStats, SERVICE_LEVEL_VARIANTS, type CallOutcome, type ServiceLevelVariant } from '../domain/metrics.js';
import { formatInstant } from '../domain/time.js';
import type { Breach, ComplaintFigures, HalfHourRow, OpenComplaint, PeopleRow, PhoneFigures, QueuePhoneFigures, StandardRow } from './types.js';

/** A clock as the report reads it. */
export interface ReportClock {
  contactId: string;
  standard: string;
  standardVersion: string;
  /** As stored; a running clock is judged again as of the report's instant (judge()). */
  status: string;
  open: boolean;
  startedAt: number;
  dueAt: number | null;
  fulfilledAt: number | null;
  endedAt: number | null;
  /** Working time counted (less pauses); for a fulfilled clock, start to fulfilment: the time to reply. */
  countedMs: number;
  channel: string;
  assignee: string | null;
  callback: boolean;
  extendedUntil: number | null;
  /** The contact's named phone queue (issue 13), when the report read it. */
  queue?: string | null;
}

/** The outcome the report counts a clock under, as of `asOf`. */
export type Judged = 'met' | 'missed' | 'met-extended' | 'missed-extended' | 'breached' | 'open' | 'cancelled' | 'abandoned';

/**
 * A running clock past its due instant is `breached` (STANDARDS §3: from the first instant after
 * dueAt), whatever status the last write stored; running, at risk or paused is `open`. An abandoned
 * call (short or not) is `abandoned`: not in compliance, counted in the phone figures.
 */
export function judge(c: Pick<ReportClock, 'status' | 'open' | 'dueAt'>, asOf: number): Judged {
  switch (c.status) {
    case 'met':
    case 'missed':
    case 'met-extended':
    case 'missed-extended':
    case 'cancelled':
      return c.status;
    case 'abandoned':
    case 'abandoned-short':
      return 'abandoned';
    case 'paused':
      return 'open';
    default:
      return c.dueAt !== null && asOf > c.dueAt ? 'breached' : 'open';
  }
}

/**
 * Nearest-rank percentiles (p in 0–100) of numbers, sorted once (a typed array sorts numerically, without
 * a comparator): the same ranks as server/domain/metrics.ts `percentile`.
 */
export function percentiles(values: readonly number[], ps: readonly number[]): Array<number | null> {
  if (values.length === 0) return ps.map(() => null);
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!);
}

/** good ÷ (good + bad), null when nothing counts. */
const rate = (good: number, all: number): number | null => (all > 0 ? good / all : null);

export interface Tally {
  clocks: number;
  met: number;
  missed: number;
  breached: number;
  cancelled: number;
  metExtended: number;
  missedExtended: number;
  open: number;
  abandoned: number;
  /** Time to reply of the fulfilled clocks. */
  replies: number[];
}

export const emptyTally = (): Tally => ({ clocks: 0, met: 0, missed: 0, breached: 0, cancelled: 0, metExtended: 0, missedExtended: 0, open: 0, abandoned: 0, replies: [] });

/** `n` clocks of one outcome at once (counts made in SQLite), without reply times. */
export function addCount(t: Tally, j: Judged, n: number): void {
  t.clocks += n;
  switch (j) {
    case 'met': t.met += n; break;
    case 'missed': t.missed += n; break;
    case 'met-extended': t.metExtended += n; break;
    case 'missed-extended': t.missedExtended += n; break;
    case 'breached': t.breached += n; break;
    case 'cancelled': t.cancelled += n; break;
    case 'abandoned': t.abandoned += n; break;
    default: t.open += n; break;
  }
}

export function add(t: Tally, j: Judged, countedMs: number, fulfilled: boolean): void {
  t.clocks++;
  switch (j) {
    case 'met': t.met++; break;
    case 'missed': t.missed++; break;
    case 'met-extended': t.metExtended++; break;
    case 'missed-extended': t.missedExtended++; break;
    case 'breached': t.breached++; break;
    case 'cancelled': t.cancelled++; break;
    case 'abandoned': t.abandoned++; break;
    default: t.open++; break;
  }
  if (fulfilled && (j === 'met' || j === 'missed' || j === 'met-extended' || j === 'missed-extended')) t.replies.push(countedMs);
}

/** STANDARDS §6: (met + met within an extension) ÷ (those + missed + missed after an extension + still breached). */
export function complianceOf(t: Pick<Tally, 'met' | 'missed' | 'breached' | 'metExtended' | 'missedExtended'>): number | null {
  const good = t.met + t.metExtended;
  return rate(good, good + t.missed + t.missedExtended + t.breached);
}

/** One row per standard and channel, in the pack's order of standards then channel name. */
export function standardRows(clocks: readonly ReportClock[], asOf: number, order: readonly string[]): StandardRow[] {
  const groups = new Map<string, { standard: string; channel: string; versions: Set<string>; t: Tally }>();
  for (const c of clocks) {
    const key = `${c.standard}\u0000${c.channel}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { standard: c.standard, channel: c.channel, versions: new Set(), t: emptyTally() }));
    g.versions.add(c.standardVersion);
    add(g.t, judge(c, asOf), c.countedMs, c.fulfilledAt !== null);
  }
  const rank = (s: string) => {
    const i = order.indexOf(s);
    return i < 0 ? order.length : i;
  };
  return [...groups.values()]
    .sort((a, b) => rank(a.standard) - rank(b.standard) || (a.standard < b.standard ? -1 : a.standard > b.standard ? 1 : 0) || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0))
    .map(({ standard, channel, versions, t }) => {
      const [median, p90] = percentiles(t.replies, [50, 90]);
      return {
      standard,
      channel,
      versions: [...versions].sort(),
      clocks: t.clocks,
      met: t.met,
      missed: t.missed,
      breached: t.breached,
      cancelled: t.cancelled,
      metExtended: t.metExtended,
      missedExtended: t.missedExtended,
      open: t.open,
      abandoned: t.abandoned,
      compliance: complianceOf(t),
      replyMedianMs: median ?? null,
      replyP90Ms: p90 ?? null,
      };
    });
}

/** A phone-answer clock as a queued call, judged as of `asOf`. */
function callOf(c: ReportClock, asOf: number): CallOutcome {
  const j = judge(c, asOf);
  const status = j === 'breached' ? 'breached' : j === 'open' ? 'running' : c.status;
  return { receivedAt: c.startedAt, status, answeredAt: c.fulfilledAt, endedAt: c.endedAt, callback: c.callback };
}

/**
 * The phone figures over phone-answer clocks (one per queued call). Offered counts every call not
 * cancelled; the §6 service level leaves short abandons out and counts abandons after 5 s against;
 * the other variants are computed alongside. Longest wait: the longest any call of the week waited
 * (to its answer, its abandon, or `asOf` while still queued).
 */
export function phoneFigures(calls: readonly ReportClock[], asOf: number, targetMs = 300_000, queues: readonly ReportQueue[] = []): PhoneFigures {
  return { ...phoneTotals(calls, asOf, targetMs), byQueue: phoneByQueue(calls, asOf, targetMs, queues) };
}

/** A named phone queue as the report knows it (server/ingest/queues.ts KeptQueue). */
export interface ReportQueue {
  id: string;
  name: string;
  phoneAnswer?: boolean;
}

function phoneTotals(calls: readonly ReportClock[], asOf: number, targetMs: number): Omit<PhoneFigures, 'byQueue'> {
  const outcomes = calls.map((c) => callOf(c, asOf));
  const s = phoneStats(outcomes, asOf, targetMs, 'standard');
  const levels = {} as Record<ServiceLevelVariant, number | null>;
  for (const v of SERVICE_LEVEL_VARIANTS) levels[v] = v === 'standard' ? s.serviceLevel : phoneStats(outcomes, asOf, targetMs, v).serviceLevel;
  let longest: number | null = null;
  for (const o of outcomes) {
    if (o.status === 'cancelled') continue;
    const end = o.answeredAt ?? o.endedAt ?? asOf;
    const wait = end - o.receivedAt;
    if (longest === null || wait > longest) longest = wait;
  }
  return {
    offered: s.offered,
    answered: s.answered,
    answeredWithinTarget: s.answeredWithinTarget,
    abandoned: s.abandons,
    shortAbandons: s.shortAbandons,
    waiting: s.waiting,
    serviceLevel: s.serviceLevel,
    serviceLevels: levels,
    abandonRate: s.abandonRate,
    averageSpeedOfAnswerMs: s.averageSpeedOfAnswerMs,
    longestWaitMs: longest,
    callbacksRequested: s.callbacksRequested,
    callbacksConnected: s.callbacksConnected,
    callbacksWithinTarget: s.callbacksConnectedWithinTarget,
  };
}

/**
 * The phone figures per named queue (issue 13), each counted as the whole centre's (phoneFigures):
 * a row for every configured queue the phone-answer promise applies to, in the configuration's order
 * (zeros when it had no call), then any other queue the calls came in on, by id.
 */
export function phoneByQueue(calls: readonly ReportClock[], asOf: number, targetMs: number, queues: readonly ReportQueue[]): QueuePhoneFigures[] {
  const by = new Map<string, ReportClock[]>();
  for (const q of queues) if (q.phoneAnswer !== false) by.set(q.id, []);
  const others: string[] = [];
  for (const c of calls) {
    const id = c.queue ?? '';
    let list = by.get(id);
    if (list === undefined) {
      by.set(id, (list = []));
      others.push(id);
    }
    list.push(c);
  }
  others.sort();
  const ids = [...[...by.keys()].filter((id) => !others.includes(id)), ...others];
  return ids.map((id) => {
    const f = phoneTotals(by.get(id)!, asOf, targetMs);
    return {
      queue: id,
      name: id === '' ? 'No queue' : (queues.find((q) => q.id === id)?.name ?? id),
      offered: f.offered,
      answered: f.answered,
      answeredWithinTarget: f.answeredWithinTarget,
      abandoned: f.abandoned,
      shortAbandons: f.shortAbandons,
      serviceLevel: f.serviceLevel,
      averageSpeedOfAnswerMs: f.averageSpeedOfAnswerMs,
      longestWaitMs: f.longestWaitMs,
    };
  });
}

/** The calls by the local half hour they joined the queue in (48 rows, 00:00 to 23:30), summed over the week. */
export function halfHourRows(calls: readonly ReportClock[], asOf: number, localMinuteOfDay: (t: number) => number, targetMs = 300_000): HalfHourRow[] {
  const buckets: CallOutcome[][] = Array.from({ length: 48 }, () => []);
  for (const c of calls) buckets[Math.min(47, Math.floor(localMinuteOfDay(c.startedAt) / 30))]!.push(callOf(c, asOf));
  return buckets.map((b, i) => {
    const p = phoneStats(b, asOf, targetMs, 'standard');
    return {
      start: `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 === 0 ? '00' : '30'}`,
      offered: p.offered,
      answered: p.answered,
      answeredWithinTarget: p.answeredWithinTarget,
      abandoned: p.abandons,
      shortAbandons: p.shortAbandons,
      serviceLevel: p.serviceLevel,
      averageSpeedOfAnswerMs: p.averageSpeedOfAnswerMs,
    };
  });
}

/**
 * Complaints received in the week, from the pack's complaint clocks: `acknowledge` standards (fulfilled
 * by `acknowledged`) and `resolve` standards (fulfilled by `resolved`). Received = distinct contacts
 * with either clock (cancelled included: a withdrawn complaint was received). Rates are the clocks'
 * compliance. Open past target: those clocks still running past due as of `asOf`, oldest first.
 */
export function complaintFigures(clocks: readonly ReportClock[], asOf: number, ack: ReadonlySet<string>, resolve: ReadonlySet<string>): ComplaintFigures {
  const received = new Set<string>();
  const a = emptyTally();
  const r = emptyTally();
  let extended = 0;
  const open: OpenComplaint[] = [];
  for (const c of clocks) {
    const isAck = ack.has(c.standard);
    const isResolve = resolve.has(c.standard);
    if (!isAck && !isResolve) continue;
    received.add(c.contactId);
    const j = judge(c, asOf);
    add(isAck ? a : r, j, c.countedMs, c.fulfilledAt !== null);
    if (isResolve && c.extendedUntil !== null) extended++;
    if (j === 'breached') {
      open.push({
        contactId: c.contactId,
        standard: c.standard,
        receivedAt: formatInstant(c.startedAt),
        dueAt: c.dueAt === null ? null : formatInstant(c.dueAt),
        ageMs: asOf - c.startedAt,
        overdueMs: c.dueAt === null ? 0 : asOf - c.dueAt,
      });
    }
  }
  open.sort((x, y) => y.ageMs - x.ageMs || (x.contactId < y.contactId ? -1 : x.contactId > y.contactId ? 1 : 0) || (x.standard < y.standard ? -1 : 1));
  return {
    received: received.size,
    acknowledged: a.met + a.missed + a.metExtended + a.missedExtended,
    acknowledgedWithinTarget: a.met + a.metExtended,
    acknowledgeRate: complianceOf(a),
    resolved: r.met + r.missed + r.metExtended + r.missedExtended,
    resolvedWithinTarget: r.met,
    resolvedWithinExtension: r.metExtended,
    resolveRate: complianceOf(r),
    extended,
    openPastTarget: open,
  };
}

/** Per advisor (assignee) or per team (`keyOf` the assignee): clocks and compliance, most clocks first. */
export function peopleRows(clocks: readonly ReportClock[], asOf: number, keyOf: (assignee: string | null) => string): PeopleRow[] {
  const groups = new Map<string, Tally>();
  for (const c of clocks) {
    const key = keyOf(c.assignee);
    let t = groups.get(key);
    if (t === undefined) groups.set(key, (t = emptyTally()));
    add(t, judge(c, asOf), c.countedMs, c.fulfilledAt !== null);
  }
  return [...groups.entries()]
    .map(([key, t]) => ({
      key,
      clocks: t.clocks,
      met: t.met,
      missed: t.missed,
      breached: t.breached,
      metExtended: t.metExtended,
      missedExtended: t.missedExtended,
      cancelled: t.cancelled,
      compliance: complianceOf(t),
      replyMedianMs: percentiles(t.replies, [50])[0] ?? null,
    }))
    .sort((x, y) => y.clocks - x.clocks || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** The `limit` worst breaches: missed (by how late the fulfilment came) and still breached (by how long past due as of `asOf`). */
export function worstBreaches(clocks: readonly ReportClock[], asOf: number, limit = 20): Breach[] {
  // Overdue first, as numbers; only the few kept are formatted.
  const found: Array<{ c: ReportClock; status: Breach['status']; overdue: number }> = [];
  for (const c of clocks) {
    const j = judge(c, asOf);
    if (c.dueAt === null || (j !== 'missed' && j !== 'missed-extended' && j !== 'breached')) continue;
    const end = j === 'breached' ? asOf : (c.fulfilledAt ?? c.endedAt ?? asOf);
    found.push({ c, status: j, overdue: end - c.dueAt });
  }
  found.sort((a, b) => b.overdue - a.overdue || (a.c.contactId < b.c.contactId ? -1 : a.c.contactId > b.c.contactId ? 1 : 0) || (a.c.standard < b.c.standard ? -1 : 1));
  return found.slice(0, limit).map(({ c, status, overdue }) => ({
    contactId: c.contactId,
    href: `/contacts/${encodeURIComponent(c.contactId)}`,
    standard: c.standard,
    channel: c.channel,
    status,
    startedAt: formatInstant(c.startedAt),
    dueAt: formatInstant(c.dueAt!),
    overdueMs: overdue,
    assignee: c.assignee,
  }));
}
