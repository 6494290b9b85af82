// The set-based PostgreSQL writer (issue 14, item 2) on a real PostgreSQL: a flush is one
// transaction with one INSERT per table; replays and conflicts are decided by the unique index, also
// between two instances writing at once; one bad job fails alone; a fault answers 503 with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { prepareCreateContact, type ContactInput, type CreateContactInput, type CreateContactOutput } from '../../server/commands/create-contact.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { FeedFollower, type FeedEntry } from '../../server/cluster/feed.js';
import { loadPgCalendars, seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const NOW = Date.parse('2026-03-10T11:00:00Z');

function command(body: Record<string, unknown>, now = NOW): CreateContactInput {
  return prepareCreateContact(body as unknown as ContactInput, { now, packFamily: 'livewest', maxEventsPerContact: 200, actor: 'token:test' });
}

async function count(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const r = await pool.query(sql, params);
  return Number((r.rows[0] as { n: unknown }).n);
}

let db: TestPg;
let pool: pg.Pool;
let writer: PgGroupCommitWriter;

beforeAll(async () => {
  db = await freshPgDatabase('kept_pgwriter');
  pool = (await openPostgres(db.url, { max: 4 })).pool;
  await seedPgCalendars(pool, NOW);
  writer = await PgGroupCommitWriter.open(pool);
});

afterAll(async () => {
  await writer?.close();
  await pool?.end();
  await db?.drop();
});

describe('PgGroupCommitWriter', () => {
  it('puts 500 concurrent creates in a few transactions and stores every row', async () => {
    const bodies = Array.from({ length: 500 }, (_, i) => contactBody(i, 'many', NOW));
    const flushes = writer.flushes;
    const commits = writer.commits;
    const outputs = await Promise.all(bodies.map((b) => writer.createContact(command(b))));
    expect(outputs.every((o) => o.created)).toBe(true);
    // All 500 were queued in one turn, with no flush in flight: split in two halves (one per
    // connection, both in flight at once), so two flushes and two transactions.
    expect(writer.flushes - flushes).toBe(2);
    expect(writer.commits - commits).toBe(2);
    const ids = outputs.map((o) => o.row.id);
    expect(new Set(ids).size).toBe(500);
    expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE 'many-%'`)).toBe(500);
    const created = outputs.filter((o): o is Extract<CreateContactOutput, { created: true }> => o.created);
    const events = created.reduce((n, o) => n + o.events.length, 0);
    const clocks = created.reduce((n, o) => n + o.change.clocks.length, 0);
    expect(events).toBeGreaterThan(100);
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM events WHERE contact_id = ANY($1)', [ids])).toBe(events);
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM clocks WHERE contact_id = ANY($1)', [ids])).toBe(clocks);
    expect(await count(pool, `SELECT COUNT(*) AS n FROM audit WHERE action = 'contact.create' AND (detail::jsonb ->> 'contactId') = ANY($1)`, [ids])).toBe(500);
    expect(await count(pool, 'SELECT COUNT(DISTINCT contact_id) AS n FROM person_keys WHERE contact_id = ANY($1)', [ids])).toBe(500);
    // Open clocks are marked open; the audit entry carries no customer's details.
    const open = await count(pool, `SELECT COUNT(*) AS n FROM clocks WHERE contact_id = ANY($1) AND open = (status IN ('running', 'at-risk', 'breached', 'paused'))`, [ids]);
    expect(open).toBe(clocks);
    const audit = await pool.query(`SELECT detail FROM audit WHERE action = 'contact.create' LIMIT 50`);
    for (const r of audit.rows as Array<{ detail: string }>) expect(r.detail).not.toMatch(/@|\+44/);
  });

  it('stores the same rows and clocks as the SQLite command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kept-pgwriter-'));
    let sqlite: Connection | undefined;
    try {
      sqlite = openDatabase(join(dir, 'kept.db'));
      new CalendarStore(sqlite.sqlite).seed(NOW);
      const runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: 200 });
      const bodies = Array.from({ length: 60 }, (_, i) => contactBody(i, 'same', NOW));
      const lite = await Promise.all(bodies.map((b) => runner.run('create-contact', command(b))));
      const pgOut = await Promise.all(bodies.map((b) => writer.createContact(command(b))));
      for (let i = 0; i < bodies.length; i++) {
        const a = lite[i]!;
        const b = pgOut[i]!;
        if (!a.created || !b.created) throw new Error('both should create');
        expect({ ...b.row, id: '' }).toEqual({ ...a.row, id: '' });
        expect(b.change.clocks).toEqual(a.change.clocks);
        expect(b.events.map((e) => ({ ...e, contactId: '' }))).toEqual(a.events.map((e) => ({ ...e, contactId: '' })));
        // Stored as SQLite stores them: the clock's detail text and the row read back.
        const stored = await pool.query('SELECT detail FROM clocks WHERE contact_id = $1 ORDER BY standard', [b.row.id]);
        const liteStored = sqlite.sqlite.prepare('SELECT detail FROM clocks WHERE contact_id = ? ORDER BY standard').all(a.row.id) as Array<{ detail: string }>;
        expect((stored.rows as Array<{ detail: string }>).map((r) => r.detail)).toEqual(liteStored.map((r) => r.detail));
      }
      await runner.close();
    } finally {
      sqlite?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a replay of the same content with the stored contact (created false), in a later flush or the same one', async () => {
    const body = contactBody(7, 'replay', NOW);
    const first = await writer.createContact(command(body));
    expect(first.created).toBe(true);
    const again = await writer.createContact(command(body, NOW + 5000));
    expect(again).toEqual({ created: false, row: first.row });
    // Three copies of a new contact in one flush: one row, the others replays of it.
    const twin = contactBody(8, 'replay', NOW);
    const three = await Promise.all([0, 1, 2].map(() => writer.createContact(command(twin))));
    expect(three.map((o) => o.created)).toEqual([true, false, false]);
    expect(new Set(three.map((o) => o.row.id)).size).toBe(1);
    expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id IN ('replay-7', 'replay-8')`)).toBe(2);
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM audit WHERE (detail::jsonb ->> \'contactId\') = $1', [three[0]!.row.id])).toBe(1);
  });

  it('refuses the same key with other content with a 409, in a later flush or the same one', async () => {
    const body = contactBody(9, 'conflict', NOW);
    const first = await writer.createContact(command(body));
    const other = { ...body, subject: 'Something else entirely' };
    await expect(writer.createContact(command(other))).rejects.toMatchObject({ status: 409, code: 'conflict', message: expect.stringContaining(first.row.id) });
    const fresh = contactBody(10, 'conflict', NOW);
    const both = await Promise.allSettled([writer.createContact(command(fresh)), writer.createContact(command({ ...fresh, summary: 'changed' }))]);
    expect(both[0]).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(both[1]).toMatchObject({ status: 'rejected', reason: { status: 409 } });
    expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id IN ('conflict-9', 'conflict-10')`)).toBe(2);
  });

  it('fails a bad job alone: the flush rolls back and its jobs run one by one', async () => {
    // A check constraint of this test's database, and a NUL character (PostgreSQL's text holds none).
    await pool.query(`ALTER TABLE contacts ADD CONSTRAINT test_refused_subject CHECK (subject IS DISTINCT FROM 'refused by constraint')`);
    try {
      const bodies = Array.from({ length: 30 }, (_, i) => contactBody(i, 'bad', NOW));
      bodies[4] = { ...bodies[4]!, subject: 'refused by constraint' };
      bodies[17] = { ...bodies[17]!, summary: 'a NUL \u0000 in the message' };
      const fallbacks = writer.fallbacks;
      const settled = await Promise.allSettled(bodies.map((b) => writer.createContact(command(b))));
      // Queued in one turn: two flushes in flight (the halves), each with one bad job, each fell back.
      expect(writer.fallbacks - fallbacks).toBe(2);
      expect(settled[4]).toMatchObject({ status: 'rejected', reason: { status: 409, message: expect.stringContaining('test_refused_subject') } });
      expect(settled[17]).toMatchObject({ status: 'rejected', reason: { status: 422, code: 'unstorable-value' } });
      const ok = settled.filter((s) => s.status === 'fulfilled');
      expect(ok).toHaveLength(28);
      expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE 'bad-%'`)).toBe(28);
      expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id IN ('bad-4', 'bad-17')`)).toBe(0);
      // Nothing of the refused jobs was left behind in the other tables either.
      expect(await count(pool, `SELECT COUNT(*) AS n FROM audit WHERE (detail::jsonb ->> 'contactId') NOT IN (SELECT id FROM contacts)`)).toBe(0);
      expect(await count(pool, `SELECT COUNT(*) AS n FROM person_keys WHERE contact_id NOT IN (SELECT id FROM contacts)`)).toBe(0);
      expect(writer.failure).toBeNull();
    } finally {
      await pool.query('ALTER TABLE contacts DROP CONSTRAINT test_refused_subject');
    }
  });

  it('stores one row when two instances create the same contact at once; the other is a replay', async () => {
    const otherPool = (await openPostgres(db.url, { max: 2, migrate: false })).pool;
    try {
      const other = await PgGroupCommitWriter.open(otherPool);
      const bodies = Array.from({ length: 40 }, (_, i) => contactBody(i, 'twice', NOW));
      // The same contacts in opposite orders from the two instances: the unique index decides, and
      // sorted inserts keep the two from deadlocking.
      const [a, b] = await Promise.all([
        Promise.all(bodies.map((body) => writer.createContact(command(body)))),
        Promise.all([...bodies].reverse().map((body) => other.createContact(command(body)))),
      ]);
      b.reverse();
      for (let i = 0; i < bodies.length; i++) {
        expect(a[i]!.row.id).toBe(b[i]!.row.id);
        expect([a[i]!.created, b[i]!.created].filter(Boolean)).toHaveLength(1);
      }
      expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE 'twice-%'`)).toBe(40);
      expect(await count(pool, `SELECT COUNT(*) AS n FROM audit WHERE (detail::jsonb ->> 'contactId') IN (SELECT id FROM contacts WHERE external_id LIKE 'twice-%')`)).toBe(40);
      // Other content under one of those keys, from the second instance: a conflict.
      await expect(other.createContact(command({ ...bodies[3]!, subject: 'changed' }))).rejects.toMatchObject({ status: 409 });
      await other.close();
    } finally {
      await otherPool.end();
    }
  });

  it('answers 503 naming the fault when PostgreSQL is unreachable, and keeps it for /health', async () => {
    const url = new URL(db.url);
    url.port = '1'; // nothing listens there
    const deadPool = (await openPostgres(url.toString(), { max: 1, migrate: false })).pool;
    try {
      const failures: Array<string | null> = [];
      const dead = new PgGroupCommitWriter(deadPool, await loadPgCalendars(pool), { onFailure: (f) => failures.push(f?.code ?? null) });
      const jobs = [0, 1, 2].map((i) => dead.createContact(command(contactBody(i, 'dead', NOW))));
      for (const job of jobs) await expect(job).rejects.toMatchObject({ status: 503, code: 'database-unreachable', retryAfter: 1, message: expect.stringMatching(/^database unreachable/) });
      expect(dead.failure).toMatchObject({ code: 'database-unreachable' });
      expect(failures).toEqual(['database-unreachable']);
      await dead.close();
    } finally {
      await deadPool.end();
    }
  });

  it('fails a flush whose connection is cut with 503, then writes again on a new connection', async () => {
    const failures: Array<string | null> = [];
    const cut = await PgGroupCommitWriter.open(pool, { onFailure: (f) => failures.push(f?.code ?? null) });
    // Hold the contacts table so the flush waits inside its transaction, then end its backend.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE contacts IN EXCLUSIVE MODE');
      const jobs = [0, 1, 2, 3].map((i) => cut.createContact(command(contactBody(i, 'cut', NOW))));
      const settled = Promise.allSettled(jobs);
      let pid: number | undefined;
      for (let tries = 0; pid === undefined && tries < 500; tries++) {
        // The flush's backend, waiting for the table; asked outside the blocker's transaction, whose
        // view of pg_stat_activity stays as it was at its first look.
        const r = await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`, [(blocker as unknown as { processID: number }).processID]);
        pid = (r.rows[0] as { pid?: number } | undefined)?.pid;
        if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(pid).toBeDefined();
      await blocker.query('SELECT pg_terminate_backend($1)', [pid]);
      for (const s of await settled) expect(s).toMatchObject({ status: 'rejected', reason: { status: 503, code: 'database-unreachable' } });
      expect(cut.failure).toMatchObject({ code: 'database-unreachable' });
      await blocker.query('ROLLBACK');
      // Nothing of the cut flush was stored; the same contacts go in now, and the failure clears.
      expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE 'cut-%'`)).toBe(0);
      const again = await Promise.all([0, 1, 2, 3].map((i) => cut.createContact(command(contactBody(i, 'cut', NOW)))));
      expect(again.every((o) => o.created)).toBe(true);
      expect(cut.failure).toBeNull();
      expect(failures).toEqual(['database-unreachable', null]);
    } finally {
      await blocker.end().catch(() => undefined);
      await cut.close();
    }
  });

  it('answers 503 "database locked" when a lock held elsewhere outlasts the write timeout; nothing is stored', async () => {
    const short = await PgGroupCommitWriter.open(pool, { timeoutMs: 300 });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE contacts IN EXCLUSIVE MODE');
      const settled = await Promise.allSettled([0, 1, 2].map((i) => short.createContact(command(contactBody(i, 'locked', NOW)))));
      for (const s of settled) expect(s).toMatchObject({ status: 'rejected', reason: { status: 503, code: 'database-locked', message: expect.stringContaining('KEPT_WRITE_TIMEOUT_MS') } });
      // A fault is not a job's own: the flush was not run again job by job.
      expect(short.fallbacks).toBe(0);
      await blocker.query('ROLLBACK');
      expect(await count(pool, `SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE 'locked-%'`)).toBe(0);
      const again = await short.createContact(command(contactBody(0, 'locked', NOW)));
      expect(again.created).toBe(true);
      expect(short.failure).toBeNull();
    } finally {
      await blocker.end();
      await short.close();
    }
  });

  it('answers 503 when the server accepts the connection and never answers', async () => {
    // A listener that takes the connection and says nothing, as a hung server would.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = new URL(db.url);
    url.port = String((silent.address() as AddressInfo).port);
    const hungPool = (await openPostgres(url.toString(), { max: 1, migrate: false })).pool;
    const hung = new PgGroupCommitWriter(hungPool, await loadPgCalendars(pool), { timeoutMs: 300 });
    try {
      await expect(hung.createContact(command(contactBody(0, 'hung', NOW)))).rejects.toMatchObject({ status: 503, code: 'database-unreachable' });
      expect(hung.failure).toMatchObject({ code: 'database-unreachable' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await hung.close();
      await hungPool.end();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('computes clocks with a calendar edited since the writer loaded it', async () => {
    const fresh = await PgGroupCommitWriter.open(pool);
    const body = { channel: 'email', route: 'customer-services', category: 'general', externalId: 'calendar-1', receivedAt: '2026-03-10T09:00:00Z' };
    const before = await fresh.createContact(command({ ...body, externalId: 'calendar-0' }));
    // Another instance closes the centre for the next two days (a closure and the calendar touched, as calendar-edit.ts does).
    await pool.query(`INSERT INTO closures (calendar_id, "from", "to", reason, created_at) VALUES ('customer-services', $1, $2, 'test closure', $3)`, [
      Date.parse('2026-03-10T00:00:00Z'),
      Date.parse('2026-03-12T00:00:00Z'),
      NOW,
    ]);
    await pool.query(`UPDATE calendars SET updated_at = $1 WHERE id = 'customer-services'`, [NOW + 1]);
    try {
      const after = await fresh.createContact(command(body));
      if (!before.created || !after.created) throw new Error('both should create');
      const due = (o: typeof after) => o.change.clocks.find((c) => c.calendar === 'customer-services')?.dueAt ?? null;
      expect(due(before)).not.toBeNull();
      expect(due(after)!).toBeGreaterThan(due(before)!);
    } finally {
      await fresh.close();
      await pool.query(`DELETE FROM closures WHERE reason = 'test closure'`);
    }
  });
});

// Issue 14 item 3: with `feed`, a flush's created contacts go into the change feed in the flush's own
// statement, and one doorbell rings: another instance's follower hears each exactly once, replays and
// refused jobs not at all.
describe('PgGroupCommitWriter with the change feed', () => {
  it('appends one contact change per created contact in the flush, rings once, and a follower on another connection gets each once', async () => {
    const heard: FeedEntry[] = [];
    let wake: () => void = () => {};
    const follower = new FeedFollower({ connection: db.url, pruneEveryMs: 0, pollMs: 60_000, onChanges: (entries) => {
      heard.push(...entries);
      wake();
    } });
    await follower.start();
    const fed = await PgGroupCommitWriter.open(pool, { feed: true });
    try {
      const bodies = Array.from({ length: 40 }, (_, i) => contactBody(i, 'fed', NOW));
      const outputs = await Promise.all(bodies.map((b) => fed.createContact(command(b))));
      // A replay (the same content again) and a conflict (the same key, other content) add nothing.
      const again = await fed.createContact(command(bodies[0]!));
      expect(again.created).toBe(false);
      await expect(fed.createContact(command({ ...bodies[1]!, subject: 'other words' }))).rejects.toMatchObject({ status: 409 });
      const ids = outputs.map((o) => o.row.id);
      // Delivered by the doorbell alone (the safety-net read is a minute away).
      for (let i = 0; i < 100 && heard.length < ids.length; i++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
      await new Promise((r) => setTimeout(r, 300));
      expect(heard.map((e) => e.kind)).toEqual(ids.map(() => 'contact'));
      const payloads = heard.map((e) => e.payload as { contactId: string; clocks: Array<{ standard: string }> });
      expect(new Set(payloads.map((p) => p.contactId))).toEqual(new Set(ids));
      expect(payloads.length).toBe(ids.length);
      for (const o of outputs) {
        if (!o.created) continue;
        const p = payloads.find((x) => x.contactId === o.row.id)!;
        expect(p.clocks.map((c) => c.standard)).toEqual(o.change.clocks.map((c) => c.standard));
      }
      // Names and clocks only: no customer's details travel the feed.
      expect(JSON.stringify(payloads)).not.toMatch(/@|\+44|07\d{9}/);
      expect(await count(pool, `SELECT COUNT(*) AS n FROM feed WHERE kind = 'contact' AND (payload ->> 'contactId') = ANY($1)`, [ids])).toBe(ids.length);
    } finally {
      await fed.close();
      await follower.stop();
    }
  });
});
