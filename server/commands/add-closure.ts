// Command: close a calendar for a while (an office closure) and recompute its running clocks; audited.
import type { Closure } from '../domain/calendar.js';
import { editCalendar, type CalendarEditAudit } from './calendar-edit.js';
import type { CalendarChangeResult, CommandContext, ContactChange } from './context.js';

export interface AddClosureInput {
  now: number;
  calendarId: string;
  closure: Closure;
  actor: string;
}

export type AddClosureOutput = CalendarChangeResult & { id: number; changes: ContactChange[] };

const iso = (ms: number) => new Date(ms).toISOString();

/** What the audit trail says of the closure added. */
export function closureAdded(c: AddClosureInput): CalendarEditAudit {
  return { action: 'closure.add', detail: { from: iso(c.closure.from), to: iso(c.closure.to), reason: c.closure.reason ?? null } };
}

export function addClosure(ctx: CommandContext, c: AddClosureInput): AddClosureOutput {
  const { value: id, result, changes } = editCalendar(
    ctx,
    { calendarId: c.calendarId, now: c.now, actor: c.actor, ...closureAdded(c) },
    () => ctx.calendarStore.addClosure(c.calendarId, c.closure, c.now),
    () => c.closure.from,
  );
  return { ...result, id, changes };
}
