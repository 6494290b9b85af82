// `npm run bench:calendar`: Kept's working-time engine against two peer libraries, and the batch
// evaluator end to end.
//
// (a) The same seeded cases (10,000 by default; starts across 2025–2028 at ms precision, weighted
//     to the weeks of the clock changes, bank holidays and the opening/closing edges; durations
//     from a minute to 10 working days of 9 h) through Kept's engine, moment-business-time (with
//     moment-timezone) and dayjs-business-time (with dayjs's utc and timezone plugins), all set
//     to Europe/London, Monday–Friday 08:00–17:00, England & Wales bank holidays. Two questions per
//     case: the due instant (start + working duration) and the working time in [start, to).
// (b) Every answer checked against the brute-force oracle of the property tests
//     (tests/property/oracle.ts): exact to the ms, and within 1 s for the peers' coarser units.
// (c) Throughput: Kept in this thread on one core; each peer in a worker thread that times its
//     own calls. A peer call that makes no progress for 2 s is a hang: the worker is terminated
//     and restarted after that case. Peers run in parallel (one worker each, 2 cores) until they
//     finish or their time budget runs out; cases past the budget are reported as not run.
// (d) `sla evaluate` end to end: realistic contacts as JSON lines through the real CLI in a child
//     process, with in-process evaluateLine as the baseline.
//
// Bounded (< 3 min), stops by itself, prints a table and writes it to docs/benchmarks.md
// (section "## Calendar engine (npm run bench:calendar)"; --no-write to skip).
//   npm run bench:calendar -- [--cases 10000] [--contacts 200000] [--seed N] [--budget 180] [--no-write]
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ALWAYS } from '../../server/domain/calendar.js';
import { BUNDLED_BANK_HOLIDAYS, customerServicesCalendar } from '../../server/domain/defaults.js';
import { evaluateLine, type EvaluateOptions } from '../../server/evaluate.js';
import { DEFAULT_EVALUATE_THREADS } from '../../server/evaluate-pool.js';
import { oracleAddWorking, oracleCalendarFromGovUk, oracleCounted } from '../../tests/property/oracle.js';
import { KINDS, PEERS, STATUS, ZONE, makeCases, nearClockChange, type Cases, type PeerName } from './calendar-cases.js';
import { makeContactLines } from './calendar-contacts.js';
import type { PeerWorkerData } from './peer-worker.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    contacts: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '20251123' },
    budget: { type: 'string', default: '165' },
    'no-write': { type: 'boolean', default: false },
  },
});
const N_CASES = Number(values.cases);
const N_CONTACTS = Number(values.contacts);
const SEED = Number(values.seed);
/** Whole-run budget in seconds; the peers get what the other parts leave. */
const BUDGET_S = Number(values.budget);
const HANG_MS = 2000;
const NOW_ISO = '2026-11-23T00:00:00Z';
const TARGET = { keptAddsPerSec: 2_000_000, ratioToFasterPeer: 300, evaluatePerSec: 50_000 };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const benchStarted = performance.now();
const loadAtStart = loadavg()[0]!;
const since = () => (performance.now() - benchStarted) / 1000;
const log = (s: string) => console.log(`[${since().toFixed(1).padStart(5)} s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fmtInt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-GB') : 'n/a');
const fmtRate = (v: number) => (Number.isFinite(v) ? (v >= 100 ? fmtInt(v) : v.toFixed(1)) : 'n/a');
const fmtRatio = (v: number) => (Number.isFinite(v) ? `${fmtInt(v)}×` : 'n/a');
const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');
const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : String(t));
function fmtDelta(ms: number): string {
  const sign = ms < 0 ? '−' : '+';
  const a = Math.abs(ms);
  if (a >= 3_600_000 && a % 3_600_000 === 0) return `${sign}${a / 3_600_000} h`;
  if (a >= 60_000 && a % 60_000 === 0) return `${sign}${a / 60_000} min`;
  if (a >= 1000) return `${sign}${(a / 1000).toFixed(a % 1000 === 0 ? 0 : 3)} s`;
  return `${sign}${a} ms`;
}
const fmtDuration = (ms: number) => {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h} h ${m} min ${s} s`;
};

// ------------------------------------------------------------------------------------------
// Cases

const engHolidays = BUNDLED_BANK_HOLIDAYS['england-and-wales']!.events.map((e) => e.date);
const cases = makeCases(N_CASES, SEED, engHolidays);
log(`${fmtInt(N_CASES)} cases (seed ${SEED}): ${KINDS.map((k, j) => `${k} ${fmtInt(cases.kind.filter((x) => x === j).length)}`).join(', ')}`);

// ------------------------------------------------------------------------------------------
// Kept, in this thread

const kept = customerServicesCalendar({ division: 'england-and-wales' });
const keptAdd = new Float64Array(N_CASES);
const keptCount = new Float64Array(N_CASES);
for (let i = 0; i < N_CASES; i++) {
  keptAdd[i] = kept.addWorking(cases.start[i]!, cases.duration[i]!);
  keptCount[i] = kept.countedBetween(cases.start[i]!, cases.to[i]!);
}

/** Calls per second of `pass` (one pass = N_CASES calls): best of 5 rounds of ≥ 300 ms each. */
function throughput(pass: () => number): number {
  let sink = 0;
  for (let w = 0; w < 3; w++) sink += pass();
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let passes = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      sink += pass();
      passes++;
      t = performance.now();
    } while (t - t0 < 300);
    best = Math.max(best, (passes * N_CASES) / ((t - t0) / 1000));
  }
  if (sink === 42) console.log(''); // keep the results alive
  return best;
}
const { start, duration, to } = cases;
const keptAddRate = throughput(() => {
  let s = 0;
  for (let i = 0; i < N_CASES; i++) s += kept.addWorking(start[i]!, duration[i]!);
  return s;
});
const keptCountRate = throughput(() => {
  let s = 0;
  for (let i = 0; i < N_CASES; i++) s += kept.countedBetween(start[i]!, to[i]!);
  return s;
});
log(`Kept: ${fmtInt(keptAddRate)} due instants/s, ${fmtInt(keptCountRate)} elapsed queries/s (main thread)`);

// ------------------------------------------------------------------------------------------
// The oracle (the property tests' own)

const oracleCal = oracleCalendarFromGovUk('england-and-wales');
const expAdd = new Float64Array(N_CASES);
const expCount = new Float64Array(N_CASES);
{
  const t0 = performance.now();
  for (let i = 0; i < N_CASES; i++) {
    expAdd[i] = oracleAddWorking(oracleCal, start[i]!, duration[i]!);
    expCount[i] = oracleCounted(oracleCal, start[i]!, to[i]!);
  }
  log(`oracle: ${fmtInt(2 * N_CASES)} answers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface KeptMismatch {
  op: 'add' | 'count';
  i: number;
  expected: number;
  got: number;
}
const keptMismatches: KeptMismatch[] = [];
for (let i = 0; i < N_CASES; i++) {
  if (keptAdd[i] !== expAdd[i]) keptMismatches.push({ op: 'add', i, expected: expAdd[i]!, got: keptAdd[i]! });
  if (keptCount[i] !== expCount[i]) keptMismatches.push({ op: 'count', i, expected: expCount[i]!, got: keptCount[i]! });
}
log(`Kept vs oracle: ${keptMismatches.length === 0 ? 'all answers identical' : `${keptMismatches.length} mismatches`}`);

// ------------------------------------------------------------------------------------------
// sla evaluate, end to end

interface EvaluateResult {
  contacts: number;
  bytes: number;
  inProcessPerSec: number;
  inProcessErrors: number;
  cliWallMs: number;
  cliStartupMs: number;
  cliExit: number | null;
  cliStderr: string;
}

function runCli(inputFile: string): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const fd = openSync(inputFile, 'r');
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'evaluate', '--quiet', '--now', NOW_ISO], {
      cwd: ROOT,
      stdio: [fd, 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => (stderr += s));
    child.on('error', (e) => {
      closeSync(fd);
      reject(e);
    });
    child.on('close', (code) => {
      closeSync(fd);
      resolve({ ms: performance.now() - t0, code, stderr });
    });
  });
}

async function benchEvaluate(): Promise<EvaluateResult> {
  const now = Date.parse(NOW_ISO);
  const lines = makeContactLines(N_CONTACTS, SEED, now);
  const dir = mkdtempSync(join(tmpdir(), 'kept-bench-calendar-'));
  try {
    const file = join(dir, 'contacts.jsonl');
    const text = lines.join('\n') + '\n';
    writeFileSync(file, text);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    log(`evaluate: ${fmtInt(N_CONTACTS)} contacts written (${(text.length / 1e6).toFixed(1)} MB)`);

    // In-process baseline: evaluateLine over every line, as evaluateStream calls it.
    const options: EvaluateOptions = {
      calendars: { always: ALWAYS, 'customer-services': customerServicesCalendar({ division: 'england-and-wales' }) },
      now,
      packFamily: 'livewest',
      explain: false,
    };
    let errors = 0;
    let firstError = '';
    for (let i = 0; i < Math.min(2000, lines.length); i++) evaluateLine(lines[i]!, i + 1, options); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < lines.length; i++) {
      const r = evaluateLine(lines[i]!, i + 1, options);
      if (!r.ok) {
        errors++;
        if (firstError === '') firstError = r.output;
      }
    }
    const inProcessMs = performance.now() - t0;
    if (errors > 0) log(`evaluate: ${errors} contacts rejected, e.g. ${firstError}`);
    log(`evaluate in-process: ${fmtInt((lines.length / inProcessMs) * 1000)} contacts/s`);

    const startup = await runCli(empty);
    const full = await runCli(file);
    log(`evaluate CLI: ${fmtInt(N_CONTACTS)} contacts in ${(full.ms / 1000).toFixed(2)} s (start-up ${(startup.ms / 1000).toFixed(2)} s), exit ${full.code}`);
    return {
      contacts: lines.length,
      bytes: text.length,
      inProcessPerSec: (lines.length / inProcessMs) * 1000,
      inProcessErrors: errors,
      cliWallMs: full.ms,
      cliStartupMs: startup.ms,
      cliExit: full.code,
      cliStderr: full.stderr.trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const evaluate = await benchEvaluate();

// ------------------------------------------------------------------------------------------
// The peers, in worker threads, watched for hangs

interface PeerRun {
  peer: PeerName;
  note: string;
  result: Float64Array;
  time: Float64Array;
  status: Uint8Array;
  hangs: number;
  restarts: number;
  /** Worker lanes used (a lane is split when another peer's lane has finished). */
  lanes: number;
  wallMs: number;
  stoppedByBudget: boolean;
  failure: string | null;
}

const TSX_API = import.meta.resolve('tsx/esm/api');
const WORKER_URL = new URL('./peer-worker.ts', import.meta.url).href;
// Workers do not inherit tsx's loader on Node 20: each registers it before importing the TS worker.
const BOOT = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); });`;

/** Peer holidays: the England & Wales dates of the years the cases touch (2024–2029; the file ends in 2028). */
const peerHolidays = engHolidays.filter((d) => d >= '2024-01-01' && d <= '2029-12-31');

function newRun(peer: PeerName, tasks: number): PeerRun {
  const sab = (bytes: number) => new SharedArrayBuffer(bytes);
  return {
    peer,
    note: '',
    result: new Float64Array(sab(8 * tasks)).fill(NaN),
    time: new Float64Array(sab(8 * tasks)),
    status: new Uint8Array(sab(tasks)),
    hangs: 0,
    restarts: 0,
    lanes: 0,
    wallMs: 0,
    stoppedByBudget: false,
    failure: null,
  };
}

/** One worker at a time over tasks [from, control[2]) of `run`, restarted after each hang. */
interface Lane {
  run: PeerRun;
  /** [0] next task (tasks done), [1] stop flag, [2] end task (exclusive; lowered when the lane is split). */
  control: Int32Array;
  done: Promise<void>;
}

function startLane(run: PeerRun, c: Cases, from: number, end: number, deadline: number): Lane {
  const control = new Int32Array(new SharedArrayBuffer(12));
  Atomics.store(control, 0, from);
  Atomics.store(control, 2, end);
  run.lanes++;
  const done = (async () => {
    let next = from;
    while (next < Atomics.load(control, 2) && run.failure === null) {
      if (performance.now() >= deadline) {
        run.stoppedByBudget = true;
        break;
      }
      Atomics.store(control, 0, next);
      Atomics.store(control, 1, 0);
      const data: PeerWorkerData = {
        peer: run.peer,
        zone: ZONE,
        holidays: peerHolidays,
        firstTask: next,
        start: c.start,
        duration: c.duration,
        to: c.to,
        control,
        result: run.result,
        time: run.time,
        status: run.status,
      };
      const worker = new Worker(BOOT, { eval: true, execArgv: [], workerData: data });
      let ready = false;
      let finished = false;
      worker.on('message', (m: { ready?: boolean; note?: string; done?: boolean }) => {
        if (m.ready) {
          ready = true;
          run.note = m.note ?? run.note;
        }
        if (m.done) finished = true;
      });
      worker.on('error', (e) => {
        run.failure = `${run.peer} worker failed: ${e.message}`;
      });
      let exitedNow = false;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      void exited.then(() => (exitedNow = true));

      const spawnedAt = performance.now();
      let last = next;
      let lastChange = spawnedAt;
      for (;;) {
        await sleep(20);
        if (exitedNow || finished || run.failure !== null) break;
        const t = performance.now();
        if (!ready) {
          lastChange = t;
          if (t - spawnedAt > 30_000) break; // a worker that cannot start: given up on below
          continue;
        }
        const at = Atomics.load(control, 0);
        if (at !== last) {
          last = at;
          lastChange = t;
        } else if (t - lastChange > HANG_MS) {
          // Task `at` has made no progress for 2 s: a hang. Count it; restart after it.
          await worker.terminate();
          run.status[at] = STATUS.hang;
          run.hangs++;
          break;
        }
        if (t >= deadline && Atomics.load(control, 1) === 0) {
          Atomics.store(control, 1, 1); // the worker stops after the call in hand
          run.stoppedByBudget = true;
        }
      }
      await worker.terminate();
      await exited;
      next = Atomics.load(control, 0);
      if (run.status[next] === STATUS.hang) next++;
      if (!ready && run.failure === null) run.failure = `${run.peer} worker did not start`;
      if (run.stoppedByBudget) break;
      if (next < Atomics.load(control, 2)) run.restarts++;
    }
  })();
  return { run, control, done };
}

/**
 * All peers over the cases until done or the deadline: one lane per peer to begin with; when a
 * lane ends early, its core takes the second half of the largest range still to run.
 */
async function runPeers(c: Cases, deadline: number): Promise<PeerRun[]> {
  const tasks = 2 * c.n;
  const runs = PEERS.map((p) => newRun(p, tasks));
  const t0 = performance.now();
  const active = new Set<Lane>();
  const track = (lane: Lane) => {
    active.add(lane);
    void lane.done.then(() => {
      active.delete(lane);
      lane.run.wallMs = performance.now() - t0;
    });
  };
  for (const run of runs) track(startLane(run, c, 0, tasks, deadline));
  while (active.size > 0) {
    await Promise.race([...active].map((l) => l.done));
    await sleep(0);
    if (active.size >= Math.max(2, availableParallelism()) || performance.now() > deadline - 5000) continue;
    let widest: Lane | null = null;
    let widestLeft = 0;
    for (const lane of active) {
      if (lane.run.failure !== null) continue;
      const left = Atomics.load(lane.control, 2) - Atomics.load(lane.control, 0);
      if (left > widestLeft) {
        widest = lane;
        widestLeft = left;
      }
    }
    if (widest === null || widestLeft < 40) continue;
    const end = Atomics.load(widest.control, 2);
    const mid = (Atomics.load(widest.control, 0) + Math.floor(widestLeft / 2)) & ~1; // a case's first task
    Atomics.store(widest.control, 2, mid);
    const from = Math.max(mid, Atomics.load(widest.control, 0));
    track(startLane(widest.run, c, from, end, deadline));
  }
  return runs;
}

// What is left of the budget, less a margin for the report, goes to the peers (in parallel).
const peerBudgetMs = Math.max(10_000, (BUDGET_S - 8 - since()) * 1000);
log(`peers: ${PEERS.join(' and ')} in parallel, ${(peerBudgetMs / 1000).toFixed(0)} s budget, hang = no progress for ${HANG_MS / 1000} s`);
const deadline = performance.now() + peerBudgetMs;
const ticker = setInterval(() => log('peers: running…'), 20_000);
const runs = await runPeers(cases, deadline);
clearInterval(ticker);

// ------------------------------------------------------------------------------------------
// Compare and report

interface OpStats {
  ran: number;
  notRun: number;
  completed: number;
  exact: number;
  within1s: number;
  wrong: number;
  threw: number;
  hangs: number;
  callMs: number;
  perSec: number;
  /** Most frequent errors beyond 1 s (to the minute; "< 1 min" below it) and their counts. */
  topDeltas: Array<[string, number]>;
  /** Wrong answers (> 1 s) whose start is within 7 days of the March / October clock change. */
  wrongNear: { March: number; October: number };
  /** Hangs whose start is within 7 days of the March / October clock change. */
  hangsNear: { March: number; October: number };
  example: { i: number; expected: number; got: number } | null;
  hangExample: number | null;
}

function opStats(run: PeerRun, op: 0 | 1): OpStats {
  const s: OpStats = {
    ran: 0, notRun: 0, completed: 0, exact: 0, within1s: 0, wrong: 0, threw: 0, hangs: 0, callMs: 0, perSec: NaN,
    topDeltas: [], wrongNear: { March: 0, October: 0 }, hangsNear: { March: 0, October: 0 }, example: null, hangExample: null,
  };
  const deltas = new Map<string, number>();
  for (let i = 0; i < N_CASES; i++) {
    const task = 2 * i + op;
    const st = run.status[task]!;
    if (st === STATUS.notRun) {
      s.notRun++;
      continue;
    }
    s.ran++;
    const near = nearClockChange(start[i]!);
    if (st === STATUS.hang) {
      s.hangs++;
      if (near !== null) s.hangsNear[near]++;
      if (s.hangExample === null || (near === 'March' && nearClockChange(start[s.hangExample]!) !== 'March')) s.hangExample = i;
      continue;
    }
    s.completed++;
    s.callMs += run.time[task]!;
    if (st === STATUS.threw) {
      s.threw++;
      continue;
    }
    const expected = op === 0 ? expAdd[i]! : expCount[i]!;
    const got = run.result[task]!;
    const delta = got - expected;
    if (delta === 0) s.exact++;
    if (Math.abs(delta) <= 1000) s.within1s++;
    else {
      s.wrong++;
      if (near !== null) s.wrongNear[near]++;
      const key = Math.abs(delta) < 60_000 ? '< 1 min' : fmtDelta(Math.round(delta / 60_000) * 60_000);
      deltas.set(key, (deltas.get(key) ?? 0) + 1);
      // Show a clock-change example when there is one, and the biggest error otherwise.
      const better =
        s.example === null ||
        (near !== null && nearClockChange(start[s.example.i]!) === null) ||
        ((near !== null) === (nearClockChange(start[s.example.i]!) !== null) && Math.abs(delta) > Math.abs(s.example.got - s.example.expected));
      if (better) s.example = { i, expected, got };
    }
  }
  s.perSec = s.callMs > 0 ? (s.completed / s.callMs) * 1000 : NaN;
  s.topDeltas = [...deltas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return s;
}

const stats = runs.map((r) => ({ run: r, add: opStats(r, 0), count: opStats(r, 1) }));
const fasterPeerAdd = Math.max(...stats.map((s) => s.add.perSec).filter(Number.isFinite));
const fasterPeerCount = Math.max(...stats.map((s) => s.count.perSec).filter(Number.isFinite));
const keptExactAdd = N_CASES - keptMismatches.filter((m) => m.op === 'add').length;
const keptExactCount = N_CASES - keptMismatches.filter((m) => m.op === 'count').length;
const cliPerSec = (evaluate.contacts / evaluate.cliWallMs) * 1000;
const cliSteadyPerSec = (evaluate.contacts / Math.max(1, evaluate.cliWallMs - evaluate.cliStartupMs)) * 1000;
const totalS = since();

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const machine = `${availableParallelism()} cores (${cpu}), Node ${process.version}, process TZ=${process.env.TZ ?? '(unset)'}; 1-min load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`;
const okMark = (ok: boolean) => (ok ? 'met' : 'MISSED');

function typicalError(s: OpStats): string {
  if (s.wrong === 0) return '—';
  const top = s.topDeltas.map(([d, n]) => `${d} ×${fmtInt(n)}`).join(', ');
  const near = s.wrongNear.March + s.wrongNear.October;
  return `${top}; ${pct(near, s.wrong)} start within 7 days of a clock change (March ${fmtInt(s.wrongNear.March)}, October ${fmtInt(s.wrongNear.October)})`;
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const throughputRows: string[][] = [
  ['Kept (main thread)', fmtInt(keptAddRate), '1×', fmtInt(keptCountRate), '1×'],
  ...stats.map((s) => [
    `${s.run.peer} (worker)`,
    fmtRate(s.add.perSec),
    fmtRatio(keptAddRate / s.add.perSec),
    fmtRate(s.count.perSec),
    fmtRatio(keptCountRate / s.count.perSec),
  ]),
];
const throughputTable = mdTable(['engine', 'due instants/s', 'Kept ÷ this', 'elapsed queries/s', 'Kept ÷ this'], throughputRows);

const accuracyRow = (name: string, op: string, ran: number, notRun: number, exact: number, within: number, wrong: number, threw: number, hangs: number, typical: string) => [
  name, op, fmtInt(ran), fmtInt(notRun), `${fmtInt(exact)} (${pct(exact, ran)})`, `${fmtInt(within)} (${pct(within, ran)})`, fmtInt(wrong), fmtInt(threw), fmtInt(hangs), typical,
];
const accuracyRows: string[][] = [
  accuracyRow('Kept', 'due instant', N_CASES, 0, keptExactAdd, keptExactAdd, N_CASES - keptExactAdd, 0, 0, keptMismatches.length ? 'see below' : '—'),
  accuracyRow('Kept', 'elapsed', N_CASES, 0, keptExactCount, keptExactCount, N_CASES - keptExactCount, 0, 0, '—'),
  ...stats.flatMap((s) => [
    accuracyRow(s.run.peer, 'due instant', s.add.ran, s.add.notRun, s.add.exact, s.add.within1s, s.add.wrong, s.add.threw, s.add.hangs, typicalError(s.add)),
    accuracyRow(s.run.peer, 'elapsed', s.count.ran, s.count.notRun, s.count.exact, s.count.within1s, s.count.wrong, s.count.threw, s.count.hangs, typicalError(s.count)),
  ]),
];
const accuracyTable = mdTable(
  ['engine', 'question', 'cases run', 'not run (budget)', 'exact to the ms', 'within 1 s', 'wrong (> 1 s)', 'threw', 'hung (> 2 s)', 'typical error (answer − oracle)'],
  accuracyRows,
);

const evaluateTable = mdTable(
  ['measure', 'contacts/s', 'target'],
  [
    [`sla evaluate CLI, end to end (child process, default --threads = ${DEFAULT_EVALUATE_THREADS} worker thread(s) besides the main one, ${fmtInt(evaluate.contacts)} contacts, ${(evaluate.bytes / 1e6).toFixed(1)} MB, ${(evaluate.cliWallMs / 1000).toFixed(2)} s wall)`, fmtInt(cliPerSec), `≥ ${fmtInt(TARGET.evaluatePerSec)}: ${okMark(cliPerSec >= TARGET.evaluatePerSec)}`],
    [`same, less the CLI's start-up (${(evaluate.cliStartupMs / 1000).toFixed(2)} s on empty input)`, fmtInt(cliSteadyPerSec), ''],
    ['evaluateLine in-process (baseline, one thread)', fmtInt(evaluate.inProcessPerSec), ''],
  ],
);

const examples: string[] = [];
for (const s of stats) {
  for (const [op, o] of [['due instant', s.add], ['elapsed', s.count]] as const) {
    if (o.example !== null) {
      const i = o.example.i;
      const q = op === 'due instant' ? `start ${iso(start[i]!)} + ${fmtDuration(duration[i]!)}` : `[${iso(start[i]!)}, ${iso(to[i]!)})`;
      const show = (v: number) => (op === 'due instant' ? iso(v) : fmtDuration(v));
      examples.push(`- ${s.run.peer}, ${op}: ${q} → oracle ${show(o.example.expected)}, peer ${show(o.example.got)} (${fmtDelta(o.example.got - o.example.expected)})`);
    }
    if (o.hangExample !== null) {
      const i = o.hangExample;
      const q = op === 'due instant' ? `start ${iso(start[i]!)} + ${fmtDuration(duration[i]!)}` : `[${iso(start[i]!)}, ${iso(to[i]!)})`;
      examples.push(`- ${s.run.peer}, ${op}, hangs (e.g. ${q}): ${fmtInt(o.hangsNear.March + o.hangsNear.October)} of its ${fmtInt(o.hangs)} hangs start within 7 days of a clock change (March ${fmtInt(o.hangsNear.March)}, October ${fmtInt(o.hangsNear.October)})`);
    }
  }
}
const keptProblems = keptMismatches.slice(0, 5).map((m) => {
  const i = m.i;
  return m.op === 'add'
    ? `- Kept due instant: start ${iso(start[i]!)} + ${duration[i]} ms → oracle ${iso(m.expected)}, Kept ${iso(m.got)}`
    : `- Kept elapsed: [${iso(start[i]!)}, ${iso(to[i]!)}) → oracle ${m.expected} ms, Kept ${m.got} ms`;
});

const runNotes = stats.map((s) => {
  const r = s.run;
  const parts = [`${fmtInt(s.add.ran)} of ${fmtInt(N_CASES)} cases run in ${(r.wallMs / 1000).toFixed(0)} s`];
  if (r.stoppedByBudget) parts.push('stopped by the time budget');
  parts.push(r.hangs === 0 ? 'no hangs' : `${fmtInt(r.hangs)} hangs (worker terminated and restarted after each)`);
  if (r.lanes > 1) parts.push(`${r.lanes} worker lanes (its remaining cases were split when a core came free)`);
  if (r.failure) parts.push(`failure: ${r.failure}`);
  return `- ${r.peer}: ${parts.join('; ')}. Called as \`${r.note}\`.`;
});

const keptTarget = `Kept ${fmtInt(keptAddRate)} due instants/s (target ≥ ${fmtInt(TARGET.keptAddsPerSec)}: ${okMark(keptAddRate >= TARGET.keptAddsPerSec)}); ${fmtRatio(keptAddRate / fasterPeerAdd)} the faster peer's due instants (target ≥ ${TARGET.ratioToFasterPeer}×: ${okMark(keptAddRate / fasterPeerAdd >= TARGET.ratioToFasterPeer)}); ${fmtRatio(keptCountRate / fasterPeerCount)} its elapsed queries.`;

const section = `## Calendar engine (npm run bench:calendar)

Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, with \`npm run bench:calendar\`
(\`TZ=UTC tsx scripts/bench/calendar.ts\`: ${fmtInt(N_CASES)} cases, seed ${SEED}; ${totalS.toFixed(0)} s in all).

The cases: start instants across 2025–2028 at millisecond precision (${KINDS.map((k, j) => `${k} ${fmtInt(cases.kind.filter((x) => x === j).length)}`).join(', ')}: the week around each clock change, bank holidays and the days before them, 08:00/17:00 exactly or up to 30 min either side);
durations from a minute to 10 working days of 9 h (1, 2 and 10 working days and 80% of them, whole minutes, and arbitrary ms);
elapsed-time queries [start, to) up to 21 days long. Every engine is set to Europe/London, Monday–Friday 08:00–17:00 and the
England & Wales bank holidays (the peers get the dates of 2024–2028 from the same GOV.UK file). Answers are checked
against the brute-force oracle of the property tests (\`tests/property/oracle.ts\`).

${keptTarget}

### Throughput (calls per second, one core each)

${throughputTable}

Kept runs in the main thread; each peer runs in its own worker thread (the two in parallel on the 2 cores) and times its own
calls, so its figure counts only calls that returned or threw, never the 2 s of a hang.

### Answers against the oracle

${accuracyTable}

${runNotes.join('\n')}

${examples.length ? `Examples:\n\n${examples.join('\n')}\n` : ''}${keptProblems.length ? `\nKept's own mismatches (engine problems):\n\n${keptProblems.join('\n')}\n` : ''}
### sla evaluate, end to end

${evaluateTable}

The contacts: all five channels and three routes, ${'5%'} complaints (acknowledged, resolved, some paused, resumed and extended),
emergencies (attended, appointments), calls answered, abandoned (some under 5 s) and called back, replies, assignments,
recategorisations and cancellations; a tenth with their events out of order. Command:
\`node --import tsx server/cli.ts evaluate --quiet --now ${NOW_ISO} < contacts.jsonl > /dev/null\`${evaluate.inProcessErrors ? ` (${evaluate.inProcessErrors} contacts rejected)` : ''}${evaluate.cliExit !== 0 ? ` (exit ${evaluate.cliExit}: ${evaluate.cliStderr})` : ''}.
`;

console.log('');
console.log(section);

if (!values['no-write']) {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const heading = '## Calendar engine (npm run bench:calendar)';
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const at = current.indexOf(heading);
  let next: string;
  if (at < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const after = current.indexOf('\n## ', at + 3);
    next = `${current.slice(0, at)}${section}${after < 0 ? '' : `\n${current.slice(after + 1)}`}`;
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
  console.log(`Written to docs/benchmarks.md (${heading}).`);
}
log('done');
process.exit(0);
