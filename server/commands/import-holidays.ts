// Command: import GOV.UK holiday lists (one per division) and recompute every running clock on a
// calendar using them; one audit entry per division. Adding holidays needs nothing; an import that
// would remove a bank holiday dated today or later (UK date, by `now`) is refused (422) unless
// `replace` is set, and then no division changes, so a truncated or wrong file cannot silently give
// staff working days they do not have.
import { UnprocessableError } from '../errors.js';
import { compareHolidays, ukDateOf, type BankHoliday, type HolidayChanges, type HolidayImportResult, type HolidayList } from '../domain/holidays.js';
import { editCalendars } from './calendar-edit.js';
import { AWAAB_CALENDAR_ID, AWAAB_DIVISION } from '../domain/packs/awaab.js';
import type { CalendarChangeResult, CommandContext, ContactChange } from './context.js';

export interface ImportHolidaysInput {
  now: number;
  lists: HolidayList[];
  actor: string;
  replace: boolean;
}

export interface ImportHolidaysOutput {
  results: HolidayImportResult[];
  changes: ContactChange[];
}

/** One list compared with its division's stored holidays, and whether storing it changes anything. */
export interface HolidayPlan {
  list: HolidayList;
  changes: HolidayChanges;
  changed: boolean;
}

/** The calendars a division's holidays count in: those of the division (`using`) and, for recomputing, Awaab's statutory calendar too when the division is England's. */
export function calendarsOfDivision(calendars: ReadonlyArray<{ id: string; division: string }>, division: string): { using: string[]; recomputed: string[] } {
  const using = calendars.filter((cal) => cal.division === division).map((cal) => cal.id);
  // Awaab's Law's statutory working days (a built-in calendar) count England's bank holidays: its running clocks move too.
  return { using, recomputed: [...using, ...(division === AWAAB_DIVISION ? [AWAAB_CALENDAR_ID] : [])] };
}

/**
 * Each list compared with its division's stored holidays (`stored`, read inside the transaction: the
 * list being replaced is the one stored now, even if another import ran since the request arrived);
 * refused (422) when one would remove a holiday dated today or later and `replace` is not set.
 */
export function planHolidays(lists: readonly HolidayList[], stored: (division: string) => readonly BankHoliday[], replace: boolean, now: number): HolidayPlan[] {
  const plans = lists.map((list) => ({ list, changes: compareHolidays(stored(list.division), list.holidays) }));
  if (!replace) refuseFutureRemovals(plans, ukDateOf(now));
  return plans.map((p) => ({ ...p, changed: p.changes.added.length + p.changes.removed.length + p.changes.retitled.length > 0 }));
}

/** The calendars whose running clocks the changed lists can move, in the lists' order. */
export function changedCalendars(calendars: ReadonlyArray<{ id: string; division: string }>, plans: readonly HolidayPlan[]): string[] {
  return plans.filter((p) => p.changed).flatMap((p) => calendarsOfDivision(calendars, p.list.division).recomputed);
}

/** One division's answer and its audit entry's detail, from the recompute of each calendar the edit changed. */
export function holidayOutcome(
  plan: HolidayPlan,
  calendars: ReadonlyArray<{ id: string; division: string }>,
  byCalendar: ReadonlyMap<string, CalendarChangeResult>,
  replace: boolean,
): { result: HolidayImportResult; audit: Record<string, unknown> } {
  const { list, changes: ch, changed } = plan;
  const { using: ids, recomputed } = calendarsOfDivision(calendars, list.division);
  let recomputedContacts = 0;
  let movedClocks = 0;
  if (changed) {
    for (const id of recomputed) {
      const r = byCalendar.get(id);
      recomputedContacts += r?.recomputedContacts ?? 0;
      movedClocks += r?.movedClocks ?? 0;
    }
  }
  const audit = {
    division: list.division,
    added: ch.added.length,
    removed: ch.removed.length,
    retitled: ch.retitled.length,
    // Removals are the edit that can hurt: the dates are kept so the audit says which.
    removedDates: ch.removed.map((h) => h.date),
    replace,
    calendars: ids,
    recomputedContacts,
    movedClocks,
  };
  const result = {
    division: list.division,
    added: ch.added.length,
    removed: ch.removed.length,
    addedHolidays: ch.added,
    removedHolidays: ch.removed,
    retitledHolidays: ch.retitled,
    calendars: ids,
    recomputedContacts,
    movedClocks,
  };
  return { result, audit };
}

export const HOLIDAYS_IMPORT = 'holidays.import';

export function importHolidays(ctx: CommandContext, c: ImportHolidaysInput): ImportHolidaysOutput {
  const calendars = ctx.calendarStore.all();
  const { value: plans, byCalendar, changes } = editCalendars(ctx, c.now, () => {
    const plans = planHolidays(c.lists, (division) => ctx.calendarStore.holidays(division)?.holidays ?? [], c.replace, c.now);
    for (const p of plans) if (p.changed) ctx.calendarStore.replaceHolidays(p.list);
    return { value: plans, changed: changedCalendars(calendars, plans) };
  });
  const results = plans.map((plan) => {
    const { result, audit } = holidayOutcome(plan, calendars, byCalendar, c.replace);
    ctx.audit.record(c.now, c.actor, HOLIDAYS_IMPORT, audit);
    return result;
  });
  return { results, changes };
}

/** Throws a 422 naming the (first) division whose import would remove bank holidays dated `today` or later. */
function refuseFutureRemovals(plans: ReadonlyArray<{ list: HolidayList; changes: HolidayChanges }>, today: string): void {
  const refused = plans
    .map(({ list, changes }) => ({ division: list.division, future: changes.removed.filter((h) => h.date >= today) }))
    .filter((r) => r.future.length > 0);
  if (refused.length === 0) return;
  const first = refused[0]!;
  const others = refused.slice(1);
  const SHOWN = 10;
  const listed = first.future.slice(0, SHOWN).map((h) => `${h.date} ${h.title}`).join(', ');
  const more = first.future.length > SHOWN ? ` and ${first.future.length - SHOWN} more` : '';
  const also = others.length > 0 ? `; ${others.map((o) => `${o.division} would remove ${o.future.length}`).join(', ')} as well` : '';
  const n = first.future.length;
  throw new UnprocessableError(
    first.division,
    `the file would remove ${n} bank holiday${n === 1 ? '' : 's'} dated ${today} or later (${listed}${more})${also}; nothing was changed. ` +
      'Import with replace (?replace=true, or --replace on the command line) if they really are no longer holidays',
    'would-remove-holidays',
  );
}
