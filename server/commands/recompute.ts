// A contact's clocks are a pure function of the contact and all its events: rebuilt from the stored
// events, evaluated by the engine, and the clock rows replaced.
import { evaluateContact } from '../domain/clocks.js';
import { parseEvent } from '../domain/contact.js';
import type { Clock, Contact } from '../domain/model.js';
import { packsInForce } from '../domain/packs/in-force.js';
import type { ContactRow, EventRow } from '../store/contacts.js';
import type { CalendarChangeResult, CommandContext, ContactChange } from './context.js';

/** The contact rebuilt from its (stored) events, evaluated: its clocks and derived fields; writes nothing. */
export function evaluateStored(ctx: Pick<CommandContext, 'calendars'>, row: ContactRow, events: EventRow[], now: number): { clocks: Clock[]; row: ContactRow } {
  const contact: Contact = {
    id: row.id,
    channel: row.channel as Contact['channel'],
    route: row.route as Contact['route'],
    category: row.initialCategory as Contact['category'],
    receivedAt: row.receivedAt,
    events: events.map((e) => parseEvent(e.body, `events[${e.seq}]`, e.seq, row.receivedAt)),
  };
  // The centre's pack and, beside it, Awaab's Law, in the versions in force when the contact arrived.
  const result = evaluateContact(contact, packsInForce(row.packFamily, row.receivedAt), ctx.calendars, now);
  return { clocks: result.clocks, row: { ...row, category: result.category, assignee: result.assignee, callback: result.callback, updatedAt: now } };
}

/** Evaluates the contact from its stored events and stores its clocks and derived fields. */
export function recompute(ctx: CommandContext, row: ContactRow, events: EventRow[], now: number): { clocks: Clock[]; row: ContactRow } {
  const { clocks, row: updated } = evaluateStored(ctx, row, events, now);
  ctx.contacts.replaceClocks(row.id, clocks, now);
  if (derivedChanged(row, updated, events)) ctx.contacts.updateDerived(row.id, updated);
  return { clocks, row: updated };
}

/** Whether the contact's row is written after a recompute: a derived field moved, or it has events (updated_at moves). */
export function derivedChanged(row: ContactRow, updated: ContactRow, events: readonly EventRow[]): boolean {
  return updated.category !== row.category || updated.assignee !== row.assignee || updated.callback !== row.callback || events.length > 0;
}

/** How many of `clocks` are due at another instant than before (`before`: standard → due instant). */
export function clocksMoved(before: ReadonlyMap<string, number | null>, clocks: readonly Clock[]): number {
  return clocks.filter((c) => before.get(c.standard) !== c.dueAt).length;
}

/**
 * Recomputes every contact with a running clock on the calendar; the changes are those whose due
 * instants moved. With `changedFrom` (the edit changed working time only from that instant on), a
 * clock due at or before it is left alone: a due instant is where the counted working time reaches
 * the target, and nothing before `changedFrom` was counted differently, so it cannot move (nor its
 * at-risk instant, which comes earlier). On a year of data a closure touches ~2% of the open contacts.
 */
export function recomputeRunning(ctx: CommandContext, calendarId: string, now: number, changedFrom?: number): CalendarChangeResult & { changes: ContactChange[] } {
  const ids = ctx.contacts.contactIdsWithOpenClocksOn(calendarId, changedFrom);
  let moved = 0;
  const changes: ContactChange[] = [];
  for (const id of ids) {
    const row = ctx.contacts.byId(id)!;
    const before = new Map(ctx.contacts.clocks(id).map((c) => [c.standard, c.dueAt]));
    const { clocks, row: updated } = recompute(ctx, row, ctx.contacts.events(id), now);
    const n = clocksMoved(before, clocks);
    moved += n;
    if (n > 0) changes.push({ contactId: id, contact: updated, clocks, at: now });
  }
  return { recomputedContacts: ids.length, movedClocks: moved, changes };
}
