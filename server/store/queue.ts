// The people's reads and writes beside the contacts (issue 10): the unassigned work in due order, each
// advisor's load, safeguarding alerts, and the per-year sequences Kept issues references from.
import type { Sqlite } from '../../db/connection.js';

export interface AlertRow {
  id: number;
  contactId: string;
  kind: string;
  note: string | null;
  raisedAt: number;
  raisedBy: string;
  actionedAt: number | null;
  actionedBy: string | null;
  action: string | null;
}

/** One open clock and who owns its contact. */
export interface OpenClockOwner {
  contactId: string;
  assignee: string | null;
  status: string;
  dueAt: number | null;
  atRiskAt: number | null;
}

export interface AdvisorLoad {
  /** The advisor's email, or null for the unassigned work. */
  assignee: string | null;
  /** Contacts with at least one open clock. */
  open: number;
  /** Contacts with a clock at risk now (and none breached). */
  atRisk: number;
  /** Contacts with a breached clock now. */
  breached: number;
}

/** An alerts row as stored (the same columns on SQLite and PostgreSQL). */
export type RawAlert = {
  id: number; contact_id: string; kind: string; note: string | null; raised_at: number; raised_by: string;
  actioned_at: number | null; actioned_by: string | null; action: string | null;
};

export const alertFromRaw = (r: RawAlert): AlertRow => ({
  id: r.id,
  contactId: r.contact_id,
  kind: r.kind,
  note: r.note,
  raisedAt: r.raised_at,
  raisedBy: r.raised_by,
  actionedAt: r.actioned_at,
  actionedBy: r.actioned_by,
  action: r.action,
});

/** Adds each id of `rows` not in `ids` yet, in order, until `ids` holds `limit`. */
export function fillPage(ids: string[], limit: number, rows: Iterable<{ id: string }>): void {
  const seen = new Set(ids);
  for (const r of rows) {
    if (ids.length >= limit) return;
    if (!seen.has(r.id)) ids.push(r.id), seen.add(r.id);
  }
}

/** Alerts rows grouped by contact, in the rows' order. */
export function alertsByContact(rows: readonly RawAlert[]): Map<string, AlertRow[]> {
  const out = new Map<string, AlertRow[]>();
  for (const r of rows) {
    const list = out.get(r.contact_id) ?? [];
    list.push(alertFromRaw(r));
    out.set(r.contact_id, list);
  }
  return out;
}

/**
 * The statements, each on a named index (INDEXED BY: a missing index is an error, never a scan) with
 * the contact looked up by its primary key second (CROSS JOIN keeps that order).
 */
export const QUEUE_SQL = {
  /** Unassigned contacts' open clocks with a due instant, earliest first: stops at the page. */
  unassignedDue: `SELECT k.contact_id AS id, k.due_at AS due FROM clocks k INDEXED BY clocks_open_due CROSS JOIN contacts c ON c.id = k.contact_id
    WHERE k.open = 1 AND k.due_at IS NOT NULL AND c.assignee IS NULL AND (@queues IS NULL OR c.route IN (SELECT value FROM json_each(@queues)) OR c.category IN (SELECT value FROM json_each(@queues)))
    ORDER BY k.due_at, k.contact_id LIMIT @limit`,
  /** Unassigned contacts' paused clocks (no due instant while paused). */
  unassignedPaused: `SELECT k.contact_id AS id FROM clocks k INDEXED BY clocks_open_due CROSS JOIN contacts c ON c.id = k.contact_id
    WHERE k.open = 1 AND k.due_at IS NULL AND c.assignee IS NULL AND (@queues IS NULL OR c.route IN (SELECT value FROM json_each(@queues)) OR c.category IN (SELECT value FROM json_each(@queues)))
    ORDER BY k.contact_id LIMIT @limit`,
  /** Every open clock's contact and judged status, per assignee: the open-clock index is covering on the clocks' side. */
  // Every open clock with its contact's owner (the team's load, read once: server/people/team-load.ts):
  // the open clocks' covering index walked, each owner from the covering (id, assignee) index.
  openClockOwners: `SELECT k.contact_id AS contactId, c.assignee AS assignee, k.status AS status, k.due_at AS dueAt, k.at_risk_at AS atRiskAt
    FROM clocks k INDEXED BY clocks_open_received CROSS JOIN contacts c INDEXED BY contacts_id_assignee ON c.id = k.contact_id
    WHERE k.open = 1`,
  openAlerts: 'SELECT * FROM alerts INDEXED BY alerts_open WHERE actioned_at IS NULL ORDER BY raised_at, id LIMIT ?',
  contactAlerts: 'SELECT * FROM alerts INDEXED BY alerts_contact WHERE contact_id = ? ORDER BY id',
  openAlertsOf: "SELECT * FROM alerts INDEXED BY alerts_contact WHERE contact_id IN (SELECT value FROM json_each(?)) AND +actioned_at IS NULL ORDER BY contact_id, id",
} as const;

export class QueueStore {
  private readonly s;

  constructor(sqlite: Sqlite) {
    this.s = {
      unassignedDue: sqlite.prepare<[{ limit: number; queues: string | null }], { id: string; due: number }>(QUEUE_SQL.unassignedDue),
      unassignedPaused: sqlite.prepare<[{ limit: number; queues: string | null }], { id: string }>(QUEUE_SQL.unassignedPaused),
      openClockOwners: sqlite.prepare<[], OpenClockOwner>(QUEUE_SQL.openClockOwners),
      openAlerts: sqlite.prepare<[number], RawAlert>(QUEUE_SQL.openAlerts),
      contactAlerts: sqlite.prepare<[string], RawAlert>(QUEUE_SQL.contactAlerts),
      openAlertsOf: sqlite.prepare<[string], RawAlert>(QUEUE_SQL.openAlertsOf),
      alert: sqlite.prepare<[number], RawAlert>('SELECT * FROM alerts WHERE id = ?'),
      raise: sqlite.prepare<[{ contactId: string; kind: string; note: string | null; raisedAt: number; raisedBy: string }]>(
        'INSERT INTO alerts (contact_id, kind, note, raised_at, raised_by) VALUES (@contactId, @kind, @note, @raisedAt, @raisedBy)',
      ),
      action: sqlite.prepare<[{ id: number; at: number; by: string; action: string }]>(
        'UPDATE alerts SET actioned_at = @at, actioned_by = @by, action = @action WHERE id = @id AND actioned_at IS NULL',
      ),
      next: sqlite.prepare<[string, number], { value: number }>(
        'INSERT INTO sequences (name, year, value) VALUES (?, ?, 1) ON CONFLICT (name, year) DO UPDATE SET value = value + 1 RETURNING value',
      ),
    };
  }

  /**
   * Unassigned contacts with an open clock, earliest due first (paused ones after), at most `limit`;
   * with `queues`, only those whose route or category is one of them (an advisor's queues).
   */
  unassigned(limit: number, queues: readonly string[] | null = null): string[] {
    if (queues !== null && queues.length === 0) return [];
    const q = queues === null ? null : JSON.stringify(queues);
    const ids: string[] = [];
    // A contact has a few open clocks at most: ask for enough rows to fill the page after repeats.
    fillPage(ids, limit, this.s.unassignedDue.all({ limit: limit * 4, queues: q }));
    if (ids.length < limit) fillPage(ids, limit, this.s.unassignedPaused.all({ limit: limit * 4, queues: q }));
    return ids;
  }

  /** Every open clock with its contact's assignee (what the team's load is built from). */
  openClockOwners(): OpenClockOwner[] {
    return this.s.openClockOwners.all();
  }

  openAlerts(limit = 500): AlertRow[] {
    return this.s.openAlerts.all(limit).map(alertFromRaw);
  }

  alertsOf(contactId: string): AlertRow[] {
    return this.s.contactAlerts.all(contactId).map(alertFromRaw);
  }

  /** Open alerts of many contacts: one statement. */
  openAlertsOf(ids: readonly string[]): Map<string, AlertRow[]> {
    if (ids.length === 0) return new Map();
    return alertsByContact(this.s.openAlertsOf.all(JSON.stringify(ids)));
  }

  alert(id: number): AlertRow | undefined {
    const r = this.s.alert.get(id);
    return r === undefined ? undefined : alertFromRaw(r);
  }

  raise(a: { contactId: string; kind: string; note: string | null; raisedAt: number; raisedBy: string }): number {
    return Number(this.s.raise.run(a).lastInsertRowid);
  }

  /** Records the action taken on an open alert; false when it was already actioned. */
  action(id: number, at: number, by: string, action: string): boolean {
    return this.s.action.run({ id, at, by, action }).changes === 1;
  }

  /** The next number of a per-year sequence (inside the writer's transaction: no two callers get the same). */
  next(name: string, year: number): number {
    return this.s.next.get(name, year)!.value;
  }
}
