// `npm run bench:live`: the live layer under load, against the real app in a child process.
//
// (a) 100,000 running phone clocks whose breach instants fall over one minute: how late is each
//     breach fired (live.lateness: fire time − due instant), and how late does a board get it.
// (b) 1,000 WebSocket clients: from a POST's 2xx to each client's receipt of the delta naming the
//     contact.
// (c) the server's resident memory with 100,000 running clocks and 1,000 clients.
//
// Bounded (< 3 min), stops by itself, prints a table and writes it to docs/benchmarks.md
// (section "## Live (npm run bench:live)"; --no-write to skip).
//   npm run bench:live -- [--clocks 100000] [--clients 1000] [--posts 50] [--no-write]
// BENCH_DEBUG=1 prints each post's first, median and last receipt.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { customerServicesCalendar } from '../../server/domain/defaults.js';
import type { DeltaMessage, ServerMessage } from '../../server/live/protocol.js';
import { buildDatabase } from './live-db.js';
import type { FromServer, ServerStats, ToServer } from './live-server.js';

const { values } = parseArgs({
  options: {
    clocks: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '1000' },
    posts: { type: 'string', default: '50' },
    'no-write': { type: 'boolean', default: false },
  },
});
const CLOCKS = Number(values.clocks);
const CLIENTS = Number(values.clients);
const POSTS = Number(values.posts);
const WINDOW_MS = 60_000;
const TARGET = { breachP99Ms: 250, fanoutP99Ms: 250, rssMb: 300 };

const benchStarted = Date.now();
/** The machine's 1-minute load average when the run began: other work on the 2 cores shows in every figure. */
const loadAtStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'kept-bench-live-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(`[${((Date.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${s}`);

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.length ? s[s.length - 1]! : NaN };
}
const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

// ------------------------------------------------------------------------------------------
// The server in a child process

interface Server {
  port: number;
  ready: { runningClocks: number; loadMs: number };
  stats(gc?: boolean): Promise<ServerStats>;
  close(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(dbFile: string, env: Record<string, string> = {}): Promise<Server> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'live-server.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    // Every client of the fan-out benchmark comes from 127.0.0.1: lift the per-address socket quota (50).
    env: { ...process.env, KEPT_DB: dbFile, KEPT_WS_MAX_CLIENTS_PER_ADDRESS: '5000', KEPT_WS_MAX_CLIENTS: '5000', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let nextId = 1;
  const waiting = new Map<number, (s: ServerStats) => void>();
  const ready = await new Promise<{ port: number; runningClocks: number; loadMs: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    child.on('message', (m: FromServer) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'stats') waiting.get(m.id)?.(m);
    });
  });
  return {
    port: ready.port,
    ready,
    stats: (gc = false) =>
      new Promise<ServerStats>((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'stats', id, gc } satisfies ToServer);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'close' } satisfies ToServer);
      }),
  };
}

function connect(port: number, token: string, onMessage: (data: Buffer, at: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      // The harness's own cost per copy is part of every figure: skip what the server does not need.
      skipUTF8Validation: true,
    });
    let first = true;
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      if (first) {
        first = false;
        resolve(ws); // the snapshot came
      }
      onMessage(data, at);
    });
    ws.once('error', reject);
    ws.once('close', (code) => {
      if (first) reject(new Error(`the socket closed (${code}) before the snapshot came`));
    });
  });
}

// ------------------------------------------------------------------------------------------
// The databases: built before any measurement so building never competes with it

log(`building ${CLOCKS.toLocaleString('en-GB')} running email clocks (for b and c)…`);
const calendar = customerServicesCalendar();
const emailNow = Date.now();
const emailDb = join(dir, 'email.db');
const position = calendar.position(emailNow);
// Received over the last 6 working hours: running (at risk after 7.2), so the board's urgent list stays short.
const emailBuild = buildDatabase(emailDb, CLOCKS, (i) => ({
  channel: 'email',
  route: 'customer-services',
  receivedAt: Math.min(emailNow - 1000, calendar.instantAt(Math.max(1, position - 1000 - Math.floor((i / CLOCKS) * 6 * 3_600_000)))),
}));
log(`  built in ${(emailBuild.ms / 1000).toFixed(1)} s`);

const LEAD_MS = 25_000;
const firstDue = Date.now() + LEAD_MS;
log(`building ${CLOCKS.toLocaleString('en-GB')} phone clocks due over one minute from +${LEAD_MS / 1000} s (for a)…`);
const phoneDb = join(dir, 'phone.db');
// phone-answer: due 5 min after receivedAt (at risk after 4 min): breaches from firstDue to firstDue + 60 s.
const phoneBuild = buildDatabase(phoneDb, CLOCKS, (i) => ({ channel: 'phone', route: 'customer-services', receivedAt: firstDue - 300_000 + Math.floor((i * WINDOW_MS) / CLOCKS) }));
log(`  built in ${(phoneBuild.ms / 1000).toFixed(1)} s`);

// ------------------------------------------------------------------------------------------
// (a) breach lateness with 100,000 running clocks

log('(a) starting the server on the phone database…');
const a = await startServer(phoneDb, { BENCH_FIRST_DUE: String(firstDue + 1) });
log(`  loaded and armed ${a.ready.runningClocks.toLocaleString('en-GB')} running clocks in ${(a.ready.loadMs / 1000).toFixed(1)} s; breaches start in ${((firstDue - Date.now()) / 1000).toFixed(1)} s`);
// One board open (the wall board), so every firing builds and sends a delta as it would live.
const pushLateness: number[] = [];
let boardDeltas = 0;
const board = await connect(a.port, phoneBuild.token, (data) => {
  const received = Date.now();
  const m = JSON.parse(data.toString()) as ServerMessage;
  if (m.type !== 'delta') return;
  boardDeltas++;
  for (const u of (m as DeltaMessage).upsert) if (u.status === 'breached') pushLateness.push(received - Date.parse(u.dueAt) - 1);
});
log(`  a board is connected (snapshot received); waiting for the breach minute…`);
while (Date.now() < firstDue + WINDOW_MS + 1500) {
  await sleep(10_000);
  const s = await a.stats();
  log(`  breached ${s.fired.breached.toLocaleString('en-GB')} / ${CLOCKS.toLocaleString('en-GB')}; rss ${mb(s.rss)}, heap ${mb(s.heapUsed)}`);
}
const statsA = await a.stats();
const statsAgc = await a.stats(true);
board.close();
await a.close();
const breach = summary(statsA.breachLateness);
const allFirings = summary(statsA.lateness);
const push = summary(pushLateness);
log(`  breach firings ${breach.n}: p50 ${ms(breach.p50)}, p99 ${ms(breach.p99)}, max ${ms(breach.max)}; at the board: p50 ${ms(push.p50)}, p99 ${ms(push.p99)} (${boardDeltas} deltas)`);

// ------------------------------------------------------------------------------------------
// (b) fan-out to 1,000 clients and (c) memory, on the email database

log(`(b) starting the server on the email database; connecting ${CLIENTS} clients…`);
const b = await startServer(emailDb);
/** Per posted contact id: receipt instants at the clients. */
const receipts = new Map<string, number[]>();
const sockets: WebSocket[] = [];
const onDelta = (data: Buffer, at: number) => {
  // Deltas end with "contacts":[…]}: read just that (the 1,000 clients share this process's loop).
  if (data.toString('latin1', 0, 15) !== '{"type":"delta"') return;
  const i = data.lastIndexOf('"contacts":[');
  if (i < 0) return;
  for (const id of JSON.parse(data.toString('utf8', i + 11, data.length - 1)) as string[]) {
    let list = receipts.get(id);
    if (list === undefined) receipts.set(id, (list = []));
    list.push(at);
  }
};
const connectStarted = performance.now();
for (let i = 0; i < CLIENTS; i += 100) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, () => connect(b.port, emailBuild.token, onDelta)))));
}
const connectMs = performance.now() - connectStarted;
await sleep(500);
const beforePosts = await b.stats();
log(`  ${beforePosts.clients} clients connected in ${(connectMs / 1000).toFixed(1)} s (each got a snapshot); ${beforePosts.runningClocks.toLocaleString('en-GB')} running clocks; rss ${mb(beforePosts.rss)}`);

const posted: Array<{ id: string; at: number }> = [];
const WARMUP = 5;
for (let i = -WARMUP; i < POSTS; i++) {
  const res = await fetch(`http://127.0.0.1:${b.port}/api/v1/contacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emailBuild.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'phone', externalId: `fanout-${i}`, receivedAt: new Date().toISOString(), customer: { name: `Caller ${i}` }, subject: 'Boiler not working' }),
  });
  const at = performance.now();
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  if (i >= 0) posted.push({ id, at }); // the first few warm the route and the JIT up: not counted
  await sleep(100);
}
await sleep(1500);
const statsB = await b.stats();
const statsBgc = await b.stats(true);
const fanout: number[] = [];
let missing = 0;
for (const p of posted) {
  const got = receipts.get(p.id) ?? [];
  missing += CLIENTS - got.length;
  for (const r of got) fanout.push(r - p.at);
}
const fan = summary(fanout);
const fanBroadcast = summary(statsB.broadcastMs);
log(`  each broadcast to ${CLIENTS} clients held the server's loop: p50 ${ms(fanBroadcast.p50)}, max ${ms(fanBroadcast.max)}`);
if (process.env.BENCH_DEBUG) {
  for (const p of posted) {
    const got = (receipts.get(p.id) ?? []).map((r) => r - p.at).sort((x, y) => x - y);
    console.log(`post ${p.id.slice(0, 8)}: first ${got[0]?.toFixed(1)} median ${got[got.length >> 1]?.toFixed(1)} last ${got[got.length - 1]?.toFixed(1)}`);
  }
}
log(`  ${fan.n} receipts (${missing} missing, ${statsB.dropped} clients dropped): p50 ${ms(fan.p50)}, p99 ${ms(fan.p99)}, max ${ms(fan.max)}`);
for (const s of sockets) s.terminate();
await b.close();
rmSync(dir, { recursive: true, force: true });

// ------------------------------------------------------------------------------------------
// The table

const rssMb = statsB.rss / 1024 / 1024;
const rows: Array<[string, string, string, string]> = [
  [`(a) breach fired late, ${CLOCKS.toLocaleString('en-GB')} running clocks (${breach.n.toLocaleString('en-GB')} breaches over 1 min)`, `p50 ${ms(breach.p50)} · p99 ${ms(breach.p99)} · max ${ms(breach.max)}`, `p99 ≤ ${TARGET.breachP99Ms} ms`, `${(breach.p99 / TARGET.breachP99Ms).toFixed(2)} ${breach.p99 <= TARGET.breachP99Ms ? 'met' : 'MISSED'}`],
  [`(a) every firing in the window (live.lateness, ${allFirings.n.toLocaleString('en-GB')})`, `p50 ${ms(allFirings.p50)} · p99 ${ms(allFirings.p99)} · max ${ms(allFirings.max)}`, '', ''],
  [`(a) breach row received by an open board (${push.n.toLocaleString('en-GB')} rows in ${boardDeltas} deltas)`, `p50 ${ms(push.p50)} · p99 ${ms(push.p99)} · max ${ms(push.max)}`, '', ''],
  [`(b) POST 2xx → delta at each of ${CLIENTS.toLocaleString('en-GB')} clients (${POSTS} contacts, ${fan.n.toLocaleString('en-GB')} receipts${missing ? `, ${missing} missing` : ''})`, `p50 ${ms(fan.p50)} · p99 ${ms(fan.p99)} · max ${ms(fan.max)}`, `p99 ≤ ${TARGET.fanoutP99Ms} ms`, `${(fan.p99 / TARGET.fanoutP99Ms).toFixed(2)} ${fan.p99 <= TARGET.fanoutP99Ms && missing === 0 ? 'met' : 'MISSED'}`],
  [`(c) server RSS, ${statsB.runningClocks.toLocaleString('en-GB')} running clocks + ${statsB.clients.toLocaleString('en-GB')} clients`, `${rssMb.toFixed(0)} MB (heap ${mb(statsB.heapUsed)}; after a full GC: RSS ${mb(statsBgc.rss)}, heap ${mb(statsBgc.heapUsed)})`, `≤ ${TARGET.rssMb} MB`, `${(rssMb / TARGET.rssMb).toFixed(2)} ${rssMb <= TARGET.rssMb ? 'met' : 'MISSED'}`],
  [`(c) server RSS after (a): ${CLOCKS.toLocaleString('en-GB')} breached clocks, 1 board`, `${mb(statsA.rss)} (heap ${mb(statsA.heapUsed)}; after a full GC: RSS ${mb(statsAgc.rss)}, heap ${mb(statsAgc.heapUsed)})`, '', ''],
];
const table = ['| measure | figure | target | ratio |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const totalS = (Date.now() - benchStarted) / 1000;
const machine = `${availableParallelism()} cores, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`;
console.log(`\n${table}\n\n${machine}; ${totalS.toFixed(0)} s in all.`);

if (!values['no-write']) {
  // Only the figures between the markers are rewritten: the notes around them are kept.
  const date = new Date().toISOString().slice(0, 10);
  const BEGIN = '<!-- bench:live:begin (written by npm run bench:live) -->';
  const END = '<!-- bench:live:end -->';
  const block = `${BEGIN}
${date}, ${machine}; \`npm run bench:live\` took ${totalS.toFixed(0)} s.

${table}
${END}`;
  const file = join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  let next: string;
  const b = current.indexOf(BEGIN);
  const e = current.indexOf(END);
  if (b >= 0 && e > b) next = `${current.slice(0, b)}${block}${current.slice(e + END.length)}`;
  else {
    const section = `## Live (npm run bench:live)

The server runs in a child process (\`scripts/bench/live-server.ts\`: the real \`buildApp\`, LiveService,
ClockScheduler and LiveHub, started like \`npm start\` under tsx); the clients and the timing run in the parent
(\`scripts/bench/live.ts\`), so they do not share the server's event loop.

- (a) ${CLOCKS.toLocaleString('en-GB')} phone contacts are written straight to a fresh database (\`scripts/bench/live-db.ts\`: the
  stores, clocks from the real engine) with \`receivedAt\` = start + 25 s − 5 min + i × 60 s / ${CLOCKS.toLocaleString('en-GB')}, so their
  \`phone-answer\` breaches fall over one minute. The server loads and arms them at start (at-risk instants
  already past are caught up at once, the rest fire live before the breaches). Lateness = when the fire path
  handles a firing − its instant (\`live.lateness\`, reset at the first breach instant; breaches apart by
  wrapping the scheduler's callback at the same point). One board is connected, so every firing builds and
  sends a real delta (board figures included); "received by an open board" is its receipt − the due instant.
- (b) ${CLIENTS.toLocaleString('en-GB')} WebSocket clients on 127.0.0.1 with an API token; ${POSTS} phone contacts posted one at a time
  100 ms apart (after ${WARMUP} unmeasured warm-up posts); latency = receipt of the delta whose \`contacts\` names the contact − the POST's 2xx, both
  timed in the parent (so a client's figure includes the parent handling the other clients' copies first).
- (c) \`process.memoryUsage().rss\` of the server process with ${CLOCKS.toLocaleString('en-GB')} running email clocks (received over the
  last 6 working hours: running, not urgent) and the ${CLIENTS.toLocaleString('en-GB')} clients connected, after the posts.

${block}
`;
    const start = current.indexOf('## Live (npm run bench:live)');
    if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
    else {
      const after = current.indexOf('\n## ', start + 3);
      next = `${current.slice(0, start)}${section}${after < 0 ? '' : `\n${current.slice(after + 1)}`}`;
    }
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
  console.log('Written to docs/benchmarks.md (## Live).');
}
process.exit(0);
