// The one way a calendar is edited (a closure added or removed, bank holidays imported): the rows
// changed, the calendars compiled again, every running clock on the calendars concerned recomputed —
// all inside the command's savepoint, with the calendars as they were if any step throws.
import { NotFoundError } from '../errors.js';
import { loadCalendars, type CalendarChangeResult, type CommandContext, type ContactChange } from './context.js';
import { recomputeRunning } from './recompute.js';

/**
 * Runs `edit` (which writes calendar rows and returns the calendars it changed), compiles the
 * calendars again when any changed, then touches each changed calendar and recomputes its running
 * clocks. If anything throws, the compiled calendars are put back (the savepoint undoes the rows);
 * if the whole transaction is rolled back later, the writer's hook reads them again.
 */
export function editCalendars<T>(
  ctx: CommandContext,
  now: number,
  edit: () => { changed: readonly string[]; value: T; changedFrom?: number },
): { value: T; byCalendar: Map<string, CalendarChangeResult>; changes: ContactChange[] } {
  const previous = ctx.calendars;
  ctx.calendarsEdited = true;
  try {
    const { changed, value, changedFrom } = edit();
    const byCalendar = new Map<string, CalendarChangeResult>();
    const changes: ContactChange[] = [];
    if (changed.length > 0) ctx.calendars = loadCalendars(ctx.calendarStore);
    for (const id of changed) {
      ctx.calendarStore.touch(id, now);
      const r = recomputeRunning(ctx, id, now, changedFrom);
      byCalendar.set(id, { recomputedContacts: r.recomputedContacts, movedClocks: r.movedClocks });
      changes.push(...r.changes);
    }
    return { value, byCalendar, changes };
  } catch (e) {
    ctx.calendars = previous;
    throw e;
  }
}

/** A calendar edit's audit entry: what was done, and how many clocks it moved. */
export interface CalendarEditAudit {
  action: string;
  detail: Record<string, unknown>;
}

export function noCalendar(calendarId: string): NotFoundError {
  return new NotFoundError(`no calendar "${calendarId}"`);
}

/** The audit detail of one calendar's edit, with how many clocks it moved. */
export function calendarEditDetail(calendarId: string, a: CalendarEditAudit, result: CalendarChangeResult): Record<string, unknown> {
  return { calendar: calendarId, ...a.detail, recomputedContacts: result.recomputedContacts, movedClocks: result.movedClocks };
}

/** One calendar's edit, audited with how many clocks moved. */
export function editCalendar<T>(
  ctx: CommandContext,
  o: { calendarId: string; now: number; actor: string; action: string; detail: Record<string, unknown> },
  write: () => T,
  /** The first instant whose working time the edit changes (a closure's start), when known. */
  changedFrom?: (value: T) => number,
): { value: T; result: CalendarChangeResult; changes: ContactChange[] } {
  if (ctx.calendarStore.byId(o.calendarId) === undefined) throw noCalendar(o.calendarId);
  const { value, byCalendar, changes } = editCalendars(ctx, o.now, () => {
    const value = write();
    return { value, changed: [o.calendarId], ...(changedFrom !== undefined ? { changedFrom: changedFrom(value) } : {}) };
  });
  const result = byCalendar.get(o.calendarId)!;
  ctx.audit.record(o.now, o.actor, o.action, calendarEditDetail(o.calendarId, o, result));
  return { value, result, changes };
}
