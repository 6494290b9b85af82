// Command: append events to a contact (any order; idempotent on externalId) and recompute its clocks.
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { parseEvent } from '../domain/contact.js';
import { ContactError, type ContactEvent } from '../domain/model.js';
import type { ContactRow, EventRow } from '../store/contacts.js';
import { canonicalHash, eventBody } from './canonical.js';
import type { CommandContext, ContactChange } from './context.js';
import { recompute } from './recompute.js';

export interface AddEventsInput {
  now: number;
  contactId: string;
  /** Field-checked on the way in (parseEvent); the pack's rules are applied in the transaction. */
  events: ContactEvent[];
  /** Who sent them, for the audit trail; absent when a command that records its own entry (contact-action) adds them. */
  actor?: string;
}

export interface AddEventsOutput {
  added: number;
  change: ContactChange | null;
}

/** The caller names one event (`event`) or several (`events[i]`). */
const fieldOf = (count: number) => (count === 1 ? 'event' : 'events');

/** Field checks before queueing: the error names the caller's field. */
export function prepareAddEvents(contact: ContactRow, rawEvents: Array<Record<string, unknown>>, now: number): AddEventsInput {
  const events = rawEvents.map((e, i) => parseEvent(e, rawEvents.length === 1 ? 'event' : `events[${i}]`, i, contact.receivedAt));
  return { now, contactId: contact.id, events };
}

/**
 * The events of `c` to store, numbered from `seq`: an event whose externalId is stored already
 * (`stored`) or came earlier in this batch is skipped when its content is the same, and is a
 * ConflictError when it differs. Pure: both databases decide replays by it (PostgreSQL under the
 * contact's row lock, with the unique index behind it).
 */
export function eventsToAdd(c: AddEventsInput, seq: number, stored: (externalId: string) => Pick<EventRow, 'body'> | undefined): Array<Omit<EventRow, 'id'>> {
  const fresh: Array<Omit<EventRow, 'id'>> = [];
  const batch = new Map<string, Omit<EventRow, 'id'>>();
  for (const e of c.events) {
    const body = eventBody(e);
    if (e.externalId !== undefined) {
      const existing = stored(e.externalId) ?? batch.get(e.externalId);
      if (existing !== undefined) {
        if (canonicalHash(existing.body) !== canonicalHash(body)) {
          throw new ConflictError(`event externalId "${e.externalId}" was already received with different content`);
        }
        continue;
      }
    }
    const row = { contactId: c.contactId, seq: seq + fresh.length, type: e.type, at: e.at, externalId: e.externalId ?? null, body, receivedAt: c.now };
    fresh.push(row);
    if (e.externalId !== undefined) batch.set(e.externalId, row);
  }
  return fresh;
}

/** Past the cap (`count`: the contact's events with the new ones) the command fails and nothing is kept. */
export function checkEventCap(c: AddEventsInput, count: number, maxEventsPerContact: number): void {
  if (count <= maxEventsPerContact) return;
  throw new UnprocessableError(
    fieldOf(c.events.length),
    `contact "${c.contactId}" would hold ${count} events; at most ${maxEventsPerContact} are kept per contact (KEPT_MAX_EVENTS_PER_CONTACT): open a new contact for new work`,
    'too-many-events',
  );
}

/** The audit entry's detail: the contact and the kinds of the events added (never their words). */
export function eventsAudit(contactId: string, added: ReadonlyArray<Pick<EventRow, 'type'>>): Record<string, unknown> {
  return { contactId, events: added.map((e) => e.type) };
}

/** An engine error on the stored events renamed to the caller's field (`firstNew`: the first new event's seq). */
export function callerError(e: unknown, c: AddEventsInput, firstNew: number): unknown {
  if (e instanceof ContactError && e.path[0] === 'events' && typeof e.path[1] === 'number') {
    const index = e.path[1] - firstNew;
    if (index >= 0) return e.at(c.events.length === 1 ? ['event', ...e.path.slice(2)] : ['events', index, ...e.path.slice(2)]);
  }
  return e;
}

export function addEvents(ctx: CommandContext, c: AddEventsInput): AddEventsOutput {
  const { now, contactId } = c;
  const row = ctx.contacts.byId(contactId);
  if (row === undefined) throw new NotFoundError(`no contact with id "${contactId}"`);
  const first = ctx.contacts.nextSeq(contactId);
  const fresh = eventsToAdd(c, first, (externalId) => ctx.contacts.eventByExternal(contactId, externalId));
  if (fresh.length === 0) return { added: 0, change: null };
  for (const e of fresh) ctx.contacts.insertEvent(e);
  // The savepoint rolls this command back past the cap.
  checkEventCap(c, first + fresh.length, ctx.maxEventsPerContact);
  const all = ctx.contacts.events(contactId);
  if (c.actor !== undefined) ctx.audit.record(now, c.actor, 'contact.events', eventsAudit(contactId, fresh));
  try {
    const { clocks, row: updated } = recompute(ctx, row, all, now);
    return { added: fresh.length, change: { contactId, contact: updated, clocks, at: now } };
  } catch (e) {
    // Name the caller's field, not the stored position.
    throw callerError(e, c, first);
  }
}
