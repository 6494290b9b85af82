// The change feed on a real PostgreSQL (issue 14, item 3): rows written in the writer's transaction,
// a doorbell per flush, followers on their own connections reading behind the xmin watermark.
// Every follower must deliver each committed change exactly once, never a rolled-back one, and
// nothing committed while its connection was cut.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendChanges, FeedFollower, notifyFeed, type FeedChange, type FeedEntry, type FeedFollowerOptions } from '../../server/cluster/feed.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

let db: TestPg;
let admin: pg.Pool;
const followers: FeedFollower[] = [];

beforeAll(async () => {
  db = await freshPgDatabase('kept_feed');
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  await admin.query(readFileSync(new URL('../../server/cluster/feed.sql', import.meta.url), 'utf8'));
});
afterAll(async () => {
  for (const f of followers) await f.stop();
  await admin?.end();
  await db?.drop();
});

/** A follower that records what it is given, by key (the change's contactId). */
function follow(options: Partial<FeedFollowerOptions> = {}) {
  const got: FeedEntry[] = [];
  const count = new Map<string, number>();
  const follower = new FeedFollower({
    connection: db.url,
    pruneEveryMs: 0,
    ...options,
    onChanges: (entries) => {
      for (const e of entries) {
        got.push(e);
        const k = keyOf(e);
        count.set(k, (count.get(k) ?? 0) + 1);
      }
    },
  });
  followers.push(follower);
  return { follower, got, count, has: (k: string) => count.has(k) };
}

function keyOf(e: FeedEntry): string {
  return e.kind === 'contact' ? e.payload.contactId : `${e.kind} ${JSON.stringify(e.payload)}`;
}

const change = (key: string): FeedChange => ({ kind: 'contact', payload: { contactId: key, at: Date.now(), clocks: [] } });

/** One writer's transaction: the rows, the doorbell (unless told not), COMMIT. */
async function commit(pool: pg.Pool, keys: string[], ring = true): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await appendChanges(c, keys.map(change));
    if (ring) await notifyFeed(c);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** Waits for a condition; fails naming what never happened (a deadline for a hang, not a speed test). */
async function waitFor(what: string, test: () => boolean | Promise<boolean>, deadlineMs = 30_000, explain?: () => unknown): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await test())) {
    if (Date.now() > until) throw new Error(`never happened: ${what}${explain === undefined ? '' : ` (${JSON.stringify(explain())})`}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows in feed order, as the table holds them. */
function inFeedOrder(got: FeedEntry[]): boolean {
  for (let i = 1; i < got.length; i++) {
    const a = got[i - 1]!;
    const b = got[i]!;
    const ax = BigInt(a.xid);
    const bx = BigInt(b.xid);
    if (ax > bx || (ax === bx && a.id >= b.id)) return false;
  }
  return true;
}

describe('the change feed', () => {
  it('delivers a change committed on one pool to a follower on another connection, and to the writing side, by the doorbell', async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await commit(writer, ['before-start']);
      // pollMs of a minute: within the deadline only the doorbell can bring the rows.
      const b = follow({ pollMs: 60_000 });
      const a = follow({ pollMs: 60_000 });
      await Promise.all([a.follower.start(), b.follower.start()]);
      const clock = { standard: 'email-reply', standardVersion: 'v1', calendar: 'customer-services', startedAt: 1, dueAt: 2, atRiskAt: null, status: 'running', fulfilledAt: null, endedAt: null, targetMs: 1, countedMs: 0, remainingMs: 1 };
      const c = await writer.connect();
      try {
        await c.query('BEGIN');
        await appendChanges(c, [
          { kind: 'contact', payload: { contactId: 'first', at: 5, clocks: [clock as never] } },
          { kind: 'calendar', payload: { calendars: ['customer-services'], at: 6 } },
          { kind: 'token-revoked', payload: { scope: 'api-token', id: 'crm', at: 7 } },
          { kind: 'statuses', payload: { statuses: [{ contactId: 'first', standard: 'email-reply', status: 'breached', at: 8 }] } },
        ]);
        await notifyFeed(c);
        await notifyFeed(c); // folded into one by PostgreSQL
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      for (const side of [a, b]) {
        await waitFor('four changes delivered', () => side.got.length === 4);
        expect(side.got.map((e) => e.kind)).toEqual(['contact', 'calendar', 'token-revoked', 'statuses']);
        expect(side.got[0]!.payload).toEqual({ contactId: 'first', at: 5, clocks: [clock] });
        expect(new Set(side.got.map((e) => e.xid)).size).toBe(1); // one transaction
        expect(inFeedOrder(side.got)).toBe(true);
        expect(side.has('before-start')).toBe(false); // a follower starts at the present
        const s = side.follower.status();
        expect(s.connected).toBe(true);
        expect(s.delivered).toBe(4);
        expect(s.behind).toBe(0);
        expect(s.lagMs).toBe(0);
        expect(s.notificationQueueUsage).toBeGreaterThanOrEqual(0);
        expect(s.notificationQueueUsage).toBeLessThan(1);
      }
      await a.follower.stop();
      await b.follower.stop();
    } finally {
      await writer.end();
    }
  });

  it("never delivers a rolled-back transaction's rows, nor a rolled-back savepoint's", async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    const f = follow({ pollMs: 60_000 });
    try {
      await f.follower.start();
      const c = await writer.connect();
      try {
        await c.query('BEGIN');
        await appendChanges(c, [change('rolled-back')]);
        await notifyFeed(c);
        await c.query('ROLLBACK');
        await c.query('BEGIN');
        await appendChanges(c, [change('kept-1')]);
        await c.query('SAVEPOINT job');
        await appendChanges(c, [change('savepoint-undone')]);
        await c.query('ROLLBACK TO SAVEPOINT job');
        await appendChanges(c, [change('kept-2')]);
        await notifyFeed(c);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      await commit(writer, ['marker']);
      // The marker's transaction id is above the others', and rows come in id order: once it is
      // here, the rolled-back ones have been passed.
      await waitFor('the marker delivered', () => f.has('marker'));
      expect(f.got.map(keyOf)).toEqual(['kept-1', 'kept-2', 'marker']);
    } finally {
      await f.follower.stop();
      await writer.end();
    }
  });

  it('holds rows committed behind an open transaction until it ends, then delivers both: nothing skipped as `seq > last` would', async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 3 });
    // No doorbell from the older transaction and a one-minute safety net: only the re-read while
    // rows are held back can bring its row within the deadline.
    const f = follow({ pollMs: 60_000 });
    const older = await writer.connect();
    try {
      await f.follower.start();
      await older.query('BEGIN');
      await appendChanges(older, [change('older')]); // takes its transaction id (and row id) first
      await commit(writer, ['newer']);
      const newer = await admin.query<{ id: string }>(`SELECT id::text FROM feed WHERE payload->>'contactId' = 'newer'`);
      await waitFor('a read that saw the newer row held back', () => f.follower.status().behind >= 1);
      expect(f.has('newer')).toBe(false);
      const held = f.follower.status();
      expect(held.connected).toBe(true);
      expect(held.lagMs).toBeGreaterThanOrEqual(0);
      await older.query('COMMIT');
      const olderRow = await admin.query<{ id: string }>(`SELECT id::text FROM feed WHERE payload->>'contactId' = 'older'`);
      // The older row's id is below the newer one's, but it became visible after: a reader that had
      // moved its position to the newer row's id would never have read it.
      expect(Number(olderRow.rows[0]!.id)).toBeLessThan(Number(newer.rows[0]!.id));
      await waitFor('both delivered', () => f.has('older') && f.has('newer'));
      expect(f.got.map(keyOf)).toEqual(['older', 'newer']); // transaction id order, the same on every follower
      await waitFor('caught up', () => f.follower.status().behind === 0);
      expect(f.follower.status().lagMs).toBe(0);
    } finally {
      older.release();
      await f.follower.stop();
      await writer.end();
    }
  });

  it("is not held back by a transaction left open in another database on the same server", async () => {
    const other = await freshPgDatabase('kept_feed_other');
    const stranger = new pg.Client({ connectionString: other.url });
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    const f = follow({ pollMs: 60_000 });
    try {
      await stranger.connect();
      await f.follower.start();
      await stranger.query('BEGIN');
      const xid = (await stranger.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x;
      await commit(writer, ['past-the-stranger']);
      // The plain snapshot xmin is held at or below the stranger's transaction…
      const xmin = (await admin.query<{ x: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')).rows[0]!.x;
      expect(BigInt(xmin)).toBeLessThanOrEqual(BigInt(xid));
      // …but it can write nothing here, so the change comes while it is still open.
      await waitFor('delivered past the other database', () => f.has('past-the-stranger'));
      expect(f.follower.status().behind).toBe(0);
      await stranger.query('ROLLBACK');
    } finally {
      await stranger.end();
      await f.follower.stop();
      await writer.end();
      await other.drop();
    }
  });

  it('starts at the present: skips what was committed before it, delivers what was still in flight', async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 3 });
    const inFlight = await writer.connect();
    const f = follow({ pollMs: 60_000 });
    try {
      await inFlight.query('BEGIN');
      await appendChanges(inFlight, [change('in-flight-at-start')]); // holds the xmin below what follows
      await commit(writer, ['committed-before-start']); // above that xmin, but already committed
      await f.follower.start();
      await commit(writer, ['after-start']);
      await inFlight.query('COMMIT'); // no doorbell: the held-back re-read brings it
      await waitFor('both delivered', () => f.has('in-flight-at-start') && f.has('after-start'));
      expect(f.got.map(keyOf)).toEqual(['in-flight-at-start', 'after-start']);
    } finally {
      inFlight.release();
      await f.follower.stop();
      await writer.end();
    }
  });

  it('four concurrent writers for a minute: two followers each get every committed change exactly once, none rolled back, in the same order', async () => {
    const soakMs = Number(process.env.KEPT_FEED_SOAK_MS ?? 60_000);
    const f1 = follow({ pollMs: 2_000 });
    const f2 = follow({ pollMs: 2_000, pageRows: 37 }); // small pages: paging must not drop or repeat a row
    await Promise.all([f1.follower.start(), f2.follower.start()]);
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    let heldOpen = 0;
    let silent = 0;
    const until = Date.now() + soakMs;
    const pools = [0, 1, 2, 3].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
    let n = 0;
    async function worker(pool: pg.Pool, name: string): Promise<void> {
      while (Date.now() < until) {
        const keys = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => `${name}-${n++}`);
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await appendChanges(c, keys.slice(0, 1).map(change));
          if (Math.random() < 0.05) {
            // Held open while the others commit: their rows must wait for it, not pass it.
            heldOpen++;
            await sleep(50 + Math.random() * 300);
          } else {
            await sleep(Math.random() * 3);
          }
          await appendChanges(c, keys.slice(1).map(change));
          if (Math.random() < 0.05) {
            await c.query('ROLLBACK');
            for (const k of keys) rolledBack.add(k);
            continue;
          }
          // Some flushes ring no bell (a crash between COMMIT and NOTIFY cannot happen, but a lost
          // notification can): the safety net and the held-back re-reads must still bring them.
          if (Math.random() < 0.9) await notifyFeed(c);
          else silent++;
          await c.query('COMMIT');
          for (const k of keys) committed.add(k);
        } finally {
          c.release();
        }
        await sleep(Math.random() * 4);
      }
    }
    try {
      await Promise.all(pools.flatMap((p, w) => [worker(p, `w${w}a`), worker(p, `w${w}b`)]));
      for (const f of [f1, f2]) {
        await waitFor(`every committed change delivered (${committed.size})`, () => [...committed].every((k) => f.has(k)));
        const dup = [...f.count].filter(([, c]) => c !== 1);
        expect(dup).toEqual([]);
        expect([...rolledBack].filter((k) => f.has(k))).toEqual([]);
        expect(f.count.size).toBe(committed.size);
        expect(inFeedOrder(f.got)).toBe(true);
      }
      expect(f2.got.map((e) => `${e.xid}/${e.id}`)).toEqual(f1.got.map((e) => `${e.xid}/${e.id}`));
      // The run exercised what it claims to.
      expect(committed.size).toBeGreaterThan(soakMs / 60); // over 1,000 in the minute
      expect(heldOpen).toBeGreaterThan(0);
      expect(rolledBack.size).toBeGreaterThan(0);
      expect(silent).toBeGreaterThan(0);
      console.log(`feed soak: ${committed.size} changes committed by 4 writers in ${soakMs} ms, ${rolledBack.size} rolled back, ${heldOpen} transactions held open, ${silent} flushes without a doorbell; each follower delivered ${f1.got.length} / ${f2.got.length}`);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await f1.follower.stop();
      await f2.follower.stop();
    }
  });

  it('reconnects after its listening connection is killed and delivers everything committed in the gap, once', async () => {
    // A back-off long enough that the commits below land while it is away.
    const f = follow({ pollMs: 60_000, reconnectMs: { first: 1_500, max: 3_000 } });
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    let i = 0;
    let stop = false;
    let inGap = 0;
    const keys: string[] = [];
    try {
      await f.follower.start();
      const writing = (async () => {
        while (!stop) {
          const k = `gap-${i++}`;
          const away = !f.follower.status().connected;
          await commit(writer, [k]);
          keys.push(k);
          if (away) inGap++;
          await sleep(2);
        }
      })();
      await waitFor('some changes delivered before the cut', () => f.got.length >= 20);
      const pid = f.follower.pid;
      expect(pid).not.toBeNull();
      const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
      expect(killed.rows[0]!.ok).toBe(true);
      await waitFor('the follower noticed', () => !f.follower.status().connected);
      expect(f.follower.status().lagMs).toBeGreaterThanOrEqual(0);
      await waitFor('reconnected', () => f.follower.status().connected && f.follower.status().reconnects >= 1);
      const atReconnect = keys.length;
      await waitFor('more commits after the reconnect', () => keys.length >= atReconnect + 20);
      stop = true;
      await writing;
      await waitFor(`every committed change delivered (${keys.length})`, () => keys.every((k) => f.has(k)), 30_000, () => ({
        status: f.follower.status(),
        missing: keys.filter((k) => !f.has(k)).slice(0, 5),
        inGap,
      }));
      expect([...f.count].filter(([, c]) => c !== 1)).toEqual([]);
      expect(f.count.size).toBe(keys.length);
      expect(inFeedOrder(f.got)).toBe(true);
      expect(inGap).toBeGreaterThan(0); // some were committed while the follower was cut off
      expect(f.follower.status().lastError).not.toBeNull();
      expect(f.follower.pid).not.toBe(pid);
    } finally {
      stop = true;
      await f.follower.stop();
      await writer.end();
    }
  });

  it('keeps trying when the database cannot be reached at start, and is ready once it can', async () => {
    // A database that does not exist yet: every attempt fails until it is created.
    const base = new URL(db.url);
    const name = `${db.name}_late`;
    base.pathname = `/${name}`;
    const f = follow({ connection: base.toString(), pollMs: 60_000, reconnectMs: { first: 50, max: 200 } });
    const adminUrl = new URL(db.url);
    let ready = false;
    const starting = f.follower.start().then(() => {
      ready = true;
    });
    try {
      await waitFor('a few failed attempts', () => f.follower.status().reconnects >= 2);
      expect(ready).toBe(false);
      expect(f.follower.status().connected).toBe(false);
      expect(f.follower.status().lastError).toContain('does not exist');
      await admin.query(`CREATE DATABASE ${name}`);
      const late = new pg.Client({ connectionString: base.toString() });
      await late.connect();
      try {
        await late.query(readFileSync(new URL('../../server/cluster/feed.sql', import.meta.url), 'utf8'));
        await starting;
        expect(f.follower.status().connected).toBe(true);
        await late.query('BEGIN');
        await appendChanges(late, [change('once-reachable')]);
        await notifyFeed(late);
        await late.query('COMMIT');
        await waitFor('delivered', () => f.has('once-reachable'));
      } finally {
        await late.end();
      }
    } finally {
      await f.follower.stop();
      adminUrl.pathname = '/postgres';
      const c = new pg.Client({ connectionString: adminUrl.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    }
  });

  it('prunes what every reader has read in bounded batches, and rows past the retention; a reader left behind reloads', async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    await admin.query('DELETE FROM feed'); // the earlier tests' rows: this one counts its own
    const f = follow({ pollMs: 60_000, pruneBatch: 100 });
    try {
      await f.follower.start();
      const start = f.follower.currentPosition()!;
      await commit(writer, Array.from({ length: 250 }, (_, i) => `bulk-${i}`));
      await waitFor('the bulk delivered', () => f.got.length === 250);
      const before = Number((await admin.query('SELECT count(*) AS n FROM feed')).rows[0].n);
      const pruned = await f.follower.maintain();
      // Every row is below this follower's position and the earlier followers are gone (stopped):
      // all go, 100 per statement.
      expect(pruned.rows).toBe(before);
      expect(pruned.batches).toBe(Math.floor(before / 100) + 1);
      expect(Number((await admin.query('SELECT count(*) AS n FROM feed')).rows[0].n)).toBe(0);
      const readers = await admin.query<{ reader: string }>('SELECT reader FROM feed_readers');
      expect(readers.rows.map((r) => r.reader)).toEqual([f.follower.reader]);

      // A reader whose position lies before the pruned rows: it is told to reload, then follows on.
      const gaps: number[] = [];
      const late = follow({ pollMs: 60_000, from: start, onGap: () => void gaps.push(1) });
      await late.follower.start();
      expect(gaps.length).toBe(1);
      expect(late.got.length).toBe(0);
      await commit(writer, ['after-gap']);
      await waitFor('the late reader follows on', () => late.has('after-gap'));
      expect(late.follower.status().gaps).toBe(1);
      await late.follower.stop();
      await waitFor('the first reader has it too', () => f.has('after-gap'));
      expect((await f.follower.maintain()).rows).toBe(1);

      // Retention: a reader that reads nothing holds rows back, except those older than the retention.
      await admin.query(`INSERT INTO feed_readers (reader, watermark) VALUES ('stuck', '1')`);
      const c = await writer.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO feed (kind, payload, written_at) SELECT 'contact', jsonb_build_object('contactId', 'old-' || g), now() - interval '2 hours' FROM generate_series(1, 3) g`);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      await commit(writer, ['young-1', 'young-2']);
      await waitFor('young rows delivered', () => f.has('young-2'));
      const f2 = follow({ pollMs: 60_000, retentionMs: 3_600_000 });
      await f2.follower.start();
      const r = await f2.follower.maintain();
      expect(r.rows).toBe(3);
      const left = await admin.query<{ k: string }>(`SELECT payload->>'contactId' AS k FROM feed ORDER BY xid, id`);
      expect(left.rows.map((x) => x.k)).toEqual(['young-1', 'young-2']);
      await f2.follower.stop();
    } finally {
      await f.follower.stop();
      await writer.end();
    }
  });
  it('a position beyond every transaction the database has begun (restored to an earlier point): told to reload, then follows from the present', async () => {
    const writer = new pg.Pool({ connectionString: db.url, max: 2 });
    // What an instance holds after the database is put back to a point before its position: the
    // position's transaction id is one the restored database has not handed out.
    const xmax = BigInt((await admin.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x')).rows[0]!.x);
    const gaps: number[] = [];
    const f = follow({ pollMs: 60_000, from: { xid: (xmax + 1_000_000n).toString(), id: 7 }, onGap: () => void gaps.push(1) });
    try {
      await f.follower.start();
      expect(gaps.length).toBe(1);
      expect(f.follower.status().gaps).toBe(1);
      expect(BigInt(f.follower.currentPosition()!.xid)).toBeLessThanOrEqual(xmax + 10n);
      await commit(writer, ['after-restore']);
      await waitFor('written after the restore, delivered', () => f.has('after-restore'));
      expect(f.count.get('after-restore')).toBe(1);
      expect(gaps.length).toBe(1); // not told again
    } finally {
      await f.follower.stop();
      await writer.end();
    }
  });
});
