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

type Row = { id: number; at: number; actor: string; action: string; detail: string | null };
const toEntry = (r: Row): AuditEntry => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown) });

export class AuditStore {
  private readonly insert;
  constructor(private readonly sqlite: Sqlite) {
    this.insert = sqlite.prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)');
  }

  record(at: number, actor: string, action: string, detail: unknown): void {
    this.insert.run(at, actor, action, JSON.stringify(detail));
  }

  recent(limit = 50): AuditEntry[] {
    return (this.sqlite.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(toEntry);
  }

  /**
   * Newest first, filtered, keyed on id (no OFFSET): by actor or action the (actor, id) and
   * (action, id) indexes give the rows in order; `from`/`to` bound the walk on `at`.
   */
  page(q: AuditQuery): { items: AuditEntry[]; next: number | null } {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.actor !== undefined) (where.push('actor = ?'), args.push(q.actor));
    if (q.action !== undefined) (where.push('action = ?'), args.push(q.action));
    if (q.from !== undefined) (where.push('at >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('at < ?'), args.push(q.to));
    if (q.before !== undefined) (where.push('id < ?'), args.push(q.before));
    const index = q.actor !== undefined ? 'INDEXED BY audit_actor_id' : q.action !== undefined ? 'INDEXED BY audit_action_id' : '';
    const sql = `SELECT id, at, actor, action, detail FROM audit ${index} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.sqlite.prepare(sql).all(...args, limit + 1) as Row[];
    const items = rows.slice(0, limit).map(toEntry);
    return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
  }
}
