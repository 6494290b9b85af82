// The change feed every Kept instance follows (issue 14, item 3). A write appends rows describing
// what it changed to the `feed` table in its own transaction (feed.sql) and rings a doorbell
// (`NOTIFY`, no payload) once per flush; each instance's FeedFollower reads the rows behind a
// watermark no transaction still in flight can fall behind, and hands each change to the instance
// exactly once, in the same order on every instance, its own writes included.
//
// Why a watermark on the transaction id and not `seq > last`: an identity or sequence value is
// taken when the row is inserted, but becomes visible when its transaction commits, and
// transactions commit out of that order. A reader that saw rows 10 and 12 and moved its position to
// 12 never reads row 11, committed a moment later (the issue measured 0.2–0.4% of rows lost that
// way with four writers). Here the bound comes from the reading statement's own snapshot: its xmin
// is the lowest transaction id still in progress, and PostgreSQL documents that every transaction
// below xmin has either committed (and is visible to that snapshot) or rolled back. Transaction ids
// are handed out in increasing order, so one that gets its id later gets one at or above the snapshot's
// xmax (a transaction that has not written yet has no id; it takes the next one when it writes). So
// the rows with xid below the bound are final: no more will ever appear there, and all that ever
// will be seen are visible to the statement that computed the bound. The follower delivers every
// row whose key (xid, id) lies between its position and the bound, in key order, and moves its
// position to the bound: each row is delivered exactly once, and every follower delivers in the
// same order (transaction id, then the order the transaction wrote its rows) whatever order they
// committed in. The bound is raised past transactions positively seen running in another database
// (READ_SQL says why that is safe), so only this database's open transactions hold it back.
//
// The cost of the guarantee: a transaction of this database that stays open holds the bound back
// for every follower, whatever it writes, so rows committed after it wait until it ends.
// `status()` shows that as lag, the rows waiting and how long the oldest writing transaction has
// been open. Kept's own transactions are short; `idle_in_transaction_session_timeout` bounds
// anyone else's (docs/scale-out.md).
//
// NOTIFY is only a doorbell: its payload is capped, and a listener stuck in a transaction fills the
// server's notification queue (after which every NOTIFY fails), so nothing is carried in it and
// nothing depends on hearing it. The follower also reads on a slow timer, and soon again while rows
// are held back by an open transaction (whose end may ring no bell: a rollback rings none).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ContactChange } from '../commands/context.js';
import type { Clock } from '../domain/model.js';

/** The channel the doorbell rings on. */
export const FEED_CHANNEL = 'kept_feed';

/** What each kind of change carries. Names and ids only: never a token, a hash of one, or a customer's details. */
export interface FeedPayloads {
  /** A contact's clocks after a write (a ContactChange without the contact's row: a follower reads that by id). */
  contact: { contactId: string; at: number; clocks: Clock[] };
  /** Calendars edited: every instance compiles them again (their running clocks arrive as `contact` changes). */
  calendar: { calendars: string[]; at: number };
  /** An API token, a session, a person's sessions or a display revoked: instances forget what they trusted. */
  'token-revoked': { scope: 'api-token' | 'session' | 'user-sessions' | 'display'; id: string; at: number };
  /** Clock statuses stored by the timers' leader (set-statuses). */
  statuses: { statuses: Array<{ contactId: string; standard: string; status: string; at: number }> };
}

export type FeedKind = keyof FeedPayloads;
export const FEED_KINDS: readonly FeedKind[] = ['contact', 'calendar', 'token-revoked', 'statuses'];

/** A change to append. */
export type FeedChange = { [K in FeedKind]: { kind: K; payload: FeedPayloads[K] } }[FeedKind];

/** A change as delivered: where it sits in the feed and when it was written. */
export type FeedEntry = FeedChange & {
  /** The writing transaction's id (xid8, as text: 64 bits). */
  xid: string;
  id: number;
  /** When the row was written (ms since the epoch, the database's clock). */
  writtenAt: number;
};

/** A position in the feed: every row whose key (xid, id) is at or below it has been delivered. */
export interface FeedPosition {
  xid: string;
  id: number;
}

/** The part of a node-postgres client the writer's side needs (a Client or a pool's client). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** A flush's contact changes as feed rows. */
export function contactFeed(changes: readonly ContactChange[]): FeedChange[] {
  return changes.map((c) => ({ kind: 'contact', payload: { contactId: c.contactId, at: c.at, clocks: c.clocks } }));
}

/**
 * Appends `changes` to the feed: one multi-row insert, to be run inside the transaction that wrote
 * the data (so the rows commit, or vanish, with it). Returns the rows written.
 */
export async function appendChanges(client: Queryable, changes: readonly FeedChange[]): Promise<number> {
  if (changes.length === 0) return 0;
  // One JSON document for the whole flush, split by the server: cheaper than an array of jsonb
  // texts, each escaped again into an array literal (about half the time per 20-row flush here).
  // WITH ORDINALITY and ORDER BY: the identity values (the order within the transaction) follow the
  // order of `changes`.
  const r = await client.query(
    `INSERT INTO feed (kind, payload)
     SELECT e->>'kind', e->'payload' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
    [JSON.stringify(changes.map((c) => ({ kind: c.kind, payload: c.payload })))],
  );
  return r.rowCount ?? changes.length;
}

/**
 * Rings the doorbell: once per flush, inside the same transaction (PostgreSQL sends it at COMMIT,
 * and not at all on ROLLBACK). Empty: the rows say what changed. Identical notifications in one
 * transaction are folded into one, so a second call costs nothing more.
 */
export async function notifyFeed(client: Queryable): Promise<void> {
  await client.query(`SELECT pg_notify('${FEED_CHANNEL}', '')`);
}

// The contacts changed after a position, for a board that moves to this instance with the position
// it had reached on another (server/live/live.ts, resume): the rows after it in key order (the
// primary key's range, at most $3 of them), if none of them was pruned, each row's contact with its
// clocks' standards (a contact's clocks never lose a standard, so any of its rows names them all).
// LIMIT 1 on the one-row horizon: unanalysed, it is estimated at ~1,800 rows, and the join's cost then
// passed jit_above_cost (222 ms of JIT compiling for a 20 ms walk of 20,000 rows; measured).
const CHANGED_SINCE_SQL = `
SELECT h.pruned, c.contact_id, c.standards
FROM (SELECT (pruned_xid, pruned_id) > ($1::xid8, $2::bigint) AS pruned FROM feed_horizon LIMIT 1) h
LEFT JOIN LATERAL (
  SELECT payload->>'contactId' AS contact_id,
         jsonb_path_query_array(payload, '$.clocks[*].standard') AS standards
  FROM feed WHERE (xid, id) > ($1::xid8, $2::bigint) AND kind = 'contact'
  ORDER BY xid, id LIMIT $3
) c ON NOT h.pruned`;

/**
 * The contacts the feed says changed after `from`, each with the standards of its clocks, or null
 * when rows after `from` were pruned (what changed is no longer known) or more than `maxRows` rows
 * came after it (a snapshot is then cheaper than the replay).
 */
export async function changedSince(client: Queryable, from: FeedPosition, maxRows: number): Promise<Map<string, string[]> | null> {
  const r = await client.query(CHANGED_SINCE_SQL, [from.xid, from.id, maxRows + 1]);
  const rows = r.rows as Array<{ pruned: boolean | null; contact_id: string | null; standards: string[] | null }>;
  if (rows.length === 0 || rows[0]!.pruned !== false || rows.length > maxRows) return null;
  const changed = new Map<string, string[]>();
  for (const row of rows) {
    if (row.contact_id === null) continue;
    const known = changed.get(row.contact_id);
    changed.set(row.contact_id, known === undefined ? (row.standards ?? []) : [...new Set([...known, ...(row.standards ?? [])])]);
  }
  return changed;
}

export interface FeedLog {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface FeedFollowerOptions {
  /** The database (a connection string or node-postgres client config); never logged. */
  connection: string | pg.ClientConfig;
  /** Each batch of changes, in feed order; the position moves past them once this returns (or its promise settles). */
  onChanges: (changes: FeedEntry[]) => void | Promise<void>;
  /**
   * Rows past this follower's position were pruned before it read them (it was away longer than the
   * retention, or was taken for gone), or the database is behind the position (restored to an earlier
   * point): the instance must reload its state from the tables. Delivery carries on from the present.
   */
  onGap?: () => void | Promise<void>;
  /** This instance's name in `feed_readers` (default host:pid:random). */
  reader?: string;
  /** Where to start (a position saved earlier); default: the present (what is already committed is not delivered). */
  from?: FeedPosition;
  /** Safety-net read when no doorbell rings, ms (default 5,000). */
  pollMs?: number;
  /** First re-read while rows are held back by an open transaction, ms (default 10; doubles up to 250). */
  heldBackRetryMs?: number;
  /** Rows per read (default 1,000); a full page is followed at once by the next. */
  pageRows?: number;
  /** Reconnection back-off: first delay and ceiling, ms (default 100 and 10,000; each delay jittered ±25%). */
  reconnectMs?: { first: number; max: number };
  /** Registering this reader's position and pruning, ms (default 60,000; 0: never). */
  pruneEveryMs?: number;
  /** Rows older than this are pruned even if some reader has not read them, ms (default one hour). */
  retentionMs?: number;
  /** A reader not seen for this long no longer holds rows back, ms (default 5 minutes). */
  readerTimeoutMs?: number;
  /** Rows deleted per prune statement, and statements per prune run (default 1,000 and 20). */
  pruneBatch?: number;
  pruneMaxBatches?: number;
  /** Client-side limit on connecting and on each of the follower's statements, ms (default 15,000): a connection that hangs is replaced. */
  statementMs?: number;
  log?: FeedLog;
}

/** What /health and the metrics show of the feed. */
export interface FeedStatus {
  reader: string;
  connected: boolean;
  position: FeedPosition | null;
  /**
   * How far behind the follower may be, ms: 0 when its last read found nothing committed waiting;
   * while rows are held back by an open transaction, the age of the oldest; while disconnected, the
   * time since it lost the connection (plus the lag it had then).
   */
  lagMs: number;
  /** Committed rows beyond the bound at the last read, waiting for an older transaction to end (counted up to 1,000). */
  behind: number;
  /** How long the oldest transaction holding an xid has been open, ms, when it held rows back for over a second at the last read. */
  heldBackByMs: number | null;
  /** pg_notification_queue_usage() at the last read, 0–1: near 1 every NOTIFY (and so every write) starts failing. */
  notificationQueueUsage: number | null;
  delivered: number;
  reconnects: number;
  /** Times rows were pruned before this follower read them (it reloaded its state). */
  gaps: number;
  /** Rows this follower's prune runs deleted. */
  pruned: number;
  lastReadAt: string | null;
  lastError: string | null;
}

// The bound, `high`: the lowest transaction in flight in the statement's snapshot that may belong
// to this database, or the snapshot's xmax when there is none. A transaction is set aside only when
// pg_stat_activity, read after the snapshot was taken, shows a backend connected to another
// database running it: a backend never changes database, so that transaction can write no row here.
// Anything not positively placed elsewhere (finished since the snapshot, a prepared transaction, a
// backend whose details this role may not see) counts as ours. So every transaction below `high`
// that could write here finished before the snapshot and its rows, if it committed, are visible to
// this very statement; every later one gets an id at or above xmax. Without the refinement the bound
// is the snapshot's xmin, and a long transaction in any database on the server would hold it back.
const READ_SQL = `
WITH s AS (SELECT pg_current_snapshot() AS snap),
b AS (
  SELECT coalesce(
           (SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x
            WHERE x::xid NOT IN (
              SELECT backend_xid FROM pg_stat_activity
              WHERE backend_xid IS NOT NULL
                AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
           pg_snapshot_xmax(s.snap)) AS high,
         s.snap::text AS snap
  FROM s
)
SELECT b.high::text AS high, b.snap,
       (SELECT pruned_xid::text FROM feed_horizon) AS pruned_xid, (SELECT pruned_id::text FROM feed_horizon) AS pruned_id,
       f.xid::text AS xid, f.id::text AS id, f.kind, f.payload,
       (extract(epoch FROM f.written_at) * 1000)::float8 AS written_ms
FROM b
LEFT JOIN LATERAL (
  SELECT xid, id, kind, payload, written_at FROM feed
  WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < b.high
    AND ($4::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(xid, $4::pg_snapshot))
  ORDER BY xid, id LIMIT $3
) f ON true
ORDER BY f.xid, f.id`;

// What waits beyond the bound (committed, held back by an open transaction), and the notification
// queue: figures for status(), read after the last page. Kept out of READ_SQL: folded into it, the
// same figures made every read tens of times slower on PostgreSQL 15 (measured, not explained).
const HELD_SQL = `
SELECT count(*)::int AS behind,
       (extract(epoch FROM clock_timestamp() - min(written_at)) * 1000)::float8 AS age_ms,
       pg_notification_queue_usage()::float8 AS queue_usage
FROM (SELECT written_at FROM feed WHERE xid >= $1::xid8 ORDER BY xid LIMIT 1000) w`;

const OLDEST_WRITER_SQL = `
SELECT (extract(epoch FROM clock_timestamp() - min(xact_start)) * 1000)::float8 AS ms
FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
  AND (datid IS NULL OR datid = (SELECT oid FROM pg_database WHERE datname = current_database()))`;

const REGISTER_SQL = `
INSERT INTO feed_readers (reader, watermark) VALUES ($1, $2::xid8)
ON CONFLICT (reader) DO UPDATE SET watermark = excluded.watermark, seen_at = clock_timestamp()`;

const FORGET_STALE_SQL = `DELETE FROM feed_readers WHERE seen_at < clock_timestamp() - make_interval(secs => $1)`;

// One bounded batch. The bound is the higher of: the lowest position of the readers seen lately
// (every live instance has read below it), and the retention's, which is the key of the first row
// young enough to keep (every row before it in key order is older than the retention: a prefix, so
// the horizon below stays exact). With no young row, everything below the present xmin is old.
// SKIP LOCKED: two instances pruning at once take different rows instead of waiting on each other.
// The horizon records the highest key deleted, so a reader below it knows it missed rows.
const PRUNE_SQL = `
WITH bound AS (
  SELECT greatest(
    (SELECT min(watermark) FROM feed_readers WHERE seen_at > clock_timestamp() - make_interval(secs => $1)),
    coalesce(
      (SELECT xid FROM feed WHERE written_at >= clock_timestamp() - make_interval(secs => $2) ORDER BY xid, id LIMIT 1),
      pg_snapshot_xmin(pg_current_snapshot()))
  ) AS w
), doomed AS (
  SELECT f.xid, f.id FROM feed f, bound WHERE f.xid < bound.w ORDER BY f.xid, f.id LIMIT $3 FOR UPDATE OF f SKIP LOCKED
), gone AS (
  DELETE FROM feed f USING doomed d WHERE f.xid = d.xid AND f.id = d.id RETURNING f.xid, f.id
), top AS (
  SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1
), moved AS (
  UPDATE feed_horizon h SET pruned_xid = top.xid, pruned_id = top.id FROM top
  WHERE (top.xid, top.id) > (h.pruned_xid, h.pruned_id) RETURNING 1
)
SELECT (SELECT count(*) FROM gone)::int AS n, (SELECT count(*) FROM moved)::int AS moved`;

/** Keys compared as (xid, id); xid8 is 64 bits, so BigInt. */
interface Key {
  xid: bigint;
  id: number;
}
const after = (a: Key, b: Key) => a.xid > b.xid || (a.xid === b.xid && a.id > b.id);

interface ReadRow {
  high: string;
  snap: string;
  pruned_xid: string | null;
  pruned_id: string | null;
  xid: string | null;
  id: string | null;
  kind: FeedKind | null;
  payload: unknown;
  written_ms: number | null;
}

/**
 * Follows the feed over one dedicated connection: LISTEN for the doorbell, read behind the
 * watermark on each ring, on a slow timer, and soon again while rows are held back; reconnect with
 * back-off and read everything since the position after every reconnect.
 */
export class FeedFollower {
  readonly reader: string;
  private readonly o: Required<Omit<FeedFollowerOptions, 'onGap' | 'from' | 'log' | 'reader' | 'connection'>>;
  private readonly config: pg.ClientConfig;
  private client: pg.Client | null = null;
  /** Bumped whenever a connection is given up: events from an older one are ignored. */
  private generation = 0;
  private position: Key | null;
  /**
   * "The present" when the follower started without a position (or reloaded after a gap): a
   * snapshot. Rows its transactions wrote were committed before then and are already in the tables
   * the instance loads, so they are not delivered; rows of the transactions still in flight then are.
   * Dropped once the bound passes the snapshot's xmax.
   */
  private present: { snap: string; xmax: bigint } | null = null;
  /** The horizon at the last gap reported. */
  private gapAt: Key | null = null;
  private connected = false;
  private stopped = false;
  private reading = false;
  private again = false;
  /** The pump in progress, if any (a reconnect waits for its resynchronising read). */
  private pumping: Promise<void> | null = null;
  private attempts = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private heldBackDelay: number;
  private pruning = false;
  private readyResolve: (() => void) | null = null;
  readonly ready: Promise<void>;
  // For status().
  private behind = 0;
  private heldAgeMs = 0;
  private heldBackByMs: number | null = null;
  private queueUsage: number | null = null;
  private lastReadAt: number | null = null;
  private lostAt: number | null = null;
  private lagWhenLost = 0;
  private delivered = 0;
  private reconnects = 0;
  private gaps = 0;
  private pruned = 0;
  private lastError: string | null = null;

  constructor(private readonly options: FeedFollowerOptions) {
    this.reader = options.reader ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.o = {
      onChanges: options.onChanges,
      pollMs: options.pollMs ?? 5_000,
      heldBackRetryMs: options.heldBackRetryMs ?? 10,
      pageRows: options.pageRows ?? 1_000,
      reconnectMs: options.reconnectMs ?? { first: 100, max: 10_000 },
      pruneEveryMs: options.pruneEveryMs ?? 60_000,
      retentionMs: options.retentionMs ?? 3_600_000,
      readerTimeoutMs: options.readerTimeoutMs ?? 300_000,
      pruneBatch: options.pruneBatch ?? 1_000,
      pruneMaxBatches: options.pruneMaxBatches ?? 20,
      statementMs: options.statementMs ?? 15_000,
    };
    const base = typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection;
    // keepAlive and a statement limit: a connection that silently died (no reset from the peer) is
    // noticed and replaced rather than waited on for ever.
    this.config = { ...base, application_name: 'kept-feed', keepAlive: true, query_timeout: this.o.statementMs, connectionTimeoutMillis: this.o.statementMs };
    this.position = options.from === undefined ? null : { xid: BigInt(options.from.xid), id: options.from.id };
    this.heldBackDelay = this.o.heldBackRetryMs;
    this.ready = new Promise((resolve) => {
      this.readyResolve = resolve;
    });
  }

  /**
   * Connects and starts following. The promise (also `ready`) settles once the follower is
   * listening and has read up to the present; if the database cannot be reached it keeps trying
   * with back-off, and the promise waits. Start it before loading state from the tables: a change
   * committed in between is then delivered rather than missed (applying it twice must be harmless).
   */
  start(): Promise<void> {
    void this.connect();
    if (this.o.pruneEveryMs > 0) {
      this.pruneTimer = setInterval(() => void this.maintain().catch(() => undefined), this.o.pruneEveryMs);
      this.pruneTimer.unref();
    }
    return this.ready;
  }

  /** Stops following; forgets this reader so it no longer holds rows back. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.pollTimer, this.reconnectTimer]) if (t !== null) clearTimeout(t);
    if (this.pruneTimer !== null) clearInterval(this.pruneTimer);
    this.generation++;
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (c === null) return;
    try {
      await c.query('DELETE FROM feed_readers WHERE reader = $1', [this.reader]);
    } catch {
      // Gone anyway: a reader not seen for readerTimeoutMs stops holding rows back.
    }
    await c.end().catch(() => undefined);
  }

  /** The backend serving this follower's connection (for operators, and tests that cut it). */
  get pid(): number | null {
    const c = this.client as (pg.Client & { processID?: number }) | null;
    return this.connected && c !== null && typeof c.processID === 'number' ? c.processID : null;
  }

  currentPosition(): FeedPosition | null {
    return this.position === null ? null : { xid: this.position.xid.toString(), id: this.position.id };
  }

  status(): FeedStatus {
    const now = Date.now();
    let lagMs: number;
    if (!this.connected) lagMs = this.lostAt === null ? 0 : now - this.lostAt + this.lagWhenLost;
    else lagMs = this.currentLag(now);
    return {
      reader: this.reader,
      connected: this.connected,
      position: this.currentPosition(),
      lagMs: Math.max(0, Math.round(lagMs)),
      behind: this.behind,
      heldBackByMs: this.heldBackByMs,
      notificationQueueUsage: this.queueUsage,
      delivered: this.delivered,
      reconnects: this.reconnects,
      gaps: this.gaps,
      pruned: this.pruned,
      lastReadAt: this.lastReadAt === null ? null : new Date(this.lastReadAt).toISOString(),
      lastError: this.lastError,
    };
  }

  private currentLag(now: number): number {
    return this.behind > 0 && this.lastReadAt !== null ? this.heldAgeMs + (now - this.lastReadAt) : 0;
  }

  /** Reads now (a doorbell, a timer, a reconnect): one pump at a time; a ring during a read asks for one more. */
  private wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        const c = this.client;
        if (c === null || !this.connected) return;
        const gen = this.generation;
        try {
          await this.readToBound(c);
        } catch (e) {
          this.lost(gen, e);
          return;
        }
      } while (this.again && !this.stopped);
      this.armPoll();
    } finally {
      this.reading = false;
      this.pumping = null;
    }
  }

  /** Reads pages until the bound is reached, delivering each. */
  private async readToBound(c: pg.Client): Promise<void> {
    for (;;) {
      if (this.position === null) {
        // First connection with no saved position: start at the present. Rows below its xmin are
        // final and already in the tables; rows above it are skipped if committed before now.
        const r = await c.query<{ snap: string }>('SELECT pg_current_snapshot()::text AS snap');
        this.startAtPresent(r.rows[0]!.snap);
      }
      const from = this.position!;
      const r = await c.query<ReadRow>(READ_SQL, [from.xid.toString(), from.id, this.o.pageRows, this.present?.snap ?? null]);
      const head = r.rows[0];
      if (head === undefined) throw new Error('feed read answered no row (is feed_horizon missing its row?)');
      this.lastReadAt = Date.now();
      const high = BigInt(head.high);
      if (from.xid > BigInt(head.snap.split(':')[1]!)) {
        // Our position is beyond every transaction this database has begun: it went back in time (a
        // point-in-time recovery, a restored backup) or is another database. Rows it writes from here
        // would sort below our position and never be read, and what we hold may no longer be true:
        // reload from the tables, and follow from the present.
        await this.gap(head.snap, null, 'the database is behind this instance (restored to an earlier point?)');
        continue;
      }
      const horizon: Key = { xid: BigInt(head.pruned_xid ?? '0'), id: Number(head.pruned_id ?? 0) };
      if (after(horizon, from) && (this.gapAt === null || after(horizon, this.gapAt))) {
        // Rows past our position were pruned unread: the state must be rebuilt from the tables. Every
        // row below `high` is committed in them now, so carry on from there. The horizon may lie above
        // the new bound (retention pruned committed rows an open transaction still holds back): that
        // is the same gap, not a new one.
        await this.gap(head.snap, horizon, 'rows were pruned before this instance read them');
        continue;
      }
      const entries: FeedEntry[] = [];
      for (const row of r.rows) {
        if (row.xid === null || row.id === null || row.kind === null) continue;
        entries.push({ xid: row.xid, id: Number(row.id), kind: row.kind, payload: row.payload, writtenAt: row.written_ms ?? 0 } as FeedEntry);
      }
      if (entries.length > 0) {
        const last = entries[entries.length - 1]!;
        try {
          await this.o.onChanges(entries);
        } catch (e) {
          // One bad change must not stall every board: it is reported and the feed moves on.
          this.options.log?.warn({ err: errorText(e), reader: this.reader }, 'feed: a change could not be applied');
        }
        this.delivered += entries.length;
        this.position = { xid: BigInt(last.xid), id: last.id };
      }
      if (entries.length === this.o.pageRows) continue;
      // Everything below the bound is delivered: (high, 0) is below every row that can still come.
      const bound: Key = { xid: high, id: 0 };
      if (after(bound, this.position!)) this.position = bound;
      if (this.present !== null && high >= this.present.xmax) this.present = null;
      const held = (await c.query<{ behind: number; age_ms: number | null; queue_usage: number | null }>(HELD_SQL, [head.high])).rows[0]!;
      this.queueUsage = held.queue_usage;
      this.behind = held.behind;
      this.heldAgeMs = held.behind > 0 ? Math.max(0, held.age_ms ?? 0) : 0;
      if (held.behind > 0 && this.heldAgeMs > 1_000) {
        const w = await c.query<{ ms: number | null }>(OLDEST_WRITER_SQL);
        this.heldBackByMs = w.rows[0]?.ms === null || w.rows[0]?.ms === undefined ? null : Math.round(w.rows[0].ms);
      } else {
        this.heldBackByMs = null;
      }
      return;
    }
  }

  /** Changes were missed (`why`): the instance reloads its state from the tables, and the feed goes on from the present. */
  private async gap(snap: string, gapAt: Key | null, why: string): Promise<void> {
    this.gaps++;
    this.gapAt = gapAt;
    this.startAtPresent(snap);
    this.options.log?.warn({ reader: this.reader }, `feed: ${why}; reloading state`);
    await this.options.onGap?.();
  }

  private startAtPresent(snap: string): void {
    // pg_snapshot as text: xmin:xmax:xip,xip,…
    const [xmin, xmax] = snap.split(':');
    this.position = { xid: BigInt(xmin!), id: 0 };
    this.present = { snap, xmax: BigInt(xmax!) };
  }

  /**
   * The next read without a doorbell: soon (backing off) while committed rows wait behind an open
   * transaction, whose end may ring nothing; otherwise the slow safety net.
   */
  private armPoll(): void {
    if (this.stopped) return;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    let ms = this.o.pollMs;
    if (this.behind > 0) {
      ms = this.heldBackDelay;
      this.heldBackDelay = Math.min(this.heldBackDelay * 2, Math.max(this.o.heldBackRetryMs, Math.min(250, this.o.pollMs)));
    } else {
      this.heldBackDelay = this.o.heldBackRetryMs;
    }
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.wake();
    }, ms);
    this.pollTimer.unref();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    const client = new pg.Client(this.config);
    this.client = client;
    // A lost connection shows as 'error' (terminated, reset) and/or 'end'; either starts a reconnect.
    client.on('error', (e) => this.lost(gen, e));
    client.on('end', () => this.lost(gen, new Error('connection closed')));
    client.on('notification', (n) => {
      if (gen === this.generation && n.channel === FEED_CHANNEL) this.wake();
    });
    try {
      await client.connect();
      // LISTEN before reading: a commit after this read rings the bell; one before it is in the read.
      await client.query(`LISTEN ${FEED_CHANNEL}`);
      if (gen !== this.generation) return;
      this.connected = true;
      this.lostAt = null;
      if (this.attempts > 0) this.options.log?.info?.({ reader: this.reader, attempts: this.attempts }, 'feed: reconnected; reading from its position');
      await this.register(client);
    } catch (e) {
      this.lost(gen, e);
      return;
    }
    // Resynchronise: everything since the position, which the connection's loss did not move.
    this.wake();
    await this.settled();
    if (gen === this.generation && this.connected) {
      this.attempts = 0;
      this.readyResolve?.();
      this.readyResolve = null;
    }
  }

  /** Waits for the pump in progress (if any) to finish. */
  private async settled(): Promise<void> {
    while (this.pumping !== null && !this.stopped) await this.pumping;
  }

  /** The connection failed or closed: drop it and try again after a back-off. */
  private lost(gen: number, e: unknown): void {
    if (gen !== this.generation || this.stopped) return;
    this.generation++;
    if (this.connected) {
      this.lagWhenLost = this.currentLag(Date.now());
      this.lostAt = Date.now();
    } else if (this.lostAt === null) {
      this.lostAt = Date.now();
    }
    this.connected = false;
    this.lastError = errorText(e);
    const c = this.client;
    this.client = null;
    c?.end().catch(() => undefined);
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const { first, max } = this.o.reconnectMs;
    const delay = Math.min(max, first * 2 ** Math.min(this.attempts, 20)) * (0.75 + Math.random() * 0.5);
    this.attempts++;
    this.reconnects++;
    this.options.log?.warn({ reader: this.reader, err: this.lastError, retryMs: Math.round(delay) }, 'feed: lost the listening connection');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async register(c: pg.Client): Promise<void> {
    if (this.position === null) return;
    await c.query(REGISTER_SQL, [this.reader, this.position.xid.toString()]);
  }

  /**
   * Registers this reader's position, forgets readers long gone, and prunes rows every live reader
   * has read, or older than the retention, in bounded batches (runs every pruneEveryMs; callable
   * for tests and tools). Returns the rows deleted and the statements it took.
   */
  async maintain(): Promise<{ rows: number; batches: number }> {
    const c = this.client;
    if (c === null || !this.connected || this.pruning || this.stopped) return { rows: 0, batches: 0 };
    this.pruning = true;
    try {
      await this.register(c);
      return await this.prune(c);
    } catch (e) {
      this.options.log?.warn({ reader: this.reader, err: errorText(e) }, 'feed: prune failed (tried again next period)');
      throw e;
    } finally {
      this.pruning = false;
    }
  }

  private async prune(c: pg.Client): Promise<{ rows: number; batches: number }> {
    await c.query(FORGET_STALE_SQL, [Math.max(this.o.retentionMs, this.o.readerTimeoutMs) / 1000]);
    let rows = 0;
    let batches = 0;
    while (batches < this.o.pruneMaxBatches && !this.stopped) {
      const r = await c.query(PRUNE_SQL, [this.o.readerTimeoutMs / 1000, this.o.retentionMs / 1000, this.o.pruneBatch]);
      const n = Number(r.rows[0]?.n ?? 0);
      batches++;
      rows += n;
      if (n < this.o.pruneBatch) break;
      // Let the doorbell's reads in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.pruned += rows;
    return { rows, batches };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
