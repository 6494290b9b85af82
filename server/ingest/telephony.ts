// Telephony: call events keyed by call id, translated into phone (and voicemail) contacts.
import { ContactError } from '../domain/model.js';
import type { ContactInput, ContactView, IngestService } from './service.js';
import { NotFoundError } from './service.js';

export const CALL_EVENTS = ['queued', 'answered', 'abandoned', 'callback-requested', 'callback-connected', 'voicemail-left'] as const;
export type CallEventType = (typeof CALL_EVENTS)[number];

export interface CallEvent {
  callId: string;
  event: CallEventType;
  at: string;
  eventId?: string;
  caller?: { number?: string; name?: string };
  queue?: 'customer-services' | 'out-of-hours';
  category?: string;
  agent?: string;
}

/** Applies one call event; returns the contact it touched and whether it was created. */
export async function applyCallEvent(service: IngestService, e: CallEvent, index: number): Promise<{ created: boolean; contact: ContactView }> {
  const field = (f: string) => (index < 0 ? f : `[${index}].${f}`);
  const customer = e.caller ? { ...(e.caller.name ? { name: e.caller.name } : {}), ...(e.caller.number ? { phone: e.caller.number } : {}), preferredContact: 'phone' } : undefined;
  if (e.event === 'queued' || e.event === 'voicemail-left') {
    const voicemail = e.event === 'voicemail-left';
    const input: ContactInput = {
      channel: voicemail ? 'voicemail' : 'phone',
      route: e.queue ?? 'customer-services',
      externalId: voicemail ? `${e.callId}:voicemail` : e.callId,
      receivedAt: e.at,
      ...(e.category ? { category: e.category } : {}),
      ...(customer ? { customer } : {}),
      ...(voicemail ? { subject: 'Voicemail' } : {}),
      source: { callId: e.callId, queue: e.queue ?? 'customer-services' },
    };
    return service.createContact(input);
  }
  const row = service.contacts.byExternal('phone', e.callId);
  if (row === undefined) throw new NotFoundError(`${field('callId')}: no queued call "${e.callId}" (send its queued event first)`);
  const key = e.eventId ?? `${e.callId}:${e.event}:${e.at}`;
  const events: Array<Record<string, unknown>> = [{ type: e.event, at: e.at, externalId: key }];
  if (e.event === 'answered' && e.agent) events.push({ type: 'assigned', assignee: e.agent, at: e.at, externalId: `${key}:assigned` });
  try {
    const r = await service.addEvents(row.id, events);
    return { created: false, contact: r.contact };
  } catch (err) {
    if (err instanceof ContactError) throw new ContactError(field(err.field.replace(/^events?(\[\d+\])?\./, '')), err.rule);
    throw err;
  }
}
