// Command: delete one batch of audit entries older than the schedule keeps them (issue 17;
// KEPT_RETAIN_AUDIT_MONTHS, 7 years by default). The trail is otherwise append-only.
import type { CommandContext } from './context.js';

export interface PruneAuditInput {
  before: number;
  limit: number;
}

export function pruneAudit(ctx: CommandContext, c: PruneAuditInput): { deleted: number } {
  return { deleted: ctx.privacy.pruneAudit(c.before, c.limit) };
}
