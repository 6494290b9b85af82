// Kept on PostgreSQL (KEPT_DATABASE_URL, issue 14): the same IngestService over the PostgreSQL stores
// and the set-based writer, plus what many instances need to agree on. Each instance:
// - writes through PgRunner, every change into the change feed in the same transaction;
// - follows the feed (server/cluster/feed.ts) and tells its listeners (the live board, the alerts)
//   every change in the feed's one order, its own writes included, so every instance's boards move
//   alike whichever instance took the write;
// - reads calendars again when the feed says another instance edited them;
// - fires its own timers for its own boards, while only the lease's holder stores the transitions
//   (server/cluster/transitions.ts: fenced, each stored once, caught up at an election).
import { hostname } from 'node:os';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { changedSince, FeedFollower, type FeedEntry, type FeedLog } from '../cluster/feed.js';
import { Lease } from '../cluster/lease.js';
import { LeaderTransitions } from '../cluster/transitions.js';
import type { ContactChange } from '../commands/context.js';
import type { ClusterHealth } from '../http/routes/health.js';
import type { FeedView } from '../live/live.js';
import { pgReads } from '../readers/ports.js';
import type { Reads } from '../readers/index.js';
import { PgRunner } from '../store/pg/runner.js';
import { seedPgCalendars } from '../store/pg/writer-calendars.js';
import { pgName, pgStores } from '../store/stores.js';
import { IngestService, type IngestOptions } from './service.js';

export interface PgKeptOptions extends Pick<IngestOptions, 'packFamily' | 'maxEventsPerContact' | 'now'> {
  /** KEPT_WRITE_TIMEOUT_MS. */
  writeTimeoutMs: number;
  /** KEPT_INSTANCE_ID, else host:pid: this instance's name in the lease and the feed's readers. */
  instance?: string;
  /** Connections in the pool (KEPT_PG_POOL). */
  poolSize?: number;
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
}

export interface PgKept {
  service: IngestService;
  reads: Reads;
  connection: PgConnection;
  /** What /health shows of the feed and the lease. */
  cluster: () => ClusterHealth;
  /** The feed as the live board sees it: its marks, and resuming boards moved from another instance. */
  feed: FeedView;
  /** This instance holds the timers' lease now (it also sends the alerts). */
  leads: () => boolean;
  /** Follows the feed and asks for the lease: before the live board loads (it hears every change after). */
  start(): Promise<void>;
  /** Told when the feed was missed (pruned unread, or the database restored to an earlier point). */
  onGap(reload: () => Promise<void>): void;
  close(): Promise<void>;
}

/** Opens (and migrates) the database, seeds the calendars once across instances, and builds the service. */
export async function openPgKept(url: string, o: PgKeptOptions): Promise<PgKept> {
  const connection = await openPostgres(url, { max: o.poolSize ?? 10, onIdleError: (e) => o.log.warn(`PostgreSQL closed an idle connection: ${e.message}`) });
  const { pool } = connection;
  const now = o.now ?? Date.now;
  const instance = o.instance ?? `${hostname()}:${process.pid}`;
  try {
    await seedPgCalendars(pool, now());
    const stores = pgStores(pool, pgName(url));
    const calendars = await stores.calendars.compiled();
    const writer = await PgRunner.open(pool, { maxEventsPerContact: o.maxEventsPerContact ?? 1000, timeoutMs: o.writeTimeoutMs, feed: true });
    const leaseLog = { info: o.log.info, warn: o.log.warn };
    const lease = new Lease({ connectionString: url, name: 'clocks', holder: instance, log: leaseLog });
    const transitions = new LeaderTransitions(pool, lease, { now, log: o.log });
    const service = new IngestService(
      { stores, writer, calendars, changesFromFeed: true, recordStatuses: (statuses) => transitions.record(statuses) },
      { ...(o.packFamily !== undefined ? { packFamily: o.packFamily } : {}), maxEventsPerContact: o.maxEventsPerContact ?? 1000, now },
    );
    let reload: (() => Promise<void>) | null = null;
    // While the board reloads after a gap the follower is already at the present but the board is not:
    // no mark is given out then (a board moved meanwhile gets a snapshot).
    let reloading = 0;
    const feedLog: FeedLog = { warn: (obj, msg) => o.log.warn(`${msg} ${JSON.stringify(obj)}`), info: (obj, msg) => o.log.info(`${msg} ${JSON.stringify(obj)}`) };
    const follower = new FeedFollower({
      connection: url,
      reader: instance,
      log: feedLog,
      onChanges: (entries) => deliver(service, entries),
      onGap: async () => {
        reloading++;
        try {
          o.log.warn('the change feed was missed: calendars and the live board read again from the tables');
          await service.reloadCalendars();
          await reload?.();
        } finally {
          reloading--;
        }
      },
    });
    return {
      service,
      reads: pgReads(pool, () => service.calendars),
      connection,
      cluster: () => {
        const f = follower.status();
        return {
          instance,
          leader: lease.isLeader(),
          feed: { connected: f.connected, lagMs: f.lagMs, behind: f.behind, notificationQueueUsage: f.notificationQueueUsage, delivered: f.delivered, reconnects: f.reconnects, gaps: f.gaps, lastError: f.lastError },
        };
      },
      feed: {
        position: () => (reloading > 0 ? null : follower.currentPosition()),
        changedSince: (from, maxRows) => changedSince(pool, from, maxRows),
      },
      start: async () => {
        await follower.start();
        await lease.start();
      },
      leads: () => lease.isLeader(),
      onGap: (f) => {
        reload = f;
      },
      close: async () => {
        await follower.stop();
        await transitions.close();
        await lease.stop();
        await service.close();
        await connection.close();
      },
    };
  } catch (e) {
    await connection.close();
    throw e;
  }
}

/**
 * One batch of the feed to this instance's listeners: calendar edits first read again (the clocks they
 * moved follow as contact changes), then the contacts' changes with their rows, read in one statement.
 * Statuses stored by the leader need nothing here: every instance fires its own timers. Token
 * revocations are seen by PgTokenStore's own stamp.
 */
async function deliver(service: IngestService, entries: FeedEntry[]): Promise<void> {
  if (entries.some((e) => e.kind === 'calendar')) await service.reloadCalendars();
  const contacts = entries.filter((e): e is FeedEntry & { kind: 'contact' } => e.kind === 'contact');
  if (contacts.length === 0) return;
  const rows = new Map((await service.contacts.byIds([...new Set(contacts.map((e) => e.payload.contactId))])).map((r) => [r.id, r]));
  const changes: ContactChange[] = [];
  for (const e of contacts) {
    const contact = rows.get(e.payload.contactId);
    // Erased since (the privacy commands remove nothing but text; a missing row is a contact deleted by an operator).
    if (contact === undefined) continue;
    changes.push({ contactId: e.payload.contactId, contact, clocks: e.payload.clocks, at: e.payload.at });
  }
  service.publishFromFeed(changes);
}
