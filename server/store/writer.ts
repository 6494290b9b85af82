// Group commit: writes that arrive together share one transaction and one fsync.
import type { Sqlite } from '../../db/connection.js';

type Job<T> = { run: () => T; resolve: (value: T) => void; reject: (error: unknown) => void };

/**
 * Queues write jobs and runs every job queued in the same turn of the event loop in one
 * transaction (each inside its own savepoint, so one failing job changes nothing and fails
 * alone). Promises settle only after COMMIT returns, i.e. once the data is durable.
 */
export class GroupCommitWriter {
  private queue: Array<Job<unknown>> = [];
  private scheduled = false;
  /** Number of transactions committed and jobs run (for benchmarks and health). */
  commits = 0;
  jobs = 0;

  private readonly sql;

  constructor(private readonly sqlite: Sqlite, private readonly maxBatch = 512) {
    // Prepared once: these run for every job.
    this.sql = {
      begin: sqlite.prepare('BEGIN IMMEDIATE'),
      commit: sqlite.prepare('COMMIT'),
      savepoint: sqlite.prepare('SAVEPOINT job'),
      release: sqlite.prepare('RELEASE job'),
      rollbackTo: sqlite.prepare('ROLLBACK TO job'),
    };
  }

  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve, reject } as Job<unknown>);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      const { begin, commit, savepoint, release, rollbackTo } = this.sql;
      begin.run();
      for (const job of batch) {
        savepoint.run();
        try {
          const value = job.run();
          release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          rollbackTo.run();
          release.run();
          outcomes.push({ ok: false, error });
        }
      }
      commit.run();
    } catch (error) {
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
      for (const job of batch) job.reject(error);
      return;
    }
    this.commits++;
    this.jobs += batch.length;
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
