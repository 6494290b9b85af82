// The Monday job (issue 16): every Monday at 07:00 Europe/London, build and publish last week's
// report and mail it to the managers; on start, if the last Monday's run was missed (Kept was down
// then), catch up at once and say so in the log and the audit trail. node-cron (v4) keeps the
// timetable: it knows the zone, so 07:00 stays 07:00 local across the clock changes. `now` is
// injected, so which week is due is a pure question of the clock the tests hand in.
// Several instances on one database (issue 14, item 5): each run, and the catch-up, first claims its
// slot (the job and the Monday 07:00 instant it was due) in `job_slots`; only the instance whose claim
// went through publishes and mails, so N instances publish once and the managers get one mail.
import type { FastifyInstance } from 'fastify';
import cron, { type ScheduledTask } from 'node-cron';
import { claimRun, processInstance, type SlotClaimer } from '../cluster/slots.js';
import { ConflictError } from '../errors.js';
import { createMailer } from '../notify/mail.js';
import { sendWeeklyReport, type ReportMailer } from '../notify/report-mail.js';
import type { AuditStorePort } from '../store/ports.js';
import type { IsoWeek, PublishedWeek, ReportServiceApi } from './types.js';
import { isoWeekBounds, isoWeekOf, previousIsoWeek, REPORT_ZONE } from './week.js';

/** Every Monday at 07:00 (in REPORT_ZONE). */
export const WEEKLY_CRON = '0 7 * * 1';
const RUN_HOUR_MS = 7 * 3_600_000;
/** Who the audit trail names for the job's publications. */
export const SCHEDULE_ACTOR = 'kept (schedule)';
/** The job's name in `job_slots`. */
export const WEEKLY_REPORT_JOB = 'weekly-report';

export interface ScheduleLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ScheduleDeps {
  reports: Pick<ReportServiceApi, 'published' | 'publishWeek' | 'csv'>;
  audit: Pick<AuditStorePort, 'record'>;
  log: ScheduleLog;
  now: () => number;
  /** The managers' mail; absent or without a mailer/recipients: no mail (and the log says why). */
  mail?: ReportMailer;
  zone?: string;
  /**
   * Where runs are claimed (job_slots on the instances' database). Absent: every run is this
   * instance's (one instance, and tests of the job alone).
   */
  slots?: SlotClaimer;
  /** This instance's name in a claim (default host:pid). */
  instance?: string;
}

export type RunOutcome =
  | { week: IsoWeek; outcome: 'published'; revision: number; mailed: boolean; mailReason: string | null }
  | { week: IsoWeek; outcome: 'already-published'; revision: number }
  /** The run's slot was claimed already (another instance, or this one's earlier run or catch-up): whoever claimed it publishes and mails; this run does nothing. */
  | { week: IsoWeek; outcome: 'slot-taken'; slot: string; by: string | null };

/** The latest Monday 07:00 (local) at or before `now`: the run that should have happened last. */
export function lastScheduledRun(now: number, zone = REPORT_ZONE): number {
  // Monday 00:00 local + 7 h: the UK's clocks change on Sunday mornings, never on a Monday.
  const thisMonday = isoWeekBounds(isoWeekOf(now, zone), zone).from + RUN_HOUR_MS;
  return thisMonday <= now ? thisMonday : isoWeekBounds(previousIsoWeek(isoWeekOf(now, zone)), zone).from + RUN_HOUR_MS;
}

/** The week a run at `runAt` (a Monday 07:00) reports: the ISO week before. */
export function weekReportedAt(runAt: number, zone = REPORT_ZONE): IsoWeek {
  return previousIsoWeek(isoWeekOf(runAt, zone));
}

export class ReportSchedule {
  readonly #deps: ScheduleDeps;
  readonly #zone: string;
  #task: ScheduledTask | null = null;
  /** The run in progress (the cron's or the catch-up), so stop() can let it finish. */
  #running: Promise<unknown> = Promise.resolve();

  constructor(deps: ScheduleDeps) {
    this.#deps = deps;
    this.#zone = deps.zone ?? REPORT_ZONE;
  }

  /**
   * Arms the Monday job, then catches up if the last Monday's run is missing. Resolves with the
   * catch-up's outcome (null when nothing was missed).
   */
  start(): Promise<RunOutcome | null> {
    if (this.#task !== null) throw new Error('the report schedule is already started');
    const log = this.#deps.log;
    this.#task = cron.createTask(WEEKLY_CRON, () => this.#serialise(() => this.runScheduled()), {
      timezone: this.#zone,
      name: 'weekly-report',
      noOverlap: true,
      logger: { info: () => {}, debug: () => {}, warn: (m) => log.warn(`weekly report job: ${m}`), error: (m) => log.error(`weekly report job: ${m instanceof Error ? m.message : m}`) },
    });
    void this.#task.start();
    return this.#serialise(() => this.catchUp());
  }

  /** The next Monday run, as node-cron has it armed (null when stopped). */
  nextRun(): Date | null {
    return this.#task?.getNextRun() ?? null;
  }

  /** Fires the armed job now, through node-cron, as Monday 07:00 would (operators and tests). */
  async runNow(): Promise<RunOutcome> {
    if (this.#task === null) throw new Error('the report schedule is not started');
    return (await this.#task.execute()) as RunOutcome;
  }

  /** Stops the job; waits for a run in progress to finish (its publication is one transaction). */
  async stop(): Promise<void> {
    const task = this.#task;
    this.#task = null;
    if (task !== null) await task.destroy();
    await this.#running.catch(() => {});
  }

  /** The Monday run: last week's report, unless it is already published (a catch-up or a manager did). */
  async runScheduled(): Promise<RunOutcome> {
    const runAt = lastScheduledRun(this.#deps.now(), this.#zone);
    const week = weekReportedAt(runAt, this.#zone);
    const lost = await this.#claim(runAt, week, 'scheduled');
    if (lost !== null) return lost;
    return this.#publish(week, 'scheduled');
  }

  /** On start: if the last Monday's run left no published report (Kept was down), run it now. */
  async catchUp(): Promise<RunOutcome | null> {
    const { now, log, audit } = this.#deps;
    const at = now();
    const runAt = lastScheduledRun(at, this.#zone);
    const week = weekReportedAt(runAt, this.#zone);
    if ((await this.#deps.reports.published(week)) !== null) return null;
    // The same slot as the Monday run's: if an instance claimed it (it ran, or is running now), this
    // start leaves the week to it. Claimed before the warning and the audit, so only one instance says so.
    const lost = await this.#claim(runAt, week, 'catch-up');
    if (lost !== null) return lost;
    const missedAt = new Date(runAt).toISOString();
    log.warn(`weekly report ${week}: the run due ${missedAt} (Monday 07:00 ${this.#zone}) did not happen (Kept was down); catching up now`);
    await audit.record(at, SCHEDULE_ACTOR, 'report.catch-up', { week, missedAt });
    return this.#publish(week, 'catch-up');
  }

  async #publish(week: IsoWeek, why: 'scheduled' | 'catch-up'): Promise<RunOutcome> {
    const { reports, log, audit, now } = this.#deps;
    let published: PublishedWeek;
    try {
      published = await reports.publishWeek(week, SCHEDULE_ACTOR, { reason: why === 'catch-up' ? 'catch-up after downtime' : 'Monday 07:00' });
    } catch (e) {
      if (!(e instanceof ConflictError)) {
        log.error(`weekly report ${week}: publishing failed (${why}): ${(e as Error).message}`);
        throw e;
      }
      // Published meanwhile (a manager pressed Publish first): nothing to do.
      const existing = await reports.published(week);
      log.info(`weekly report ${week}: already published (revision ${existing?.revision ?? '?'}); the ${why} run leaves it as it is`);
      return { week, outcome: 'already-published', revision: existing?.revision ?? 1 };
    }
    log.info(`weekly report ${week}: published (${why}, revision ${published.revision})`);
    const mailed = await mailPublication({ ...this.#deps, csv: (r) => reports.csv(r) }, published);
    return { week, outcome: 'published', revision: published.revision, mailed: mailed.sent, mailReason: mailed.reason };
  }

  /**
   * Claims the run due at `runAt` for this instance: null when it is this instance's to run, else the
   * outcome that says who has it. A claim that cannot be made (the database is away) throws: the run
   * fails loudly rather than risk a second publication and mail.
   */
  async #claim(runAt: number, week: IsoWeek, why: 'scheduled' | 'catch-up'): Promise<RunOutcome | null> {
    const slots = this.#deps.slots;
    if (slots === undefined) return null;
    const slot = new Date(runAt).toISOString();
    const instance = this.#deps.instance ?? processInstance();
    const taken = await claimRun(slots, WEEKLY_REPORT_JOB, slot, instance);
    if (taken === null) return null;
    const by = taken.by;
    this.#deps.log.info(`weekly report ${week}: the run due ${slot} was claimed already by ${by ?? 'another instance'}; the ${why} run on ${instance} leaves it to that claim`);
    return { week, outcome: 'slot-taken', slot, by };
  }

  /** One run at a time: the cron's and the catch-up never publish the same week together. */
  #serialise<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#running.catch(() => {}).then(run);
    this.#running = next;
    return next;
  }
}

/**
 * Mails a publication to the managers (when mail is set up) and says how it went: the log, and the
 * audit (`report.mailed` / `report.mail-failed`, by whoever published). Never throws.
 */
export async function mailPublication(
  deps: { mail?: ReportMailer; log: ScheduleLog; audit: Pick<AuditStorePort, 'record'>; now: () => number; csv: (report: PublishedWeek['report']) => string },
  published: PublishedWeek,
): Promise<{ sent: boolean; reason: string | null }> {
  const { week, revision } = published;
  const mailed = deps.mail === undefined ? { sent: false, reason: 'no mail configured', recipients: 0 } : await sendWeeklyReport(deps.mail, published.report, deps.csv(published.report));
  // The audit entry is the record of the mail, not the mail: one the database refuses is logged.
  const record = (action: string, detail: Record<string, unknown>) =>
    deps.audit.record(deps.now(), published.publishedBy, action, detail).catch((e: unknown) => deps.log.error(`weekly report ${week}: ${action} not audited: ${(e as Error).message}`));
  if (mailed.sent) {
    deps.log.info(`weekly report ${week}: revision ${revision} mailed to ${mailed.recipients} recipient(s)`);
    await record('report.mailed', { week, revision, recipients: mailed.recipients });
  } else if (mailed.recipients > 0) {
    deps.log.error(`weekly report ${week}: the mail was not sent: ${mailed.reason}`);
    await record('report.mail-failed', { week, revision, reason: mailed.reason });
  } else {
    deps.log.info(`weekly report ${week}: not mailed: ${mailed.reason}`);
  }
  return { sent: mailed.sent, reason: mailed.reason };
}

/**
 * The app's Monday job and the managers' mail of every publication (the job's, and a person's
 * Publish or Regenerate), made from its configuration (KEPT_SMTP_*, KEPT_REPORT_RECIPIENTS,
 * KEPT_PUBLIC_URL) and its report service; stopped when the app closes (the hook is added here, so
 * call this before the app is ready). Start it once the app listens: `schedule.start()`.
 */
export function scheduleReports(app: FastifyInstance, deps: { audit: Pick<AuditStorePort, 'record'>; now: () => number; slots?: SlotClaimer; instance?: string }): ReportSchedule {
  const mailer = createMailer(app.config);
  const mailDeps: ReportMailer = { mailer, recipients: app.config.reportRecipients, publicUrl: app.config.publicUrl };
  const log: ScheduleLog = { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) };
  const schedule = new ReportSchedule({ reports: app.reports, audit: deps.audit, now: deps.now, log, mail: mailDeps, slots: deps.slots, instance: deps.instance });
  // A person's publication (Publish, Regenerate on the page) is mailed too, after the answer: the
  // page does not wait on the mail server. The job mails its own publications itself (above).
  const sending = new Set<Promise<unknown>>();
  app.reports.onPublished = (p) => {
    if (p.publishedBy === SCHEDULE_ACTOR) return;
    const mail = mailPublication({ mail: mailDeps, log, audit: deps.audit, now: deps.now, csv: (r) => app.reports.csv(r) }, p).finally(() => sending.delete(mail));
    sending.add(mail);
  };
  app.addHook('onClose', async () => {
    await schedule.stop();
    await Promise.allSettled([...sending]);
    mailer?.close();
  });
  return schedule;
}
