// Contacts, events and clocks between PostgreSQL's rows and the store's shapes (server/store/contacts.ts):
// the same ContactRow, EventRow and ClockRow as SQLite gives, so both databases answer alike. Kept's
// pool reads int8 as numbers (db/pg/connection.ts); booleans come as booleans; JSON is kept as text.
import type { Clock } from '../../domain/model.js';
import { clockJsonText } from '../../domain/json.js';
import { clockFromJson, type ClockRow, type ContactRow, type Customer, type EventRow } from '../contacts.js';

export type PgRawContact = {
  id: string; channel: string; route: string; category: string; initial_category: string; external_id: string | null;
  received_at: number; pack_family: string; customer: string | null; subject: string | null; summary: string | null;
  assignee: string | null; callback: boolean; content_hash: string; source: string | null; created_at: number; updated_at: number;
};
export type PgRawEvent = { id: number; contact_id: string; seq: number; type: string; at: number; external_id: string | null; body: string; received_at: number };
export type PgRawClock = { contact_id: string; standard: string; status: string; open: boolean; due_at: number | null; at_risk_at: number | null; detail: string };

/** The columns a ClockRow is read from (never the whole row: the report's columns stay in the index). */
export const CLOCK_COLUMNS = 'contact_id, standard, status, open, due_at, at_risk_at, detail';

export function contactFromPg(r: PgRawContact): ContactRow {
  return {
    id: r.id,
    channel: r.channel,
    route: r.route,
    category: r.category,
    initialCategory: r.initial_category,
    externalId: r.external_id,
    receivedAt: r.received_at,
    packFamily: r.pack_family,
    customer: r.customer === null ? null : (JSON.parse(r.customer) as Customer),
    subject: r.subject,
    summary: r.summary,
    assignee: r.assignee,
    callback: r.callback,
    contentHash: r.content_hash,
    source: r.source === null ? null : (JSON.parse(r.source) as Record<string, unknown>),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function eventFromPg(r: PgRawEvent): EventRow {
  return { id: r.id, contactId: r.contact_id, seq: r.seq, type: r.type, at: r.at, externalId: r.external_id, body: JSON.parse(r.body) as Record<string, unknown>, receivedAt: r.received_at };
}

export function clockFromPg(r: PgRawClock): ClockRow {
  return { contactId: r.contact_id, standard: r.standard, status: r.status, open: r.open, dueAt: r.due_at, atRiskAt: r.at_risk_at, detail: clockFromJson(r.detail) };
}

/** A stored clock's detail back to a Clock: the SQLite store's own reading (the detail text is the same on both). */
export { clockFromJson };

/** A clock is open (its row in the open clocks' indexes) while running, at risk, breached or paused. */
export const OPEN_STATUSES: ReadonlySet<string> = new Set(['running', 'at-risk', 'breached', 'paused']);

/**
 * A clock's row as stored, but for `received_at` (its contact's, copied on insert). `ordinal` is the
 * clock's place in the engine's answer (SQLite's rowid order: PostgreSQL keeps it as a column);
 * `status_changed_at` is set by timers only, so a recompute clears it, as on SQLite.
 */
export interface PgClockValues {
  contactId: string;
  standard: string;
  standardVersion: string;
  calendar: string;
  status: string;
  open: boolean;
  startedAt: number;
  dueAt: number | null;
  atRiskAt: number | null;
  fulfilledAt: number | null;
  endedAt: number | null;
  targetMs: number;
  countedMs: number;
  statusChangedAt: null;
  detail: string;
  updatedAt: number;
  ordinal: number;
}

/** A contact's clocks as rows, in the engine's order (for one INSERT here, or the set-based writer's arrays). */
export function clockValues(contactId: string, clocks: readonly Clock[], now: number): PgClockValues[] {
  return clocks.map((c, ordinal) => ({
    contactId,
    standard: c.standard,
    standardVersion: c.standardVersion,
    calendar: c.calendar,
    status: c.status,
    open: OPEN_STATUSES.has(c.status),
    startedAt: c.startedAt,
    dueAt: c.dueAt,
    atRiskAt: c.atRiskAt,
    fulfilledAt: c.fulfilledAt,
    endedAt: c.endedAt,
    targetMs: c.targetMs,
    countedMs: c.countedMs,
    statusChangedAt: null,
    detail: clockJsonText(c), // the engine's JSON text, as SQLite stores it
    updatedAt: now,
    ordinal,
  }));
}
