// Command: delete an alert rule (kept, marked deleted, so its sends still name it); audited.
import { NotFoundError } from '../errors.js';
import type { CommandContext } from './context.js';

export interface DeleteAlertRuleInput {
  now: number;
  actor: string;
  id: number;
}

export function deleteAlertRule(ctx: CommandContext, c: DeleteAlertRuleInput): null {
  if (!ctx.alertRules.remove(c.id, c.now)) throw new NotFoundError(`no alert rule ${c.id}`, 'id');
  ctx.audit.record(c.now, c.actor, 'alert-rule.delete', { id: c.id });
  return null;
}
