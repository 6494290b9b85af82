// Telephony: a platform's call events, keyed by call id, translated into phone (and voicemail)
// contacts and their events. One event or a batch; a batch is checked whole before anything is written.
import { ContactError } from '../domain/model.js';
import { parseFieldPath } from '../errors.js';
import { InstantError, parseInstant } from '../domain/time.js';
import type { ContactInput, ContactView, IngestService } from './service.js';
import { NotFoundError } from './service.js';

export const CALL_EVENTS = ['queued', 'answered', 'abandoned', 'callback-requested', 'callback-connected', 'voicemail-left'] as const;
export type CallEventType = (typeof CALL_EVENTS)[number];
export const QUEUES = ['customer-services', 'out-of-hours'] as const;

export interface CallEvent {
  callId: string;
  event: CallEventType;
  at: string;
  eventId?: string;
  caller?: { number?: string; name?: string };
  queue?: (typeof QUEUES)[number];
  category?: string;
  agent?: string;
  recordingUrl?: string;
  durationSeconds?: number;
}

/** What happened to one posted event, in the order posted. */
export interface CallEventResult {
  callId: string;
  event: CallEventType;
  contactId: string;
  /** created: opened a contact; replayed: that contact already existed; added: a new event; duplicate: an event already stored. */
  outcome: 'created' | 'replayed' | 'added' | 'duplicate';
}

export interface CallBatchResult {
  created: boolean;
  /** Every contact the batch touched, in order of first mention, as it stands after the batch. */
  contacts: ContactView[];
  results: CallEventResult[];
}

/** An event for a call Kept has never seen queued: 404 naming the field. */
export class UnknownCallError extends NotFoundError {
  constructor(field: string, callId: string) {
    super(`${field}: no queued call "${callId}" (send its queued event first, or the call's events together in one array)`, field, 'unknown-call');
  }
}

const OPENING = new Set<CallEventType>(['queued', 'voicemail-left']);

/** The phone contact's externalId is the call id; a voicemail left on that call gets its own contact. */
export const voicemailKey = (callId: string) => `${callId}:voicemail`;

function customerOf(e: CallEvent): ContactInput['customer'] {
  const name = e.caller?.name?.trim();
  const number = e.caller?.number?.trim();
  if (!name && !number) return undefined;
  return { ...(name ? { name } : {}), ...(number ? { phone: number } : {}) };
}

function openingInput(e: CallEvent): ContactInput {
  const voicemail = e.event === 'voicemail-left';
  const queue = e.queue ?? 'customer-services';
  const customer = customerOf(e);
  return {
    channel: voicemail ? 'voicemail' : 'phone',
    route: queue,
    externalId: voicemail ? voicemailKey(e.callId) : e.callId,
    receivedAt: e.at,
    ...(e.category !== undefined ? { category: e.category } : {}),
    ...(customer ? { customer } : {}),
    ...(voicemail ? { subject: customer?.name ? `Voicemail from ${customer.name}` : 'Voicemail' } : {}),
    source: {
      callId: e.callId,
      queue,
      ...(e.recordingUrl !== undefined ? { recordingUrl: e.recordingUrl } : {}),
      ...(e.durationSeconds !== undefined ? { durationSeconds: e.durationSeconds } : {}),
    },
  };
}

/** `events[3].at` (the service's name for the 4th event it was handed) → the caller's field. */
const CALLER_FIELD: Record<string, string> = { at: 'at', assignee: 'agent', externalId: 'eventId', type: 'event' };

/**
 * Applies call events. Everything that can be checked without writing is checked first for the
 * whole batch (timestamps, unknown calls, events before their call was queued), so a bad batch
 * stores nothing. Then the contacts are opened (queued, voicemail-left) and each call's other
 * events are added in one transaction per call. The clocks do not depend on arrival order.
 *
 * `single`: the body was one object, so fields are named `at`, not `[0].at`.
 */
export async function applyCallEvents(service: IngestService, events: CallEvent[], single: boolean): Promise<CallBatchResult> {
  const name = (i: number, f: string) => (single ? f : `[${i}].${f}`);

  // 1. Check every event without writing.
  const ats = events.map((e, i) => {
    try {
      return parseInstant(e.at);
    } catch (err) {
      if (err instanceof InstantError) throw new ContactError(name(i, 'at'), err.message);
      throw err;
    }
  });
  const queuedInBatch = new Map<string, number>(); // callId → the first queued's instant
  events.forEach((e, i) => {
    if (e.event === 'queued' && !queuedInBatch.has(e.callId)) queuedInBatch.set(e.callId, ats[i]!);
  });
  const callContact = new Map<string, { id: string; receivedAt: number } | null>();
  events.forEach((e, i) => {
    if (OPENING.has(e.event)) return;
    if (!callContact.has(e.callId)) {
      const row = service.contacts.byExternal('phone', e.callId);
      callContact.set(e.callId, row === undefined ? null : { id: row.id, receivedAt: row.receivedAt });
    }
    const stored = callContact.get(e.callId);
    const queuedAt = stored ? stored.receivedAt : queuedInBatch.get(e.callId);
    if (queuedAt === undefined) throw new UnknownCallError(name(i, 'callId'), e.callId);
    if (ats[i]! < queuedAt) {
      throw new ContactError(name(i, 'at'), `${new Date(ats[i]!).toISOString()} is before call "${e.callId}" was queued (${new Date(queuedAt).toISOString()})`);
    }
  });

  // 2. Open contacts, in the order posted.
  const results: Array<CallEventResult | undefined> = new Array(events.length);
  const firstMention = new Map<string, number>(); // contactId → index
  const touched = (id: string, i: number) => {
    if (!firstMention.has(id) || firstMention.get(id)! > i) firstMention.set(id, i);
  };
  let created = false;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!OPENING.has(e.event)) continue;
    let r: Awaited<ReturnType<IngestService['createContact']>>;
    try {
      r = await service.createContact(openingInput(e));
    } catch (err) {
      if (err instanceof ContactError) throw err.at(parseFieldPath(name(i, err.field === 'receivedAt' ? 'at' : err.field)));
      throw err;
    }
    created ||= r.created;
    if (e.event === 'queued' && !callContact.get(e.callId)) callContact.set(e.callId, { id: r.contact.id, receivedAt: ats[i]! });
    results[i] = { callId: e.callId, event: e.event, contactId: r.contact.id, outcome: r.created ? 'created' : 'replayed' };
    touched(r.contact.id, i);
  }

  // 3. Each call's other events, in one write per call.
  const byCall = new Map<string, number[]>();
  events.forEach((e, i) => {
    if (OPENING.has(e.event)) return;
    byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), i]);
  });
  for (const [callId, indexes] of byCall) {
    const contactId = callContact.get(callId)!.id;
    const raw: Array<Record<string, unknown>> = [];
    const origin: number[] = []; // raw[k] came from events[origin[k]]
    const seen = new Set<string>();
    for (const i of indexes) {
      const e = events[i]!;
      const at = new Date(ats[i]!).toISOString();
      // The event's key: the platform's id, else call + event + instant (so a replayed log is a no-op).
      const key = e.eventId ?? `${callId}:${e.event}:${at}`;
      const duplicate = seen.has(key) || service.contacts.eventByExternal(contactId, key) !== undefined;
      seen.add(key);
      results[i] = { callId, event: e.event, contactId, outcome: duplicate ? 'duplicate' : 'added' };
      raw.push({ type: e.event, at: e.at, externalId: key });
      origin.push(i);
      if (e.event === 'answered' && e.agent !== undefined && e.agent.trim() !== '') {
        raw.push({ type: 'assigned', assignee: e.agent.trim(), at: e.at, externalId: `${key}:assigned` });
        origin.push(i);
      }
    }
    try {
      await service.addEvents(contactId, raw);
    } catch (err) {
      // The service names `event.at` or `events[k].at`: back to the caller's own `[i].at` by the structured path.
      if (err instanceof ContactError) {
        const [head, second, third] = err.path;
        const k = head === 'events' && typeof second === 'number' ? second : head === 'event' ? 0 : undefined;
        const key = head === 'events' ? third : second;
        if (k !== undefined && typeof key === 'string') {
          const i = origin[k] ?? indexes[0]!;
          throw err.at(parseFieldPath(name(i, CALLER_FIELD[key] ?? key)));
        }
      }
      throw err;
    }
    touched(contactId, indexes[0]!);
  }

  const order = [...firstMention.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  return {
    created,
    contacts: order.map((id) => service.view(id)!),
    results: results as CallEventResult[],
  };
}
