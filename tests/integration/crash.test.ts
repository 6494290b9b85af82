// Durability: the server as a child process under load, killed with SIGKILL, restarted —
// every contact that got a 2xx is in the database.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kept-crash-'));
const db = join(dir, 'kept.db');
const port = 20000 + Math.floor(Math.random() * 20000);
const children: ChildProcess[] = [];

function startServer(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, KEPT_DB: db, PORT: String(port), KEPT_LOG_LEVEL: 'warn', KEPT_WEB_ROOT: join(dir, 'no-web') },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function waitForHealth(timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become healthy');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function postContact(token: string, externalId: string): Promise<number> {
  const body = JSON.stringify({
    channel: 'email',
    externalId,
    receivedAt: new Date().toISOString(),
    subject: 'Crash test',
    customer: { name: 'Load Tester' },
    events: [{ type: 'assigned', assignee: 'sam', at: new Date(Date.now() + 1000).toISOString() }],
  });
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/api/v1/contacts', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('crash test', () => {
  it('loses nothing that was acknowledged when the server is killed under load', async () => {
    const created = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'token', 'create', 'crash'], { cwd: root, env: { ...process.env, KEPT_DB: db }, encoding: 'utf8' });
    const token = created.stdout.trim();
    expect(token).toMatch(/^kept_/);
    const server = startServer();
    await waitForHealth();

    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `crash-${w}-${i}`;
        sent++;
        const status = await postContact(token, id);
        if (status >= 200 && status < 300) acknowledged.push(id);
      }
    };
    const workers = Array.from({ length: 32 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 1500));
    server.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThan(50);

    const sqlite = new Database(db, { readonly: true });
    const stored = new Set((sqlite.prepare("SELECT external_id FROM contacts WHERE channel = 'email'").all() as Array<{ external_id: string }>).map((r) => r.external_id));
    sqlite.close();
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);

    startServer();
    await waitForHealth();
    expect(await postContact(token, 'after-restart')).toBe(201);
    // Every acknowledged contact is readable through the restarted server's API too.
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/contacts?channel=email&limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    process.stderr.write(`crash test: ${sent} sent, ${acknowledged.length} acknowledged, ${stored.size} stored, 0 lost\n`);
  }, 90_000);
});
