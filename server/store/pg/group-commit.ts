// Group commit on PostgreSQL, set-based: the create-contact commands that arrive together share one
// transaction, and each table gets one multi-row INSERT … SELECT FROM unnest(…) per flush — all five
// in one statement, pipelined with BEGIN and COMMIT — so a flush of fifty contacts costs one round
// trip and one WAL flush, not two hundred statements.
import pg from 'pg';
import type { ContactChange } from '../../commands/context.js';
import type { CreateContactInput, CreateContactOutput } from '../../commands/create-contact.js';
import { clockJsonText } from '../../domain/json.js';
import type { CalendarSet } from '../../domain/clocks.js';
import { ConflictError } from '../../errors.js';
import { queueOf, type ContactRow } from '../contacts.js';
import { CALENDAR_EDIT_LOCK, CALENDAR_STAMP, loadPgCalendars, type CalendarStamp } from './writer-calendars.js';
import { pgFault, pgFaultError, pgJobError, type PgWriteFailure, type PgWriteFault } from './writer-faults.js';
import { contactFromPg, type PgRawContact } from './rows.js';
import { contactRows, type ContactRows } from './writer-rows.js';
import { contactFeed, FEED_CHANNEL } from '../../cluster/feed.js';

export interface PgWriterOptions {
  /** Jobs in one transaction at most (default 512). */
  maxBatch?: number;
  /**
   * Flushes in flight at once, each on its own connection (default 2). With one, every caller waits
   * for the flush it joined and the writer sits idle while PostgreSQL works (and PostgreSQL while the
   * writer builds rows); with two, a flush is built and sent while the other commits. Queued jobs with
   * no flush in flight are split in two, so the callers answered by one flush queue behind the other.
   */
  inFlight?: number;
  /** KEPT_WRITE_TIMEOUT_MS: a statement waiting longer (a lock held elsewhere) is cancelled and the flush answers 503. */
  timeoutMs?: number;
  /** After COMMIT, before the jobs settle: the contacts whose clocks changed. */
  onCommit?: (changes: ContactChange[]) => void;
  /** The last failure was set or cleared. */
  onFailure?: (failure: PgWriteFailure | null) => void;
  /**
   * Many instances (issue 14 item 3): each created contact's change goes into the change feed in the
   * flush's own statement (so it commits, or vanishes, with the data), and one empty doorbell rings per
   * flush (server/cluster/feed.ts). Off: one instance, nobody follows.
   */
  feed?: boolean;
}

interface Job {
  input: CreateContactInput;
  resolve: (output: CreateContactOutput) => void;
  reject: (error: unknown) => void;
}

/** A job with its rows built; `key` is its (channel, externalId), null when it has none. */
interface Built {
  job: Job;
  rows: ContactRows;
  key: string | null;
}

type Result = { ok: true; output: CreateContactOutput } | { ok: false; error: unknown };

/** Queued jobs from which a flush with nothing in flight is split in two (fewer: one flush, one round trip). */
const SPLIT_FROM = 8;

const OPEN_STATUSES = new Set(['running', 'at-risk', 'breached', 'paused']);
const OPEN_STATUSES_SQL = [...OPEN_STATUSES].map((s) => `'${s}'`).join(', ');

// The JSON columns (customer, source, events.body, clocks.detail, audit.detail) are text on both
// databases (db/pg/schema.ts): the same bytes as SQLite holds (clocks.detail is clockJsonText's).

/**
 * Opens a flush's transaction after BEGIN: durable commit whatever the server's default, a bound on
 * each statement (a lock held elsewhere), and the calendar lock shared, so an edit waits for the
 * flushes in flight and a flush's statement, which takes its snapshot after this one, sees any edit
 * that committed before it.
 */
const LOCK = {
  name: 'kept-writer-lock',
  text: `SELECT set_config('synchronous_commit', 'on', true), set_config('statement_timeout', $1, true), pg_advisory_xact_lock_shared(${CALENDAR_EDIT_LOCK})`,
};

// Named statements: parsed and planned once per connection. Each column comes as one array.
const EXISTING = {
  name: 'kept-writer-existing',
  text: 'SELECT * FROM contacts WHERE (channel, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
};
/**
 * The whole flush in one statement: the contacts first, then each other table's rows for the
 * contacts that went in (a replay's rows are dropped by the join on what RETURNING gave). Foreign
 * keys are checked at the statement's end, when the contacts are there. If the calendars changed
 * since the clocks were computed ($49, the stamp), nothing goes in and one NULL comes back.
 */
const INSERT_FLUSH = {
  name: 'kept-writer-flush',
  text: `WITH s AS (SELECT ${CALENDAR_STAMP} = $49 AS same), c AS (
    INSERT INTO contacts (id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary,
      assignee, callback, content_hash, source, queue, created_at, updated_at)
    SELECT id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary,
      assignee, callback, content_hash, source, queue, created_at, updated_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
      $12::text[], $13::boolean[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::bigint[])
      AS t(id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary,
        assignee, callback, content_hash, source, queue, created_at, updated_at)
    WHERE (SELECT same FROM s)
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id
  ), e AS (
    INSERT INTO events (contact_id, seq, type, at, external_id, body, received_at)
    SELECT t.contact_id, t.seq, t.type, t.at, t.external_id, t.body, t.received_at
    FROM unnest($19::text[], $20::int[], $21::text[], $22::bigint[], $23::text[], $24::text[], $25::bigint[]) AS t(contact_id, seq, type, at, external_id, body, received_at)
    WHERE t.contact_id IN (SELECT id FROM c)
  ), k AS (
    INSERT INTO clocks (contact_id, standard, received_at, standard_version, calendar, status, open, started_at, due_at, at_risk_at, fulfilled_at, ended_at,
      target_ms, counted_ms, status_changed_at, detail, updated_at, ordinal)
    SELECT t.contact_id, t.standard, t.received_at, t.standard_version, t.calendar, t.status, t.status IN (${OPEN_STATUSES_SQL}), t.started_at, t.due_at, t.at_risk_at,
      t.fulfilled_at, t.ended_at, t.target_ms, t.counted_ms, NULL, t.detail, t.updated_at, t.ordinal
    FROM unnest($26::text[], $27::text[], $28::bigint[], $29::text[], $30::text[], $31::text[], $32::bigint[], $33::bigint[], $34::bigint[], $35::bigint[], $36::bigint[],
      $37::bigint[], $38::bigint[], $39::text[], $40::bigint[], $41::int[])
      AS t(contact_id, standard, received_at, standard_version, calendar, status, started_at, due_at, at_risk_at, fulfilled_at, ended_at,
        target_ms, counted_ms, detail, updated_at, ordinal)
    WHERE t.contact_id IN (SELECT id FROM c)
  ), p AS (
    INSERT INTO person_keys (kind, value, contact_id)
    SELECT t.kind, t.value, t.contact_id FROM unnest($42::text[], $43::text[], $44::text[]) AS t(kind, value, contact_id)
    WHERE t.contact_id IN (SELECT id FROM c)
    ON CONFLICT DO NOTHING
  ), a AS (
    INSERT INTO audit (at, actor, action, detail)
    SELECT t.at, t.actor, 'contact.create', t.detail FROM unnest($45::text[], $46::bigint[], $47::text[], $48::text[]) AS t(contact_id, at, actor, detail)
    WHERE t.contact_id IN (SELECT id FROM c)
  )
  SELECT id FROM c UNION ALL SELECT NULL FROM s WHERE NOT same`,
};

/**
 * The same, with the flush's changes appended to the change feed (server/cluster/feed.ts): one
 * `contact` row per contact that went in (a replay's is dropped by the same join on RETURNING), in
 * the flush's order, from one JSON document ($50) split by the server.
 */
const INSERT_FLUSH_FEED = {
  name: 'kept-writer-flush-feed',
  text: INSERT_FLUSH.text.replace(
    '\n  SELECT id FROM c UNION ALL',
    `, f AS (
    INSERT INTO feed (kind, payload)
    SELECT 'contact', t.e FROM jsonb_array_elements($50::jsonb) WITH ORDINALITY AS t(e, n)
    WHERE (t.e ->> 'contactId') IN (SELECT id FROM c) ORDER BY t.n
  )
  SELECT id FROM c UNION ALL`,
  ),
};
/** The doorbell: PostgreSQL sends it at COMMIT, and not at all on ROLLBACK. */
const DOORBELL = { name: 'kept-writer-doorbell', text: `SELECT pg_notify('${FEED_CHANNEL}', '')` };

/**
 * Queues create-contact commands; every command queued in the same turn of the event loop, or while
 * the flushes in flight (two by default, `inFlight`, each on its own connection) are busy, goes into
 * the next flush: one transaction, one multi-row INSERT per table,
 * the five sent as one statement (measured against a statement per table in the same run: 1.1–2×
 * the contacts/s at about two thirds of the writer's CPU), pipelined with BEGIN and COMMIT.
 * A job settles only after COMMIT (synchronous_commit=on), so a 2xx means the contact is durable.
 *
 * Replays are decided by the unique index on (channel, external_id), never by a read before the
 * insert (other instances write at the same moment): ON CONFLICT DO NOTHING RETURNING id, then the
 * stored row's content hash decides — the same is a replay (200), another is a conflict (409).
 * Anything that fails a flush's transaction but is no fault rolls it back and runs its jobs again
 * one by one, each in its own transaction, so one bad job fails alone. A fault (the server gone, the
 * connection cut, the disk full) fails the flush's jobs with 503 and the reason, and is kept for
 * /health until the next COMMIT.
 */
export class PgGroupCommitWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private flushing = 0;
  private idle: Array<() => void> = [];
  private calendars: CalendarSet;
  private stamp: CalendarStamp;
  /** Flushes run (each one transaction, or its jobs one by one), transactions committed, jobs settled. */
  flushes = 0;
  commits = 0;
  jobs = 0;
  /** Flushes that failed as a whole on a job's error and were run again one job at a time. */
  fallbacks = 0;
  failure: PgWriteFailure | null = null;

  /** The writer's own connection (as SQLite's writer has its own), pipelined. */
  private readonly pool: pg.Pool;
  private readonly timeoutMs: number;
  /** Flushes in flight at most (PgWriterOptions.inFlight). */
  private readonly inFlight: number;

  /**
   * `source`: the instance's pool (openPostgres), whose settings the writer's own connections copy
   * (numbers for int8, synchronous_commit=on), in pipeline mode: a flush's four statements go out
   * together and cost one round trip.
   */
  constructor(
    private readonly source: pg.Pool,
    loaded: { calendars: CalendarSet; stamp: CalendarStamp },
    private readonly options: PgWriterOptions = {},
  ) {
    this.calendars = loaded.calendars;
    this.stamp = loaded.stamp;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.inFlight = Math.max(1, options.inFlight ?? 2);
    this.pool = new pg.Pool({
      ...source.options,
      max: this.inFlight, // a connection per flush in flight
      pipeline: true,
      // A server that does not answer at all: the flush fails (503) instead of waiting for ever.
      connectionTimeoutMillis: this.timeoutMs,
      application_name: 'kept-writer',
    });
    // An idle connection the server ended (a restart, pg_terminate_backend): the pool drops it.
    this.pool.on('error', () => undefined);
  }

  /** A writer with the calendars as stored now. */
  static async open(pool: pg.Pool, options: PgWriterOptions = {}): Promise<PgGroupCommitWriter> {
    return new PgGroupCommitWriter(pool, await loadPgCalendars(pool), options);
  }

  /** Lets queued jobs finish, then closes the writer's connections. */
  async close(): Promise<void> {
    await this.drain();
    await this.pool.end();
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * While the last failure is "database unreachable": one statement on the writer's own connection.
   * Answered, the database is back and the failure is over (the next flush would commit), so /health
   * stops reporting it without waiting for a write that a load balancer, taking the instance out on
   * that 503, would never send. Other faults (disk full, read-only, locked) are only cleared by a
   * COMMIT: a read answering proves nothing about them. Answers whether the failure is over.
   */
  async probe(): Promise<boolean> {
    const seen = this.failure;
    if (seen === null) return true;
    if (seen.code !== 'database-unreachable') return false;
    try {
      await this.pool.query('SELECT 1');
    } catch {
      return false;
    }
    // A flush that failed meanwhile recorded a newer failure: that one stands.
    if (this.failure === seen) this.setFailure(null);
    return this.failure === null;
  }

  /** Creates the contact in the next flush; settles after COMMIT, with the command's output or error. */
  createContact(input: CreateContactInput): Promise<CreateContactOutput> {
    return new Promise<CreateContactOutput>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Settles once every job queued so far has settled. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing > 0 || this.scheduled) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing >= this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const max = this.options.maxBatch ?? 512;
    // Nothing in flight and a connection to spare: half now, half on the other connection at once, so
    // the two halves' callers come back at different times and the flushes keep overlapping.
    const split = this.flushing === 0 && this.inFlight > 1 && this.queue.length >= SPLIT_FROM;
    const batch = this.queue.splice(0, Math.min(max, split ? Math.ceil(this.queue.length / 2) : this.queue.length));
    if (batch.length === 0) return this.wake();
    this.flushing++;
    if (this.queue.length > 0) this.schedule();
    try {
      await this.run(batch);
    } finally {
      this.flushing--;
      // The jobs' continuations have run by now (they were settled before this resumed), so what
      // their callers queued next goes into the next flush together.
      if (this.queue.length > 0) this.schedule();
      else this.wake();
    }
  }

  private wake(): void {
    if (this.queue.length > 0 || this.flushing > 0 || this.scheduled) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** One flush: the jobs built, written in one transaction (or one by one), then settled. */
  private async run(batch: Job[]): Promise<void> {
    this.flushes++;
    const results = new Map<Job, Result>();
    const built = this.build(batch, results);
    // The first job with a key leads; later jobs with the same key in this flush are decided by it.
    const leads: Built[] = [];
    const followers: Built[] = [];
    const keys = new Set<string>();
    for (const b of built) {
      if (b.key !== null && keys.has(b.key)) followers.push(b);
      else {
        if (b.key !== null) keys.add(b.key);
        leads.push(b);
      }
    }
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.refuse(built, error, results);
    }
    if (client !== undefined) {
      // A connection cut while checked out reports on the client too (after the statement's own
      // error): heard here, so it neither ends the process nor goes back into the pool.
      let lost: Error | undefined;
      const onError = (error: Error) => (lost = error);
      client.on('error', onError);
      let broken: unknown;
      try {
        broken = await this.write(client, leads, results);
      } finally {
        client.off('error', onError);
        const dead = lost ?? (broken instanceof Error ? broken : broken === undefined ? undefined : new Error('connection fault'));
        client.release(dead);
      }
    }
    const changes: ContactChange[] = [];
    for (const b of leads) {
      const r = results.get(b.job);
      if (r?.ok === true && r.output.created) changes.push(r.output.change);
    }
    for (const b of followers) this.follow(b, leads, results);
    if (changes.length > 0) this.options.onCommit?.(changes);
    for (const job of batch) {
      const r = results.get(job);
      if (r === undefined) continue; // queued again behind its lead
      this.jobs++;
      if (r.ok) job.resolve(r.output);
      else job.reject(r.error);
    }
  }

  /** Rows built in memory; a job the engine refuses fails alone here, before any SQL. */
  private build(batch: Job[], results: Map<Job, Result>): Built[] {
    const built: Built[] = [];
    for (const job of batch) {
      try {
        built.push({ job, rows: contactRows(job.input, this.calendars), key: job.input.externalId === null ? null : `${job.input.channel}\u0000${job.input.externalId}` });
      } catch (error) {
        results.set(job, { ok: false, error });
      }
    }
    return built;
  }

  /**
   * The leads in one transaction; on a job's error, again one by one. Returns the error that broke
   * the connection (so it is not put back in the pool), if any.
   */
  private async write(client: pg.PoolClient, leads: Built[], results: Map<Job, Result>): Promise<unknown> {
    if (leads.length === 0) return undefined;
    try {
      await this.transaction(client, leads, results);
      return undefined;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (pgFault(error) !== undefined) {
        this.refuse(leads, error, results);
        return error;
      }
      if (leads.length === 1) {
        results.set(leads[0]!.job, { ok: false, error: pgJobError(error) });
        return undefined;
      }
    }
    this.fallbacks++;
    for (const [i, b] of leads.entries()) {
      try {
        await this.transaction(client, [b], results);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (pgFault(error) !== undefined) {
          this.refuse(leads.slice(i), error, results);
          return error;
        }
        results.set(b.job, { ok: false, error: pgJobError(error) });
      }
    }
    return undefined;
  }

  /**
   * One transaction for `items`, its four statements pipelined (BEGIN, the lock, the flush, COMMIT):
   * one round trip. Their results are set only once COMMIT has returned. If the calendars changed
   * since the clocks were computed, nothing went in: the calendars are read again, the clocks
   * computed again, and the transaction tried again.
   */
  private async transaction(client: pg.PoolClient, items: Built[], results: Map<Job, Result>): Promise<void> {
    for (;;) {
      // Sorted by key: the unique index's locks are taken in the same order by every instance.
      const sorted = [...items].sort((a, b) => (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1));
      const feed = this.options.feed === true;
      const flush = feed
        ? { ...INSERT_FLUSH_FEED, values: [...flushValues(sorted), this.stamp, JSON.stringify(contactFeed(sorted.map((b) => ({ contactId: b.rows.row.id, contact: b.rows.row, clocks: b.rows.clocks, at: b.job.input.now }))).map((c) => c.payload))] }
        : { ...INSERT_FLUSH, values: [...flushValues(sorted), this.stamp] };
      const sent = [
        client.query(this.bounded({ text: 'BEGIN' })),
        client.query(this.bounded({ ...LOCK, values: [String(this.timeoutMs)] })),
        client.query(this.bounded(flush)),
        ...(feed ? [client.query(this.bounded(DOORBELL))] : []),
        client.query(this.bounded({ text: 'COMMIT' })),
      ];
      const settled = await Promise.allSettled(sent);
      // The first statement refused is the cause; those after it only say the transaction was aborted.
      const refused = settled.find((r) => r.status === 'rejected');
      if (refused !== undefined) throw refused.reason;
      const answers = settled.map((r) => (r as PromiseFulfilledResult<pg.QueryResult>).value);
      const flushed = answers[2];
      const committed = answers[answers.length - 1];
      if (committed!.command !== 'COMMIT') throw new Error(`the flush's transaction ended with ${committed!.command}`);
      const ids = (flushed!.rows as Array<{ id: string | null }>).map((r) => r.id);
      if (ids.includes(null)) {
        const loaded = await loadPgCalendars(client);
        this.calendars = loaded.calendars;
        this.stamp = loaded.stamp;
        items = items.map((b) => ({ ...b, rows: contactRows(b.job.input, this.calendars) }));
        continue;
      }
      this.commits++;
      const created = new Set(ids as string[]);
      const fresh = sorted.filter((b) => created.has(b.rows.row.id));
      if (fresh.length > 0) this.setFailure(null);
      for (const b of fresh) {
        const { row, events, clocks } = b.rows;
        results.set(b.job, { ok: true, output: { created: true, row, events, change: { contactId: row.id, contact: row, clocks, at: b.job.input.now } } });
      }
      const replays = sorted.filter((b) => !created.has(b.rows.row.id));
      if (replays.length > 0) await this.replays(client, replays, results);
      return;
    }
  }

  /** A statement with node-postgres's read timeout: no answer at all and the connection is given up (503). */
  private bounded(config: pg.QueryConfig): pg.QueryConfig {
    return { ...config, query_timeout: this.timeoutMs + 1000 } as pg.QueryConfig;
  }

  /**
   * Jobs whose insert the unique index refused: the stored row decides (same content: a replay;
   * other content: a conflict). Read after COMMIT, in a statement of its own, so a row another
   * instance committed while this flush ran is seen. What this flush committed stands whatever happens here.
   */
  private async replays(client: pg.PoolClient, replays: Built[], results: Map<Job, Result>): Promise<void> {
    let stored: pg.QueryResult;
    try {
      stored = await client.query(this.bounded({ ...EXISTING, values: [replays.map((b) => b.rows.row.channel), replays.map((b) => b.rows.row.externalId)] }));
    } catch (error) {
      this.refuse(replays, error, results);
      return;
    }
    const byKey = new Map<string, ContactRow>();
    for (const r of stored.rows as PgRawContact[]) {
      const row = contactFromPg(r);
      byKey.set(`${row.channel}\u0000${row.externalId}`, row);
    }
    for (const b of replays) {
      const existing = b.key === null ? undefined : byKey.get(b.key);
      if (existing === undefined) results.set(b.job, { ok: false, error: new Error('the stored contact that refused this insert could not be read back') });
      else results.set(b.job, replayOrConflict(b.job.input, existing));
    }
  }

  /** A later job with a key its flush's lead had: decided by what the lead stored or found. */
  private follow(b: Built, leads: Built[], results: Map<Job, Result>): void {
    const lead = leads.find((l) => l.key === b.key)!;
    const r = results.get(lead.job);
    if (r?.ok === true) results.set(b.job, replayOrConflict(b.job.input, r.output.row));
    else if (r !== undefined && !r.ok && isFault(r.error)) results.set(b.job, r);
    else {
      // The lead failed on its own input (or its conflict): this job is tried on its own next flush.
      this.queue.unshift(b.job);
    }
  }

  /** Nothing of `items` was committed: a fault fails them with the reason (503); another error with itself. */
  private refuse(items: Built[], error: unknown, results: Map<Job, Result>): void {
    const fault = pgFault(error);
    if (fault === undefined) {
      for (const b of items) results.set(b.job, { ok: false, error });
      return;
    }
    this.setFailure(fault);
    const refusal = pgFaultError(fault);
    for (const b of items) results.set(b.job, { ok: false, error: refusal });
  }

  private setFailure(fault: PgWriteFault | null): void {
    if (fault === null) {
      if (this.failure === null) return;
      this.failure = null;
      this.options.onFailure?.(null);
      return;
    }
    const now = Date.now();
    const same = this.failure !== null && this.failure.code === fault.code;
    this.failure = { ...fault, since: this.failure?.since ?? now, at: now };
    if (!same) this.options.onFailure?.(this.failure);
  }
}

function isFault(error: unknown): boolean {
  return (error as { status?: unknown } | null)?.status === 503;
}

/** The same key stored already: the same content is a replay; other content a conflict. */
function replayOrConflict(c: CreateContactInput, existing: ContactRow): Result {
  if (existing.contentHash !== c.contentHash) {
    return { ok: false, error: new ConflictError(`a ${c.channel} contact with externalId "${c.externalId}" already exists with different content (id ${existing.id})`) };
  }
  return { ok: true, output: { created: false, row: existing } };
}

/** The flush statement's 48 arrays: contacts, events, clocks, person keys, audit entries. */
function flushValues(sorted: Built[]): unknown[] {
  const events = sorted.flatMap((b) => b.rows.events);
  const clocks = sorted.flatMap((b) => b.rows.clocks.map((c, ordinal) => ({ b, c, ordinal })));
  const keys = sorted.flatMap((b) => b.rows.keys.map((k) => [k.kind, k.value, b.rows.row.id] as const));
  return [
    ...contactColumns(sorted),
    ...eventColumns(events),
    ...clockColumns(clocks),
    keys.map((k) => k[0]),
    keys.map((k) => k[1]),
    keys.map((k) => k[2]),
    sorted.map((b) => b.rows.row.id),
    sorted.map((b) => b.job.input.now),
    sorted.map((b) => b.job.input.actor),
    sorted.map((b) => JSON.stringify(b.rows.audit)),
  ];
}

const jsonText = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));

function contactColumns(items: Built[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 18 }, () => new Array<unknown>(items.length));
  items.forEach((b, i) => {
    const r = b.rows.row;
    const values = [
      r.id, r.channel, r.route, r.category, r.initialCategory, r.externalId, r.receivedAt, r.packFamily, jsonText(r.customer), r.subject, r.summary,
      r.assignee, r.callback, r.contentHash, jsonText(r.source), queueOf(r), r.createdAt, r.updatedAt,
    ];
    for (let k = 0; k < values.length; k++) cols[k]![i] = values[k];
  });
  return cols;
}

function eventColumns(events: ContactRows['events']): unknown[] {
  return [
    events.map((e) => e.contactId),
    events.map((e) => e.seq),
    events.map((e) => e.type),
    events.map((e) => e.at),
    events.map((e) => e.externalId),
    events.map((e) => JSON.stringify(e.body)),
    events.map((e) => e.receivedAt),
  ];
}

/** Each clock with its place in the engine's answer (clocks.ordinal: SQLite's rowid order). */
function clockColumns(clocks: Array<{ b: Built; c: ContactRows['clocks'][number]; ordinal: number }>): unknown[] {
  return [
    clocks.map(({ b }) => b.rows.row.id),
    clocks.map(({ c }) => c.standard),
    clocks.map(({ b }) => b.rows.row.receivedAt),
    clocks.map(({ c }) => c.standardVersion),
    clocks.map(({ c }) => c.calendar),
    clocks.map(({ c }) => c.status),
    clocks.map(({ c }) => c.startedAt),
    clocks.map(({ c }) => c.dueAt),
    clocks.map(({ c }) => c.atRiskAt),
    clocks.map(({ c }) => c.fulfilledAt),
    clocks.map(({ c }) => c.endedAt),
    clocks.map(({ c }) => c.targetMs),
    clocks.map(({ c }) => c.countedMs),
    clocks.map(({ c }) => clockJsonText(c)), // the same text as SQLite stores
    clocks.map(({ b }) => b.job.input.now),
    clocks.map(({ ordinal }) => ordinal),
  ];
}
