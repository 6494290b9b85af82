// The weekly report's reads and its published weeks on PostgreSQL (issues 14 and 16): ReportReads and
// PublishedReads (../ports.ts) with the SQLite ReportStore's answers (server/store/reports.ts). Set-based,
// as the SQLite statements are tuned to be (docs/benchmarks.md, "The weekly report on a year of data"):
// the period's clocks are a range of clocks.received_at (clocks_report_ended, clocks_open_received) joined
// to the period's contacts, a range of contacts_received_at, so the planner joins two ranges (a hash or
// merge join) instead of seeking a contact per clock; the standards that start late are one statement for
// all of them, by clocks_standard_received. tests/integration/store-contract-privacy-reports.test.ts holds
// both databases to the same answers and checks these plans with EXPLAIN.
import type { HazardClock } from '../../reports/hazards.js';
import type { PublishedReads, ReportReads } from '../ports.js';
import { hazardClockOf, teamsOf, type ClockRow, type ComplaintContactRow, type CountRow, type HazardRaw, type PersonRow, type PublishedRow, type QualityRow } from '../reports.js';
import type { Queryable } from './contacts.js';

/**
 * `@name` parameters as PostgreSQL's `$1, $2, …` with their values in order (a name used twice is one
 * parameter). Values always travel as parameters; the names are the SQL's own.
 */
export function bindNamed(sql: string, params: Record<string, unknown>): { text: string; values: unknown[] } {
  const order: string[] = [];
  const text = sql.replace(/@([A-Za-z]\w*)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for @${name}`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, values: order.map((n) => params[n]) };
}

/** In the period's range of receipts (a clock carries its contact's received_at). */
const IN_PERIOD = 'k.received_at >= @from AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to';
/** A late standard's clocks: contacts received before the period, clocks started in it. */
const LATE = 'k.standard = ANY(@late) AND k.received_at < @from AND k.started_at >= @from AND k.started_at < @to';
/** The clock's contact, found in the same range of receipts (the join of two ranges; a late clock's contact by key, its receipt copied on the clock). */
const CONTACT = 'JOIN contacts c ON c.id = k.contact_id AND c.received_at = k.received_at';

/** The statements by name, for EXPLAIN in the tests. */
export const REPORT_SQL = {
  // The extension's agreed instant (ISO text in the clock's detail), read by key for extendable standards only.
  clocks: (where: string) => `SELECT k.contact_id, k.standard, k.standard_version, k.status, k.open::int, k.started_at, k.due_at, k.fulfilled_at, k.ended_at, k.counted_ms, c.channel,
      CASE WHEN k.standard = ANY(@extendable) THEN (SELECT x.detail::json ->> 'extendedUntil' FROM clocks x WHERE x.contact_id = k.contact_id AND x.standard = k.standard) END
    FROM clocks k ${CONTACT} WHERE ${where}`,
  // Counted by standard, channel and outcome as of @asOf (figures.ts judge()), with the phone's sums; in
  // SQLite's order (its GROUP BY's). The quality rows and the complaints too are in SQLite's order.
  counts: (where: string) => `SELECT k.standard, c.channel,
      CASE WHEN k.status IN ('running', 'at-risk', 'breached') THEN (CASE WHEN k.due_at IS NOT NULL AND @asOf > k.due_at THEN 'breached' ELSE 'open' END) WHEN k.status = 'paused' THEN 'open' ELSE k.status END,
      COUNT(*), COUNT(*) FILTER (WHERE k.fulfilled_at IS NOT NULL AND k.fulfilled_at - k.started_at <= @target),
      COALESCE(SUM(CASE WHEN k.fulfilled_at IS NOT NULL THEN k.fulfilled_at - k.started_at ELSE 0 END), 0)::bigint,
      COUNT(*) FILTER (WHERE k.status = 'abandoned' AND k.ended_at - k.started_at <= @target),
      COUNT(*) FILTER (WHERE k.status IN ('running', 'at-risk', 'breached') AND @asOf - k.started_at > @target)
    FROM clocks k ${CONTACT} WHERE ${where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  contactsOfStandard: `SELECT k.contact_id FROM clocks k
    WHERE k.standard = @standard AND k.received_at < @to AND k.received_at >= @lo AND k.started_at >= @from AND k.started_at < @to`,
  people: 'SELECT id, assignee, callback::int, queue FROM contacts WHERE received_at >= @from AND received_at < @to ORDER BY received_at, id',
  peopleByKey: 'SELECT id, assignee, callback::int, queue FROM contacts WHERE id = ANY(@ids)',
  handled: `SELECT COUNT(DISTINCT k.contact_id) FROM clocks k
    WHERE NOT k.open AND k.received_at >= @from AND k.received_at < @to AND k.fulfilled_at IS NOT NULL AND (k.standard = 'phone-answer' OR k.standard LIKE '%-reply')`,
  quality: `SELECT c.id, c.category, c.customer::json ->> 'reference', e.type, MIN(e.at)
    FROM contacts c JOIN events e ON e.contact_id = c.id AND e.type IN ('resolved', 'identity-verified')
    WHERE c.received_at >= @from AND c.received_at < @to
    GROUP BY c.id, e.type ORDER BY c.id, e.type`,
  repeat: `SELECT 1 FROM contacts
    WHERE (customer::json ->> 'reference') = @reference AND received_at > @after AND received_at <= @until AND id <> @id AND category = @category LIMIT 1`,
  // Received in the period, or escalated or answered in it; each one's events as SQLite's json_group_array gives them.
  complaints: `SELECT c.id, c.channel, c.route, c.category, c.initial_category AS "initialCategory", c.received_at AS "receivedAt",
      (SELECT '[' || COALESCE(string_agg(e.body, ',' ORDER BY e.seq), '') || ']' FROM events e WHERE e.contact_id = c.id) AS events
    FROM contacts c
    WHERE c.category = 'complaint' AND c.id IN (
      SELECT d.id FROM contacts d WHERE d.received_at >= @from AND d.received_at < @to AND d.category = 'complaint'
      UNION
      SELECT e.contact_id FROM events e WHERE e.type IN ('escalated', 'resolved') AND e.at >= @from AND e.at < @to)
    ORDER BY c.id`,
  holidays: 'SELECT date, title FROM holidays WHERE division = @division AND date >= @fromDate AND date <= @toDate ORDER BY date',
  closures: 'SELECT calendar_id, "from", "to", reason FROM closures WHERE "from" < @to AND "to" > @from ORDER BY "from", id',
  users: 'SELECT email, queues FROM users',
  hazardClocks: `SELECT k.contact_id, k.standard, k.status, k.open::int, k.started_at, k.due_at, k.fulfilled_at, k.received_at, c.category,
      (k.fulfilled_at IS NOT NULL
        AND EXISTS (SELECT 1 FROM events e WHERE e.contact_id = k.contact_id AND e.type = 'temporary-accommodation-offered' AND e.at = k.fulfilled_at)
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.contact_id = k.contact_id AND e.type = 'made-safe' AND e.at = k.fulfilled_at))::int
    FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.standard = @standard AND k.received_at < @to AND k.started_at >= @from AND k.started_at < @to
    ORDER BY k.received_at, k.contact_id`,
  raised: `SELECT COUNT(DISTINCT e.contact_id) FROM events e
    WHERE e.contact_id = ANY(@ids) AND e.type = 'severity-raised' AND e.at >= @from AND e.at < @to`,
  latest: 'SELECT week, revision, published_at AS "publishedAt", published_by AS "publishedBy", reason, report FROM published_reports WHERE week = @week ORDER BY revision DESC LIMIT 1',
  lastWeek: 'SELECT week FROM published_reports ORDER BY week DESC LIMIT 1',
} as const;

const ENDED = `NOT k.open AND ${IN_PERIOD}`;
const OPEN = `k.open AND ${IN_PERIOD}`;
/** SQLite's order for each walk: its index's key (SQLite puts NULLs first). */
const ENDED_ORDER = 'ORDER BY k.received_at, k.standard, k.standard_version, k.status, k.started_at, k.due_at NULLS FIRST, k.fulfilled_at NULLS FIRST, k.ended_at NULLS FIRST, k.counted_ms, k.contact_id';
const OPEN_ORDER = 'ORDER BY k.received_at, k.contact_id, k.standard';
const LATE_ORDER = 'ORDER BY array_position(@late, k.standard), k.received_at, k.contact_id';

/** The period's statements as run, by the SQLite store's names (for EXPLAIN). */
export const REPORT_STATEMENTS = {
  endedClocks: `${REPORT_SQL.clocks(ENDED)} ${ENDED_ORDER}`,
  openClocks: `${REPORT_SQL.clocks(OPEN)} ${OPEN_ORDER}`,
  lateClocks: `${REPORT_SQL.clocks(LATE)} ${LATE_ORDER}`,
  endedCounts: REPORT_SQL.counts(ENDED),
  openCounts: REPORT_SQL.counts(OPEN),
  lateCounts: REPORT_SQL.counts(LATE),
  contactsOfStandard: REPORT_SQL.contactsOfStandard,
  people: REPORT_SQL.people,
  handled: REPORT_SQL.handled,
  quality: REPORT_SQL.quality,
  repeat: REPORT_SQL.repeat,
  complaints: REPORT_SQL.complaints,
  hazardClocks: REPORT_SQL.hazardClocks,
  raised: REPORT_SQL.raised,
} as const;

export class PgReportStore implements ReportReads {
  /**
   * `extendable`: standards whose clocks may carry an extension (their detail is read for `extendedUntil`),
   * as the SQLite store's (the channel comes from the joined contact, so no `implied` is needed).
   */
  constructor(
    private readonly db: Queryable,
    private readonly extendable: readonly string[] = [],
  ) {}

  async clockRows(from: number, to: number, late: readonly string[]): Promise<ClockRow[]> {
    const s = REPORT_STATEMENTS;
    const p = { from, to, extendable: [...this.extendable] };
    const rows = await this.raw<ClockRow>(s.endedClocks, p);
    rows.push(...(await this.raw<ClockRow>(s.openClocks, p)));
    if (late.length > 0) rows.push(...(await this.raw<ClockRow>(s.lateClocks, { ...p, late: [...late] })));
    return rows;
  }

  async counts(from: number, to: number, asOf: number, targetMs: number, late: readonly string[]): Promise<CountRow[]> {
    const s = REPORT_STATEMENTS;
    const p = { from, to, asOf, target: targetMs };
    const rows = await this.raw<CountRow>(s.endedCounts, p);
    rows.push(...(await this.raw<CountRow>(s.openCounts, p)));
    if (late.length > 0) rows.push(...(await this.raw<CountRow>(s.lateCounts, { ...p, late: [...late] })));
    return rows;
  }

  async contactsOf(from: number, to: number, standards: Iterable<string>, late: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const standard of standards) {
      const lo = late.includes(standard) ? 0 : from;
      for (const [id] of await this.raw<[string]>(REPORT_SQL.contactsOfStandard, { from, to, lo, standard })) out.add(id);
    }
    return out;
  }

  async people(from: number, to: number, more: Iterable<string> = []): Promise<Map<string, PersonRow>> {
    const out = new Map<string, PersonRow>();
    for (const row of await this.raw<PersonRow>(REPORT_SQL.people, { from, to })) out.set(row[0], row);
    const missing = [...new Set(more)].filter((id) => !out.has(id));
    if (missing.length === 0) return out;
    const found = new Map((await this.raw<PersonRow>(REPORT_SQL.peopleByKey, { ids: missing })).map((r) => [r[0], r]));
    for (const id of missing) out.set(id, found.get(id) ?? [id, null, 0, null]);
    return out;
  }

  async handledCount(from: number, to: number): Promise<number> {
    return (await this.raw<[number]>(REPORT_SQL.handled, { from, to }))[0]![0];
  }

  qualityEvents(from: number, to: number): Promise<QualityRow[]> {
    return this.raw<QualityRow>(REPORT_SQL.quality, { from, to });
  }

  async cameBack(id: string, reference: string, category: string, after: number, until: number): Promise<boolean> {
    return (await this.raw(REPORT_SQL.repeat, { id, reference, category, after, until })).length > 0;
  }

  async complaintContacts(from: number, to: number): Promise<ComplaintContactRow[]> {
    const { text, values } = bindNamed(REPORT_SQL.complaints, { from, to });
    return (await this.db.query<ComplaintContactRow>(text, values)).rows;
  }

  async hazardClocks(from: number, to: number, standards: readonly string[]): Promise<{ clocks: HazardClock[]; raised: number }> {
    const clocks: HazardClock[] = [];
    for (const standard of standards) for (const r of await this.raw<HazardRaw>(REPORT_SQL.hazardClocks, { from, to, standard })) clocks.push(hazardClockOf(r));
    if (clocks.length === 0) return { clocks, raised: 0 };
    const ids = [...new Set(clocks.map((c) => c.contactId))];
    return { clocks, raised: (await this.raw<[number]>(REPORT_SQL.raised, { ids, from, to }))[0]![0] };
  }

  holidaysBetween(division: string, fromDate: string, toDate: string): Promise<Array<[date: string, title: string]>> {
    return this.raw(REPORT_SQL.holidays, { division, fromDate, toDate });
  }

  closuresBetween(from: number, to: number): Promise<Array<[calendarId: string, from: number, to: number, reason: string | null]>> {
    return this.raw(REPORT_SQL.closures, { from, to });
  }

  async teams(): Promise<Map<string, string>> {
    return teamsOf(await this.raw<[string, string]>(REPORT_SQL.users, {}));
  }

  /** Rows as arrays (the SQLite store's raw rows), parameters bound by name. */
  private async raw<R>(sql: string, params: Record<string, unknown>): Promise<R[]> {
    const { text, values } = bindNamed(sql, params);
    return (await this.db.query({ text, values, rowMode: 'array' })).rows as R[];
  }
}

/** Published weeks (read side): the newest revision of a week, the newest week. The command inserts (privacy-commands.ts). */
export class PgPublishedReportStore implements PublishedReads {
  constructor(private readonly db: Queryable) {}

  async published(week: string): Promise<PublishedRow | null> {
    return (await publishedOf(this.db, week)) ?? null;
  }

  async lastPublishedWeek(): Promise<string | null> {
    return (await this.db.query<{ week: string }>(REPORT_SQL.lastWeek)).rows[0]?.week ?? null;
  }
}

/** The newest revision of a week, on any connection (the publish command reads it under its lock). */
export async function publishedOf(db: Queryable, week: string): Promise<PublishedRow | undefined> {
  const { text, values } = bindNamed(REPORT_SQL.latest, { week });
  return (await db.query<PublishedRow>(text, values)).rows[0];
}
