// `npm run bench:scale` (issue 14): the set-based PostgreSQL writer alone, 50 concurrent callers each
// waiting for its durable acknowledgement, against the SQLite GroupCommitWriter with the same
// contacts measured in the same run; then one and two writer processes sharing one PostgreSQL.
//
//   BENCH_CONTACTS   contacts per instance and phase (default 10000)
//   BENCH_CONCURRENCY callers per instance (default 50)
//   KEPT_TEST_PG_URL  the server to use (default postgres://postgres@127.0.0.1:5432/test; a fresh database is made and dropped)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';
import { commands, drive, percentile, type LoadResult } from './scale/load.js';
import type { ChildReport } from './scale/writer-child.js';

const COUNT = Number(process.env.BENCH_CONTACTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Math.min(1000, Math.ceil(COUNT / 10));
const TARGET_RATE = 5000;
const TARGET_P99 = 20;
const TARGET_TWO = 1.8;

interface Row {
  name: string;
  result: LoadResult;
  commits: number;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const int = (v: number) => Math.round(v).toLocaleString('en-GB');
const rate = (r: LoadResult) => r.acknowledged / r.seconds;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function sqliteBaseline(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-bench-scale-'));
  const connection = openDatabase(join(dir, 'kept.db'));
  try {
    new CalendarStore(connection.sqlite).seed(Date.now());
    const runner = new InlineRunner(connection.sqlite, { maxEventsPerContact: 200 });
    await drive((c) => runner.run('create-contact', c), commands('sqlite-warm', WARMUP), CONCURRENCY);
    const work = commands('sqlite', COUNT);
    const before = runner.commits;
    const result = await drive((c) => runner.run('create-contact', c), work, CONCURRENCY);
    return { name: 'SQLite GroupCommitWriter (baseline, in process)', result, commits: runner.commits - before };
  } finally {
    connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgInProcess(url: string): Promise<Row> {
  const pool = (await openPostgres(url, { max: 4, migrate: false })).pool;
  try {
    const writer = await PgGroupCommitWriter.open(pool);
    await drive((c) => writer.createContact(c), commands('pg-warm', WARMUP), CONCURRENCY);
    const work = commands('pg', COUNT);
    const before = writer.commits;
    const result = await drive((c) => writer.createContact(c), work, CONCURRENCY);
    return { name: 'PostgreSQL set-based writer (in process)', result, commits: writer.commits - before };
  } finally {
    await pool.end();
  }
}

/** `n` writer processes on the same database, released at the same instant. */
async function processes(url: string, n: number, tag: string): Promise<ChildReport[]> {
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
  for (const child of children) child.send('go');
  return Promise.all(done);
}

/** Several processes as one: every acknowledgement, over the span from the first start to the last end. */
function combined(reports: ChildReport[]): { result: LoadResult; commits: number } {
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const startedAt = Math.min(...reports.map((r) => r.startedAt));
  const endedAt = Math.max(...reports.map((r) => r.endedAt));
  return {
    result: { acknowledged: latencies.length, failed: reports.reduce((n, r) => n + r.failed, 0), seconds: (endedAt - startedAt) / 1000, latencies, startedAt, endedAt },
    commits: reports.reduce((n, r) => n + r.commits, 0),
  };
}

async function main(): Promise<void> {
  console.log(`bench:scale — ${int(COUNT)} contacts per instance and phase, ${CONCURRENCY} concurrent callers each awaiting its acknowledgement (warm-up ${int(WARMUP)} first)`);
  const rows: Row[] = [];
  const sqlite = await sqliteBaseline();
  rows.push(sqlite);
  const db = await freshPgDatabase('kept_bench_scale');
  try {
    const seedPool = (await openPostgres(db.url, { max: 1 })).pool; // applies db/pg/migrations
    await seedPgCalendars(seedPool, Date.now());
    await seedPool.end();
    const pg = await pgInProcess(db.url);
    rows.push(pg);
    const one = combined(await processes(db.url, 1, 'one'));
    rows.push({ name: 'PostgreSQL, one writer process', ...one });
    const twoReports = await processes(db.url, 2, 'two');
    const two = combined(twoReports);
    twoReports.forEach((r, i) => rows.push({ name: `  two processes: process ${i + 1}`, result: r, commits: r.commits }));
    rows.push({ name: 'PostgreSQL, two writer processes combined', ...two });

    console.log('');
    console.log('| writer | acknowledged | contacts/s | p50 | p99 | max | transactions | contacts per transaction | failed |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const l = r.result.latencies;
      console.log(
        `| ${r.name} | ${int(r.result.acknowledged)} | ${int(rate(r.result))} | ${ms(percentile(l, 0.5))} | ${ms(percentile(l, 0.99))} | ${ms(l[l.length - 1] ?? NaN)} | ${int(r.commits)} | ${(r.result.acknowledged / Math.max(1, r.commits)).toFixed(1)} | ${r.result.failed} |`,
      );
    }
    const perInstance = rate(pg.result);
    const p99 = percentile(pg.result.latencies, 0.99);
    const ratioTwo = rate(two.result) / rate(one.result);
    console.log('');
    console.log(`PostgreSQL / SQLite (same run): ${(perInstance / rate(sqlite.result)).toFixed(2)}× the baseline's contacts/s.`);
    console.log(`Per instance: ${int(perInstance)} contacts/s (target ≥ ${int(TARGET_RATE)}: ${verdict(perInstance >= TARGET_RATE)}); p99 ${ms(p99)} (target ≤ ${TARGET_P99} ms: ${verdict(p99 <= TARGET_P99)}).`);
    console.log(`Two processes / one process: ${ratioTwo.toFixed(2)}× (target ≥ ${TARGET_TWO}×: ${verdict(ratioTwo >= TARGET_TWO)}).`);
  } finally {
    await db.drop();
  }
}

await main();
