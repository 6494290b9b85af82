// What anonymisation keeps and what it takes out (issue 17), as pure functions over stored rows.
// Kept: channel, route, category, every instant, the clocks, the outcome, who on the staff acted.
// Taken out: the customer (name, email, phone, address, tenancy reference, accessibility needs,
// vulnerability), the subject and summary, the free text of events (pause, resume and extension
// reasons), of alerts (notes, actions) and of the source (attachment names, recording links,
// message and platform ids).

/** 1: the messages removed (the summary schedule); 2: anonymised (every personal field). */
export type PrivacyLevel = 1 | 2;
export const MESSAGES: PrivacyLevel = 1;
export const ANONYMISED: PrivacyLevel = 2;

/** What replaces free text: the engine still sees a reason where one is required. */
export const REMOVED = 'removed';

/** Event types whose `reason` is free text (a cancellation's is one of a fixed list, kept). */
const FREE_TEXT_REASON = new Set(['paused', 'resumed', 'extended']);

/** The event's body with its free text replaced; null when nothing changes. */
export function scrubEventBody(type: string, body: Record<string, unknown>): Record<string, unknown> | null {
  if (!FREE_TEXT_REASON.has(type) || typeof body.reason !== 'string' || body.reason === REMOVED) return null;
  return { ...body, reason: REMOVED };
}

/** A clock's stored detail (JSON text) with its pauses' reasons replaced; null when nothing changes. */
export function scrubClockDetail(detail: string): string | null {
  const j = JSON.parse(detail) as { pauses?: Array<{ reason?: unknown }> };
  if (!Array.isArray(j.pauses) || !j.pauses.some((p) => typeof p.reason === 'string' && p.reason !== REMOVED && p.reason !== '')) return null;
  for (const p of j.pauses) if (typeof p.reason === 'string' && p.reason !== '') p.reason = REMOVED;
  return JSON.stringify(j);
}

/** Source facts that say nothing about the person: kept when a contact is anonymised. */
const NEUTRAL_SOURCE = new Set(['platform', 'kind', 'queue', 'form', 'durationSeconds', 'automatic', 'attachmentsNotListed']);
/** Source facts that are message content: taken out with the messages. */
const MESSAGE_SOURCE = new Set(['recordingUrl', 'attachments']);

/** The contact's source facts at a level: attachments become a count; null when nothing is left. */
export function scrubSource(source: Record<string, unknown> | null, level: PrivacyLevel): Record<string, unknown> | null {
  if (source === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source)) {
    if (k === 'attachments') {
      out.attachments = Array.isArray(v) ? v.length : typeof v === 'number' ? v : 0;
      continue;
    }
    if (level === ANONYMISED ? NEUTRAL_SOURCE.has(k) : !MESSAGE_SOURCE.has(k)) out[k] = v;
  }
  return Object.keys(out).length === 0 ? null : out;
}
