// Command: delete an alert rule (kept, marked deleted, so its sends still name it); audited.
import { noAlertRule } from './save-alert-rule.js';
import type { CommandContext } from './context.js';

export interface DeleteAlertRuleInput {
  now: number;
  actor: string;
  id: number;
}

export function deleteAlertRule(ctx: CommandContext, c: DeleteAlertRuleInput): null {
  if (!ctx.alertRules.remove(c.id, c.now)) throw noAlertRule(c.id);
  ctx.audit.record(c.now, c.actor, 'alert-rule.delete', { id: c.id });
  return null;
}
