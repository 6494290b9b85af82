// The people's queue store on PostgreSQL (issue 14): QueueStorePort with the SQLite QueueStore's
// answers (server/store/queue.ts: the same rows, orders and page-filling step, reused from there).
// The unassigned work walks the open clocks in due order (clocks_open_due) and the team's load the
// open clocks' covering index in SQLite's order (received, contact, standard; ids and standards
// compared bytewise). Raising an alert and issuing a reference are the row functions the commands use
// (command-rows.ts); an alert actioned by two instances at once is recorded once: the second UPDATE
// waits on the row, then finds it actioned.
import type { QueueStorePort } from '../ports.js';
import { alertFromRaw, alertsByContact, fillPage, type AlertRow, type OpenClockOwner, type RawAlert } from '../queue.js';
import { actionAlert, nextInSequence, raiseAlert } from './command-rows.js';
import type { Queryable } from './contacts.js';

/** An advisor's queues as one bind parameter ($2): null for every queue. */
const IN_QUEUES = '($2::text[] IS NULL OR c.route = ANY($2::text[]) OR c.category = ANY($2::text[]))';

export const PG_QUEUE_SQL = {
  unassignedDue: `SELECT k.contact_id AS id FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.open AND k.due_at IS NOT NULL AND c.assignee IS NULL AND ${IN_QUEUES}
    ORDER BY k.due_at, k.contact_id LIMIT $1`,
  unassignedPaused: `SELECT k.contact_id AS id FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.open AND k.due_at IS NULL AND c.assignee IS NULL AND ${IN_QUEUES}
    ORDER BY k.contact_id LIMIT $1`,
  openClockOwners: `SELECT k.contact_id AS "contactId", c.assignee, k.status, k.due_at AS "dueAt", k.at_risk_at AS "atRiskAt"
    FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.open ORDER BY k.received_at, k.contact_id, k.standard COLLATE "C"`,
  openAlerts: 'SELECT * FROM alerts WHERE actioned_at IS NULL ORDER BY raised_at, id LIMIT $1',
  contactAlerts: 'SELECT * FROM alerts WHERE contact_id = $1 ORDER BY id',
  openAlertsOf: 'SELECT * FROM alerts WHERE contact_id = ANY($1::text[]) AND actioned_at IS NULL ORDER BY contact_id, id',
  alert: 'SELECT * FROM alerts WHERE id = $1',
} as const;

export class PgQueueStore implements QueueStorePort {
  constructor(private readonly db: Queryable) {}

  /**
   * Unassigned contacts with an open clock, earliest due first (paused ones after), at most `limit`;
   * with `queues`, only those whose route or category is one of them.
   */
  async unassigned(limit: number, queues: readonly string[] | null = null): Promise<string[]> {
    if (queues !== null && queues.length === 0) return [];
    const params = [limit * 4, queues === null ? null : [...queues]];
    const ids: string[] = [];
    // A contact has a few open clocks at most: ask for enough rows to fill the page after repeats.
    fillPage(ids, limit, (await this.db.query<{ id: string }>(PG_QUEUE_SQL.unassignedDue, params)).rows);
    if (ids.length < limit) fillPage(ids, limit, (await this.db.query<{ id: string }>(PG_QUEUE_SQL.unassignedPaused, params)).rows);
    return ids;
  }

  async openClockOwners(): Promise<OpenClockOwner[]> {
    return (await this.db.query<OpenClockOwner>(PG_QUEUE_SQL.openClockOwners)).rows;
  }

  async openAlerts(limit = 500): Promise<AlertRow[]> {
    return (await this.db.query<RawAlert>(PG_QUEUE_SQL.openAlerts, [limit])).rows.map(alertFromRaw);
  }

  async alertsOf(contactId: string): Promise<AlertRow[]> {
    return (await this.db.query<RawAlert>(PG_QUEUE_SQL.contactAlerts, [contactId])).rows.map(alertFromRaw);
  }

  /** Open alerts of many contacts: one statement. */
  async openAlertsOf(ids: readonly string[]): Promise<Map<string, AlertRow[]>> {
    if (ids.length === 0) return new Map();
    return alertsByContact((await this.db.query<RawAlert>(PG_QUEUE_SQL.openAlertsOf, [[...ids]])).rows);
  }

  async alert(id: number): Promise<AlertRow | undefined> {
    const r = (await this.db.query<RawAlert>(PG_QUEUE_SQL.alert, [id])).rows[0];
    return r === undefined ? undefined : alertFromRaw(r);
  }

  raise(a: { contactId: string; kind: string; note: string | null; raisedAt: number; raisedBy: string }): Promise<number> {
    return raiseAlert(this.db, a);
  }

  /** Records the action taken on an open alert; false when it was already actioned. */
  action(id: number, at: number, by: string, action: string): Promise<boolean> {
    return actionAlert(this.db, id, at, by, action);
  }

  /** The next number of a per-year sequence: one upsert, so no two callers (on any instance) get the same. */
  next(name: string, year: number): Promise<number> {
    return nextInSequence(this.db, name, year);
  }
}
