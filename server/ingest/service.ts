// Every channel's way in: validate → hand the write command to the writer (server/commands/, run in
// one group-committed transaction, on the writer thread in the server) → tell listeners (the live hub)
// once the data is durable → present the contact. Reads go to this thread's own connection.
import { NotFoundError } from '../errors.js';
import type { Connection } from '../../db/connection.js';
import type { Closure } from '../domain/calendar.js';
import { clockAsOf, type CalendarSet } from '../domain/clocks.js';
import type { Clock } from '../domain/model.js';
import type { HolidayImportResult, HolidayList } from '../domain/holidays.js';
import { prepareAddEvents } from '../commands/add-events.js';
import { loadCalendars, type CalendarChangeResult, type ContactChange } from '../commands/context.js';
import { prepareCreateContact, type ContactInput } from '../commands/create-contact.js';
import type { ContactActionInput, ContactActionOutput } from '../commands/contact-action.js';
import type { PublishReportInput, PublishReportOutput } from '../commands/publish-report.js';
import type { CommandInput, CommandName, CommandOutput } from '../commands/index.js';
import { CalendarStore } from '../store/calendars.js';
import type { ContactRow } from '../store/contacts.js';
import type { RecordAutomaticMailInput } from '../commands/mail.js';
import type { AuditStorePort, MailStorePort, QueueStorePort, TelephonyStorePort, TokenStorePort } from '../store/ports.js';
import { sqliteStores, type CalendarPort, type ContactPort, type Stores } from '../store/stores.js';
import { InlineRunner, type CommandRunner } from '../writer/runner.js';
import { ThreadRunner } from '../writer/thread.js';
import { contactView, type ContactView } from './present.js';

export { ConflictError, NotFoundError } from '../errors.js';
export type { CalendarChangeResult, ContactChange } from '../commands/context.js';
export type { ContactInput } from '../commands/create-contact.js';
export { timeOrderedId } from '../commands/ids.js';
export type { ContactView, EventView } from './present.js';

export interface IngestOptions {
  packFamily?: string;
  now?: () => number;
  maxEventsPerContact?: number;
  /**
   * Run writes on the writer thread, with its own connection to the file (the server), so the event
   * loop never waits on SQLite's locks or fsync. Otherwise they run on this connection (the command
   * line, the benchmark builders).
   */
  writerThread?: boolean;
  /** KEPT_WRITE_TIMEOUT_MS: how long a write waits for a lock held by another process before a 503. */
  writeTimeoutMs?: number;
  /** The writer thread stopped unexpectedly (it is restarted): for the log. */
  onWriterStopped?: (detail: string) => void;
}

/**
 * A service over stores and a writer made elsewhere (PostgreSQL: server/ingest/postgres.ts), with the
 * calendars as stored when it opened.
 */
export interface IngestParts {
  stores: Stores;
  writer: CommandRunner;
  calendars: CalendarSet;
  /**
   * The timers' statuses stored some other way than by this service's writer (PostgreSQL: only the
   * leader stores them, server/cluster/transitions.ts).
   */
  recordStatuses?: (statuses: CommandInput<'set-statuses'>['statuses'], now: number) => Promise<unknown>;
  /**
   * Listeners hear changes from the change feed only (PostgreSQL: every instance's writes, this one's
   * included, in the feed's one order), not from this service's own writes as they commit.
   */
  changesFromFeed?: boolean;
}

export class IngestService {
  /** Every store the event loop reads, through its asynchronous port (server/store/stores.ts). */
  readonly stores: Stores;
  /** The SQLite connection (null on PostgreSQL): the reader threads and a few SQLite-only tools open its file. */
  readonly connection: Connection | null;
  readonly contacts: ContactPort;
  readonly calendarStore: CalendarPort;
  readonly tokens: TokenStorePort;
  readonly audit: AuditStorePort;
  /** The people's reads: unassigned work, load, safeguarding alerts (issue 10). */
  readonly queue: QueueStorePort;
  /** Automatic mail and IMAP read positions (issue 12). */
  readonly mail: MailStorePort;
  /** Telephony's reads: held events, the call ledger, unknown queues, advisors' states (issue 13). */
  readonly telephony: TelephonyStorePort;
  /** Runs the write commands (server/commands/): on the writer thread, or inline. */
  readonly writer: CommandRunner;
  private calendarSet: CalendarSet;
  /** Who the writes are recorded under in the audit trail (`as`); the service itself: `system`. */
  private readonly actor: string = 'system';
  /** The service every `as()` view shares (their calendars are its calendars). */
  private readonly root: IngestService = this;
  private readonly listeners = new Set<(changes: ContactChange[]) => void>();
  packFamily: string;
  readonly now: () => number;
  /** Events one contact may hold (KEPT_MAX_EVENTS_PER_CONTACT): every write recomputes from all of them. */
  readonly maxEventsPerContact: number;

  private readonly statusesVia: IngestParts['recordStatuses'];
  private readonly changesFromFeed: boolean;

  constructor(source: Connection | IngestParts, options: IngestOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxEventsPerContact = options.maxEventsPerContact ?? 1000;
    this.packFamily = options.packFamily ?? 'livewest';
    const parts = 'stores' in source ? source : null;
    const connection = parts === null ? (source as Connection) : null;
    this.connection = connection;
    this.stores = parts?.stores ?? sqliteStores(connection!.sqlite, this.now);
    this.contacts = this.stores.contacts;
    this.calendarStore = this.stores.calendars;
    this.tokens = this.stores.tokens;
    this.audit = this.stores.audit;
    this.queue = this.stores.queue;
    this.mail = this.stores.mail;
    this.telephony = this.stores.telephony;
    this.statusesVia = parts?.recordStatuses;
    this.changesFromFeed = parts?.changesFromFeed === true;
    if (parts !== null) {
      this.calendarSet = parts.calendars;
      this.writer = parts.writer;
      return;
    }
    // Seeded here, before the writer thread opens the file, so both see the same calendars.
    const calendarStore = new CalendarStore(connection!.sqlite);
    calendarStore.seed(this.now());
    this.calendarSet = loadCalendars(calendarStore);
    if (options.writerThread === true) {
      if (connection!.sqlite.memory) throw new Error('the writer thread needs a database file (an in-memory database is private to its connection)');
      this.writer = new ThreadRunner({
        file: connection!.sqlite.name,
        maxEventsPerContact: this.maxEventsPerContact,
        timeoutMs: options.writeTimeoutMs ?? 5000,
        ...(options.onWriterStopped ? { onStopped: options.onWriterStopped } : {}),
      });
    } else {
      this.writer = new InlineRunner(connection!.sqlite, { maxEventsPerContact: this.maxEventsPerContact });
    }
  }

  get calendars(): CalendarSet {
    return this.calendarSet;
  }

  /**
   * This service acting for one caller (a person's email, an API token's name, `public-form`): every
   * contact and event it writes is recorded under that name in the audit trail. A view, not a copy:
   * the stores, the writer and the calendars are this service's own.
   */
  as(actor: string): IngestService {
    // Kept per actor (a few tokens and people): a view made with a property descriptor is slow to
    // build and to use, and every write asks for one.
    const views = this.root.actorViews;
    let view = views.get(actor);
    if (view === undefined) {
      if (views.size >= 1000) views.clear();
      view = Object.create(this.root, { actor: { value: actor } }) as IngestService;
      views.set(actor, view);
    }
    return view;
  }
  private readonly actorViews = new Map<string, IngestService>();

  /** Listeners hear about every contact whose clocks changed, after the commit. */
  onChange(listener: (changes: ContactChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(changes: ContactChange[]): void {
    if (changes.length === 0 || this.changesFromFeed) return;
    this.tell(changes);
  }

  private tell(changes: ContactChange[]): void {
    for (const l of this.listeners) l(changes);
  }

  private run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    return this.writer.run(name, input);
  }

  /** Stores a week's report as published, or a new revision of it (issue 16): server/commands/publish-report.ts. */
  publishReport(input: Omit<PublishReportInput, 'now'>): Promise<PublishReportOutput> {
    return this.run('publish-report', { ...input, now: this.now() });
  }

  /** Settles once writes can be taken (the writer thread has opened the database); rejects if it could not. */
  get writerReady(): Promise<void> {
    return this.writer.ready;
  }

  /** Lets queued writes finish and stops the writer thread. */
  close(): Promise<void> {
    return this.writer.close();
  }

  /**
   * Creates a contact (201) or, for a replay of the same (channel, externalId) with the same
   * content, returns the stored one (200). The same key with other content is a ConflictError.
   */
  async createContact(input: ContactInput): Promise<{ created: boolean; contact: ContactView }> {
    const command = prepareCreateContact(input, { now: this.now(), packFamily: this.packFamily, maxEventsPerContact: this.maxEventsPerContact, actor: this.actor });
    const outcome = await this.run('create-contact', command);
    if (!outcome.created) return { created: false, contact: (await this.view(outcome.row.id))! };
    this.publish([outcome.change]);
    // An integration's flag (customer.safeguarding) raises the team leads' alert (issue 10).
    if (input.customer?.safeguarding === true) {
      await this.run('contact-action', { now: this.now(), contactId: outcome.row.id, actor: 'integration', action: 'flagged', events: [], alert: { kind: 'safeguarding', note: input.customer.vulnerability ?? null } });
    }
    // A new contact's view is built from what was just written.
    return { created: true, contact: contactView(outcome.row, outcome.events, outcome.change.clocks, this.calendarSet, this.now()) };
  }

  /** Appends events (any order; idempotent on externalId) and recomputes the clocks. */
  async addEvents(contactId: string, rawEvents: Array<Record<string, unknown>>): Promise<{ added: number; contact: ContactView }> {
    const current = await this.contacts.byId(contactId);
    if (current === undefined) throw new NotFoundError(`no contact with id "${contactId}"`);
    const outcome = await this.run('add-events', { ...prepareAddEvents(current, rawEvents, this.now()), actor: this.actor });
    if (outcome.change !== null) this.publish([outcome.change]);
    return { added: outcome.added, contact: (await this.view(contactId))! };
  }

  /**
   * A person's action on a contact (issue 10): its events (field-checked here, as addEvents does), a
   * complaint reference issued and an alert raised in the same transaction, then the board told.
   */
  async contactAction(input: Omit<ContactActionInput, 'now' | 'events'> & { events: Array<Record<string, unknown>> }): Promise<Omit<ContactActionOutput, 'change'> & { contact: ContactView }> {
    const current = await this.contacts.byId(input.contactId);
    if (current === undefined) throw new NotFoundError(`no contact with id "${input.contactId}"`);
    const now = this.now();
    const { events } = prepareAddEvents(current, input.events, now);
    const { change, ...out } = await this.run('contact-action', { ...input, now, events });
    if (change !== null) this.publish([change]);
    return { ...out, contact: (await this.view(input.contactId))! };
  }

  /** Keeps an automatic message (bounce, out-of-office, receipt): idempotent on its Message-ID. */
  recordAutomaticMail(input: Omit<RecordAutomaticMailInput, 'now' | 'actor'>): Promise<{ recorded: boolean }> {
    return this.run('record-automatic-mail', { ...input, now: this.now(), actor: this.actor });
  }

  /** Where an IMAP folder has been read to (server/ingest/imap.ts). */
  saveMailCursor(folder: string, uidValidity: string, lastUid: number): Promise<null> {
    return this.run('save-mail-cursor', { folder, uidValidity, lastUid, now: this.now() });
  }

  /** Telephony's side facts (held events, the call ledger, unknown queues, advisors' states) in one write. */
  telephonyFacts(input: Omit<CommandInput<'telephony-facts'>, 'now'>): Promise<CommandOutput<'telephony-facts'>> {
    return this.run('telephony-facts', { ...input, now: this.now() });
  }

  /** Records who did what about a safeguarding alert. */
  alertAction(alertId: number, actor: string, action: string): Promise<{ recorded: boolean }> {
    return this.run('alert-action', { now: this.now(), alertId, actor, action });
  }

  /** Events for a contact found by its source key (adapters: a call id, a Message-ID). */
  async addEventsByExternal(channel: string, externalId: string, events: Array<Record<string, unknown>>): Promise<{ added: number; contact: ContactView }> {
    const row = await this.contacts.byExternal(channel, externalId);
    if (row === undefined) throw new NotFoundError(`no ${channel} contact with externalId "${externalId}"`);
    return this.addEvents(row.id, events);
  }

  async view(id: string, now = this.now()): Promise<ContactView | undefined> {
    const row = await this.contacts.byId(id);
    if (row === undefined) return undefined;
    const [events, clocks] = await Promise.all([this.contacts.events(id), this.contacts.clocks(id)]);
    return contactView(row, events, clocks.map((c) => c.detail), this.calendarSet, now);
  }

  /** A page of contacts' views: their events and clocks read in one statement each (ContactStore.eventsOf/clocksOf). */
  async views(rows: readonly ContactRow[], now = this.now()): Promise<ContactView[]> {
    const ids = rows.map((r) => r.id);
    const [events, clocks] = await Promise.all([this.contacts.eventsOf(ids), this.contacts.clocksOf(ids)]);
    return rows.map((r) => contactView(r, events.get(r.id) ?? [], (clocks.get(r.id) ?? []).map((c) => c.detail), this.calendarSet, now));
  }

  /** A stored clock's status as of `now`, for a clock still running. */
  asOf(c: Clock, now: number): Clock {
    return clockAsOf(c, this.calendarSet, now);
  }

  /** The live scheduler's firings, stored with the instant each really happened. */
  recordStatuses(statuses: CommandInput<'set-statuses'>['statuses'], now: number): Promise<unknown> {
    if (this.statusesVia !== undefined) return this.statusesVia(statuses, now);
    return this.run('set-statuses', { now, statuses });
  }

  /**
   * Reads the calendars again (after an edit committed here, or, on PostgreSQL, announced by another
   * instance on the feed). The set is swapped whole once read: reads meanwhile present with the old one.
   */
  async reloadCalendars(): Promise<void> {
    this.root.calendarSet = await this.calendarStore.compiled();
  }

  /** After a calendar edit committed: the calendars read again, then the changes published. */
  private async calendarsChanged(changes: ContactChange[]): Promise<void> {
    await this.reloadCalendars();
    this.publish(changes);
  }

  /**
   * Changes another instance committed (PostgreSQL: the change feed, server/ingest/postgres.ts),
   * told to this instance's listeners as its own are.
   */
  publishFromFeed(changes: ContactChange[]): void {
    if (changes.length > 0) this.tell(changes);
  }

  async addClosure(calendarId: string, closure: Closure, actor: string): Promise<CalendarChangeResult & { id: number }> {
    if ((await this.calendarStore.byId(calendarId)) === undefined) throw new NotFoundError(`no calendar "${calendarId}"`);
    const { changes, ...result } = await this.run('add-closure', { now: this.now(), calendarId, closure, actor });
    await this.calendarsChanged(changes);
    return result;
  }

  async removeClosure(calendarId: string, closureId: number, actor: string): Promise<CalendarChangeResult> {
    if (!(await this.calendarStore.closures(calendarId)).some((c) => c.id === closureId)) throw new NotFoundError(`no closure ${closureId} on calendar "${calendarId}"`);
    const { changes, ...result } = await this.run('remove-closure', { now: this.now(), calendarId, closureId, actor });
    await this.calendarsChanged(changes);
    return result;
  }

  /**
   * Imports GOV.UK holiday lists (one per division) in one transaction, with the recompute of every
   * running clock on a calendar using them (server/commands/import-holidays.ts: future removals need
   * `replace`).
   */
  async importHolidays(lists: readonly HolidayList[], actor: string, options: { replace?: boolean } = {}): Promise<HolidayImportResult[]> {
    const { results, changes } = await this.run('import-holidays', { now: this.now(), lists: [...lists], actor, replace: options.replace === true });
    await this.calendarsChanged(changes);
    return results;
  }
}
