// The weekly report's reads (issue 16) and its published weeks. Every statement is keyed: the week's
// contacts by contacts_received_at, their clocks by the clocks' primary key, the few clocks that start
// after their contact arrived (a pack's `startsOn` standards) by clocks_standard_received, the quality
// events by the partial index events_quality. tests/integration/report-plans.test.ts asserts the plans.
import type { Sqlite } from '../../db/connection.js';
import type { HazardClock } from '../reports/hazards.js';

/** A clock as the index walks give it (no contact row): the trend's, and the weekly report's before the people are added. */
export type ClockRow = [
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
  /** As the clock's detail holds it (ISO text). */
  extendedUntil: string | number | null,
];

/**
 * Clocks counted by [standard, channel, outcome, count, answeredWithinTarget, waitSumMs, abandonedWithinTarget,
 * waitingPastTarget]. The outcome is as figures.ts judge() gives it, but `abandoned` and `abandoned-short` apart.
 */
export type CountRow = [standard: string, channel: string, outcome: string, n: number, within: number, waitSum: number, abandonedWithin: number, waitingOver: number];

/** A contact's [id, assignee, callback, queue] (queue: the named phone queue of a phone or voicemail contact). */
export type PersonRow = [id: string, assignee: string | null, callback: number, queue: string | null];

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
  private readonly endedClocks;
  private readonly openClocks;
  private readonly lateClocks;
  private readonly peopleOf;
  private readonly endedCounts;
  private readonly openCounts;
  private readonly lateCounts;
  private readonly contactsOfStandard;
  private readonly personOf;
  private readonly handled;
  private readonly quality;
  private readonly repeat;
  private readonly complaintIds;
  private readonly complaints;
  private readonly holidays;
  private readonly closures;
  private readonly users;
  private readonly hazardClocksOf;
  private readonly raisedOf;

  /**
   * `extendable`: standards whose clocks may carry an extension (their detail is read for `extendedUntil`).
   * `implied`: standards that apply to one channel only (`email-reply` is an email's): their clocks need
   * no look-up of their contact's channel.
   */
  constructor(
    private readonly sqlite: Sqlite,
    extendable: readonly string[] = [],
    implied: ReadonlyMap<string, string> = new Map(),
  ) {
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    // The extension's agreed instant is in the clock's detail: read (by rowid) for extendable standards only,
    // so the walk of the index stays covering for every other clock.
    const ext = extendable.length === 0 ? 'NULL' : `CASE WHEN k.standard IN (${extendable.map(quote).join(', ')}) THEN (SELECT json_extract(x.detail, '$.extendedUntil') FROM clocks x WHERE x.rowid = k.rowid) END`;
    // The channel: the standard's when it implies one; otherwise a keyed search of contacts_received_at
    // (its key holds received_at and id, and it carries channel: no table row).
    const lookUp = '(SELECT c.channel FROM contacts c INDEXED BY contacts_received_at WHERE c.received_at = k.received_at AND c.id = k.contact_id)';
    const channel = implied.size === 0 ? lookUp : `CASE k.standard ${[...implied].map(([std, ch]) => `WHEN ${quote(std)} THEN ${quote(ch)}`).join(' ')} ELSE ${lookUp} END`;
    const cols = (open: 0 | 1) =>
      `k.contact_id, k.standard, k.standard_version, k.status, ${open}, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, k.counted_ms, ${channel}, ${ext}`;
    // A clock starts at or after its contact's arrival, and carries the arrival (received_at): the clocks
    // that started in the period whose contact arrived in it are a range of received_at. Ended clocks: a
    // covering walk of clocks_report_ended. Running ones: clocks_open_received, then the row.
    this.endedClocks = sqlite
      .prepare(
        `SELECT ${cols(0)} FROM clocks k INDEXED BY clocks_report_ended
         WHERE k.open = 0 AND k.received_at >= @from AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    this.openClocks = sqlite
      .prepare(
        `SELECT ${cols(1)} FROM clocks k INDEXED BY clocks_open_received
         WHERE k.open = 1 AND k.received_at >= @from AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // …and the clocks of one standard that starts on an event (a complaint's stage 2) whose contact
    // arrived before the period: that standard's clocks received before `from`, by clocks_standard_received.
    this.lateClocks = sqlite
      .prepare(
        `SELECT k.contact_id, k.standard, k.standard_version, k.status, k.open, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, k.counted_ms, ${channel}, ${ext}
         FROM clocks k INDEXED BY clocks_standard_received
         WHERE k.standard = @standard AND k.received_at < @from AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // The trend's headline (and the change on the previous week): the same walks, counted in SQLite by
    // standard, channel and outcome as of @asOf (figures.ts judge()), with the phone's sums; no row to JS.
    const judged = `CASE WHEN k.status IN ('running', 'at-risk', 'breached') THEN (CASE WHEN k.due_at IS NOT NULL AND @asOf > k.due_at THEN 'breached' ELSE 'open' END) WHEN k.status = 'paused' THEN 'open' ELSE k.status END`;
    const sums = `COUNT(*), SUM(k.fulfilled_at IS NOT NULL AND k.fulfilled_at - k.started_at <= @target), SUM(CASE WHEN k.fulfilled_at IS NOT NULL THEN k.fulfilled_at - k.started_at ELSE 0 END),
      SUM(k.status = 'abandoned' AND k.ended_at - k.started_at <= @target), SUM(k.status IN ('running', 'at-risk', 'breached') AND @asOf - k.started_at > @target)`;
    const grouped = (from: string, where: string) => sqlite.prepare(`SELECT k.standard, ${channel}, ${judged}, ${sums} FROM clocks k INDEXED BY ${from} WHERE ${where} GROUP BY 1, 2, 3`).raw(true);
    this.endedCounts = grouped('clocks_report_ended', 'k.open = 0 AND k.received_at >= @from AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to');
    this.openCounts = grouped('clocks_open_received', 'k.open = 1 AND k.received_at >= @from AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to');
    this.lateCounts = grouped('clocks_standard_received', 'k.standard = @standard AND k.received_at < @from AND k.started_at >= @from AND k.started_at < @to');
    // The contacts of some standards' clocks that started in the period (complaints received: distinct contacts).
    this.contactsOfStandard = sqlite
      .prepare(
        `SELECT k.contact_id FROM clocks k INDEXED BY clocks_standard_received
         WHERE k.standard = @standard AND k.received_at < @to AND k.received_at >= @lo AND k.started_at >= @from AND k.started_at < @to`,
      )
      .pluck(true);
    // Who each of the period's contacts is assigned to, whether it was a callback, and its named phone
    // queue (the contact's row, read anyway for the assignee: the queue costs nothing more).
    this.peopleOf = sqlite.prepare('SELECT id, assignee, callback, queue FROM contacts INDEXED BY contacts_received_at WHERE received_at >= @from AND received_at < @to').raw(true);
    this.personOf = sqlite.prepare('SELECT assignee, callback, queue FROM contacts WHERE id = ?').raw(true);
    // Contacts handled in the period: one of its clocks fulfilled by an answer, a callback or a reply.
    this.handled = sqlite
      .prepare(
        `SELECT COUNT(DISTINCT k.contact_id) FROM clocks k INDEXED BY clocks_report_ended
         WHERE k.open = 0 AND k.received_at >= @from AND k.received_at < @to AND k.fulfilled_at IS NOT NULL AND (k.standard = 'phone-answer' OR k.standard LIKE '%-reply')`,
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
    // (received earlier), found by the partial index events_complaint_stage. Then each one's row and
    // events, by id (`+c.category`: a filter, never a walk of every complaint by contacts_category_received).
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
       FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?)) AND +c.category = 'complaint'`,
    );
    this.holidays = sqlite.prepare('SELECT date, title FROM holidays WHERE division = ? AND date >= ? AND date <= ? ORDER BY date').raw(true);
    this.closures = sqlite.prepare('SELECT calendar_id, "from", "to", reason FROM closures WHERE "from" < @to AND "to" > @from ORDER BY "from", id').raw(true);
    this.users = sqlite.prepare('SELECT email, queues FROM users').raw(true);
    // Hazards (Awaab's Law): one standard's clocks that started in the period, whenever the hazard was
    // reported (a summary starts when the investigation ends), by clocks_standard_received; the contact by
    // its key, and whether a temporary-accommodation offer (not a made-safe) fulfilled the clock, by
    // events_contact_seq. Hazard clocks are few (a few percent of contacts), so the walk of the standard's
    // earlier receipts stays short.
    this.hazardClocksOf = sqlite
      .prepare(
        `SELECT k.contact_id, k.standard, k.status, k.open, k.started_at, k.due_at, k.fulfilled_at, k.received_at, c.category,
           k.fulfilled_at IS NOT NULL
             AND EXISTS (SELECT 1 FROM events e INDEXED BY events_contact_seq WHERE e.contact_id = k.contact_id AND e.type = 'temporary-accommodation-offered' AND e.at = k.fulfilled_at)
             AND NOT EXISTS (SELECT 1 FROM events e INDEXED BY events_contact_seq WHERE e.contact_id = k.contact_id AND e.type = 'made-safe' AND e.at = k.fulfilled_at)
         FROM clocks k INDEXED BY clocks_standard_received JOIN contacts c ON c.id = k.contact_id
         WHERE k.standard = @standard AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to`,
      )
      .raw(true);
    // Of those contacts, the ones raised to emergency in the period (by events_contact_seq, per contact).
    this.raisedOf = sqlite
      .prepare(
        `SELECT COUNT(DISTINCT e.contact_id) FROM events e INDEXED BY events_contact_seq
         WHERE e.contact_id IN (SELECT value FROM json_each(@ids)) AND e.type = 'severity-raised' AND e.at >= @from AND e.at < @to`,
      )
      .pluck(true);
  }

  /** Each statement's SQL by name: what the plan test explains (never a copy). */
  get statements(): Record<string, string> {
    return {
      endedClocks: this.endedClocks.source,
      openClocks: this.openClocks.source,
      lateClocks: this.lateClocks.source,
      people: this.peopleOf.source,
      endedCounts: this.endedCounts.source,
      openCounts: this.openCounts.source,
      lateCounts: this.lateCounts.source,
      contactsOfStandard: this.contactsOfStandard.source,
      personOf: this.personOf.source,
      handled: this.handled.source,
      quality: this.quality.source,
      repeat: this.repeat.source,
      complaintIds: this.complaintIds.source,
      complaints: this.complaints.source,
      hazardClocks: this.hazardClocksOf.source,
      raised: this.raisedOf.source,
    };
  }

  /**
   * Every clock that started in [from, to): [contactId, standard, standardVersion, status, open, startedAt,
   * dueAt, fulfilledAt, endedAt, countedMs, channel, extendedUntil]. `late`: standards that start on an event.
   */
  clockRows(from: number, to: number, late: readonly string[]): ClockRow[] {
    const rows = this.endedClocks.all({ from, to }) as ClockRow[];
    for (const r of this.openClocks.all({ from, to }) as ClockRow[]) rows.push(r);
    for (const standard of late) for (const r of this.lateClocks.all({ from, to, standard }) as ClockRow[]) rows.push(r);
    return rows;
  }

  /** Counts of the clocks that started in [from, to) by standard, channel and outcome as of `asOf` (see CountRow). */
  counts(from: number, to: number, asOf: number, targetMs: number, late: readonly string[]): CountRow[] {
    const p = { from, to, asOf, target: targetMs };
    const rows = this.endedCounts.all(p) as CountRow[];
    for (const r of this.openCounts.all(p) as CountRow[]) rows.push(r);
    for (const standard of late) for (const r of this.lateCounts.all({ ...p, standard }) as CountRow[]) rows.push(r);
    return rows;
  }

  /** The distinct contacts of these standards' clocks that started in [from, to); `late` ones may have arrived earlier. */
  contactsOf(from: number, to: number, standards: Iterable<string>, late: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const standard of standards) {
      const lo = late.includes(standard) ? 0 : from;
      for (const id of this.contactsOfStandard.all({ from, to, lo, standard }) as string[]) out.add(id);
    }
    return out;
  }

  /**
   * The period's contacts' assignee, callback flag and queue, by id; `more` (contacts of late clocks, received
   * before the period) are looked up by key.
   */
  people(from: number, to: number, more: Iterable<string> = []): Map<string, PersonRow> {
    // The rows themselves are the values (no copy per contact).
    const out = new Map<string, PersonRow>();
    for (const row of this.peopleOf.all({ from, to }) as PersonRow[]) out.set(row[0], row);
    for (const id of more) {
      if (out.has(id)) continue;
      const found = this.personOf.get(id) as [string | null, number, string | null] | undefined;
      out.set(id, [id, found?.[0] ?? null, found?.[1] ?? 0, found?.[2] ?? null]);
    }
    return out;
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

  /**
   * The hazard clocks (these standards) that started in [from, to), with their contact's category and
   * receipt, and the number of those contacts raised to emergency in the period.
   */
  hazardClocks(from: number, to: number, standards: readonly string[]): { clocks: HazardClock[]; raised: number } {
    const clocks: HazardClock[] = [];
    for (const standard of standards) {
      for (const r of this.hazardClocksOf.all({ from, to, standard }) as HazardRaw[]) clocks.push(hazardClockOf(r));
    }
    if (clocks.length === 0) return { clocks, raised: 0 };
    const ids = JSON.stringify([...new Set(clocks.map((c) => c.contactId))]);
    return { clocks, raised: this.raisedOf.get({ ids, from, to }) as number };
  }

  holidaysBetween(division: string, fromDate: string, toDate: string): Array<[date: string, title: string]> {
    return this.holidays.all(division, fromDate, toDate) as Array<[string, string]>;
  }

  closuresBetween(from: number, to: number): Array<[calendarId: string, from: number, to: number, reason: string | null]> {
    return this.closures.all({ from, to }) as Array<[string, number, number, string | null]>;
  }

  /** Each person's first queue, by email (the report's team). */
  teams(): Map<string, string> {
    return teamsOf(this.users.all() as Array<[string, string]>);
  }
}

/** A hazard clock's row as the store reads it: [contactId, standard, status, open, startedAt, dueAt, fulfilledAt, receivedAt, category, temporaryAccommodation]. */
export type HazardRaw = [string, string, string, number, number, number | null, number | null, number, string, number];

export function hazardClockOf(r: HazardRaw): HazardClock {
  return { contactId: r[0], standard: r[1], status: r[2], open: r[3] === 1, startedAt: r[4], dueAt: r[5], fulfilledAt: r[6], receivedAt: r[7], category: r[8], temporaryAccommodation: r[9] === 1 };
}

/** Each person's first queue, by email, from [email, queues (JSON text)] rows. */
export function teamsOf(rows: Iterable<[email: string, queues: string]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [email, queues] of rows) {
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
