// npm run bench:ingest — durable POST /api/v1/contacts against a bare Fastify route, 50 connections,
// both served by child processes on 127.0.0.1, measured in the same run by autocannon.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;

if (process.argv.includes('--serve-bare')) {
  const app = Fastify();
  app.post('/bare', async (request, reply) => reply.status(201).send({ id: 'x', received: (request.body as { channel?: string }).channel }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
} else {
  await main();
}

function body(i: number): string {
  const channels = ['email', 'phone', 'webform', 'social', 'voicemail'];
  const channel = channels[i % 5]!;
  const at = new Date(Date.now() - 60_000).toISOString();
  return JSON.stringify({
    channel,
    externalId: `bench-${process.pid}-${i}`,
    receivedAt: at,
    ...(i % 20 === 0 ? { category: 'complaint' } : {}),
    customer: { name: 'Alex Example', email: 'alex@example.com', phone: '+441632960123', preferredContact: 'email', accessibilityNeeds: i % 7 === 0 ? 'Large print' : undefined },
    subject: 'Boiler not working',
    summary: 'The boiler has stopped working and there is no hot water. Please can someone come out.',
    events: i % 3 === 0 ? [{ type: 'assigned', assignee: 'sam.jones', at }] : [],
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(url, { method: 'GET' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not come up`);
}

function run(url: string, headers: Record<string, string>): Promise<autocannon.Result> {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: SECONDS,
        headers: { 'content-type': 'application/json', ...headers },
        requests: [{ setupRequest: (req) => ({ ...req, body: body(i++) }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-bench-'));
  const db = join(dir, 'kept.db');
  const children: ChildProcess[] = [];
  try {
    const token = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'token', 'create', 'bench'], { cwd: root, env: { ...process.env, KEPT_DB: db }, encoding: 'utf8' }).stdout.trim();
    process.stderr.write(`bench:ingest: ${CONNECTIONS} connections, ${SECONDS}s per phase\n`);
    children.push(spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench/ingest.ts'), '--serve-bare'], { cwd: root, env: { ...process.env, PORT: '3991' }, stdio: 'ignore' }));
    await waitFor('http://127.0.0.1:3991/bare');
    process.stderr.write('phase 1: bare Fastify route…\n');
    const bare = await run('http://127.0.0.1:3991/bare', {});
    children[0]!.kill();
    children.push(spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env: { ...process.env, PORT: '3992', KEPT_DB: db, KEPT_LOG_LEVEL: 'warn', KEPT_WEB_ROOT: join(dir, 'none') }, stdio: 'ignore' }));
    await waitFor('http://127.0.0.1:3992/api/v1/health');
    process.stderr.write('phase 2: Kept durable ingest…\n');
    const kept = await run('http://127.0.0.1:3992/api/v1/contacts', { authorization: `Bearer ${token}` });
    const health = (await (await fetch('http://127.0.0.1:3992/api/v1/health')).json()) as { commits: number };
    const row = (name: string, r: autocannon.Result) => `| ${name} | ${Math.round(r.requests.average).toLocaleString('en-GB')} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} |`;
    const ratio = kept.requests.average / bare.requests.average;
    const lines = [
      `| route | requests/s | p50 ms | p99 ms | non-2xx |`,
      `|---|---|---|---|---|`,
      row('bare Fastify route (baseline)', bare),
      row('Kept POST /api/v1/contacts (durable, synchronous=FULL)', kept),
      '',
      `Kept / bare throughput: ${(ratio * 100).toFixed(1)}% (target ≥ 50%); Kept p99 ${kept.latency.p99} ms (target < 50 ms).`,
      `Group commit: ${kept.requests.total.toLocaleString('en-GB')} requests in ${health.commits.toLocaleString('en-GB')} SQLite commits (${(kept.requests.total / Math.max(1, health.commits)).toFixed(1)} per fsync).`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
