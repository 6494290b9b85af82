// The weekly SLA report's contract (issue 16): the JSON of GET /api/v1/reports/weekly/:week, the
// twelve-week trend, the regulator's view (TSM CH01/CH02) and the published-week record, with the
// signatures the rest of Kept (the managers' page, the Monday cron job, the email) codes against.
// Instants are epoch milliseconds inside the server; the JSON carries them as ISO-8601 UTC strings
// with milliseconds (STANDARDS §1). Rates are fractions 0–1, `null` where there is nothing to divide.
import type { ServiceLevelVariant } from '../domain/metrics.js';

export type { ServiceLevelVariant } from '../domain/metrics.js';

/** An ISO week, `2026-W10` (weeks start on Monday; week 1 holds the year's first Thursday). */
export type IsoWeek = string;
/** ISO-8601 UTC with milliseconds, `2026-03-02T00:00:00.000Z`. */
export type Iso = string;

/** A week's bounds: Monday 00:00 to the next Monday 00:00 local time (167 or 169 hours at clock changes). */
export interface WeekBounds {
  week: IsoWeek;
  /** Inclusive. */
  from: number;
  /** Exclusive (the next Monday 00:00 local). */
  to: number;
  /** (to − from) in hours: 168, or 167 / 169 the week the clocks change. */
  hours: number;
  zone: string;
}

/**
 * One row per standard and channel, from the clocks that STARTED in the week. Each clock is judged
 * by the standard version it started under (the version stored on the clock).
 * - `clocks` = every clock that started (including cancelled and still open);
 * - `met` / `missed` exclude the extension outcomes, which are `metExtended` / `missedExtended`;
 * - `breached` = still running (not paused) past its due instant as of `builtAt` (the report's asOf);
 * - `open` = still running and not (yet) breached as of `builtAt` (running, at-risk, paused);
 * - `abandoned` = phone-answer clocks ended by an abandon (short or not; not in compliance);
 * - compliance = (met + metExtended) ÷ (met + metExtended + missed + missedExtended + breached);
 * - reply times: working time on the standard's calendar (less pauses) from start to fulfilment of the
 *   fulfilled clocks (met, missed, met-extended, missed-extended); nearest-rank median and p90.
 */
export interface StandardRow {
  standard: string;
  channel: string;
  /** The standard versions these clocks started under (normally one). */
  versions: string[];
  clocks: number;
  met: number;
  missed: number;
  breached: number;
  cancelled: number;
  metExtended: number;
  missedExtended: number;
  open: number;
  abandoned: number;
  compliance: number | null;
  replyMedianMs: number | null;
  replyP90Ms: number | null;
}

/**
 * The phone figures of one named queue (issue 13): the week's phone-answer clocks of the calls that
 * came in on it (the contact's queue), counted as the whole centre's are.
 */
export interface QueuePhoneFigures {
  /** The Kept queue id (KEPT_PHONE_QUEUES; `customer-services` built in); `''` for a call with no queue. */
  queue: string;
  /** The queue's name as configured (its id when it is not configured any more; `No queue` for `''`). */
  name: string;
  offered: number;
  answered: number;
  answeredWithinTarget: number;
  abandoned: number;
  shortAbandons: number;
  serviceLevel: number | null;
  averageSpeedOfAnswerMs: number | null;
  longestWaitMs: number | null;
}

/** The phone figures (STANDARDS §6) over the week's queued calls (phone-answer clocks started in the week). */
export interface PhoneFigures {
  offered: number;
  answered: number;
  /** Answered (or called back) within 5 minutes of joining the queue. */
  answeredWithinTarget: number;
  /** Abandoned after 5 s (short abandons apart). */
  abandoned: number;
  shortAbandons: number;
  /** Calls still queued as of builtAt (normally 0 for a past week). */
  waiting: number;
  /** §6 default: answered within ÷ (offered − short abandons). */
  serviceLevel: number | null;
  /** Every variant, named, so the page can offer them (`standard` equals `serviceLevel`). */
  serviceLevels: Record<ServiceLevelVariant, number | null>;
  abandonRate: number | null;
  /** Mean queue wait of answered calls. */
  averageSpeedOfAnswerMs: number | null;
  /** Longest queue wait of any call offered in the week (answered, abandoned, or still waiting as of builtAt). */
  longestWaitMs: number | null;
  callbacksRequested: number;
  callbacksConnected: number;
  callbacksWithinTarget: number;
  /**
   * The same per named queue: every configured queue the phone-answer promise applies to (in the
   * configuration's order), then any other queue the week's calls came in on. Absent from weeks
   * published before named queues.
   */
  byQueue?: QueuePhoneFigures[];
}

/** One half hour of the (local) day, summed over the week's seven days. */
export interface HalfHourRow {
  /** Local time the half hour starts, `08:30`. */
  start: string;
  offered: number;
  answered: number;
  answeredWithinTarget: number;
  abandoned: number;
  shortAbandons: number;
  serviceLevel: number | null;
  averageSpeedOfAnswerMs: number | null;
}

/** A complaint still open past its target as of builtAt. */
export interface OpenComplaint {
  contactId: string;
  standard: string;
  receivedAt: Iso;
  dueAt: Iso | null;
  /** builtAt − receivedAt. */
  ageMs: number;
  /** builtAt − dueAt. */
  overdueMs: number;
}

/** Complaints received in the week (category complaint, livewest pack clocks). */
export interface ComplaintFigures {
  received: number;
  acknowledged: number;
  /** complaint-acknowledge met within 24 hours. */
  acknowledgedWithinTarget: number;
  acknowledgeRate: number | null;
  resolved: number;
  /** complaint-resolve met within 10 working days (plain met, or met within an extension: both shown). */
  resolvedWithinTarget: number;
  resolvedWithinExtension: number;
  resolveRate: number | null;
  /** complaint-resolve clocks that carry an extension. */
  extended: number;
  openPastTarget: OpenComplaint[];
}

/** A hazard clock (Awaab's Law) still running past its due instant as of builtAt. */
export interface OpenHazard {
  contactId: string;
  /** The contact's page in the web app: `/contacts/<id>`. */
  href: string;
  standard: string;
  /** When the hazard was reported (the contact's receivedAt). */
  receivedAt: Iso;
  dueAt: Iso;
  /** builtAt − receivedAt. */
  ageMs: number;
  /** builtAt − dueAt. */
  overdueMs: number;
}

/**
 * One hazard category's figures (Awaab's Law, docs/standards.md), from the awaab-* clocks that STARTED
 * in the period, whatever week the hazard was reported in (a summary's clock starts when the
 * investigation ends). Investigate and make-safe clocks belong to their standard's category; the
 * summary and further-work clocks to the contact's category. "In time" = the clock met its due instant.
 */
export interface HazardCategoryFigures {
  category: 'hazard-emergency' | 'hazard-significant';
  /** Distinct contacts whose investigate clock (`awaab-emergency-investigate` / `awaab-significant-investigate`) started in the period: a raise to emergency starts one at the raise. */
  received: number;
  /** Of those clocks: investigation concluded (met or missed), and met. */
  investigated: number;
  investigatedInTime: number;
  /** Investigate clocks cancelled (superseded by a raise to emergency, or withdrawn). */
  investigationsCancelled: number;
  /** `awaab-summary` clocks started in the period: the written summary sent, and sent by its due instant. */
  summariesDue: number;
  summariesSent: number;
  summariesSentInTime: number;
  /** Make-safe clocks started in the period: fulfilled by `made-safe` (any time; in time), apart from those fulfilled by `temporary-accommodation-offered`. */
  makeSafeDue: number;
  madeSafe: number;
  madeSafeInTime: number;
  temporaryAccommodation: number;
  temporaryAccommodationInTime: number;
  /** `awaab-further-work-start` clocks started in the period: begun; begun by the 5 working days (met); begun within an agreed extension (met-extended, at most 12 weeks). */
  furtherWorkDue: number;
  furtherWorkStarted: number;
  furtherWorkInTime: number;
  furtherWorkInExtension: number;
  /** Hazard clocks of the period still running past due as of builtAt, oldest report first. */
  openPastTarget: OpenHazard[];
}

/** Hazards (Awaab's Law) in the period: per category, and the contacts raised to emergency in it. */
export interface HazardFigures {
  emergency: HazardCategoryFigures;
  significant: HazardCategoryFigures;
  /** Distinct contacts with a `severity-raised` event in the period (significant → emergency, or made one). */
  raisedToEmergency: number;
}

/** First contact resolution and ID&V (STANDARDS §6): `null` figures when the events do not exist in the week. */
export interface QualityFigures {
  /** Contacts of the week with a `resolved` event. */
  resolved: number;
  /** …of which no other contact from the same customer (customer.id / reference) followed within 7 days. */
  resolvedFirstTime: number;
  firstContactResolution: number | null;
  /** Contacts of the week handled (answered, called back, or replied to). */
  handled: number;
  /** …of which an `identity-verified` event was recorded. */
  identityVerified: number;
  idvRate: number | null;
}

/** Per advisor (the contact's assignee) or team (the advisor's first queue; `unassigned`). */
export interface PeopleRow {
  /** Advisor: their email; team: the queue name; `unassigned` for clocks without an assignee. */
  key: string;
  clocks: number;
  met: number;
  missed: number;
  breached: number;
  metExtended: number;
  missedExtended: number;
  cancelled: number;
  compliance: number | null;
  replyMedianMs: number | null;
}

/** A missed or still-breached clock, worst first (longest past due). */
export interface Breach {
  contactId: string;
  /** The contact's page in the web app: `/contacts/<id>`. */
  href: string;
  standard: string;
  channel: string;
  status: 'missed' | 'missed-extended' | 'breached';
  startedAt: Iso;
  dueAt: Iso;
  /** Fulfilment (or builtAt while still breached) minus dueAt. */
  overdueMs: number;
  assignee: string | null;
}

export interface DayOff {
  /** Local date `2026-04-03`. */
  date: string;
  title: string;
  calendar: string;
}
export interface ClosureInWeek {
  calendar: string;
  from: Iso;
  to: Iso;
  reason: string | null;
}

/** The week against the week before it: this week's figure minus last week's (`null` when either is). */
export interface ChangeOnPrevious {
  previousWeek: IsoWeek;
  standards: Array<{ standard: string; channel: string; clocks: number; compliance: number | null }>;
  phone: { offered: number; serviceLevel: number | null; averageSpeedOfAnswerMs: number | null };
  complaints: { received: number; acknowledgeRate: number | null; resolveRate: number | null };
}

export interface Publication {
  /** `draft` (built on request, not stored), `published` (as stored), `regenerated` (published again). */
  state: 'draft' | 'published' | 'regenerated';
  publishedAt: Iso | null;
  publishedBy: string | null;
  /** How many times the week was published (1 = first publication). */
  revision: number;
}

/** GET /api/v1/reports/weekly/:week */
export interface WeeklyReport {
  week: IsoWeek;
  from: Iso;
  to: Iso;
  zone: string;
  hours: number;
  /** The instant the figures were judged as of (still breached, waiting, open complaints' age). */
  builtAt: Iso;
  /** The pack family the centre runs (KEPT_PACK). */
  pack: string;
  standards: StandardRow[];
  phone: PhoneFigures;
  halfHours: HalfHourRow[];
  complaints: ComplaintFigures;
  /** Hazards (Awaab's Law), per category. */
  hazards: HazardFigures;
  quality: QualityFigures;
  advisors: PeopleRow[];
  teams: PeopleRow[];
  worstBreaches: Breach[];
  bankHolidays: DayOff[];
  closures: ClosureInWeek[];
  /** null when the previous week was not computed (the trend does not carry it). */
  change: ChangeOnPrevious | null;
  publication: Publication;
}

/** One week of GET /api/v1/reports/trend (the headline figures only). */
export interface TrendPoint {
  week: IsoWeek;
  from: Iso;
  standards: Array<{ standard: string; channel: string; clocks: number; compliance: number | null }>;
  phone: { offered: number; serviceLevel: number | null; averageSpeedOfAnswerMs: number | null; abandonRate: number | null };
  complaints: { received: number; acknowledgeRate: number | null; resolveRate: number | null };
}

/** GET /api/v1/reports/trend?weeks=12&to=2026-W10 (oldest first, `to` included). */
export interface WeeklyTrend {
  to: IsoWeek;
  builtAt: Iso;
  weeks: TrendPoint[];
}

/**
 * GET /api/v1/reports/regulator?from=2025-04-01&to=2026-03-31 (local dates, both inclusive), from the
 * housing-ombudsman-2024 pack's clocks over the same events (docs/standards.md says which events count).
 */
export interface RegulatorView {
  from: string;
  to: string;
  builtAt: Iso;
  pack: string;
  homes: number | null;
  /** TSM CH01: complaints received in the period per 1,000 homes. */
  ch01: {
    stage1: number;
    stage2: number;
    stage1Per1000: number | null;
    stage2Per1000: number | null;
  };
  /** TSM CH02: complaints responded to in the period, and the proportion within the Code's timescales. */
  ch02: {
    stage1Responded: number;
    stage1WithinTimescale: number;
    stage1Proportion: number | null;
    stage2Responded: number;
    stage2WithinTimescale: number;
    stage2Proportion: number | null;
  };
  /** Complaints with an extension the Code does not allow (beyond its maximum): judged without it. */
  extensionsBeyondCode: number;
  /** Hazards (Awaab's Law) over the same period: the clocks that started in it (as the weekly report's). */
  hazards: HazardFigures;
}

/** The outcomes a figure of the standards or people tables counts (GET …/contacts `outcome`). */
export type FigureOutcome = 'met' | 'missed' | 'breached' | 'cancelled' | 'met-extended' | 'missed-extended' | 'open' | 'abandoned';
/** The phone table's counted figures (GET …/contacts `phone`). */
/** The complaints section's counted figures (GET …/contacts `complaint`). */
export type ComplaintFigure = 'acknowledged' | 'acknowledged-within-target' | 'resolved' | 'resolved-within-target' | 'resolved-within-extension' | 'extended' | 'open-past-target';
export type PhoneFigure = 'offered' | 'answered' | 'answered-within-target' | 'abandoned' | 'short-abandons' | 'waiting' | 'callbacks-requested' | 'callbacks-connected' | 'callbacks-within-target';

/** Which figure: every field narrows; none at all is every clock that started in the week. */
export interface FigureFilter {
  standard?: string;
  channel?: string;
  /** One or more outcomes (a people table's "Met" is met and met within an extension); absent = all. */
  outcomes?: FigureOutcome[];
  /** A phone figure (over the pack's phone standard's clocks): replaces `outcomes`. */
  phone?: PhoneFigure;
  /** A complaints figure (over the pack's acknowledge and resolve standards' clocks): replaces `outcomes`. */
  complaint?: ComplaintFigure;
  /** The per-advisor table's key: the assignee's email, or `unassigned`. */
  advisor?: string;
  /** The per-team table's key: the queue name, `unassigned` or `no team`. */
  team?: string;
}

export interface FigureContact {
  contactId: string;
  /** The contact's page in the web app. */
  href: string;
  standard: string;
  channel: string;
  /** How the clock counts as of `builtAt` (figures.ts judge()). */
  outcome: FigureOutcome;
  startedAt: string;
  dueAt: string | null;
  fulfilledAt: string | null;
  assignee: string | null;
}

/** GET /api/v1/reports/weekly/:week/contacts */
export interface FigureContacts {
  week: IsoWeek;
  /** The instant the clocks are judged as of: the published report's, or now for a draft. */
  builtAt: string;
  filter: FigureFilter;
  /** How many contacts the figure counts (every page together). */
  total: number;
  /**
   * For a published week, the figure as the stored report gives it (null for a draft, or a filter that is
   * no cell of the report). It differs from `total` only when events recorded after publication carry
   * instants before `builtAt` (a late export): then the week wants regenerating.
   */
  published: number | null;
  items: FigureContact[];
  /** The cursor of the next page, null on the last. */
  next: string | null;
}

/** A stored published week (table published_reports). */
export interface PublishedWeek {
  week: IsoWeek;
  revision: number;
  publishedAt: number;
  publishedBy: string;
  reason: string | null;
  report: WeeklyReport;
}

/** What regenerating changed: each figure path whose value differs, old and new. */
export interface ReportChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface BuildOptions {
  /** The instant figures are judged as of (default: now). Building twice with the same asOf gives the same figures. */
  asOf?: number;
  /** Default Europe/London. */
  zone?: string;
  /** Include the change on the previous week (default true). */
  withChange?: boolean;
}

/**
 * The functions, where they live:
 * - server/reports/week.ts: `isoWeekBounds(week: IsoWeek, zone?: string): WeekBounds` (throws
 *   ValidationError on a bad week, field `week`), `isoWeekOf(instant: number, zone?: string): IsoWeek`,
 *   `previousIsoWeek(week: IsoWeek): IsoWeek`, `shiftIsoWeek(week, n)`.
 * - server/reports/weekly.ts: `buildWeekly(store: ReportSource, week: IsoWeek, settings: ReportSettings, opts?: BuildOptions): Promise<WeeklyReport>`,
 *   `weeklyTrend(store, to: IsoWeek, weeks: number, settings, opts?): Promise<WeeklyTrend>` (ReportSource: server/reports/source.ts).
 * - server/reports/regulator.ts: `regulatorView(store, calendars, from: string, to: string, opts: { homes: number | null; asOf?: number }): Promise<RegulatorView>`.
 * - server/reports/csv.ts: `weeklyCsv(report: WeeklyReport): string` (RFC 4180, csv-stringify).
 * - server/reports/service.ts: `class ReportService` (the routes and the schedule use it):
 */
export interface ReportServiceApi {
  /** The week as published if it was, else built now (draft). */
  weekly(week: IsoWeek, opts?: BuildOptions): Promise<WeeklyReport>;
  trend(to: IsoWeek, weeks?: number): Promise<WeeklyTrend>;
  regulator(from: string, to: string): Promise<RegulatorView>;
  /** Builds and stores the week; ConflictError (409) if it is already published (regenerate instead). Audited. */
  publishWeek(week: IsoWeek, actor: string, opts?: { reason?: string; asOf?: number }): Promise<PublishedWeek>;
  /** Builds again and stores a new revision, recording what changed and who asked. Audited. */
  regenerateWeek(week: IsoWeek, actor: string, reason: string, opts?: { asOf?: number }): Promise<{ published: PublishedWeek; changes: ReportChange[] }>;
  /** The latest stored revision, or null. */
  published(week: IsoWeek): Promise<PublishedWeek | null>;
  /** The newest published week, or null (the catch-up on start). */
  lastPublishedWeek(): Promise<IsoWeek | null>;
  csv(report: WeeklyReport): string;
}
