// Clocks as JSON (STANDARDS §8): instants as ISO-8601 UTC with milliseconds.
import type { Clock } from './model.js';
import { formatInstant } from './time.js';

export interface ClockJson {
  standard: string;
  standardVersion: string;
  calendar: string;
  startedAt: string;
  dueAt: string | null;
  atRiskAt: string | null;
  status: string;
  fulfilledAt: string | null;
  endedAt: string | null;
  targetMs: number;
  countedMs: number;
  remainingMs: number;
  originalDueAt?: string | null;
  extendedUntil?: string;
  reason?: string;
  callback?: boolean;
  pauses?: Array<{ from: string; to: string | null; reason: string }>;
  beyondHolidayData?: boolean;
  notes?: string[];
}

const iso = formatInstant;
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function clockToJson(c: Clock): ClockJson {
  const out: ClockJson = {
    standard: c.standard,
    standardVersion: c.standardVersion,
    calendar: c.calendar,
    startedAt: iso(c.startedAt),
    dueAt: isoOrNull(c.dueAt),
    atRiskAt: isoOrNull(c.atRiskAt),
    status: c.status,
    fulfilledAt: isoOrNull(c.fulfilledAt),
    endedAt: isoOrNull(c.endedAt),
    targetMs: c.targetMs,
    countedMs: c.countedMs,
    remainingMs: c.remainingMs,
  };
  if (c.originalDueAt !== undefined) out.originalDueAt = isoOrNull(c.originalDueAt);
  if (c.extendedUntil !== undefined) out.extendedUntil = iso(c.extendedUntil);
  if (c.reason !== undefined) out.reason = c.reason;
  if (c.callback === true) out.callback = true;
  if (c.pauses !== undefined) out.pauses = c.pauses.map((p) => ({ from: iso(p.from), to: isoOrNull(p.to), reason: p.reason }));
  if (c.beyondHolidayData === true) out.beyondHolidayData = true;
  if (c.notes !== undefined) out.notes = c.notes;
  return out;
}

const q = (ms: number | null): string => (ms === null ? 'null' : `"${formatInstant(ms)}"`);

/** The same JSON text as JSON.stringify(clockToJson(c)), built directly: the evaluator's hot path. */
export function clockJsonText(c: Clock): string {
  let s =
    `{"standard":${JSON.stringify(c.standard)},"standardVersion":${JSON.stringify(c.standardVersion)},"calendar":${JSON.stringify(c.calendar)}` +
    `,"startedAt":${q(c.startedAt)},"dueAt":${q(c.dueAt)},"atRiskAt":${q(c.atRiskAt)},"status":"${c.status}"` +
    `,"fulfilledAt":${q(c.fulfilledAt)},"endedAt":${q(c.endedAt)},"targetMs":${c.targetMs},"countedMs":${c.countedMs},"remainingMs":${c.remainingMs}`;
  if (c.originalDueAt !== undefined || c.extendedUntil !== undefined || c.reason !== undefined || c.callback === true || c.pauses !== undefined || c.beyondHolidayData === true || c.notes !== undefined) {
    const full = JSON.stringify(clockToJson(c));
    return full;
  }
  s += '}';
  return s;
}
