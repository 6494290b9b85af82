// `npm run bench:reads`: every read of the API on a realistic year (1,000,000 contacts, ~100,000 still
// open), against the real server started like `npm start` in a child process, from a real HTTP client.
//
//   npm run bench:reads -- [--contacts 1000000] [--requests 200] [--concurrency 4] [--seconds 15]
//                          [--rebuild] [--max-age-hours 24] [--no-write] [--compiled] [--readers 0,default]
//
// 1. The database is built once (scripts/bench/reads-db.ts: every contact through IngestService, in big
//    transactions) and cached as data/bench/reads-<key>.db with a .json beside it. It is rebuilt when
//    the generator version or the options differ, or when it is older than --max-age-hours: the year
//    ends at the build's "now", so an old file has nothing received today and no running clock left.
// 2. Each run works on a copy (the closure below and the timers write to it): the statuses the
//    timers would have stored since the build are caught up first, as by a server left running.
// 3. The server: `node --import tsx server/main.ts` (what `tsx server/main.ts` runs, in one process so
//    /proc/<pid>/status is the server's), or with --compiled what `npm start` runs, compiled for the
//    run; KEPT_DB, PORT, HOST=127.0.0.1, KEPT_LOG_LEVEL=warn.
//    Start-up = spawn → /api/v1/health answering `ok` (clocks armed); memory = VmRSS after start.
// 4. Reads over keep-alive HTTP (fetch): each kind --requests times one after another (varied: other
//    advisors, weeks, cursors, contacts), then all kinds mixed from --concurrency clients for --seconds;
//    once per --readers setting (KEPT_READER_THREADS: 0 reads on the event loop, `default` leaves it
//    unset), each on a fresh server, so the table compares them in the same run; the rest on the last;
//    a walk through every page of status=open; the board snapshot over a WebSocket
//    (?access_token=); a closure added on the next weekday, timed to its 201 and to the board's delta.
// Everything is bounded in time; every request targets 127.0.0.1. Prints a table with ratios against
// the targets and writes it, with the query plans, to docs/benchmarks.md (between the bench:reads markers).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { openDatabase } from '../../db/connection.js';
import { ContactStore, type ContactFilter } from '../../server/store/contacts.js';
import { TokenStore } from '../../server/store/tokens.js';
import { freePort } from '../lib/free-port.js';
import { mulberry32 } from '../lib/prng.js';
import { ADVISORS, buildYear, GENERATOR_VERSION, optionsKey, type BuildInfo } from './reads-db.js';

const { values } = parseArgs({
  options: {
    contacts: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '15' },
    rebuild: { type: 'boolean', default: false },
    'max-age-hours': { type: 'string', default: '24' },
    'no-write': { type: 'boolean', default: false },
    /** Run the compiled server (what `npm start` runs), compiled for this run into data/bench/app. */
    compiled: { type: 'boolean', default: false },
    /** KEPT_READER_THREADS for each server measured, in turn (`default`: unset, the server's own choice). */
    readers: { type: 'string', default: '0,default' },
  },
});
const READERS = String(values.readers)
  .split(',')
  .map((r) => r.trim())
  .filter((r) => r !== '');
if (READERS.length === 0 || READERS.some((r) => r !== 'default' && !/^\d+$/.test(r))) throw new Error('--readers: a comma-separated list of thread counts or `default`');
const readersLabel = (r: string) => (r === 'default' ? `KEPT_READER_THREADS unset (${Math.min(2, availableParallelism())})` : `KEPT_READER_THREADS=${r}`);
const CONTACTS = Number(values.contacts);
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MIXED_SECONDS = Number(values.seconds);
const SEED = 20261123;
const LIMIT = 100;
const TARGET = { readP99Ms: 20, snapshotMs: 200, startupMs: 5000, rssMb: 300, closureMs: 5000 };
/** The whole run (after any build) stops here, whatever is left. */
const RUN_BUDGET_MS = 15 * 60_000;
const BUILD_BUDGET_MS = 40 * 60_000;
const DAY = 86_400_000;

const ROOT = join(import.meta.dirname, '..', '..');
const benchStarted = Date.now();
const loadAtStart = loadavg()[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(`[${((Date.now() - benchStarted) / 1000).toFixed(1).padStart(6)} s] ${s}`);
const fmt = (n: number) => n.toLocaleString('en-GB');
const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : 'n/a');

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.length ? s[s.length - 1]! : NaN };
}
const ratio = (value: number, target: number) => `${(value / target).toFixed(2)} ${value <= target ? 'met' : '**missed**'}`;

// ------------------------------------------------------------------------------------------
// 1. The cached database

const cacheDir = join(ROOT, 'data', 'bench');
mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
const key = optionsKey({ contacts: CONTACTS, seed: SEED });
const cached = join(cacheDir, `reads-${key}.db`);
const cachedInfo = join(cacheDir, `reads-${key}.json`);
const maxAgeMs = Number(values['max-age-hours']) * 3_600_000;

function cachedBuild(): BuildInfo | null {
  if (values.rebuild || !existsSync(cached) || !existsSync(cachedInfo)) return null;
  try {
    const info = JSON.parse(readFileSync(cachedInfo, 'utf8')) as BuildInfo;
    if (info.generatorVersion !== GENERATOR_VERSION) return (log(`cache: generator version ${info.generatorVersion} ≠ ${GENERATOR_VERSION}: rebuilding`), null);
    if (Date.now() - info.now > maxAgeMs) return (log(`cache: built ${((Date.now() - info.now) / 3_600_000).toFixed(1)} h ago (> --max-age-hours): rebuilding`), null);
    return info;
  } catch {
    return null;
  }
}

let info = cachedBuild();
const reused = info !== null;
if (info === null) {
  log(`building ${fmt(CONTACTS)} contacts (a year up to now) into ${cached}…`);
  rmSync(cachedInfo, { force: true }); // no version file until the build is whole
  const watchdog = setTimeout(() => {
    console.error(`the build took more than ${BUILD_BUDGET_MS / 60_000} min: stopped`);
    process.exit(1);
  }, BUILD_BUDGET_MS);
  info = await buildYear(cached, { contacts: CONTACTS, seed: SEED, now: Date.now() }, (done) => log(`  ${fmt(done)} contacts written`));
  clearTimeout(watchdog);
  writeFileSync(cachedInfo, `${JSON.stringify(info, null, 2)}\n`);
  log(`  built in ${info.buildSeconds.toFixed(0)} s: ${fmt(info.rows.contacts)} contacts, ${fmt(info.rows.events)} events, ${fmt(info.rows.clocks)} clocks (${fmt(info.rows.openClocks)} open, on ${fmt(info.rows.openContacts)} contacts); ${(info.bytes / 1e9).toFixed(2)} GB`);
} else {
  log(`cache: ${cached} (generator ${info.generatorVersion}, built ${((Date.now() - info.now) / 3_600_000).toFixed(1)} h ago in ${info.buildSeconds.toFixed(0)} s)`);
}
const runDeadline = Date.now() + RUN_BUDGET_MS;
const runWatchdog = setTimeout(() => {
  console.error(`the run took more than ${RUN_BUDGET_MS / 60_000} min: stopped`);
  process.exit(1);
}, RUN_BUDGET_MS);
runWatchdog.unref();

// ------------------------------------------------------------------------------------------
// 2. A working copy, caught up, with a token and the samples the requests use

const workDir = join(cacheDir, `run-${process.pid}`);
mkdirSync(workDir, { recursive: true, mode: 0o700 });
const dbFile = join(workDir, 'kept.db');
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
  if (values.compiled) rmSync(join(cacheDir, 'app'), { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

let started = performance.now();
copyFileSync(cached, dbFile, constants.COPYFILE_FICLONE); // a reflink where the filesystem can, else a copy
log(`working copy made in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const rnd = mulberry32(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
const prep = openDatabase(dbFile);
const token = new TokenStore(prep.sqlite).create(`bench-${process.pid}`, Date.now());
// Catch up: what the server's timers would have stored since the build (statuses judged from due/at-risk).
started = performance.now();
const store = new ContactStore(prep.sqlite);
const nowAtCopy = Date.now();
const lagging = prep.sqlite
  .prepare(
    `SELECT contact_id, standard, status, due_at, at_risk_at FROM clocks INDEXED BY clocks_open_received
     WHERE open = 1 AND status IN ('running', 'at-risk') AND ((due_at IS NOT NULL AND due_at < ?) OR (status = 'running' AND at_risk_at IS NOT NULL AND at_risk_at <= ?))`,
  )
  .all(nowAtCopy, nowAtCopy) as Array<{ contact_id: string; standard: string; status: string; due_at: number | null; at_risk_at: number | null }>;
prep.sqlite.transaction(() => {
  for (const c of lagging) {
    const breached = c.due_at !== null && c.due_at < nowAtCopy;
    store.setStatus(c.contact_id, c.standard, breached ? 'breached' : 'at-risk', breached ? c.due_at! + 1 : c.at_risk_at!, nowAtCopy);
  }
})();
prep.sqlite.pragma('wal_checkpoint(TRUNCATE)');
log(`caught up ${fmt(lagging.length)} statuses the timers would have stored since the build (${((performance.now() - started) / 1000).toFixed(1)} s)`);

const sample = <T>(sql: string, ...args: unknown[]) => prep.sqlite.prepare(sql).all(...args) as T[];
const maxRowid = (prep.sqlite.prepare('SELECT MAX(rowid) AS n FROM contacts').get() as { n: number }).n;
const randomRowids = Array.from({ length: 3000 }, () => 1 + Math.floor(rnd() * maxRowid));
const contactIds = sample<{ id: string }>('SELECT id FROM contacts WHERE rowid IN (SELECT value FROM json_each(?))', JSON.stringify(randomRowids)).map((r) => r.id);
const clockKeys = sample<{ contact_id: string; standard: string }>(
  'SELECT contact_id, standard FROM clocks WHERE rowid IN (SELECT value FROM json_each(?))',
  JSON.stringify(Array.from({ length: 3000 }, () => 1 + Math.floor(rnd() * maxRowid))),
);
const oldest = (prep.sqlite.prepare('SELECT MIN(received_at) AS t FROM contacts').get() as { t: number }).t;
const newest = (prep.sqlite.prepare('SELECT MAX(received_at) AS t FROM contacts').get() as { t: number }).t;
const counts = Object.fromEntries(
  sample<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM clocks INDEXED BY clocks_status_received GROUP BY status').map((r) => [r.status, r.n]),
);

// The query plans, from the store on this file (the same statements the server prepares).
const planNow = Date.now();
const plansOf = (f: Omit<ContactFilter, 'limit' | 'now'>): string => {
  const plan = store.listPlan({ ...f, limit: LIMIT + 1, now: planNow });
  return plan.statements
    .map((st) => (prep.sqlite.prepare(`EXPLAIN QUERY PLAN ${st.sql}`).all(st.params) as Array<{ detail: string }>).map((r) => r.detail).join('; '))
    .join(' ‖ ');
};


const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${token}` };
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEPT_')));
Object.assign(env, { KEPT_DB: dbFile, PORT: String(port), HOST: '127.0.0.1', KEPT_LOG_LEVEL: 'warn', KEPT_WEB_ROOT: join(workDir, 'no-web') });

// ------------------------------------------------------------------------------------------
// 3. The server

interface Started {
  child: ChildProcess;
  startupMs: number;
}

// --compiled: the server as `npm start` runs it (scripts/build-server.mjs's tsc and copies), built into
// data/bench/app so dist/ (which others may be running) is left alone.
let serverArgs = ['--import', 'tsx', join(ROOT, 'server', 'main.ts')];
if (values.compiled) {
  const out = join(cacheDir, 'app');
  rmSync(out, { recursive: true, force: true });
  log('compiling the server into data/bench/app…');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  for (const path of ['db/migrations', 'server/http/forms/contact-form.css']) cpSync(join(ROOT, path), join(out, path), { recursive: true });
  serverArgs = [join(out, 'server', 'main.js')];
}

async function startServer(readers = 'default'): Promise<Started> {
  const t0 = performance.now();
  const childEnv = readers === 'default' ? env : { ...env, KEPT_READER_THREADS: readers };
  const child = spawn(process.execPath, serverArgs, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  children.add(child);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
    children.delete(child);
  });
  while (performance.now() - t0 < 60_000) {
    if (exited !== null) throw new Error(`the server exited (${exited}) before answering`);
    try {
      const r = await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await r.json().catch(() => ({}))) as { status?: string };
      // Serving means armed: `ok`, not the `starting` the server answers while it loads the running clocks.
      if (r.status === 200 && body.status === 'ok') return { child, startupMs: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error('the server did not answer /api/v1/health within 60 s');
}

async function stopServer(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => s.child.kill('SIGKILL'))]);
}

/**
 * CPU time (ms, user + system) the server has used: the whole process (every thread), and its main
 * thread alone (the event loop: /proc/<pid>/task/<pid>). Per request, a figure the machine's other
 * load hardly moves, where wall-clock latencies on a busy shared machine mostly measure the queue for a core.
 */
function cpuMs(pid: number): { process: number; loop: number } {
  const ticks = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat(5))
  };
  const tick = 1000 / CLOCK_TICKS;
  return { process: ticks(`/proc/${pid}/stat`) * tick, loop: ticks(`/proc/${pid}/task/${pid}/stat`) * tick };
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

// ------------------------------------------------------------------------------------------
// 4. Reads

async function get(path: string): Promise<{ ms: number; status: number; body: unknown }> {
  const t0 = performance.now();
  const r = await fetch(`${base}${path}`, { headers: auth, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  const elapsed = performance.now() - t0;
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${text.slice(0, 200)}`);
  return { ms: elapsed, status: r.status, body: JSON.parse(text) };
}

const cursor = (receivedAt: number, id = 'ffffffff-ffff-7fff-bfff-ffffffffffff') => Buffer.from(JSON.stringify([receivedAt, id])).toString('base64url');
const at = (t: number) => new Date(t).toISOString();
const week = () => {
  const from = oldest + Math.floor(rnd() * (newest - oldest - 7 * DAY));
  return `from=${encodeURIComponent(at(from))}&to=${encodeURIComponent(at(from + 7 * DAY))}`;
};
const deep = () => newest - Math.floor((0.5 + rnd() * 0.45) * (newest - oldest)); // 6 to 11 months back

interface Kind {
  name: string;
  group: 'list' | 'contact' | 'explain' | 'people';
  path: () => string;
  /** The filter as the store sees it (for the plan shown beside it). */
  plan?: Omit<ContactFilter, 'limit' | 'now'>;
}
const list = (q: string) => `/api/v1/contacts?${q}${q ? '&' : ''}limit=${LIMIT}`;
const KINDS: Kind[] = [
  { name: 'no filter', group: 'list', path: () => list(''), plan: {} },
  ...['breached', 'at-risk', 'running', 'open', 'paused', 'met', 'missed', 'met-extended', 'missed-extended', 'abandoned', 'abandoned-short', 'cancelled'].map(
    (s): Kind => ({ name: `status=${s}`, group: 'list', path: () => list(`status=${s}`), plan: { status: [s] } }),
  ),
  { name: 'status=breached,at-risk', group: 'list', path: () => list('status=breached,at-risk'), plan: { status: ['breached', 'at-risk'] } },
  { name: 'standard=email-reply', group: 'list', path: () => list('standard=email-reply'), plan: { standard: 'email-reply' } },
  { name: 'standard=emergency-arrange-repair', group: 'list', path: () => list('standard=emergency-arrange-repair'), plan: { standard: 'emergency-arrange-repair' } },
  { name: 'channel=phone', group: 'list', path: () => list('channel=phone'), plan: { channel: 'phone' } },
  { name: 'channel=voicemail', group: 'list', path: () => list('channel=voicemail'), plan: { channel: 'voicemail' } },
  { name: 'category=repair', group: 'list', path: () => list('category=repair'), plan: { category: 'repair' } },
  { name: 'category=compliment', group: 'list', path: () => list('category=compliment'), plan: { category: 'compliment' } },
  { name: 'assignee=(one of 40)', group: 'list', path: () => list(`assignee=${pick(ADVISORS)}`), plan: { assignee: ADVISORS[0]! } },
  { name: 'from/to (a week in the year)', group: 'list', path: () => list(week()), plan: { receivedFrom: oldest + 100 * DAY, receivedTo: oldest + 107 * DAY } },
  { name: 'cursor 6–11 months deep', group: 'list', path: () => list(`cursor=${cursor(deep())}`), plan: { after: { receivedAt: oldest + 60 * DAY, id: 'f' } } },
  { name: 'status=breached&channel=email', group: 'list', path: () => list('status=breached&channel=email'), plan: { status: ['breached'], channel: 'email' } },
  { name: 'status=breached&channel=voicemail', group: 'list', path: () => list('status=breached&channel=voicemail'), plan: { status: ['breached'], channel: 'voicemail' } },
  { name: 'status=open&category=complaint', group: 'list', path: () => list('status=open&category=complaint'), plan: { status: ['open'], category: 'complaint' } },
  { name: 'status=breached&category=compliment', group: 'list', path: () => list('status=breached&category=compliment'), plan: { status: ['breached'], category: 'compliment' } },
  { name: 'status=missed&standard=email-reply', group: 'list', path: () => list('status=missed&standard=email-reply'), plan: { status: ['missed'], standard: 'email-reply' } },
  { name: 'status=open&standard=phone-answer', group: 'list', path: () => list('status=open&standard=phone-answer'), plan: { status: ['open'], standard: 'phone-answer' } },
  { name: 'status=open&assignee=(one of 40)', group: 'list', path: () => list(`status=open&assignee=${pick(ADVISORS)}`), plan: { status: ['open'], assignee: ADVISORS[0]! } },
  { name: 'status=met-extended&assignee=(one of 40)', group: 'list', path: () => list(`status=met-extended&assignee=${pick(ADVISORS)}`), plan: { status: ['met-extended'], assignee: ADVISORS[0]! } },
  { name: 'status=breached&from/to (a week in the year)', group: 'list', path: () => list(`status=breached&${week()}`), plan: { status: ['breached'], receivedFrom: newest - 60 * DAY, receivedTo: newest - 53 * DAY } },
  { name: 'status=met&channel=voicemail&category=compliment', group: 'list', path: () => list('status=met&channel=voicemail&category=compliment'), plan: { status: ['met'], channel: 'voicemail', category: 'compliment' } },
  // Named phone queues (issue 13): the generator's calls are on the two built-in queues (named after their routes).
  { name: 'queue=customer-services', group: 'list', path: () => list('queue=customer-services'), plan: { queue: 'customer-services' } },
  { name: 'queue=out-of-hours', group: 'list', path: () => list('queue=out-of-hours'), plan: { queue: 'out-of-hours' } },
  { name: 'status=breached&queue=customer-services', group: 'list', path: () => list('status=breached&queue=customer-services'), plan: { status: ['breached'], queue: 'customer-services' } },
  { name: 'status=abandoned&queue=customer-services&channel=phone', group: 'list', path: () => list('status=abandoned&queue=customer-services&channel=phone'), plan: { status: ['abandoned'], queue: 'customer-services', channel: 'phone' } },
  { name: 'status=met, cursor 6–11 months deep', group: 'list', path: () => list(`status=met&cursor=${cursor(deep())}`), plan: { status: ['met'], after: { receivedAt: oldest + 60 * DAY, id: 'f' } } },
  { name: 'status=open, cursor 6–11 months deep', group: 'list', path: () => list(`status=open&cursor=${cursor(deep())}`), plan: { status: ['open'], after: { receivedAt: oldest + 60 * DAY, id: 'f' } } },
  { name: 'a contact with its events and clocks', group: 'contact', path: () => `/api/v1/contacts/${pick(contactIds)}` },
  { name: "an advisor's queue (one of 40)", group: 'people', path: () => `/api/v1/queue?assignee=${encodeURIComponent(pick(ADVISORS))}` },
  { name: 'the unassigned queue', group: 'people', path: () => '/api/v1/queue?assignee=unassigned&limit=100' },
  { name: "the team's load (every advisor)", group: 'people', path: () => '/api/v1/team' },
  {
    name: 'explain a clock',
    group: 'explain',
    path: () => {
      const k = pick(clockKeys);
      return `/api/v1/contacts/${k.contact_id}/clocks/${k.standard}/explain`;
    },
  },
];

// The plans of the list kinds, from this file, before the server opens it.
const planOf = new Map(KINDS.filter((k) => k.plan !== undefined).map((k) => [k.name, plansOf(k.plan!)]));
prep.close();

interface ReadFigures {
  readers: string;
  startupMs: number;
  rss: { rss: number; hwm: number };
  sequential: Map<string, { times: number[]; items: number[] }>;
  concurrent: Map<string, number[]>;
  mixedRequests: number;
  mixedPerSecond: number;
  /** Server CPU per request (ms): the whole process and the event loop alone, one at a time and mixed. */
  cpu: { sequential: { process: number; loop: number }; mixed: { process: number; loop: number } };
}

/** Every kind one at a time, then mixed from CONCURRENCY clients, against a server just started. */
async function measureReads(server: Started, readers: string): Promise<ReadFigures> {
  await sleep(2000);
  const rss = rssMb(server.child.pid!);
  log(`  VmRSS ${rss.rss.toFixed(0)} MB 2 s after the first answer (peak so far ${rss.hwm.toFixed(0)} MB)`);
  // Warm-up (not counted): every kind 20 times, so the first figures are not the JIT's.
  for (let i = 0; i < 20; i++) for (const k of KINDS) await get(k.path());

  log(`reads, one at a time (${readersLabel(readers)}): ${KINDS.length} kinds × ${REQUESTS}…`);
  const pid = server.child.pid!;
  const perRequest = (a: { process: number; loop: number }, b: { process: number; loop: number }, n: number) => ({ process: (b.process - a.process) / n, loop: (b.loop - a.loop) / n });
  const cpuBefore = cpuMs(pid);
  let sequentialRequests = 0;
  const sequential = new Map<string, { times: number[]; items: number[] }>();
  for (const k of KINDS) {
    const times: number[] = [];
    const items: number[] = [];
    for (let i = 0; i < REQUESTS && Date.now() < runDeadline; i++) {
      const r = await get(k.path());
      times.push(r.ms);
      sequentialRequests++;
      const body = r.body as { items?: unknown[] };
      if (Array.isArray(body.items)) items.push(body.items.length);
    }
    sequential.set(k.name, { times, items });
    const s = summary(times);
    log(`  ${k.name.padEnd(52)} p50 ${ms(s.p50).padStart(8)}  p99 ${ms(s.p99).padStart(8)}  max ${ms(s.max).padStart(8)}`);
  }

  const cpuSequential = perRequest(cpuBefore, cpuMs(pid), sequentialRequests);
  log(`  server CPU per request: ${cpuSequential.process.toFixed(2)} ms (the event loop ${cpuSequential.loop.toFixed(2)} ms)`);
  log(`reads, ${CONCURRENCY} clients at once for ${MIXED_SECONDS} s (every kind in turn; ${readersLabel(readers)})…`);
  const cpuMixedBefore = cpuMs(pid);
  const concurrent = new Map<string, number[]>(KINDS.map((k) => [k.name, []]));
  let mixedRequests = 0;
  const until = Date.now() + MIXED_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = c; Date.now() < until; i++) {
        const k = KINDS[i % KINDS.length]!;
        const r = await get(k.path());
        concurrent.get(k.name)!.push(r.ms);
        mixedRequests++;
      }
    }),
  );
  const mixedPerSecond = (mixedRequests * 1000) / (performance.now() - t0);
  const cpuMixed = perRequest(cpuMixedBefore, cpuMs(pid), mixedRequests);
  log(`  ${fmt(mixedRequests)} requests in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${mixedPerSecond.toFixed(0)} requests/s; server CPU per request ${cpuMixed.process.toFixed(2)} ms (the event loop ${cpuMixed.loop.toFixed(2)} ms)`);
  return { readers, startupMs: server.startupMs, rss, sequential, concurrent, mixedRequests, mixedPerSecond, cpu: { sequential: cpuSequential, mixed: cpuMixed } };
}

// One server per --readers setting; the last stays up for the walk, the board and the closure.
const figures: ReadFigures[] = [];
let first!: Started;
for (const [i, readers] of READERS.entries()) {
  log(`starting the server (${fmt(info.rows.contacts)} contacts, ${fmt(info.rows.openClocks)} open clocks; ${readersLabel(readers)})…`);
  const server = await startServer(readers);
  log(`  answered /api/v1/health after ${ms(server.startupMs)}`);
  figures.push(await measureReads(server, readers));
  if (i < READERS.length - 1) await stopServer(server);
  else first = server;
}
const last = figures[figures.length - 1]!;
const rssAfterStart = last.rss;
const mixedRequests = figures.reduce((n, f) => n + f.mixedRequests, 0);

log('walking every page of status=open (limit 100)…');
const walk: number[] = [];
let walked = 0;
{
  let next: string | null = null;
  do {
    const r = await get(list(`status=open${next ? `&cursor=${next}` : ''}`));
    const body = r.body as { items: unknown[]; nextCursor: string | null };
    walk.push(r.ms);
    walked += body.items.length;
    next = body.nextCursor;
  } while (next !== null && Date.now() < runDeadline);
}
const walkSummary = summary(walk);
log(`  ${fmt(walked)} contacts in ${fmt(walk.length)} pages: p50 ${ms(walkSummary.p50)}, p99 ${ms(walkSummary.p99)}, max ${ms(walkSummary.max)}; ${(walk.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all`);

// Board snapshots: a fresh socket each time, spaced past the 250 ms a snapshot is reused for.
function snapshotOnce(): Promise<{ ms: number; bytes: number; urgentTotal: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live?access_token=${token}`, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no snapshot within 10 s'));
    }, 10_000);
    ws.once('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; urgentTotal?: number };
      const elapsed = performance.now() - t0;
      clearTimeout(timer);
      ws.close();
      if (m.type !== 'snapshot') reject(new Error(`first message was ${m.type}`));
      else resolve({ ms: elapsed, bytes: data.length, urgentTotal: m.urgentTotal ?? 0 });
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
log('board snapshots over a WebSocket (?access_token=), 20 × one at a time, 300 ms apart…');
const snapshots: number[] = [];
let snapshotBytes = 0;
let urgentTotal = 0;
for (let i = 0; i < 20; i++) {
  const s = await snapshotOnce();
  snapshots.push(s.ms);
  snapshotBytes = s.bytes;
  urgentTotal = s.urgentTotal;
  await sleep(300);
}
const snap = summary(snapshots);
log(`  p50 ${ms(snap.p50)}, p99 ${ms(snap.p99)}, max ${ms(snap.max)} (${(snapshotBytes / 1024).toFixed(0)} KB; ${fmt(urgentTotal)} urgent clocks counted)`);
const rssAfterReads = rssMb(first.child.pid!);

// A closure on the next weekday, 10:00–12:00 UTC, timed to its 201 and to the board's calendar delta.
// The next weekday: a working morning, so every running clock on the calendar due after it moves.
let next = new Date(Date.now() + DAY);
while (next.getUTCDay() === 0 || next.getUTCDay() === 6) next = new Date(next.getTime() + DAY);
const day = next.toISOString().slice(0, 10);
const closure = { from: `${day}T10:00:00Z`, to: `${day}T12:00:00Z`, reason: 'bench:reads' };
log(`adding a closure (${day} 10:00–12:00 UTC) with a board connected…`);
const board = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live?access_token=${token}`, { perMessageDeflate: false });
let deltaAt = 0;
let deltaContacts = 0;
await new Promise<void>((resolve, reject) => {
  board.once('message', () => resolve()); // the snapshot
  board.once('error', reject);
});
board.on('message', (data: Buffer) => {
  if (deltaAt !== 0) return;
  // The recompute's delta: many contacts at once (or partial: more upserts than a board is sent).
  // A timer's delta in the same seconds names a contact or two.
  const m = JSON.parse(data.toString()) as { type: string; contacts?: string[]; partial?: boolean };
  if (m.type === 'delta' && (m.partial === true || (m.contacts?.length ?? 0) >= 10)) {
    deltaAt = performance.now();
    deltaContacts = m.contacts?.length ?? 0;
  }
});
const c0 = performance.now();
const posted = await fetch(`${base}/api/v1/calendars/customer-services/closures`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify(closure),
  signal: AbortSignal.timeout(120_000),
});
const closureBody = (await posted.json()) as { recomputedContacts?: number; movedClocks?: number; message?: string };
const closureMs = performance.now() - c0;
if (posted.status !== 201) throw new Error(`closure: ${posted.status} ${JSON.stringify(closureBody)}`);
const deltaDeadline = performance.now() + 60_000;
while (deltaAt === 0 && performance.now() < deltaDeadline) await sleep(5);
const closureDeltaMs = deltaAt === 0 ? NaN : deltaAt - c0;
board.close();
log(`  201 after ${ms(closureMs)} (${fmt(closureBody.recomputedContacts ?? 0)} contacts recomputed, ${fmt(closureBody.movedClocks ?? 0)} clocks moved); the board's delta after ${ms(closureDeltaMs)}`);
// Reads right after the closure (the page cache and the heap as the edit left them).
const afterClosure: number[] = [];
for (let i = 0; i < 50; i++) afterClosure.push((await get(list('status=breached'))).ms);
const rssAfterClosure = rssMb(first.child.pid!);

await stopServer(first);
log('restarting the server (the same file, warm page cache)…');
const second = await startServer(READERS[READERS.length - 1]);
await sleep(2000);
const rssSecond = rssMb(second.child.pid!);
log(`  answered /api/v1/health after ${ms(second.startupMs)}; VmRSS ${rssSecond.rss.toFixed(0)} MB 2 s after`);
await stopServer(second);

// ------------------------------------------------------------------------------------------
// The table

const rows: string[][] = [];
for (const k of KINDS) {
  const items = last.sequential.get(k.name)!.items;
  const shown = items.length > 0 ? ` (${Math.round(items.reduce((a, b) => a + b, 0) / items.length)} items)` : '';
  const cells = figures.flatMap((f) => {
    const s = summary(f.sequential.get(k.name)!.times);
    const c = summary(f.concurrent.get(k.name)!);
    return [`${ms(s.p50)} / ${ms(s.p99)}`, ratio(s.p99, TARGET.readP99Ms), `${ms(c.p50)} / ${ms(c.p99)}`, ratio(c.p99, TARGET.readP99Ms)];
  });
  rows.push([`${k.group === 'list' ? 'GET /api/v1/contacts ' : ''}${k.name}${shown}`, ...cells]);
}
const blanks = Array.from({ length: 4 * figures.length - 2 }, () => '');
const row = (name: string, figure: string, value: number, target: number) => [name, figure, ratio(value, target), ...blanks];
rows.push(['mixed phase: requests answered per second', ...figures.flatMap((f) => ['', '', `${f.mixedPerSecond.toFixed(0)}/s`, ''])]);
const cpuCell = (c: { process: number; loop: number }) => `${c.process.toFixed(2)} ms / ${c.loop.toFixed(2)} ms`;
rows.push(['server CPU per request: the whole process / the event loop alone', ...figures.flatMap((f) => [cpuCell(f.cpu.sequential), '', cpuCell(f.cpu.mixed), ''])]);
for (const f of figures.slice(0, -1)) {
  rows.push(row(`start-up (${readersLabel(f.readers)}): spawn → /api/v1/health ok`, ms(f.startupMs), f.startupMs, TARGET.startupMs));
  rows.push(row(`VmRSS 2 s after start (${readersLabel(f.readers)}) — target ≤ ${TARGET.rssMb} MB`, `${f.rss.rss.toFixed(0)} MB (peak ${f.rss.hwm.toFixed(0)} MB)`, f.rss.rss, TARGET.rssMb));
}
const lastLabel = figures.length > 1 ? ` (${readersLabel(last.readers)})` : '';
rows.push(row(`every page of status=open, one after another (${fmt(walk.length)} pages, ${fmt(walked)} contacts)${lastLabel}`, `${ms(walkSummary.p50)} / ${ms(walkSummary.p99)}`, walkSummary.p99, TARGET.readP99Ms));
rows.push(row('status=breached right after the closure (50)', `${ms(summary(afterClosure).p50)} / ${ms(summary(afterClosure).p99)}`, summary(afterClosure).p99, TARGET.readP99Ms));
rows.push(row(`board snapshot over a WebSocket: connect → snapshot (20; ${(snapshotBytes / 1024).toFixed(0)} KB, ${fmt(urgentTotal)} urgent) — target ≤ ${TARGET.snapshotMs} ms`, `${ms(snap.p50)} / ${ms(snap.p99)}`, snap.p99, TARGET.snapshotMs));
rows.push(row(`start-up${lastLabel}: spawn → /api/v1/health ok (armed) — target ≤ ${TARGET.startupMs / 1000} s`, ms(first.startupMs), first.startupMs, TARGET.startupMs));
rows.push(row('start-up again, after the run (warm page cache)', ms(second.startupMs), second.startupMs, TARGET.startupMs));
rows.push(row(`VmRSS 2 s after start${lastLabel} — target ≤ ${TARGET.rssMb} MB`, `${rssAfterStart.rss.toFixed(0)} MB (peak ${rssAfterStart.hwm.toFixed(0)} MB)`, rssAfterStart.rss, TARGET.rssMb));
rows.push(['VmRSS after the reads / after the closure', `${rssAfterReads.rss.toFixed(0)} MB / ${rssAfterClosure.rss.toFixed(0)} MB (peak ${rssAfterClosure.hwm.toFixed(0)} MB)`, '', ...blanks]);
rows.push(row(`closure added: POST → 201 (${fmt(closureBody.recomputedContacts ?? 0)} contacts recomputed, ${fmt(closureBody.movedClocks ?? 0)} clocks moved) — target ≤ ${TARGET.closureMs / 1000} s`, ms(closureMs), closureMs, TARGET.closureMs));
rows.push([`closure: POST → the board's delta (${deltaContacts > 0 ? `${fmt(deltaContacts)} contacts named` : 'partial: the board refills from a snapshot'})`, ms(closureDeltaMs), '', ...blanks]);

const head = figures.flatMap((f) => {
  const who = figures.length > 1 ? `${readersLabel(f.readers)}: ` : '';
  return [`${who}one at a time (${REQUESTS} each): p50 / p99`, 'ratio', `${who}${CONCURRENCY} clients at once: p50 / p99`, 'ratio'];
});
const table = [
  `| read (lists: limit ${LIMIT}; target p99 ≤ ${TARGET.readP99Ms} ms unless given) | ${head.join(' | ')} |`,
  `|---|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
const totalS = (Date.now() - benchStarted) / 1000;
const machine = `${availableParallelism()} cores, Node ${process.version}, ${values.compiled ? 'the compiled server (`node dist/app/server/main.js`, as `npm start`)' : 'the server under tsx (`node --import tsx server/main.ts`)'}, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`;
const statusLine = ['met', 'missed', 'breached', 'at-risk', 'running', 'paused', 'abandoned', 'abandoned-short', 'cancelled', 'met-extended', 'missed-extended']
  .map((s) => `${s} ${fmt(counts[s] ?? 0)}`)
  .join(', ');
const data = `${fmt(info.rows.contacts)} contacts received over the year to the build (${new Date(info.now).toISOString().slice(0, 16)}Z), ${fmt(info.rows.events)} events, ${fmt(info.rows.clocks)} clocks (stored statuses: ${statusLine}); ${fmt(info.rows.openClocks)} clocks open on ${fmt(info.rows.openContacts)} contacts; ${(info.bytes / 1e9).toFixed(2)} GB; built in ${info.buildSeconds.toFixed(0)} s, ${((Date.now() - info.now) / 3_600_000).toFixed(1)} h before this run (${fmt(lagging.length)} statuses caught up). ${fmt(mixedRequests)} requests in the mixed phase.`;
const planLines = [...planOf].map(([name, plan]) => `| ${name} | ${plan.replaceAll('|', '\\|')} |`);
const plans = ['| list | EXPLAIN QUERY PLAN (statements merged by ‖) |', '|---|---|', ...planLines].join('\n');
console.log(`\n${data}\n\n${table}\n\n${plans}\n\n${machine}; ${totalS.toFixed(0)} s in all.`);

if (!values['no-write']) {
  const date = new Date().toISOString().slice(0, 10);
  const BEGIN = '<!-- bench:reads:begin (written by npm run bench:reads) -->';
  const END = '<!-- bench:reads:end -->';
  const block = `${BEGIN}
${date}, ${machine}; \`npm run bench:reads\` took ${totalS.toFixed(0)} s (${reused ? 'the cached database reused' : `the database built first, in ${info.buildSeconds.toFixed(0)} s`}).

${data}

${table}

The plans, from \`ContactStore.listPlan\` on the same file (the statements the server runs):

${plans}
${END}`;
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const current = readFileSync(file, 'utf8');
  const b = current.indexOf(BEGIN);
  const e = current.indexOf(END);
  const next = b >= 0 && e > b ? `${current.slice(0, b)}${block}${current.slice(e + END.length)}` : `${current.trimEnd()}\n\n## Reads on a year of data (npm run bench:reads)\n\n${block}\n`;
  writeFileSync(file, next);
  console.log('Written to docs/benchmarks.md (## Reads on a year of data).');
}
if (statSync(workDir, { throwIfNoEntry: false }) !== undefined) rmSync(workDir, { recursive: true, force: true });
process.exit(0);
