// Command: append events to a contact (any order; idempotent on externalId) and recompute its clocks.
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { parseEvent } from '../domain/contact.js';
import { ContactError, type ContactEvent } from '../domain/model.js';
import type { ContactRow } from '../store/contacts.js';
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

export function addEvents(ctx: CommandContext, c: AddEventsInput): AddEventsOutput {
  const { now, contactId } = c;
  const row = ctx.contacts.byId(contactId);
  if (row === undefined) throw new NotFoundError(`no contact with id "${contactId}"`);
  let seq = ctx.contacts.nextSeq(contactId);
  let added = 0;
  const batchKeys = new Set<string>();
  for (const e of c.events) {
    const body = eventBody(e);
    if (e.externalId !== undefined) {
      const existing = ctx.contacts.eventByExternal(contactId, e.externalId);
      if (existing !== undefined) {
        if (canonicalHash(existing.body) !== canonicalHash(body)) {
          throw new ConflictError(`event externalId "${e.externalId}" was already received with different content`);
        }
        continue;
      }
      if (batchKeys.has(e.externalId)) continue;
      batchKeys.add(e.externalId);
    }
    ctx.contacts.insertEvent({ contactId, seq: seq++, type: e.type, at: e.at, externalId: e.externalId ?? null, body, receivedAt: now });
    added++;
  }
  if (added === 0) return { added, change: null };
  // seq is now the contact's event count; past the cap the savepoint rolls this command back.
  if (seq > ctx.maxEventsPerContact) {
    throw new UnprocessableError(
      fieldOf(c.events.length),
      `contact "${contactId}" would hold ${seq} events; at most ${ctx.maxEventsPerContact} are kept per contact (KEPT_MAX_EVENTS_PER_CONTACT): open a new contact for new work`,
      'too-many-events',
    );
  }
  const all = ctx.contacts.events(contactId);
  if (c.actor !== undefined) ctx.audit.record(now, c.actor, 'contact.events', { contactId, events: all.slice(seq - added).map((e) => e.type) });
  try {
    const { clocks, row: updated } = recompute(ctx, row, all, now);
    return { added, change: { contactId, contact: updated, clocks, at: now } };
  } catch (e) {
    // Name the caller's field, not the stored position.
    if (e instanceof ContactError && e.path[0] === 'events' && typeof e.path[1] === 'number') {
      const index = e.path[1] - (seq - added);
      if (index >= 0) throw e.at(c.events.length === 1 ? ['event', ...e.path.slice(2)] : ['events', index, ...e.path.slice(2)]);
    }
    throw e;
  }
}
