// Contacts, their events and their clocks on PostgreSQL (issue 14): the reads of ContactReads
// (server/store/ports.ts) giving the same answers as the SQLite ContactStore, and the plain row writes
// one contact needs (the set-based writer, server/store/pg/group-commit.ts, is the batched path).
import type pg from 'pg';
import type { Clock } from '../../domain/model.js';
import { queueOf, type ClockRow, type ContactFilter, type ContactRow, type EventRow, type ListPlan } from '../contacts.js';
import type { ContactReads } from '../ports.js';
import { CLOCK_COLUMNS, clockFromPg, clockValues, contactFromPg, eventFromPg, type PgRawClock, type PgRawContact, type PgRawEvent } from './rows.js';

/** Anything that runs a query: the pool (reads) or one checked-out connection (a transaction's writes). */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>;

/** A statement with its positional parameters ($1, $2, …). */
export interface PgStatement {
  sql: string;
  params: unknown[];
}

/** The statements of a list (the plan test EXPLAINs them), with the bounded counts that choose the walk. */
export interface PgListPlan {
  shape: ListPlan['shape'];
  statements: PgStatement[];
  counts: PgStatement[];
}

/**
 * A statement written with named parameters (`@now`, as the SQLite store writes them) bound to
 * PostgreSQL's positional ones: each name becomes $n at its first use, and only the names a statement
 * uses are sent (PostgreSQL must know the type of every parameter it is given).
 */
function bind(sql: string, named: Record<string, unknown>): PgStatement {
  const order: string[] = [];
  const text = sql.replace(/@(\w+)/g, (_, name: string) => {
    if (!(name in named)) throw new Error(`no value for @${name}`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}`;
  });
  return { sql: text, params: order.map((n) => named[n]) };
}

/** Statuses judged against now from an open clock's due and at-risk instants (the others are stored). */
const JUDGED = new Set(['running', 'at-risk', 'breached', 'open']);

/** receivedFrom / receivedTo / the cursor, on `at` and `id` (a contact's or a clock's copy). */
function rangeTerms(f: ContactFilter, params: Record<string, unknown>, at: string, id: string): string[] {
  const t: string[] = [];
  if (f.receivedFrom !== undefined) {
    t.push(`${at} >= @receivedFrom`);
    params.receivedFrom = f.receivedFrom;
  }
  if (f.receivedTo !== undefined) {
    t.push(`${at} < @receivedTo`);
    params.receivedTo = f.receivedTo;
  }
  if (f.after !== undefined) {
    // A row comparison: a B-tree on (…, received_at, id) seeks straight to the cursor, however deep.
    t.push(`(${at}, ${id}) < (@afterAt, @afterId)`);
    params.afterAt = f.after.receivedAt;
    params.afterId = f.after.id;
  }
  return t;
}

/**
 * The SQL for one status of a clock k: running statuses judged against @now from the due and at-risk
 * instants (as the SQLite store does: a paused clock is none of them), paused and the final statuses
 * as stored. `withOpen` adds `k.open` to the judged ones (the open clocks' index implies it).
 *
 * The instants are written `k.due_at + 0` and, inside a contact's lookup (`byContact`), a stored status
 * `k.status || ''`: expressions no index holds, as the SQLite store writes `+k.due_at`. Without them the
 * planner may lead with clocks_open_due (due_at) or clocks_status_received (status) — a sort of every
 * running clock before the first row, or, inside a walk of contacts, a range of clocks per contact (the
 * quadratic plan of issue 9) — where the walk should be the open clocks' index in list order and the
 * lookup the contact's key.
 */
function statusTerm(s: string, i: number, params: Record<string, unknown>, withOpen: boolean, byContact: boolean): string {
  const open = withOpen ? 'k.open AND ' : '';
  switch (s) {
    case 'breached':
      return `(${open}k.status <> 'paused' AND k.due_at + 0 < @now)`;
    case 'at-risk':
      return `(${open}k.status <> 'paused' AND k.due_at + 0 >= @now AND k.at_risk_at + 0 <= @now)`;
    case 'running':
      return `(${open}k.status <> 'paused' AND k.due_at + 0 >= @now AND (k.at_risk_at IS NULL OR k.at_risk_at + 0 > @now))`;
    case 'open':
      return withOpen ? '(k.open)' : '(true)';
    default:
      params[`status${i}`] = s;
      return byContact ? `(k.status || '' = @status${i})` : `(k.status = @status${i})`;
  }
}

export class PgContactReads implements ContactReads {
  /** Index entries counted (at most) when choosing which side of a narrow list to walk: as SQLite's. */
  static readonly SMALL = 2000;

  constructor(private readonly db: Queryable) {}

  async byId(id: string): Promise<ContactRow | undefined> {
    const r = await this.db.query<PgRawContact>('SELECT * FROM contacts WHERE id = $1', [id]);
    return r.rows[0] === undefined ? undefined : contactFromPg(r.rows[0]);
  }

  async byExternal(channel: string, externalId: string): Promise<ContactRow | undefined> {
    const r = await this.db.query<PgRawContact>('SELECT * FROM contacts WHERE channel = $1 AND external_id = $2', [channel, externalId]);
    return r.rows[0] === undefined ? undefined : contactFromPg(r.rows[0]);
  }

  async events(contactId: string): Promise<EventRow[]> {
    const r = await this.db.query<PgRawEvent>('SELECT * FROM events WHERE contact_id = $1 ORDER BY seq', [contactId]);
    return r.rows.map(eventFromPg);
  }

  /** A contact's clocks in the engine's order (`ordinal`: SQLite's rowid order). */
  async clocks(contactId: string): Promise<ClockRow[]> {
    const r = await this.db.query<PgRawClock>(`SELECT ${CLOCK_COLUMNS} FROM clocks WHERE contact_id = $1 ORDER BY ordinal`, [contactId]);
    return r.rows.map(clockFromPg);
  }

  /** One event by its source key on a contact (adapters: a call's leg, a reply's Message-ID). */
  async eventByExternal(contactId: string, externalId: string): Promise<EventRow | undefined> {
    const r = await this.db.query<PgRawEvent>('SELECT * FROM events WHERE contact_id = $1 AND external_id = $2', [contactId, externalId]);
    return r.rows[0] === undefined ? undefined : eventFromPg(r.rows[0]);
  }

  /**
   * A social sender's messages received by `receivedBy` whose reply clock is still open, newest first
   * (ContactStore.socialMessagesAwaitingReply): the sender's contacts by contacts_social_sender (the
   * index's own expression), each tested on the clocks' primary key.
   */
  async socialMessagesAwaitingReply(senderId: string, receivedBy: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(
      `SELECT c.id FROM contacts c
        WHERE c.channel = 'social' AND (c.source::json ->> 'senderId') = $1 AND c.received_at <= $2
          AND (c.source::json ->> 'kind') = 'message'
          AND EXISTS (SELECT 1 FROM clocks k WHERE k.contact_id = c.id AND k.open AND k.standard LIKE '%-reply')
        ORDER BY c.received_at DESC, c.id DESC`,
      [senderId, receivedBy],
    );
    return r.rows.map((x) => x.id);
  }

  /** One clock by its primary key (the explain route). */
  async clock(contactId: string, standard: string): Promise<ClockRow | undefined> {
    const r = await this.db.query<PgRawClock>(`SELECT ${CLOCK_COLUMNS} FROM clocks WHERE contact_id = $1 AND standard = $2`, [contactId, standard]);
    return r.rows[0] === undefined ? undefined : clockFromPg(r.rows[0]);
  }

  /** Contacts by id, in the order given (unknown ids skipped): one statement. */
  async byIds(ids: readonly string[]): Promise<ContactRow[]> {
    if (ids.length === 0) return [];
    const r = await this.db.query<PgRawContact>('SELECT * FROM contacts WHERE id = ANY($1::text[])', [ids]);
    const byId = new Map(r.rows.map((row) => [row.id, row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row === undefined ? [] : [contactFromPg(row)];
    });
  }

  /** Events of many contacts (each contact's in seq order), for a page of views: one statement. */
  async eventsOf(ids: readonly string[]): Promise<Map<string, EventRow[]>> {
    const out = new Map<string, EventRow[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const r = await this.db.query<PgRawEvent>('SELECT * FROM events WHERE contact_id = ANY($1::text[]) ORDER BY contact_id, seq', [ids]);
    for (const row of r.rows) out.get(row.contact_id)?.push(eventFromPg(row));
    return out;
  }

  /** Clocks of many contacts (each contact's in the engine's order), for a page of views: one statement. */
  async clocksOf(ids: readonly string[]): Promise<Map<string, ClockRow[]>> {
    const out = new Map<string, ClockRow[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const r = await this.db.query<PgRawClock>(`SELECT ${CLOCK_COLUMNS} FROM clocks WHERE contact_id = ANY($1::text[]) ORDER BY contact_id, ordinal`, [ids]);
    for (const row of r.rows) out.get(row.contact_id)?.push(clockFromPg(row));
    return out;
  }

  async countRows(): Promise<{ contacts: number; events: number; clocks: number }> {
    const r = await this.db.query<{ contacts: number; events: number; clocks: number }>(
      'SELECT (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM clocks) AS clocks',
    );
    return r.rows[0]!;
  }

  /**
   * Contacts newest first, filtered: the same answer as the SQLite store's `list`, by the same two
   * walks (see `listPlan`). A running clock's status is judged against `now` in SQL.
   */
  async list(f: ContactFilter, shape?: ListPlan['shape']): Promise<ContactRow[]> {
    const plan = await this.listPlan(f, shape);
    if (plan.shape === 'contacts') {
      const st = plan.statements[0]!;
      return (await this.db.query<PgRawContact>(st.sql, st.params)).rows.map(contactFromPg);
    }
    // Clock-led: each statement gives (received_at, id) in order; merge, drop repeats, keep the page.
    const keys: Array<{ received_at: number; id: string }> = [];
    for (const st of plan.statements) for (const k of (await this.db.query<{ received_at: number; id: string }>(st.sql, st.params)).rows) keys.push(k);
    // Ids compare bytewise, as the database's COLLATE "C" and SQLite do.
    if (plan.statements.length > 1) keys.sort((a, b) => b.received_at - a.received_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const ids: string[] = [];
    for (const k of keys) {
      if (ids.length === f.limit) break;
      if (ids[ids.length - 1] !== k.id) ids.push(k.id);
    }
    return this.byIds(ids);
  }

  /**
   * The statements `list(f)` runs. The two shapes of the SQLite store (server/store/contacts.ts
   * `listPlan`), chosen by the same rule:
   *
   * - **contacts**: walk contacts newest first (by the assignee's, the queue's or the received_at
   *   index, each holding (received_at, id) after its equality column), testing a status or standard
   *   on the contact's clocks;
   * - **clocks**: walk clocks newest first by their copy of received_at — open clocks by the partial
   *   index of open clocks (which holds what judges them against now), a stored status by
   *   `clocks_status_received`, a standard alone by `clocks_standard_received` — testing the contact's
   *   channel, category, assignee or queue by its id.
   *
   * PostgreSQL has no INDEXED BY: the walk is the one table in FROM, its ORDER BY … LIMIT matching an
   * index, and every lookup into the other table is a correlated `EXISTS (… OFFSET 0)`. The OFFSET
   * keeps the planner from turning the EXISTS into a join (which could hash the whole other table);
   * as a subplan it runs once per row of the walk, by primary key, and only until the page is full.
   * tests/integration/store-contract.test.ts asserts the plans with EXPLAIN.
   */
  async listPlan(f: ContactFilter, shape?: ListPlan['shape']): Promise<PgListPlan> {
    const statuses = [...new Set(f.status ?? [])];
    const filtersClocks = statuses.length > 0 || f.standard !== undefined;
    if (!filtersClocks || shape === 'contacts') return contactLed(f, statuses);
    const narrowContacts = f.assignee !== undefined || f.queue !== undefined || (f.channel !== undefined && f.category !== undefined);
    if (!narrowContacts || shape === 'clocks') return clockLed(f, statuses);
    const clocks = clockLed(f, statuses);
    const contacts = contactLed(f, statuses);
    let clockEntries = 0;
    for (const c of clocks.counts) clockEntries += (await this.db.query<{ n: number }>(c.sql, c.params)).rows[0]!.n;
    if (clockEntries >= PgContactReads.SMALL) return contacts;
    const contactEntries = (await this.db.query<{ n: number }>(contacts.counts[0]!.sql, contacts.counts[0]!.params)).rows[0]!.n;
    return contactEntries <= clockEntries ? contacts : clocks;
  }
}

function contactLed(f: ContactFilter, statuses: string[]): PgListPlan {
  const params: Record<string, unknown> = { limit: f.limit, now: f.now };
  const lead: string[] = [];
  if (f.assignee !== undefined) {
    lead.push('c.assignee = @assignee');
    params.assignee = f.assignee;
  } else if (f.queue !== undefined) {
    lead.push('c.queue = @queue');
    params.queue = f.queue;
  }
  // Else a category leads (contacts_category_received), the count of the narrow side walking it too.
  const categoryLeads = f.assignee === undefined && f.queue === undefined && f.category !== undefined;
  if (categoryLeads) {
    lead.push('c.category = @category');
    params.category = f.category;
  }
  lead.push(...rangeTerms(f, params, 'c.received_at', 'c.id'));
  const where = [...lead];
  if (f.channel !== undefined) {
    where.push('c.channel = @channel');
    params.channel = f.channel;
  }
  if (f.category !== undefined && !categoryLeads) {
    where.push('c.category = @category');
    params.category = f.category;
  }
  if (f.queue !== undefined && f.assignee !== undefined) {
    // Led by the assignee's index (an advisor's work is narrower than a line's): the queue is a filter.
    where.push('c.queue = @queue');
    params.queue = f.queue;
  }
  if (f.standard !== undefined) params.standard = f.standard;
  if (statuses.length > 0 && statuses.every((s) => JUDGED.has(s))) {
    // Only statuses judged from open clocks: the open clocks' covering index by the contact's whole key
    // there (received_at, id), which holds what judges them: no clock row (the wide detail) read.
    const k = ['k.open', 'k.received_at = c.received_at', 'k.contact_id = c.id'];
    if (f.standard !== undefined) k.push('k.standard = @standard');
    k.push(`(${statuses.map((s, i) => statusTerm(s, i, params, false, true)).join(' OR ')})`);
    where.push(`EXISTS (SELECT 1 FROM clocks k WHERE ${k.join(' AND ')} OFFSET 0)`);
  } else if (statuses.length > 0 || f.standard !== undefined) {
    // By the clocks' primary key, contact_id (and standard).
    const k = ['k.contact_id = c.id'];
    if (f.standard !== undefined) k.push('k.standard = @standard');
    if (statuses.length > 0) k.push(`(${statuses.map((s, i) => statusTerm(s, i, params, true, true)).join(' OR ')})`);
    where.push(`EXISTS (SELECT 1 FROM clocks k WHERE ${k.join(' AND ')} OFFSET 0)`);
  }
  const filter = (terms: string[]) => (terms.length ? ` WHERE ${terms.join(' AND ')}` : '');
  const sql = `SELECT c.* FROM contacts c${filter(where)} ORDER BY c.received_at DESC, c.id DESC LIMIT @limit`;
  const count = `SELECT count(*) AS n FROM (SELECT 1 FROM contacts c${filter(lead)} LIMIT ${PgContactReads.SMALL}) s`;
  return { shape: 'contacts', statements: [bind(sql, params)], counts: [bind(count, params)] };
}

function clockLed(f: ContactFilter, statuses: string[]): PgListPlan {
  const params: Record<string, unknown> = { limit: f.limit, now: f.now };
  const range = rangeTerms(f, params, 'k.received_at', 'k.contact_id');
  const contact: string[] = [];
  if (f.channel !== undefined) {
    contact.push('c.channel = @channel');
    params.channel = f.channel;
  }
  if (f.category !== undefined) {
    contact.push('c.category = @category');
    params.category = f.category;
  }
  if (f.assignee !== undefined) {
    contact.push('c.assignee = @assignee');
    params.assignee = f.assignee;
  }
  if (f.queue !== undefined) {
    // An expression, never a search of contacts_queue_received per clock (the planner picks it for a
    // queue it has no figures for): the contact is found by id, its queue tested on the row.
    contact.push("c.queue || '' = @queue");
    params.queue = f.queue;
  }
  if (f.standard !== undefined) params.standard = f.standard;
  // The contact found by id, once per clock of the walk, only when one of its columns is asked about.
  const ofContact = contact.length > 0 ? [`EXISTS (SELECT 1 FROM contacts c WHERE c.id = k.contact_id AND ${contact.join(' AND ')} OFFSET 0)`] : [];
  const statements: PgStatement[] = [];
  const counts: PgStatement[] = [];
  const add = (lead: string[], filter: string[], distinct: boolean) => {
    const where = [...lead, ...range, ...filter, ...ofContact].join(' AND ');
    statements.push(bind(`SELECT ${distinct ? 'DISTINCT ' : ''}k.received_at, k.contact_id AS id FROM clocks k WHERE ${where} ORDER BY k.received_at DESC, k.contact_id DESC LIMIT @limit`, params));
    counts.push(bind(`SELECT count(*) AS n FROM (SELECT 1 FROM clocks k WHERE ${[...lead, ...range].join(' AND ')} LIMIT ${PgContactReads.SMALL}) s`, params));
  };
  if (statuses.length === 0) {
    // A standard alone: one clock per contact and standard, so no DISTINCT.
    add(['k.standard = @standard'], [], false);
    return { shape: 'clocks', statements, counts };
  }
  const standard = f.standard !== undefined ? ['k.standard = @standard'] : [];
  // Judged against now from the open clocks: running, at-risk, breached, open.
  const judged = statuses.filter((s) => JUDGED.has(s));
  if (judged.length > 0) {
    const either = judged.includes('open') ? [] : [`(${judged.map((s) => statusTerm(s, statuses.indexOf(s), params, false, false)).join(' OR ')})`];
    add(['k.open'], [...either, ...standard], true);
  }
  // Stored: paused and the final statuses, one statement each (an IN list would lose the order).
  for (const [i, s] of statuses.entries()) {
    if (JUDGED.has(s)) continue;
    params[`status${i}`] = s;
    add([`k.status = @status${i}`], standard, true);
  }
  return { shape: 'clocks', statements, counts };
}

// ------------------------------------------------------------------------------------------------
// The plain row writes of one contact, each on a connection the caller holds in a transaction.

/** Locks a contact's row until the transaction ends (before its events are added and its clocks recomputed); false if there is none. */
export async function lockContact(client: Queryable, id: string): Promise<boolean> {
  return ((await client.query('SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE', [id])).rowCount ?? 0) === 1;
}

export async function insertContact(client: Queryable, c: ContactRow): Promise<void> {
  await client.query(
    `INSERT INTO contacts (id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary, assignee, callback, content_hash, source, queue, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      c.id, c.channel, c.route, c.category, c.initialCategory, c.externalId, c.receivedAt, c.packFamily,
      c.customer === null ? null : JSON.stringify(c.customer), c.subject, c.summary, c.assignee, c.callback, c.contentHash,
      c.source === null ? null : JSON.stringify(c.source), queueOf(c), c.createdAt, c.updatedAt,
    ],
  );
}

/** Appends one event; returns its id. */
export async function insertEvent(client: Queryable, e: Omit<EventRow, 'id'>): Promise<number> {
  const r = await client.query<{ id: number }>(
    'INSERT INTO events (contact_id, seq, type, at, external_id, body, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
    [e.contactId, e.seq, e.type, e.at, e.externalId, JSON.stringify(e.body), e.receivedAt],
  );
  return r.rows[0]!.id;
}

/** The seq the contact's next event takes. */
export async function nextSeq(client: Queryable, contactId: string): Promise<number> {
  return (await client.query<{ next: number }>('SELECT COALESCE(max(seq) + 1, 0) AS next FROM events WHERE contact_id = $1', [contactId])).rows[0]!.next;
}

/** Stores the clocks of a contact that has none yet, in the engine's order. */
export async function insertClocks(client: Queryable, contactId: string, clocks: readonly Clock[], now: number): Promise<void> {
  for (const k of clockValues(contactId, clocks, now)) {
    // received_at is the contact's (it never changes): copied so lists can page clocks in the contacts' order.
    await client.query(
      `INSERT INTO clocks (contact_id, standard, received_at, standard_version, calendar, status, open, started_at, due_at, at_risk_at, fulfilled_at, ended_at, target_ms, counted_ms, status_changed_at, detail, updated_at, ordinal)
       VALUES ($1, $2, (SELECT received_at FROM contacts WHERE id = $1), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [k.contactId, k.standard, k.standardVersion, k.calendar, k.status, k.open, k.startedAt, k.dueAt, k.atRiskAt, k.fulfilledAt, k.endedAt, k.targetMs, k.countedMs, k.statusChangedAt, k.detail, k.updatedAt, k.ordinal],
    );
  }
}

/**
 * Replaces a contact's clock rows with the engine's latest answer: deleted and inserted again. The
 * caller holds the contact's row lock (`lockContact`), so no other instance recomputes it meanwhile.
 */
export async function replaceClocks(client: Queryable, contactId: string, clocks: readonly Clock[], now: number): Promise<void> {
  await client.query('DELETE FROM clocks WHERE contact_id = $1', [contactId]);
  await insertClocks(client, contactId, clocks, now);
}

/** The fields the engine derives from the events: the category in force, the assignee, a callback. */
export async function updateDerived(client: Queryable, id: string, d: { category: string; assignee: string | null; callback: boolean; updatedAt: number }): Promise<void> {
  await client.query('UPDATE contacts SET category = $2, assignee = $3, callback = $4, updated_at = $5 WHERE id = $1', [id, d.category, d.assignee, d.callback, d.updatedAt]);
}

/**
 * Records a timer's status change at the instant it really happened, only over a clock still running
 * or at risk (the guarded update of issue 14) and not already in that status: two instances firing
 * the same timer, or a timer racing a recompute that ended the clock, store it once. True when this
 * call stored it.
 */
export async function setStatus(client: Queryable, contactId: string, standard: string, status: string, at: number, now: number): Promise<boolean> {
  // The detail's status is set through jsonb, which rewrites the text's spacing and key order (readers
  // parse it) and refuses a `\u0000` escape: U+0000 must be kept out at the edge for PostgreSQL anyway,
  // whose text columns cannot hold it.
  const r = await client.query(
    `UPDATE clocks SET status = $3, status_changed_at = $4, detail = jsonb_set(detail::jsonb, '{status}', to_jsonb($3::text))::text, updated_at = $5
     WHERE contact_id = $1 AND standard = $2 AND open AND status IN ('running', 'at-risk') AND status <> $3`,
    [contactId, standard, status, at, now],
  );
  return (r.rowCount ?? 0) === 1;
}

/** The row writes above, as one object (what the contract suite and simple callers hold). */
export const PgContactWrites = { lockContact, insertContact, insertEvent, nextSeq, insertClocks, replaceClocks, updateDerived, setStatus } as const;
