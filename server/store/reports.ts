// The weekly report's reads (issue 16) and its published weeks. Every statement is keyed: the week's
// contacts by contacts_received_at, their clocks by the clocks' primary key, the few clocks that start
// after their contact arrived (a pack's `startsOn` standards) by clocks_standard_received, the quality
// events by the partial index events_quality. tests/integration/report-plans.test.ts asserts the plans.
import type { Sqlite } from '../../db/connection.js';

/**
 * One clock as the report reads it, as a row of values (no object per row):
 * [contactId, standard, standardVersion, status, open, startedAt, dueAt, fulfilledAt, endedAt,
 *  countedMs, channel, assignee, callback, extendedUntil]
 * `extendedUntil` is read (from the clock's detail) for extendable standards only.
 */
export type ReportClockRow = [
  contactId: string,
  standard: string,
  standardVersion: string,
  status: string,
  open: number,
  startedAt: number,
  dueAt: number | null,
  fulfilledAt: number | null,
  endedAt: number | null,
  countedMs: number,
  channel: string,
  assignee: string | null,
  callback: number,
  /** As the clock's detail holds it (ISO text). */
  extendedUntil: string | number | null,
];

/** The trend's lighter row (no contact row read): [contactId, standard, status, open, startedAt, dueAt, fulfilledAt, endedAt, channel]. */
export type TrendClockRow = [
  contactId: string,
  standard: string,
  status: string,
  open: number,
  startedAt: number,
  dueAt: number | null,
  fulfilledAt: number | null,
  endedAt: number | null,
  channel: string,
];

/** A contact of the period with a quality event: [contactId, category, reference, type, firstAt]. */
export type QualityRow = [contactId: string, category: string, reference: string | null, type: string, at: number];

/** A complaint contact and its events, for the regulator's view (evaluated with another pack). */
export interface ComplaintContactRow {
  id: string;
  channel: string;
  route: string;
  category: string;
  initialCategory: string;
  receivedAt: number;
  events: string;
}

export interface PublishedRow {
  week: string;
  revision: number;
  publishedAt: number;
  publishedBy: string;
  reason: string | null;
  report: string;
}

/** Event types the report reads from the events table (the partial index events_quality holds only these). */
export const QUALITY_EVENTS = ['resolved', 'identity-verified'] as const;

export class ReportStore {
  private readonly weekClocks;
  private readonly lateClocks;
  private readonly trendClocks;
  private readonly lateTrendClocks;
  private readonly handled;
  private readonly quality;
  private readonly repeat;
  private readonly complaintIds;
  private readonly complaints;
  private readonly holidays;
  private readonly closures;
  private readonly users;

  /**
   * `extendable`: standards whose clocks may carry an extension (their detail is read for `extendedUntil`).
   */
  constructor(
    private readonly sqlite: Sqlite,
    extendable: readonly string[] = [],
  ) {
    const ext = extendable.length === 0 ? 'NULL' : `CASE WHEN k.standard IN (${extendable.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')}) THEN json_extract(k.detail, '$.extendedUntil') END`;
    const cols = `k.contact_id, k.standard, k.standard_version, k.status, k.open, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, k.counted_ms, c.channel, c.assignee, c.callback, ${ext}`;
    // The contacts received in the period (a range of contacts_received_at), then each one's clocks by
    // the primary key. A clock starts at or after its contact's arrival, so this finds every clock that
    // started in the period whose contact arrived in it.
    this.weekClocks = sqlite
      .prepare(
        `SELECT ${cols} FROM contacts c INDEXED BY contacts_received_at JOIN clocks k ON k.contact_id = c.id
         WHERE c.received_at >= @from AND c.received_at < @to AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // …and the clocks of one standard that starts on an event (a complaint's stage 2) whose contact
    // arrived before the period: that standard's clocks received before `to`, by clocks_standard_received.
    this.lateClocks = sqlite
      .prepare(
        `SELECT ${cols} FROM clocks k INDEXED BY clocks_standard_received JOIN contacts c ON c.id = k.contact_id
         WHERE k.standard = @standard AND k.received_at < @from AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // The trend needs no contact row: the channel comes from contacts_received_at (a covering walk).
    this.trendClocks = sqlite
      .prepare(
        `SELECT k.contact_id, k.standard, k.status, k.open, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, c.channel
         FROM contacts c INDEXED BY contacts_received_at JOIN clocks k ON k.contact_id = c.id
         WHERE c.received_at >= @from AND c.received_at < @to AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    this.lateTrendClocks = sqlite
      .prepare(
        `SELECT k.contact_id, k.standard, k.status, k.open, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, c.channel
         FROM clocks k INDEXED BY clocks_standard_received JOIN contacts c ON c.id = k.contact_id
         WHERE k.standard = @standard AND k.received_at < @from AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // Contacts handled in the period: one of its clocks fulfilled by an answer, a callback or a reply.
    this.handled = sqlite
      .prepare(
        `SELECT COUNT(DISTINCT c.id) FROM contacts c INDEXED BY contacts_received_at JOIN clocks k ON k.contact_id = c.id
         WHERE c.received_at >= @from AND c.received_at < @to AND k.fulfilled_at IS NOT NULL AND (k.standard = 'phone-answer' OR k.standard LIKE '%-reply')`,
      )
      .pluck(true);
    // The period's contacts with a quality event (the first of each type), by the partial index.
    this.quality = sqlite
      .prepare(
        `SELECT c.id, c.category, json_extract(c.customer, '$.reference'), e.type, MIN(e.at)
         FROM contacts c INDEXED BY contacts_received_at JOIN events e INDEXED BY events_quality ON e.contact_id = c.id AND e.type IN ('resolved', 'identity-verified')
         WHERE c.received_at >= @from AND c.received_at < @to
         GROUP BY c.id, e.type`,
      )
      .raw(true);
    // Another contact from the same customer (reference) on the same matter (category) within a window.
    this.repeat = sqlite
      .prepare(
        `SELECT 1 FROM contacts INDEXED BY contacts_customer_reference
         WHERE json_extract(customer, '$.reference') = @reference AND received_at > @after AND received_at <= @until AND id <> @id AND +category = @category LIMIT 1`,
      )
      .pluck(true);
    // The regulator's complaints: those received in the period, and those escalated or answered in it
    // (received earlier), found by the partial index events_complaint_stage. Then each one's row and events.
    this.complaintIds = sqlite
      .prepare(
        `SELECT c.id FROM contacts c INDEXED BY contacts_received_at WHERE c.received_at >= @from AND c.received_at < @to AND c.category = 'complaint'
         UNION
         SELECT e.contact_id FROM events e INDEXED BY events_complaint_stage WHERE e.type IN ('escalated', 'resolved') AND e.at >= @from AND e.at < @to`,
      )
      .pluck(true);
    this.complaints = sqlite.prepare(
      `SELECT c.id, c.channel, c.route, c.category, c.initial_category AS initialCategory, c.received_at AS receivedAt,
         (SELECT json_group_array(json(e.body)) FROM (SELECT body FROM events WHERE contact_id = c.id ORDER BY seq) e) AS events
       FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?)) AND c.category = 'complaint'`,
    );
    this.holidays = sqlite.prepare('SELECT date, title FROM holidays WHERE division = ? AND date >= ? AND date <= ? ORDER BY date').raw(true);
    this.closures = sqlite.prepare('SELECT calendar_id, "from", "to", reason FROM closures WHERE "from" < @to AND "to" > @from ORDER BY "from", id').raw(true);
    this.users = sqlite.prepare('SELECT email, queues FROM users').raw(true);
  }

  /** Each statement's SQL by name: what the plan test explains (never a copy). */
  get statements(): Record<string, string> {
    return {
      weekClocks: this.weekClocks.source,
      lateClocks: this.lateClocks.source,
      trendClocks: this.trendClocks.source,
      lateTrendClocks: this.lateTrendClocks.source,
      handled: this.handled.source,
      quality: this.quality.source,
      repeat: this.repeat.source,
      complaintIds: this.complaintIds.source,
      complaints: this.complaints.source,
    };
  }

  /** Every clock that started in [from, to): those of the period's contacts, and of `late` standards' older contacts. */
  clocks(from: number, to: number, late: readonly string[]): ReportClockRow[] {
    const rows = this.weekClocks.all({ from, to }) as ReportClockRow[];
    for (const standard of late) for (const r of this.lateClocks.all({ from, to, standard }) as ReportClockRow[]) rows.push(r);
    return rows;
  }

  trend(from: number, to: number, late: readonly string[]): TrendClockRow[] {
    const rows = this.trendClocks.all({ from, to }) as TrendClockRow[];
    for (const standard of late) for (const r of this.lateTrendClocks.all({ from, to, standard }) as TrendClockRow[]) rows.push(r);
    return rows;
  }

  handledCount(from: number, to: number): number {
    return this.handled.get({ from, to }) as number;
  }

  qualityEvents(from: number, to: number): QualityRow[] {
    return this.quality.all({ from, to }) as QualityRow[];
  }

  /** Whether the customer came back on the same matter in (after, until]. */
  cameBack(id: string, reference: string, category: string, after: number, until: number): boolean {
    return this.repeat.get({ id, reference, category, after, until }) !== undefined;
  }

  /** Complaints received, escalated or answered in [from, to), with their events (in arrival order, as stored). */
  complaintContacts(from: number, to: number): ComplaintContactRow[] {
    const ids = this.complaintIds.all({ from, to }) as string[];
    if (ids.length === 0) return [];
    return this.complaints.all(JSON.stringify(ids)) as ComplaintContactRow[];
  }

  holidaysBetween(division: string, fromDate: string, toDate: string): Array<[date: string, title: string]> {
    return this.holidays.all(division, fromDate, toDate) as Array<[string, string]>;
  }

  closuresBetween(from: number, to: number): Array<[calendarId: string, from: number, to: number, reason: string | null]> {
    return this.closures.all({ from, to }) as Array<[string, number, number, string | null]>;
  }

  /** Each person's first queue, by email (the report's team). */
  teams(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [email, queues] of this.users.all() as Array<[string, string]>) {
      let first: unknown;
      try {
        first = (JSON.parse(queues) as unknown[])[0];
      } catch {
        first = undefined;
      }
      if (typeof first === 'string') out.set(email, first);
    }
    return out;
  }
}

/** Published weeks: each publication is a revision, inserted, never changed (the writer's command writes). */
export class PublishedReportStore {
  private readonly latest;
  private readonly lastWeek;
  private readonly insert;

  constructor(sqlite: Sqlite) {
    // Keyed on the primary key (week, revision): the newest revision first.
    this.latest = sqlite.prepare<[string], PublishedRow>(
      'SELECT week, revision, published_at AS publishedAt, published_by AS publishedBy, reason, report FROM published_reports WHERE week = ? ORDER BY revision DESC LIMIT 1',
    );
    this.lastWeek = sqlite.prepare('SELECT week FROM published_reports ORDER BY week DESC LIMIT 1').pluck(true);
    this.insert = sqlite.prepare('INSERT INTO published_reports (week, revision, published_at, published_by, reason, report) VALUES (?, ?, ?, ?, ?, ?)');
  }

  get statements(): Record<'latest' | 'lastWeek', string> {
    return { latest: this.latest.source, lastWeek: this.lastWeek.source };
  }

  /** The newest revision of a week, or null. */
  published(week: string): PublishedRow | null {
    return this.latest.get(week) ?? null;
  }

  /** The newest week published (ISO weeks sort as text), or null. */
  lastPublishedWeek(): string | null {
    return (this.lastWeek.get() as string | undefined) ?? null;
  }

  add(row: PublishedRow): void {
    this.insert.run(row.week, row.revision, row.publishedAt, row.publishedBy, row.reason, row.report);
  }
}
