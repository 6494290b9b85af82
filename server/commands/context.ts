// What a write command runs against: the stores on the writer's connection and the calendars as the
// writer sees them. A command is a function (context, plain input) → plain output, run inside the
// group-commit writer's transaction (its own savepoint); input and output cross threads, so they are
// data only: no closures, no class instances.
import type { Sqlite } from '../../db/connection.js';
import { ALWAYS } from '../domain/calendar.js';
import { AWAAB_CALENDAR_ID, AWAAB_DIVISION, awaabCalendar } from '../domain/packs/awaab.js';
import type { CalendarSet } from '../domain/clocks.js';
import type { Clock } from '../domain/model.js';
import { AlertStore } from '../store/alerts.js';
import { AuditStore } from '../store/audit.js';
import { CalendarStore } from '../store/calendars.js';
import { ContactStore, type ContactRow } from '../store/contacts.js';
import { PrivacyStore } from '../store/privacy.js';
import { NoticeStore } from '../store/notices.js';
import { MailStore } from '../store/mail.js';
import { QueueStore } from '../store/queue.js';
import { SavedBoardStore } from '../store/saved-boards.js';
import { PublishedReportStore } from '../store/reports.js';
import { TelephonyStore } from '../store/telephony.js';

/** A contact whose clocks changed, as listeners (the live board) hear it after COMMIT. */
export interface ContactChange {
  contactId: string;
  contact: ContactRow;
  clocks: Clock[];
  at: number;
}

export interface CalendarChangeResult {
  recomputedContacts: number;
  movedClocks: number;
}

export interface CommandContext {
  readonly contacts: ContactStore;
  readonly calendarStore: CalendarStore;
  readonly audit: AuditStore;
  /** Safeguarding alerts and reference sequences (issue 10). */
  readonly queue: QueueStore;
  /** Person keys, legal holds, anonymisation (issue 17). */
  readonly privacy: PrivacyStore;
  /** Alert rules and the alerts sent, notices and board messages, saved boards (issue 11). */
  readonly alertRules: AlertStore;
  readonly notices: NoticeStore;
  readonly boards: SavedBoardStore;
  /** Published weekly reports (issue 16). */
  readonly published: PublishedReportStore;
  /** Automatic mail and IMAP read positions (issue 12). */
  readonly mail: MailStore;
  /** Held call events, the call ledger, unknown queues, advisors' states (issue 13). */
  readonly telephony: TelephonyStore;
  /** The compiled calendars; a calendar edit replaces them (calendar-edit.ts). */
  calendars: CalendarSet;
  /** Set by a calendar edit: a transaction rolled back as a whole reloads them from the database. */
  calendarsEdited: boolean;
  /** Events one contact may hold (KEPT_MAX_EVENTS_PER_CONTACT). */
  readonly maxEventsPerContact: number;
}

/** Every stored calendar compiled, plus `always`. */
export function loadCalendars(store: CalendarStore): CalendarSet {
  const set: Record<string, CalendarSet[string]> = { always: ALWAYS };
  for (const row of store.all()) set[row.id] = store.compile(row);
  // Awaab's Law counts statutory working days: whole weekdays less England's bank holidays, no closures.
  set[AWAAB_CALENDAR_ID] = awaabCalendar(store.holidays(AWAAB_DIVISION));
  return set;
}

export function createContext(sqlite: Sqlite, options: { maxEventsPerContact: number }): CommandContext {
  const calendarStore = new CalendarStore(sqlite);
  return {
    contacts: new ContactStore(sqlite),
    calendarStore,
    audit: new AuditStore(sqlite),
    queue: new QueueStore(sqlite),
    privacy: new PrivacyStore(sqlite),
    alertRules: new AlertStore(sqlite),
    notices: new NoticeStore(sqlite),
    boards: new SavedBoardStore(sqlite),
    published: new PublishedReportStore(sqlite),
    mail: new MailStore(sqlite),
    telephony: new TelephonyStore(sqlite),
    calendars: loadCalendars(calendarStore),
    calendarsEdited: false,
    maxEventsPerContact: options.maxEventsPerContact,
  };
}

/** The writer's hooks: after COMMIT the calendars stand; after a whole rollback they are read again. */
export function contextHooks(ctx: CommandContext): { onCommit: () => void; onRollback: () => void } {
  return {
    onCommit: () => {
      ctx.calendarsEdited = false;
    },
    onRollback: () => {
      if (!ctx.calendarsEdited) return;
      ctx.calendarsEdited = false;
      ctx.calendars = loadCalendars(ctx.calendarStore);
    },
  };
}
