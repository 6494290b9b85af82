// The audit trail: who changed what, and every sign-in. Append-only: rows are inserted, never
// updated; the retention schedule deletes the oldest after KEPT_RETENTION_AUDIT_MONTHS (issue 17,
// server/commands/prune-audit.ts). Details never carry customers' email addresses or phone numbers.
import type { Sqlite } from '../../db/connection.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  detail: unknown;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  /** Inclusive lower bound on `at` (epoch ms). */
  from?: number;
  /** Exclusive upper bound on `at`. */
  to?: number;
  /** Keyed paging: entries with an id below this one (the previous page's `next`). */
  before?: number;
  limit?: number;
}

export type AuditRow = { id: number; at: number; actor: string; action: string; detail: string | null };
export const toEntry = (r: AuditRow): AuditEntry => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown) });

/** A page's filter: its terms (`?` for each value, in order), their values, and the page's size. */
export interface AuditFilter {
  terms: string[];
  args: Array<string | number>;
  limit: number;
}

export function auditFilter(q: AuditQuery): AuditFilter {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const terms: string[] = [];
  const args: Array<string | number> = [];
  if (q.actor !== undefined) (terms.push('actor = ?'), args.push(q.actor));
  if (q.action !== undefined) (terms.push('action = ?'), args.push(q.action));
  if (q.from !== undefined) (terms.push('at >= ?'), args.push(q.from));
  if (q.to !== undefined) (terms.push('at < ?'), args.push(q.to));
  if (q.before !== undefined) (terms.push('id < ?'), args.push(q.before));
  return { terms, args, limit };
}

/** A page from the `limit + 1` newest rows read: `next` is the last entry's id when there are more. */
export function auditPage(rows: AuditRow[], limit: number): { items: AuditEntry[]; next: number | null } {
  const items = rows.slice(0, limit).map(toEntry);
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

/** The SQL of a page: the terms joined by AND, the limit the last `?`; `index` a hint (SQLite's INDEXED BY) or empty. */
export const auditSelect = (index: string, where: string[]) => `SELECT id, at, actor, action, detail FROM audit ${index} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;

export class AuditStore {
  private readonly insert;
  constructor(private readonly sqlite: Sqlite) {
    this.insert = sqlite.prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)');
  }

  record(at: number, actor: string, action: string, detail: unknown): void {
    this.insert.run(at, actor, action, JSON.stringify(detail));
  }

  recent(limit = 50): AuditEntry[] {
    return (this.sqlite.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[]).map(toEntry);
  }

  /**
   * Newest first, filtered, keyed on id (no OFFSET): by actor or action the (actor, id) and
   * (action, id) indexes give the rows in order; `from`/`to` bound the walk on `at`.
   */
  page(q: AuditQuery): { items: AuditEntry[]; next: number | null } {
    const { terms, args, limit } = auditFilter(q);
    const index = q.actor !== undefined ? 'INDEXED BY audit_actor_id' : q.action !== undefined ? 'INDEXED BY audit_action_id' : '';
    const rows = this.sqlite.prepare(auditSelect(index, terms)).all(...args, limit + 1) as AuditRow[];
    return auditPage(rows, limit);
  }
}
