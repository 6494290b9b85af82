// One write transaction on PostgreSQL for the commands beyond create (server/store/pg/commands.ts):
// a durable commit, every statement bounded (KEPT_WRITE_TIMEOUT_MS, as the set-based writer's), the
// calendar lock taken shared (a contact's write) or exclusively (a calendar edit), and every failure
// answered as Kept answers it: a fault 503 with the reason (writer-faults.ts), never a bare 500.
import type pg from 'pg';
import { isPool } from '../../../db/pg/connection.js';
import { appendChanges, notifyFeed, type FeedChange } from '../../cluster/feed.js';
import type { ContactChange } from '../../commands/context.js';
import { KeptError, UnavailableError } from '../../errors.js';
import { CALENDAR_EDIT_LOCK } from './writer-calendars.js';
import { pgFault, pgFaultError, pgJobError, type PgWriteFault } from './writer-faults.js';

/** Shared: a contact's write, which evaluates clocks; exclusive: a calendar edit, which changes them all. */
export type CalendarLock = 'shared' | 'exclusive';

/**
 * A connection inside the transaction, each statement with a client-side bound too (no answer at
 * all: the connection is given up, 503). Kept's row writes call it as query(text, values) only.
 */
export type TxClient = Pick<pg.PoolClient, 'query'>;

export interface TransactionOptions {
  timeoutMs: number;
  calendarLock: CalendarLock;
  /** A fault refused the transaction (for /health); called before the 503 is thrown. */
  onFault?: (fault: PgWriteFault) => void;
}

/** Deadlock and serialization failures: nothing was stored, and trying again is the cure. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;
const BUSY = 'database busy: this write met others on the same rows and was refused three times; nothing was stored; try again shortly';

/**
 * Runs `work` in one transaction on a connection of `pool`: BEGIN, synchronous_commit=on and a
 * statement_timeout for the transaction, the calendar lock (pg_advisory_xact_lock), `work`, COMMIT.
 * Settles after COMMIT with what `work` returned. Kept's own errors (a 404, a 409, a 422) roll back
 * and pass through; PostgreSQL's are mapped (a fault: 503; a value or constraint: 422 or 409).
 */
export async function inWriteTransaction<T>(pool: pg.Pool, o: TransactionOptions, work: (tx: TxClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw refusal(error, o);
    }
    // A connection cut while checked out reports on the client too: heard here, so it neither ends
    // the process nor goes back into the pool.
    let lost: Error | undefined;
    const onError = (error: Error) => (lost = error);
    client.on('error', onError);
    const tx = { query: (text: string, values?: unknown[]) => client.query({ text, values, query_timeout: o.timeoutMs + 1000 } as pg.QueryConfig) } as unknown as TxClient;
    let broken: unknown;
    try {
      await tx.query('BEGIN');
      const lock = o.calendarLock === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
      await tx.query(`SELECT set_config('synchronous_commit', 'on', true), set_config('statement_timeout', $1, true), ${lock}(${CALENDAR_EDIT_LOCK})`, [String(o.timeoutMs)]);
      const out = await work(tx);
      await tx.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof KeptError) throw error;
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && RETRYABLE.has(code)) {
        if (attempt < ATTEMPTS) continue;
        throw new UnavailableError(BUSY, 'database-locked', 1);
      }
      if (pgFault(error) !== undefined) {
        broken = error;
        throw refusal(error, o);
      }
      throw pgJobError(error);
    } finally {
      client.off('error', onError);
      const dead = lost ?? (broken instanceof Error ? broken : broken === undefined ? undefined : new Error('connection fault'));
      client.release(dead);
    }
  }
}

/** A failure before or during the transaction as Kept answers it: a fault 503 with the reason, else itself. */
function refusal(error: unknown, o: TransactionOptions): unknown {
  const fault = pgFault(error);
  if (fault === undefined) return pgJobError(error);
  o.onFault?.(fault);
  return pgFaultError(fault);
}

/**
 * One plain transaction: BEGIN, the work, COMMIT — or ROLLBACK when the work throws — and the
 * connection always handed back. For the stores' few writes of more than one statement (a board
 * message, a saved board's deletion) and the calendars' seed. Handed a connection already inside a
 * transaction (a command's, inWriteTransaction's), the work simply runs in it.
 */
export async function inTransaction<T>(db: pg.Pool | TxClient, work: (client: TxClient) => Promise<T>): Promise<T> {
  if (!isPool(db)) return work(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}


/** How a command's transaction runs: its bound, the feed, and who hears of its changes and faults. */
export interface WrittenOptions {
  timeoutMs?: number;
  feed?: boolean;
  onCommit?: (changes: ContactChange[]) => void;
  onFault?: (fault: PgWriteFault) => void;
}

/** What a transaction wrote: the answer, the contacts whose clocks changed, the feed's rows. */
export interface Written<T> {
  out: T;
  changes: ContactChange[];
  feed: FeedChange[];
}

/**
 * One transaction with the calendar lock as asked; with `feed`, the rows appended and the doorbell
 * rung inside it; after COMMIT the listeners hear the changes.
 */
export async function runWritten<T>(pool: pg.Pool, o: WrittenOptions, lock: CalendarLock, work: (tx: TxClient) => Promise<Written<T>>): Promise<T> {
  const done = await inWriteTransaction(pool, { timeoutMs: o.timeoutMs ?? 5000, calendarLock: lock, ...(o.onFault ? { onFault: o.onFault } : {}) }, async (tx) => {
    const w = await work(tx);
    if (o.feed === true && w.feed.length > 0) {
      await appendChanges(tx, w.feed);
      await notifyFeed(tx);
    }
    return w;
  });
  if (done.changes.length > 0) o.onCommit?.(done.changes);
  return done.out;
}
