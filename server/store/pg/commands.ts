// The write commands beyond create-contact on PostgreSQL (issue 14, items 1 and 3): add-events, a
// contact action, the timers' statuses, a closure added or removed — each one transaction giving the
// same rows and outputs as the SQLite command (server/commands/), by the same pure steps. What
// SQLite's single writer gave for free is explicit here, for many instances on one database:
//
// - a contact's row is locked (SELECT … FOR UPDATE) before its events are read, added and its clocks
//   recomputed: two instances adding to one contact take turns, and the event numbers run without
//   gaps or repeats; replays and conflicts are decided under that lock, the unique index on
//   (contact, externalId) behind it;
// - a complaint reference comes from the year's sequence row in one upsert (the row lock again);
// - a contact's write holds the calendar lock shared and checks the calendars' stamp (computing with
//   the calendars as committed); a calendar edit takes it exclusively, so it waits for the writes in
//   flight and none evaluates clocks while it commits;
// - with `feed`, every change is a feed row written in the same transaction (server/cluster/feed.ts),
//   a calendar edit's too, and one doorbell rings per transaction.
import type pg from 'pg';
import { callerError, checkEventCap, eventsAudit, eventsToAdd, type AddEventsInput, type AddEventsOutput } from '../../commands/add-events.js';
import { closureAdded, type AddClosureInput, type AddClosureOutput } from '../../commands/add-closure.js';
import { calendarEditDetail, noCalendar, type CalendarEditAudit } from '../../commands/calendar-edit.js';
import { actionAudit, complaintReference, withReference, type ContactActionInput, type ContactActionOutput } from '../../commands/contact-action.js';
import type { CalendarChangeResult, ContactChange } from '../../commands/context.js';
import { closureRemoved, noClosure, type RemoveClosureInput, type RemoveClosureOutput } from '../../commands/remove-closure.js';
import type { SetStatusesInput } from '../../commands/set-statuses.js';
import { contactFeed, type FeedChange } from '../../cluster/feed.js';
import type { CalendarSet } from '../../domain/clocks.js';
import { NotFoundError } from '../../errors.js';
import type { EventRow } from '../contacts.js';
import { calendarExists, deleteClosure, insertClosure, nextInSequence, raiseAlert, recordAudit, touchCalendar } from './command-rows.js';
import { insertEvent, setStatus } from './contacts.js';
import { recomputeContact, recomputeRunning } from './recompute.js';
import { contactFromPg, eventFromPg, type PgRawContact, type PgRawEvent } from './rows.js';
import { runWritten, type CalendarLock, type TxClient, type Written } from './transaction.js';
import { CALENDAR_STAMP, loadPgCalendars, type CalendarStamp } from './writer-calendars.js';
import type { PgWriteFault } from './writer-faults.js';

export interface PgCommandsOptions {
  /** KEPT_MAX_EVENTS_PER_CONTACT. */
  maxEventsPerContact: number;
  /** KEPT_WRITE_TIMEOUT_MS: a statement waiting longer (a lock held elsewhere) is cancelled and the command answers 503. */
  timeoutMs?: number;
  /** Many instances: each change goes into the change feed in its own transaction, with one doorbell. */
  feed?: boolean;
  /** After COMMIT: the contacts whose clocks changed. */
  onCommit?: (changes: ContactChange[]) => void;
  /** A fault refused a command (503). */
  onFault?: (fault: PgWriteFault) => void;
}

/** The contact's row, locked, with the calendars' stamp read in the same statement. */
const LOCK_CONTACT = `SELECT c.*, ${CALENDAR_STAMP} AS stamp FROM contacts c WHERE c.id = $1 FOR UPDATE OF c`;

export class PgCommands {
  private calendars: CalendarSet;
  private stamp: CalendarStamp;
  private readonly timeoutMs: number;
  /** Transactions committed. */
  commits = 0;

  constructor(
    private readonly pool: pg.Pool,
    loaded: { calendars: CalendarSet; stamp: CalendarStamp },
    private readonly options: PgCommandsOptions,
  ) {
    this.calendars = loaded.calendars;
    this.stamp = loaded.stamp;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The commands with the calendars as stored now. */
  static async open(pool: pg.Pool, options: PgCommandsOptions): Promise<PgCommands> {
    return new PgCommands(pool, await loadPgCalendars(pool), options);
  }

  /** Appends events to a contact (idempotent on externalId) and recomputes its clocks: as server/commands/add-events.ts. */
  addEvents(c: AddEventsInput): Promise<AddEventsOutput> {
    return this.run('shared', async (tx) => {
      const out = await this.addEventsIn(tx, c);
      return this.written(out, out.change === null ? [] : [out.change]);
    });
  }

  /** A person's action: the reference issued, the events added, the alert raised, audited: as server/commands/contact-action.ts. */
  contactAction(c: ContactActionInput): Promise<ContactActionOutput> {
    return this.run('shared', async (tx) => {
      const r = c.issueReference;
      const reference = r === undefined ? null : complaintReference(r.prefix, r.year, await nextInSequence(tx, r.prefix, r.year));
      const events = withReference(c.events, reference);
      const out = events.length > 0 ? await this.addEventsIn(tx, { now: c.now, contactId: c.contactId, events }) : { added: 0, change: null };
      const alertId = c.alert === undefined ? null : await raiseAlert(tx, { contactId: c.contactId, kind: c.alert.kind, note: c.alert.note, raisedAt: c.now, raisedBy: c.actor });
      await recordAudit(tx, c.now, c.actor, `contact.${c.action}`, actionAudit(c, events, reference, alertId));
      return this.written({ ...out, reference, alertId }, out.change === null ? [] : [out.change]);
    });
  }

  /**
   * The timers fired: each status stored with the guarded update (only over a clock still running or
   * at risk), so two instances firing the same timer store it once; those stored travel the feed.
   * The command as SQLite has it; the clocks' leader among many instances stores its transitions
   * fenced by its lease (server/cluster/lease.ts `fencedSetStatuses`).
   */
  setStatuses(c: SetStatusesInput): Promise<null> {
    return this.run('shared', async (tx) => {
      const stored: SetStatusesInput['statuses'] = [];
      for (const s of c.statuses) if (await setStatus(tx, s.contactId, s.standard, s.status, s.at, c.now)) stored.push(s);
      return { out: null, changes: [], feed: stored.length === 0 ? [] : [{ kind: 'statuses', payload: { statuses: stored } }] };
    });
  }

  /** Closes a calendar for a while and recomputes its running clocks: as server/commands/add-closure.ts. */
  async addClosure(c: AddClosureInput): Promise<AddClosureOutput> {
    return this.editCalendar(c, closureAdded(c), async (tx) => {
      const id = await insertClosure(tx, c.calendarId, c.closure, c.now);
      return { value: id, changedFrom: c.closure.from };
    }, (result, id) => ({ ...result, id }));
  }

  /** Removes a closure and recomputes the calendar's running clocks: as server/commands/remove-closure.ts. */
  async removeClosure(c: RemoveClosureInput): Promise<RemoveClosureOutput> {
    return this.editCalendar(c, closureRemoved(c), async (tx) => {
      const from = await deleteClosure(tx, c.calendarId, c.closureId);
      if (from === undefined) throw noClosure(c);
      return { value: null, changedFrom: from };
    }, (result) => result);
  }

  /**
   * One transaction with the calendar lock as asked; after COMMIT the listeners hear the changes.
   * With `feed`, the changes are appended and the doorbell rung inside it.
   */
  private async run<T>(lock: CalendarLock, work: (tx: TxClient) => Promise<Written<T>>): Promise<T> {
    const out = await runWritten(this.pool, { ...this.options, timeoutMs: this.timeoutMs }, lock, work);
    this.commits++;
    return out;
  }

  private written<T>(out: T, changes: ContactChange[]): Written<T> {
    return { out, changes, feed: contactFeed(changes) };
  }

  /**
   * add-events inside a transaction that holds the calendar lock shared: the contact's row locked
   * first, then its stored events read, the new ones numbered after them, the cap, the audit entry,
   * the clocks recomputed with the calendars as committed.
   */
  private async addEventsIn(tx: TxClient, c: AddEventsInput): Promise<AddEventsOutput> {
    const locked = await tx.query<PgRawContact & { stamp: CalendarStamp }>(LOCK_CONTACT, [c.contactId]);
    const raw = locked.rows[0];
    if (raw === undefined) throw new NotFoundError(`no contact with id "${c.contactId}"`);
    const calendars = await this.calendarsAt(tx, raw.stamp);
    const stored = (await tx.query<PgRawEvent>('SELECT * FROM events WHERE contact_id = $1 ORDER BY seq', [c.contactId])).rows.map(eventFromPg);
    const byExternal = new Map(stored.flatMap((e) => (e.externalId === null ? [] : [[e.externalId, e] as const])));
    const first = stored.length === 0 ? 0 : stored[stored.length - 1]!.seq + 1;
    const fresh = eventsToAdd(c, first, (externalId) => byExternal.get(externalId));
    if (fresh.length === 0) return { added: 0, change: null };
    checkEventCap(c, first + fresh.length, this.options.maxEventsPerContact);
    const all: EventRow[] = [...stored];
    for (const e of fresh) all.push({ ...e, id: await insertEvent(tx, e) });
    if (c.actor !== undefined) await recordAudit(tx, c.now, c.actor, 'contact.events', eventsAudit(c.contactId, fresh));
    // An engine error names the caller's field, not the stored position.
    const result = await recomputeContact(tx, calendars, contactFromPg(raw), all, c.now).catch((e: unknown) => Promise.reject(callerError(e, c, first)));
    return { added: fresh.length, change: { contactId: c.contactId, contact: result.row, clocks: result.clocks, at: c.now } };
  }

  /** The calendars as committed when this transaction's stamp was read (read again if another instance edited them). */
  private async calendarsAt(tx: TxClient, stamp: CalendarStamp): Promise<CalendarSet> {
    if (stamp !== this.stamp) {
      const loaded = await loadPgCalendars(tx);
      this.calendars = loaded.calendars;
      this.stamp = loaded.stamp;
    }
    return this.calendars;
  }

  /**
   * One calendar's edit under the calendar lock held exclusively: the rows written (`write`), the
   * calendar touched, the calendars compiled again in the transaction, the running clocks that can
   * move recomputed, audited; the feed hears the edit and every contact whose clocks moved. The
   * instance's calendars are replaced only after COMMIT.
   */
  private async editCalendar<V, O>(
    c: { calendarId: string; now: number; actor: string },
    audit: CalendarEditAudit,
    write: (tx: TxClient) => Promise<{ value: V; changedFrom: number }>,
    output: (result: CalendarChangeResult & { changes: ContactChange[] }, value: V) => O,
  ): Promise<O> {
    let loaded: Awaited<ReturnType<typeof loadPgCalendars>> | undefined;
    const out = await this.run('exclusive', async (tx) => {
      if (!(await calendarExists(tx, c.calendarId))) throw noCalendar(c.calendarId);
      const { value, changedFrom } = await write(tx);
      await touchCalendar(tx, c.calendarId, c.now);
      loaded = await loadPgCalendars(tx);
      const r = await recomputeRunning(tx, loaded.calendars, c.calendarId, c.now, changedFrom);
      const result = { recomputedContacts: r.recomputedContacts, movedClocks: r.movedClocks };
      await recordAudit(tx, c.now, c.actor, audit.action, calendarEditDetail(c.calendarId, audit, result));
      const calendar: FeedChange = { kind: 'calendar', payload: { calendars: [c.calendarId], at: c.now } };
      return { out: output({ ...result, changes: r.changes }, value), changes: r.changes, feed: [calendar, ...contactFeed(r.changes)] };
    });
    this.calendars = loaded!.calendars;
    this.stamp = loaded!.stamp;
    return out;
  }
}
