// Metrics for a Prometheus scraper (`GET /api/v1/metrics`, an API token): what /health tells a token
// holder, as numbers a dashboard can graph and alert on — the writer's commits and whether writes are
// failing, the running clocks, the boards connected, dropped and moved, and on PostgreSQL the change
// feed (lag, rows held back, the notification queue's use, reconnects, gaps) and who leads — with the
// process's own (CPU, memory, event-loop delay, from prom-client's defaults). prom-client, the
// well-kept library for the exposition format, rather than hand-written text.
//
// One registry per app (tests build several in one process); every figure is read when scraped, so
// nothing here runs between scrapes. Names and ids only: no token, address or customer ever becomes a
// label.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { IngestService } from '../../ingest/service.js';
import type { LiveHub } from '../../live/hub.js';
import type { ClusterHealth } from './health.js';

export interface MetricsSources {
  service: IngestService;
  live: { readonly armed: boolean; readonly runningClocks: number; readonly loadedClocks: number };
  hub: LiveHub;
  /** On PostgreSQL: the feed and the lease (server/ingest/postgres.ts). */
  cluster?: () => ClusterHealth | undefined;
}

/**
 * A metric whose value is read from elsewhere at each scrape (undefined: not shown). prom-client's
 * counters only go up by inc, so a counter is reset and brought to the value read.
 */
function readMetric(registry: Registry, type: 'counter' | 'gauge', name: string, help: string, read: () => number | undefined): void {
  const options = {
    name,
    help,
    registers: [registry],
    collect(this: Counter | Gauge) {
      const v = read();
      this.reset();
      if (v === undefined) return;
      if (this instanceof Gauge) this.set(v);
      else this.inc(v);
    },
  };
  if (type === 'counter') new Counter(options);
  else new Gauge(options);
}

const readCounter = (registry: Registry, name: string, help: string, read: () => number | undefined) => readMetric(registry, 'counter', name, help, read);
const readGauge = (registry: Registry, name: string, help: string, read: () => number | undefined) => readMetric(registry, 'gauge', name, help, read);

/** The registry every figure below is read into at each scrape. */
export function keptMetrics({ service, live, hub, cluster }: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  readCounter(registry, 'kept_writer_commits_total', 'Write transactions committed since start.', () => service.writer.commits);
  readGauge(registry, 'kept_writes_failing', '1 while writes fail (database locked, disk full, read-only, writer stopped, database unreachable): /health answers 503 with the reason.', () =>
    service.writer.failure === null ? 0 : 1,
  );
  readGauge(registry, 'kept_live_armed', '1 once every running clock is loaded and armed (the board is live).', () => (live.armed ? 1 : 0));
  readGauge(registry, 'kept_running_clocks', 'Running clocks held by the live board (loaded so far while starting).', () => (live.armed ? live.runningClocks : live.loadedClocks));
  readGauge(registry, 'kept_board_clients', 'Live board sockets open on this instance.', () => hub.clientCount);
  readCounter(registry, 'kept_board_dropped_total', 'Board sockets dropped for falling too far behind (each reconnects and catches up).', () => hub.dropped);
  readCounter(registry, 'kept_board_resumed_total', 'Boards moved here from another instance resumed with one delta.', () => hub.resumed);
  readCounter(registry, 'kept_board_moved_snapshots_total', 'Boards moved here from another instance given a snapshot instead (their mark too old, or too much changed).', () => hub.resumeRefused);
  if (cluster !== undefined) {
    const feed = () => cluster()?.feed;
    readGauge(registry, 'kept_leader', '1 while this instance holds the clocks lease (stores the transitions, sends the alerts).', () => {
      const c = cluster();
      return c === undefined ? undefined : c.leader ? 1 : 0;
    });
    readGauge(registry, 'kept_feed_connected', "1 while the change feed's listening connection is up.", () => {
      const f = feed();
      return f === undefined ? undefined : f.connected ? 1 : 0;
    });
    readGauge(registry, 'kept_feed_lag_seconds', 'How far behind the change feed this instance may be.', () => {
      const f = feed();
      return f === undefined ? undefined : f.lagMs / 1000;
    });
    readGauge(registry, 'kept_feed_behind_rows', 'Committed feed rows waiting behind an open transaction at the last read (counted up to 1,000).', () => feed()?.behind);
    readGauge(registry, 'kept_notification_queue_usage', "pg_notification_queue_usage() at the last read, 0-1: near 1 every write's NOTIFY fails.", () => feed()?.notificationQueueUsage ?? undefined);
    readCounter(registry, 'kept_feed_delivered_total', 'Feed rows delivered to this instance since start.', () => feed()?.delivered);
    readCounter(registry, 'kept_feed_reconnects_total', "Times the feed's connection was lost and made again.", () => feed()?.reconnects);
    readCounter(registry, 'kept_feed_gaps_total', 'Times the feed was missed (pruned unread, or the database restored) and the board reloaded from the tables.', () => feed()?.gaps);
  }
  return registry;
}

export function metricsRoutes(app: FastifyInstance, sources: MetricsSources): void {
  const registry = keptMetrics(sources);
  app.addHook('onClose', async () => registry.clear());
  app.get(
    '/api/v1/metrics',
    {
      // A monitoring system's API token (Prometheus: `authorization: { credentials: … }`); never a person's session.
      config: { access: 'token' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format): writes, clocks, boards and, on PostgreSQL, the change feed and the lease',
      },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}
