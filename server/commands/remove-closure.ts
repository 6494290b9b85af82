// Command: remove a calendar's closure and recompute its running clocks; audited.
import { NotFoundError } from '../errors.js';
import { editCalendar, type CalendarEditAudit } from './calendar-edit.js';
import type { CalendarChangeResult, CommandContext, ContactChange } from './context.js';

export interface RemoveClosureInput {
  now: number;
  calendarId: string;
  closureId: number;
  actor: string;
}

export type RemoveClosureOutput = CalendarChangeResult & { changes: ContactChange[] };

/** What the audit trail says of the closure removed. */
export function closureRemoved(c: RemoveClosureInput): CalendarEditAudit {
  return { action: 'closure.remove', detail: { closure: c.closureId } };
}

export function noClosure(c: RemoveClosureInput): NotFoundError {
  return new NotFoundError(`no closure ${c.closureId} on calendar "${c.calendarId}"`);
}

export function removeClosure(ctx: CommandContext, c: RemoveClosureInput): RemoveClosureOutput {
  const { result, changes } = editCalendar(
    ctx,
    { calendarId: c.calendarId, now: c.now, actor: c.actor, ...closureRemoved(c) },
    () => {
      const closure = ctx.calendarStore.closures(c.calendarId).find((k) => k.id === c.closureId);
      if (closure === undefined || !ctx.calendarStore.removeClosure(c.calendarId, c.closureId)) throw noClosure(c);
      return closure.from;
    },
    (from) => from,
  );
  return { ...result, changes };
}
