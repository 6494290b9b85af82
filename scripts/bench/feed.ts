// Bench: the change feed (issue 14, item 3) on the machine's PostgreSQL, short and bounded.
// 1. Commit on pool A → delivery to a FeedFollower on its own connection: p50/p99, one writer at a
//    time, then four writers at once (rows wait behind the others' open transactions).
// 2. What the feed costs the writer: commits/s of Kept-shaped transactions without the feed, with
//    the feed rows only, and with the rows and the doorbell; one contact per transaction and a
//    20-contact flush (the set-based writer's shape). Same run, ratios against "no feed".
// 3. What `seq > last` would have lost over the same run: a poller following the feed's identity.
// Run: npx tsx scripts/bench/feed.ts [seconds per throughput phase, default 3]
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { appendChanges, contactFeed, FeedFollower, notifyFeed, type FeedChange } from '../../server/cluster/feed.js';
import type { Clock } from '../../server/domain/model.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';

const phaseMs = Number(process.argv[2] ?? 3) * 1000;
// KEPT_FEED_BENCH=latency: the latency part only.
const latencyOnly = process.env.KEPT_FEED_BENCH === 'latency';
const CONCURRENCY = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

// Two clocks as the engine stores them: the feed row's payload is about this size in Kept.
function clocksOf(now: number): Clock[] {
  const c = (standard: string, target: number): Clock => ({
    standard, standardVersion: `${standard}@2025-01`, calendar: 'customer-services', startedAt: now, dueAt: now + target,
    atRiskAt: now + target * 0.8, status: 'running', fulfilledAt: null, endedAt: null, targetMs: target, countedMs: 0, remainingMs: target,
  });
  return [c('email-reply', 86_400_000), c('complaint-acknowledge', 172_800_000)];
}

const db = await freshPgDatabase('kept_bench_feed');
const admin = new pg.Pool({ connectionString: db.url, max: 2 });
// The database is dropped WITH (FORCE) at the end: a pooled connection cut then is expected.
admin.on('error', () => undefined);
try {
  await admin.query(readFileSync(new URL('../../server/cluster/feed.sql', import.meta.url), 'utf8'));
  // Kept-shaped rows: a contact, its events and clocks, with an index each like the store's.
  await admin.query(`
    CREATE TABLE contacts (id text PRIMARY KEY, channel text NOT NULL, received_at bigint NOT NULL, customer jsonb, subject text);
    CREATE INDEX contacts_received ON contacts (received_at);
    CREATE TABLE clocks (contact_id text NOT NULL, standard text NOT NULL, status text NOT NULL, due_at bigint, PRIMARY KEY (contact_id, standard));
    CREATE INDEX clocks_open_due ON clocks (due_at) WHERE status IN ('running', 'at-risk');`);

  /** One flush of `n` contacts: set-based inserts, then (as asked) the feed rows and the doorbell. */
  async function flush(c: pg.PoolClient, n: number, feed: 'none' | 'rows' | 'rows+notify', onBeforeCommit?: (ids: string[]) => void): Promise<string[]> {
    const now = Date.now();
    const ids = Array.from({ length: n }, () => randomUUID());
    await c.query('BEGIN');
    await c.query(
      `INSERT INTO contacts (id, channel, received_at, customer, subject) SELECT id, 'email', $2, '{"name":"A Tester"}', 'Repair' FROM unnest($1::text[]) AS t(id)`,
      [ids, now],
    );
    await c.query(
      `INSERT INTO clocks (contact_id, standard, status, due_at) SELECT id, s, 'running', $2 FROM unnest($1::text[]) AS t(id), unnest(ARRAY['email-reply', 'complaint-acknowledge']) AS s`,
      [ids, now + 86_400_000],
    );
    if (feed !== 'none') {
      const clocks = clocksOf(now);
      const changes: FeedChange[] = contactFeed(ids.map((id) => ({ contactId: id, at: now, clocks, contact: null as never })));
      await appendChanges(c, changes);
      if (feed === 'rows+notify') await notifyFeed(c);
    }
    onBeforeCommit?.(ids);
    await c.query('COMMIT');
    return ids;
  }

  // --- 1. latency ---------------------------------------------------------------------------
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let record = true;
  const follower = new FeedFollower({
    connection: db.url,
    pruneEveryMs: 0,
    onChanges: (entries) => {
      const t = performance.now();
      for (const e of entries) {
        if (e.kind !== 'contact') continue;
        const s = sentAt.get(e.payload.contactId);
        if (s === undefined) continue;
        sentAt.delete(e.payload.contactId);
        if (record) latencies.push(t - s);
      }
    },
  });
  await follower.start();
  const poolA = new pg.Pool({ connectionString: db.url, max: CONCURRENCY });
  poolA.on('error', () => undefined);

  async function latencyRun(writers: number, commits: number): Promise<{ p50: number; p99: number; max: number; n: number }> {
    latencies.length = 0;
    let left = commits;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        const c = await poolA.connect();
        try {
          while (left-- > 0) {
            // Measured from the moment COMMIT is sent: delivery cannot come before it.
            await flush(c, 1, 'rows+notify', (ids) => sentAt.set(ids[0]!, performance.now()));
            await sleep(Math.random() * 4);
          }
        } finally {
          c.release();
        }
      }),
    );
    const deadline = Date.now() + 10_000;
    while (sentAt.size > 0 && Date.now() < deadline) await sleep(5);
    if (sentAt.size > 0) throw new Error(`${sentAt.size} commits never delivered`);
    return { p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies), n: latencies.length };
  }

  await latencyRun(1, 50); // warm-up
  const one = await latencyRun(1, 600);
  const four = await latencyRun(4, 1200);
  console.log(`commit → delivery, one writer:   p50 ${ms(one.p50)}, p99 ${ms(one.p99)}, max ${ms(one.max)} (${one.n} commits)`);
  console.log(`commit → delivery, four writers: p50 ${ms(four.p50)}, p99 ${ms(four.p99)}, max ${ms(four.max)} (${four.n} commits)`);
  record = false;
  // A labelled block, so the latency-only run still stops, closes and drops the database below.
  throughputPart: {
    if (latencyOnly) break throughputPart;

    // --- 2. throughput, 3. what seq > last loses -------------------------------------------------
    async function throughput(perFlush: number, feed: 'none' | 'rows' | 'rows+notify', writers: number): Promise<number> {
      const until = Date.now() + phaseMs;
      let contacts = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          const c = await poolA.connect();
          try {
            while (Date.now() < until) {
              await flush(c, perFlush, feed);
              contacts += perFlush;
            }
          } finally {
            c.release();
          }
        }),
      );
      return contacts / (phaseMs / 1000);
    }

    // A reader the naive way, beside the real follower, during the per-commit phases.
    let naiveLast = 0;
    const naiveSeen = new Set<number>();
    let naiveOn = true;
    const naiveConn = new pg.Client({ connectionString: db.url });
    await naiveConn.connect();
    naiveLast = Number((await naiveConn.query('SELECT coalesce(max(id), 0) AS m FROM feed')).rows[0].m);
    const naiveFrom = naiveLast;
    const naive = (async () => {
      while (naiveOn) {
        const r = await naiveConn.query<{ id: string }>('SELECT id::text FROM feed WHERE id > $1 ORDER BY id', [naiveLast]);
        for (const row of r.rows) {
          const id = Number(row.id);
          naiveSeen.add(id);
          naiveLast = Math.max(naiveLast, id);
        }
        await sleep(1);
      }
    })();

    // Eight writers committing one contact each: the worst case for the doorbell's lock. Two writers
    // flushing 20 contacts: Kept's shape, one group-commit writer per instance, two instances.
    const variants: Array<{ name: string; perFlush: number; writers: number; feed: 'none' | 'rows' | 'rows+notify' }> = [
      { name: '8 writers, 1 contact per commit, no feed', perFlush: 1, writers: CONCURRENCY, feed: 'none' },
      { name: '8 writers, 1 contact per commit, feed rows', perFlush: 1, writers: CONCURRENCY, feed: 'rows' },
      { name: '8 writers, 1 contact per commit, rows + NOTIFY', perFlush: 1, writers: CONCURRENCY, feed: 'rows+notify' },
      { name: '2 writers, 20-contact flush, no feed', perFlush: 20, writers: 2, feed: 'none' },
      { name: '2 writers, 20-contact flush, feed rows', perFlush: 20, writers: 2, feed: 'rows' },
      { name: '2 writers, 20-contact flush, rows + NOTIFY', perFlush: 20, writers: 2, feed: 'rows+notify' },
    ];
    const results = new Map<string, number[]>();
    // Two rounds, interleaved: the machine is shared, so a phase's neighbour changes between rounds.
    for (let round = 0; round < 2; round++) {
      for (const v of variants) {
        const rate = await throughput(v.perFlush, v.feed, v.writers);
        results.set(v.name, [...(results.get(v.name) ?? []), rate]);
      }
    }
    naiveOn = false;
    await naive;
    // Once every writer is done, the naive reader's last pass and the table agree on what committed.
    const all = await naiveConn.query<{ id: string }>('SELECT id::text FROM feed WHERE id > $1', [naiveFrom]);
    const lost = all.rows.filter((r) => !naiveSeen.has(Number(r.id))).length;
    await naiveConn.end();

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const base1 = mean(results.get(variants[0]!.name)!);
    const base20 = mean(results.get(variants[3]!.name)!);
    console.log(`\nthroughput, ${phaseMs / 1000} s per phase, two interleaved rounds (mean; ratio against the same writers without the feed):`);
    for (const v of variants) {
      const r = mean(results.get(v.name)!);
      const base = v.perFlush === 1 ? base1 : base20;
      console.log(`  ${v.name.padEnd(46)} ${r.toFixed(0).padStart(7)} contacts/s  ×${(r / base).toFixed(2)} (rounds: ${results.get(v.name)!.map((x) => x.toFixed(0)).join(', ')})`);
    }
    console.log(`\n'seq > last' reader over the same phases: lost ${lost} of ${all.rows.length} feed rows (${((100 * lost) / Math.max(1, all.rows.length)).toFixed(3)}%); the follower: ${follower.status().delivered} delivered, lag now ${follower.status().lagMs} ms`);
  }
  await follower.stop();
  await poolA.end();
} finally {
  await admin.end();
  await db.drop();
}
