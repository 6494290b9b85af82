// What the native telephony adapters (Twilio, Amazon Connect, Genesys Cloud) share: a platform's
// delivery becomes Kept call events, things recognised and left alone (outbound calls, transfers,
// events that say nothing about the queue), and advisors' states.
import { ValidationError } from '../errors.js';
import type { AdvisorStateRow } from '../store/telephony.js';
import type { CallEvent } from './telephony.js';

export const ADVISOR_STATES = ['available', 'on-call', 'wrap-up', 'away'] as const;
export type AdvisorState = (typeof ADVISOR_STATES)[number];

export interface Translation {
  events: CallEvent[];
  /** What was recognised and deliberately not acted on, with why (`outbound`, `transfer`, `no queue`…). */
  ignored: Array<{ what: string; reason: string }>;
  advisorStates: AdvisorStateRow[];
}

export const emptyTranslation = (): Translation => ({ events: [], ignored: [], advisorStates: [] });

/** Milliseconds since 1970 → ISO-8601 (Z); a value outside 2000–2199 is a 400 naming the field. */
export function isoFromMs(ms: number, field: string): string {
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || ms >= Date.UTC(2200, 0, 1)) throw new ValidationError(field, `${ms} is not a time Kept supports (2000–2199)`);
  return new Date(ms).toISOString();
}

/** An ISO-8601 instant with an offset, or RFC 2822 ("Mon, 02 Mar 2026 10:05:00 +0000"), → ISO-8601 (Z). */
export function isoFromText(text: unknown, field: string): string {
  if (typeof text !== 'string' || text.trim() === '') throw new ValidationError(field, 'is required');
  const t = text.trim();
  const rfc2822 = /^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|GMT|UT|Z)$/.test(t);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(t);
  if (!rfc2822 && !iso) throw new ValidationError(field, `"${t.slice(0, 60)}" is not a time with an offset (ISO-8601 or RFC 2822)`);
  return isoFromMs(Date.parse(t), field);
}

/** The last part of an ARN or path (an agent's or queue's id). */
export const lastPart = (s: string) => s.slice(s.lastIndexOf('/') + 1);
