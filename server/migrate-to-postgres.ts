// `sla migrate-to-postgres --from ./data/kept.db --to postgres://…` (issue 14 item 6): copies a whole
// SQLite database — every table of db/schema.ts — into an empty PostgreSQL database migrated to
// db/pg/schema.ts, in ONE transaction (a failure leaves the target as it was), with progress, then
// verifies every table's count and a sample of contacts' clocks read back through both stores.
//
// The two schemas are twins (tests/integration/pg-schema.test.ts), so a row copies column for column:
// pages of rows read from SQLite by rowid, sent as one JSON document per page, and turned back into
// the PostgreSQL table's own row type by `json_populate_recordset` (SQLite's 0/1 booleans read as
// PostgreSQL booleans, JSON kept in text stays text). What PostgreSQL alone has is filled in:
// `clocks.ordinal` (a clock's place among its contact's, SQLite's rowid order — the engine's) and
// `automatic_mail.seq` (the rowid), and the identity sequences are moved past the highest id copied.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openDatabase } from '../db/connection.js';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { is } from 'drizzle-orm';
import * as sqliteSchema from '../db/schema.js';
import * as pgSchema from '../db/pg/schema.js';
import { openPostgres } from '../db/pg/connection.js';
import { ContactStore } from './store/contacts.js';
import { PgContactReads } from './store/pg/contacts.js';

export interface MigrateProgress {
  table: string;
  copied: number;
  total: number;
}

export interface MigrateResult {
  tables: Array<{ table: string; rows: number }>;
  /** Contacts whose clocks were compared, and how many differed (0 when the copy is right). */
  sampled: number;
  mismatched: number;
  ms: number;
}

export class MigrateError extends Error {}

/** Every SQLite table with its PostgreSQL twin, parents before children (foreign keys checked as rows go in). */
function tablePairs(): Array<{ name: string; columns: string[]; identity: string | null }> {
  const pg = new Map<string, PgTable>();
  for (const v of Object.values(pgSchema)) if (is(v, PgTable)) pg.set(pgTableConfig(v).name, v);
  const tables: Array<{ name: string; columns: string[]; identity: string | null; parents: string[] }> = [];
  for (const v of Object.values(sqliteSchema)) {
    if (!is(v, SQLiteTable)) continue;
    const c = sqliteTableConfig(v);
    const twin = pg.get(c.name);
    if (twin === undefined) throw new MigrateError(`table ${c.name} has no PostgreSQL twin in db/pg/schema.ts`);
    const pc = pgTableConfig(twin);
    const identity = pc.columns.find((col) => (col as unknown as { generatedIdentity?: unknown }).generatedIdentity !== undefined)?.name ?? null;
    const parents = c.foreignKeys.map((fk) => sqliteTableConfig(fk.reference().foreignTable).name).filter((p) => p !== c.name);
    tables.push({ name: c.name, columns: c.columns.map((col) => col.name), identity, parents });
  }
  // Parents first (a table's foreign keys point at tables already copied).
  const ordered: typeof tables = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const before = ordered.length;
    for (const t of tables) if (!placed.has(t.name) && t.parents.every((p) => placed.has(p))) (ordered.push(t), placed.add(t.name));
    if (ordered.length === before) throw new MigrateError('the tables\' foreign keys form a cycle');
  }
  return ordered.map(({ name, columns, identity }) => ({ name, columns, identity }));
}

/**
 * The columns only PostgreSQL has, read from SQLite's rows: clocks.ordinal, the clock's place among
 * its contact's in SQLite's row order (the engine's); automatic_mail.seq, the row's rowid (its page order).
 */
const PG_ONLY: Record<string, { column: string; value: string }> = {
  clocks: { column: 'ordinal', value: '(SELECT COUNT(*) FROM clocks o WHERE o.contact_id = k.contact_id AND o.rowid < k.rowid)' },
  automatic_mail: { column: 'seq', value: 'k.rowid' },
};

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function migrateToPostgres(o: {
  from: string;
  to: string;
  pageRows?: number;
  sample?: number;
  onProgress?: (p: MigrateProgress) => void;
}): Promise<MigrateResult> {
  const started = Date.now();
  const pageRows = o.pageRows ?? 5_000;
  if (!existsSync(o.from)) throw new MigrateError(`--from ${o.from}: no such file`);
  // The file brought to Kept's current schema first, as Kept's own start does (a database last
  // opened by an older Kept lacks the newer tables), then read only.
  try {
    openDatabase(o.from).close();
  } catch (e) {
    throw new MigrateError(`--from ${o.from}: ${(e as Error).message}`);
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(o.from, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new MigrateError(`--from ${o.from}: ${(e as Error).message}`);
  }
  const target = await openPostgres(o.to, { max: 2 }).catch((e: Error) => {
    sqlite.close();
    // The connection string may hold a password: the error names the cause, never the address.
    throw new MigrateError(`--to: cannot open the PostgreSQL database (${e.message.replace(/postgres(ql)?:\/\/\S+/g, 'postgres://…')})`);
  });
  const client = await target.pool.connect();
  try {
    const pairs = tablePairs();
    // An empty target only: copying into a database Kept already writes to would mix two centres' rows.
    for (const t of pairs) {
      const r = await client.query(`SELECT EXISTS (SELECT 1 FROM ${quote(t.name)}) AS any`);
      if ((r.rows[0] as { any: boolean }).any) throw new MigrateError(`the PostgreSQL database is not empty (table ${t.name} has rows): migrate into a new database`);
    }
    const tables: MigrateResult['tables'] = [];
    // One read transaction on SQLite (a consistent copy even if Kept is still running on the file)
    // and one write transaction on PostgreSQL.
    sqlite.exec('BEGIN');
    await client.query('BEGIN');
    for (const t of pairs) {
      const total = (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${quote(t.name)}`).get() as { n: number }).n;
      const only = PG_ONLY[t.name];
      const extra = only === undefined ? '' : `, ${only.value} AS ${quote(only.column)}`;
      const page = sqlite.prepare(`SELECT k.rowid AS "__rowid", ${t.columns.map((c) => `k.${quote(c)}`).join(', ')}${extra} FROM ${quote(t.name)} k WHERE k.rowid > ? ORDER BY k.rowid LIMIT ?`);
      const columns = only === undefined ? t.columns : [...t.columns, only.column];
      const list = columns.map(quote).join(', ');
      let copied = 0;
      let after = -Infinity;
      o.onProgress?.({ table: t.name, copied, total });
      for (;;) {
        const rows = page.all(after === -Infinity ? Number.MIN_SAFE_INTEGER : after, pageRows) as Array<Record<string, unknown>>;
        if (rows.length === 0) break;
        const first = rows[0]!.__rowid as number;
        after = rows[rows.length - 1]!.__rowid as number;
        for (const r of rows) delete r.__rowid;
        try {
          await client.query(`INSERT INTO ${quote(t.name)} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM json_populate_recordset(NULL::${quote(t.name)}, $1::json)`, [JSON.stringify(rows)]);
        } catch (e) {
          // PostgreSQL's message may quote a row's values (a customer's words): the table and the cause only.
          const code = (e as { code?: string }).code;
          const why = code === '22P05' || code === '22021' ? 'a text holds a character PostgreSQL cannot store (U+0000)' : `PostgreSQL refused the rows (SQLSTATE ${code ?? 'unknown'})`;
          throw new MigrateError(`${t.name}: ${why}, in its rows ${first}–${after} (SQLite rowids); nothing was copied`);
        }
        copied += rows.length;
        o.onProgress?.({ table: t.name, copied, total });
      }
      if (t.identity !== null) {
        await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quote(t.identity)}) FROM ${quote(t.name)}), 0) + 1, false)`, [t.name, t.identity]);
      }
      tables.push({ table: t.name, rows: copied });
    }
    // Counts, in the same transaction: every table as many rows as SQLite's.
    for (const t of tables) {
      const n = (await client.query(`SELECT COUNT(*)::bigint AS n FROM ${quote(t.table)}`)).rows[0] as { n: number };
      if (Number(n.n) !== t.rows) throw new MigrateError(`${t.table}: ${t.rows} rows read, ${n.n} in PostgreSQL; nothing was copied`);
    }
    // A sample of contacts' clocks read back through both stores, as Kept reads them — still inside
    // the transaction, so a copy that reads back wrong is never committed.
    const sampleSize = o.sample ?? 200;
    const contacts = tables.find((t) => t.table === 'contacts')?.rows ?? 0;
    const ids = (sqlite.prepare('SELECT id FROM contacts WHERE rowid IN (SELECT rowid FROM contacts ORDER BY random() LIMIT ?)').all(Math.min(sampleSize, contacts)) as Array<{ id: string }>).map((r) => r.id);
    const theirs = await new PgContactReads(client).clocksOf(ids);
    const ours = new ContactStore(sqlite).clocksOf(ids);
    let mismatched = 0;
    for (const id of ids) if (JSON.stringify(theirs.get(id)) !== JSON.stringify(ours.get(id))) mismatched++;
    if (mismatched > 0) throw new MigrateError(`${mismatched} of ${ids.length} sampled contacts' clocks differ between SQLite and PostgreSQL; nothing was copied`);
    await client.query('COMMIT');
    sqlite.exec('COMMIT');
    return { tables, sampled: ids.length, mismatched, ms: Date.now() - started };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw e;
  } finally {
    client.release();
    await target.close();
    sqlite.close();
  }
}
