// A create-contact command turned into the rows it writes, before any SQL: the same rows as the
// SQLite command (server/commands/create-contact.ts), clocks by the same engine (`evaluateStored`),
// so the PostgreSQL writer can insert a whole flush of them set-based.
import type { CreateContactInput } from '../../commands/create-contact.js';
import { eventBody } from '../../commands/canonical.js';
import { timeOrderedId } from '../../commands/ids.js';
import { evaluateStored } from '../../commands/recompute.js';
import type { CalendarSet } from '../../domain/clocks.js';
import type { Clock } from '../../domain/model.js';
import { personKeys, type PersonKey } from '../../privacy/keys.js';
import type { ContactRow, EventRow } from '../contacts.js';

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
  const { clocks, row: updated } = evaluateStored({ calendars }, row, events, now);
  return {
    row: updated,
    events,
    clocks,
    keys: personKeys(c.customer),
    audit: { contactId: row.id, channel: row.channel, route: row.route, category: row.category, events: events.map((e) => e.type) },
  };
}
