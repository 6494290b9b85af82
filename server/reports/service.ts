// The weekly report's service (issue 16): builds weeks, trends and the regulator's view from the
// stores' ports (server/store/stores.ts: SQLite or PostgreSQL), and publishes through the writer
// (server/commands/publish-report.ts). The routes
// (server/http/routes/reports.ts) and the Monday job (server/reports/schedule.ts) use it as `app.reports`.
import type { PublishReportOutput } from '../commands/publish-report.js';
import type { IngestService } from '../ingest/service.js';
import { BUILT_IN_QUEUES } from '../ingest/queues.js';
import type { PublishedReads, ReportReads } from '../store/ports.js';
import { cellOf, figureContacts, type FigureContacts, type FigureFilter } from './contacts.js';
import { weeklyCsv } from './csv.js';
import { regulatorView } from './regulator.js';
import type { BuildOptions, IsoWeek, PublishedWeek, RegulatorView, ReportChange, ReportServiceApi, WeeklyReport, WeeklyTrend } from './types.js';
import { buildWeekly, packShape, weeklyTrend, type ReportSettings } from './weekly.js';
import { isoWeekBounds, REPORT_ZONE } from './week.js';

export interface ReportServiceOptions {
  /** KEPT_HOMES (TSM CH01 per 1,000 homes), null when not set. */
  homes: number | null;
  zone?: string;
  /** The named phone queues (config.phone.queues), for the report's figures per queue; default the built-in two. */
  queues?: ReadonlyArray<{ id: string; name: string; phoneAnswer: boolean }>;
  /**
   * Called after each publication (first, regenerated, by a person or the Monday job), e.g. to mail it.
   * The publication stands whatever the hook does: a failure goes to `log`, not to the caller.
   */
  onPublished?: (published: PublishedWeek) => void | Promise<void>;
  log?: (message: string) => void;
}

/** Longest trend asked for (weeks). */
export const MAX_TREND_WEEKS = 104;

export class ReportService implements ReportServiceApi {
  readonly store: ReportReads;
  readonly publishedStore: PublishedReads;
  onPublished: ((published: PublishedWeek) => void | Promise<void>) | undefined;

  constructor(
    private readonly ingest: IngestService,
    private readonly options: ReportServiceOptions,
  ) {
    this.store = ingest.stores.reports(packShape(ingest.packFamily));
    this.publishedStore = ingest.stores.published;
    this.onPublished = options.onPublished;
  }

  private get zone(): string {
    return this.options.zone ?? REPORT_ZONE;
  }

  /** The pack and the working calendars (for their bank holidays), read fresh: a calendar edit shows at once. */
  private async settings(): Promise<ReportSettings> {
    return {
      shape: packShape(this.ingest.packFamily),
      zone: this.zone,
      calendars: (await this.ingest.calendarStore.all()).map((c) => ({ id: c.id, division: c.division })),
      queues: this.options.queues ?? BUILT_IN_QUEUES,
    };
  }

  /** A fresh build (a draft), whether or not the week is published. */
  async build(week: IsoWeek, opts: BuildOptions = {}): Promise<WeeklyReport> {
    return buildWeekly(this.store, week, await this.settings(), { asOf: this.ingest.now(), ...opts });
  }

  async weekly(week: IsoWeek, opts: BuildOptions = {}): Promise<WeeklyReport> {
    isoWeekBounds(week, this.zone);
    return (await this.published(week))?.report ?? this.build(week, opts);
  }

  /**
   * The contacts behind one figure of the week: judged as of the published report's `builtAt` when the
   * week is published (the figures on the page), else as of now (a draft is built as of now).
   */
  async contacts(week: IsoWeek, filter: FigureFilter, page: { limit: number; cursor?: string }): Promise<FigureContacts> {
    isoWeekBounds(week, this.zone);
    const [published, settings] = await Promise.all([this.published(week), this.settings()]);
    const asOf = published === null ? this.ingest.now() : Date.parse(published.report.builtAt);
    const out = await figureContacts(this.store, week, settings, filter, asOf, page);
    return published === null ? out : { ...out, published: cellOf(published.report, filter) };
  }

  async trend(to: IsoWeek, weeks = 12): Promise<WeeklyTrend> {
    return weeklyTrend(this.store, to, weeks, await this.settings(), { asOf: this.ingest.now() });
  }

  regulator(from: string, to: string): Promise<RegulatorView> {
    return regulatorView(this.store, this.ingest.calendars, from, to, { homes: this.options.homes, asOf: this.ingest.now(), zone: this.zone });
  }

  async published(week: IsoWeek): Promise<PublishedWeek | null> {
    const row = await this.publishedStore.published(week);
    if (row === null) return null;
    return { week: row.week, revision: row.revision, publishedAt: row.publishedAt, publishedBy: row.publishedBy, reason: row.reason, report: JSON.parse(row.report) as WeeklyReport };
  }

  lastPublishedWeek(): Promise<IsoWeek | null> {
    return this.publishedStore.lastPublishedWeek();
  }

  private async store_(week: IsoWeek, actor: string, mode: 'publish' | 'regenerate', reason: string | null, asOf: number | undefined): Promise<PublishReportOutput> {
    isoWeekBounds(week, this.zone);
    const report = await this.build(week, asOf === undefined ? {} : { asOf });
    return this.ingest.publishReport({ week, actor, mode, reason, report: JSON.stringify(report) });
  }

  private async announce(p: PublishedWeek): Promise<void> {
    if (this.onPublished === undefined) return;
    try {
      await this.onPublished(p);
    } catch (e) {
      this.options.log?.(`after publishing ${p.week} (revision ${p.revision}): ${(e as Error).message}`);
    }
  }

  now(): number {
    return this.ingest.now();
  }

  private toPublished(out: PublishReportOutput): PublishedWeek {
    return { week: out.week, revision: out.revision, publishedAt: out.publishedAt, publishedBy: out.publishedBy, reason: out.reason, report: JSON.parse(out.report) as WeeklyReport };
  }

  async publishWeek(week: IsoWeek, actor: string, opts: { reason?: string; asOf?: number } = {}): Promise<PublishedWeek> {
    const published = this.toPublished(await this.store_(week, actor, 'publish', opts.reason ?? null, opts.asOf));
    await this.announce(published);
    return published;
  }

  async regenerateWeek(week: IsoWeek, actor: string, reason: string, opts: { asOf?: number } = {}): Promise<{ published: PublishedWeek; changes: ReportChange[] }> {
    const out = await this.store_(week, actor, 'regenerate', reason, opts.asOf);
    const published = this.toPublished(out);
    await this.announce(published);
    return { published, changes: out.changes };
  }

  csv(report: WeeklyReport): string {
    return weeklyCsv(report);
  }
}
