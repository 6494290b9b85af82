// Scheduled jobs exactly once across instances (issue 14, item 5): before a run, each instance claims
// the run's slot (the job and the instant it was due) by inserting a row keyed by it; the primary key
// lets exactly one insert through, and only that instance runs the job. A lock held while the job
// runs is not enough (measured in issue 14: node-cron with an advisory lock ran every slot three
// times on three instances: a fast run ends, and releases, before a slower instance's timer fires).
// The row outlives the run, so a late instance, or the catch-up of one starting afterwards, finds the
// slot taken. Two implementations: PostgreSQL (instances on several machines) and SQLite (the
// default; also keeps two processes on one file from running a job twice).
import { hostname } from 'node:os';
import type { Sqlite } from '../../db/connection.js';
import type { Queryable } from './lease.js';

export interface SlotClaimer {
  /** True for exactly one caller per (job, slot): that caller runs it; every other does not. */
  claimSlot(job: string, slotIso: string, instance: string): Promise<boolean>;
  /** Who claimed a slot (null: nobody yet), for the log of an instance that did not. */
  claimant(job: string, slotIso: string): Promise<{ instance: string; claimedAt: number } | null>;
}

/** This process's name in a claim when none is configured: host:pid. */
export function processInstance(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Claims a run's slot for `instance`: null when the run is this caller's, else who claimed it first
 * (their instance name; null if the row cannot be read back), for the caller's log.
 */
export async function claimRun(slots: SlotClaimer, job: string, slotIso: string, instance: string): Promise<{ by: string | null } | null> {
  if (await slots.claimSlot(job, slotIso, instance)) return null;
  return { by: (await slots.claimant(job, slotIso))?.instance ?? null };
}

/** job_slots on PostgreSQL (server/cluster/lease.sql): the claim stamped with the database's clock. */
export class PgSlots implements SlotClaimer {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async claimSlot(job: string, slotIso: string, instance: string): Promise<boolean> {
    const r = await this.#db.query(
      `INSERT INTO job_slots (job, slot, instance, claimed_at)
       VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
       ON CONFLICT (job, slot) DO NOTHING RETURNING job`,
      [job, slotIso, instance],
    );
    return r.rows.length === 1;
  }

  async claimant(job: string, slotIso: string): Promise<{ instance: string; claimedAt: number } | null> {
    const r = await this.#db.query<{ instance: string; claimed_at: string | number }>('SELECT instance, claimed_at FROM job_slots WHERE job = $1 AND slot = $2', [job, slotIso]);
    const row = r.rows[0];
    return row === undefined ? null : { instance: row.instance, claimedAt: Number(row.claimed_at) };
  }
}

/**
 * job_slots on SQLite (db/schema.ts, migration 0012): a single-row write on the main connection, as
 * tokens' and people's are (the writer thread's queue is for contacts; a claim is one tiny insert).
 */
export class SqliteSlots implements SlotClaimer {
  readonly #claim;
  readonly #claimant;

  constructor(
    sqlite: Sqlite,
    private readonly now: () => number = Date.now,
  ) {
    this.#claim = sqlite.prepare<[string, string, string, number], { job: string }>(
      'INSERT INTO job_slots (job, slot, instance, claimed_at) VALUES (?, ?, ?, ?) ON CONFLICT (job, slot) DO NOTHING RETURNING job',
    );
    this.#claimant = sqlite.prepare<[string, string], { instance: string; claimed_at: number }>('SELECT instance, claimed_at FROM job_slots WHERE job = ? AND slot = ?');
  }

  /** Synchronous underneath (better-sqlite3); a promise so both databases answer alike. */
  async claimSlot(job: string, slotIso: string, instance: string): Promise<boolean> {
    return this.claimSlotNow(job, slotIso, instance);
  }

  claimSlotNow(job: string, slotIso: string, instance: string): boolean {
    return this.#claim.get(job, slotIso, instance, this.now()) !== undefined;
  }

  async claimant(job: string, slotIso: string): Promise<{ instance: string; claimedAt: number } | null> {
    const row = this.#claimant.get(job, slotIso);
    return row === undefined ? null : { instance: row.instance, claimedAt: row.claimed_at };
  }
}
