// Command: import GOV.UK holiday lists (one per division) and recompute every running clock on a
// calendar using them; one audit entry per division. Adding holidays needs nothing; an import that
// would remove a bank holiday dated today or later (UK date, by `now`) is refused (422) unless
// `replace` is set, and then no division changes, so a truncated or wrong file cannot silently give
// staff working days they do not have.
import { UnprocessableError } from '../errors.js';
import { compareHolidays, ukDateOf, type HolidayChanges, type HolidayImportResult, type HolidayList } from '../domain/holidays.js';
import { editCalendars } from './calendar-edit.js';
import { AWAAB_CALENDAR_ID, AWAAB_DIVISION } from '../domain/packs/awaab.js';
import type { CommandContext, ContactChange } from './context.js';

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

export function importHolidays(ctx: CommandContext, c: ImportHolidaysInput): ImportHolidaysOutput {
  const { now, replace } = c;
  const calendars = ctx.calendarStore.all();
  const using = (division: string) => calendars.filter((cal) => cal.division === division).map((cal) => cal.id);
  // Awaab's Law's statutory working days (a built-in calendar) count England's bank holidays: its running clocks move too.
  const recomputed = (division: string) => [...using(division), ...(division === AWAAB_DIVISION ? [AWAAB_CALENDAR_ID] : [])];
  const { value: plans, byCalendar, changes } = editCalendars(ctx, now, () => {
    // Compared inside the transaction: the stored list is the one being replaced, even if another
    // import ran since the request arrived.
    const plans = c.lists.map((list) => ({ list, changes: compareHolidays(ctx.calendarStore.holidays(list.division)?.holidays ?? [], list.holidays) }));
    if (!replace) refuseFutureRemovals(plans, ukDateOf(now));
    const changed = plans.filter(({ changes: ch }) => ch.added.length + ch.removed.length + ch.retitled.length > 0);
    for (const { list } of changed) ctx.calendarStore.replaceHolidays(list);
    return { value: plans.map((p) => ({ ...p, changed: changed.includes(p) })), changed: changed.flatMap(({ list }) => recomputed(list.division)) };
  });
  const results = plans.map(({ list, changes: ch, changed }): HolidayImportResult => {
    const ids = using(list.division);
    let recomputedContacts = 0;
    let movedClocks = 0;
    if (changed) {
      for (const id of recomputed(list.division)) {
        const r = byCalendar.get(id);
        recomputedContacts += r?.recomputedContacts ?? 0;
        movedClocks += r?.movedClocks ?? 0;
      }
    }
    ctx.audit.record(now, c.actor, 'holidays.import', {
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
    });
    return {
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
