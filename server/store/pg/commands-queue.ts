// Two more write commands on PostgreSQL (issue 14): a safeguarding alert's action
// (server/commands/contact-action.ts `alertAction`) and a bank-holiday import
// (server/commands/import-holidays.ts), each one transaction with the SQLite command's outputs, errors
// and rows, by its pure steps. As PgCommands (commands.ts) does for closures, the import is a calendar
// edit: the calendar lock held exclusively (the contacts' writes in flight finish first and none
// evaluates clocks while it commits), the divisions' holidays compared and replaced, the calendars
// touched (the stamp moves: every instance computes with the new holidays from its next write), the
// running clocks that can move recomputed, audited per division; with `feed`, one `calendar` row and
// one row per contact whose clocks moved, and one doorbell.
import type pg from 'pg';
import { alertActionAudit, type AlertActionInput } from '../../commands/contact-action.js';
import { changedCalendars, holidayOutcome, HOLIDAYS_IMPORT, planHolidays, type ImportHolidaysInput, type ImportHolidaysOutput } from '../../commands/import-holidays.js';
import type { CalendarChangeResult, ContactChange } from '../../commands/context.js';
import { contactFeed, type FeedChange } from '../../cluster/feed.js';
import { actionAlert, calendarDivisions, divisionHolidays, recordAudit, replaceHolidays, touchCalendar } from './command-rows.js';
import type { PgCommandsOptions } from './commands.js';
import { recomputeRunning } from './recompute.js';
import { runWritten } from './transaction.js';
import { loadPgCalendars } from './writer-calendars.js';

export type PgQueueCommandsOptions = Pick<PgCommandsOptions, 'timeoutMs' | 'feed' | 'onCommit' | 'onFault'>;

/** Records who did what about a safeguarding alert, once (two instances at once: the second answers false); audited when recorded. */
export function pgAlertAction(pool: pg.Pool, o: PgQueueCommandsOptions, c: AlertActionInput): Promise<{ recorded: boolean }> {
  // No clock changes: the lock is taken shared, as any contact's write takes it.
  return runWritten(pool, o, 'shared', async (tx) => {
    const recorded = await actionAlert(tx, c.alertId, c.now, c.actor, c.action);
    if (recorded) {
      const audit = alertActionAudit(c);
      await recordAudit(tx, c.now, c.actor, audit.action, audit.detail);
    }
    return { out: { recorded }, changes: [], feed: [] };
  });
}

/**
 * Imports GOV.UK holiday lists and recomputes every running clock on a calendar using them: as
 * server/commands/import-holidays.ts (future removals refused without `replace`, nothing changed then).
 */
export function pgImportHolidays(pool: pg.Pool, o: PgQueueCommandsOptions, c: ImportHolidaysInput): Promise<ImportHolidaysOutput> {
  return runWritten(pool, o, 'exclusive', async (tx) => {
    const calendars = await calendarDivisions(tx);
    // Compared inside the transaction, under the lock: the stored lists are those being replaced.
    const stored = new Map<string, Awaited<ReturnType<typeof divisionHolidays>>>();
    for (const list of c.lists) if (!stored.has(list.division)) stored.set(list.division, await divisionHolidays(tx, list.division));
    const plans = planHolidays(c.lists, (division) => stored.get(division)!, c.replace, c.now);
    for (const p of plans) if (p.changed) await replaceHolidays(tx, p.list);
    const changed = changedCalendars(calendars, plans);
    const byCalendar = new Map<string, CalendarChangeResult>();
    const changes: ContactChange[] = [];
    if (changed.length > 0) {
      for (const id of changed) await touchCalendar(tx, id, c.now);
      const { calendars: compiled } = await loadPgCalendars(tx);
      for (const id of changed) {
        const r = await recomputeRunning(tx, compiled, id, c.now);
        byCalendar.set(id, { recomputedContacts: r.recomputedContacts, movedClocks: r.movedClocks });
        changes.push(...r.changes);
      }
    }
    const results = [];
    for (const plan of plans) {
      const { result, audit } = holidayOutcome(plan, calendars, byCalendar, c.replace);
      await recordAudit(tx, c.now, c.actor, HOLIDAYS_IMPORT, audit);
      results.push(result);
    }
    const calendar: FeedChange[] = changed.length === 0 ? [] : [{ kind: 'calendar', payload: { calendars: [...new Set(changed)], at: c.now } }];
    return { out: { results, changes }, changes, feed: [...calendar, ...contactFeed(changes)] };
  });
}
