// The API's reads over the asynchronous ports (issue 14): the table of ./reads.ts (every name of
// READ_NAMES, the same answers, the same JSON text for the views) for a database without reader
// threads. On PostgreSQL the pool already keeps the event loop free; what the threads' table gets from
// a SQLite read transaction (several statements, one snapshot) comes here from `withSnapshot`: one
// pooled connection in a REPEATABLE READ READ ONLY transaction, with ports bound to it.
import type pg from 'pg';
import type { CalendarSet } from '../domain/clocks.js';
import type { ContactFilter, ContactRow } from '../store/contacts.js';
import { PgContactReads } from '../store/pg/contacts.js';
import { PgQueueStore } from '../store/pg/queue.js';
import { CONTACT_READS, type ContactReads, type QueueStorePort } from '../store/ports.js';
import { contactText, cutPage, queueText, viewsText, type ContactParts, type ListText, type QueueParts, type QueueRequest, type Reads, type ViewParts } from './reads.js';

/** The queue store's reads (its writes are the commands'). */
export const QUEUE_PORT_READS = ['unassigned', 'openClockOwners', 'openAlerts', 'alertsOf', 'openAlertsOf', 'alert'] as const;
export type QueueReads = Pick<QueueStorePort, (typeof QUEUE_PORT_READS)[number]>;

/** The ports the reads are made of: a Stores (server/store/stores.ts) is one. */
export interface ReadPorts {
  contacts: ContactReads;
  queue: QueueReads;
}

/**
 * Runs `read` with ports that all see one snapshot of the database and answers what it answered.
 * Without one, each statement reads the database as it is when it runs (the SQLite ports through
 * asyncOf, whose statements run one after another on this thread, or a test's).
 */
export type WithSnapshot = <T>(read: (ports: ReadPorts) => Promise<T>) => Promise<T>;

/** `names` of `port`, each calling the port as it is (so a class's methods keep their `this`). */
function delegate<P, K extends keyof P>(port: P, names: readonly K[]): Pick<P, K> {
  const out = {} as Pick<P, K>;
  for (const m of names) out[m] = ((...a: unknown[]) => (port[m] as (...a: unknown[]) => unknown).apply(port, a)) as P[K];
  return out;
}

/** Keeps the entries of `map` whose key is one of `ids`, in the map's order (a split of one statement's answer). */
function only<V>(map: ReadonlyMap<string, V>, ids: readonly string[]): Map<string, V> {
  const wanted = new Set(ids);
  return new Map([...map].filter(([id]) => wanted.has(id)));
}

/**
 * The reads of READ_NAMES over `ports`. `calendars` gives the calendars the views are presented with
 * (the main thread's, IngestService.calendars). The reads of one statement go to `ports` themselves
 * (on PostgreSQL, any connection of the pool); those of several, through `withSnapshot`.
 *
 * A snapshot's statements are awaited one by one, never Promise.all: on one connection they run one at
 * a time whatever the caller does (node-postgres queues them, and deprecates that queue), so waiting
 * costs no round trip, and no statement is left running when an earlier one fails and the connection
 * is handed back. What saves round trips is asking for less: several lists' rows in one statement.
 */
export function portReads(ports: ReadPorts, calendars: () => CalendarSet, withSnapshot: WithSnapshot = (read) => read(ports)): Reads {
  const partsOf = async (p: ReadPorts, rows: ContactRow[]): Promise<ViewParts> => {
    const ids = rows.map((r) => r.id);
    return { rows, events: await p.contacts.eventsOf(ids), clocks: await p.contacts.clocksOf(ids) };
  };

  /** One contact with its events and clocks, or undefined (then nothing more is read). */
  const contactParts = async (p: ReadPorts, id: string): Promise<ContactParts | undefined> => {
    const row = await p.contacts.byId(id);
    return row === undefined ? undefined : { row, events: await p.contacts.events(id), clocks: await p.contacts.clocks(id) };
  };

  /** My queue's contacts: the assignee's open ones (none asked for when null) and the unassigned work. */
  const queueRows = async (p: ReadPorts, q: QueueRequest): Promise<{ assigned: ContactRow[] | null; unassigned: ContactRow[] }> => {
    const assigned = q.assignee === null ? null : await p.contacts.list({ assignee: q.assignee, status: ['open'], limit: q.limit, now: q.now });
    return { assigned, unassigned: await p.contacts.byIds(await p.queue.unassigned(q.unassignedLimit, q.queues)) };
  };
  // Both lists' clocks and open alerts (and events) are read in one statement each, not one per list:
  // half the statements. Everything keyed by contact id, so each list finds its own in the answer.
  const idsOf = (lists: { assigned: ContactRow[] | null; unassigned: ContactRow[] }) => [...(lists.assigned ?? []), ...lists.unassigned].map((r) => r.id);

  return {
    contacts: {
      ...delegate(ports.contacts, CONTACT_READS),
      page: (f: ContactFilter) => withSnapshot(async (p) => partsOf(p, await p.contacts.list(f))),
      parts: (id: string) => withSnapshot((p) => contactParts(p, id)),
      /**
       * The clock alone, when it is there (the explain route's usual answer: one statement, no
       * transaction); when it is not, the clock and the contact again in one snapshot, so "no such
       * clock on this contact" is never said of a contact created, clocks and all, between two reads.
       */
      explainable: async (id: string, standard: string) => {
        const clock = await ports.contacts.clock(id, standard);
        if (clock !== undefined) return { clock, contactExists: true };
        return withSnapshot(async (p) => {
          const again = await p.contacts.clock(id, standard);
          return { clock: again, contactExists: again !== undefined || (await p.contacts.byId(id)) !== undefined };
        });
      },
    },
    views: {
      list: (f: ContactFilter, pageSize: number) =>
        withSnapshot(async (p): Promise<ListText> => {
          const { page, more, last } = cutPage(await p.contacts.list(f), pageSize);
          return { items: viewsText(await partsOf(p, page), calendars(), f.now), more, last };
        }),
      contact: (id: string, now: number) =>
        withSnapshot(async (p) => {
          const parts = await contactParts(p, id);
          return parts === undefined ? undefined : contactText(parts.row, parts.events, parts.clocks, calendars(), now);
        }),
      queue: (q: QueueRequest) =>
        withSnapshot(async (p) => {
          const lists = await queueRows(p, q);
          const ids = idsOf(lists);
          const clocks = await p.contacts.clocksOf(ids);
          const alerts = await p.queue.openAlertsOf(ids);
          const text = (rows: ContactRow[]) => queueText(rows, clocks, alerts, calendars(), q.now);
          return { items: lists.assigned === null ? null : text(lists.assigned), unassigned: text(lists.unassigned) };
        }),
    },
    queue: {
      ...delegate(ports.queue, QUEUE_PORT_READS),
      page: (q: QueueRequest) =>
        withSnapshot(async (p) => {
          const lists = await queueRows(p, q);
          const ids = idsOf(lists);
          const events = await p.contacts.eventsOf(ids);
          const clocks = await p.contacts.clocksOf(ids);
          const alerts = await p.queue.openAlertsOf(ids);
          // Each list's maps as reading it alone gives them: eventsOf and clocksOf answer every id asked
          // for, in the order asked; openAlertsOf only the contacts with alerts, in id order.
          const parts = (rows: ContactRow[]): QueueParts => {
            const of = rows.map((r) => r.id);
            return { rows, events: new Map(of.map((id) => [id, events.get(id) ?? []])), clocks: new Map(of.map((id) => [id, clocks.get(id) ?? []])), alerts: only(alerts, of) };
          };
          return { assigned: lists.assigned === null ? null : parts(lists.assigned), unassigned: parts(lists.unassigned) };
        }),
      contactPage: (id: string) =>
        withSnapshot(async (p) => {
          const parts = await contactParts(p, id);
          return parts === undefined ? undefined : { ...parts, alerts: await p.queue.alertsOf(id) };
        }),
      alertsWithContacts: () =>
        withSnapshot(async (p) => {
          const alerts = await p.queue.openAlerts();
          return { alerts, contacts: await p.contacts.byIds([...new Set(alerts.map((a) => a.contactId))]) };
        }),
    },
  };
}

/**
 * One snapshot on PostgreSQL: a connection of `pool` in a REPEATABLE READ READ ONLY transaction (every
 * statement sees the database as of the first; read only, so it takes no locks that writes wait on and
 * is never refused for serialization), the ports bound to it, COMMIT, the connection handed back.
 */
export function pgSnapshot(pool: pg.Pool): WithSnapshot {
  return async (read) => {
    const client = await pool.connect();
    // A connection cut while checked out reports on the client too: heard here, so it neither ends
    // the process nor goes back into the pool.
    let lost: Error | undefined;
    const onError = (error: Error) => (lost = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out = await read({ contacts: new PgContactReads(client), queue: new PgQueueStore(client) });
      await client.query('COMMIT');
      return out;
    } catch (error) {
      // A connection that cannot even roll back is not handed to the next request.
      await client.query('ROLLBACK').catch((e: Error) => (lost ??= e));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(lost);
    }
  };
}

/** The reads on a PostgreSQL pool: one statement on any connection, several in one snapshot. */
export function pgReads(pool: pg.Pool, calendars: () => CalendarSet): Reads {
  return portReads({ contacts: new PgContactReads(pool), queue: new PgQueueStore(pool) }, calendars, pgSnapshot(pool));
}
