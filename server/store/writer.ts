// Group commit: writes that arrive together share one transaction and one fsync.
import type { Sqlite } from '../../db/connection.js';
import { faultError, lockTimeout, writeFault, type WriteFailure, type WriteFault } from './faults.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface WriteJob<T = unknown> {
  run: () => T;
  /** `Date.now()` past which the job stops waiting for the write lock and fails with "database locked". None: one try. */
  deadline?: number;
  settle: (outcome: Outcome<T>) => void;
}

/** A batch's jobs with their outcomes (those still waiting for the lock are queued again), and whether to try again soon. */
type Settled = { outcomes: Array<[WriteJob, Outcome<unknown>]>; retry: boolean };

export interface WriterOptions {
  /** Jobs in one transaction at most (default 512). */
  maxBatch?: number;
  /** The database file: a failed write's cause is diagnosed on it (read-only, disk full). */
  file?: string;
  /** KEPT_WRITE_TIMEOUT_MS, for the message of a write that waited that long for the lock. */
  timeoutMs?: number;
  /** While writes fail, try a real write this often (ms) so /health recovers with no traffic; 0: never. */
  probeMs?: number;
  /** After COMMIT, before the jobs settle. */
  onCommit?: () => void;
  /** After a transaction was rolled back as a whole (a fault): undo in-memory state its jobs changed. */
  onRollback?: () => void;
  /** After each flush's jobs have settled (the writer thread sends its replies here). */
  onSettled?: () => void;
  /** The last failure was set or cleared. */
  onFailure?: (failure: WriteFailure | null) => void;
}

/**
 * Queues write jobs and runs every job queued in the same turn of the event loop in one
 * transaction; one failing job changes nothing and fails alone (see runBatch: a savepoint per job
 * when one must be undone). Jobs settle only after COMMIT returns, i.e. once the data is durable.
 *
 * Faults are not a job's own: a job that hits one (disk full, read-only, an I/O error) rolls the
 * whole transaction back and every job of it fails with the reason (503). When another process holds
 * the write lock, `BEGIN IMMEDIATE` gives up after the connection's (short) busy_timeout and is tried
 * again, new jobs joining the batch, until each job's deadline; a job past it fails "database locked".
 * The last failure is kept for /health, and cleared by the next COMMIT that wrote something.
 */
export class GroupCommitWriter {
  private queue: WriteJob[] = [];
  private scheduled = false;
  private probeTimer: ReturnType<typeof setInterval> | null = null;
  /** Number of transactions committed and jobs run (for benchmarks and health). */
  commits = 0;
  jobs = 0;
  failure: WriteFailure | null = null;

  private readonly sql;

  constructor(
    private readonly sqlite: Sqlite,
    private readonly options: WriterOptions = {},
  ) {
    // Prepared once: these run for every job.
    this.sql = {
      begin: sqlite.prepare('BEGIN IMMEDIATE'),
      commit: sqlite.prepare('COMMIT'),
      savepoint: sqlite.prepare('SAVEPOINT job'),
      release: sqlite.prepare('RELEASE job'),
      rollbackTo: sqlite.prepare('ROLLBACK TO job'),
      changes: sqlite.prepare<[], number>('SELECT total_changes()').pluck(),
    };
  }

  get queued(): number {
    return this.queue.length;
  }

  submit(job: WriteJob): void {
    this.queue.push(job);
    this.schedule(0);
  }

  write<T>(run: () => T, deadline?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.submit({ run, ...(deadline !== undefined ? { deadline } : {}), settle: (o) => (o.ok ? resolve(o.value as T) : reject(o.error)) } as WriteJob);
    });
  }

  /** Stops the probe; queued jobs still run. */
  stop(): void {
    if (this.probeTimer !== null) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (delayMs === 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), delayMs);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.options.maxBatch ?? 512);
    if (batch.length === 0) return;
    const settled = this.runBatch(batch);
    if (this.queue.length > 0) this.schedule(settled.retry ? 5 : 0);
    for (const [job, outcome] of settled.outcomes) job.settle(outcome);
    if (settled.outcomes.length > 0) this.options.onSettled?.();
  }

  /**
   * One transaction; jobs still waiting for the lock go back to the front of the queue.
   *
   * The jobs run first without savepoints: a savepoint copies every page a job touches, as it was,
   * into a statement journal (a new contact touches ~35 pages: its row, events, clocks, person keys,
   * audit row and their indexes), which spills to a temporary file after 64 KiB — two write(2)s
   * a page, more than half of the writer's system time. A job that fails having changed no row
   * (a conflict, a rule or validation error: checked before writing; a failed statement undoes
   * itself) has nothing to undo and fails alone. A job that fails after it changed rows (rare)
   * cannot be undone alone: the transaction is rolled back and the whole batch run again, each job
   * in its own savepoint, as before. Either way a job that fails changes nothing and the others are
   * committed.
   */
  private runBatch(batch: WriteJob[]): Settled {
    const first = this.transaction(batch, false);
    if (first !== 'again') return first;
    const second = this.transaction(batch, true);
    if (second === 'again') throw new Error('unreachable: with savepoints a failed job is undone alone');
    return second;
  }

  /** The batch in one transaction; without savepoints, 'again' when a failed job must be undone alone. */
  private transaction(batch: WriteJob[], savepoints: boolean): Settled | 'again' {
    const { begin, commit, savepoint, release, rollbackTo, changes } = this.sql;
    const before = changes.get()!;
    try {
      begin.run();
    } catch (error) {
      return this.refuse(batch, error);
    }
    const outcomes: Array<[WriteJob, Outcome<unknown>]> = [];
    let fault: unknown;
    let again = false;
    for (const job of batch) {
      if (savepoints) {
        try {
          savepoint.run();
        } catch (error) {
          fault = error;
          break;
        }
      }
      const changed = savepoints ? 0 : changes.get()!;
      try {
        const value = job.run();
        if (savepoints) release.run();
        outcomes.push([job, { ok: true, value }]);
      } catch (error) {
        if (writeFault(error) !== undefined) {
          fault = error;
          break;
        }
        if (!savepoints) {
          if (changes.get() === changed) {
            outcomes.push([job, { ok: false, error }]);
            continue;
          }
          again = true;
          break;
        }
        try {
          rollbackTo.run();
          release.run();
        } catch (undo) {
          fault = undo;
          break;
        }
        outcomes.push([job, { ok: false, error }]);
      }
    }
    let wrote = false;
    if (fault === undefined && !again) {
      try {
        wrote = changes.get() !== before;
        commit.run();
      } catch (error) {
        fault = error;
      }
    }
    if (fault !== undefined || again) {
      if (this.sqlite.inTransaction) {
        try {
          this.sqlite.exec('ROLLBACK');
        } catch {
          // SQLite may have rolled back already (SQLITE_FULL does)
        }
      }
      this.options.onRollback?.();
      if (fault === undefined) return 'again';
      return this.refuse(batch, fault);
    }
    this.commits++;
    this.jobs += batch.length;
    this.options.onCommit?.();
    if (wrote) this.setFailure(null);
    return { outcomes, retry: false };
  }

  /**
   * Nothing of `batch` was committed. Waiting for the lock, jobs within their deadline are queued
   * again; the others, and every job on any other fault, fail with the reason. An error that is no
   * database fault (a bug) fails them all with itself, as before.
   */
  private refuse(batch: WriteJob[], error: unknown): Settled {
    const fault = writeFault(error, this.options.file);
    if (fault === undefined) return { outcomes: batch.map((job) => [job, { ok: false, error }]), retry: false };
    let failed = batch;
    let reason: WriteFault = fault;
    if (fault.code === 'database-locked') {
      const now = Date.now();
      const waiting = batch.filter((j) => j.deadline !== undefined && j.deadline > now);
      failed = batch.filter((j) => !(j.deadline !== undefined && j.deadline > now));
      this.queue.unshift(...waiting);
      if (this.options.timeoutMs !== undefined) reason = lockTimeout(this.options.timeoutMs);
    }
    if (failed.length > 0) this.setFailure(reason);
    const refusal = faultError(reason);
    return { outcomes: failed.map((job) => [job, { ok: false, error: refusal }]), retry: fault.code === 'database-locked' };
  }

  private setFailure(fault: WriteFault | null): void {
    if (fault === null) {
      if (this.failure === null) return;
      this.failure = null;
      this.stop();
      this.options.onFailure?.(null);
      return;
    }
    const now = Date.now();
    const same = this.failure !== null && this.failure.code === fault.code && this.failure.reason === fault.reason;
    this.failure = { ...fault, since: this.failure?.since ?? now, at: now };
    if (!same) this.options.onFailure?.(this.failure);
    const every = this.options.probeMs ?? 0;
    if (every > 0 && this.probeTimer === null) this.probeTimer = setInterval(() => this.probe(), every);
  }

  /**
   * While writes fail and none is queued: a real write (the header's user_version, rewritten with its
   * own value: a WAL frame and an fsync, like any commit), so /health clears once the cause is gone.
   */
  private probe(): void {
    if (this.failure === null) return this.stop();
    if (this.queue.length > 0 || this.scheduled) return;
    try {
      this.sql.begin.run();
      const version = this.sqlite.pragma('user_version', { simple: true }) as number;
      this.sqlite.pragma(`user_version = ${Number(version) | 0}`);
      this.sql.commit.run();
      this.setFailure(null);
    } catch (error) {
      if (this.sqlite.inTransaction) {
        try {
          this.sqlite.exec('ROLLBACK');
        } catch {
          // already rolled back
        }
      }
      const fault = writeFault(error, this.options.file);
      if (fault !== undefined) this.setFailure(fault.code === 'database-locked' && this.options.timeoutMs !== undefined ? lockTimeout(this.options.timeoutMs) : fault);
    }
  }
}
