// The write commands on PostgreSQL behind the writer's one interface (server/store/pg/runner.ts,
// PgRunner): on a real SQLite file and a real PostgreSQL, the same commands through CommandRunner give
// the same answers and leave the same rows and audit trail (InlineRunner on SQLite), every command
// having its PostgreSQL form; and /health's inputs — commits, and the failure while writes fail,
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
import { PeopleStore } from '../../server/store/people.js';
import type { ContactRow } from '../../server/store/contacts.js';
import { PgRunner } from '../../server/store/pg/runner.js';
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

  it("the board's extras (notices, the board message, saved boards, displays, alert rules and sends): the same answers, rows and audit trail", async () => {
    const lead = 'lead@example.org';
    // One display on each (the people's store makes it on SQLite; its row is all the command reads on PostgreSQL).
    const liteDisplay = new PeopleStore(sqlite.sqlite).createDisplay('wall-1', 'admin@example.org', NOW).display.id;
    const pgDisplay = (await pool.query<{ id: number }>("INSERT INTO displays (name, secret_hash, created_at, created_by) VALUES ('wall-1', 'x', $1, 'admin@example.org') RETURNING id", [NOW])).rows[0]!.id;
    expect(pgDisplay).toBe(liteDisplay);
    const rule = { name: 'Breaches', kind: 'breach' as const, threshold: null, standards: [], emails: ['lead@example.org'], teamsUrl: 'https://example.org/hook', slackUrl: null, quietMinutes: 10, enabled: true };
    const steps: Array<[CommandName, unknown]> = [
      ['add-notice', { now: NOW, actor: lead, notice: { kind: 'weather', title: 'Snow', message: 'Slower replies', startsAt: NOW, endsAt: NOW + HOUR } }],
      ['withdraw-notice', { now: NOW + 1, actor: lead, id: 1 }],
      ['withdraw-notice', { now: NOW + 2, actor: lead, id: 1 }], // gone: 404 on both
      ['board-message', { now: NOW + 3, actor: lead, text: 'Team meeting at 3', until: NOW + HOUR }],
      ['board-message', { now: NOW + 4, actor: lead, text: 'Meeting moved to 4', until: null }],
      ['board-message', { now: NOW + 5, actor: lead, text: null, until: null }],
      ['board-message', { now: NOW + 6, actor: lead, text: null, until: null }], // nothing standing
      ['save-board', { now: NOW + 7, actor: lead, board: { name: 'Repairs', team: 'repairs', filter: { queues: ['repairs'], channels: [], categories: [] } } }],
      ['save-board', { now: NOW + 8, actor: lead, board: { name: 'Repairs', team: 'other', filter: { queues: [], channels: ['email'], categories: [] } } }], // 409
      ['save-board', { now: NOW + 9, actor: lead, board: { name: 'Complaints', team: 'cx', filter: { queues: [], channels: [], categories: ['complaint'] } } }],
      ['save-board', { now: NOW + 10, actor: lead, id: 2, board: { name: 'Complaints', team: 'cx', filter: { queues: [], channels: ['phone'], categories: ['complaint'] } } }],
      ['save-board', { now: NOW + 11, actor: lead, id: 99, board: { name: 'Ghost', team: 'x', filter: { queues: [], channels: [], categories: [] } } }], // 404
      ['display-boards', { now: NOW + 12, actor: lead, displayId: liteDisplay, boards: [1, 2], rotateSeconds: 30 }],
      ['display-boards', { now: NOW + 13, actor: lead, displayId: liteDisplay, boards: [1, 77], rotateSeconds: 30 }], // 404 naming boards/1
      ['display-boards', { now: NOW + 14, actor: lead, displayId: 999, boards: [], rotateSeconds: 30 }], // 404
      ['delete-board', { now: NOW + 15, actor: lead, id: 1 }], // taken out of the display's choice too
      ['delete-board', { now: NOW + 16, actor: lead, id: 1 }], // 404
      ['save-alert-rule', { now: NOW + 17, actor: 'admin@example.org', rule }],
      ['save-alert-rule', { now: NOW + 18, actor: 'admin@example.org', id: 1, rule: { ...rule, quietMinutes: 30 } }],
      ['save-alert-rule', { now: NOW + 19, actor: 'admin@example.org', id: 5, rule }], // 404
      ['record-alert-send', { now: NOW + 20, ruleId: 1, keys: ['c1/email-reply'], subject: 'A promise broken', outcome: { email: 'sent', teams: 'failed: 500' } }],
      ['delete-alert-rule', { now: NOW + 21, actor: 'admin@example.org', id: 1 }],
      ['delete-alert-rule', { now: NOW + 22, actor: 'admin@example.org', id: 1 }], // 404
    ];
    for (const [name, input] of steps) {
      const a = await answer(lite.run(name, input as CommandInput<typeof name>));
      const p = await answer(pgRunner.run(name, input as CommandInput<typeof name>));
      expect(p, `${name} ${JSON.stringify(input)}`).toEqual(a);
    }
    // What each database holds afterwards, read by the same columns.
    const rows = async (sql: string) => ({
      lite: sqlite.sqlite.prepare(sql).all(),
      pg: (await pool.query(sql)).rows,
    });
    for (const sql of [
      'SELECT id, kind, title, message, starts_at, ends_at, withdrawn_at, created_by FROM notices ORDER BY id',
      'SELECT id, text, "by", "at", "until", ended_at, ended_by FROM board_messages ORDER BY id',
      'SELECT id, name, team, filter, updated_at FROM saved_boards ORDER BY id',
      'SELECT display_id, boards, rotate_seconds, updated_by, updated_at FROM display_boards ORDER BY display_id',
      'SELECT id, name, quiet_minutes, deleted_at FROM alert_rules ORDER BY id',
      'SELECT id, rule_id, at, keys, subject, outcome FROM alert_sends ORDER BY id',
      "SELECT at, actor, action, detail FROM audit WHERE action NOT LIKE 'contact.%' ORDER BY at, id",
    ]) {
      const r = await rows(sql);
      expect(r.pg, sql).toEqual(r.lite);
    }
    expect((await pool.query('SELECT boards FROM display_boards')).rows).toEqual([{ boards: '[2]' }]);
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
