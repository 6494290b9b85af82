// Bench helper: the real Kept app in its own process (so the benchmark's clients do not share its
// event loop), driven over IPC by scripts/bench/live.ts.
//
// env: KEPT_DB (prepared by live-db.ts), BENCH_FIRST_DUE (epoch ms: from then on, live.lateness
// records the firings handled — the breach window), plus Kept's usual variables.
import { openDatabase } from '../../db/connection.js';
import { loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import type { Firing } from '../../server/live/scheduler.js';

export type ToServer = { type: 'stats'; id: number; /** collect garbage first (needs --expose-gc) */ gc?: boolean } | { type: 'close' };
export interface ServerStats {
  type: 'stats';
  id: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  runningClocks: number;
  clients: number;
  dropped: number;
  /** live.lateness since BENCH_FIRST_DUE: every firing handled (ms). */
  lateness: number[];
  /** The breach firings alone (ms), seen at the same point of the fire path. */
  breachLateness: number[];
  /** Firings of each kind seen by the scheduler since start (catch-up included). */
  fired: { atRisk: number; breached: number };
  loadMs: number;
  /** Time spent in each hub.broadcast (build + serialise + send to every client), ms. */
  broadcastMs: number[];
}
export type FromServer = { type: 'ready'; port: number; runningClocks: number; loadMs: number } | ServerStats;

const send = (m: FromServer) => process.send!(m);
const config = loadConfig({ ...process.env, KEPT_WEB_ROOT: '/nonexistent', KEPT_LOG_LEVEL: 'warn' });
const connection = openDatabase(config.dbFile);
const service = new IngestService(connection, { packFamily: config.packFamily, maxEventsPerContact: config.maxEventsPerContact, writerThread: true, writeTimeoutMs: config.writeTimeoutMs });
const loadStarted = performance.now();
const app = await buildApp({ config, service });
await app.liveArmed; // the clocks load in pages behind buildApp: the figures below want them all
const loadMs = performance.now() - loadStarted;
const live = app.live;

// Breach firings apart from at-risk ones: wrap the scheduler's callback (the same point where
// LiveService records live.lateness), then hand the batch on unchanged.
const breachLateness: number[] = [];
const fired = { atRisk: 0, breached: 0 };
const scheduler = live.scheduler as unknown as { onFire: (firings: Firing[]) => void };
const onFire = scheduler.onFire;
scheduler.onFire = (firings) => {
  const now = Date.now();
  for (const f of firings) {
    if (f.transition === 'breached') {
      fired.breached++;
      breachLateness.push(now - f.at);
    } else fired.atRisk++;
  }
  onFire(firings);
};

// How long each broadcast holds the server's loop: the board figures, JSON, and a send per client.
const broadcastMs: number[] = [];
const hub = app.hub;
const broadcast = hub.broadcast.bind(hub);
hub.broadcast = (build) => {
  const t = performance.now();
  broadcast(build);
  broadcastMs.push(performance.now() - t);
};

const firstDue = Number(process.env.BENCH_FIRST_DUE ?? 0);
live.lateness = [];
if (firstDue > 0) {
  // At-risk instants due before the window were caught up at start: leave them out.
  setTimeout(() => (live.lateness = []), Math.max(0, firstDue - Date.now()));
}

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
send({ type: 'ready', port, runningClocks: live.runningClocks, loadMs });

process.on('message', (m: ToServer) => {
  if (m.type === 'stats') {
    if (m.gc === true) (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    send({
      type: 'stats',
      id: m.id,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      runningClocks: live.runningClocks,
      clients: app.hub.clientCount,
      dropped: app.hub.dropped,
      lateness: live.lateness ?? [],
      breachLateness: [...breachLateness],
      fired: { ...fired },
      loadMs,
      broadcastMs: broadcastMs.splice(0),
    });
  } else if (m.type === 'close') {
    void app.close().then(async () => {
      await service.close();
      connection.close();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
