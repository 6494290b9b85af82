// One Kept instance's writer in its own process, for `npm run bench:scale`: its own pool and
// PgGroupCommitWriter on the shared PostgreSQL; builds its commands, says ready, runs on "go" and
// sends back what it measured. Started by scripts/bench/scale.ts with an IPC channel.
import { PgGroupCommitWriter } from '../../../server/store/pg/group-commit.js';
import { commands, drive, type LoadResult } from './load.js';
import { openPostgres } from '../../../db/pg/connection.js';

interface Orders {
  url: string;
  prefix: string;
  count: number;
  warmup: number;
  concurrency: number;
}

export type ChildReport = LoadResult & { flushes: number; commits: number; fallbacks: number };

const send = (m: unknown) => process.send!(m);

process.once('message', (orders: Orders) => {
  void (async () => {
    const pool = (await openPostgres(orders.url, { max: 4, migrate: false })).pool;
    try {
      const writer = await PgGroupCommitWriter.open(pool);
      const warm = commands(`${orders.prefix}-warm`, orders.warmup);
      await drive((c) => writer.createContact(c), warm, orders.concurrency);
      const work = commands(orders.prefix, orders.count);
      send({ type: 'ready' });
      await new Promise<void>((resolve) => process.once('message', () => resolve()));
      const before = { flushes: writer.flushes, commits: writer.commits, fallbacks: writer.fallbacks };
      const result = await drive((c) => writer.createContact(c), work, orders.concurrency);
      const report: ChildReport = { ...result, flushes: writer.flushes - before.flushes, commits: writer.commits - before.commits, fallbacks: writer.fallbacks - before.fallbacks };
      send({ type: 'done', report });
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    } finally {
      await pool.end();
      process.disconnect();
    }
  })();
});
