// `sla migrate-to-postgres` (issue 14 item 6) on real databases: a Kept SQLite file written through the
// real app (contacts over HTTP with events and clocks, timers' statuses, a closure, people, a token,
// the audit trail) copied into a fresh PostgreSQL by the real command line, then every table's rows
// compared and every contact read back through both stores; a second run refuses a non-empty target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../db/pg/connection.js';
import { ContactStore } from '../../server/store/contacts.js';
import { PgContactReads } from '../../server/store/pg/contacts.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const root = join(import.meta.dirname, '..', '..');
const sla = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

let t: TestApp;
let target: TestPg;
let ids: string[] = [];

beforeAll(async () => {
  // Its own folder, kept after the app closes: the file the command copies.
  t = await startTestApp({}, { dir: mkdtempSync(join(tmpdir(), 'kept-migrate-')) });
  const now = Date.now();
  for (let i = 0; i < 120; i++) {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: t.auth, payload: contactBody(i, 'mig', now - (120 - i) * 3_600_000) });
    expect(r.statusCode, r.body).toBe(201);
    ids.push(r.json().id as string);
  }
  // Events added later (clocks recomputed), a person and a closure: rows in events, audit, users, closures.
  await t.service.addEvents(ids[3]!, [{ type: 'replied', at: new Date(now - 60_000).toISOString() }]);
  await t.signIn('team-lead');
  const day = new Date(now + 7 * 86_400_000).toISOString().slice(0, 10);
  const closure = await t.app.inject({ method: 'POST', url: '/api/v1/calendars/customer-services/closures', headers: t.auth, payload: { from: `${day}T10:00:00Z`, to: `${day}T11:00:00Z`, reason: 'Training' } });
  expect(closure.statusCode, closure.body).toBe(201);
  await t.close();
  target = await freshPgDatabase('kept_migrate');
});

afterAll(async () => {
  await target?.drop();
  if (t !== undefined) rmSync(t.dir, { recursive: true, force: true });
});

describe('sla migrate-to-postgres', () => {
  it('copies every table into an empty PostgreSQL, with progress, and every contact reads back the same', async () => {
    const r = sla(['migrate-to-postgres', '--from', join(t.dir, 'kept.db'), '--to', target.url, '--sample', '50']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^contacts: 0 of 120$/m);
    expect(r.stderr).toMatch(/^contacts: 120 of 120$/m);
    expect(r.stderr).toMatch(/50 contacts' clocks compared, 0 differ/);
    const copied = new Map(r.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
    expect(Number(copied.get('contacts'))).toBe(120);

    const sqlite = new (await import('better-sqlite3')).default(join(t.dir, 'kept.db'), { readonly: true });
    const conn = await openPostgres(target.url, { max: 2 });
    try {
      // Every table: the same number of rows as SQLite's, and the stdout names each.
      const tables = (sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'`).all() as Array<{ name: string }>).map((x) => x.name);
      for (const name of tables) {
        const n = (sqlite.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n;
        expect(Number(copied.get(name)), name).toBe(n);
        expect(Number(((await conn.pool.query(`SELECT COUNT(*) AS n FROM "${name}"`)).rows[0] as { n: number }).n), name).toBe(n);
      }
      for (const name of ['events', 'clocks', 'audit', 'users', 'closures', 'person_keys']) expect(Number(copied.get(name)), name).toBeGreaterThan(0);
      // Every contact, its events and clocks, and the lists, read back the same through both stores.
      const ours = new ContactStore(sqlite);
      const theirs = new PgContactReads(conn.pool);
      expect(await theirs.byIds(ids)).toEqual(ours.byIds(ids));
      expect(await theirs.eventsOf(ids)).toEqual(ours.eventsOf(ids));
      expect(await theirs.clocksOf(ids)).toEqual(ours.clocksOf(ids));
      const now = Date.now();
      for (const status of [undefined, ['open'], ['met'], ['breached']]) {
        const f = { limit: 50, now, ...(status ? { status } : {}) };
        expect((await theirs.list(f)).map((c) => c.id), JSON.stringify(status)).toEqual(ours.list(f).map((c) => c.id));
      }
      // The identity sequences moved past the copied ids: a new row gets the next id.
      const maxEvent = Number(((await conn.pool.query('SELECT MAX(id) AS n FROM events')).rows[0] as { n: number }).n);
      const next = await conn.pool.query(`INSERT INTO events (contact_id, seq, type, at, body, received_at) VALUES ($1, 99, 'note', 0, '{}', 0) RETURNING id`, [ids[0]]);
      expect(Number((next.rows[0] as { id: number }).id)).toBeGreaterThan(maxEvent);
    } finally {
      sqlite.close();
      await conn.close();
    }
  });

  it('refuses a database that is not empty, and names the table; bad arguments name the option', async () => {
    const again = sla(['migrate-to-postgres', '--from', join(t.dir, 'kept.db'), '--to', target.url]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/not empty \(table \w+ has rows\)/);
    expect(again.stderr).not.toContain(target.url);
    const noTo = sla(['migrate-to-postgres', '--from', join(t.dir, 'kept.db')]);
    expect(noTo.status).toBe(2);
    expect(noTo.stderr).toMatch(/--to/);
    const missing = sla(['migrate-to-postgres', '--from', join(t.dir, 'nope.db'), '--to', target.url]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--from .*nope\.db/);
    // Nothing of a refused run is left behind: the counts are those of the first copy.
    const pool = new pg.Pool({ connectionString: target.url, max: 1 });
    try {
      expect(Number(((await pool.query('SELECT COUNT(*) AS n FROM contacts')).rows[0] as { n: string }).n)).toBe(120);
    } finally {
      await pool.end();
    }
  });
});
