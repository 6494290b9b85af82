// The weekly SLA report (issue 16): one ISO week's figures from the clocks that started in it, each
// judged by the standard version it started under (the version stored on the clock) and, while still
// running, as of the report's instant. Reads through the report store's port (source.ts); figures in
// figures.ts. Reads that do not wait on one another are asked together (PostgreSQL: side by side).
import { DAY, formatInstant, MINUTE, offsetSpans, zoneOffset } from '../domain/time.js';
import { PACKS, type StandardDef, type StandardsPack } from '../domain/standards.js';
import type { ClockRow, CountRow, PersonRow } from '../store/reports.js';
import { addCount, complaintFigures, complianceOf, emptyTally, halfHourRows, peopleRows, phoneFigures, standardRows, worstBreaches, type Judged, type ReportClock, type ReportQueue } from './figures.js';
import { hazardsOf } from './hazards.js';
import type { ReportSource } from './source.js';
import type { BuildOptions, ChangeOnPrevious, ClosureInWeek, DayOff, IsoWeek, Publication, QualityFigures, TrendPoint, WeekBounds, WeeklyReport, WeeklyTrend } from './types.js';
import { isoWeekBounds, localDayNumber, REPORT_ZONE, shiftIsoWeek } from './week.js';

/** What the report needs to know about the pack family the centre runs (every version of it). */
export interface PackShape {
  family: string;
  /** Every standard id, in the newest version's order then older ones'. */
  order: string[];
  /** Standards that start on an event (their clocks may start after their contact arrived). */
  late: string[];
  extendable: string[];
  /** Standards that apply to one channel only, with it (their clocks need no look-up of the channel). */
  implied: Map<string, string>;
  phone: Set<string>;
  acknowledge: Set<string>;
  resolve: Set<string>;
  /** The phone target (elapsed ms) of the first phone standard, for the half-hour and service level figures. */
  phoneTargetMs: number;
}

export function packShape(family: string, packs: readonly StandardsPack[] = PACKS): PackShape {
  const versions = packs.filter((p) => p.family === family).reverse();
  const defs = new Map<string, StandardDef>();
  for (const p of versions) for (const d of p.standards) if (!defs.has(d.id)) defs.set(d.id, d);
  const all = [...defs.values()];
  const phoneDef = all.find((d) => d.endsOnAbandon === true);
  // A standard implies a channel when every version of it applies to that one channel alone.
  const implied = new Map<string, string>();
  for (const id of defs.keys()) {
    const channels = new Set(versions.flatMap((p) => p.standards.filter((d) => d.id === id).map((d) => (d.appliesWhen.channels?.length === 1 ? d.appliesWhen.channels[0]! : '*'))));
    if (channels.size === 1 && !channels.has('*')) implied.set(id, [...channels][0]!);
  }
  return {
    family,
    order: all.map((d) => d.id),
    late: all.filter((d) => d.startsOn !== undefined).map((d) => d.id),
    extendable: all.filter((d) => d.extendable).map((d) => d.id),
    implied,
    phone: new Set(all.filter((d) => d.endsOnAbandon === true).map((d) => d.id)),
    acknowledge: new Set(all.filter((d) => d.appliesWhen.categories?.includes('complaint') && d.fulfilledBy.some((m) => m.type === 'acknowledged')).map((d) => d.id)),
    resolve: new Set(all.filter((d) => d.appliesWhen.categories?.includes('complaint') && d.fulfilledBy.some((m) => m.type === 'resolved')).map((d) => d.id)),
    phoneTargetMs: phoneDef?.target.ms ?? 300_000,
  };
}

export interface ReportSettings {
  shape: PackShape;
  zone?: string;
  /** Bank-holiday division and id of each working calendar (not `always`), for the days off in the week. */
  calendars: Array<{ id: string; division: string }>;
  /** The named phone queues (KEPT_PHONE_QUEUES with the built-in ones), for `phone.byQueue`. */
  queues?: readonly ReportQueue[];
}

/** A clock row as the figures read it; with `people`, its contact's assignee, callback flag and queue. */
const toClock = (r: ClockRow, people?: Map<string, PersonRow>): ReportClock => {
  const p = people?.get(r[0]);
  return {
    contactId: r[0],
    standard: r[1],
    standardVersion: r[2],
    status: r[3],
    open: r[4] === 1,
    startedAt: r[5],
    dueAt: r[6],
    fulfilledAt: r[7],
    endedAt: r[8],
    countedMs: r[9],
    channel: r[10],
    assignee: p?.[1] ?? null,
    callback: p?.[2] === 1,
    queue: p?.[3] ?? null,
    // The clock's detail holds the agreed instant as ISO text (server/domain/json.ts).
    extendedUntil: typeof r[11] === 'number' ? r[11] : typeof r[11] === 'string' ? Date.parse(r[11]) : null,
  };
};


/**
 * A week's headline figures (the trend's point, and the previous week in the change), from counts made
 * in SQLite (ReportStore.counts: no clock row reaches JS). tests/integration/report.test.ts checks them
 * against figures worked out by hand.
 */
export async function headlineOf(store: ReportSource, bounds: WeekBounds, asOf: number, shape: PackShape): Promise<TrendPoint> {
  const [rows, complaintContacts]: [CountRow[], Set<string>] = await Promise.all([
    store.counts(bounds.from, bounds.to, asOf, shape.phoneTargetMs, shape.late),
    store.contactsOf(bounds.from, bounds.to, new Set([...shape.acknowledge, ...shape.resolve]), shape.late),
  ]);
  const groups = new Map<string, { standard: string; channel: string; t: ReturnType<typeof emptyTally> }>();
  const tallyOf = (ids: ReadonlySet<string>) => {
    const t = emptyTally();
    for (const [standard, , outcome, n] of rows) if (ids.has(standard)) addCount(t, judgedOf(outcome), n);
    return t;
  };
  let answered = 0, within = 0, waitSum = 0, abandons = 0, short = 0, waiting = 0, waitingOver = 0;
  for (const [standard, channel, outcome, n, w, sum, , over] of rows) {
    const key = `${standard}\u0000${channel}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { standard, channel, t: emptyTally() }));
    addCount(g.t, judgedOf(outcome), n);
    if (!shape.phone.has(standard)) continue;
    if (outcome === 'met' || outcome === 'missed') (answered += n, (within += w), (waitSum += sum));
    else if (outcome === 'abandoned') abandons += n;
    else if (outcome === 'abandoned-short') short += n;
    else if (outcome === 'breached' || outcome === 'open') (waiting += n, (waitingOver += over));
  }
  const rank = (s: string) => (shape.order.indexOf(s) + 1 || shape.order.length + 1);
  const standards = [...groups.values()]
    .sort((a, b) => rank(a.standard) - rank(b.standard) || (a.standard < b.standard ? -1 : a.standard > b.standard ? 1 : 0) || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0))
    .map((g) => ({ standard: g.standard, channel: g.channel, clocks: g.t.clocks, compliance: complianceOf(g.t) }));
  const offered = answered + abandons + short + waiting;
  const slDenominator = answered + abandons + waitingOver;
  return {
    week: bounds.week,
    from: formatInstant(bounds.from),
    standards,
    phone: {
      offered,
      serviceLevel: slDenominator > 0 ? within / slDenominator : null,
      averageSpeedOfAnswerMs: answered > 0 ? waitSum / answered : null,
      abandonRate: offered > 0 ? abandons / offered : null,
    },
    complaints: {
      received: complaintContacts.size,
      acknowledgeRate: complianceOf(tallyOf(shape.acknowledge)),
      resolveRate: complianceOf(tallyOf(shape.resolve)),
    },
  };
}

/** A counted outcome as figures.ts judges it. */
function judgedOf(outcome: string): Judged {
  return outcome === 'abandoned-short' ? 'abandoned' : (outcome as Judged);
}

const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);

/** This week's headline minus last week's, standard by standard (a standard absent last week compares with nothing). */
export function changeOn(current: TrendPoint, previous: TrendPoint): ChangeOnPrevious {
  const before = new Map(previous.standards.map((s) => [`${s.standard}\u0000${s.channel}`, s]));
  return {
    previousWeek: previous.week,
    standards: current.standards.map((s) => {
      const p = before.get(`${s.standard}\u0000${s.channel}`);
      return { standard: s.standard, channel: s.channel, clocks: s.clocks - (p?.clocks ?? 0), compliance: diff(s.compliance, p?.compliance ?? null) };
    }),
    phone: {
      offered: current.phone.offered - previous.phone.offered,
      serviceLevel: diff(current.phone.serviceLevel, previous.phone.serviceLevel),
      averageSpeedOfAnswerMs: diff(current.phone.averageSpeedOfAnswerMs, previous.phone.averageSpeedOfAnswerMs),
    },
    complaints: {
      received: current.complaints.received - previous.complaints.received,
      acknowledgeRate: diff(current.complaints.acknowledgeRate, previous.complaints.acknowledgeRate),
      resolveRate: diff(current.complaints.resolveRate, previous.complaints.resolveRate),
    },
  };
}

/** FCR's look-ups of a later contact asked together (quality figures). */
const CAME_BACK_AT_ONCE = 8;

/** FCR (7 days, same customer reference and category) and ID&V over the week's contacts; null where the events do not exist. */
async function qualityFigures(store: ReportSource, bounds: WeekBounds): Promise<QualityFigures> {
  const [events, handled] = await Promise.all([store.qualityEvents(bounds.from, bounds.to), store.handledCount(bounds.from, bounds.to)]);
  let verified = 0;
  const asked: Array<[id: string, reference: string, category: string, at: number]> = [];
  for (const [id, category, reference, type, at] of events) {
    if (type === 'identity-verified') verified++;
    else if (type === 'resolved' && typeof reference === 'string' && reference !== '') asked.push([id, reference, category, at]);
  }
  // One look-up per resolved contact, CAME_BACK_AT_ONCE at a time: PostgreSQL answers them side by
  // side without a week's worth taking every connection of the pool (SQLite answers each at once).
  let firstTime = 0;
  for (let i = 0; i < asked.length; i += CAME_BACK_AT_ONCE) {
    const back = await Promise.all(asked.slice(i, i + CAME_BACK_AT_ONCE).map(([id, reference, category, at]) => store.cameBack(id, reference, category, at, at + 7 * DAY)));
    for (const b of back) if (!b) firstTime++;
  }
  const resolved = asked.length;
  return {
    resolved,
    resolvedFirstTime: firstTime,
    firstContactResolution: resolved > 0 ? firstTime / resolved : null,
    handled,
    identityVerified: verified,
    idvRate: verified > 0 && handled > 0 ? Math.min(1, verified / handled) : null,
  };
}

async function daysOff(store: ReportSource, bounds: WeekBounds, settings: ReportSettings): Promise<{ bankHolidays: DayOff[]; closures: ClosureInWeek[] }> {
  const zone = settings.zone ?? REPORT_ZONE;
  const first = localDayNumber(bounds.from, zone);
  const date = (n: number) => new Date(n * DAY).toISOString().slice(0, 10);
  const [holidays, closed] = await Promise.all([
    Promise.all(settings.calendars.map(async (cal) => ({ cal, days: await store.holidaysBetween(cal.division, date(first), date(first + 6)) }))),
    store.closuresBetween(bounds.from, bounds.to),
  ]);
  const bankHolidays: DayOff[] = [];
  for (const { cal, days } of holidays) {
    for (const [d, title] of days) bankHolidays.push({ date: d, title, calendar: cal.id });
  }
  const closures = closed.map(([calendar, from, to, reason]) => ({ calendar, from: formatInstant(from), to: formatInstant(to), reason }));
  return { bankHolidays, closures };
}

const DRAFT: Publication = { state: 'draft', publishedAt: null, publishedBy: null, revision: 0 };

/** The week's report as of `opts.asOf` (default now): a draft until published (server/reports/service.ts). */
export async function buildWeekly(store: ReportSource, week: IsoWeek, settings: ReportSettings, opts: BuildOptions = {}): Promise<WeeklyReport> {
  const zone = opts.zone ?? settings.zone ?? REPORT_ZONE;
  const asOf = opts.asOf ?? Date.now();
  const bounds = isoWeekBounds(week, zone);
  const { shape } = settings;
  const rows = await store.clockRows(bounds.from, bounds.to, shape.late);
  const prev = opts.withChange !== false ? isoWeekBounds(shiftIsoWeek(week, -1), zone) : null;
  // Every other read at once: none waits on another's answer.
  const [people, teams, previous, hazards, quality, off] = await Promise.all([
    // Late clocks' contacts arrived before the week: looked up by key (the others come from the week's range).
    store.people(bounds.from, bounds.to, shape.late.length === 0 ? [] : rows.map((r) => r[0])),
    store.teams(),
    // Last week's headline, counted in the database.
    prev === null ? null : headlineOf(store, prev, asOf, shape),
    hazardsOf(store, bounds.from, bounds.to, asOf),
    qualityFigures(store, bounds),
    daysOff(store, bounds, settings),
  ]);
  const clocks = rows.map((r) => toClock(r, people));
  const calls = clocks.filter((c) => shape.phone.has(c.standard));
  // The week's offsets (one span, or two the week the clocks change): no time-zone lookup per call.
  const spans = offsetSpans(zone, bounds.from, bounds.to);
  const offsetAt = (t: number) => spans.find((s) => t >= s.from && t < s.to)?.offset ?? zoneOffset(zone, t);
  const localMinute = (t: number) => Math.floor(((((t + offsetAt(t)) % DAY) + DAY) % DAY) / MINUTE);
  const standards = standardRows(clocks, asOf, shape.order);
  const phone = phoneFigures(calls, asOf, shape.phoneTargetMs, settings.queues ?? []);
  const complaints = complaintFigures(clocks, asOf, shape.acknowledge, shape.resolve);
  let change: ChangeOnPrevious | null = null;
  if (previous !== null) {
    // This week's headline from the figures just made; last week's counted in the database.
    const current: TrendPoint = {
      week: bounds.week,
      from: formatInstant(bounds.from),
      standards: standards.map((r) => ({ standard: r.standard, channel: r.channel, clocks: r.clocks, compliance: r.compliance })),
      phone: { offered: phone.offered, serviceLevel: phone.serviceLevel, averageSpeedOfAnswerMs: phone.averageSpeedOfAnswerMs, abandonRate: phone.abandonRate },
      complaints: { received: complaints.received, acknowledgeRate: complaints.acknowledgeRate, resolveRate: complaints.resolveRate },
    };
    change = changeOn(current, previous);
  }
  return {
    week: bounds.week,
    from: formatInstant(bounds.from),
    to: formatInstant(bounds.to),
    zone,
    hours: bounds.hours,
    builtAt: formatInstant(asOf),
    pack: shape.family,
    standards,
    phone,
    halfHours: halfHourRows(calls, asOf, localMinute, shape.phoneTargetMs),
    complaints,
    hazards,
    quality,
    advisors: peopleRows(clocks, asOf, (a) => a ?? 'unassigned'),
    teams: peopleRows(clocks, asOf, (a) => (a === null ? 'unassigned' : (teams.get(a) ?? 'no team'))),
    worstBreaches: worstBreaches(clocks, asOf, 20),
    ...off,
    change,
    publication: DRAFT,
  };
}

/** The headline figures of `weeks` weeks up to and including `to`, oldest first. */
export async function weeklyTrend(store: ReportSource, to: IsoWeek, weeks: number, settings: ReportSettings, opts: BuildOptions = {}): Promise<WeeklyTrend> {
  const zone = opts.zone ?? settings.zone ?? REPORT_ZONE;
  const asOf = opts.asOf ?? Date.now();
  isoWeekBounds(to, zone, 'to');
  const points: TrendPoint[] = [];
  // Week by week, oldest first (up to MAX_TREND_WEEKS: asked together they would take the whole pool).
  for (let i = weeks - 1; i >= 0; i--) {
    const bounds = isoWeekBounds(shiftIsoWeek(to, -i), zone);
    points.push(await headlineOf(store, bounds, asOf, settings.shape));
  }
  return { to, builtAt: formatInstant(asOf), weeks: points };
}
