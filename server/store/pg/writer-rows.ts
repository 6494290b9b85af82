// A create-contact command turned into the rows it writes, before any SQL: the same rows as the
// SQLite command (server/commands/create-contact.ts), clocks by the same engine (`evaluateStored`),
// so the PostgreSQL writer can insert a whole flush of them set-based; and a stored row read back.
import type { CreateContactInput } from '../../commands/create-contact.js';
import { eventBody } from '../../commands/canonical.js';
import type { CommandContext } from '../../commands/context.js';
import { timeOrderedId } from '../../commands/ids.js';
import { evaluateStored } from '../../commands/recompute.js';
import type { CalendarSet } from '../../domain/clocks.js';
import type { Clock } from '../../domain/model.js';
import { personKeys, type PersonKey } from '../../privacy/keys.js';
import type { ContactRow, Customer, EventRow } from '../contacts.js';

/** One contact's rows, built in memory; nothing stored yet. */
export interface ContactRows {
  row: ContactRow;
  events: EventRow[];
  clocks: Clock[];
  keys: PersonKey[];
  /** The audit entry's detail: ids and kinds only, never the customer's details. */
  audit: { contactId: string; channel: string; route: string; category: string; events: string[] };
}

/**
 * The rows of a new contact, as `createContact` makes them: a time-ordered id, the events in arrival
 * order less repeated event ids, the clocks and derived fields (category, assignee, callback) from
 * the engine. Throws what the engine throws (a rule error), before anything is written.
 */
export function contactRows(c: CreateContactInput, calendars: CalendarSet): ContactRows {
  const now = c.now;
  const row: ContactRow = {
    id: timeOrderedId(now),
    channel: c.channel,
    route: c.route,
    category: c.category,
    initialCategory: c.category,
    externalId: c.externalId,
    receivedAt: c.receivedAt,
    packFamily: c.packFamily,
    customer: c.customer,
    subject: c.subject,
    summary: c.summary,
    assignee: null,
    callback: false,
    contentHash: c.contentHash,
    source: c.source,
    createdAt: now,
    updatedAt: now,
  };
  const events: EventRow[] = [];
  const seen = new Set<string>();
  for (const e of c.events) {
    if (e.externalId !== undefined) {
      if (seen.has(e.externalId)) continue;
      seen.add(e.externalId);
    }
    events.push({ id: 0, contactId: row.id, seq: events.length, type: e.type, at: e.at, externalId: e.externalId ?? null, body: eventBody(e), receivedAt: now });
  }
  // evaluateStored reads only the calendars of its context (server/commands/recompute.ts).
  const { clocks, row: updated } = evaluateStored({ calendars } as CommandContext, row, events, now);
  return {
    row: updated,
    events,
    clocks,
    keys: personKeys(c.customer),
    audit: { contactId: row.id, channel: row.channel, route: row.route, category: row.category, events: events.map((e) => e.type) },
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
// JSON columns may be text or jsonb: node-postgres hands back a string for one, an object for the other.
const jsonOf = <T>(v: unknown): T | null => (v === null || v === undefined ? null : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** A `contacts` row as PostgreSQL returns it, as the SQLite store returns it. */
export function contactFromPg(r: Record<string, unknown>): ContactRow {
  return {
    id: r.id as string,
    channel: r.channel as string,
    route: r.route as string,
    category: r.category as string,
    initialCategory: r.initial_category as string,
    externalId: (r.external_id as string | null) ?? null,
    receivedAt: num(r.received_at),
    packFamily: r.pack_family as string,
    customer: jsonOf<Customer>(r.customer),
    subject: (r.subject as string | null) ?? null,
    summary: (r.summary as string | null) ?? null,
    assignee: (r.assignee as string | null) ?? null,
    callback: r.callback === true || r.callback === 1,
    contentHash: r.content_hash as string,
    source: jsonOf<Record<string, unknown>>(r.source),
    createdAt: num(r.created_at),
    updatedAt: numOrNull(r.updated_at) ?? num(r.created_at),
  };
}
