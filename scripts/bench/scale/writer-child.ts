// One Kept instance's writer in its own process, for `npm run bench:scale`: its own pool and
// PgGroupCommitWriter on the shared PostgreSQL; builds its commands, says ready, runs on "go", sends
// back what it measured, and keeps its connections until "end" (so the parent can read their CPU).
// Started by scripts/bench/scale.ts with an IPC channel.
import { openPostgres } from '../../../db/pg/connection.js';
import { PgGroupCommitWriter } from '../../../server/store/pg/group-commit.js';
import { processCpuMs } from './cpu.js';
import { commands, drive, type LoadResult } from './load.js';

interface Orders {
  url: string;
  prefix: string;
  count: number;
  warmup: number;
  concurrency: number;
}

export type ChildReport = LoadResult & { commits: number; fallbacks: number; cpuMs: number };

const send = (m: unknown) => process.send!(m);
const next = () => new Promise<unknown>((resolve) => process.once('message', resolve));

const orders = (await next()) as Orders;
const { pool } = await openPostgres(orders.url, { max: 4, migrate: false });
try {
  const writer = await PgGroupCommitWriter.open(pool);
  await drive((c) => writer.createContact(c), commands(`${orders.prefix}-warm`, orders.warmup), orders.concurrency);
  const work = commands(orders.prefix, orders.count);
  send({ type: 'ready' });
  await next();
  const before = { commits: writer.commits, fallbacks: writer.fallbacks, cpu: process.cpuUsage() };
  const result = await drive((c) => writer.createContact(c), work, orders.concurrency);
  const report: ChildReport = { ...result, commits: writer.commits - before.commits, fallbacks: writer.fallbacks - before.fallbacks, cpuMs: processCpuMs(before.cpu) };
  send({ type: 'done', report });
  await next();
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
} finally {
  await pool.end();
  process.disconnect();
}
