// The timers' transitions stored by the leader only (issue 14, item 4). Every instance fires every
// clock at its instant (its own boards change then); only the instance holding the 'clocks' lease
// stores the transitions, fenced by its token (lease.ts). When an instance becomes leader it first
// stores what fell due while no one led (the old leader crashed or hung, or every instance was down),
// each at the instant it really happened, read from the clocks' own due instants, not from the time
// it was noticed. A store that failed (the database away for a moment) is made good the same way at
// the next renewal.
import { isPool } from '../../db/pg/connection.js';
import { fencedSetStatuses, type Fence, type FencedResult, type Lease, type Queryable, type StatusChange } from './lease.js';

export interface TransitionsLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface TransitionsOptions {
  /** Lagging clocks read and stored per statement at an election (default 2,000). */
  pageRows?: number;
  /** The instance's clock (Kept's `service.now`): which transitions have fallen due. */
  now?: () => number;
  log?: TransitionsLog;
}

/**
 * Running clocks whose stored status lags behind now, in two reads that each walk an index of open
 * clocks only (a year's table holds millions of ended ones): first the breaches (due before now: a
 * range of `clocks_open_due`, oldest first, so the oldest are stored first if the catch-up is cut
 * short), then the at-risks (at-risk instant reached, not yet due: open clocks are few, and
 * `clocks_open_received` covers every column this reads). Paused and ended clocks owe nothing.
 */
const OWED_BREACHES_SQL = `
SELECT contact_id, standard, due_at FROM clocks
 WHERE open AND due_at < $1 AND status IN ('running', 'at-risk')
 ORDER BY due_at, contact_id
 LIMIT $2`;
const OWED_AT_RISK_SQL = `
SELECT contact_id, standard, at_risk_at FROM clocks
 WHERE open AND status = 'running' AND at_risk_at <= $1 AND due_at >= $1
 LIMIT $2`;

export type RecordOutcome =
  | { outcome: 'stored'; stored: StatusChange[]; token: number }
  | { outcome: 'fenced'; token: number }
  | { outcome: 'not-leader' }
  | { outcome: 'failed' };

const silent: TransitionsLog = { info: () => {}, warn: () => {}, error: () => {} };

export class LeaderTransitions {
  readonly #db: Queryable;
  readonly #lease: Lease;
  readonly #pageRows: number;
  readonly #now: () => number;
  readonly #log: TransitionsLog;
  /** A store failed (not fenced: an error): catch up at the next renewal. */
  #owed = false;
  #catchingUp: Promise<number> | null = null;
  /** Firings waiting for the store under way (one at a time). */
  #waiting: Array<{ statuses: readonly StatusChange[]; resolve: (outcome: RecordOutcome) => void }> = [];
  #storing = false;
  readonly #onElected = () => void this.catchUp();
  readonly #onRenewed = () => {
    if (this.#owed) void this.catchUp();
  };

  constructor(db: Queryable, lease: Lease, options: TransitionsOptions = {}) {
    this.#db = db;
    this.#lease = lease;
    this.#pageRows = options.pageRows ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? silent;
    lease.on('elected', this.#onElected);
    lease.on('renewed', this.#onRenewed);
  }

  /** Stops listening to the lease (it is stopped by its owner). Waits for a catch-up under way. */
  async close(): Promise<void> {
    this.#lease.off('elected', this.#onElected);
    this.#lease.off('renewed', this.#onRenewed);
    await this.#catchingUp?.catch(() => {});
  }

  /**
   * The timers fired: store these transitions if this instance leads. Not the leader: nothing is
   * asked of the database (the leader stores them, or the next one catches them up). Fenced: the
   * database refused this term's token, and the lease steps down.
   *
   * One store at a time: what fires while a statement is out waits and goes into the next one,
   * whatever the number of firings (as the group-commit writer does), so a breach storm costs a few
   * statements a second, not one per firing (measured: one statement per firing fell behind at
   * ~1,000 transitions a second on this machine; scripts/bench/breaches.ts).
   */
  record(statuses: readonly StatusChange[]): Promise<RecordOutcome> {
    const fence = this.#lease.fence();
    if (fence === null) return Promise.resolve({ outcome: 'not-leader' });
    if (statuses.length === 0) return Promise.resolve({ outcome: 'stored', stored: [], token: fence.token });
    return new Promise((resolve) => {
      this.#waiting.push({ statuses, resolve });
      if (!this.#storing) void this.#drain();
    });
  }

  /** Stores everything waiting, one statement per round, until nothing waits. */
  async #drain(): Promise<void> {
    this.#storing = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting;
        this.#waiting = [];
        const outcome = await this.#storeBatch(batch.flatMap((w) => w.statuses));
        for (const w of batch) w.resolve(outcome.outcome === 'stored' ? { ...outcome, stored: mine(outcome.stored, w.statuses) } : outcome);
      }
    } finally {
      this.#storing = false;
    }
  }

  async #storeBatch(statuses: readonly StatusChange[]): Promise<RecordOutcome> {
    const fence = this.#lease.fence();
    if (fence === null) return { outcome: 'not-leader' };
    try {
      const r = await this.#store(fence, statuses, this.#now());
      if (r === null) return { outcome: 'not-leader' };
      if (r.fenced) {
        this.#lease.refused(fence.token);
        return { outcome: 'fenced', token: fence.token };
      }
      return { outcome: 'stored', stored: r.stored, token: fence.token };
    } catch (e) {
      // Nothing is lost: the clocks still lag in the database, and the next renewal catches them up.
      this.#owed = true;
      this.#log.error(`storing ${statuses.length} timer transition(s) failed: ${(e as Error).message}; catching up at the next renewal`);
      return { outcome: 'failed' };
    }
  }

  /**
   * Stores every transition that fell due and is not stored yet, at its true instant (a breach at the
   * first millisecond after its due instant; an at-risk at its at-risk instant). Runs on election;
   * one at a time. Answers how many were stored.
   */
  catchUp(): Promise<number> {
    if (this.#catchingUp !== null) return this.#catchingUp;
    this.#owed = false;
    const run = this.#catchUp().finally(() => {
      this.#catchingUp = null;
    });
    this.#catchingUp = run;
    return run;
  }

  /**
   * The fenced write on a connection of its own. A pool may hold a query in its queue for a free
   * connection, across a pause of the whole process: so the lease is asked again once the connection
   * is ours, just before the statement goes (null: no longer the leader, nothing sent). What still
   * slips through that instant, the database's fence refuses.
   */
  async #store(fence: Fence, statuses: readonly StatusChange[], now: number): Promise<FencedResult | null> {
    if (!isPool(this.#db)) return fencedSetStatuses(this.#db, fence, statuses, now);
    const client = await this.#db.connect();
    try {
      if (this.#lease.fence()?.token !== fence.token) return null;
      return await fencedSetStatuses(client, fence, statuses, now);
    } finally {
      client.release();
    }
  }

  async #catchUp(): Promise<number> {
    let total = 0;
    try {
      // A breach is the latest transition a clock owes (its at-risk instant has passed too), so it is
      // stored alone; then the clocks that owe only their at-risk.
      owed: for (const [sql, status, column] of [
        [OWED_BREACHES_SQL, 'breached', 'due_at'],
        [OWED_AT_RISK_SQL, 'at-risk', 'at_risk_at'],
      ] as const) {
        for (;;) {
          const fence = this.#lease.fence();
          if (fence === null) break owed;
          const now = this.#now();
          const rows = await this.#db.query<Record<string, string | number>>(sql, [now, this.#pageRows]);
          if (rows.rows.length === 0) break;
          const statuses: StatusChange[] = rows.rows.map((r) => ({
            contactId: String(r.contact_id),
            standard: String(r.standard),
            status,
            at: status === 'breached' ? Number(r[column]) + 1 : Number(r[column]),
          }));
          const r = await this.#store(fence, statuses, now);
          if (r === null) break owed;
          if (r.fenced) {
            this.#lease.refused(fence.token);
            break owed;
          }
          total += r.stored.length;
          // A page that stored nothing was stored by someone else meanwhile; a short page was the last.
          if (r.stored.length === 0 || rows.rows.length < this.#pageRows) break;
        }
      }
    } catch (e) {
      this.#owed = true;
      this.#log.error(`catching up timer transitions failed: ${(e as Error).message}; trying again at the next renewal`);
    }
    if (total > 0) this.#log.info(`stored ${total} timer transition(s) that fell due while no instance led, at their true instants`);
    return total;
  }
}

/** Of the transitions a round stored, those one caller asked for (by clock). */
function mine(stored: readonly StatusChange[], asked: readonly StatusChange[]): StatusChange[] {
  const keys = new Set(asked.map((s) => `${s.contactId}/${s.standard}`));
  return stored.filter((s) => keys.has(`${s.contactId}/${s.standard}`));
}
