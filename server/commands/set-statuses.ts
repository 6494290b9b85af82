// Command: the live scheduler's timers fired: store each clock's new status with the instant it really happened.
import type { CommandContext } from './context.js';

export interface SetStatusesInput {
  now: number;
  statuses: Array<{ contactId: string; standard: string; status: string; at: number }>;
}

export function setStatuses(ctx: CommandContext, c: SetStatusesInput): null {
  for (const s of c.statuses) ctx.contacts.setStatus(s.contactId, s.standard, s.status, s.at, c.now);
  return null;
}
