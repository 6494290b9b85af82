// The audit trail on PostgreSQL (issue 14): AuditStorePort with the SQLite AuditStore's answers
// (server/store/audit.ts builds the filter, the SQL and the page; here its `?` become $1, $2, …).
// Append-only, ids from the identity: instances appending at once never collide, and a page keyed on
// id walks the (actor, id) or (action, id) index as on SQLite, without SQLite's INDEXED BY.
import { auditFilter, auditPage, auditSelect, toEntry, type AuditEntry, type AuditQuery, type AuditRow } from '../audit.js';
import type { AuditStorePort } from '../ports.js';
import type { Queryable } from './contacts.js';

/** SQLite's `?` placeholders as PostgreSQL's positional ones, in order (the SQL holds no other `?`). */
const positional = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export class PgAuditStore implements AuditStorePort {
  constructor(private readonly db: Queryable) {}

  async record(at: number, actor: string, action: string, detail: unknown): Promise<void> {
    await this.db.query('INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)', [at, actor, action, JSON.stringify(detail)]);
  }

  async recent(limit = 50): Promise<AuditEntry[]> {
    return (await this.rows(auditSelect('', []), [limit])).map(toEntry);
  }

  /** Newest first, filtered, keyed on id (the previous page's `next` as `before`). */
  async page(q: AuditQuery): Promise<{ items: AuditEntry[]; next: number | null }> {
    const { terms, args, limit } = auditFilter(q);
    return auditPage(await this.rows(auditSelect('', terms), [...args, limit + 1]), limit);
  }

  private async rows(sql: string, params: Array<string | number>): Promise<AuditRow[]> {
    return (await this.db.query<AuditRow>(positional(sql), params)).rows;
  }
}
