// The HTTP phase of `npm run bench:scale` (issue 14), on real Kept processes (tests/helpers/instances.ts:
// `node --import tsx server/main.ts`, each on its own port of 127.0.0.1):
// 1. POST /api/v1/contacts end to end, autocannon in this process with 50 keep-alive connections in all:
//    one Kept on a SQLite file of its own (the baseline) against two Kept on one fresh PostgreSQL
//    database, 25 connections to each, measured in alternating rounds so a busier or quieter machine
//    weighs on both alike; after each round the contacts table is counted against the 2xx answers.
// 2. 1,000 boards (WebSocket clients) on instance B while contacts are posted to instance A: from A's
//    201 to each board's first delta naming the contact, which B can only learn through the change feed.
//    Then 200 breached calls on the urgent list, and the 1,000 boards move to A (as when B goes away):
//    reconnecting with their `since` and `mark` (one resume delta each) against connecting afresh (a
//    snapshot each, the baseline, in the same run): time to the first numbered frame, and its bytes.
//
//   npm run bench:scale -- --only http
//   BENCH_HTTP_SECONDS  measured seconds per target, split over the rounds (default 30)
//   BENCH_HTTP_ROUNDS   rounds (default 3)
//   BENCH_HTTP_WARMUP   seconds of unmeasured load per target first (default 3)
//   BENCH_BOARDS        board clients on B (default 1000)
//   BENCH_BOARD_RATE    contacts a second posted to A (default 10)
//   BENCH_BOARD_SECONDS for how long (default 20)
//   BENCH_MOVED_URGENT  breached calls on the urgent list before the boards move (default 200)
//   BENCH_NO_DOCS=1     print only (docs/benchmarks.md is left alone)
//   KEPT_TEST_PG_URL    the server to use (a fresh database is made and dropped per part)
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { LIVE_PATH } from '../../../server/live/protocol.js';
import { createToken, freshPgDatabase, startInstances, type Instances } from '../../../tests/helpers/instances.js';
import { contactBody } from '../ingest-bodies.js';
import { backendCpu, backendCpuUsed, processCpuMs } from './cpu.js';
import { percentile } from './load.js';

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 30);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_HTTP_ROUNDS ?? 3)));
const WARMUP = Number(process.env.BENCH_HTTP_WARMUP ?? 3);
const BOARDS = Number(process.env.BENCH_BOARDS ?? 1000);
const BOARD_RATE = Number(process.env.BENCH_BOARD_RATE ?? 10);
const BOARD_SECONDS = Number(process.env.BENCH_BOARD_SECONDS ?? 20);
const MOVED_URGENT = Number(process.env.BENCH_MOVED_URGENT ?? 200);
/** Connections in all, whichever the target: the two PostgreSQL instances get half each. */
const CONNECTIONS = 50;
const TARGET_RATIO = 1.8;
const TARGET_P99 = 50;
const TARGET_BOARD_P99 = 100;
/** The whole phase stops by itself past this (everything it started is ended), whatever happens. */
const LIMIT_S = 300 + SECONDS + 2 * WARMUP + BOARD_SECONDS;

const root = join(import.meta.dirname, '..', '..', '..');
const int = (v: number) => Math.round(v).toLocaleString('en-GB');
const ms = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(1)} ms`);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const sleep = (t: number) => new Promise((ok) => setTimeout(ok, t));
const log = (s: string) => process.stderr.write(`http: ${s}\n`);

/** Every set of Kept processes running now: the watchdog ends them if the phase overruns. */
const running = new Set<Instances>();

/** startInstances, the instances remembered until they are stopped. */
async function start(n: number, options: Parameters<typeof startInstances>[1]): Promise<Instances> {
  const kept = await startInstances(n, options);
  running.add(kept);
  return {
    ...kept,
    stop: async () => {
      await kept.stop();
      running.delete(kept);
    },
  };
}

/** Kept's settings for every instance of the phase, on top of the harness's. */
const KEPT_ENV: NodeJS.ProcessEnv = {
  // Fastify's line per request would cost the servers more than the work measured.
  KEPT_LOG_LEVEL: 'warn',
  // Kept's own default (reader threads on SQLite), not the harness's frugal one: the baseline is `npm start` as shipped.
  KEPT_READER_THREADS: undefined,
};

type Result = autocannon.Result & { '2xx': number; timeouts: number };
type Cannon = { on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void };

/** utime + stime of a process, every thread, ms (Linux /proc; 0 elsewhere or once it has gone). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks, USER_HZ = 100
  } catch {
    return 0;
  }
}

/** One target's figures over its rounds. */
interface Tally {
  name: string;
  ok: number;
  failed: number;
  /** Every 2xx's latency, ms. */
  latencies: number[];
  seconds: number;
  /** Contacts of the measured rounds in the database, counted after each round. */
  stored: number;
  /** contacts/s of each round, in order. */
  perRound: number[];
  /** Rounds whose stored count fell short of their 2xx answers. */
  short: number;
  /** CPU of the Kept process(es), of the PostgreSQL backends serving the database, and of this process (autocannon), ms. */
  keptCpuMs: number;
  dbCpuMs: number;
  loadCpuMs: number;
}

interface Target {
  tally: Tally;
  /** The instances' base URLs, each loaded with CONNECTIONS / urls.length connections. */
  urls: string[];
  token: string;
  pids: number[];
  /** Contacts whose externalId starts with `prefix-`. */
  count(prefix: string): Promise<number>;
  /** CPU ms of the database's backends, by pid (PostgreSQL only). */
  dbCpu?: () => Promise<Map<number, number>>;
}

const tally = (name: string): Tally => ({ name, ok: 0, failed: 0, latencies: [], seconds: 0, stored: 0, perRound: [], short: 0, keptCpuMs: 0, dbCpuMs: 0, loadCpuMs: 0 });

/** `seconds` of POSTs to one instance at `connections` connections; a fresh body each (externalId `prefix-i`). */
function cannon(url: string, token: string, connections: number, seconds: number, prefix: string, latencies?: number[]): Promise<Result> {
  let i = 0;
  const start = Date.now();
  return new Promise((ok, fail) => {
    const instance = autocannon(
      {
        url: `${url}/api/v1/contacts`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(contactBody(i++, prefix, start)) }) }],
      },
      (err, result) => (err ? fail(err) : ok(result as Result)),
    ) as Cannon;
    if (latencies) {
      instance.on('response', (_client, status, _bytes, t) => {
        if (status >= 200 && status < 300) latencies.push(t);
      });
    }
  });
}

/** Every instance of the target loaded at once, the connections split evenly; the 2xx, the failures and the wall time. */
async function load(t: Target, seconds: number, prefix: string, latencies?: number[]): Promise<{ ok: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  const results = await Promise.all(t.urls.map((url, i) => cannon(url, t.token, CONNECTIONS / t.urls.length, seconds, `${prefix}-${i}`, latencies)));
  const elapsed = (performance.now() - t0) / 1000;
  return {
    ok: results.reduce((n, r) => n + r['2xx'], 0),
    failed: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    seconds: elapsed,
  };
}

async function round(t: Target, seconds: number, prefix: string): Promise<void> {
  const keptCpu0 = t.pids.reduce((n, pid) => n + cpuMsOf(pid), 0);
  const db0 = t.dbCpu ? await t.dbCpu() : null;
  const load0 = process.cpuUsage();
  const r = await load(t, seconds, prefix, t.tally.latencies);
  t.tally.loadCpuMs += processCpuMs(load0);
  t.tally.keptCpuMs += t.pids.reduce((n, pid) => n + cpuMsOf(pid), 0) - keptCpu0;
  if (db0 !== null && t.dbCpu) t.tally.dbCpuMs += backendCpuUsed(db0, await t.dbCpu());
  // Every 2xx is a contact committed: the round's rows are counted at once, before anything else runs.
  const stored = await t.count(prefix);
  if (stored < r.ok) t.tally.short++;
  t.tally.stored += stored;
  t.tally.ok += r.ok;
  t.tally.failed += r.failed;
  t.tally.seconds += r.seconds;
  t.tally.perRound.push(r.ok / r.seconds);
}

interface PostFigures {
  sqlite: Tally;
  pg: Tally;
  lines: string[];
}

/** Part 1: POST /api/v1/contacts, one Kept on SQLite against two Kept on one PostgreSQL database. */
async function posts(): Promise<PostFigures> {
  const db = await freshPgDatabase('kept_bench_http');
  const observer = new pg.Pool({ connectionString: db.url, max: 1 });
  let sqliteKept: Instances | undefined;
  let pgKept: Instances | undefined;
  let sqliteFile: Database.Database | undefined;
  try {
    log('starting one Kept on SQLite and two on PostgreSQL…');
    // Started together (each set waits for its own to be armed); if one set fails, the other is still stopped below.
    const started = await Promise.allSettled([start(1, { armed: true, env: KEPT_ENV }), start(2, { url: db.url, armed: true, env: KEPT_ENV })]);
    if (started[0].status === 'fulfilled') sqliteKept = started[0].value;
    if (started[1].status === 'fulfilled') pgKept = started[1].value;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    if (sqliteKept === undefined || pgKept === undefined) throw new Error('unreachable: both sets started');
    const dbFile = sqliteKept.instances[0]!.dbFile!;
    const [sqliteToken, pgToken] = [createToken('bench', { dbFile }), createToken('bench', { url: db.url })];
    sqliteFile = new Database(dbFile, { readonly: true });
    const countSqlite = sqliteFile.prepare('SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE ?');
    const sqlite: Target = {
      tally: tally('one Kept on SQLite (baseline), 50 connections'),
      urls: sqliteKept.urls,
      token: sqliteToken,
      pids: sqliteKept.instances.map((k) => k.child.pid!),
      count: async (prefix) => (countSqlite.get(`${prefix}-%`) as { n: number }).n,
    };
    const two: Target = {
      tally: tally('two Kept on one PostgreSQL, 25 connections each'),
      urls: pgKept.urls,
      token: pgToken,
      pids: pgKept.instances.map((k) => k.child.pid!),
      count: async (prefix) => (await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM contacts WHERE external_id LIKE $1', [`${prefix}-%`])).rows[0]!.n,
      dbCpu: () => backendCpu(observer),
    };
    const targets = [sqlite, two];
    if (WARMUP > 0) {
      log(`warm-up, ${WARMUP} s each…`);
      for (const t of targets) await load(t, WARMUP, `warm-${t === sqlite ? 'sqlite' : 'pg'}`);
    }
    const slice = SECONDS / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      // In turn, every other round backwards: SQLite, PostgreSQL, PostgreSQL, SQLite, …
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) await round(t, slice, `${t === sqlite ? 'sqlite' : 'pg'}-r${r}`);
      log(`round ${r + 1}/${ROUNDS}: SQLite ${int(sqlite.tally.perRound[r]!)}/s, two on PostgreSQL ${int(two.tally.perRound[r]!)}/s`);
    }
    return { sqlite: sqlite.tally, pg: two.tally, lines: postReport(sqlite.tally, two.tally) };
  } finally {
    sqliteFile?.close();
    await Promise.all([sqliteKept?.stop(), pgKept?.stop()]);
    await observer.end();
    await db.drop();
  }
}

function postReport(sqlite: Tally, two: Tally): string[] {
  const rate = (t: Tally) => t.ok / t.seconds;
  const rows = [sqlite, two].map((t) => {
    const l = t.latencies.sort((a, b) => a - b);
    const per = (cpu: number) => `${Math.round((cpu * 1000) / Math.max(1, t.ok))} µs`;
    return `| ${t.name} | ${int(t.ok)} | ${int(rate(t))} | ${ms(percentile(l, 0.5))} | ${ms(percentile(l, 0.99))} | ${ms(l[l.length - 1] ?? NaN)} | ${int(t.stored)} | ${int(t.failed)} | ${per(t.keptCpuMs)} | ${t === sqlite ? '—' : per(t.dbCpuMs)} | ${per(t.loadCpuMs)} |`;
  });
  const ratio = rate(two) / rate(sqlite);
  const p99 = percentile(two.latencies, 0.99);
  const byRound = two.perRound.map((v, i) => (v / sqlite.perRound[i]!).toFixed(2)).join(', ');
  const rowsOk = sqlite.short === 0 && two.short === 0;
  // What one contact costs the machine in all, and so the most these cores could take were nothing else on them.
  const cost = (t: Tally) => (t.keptCpuMs + t.dbCpuMs + t.loadCpuMs) / Math.max(1, t.ok);
  const ceiling = (t: Tally) => int((availableParallelism() * 1000) / cost(t));
  return [
    '| POST /api/v1/contacts | 2xx | contacts/s | p50 | p99 | max | rows counted | non-2xx / errors | Kept CPU per 2xx | PostgreSQL CPU per 2xx | autocannon CPU per 2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Two instances on PostgreSQL / one on SQLite (same run): **${ratio.toFixed(2)}×** (target ≥ ${TARGET_RATIO}×: ${verdict(ratio >= TARGET_RATIO)}; round by round ${byRound}).`,
    `Two instances' p99 **${ms(p99)}** (target < ${TARGET_P99} ms: ${verdict(p99 < TARGET_P99)}); SQLite's ${ms(percentile(sqlite.latencies, 0.99))}.`,
    `Rows ≥ acknowledged, every round: ${verdict(rowsOk)} (SQLite ${int(sqlite.stored)} rows for ${int(sqlite.ok)} 2xx, PostgreSQL ${int(two.stored)} for ${int(two.ok)}; rounds short: ${sqlite.short + two.short}).`,
    `CPU per contact, everything on the machine that served it (Kept, PostgreSQL, autocannon): SQLite ${int(cost(sqlite) * 1000)} µs, two on PostgreSQL ${int(cost(two) * 1000)} µs; on ${availableParallelism()} cores with nothing else running that is at most ~${ceiling(sqlite)} and ~${ceiling(two)} contacts/s.`,
  ];
}

/** Opens a board on `url` and resolves once its snapshot has come; every later frame goes to `onFrame`. */
function board(url: string, token: string, onFrame: (data: Buffer, at: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${LIVE_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      // The clients share this process's loop with the timing: skip what only a browser needs.
      skipUTF8Validation: true,
    });
    let snapshot = false;
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      if (!snapshot) {
        // The team lead's message (unnumbered) may come first: only the snapshot opens the board.
        if (data.toString('latin1', 0, 18) !== '{"type":"snapshot"') return;
        snapshot = true;
        resolve(ws);
        return;
      }
      onFrame(data, at);
    });
    ws.once('error', reject);
    ws.once('close', (code) => {
      if (!snapshot) reject(new Error(`a board closed (${code}) before its snapshot came`));
    });
  });
}

interface BoardFigures {
  posted: number;
  /** Each (contact, board): the board's first delta naming it − A's 201 reaching this process, ms. */
  fromAck: { p50: number; p99: number; max: number; min: number };
  /** The same from the POST's send. */
  fromSend: { p50: number; p99: number; max: number };
  /** POST 201 latency at A. */
  ack: { p50: number; p99: number; max: number };
  pairs: number;
  missed: number;
  closed: number;
  connectMs: number;
  moved: MovedFigures;
  lines: string[];
}

/** The boards moving from B to A: a resume each (since and mark) against a snapshot each (the baseline). */
interface MovedFigures {
  resume: { ms: ReturnType<typeof summary>; bytes: number; resumed: number; snapshots: number };
  snapshot: { ms: ReturnType<typeof summary>; bytes: number };
}

/** A board connecting with `query`: resolves with its first numbered frame's type, bytes and time from the connect, ms. */
function firstFrame(url: string, token: string, query: string): Promise<{ ms: number; bytes: number; resumed: boolean; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${LIVE_PATH}${query}`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, skipUTF8Validation: true });
    ws.on('message', (data: Buffer) => {
      const head = data.toString('latin1', 0, 18);
      if (head !== '{"type":"snapshot"' && !head.startsWith('{"type":"delta"')) return;
      ws.removeAllListeners('message');
      // A resume is the delta that names the board's own seq as `prev`.
      resolve({ ms: performance.now() - started, bytes: data.length, resumed: head.startsWith('{"type":"delta"') && data.includes('"prev":'), socket: ws });
    });
    ws.once('error', reject);
  });
}

/** `n` boards connecting with their queries, 100 at a time (as the boards first opened), each closed once it has its frame. */
async function herd(url: string, token: string, queries: string[]): Promise<Array<{ ms: number; bytes: number; resumed: boolean }>> {
  const out: Array<{ ms: number; bytes: number; resumed: boolean }> = [];
  for (let i = 0; i < queries.length; i += 100) {
    const got = await Promise.all(queries.slice(i, i + 100).map((q) => firstFrame(url, token, q)));
    for (const g of got) {
      g.socket.terminate();
      out.push({ ms: g.ms, bytes: g.bytes, resumed: g.resumed });
    }
  }
  return out;
}

function summary(values: number[]) {
  const s = Float64Array.from(values).sort();
  const list = Array.from(s);
  return { p50: percentile(list, 0.5), p99: percentile(list, 0.99), max: list[list.length - 1] ?? NaN, min: list[0] ?? NaN };
}

/** Part 2: 1,000 boards on instance B, contacts posted to instance A. */
async function boards(): Promise<BoardFigures> {
  const db = await freshPgDatabase('kept_bench_boards');
  let kept: Instances | undefined;
  const sockets: WebSocket[] = [];
  try {
    log(`starting two Kept on PostgreSQL (B takes ${int(BOARDS)} boards)…`);
    // Every board comes from 127.0.0.1: the socket quotas lifted (per address 50 by default).
    const quota = String(BOARDS + 100);
    // A too: the boards move there at the end.
    kept = await start(2, { url: db.url, armed: true, env: { ...KEPT_ENV, KEPT_WS_MAX_CLIENTS: quota, KEPT_WS_MAX_CLIENTS_PER_ADDRESS: quota } });
    const [a, b] = kept.urls as [string, string];
    const token = createToken('bench', { url: db.url });
    /** Per contact id, each board's first receipt of a delta naming it (NaN: none yet). */
    const receipts = new Map<string, Float64Array>();
    /** Each board's last delta (its seq and mark are read when the boards move). */
    const lastDelta: Buffer[] = [];
    const onFrame = (index: number) => (data: Buffer, at: number) => {
      if (data.toString('latin1', 0, 15) !== '{"type":"delta"') return;
      lastDelta[index] = data;
      // A delta ends with its "contacts" (and `partial` after them, when set): read just that list.
      const i = data.lastIndexOf('"contacts":[');
      if (i < 0) return;
      const j = data.indexOf(']', i);
      for (const id of JSON.parse(data.toString('utf8', i + 11, j + 1)) as string[]) {
        let got = receipts.get(id);
        if (got === undefined) receipts.set(id, (got = new Float64Array(BOARDS).fill(NaN)));
        if (Number.isNaN(got[index]!)) got[index] = at;
      }
    };
    log(`connecting ${int(BOARDS)} boards to B…`);
    const connectStarted = performance.now();
    for (let i = 0; i < BOARDS; i += 100) {
      const batch = Array.from({ length: Math.min(100, BOARDS - i) }, (_, k) => board(b, token, onFrame(i + k)));
      sockets.push(...(await Promise.all(batch)));
    }
    const connectMs = performance.now() - connectStarted;
    let closed = 0;
    for (const s of sockets) s.once('close', () => closed++);
    log(`${int(sockets.length)} boards open in ${(connectMs / 1000).toFixed(1)} s; posting ${BOARD_RATE}/s to A for ${BOARD_SECONDS} s…`);

    const post = async (i: number, prefix: string): Promise<{ id: string; sent: number; acked: number }> => {
      const sent = performance.now();
      const res = await fetch(`${a}/api/v1/contacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(contactBody(i, prefix)),
      });
      const acked = performance.now();
      if (res.status !== 201) throw new Error(`POST to A answered ${res.status}: ${await res.text()}`);
      return { id: ((await res.json()) as { id: string }).id, sent, acked };
    };
    // A few first, unmeasured: the route, the feed and the boards' path warmed up.
    for (let i = 0; i < 5; i++) await post(i, 'boards-warm');
    await sleep(500);
    const count = Math.round(BOARD_RATE * BOARD_SECONDS);
    const every = 1000 / BOARD_RATE;
    const started = performance.now();
    const inFlight: Array<Promise<{ id: string; sent: number; acked: number }>> = [];
    // Open loop: each POST at its own instant, whether or not the one before has been answered.
    for (let i = 0; i < count; i++) {
      await sleep(started + i * every - performance.now());
      inFlight.push(post(i, 'boards'));
    }
    const posted = await Promise.all(inFlight);
    // The last deltas' way to every board: done when each has one, or after 3 s.
    const until = performance.now() + 3000;
    const complete = () => posted.every((p) => receipts.get(p.id)?.every((v) => !Number.isNaN(v)) === true);
    while (!complete() && performance.now() < until) await sleep(100);

    const fromAck: number[] = [];
    const fromSend: number[] = [];
    let missed = 0;
    for (const p of posted) {
      const got = receipts.get(p.id);
      for (let k = 0; k < BOARDS; k++) {
        const at = got?.[k] ?? NaN;
        if (Number.isNaN(at)) missed++;
        else {
          fromAck.push(at - p.acked);
          fromSend.push(at - p.sent);
        }
      }
    }
    const closedDuring = closed;
    // The boards move: breached calls on the urgent list first (what a snapshot carries and a resume need not).
    log(`${MOVED_URGENT} breached calls on the urgent list, then the ${int(BOARDS)} boards move from B to A…`);
    const urgent = await Promise.all(
      Array.from({ length: MOVED_URGENT }, async (_, i) => {
        const res = await fetch(`${a}/api/v1/contacts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'phone', externalId: `moved-urgent-${i}`, receivedAt: new Date(Date.now() - 10 * 60_000).toISOString(), customer: { name: `Caller ${i}` } }),
        });
        if (res.status !== 201) throw new Error(`POST to A answered ${res.status}`);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    const heardAll = () => urgent.every((id) => receipts.get(id)?.every((v) => !Number.isNaN(v)) === true);
    const waitUntil = performance.now() + 5000;
    while (!heardAll() && performance.now() < waitUntil) await sleep(100);
    // A little more on A while the boards are away: what a resume carries.
    for (let i = 0; i < 5; i++) await post(i, 'moved-away');
    for (const s of sockets) s.terminate();
    const marks = Array.from({ length: sockets.length }, (_, k) => {
      const d = lastDelta[k];
      if (d === undefined) return ''; // no delta heard: it would connect afresh
      const m = JSON.parse(d.toString('utf8')) as { seq: number; mark?: string };
      return `?since=${m.seq}${m.mark === undefined ? '' : `&mark=${m.mark}`}`;
    });
    const fresh = await herd(a, token, marks.map(() => ''));
    const resumed = await herd(a, token, marks);
    const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
    const moved: MovedFigures = {
      resume: { ms: summary(resumed.map((r) => r.ms)), bytes: avg(resumed.map((r) => r.bytes)), resumed: resumed.filter((r) => r.resumed).length, snapshots: resumed.filter((r) => !r.resumed).length },
      snapshot: { ms: summary(fresh.map((r) => r.ms)), bytes: avg(fresh.map((r) => r.bytes)) },
    };
    const f: Omit<BoardFigures, 'lines'> = {
      moved,
      posted: posted.length,
      fromAck: summary(fromAck),
      fromSend: summary(fromSend),
      ack: summary(posted.map((p) => p.acked - p.sent)),
      pairs: fromAck.length,
      missed,
      closed: closedDuring,
      connectMs,
    };
    return { ...f, lines: boardReport(f) };
  } finally {
    for (const s of sockets) s.terminate();
    await kept?.stop();
    await db.drop();
  }
}

function boardReport(f: Omit<BoardFigures, 'lines'>): string[] {
  return [
    `| measure (${int(f.posted)} contacts posted to A at ${BOARD_RATE}/s, ${int(BOARDS)} boards on B) | p50 | p99 | max |`,
    '|---|---:|---:|---:|',
    `| A's 201 → the board's first delta naming the contact (${int(f.pairs)} pairs) | ${ms(f.fromAck.p50)} | ${ms(f.fromAck.p99)} | ${ms(f.fromAck.max)} |`,
    `| the POST's send → the same delta | ${ms(f.fromSend.p50)} | ${ms(f.fromSend.p99)} | ${ms(f.fromSend.max)} |`,
    `| the POST's send → A's 201 | ${ms(f.ack.p50)} | ${ms(f.ack.p99)} | ${ms(f.ack.max)} |`,
    '',
    `Commit on A → delta on ${int(BOARDS)} boards on B: p99 **${ms(f.fromAck.p99)}** from A's 201 (target ≤ ${TARGET_BOARD_P99} ms: ${verdict(f.fromAck.p99 <= TARGET_BOARD_P99 && f.missed === 0)}); ${int(f.missed)} (contact, board) pairs missed; ${f.closed} boards closed meanwhile; the earliest receipt ${ms(f.fromAck.min)} from the 201 (below 0: B's delta read here before A's answer was); the boards all opened (each with its snapshot) in ${(f.connectMs / 1000).toFixed(1)} s.`,
    '',
    `| the ${int(BOARDS)} boards moved from B to A (${MOVED_URGENT} breached calls listed; 100 connecting at a time) | p50 | p99 | max | bytes of the first frame, mean |`,
    '|---|---:|---:|---:|---:|',
    `| with \`since\` and \`mark\`: one resume delta (${int(f.moved.resume.resumed)} resumed, ${int(f.moved.resume.snapshots)} given a snapshot) | ${ms(f.moved.resume.ms.p50)} | ${ms(f.moved.resume.ms.p99)} | ${ms(f.moved.resume.ms.max)} | ${int(f.moved.resume.bytes)} |`,
    `| without (the baseline): a snapshot each | ${ms(f.moved.snapshot.ms.p50)} | ${ms(f.moved.snapshot.ms.p99)} | ${ms(f.moved.snapshot.ms.max)} | ${int(f.moved.snapshot.bytes)} |`,
    '',
    `Moved boards resumed: ${int(f.moved.resume.resumed)} of ${int(BOARDS)}; a resume is ${(f.moved.resume.bytes / f.moved.snapshot.bytes).toFixed(2)}× a snapshot's bytes and its p50 ${(f.moved.resume.ms.p50 / f.moved.snapshot.ms.p50).toFixed(2)}× (same run, same instance).`,
  ];
}

const BEGIN = '<!-- bench:scale:http:begin (written by npm run bench:scale) -->';
const END = '<!-- bench:scale:http:end -->';
const HEADING = '### POST /api/v1/contacts end to end, and 1,000 boards across instances';

/** The figures between the markers (the notes around them are kept), the subsection put before the breaches' if new. */
function writeDocs(block: string): void {
  const file = join(root, 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const b = current.indexOf(BEGIN);
  const e = current.indexOf(END);
  let next: string;
  if (b >= 0 && e > b) next = `${current.slice(0, b)}${block}${current.slice(e + END.length)}`;
  else {
    const section = `${HEADING}

\`npm run bench:scale -- --only http\` (also part of \`npm run bench:scale\`, after the writer and before the
breaches; \`scripts/bench/scale/http.ts\`). Real Kept processes on 127.0.0.1, started by
\`tests/helpers/instances.ts\` (\`node --import tsx server/main.ts\`: the server through tsx, not a compiled
build), log level warn; the load and the timing run in the benchmark's own process.

1. POST /api/v1/contacts, autocannon with 50 keep-alive connections in all, a different contact each
   (\`scripts/bench/ingest-bodies.ts\`): (a) one Kept on a SQLite file of its own (writer thread, WAL,
   synchronous=FULL, 201 after COMMIT); (b) two Kept on one fresh PostgreSQL database (set-based writer, 201
   after COMMIT), **25 connections to each**, so both sides are offered the same 50 requests at a time. A warm-up
   per side first (not counted), then the measured seconds split into rounds taken in turn (SQLite, PostgreSQL,
   PostgreSQL, SQLite, …). After each round its contacts are counted in the database (SQLite file, contacts
   table) against the round's 2xx. "Kept CPU" is the Kept processes' user + system time over the rounds
   (\`/proc/<pid>/stat\`, every thread); "PostgreSQL CPU" that of the backends serving the database;
   "autocannon CPU" the benchmark's own process over the same rounds.
2. A fresh database and two fresh instances, A and B. ${int(BOARDS)} WebSocket boards (\`ws\`, ${LIVE_PATH}, an API
   token) open on B, each waiting for its snapshot; then contacts are posted to A one every ${Math.round(1000 / BOARD_RATE)} ms (open loop,
   after 5 unmeasured) for ${BOARD_SECONDS} s. B learns of them only through the change feed (LISTEN/NOTIFY doorbell, the
   rows read from the feed table). Latency per (contact, board) = the board's first delta whose \`contacts\`
   names the contact − A's 201 reaching the benchmark (both timed here with \`performance.now()\`; the
   figure includes this process handling the other boards' copies first).

${block}
`;
    const lines = current.split('\n');
    const scale = lines.findIndex((l) => l.startsWith('## ') && l.includes('bench:scale'));
    let at = lines.findIndex((l, i) => i > scale && scale >= 0 && (l.startsWith('### 100,000 breaches') || l.startsWith('## ')));
    if (scale < 0 || at < 0) at = lines.length;
    next = [...lines.slice(0, at), ...section.split('\n'), ...lines.slice(at)].join('\n');
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
  log('written to docs/benchmarks.md (bench:scale, HTTP subsection)');
}

/** Both parts, the report on standard output and, unless BENCH_NO_DOCS=1, in docs/benchmarks.md. */
export async function runHttp(): Promise<void> {
  const started = Date.now();
  const startLoad = loadavg();
  const watchdog = setTimeout(() => {
    // Kept does not end when its parent does: every instance still running is killed first.
    process.stderr.write(`http: time limit (${LIMIT_S} s) reached, stopping\n`);
    for (const kept of running) for (const k of kept.instances) k.child.kill('SIGKILL');
    process.exit(1);
  }, LIMIT_S * 1000);
  watchdog.unref();
  try {
    console.log(
      `bench:scale http — POST /api/v1/contacts, ${CONNECTIONS} connections, ${WARMUP} s warm-up then ${SECONDS} s per side in ${ROUNDS} rounds; then ${int(BOARDS)} boards on B, ${BOARD_RATE} contacts/s to A for ${BOARD_SECONDS} s; load average ${startLoad.map((v) => v.toFixed(2)).join(' / ')}`,
    );
    const p = await posts();
    console.log(`\n${p.lines.join('\n')}\n`);
    const b = await boards();
    console.log(`${b.lines.join('\n')}`);
    const seconds = (Date.now() - started) / 1000;
    const endLoad = loadavg();
    const header = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, PostgreSQL on the same cores; 1-min load average ${startLoad[0]!.toFixed(2)} at the start, ${endLoad[0]!.toFixed(2)} at the end (other work on the machine shows in every figure); ${seconds.toFixed(0)} s in all.`;
    console.log(`\n${header}`);
    if (process.env.BENCH_NO_DOCS !== '1') {
      const summaryLines = (lines: string[]) => lines.map((l) => (l === '' || l.startsWith('|') ? l : `- ${l}`));
      writeDocs(`${BEGIN}\n${header}\n\n${summaryLines(p.lines).join('\n')}\n\n${summaryLines(b.lines).join('\n')}\n${END}`);
    }
  } finally {
    clearTimeout(watchdog);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runHttp();
