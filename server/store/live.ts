// The live board's reads: the running clocks loaded at start (in pages, so the server answers
// between them), today's ledger (calls, contacts received, clocks handled), and the words of the
// urgent rows a snapshot or a delta carries (read by key, for those rows only).
import type { Sqlite } from '../../db/connection.js';

/** Where a page of running clocks ends: the next page starts after it (clocks_open_received order). */
export interface OpenClockCursor {
  receivedAt: number;
  contactId: string;
  standard: string;
}

/**
 * One running clock as the board needs it, as a row of values (no object per row):
 * [key, receivedAt, contactId, standard, status, dueAt, atRiskAt, channel]. The key
 * ("contactId/standard") is built by SQLite: a flat string (a JS concatenation would keep a rope and
 * its flat copy once used as a Map key).
 */
export type OpenClockRow = [key: string, receivedAt: number, contactId: string, standard: string, status: string, dueAt: number | null, atRiskAt: number | null, channel: string];

/** Today's phone calls: a phone contact received since the day began, with its phone-answer clock. */
export interface CallRow {
  id: string;
  receivedAt: number;
  callback: boolean;
  status: string;
  answeredAt: number | null;
  endedAt: number | null;
}

/** A clock met or missed today, with its contact's channel. */
export interface HandledRow {
  contactId: string;
  standard: string;
  channel: string;
  status: string;
  dueAt: number | null;
}

/** What an urgent row shows about its contact. */
export interface UrgentDetail {
  category: string;
  customerName: string | null;
  subject: string | null;
  assignee: string | null;
  route: string;
}

/** The final statuses today's ledger counts as handled (an SQL list: both databases' statements use it). */
export const HANDLED_SQL = "('met','missed','met-extended','missed-extended')";

/** A call's row as both databases give it: [id, receivedAt, callback (0 or 1), status, answeredAt, endedAt]. */
export type RawCall = [string, number, number, string, number | null, number | null];
/** A handled clock's row: [contactId, standard, channel, status, dueAt]. */
export type RawHandled = [string, string, string, string, number | null];

export const callFromRow = ([id, receivedAt, callback, status, answeredAt, endedAt]: RawCall): CallRow => ({ id, receivedAt, callback: callback === 1, status, answeredAt, endedAt });

export const handledFromRow = ([contactId, standard, channel, status, dueAt]: RawHandled): HandledRow => ({ contactId, standard, channel, status, dueAt });

/** An urgent row's words: [id, category, the customer's name (any JSON value), subject, assignee, route]. */
export type RawDetail = [string, string, unknown, string | null, string | null, string];
/** A call's queue: [id, source.queue (any JSON value)]. */
export type RawQueue = [string, unknown];

/** Urgent rows' words by contact id: a name that is not a string is none. */
export function detailsFromRows(rows: readonly RawDetail[]): Map<string, UrgentDetail> {
  const out = new Map<string, UrgentDetail>();
  for (const [id, category, name, subject, assignee, route] of rows) out.set(id, { category, customerName: typeof name === 'string' ? name : null, subject, assignee, route });
  return out;
}

/** Phone queues by contact id: a queue that is not a string is none. */
export function queuesFromRows(rows: readonly RawQueue[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, queue] of rows) if (typeof queue === 'string') out.set(id, queue);
  return out;
}

export class LiveStore {
  private readonly firstPage;
  private readonly nextPage;
  private readonly calls;
  private readonly received;
  private readonly handled;
  private readonly detail;
  private readonly queue;

  /** Bound to the CASE of the page statements: [standard, channel, …]. */
  private readonly implied: string[];

  /**
   * `impliedChannels`: standards that apply to one channel only (from the packs: `email-reply` is an
   * email's), whose clocks need no look-up of their contact's channel.
   */
  constructor(sqlite: Sqlite, impliedChannels: ReadonlyMap<string, string> = new Map()) {
    // Open clocks in the partial index's order (a covering walk). The channel is the standard's when it
    // implies one; otherwise (complaints, emergencies) a keyed search of contacts_received_at, whose key
    // holds received_at and id and which carries channel: no table row is read. Everything else an
    // urgent row shows is read by key when it is sent (details()).
    this.implied = [...impliedChannels].flat();
    const lookUp = '(SELECT c.channel FROM contacts c INDEXED BY contacts_received_at WHERE c.received_at = k.received_at AND c.id = k.contact_id)';
    const channel = impliedChannels.size === 0 ? lookUp : `CASE k.standard ${[...impliedChannels].map(() => 'WHEN ? THEN ?').join(' ')} ELSE ${lookUp} END`;
    const select = `SELECT k.contact_id || '/' || k.standard, k.received_at, k.contact_id, k.standard, k.status, k.due_at, k.at_risk_at, ${channel}
      FROM clocks k INDEXED BY clocks_open_received
      WHERE k.open = 1`;
    const order = 'ORDER BY k.received_at, k.contact_id, k.standard LIMIT ?';
    this.firstPage = sqlite.prepare(`${select} ${order}`).raw(true);
    this.nextPage = sqlite.prepare(`${select} AND (k.received_at, k.contact_id, k.standard) > (?, ?, ?) ${order}`).raw(true);
    // `+c.channel`, `+k.standard` and `+k.status`: filters, not index keys. Without statistics the planner would
    // otherwise walk every phone call or phone-answer clock (or every met clock) instead of today's.
    this.calls = sqlite
      .prepare(
        `SELECT c.id, c.received_at, c.callback, k.status, k.fulfilled_at, k.ended_at FROM contacts c JOIN clocks k ON k.contact_id = c.id AND +k.standard = 'phone-answer'
         WHERE +c.channel = 'phone' AND c.received_at >= ?`,
      )
      .raw(true);
    this.received = sqlite.prepare('SELECT id, received_at FROM contacts WHERE received_at >= ?').raw(true);
    this.handled = sqlite
      .prepare(`SELECT k.contact_id, k.standard, c.channel, k.status, k.due_at FROM clocks k JOIN contacts c ON c.id = k.contact_id WHERE k.ended_at >= ? AND +k.status IN ${HANDLED_SQL}`)
      .raw(true);
    this.detail = sqlite
      .prepare("SELECT id, category, json_extract(customer, '$.name'), subject, assignee, route FROM contacts WHERE id IN (SELECT value FROM json_each(?))")
      .raw(true);
    // The named phone queue (issue 13) of the calls waiting now, read by key for those calls only.
    this.queue = sqlite.prepare("SELECT id, json_extract(source, '$.queue') FROM contacts WHERE id IN (SELECT value FROM json_each(?))").raw(true);
  }

  /** Each statement's SQL by name: what tests/integration/query-plans.test.ts plans (never a copy). */
  get statements(): Record<'firstPage' | 'nextPage' | 'calls' | 'received' | 'handled' | 'detail' | 'queue', string> {
    return { firstPage: this.firstPage.source, nextPage: this.nextPage.source, calls: this.calls.source, received: this.received.source, handled: this.handled.source, detail: this.detail.source, queue: this.queue.source };
  }

  /**
   * Up to `limit` running clocks after `after` (from the first when null), in (receivedAt, contactId,
   * standard) order. Each page is its own statement: the connection is free between pages, and rows
   * are never all held at once.
   */
  openClocks(after: OpenClockCursor | null, limit: number): OpenClockRow[] {
    const rows = after === null ? this.firstPage.all(...this.implied, limit) : this.nextPage.all(...this.implied, after.receivedAt, after.contactId, after.standard, limit);
    return rows as OpenClockRow[];
  }

  /** Phone calls received since `since` with their phone-answer clock. */
  callsSince(since: number): CallRow[] {
    return (this.calls.all(since) as RawCall[]).map(callFromRow);
  }

  /** Every contact received since `since`: [id, receivedAt]. */
  receivedSince(since: number): Array<[id: string, receivedAt: number]> {
    return this.received.all(since) as Array<[string, number]>;
  }

  /** Clocks met or missed since `since`. */
  handledSince(since: number): HandledRow[] {
    return (this.handled.all(since) as RawHandled[]).map(handledFromRow);
  }

  /** What the urgent rows of these contacts show, by contact id (one statement, a keyed search each). */
  details(contactIds: readonly string[]): Map<string, UrgentDetail> {
    if (contactIds.length === 0) return new Map();
    return detailsFromRows(this.detail.all(JSON.stringify(contactIds)) as RawDetail[]);
  }

  /** Each contact's phone queue (`source.queue`; absent when the call named none), by contact id: a keyed search each. */
  queues(contactIds: readonly string[]): Map<string, string> {
    if (contactIds.length === 0) return new Map();
    return queuesFromRows(this.queue.all(JSON.stringify(contactIds)) as RawQueue[]);
  }
}
