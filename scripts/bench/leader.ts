// Leader hand-over on a real PostgreSQL (issue 14, item 4): three real members
// (tests/fixtures/cluster-member.mts) fire a dense stream of clocks (one due every 20 ms); the leader
// is killed (SIGKILL) `rounds` times and hung (SIGSTOP) for `hangMs` once per round, a fresh member
// replacing each one taken out. For each: how long until another member leads, and until the first
// transition is stored again (the new leader's catch-up of what fell due meanwhile), both as ms and
// as a multiple of the lease (the baseline: no hand-over can beat the lease it waits out). At the
// end, every transition is checked stored once at its true instant. Bounded: ~`rounds` × (hangMs + 4 s).
//
//   npx tsx scripts/bench/leader.ts [rounds=3] [hangMs=10000] [leaseMs=800] [renewMs=200]
import pg from 'pg';
import { CLUSTER_TEST_SQL, insertRunningClocks, Member, type MemberLine } from '../lib/cluster.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';

const rounds = Number(process.argv[2] ?? 3);
const hangMs = Number(process.argv[3] ?? 10_000);
const leaseMs = Number(process.argv[4] ?? 800);
const renewMs = Number(process.argv[5] ?? 200);
const EVERY_MS = 20;

const testPg = await freshPgDatabase('kept_bench_leader');
const db = new pg.Client({ connectionString: testPg.url });
await db.connect();
const members: Member[] = [];
try {
  await db.query(CLUSTER_TEST_SQL);
  const span = rounds * (hangMs + 6000) + 15_000;
  const from = Date.now() + 3000;
  const count = Math.ceil(span / EVERY_MS);
  await insertRunningClocks(db, { count, from, everyMs: EVERY_MS, atRiskMs: 10 });
  let next = 0;
  const spawn = () => {
    const m = new Member({ url: testPg.url, name: `m${++next}`, leaseMs, renewMs });
    members.push(m);
    return m;
  };
  const live = () => members.filter((m) => m.alive);
  await Promise.all([spawn(), spawn(), spawn()].map((m) => m.waitFor((l) => l.ev === 'ready', 60_000)));

  const leader = async (): Promise<Member> => {
    for (let i = 0; i < 200; i++) {
      const r = await db.query<{ holder: string }>("SELECT holder FROM leases WHERE name = 'clocks' AND expires_at > clock_timestamp()");
      const m = live().find((x) => x.name === r.rows[0]?.holder);
      if (m !== undefined) return m;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error('no leader');
  };

  /** The next member to lead after `at`, and when it first stored a transition. */
  const takeover = async (others: Member[], at: number): Promise<{ elected: number; stored: number }> => {
    const from = new Map(others.map((m) => [m, m.lines.length]));
    const e = await Promise.any(others.map((m) => m.waitFor((l) => l.ev === 'elected', 60_000, from.get(m))));
    const m = others.find((x) => x.name === e.member)!;
    const storedLine = (l: MemberLine) => (l.ev === 'stored' && (l.n ?? 0) > 0) || (l.ev === 'log' && typeof l.m === 'string' && l.m.startsWith('stored '));
    const s = await m.waitFor(storedLine, 30_000, from.get(m));
    return { elected: e.t - at, stored: s.t - at };
  };

  const results: Array<{ what: string; elected: number; stored: number }> = [];
  for (let r = 0; r < rounds; r++) {
    await new Promise((ok) => setTimeout(ok, 1000));
    const killed = await leader();
    const killedAt = Date.now();
    killed.signal('SIGKILL');
    results.push({ what: 'SIGKILL', ...(await takeover(live().filter((m) => m !== killed), killedAt)) });
    await spawn().waitFor((l) => l.ev === 'ready', 60_000);

    await new Promise((ok) => setTimeout(ok, 1000));
    const hung = await leader();
    const stoppedAt = Date.now();
    hung.signal('SIGSTOP');
    results.push({ what: `SIGSTOP ${hangMs / 1000} s`, ...(await takeover(live().filter((m) => m !== hung), stoppedAt)) });
    await new Promise((ok) => setTimeout(ok, Math.max(0, stoppedAt + hangMs - Date.now())));
    const before = hung.lines.length;
    hung.signal('SIGCONT');
    await hung.waitFor((l) => l.ev === 'deposed', 30_000, before);
    await hung.stop();
    await spawn().waitFor((l) => l.ev === 'ready', 60_000);
  }

  const twice = await db.query('SELECT 1 FROM stored_transitions GROUP BY key, status HAVING count(*) > 1');
  const wrong = await db.query(
    `SELECT 1 FROM stored_transitions t JOIN clocks c ON t.key = c.contact_id || '/' || c.standard
      WHERE NOT ((t.status = 'at-risk' AND t.at = c.at_risk_at) OR (t.status = 'breached' AND t.at = c.due_at + 1))`,
  );
  const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stored_transitions');

  const fmt = (ms: number) => `${ms} ms (${(ms / leaseMs).toFixed(2)}× the lease)`;
  console.log(`leader hand-over: lease ${leaseMs} ms, renewal ${renewMs} ms, 3 members, a clock due every ${EVERY_MS} ms`);
  for (const x of results) console.log(`  ${x.what.padEnd(14)} another leads after ${fmt(x.elected)}; transitions stored again after ${fmt(x.stored)}`);
  for (const what of new Set(results.map((x) => x.what))) {
    const e = results.filter((x) => x.what === what).map((x) => x.elected);
    console.log(`  ${what.padEnd(14)} hand-over max ${Math.max(...e)} ms over ${e.length} round(s)`);
  }
  console.log(`  ${stored.rows[0]!.n} transitions stored; stored twice: ${twice.rows.length}; at a wrong instant: ${wrong.rows.length}`);
  if (twice.rows.length > 0 || wrong.rows.length > 0) process.exitCode = 1;
} finally {
  await Promise.all(members.map((m) => m.stop()));
  await db.end();
  await testPg.drop();
}
