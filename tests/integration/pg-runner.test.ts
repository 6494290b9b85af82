// The write commands on PostgreSQL behind the writer's one interface (server/store/pg/runner.ts,
// PgRunner): on a real SQLite file and a real PostgreSQL, the same commands through CommandRunner give
// the same answers (InlineRunner on SQLite); a command with no PostgreSQL form yet answers 503 naming
// itself and stores nothing; and /health's inputs — commits, and the failure while writes fail,
// cleared by the next write that commits — are kept as the SQLite writer keeps them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { prepareAddEvents } from '../../server/commands/add-events.js';
import { prepareCreateContact, type ContactInput, type CreateContactInput } from '../../server/commands/create-contact.js';
import type { CommandInput, CommandName } from '../../server/commands/index.js';
import { CalendarStore } from '../../server/store/calendars.js';
import type { ContactRow } from '../../server/store/contacts.js';
import { PG_COMMANDS_MISSING, PgRunner } from '../../server/store/pg/runner.js';
import { CALENDAR_STAMP, seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { InlineRunner, type CommandRunner } from '../../server/writer/runner.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { answer } from '../helpers/command-answers.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const NOW = Date.parse('2026-03-10T11:00:00Z'); // a Tuesday, in opening hours
const HOUR = 3_600_000;
const MAX_EVENTS = 100;
const iso = (ms: number) => new Date(ms).toISOString();
const create = (body: Record<string, unknown>): CreateContactInput =>
  prepareCreateContact(body as unknown as ContactInput, { now: NOW, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' });

let dir: string;
let sqlite: Connection;
let lite: InlineRunner;
let db: TestPg;
let pool: pg.Pool;
let pgRunner: PgRunner;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-pg-runner-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(NOW);
  lite = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: MAX_EVENTS });
  db = await freshPgDatabase('kept_pgrunner');
  pool = (await openPostgres(db.url, { max: 4 })).pool;
  await seedPgCalendars(pool, NOW);
  pgRunner = await PgRunner.open(pool, { maxEventsPerContact: MAX_EVENTS, timeoutMs: 500 });
});

afterAll(async () => {
  await pgRunner?.close();
  await lite?.close();
  await pool?.end();
  await db?.drop();
  sqlite?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PgRunner', () => {
  it('runs the commands that have a PostgreSQL form with the same answers as SQLite', async () => {
    const bodies = Array.from({ length: 4 }, (_, i) => contactBody(i, 'runner', NOW));
    const ids = new Map<string, string>(); // PostgreSQL's contact id → SQLite's
    const rows: ContactRow[] = [];
    for (const b of bodies) {
      const a = await lite.run('create-contact', create(b));
      const p = await pgRunner.run('create-contact', create(b));
      expect(p.created).toBe(a.created);
      ids.set(p.row.id, a.row.id);
      rows.push(a.row);
    }
    const toPg = new Map([...ids].map(([p, l]) => [l, p]));
    const asLite = (v: unknown) => {
      let text = JSON.stringify(v);
      for (const [p, l] of ids) text = text.replaceAll(p, l);
      return JSON.parse(text) as unknown;
    };
    /** The same step on both: SQLite's input, and PostgreSQL's with its own contact ids. */
    const both = async <K extends CommandName>(name: K, input: CommandInput<K>) => {
      let text = JSON.stringify(input);
      for (const [l, p] of toPg) text = text.replaceAll(l, p);
      const a = await answer(lite.run(name, input));
      const p = asLite(await answer(pgRunner.run(name, JSON.parse(text) as CommandInput<K>)));
      expect(p, name).toEqual(a);
      return a;
    };
    const first = rows[0]!;
    await both('add-events', prepareAddEvents(first, [{ type: 'replied', at: iso(NOW + HOUR), externalId: 'r-1' }], NOW + HOUR));
    await both('add-events', prepareAddEvents(first, [{ type: 'replied', at: iso(NOW + HOUR), externalId: 'r-1' }], NOW + HOUR)); // a replay
    await both('contact-action', { now: NOW + 2 * HOUR, contactId: rows[1]!.id, actor: 'ann@example.org', action: 'assign', events: [{ type: 'assigned', at: NOW + 2 * HOUR, assignee: 'ann@example.org' }] } as CommandInput<'contact-action'>);
    const added = (await both('add-closure', { now: NOW + 3 * HOUR, calendarId: 'customer-services', closure: { from: NOW + 20 * HOUR, to: NOW + 22 * HOUR, reason: 'training' }, actor: 'admin@example.org' })) as { ok: { id: number } };
    await both('remove-closure', { now: NOW + 4 * HOUR, calendarId: 'customer-services', closureId: added.ok.id, actor: 'admin@example.org' });
    await both('set-statuses', { now: NOW + 5 * HOUR, statuses: [{ contactId: rows[2]!.id, standard: 'email-reply', status: 'at-risk', at: NOW + 5 * HOUR }] });
    await both('add-events', { now: NOW, contactId: 'no-such-contact', events: [] }); // a 404 on both
    expect(pgRunner.failure).toBeNull();
    expect(pgRunner.commits).toBeGreaterThanOrEqual(8);
  });

  it('a command with no PostgreSQL form yet answers 503 naming it, and stores nothing', async () => {
    expect(PG_COMMANDS_MISSING).toContain('add-notice');
    expect(PG_COMMANDS_MISSING).not.toContain('create-contact');
    expect(PG_COMMANDS_MISSING).not.toContain('publish-report');
    const before = Number((await pool.query('SELECT count(*) AS n FROM notices')).rows[0].n);
    const a = (await answer(pgRunner.run('add-notice', { now: NOW, actor: 'lead@example.org', notice: { kind: 'other', title: 'Closed', message: 'Training', startsAt: NOW, endsAt: NOW + HOUR } }))) as { error: { status: number; code: string; message: string } };
    expect(a.error.status).toBe(503);
    expect(a.error.code).toBe('not-on-postgresql');
    expect(a.error.message).toMatch(/^add-notice: this write has no PostgreSQL form yet/);
    expect(Number((await pool.query('SELECT count(*) AS n FROM notices')).rows[0].n)).toBe(before);
    expect(pgRunner.failure).toBeNull(); // not a fault of the database
  });

  it('keeps the failure while writes fail (a contact locked elsewhere past the bound), and clears it at the next commit', async () => {
    const row = (await pgRunner.run('create-contact', create(contactBody(40, 'runner-lock', NOW)))).row;
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM contacts WHERE id = $1 FOR UPDATE', [row.id]);
      const refused = (await answer(pgRunner.run('add-events', prepareAddEvents(row, [{ type: 'replied', at: iso(NOW + HOUR) }], NOW + HOUR)))) as { error: { status: number; code: string } };
      expect(refused.error).toMatchObject({ status: 503, code: 'database-locked' });
      expect(pgRunner.failure).toMatchObject({ code: 'database-locked' });
      expect(pgRunner.failure!.reason).toMatch(/^database locked/);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const ok = (await pgRunner.run('add-events', prepareAddEvents(row, [{ type: 'replied', at: iso(NOW + HOUR) }], NOW + HOUR))) as { added: number };
    expect(ok.added).toBe(1);
    expect(pgRunner.failure).toBeNull();
  });

  it("the calendars' stamp moves when an import swaps one holiday date for another (no calendar row touched, the count unchanged)", async () => {
    const stamp = async () => (await pool.query<{ s: string }>(`SELECT ${CALENDAR_STAMP} AS s`)).rows[0]!.s;
    const day = (await pool.query<{ division: string; date: string }>("SELECT division, date FROM holidays WHERE division = 'england-and-wales' ORDER BY date DESC LIMIT 1")).rows[0]!;
    const before = await stamp();
    await pool.query('UPDATE holidays SET date = $1 WHERE division = $2 AND date = $3', ['2099-12-31', day.division, day.date]);
    const after = await stamp();
    await pool.query('UPDATE holidays SET date = $1 WHERE division = $2 AND date = $3', [day.date, day.division, '2099-12-31']);
    expect(after).not.toBe(before);
    expect(await stamp()).toBe(before);
  });

  it('is a CommandRunner (what IngestService takes)', () => {
    const r: CommandRunner = pgRunner;
    expect(typeof r.run).toBe('function');
  });
});
