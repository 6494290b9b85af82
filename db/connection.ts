// Opens the SQLite file: WAL, synchronous=FULL (a 2xx means on disk), migrations applied.
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as schema from './schema.js';

export type Sqlite = Database.Database;
export type Db = BetterSQLite3Database<typeof schema>;

export interface Connection {
  sqlite: Sqlite;
  db: Db;
  close(): void;
}

export const MIGRATIONS_FOLDER = join(import.meta.dirname, 'migrations');

/**
 * Takes group and world access off a file Kept owns, if it exists. Owner bits are kept as they are.
 * A file owned by another user (EPERM) is left alone: it is not Kept's to change, and refusing to
 * start over it would turn a deliberate shared set-up into an outage.
 */
function ownerOnly(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(path, mode & 0o700);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
}

/**
 * The database holds customers' names, addresses and messages: its folder (when Kept creates it)
 * and its files are the owner's alone. The file is created 0600 before SQLite opens it, rather
 * than narrowing `process.umask` around the open: umask is process-wide (other files being written
 * at that moment would be affected) and cannot be set from worker threads. SQLite creates `-wal`
 * and `-shm` with the database file's permissions; they are narrowed again after the open in case
 * older, wider ones were left behind.
 */
function prepareFiles(file: string): void {
  // `mode` applies only to folders this call creates. An existing folder is left as it is, neither
  // widened nor narrowed: it may be shared (KEPT_DB=./kept.db puts the database in the working folder).
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600)); // 'a': creates it if missing, never truncates an existing database
  ownerOnly(file);
}

export function openDatabase(file: string): Connection {
  // ':memory:' and '' (a temporary database) have no files to protect.
  const onDisk = file !== ':memory:' && file !== '';
  if (onDisk) prepareFiles(file);
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Deleted and replaced content is overwritten with zeros, so anonymised personal data (issue 17)
  // does not linger in free space or on the free list.
  sqlite.pragma('secure_delete = ON');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  // Planner statistics, as SQLite advises for a long-lived connection: a full ANALYZE (0x10002 has no
  // analysis limit: the sampled statistics misled the planner here) only of a table never analysed or
  // whose size has changed a lot since: the first open after a migration, a young database grown big.
  // ~1.1 s at a million contacts when it runs, ~0.1 ms when not. The list reads do not depend on it
  // (their plans are pinned: server/store/contacts.ts); other and future queries get informed plans.
  sqlite.pragma('optimize = 0x10002');
  if (onDisk) for (const suffix of ['-wal', '-shm']) ownerOnly(`${file}${suffix}`);
  return { sqlite, db, close: () => sqlite.close() };
}

/**
 * The writer thread's own connection to a database `openDatabase` has already prepared and migrated:
 * WAL, synchronous=FULL (COMMIT returns once the data is on disk), and a short busy_timeout, so a lock
 * held by another process makes the writer try again (taking in new jobs) rather than sleep in SQLite.
 */
export function openWriterConnection(file: string, options: { busyTimeoutMs: number }): { sqlite: Sqlite; close(): void } {
  const sqlite = new Database(file, { fileMustExist: true });
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('secure_delete = ON'); // anonymised data is zeroed, not left in free space (issue 17)
  return { sqlite, close: () => sqlite.close() };
}
