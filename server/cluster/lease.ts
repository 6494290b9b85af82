// Leadership across instances on PostgreSQL (issue 14, item 4): a LEASE with FENCING. One row per
// lease name (server/cluster/lease.sql); the holder renews it every 200 ms for 800 ms, by one guarded
// statement that reads only the DATABASE's clock, so instances' clocks never have to agree. Each new
// term (another holder, or the same one after its lease lapsed) takes the next token, and every write
// the leader makes is fenced by it: `fencedSetStatuses` stores the timers' transitions only while the
// token is the lease's and unexpired, so a leader that hung (SIGSTOP, a long pause) and wakes up
// stores nothing, even before it learns it was deposed.
//
// Why not `pg_try_advisory_lock`: a hung leader keeps its session, so it keeps its lock, and nobody
// takes over (measured in issue 14: no hand-over during a 6 s hang).
//
// The watchdog: the leader keeps a local deadline, the instant its last successful renewal was SENT
// plus the lease, on the monotonic clock (which keeps counting while a process is stopped). The
// database set the expiry later than that send, so the local deadline is never after the real one.
// Every check of `isLeader()`, every beat of the renewal timer and every renewal's answer looks at
// the deadline first: a leader whose event loop was blocked past it steps down at once, before
// anything else it runs, and then asks for the lease again like any standby.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

export interface LeaseLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface LeaseOptions {
  /**
   * The database. The lease keeps its own connection (not a pool's), so a pool busy with the
   * writer's batches never delays a renewal, and a dropped connection is noticed and replaced.
   */
  connectionString: string;
  /** The lease's name: one leader per name (e.g. 'clocks'). */
  name: string;
  /** Who this instance is (host:pid, or KEPT_INSTANCE_ID): stored in the row, shown to operators. */
  holder: string;
  /**
   * How long a renewal holds the lease, ms (default 800). A crashed leader's lease runs out at most
   * this long after the crash, and a standby takes over right then: 800 ms leaves room for the ask
   * and the first store within the second issue 14 asks for (with 1,000 ms, measured 0.85–1.05 s).
   * Shorter costs more false step-downs: a pause of the event loop longer than this deposes.
   */
  leaseMs?: number;
  /** How often the leader renews and a standby asks, ms (default 200: four chances per lease). */
  renewMs?: number;
  /**
   * Step down when the local deadline passes (default true). Only the fence's own tests turn it off,
   * to show that the database refuses a deposed leader's writes even when the instance does not know.
   */
  watchdog?: boolean;
  log?: LeaseLog;
}

export interface Fence {
  name: string;
  token: number;
}

interface LeaseEvents {
  /** A new term began with this instance as the holder: the fence's token. */
  elected: [token: number];
  /** This instance is no longer the leader (why, in words for the log). */
  deposed: [reason: string];
  /** A renewal succeeded (the leader's work that failed may try again). */
  renewed: [token: number];
}

const silent: LeaseLog = { info: () => {}, warn: () => {} };

/**
 * Acquire or renew in one statement, on the database's clock (one instant for the statement):
 * - no row: insert it, token 1;
 * - this holder, unexpired: extend (same token, same term);
 * - this holder, expired, or another holder, expired: a new term, token + 1;
 * - another holder, unexpired: nothing changes, and the answer says how long it still has, so a
 *   standby asks again right at the expiry instead of up to a beat later.
 * ON CONFLICT DO UPDATE locks the row and judges the WHERE on its newest version, so two standbys
 * racing for an expired lease cannot both win.
 */
const ACQUIRE_SQL = `
WITH t AS (SELECT clock_timestamp() AS now),
attempt AS (
  INSERT INTO leases AS l (name, holder, token, expires_at, acquired_at)
  SELECT $1, $2, 1, t.now + make_interval(secs => $3::float8 / 1000), t.now FROM t
  ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN l.holder = excluded.holder AND l.expires_at > excluded.acquired_at THEN l.token ELSE l.token + 1 END,
    acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > excluded.acquired_at THEN l.acquired_at ELSE excluded.acquired_at END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
  WHERE l.holder = excluded.holder OR l.expires_at <= excluded.acquired_at
  RETURNING l.token
)
SELECT token::text AS token, true AS held, NULL::float8 AS remaining_ms, NULL::text AS holder FROM attempt
UNION ALL
SELECT l.token::text, false, (extract(epoch FROM l.expires_at - t.now) * 1000)::float8, l.holder
  FROM leases l, t WHERE l.name = $1 AND NOT EXISTS (SELECT 1 FROM attempt)`;

/** Ends this term now (a clean stop): a standby takes over at its next ask, not a lease later. */
const RELEASE_SQL = 'UPDATE leases SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp()';

export class Lease extends EventEmitter<LeaseEvents> {
  readonly name: string;
  readonly holder: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly #connectionString: string;
  readonly #watchdog: boolean;
  readonly #log: LeaseLog;
  #client: pg.Client | null = null;
  #token: number | null = null;
  /** performance.now() after which this instance must not act as leader. */
  #deadline = 0;
  #timer: NodeJS.Timeout | null = null;
  #attempt: Promise<void> | null = null;
  #stopped = true;
  /** Consecutive failed asks (connection lost, database down): for the log, once per outage. */
  #failures = 0;

  constructor(options: LeaseOptions) {
    super();
    this.name = options.name;
    this.holder = options.holder;
    this.leaseMs = options.leaseMs ?? 800;
    this.renewMs = options.renewMs ?? 200;
    if (!(this.renewMs > 0 && this.leaseMs > this.renewMs)) throw new Error(`lease ${this.name}: renewMs (${this.renewMs}) must be above 0 and below leaseMs (${this.leaseMs})`);
    this.#connectionString = options.connectionString;
    this.#watchdog = options.watchdog ?? true;
    this.#log = options.log ?? silent;
  }

  /** Starts asking for the lease (and renewing it once held). Resolves after the first answer. */
  async start(): Promise<void> {
    if (!this.#stopped) throw new Error(`lease ${this.name} is already started`);
    this.#stopped = false;
    this.#beat();
    await this.#attempt;
  }

  /**
   * True while this instance holds the lease by its local deadline. Checked before every leader's
   * action: past the deadline it steps down here and now (emitting `deposed`), whatever else is queued.
   */
  isLeader(): boolean {
    this.#checkDeadline();
    return this.#token !== null;
  }

  /** The current term's token (null when not the leader). */
  get token(): number | null {
    return this.isLeader() ? this.#token : null;
  }

  /** Time left before the local deadline, ms (0 when not the leader): for /health and the logs. */
  get remainingMs(): number {
    return this.isLeader() ? Math.max(0, this.#deadline - performance.now()) : 0;
  }

  /** What a fenced write carries (null when not the leader: do not write). */
  fence(): Fence | null {
    const token = this.token;
    return token === null ? null : { name: this.name, token };
  }

  /**
   * The database refused a write fenced with this term's token: someone else leads, whatever the
   * local deadline says. Steps down at once (the next renewal would find out a beat later).
   */
  refused(token: number): void {
    if (this.#token === token) this.#stepDown('a fenced write was refused: another instance holds the lease');
  }

  /** Stops renewing; a leader ends its term in the database so a standby takes over at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#attempt?.catch(() => {});
    const token = this.#token;
    if (token !== null && this.#client !== null) {
      this.#stepDown('stopping');
      await this.#client.query(RELEASE_SQL, [this.name, this.holder, token]).catch(() => {});
    }
    this.#token = null;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  #checkDeadline(): void {
    if (this.#token !== null && this.#watchdog && performance.now() >= this.#deadline) {
      this.#stepDown(`the lease lapsed before it was renewed (${Math.round(performance.now() - this.#deadline)} ms past the local deadline: the event loop was blocked or the database did not answer)`);
    }
  }

  #stepDown(reason: string): void {
    if (this.#token === null) return;
    const token = this.#token;
    this.#token = null;
    this.#log.warn(`lease ${this.name}: ${this.holder} steps down (term ${token}): ${reason}`);
    this.emit('deposed', reason);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#beat(), Math.max(0, ms));
  }

  /** The renewal timer: the watchdog first, then one ask at a time (a slow answer is never overtaken). */
  #beat(): void {
    this.#timer = null;
    if (this.#stopped) return;
    this.#checkDeadline();
    if (this.#attempt === null) {
      this.#attempt = this.#ask().finally(() => {
        this.#attempt = null;
      });
    }
    this.#schedule(this.renewMs);
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client !== null) return this.#client;
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: `kept lease ${this.holder}`.slice(0, 63),
      // An ask that takes longer than the lease is worthless: give up on it and on the connection.
      query_timeout: this.leaseMs,
      connectionTimeoutMillis: this.leaseMs * 2,
    });
    // A connection terminated under us (the server restarted, pg_terminate_backend) is dropped and
    // replaced at the next beat; the local deadline decides meanwhile.
    client.on('error', () => {
      if (this.#client === client) this.#client = null;
    });
    this.#client = client;
    try {
      await client.connect();
    } catch (e) {
      if (this.#client === client) this.#client = null;
      throw e;
    }
    return client;
  }

  async #ask(): Promise<void> {
    const sentAt = performance.now();
    let row: { token: string; held: boolean; remaining_ms: number | null; holder: string | null } | undefined;
    try {
      const client = await this.#connect();
      const r = await client.query(ACQUIRE_SQL, [this.name, this.holder, this.leaseMs]);
      row = r.rows[0];
    } catch (e) {
      // Unknown state: drop the connection (a timed-out query may still be running on it).
      const client = this.#client;
      this.#client = null;
      client?.end().catch(() => {});
      if (this.#failures++ === 0) this.#log.warn(`lease ${this.name}: cannot reach the database (${(e as Error).message}); the lease runs out by its deadline`);
      this.#checkDeadline();
      return;
    }
    if (this.#failures > 0) this.#log.info(`lease ${this.name}: the database answers again`);
    this.#failures = 0;
    if (this.#stopped) return;
    // The watchdog before anything else: an answer to an ask sent before a long block is stale.
    this.#checkDeadline();
    if (row === undefined || !row.held) {
      if (this.#token !== null) this.#stepDown(`${row?.holder ?? 'another instance'} holds the lease`);
      // Ask again right as the holder's lease runs out, if that comes before the next beat.
      const remaining = row?.remaining_ms ?? null;
      if (remaining !== null && remaining >= 0 && remaining < this.renewMs) this.#schedule(remaining + 1);
      return;
    }
    const token = Number(row.token);
    const deadline = sentAt + this.leaseMs;
    if (this.#watchdog && performance.now() >= deadline) {
      // The answer came after the lease it granted had run out (a blocked loop, a slow server): not
      // ours to use. The next ask starts a new term.
      this.#stepDown('a renewal was answered after the lease it granted had run out');
      return;
    }
    if (this.#token !== null && this.#token !== token) this.#stepDown(`term ${this.#token} ended (the lease lapsed)`);
    this.#deadline = deadline;
    if (this.#token === null) {
      this.#token = token;
      this.#log.info(`lease ${this.name}: ${this.holder} leads (term ${token})`);
      this.emit('elected', token);
    } else {
      this.emit('renewed', token);
    }
  }
}

/** A pool, a client, or anything that runs a parameterised statement. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface StatusChange {
  contactId: string;
  standard: string;
  /** 'at-risk' or 'breached'. */
  status: string;
  /** The instant it really happened (epoch ms). */
  at: number;
}

/**
 * The transition store's guarded update, fenced: one statement for the whole batch. A clock moves
 * only from where the transition starts (at-risk from running; breached from running or at-risk),
 * so two leaders overlapping in a hand-over can never store a transition twice; and only while the
 * fence's token is the lease's and unexpired by the database's clock, so a deposed leader stores
 * nothing. `detail` is JSON whether the column is text or jsonb (jsonb's text is assigned to text).
 * Answers whether the fence held (false: this instance no longer leads) and what was stored.
 */
const FENCED_STATUSES_SQL = `
WITH fence AS MATERIALIZED (
  SELECT EXISTS (SELECT 1 FROM leases WHERE name = $5 AND token = $6 AND expires_at > clock_timestamp()) AS ok
),
changed AS (
  UPDATE clocks AS c
     SET status = s.status, status_changed_at = s.at, detail = jsonb_set(c.detail::jsonb, '{status}', to_jsonb(s.status)), updated_at = $7
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS s(contact_id, standard, status, at), fence
   WHERE fence.ok AND c.contact_id = s.contact_id AND c.standard = s.standard
     AND (c.status = 'running' OR (c.status = 'at-risk' AND s.status = 'breached'))
  RETURNING c.contact_id, c.standard, c.status, c.status_changed_at
)
SELECT (SELECT ok FROM fence) AS ok,
       coalesce((SELECT json_agg(json_build_array(contact_id, standard, status, status_changed_at)) FROM changed), '[]'::json) AS stored`;

export interface FencedResult {
  /** False: the token is not the lease's (or it expired): nothing was stored. */
  fenced: boolean;
  /** The transitions stored (the guard skips those another leader stored first). */
  stored: StatusChange[];
}

export async function fencedSetStatuses(db: Queryable, fence: Fence, statuses: readonly StatusChange[], now: number): Promise<FencedResult> {
  // One row per clock: a batch can hold a clock's at-risk and its breach (both fell due while no one
  // led); UPDATE … FROM applies one source row per target row, so keep the later (the batch is in
  // instant order, as the scheduler fires).
  const last = new Map<string, StatusChange>();
  for (const s of statuses) last.set(`${s.contactId}/${s.standard}`, s);
  const rows = [...last.values()];
  const r = await db.query<{ ok: boolean; stored: Array<[string, string, string, number | string]> }>(FENCED_STATUSES_SQL, [
    rows.map((s) => s.contactId),
    rows.map((s) => s.standard),
    rows.map((s) => s.status),
    rows.map((s) => s.at),
    fence.name,
    fence.token,
    now,
  ]);
  const { ok, stored } = r.rows[0]!;
  return { fenced: !ok, stored: stored.map(([contactId, standard, status, at]) => ({ contactId, standard, status, at: Number(at) })) };
}
