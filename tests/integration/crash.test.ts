// Durability: the real server (a child process, as `npm start` runs it) under load from keep-alive
// clients is killed with SIGKILL mid-flight, then restarted on the same database file. Every contact
// that got a 2xx must be in the file (with its events), and the restarted server must answer.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { freePort } from '../../scripts/lib/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contactBody } from '../../scripts/bench/ingest-bodies.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kept-crash-'));
const dbFile = join(dir, 'kept.db');
const CLIENTS = 32;
const LOAD_MS = 1500;
const HEALTH_WAIT_MS = 20_000;
const children: ChildProcess[] = [];
const agents: http.Agent[] = [];
let port = 0;

function startServer(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, KEPT_DB: dbFile, PORT: String(port), HOST: '127.0.0.1', KEPT_LOG_LEVEL: 'warn', KEPT_WEB_ROOT: join(dir, 'no-web') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => process.stderr.write(`[server ${child.pid}] ${d}`));
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => child.once('exit', () => ok()));
}

async function waitForHealth(child: ChildProcess): Promise<void> {
  const until = Date.now() + HEALTH_WAIT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it was healthy`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not healthy after ${HEALTH_WAIT_MS / 1000} s`);
}

/** POST a contact; resolves with the status once the response head arrives (0: no response). */
function post(agent: http.Agent, token: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/contacts',
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        // The status line is only sent after COMMIT: a 2xx head is the acknowledgement.
        resolve(res.statusCode ?? 0);
        res.resume();
        res.on('error', () => undefined);
      },
    );
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function createToken(): string {
  const created = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'token', 'create', 'crash-test'], {
    cwd: root,
    env: { ...process.env, KEPT_DB: dbFile },
    encoding: 'utf8',
    timeout: 15_000,
  });
  const token = created.stdout.trim();
  if (created.status !== 0 || !token.startsWith('kept_')) throw new Error(`token create failed: ${created.stderr}`);
  return token;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map(exited));
  for (const a of agents) a.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('crash test: SIGKILL under load', () => {
  it('loses no acknowledged contact, and the restarted server answers and accepts new contacts', async () => {
    port = await freePort();
    const token = createToken();
    const server = startServer();
    await waitForHealth(server);

    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    agents.push(agent);
    const start = Date.now();
    const acknowledged: Array<{ channel: string; externalId: string; events: number; body: string }> = [];
    const refused: number[] = []; // HTTP answers other than 2xx: there should be none
    let sent = 0;
    let inFlight = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const contact = contactBody(sent++, 'crash', start);
        const body = JSON.stringify(contact);
        inFlight++;
        const status = await post(agent, token, body);
        inFlight--;
        if (status >= 200 && status < 300) acknowledged.push({ channel: contact.channel, externalId: contact.externalId, events: Array.isArray(contact.events) ? contact.events.length : 0, body });
        else if (status !== 0) refused.push(status);
      }
    };
    const clients = Array.from({ length: CLIENTS }, () => client());
    await new Promise((r) => setTimeout(r, LOAD_MS));
    stop = true;
    const inFlightAtKill = inFlight;
    server.kill('SIGKILL');
    await exited(server);
    await Promise.all(clients);
    agent.destroy();

    expect(server.signalCode).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0); // killed mid-flight, not between requests
    expect(refused).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(50);

    // The file as the killed process left it (WAL and all), read-only.
    const sqlite = new Database(dbFile, { readonly: true, fileMustExist: true });
    const stored = new Map<string, number>();
    const rows = sqlite
      .prepare("SELECT c.channel, c.external_id, (SELECT COUNT(*) FROM events e WHERE e.contact_id = c.id) AS events FROM contacts c WHERE c.external_id LIKE 'crash-%'")
      .all() as Array<{ channel: string; external_id: string; events: number }>;
    for (const r of rows) stored.set(`${r.channel}/${r.external_id}`, r.events);
    const integrity = sqlite.pragma('quick_check', { simple: true });
    sqlite.close();
    expect(integrity).toBe('ok');
    const lost = acknowledged.filter((a) => !stored.has(`${a.channel}/${a.externalId}`)).map((a) => a.externalId);
    expect(lost).toEqual([]);
    // Each contact went in with its events, in one transaction.
    const partial = acknowledged.filter((a) => stored.get(`${a.channel}/${a.externalId}`) !== a.events).map((a) => a.externalId);
    expect(partial).toEqual([]);

    // Restart on the same file.
    const restarted = startServer();
    await waitForHealth(restarted);
    const again = new http.Agent({ keepAlive: true });
    agents.push(again);
    const fresh = contactBody(1_000_000, 'after-restart', Date.now());
    expect(await post(again, token, JSON.stringify(fresh))).toBe(201);
    // An acknowledged contact replayed with the same content is recognised as stored (200, not 201).
    expect(await post(again, token, acknowledged[acknowledged.length - 1]!.body)).toBe(200);
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/contacts?channel=${fresh.channel}&limit=5`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    const list = (await r.json()) as { items: Array<{ externalId: string | null }> };
    expect(list.items.length).toBeGreaterThan(0);
    process.stderr.write(
      `crash test: ${sent} sent by ${CLIENTS} clients in ${LOAD_MS} ms, ${inFlightAtKill} in flight at SIGKILL, ${acknowledged.length} acknowledged, ${rows.length} stored, 0 lost\n`,
    );
  }, 30_000);
});
