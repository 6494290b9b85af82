// The reads a reader thread answers, by name (`contacts.list`, `queue.page`…): the existing synchronous
// stores' methods, plus a few that gather what one request presents (a page's contacts with their
// events and clocks) so a request is one round trip to a thread. Plain data in, plain data out: the
// same table runs on a reader thread (answers cross by structured clone) or on the main thread when
// KEPT_READER_THREADS=0.
import type { Sqlite } from '../../db/connection.js';
import type { CalendarSet } from '../domain/clocks.js';
import { contactView } from '../ingest/present.js';
import { ContactStore, type ClockRow, type ContactFilter, type ContactRow, type EventRow } from '../store/contacts.js';
import { CONTACT_READS, type Async } from '../store/ports.js';
import { QueueStore, type AlertRow } from '../store/queue.js';
import { queueItems } from './queue-items.js';

/** Contacts with what their views are made of: each contact's events and clocks. */
export interface ViewParts {
  rows: ContactRow[];
  events: Map<string, EventRow[]>;
  clocks: Map<string, ClockRow[]>;
}

/** One contact with its events and clocks. */
export interface ContactParts {
  row: ContactRow;
  events: EventRow[];
  clocks: ClockRow[];
}

/** A queue's contacts with their open safeguarding alerts. */
export interface QueueParts extends ViewParts {
  alerts: Map<string, AlertRow[]>;
}

export interface QueueRequest {
  /** An advisor's email (their open contacts), or null for the unassigned work only. */
  assignee: string | null;
  limit: number;
  /** The unassigned contacts asked for beside an assignee's (or alone, when assignee is null). */
  unassignedLimit: number;
  /** An advisor's queues (routes or categories); null: every queue. */
  queues: readonly string[] | null;
  now: number;
}

/** A list page presented: the items' JSON text, whether more follow, and the last item's key (the cursor). */
export interface ListText {
  items: string;
  more: boolean;
  last: { receivedAt: number; id: string } | null;
}

// What the `views` reads send, from the rows read: shared with the same reads over the asynchronous
// ports (./ports.ts, PostgreSQL), so both databases give the same JSON text by construction.

/** A list's rows (one more than the page, to know whether more follow) cut to the page, with the last item's key. */
export function cutPage(rows: ContactRow[], pageSize: number): { page: ContactRow[]; more: boolean; last: ListText['last'] } {
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return { page, more: rows.length > pageSize, last: last === undefined ? null : { receivedAt: last.receivedAt, id: last.id } };
}

/** A page of contacts' views as JSON text. */
export function viewsText(parts: ViewParts, calendars: CalendarSet, now: number): string {
  return JSON.stringify(parts.rows.map((r) => contactView(r, parts.events.get(r.id) ?? [], (parts.clocks.get(r.id) ?? []).map((c) => c.detail), calendars, now)));
}

/** One contact's view as JSON text. */
export function contactText(row: ContactRow, events: EventRow[], clocks: ClockRow[], calendars: CalendarSet, now: number): string {
  return JSON.stringify(contactView(row, events, clocks.map((c) => c.detail), calendars, now));
}

/** My queue's items as JSON text: each contact's clocks and open alerts (no events). */
export function queueText(rows: readonly ContactRow[], clocks: ReadonlyMap<string, readonly ClockRow[]>, alerts: ReadonlyMap<string, readonly AlertRow[]>, calendars: CalendarSet, now: number): string {
  return JSON.stringify(queueItems(rows, clocks, alerts, calendars, now));
}

export const CONTACT_PAGE_READS = ['page', 'parts', 'explainable'] as const;
export const VIEW_READS = ['list', 'contact', 'queue'] as const;
export const QUEUE_READS = ['unassigned', 'openClockOwners', 'openAlerts', 'alertsOf', 'openAlertsOf', 'alert', 'page', 'contactPage', 'alertsWithContacts'] as const;

/**
 * The table of reads over one connection. `calendars` gives the calendars to present with (the `views`
 * group): the main thread's own when the table runs there; on a reader thread, its copy, read again
 * whenever the main thread's have changed (a calendar edit's commit).
 */
export function readTable(sqlite: Sqlite, calendars: () => CalendarSet) {
  const contacts = new ContactStore(sqlite);
  const queue = new QueueStore(sqlite);
  // Several statements that make one answer read one snapshot: a write committed between them could
  // otherwise give a contact without the event that changed its clocks.
  const snapshot = <A extends unknown[], R>(f: (...a: A) => R): ((...a: A) => R) => {
    const t = sqlite.transaction(f);
    return (...a: A) => t.deferred(...a);
  };
  const partsOf = (rows: ContactRow[]): ViewParts => {
    const ids = rows.map((r) => r.id);
    return { rows, events: contacts.eventsOf(ids), clocks: contacts.clocksOf(ids) };
  };
  const queueParts = (rows: ContactRow[]): QueueParts => ({ ...partsOf(rows), alerts: queue.openAlertsOf(rows.map((r) => r.id)) });

  // My queue's items need each contact's clocks and open alerts, not its events.
  const queueJson = (rows: ContactRow[], now: number) => {
    const ids = rows.map((r) => r.id);
    return queueText(rows, contacts.clocksOf(ids), queue.openAlertsOf(ids), calendars(), now);
  };

  const contactReads = Object.fromEntries(CONTACT_READS.map((m) => [m, (contacts[m] as (...a: unknown[]) => unknown).bind(contacts)])) as Pick<ContactStore, (typeof CONTACT_READS)[number]>;

  return {
    contacts: {
      ...contactReads,
      /** A list page (GET /api/v1/contacts) with every contact's events and clocks: one snapshot. */
      page: snapshot((f: ContactFilter): ViewParts => partsOf(contacts.list(f))),
      /** One contact with its events and clocks (GET /api/v1/contacts/:id), or undefined. */
      parts: snapshot((id: string): ContactParts | undefined => {
        const row = contacts.byId(id);
        return row === undefined ? undefined : { row, events: contacts.events(id), clocks: contacts.clocks(id) };
      }),
      /** The explain route's read: the clock, else whether the contact exists at all (to say which is missing). */
      explainable: snapshot((id: string, standard: string): { clock: ClockRow | undefined; contactExists: boolean } => {
        const clock = contacts.clock(id, standard);
        return { clock, contactExists: clock !== undefined || contacts.byId(id) !== undefined };
      }),
    },
    // Presented here and sent as JSON text: the event loop only writes it out (a page's views are the
    // bulk of a read's work; a string crosses between threads as one copy, a tree of objects is cloned
    // node by node). The text is JSON.stringify of the views, the same JSON the routes' schemas give.
    views: {
      /** GET /api/v1/contacts: `f.limit` rows read (one more than the page, to know whether more follow), `pageSize` presented. */
      list: snapshot((f: ContactFilter, pageSize: number): ListText => {
        const { page, more, last } = cutPage(contacts.list(f), pageSize);
        return { items: viewsText(partsOf(page), calendars(), f.now), more, last };
      }),
      /** GET /api/v1/contacts/:id: the contact's view as JSON text, or undefined. */
      contact: snapshot((id: string, now: number): string | undefined => {
        const row = contacts.byId(id);
        if (row === undefined) return undefined;
        return contactText(row, contacts.events(id), contacts.clocks(id), calendars(), now);
      }),
      /** GET /api/v1/queue: the assignee's items and the unassigned ones, each in due order, as JSON arrays. */
      queue: snapshot((q: QueueRequest): { items: string | null; unassigned: string } => {
        const assigned = q.assignee === null ? null : contacts.list({ assignee: q.assignee, status: ['open'], limit: q.limit, now: q.now });
        const unassigned = contacts.byIds(queue.unassigned(q.unassignedLimit, q.queues));
        return { items: assigned === null ? null : queueJson(assigned, q.now), unassigned: queueJson(unassigned, q.now) };
      }),
    },
    queue: {
      unassigned: (limit: number, queues: readonly string[] | null = null) => queue.unassigned(limit, queues),
      openClockOwners: () => queue.openClockOwners(),
      openAlerts: (limit?: number) => queue.openAlerts(limit),
      alertsOf: (contactId: string) => queue.alertsOf(contactId),
      openAlertsOf: (ids: readonly string[]) => queue.openAlertsOf(ids),
      alert: (id: number) => queue.alert(id),
      /**
       * My queue (GET /api/v1/queue): an assignee's open contacts and the unassigned work they may
       * take, each with its events, clocks and open alerts, in one snapshot.
       */
      page: snapshot((q: QueueRequest): { assigned: QueueParts | null; unassigned: QueueParts } => {
        const assigned = q.assignee === null ? null : queueParts(contacts.list({ assignee: q.assignee, status: ['open'], limit: q.limit, now: q.now }));
        const unassigned = queueParts(contacts.byIds(queue.unassigned(q.unassignedLimit, q.queues)));
        return { assigned, unassigned };
      }),
      /** The contact page: the contact, its events and clocks, and every safeguarding alert it has had. */
      contactPage: snapshot((id: string): (ContactParts & { alerts: AlertRow[] }) | undefined => {
        const row = contacts.byId(id);
        return row === undefined ? undefined : { row, events: contacts.events(id), clocks: contacts.clocks(id), alerts: queue.alertsOf(id) };
      }),
      /** Open safeguarding alerts, oldest first, with their contacts. */
      alertsWithContacts: snapshot((): { alerts: AlertRow[]; contacts: ContactRow[] } => {
        const alerts = queue.openAlerts();
        return { alerts, contacts: contacts.byIds([...new Set(alerts.map((a) => a.contactId))]) };
      }),
    },
  };
}

export type ReadTable = ReturnType<typeof readTable>;
export type ReadGroup = keyof ReadTable;
/** `contacts.list`, `queue.page`, …: what a reader thread is asked for. */
export type ReadName = { [G in ReadGroup]: `${G}.${keyof ReadTable[G] & string}` }[ReadGroup];

/** The reads as the server's event loop sees them: every one answers a promise. */
export type Reads = { [G in ReadGroup]: Async<ReadTable[G]> };

/** Every read's name, by group (the pool builds its face from these without opening the database). */
export const READ_NAMES: { [G in ReadGroup]: ReadonlyArray<keyof ReadTable[G] & string> } = {
  contacts: [...CONTACT_READS, ...CONTACT_PAGE_READS],
  views: VIEW_READS,
  queue: QUEUE_READS,
};

/** Runs one read of the table by its name. */
export function runRead(table: ReadTable, name: string, args: unknown[]): unknown {
  const dot = name.indexOf('.');
  const group = (table as Record<string, Record<string, unknown>>)[name.slice(0, dot)];
  const f = group?.[name.slice(dot + 1)];
  if (typeof f !== 'function') throw new Error(`no read named "${name}"`);
  return (f as (...a: unknown[]) => unknown)(...args);
}

/** The table on this thread's own connection, each read answering a promise (KEPT_READER_THREADS=0). */
export function inlineReads(sqlite: Sqlite, calendars: () => CalendarSet): Reads {
  const table = readTable(sqlite, calendars);
  const out = {} as Record<string, Record<string, unknown>>;
  for (const [group, names] of Object.entries(READ_NAMES)) {
    out[group] = {};
    for (const m of names) out[group]![m] = async (...a: unknown[]) => runRead(table, `${group}.${m}`, a);
  }
  return out as unknown as Reads;
}
