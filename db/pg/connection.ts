// Opens PostgreSQL (issue 14): a pool whose int8 values come back as numbers, every commit waiting for
// the disk (synchronous_commit=on, so a 2xx means on disk, as SQLite's synchronous=FULL), and the
// migrations applied once however many instances start at the same moment.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { join } from 'node:path';
import pg from 'pg';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema>;

export interface PgConnection {
  pool: pg.Pool;
  db: PgDb;
  close(): Promise<void>;
}

/** A pool (it hands out connections), as against one connection or a client already in a transaction. */
export function isPool<T extends object>(db: T): db is T & pg.Pool {
  return typeof (db as Partial<pg.Pool>).connect === 'function' && typeof (db as Partial<pg.Pool>).totalCount === 'number';
}

export const PG_MIGRATIONS_FOLDER = join(import.meta.dirname, 'migrations');

/**
 * The advisory lock every instance takes while it migrates (a fixed 64-bit key: "kept" and "migr" in
 * ASCII). drizzle's migrator takes no lock of its own: it creates its schema and table with IF NOT
 * EXISTS (which two sessions still race on: four pools migrating a fresh database at once, without
 * this lock, failed three times in three tries) and reads the last applied migration outside its
 * transaction, so two instances starting together would both apply the same migration.
 */
export const MIGRATION_LOCK_KEY = 0x6b657074_6d696772n;

/**
 * int8 (bigint columns: instants in ms, ids; `count(*)`) as a JS number, for this pool's queries only.
 * Kept's int8 values are epoch milliseconds, durations and counts, far below 2^53. The global
 * `pg.types.setTypeParser` would change every pool in the process (and other libraries' pools).
 * drizzle's own queries pass their own parsers and read typed columns through `mode: 'number'`.
 */
const INT8_OID = 20;
const poolTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Applies the migrations not yet applied, holding the migration lock on one connection throughout. */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      // The migrator runs on the locked connection itself (drizzle over one client runs its BEGIN and
      // COMMIT there), so the lock covers its reads and its transaction; a second instance waits here,
      // then finds every migration applied and does nothing.
      await migrate(drizzle({ client, schema }), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    client.release();
  }
}

export interface OpenPostgresOptions {
  /** Connections in the pool (10 unless given). */
  max?: number;
  /** Apply the migrations on open (the default; false for a second pool on a database already opened). */
  migrate?: boolean;
  /** Told of an idle connection's error (the server restarted or ended it); the pool replaces the connection. */
  onIdleError?: (error: Error) => void;
}

export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<PgConnection> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types: poolTypes,
    // Startup parameters, so every connection of the pool has them from its first statement: a COMMIT
    // returns once the WAL is flushed to disk (whatever the server's default), and the sessions are
    // named in pg_stat_activity.
    options: '-c synchronous_commit=on',
    application_name: 'kept',
  });
  // An idle connection the server drops (a restart, pg_terminate_backend) emits 'error' on the pool:
  // without a listener that would end the process. The pool discards the connection and opens
  // another on the next checkout; queries in flight get their own error.
  pool.on('error', (e) => options.onIdleError?.(e));
  try {
    if (options.migrate !== false) await migratePostgres(pool);
  } catch (e) {
    await pool.end();
    throw e;
  }
  const db = drizzle({ client: pool, schema });
  return { pool, db, close: () => pool.end() };
}
