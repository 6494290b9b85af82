// npm run bench:ingest — Kept's durable POST /api/v1/contacts against a bare Fastify route, 50 keep-alive
// connections each, load from autocannon in this process; each server runs in its own child process on
// 127.0.0.1 (the bare route is this script with --serve-bare), so load generator and servers do not share an
// event loop. The measured seconds of each phase are split into rounds taken in turn (bare, Kept, Kept, bare,
// …) so that a busy neighbour on a shared machine weighs on both alike. Writes the figures into
// docs/benchmarks.md (its "## Ingest" section only).
//
// Env: BENCH_SECONDS (measured seconds per phase, default 10), BENCH_ROUNDS (default 4), BENCH_WARMUP
// (seconds, default 2), BENCH_CPU_PROF=dir (Kept runs with --cpu-prof; profile written there on exit),
// BENCH_NO_DOCS=1 (print only), BENCH_BASELINE=dir (a second Kept, from another checkout of the code, e.g.
// `git archive` of main with node_modules linked, measured in the same rounds: a change's effect read against
// a baseline under the same neighbours; the docs are then left alone).
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { measureFloor } from './ingest-floor.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { freePort } from '../lib/free-port.js';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contactBody } from './ingest-bodies.js';

const root = join(import.meta.dirname, '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 4)));
const CONNECTIONS = 50;
const TARGET_RATIO = 0.5;
/** Kept's server CPU per acknowledged contact, at most this many times the bare route's (issue 9). */
const TARGET_CPU_RATIO = 3;
const TARGET_P99 = 50;

type Result = autocannon.Result & { '2xx': number; timeouts: number };
type Instance = { on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void };

/** One server's figures, summed over its rounds. */
interface Tally {
  name: string;
  ok: number;
  failed: number;
  /** Latency of every 2xx, ms. */
  latencies: number[];
  seconds: number;
  /** Server process CPU time over the rounds, ms. */
  cpuMs: number;
  /** Of which the process's main thread (the event loop), ms. */
  mainCpuMs: number;
  /** Of which the busiest other thread over the rounds (Kept: the writer thread), ms. */
  threadCpuMs: Map<number, number>;
  /** requests/s of each round, in order. */
  perRound: number[];
  /** SQLite commits over the rounds (Kept). */
  commits: number;
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`${url} did not come up in ${timeoutMs / 1000} s`);
}

/** utime + stime of a process (every thread), or of one of its threads with `tid`, ms (Linux /proc; 0 elsewhere). */
function cpuMs(pid: number | undefined, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return 0;
  }
}

/** CPU ms of every thread of a process, by thread id. */
function threadsCpuMs(pid: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(Number(tid), cpuMs(pid, Number(tid)));
  } catch {
    // not Linux
  }
  return out;
}

/** `seconds` of load at CONNECTIONS connections; every 2xx latency goes into `latencies`. */
function load(url: string, headers: Record<string, string>, seconds: number, prefix: string, latencies?: number[]): Promise<Result> {
  let i = 0;
  const start = Date.now();
  return new Promise((ok, fail) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        headers: { 'content-type': 'application/json', ...headers },
        // A fresh body per request: unique externalId (prefix-counter), mixed channels, categories, events.
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(contactBody(i++, prefix, start)) }) }],
      },
      (err, result) => (err ? fail(err) : ok(result as Result)),
    ) as Instance;
    if (latencies) {
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      });
    }
  });
}

interface Target {
  tally: Tally;
  url: string;
  headers: Record<string, string>;
  child: ChildProcess;
  prefix: string;
  commits?: () => Promise<number>;
}

async function round(t: Target, seconds: number, r: number): Promise<void> {
  const commits0 = t.commits ? await t.commits() : 0;
  const cpu0 = cpuMs(t.child.pid);
  const main0 = cpuMs(t.child.pid, t.child.pid); // the main thread's id is the process's
  const threads0 = threadsCpuMs(t.child.pid);
  const t0 = performance.now();
  const result = await load(t.url, t.headers, seconds, `${t.prefix}-${r}`, t.tally.latencies);
  const elapsed = (performance.now() - t0) / 1000;
  t.tally.cpuMs += cpuMs(t.child.pid) - cpu0;
  t.tally.mainCpuMs += cpuMs(t.child.pid, t.child.pid) - main0;
  for (const [tid, ms] of threadsCpuMs(t.child.pid)) if (tid !== t.child.pid) t.tally.threadCpuMs.set(tid, (t.tally.threadCpuMs.get(tid) ?? 0) + ms - (threads0.get(tid) ?? 0));
  if (t.commits) t.tally.commits += (await t.commits()) - commits0;
  t.tally.ok += result['2xx'];
  t.tally.failed += result.non2xx + result.errors + result.timeouts;
  t.tally.seconds += elapsed;
  t.tally.perRound.push(result['2xx'] / elapsed);
}

function stop(child: ChildProcess, signal: NodeJS.Signals, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      ok();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      ok();
    });
    child.kill(signal);
  });
}

const int = (n: number) => Math.round(n).toLocaleString('en-GB');
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
const tally = (name: string): Tally => ({ name, ok: 0, failed: 0, latencies: [], seconds: 0, cpuMs: 0, mainCpuMs: 0, threadCpuMs: new Map(), perRound: [], commits: 0 });
/** The busiest thread other than the main one (Kept: the writer thread), ms over the rounds. */
const busiestThreadMs = (t: Tally) => Math.max(0, ...t.threadCpuMs.values());

async function main(): Promise<void> {
  const wallStart = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'kept-bench-'));
  const children: ChildProcess[] = [];
  // Stops by itself whatever happens (a baseline adds its own rounds and start).
  const limit = 170 + (process.env.BENCH_BASELINE ? SECONDS + WARMUP + 30 : 0);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:ingest: time limit (${limit} s) reached, stopping\n`);
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }, limit * 1000);
  watchdog.unref();
  const load1 = loadavg()[0]!;
  try {
    const slice = SECONDS / ROUNDS;
    process.stderr.write(`bench:ingest: ${CONNECTIONS} connections; ${WARMUP} s warm-up, then ${ROUNDS} rounds of ${slice} s per server; ${cpus().length} cores, load average ${load1.toFixed(2)}\n`);
    const profDir = process.env.BENCH_CPU_PROF;
    const baselineRoot = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;

    // Every server up (an idle one costs nothing), each in its own process.
    const barePort = await freePort();
    const bareChild = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench/ingest.ts'), '--serve-bare'], { cwd: root, env: { ...process.env, PORT: String(barePort) }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(bareChild);
    /** A Kept server run from the code at `codeRoot`, on its own database file. */
    const startKept = async (codeRoot: string, prefix: string, name: string): Promise<Target & { db: string }> => {
      const db = join(dir, `${prefix}.db`);
      const created = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'token', 'create', 'bench'], { cwd: codeRoot, env: { ...process.env, KEPT_DB: db }, encoding: 'utf8' });
      const token = created.stdout.trim();
      if (created.status !== 0 || token === '') throw new Error(`token create failed: ${created.stderr}`);
      const port = await freePort();
      const nodeArgs = profDir && codeRoot === root ? ['--cpu-prof', '--cpu-prof-dir', resolve(profDir)] : [];
      const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/main.ts'], {
        cwd: codeRoot,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', KEPT_DB: db, KEPT_LOG_LEVEL: 'warn', KEPT_WEB_ROOT: join(dir, 'no-web') },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await waitFor(`http://127.0.0.1:${port}/api/v1/health`, child);
      return {
        db,
        tally: tally(name),
        url: `http://127.0.0.1:${port}/api/v1/contacts`,
        headers: { authorization: `Bearer ${token}` },
        child,
        prefix,
        // The commit count is a detail of /health given to a token holder only.
        commits: async () => ((await (await fetch(`http://127.0.0.1:${port}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as { commits: number }).commits,
      };
    };
    await waitFor(`http://127.0.0.1:${barePort}/`, bareChild);
    const kept = await startKept(root, 'kept', 'Kept: POST /api/v1/contacts (durable: WAL, synchronous=FULL, 2xx after COMMIT)');
    const baseline = baselineRoot === undefined ? undefined : await startKept(baselineRoot, 'base', `Kept as of ${baselineRoot} (the baseline, same rounds)`);

    const bare: Target = {
      tally: tally('bare Fastify route: POST /bare (parse the JSON, reply 201)'),
      url: `http://127.0.0.1:${barePort}/bare`,
      headers: {},
      child: bareChild,
      prefix: 'bare',
    };
    const targets = baseline === undefined ? [bare, kept] : [bare, kept, baseline];
    if (WARMUP > 0) {
      process.stderr.write('warm-up…\n');
      for (const t of targets) await load(t.url, t.headers, WARMUP, `${t.prefix}-warm`);
    }
    for (let r = 0; r < ROUNDS; r++) {
      // In turn, every other round backwards: bare, Kept, Kept, bare, … (with a baseline: bare, Kept, base, base, Kept, bare, …).
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.prefix}…\n`);
        await round(t, slice, r);
      }
    }
    for (const t of targets) await stop(t.child, profDir && t === kept ? 'SIGTERM' : 'SIGKILL');
    // Every acknowledged contact of the measured rounds is in the file.
    const storedIn = (t: Target & { db: string }) => {
      const sqlite = new Database(t.db, { readonly: true });
      const n = (sqlite.prepare(`SELECT COUNT(*) AS n FROM contacts WHERE external_id LIKE '${t.prefix}-%' AND external_id NOT LIKE '${t.prefix}-warm-%'`).get() as { n: number }).n;
      sqlite.close();
      return n;
    };
    const stored = storedIn(kept);

    // Report
    const figures = targets.map((t) => {
      const sorted = Float64Array.from(t.tally.latencies).sort();
      const lat = Array.from(sorted);
      const tt = t.tally;
      return { t: tt, rps: tt.ok / tt.seconds, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), max: lat[lat.length - 1] ?? NaN, cpu: tt.cpuMs / (tt.seconds * 1000), cpuPerOk: (tt.cpuMs * 1000) / Math.max(1, tt.ok) };
    });
    const [b, k] = figures as [(typeof figures)[number], (typeof figures)[number]];
    const ratio = k.rps / b.rps;
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    const table = [
      '| route | requests/s | server CPU per 2xx | p50 | p99 | max | 2xx | non-2xx / errors | server CPU (of one core) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...figures.map((f) => `| ${f.t.name} | ${int(f.rps)} | ${Math.round(f.cpuPerOk)} µs | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.max)} | ${int(f.t.ok)} | ${int(f.t.failed)} | ${Math.round(f.cpu * 100)}% |`),
    ];
    const perRound = k.t.perRound.map((v, i) => `${Math.round((v / (b.t.perRound[i] ?? NaN)) * 100)}%`).join(', ');
    const perOk = (cpuMs: number, t: Tally) => Math.round((cpuMs * 1000) / Math.max(1, t.ok));
    const threads = (t: Tally) =>
      `main thread (the event loop) ${perOk(t.mainCpuMs, t)} µs, the busiest other thread (the writer) ${perOk(busiestThreadMs(t), t)} µs, the rest (V8's GC and platform threads, libuv) ${perOk(t.cpuMs - t.mainCpuMs - busiestThreadMs(t), t)} µs`;
    const summary = [
      `Kept / bare throughput: **${(ratio * 100).toFixed(1)}%** (target ≥ ${TARGET_RATIO * 100}%: ${verdict(ratio >= TARGET_RATIO)}; round by round ${perRound}); Kept p99 **${ms(k.p99)}** (target < ${TARGET_P99} ms: ${verdict(k.p99 < TARGET_P99)}).`,
      `Group commit: ${int(k.t.ok)} acknowledged contacts in ${int(k.t.commits)} SQLite commits (${(k.t.ok / Math.max(1, k.t.commits)).toFixed(1)} requests per COMMIT and fsync); ${int(stored)} contacts of the measured rounds in the database afterwards (≥ the 2xx count: ${verdict(stored >= k.t.ok)}).`,
      `Server CPU per acknowledged contact: Kept ${Math.round(k.cpuPerOk)} µs, **${(k.cpuPerOk / b.cpuPerOk).toFixed(1)}×** the bare route's ${Math.round(b.cpuPerOk)} µs (target ≤ ${TARGET_CPU_RATIO}×: ${verdict(k.cpuPerOk <= TARGET_CPU_RATIO * b.cpuPerOk)}); every thread of the server process counted: Kept's ${threads(k.t)}; the bare route's main thread ${perOk(b.t.mainCpuMs, b.t)} µs.`,
    ];
    // The floor: the same rows re-stored with nothing else (scripts/bench/ingest-floor.ts), the servers stopped.
    process.stderr.write('floor: the rows Kept stored, copied into a fresh file in the same transactions…\n');
    const floor = measureFloor(kept.db, kept.prefix, Math.max(1, Math.round(k.t.ok / Math.max(1, k.t.commits))));
    const pc = floor.perContact;
    summary.push(
      `Floor (the ${int(floor.contacts)} contacts' own rows — per contact ${pc.events.toFixed(1)} events, ${pc.clocks.toFixed(1)} clocks, ${pc.personKeys.toFixed(1)} person keys, ${pc.audit.toFixed(1)} audit entry — read beforehand and written by one prepared INSERT per row into a fresh file, ${floor.perCommit} contacts per COMMIT, WAL, synchronous=FULL, nothing else): **${Math.round(floor.withKeysUs)} µs** of CPU per contact = **${(floor.withKeysUs / b.cpuPerOk).toFixed(1)}×** the bare route's; without the person keys ${Math.round(floor.withoutKeysUs)} µs = ${(floor.withoutKeysUs / b.cpuPerOk).toFixed(1)}×. Kept's whole server ÷ the floor: ${(k.cpuPerOk / floor.withKeysUs).toFixed(1)}×.`,
    );
    if (baseline !== undefined) {
      const f = figures[2]!;
      summary.push(
        `Baseline (${baselineRoot}), same rounds: ${int(f.rps)} requests/s, ${Math.round(f.cpuPerOk)} µs per 2xx = ${(f.cpuPerOk / b.cpuPerOk).toFixed(1)}× the bare route's, p99 ${ms(f.p99)}; its ${threads(f.t)}; ${int(storedIn(baseline))} of its ${int(f.t.ok)} acknowledged contacts in its file. This checkout ÷ the baseline: CPU per 2xx **${(k.cpuPerOk / f.cpuPerOk).toFixed(2)}**.`,
      );
    }
    for (const t of targets.slice(1)) {
      const each = [...t.tally.threadCpuMs].filter(([, ms]) => ms > 0).sort((x, y) => y[1] - x[1]).map(([tid, ms]) => `${tid}: ${perOk(ms, t.tally)}`);
      process.stderr.write(`${t.prefix}: other threads, µs per 2xx: ${each.join(', ')}\n`);
    }
    const wall = (performance.now() - wallStart) / 1000;
    const today = new Date().toISOString().slice(0, 10);
    const header = `${today}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}; \`npm run bench:ingest\` took ${wall.toFixed(0)} s; 1-min load average ${load1.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`;
    process.stdout.write(`\n${header}\n\n${table.join('\n')}\n\n${summary.join('\n')}\n`);
    if (process.env.BENCH_NO_DOCS !== '1' && baseline === undefined) writeDocs(header, table, summary);
  } finally {
    clearTimeout(watchdog);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) await stop(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeDocs(header: string, table: string[], summary: string[]): void {
  const file = join(root, 'docs', 'benchmarks.md');
  const section = [
    '## Ingest (npm run bench:ingest)',
    '',
    `Both servers run as child processes on 127.0.0.1; autocannon runs in the parent with ${CONNECTIONS} keep-alive connections: ` +
      `${WARMUP} s of warm-up each (not counted), then ${SECONDS} s measured per server, in ${ROUNDS} rounds of ${SECONDS / ROUNDS} s taken in turn ` +
      '(bare, Kept, Kept, bare, …, so a busy neighbour on the shared machine weighs on both alike; latencies are every 2xx of the rounds). Every request is a different contact ' +
      '(`scripts/bench/ingest-bodies.ts`: all five channels, three routes, ~8% complaints, emergencies, about half with events ' +
      '— answered, abandoned, assigned, replied, acknowledged, attended — a customer, subject and summary; ~450 bytes) with a unique externalId. ' +
      '(a) is a bare Fastify app (`POST /bare`: the same JSON body parsed, 201 with a small JSON, nothing stored); ' +
      "(b) is Kept's server (`server/main.ts` through tsx; `npm start` runs the same code compiled: token auth, schema validation, the clocks computed, contact, events and clocks " +
      'written by the group-commit writer on its own thread and connection with WAL and synchronous=FULL, 201 only after COMMIT). "Server CPU" is the child\'s user + system time over its rounds (`/proc/<pid>/stat`: every thread of the process), divided by its 2xx answers for "per 2xx".',
    '',
    header,
    '',
    ...table,
    '',
    ...summary.map((s) => `- ${s}`),
    '',
  ].join('\n');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = before.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## Ingest'));
  let next: string;
  if (start === -1) {
    next = `${before.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end === -1) end = lines.length;
    const rest = lines.slice(end).join('\n');
    next = `${lines.slice(0, start).join('\n').replace(/\n*$/, '\n\n')}${section}${rest === '' ? '' : `\n${rest}`}`;
  }
  writeFileSync(file, next);
  process.stderr.write(`wrote ${file} (## Ingest section)\n`);
}

// Last, so every const above is initialised before main runs.
if (process.argv.includes('--serve-bare')) {
  // The baseline: Fastify's default JSON parser on the same bodies, a small JSON answer, nothing stored.
  const app = Fastify();
  let n = 0;
  app.post('/bare', async (request, reply) => {
    const body = request.body as { channel?: string; externalId?: string };
    return reply.status(201).send({ id: `bare-${++n}`, channel: body.channel, externalId: body.externalId });
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
} else {
  await main();
}
