import {
  CANCEL_REASONS,
  CATEGORIES,
  CHANNELS,
  ContactError,
  EVENT_TYPES,
  ROUTES,
  type Category,
  type Channel,
  type Contact,
  type ContactEvent,
  type EventType,
  type Route,
} from './model.js';
import { InstantError, parseInstant } from './time.js';

const channelSet = new Set<string>(CHANNELS);
const routeSet = new Set<string>(ROUTES);
const categorySet = new Set<string>(CATEGORIES);
const eventTypeSet = new Set<string>(EVENT_TYPES);
const cancelReasonSet = new Set<string>(CANCEL_REASONS);

function instant(value: unknown, field: string): number {
  if (value === undefined || value === null) throw new ContactError(field, 'is required (an ISO-8601 timestamp with offset)');
  try {
    return parseInstant(value);
  } catch (e) {
    if (e instanceof InstantError) throw new ContactError(field, e.message);
    throw e;
  }
}

function oneOf<T extends string>(value: unknown, allowed: Set<string>, list: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.has(value)) {
    const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? 'undefined';
    throw new ContactError(field, `unknown value ${shown}; expected one of ${list.join(', ')}`);
  }
  return value as T;
}

function text(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new ContactError(field, 'is required (a non-empty string)');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') throw new ContactError(field, 'must be a non-empty string');
  if (value.length > 1000) throw new ContactError(field, 'must be at most 1000 characters');
  return value;
}

function idText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return text(value, field, false);
}

/** Validates one event; `seq` is its arrival order. Rules that need the pack are checked by the engine. */
export function parseEvent(raw: unknown, field: string, seq: number, receivedAt: number | null): ContactEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ContactError(field, 'must be an object');
  const r = raw as Record<string, unknown>;
  const type = oneOf<EventType>(r.type, eventTypeSet, EVENT_TYPES, `${field}.type`);
  const at = instant(r.at, `${field}.at`);
  if (receivedAt !== null && at < receivedAt) {
    throw new ContactError(`${field}.at`, `event at ${new Date(at).toISOString()} is before the contact's receivedAt ${new Date(receivedAt).toISOString()}`);
  }
  const event: ContactEvent = { type, at, seq };
  const externalId = idText(r.externalId, `${field}.externalId`);
  if (externalId !== undefined) event.externalId = externalId;
  const by = text(r.by, `${field}.by`, false);
  if (by !== undefined) event.by = by;
  switch (type) {
    case 'paused':
      event.clock = text(r.clock, `${field}.clock`, true)!;
      event.reason = text(r.reason, `${field}.reason`, true)!;
      break;
    case 'resumed':
      event.clock = text(r.clock, `${field}.clock`, true)!;
      if (r.reason !== undefined) event.reason = text(r.reason, `${field}.reason`, false)!;
      break;
    case 'extended':
      event.clock = text(r.clock, `${field}.clock`, true)!;
      event.until = instant(r.until, `${field}.until`);
      if (r.reason !== undefined) event.reason = text(r.reason, `${field}.reason`, false)!;
      break;
    case 'acknowledged':
      event.reference = text(r.reference, `${field}.reference`, true)!;
      event.owner = text(r.owner, `${field}.owner`, true)!;
      break;
    case 'recategorised':
      event.category = oneOf<Category>(r.category, categorySet, CATEGORIES, `${field}.category`);
      break;
    case 'undelivered':
      event.reference = text(r.reference, `${field}.reference`, true)!;
      if (r.reason !== undefined) event.reason = text(r.reason, `${field}.reason`, false)!;
      break;
    case 'automatic-mail':
      event.reason = text(r.reason, `${field}.reason`, true)!;
      break;
    case 'cancelled':
      event.reason = oneOf(r.reason, cancelReasonSet, CANCEL_REASONS, `${field}.reason`);
      break;
    case 'assigned':
      event.assignee = text(r.assignee ?? r.owner, `${field}.assignee`, true)!;
      break;
    case 'attended':
      if (r.appointmentArranged !== undefined) {
        if (typeof r.appointmentArranged !== 'boolean') throw new ContactError(`${field}.appointmentArranged`, 'must be true or false');
        event.appointmentArranged = r.appointmentArranged;
      }
      break;
    case 'investigation-concluded':
      for (const flag of ['safetyWork', 'furtherWork'] as const) {
        if (r[flag] === undefined) continue;
        if (typeof r[flag] !== 'boolean') throw new ContactError(`${field}.${flag}`, 'must be true or false');
        event[flag] = r[flag];
      }
      break;
    case 'hazard-dismissed':
      if (r.reason !== undefined) event.reason = text(r.reason, `${field}.reason`, false)!;
      break;
    case 'severity-raised':
      if (r.category !== undefined && r.category !== 'hazard-emergency') {
        throw new ContactError(`${field}.category`, 'severity-raised makes the contact hazard-emergency; leave category out or send "hazard-emergency"');
      }
      event.category = 'hazard-emergency';
      if (r.reason !== undefined) event.reason = text(r.reason, `${field}.reason`, false)!;
      break;
    default:
      break;
  }
  if (r.stage !== undefined) {
    if (r.stage !== 1 && r.stage !== 2) throw new ContactError(`${field}.stage`, 'must be 1 or 2');
    event.stage = r.stage;
  }
  return event;
}

/** Validates a contact in the JSON shape of STANDARDS §8. Throws ContactError naming the field. */
export function parseContact(raw: unknown, options: { requireId?: boolean } = {}): Contact {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ContactError('contact', 'must be a JSON object');
  const r = raw as Record<string, unknown>;
  const id = idText(r.id, 'id');
  if (options.requireId === true && id === undefined) throw new ContactError('id', 'is required');
  const channel = oneOf<Channel>(r.channel, channelSet, CHANNELS, 'channel');
  const route = r.route === undefined ? 'customer-services' : oneOf<Route>(r.route, routeSet, ROUTES, 'route');
  const category = r.category === undefined ? 'general' : oneOf<Category>(r.category, categorySet, CATEGORIES, 'category');
  const receivedAt = instant(r.receivedAt, 'receivedAt');
  const contact: Contact = { id: id ?? '', channel, route, category, receivedAt, events: [] };
  const externalId = idText(r.externalId, 'externalId');
  if (externalId !== undefined) contact.externalId = externalId;
  if (r.events !== undefined) {
    if (!Array.isArray(r.events)) throw new ContactError('events', 'must be an array');
    contact.events = r.events.map((e, i) => parseEvent(e, `events[${i}]`, i, receivedAt));
  }
  return contact;
}
