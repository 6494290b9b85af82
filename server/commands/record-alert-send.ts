// Command: record an alert sent (or tried): the rule, what it covered, each channel's outcome.
import type { CommandContext } from './context.js';

export interface RecordAlertSendInput {
  now: number;
  ruleId: number;
  keys: string[];
  subject: string;
  outcome: Record<string, string>;
}

export function recordAlertSend(ctx: CommandContext, c: RecordAlertSendInput): { id: number } {
  return { id: ctx.alertRules.recordSend(c.ruleId, c.now, c.keys, c.subject, c.outcome) };
}
