// The PostgreSQL schema (issue 14): the two drizzle schemas in step (every table, column, type,
// nullability, default, key, foreign key and index of SQLite's has its twin on PostgreSQL, read through
// drizzle's getTableConfig), the migrations applied on a real PostgreSQL — fresh, again (nothing to
// do), and from several pools at once (one applies, the others wait and find nothing to do) — and
// int8 values (bigint columns, count(*)) read as numbers by Kept's pool and by no other.
import { getTableName, is, type SQL } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { eq } from 'drizzle-orm';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, PG_MIGRATIONS_FOLDER, type PgConnection } from '../../db/pg/connection.js';
import * as pgSchema from '../../db/pg/schema.js';
import * as sqliteSchema from '../../db/schema.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

/** Tables only PostgreSQL has (a change feed, leases, job slots: what many instances need and one file does not). */
const PG_ONLY_TABLES: string[] = ['leases', 'feed', 'feed_readers', 'feed_horizon'];
/** Columns only PostgreSQL has, by table: a clock's place in the engine's answer, an automatic mail's place in the page (SQLite's rowid order both). */
const PG_ONLY_COLUMNS: Record<string, string[]> = { clocks: ['ordinal'], automatic_mail: ['seq'] };
/**
 * SQLite integers that are small numbers (a 32-bit `integer` on PostgreSQL); every other integer — an
 * instant in ms, a duration in ms, an id, an IMAP UID — must be a `bigint`.
 */
const SMALL_INTEGERS = new Set(['events.seq', 'contacts.privacy', 'sequences.year', 'sequences.value', 'users.failed_signins', 'alert_rules.threshold', 'alert_rules.quiet_minutes', 'display_boards.rotate_seconds', 'published_reports.revision', 'unknown_queues.calls']);

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();

function tablesOf<T extends SQLiteTable | PgTable>(module: Record<string, unknown>, isTable: (v: unknown) => v is T): Map<string, T> {
  const out = new Map<string, T>();
  for (const v of Object.values(module)) if (isTable(v)) out.set(getTableName(v), v);
  return out;
}
const isSqliteTable = (v: unknown): v is SQLiteTable => is(v, SQLiteTable);
const isPgTable = (v: unknown): v is PgTable => is(v, PgTable);

/**
 * An index expression or predicate in one spelling for both databases: table names dropped, SQLite's
 * json_extract(col, '$.key') and PostgreSQL's (col::json ->> 'key') as json(col.key), SQLite's 0/1
 * booleans as PostgreSQL's.
 */
function normalise(text: string, booleans: Set<string>): string {
  let s = text.replace(/"\w+"\."(\w+)"/g, '"$1"');
  s = s.replace(/json_extract\("(\w+)", '\$\.(\w+)'\)/g, 'json($1.$2)');
  s = s.replace(/\("(\w+)"::json ->> '(\w+)'\)/g, 'json($1.$2)');
  for (const b of booleans) {
    s = s.replace(new RegExp(`"${b}" = 1\\b`, 'g'), `"${b}"`).replace(new RegExp(`"${b}" = 0\\b`, 'g'), `NOT "${b}"`);
  }
  return s;
}

interface ColumnShape {
  name: string;
  type: 'text' | 'integer' | 'boolean' | 'json';
  notNull: boolean;
  default: unknown;
  unique: string | undefined;
  autoIncrement: boolean;
}

interface TableShape {
  columns: Map<string, ColumnShape>;
  /** Storage detail checked apart: SQLite `integer` → `bigint` or `integer`. */
  sqlTypes: Map<string, string>;
  primaryKey: string[];
  foreignKeys: string[];
  indexes: Map<string, { unique: boolean; on: string[]; where: string | null }>;
}

function sqliteShape(table: SQLiteTable): TableShape {
  const c = sqliteTableConfig(table);
  const booleans = new Set(c.columns.filter((x) => x.columnType === 'SQLiteBoolean').map((x) => x.name));
  const text = (q: SQL) => normalise(sqliteDialect.sqlToQuery(q).sql, booleans);
  return {
    columns: new Map(
      c.columns.map((x) => [
        x.name,
        {
          name: x.name,
          type: x.columnType === 'SQLiteBoolean' ? 'boolean' : x.columnType === 'SQLiteTextJson' ? 'json' : x.columnType === 'SQLiteText' ? 'text' : 'integer',
          notNull: x.notNull,
          default: x.default,
          unique: x.isUnique ? x.uniqueName : undefined,
          autoIncrement: (x as unknown as { autoIncrement?: boolean }).autoIncrement === true,
        },
      ]),
    ),
    sqlTypes: new Map(c.columns.map((x) => [x.name, x.getSQLType()])),
    primaryKey: [...c.columns.filter((x) => x.primary).map((x) => x.name), ...c.primaryKeys.flatMap((k) => k.columns.map((x) => x.name))],
    foreignKeys: c.foreignKeys.map((f) => {
      const r = f.reference();
      return `${r.columns.map((x) => x.name).join(',')} -> ${getTableName(r.foreignTable)}(${r.foreignColumns.map((x) => x.name).join(',')})`;
    }),
    indexes: new Map(
      c.indexes.map((i) => [
        i.config.name,
        { unique: i.config.unique, on: i.config.columns.map((x) => ('name' in x ? (x as { name: string }).name : text(x as SQL))), where: i.config.where ? text(i.config.where) : null },
      ]),
    ),
  };
}

function pgShape(table: PgTable): TableShape {
  const c = pgTableConfig(table);
  const text = (q: SQL) => normalise(pgDialect.sqlToQuery(q).sql, new Set());
  const typeOf = (x: (typeof c.columns)[number]): ColumnShape['type'] => {
    if (x.columnType === 'PgBoolean') return 'boolean';
    if (x.columnType === 'PgBigInt53' || x.columnType === 'PgInteger') return 'integer';
    if (x.columnType === 'PgText') return 'text';
    if (x.columnType === 'PgCustomColumn') {
      // jsonText maps values through JSON (a data type of plain `text`); contactKey is text compared bytewise.
      if (x.getSQLType() === 'text COLLATE "C"') return 'text';
      if (x.getSQLType() === 'text' && x.mapToDriverValue({ a: 1 }) === '{"a":1}') return 'json';
    }
    throw new Error(`${getTableName(table)}.${x.name}: unexpected column type ${x.columnType} ${x.getSQLType()}`);
  };
  return {
    columns: new Map(
      c.columns.map((x) => [
        x.name,
        {
          name: x.name,
          type: typeOf(x),
          notNull: x.notNull,
          default: x.default,
          unique: x.isUnique ? x.uniqueName : undefined,
          autoIncrement: (x as unknown as { generatedIdentity?: { type: string } }).generatedIdentity?.type === 'byDefault',
        },
      ]),
    ),
    sqlTypes: new Map(c.columns.map((x) => [x.name, x.getSQLType()])),
    primaryKey: [...c.columns.filter((x) => x.primary).map((x) => x.name), ...c.primaryKeys.flatMap((k) => k.columns.map((x) => x.name))],
    foreignKeys: c.foreignKeys.map((f) => {
      const r = f.reference();
      return `${r.columns.map((x) => x.name).join(',')} -> ${getTableName(r.foreignTable)}(${r.foreignColumns.map((x) => x.name).join(',')})`;
    }),
    indexes: new Map(
      c.indexes.map((i) => [
        i.config.name!,
        { unique: i.config.unique, on: i.config.columns.map((x) => ('name' in x ? (x as { name: string }).name : text(x as SQL))), where: i.config.where ? text(i.config.where) : null },
      ]),
    ),
  };
}

describe('the two schemas', () => {
  const sqliteTables = tablesOf(sqliteSchema, isSqliteTable);
  const pgTables = tablesOf(pgSchema, isPgTable);

  it('have the same tables (PostgreSQL-only ones named in one list)', () => {
    expect(sqliteTables.size).toBeGreaterThan(25);
    expect([...pgTables.keys()].filter((n) => !PG_ONLY_TABLES.includes(n)).sort()).toEqual([...sqliteTables.keys()].sort());
    for (const n of PG_ONLY_TABLES) expect(pgTables.has(n), `${n} is listed as PostgreSQL-only but is not in db/pg/schema.ts`).toBe(true);
  });

  for (const [name, sqliteTable] of sqliteTables) {
    it(`${name}: every column, key and index has its twin`, () => {
      const pgTable = pgTables.get(name);
      expect(pgTable, `${name} missing from db/pg/schema.ts`).toBeDefined();
      const a = sqliteShape(sqliteTable);
      const b = pgShape(pgTable!);
      const pgOnly = PG_ONLY_COLUMNS[name] ?? [];
      for (const col of pgOnly) expect(b.columns.has(col), `${name}.${col} is listed as PostgreSQL-only but is not there`).toBe(true);
      // Columns: same names in the same order, same kind, nullability, default, uniqueness, identity.
      expect([...b.columns.keys()].filter((c) => !pgOnly.includes(c))).toEqual([...a.columns.keys()]);
      for (const [col, shape] of a.columns) {
        expect(b.columns.get(col), `${name}.${col}`).toEqual(shape);
        if (shape.type === 'integer') {
          const expected = SMALL_INTEGERS.has(`${name}.${col}`) ? 'integer' : 'bigint';
          expect(b.sqlTypes.get(col), `${name}.${col}: an epoch-ms instant, a duration or an id is bigint`).toBe(expected);
        }
      }
      expect(b.primaryKey, `${name}: primary key`).toEqual(a.primaryKey);
      expect(b.foreignKeys.sort(), `${name}: foreign keys`).toEqual(a.foreignKeys.sort());
      // Indexes: same names, uniqueness, keys (expressions in either spelling) and predicates.
      expect([...b.indexes.keys()].sort(), `${name}: indexes`).toEqual([...a.indexes.keys()].sort());
      for (const [index, shape] of a.indexes) expect(b.indexes.get(index), `${name}: index ${index}`).toEqual(shape);
    });
  }

  it('the partial and expression indexes read the same (a spot check of the normalising)', () => {
    const contacts = pgShape(pgSchema.contacts).indexes;
    expect(contacts.get('contacts_social_sender')).toEqual({ unique: false, on: ['json(source.senderId)', 'received_at'], where: `"channel" = 'social'` });
    expect(sqliteShape(sqliteSchema.clocks).indexes.get('clocks_report_ended')!.where).toBe('NOT "open"');
  });
});

// ------------------------------------------------------------------------------------------------
// On a real PostgreSQL

/** The schema as the database has it: tables, their columns (name, type, nullability) and index names. */
async function catalogue(pool: pg.Pool) {
  const columns = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; collation_name: string | null }>(
    `SELECT table_name, column_name, data_type, is_nullable, collation_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const indexes = await pool.query<{ tablename: string; indexname: string; indexdef: string }>(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`);
  return { columns: columns.rows, indexes: indexes.rows };
}

async function appliedMigrations(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).rows[0]!.n;
}

const migrationFiles = readdirSync(PG_MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'));

describe('the migrations on PostgreSQL', () => {
  let testPg: TestPg;
  let conn: PgConnection;

  beforeAll(async () => {
    testPg = await freshPgDatabase('kept_pg_schema');
    conn = await openPostgres(testPg.url, { max: 4 });
  });

  afterAll(async () => {
    await conn?.close();
    await testPg?.drop();
  });

  it('apply on a fresh database: every table, column and index of db/pg/schema.ts is there', async () => {
    expect(await appliedMigrations(conn.pool)).toBe(migrationFiles.length);
    const { columns, indexes } = await catalogue(conn.pool);
    for (const [name, table] of tablesOf(pgSchema, isPgTable)) {
      const config = pgTableConfig(table);
      const stored = columns.filter((c) => c.table_name === name);
      expect(stored.map((c) => c.column_name), name).toEqual(config.columns.map((c) => c.name));
      for (const col of config.columns) {
        const s = stored.find((c) => c.column_name === col.name)!;
        expect(s.is_nullable === 'NO', `${name}.${col.name} NOT NULL`).toBe(col.notNull);
        const type = col.getSQLType().replace(' COLLATE "C"', '');
        expect(s.data_type, `${name}.${col.name}`).toBe(type);
        if (col.getSQLType().endsWith('COLLATE "C"')) expect(s.collation_name, `${name}.${col.name}`).toBe('C');
      }
      for (const i of config.indexes) expect(indexes.some((x) => x.indexname === i.config.name && x.tablename === name), `${name}: ${i.config.name}`).toBe(true);
    }
    // The partial and expression indexes as PostgreSQL understood them.
    const def = (n: string) => indexes.find((x) => x.indexname === n)!.indexdef;
    expect(def('clocks_open_received')).toMatch(/WHERE open$/);
    expect(def('clocks_report_ended')).toMatch(/WHERE \(NOT open\)$/);
    expect(def('contacts_social_sender')).toMatch(/\(\(source\)::json ->> 'senderId'::text\)\), received_at\) WHERE \(channel = 'social'::text\)/);
    expect(def('contacts_customer_reference')).toMatch(/WHERE \(\(\(customer\)::json ->> 'reference'::text\) IS NOT NULL\)/);
    expect(def('events_contact_external_id')).toMatch(/^CREATE UNIQUE INDEX .* WHERE \(external_id IS NOT NULL\)$/);
  });

  // server/cluster/*.sql is the DDL the cluster tests and benches apply to bare databases; Kept's own
  // database has those tables from the migrations. The two must say the same thing.
  it('the cluster tables are those of server/cluster/lease.sql and feed.sql, and the feed horizon has its row', async () => {
    const bare = await freshPgDatabase('kept_pg_cluster_sql');
    const pool = new pg.Pool({ connectionString: bare.url, max: 1 });
    try {
      for (const f of ['lease.sql', 'feed.sql']) await pool.query(readFileSync(join(import.meta.dirname, '../../server/cluster', f), 'utf8'));
      const tables = ['leases', 'job_slots', 'feed', 'feed_readers', 'feed_horizon'];
      const mine = (c: Awaited<ReturnType<typeof catalogue>>) => ({
        columns: c.columns.filter((x) => tables.includes(x.table_name)),
        // Indexes by what they are (a primary key's name differs: drizzle names it, plain SQL lets PostgreSQL).
        indexes: c.indexes.filter((x) => tables.includes(x.tablename)).map((x) => x.indexdef.replace(/INDEX \S+ ON/, 'INDEX ON')).sort(),
      });
      expect(mine(await catalogue(pool))).toEqual(mine(await catalogue(conn.pool)));
      expect((await conn.pool.query('SELECT count(*)::int AS n FROM feed_horizon')).rows[0].n).toBe(1);
      // …and the files still apply on top of the migrations (IF NOT EXISTS), as the tests' set-up may do.
      for (const f of ['lease.sql', 'feed.sql']) await conn.pool.query(readFileSync(join(import.meta.dirname, '../../server/cluster', f), 'utf8'));
    } finally {
      await pool.end();
      await bare.drop();
    }
  });

  it('apply again as a no-op (a restart)', async () => {
    const before = await catalogue(conn.pool);
    const again = await openPostgres(testPg.url, { max: 1 });
    try {
      expect(await appliedMigrations(again.pool)).toBe(migrationFiles.length);
      expect(await catalogue(again.pool)).toEqual(before);
    } finally {
      await again.close();
    }
  });

  it('apply once when several instances open a fresh database at the same moment', async () => {
    const fresh = await freshPgDatabase('kept_pg_schema_race');
    const opened: PgConnection[] = [];
    try {
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => openPostgres(fresh.url, { max: 2 })));
      for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'opened'))).toEqual(['opened', 'opened', 'opened', 'opened']);
      expect(await appliedMigrations(opened[0]!.pool)).toBe(migrationFiles.length);
      const tables = await opened[0]!.pool.query<{ n: number }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`);
      expect(tables.rows[0]!.n).toBe(tablesOf(pgSchema, isPgTable).size);
    } finally {
      for (const c of opened) await c.close();
      await fresh.drop();
    }
  });

  it('reads bigint columns and count(*) as numbers through Kept\'s pool and drizzle, and leaves other pools alone', async () => {
    const receivedAt = Date.UTC(2026, 10, 18, 11, 7, 0, 123);
    await conn.db.insert(pgSchema.contacts).values({
      id: '019a9b1c-0000-7000-8000-000000000001',
      channel: 'email',
      route: 'customer-services',
      category: 'general',
      initialCategory: 'general',
      receivedAt,
      packFamily: 'housing',
      customer: { name: 'Ada Example', reference: 'T-1' },
      contentHash: 'h',
      createdAt: receivedAt,
      updatedAt: receivedAt,
    });
    const raw = await conn.pool.query<{ received_at: unknown; n: unknown; m: unknown }>(
      'SELECT received_at, (SELECT count(*) FROM contacts) AS n, max(received_at) AS m FROM contacts GROUP BY received_at',
    );
    expect(raw.rows[0]).toEqual({ received_at: receivedAt, n: 1, m: receivedAt });
    const [typed] = await conn.db.select().from(pgSchema.contacts).where(eq(pgSchema.contacts.id, '019a9b1c-0000-7000-8000-000000000001'));
    expect(typed!.receivedAt).toBe(receivedAt);
    expect(typed!.customer).toEqual({ name: 'Ada Example', reference: 'T-1' }); // JSON in text, parsed
    expect(typed!.callback).toBe(false);
    // Stored as the text JSON.stringify gave (what SQLite holds, so a copy is value for value).
    expect((await conn.pool.query('SELECT customer FROM contacts')).rows[0]).toEqual({ customer: '{"name":"Ada Example","reference":"T-1"}' });
    // A pool that is not Kept's keeps pg's default (int8 as a string): the parser is this pool's, not global.
    const other = new pg.Pool({ connectionString: testPg.url, max: 1 });
    try {
      expect((await other.query('SELECT count(*) AS n, max(received_at) AS m FROM contacts')).rows[0]).toEqual({ n: '1', m: String(receivedAt) });
    } finally {
      await other.end();
    }
  });

  it('commits with synchronous_commit on, on every connection of the pool', async () => {
    const clients = await Promise.all([conn.pool.connect(), conn.pool.connect(), conn.pool.connect()]);
    try {
      for (const c of clients) expect((await c.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'on' });
    } finally {
      for (const c of clients) c.release();
    }
  });
});
