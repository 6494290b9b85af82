// 100,000 breaches over one minute with three instances (issue 14's benchmark list), the last phase
// of `npm run bench:scale`: three real members (tests/fixtures/cluster-member.mts) on a fresh
// PostgreSQL database each arm the same 100,000 running clocks, due over one minute from ~10 s after
// they are armed (loading is not measured). Every member fires every clock on its own scheduler (as
// every instance updates its own boards) and counts how late each firing came; the leader stores the
// transitions, fenced, and counts how long each store took. The baseline, measured first in the same
// run on the same clocks: one member alone. Then the database's trigger table says how many
// transitions were stored, whether any clock was stored twice or at a wrong instant, and
// pg_stat_database whether any deadlock happened. Bounded: two phases of at most ~1 min 50 s each
// (16 s lead, 60 s of breaches, up to 25 s for the last stores, 5 s to stop); 127.0.0.1 only.
//
//   npx tsx scripts/bench/breaches.ts      (or npm run bench:scale -- --only breaches)
//
//   BENCH_BREACHES            clocks (default 100000)
//   BENCH_BREACHES_SPREAD_MS  over how long they fall due (default 60000)
//   BENCH_BREACHES_LEAD_MS    from the clocks written to the first due instant (default 16000: the
//                             members start and arm in 3–6 s on a busy machine, so ~10 s before the first is due)
//   KEPT_TEST_PG_URL          the server to use (a fresh database is made and dropped per phase)
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { CLUSTER_TEST_SQL, insertRunningClocks, Member, type MemberSummary } from '../lib/cluster.js';
import { merged, quantile, total, type MsCounts } from '../lib/histogram.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';
import { backendCpu, backendCpuUsed } from './scale/cpu.js';

const COUNT = Number(process.env.BENCH_BREACHES ?? 100_000);
const SPREAD_MS = Number(process.env.BENCH_BREACHES_SPREAD_MS ?? 60_000);
const LEAD_MS = Number(process.env.BENCH_BREACHES_LEAD_MS ?? 16_000);
const INSTANCES = 3;
/** After the last due instant, how long the leader may take to store the last transitions. */
const DRAIN_MS = 25_000;
const TARGET_LATE_P99 = 250;

interface MemberResult {
  name: string;
  summary: MemberSummary | undefined;
  elected: number;
  /** Lines that say something went wrong: a failed or fenced store, a step-down, a warning or error, stderr. */
  trouble: string[];
}

interface PhaseResult {
  instances: number;
  members: MemberResult[];
  /** From the last member ready to the first due instant, ms (loading overlapped the firings when small). */
  margin: number;
  stored: number;
  twice: number;
  wrongInstant: number;
  /** The trigger's clock at each stored transition − the clock's instant, ms (one clock for both: the same machine). */
  storedLate: { p50: number; p99: number; max: number };
  /** From the last due instant to the last transition stored, ms (null: never drained). */
  drainMs: number | null;
  deadlocks: number;
  dbCpuMs: number;
}

const sleepUntil = (at: number) => new Promise((ok) => setTimeout(ok, Math.max(0, at - Date.now())));
const int = (v: number) => Math.round(v).toLocaleString('en-GB');
const ms = (v: number) => (Number.isNaN(v) ? '—' : `${int(v)} ms`);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const late = (p: PhaseResult) => merged(...p.members.map((m) => m.summary?.late ?? []));
const store = (p: PhaseResult) => merged(...p.members.map((m) => m.summary?.store ?? []));
const worstLateP99 = (p: PhaseResult) => Math.max(...p.members.map((m) => quantile(m.summary?.late ?? [], 0.99)));

/** Its trouble lines before it was asked to stop (`upTo` lines; the stop's own step-down is no trouble). */
function troubleOf(m: Member, upTo: number): string[] {
  const lines = m.lines
    .slice(0, upTo)
    .filter((l) => l.ev === 'failed' || l.ev === 'fenced' || l.ev === 'deposed' || (l.ev === 'log' && l.level !== 'info'))
    .map((l) => `${l.ev}: ${JSON.stringify({ ...l, t: undefined, ev: undefined, member: undefined })}`);
  return m.stderr.trim() === '' ? lines : [...lines, `stderr: ${m.stderr.trim()}`];
}

async function storedFigures(db: pg.Pool): Promise<Pick<PhaseResult, 'stored' | 'twice' | 'wrongInstant' | 'storedLate' | 'deadlocks'>> {
  const [stored, twice, wrong, lateness, deadlocks] = await Promise.all([
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM stored_transitions'),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT key FROM stored_transitions GROUP BY key HAVING count(*) > 1) AS t'),
    db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stored_transitions t JOIN clocks c ON t.key = c.contact_id || '/' || c.standard
        WHERE t.status <> 'breached' OR t.at <> c.due_at + 1`,
    ),
    db.query<{ p50: number | null; p99: number | null; max: number | null }>(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY l) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY l) AS p99, max(l) AS max
         FROM (SELECT extract(epoch FROM stored_at) * 1000 - at AS l FROM stored_transitions) AS s`,
    ),
    db.query<{ n: number }>('SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()'),
  ]);
  const l = lateness.rows[0]!;
  return {
    stored: stored.rows[0]!.n,
    twice: twice.rows[0]!.n,
    wrongInstant: wrong.rows[0]!.n,
    storedLate: { p50: Number(l.p50 ?? NaN), p99: Number(l.p99 ?? NaN), max: Number(l.max ?? NaN) },
    deadlocks: deadlocks.rows[0]?.n ?? 0,
  };
}

/** Waits until every clock's transition is stored (or the drain's bound): when the last one was, ms after `lastDue`. */
async function drained(db: pg.Pool, lastDue: number): Promise<number | null> {
  const bound = lastDue + DRAIN_MS;
  for (;;) {
    const r = await db.query<{ n: number; last: number | null }>('SELECT count(*)::int AS n, (extract(epoch FROM max(stored_at)) * 1000)::float8 AS last FROM stored_transitions');
    const { n, last } = r.rows[0]!;
    if (n >= COUNT) return last === null ? null : Math.round(last - lastDue);
    if (Date.now() >= bound) return null;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** One phase: `instances` members on a fresh database with the clocks. */
async function phase(instances: number): Promise<PhaseResult> {
  const testPg = await freshPgDatabase('kept_bench_breaches');
  const db = new pg.Pool({ connectionString: testPg.url, max: 1 });
  const members: Member[] = [];
  try {
    await db.query(CLUSTER_TEST_SQL);
    const from = Date.now() + LEAD_MS;
    const everyMs = SPREAD_MS / COUNT;
    await insertRunningClocks(db, { count: COUNT, from, everyMs, atRiskMs: null });
    const lastDue = from + Math.floor((COUNT - 1) * everyMs) + 1;
    for (let i = 1; i <= instances; i++) members.push(new Member({ url: testPg.url, name: `m${i}` }));
    const ready = await Promise.all(members.map((m) => m.waitFor((l) => l.ev === 'ready', Math.max(1000, from - Date.now()))));
    for (const r of ready) if (r.clocks !== COUNT) throw new Error(`${r.member} armed ${String(r.clocks)} clocks, not ${COUNT}`);
    const margin = from - Math.max(...ready.map((r) => r.t));
    await sleepUntil(from);
    const cpuBefore = await backendCpu(db);
    await sleepUntil(lastDue);
    const drainMs = await drained(db, lastDue);
    const dbCpuMs = backendCpuUsed(cpuBefore, await backendCpu(db));
    const upTo = members.map((m) => m.lines.length);
    await Promise.all(members.map((m) => m.stop()));
    return {
      instances,
      members: members.map((m, i) => ({ name: m.name, summary: m.summary(), elected: m.lines.filter((l) => l.ev === 'elected').length, trouble: troubleOf(m, upTo[i]!) })),
      margin,
      drainMs,
      dbCpuMs,
      ...(await storedFigures(db)),
    };
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await db.end();
    await testPg.drop();
  }
}

function memberRow(label: string, m: MemberResult): string {
  const s = m.summary;
  const l: MsCounts = s?.late ?? [];
  const st: MsCounts = s?.store ?? [];
  const storeCells = total(st) === 0 ? '— | — | — | —' : `${int(total(st))} | ${ms(quantile(st, 0.5))} | ${ms(quantile(st, 0.99))} | ${ms(quantile(st, 1))}`;
  return `| ${label} | ${m.name} | ${s === undefined ? 'no summary' : int(s.fired)} | ${ms(quantile(l, 0.5))} | ${ms(quantile(l, 0.99))} | ${ms(quantile(l, 1))} | ${m.elected} | ${storeCells} |`;
}

function report(base: PhaseResult, three: PhaseResult, startLoad: number[], seconds: number): void {
  const phases: Array<[string, PhaseResult]> = [
    ['one member alone (baseline)', base],
    [`${INSTANCES} members`, three],
  ];
  console.log('');
  console.log('| phase | member | fired | fired late p50 | p99 | max | elected | stores | store p50 | p99 | max |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, p] of phases) for (const m of p.members) console.log(memberRow(label, m));
  console.log('');
  console.log('| phase | stored / clocks | stored twice | at a wrong instant | stored late p50 / p99 / max (trigger clock − instant) | last stored after the last due instant | deadlocks | trouble lines | PostgreSQL CPU (first due → drained) | armed before the first due instant |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, p] of phases) {
    const trouble = p.members.reduce((n, m) => n + m.trouble.length, 0);
    console.log(
      `| ${label} | ${int(p.stored)} / ${int(COUNT)} | ${p.twice} | ${p.wrongInstant} | ${ms(p.storedLate.p50)} / ${ms(p.storedLate.p99)} / ${ms(p.storedLate.max)} | ${p.drainMs === null ? `not within ${DRAIN_MS / 1000} s` : ms(p.drainMs)} | ${p.deadlocks} | ${trouble} | ${(p.dbCpuMs / 1000).toFixed(1)} s (${Math.round((p.dbCpuMs * 1000) / Math.max(1, p.stored))} µs per transition) | ${(p.margin / 1000).toFixed(1)} s |`,
    );
  }
  for (const [label, p] of phases) for (const m of p.members) for (const t of m.trouble.slice(0, 5)) console.log(`  ${label}, ${m.name}: ${t}`);

  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
  const lateAll = late(three);
  const worst = worstLateP99(three);
  console.log('');
  console.log(
    `Three members / one alone (same run, same clocks): fired late p99 ${ratio(worst, worstLateP99(base))} (worst member ${ms(worst)} vs ${ms(worstLateP99(base))}; all firings of the three: p50 ${ms(quantile(lateAll, 0.5))}, p99 ${ms(quantile(lateAll, 0.99))}); ` +
      `leader's store p99 ${ratio(quantile(store(three), 0.99), quantile(store(base), 0.99))}; stored late p99 ${ratio(three.storedLate.p99, base.storedLate.p99)}; PostgreSQL CPU ${ratio(three.dbCpuMs, base.dbCpuMs)}.`,
  );
  const leaders = three.members.reduce((n, m) => n + m.elected, 0);
  const deadlockLines = phases.flatMap(([, p]) => p.members.flatMap((m) => m.trouble)).filter((t) => /deadlock/i.test(t)).length;
  const everyFired = three.members.every((m) => m.summary?.fired === COUNT);
  console.log(`Fired late p99 ≤ ${TARGET_LATE_P99} ms on every member: ${verdict(worst <= TARGET_LATE_P99)} (worst member ${ms(worst)}).`);
  console.log(`Exactly one stored transition per clock: ${verdict(three.stored === COUNT && three.twice === 0 && three.wrongInstant === 0)} (${int(three.stored)} of ${int(COUNT)} stored, ${three.twice} stored twice, ${three.wrongInstant} at a wrong instant; every member fired all ${int(COUNT)}: ${everyFired ? 'yes' : 'NO'}; ${leaders} election(s)).`);
  console.log(`No deadlock: ${verdict(three.deadlocks === 0 && base.deadlocks === 0 && deadlockLines === 0)} (pg_stat_database: ${base.deadlocks} alone, ${three.deadlocks} with three; ${deadlockLines} line(s) mentioning one).`);
  const end = loadavg();
  console.log(`Load average ${startLoad.map((v) => v.toFixed(2)).join(' / ')} at the start, ${end.map((v) => v.toFixed(2)).join(' / ')} at the end; ${seconds.toFixed(0)} s in all.`);
}

/** Both phases and the report. */
export async function runBreaches(): Promise<void> {
  const started = Date.now();
  const startLoad = loadavg();
  console.log(`bench:breaches — ${int(COUNT)} breaches due over ${SPREAD_MS / 1000} s from ${LEAD_MS / 1000} s after the clocks are written; one member alone, then ${INSTANCES}; load average ${startLoad.map((v) => v.toFixed(2)).join(' / ')}`);
  const base = await phase(1);
  console.log(`one member alone: ${int(base.stored)} stored`);
  const three = await phase(INSTANCES);
  console.log(`${INSTANCES} members: ${int(three.stored)} stored`);
  report(base, three, startLoad, (Date.now() - started) / 1000);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runBreaches();
