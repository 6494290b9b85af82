// Every channel's way in: validate → store with its events in one (group-committed) transaction →
// recompute the contact's clocks → tell listeners (the live hub) once the data is durable.
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { hash, randomUUID } from 'node:crypto';
import type { Connection } from '../../db/connection.js';
import { ALWAYS, type Closure } from '../domain/calendar.js';
import { evaluateContact, type CalendarSet } from '../domain/clocks.js';
import { parseContact, parseEvent } from '../domain/contact.js';
import { ContactError, type Clock, type Contact, type ContactEvent } from '../domain/model.js';
import { clockToJson, type ClockJson } from '../domain/json.js';
import { packInForce } from '../domain/standards.js';
import { compareHolidays, ukDateOf, type HolidayChanges, type HolidayImportResult, type HolidayList } from '../domain/holidays.js';
import { AuditStore } from '../store/audit.js';
import { CalendarStore } from '../store/calendars.js';
import { ContactStore, type ContactRow, type Customer, type EventRow } from '../store/contacts.js';
import { TokenStore } from '../store/tokens.js';
import { GroupCommitWriter } from '../store/writer.js';

export { ConflictError, NotFoundError } from '../errors.js';

/** What a channel hands in: the contact of STANDARDS §8 plus what the advisor needs to see. */
export interface ContactInput {
  channel: string;
  route?: string;
  category?: string;
  externalId?: string;
  receivedAt: string;
  events?: Array<Record<string, unknown>>;
  customer?: Customer;
  subject?: string;
  summary?: string;
  /** Source-specific facts (call id, Message-ID, attachment names and sizes…). */
  source?: Record<string, unknown>;
}

export interface EventView extends Record<string, unknown> {
  type: string;
  at: string;
  seq: number;
}

export interface ContactView {
  id: string;
  channel: string;
  route: string;
  category: string;
  externalId: string | null;
  receivedAt: string;
  customer: Customer | null;
  subject: string | null;
  summary: string | null;
  assignee: string | null;
  callback: boolean;
  source: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  events: EventView[];
  clocks: ClockJson[];
}

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

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A UUID version 7 (RFC 9562): the creation millisecond in the first 48 bits, then random bits.
 * Ids made close in time sort together, so new rows land at the end of the id-keyed indexes
 * (contacts, events, clocks) instead of on a random page each: fewer pages dirtied per commit.
 */
export function timeOrderedId(now: number): string {
  const ts = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep its random bits and variant
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r.slice(15)}`;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (k: string) => ARRAY_INDEX.test(k) && Number(k) < 4294967295;

/**
 * Canonical JSON: object keys sorted, text built in one pass. The same text as the original
 * `JSON.stringify(sortKeysDeep(value))` (a rebuilt object lists array-index keys first, in
 * numeric order; undefined and functions are dropped from objects and null in arrays), so the
 * stored content hashes keep matching.
 */
function canonicalJson(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (canonicalJson(v[i]) ?? 'null');
    return `${s}]`;
  }
  let keys = Object.keys(v).sort();
  if (keys.some(isArrayIndex)) {
    const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    keys = [...indices, ...keys.filter((k) => !isArrayIndex(k))];
  }
  let s = '{';
  let first = true;
  for (const k of keys) {
    const text = canonicalJson((v as Record<string, unknown>)[k]);
    if (text === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${text}`;
    first = false;
  }
  return `${s}}`;
}

function canonicalHash(value: unknown): string {
  return hash('sha256', canonicalJson(value) ?? '', 'hex');
}

/** The event as stored: validated fields only, instants normalised to ISO UTC. */
function eventBody(e: ContactEvent): Record<string, unknown> {
  const body: Record<string, unknown> = { type: e.type, at: iso(e.at) };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'type' || k === 'at' || k === 'seq' || v === undefined) continue;
    body[k] = k === 'until' ? iso(v as number) : v;
  }
  return body;
}

export class IngestService {
  readonly contacts: ContactStore;
  readonly calendarStore: CalendarStore;
  readonly tokens: TokenStore;
  readonly audit: AuditStore;
  readonly writer: GroupCommitWriter;
  private calendarSet: CalendarSet;
  private readonly listeners = new Set<(changes: ContactChange[]) => void>();
  packFamily: string;

  constructor(
    readonly connection: Connection,
    options: { packFamily?: string; now?: () => number; maxEventsPerContact?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxEventsPerContact = options.maxEventsPerContact ?? 1000;
    this.packFamily = options.packFamily ?? 'livewest';
    this.contacts = new ContactStore(connection.sqlite);
    this.calendarStore = new CalendarStore(connection.sqlite);
    this.tokens = new TokenStore(connection.sqlite);
    this.audit = new AuditStore(connection.sqlite);
    this.writer = new GroupCommitWriter(connection.sqlite);
    this.calendarStore.seed(this.now());
    this.calendarSet = this.loadCalendars();
  }

  readonly now: () => number;
  /** Events one contact may hold (KEPT_MAX_EVENTS_PER_CONTACT): every write recomputes from all of them. */
  readonly maxEventsPerContact: number;

  get calendars(): CalendarSet {
    return this.calendarSet;
  }

  private loadCalendars(): CalendarSet {
    const set: Record<string, CalendarSet[string]> = { always: ALWAYS };
    for (const row of this.calendarStore.all()) set[row.id] = this.calendarStore.compile(row);
    return set;
  }

  /** Listeners hear about every contact whose clocks changed, after the commit. */
  onChange(listener: (changes: ContactChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(changes: ContactChange[]): void {
    if (changes.length === 0) return;
    for (const l of this.listeners) l(changes);
  }

  /** Rebuilds the contact from its stored events, evaluates it, and stores clocks and derived fields. */
  private recompute(row: ContactRow, events: EventRow[], now: number): { clocks: Clock[]; row: ContactRow } {
    const { clocks, row: updated } = this.evaluate(row, events, now);
    this.contacts.replaceClocks(row.id, clocks, now);
    if (updated.category !== row.category || updated.assignee !== row.assignee || updated.callback !== row.callback || events.length > 0) {
      this.contacts.updateDerived(row.id, updated);
    }
    return { clocks, row: updated };
  }

  /** The contact rebuilt from its (stored) events and evaluated: its clocks and derived fields; writes nothing. */
  private evaluate(row: ContactRow, events: EventRow[], now: number): { clocks: Clock[]; row: ContactRow } {
    const contact: Contact = {
      id: row.id,
      channel: row.channel as Contact['channel'],
      route: row.route as Contact['route'],
      category: row.initialCategory as Contact['category'],
      receivedAt: row.receivedAt,
      events: events.map((e) => parseEvent(e.body, `events[${e.seq}]`, e.seq, row.receivedAt)),
    };
    const pack = packInForce(row.packFamily, row.receivedAt);
    const result = evaluateContact(contact, pack, this.calendarSet, now);
    return { clocks: result.clocks, row: { ...row, category: result.category, assignee: result.assignee, callback: result.callback, updatedAt: now } };
  }

  /**
   * Creates a contact (201) or, for a replay of the same (channel, externalId) with the same
   * content, returns the stored one (200). The same key with other content is a ConflictError.
   */
  async createContact(input: ContactInput): Promise<{ created: boolean; contact: ContactView }> {
    // Validate before queueing: bad input never reaches the transaction.
    const parsed = parseContact({ ...input, id: undefined });
    if (parsed.events.length > this.maxEventsPerContact) {
      throw new UnprocessableError('events', `has ${parsed.events.length} events; at most ${this.maxEventsPerContact} are kept per contact (KEPT_MAX_EVENTS_PER_CONTACT)`, 'too-many-events');
    }
    const packFamily = this.packFamily;
    packInForce(packFamily, parsed.receivedAt);
    const contentHash = canonicalHash({
      channel: parsed.channel,
      route: parsed.route,
      category: parsed.category,
      externalId: parsed.externalId ?? null,
      receivedAt: parsed.receivedAt,
      events: parsed.events.map(eventBody),
      customer: input.customer ?? null,
      subject: input.subject ?? null,
      summary: input.summary ?? null,
    });
    const outcome = await this.writer.write(() => {
      const now = this.now();
      if (parsed.externalId !== undefined) {
        const existing = this.contacts.byExternal(parsed.channel, parsed.externalId);
        if (existing !== undefined) {
          if (existing.contentHash !== contentHash) {
            throw new ConflictError(`a ${parsed.channel} contact with externalId "${parsed.externalId}" already exists with different content (id ${existing.id})`);
          }
          return { created: false, row: existing, change: null, events: null };
        }
      }
      const row: ContactRow = {
        id: timeOrderedId(now),
        channel: parsed.channel,
        route: parsed.route,
        category: parsed.category,
        initialCategory: parsed.category,
        externalId: parsed.externalId ?? null,
        receivedAt: parsed.receivedAt,
        packFamily,
        customer: input.customer ?? null,
        subject: input.subject ?? null,
        summary: input.summary ?? null,
        assignee: null,
        callback: false,
        contentHash,
        source: input.source ?? null,
        createdAt: now,
        updatedAt: now,
      };
      const stored: Array<Omit<EventRow, 'id'>> = [];
      const seen = new Set<string>();
      for (const e of parsed.events) {
        if (e.externalId !== undefined) {
          if (seen.has(e.externalId)) continue;
          seen.add(e.externalId);
        }
        stored.push({ contactId: row.id, seq: stored.length, type: e.type, at: e.at, externalId: e.externalId ?? null, body: eventBody(e), receivedAt: now });
      }
      const events: EventRow[] = stored.map((e) => ({ ...e, id: 0 }));
      // Evaluated before anything is written, so the contact row goes in once, with its derived fields
      // (no UPDATE after), and its clocks are inserted (nothing to delete). A rule error writes nothing.
      const { clocks, row: updated } = this.evaluate(row, events, now);
      this.contacts.insertContact(updated);
      for (const e of stored) this.contacts.insertEvent(e);
      this.contacts.insertClocks(row.id, clocks, now);
      return { created: true, row: updated, change: { contactId: row.id, contact: updated, clocks, at: now } as ContactChange, events };
    });
    if (outcome.change !== null) this.publish([outcome.change]);
    // A new contact's view is built from what was just written; a replay reads the stored one.
    const contact = outcome.change !== null ? this.viewOf(outcome.row, outcome.events ?? [], outcome.change.clocks, this.now()) : this.view(outcome.row.id)!;
    return { created: outcome.created, contact };
  }

  /** Appends events (any order; idempotent on externalId) and recomputes the clocks. */
  async addEvents(contactId: string, rawEvents: Array<Record<string, unknown>>): Promise<{ added: number; contact: ContactView }> {
    const current = this.contacts.byId(contactId);
    if (current === undefined) throw new NotFoundError(`no contact with id "${contactId}"`);
    // Field checks first (names the field), then the pack rules inside the transaction.
    const parsed = rawEvents.map((e, i) => parseEvent(e, rawEvents.length === 1 ? 'event' : `events[${i}]`, i, current.receivedAt));
    const outcome = await this.writer.write(() => {
      const now = this.now();
      const row = this.contacts.byId(contactId)!;
      let seq = this.contacts.nextSeq(contactId);
      let added = 0;
      const batchKeys = new Set<string>();
      for (const e of parsed) {
        const body = eventBody(e);
        if (e.externalId !== undefined) {
          const existing = this.contacts.eventByExternal(contactId, e.externalId);
          if (existing !== undefined) {
            if (canonicalHash(existing.body) !== canonicalHash(body)) {
              throw new ConflictError(`event externalId "${e.externalId}" was already received with different content`);
            }
            continue;
          }
          if (batchKeys.has(e.externalId)) continue;
          batchKeys.add(e.externalId);
        }
        this.contacts.insertEvent({ contactId, seq: seq++, type: e.type, at: e.at, externalId: e.externalId ?? null, body, receivedAt: now });
        added++;
      }
      if (added === 0) return { added, change: null };
      // seq is now the contact's event count; past the cap the savepoint rolls this job back.
      if (seq > this.maxEventsPerContact) {
        throw new UnprocessableError(
          rawEvents.length === 1 ? 'event' : 'events',
          `contact "${contactId}" would hold ${seq} events; at most ${this.maxEventsPerContact} are kept per contact (KEPT_MAX_EVENTS_PER_CONTACT): open a new contact for new work`,
          'too-many-events',
        );
      }
      const all = this.contacts.events(contactId);
      try {
        const { clocks, row: updated } = this.recompute(row, all, now);
        return { added, change: { contactId, contact: updated, clocks, at: now } as ContactChange };
      } catch (e) {
        // Name the caller's field, not the stored position.
        if (e instanceof ContactError && e.path[0] === 'events' && typeof e.path[1] === 'number') {
          const index = e.path[1] - (seq - added);
          if (index >= 0) throw e.at(rawEvents.length === 1 ? ['event', ...e.path.slice(2)] : ['events', index, ...e.path.slice(2)]);
        }
        throw e;
      }
    });
    if (outcome.change !== null) this.publish([outcome.change]);
    return { added: outcome.added, contact: this.view(contactId)! };
  }

  /** Events for a contact found by its source key (adapters: a call id, a Message-ID). */
  async addEventsByExternal(channel: string, externalId: string, events: Array<Record<string, unknown>>): Promise<{ added: number; contact: ContactView }> {
    const row = this.contacts.byExternal(channel, externalId);
    if (row === undefined) throw new NotFoundError(`no ${channel} contact with externalId "${externalId}"`);
    return this.addEvents(row.id, events);
  }

  view(id: string, now = this.now()): ContactView | undefined {
    const row = this.contacts.byId(id);
    if (row === undefined) return undefined;
    return this.viewOf(row, this.contacts.events(id), this.contacts.clocks(id).map((c) => c.detail), now);
  }

  private viewOf(row: ContactRow, events: EventRow[], stored: Clock[], now: number): ContactView {
    // Judge running clocks as of now (the stored status may be from the last write).
    const clocks = stored.map((c) => clockToJson(this.asOf(c, now)));
    return {
      id: row.id,
      channel: row.channel,
      route: row.route,
      category: row.category,
      externalId: row.externalId,
      receivedAt: iso(row.receivedAt),
      customer: row.customer,
      subject: row.subject,
      summary: row.summary,
      assignee: row.assignee,
      callback: row.callback,
      source: row.source,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
      events: events.map((e) => ({ ...e.body, type: e.type, at: iso(e.at), seq: e.seq })),
      clocks,
    };
  }

  /** A stored clock's status as of `now`, for a clock still running. */
  asOf(c: Clock, now: number): Clock {
    if (c.status !== 'running' && c.status !== 'at-risk' && c.status !== 'breached') return c;
    const status = c.dueAt !== null && now > c.dueAt ? 'breached' : c.atRiskAt !== null && now >= c.atRiskAt ? 'at-risk' : 'running';
    if (status === c.status) return c;
    const cal = this.calendarSet[c.calendar];
    const counted = cal ? Math.max(c.countedMs, cal.countedBetween(c.startedAt, now) - (c.pauses ?? []).reduce((s, p) => s + cal.countedBetween(p.from, p.to ?? now), 0)) : c.countedMs;
    return { ...c, status, countedMs: counted, remainingMs: Math.max(0, c.targetMs - counted) };
  }

  /** Contact ids, events and clocks recomputed for every contact with a running clock on the calendar. */
  private recomputeRunning(calendarId: string, now: number): CalendarChangeResult & { changes: ContactChange[] } {
    const ids = this.contacts.contactIdsWithOpenClocksOn(calendarId);
    let moved = 0;
    const changes: ContactChange[] = [];
    for (const id of ids) {
      const row = this.contacts.byId(id)!;
      const before = new Map(this.contacts.clocks(id).map((c) => [c.standard, c.dueAt]));
      const { clocks, row: updated } = this.recompute(row, this.contacts.events(id), now);
      let changed = false;
      for (const c of clocks) {
        if (before.get(c.standard) !== c.dueAt) {
          moved++;
          changed = true;
        }
      }
      if (changed) changes.push({ contactId: id, contact: updated, clocks, at: now });
    }
    return { recomputedContacts: ids.length, movedClocks: moved, changes };
  }

  /** Applies a calendar edit and recomputes running clocks, all in one transaction; audited. */
  private async changeCalendar(calendarId: string, actor: string, action: string, detail: Record<string, unknown>, edit: () => void): Promise<CalendarChangeResult> {
    if (this.calendarStore.byId(calendarId) === undefined) throw new NotFoundError(`no calendar "${calendarId}"`);
    const previous = this.calendarSet;
    const outcome = await this.writer
      .write(() => {
        const now = this.now();
        edit();
        this.calendarStore.touch(calendarId, now);
        this.calendarSet = this.loadCalendars();
        const result = this.recomputeRunning(calendarId, now);
        this.audit.record(now, actor, action, { calendar: calendarId, ...detail, recomputedContacts: result.recomputedContacts, movedClocks: result.movedClocks });
        return result;
      })
      .catch((e: unknown) => {
        this.calendarSet = previous;
        throw e;
      });
    this.publish(outcome.changes);
    return { recomputedContacts: outcome.recomputedContacts, movedClocks: outcome.movedClocks };
  }

  async addClosure(calendarId: string, closure: Closure, actor: string): Promise<CalendarChangeResult & { id: number }> {
    let id = 0;
    const r = await this.changeCalendar(calendarId, actor, 'closure.add', { from: iso(closure.from), to: iso(closure.to), reason: closure.reason ?? null }, () => {
      id = this.calendarStore.addClosure(calendarId, closure, this.now());
    });
    return { ...r, id };
  }

  async removeClosure(calendarId: string, closureId: number, actor: string): Promise<CalendarChangeResult> {
    if (!this.calendarStore.closures(calendarId).some((c) => c.id === closureId)) throw new NotFoundError(`no closure ${closureId} on calendar "${calendarId}"`);
    return this.changeCalendar(calendarId, actor, 'closure.remove', { closure: closureId }, () => {
      this.calendarStore.removeClosure(calendarId, closureId);
    });
  }

  /**
   * Imports GOV.UK holiday lists (one per division) in one transaction, with the recompute of
   * every running clock on a calendar using them; one audit entry per division. Adding holidays
   * needs nothing; an import that would remove a bank holiday dated today or later (UK date, by
   * `now()`) is refused (422) unless `replace` is set, and then no division changes, so a
   * truncated or wrong file cannot silently give staff working days they do not have.
   */
  async importHolidays(lists: readonly HolidayList[], actor: string, options: { replace?: boolean } = {}): Promise<HolidayImportResult[]> {
    const replace = options.replace === true;
    const previous = this.calendarSet;
    const outcome = await this.writer
      .write(() => {
        // Compared inside the transaction: the stored list is the one being replaced, even if
        // another import ran since the request arrived.
        const now = this.now();
        const plans = lists.map((list) => ({ list, changes: compareHolidays(this.calendarStore.holidays(list.division)?.holidays ?? [], list.holidays) }));
        if (!replace) this.refuseFutureRemovals(plans, ukDateOf(now));
        const changed = plans.filter(({ changes: c }) => c.added.length + c.removed.length + c.retitled.length > 0);
        for (const { list } of changed) this.calendarStore.replaceHolidays(list);
        if (changed.length > 0) this.calendarSet = this.loadCalendars();
        const calendars = this.calendarStore.all();
        const changes: ContactChange[] = [];
        const results = plans.map(({ list, changes: c }): HolidayImportResult => {
          const using = calendars.filter((cal) => cal.division === list.division).map((cal) => cal.id);
          let recomputedContacts = 0;
          let movedClocks = 0;
          if (changed.some((p) => p.list === list)) {
            for (const id of using) {
              this.calendarStore.touch(id, now);
              const r = this.recomputeRunning(id, now);
              recomputedContacts += r.recomputedContacts;
              movedClocks += r.movedClocks;
              changes.push(...r.changes);
            }
          }
          this.audit.record(now, actor, 'holidays.import', {
            division: list.division,
            added: c.added.length,
            removed: c.removed.length,
            retitled: c.retitled.length,
            // Removals are the edit that can hurt: the dates are kept so the audit says which.
            removedDates: c.removed.map((h) => h.date),
            replace,
            calendars: using,
            recomputedContacts,
            movedClocks,
          });
          return {
            division: list.division,
            added: c.added.length,
            removed: c.removed.length,
            addedHolidays: c.added,
            removedHolidays: c.removed,
            retitledHolidays: c.retitled,
            calendars: using,
            recomputedContacts,
            movedClocks,
          };
        });
        return { results, changes };
      })
      .catch((e: unknown) => {
        this.calendarSet = previous;
        throw e;
      });
    this.publish(outcome.changes);
    return outcome.results;
  }

  /** Throws a 422 naming the (first) division whose import would remove bank holidays dated `today` or later. */
  private refuseFutureRemovals(plans: ReadonlyArray<{ list: HolidayList; changes: HolidayChanges }>, today: string): void {
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

}
