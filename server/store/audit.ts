// Audit entries: who changed what (calendar edits, recomputes, token changes).
import type { Sqlite } from '../../db/connection.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  detail: unknown;
}

export class AuditStore {
  constructor(private readonly sqlite: Sqlite) {}

  record(at: number, actor: string, action: string, detail: unknown): void {
    this.sqlite.prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)').run(at, actor, action, JSON.stringify(detail));
  }

  recent(limit = 50): AuditEntry[] {
    return (this.sqlite.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as Array<{ id: number; at: number; actor: string; action: string; detail: string | null }>).map((r) => ({
      ...r,
      detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown),
    }));
  }
}
