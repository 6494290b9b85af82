// Telephony: a platform's call events, keyed by call id, translated into phone (and voicemail)
// contacts and their events. One event or a batch; a batch is checked whole before anything is written.
// An event for a call Kept has not seen start is held in the database (bounded) until the start
// arrives (issue 13); `ended` carries talk and wrap-up time to the call ledger (handle time, staffing).
import { ContactError } from '../domain/model.js';
import { parseFieldPath } from '../errors.js';
import { InstantError, parseInstant } from '../domain/time.js';
import type { LedgerFacts } from '../store/telephony.js';
import { QueueSet, type KeptQueue } from './queues.js';
import type { ContactInput, ContactView, IngestService } from './service.js';
import { NotFoundError } from './service.js';

export const CALL_EVENTS = ['queued', 'answered', 'abandoned', 'callback-requested', 'callback-connected', 'voicemail-left', 'ended'] as const;
export type CallEventType = (typeof CALL_EVENTS)[number];
/** The queues every Kept knows (more are configured: KEPT_PHONE_QUEUES). */
export const QUEUES = ['customer-services', 'out-of-hours'] as const;

export interface CallEvent {
  callId: string;
  event: CallEventType;
  at: string;
  eventId?: string;
  caller?: { number?: string; name?: string };
  /** A Kept queue id (built in or configured); another value goes to the default queue and is listed for an admin. */
  queue?: string;
  category?: string;
  agent?: string;
  recordingUrl?: string;
  durationSeconds?: number;
  /** ended: time talking with the caller and in wrap-up afterwards (handle time = talk + wrap-up). */
  talkSeconds?: number;
  wrapSeconds?: number;
  /** Set by the native adapters: the platform and its own queue key, kept in the contact's source. */
  platform?: string;
  platformQueue?: string;
  /** Set by the native adapters: the call this one calls back (Amazon Connect's relatedContactId…), kept in the source. */
  relatedCallId?: string;
}

/** What happened to one posted event, in the order posted. */
export interface CallEventResult {
  callId: string;
  event: CallEventType;
  /** Absent while held, or for an `ended` of a call Kept holds no contact for. */
  contactId?: string;
  /**
   * created: opened a contact; replayed: that contact already existed; added: a new event; duplicate:
   * an event already stored; held: kept until the call's start arrives; recorded: handle time noted.
   */
  outcome: 'created' | 'replayed' | 'added' | 'duplicate' | 'held' | 'recorded';
}

export interface CallBatchResult {
  created: boolean;
  /** Every contact the batch touched, in order of first mention, as it stands after the batch. */
  contacts: ContactView[];
  results: CallEventResult[];
  /** Events held for a call not yet started. */
  held: number;
}

/** An event for a call Kept has never seen queued: 404 naming the field (only when holding is off). */
export class UnknownCallError extends NotFoundError {
  constructor(field: string, callId: string) {
    super(`${field}: no queued call "${callId}" (send its queued event first, or the call's events together in one array)`, field, 'unknown-call');
  }
}

export interface CallOptions {
  queues: QueueSet;
  /** Hold events for calls not yet started (bounded), instead of a 404. */
  hold?: { max: number; days: number };
  /** Native adapters: a start for a call Kept already holds is a replay, whatever it carries (each callback rebuilds it). */
  platform?: string;
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

function openingInput(e: CallEvent, q: KeptQueue): ContactInput {
  const voicemail = e.event === 'voicemail-left';
  const queue = q.id;
  const customer = customerOf(e);
  const category = e.category ?? (q.category !== 'general' ? q.category : undefined);
  return {
    channel: voicemail ? 'voicemail' : 'phone',
    route: q.route,
    externalId: voicemail ? voicemailKey(e.callId) : e.callId,
    receivedAt: e.at,
    ...(category !== undefined ? { category } : {}),
    ...(customer ? { customer } : {}),
    ...(voicemail ? { subject: customer?.name ? `Voicemail from ${customer.name}` : 'Voicemail' } : {}),
    source: {
      callId: e.callId,
      queue,
      ...(e.platform !== undefined ? { platform: e.platform } : {}),
      ...(e.platformQueue !== undefined ? { platformQueue: e.platformQueue } : {}),
      ...(e.relatedCallId !== undefined ? { relatedCallId: e.relatedCallId } : {}),
      ...(e.recordingUrl !== undefined ? { recordingUrl: e.recordingUrl } : {}),
      ...(e.durationSeconds !== undefined ? { durationSeconds: e.durationSeconds } : {}),
    },
  };
}

/** `events[3].at` (the service's name for the 4th event it was handed) → the caller's field. */
const CALLER_FIELD: Record<string, string> = { at: 'at', assignee: 'agent', externalId: 'eventId', type: 'event' };

/** The ledger's facts from one event (handle time and staffing read the ledger, not the events). */
function ledgerFacts(e: CallEvent, at: number, queue: string | undefined): LedgerFacts | undefined {
  const agent = e.agent?.trim() || undefined;
  switch (e.event) {
    case 'queued':
      return { callId: e.callId, offeredAt: at, ...(queue !== undefined ? { queue } : {}) };
    case 'answered':
    case 'callback-connected':
      return { callId: e.callId, answeredAt: at, ...(agent ? { agent } : {}) };
    case 'abandoned':
      return { callId: e.callId, abandonedAt: at };
    case 'ended':
      return {
        callId: e.callId,
        endedAt: at,
        ...(agent ? { agent } : {}),
        ...(e.talkSeconds !== undefined ? { talkMs: Math.round(e.talkSeconds * 1000) } : {}),
        ...(e.wrapSeconds !== undefined ? { wrapMs: Math.round(e.wrapSeconds * 1000) } : {}),
      };
    default:
      return undefined;
  }
}

/** The event's key: the platform's id, else call + event + instant (so a replayed log is a no-op). */
const eventKey = (e: CallEvent, at: number) => e.eventId ?? `${e.callId}:${e.event}:${new Date(at).toISOString()}`;

/**
 * Applies call events. Everything that can be checked without writing is checked first for the
 * whole batch (timestamps, events before their call was queued), so a bad batch stores nothing.
 * Events for a call Kept has not seen start are held (`options.hold`) or refused with 404. Then
 * the contacts are opened (queued, voicemail-left) with any events held for them, and each call's
 * other events are added in one transaction per call. The clocks do not depend on arrival order.
 *
 * `single`: the body was one object, so fields are named `at`, not `[0].at`.
 */
export async function applyCallEvents(service: IngestService, posted: CallEvent[], single: boolean, options: CallOptions): Promise<CallBatchResult> {
  const name = (i: number, f: string) => (single ? f : `[${i}].${f}`);
  const parse = (e: CallEvent, i: number) => {
    try {
      return parseInstant(e.at);
    } catch (err) {
      if (err instanceof InstantError) throw new ContactError(name(i, 'at'), err.message);
      throw err;
    }
  };

  // 1. Check every posted event without writing; resolve queues.
  const postedAts = posted.map(parse);
  const unknownQueues: Array<{ platform: string; queueKey: string }> = [];
  const queueOf = posted.map((e) => {
    if (!OPENING.has(e.event)) return undefined;
    const r = e.platformQueue !== undefined ? options.queues.resolve(e.platformQueue) : options.queues.resolve(e.queue);
    if (!r.known && r.key !== undefined) unknownQueues.push({ platform: e.platform ?? options.platform ?? 'kept', queueKey: r.key });
    return r.queue;
  });

  // Events held earlier for the calls this batch starts join the batch (after the posted ones).
  const startsHere = new Set(posted.filter((e) => e.event === 'queued').map((e) => e.callId));
  const released: string[] = [];
  const events = [...posted];
  const ats = [...postedAts];
  if (options.hold !== undefined) {
    const starts = [...startsHere];
    const heldOf = await Promise.all(starts.map((callId) => service.telephony.held(callId)));
    for (const [k, callId] of starts.entries()) {
      const held = heldOf[k]!;
      if (held.length === 0) continue;
      released.push(callId);
      for (const h of held) {
        const e = h.event as CallEvent;
        events.push(e);
        ats.push(parseInstant(e.at));
      }
    }
  }
  const fromPost = (i: number) => i < posted.length;

  const queuedInBatch = new Map<string, number>(); // callId → the first queued's instant
  events.forEach((e, i) => {
    if (e.event === 'queued' && !queuedInBatch.has(e.callId)) queuedInBatch.set(e.callId, ats[i]!);
  });
  // The stored contact of every call the batch names (a voicemail opens one of its own, so is not
  // looked up), read together before anything is written; the contacts step 2 opens join the map.
  const callContact = new Map<string, { id: string; receivedAt: number } | null>();
  const calls = [...new Set(events.filter((e) => e.event !== 'voicemail-left').map((e) => e.callId))];
  const rows = await Promise.all(calls.map((callId) => service.contacts.byExternal('phone', callId)));
  calls.forEach((callId, k) => {
    const row = rows[k];
    callContact.set(callId, row === undefined ? null : { id: row.id, receivedAt: row.receivedAt });
  });
  const stored = (callId: string) => callContact.get(callId) ?? undefined;
  const toHold: number[] = [];
  const skip = new Set<number>(); // held, or an `ended` (the ledger only)
  events.forEach((e, i) => {
    if (OPENING.has(e.event)) return;
    const s = stored(e.callId);
    const queuedAt = s ? s.receivedAt : queuedInBatch.get(e.callId);
    if (e.event === 'ended') {
      skip.add(i);
      return;
    }
    if (queuedAt === undefined) {
      if (options.hold === undefined) throw new UnknownCallError(name(i, 'callId'), e.callId);
      toHold.push(i);
      skip.add(i);
      return;
    }
    if (ats[i]! < queuedAt) {
      if (!fromPost(i)) {
        skip.add(i); // a held event from before its call's start: nothing to do with it
        return;
      }
      throw new ContactError(name(i, 'at'), `${new Date(ats[i]!).toISOString()} is before call "${e.callId}" was queued (${new Date(queuedAt).toISOString()})`);
    }
  });

  const results: Array<CallEventResult | undefined> = new Array(events.length);
  let held = 0;
  if (toHold.length > 0) {
    const out = await service.telephonyFacts({
      hold: toHold.map((i) => ({ callId: events[i]!.callId, eventKey: eventKey(events[i]!, ats[i]!), event: events[i]! })),
      maxHeld: options.hold!.max,
      expireBefore: service.now() - options.hold!.days * 86_400_000,
    });
    held = out.held;
    for (const i of toHold) results[i] = { callId: events[i]!.callId, event: events[i]!.event, outcome: 'held' };
  }

  // 2. Open contacts, in the order posted.
  const firstMention = new Map<string, number>(); // contactId → index
  const touched = (id: string, i: number) => {
    if (!firstMention.has(id) || firstMention.get(id)! > i) firstMention.set(id, i);
  };
  let created = false;
  for (let i = 0; i < posted.length; i++) {
    const e = events[i]!;
    if (!OPENING.has(e.event)) continue;
    const known = e.event === 'queued' ? stored(e.callId) : undefined;
    if (options.platform !== undefined && known) {
      // A platform rebuilds the start from each callback: the stored contact stands.
      results[i] = { callId: e.callId, event: e.event, contactId: known.id, outcome: 'replayed' };
      touched(known.id, i);
      continue;
    }
    let r: Awaited<ReturnType<IngestService['createContact']>>;
    try {
      r = await service.createContact(openingInput(e, queueOf[i]!));
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
    if (OPENING.has(e.event) || skip.has(i)) return;
    byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), i]);
  });
  for (const [callId, indexes] of byCall) {
    const contactId = callContact.get(callId)!.id;
    const raw: Array<Record<string, unknown>> = [];
    const origin: number[] = []; // raw[k] came from events[origin[k]]
    const seen = new Set<string>();
    const keys = indexes.map((i) => eventKey(events[i]!, ats[i]!));
    const distinct = [...new Set(keys)];
    const found = await Promise.all(distinct.map((key) => service.contacts.eventByExternal(contactId, key)));
    const storedKeys = new Set(distinct.filter((_, k) => found[k] !== undefined));
    for (const [n, i] of indexes.entries()) {
      const e = events[i]!;
      const key = keys[n]!;
      const duplicate = seen.has(key) || storedKeys.has(key);
      seen.add(key);
      results[i] = { callId, event: e.event, contactId, outcome: duplicate ? 'duplicate' : 'added' };
      raw.push({ type: e.event, at: e.at, externalId: key });
      origin.push(i);
      if ((e.event === 'answered' || e.event === 'callback-connected') && e.agent !== undefined && e.agent.trim() !== '') {
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
    if (indexes.some(fromPost)) touched(contactId, indexes.find(fromPost)!);
  }
  for (let i = 0; i < posted.length; i++) {
    const e = events[i]!;
    if (e.event !== 'ended') continue;
    const s = stored(e.callId);
    results[i] = { callId: e.callId, event: e.event, ...(s ? { contactId: s.id } : {}), outcome: 'recorded' };
  }

  // 4. The ledger (handle time, staffing), released holds and unmapped queues: one write.
  const ledger = posted.flatMap((e, i) => ledgerFacts(e, postedAts[i]!, queueOf[i]?.id) ?? []);
  if (ledger.length > 0 || released.length > 0 || unknownQueues.length > 0) await service.telephonyFacts({ ledger, release: released, unknownQueues });

  // 5. Two requests may cross: this one held an event while another was opening its call, or this
  // one opened a call while another was holding an event for it. Each looks again after its own
  // commit, so whichever commits last applies what the other left held.
  if (options.hold !== undefined) {
    const look = new Set([...startsHere, ...toHold.map((i) => events[i]!.callId)]);
    for (const callId of look) {
      const drained = await drainHeld(service, callId, options);
      if (drained !== undefined) touched(drained, posted.length);
    }
  }

  const order = [...firstMention.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  return {
    created,
    // Every contact touched, in that order, in one read each of rows, events and clocks (byIds keeps the order).
    contacts: await service.views(await service.contacts.byIds(order)),
    results: results.slice(0, posted.length) as CallEventResult[],
    held,
  };
}

/** Applies and releases what is still held for a call Kept now holds; returns its contact id, if anything was applied. */
export async function drainHeld(service: IngestService, callId: string, options: CallOptions): Promise<string | undefined> {
  const row = await service.contacts.byExternal('phone', callId);
  if (row === undefined) return undefined;
  const held = await service.telephony.held(callId);
  if (held.length === 0) return undefined;
  try {
    await applyCallEvents(service, held.map((h) => h.event as CallEvent), false, { queues: options.queues, ...(options.platform !== undefined ? { platform: options.platform } : {}) });
  } catch (e) {
    // A held event Kept cannot apply (timed before its call's start…) is dropped with the rest: it was accepted as held.
    if (!(e instanceof ContactError)) throw e;
  }
  await service.telephonyFacts({ release: [callId] });
  return row.id;
}
