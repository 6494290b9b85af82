// The live board's reads on PostgreSQL (issue 14): the LiveReads of ../ports.ts giving the SQLite
// LiveStore's answers — the running clocks page by page in the open clocks' index order (a keyed,
// ordered walk of `clocks_open_received`, each page its own statement), today's ledger, and the words
// and queues of the urgent rows, read by key.
import type pg from 'pg';
import { callFromRow, detailsFromRows, handledFromRow, HANDLED_SQL, queuesFromRows, type CallRow, type HandledRow, type OpenClockCursor, type OpenClockRow, type RawCall, type RawDetail, type RawHandled, type RawQueue, type UrgentDetail } from '../live.js';
import type { LiveReads } from '../ports.js';
import type { PgStatement, Queryable } from './contacts.js';

/** A statement whose rows come back as arrays (the SQLite store's `.raw(true)`). */
const asArrays = (st: PgStatement): pg.QueryArrayConfig => ({ text: st.sql, values: st.params, rowMode: 'array' });

export class PgLiveStore implements LiveReads {
  /** Bound first in the page statements: [standard, channel, …] of the CASE. */
  private readonly implied: string[];
  private readonly select: string;

  /**
   * `impliedChannels`: standards that apply to one channel only (server/live/live.ts
   * `impliedChannels()`), whose clocks need no look-up of their contact's channel.
   */
  constructor(
    private readonly db: Queryable,
    impliedChannels: ReadonlyMap<string, string> = new Map(),
  ) {
    this.implied = [...impliedChannels].flat();
    // As on SQLite: the channel is the standard's when it implies one, otherwise the contact's, found by
    // its whole key in contacts_received_at (which holds received_at, id and channel: no table row).
    const lookUp = '(SELECT c.channel FROM contacts c WHERE c.received_at = k.received_at AND c.id = k.contact_id)';
    const channel = impliedChannels.size === 0 ? lookUp : `CASE k.standard ${[...impliedChannels].map((_, i) => `WHEN $${2 * i + 1} THEN $${2 * i + 2}`).join(' ')} ELSE ${lookUp} END`;
    this.select = `SELECT k.contact_id || '/' || k.standard, k.received_at, k.contact_id, k.standard, k.status, k.due_at, k.at_risk_at, ${channel}
      FROM clocks k WHERE k.open`;
  }

  /**
   * The statement of one page of running clocks (what `openClocks` runs, and what the contract test
   * EXPLAINs): `k.open` is the partial index's predicate and the ORDER BY its leading columns, so the
   * page is an ordered walk of `clocks_open_received` that stops at the LIMIT; the cursor is a row
   * comparison, which the B-tree seeks to however deep the page.
   */
  pageStatement(after: OpenClockCursor | null, limit: number): PgStatement {
    const n = this.implied.length;
    const order = 'ORDER BY k.received_at, k.contact_id, k.standard';
    if (after === null) return { sql: `${this.select} ${order} LIMIT $${n + 1}`, params: [...this.implied, limit] };
    return {
      sql: `${this.select} AND (k.received_at, k.contact_id, k.standard) > ($${n + 1}, $${n + 2}, $${n + 3}) ${order} LIMIT $${n + 4}`,
      params: [...this.implied, after.receivedAt, after.contactId, after.standard, limit],
    };
  }

  /** Up to `limit` running clocks after `after` (from the first when null), in (receivedAt, contactId, standard) order. */
  async openClocks(after: OpenClockCursor | null, limit: number): Promise<OpenClockRow[]> {
    return (await this.db.query(asArrays(this.pageStatement(after, limit)))).rows as OpenClockRow[];
  }

  /** Phone calls received since `since` with their phone-answer clock (`callback` as 0 or 1, as SQLite gives it). */
  async callsSince(since: number): Promise<CallRow[]> {
    const st = {
      sql: `SELECT c.id, c.received_at, c.callback::int, k.status, k.fulfilled_at, k.ended_at FROM contacts c JOIN clocks k ON k.contact_id = c.id AND k.standard = 'phone-answer'
        WHERE c.channel = 'phone' AND c.received_at >= $1 ORDER BY c.received_at, c.id`,
      params: [since],
    };
    return ((await this.db.query(asArrays(st))).rows as RawCall[]).map(callFromRow);
  }

  /** Every contact received since `since`: [id, receivedAt], in contacts_received_at order. */
  async receivedSince(since: number): Promise<Array<[id: string, receivedAt: number]>> {
    return (await this.db.query(asArrays({ sql: 'SELECT id, received_at FROM contacts WHERE received_at >= $1 ORDER BY received_at, id', params: [since] }))).rows as Array<[string, number]>;
  }

  /** Clocks met or missed since `since` (a set: the board folds it into today's counts). */
  async handledSince(since: number): Promise<HandledRow[]> {
    const st = { sql: `SELECT k.contact_id, k.standard, c.channel, k.status, k.due_at FROM clocks k JOIN contacts c ON c.id = k.contact_id WHERE k.ended_at >= $1 AND k.status IN ${HANDLED_SQL}`, params: [since] };
    return ((await this.db.query(asArrays(st))).rows as RawHandled[]).map(handledFromRow);
  }

  /**
   * What the urgent rows of these contacts show, by contact id: one statement, a keyed search each.
   * The name comes as JSON (`->`, parsed by the driver), so a name that is not a string is none, as on SQLite.
   */
  async details(contactIds: readonly string[]): Promise<Map<string, UrgentDetail>> {
    if (contactIds.length === 0) return new Map();
    const st = { sql: "SELECT id, category, customer::json -> 'name', subject, assignee, route FROM contacts WHERE id = ANY($1::text[])", params: [contactIds] };
    return detailsFromRows((await this.db.query(asArrays(st))).rows as RawDetail[]);
  }

  /** Each contact's phone queue (`source.queue`; absent when the call named none), by contact id: a keyed search each. */
  async queues(contactIds: readonly string[]): Promise<Map<string, string>> {
    if (contactIds.length === 0) return new Map();
    const st = { sql: "SELECT id, source::json -> 'queue' FROM contacts WHERE id = ANY($1::text[])", params: [contactIds] };
    return queuesFromRows((await this.db.query(asArrays(st))).rows as RawQueue[]);
  }
}
