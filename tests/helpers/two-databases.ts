// The same commands on both databases (tests/integration/pg-commands.test.ts,
// store-contract-queue.test.ts): a real SQLite file with its calendars seeded and the InlineRunner over
// it; a fresh PostgreSQL database with two pools (two instances) and the set-based writer on the first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase, type TestPg } from './pg.js';

export interface TwoDatabases {
  sqlite: Connection;
  runner: InlineRunner;
  db: TestPg;
  pool: pg.Pool;
  pool2: pg.Pool;
  writer: PgGroupCommitWriter;
  /** Closes everything and drops the PostgreSQL database and the SQLite file. */
  close(): Promise<void>;
}

export async function openTwoDatabases(prefix: string, now: number, maxEventsPerContact: number): Promise<TwoDatabases> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(now);
  const runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact });
  const db = await freshPgDatabase(prefix);
  const pool = (await openPostgres(db.url, { max: 4 })).pool;
  const pool2 = (await openPostgres(db.url, { max: 4, migrate: false })).pool;
  await seedPgCalendars(pool, now);
  const writer = await PgGroupCommitWriter.open(pool);
  return {
    sqlite, runner, db, pool, pool2, writer,
    close: async () => {
      await writer.close();
      await runner.close();
      await pool.end();
      await pool2.end();
      await db.drop();
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
