// A real PostgreSQL for a test: a fresh, empty database per call on the machine's server
// (127.0.0.1:5432, trust authentication, user postgres; `.ci/run` starts it if it is down), dropped
// afterwards. Each test file gets its own database, so files running in parallel never share rows.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';

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

/**
 * Two instances of Kept on one fresh database, for the `describe` that calls this: two pools (the
 * first migrates), opened before its tests and closed, with the database dropped, after them.
 */
export function twoPgInstances(prefix: string): { readonly a: PgConnection; readonly b: PgConnection } {
  let fresh: TestPg | undefined;
  const pools: { a?: PgConnection; b?: PgConnection } = {};
  beforeAll(async () => {
    fresh = await freshPgDatabase(prefix);
    pools.a = await openPostgres(fresh.url, { max: 4 });
    pools.b = await openPostgres(fresh.url, { max: 4, migrate: false });
  });
  afterAll(async () => {
    await pools.a?.close();
    await pools.b?.close();
    await fresh?.drop();
  });
  return {
    get a() {
      return pools.a!;
    },
    get b() {
      return pools.b!;
    },
  };
}
