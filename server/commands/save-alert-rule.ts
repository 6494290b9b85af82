// Command: create an alert rule, or replace one (issue 11); audited without its webhook addresses.
import { NotFoundError } from '../errors.js';
import type { AlertRuleInput } from '../store/alerts.js';
import type { CommandContext } from './context.js';

export interface SaveAlertRuleInput {
  now: number;
  actor: string;
  /** Absent: a new rule. */
  id?: number;
  rule: AlertRuleInput;
}

export function saveAlertRule(ctx: CommandContext, c: SaveAlertRuleInput): { id: number } {
  let id: number;
  if (c.id === undefined) id = ctx.alertRules.insert(c.rule, c.actor, c.now);
  else if (ctx.alertRules.update(c.id, c.rule, c.now)) id = c.id;
  else throw noAlertRule(c.id);
  ctx.audit.record(c.now, c.actor, c.id === undefined ? 'alert-rule.create' : 'alert-rule.update', alertRuleAudit(id, c.rule));
  return { id };
}

export const noAlertRule = (id: number) => new NotFoundError(`no alert rule ${id}`, 'id');

/** The audit entry's detail: never the webhook addresses or the emails themselves (both databases). */
export function alertRuleAudit(id: number, r: AlertRuleInput): Record<string, unknown> {
  return {
    id,
    name: r.name,
    kind: r.kind,
    threshold: r.threshold,
    emails: r.emails.length,
    teams: r.teamsUrl !== null,
    slack: r.slackUrl !== null,
    quietMinutes: r.quietMinutes,
    enabled: r.enabled,
  };
}
