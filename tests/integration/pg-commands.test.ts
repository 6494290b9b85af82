// The write commands beyond create on PostgreSQL (server/store/pg/commands.ts, issue 14 items 1 and 3),
// on a real SQLite file and a real PostgreSQL:
// - the same sequence of commands (creates, add-events with a replay, a conflicting replay, a repeat
//   inside one batch, a batch over the cap, an engine error, contact actions with references and an
//   alert, a closure added and removed, the timers' statuses) through the InlineRunner on SQLite and
//   through PgCommands on PostgreSQL gives the same outputs, errors, contacts, events, clocks, audit
//   entries and alerts;
// - two instances (two pools) at once: 100 events on one contact numbered 0..99 with the clocks of a
//   recompute from scratch; complaint references never issued twice; a closure added while creates
//   flush leaves every clock computed with the calendar it committed under;
// - a FeedFollower hears each change exactly once, the closure's calendar edit included.
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../db/connection.js';
import { prepareAddEvents } from '../../server/commands/add-events.js';
import { prepareCreateContact, type ContactInput, type CreateContactInput } from '../../server/commands/create-contact.js';
import type { CommandName, CommandOutput } from '../../server/commands/index.js';
import { evaluateStored } from '../../server/commands/recompute.js';
import { FeedFollower, type FeedEntry } from '../../server/cluster/feed.js';
import { ContactStore, type ContactRow } from '../../server/store/contacts.js';
import { PgCommands } from '../../server/store/pg/commands.js';
import { PgContactReads } from '../../server/store/pg/contacts.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { loadPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';
import { answer, heardAtLeast, type Answer } from '../helpers/command-answers.js';
import type { TestPg } from '../helpers/pg.js';
import { openTwoDatabases, type TwoDatabases } from '../helpers/two-databases.js';

const NOW = Date.parse('2026-03-10T11:00:00Z'); // a Tuesday, in opening hours
const HOUR = 3_600_000;
const MAX_EVENTS = 120;
const iso = (ms: number) => new Date(ms).toISOString();

function command(body: Record<string, unknown>): CreateContactInput {
  return prepareCreateContact(body as unknown as ContactInput, { now: NOW, packFamily: 'livewest', maxEventsPerContact: MAX_EVENTS, actor: 'token:test' });
}

let both: TwoDatabases;
let sqlite: Connection;
let runner: InlineRunner;
let db: TestPg;
let pool: pg.Pool;
let pool2: pg.Pool;
let writer: PgGroupCommitWriter;
/** Two instances' commands, each over its own pool. */
let one: PgCommands;
let two: PgCommands;
let follower: FeedFollower;
const heard: FeedEntry[] = [];

beforeAll(async () => {
  both = await openTwoDatabases('kept_pgcommands', NOW, MAX_EVENTS);
  ({ sqlite, runner, db, pool, pool2, writer } = both);
  one = await PgCommands.open(pool, { maxEventsPerContact: MAX_EVENTS, feed: true });
  two = await PgCommands.open(pool2, { maxEventsPerContact: MAX_EVENTS, feed: true });
  follower = new FeedFollower({ connection: db.url, pruneEveryMs: 0, pollMs: 250, onChanges: (entries) => void heard.push(...entries) });
  await follower.start();
});

afterAll(async () => {
  await follower?.stop();
  await both?.close();
});

describe('the same commands on SQLite and PostgreSQL', () => {
  it('give the same outputs, errors, contacts, events, clocks, audit entries and alerts; the feed hears each change once', async () => {
    const bodies = Array.from({ length: 14 }, (_, i) => contactBody(i, 'seq', NOW));
    // Creates: SQLite by the command, PostgreSQL by the set-based writer (its ids are its own).
    const lite: ContactRow[] = [];
    const toLiteId = new Map<string, string>();
    for (const b of bodies) {
      const a = await runner.run('create-contact', command(b));
      const p = await writer.createContact(command(b));
      if (!a.created || !p.created) throw new Error('both should create');
      lite.push(a.row);
      toLiteId.set(p.row.id, a.row.id);
    }
    const toPgId = new Map([...toLiteId].map(([p, l]) => [l, p]));
    /** A PostgreSQL answer with its contact ids put back as SQLite's. */
    const asLite = (v: unknown): unknown => {
      let text = JSON.stringify(v) ?? 'null';
      for (const [p, l] of toLiteId) text = text.replaceAll(p, l);
      return JSON.parse(text);
    };
    const pgInput = <T extends { contactId?: string }>(input: T): T => ({ ...input, ...(input.contactId !== undefined ? { contactId: toPgId.get(input.contactId) ?? input.contactId } : {}) });
    const events = (c: ContactRow, raw: Array<Record<string, unknown>>) => prepareAddEvents(c, raw, NOW).events;
    const email = lite[1]!;
    const complaint = lite[0]!;
    const other = lite[13]!;
    const at = (c: ContactRow, s: number) => iso(c.receivedAt + s * 1000);

    // Each step: the command's name, its input (SQLite's ids), and which PostgreSQL instance runs it.
    type Step = { name: CommandName; input: Record<string, unknown>; on?: PgCommands };
    const steps: Step[] = [
      { name: 'add-events', input: { now: NOW, contactId: email.id, actor: 'token:test', events: events(email, [{ type: 'assigned', assignee: 'ola.ade', at: at(email, 60), externalId: 'x1' }, { type: 'replied', at: at(email, 90), externalId: 'x2' }]) } },
      // A replay of the same events: nothing added.
      { name: 'add-events', input: { now: NOW, contactId: email.id, actor: 'token:test', events: events(email, [{ type: 'replied', at: at(email, 90), externalId: 'x2' }]) } },
      // The same externalId with other content: a conflict, nothing added.
      { name: 'add-events', input: { now: NOW, contactId: email.id, actor: 'token:test', events: events(email, [{ type: 'replied', at: at(email, 95), externalId: 'x2' }, { type: 'assigned', assignee: 'kate.bell', at: at(email, 96), externalId: 'x3' }]) } },
      // The same externalId twice in one batch: once.
      { name: 'add-events', input: { now: NOW, contactId: lite[4]!.id, actor: 'token:test', events: events(lite[4]!, [{ type: 'assigned', assignee: 'dev.patel', at: at(lite[4]!, 10), externalId: 'y1' }, { type: 'assigned', assignee: 'dev.patel', at: at(lite[4]!, 10), externalId: 'y1' }]) } },
      // Over the cap: 422, nothing kept.
      { name: 'add-events', input: { now: NOW, contactId: lite[3]!.id, actor: 'token:test', events: events(lite[3]!, Array.from({ length: MAX_EVENTS + 1 }, (_, i) => ({ type: 'assigned', assignee: `a${i}`, at: at(lite[3]!, i) }))) } },
      // An event the engine refuses: the caller's field named.
      { name: 'add-events', input: { now: NOW, contactId: lite[5]!.id, actor: 'token:test', events: events(lite[5]!, [{ type: 'assigned', assignee: 'sam.jones', at: at(lite[5]!, 5) }, { type: 'resumed', clock: 'no-such-clock', at: at(lite[5]!, 9) }]) } },
      { name: 'add-events', input: { now: NOW, contactId: 'no-such-contact', actor: 'token:test', events: events(email, [{ type: 'replied', at: at(email, 100) }]) } },
      // Contact actions: a reference from the year's sequence on the acknowledged event, an alert, another reference.
      { name: 'contact-action', input: { now: NOW, contactId: complaint.id, actor: 'kate.bell@example.org', action: 'acknowledge', events: events(complaint, [{ type: 'acknowledged', reference: 'pending', owner: 'kate.bell', at: at(complaint, 300) }]), issueReference: { prefix: 'CMP', year: 2026 }, auditDetail: { owner: 'kate.bell' } } },
      { name: 'contact-action', input: { now: NOW, contactId: lite[2]!.id, actor: 'integration', action: 'flagged', events: [], alert: { kind: 'safeguarding', note: 'lives alone' } } },
      { name: 'contact-action', input: { now: NOW, contactId: other.id, actor: 'kate.bell@example.org', action: 'acknowledge', events: events(other, [{ type: 'acknowledged', reference: 'pending', owner: 'kate.bell', at: at(other, 200) }]), issueReference: { prefix: 'CMP', year: 2026 } } },
      // A closure from an hour on: the running clocks due after it move.
      { name: 'add-closure', input: { now: NOW, calendarId: 'customer-services', closure: { from: NOW + HOUR, to: NOW + 26 * HOUR, reason: 'training' }, actor: 'lead@example.org' } },
      // The other instance, whose calendars predate the closure, adds events: it computes with the closure.
      { name: 'add-events', on: two, input: { now: NOW, contactId: lite[8]!.id, actor: 'token:test', events: events(lite[8]!, [{ type: 'assigned', assignee: 'ola.ade', at: at(lite[8]!, 20) }]) } },
      { name: 'remove-closure', input: { now: NOW, calendarId: 'customer-services', closureId: 1, actor: 'lead@example.org' } },
      { name: 'remove-closure', input: { now: NOW, calendarId: 'customer-services', closureId: 1, actor: 'lead@example.org' } },
      { name: 'add-closure', input: { now: NOW, calendarId: 'no-such-calendar', closure: { from: NOW, to: NOW + HOUR }, actor: 'lead@example.org' } },
    ];

    const run = (c: PgCommands, name: CommandName, input: Record<string, unknown>): Promise<unknown> => {
      switch (name) {
        case 'add-events': return c.addEvents(input as never);
        case 'contact-action': return c.contactAction(input as never);
        case 'add-closure': return c.addClosure(input as never);
        case 'remove-closure': return c.removeClosure(input as never);
        case 'set-statuses': return c.setStatuses(input as never);
        default: throw new Error(`no PostgreSQL form of ${name} here`);
      }
    };
    const pgAnswers: Answer[] = [];
    for (const s of steps) {
      const a = await answer(runner.run(s.name, s.input as never) as Promise<CommandOutput<typeof s.name>>);
      const p = await answer(run(s.on ?? one, s.name, pgInput(s.input)));
      pgAnswers.push(p);
      expect(asLite(p), `${s.name} ${JSON.stringify(a).slice(0, 200)}`).toEqual(a);
    }
    // The steps did what they are named for (so the equality above is about something).
    const okOf = (i: number) => (pgAnswers[i] as { ok: Record<string, unknown> }).ok;
    const errorOf = (i: number) => (pgAnswers[i] as { error: { status: number; code: string } }).error;
    expect(okOf(0).added).toBe(2);
    expect(okOf(1)).toEqual({ added: 0, change: null });
    expect(errorOf(2).status).toBe(409);
    expect(okOf(3).added).toBe(1);
    expect(errorOf(4)).toMatchObject({ status: 422, code: 'too-many-events' });
    expect(errorOf(5)).toMatchObject({ status: 400 });
    expect(errorOf(5)).toMatchObject({ message: expect.stringMatching(/^events\[1\]\.clock: unknown standard/) });
    expect(errorOf(6).status).toBe(404);
    expect(okOf(7)).toMatchObject({ added: 1, reference: 'CMP-2026-000001', alertId: null });
    expect(okOf(8)).toMatchObject({ added: 0, reference: null, alertId: 1 });
    expect(okOf(9)).toMatchObject({ reference: 'CMP-2026-000002' });
    const closed = okOf(10) as { id: number; movedClocks: number; changes: unknown[] };
    expect(closed.id).toBe(1);
    expect(closed.movedClocks).toBeGreaterThan(0);
    expect(okOf(12).movedClocks).toBe(closed.movedClocks);
    expect(errorOf(13).status).toBe(404);
    expect(errorOf(14).status).toBe(404);

    // The timers' leader stores a status: the guarded update, the same on both.
    let target: { contactId: string; standard: string } | undefined;
    for (const c of lite) {
      const k = (await new PgContactReads(pool).clocks(toPgId.get(c.id)!)).find((x) => x.status === 'running');
      if (k !== undefined && target === undefined) target = { contactId: c.id, standard: k.standard };
    }
    expect(target).toBeDefined();
    const statuses = { now: NOW + HOUR, statuses: [{ ...target!, status: 'breached', at: NOW + HOUR - 1 }] };
    expect(await runner.run('set-statuses', statuses)).toBeNull();
    expect(await one.setStatuses({ ...statuses, statuses: statuses.statuses.map((s) => ({ ...s, contactId: toPgId.get(s.contactId)! })) })).toBeNull();

    // What each database holds: the contacts, their events (less the row ids) and clocks.
    const liteReads = new ContactStore(sqlite.sqlite);
    const pgReads = new PgContactReads(pool);
    for (const c of lite) {
      const id = toPgId.get(c.id)!;
      expect(asLite(await pgReads.byId(id))).toEqual(liteReads.byId(c.id));
      expect(asLite((await pgReads.events(id)).map(({ id: _, ...e }) => e))).toEqual(liteReads.events(c.id).map(({ id: _, ...e }) => e));
      expect(asLite(await pgReads.clocks(id))).toEqual(liteReads.clocks(c.id));
    }
    const audit = (rows: unknown[]) => (rows as Array<{ at: number; actor: string; action: string; detail: string }>).map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }));
    const auditSql = `SELECT at, actor, action, detail FROM audit WHERE action <> 'contact.create' ORDER BY id`;
    const liteAudit = audit(sqlite.sqlite.prepare(auditSql).all());
    expect(asLite(audit((await pool.query(auditSql)).rows))).toEqual(liteAudit);
    expect(liteAudit.map((a) => a.action)).toEqual(['contact.events', 'contact.events', 'contact.acknowledge', 'contact.flagged', 'contact.acknowledge', 'closure.add', 'contact.events', 'closure.remove']);
    const alertsSql = 'SELECT id, contact_id, kind, note, raised_at, raised_by FROM alerts ORDER BY id';
    expect(asLite((await pool.query(alertsSql)).rows)).toEqual(sqlite.sqlite.prepare(alertsSql).all());
    expect((await pool.query('SELECT name, year, value FROM sequences')).rows).toEqual(sqlite.sqlite.prepare('SELECT name, year, value FROM sequences').all());

    // The feed: each change once, in commit order — the contacts whose clocks changed, the calendar edits, the statuses.
    const expected: Array<{ kind: string; id: string }> = [];
    for (const p of pgAnswers) {
      if (!('ok' in p)) continue;
      const o = p.ok as { change?: { contactId: string } | null; changes?: Array<{ contactId: string }> };
      if (o.changes !== undefined) expected.push({ kind: 'calendar', id: 'customer-services' }, ...o.changes.map((c) => ({ kind: 'contact', id: c.contactId })));
      else if (o.change) expected.push({ kind: 'contact', id: o.change.contactId });
    }
    expected.push({ kind: 'statuses', id: toPgId.get(target!.contactId)! });
    const got = await heardAtLeast(heard, expected.length);
    const idOf = (e: FeedEntry) => (e.kind === 'contact' ? e.payload.contactId : e.kind === 'calendar' ? e.payload.calendars.join() : e.kind === 'statuses' ? e.payload.statuses[0]!.contactId : '');
    expect(got.map((e) => ({ kind: e.kind, id: idOf(e) }))).toEqual(expected);
    // Each contact entry carries the clocks the command answered with.
    const withClocks = pgAnswers.flatMap((p) => ('ok' in p ? [p.ok as { change?: { contactId: string; clocks: unknown[] } | null }] : [])).filter((o) => o.change);
    for (const o of withClocks) expect(got.some((e) => e.kind === 'contact' && e.payload.contactId === o.change!.contactId && isDeepStrictEqual(e.payload.clocks, JSON.parse(JSON.stringify(o.change!.clocks))))).toBe(true);
    expect(JSON.stringify(got)).not.toMatch(/@example\.com|\+44/);
    heard.length = 0;
  });
});

describe('two instances at once on PostgreSQL', () => {
  it('100 events added to one contact from two instances: seq 0..99, no gaps or repeats, the clocks of a recompute from scratch', async () => {
    const created = await writer.createContact(command({ channel: 'email', externalId: 'busy-1', receivedAt: iso(NOW - HOUR) }));
    if (!created.created) throw new Error('should create');
    const id = created.row.id;
    const add = (c: PgCommands, who: string, i: number) =>
      c.addEvents({ now: NOW, contactId: id, actor: 'token:test', events: prepareAddEvents(created.row, [{ type: 'assigned', assignee: `${who}${i}`, at: iso(NOW - HOUR + i * 1000), externalId: `${who}-${i}` }], NOW).events });
    const outputs = await Promise.all(Array.from({ length: 50 }, (_, i) => [add(one, 'a', i), add(two, 'b', i)]).flat());
    expect(outputs.every((o) => o.added === 1)).toBe(true);
    const reads = new PgContactReads(pool);
    const events = await reads.events(id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(events.map((e) => e.externalId)).size).toBe(100);
    const row = (await reads.byId(id))!;
    const { calendars } = await loadPgCalendars(pool);
    const fresh = evaluateStored({ calendars }, created.row, events, NOW);
    expect((await reads.clocks(id)).map((k) => k.detail)).toEqual(fresh.clocks);
    expect(row.assignee).toBe(fresh.row.assignee);
    // The latest assignment by its instant: one of the two instances' last.
    expect(['a49', 'b49']).toContain(row.assignee);
  });

  it('complaint references issued by two instances at once are never the same', async () => {
    const created = await writer.createContact(command({ channel: 'webform', category: 'complaint', externalId: 'refs-1', receivedAt: iso(NOW - HOUR) }));
    const act = (c: PgCommands) => c.contactAction({ now: NOW, contactId: created.row.id, actor: 'kate.bell@example.org', action: 'reference', events: [], issueReference: { prefix: 'RACE', year: 2026 } });
    const outputs = await Promise.all(Array.from({ length: 20 }, () => [act(one), act(two)]).flat());
    const refs = outputs.map((o) => o.reference!);
    expect(new Set(refs).size).toBe(40);
    expect([...refs].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `RACE-2026-${String(i + 1).padStart(6, '0')}`));
  });

  it('a closure added while creates flush: every clock is computed with the calendar it committed under', async () => {
    // The second instance's writer holds the calendars as they are before the closure.
    const stale = await PgGroupCommitWriter.open(pool2);
    const before = await loadPgCalendars(pool);
    try {
      const bodies = Array.from({ length: 120 }, (_, i) => ({ channel: 'email', externalId: `flush-${i}`, receivedAt: iso(NOW - 30 * 60_000 + i * 1000) }));
      const create = async (from: number, to: number) => (await Promise.all(bodies.slice(from, to).map((b, i) => (i % 2 === 0 ? stale : writer).createContact(command(b))))).map((o) => o.row.id);
      // Before the closure; then the closure racing a wave of creates from both instances; then creates
      // from the instance whose calendars are still those of before (its flush sees the stamp move).
      const ids = await create(0, 30);
      const [closure, racing] = await Promise.all([
        one.addClosure({ now: NOW, calendarId: 'customer-services', closure: { from: NOW + 2 * HOUR, to: NOW + 30 * HOUR, reason: 'flood' }, actor: 'lead@example.org' }),
        create(30, 90),
      ]);
      ids.push(...racing, ...(await Promise.all(bodies.slice(90).map((b) => stale.createContact(command(b))))).map((o) => o.row.id));
      expect(closure.recomputedContacts).toBeGreaterThanOrEqual(30);
      const after = await loadPgCalendars(pool);
      const reads = new PgContactReads(pool);
      const rows = await reads.byIds(ids);
      const events = await reads.eventsOf(ids);
      const clocks = await reads.clocksOf(ids);
      let moved = 0;
      for (const row of rows) {
        const fresh = evaluateStored({ calendars: after.calendars }, row, events.get(row.id)!, NOW).clocks;
        expect(clocks.get(row.id)!.map((k) => k.detail)).toEqual(fresh);
        const old = evaluateStored({ calendars: before.calendars }, row, events.get(row.id)!, NOW).clocks;
        if (JSON.stringify(old) !== JSON.stringify(fresh)) moved++;
      }
      // The closure moves every one of these contacts' reply clocks: the check above is about something.
      expect(moved).toBe(ids.length);
    } finally {
      await stale.close();
    }
  });
});

describe('faults answer 503 with the reason', () => {
  it('a contact whose row another session holds locked past the timeout: 503 database-locked, nothing stored', async () => {
    const created = await writer.createContact(command({ channel: 'email', externalId: 'held-1', receivedAt: iso(NOW - HOUR) }));
    const quick = await PgCommands.open(pool2, { maxEventsPerContact: MAX_EVENTS, timeoutMs: 300 });
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE', [created.row.id]);
      const events = prepareAddEvents(created.row, [{ type: 'replied', at: iso(NOW - 60_000) }], NOW).events;
      await expect(quick.addEvents({ now: NOW, contactId: created.row.id, actor: 'token:test', events })).rejects.toMatchObject({ status: 503, code: 'database-locked' });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await new PgContactReads(pool).events(created.row.id)).length).toBe(0);
  });

  it('a database that cannot be reached: 503 database-unreachable, never a bare 500', async () => {
    const nowhere = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'none', connectionTimeoutMillis: 2000 });
    try {
      const gone = new PgCommands(nowhere, await loadPgCalendars(pool), { maxEventsPerContact: MAX_EVENTS });
      const refused = await answer(gone.addClosure({ now: NOW, calendarId: 'customer-services', closure: { from: NOW, to: NOW + HOUR }, actor: 'lead@example.org' }));
      expect(refused).toMatchObject({ error: { status: 503, code: 'database-unreachable', message: expect.stringMatching(/^database unreachable/) } });
    } finally {
      await nowhere.end();
    }
  });
});

