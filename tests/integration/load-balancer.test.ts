// The load balancer, for real (deploy/haproxy.cfg, docs/scale-out.md): the shipped file passes
// `haproxy -c`; then two real Kept processes (SQLite, each its own database holding the same API
// token) behind a real HAProxy. Requests are spread round robin; the client's address reaches Kept
// from X-Forwarded-For (overwritten, never appended) and no query string reaches HAProxy's log; a
// board socket gets its snapshot through HAProxy and stays open past its client timeout on Kept's
// heartbeat alone (and is cut when the tunnel timeout is below the heartbeat); an instance whose
// /health answers 503 leaves rotation and comes back; a killed instance costs no request.
// The test runs the shipped file with shorter client/server/tunnel timeouts (each line must exist);
// the health-check settings are the shipped ones.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../db/connection.js';
import { LIVE_PATH, type ServerMessage } from '../../server/live/protocol.js';
import { TokenStore } from '../../server/store/tokens.js';
import { freePort } from '../../scripts/lib/free-port.js';

const root = join(import.meta.dirname, '..', '..');
const SHIPPED = join(root, 'deploy', 'haproxy.cfg');
/** Where Debian puts it (/usr/sbin is not on every user's PATH), else from PATH. */
const HAPROXY = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
const HAVE_HAPROXY = spawnSync(HAPROXY, ['-v']).status === 0;
if (!HAVE_HAPROXY) console.warn('load-balancer.test.ts skipped: haproxy is not installed (apt-get install haproxy; .ci/run installs it)');

/** Kept's heartbeat (server/live/hub.ts): the tunnel timeouts below are set around it. */
const HEARTBEAT_S = 15;
/** How long the board socket is held open: past the test's client timeout and its tunnel timeout. */
const HOLD_MS = (HEARTBEAT_S + 6) * 1000;

const dir = mkdtempSync(join(tmpdir(), 'kept-lb-'));
const children: ChildProcess[] = [];

interface Process {
  child: ChildProcess;
  /** Everything it wrote to stdout (Kept's JSON log; HAProxy's log). */
  out: () => string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Process {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, out: () => out };
}

/** Resolves once `check` passes; after `ms`, throws naming the last failure. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  let last = 'false';
  while (!(await check().catch((e: Error) => ((last = e.message), false)))) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Kept extends Process {
  name: string;
  base: string;
  dbFile: string;
}

async function startKept(name: string, dbFile: string): Promise<Kept> {
  const port = await freePort();
  const env = {
    ...process.env,
    KEPT_DB: dbFile,
    PORT: String(port),
    HOST: '127.0.0.1',
    KEPT_LOG_LEVEL: 'info',
    KEPT_TRUST_PROXY: 'true',
    KEPT_WRITE_TIMEOUT_MS: '500',
    KEPT_READER_THREADS: '0',
    KEPT_RETENTION_CRON: 'off',
    KEPT_WEB_ROOT: join(dir, 'no-web'),
  };
  const p = run(process.execPath, ['--import', 'tsx', 'server/main.ts'], env);
  return { ...p, name, base: `http://127.0.0.1:${port}`, dbFile };
}

/** The shipped file with the given `timeout` lines changed (each must be there to be changed). */
function withTimeouts(text: string, timeouts: Record<string, string>): string {
  let out = text;
  for (const [name, value] of Object.entries(timeouts)) {
    const line = new RegExp(`^(\\s*timeout ${name}) \\S+$`, 'm');
    if (!line.test(out)) throw new Error(`deploy/haproxy.cfg has no "timeout ${name}" line`);
    out = out.replace(line, `$1 ${value}`);
  }
  return out;
}

interface Balancer extends Process {
  base: string;
}

async function startHaproxy(name: string, text: string): Promise<Balancer> {
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, text);
  const port = await freePort();
  const p = run(HAPROXY, ['-db', '-f', file], { ...process.env, LB_BIND: `127.0.0.1:${port}`, LB_INSTANCE_1: a.base.slice('http://'.length), LB_INSTANCE_2: b.base.slice('http://'.length) });
  return { ...p, base: `http://127.0.0.1:${port}` };
}

let token = '';
let a: Kept;
let b: Kept;
/** The test's copy: 3 s client and server timeouts, a tunnel timeout 4 s above the heartbeat (room for a late beat). */
let lb: Balancer;
/** The same with the tunnel timeout below the heartbeat: the control. */
let lbShort: Balancer;

const auth = () => ({ authorization: `Bearer ${token}` });

/** Which instance answered a request through `base` (its database file, told to a token holder), and the status. */
async function ask(base: string): Promise<{ status: number; by: string | undefined }> {
  const r = await fetch(`${base}/api/v1/health`, { headers: auth(), signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { database?: string };
  return { status: r.status, by: body.database === a.dbFile ? 'a' : body.database === b.dbFile ? 'b' : body.database };
}

async function askMany(base: string, n: number): Promise<Array<{ status: number; by: string | undefined }>> {
  const answers = [];
  for (let i = 0; i < n; i++) answers.push(await ask(base));
  return answers;
}

let contactSerial = 0;
async function postContact(base: string): Promise<number> {
  const r = await fetch(`${base}/api/v1/contacts`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'phone', externalId: `lb-${++contactSerial}`, receivedAt: new Date().toISOString() }),
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

interface Board {
  messages: ServerMessage[];
  /** When each message arrived (ms). */
  arrivals: number[];
  openedAt: number;
  closedAt: number | null;
  socket: WebSocket;
}

function openBoard(base: string): Promise<Board> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}${LIVE_PATH}`, { headers: auth() });
    const board: Board = { messages: [], arrivals: [], openedAt: 0, closedAt: null, socket };
    socket.on('message', (data) => {
      board.messages.push(JSON.parse(String(data)) as ServerMessage);
      board.arrivals.push(Date.now());
      if (board.messages.length === 1) resolve(board);
    });
    socket.once('open', () => (board.openedAt = Date.now()));
    socket.once('close', () => (board.closedAt = Date.now()));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`the socket was refused: ${res.statusCode}`)));
  });
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((ok) => c.once('exit', ok)))));
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAVE_HAPROXY)('the load balancer (deploy/haproxy.cfg) in front of two Kept instances', () => {
  beforeAll(async () => {
    // One token in both databases: the second is a copy of the first.
    const fileA = join(dir, 'a.db');
    const connection = openDatabase(fileA);
    token = new TokenStore(connection.sqlite).create('load-balancer', Date.now());
    connection.close();
    const fileB = join(dir, 'b.db');
    copyFileSync(fileA, fileB);
    [a, b] = await Promise.all([startKept('a', fileA), startKept('b', fileB)]);
    for (const k of [a, b]) {
      await eventually(async () => {
        if (k.child.exitCode !== null) throw new Error(`Kept ${k.name} exited: ${k.out()}`);
        return ((await (await fetch(`${k.base}/api/v1/health`)).json()) as { status: string }).status === 'ok';
      }, 40_000, `Kept ${k.name} armed`);
    }
    const shipped = readFileSync(SHIPPED, 'utf8');
    lb = await startHaproxy('lb', withTimeouts(shipped, { client: '3s', server: '3s', tunnel: `${HEARTBEAT_S + 4}s` }));
    lbShort = await startHaproxy('lb-short', withTimeouts(shipped, { client: '3s', server: '3s', tunnel: '5s' }));
    for (const p of [lb, lbShort]) await eventually(async () => (await askMany(p.base, 2)).every((r) => r.status === 200), 15_000, 'HAProxy answering');
  });

  it('the shipped file passes `haproxy -c` with the instances given, and names what is missing without them', () => {
    const env = { ...process.env, LB_INSTANCE_1: '10.0.0.11:3000', LB_INSTANCE_2: '10.0.0.12:3000' };
    const valid = spawnSync(HAPROXY, ['-c', '-f', SHIPPED], { env, encoding: 'utf8' });
    expect(valid.status, valid.stderr).toBe(0);
    expect(valid.stdout).toContain('Configuration file is valid');
    const { LB_INSTANCE_1: _1, LB_INSTANCE_2: _2, ...without } = env;
    const refused = spawnSync(HAPROXY, ['-c', '-f', SHIPPED], { env: without, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/'server' expects <name> and <addr>/);
  });

  it('spreads requests round robin over both instances (no stickiness)', async () => {
    const answers = await askMany(lb.base, 8);
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(answers.filter((r) => r.by === 'a')).toHaveLength(4);
    expect(answers.filter((r) => r.by === 'b')).toHaveLength(4);
    // Alternating: each request is balanced on its own, even on one keep-alive connection.
    for (let i = 1; i < answers.length; i++) expect(answers[i]!.by).not.toBe(answers[i - 1]!.by);
  });

  it("Kept sees the client's address (X-Forwarded-For set, a made-up one replaced); HAProxy logs no query string", async () => {
    const secret = `kept_${'x'.repeat(8)}${Date.now()}`;
    const port = Number(new URL(lb.base).port);
    for (let i = 0; i < 2; i++) {
      // From 127.0.0.3, claiming to be 203.0.113.9; HAProxy itself reaches Kept from 127.0.0.1.
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, localAddress: '127.0.0.3', path: `/api/v1/health?access_token=${secret}`, headers: { 'x-forwarded-for': '203.0.113.9' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      expect(status).toBe(200);
    }
    await eventually(async () => [a, b].every((k) => k.out().includes('"remoteAddress":"127.0.0.3"')), 5000, 'a request from 127.0.0.3 logged by each instance');
    const keptLog = a.out() + b.out();
    for (const k of [a, b]) expect(k.out()).toContain('"remoteAddress":"127.0.0.3"'); // one request on each
    expect(keptLog).not.toContain('203.0.113.9');
    expect(keptLog).not.toContain(secret); // Kept redacts it too
    expect(lb.out()).not.toContain(secret);
    expect(lb.out()).not.toContain('access_token');
  });

  it('a board socket through HAProxy gets its snapshot and stays open past the client and tunnel timeouts on the heartbeat alone', async () => {
    const [board, control] = await Promise.all([openBoard(lb.base), openBoard(lbShort.base)]);
    expect(board.messages[0]?.type).toBe('snapshot');
    expect(control.messages[0]?.type).toBe('snapshot');
    await new Promise((r) => setTimeout(r, HOLD_MS - (Date.now() - board.openedAt)));
    expect(board.closedAt).toBeNull();
    expect(board.socket.readyState).toBe(WebSocket.OPEN);
    // After the greeting (the snapshot, the team lead's message), only heartbeats crossed it: no contact was written.
    const later = board.messages.filter((_, i) => board.arrivals[i]! - board.openedAt > 1000);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((m) => m.type === 'heartbeat')).toBe(true);
    // Silences far longer than the 3 s client timeout: an upgraded socket is under the tunnel timeout only.
    const silences = [...board.arrivals, Date.now()].map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!));
    expect(Math.max(...silences)).toBeGreaterThan(3000 * 2);
    // The control: a tunnel timeout of 5 s, which a beat every 15 s cannot keep open.
    expect(control.closedAt).not.toBeNull();
    expect(control.closedAt! - control.openedAt).toBeLessThan(HEARTBEAT_S * 1000);
    board.socket.close();
  });

  it('an instance whose /health answers 503 leaves rotation, traffic goes on on the other, and it comes back', async () => {
    // Another process holds A's write lock: A's next write fails after KEPT_WRITE_TIMEOUT_MS (503 database locked).
    const locker = new Database(a.dbFile);
    try {
      locker.exec('BEGIN IMMEDIATE');
      expect(await postContact(a.base)).toBe(503);
      const direct = await fetch(`${a.base}/api/v1/health`);
      expect(direct.status).toBe(503);
      expect(await direct.json()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/lock/) });
      // The shipped checks: every 2 s, out after 2 failures.
      await eventually(async () => (await askMany(lb.base, 4)).every((r) => r.status === 200 && r.by === 'b'), 15_000, 'A out of rotation');
      const after = await askMany(lb.base, 6);
      expect(after).toEqual(Array.from({ length: 6 }, () => ({ status: 200, by: 'b' })));
      expect(await postContact(lb.base)).toBe(201);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    // Kept tries a real write every second while degraded; 2 good checks bring A back.
    await eventually(async () => (await askMany(lb.base, 2)).some((r) => r.by === 'a'), 15_000, 'A back in rotation');
    expect((await fetch(`${a.base}/api/v1/health`)).status).toBe(200);
  });

  it('a killed instance costs no request: a refused connection is retried on the other at once', async () => {
    a.child.kill('SIGKILL');
    await new Promise((ok) => a.child.once('exit', ok));
    const answers = await askMany(lb.base, 6);
    expect(answers).toEqual(Array.from({ length: 6 }, () => ({ status: 200, by: 'b' })));
    expect(await postContact(lb.base)).toBe(201);
  });
});
