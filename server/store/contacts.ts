// Contacts, their append-only events and their clocks: the only code that writes those tables.
import type { Sqlite } from '../../db/connection.js';
import type { Clock } from '../domain/model.js';
import { clockJsonText } from '../domain/json.js';

export interface Customer {
  name?: string;
  email?: string;
  phone?: string;
  address?: string;
  reference?: string;
  preferredContact?: string;
  accessibilityNeeds?: string;
}

export interface ContactRow {
  id: string;
  channel: string;
  route: string;
  category: string;
  initialCategory: string;
  externalId: string | null;
  receivedAt: number;
  packFamily: string;
  customer: Customer | null;
  subject: string | null;
  summary: string | null;
  assignee: string | null;
  callback: boolean;
  contentHash: string;
  source: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

export interface EventRow {
  id: number;
  contactId: string;
  seq: number;
  type: string;
  at: number;
  externalId: string | null;
  /** The event as received, timestamps as ISO strings. */
  body: Record<string, unknown>;
  receivedAt: number;
}

export interface ClockRow {
  contactId: string;
  standard: string;
  status: string;
  open: boolean;
  dueAt: number | null;
  atRiskAt: number | null;
  detail: Clock;
}

export interface ContactFilter {
  status?: string[];
  standard?: string;
  channel?: string;
  assignee?: string;
  category?: string;
  receivedFrom?: number;
  receivedTo?: number;
  /** Page after this (receivedAt, id), newest first. */
  after?: { receivedAt: number; id: string };
  limit: number;
  now: number;
}

type RawContact = {
  id: string; channel: string; route: string; category: string; initial_category: string; external_id: string | null;
  received_at: number; pack_family: string; customer: string | null; subject: string | null; summary: string | null;
  assignee: string | null; callback: number; content_hash: string; source: string | null; created_at: number; updated_at: number;
};
type RawEvent = { id: number; contact_id: string; seq: number; type: string; at: number; external_id: string | null; body: string; received_at: number };
type RawClock = { contact_id: string; standard: string; status: string; open: number; due_at: number | null; at_risk_at: number | null; detail: string };

const OPEN_STATUSES = new Set(['running', 'at-risk', 'breached', 'paused']);

function contactFromRaw(r: RawContact): ContactRow {
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
    callback: r.callback === 1,
    contentHash: r.content_hash,
    source: r.source === null ? null : (JSON.parse(r.source) as Record<string, unknown>),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function clockFromRaw(r: RawClock): ClockRow {
  return { contactId: r.contact_id, standard: r.standard, status: r.status, open: r.open === 1, dueAt: r.due_at, atRiskAt: r.at_risk_at, detail: clockFromJson(r.detail) };
}

/** Stored clock detail back to a Clock (instants were stored as ISO strings). */
function clockFromJson(text: string): Clock {
  const j = JSON.parse(text) as Record<string, unknown>;
  const ms = (v: unknown): number | null => (typeof v === 'string' ? Date.parse(v) : null);
  const clock: Clock = {
    standard: j.standard as string,
    standardVersion: j.standardVersion as string,
    calendar: j.calendar as string,
    startedAt: ms(j.startedAt)!,
    dueAt: ms(j.dueAt),
    atRiskAt: ms(j.atRiskAt),
    status: j.status as Clock['status'],
    fulfilledAt: ms(j.fulfilledAt),
    endedAt: ms(j.endedAt),
    targetMs: j.targetMs as number,
    countedMs: j.countedMs as number,
    remainingMs: j.remainingMs as number,
  };
  if ('originalDueAt' in j) clock.originalDueAt = ms(j.originalDueAt);
  if (typeof j.extendedUntil === 'string') clock.extendedUntil = Date.parse(j.extendedUntil);
  if (typeof j.reason === 'string') clock.reason = j.reason;
  if (j.callback === true) clock.callback = true;
  if (Array.isArray(j.pauses)) {
    clock.pauses = (j.pauses as Array<{ from: string; to: string | null; reason: string }>).map((p) => ({ from: Date.parse(p.from), to: p.to === null ? null : Date.parse(p.to), reason: p.reason }));
  }
  if (j.beyondHolidayData === true) clock.beyondHolidayData = true;
  if (Array.isArray(j.notes)) clock.notes = j.notes as string[];
  return clock;
}

export class ContactStore {
  private readonly s;

  constructor(private readonly sqlite: Sqlite) {
    this.s = {
      byId: sqlite.prepare<[string], RawContact>('SELECT * FROM contacts WHERE id = ?'),
      byExternal: sqlite.prepare<[string, string], RawContact>('SELECT * FROM contacts WHERE channel = ? AND external_id = ?'),
      events: sqlite.prepare<[string], RawEvent>('SELECT * FROM events WHERE contact_id = ? ORDER BY seq'),
      eventByExternal: sqlite.prepare<[string, string], RawEvent>('SELECT * FROM events WHERE contact_id = ? AND external_id = ?'),
      nextSeq: sqlite.prepare<[string], { next: number }>('SELECT COALESCE(MAX(seq) + 1, 0) AS next FROM events WHERE contact_id = ?'),
      insertContact: sqlite.prepare(
        `INSERT INTO contacts (id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary, assignee, callback, content_hash, source, created_at, updated_at)
         VALUES (@id, @channel, @route, @category, @initialCategory, @externalId, @receivedAt, @packFamily, @customer, @subject, @summary, @assignee, @callback, @contentHash, @source, @createdAt, @updatedAt)`,
      ),
      insertEvent: sqlite.prepare(
        'INSERT INTO events (contact_id, seq, type, at, external_id, body, received_at) VALUES (@contactId, @seq, @type, @at, @externalId, @body, @receivedAt)',
      ),
      updateDerived: sqlite.prepare('UPDATE contacts SET category = @category, assignee = @assignee, callback = @callback, updated_at = @updatedAt WHERE id = @id'),
      deleteClocks: sqlite.prepare('DELETE FROM clocks WHERE contact_id = ?'),
      insertClock: sqlite.prepare(
        `INSERT INTO clocks (contact_id, standard, standard_version, calendar, status, open, started_at, due_at, at_risk_at, fulfilled_at, ended_at, target_ms, counted_ms, status_changed_at, detail, updated_at)
         VALUES (@contactId, @standard, @standardVersion, @calendar, @status, @open, @startedAt, @dueAt, @atRiskAt, @fulfilledAt, @endedAt, @targetMs, @countedMs, @statusChangedAt, @detail, @updatedAt)`,
      ),
      clocks: sqlite.prepare<[string], RawClock>('SELECT contact_id, standard, status, open, due_at, at_risk_at, detail FROM clocks WHERE contact_id = ? ORDER BY rowid'),
      openClockContacts: sqlite.prepare<[string], { contact_id: string }>('SELECT DISTINCT contact_id FROM clocks WHERE open = 1 AND calendar = ?'),
      setStatus: sqlite.prepare('UPDATE clocks SET status = @status, status_changed_at = @at, detail = json_set(detail, \'$.status\', @status), updated_at = @updatedAt WHERE contact_id = @contactId AND standard = @standard AND open = 1 AND status IN (\'running\', \'at-risk\')'),
      openClocks: sqlite.prepare<[], RawClock>('SELECT contact_id, standard, status, open, due_at, at_risk_at, detail FROM clocks WHERE open = 1'),
    };
  }

  byId(id: string): ContactRow | undefined {
    const r = this.s.byId.get(id);
    return r === undefined ? undefined : contactFromRaw(r);
  }

  byExternal(channel: string, externalId: string): ContactRow | undefined {
    const r = this.s.byExternal.get(channel, externalId);
    return r === undefined ? undefined : contactFromRaw(r);
  }

  events(contactId: string): EventRow[] {
    return this.s.events.all(contactId).map((r) => ({
      id: r.id,
      contactId: r.contact_id,
      seq: r.seq,
      type: r.type,
      at: r.at,
      externalId: r.external_id,
      body: JSON.parse(r.body) as Record<string, unknown>,
      receivedAt: r.received_at,
    }));
  }

  eventByExternal(contactId: string, externalId: string): EventRow | undefined {
    const r = this.s.eventByExternal.get(contactId, externalId);
    return r === undefined
      ? undefined
      : { id: r.id, contactId: r.contact_id, seq: r.seq, type: r.type, at: r.at, externalId: r.external_id, body: JSON.parse(r.body) as Record<string, unknown>, receivedAt: r.received_at };
  }

  nextSeq(contactId: string): number {
    return this.s.nextSeq.get(contactId)!.next;
  }

  insertContact(c: ContactRow): void {
    this.s.insertContact.run({
      ...c,
      customer: c.customer === null ? null : JSON.stringify(c.customer),
      source: c.source === null ? null : JSON.stringify(c.source),
      callback: c.callback ? 1 : 0,
    });
  }

  insertEvent(e: Omit<EventRow, 'id'>): void {
    this.s.insertEvent.run({ ...e, body: JSON.stringify(e.body) });
  }

  updateDerived(id: string, d: { category: string; assignee: string | null; callback: boolean; updatedAt: number }): void {
    this.s.updateDerived.run({ id, ...d, callback: d.callback ? 1 : 0 });
  }

  /** Replaces a contact's clock rows with the engine's latest answer. */
  replaceClocks(contactId: string, clocks: Clock[], now: number): void {
    this.s.deleteClocks.run(contactId);
    this.insertClocks(contactId, clocks, now);
  }

  /** Stores the clocks of a contact that has none yet (a new contact: nothing to delete). */
  insertClocks(contactId: string, clocks: Clock[], now: number): void {
    for (const c of clocks) {
      this.s.insertClock.run({
        contactId,
        standard: c.standard,
        standardVersion: c.standardVersion,
        calendar: c.calendar,
        status: c.status,
        open: OPEN_STATUSES.has(c.status) ? 1 : 0,
        startedAt: c.startedAt,
        dueAt: c.dueAt,
        atRiskAt: c.atRiskAt,
        fulfilledAt: c.fulfilledAt,
        endedAt: c.endedAt,
        targetMs: c.targetMs,
        countedMs: c.countedMs,
        statusChangedAt: null,
        detail: clockJsonText(c), // the same text as JSON.stringify(clockToJson(c)), built directly
        updatedAt: now,
      });
    }
  }

  clocks(contactId: string): ClockRow[] {
    return this.s.clocks.all(contactId).map(clockFromRaw);
  }

  /** Every running clock (for the scheduler's start-up pass). */
  openClocks(): ClockRow[] {
    return this.s.openClocks.all().map(clockFromRaw);
  }

  /** Records a timer's status change at the instant it really happened. */
  setStatus(contactId: string, standard: string, status: string, at: number, now: number): void {
    this.s.setStatus.run({ contactId, standard, status, at, updatedAt: now });
  }

  contactIdsWithOpenClocksOn(calendarId: string): string[] {
    return this.s.openClockContacts.all(calendarId).map((r) => r.contact_id);
  }

  /**
   * Contacts newest first, filtered. A running clock's status is judged against `now` in SQL
   * (from its dueAt and atRiskAt), so the list is right between timer firings.
   */
  list(f: ContactFilter): ContactRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { now: f.now, limit: f.limit };
    if (f.channel !== undefined) {
      where.push('c.channel = @channel');
      params.channel = f.channel;
    }
    if (f.category !== undefined) {
      where.push('c.category = @category');
      params.category = f.category;
    }
    if (f.assignee !== undefined) {
      where.push('c.assignee = @assignee');
      params.assignee = f.assignee;
    }
    if (f.receivedFrom !== undefined) {
      where.push('c.received_at >= @receivedFrom');
      params.receivedFrom = f.receivedFrom;
    }
    if (f.receivedTo !== undefined) {
      where.push('c.received_at < @receivedTo');
      params.receivedTo = f.receivedTo;
    }
    if (f.after !== undefined) {
      where.push('(c.received_at < @afterAt OR (c.received_at = @afterAt AND c.id < @afterId))');
      params.afterAt = f.after.receivedAt;
      params.afterId = f.after.id;
    }
    if (f.standard !== undefined || (f.status !== undefined && f.status.length > 0)) {
      const clockWhere: string[] = ['k.contact_id = c.id'];
      if (f.standard !== undefined) {
        clockWhere.push('k.standard = @standard');
        params.standard = f.standard;
      }
      if (f.status !== undefined && f.status.length > 0) {
        const alternatives = f.status.map((s, i) => {
          switch (s) {
            case 'breached':
              return "(k.open = 1 AND k.status != 'paused' AND k.due_at < @now)";
            case 'at-risk':
              return "(k.open = 1 AND k.status != 'paused' AND k.due_at >= @now AND k.at_risk_at <= @now)";
            case 'running':
              return "(k.open = 1 AND k.status != 'paused' AND k.due_at >= @now AND (k.at_risk_at IS NULL OR k.at_risk_at > @now))";
            case 'open':
              return '(k.open = 1)';
            default:
              params[`status${i}`] = s;
              return `(k.status = @status${i})`;
          }
        });
        clockWhere.push(`(${alternatives.join(' OR ')})`);
      }
      where.push(`EXISTS (SELECT 1 FROM clocks k WHERE ${clockWhere.join(' AND ')})`);
    }
    const sql = `SELECT c.* FROM contacts c ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.received_at DESC, c.id DESC LIMIT @limit`;
    return (this.sqlite.prepare(sql).all(params) as RawContact[]).map(contactFromRaw);
  }

  /**
   * A sender's private-message (social) contacts still awaiting a reply (an open `*-reply` clock),
   * received at or before `receivedBy`, newest first: what the page's message to them answers.
   */
  socialMessagesAwaitingReply(senderId: string, receivedBy: number): string[] {
    const rows = this.sqlite
      .prepare(
        `SELECT DISTINCT c.id, c.received_at FROM clocks k JOIN contacts c ON c.id = k.contact_id
         WHERE k.open = 1 AND k.standard LIKE '%-reply' AND c.channel = 'social' AND c.received_at <= ?
           AND json_extract(c.source, '$.kind') = 'message' AND json_extract(c.source, '$.senderId') = ?
         ORDER BY c.received_at DESC, c.id DESC`,
      )
      .all(receivedBy, senderId) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  countRows(): { contacts: number; events: number; clocks: number } {
    const one = (t: string) => (this.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { contacts: one('contacts'), events: one('events'), clocks: one('clocks') };
  }
}
