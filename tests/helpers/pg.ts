// A real PostgreSQL for a test: a fresh, empty database per call on the machine's server
// (127.0.0.1:5432, trust authentication, user postgres; `.ci/run` starts it if it is down), dropped
// afterwards. Each test file gets its own database, so files running in parallel never share rows.
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_ADMIN_URL = process.env.KEPT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestPg {
  /** A connection string for the fresh database. */
  url: string;
  name: string;
  /** Drops the database (terminating any connection still open to it). */
  drop(): Promise<void>;
}

export async function freshPgDatabase(prefix = 'kept_test'): Promise<TestPg> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const base = new URL(PG_ADMIN_URL);
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
