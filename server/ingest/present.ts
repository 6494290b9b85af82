// A contact as the API shows it: instants as ISO strings, events with their sequence numbers, and
// clocks judged as of now by the engine's rules (a stored status may be from the last write).
import type { CalendarSet } from '../domain/clocks.js';
import { clockAsOf } from '../domain/clocks.js';
import { clockToJson, type ClockJson } from '../domain/json.js';
import type { Clock } from '../domain/model.js';
import { formatInstant } from '../domain/time.js';
import { suggestHazard, type HazardSuggestion } from '../domain/packs/awaab.js';
import type { ContactRow, Customer, EventRow } from '../store/contacts.js';

export interface EventView extends Record<string, unknown> {
  type: string;
  at: string;
  seq: number;
}

export interface ContactView {
  id: string;
  channel: string;
  route: string;
  category: string;
  externalId: string | null;
  receivedAt: string;
  customer: Customer | null;
  subject: string | null;
  summary: string | null;
  assignee: string | null;
  callback: boolean;
  source: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  events: EventView[];
  clocks: ClockJson[];
  /**
   * Awaab's Law: a hazard the contact's words suggest (damp, mould, gas…), for an advisor to confirm
   * (action `confirm-hazard`). Only a suggestion: it starts no clock. Null once the contact is a hazard.
   */
  hazardSuggestion: HazardSuggestion | null;
}

// formatInstant: the same text as toISOString, without a Date per call (a page of 100 views formats ~600 instants).
const iso = formatInstant;

export function eventView(e: EventRow): EventView {
  return { ...e.body, type: e.type, at: iso(e.at), seq: e.seq };
}

export function contactView(row: ContactRow, events: EventRow[], clocks: Clock[], calendars: CalendarSet, now: number): ContactView {
  return {
    id: row.id,
    channel: row.channel,
    route: row.route,
    category: row.category,
    externalId: row.externalId,
    receivedAt: iso(row.receivedAt),
    customer: row.customer,
    subject: row.subject,
    summary: row.summary,
    assignee: row.assignee,
    callback: row.callback,
    source: row.source,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    events: events.map(eventView),
    clocks: clocks.map((c) => clockToJson(clockAsOf(c, calendars, now))),
    // Once an advisor has judged it (confirmed: the category is a hazard; dismissed: hazard-dismissed), no suggestion.
    hazardSuggestion: events.some((e) => e.type === 'hazard-dismissed') ? null : suggestHazard(row, [row.subject, row.summary].filter((t) => t !== null).join('\n')),
  };
}
