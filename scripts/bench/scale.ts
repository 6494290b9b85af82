// `npm run bench:scale` (issue 14): the set-based PostgreSQL writer alone, 50 concurrent callers each
// waiting for its durable acknowledgement, against the SQLite GroupCommitWriter with the same
// contacts measured in the same run; then one and two writer processes sharing one PostgreSQL.
// The phases alternate round by round, so a machine that gets busier or quieter meanwhile weighs
// on all of them alike. Then POST /api/v1/contacts end to end on real Kept processes, one on SQLite
// against two on one PostgreSQL, and 1,000 boards on one instance hearing commits on the other
// (scripts/bench/scale/http.ts). Last, 100,000 breaches over one minute with three instances
// (scripts/bench/breaches.ts). `--only writer`, `--only http` or `--only breaches` runs one part alone.
//
//   npm run bench:scale [-- --only writer|http|breaches]
//   BENCH_CONTACTS    contacts per instance, phase and round (default 5000)
//   BENCH_ROUNDS      rounds (default 2)
//   BENCH_CONCURRENCY callers per instance (default 50)
//   KEPT_TEST_PG_URL  the server to use (default postgres://postgres@127.0.0.1:5432/test; a fresh database is made and dropped)
//   (the HTTP part's own settings: scripts/bench/scale/http.ts)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { openDatabase } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';
import { backendCpu, backendCpuUsed, processCpuMs } from './scale/cpu.js';
import { commands, drive, percentile, type LoadResult } from './scale/load.js';
import type { ChildReport } from './scale/writer-child.js';
import { runBreaches } from './breaches.js';
import { runHttp } from './scale/http.js';

const COUNT = Number(process.env.BENCH_CONTACTS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Math.min(1000, Math.ceil(COUNT / 10));
const TARGET_RATE = 5000;
const TARGET_P99 = 20;
const TARGET_TWO = 1.8;

/** One phase of one round, as measured. */
interface Run {
  result: LoadResult;
  commits: number;
  /** CPU ms of the writer's process(es) and of the PostgreSQL backends serving them. */
  clientCpuMs: number;
  dbCpuMs: number;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const int = (v: number) => Math.round(v).toLocaleString('en-GB');
const rate = (r: LoadResult) => r.acknowledged / r.seconds;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function sqliteRound(round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-bench-scale-'));
  const connection = openDatabase(join(dir, 'kept.db'));
  try {
    new CalendarStore(connection.sqlite).seed(Date.now());
    const runner = new InlineRunner(connection.sqlite, { maxEventsPerContact: 200 });
    await drive((c) => runner.run('create-contact', c), commands(`sqlite-warm-${round}`, WARMUP), CONCURRENCY);
    const work = commands(`sqlite-${round}`, COUNT);
    const before = { commits: runner.commits, cpu: process.cpuUsage() };
    const result = await drive((c) => runner.run('create-contact', c), work, CONCURRENCY);
    return { result, commits: runner.commits - before.commits, clientCpuMs: processCpuMs(before.cpu), dbCpuMs: 0 };
  } finally {
    connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `inFlight`: flushes in flight at once (the writer's default 2; 1 is how it ran before 2026-12-04, the same run's baseline). */
async function pgRound(url: string, observer: pg.Pool, round: number, inFlight?: number): Promise<Run> {
  const { pool } = await openPostgres(url, { max: 4, migrate: false });
  try {
    const writer = await PgGroupCommitWriter.open(pool, inFlight === undefined ? {} : { inFlight });
    const tag = `pg${inFlight ?? ''}`;
    await drive((c) => writer.createContact(c), commands(`${tag}-warm-${round}`, WARMUP), CONCURRENCY);
    const work = commands(`${tag}-${round}`, COUNT);
    const before = { commits: writer.commits, cpu: process.cpuUsage(), db: await backendCpu(observer) };
    const result = await drive((c) => writer.createContact(c), work, CONCURRENCY);
    const clientCpuMs = processCpuMs(before.cpu);
    return { result, commits: writer.commits - before.commits, clientCpuMs, dbCpuMs: backendCpuUsed(before.db, await backendCpu(observer)) };
  } finally {
    await pool.end();
  }
}

/** `n` writer processes on the same database, released at the same instant. */
async function processRound(url: string, observer: pg.Pool, n: number, tag: string): Promise<{ reports: ChildReport[]; dbCpuMs: number }> {
  const children: ChildProcess[] = [];
  const ready: Array<Promise<void>> = [];
  const done: Array<Promise<ChildReport>> = [];
  for (let i = 0; i < n; i++) {
    const child = fork(join(import.meta.dirname, 'scale', 'writer-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    let onReady!: () => void;
    ready.push(new Promise<void>((resolve) => (onReady = resolve)));
    done.push(
      new Promise<ChildReport>((resolve, reject) => {
        child.on('message', (m: { type: string; report?: ChildReport; message?: string }) => {
          if (m.type === 'ready') onReady();
          else if (m.type === 'done') resolve(m.report!);
          else if (m.type === 'error') reject(new Error(`writer process ${i}: ${m.message}`));
        });
        child.on('exit', (code) => (code !== 0 ? reject(new Error(`writer process ${i} exited with ${code}`)) : undefined));
      }),
    );
    child.send({ url, prefix: `${tag}-${i}`, count: COUNT, warmup: WARMUP, concurrency: CONCURRENCY });
  }
  await Promise.all(ready);
  const before = await backendCpu(observer);
  for (const child of children) child.send('go');
  const reports = await Promise.all(done);
  const dbCpuMs = backendCpuUsed(before, await backendCpu(observer));
  for (const child of children) child.send('end');
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
  return { reports, dbCpuMs };
}

/** Several processes as one: every acknowledgement, over the span from the first start to the last end. */
function together(reports: ChildReport[], dbCpuMs: number): Run {
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const startedAt = Math.min(...reports.map((r) => r.startedAt));
  const endedAt = Math.max(...reports.map((r) => r.endedAt));
  return {
    result: { acknowledged: latencies.length, failed: reports.reduce((n, r) => n + r.failed, 0), seconds: (endedAt - startedAt) / 1000, latencies, startedAt, endedAt },
    commits: reports.reduce((n, r) => n + r.commits, 0),
    clientCpuMs: reports.reduce((n, r) => n + r.cpuMs, 0),
    dbCpuMs,
  };
}

/** Rounds of one phase as one: all acknowledgements over the time the rounds took. */
function pooled(runs: Run[]): Run {
  const latencies = runs.flatMap((r) => r.result.latencies).sort((a, b) => a - b);
  const sum = (f: (r: Run) => number) => runs.reduce((n, r) => n + f(r), 0);
  return {
    result: { acknowledged: latencies.length, failed: sum((r) => r.result.failed), seconds: sum((r) => r.result.seconds), latencies, startedAt: runs[0]!.result.startedAt, endedAt: runs[runs.length - 1]!.result.endedAt },
    commits: sum((r) => r.commits),
    clientCpuMs: sum((r) => r.clientCpuMs),
    dbCpuMs: sum((r) => r.dbCpuMs),
  };
}

async function main(): Promise<void> {
  console.log(`bench:scale — ${int(COUNT)} contacts per instance, phase and round; ${ROUNDS} rounds; ${CONCURRENCY} concurrent callers each awaiting its acknowledgement (warm-up ${int(WARMUP)} first)`);
  const phases = { sqlite: [] as Run[], pgSerial: [] as Run[], pg: [] as Run[], one: [] as Run[], two: [] as Run[], twoEach: [[], []] as Run[][] };
  const db = await freshPgDatabase('kept_bench_scale');
  const { pool: observer } = await openPostgres(db.url, { max: 1 }); // applies db/pg/migrations
  try {
    await seedPgCalendars(observer, Date.now());
    for (let round = 0; round < ROUNDS; round++) {
      phases.sqlite.push(await sqliteRound(round));
      phases.pgSerial.push(await pgRound(db.url, observer, round, 1));
      phases.pg.push(await pgRound(db.url, observer, round));
      const one = await processRound(db.url, observer, 1, `one-${round}`);
      phases.one.push(together(one.reports, one.dbCpuMs));
      const two = await processRound(db.url, observer, 2, `two-${round}`);
      phases.two.push(together(two.reports, two.dbCpuMs));
      two.reports.forEach((r, i) => phases.twoEach[i]!.push(together([r], 0)));
      const line = (name: string, runs: Run[]) => `${name} ${int(rate(runs[runs.length - 1]!.result))}/s`;
      console.log(`round ${round + 1}: ${[line('SQLite', phases.sqlite), line('PostgreSQL', phases.pg), line('one process', phases.one), line('two processes', phases.two)].join(', ')}`);
    }
  } finally {
    await observer.end();
    await db.drop();
  }
  const rows: Array<[string, Run]> = [
    ['SQLite GroupCommitWriter (baseline, in process)', pooled(phases.sqlite)],
    ['PostgreSQL set-based writer, one flush in flight (before 2026-12-04, in process)', pooled(phases.pgSerial)],
    ['PostgreSQL set-based writer, two flushes in flight (in process)', pooled(phases.pg)],
    ['PostgreSQL, one writer process', pooled(phases.one)],
    ['  two processes: process 1', pooled(phases.twoEach[0]!)],
    ['  two processes: process 2', pooled(phases.twoEach[1]!)],
    ['PostgreSQL, two writer processes combined', pooled(phases.two)],
  ];
  console.log('');
  console.log('| writer | acknowledged | contacts/s | p50 | p99 | max | contacts per transaction | writer CPU per contact | PostgreSQL CPU per contact | failed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of rows) {
    const l = r.result.latencies;
    const n = Math.max(1, r.result.acknowledged);
    const db = name.startsWith('SQLite') ? '—' : name.startsWith('  ') ? '' : `${Math.round((r.dbCpuMs * 1000) / n)} µs`;
    console.log(
      `| ${name} | ${int(r.result.acknowledged)} | ${int(rate(r.result))} | ${ms(percentile(l, 0.5))} | ${ms(percentile(l, 0.99))} | ${ms(l[l.length - 1] ?? NaN)} | ${(r.result.acknowledged / Math.max(1, r.commits)).toFixed(1)} | ${Math.round((r.clientCpuMs * 1000) / n)} µs | ${db} | ${r.result.failed} |`,
    );
  }
  const sqlite = rows[0]![1];
  const serial = rows[1]![1];
  const pg = rows[2]![1];
  const perInstance = rate(pg.result);
  const p99 = percentile(pg.result.latencies, 0.99);
  const byRound = phases.two.map((t, i) => (rate(t.result) / rate(phases.one[i]!.result)).toFixed(2)).join(', ');
  const ratioTwo = rate(rows[6]![1].result) / rate(rows[3]![1].result);
  console.log('');
  console.log(`PostgreSQL / SQLite (same run): ${(perInstance / rate(sqlite.result)).toFixed(2)}× the baseline's contacts/s (round by round ${phases.pg.map((p, i) => (rate(p.result) / rate(phases.sqlite[i]!.result)).toFixed(2)).join(', ')}).`);
  console.log(`Two flushes in flight / one (same run): ${(perInstance / rate(serial.result)).toFixed(2)}× the contacts/s; p99 ${ms(p99)} against ${ms(percentile(serial.result.latencies, 0.99))}.`);
  console.log(`Per instance: ${int(perInstance)} contacts/s (target ≥ ${int(TARGET_RATE)}: ${verdict(perInstance >= TARGET_RATE)}); p99 ${ms(p99)} (target ≤ ${TARGET_P99} ms: ${verdict(p99 <= TARGET_P99)}).`);
  console.log(`Two processes / one process: ${ratioTwo.toFixed(2)}× (target ≥ ${TARGET_TWO}×: ${verdict(ratioTwo >= TARGET_TWO)}; round by round ${byRound}).`);
}

const parts = ['writer', 'http', 'breaches'] as const;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && !(parts as readonly string[]).includes(only)) throw new Error(`--only ${only}: ${parts.join(', ')}`);
const runs = (part: (typeof parts)[number]) => only === undefined || only === part;
if (runs('writer')) await main();
if (only === undefined) console.log('');
if (runs('http')) await runHttp();
if (only === undefined) console.log('');
if (runs('breaches')) await runBreaches();
