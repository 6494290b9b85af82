// Command: create a contact with its events and clocks (201), or recognise a replay of the same
// (channel, externalId) with the same content (200); the same key with other content is a conflict.
import { ConflictError, UnprocessableError } from '../errors.js';
import { parseContact } from '../domain/contact.js';
import type { ContactEvent } from '../domain/model.js';
import { packInForce } from '../domain/standards.js';
import { personKeys } from '../privacy/keys.js';
import type { ContactRow, Customer, EventRow } from '../store/contacts.js';
import { canonicalHash, eventBody } from './canonical.js';
import type { CommandContext, ContactChange } from './context.js';
import { timeOrderedId } from './ids.js';
import { evaluateStored } from './recompute.js';

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

/** The command as it crosses to the writer: validated, hashed, plain data. */
export interface CreateContactInput {
  now: number;
  packFamily: string;
  channel: string;
  route: string;
  category: string;
  externalId: string | null;
  receivedAt: number;
  events: ContactEvent[];
  customer: Customer | null;
  subject: string | null;
  summary: string | null;
  source: Record<string, unknown> | null;
  contentHash: string;
  /** Who sent it (an API token's name, a person's email, `public-form`): the audit trail's actor. */
  actor: string;
}

export type CreateContactOutput =
  | { created: true; row: ContactRow; events: EventRow[]; change: ContactChange }
  | { created: false; row: ContactRow };

/** Validates before queueing (bad input never reaches the transaction) and hashes the content. */
export function prepareCreateContact(input: ContactInput, o: { now: number; packFamily: string; maxEventsPerContact: number; actor: string }): CreateContactInput {
  const parsed = parseContact({ ...input, id: undefined });
  if (parsed.events.length > o.maxEventsPerContact) {
    throw new UnprocessableError('events', `has ${parsed.events.length} events; at most ${o.maxEventsPerContact} are kept per contact (KEPT_MAX_EVENTS_PER_CONTACT)`, 'too-many-events');
  }
  packInForce(o.packFamily, parsed.receivedAt);
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
  return {
    now: o.now,
    packFamily: o.packFamily,
    channel: parsed.channel,
    route: parsed.route,
    category: parsed.category,
    externalId: parsed.externalId ?? null,
    receivedAt: parsed.receivedAt,
    events: parsed.events,
    customer: input.customer ?? null,
    subject: input.subject ?? null,
    summary: input.summary ?? null,
    source: input.source ?? null,
    contentHash,
    actor: o.actor,
  };
}

export function createContact(ctx: CommandContext, c: CreateContactInput): CreateContactOutput {
  const now = c.now;
  if (c.externalId !== null) {
    const existing = ctx.contacts.byExternal(c.channel, c.externalId);
    if (existing !== undefined) {
      if (existing.contentHash !== c.contentHash) {
        throw new ConflictError(`a ${c.channel} contact with externalId "${c.externalId}" already exists with different content (id ${existing.id})`);
      }
      return { created: false, row: existing };
    }
  }
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
  const stored: Array<Omit<EventRow, 'id'>> = [];
  const seen = new Set<string>();
  for (const e of c.events) {
    if (e.externalId !== undefined) {
      if (seen.has(e.externalId)) continue;
      seen.add(e.externalId);
    }
    stored.push({ contactId: row.id, seq: stored.length, type: e.type, at: e.at, externalId: e.externalId ?? null, body: eventBody(e), receivedAt: now });
  }
  const events: EventRow[] = stored.map((e) => ({ ...e, id: 0 }));
  // Evaluated before anything is written, so the contact row goes in once, with its derived fields
  // (no UPDATE after), and its clocks are inserted (nothing to delete). A rule error writes nothing.
  const { clocks, row: updated } = evaluateStored(ctx, row, events, now);
  ctx.contacts.insertContact(updated);
  for (const e of stored) ctx.contacts.insertEvent(e);
  ctx.contacts.insertClocks(row.id, clocks, now, row.receivedAt);
  // Who opened it, in the same transaction: ids and kinds only, never the customer's details.
  ctx.audit.record(now, c.actor, 'contact.create', { contactId: row.id, channel: row.channel, route: row.route, category: row.category, events: stored.map((e) => e.type) });
  // The keys one person is found by (issue 17): written with the contact, in its transaction.
  ctx.privacy.insertKeys(row.id, personKeys(c.customer));
  return { created: true, row: updated, events, change: { contactId: row.id, contact: updated, clocks, at: now } };
}
