// The retention schedule (issue 17), applied once a day by node-cron and once at start (catching up
// on whatever fell due while Kept was down): contacts closed longer ago than the schedule's limits
// lose their messages, then everything personal; audit entries older than the trail's limit go.
// Each batch is one transaction on the writer; the event loop is let in between; progress is logged
// (counts only) and each run that changed anything leaves one audit entry. Several instances on one
// database: the scheduled run first claims its slot (the minute it fell due) in `job_slots`, as the
// weekly report does, so one instance runs it; the catch-up at start runs on each (it is idempotent:
// a contact changed already is not changed again).
import cron, { type ScheduledTask } from 'node-cron';
import { claimRun, processInstance, type SlotClaimer } from '../cluster/slots.js';
import type { IngestService } from '../ingest/service.js';
import type { PrivacyReads } from '../store/ports.js';
import { ANONYMISED, MESSAGES, type PrivacyLevel } from './anonymise.js';

export interface RetentionSchedule {
  contactMonths: number;
  messageMonths: number;
  auditMonths: number;
  /** null: never scheduled (a run may still be asked for). */
  cron: string | null;
  batch: number;
}

export interface RetentionRun {
  startedAt: string;
  finishedAt: string | null;
  /** Why it ran: at start (catching up), on the schedule, or asked for. */
  trigger: 'start' | 'schedule' | 'request';
  cutoffs: { anonymiseClosedBefore: string; messagesClosedBefore: string; auditBefore: string };
  anonymised: number;
  messagesRemoved: number;
  auditDeleted: number;
  skipped: number;
  error: string | null;
}

interface Log {
  info(msg: string): void;
  error(msg: string): void;
}

/** `months` calendar months before `now` (UTC; the 31st of a shorter month is its last day). */
export function monthsBefore(now: number, months: number): number {
  const d = new Date(now);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.getTime();
}

/** The job's name in `job_slots`. */
export const RETENTION_JOB = 'retention';

export interface RetentionClaims {
  /** Where scheduled runs are claimed (job_slots on the instances' database). Absent: every run is this instance's. */
  slots?: SlotClaimer;
  /** This instance's name in a claim (default host:pid). */
  instance?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RetentionJob {
  private readonly store: PrivacyReads;
  private task: ScheduledTask | null = null;
  private running: Promise<RetentionRun> | null = null;
  private stopped = false;
  #last: RetentionRun | null = null;

  constructor(
    private readonly ingest: IngestService,
    readonly schedule: RetentionSchedule,
    private readonly log: Log,
    private readonly claims: RetentionClaims = {},
  ) {
    this.store = ingest.stores.privacy;
  }

  /** The last run (this process's), or null. */
  get last(): RetentionRun | null {
    return this.#last;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Schedules the daily run and catches up now. */
  start(): void {
    if (this.schedule.cron === null) return;
    this.task = cron.schedule(this.schedule.cron, () => void this.scheduled(this.ingest.now()).catch(() => {}), { name: 'kept-retention', noOverlap: true });
    void this.run('start').catch(() => {});
  }

  /** Stops the schedule; a batch under way finishes, no further batch starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.task !== null) await this.task.destroy();
    this.task = null;
    if (this.running !== null) await this.running.catch(() => {});
  }

  /**
   * The scheduled run fallen due at `at`: claimed first (its slot is the minute, as every instance's
   * cron fires in the same one), then run; null when another instance (or an earlier firing) has it.
   * A claim that cannot be made (the database away) throws: the next firing tries again.
   */
  async scheduled(at: number): Promise<RetentionRun | null> {
    const slots = this.claims.slots;
    if (slots !== undefined) {
      const slot = iso(Math.floor(at / 60_000) * 60_000);
      const instance = this.claims.instance ?? processInstance();
      const taken = await claimRun(slots, RETENTION_JOB, slot, instance);
      if (taken !== null) {
        this.log.info(`retention: the run due ${slot} was claimed already by ${taken.by ?? 'another instance'}; ${instance} leaves it to that claim`);
        return null;
      }
    }
    return this.run('schedule');
  }

  /** One run (a run already under way is joined, not repeated). */
  run(trigger: RetentionRun['trigger']): Promise<RetentionRun> {
    if (this.running !== null) return this.running;
    this.running = this.apply(trigger).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async apply(trigger: RetentionRun['trigger']): Promise<RetentionRun> {
    const now = this.ingest.now();
    const s = this.schedule;
    const anonymiseBefore = monthsBefore(now, s.contactMonths);
    const messagesBefore = monthsBefore(now, s.messageMonths);
    const auditBefore = monthsBefore(now, s.auditMonths);
    const run: RetentionRun = {
      startedAt: iso(now),
      finishedAt: null,
      trigger,
      cutoffs: { anonymiseClosedBefore: iso(anonymiseBefore), messagesClosedBefore: iso(messagesBefore), auditBefore: iso(auditBefore) },
      anonymised: 0,
      messagesRemoved: 0,
      auditDeleted: 0,
      skipped: 0,
      error: null,
    };
    this.#last = run;
    try {
      // Everything personal of contacts closed before the longer limit (from either stage)…
      for (const stage of [0, 1]) run.anonymised += await this.pass(stage, anonymiseBefore, ANONYMISED, run);
      // …then the messages of contacts closed before the shorter one (when it is shorter).
      if (messagesBefore > anonymiseBefore) run.messagesRemoved += await this.pass(0, messagesBefore, MESSAGES, run);
      while (await this.store.hasAuditBefore(auditBefore)) {
        if (this.stopped) break;
        const { deleted } = await this.ingest.writer.run('prune-audit', { before: auditBefore, limit: s.batch });
        run.auditDeleted += deleted;
        if (deleted < s.batch) break;
        await turn();
      }
    } catch (e) {
      run.error = (e as Error).message;
      this.log.error(`retention: stopped by an error after ${run.anonymised} anonymised, ${run.messagesRemoved} messages removed: ${run.error}`);
    }
    run.finishedAt = iso(this.ingest.now());
    if (run.anonymised + run.messagesRemoved + run.auditDeleted > 0 || run.error !== null) {
      await this.ingest.audit.record(this.ingest.now(), 'retention', 'privacy.retention', run);
    }
    this.log.info(`retention (${trigger}): ${run.anonymised} contacts anonymised, ${run.messagesRemoved} had their messages removed, ${run.auditDeleted} audit entries deleted, ${run.skipped} skipped (held or reopened)`);
    return run;
  }

  /** Walks the due contacts at a stage in batches, oldest first; answers how many were changed. */
  private async pass(stage: number, cutoff: number, level: PrivacyLevel, run: RetentionRun): Promise<number> {
    let after: { receivedAt: number; id: string } | null = null;
    let changed = 0;
    for (;;) {
      if (this.stopped) break;
      const batch = await this.store.retentionBatch(stage, cutoff, after, this.schedule.batch);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!;
      const out = await this.ingest.writer.run('anonymise-contacts', { now: this.ingest.now(), contactIds: batch.map((b) => b.id), level, mode: 'retention', actor: 'retention' });
      changed += out.changed;
      run.skipped += out.skipped;
      if (batch.length === this.schedule.batch) this.log.info(`retention: ${level === ANONYMISED ? 'anonymised' : 'messages removed from'} ${changed} contacts so far (received up to ${iso(after.receivedAt)})`);
      await turn();
    }
    return changed;
  }
}
