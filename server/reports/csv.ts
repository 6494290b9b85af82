// The weekly report as CSV (issue 16): RFC 4180 (CRLF, fields quoted when they hold a comma, a quote or
// a line break) written by csv-stringify. One file, several tables: every record starts with its
// table's name, and each table begins with a header record whose first field is `table`, so a
// spreadsheet shows the tables one under the other and a program picks a table by its first field.
// Tables: `report` (the week), `standards` (one row per standard and channel), `phone`, `phone-by-queue`
// (one row per named phone queue, issue 13), `phone-half-hour`,
// `complaints`, `complaints-open` (past target, with age), `hazards` (Awaab's Law: one row per
// category), `hazards-open` (hazard clocks past target, with age). Rates are fractions 0–1 and durations
// milliseconds, as in the JSON; an empty field is the JSON's null.
import { stringify } from 'csv-stringify/sync';
import type { WeeklyReport } from './types.js';

type Cell = string | number | null;

export const STANDARD_COLUMNS = ['standard', 'channel', 'versions', 'clocks', 'met', 'missed', 'breached', 'cancelled', 'metExtended', 'missedExtended', 'open', 'abandoned', 'compliance', 'replyMedianMs', 'replyP90Ms'] as const;
export const PHONE_COLUMNS = [
  'offered', 'answered', 'answeredWithinTarget', 'abandoned', 'shortAbandons', 'waiting', 'serviceLevel',
  'serviceLevelAbandonsIgnored', 'serviceLevelAbandonsInFavour', 'serviceLevelRemovedFromQueue',
  'abandonRate', 'averageSpeedOfAnswerMs', 'longestWaitMs', 'callbacksRequested', 'callbacksConnected', 'callbacksWithinTarget',
] as const;
export const QUEUE_COLUMNS = ['queue', 'name', 'offered', 'answered', 'answeredWithinTarget', 'abandoned', 'shortAbandons', 'serviceLevel', 'averageSpeedOfAnswerMs', 'longestWaitMs'] as const;
export const HALF_HOUR_COLUMNS = ['start', 'offered', 'answered', 'answeredWithinTarget', 'abandoned', 'shortAbandons', 'serviceLevel', 'averageSpeedOfAnswerMs'] as const;
export const COMPLAINT_COLUMNS = ['received', 'acknowledged', 'acknowledgedWithinTarget', 'acknowledgeRate', 'resolved', 'resolvedWithinTarget', 'resolvedWithinExtension', 'resolveRate', 'extended', 'openPastTarget'] as const;
export const OPEN_COMPLAINT_COLUMNS = ['contactId', 'standard', 'receivedAt', 'dueAt', 'ageMs', 'overdueMs'] as const;
export const HAZARD_COLUMNS = [
  'category', 'received', 'investigated', 'investigatedInTime', 'investigationsCancelled', 'summariesDue', 'summariesSent', 'summariesSentInTime',
  'makeSafeDue', 'madeSafe', 'madeSafeInTime', 'temporaryAccommodation', 'temporaryAccommodationInTime',
  'furtherWorkDue', 'furtherWorkStarted', 'furtherWorkInTime', 'furtherWorkInExtension', 'openPastTarget', 'raisedToEmergency',
] as const;
export const OPEN_HAZARD_COLUMNS = ['category', 'contactId', 'standard', 'receivedAt', 'dueAt', 'ageMs', 'overdueMs'] as const;
export const REPORT_COLUMNS = ['week', 'from', 'to', 'zone', 'hours', 'builtAt', 'pack', 'state', 'revision', 'publishedAt', 'publishedBy'] as const;

export function weeklyCsv(r: WeeklyReport): string {
  const rows: Cell[][] = [];
  const table = (name: string, columns: readonly string[], records: Cell[][]) => {
    rows.push(['table', ...columns]);
    for (const rec of records) rows.push([name, ...rec]);
  };
  const p = r.publication;
  table('report', REPORT_COLUMNS, [[r.week, r.from, r.to, r.zone, r.hours, r.builtAt, r.pack, p.state, p.revision, p.publishedAt, p.publishedBy]]);
  table(
    'standards',
    STANDARD_COLUMNS,
    r.standards.map((s) => [s.standard, s.channel, s.versions.join(' '), s.clocks, s.met, s.missed, s.breached, s.cancelled, s.metExtended, s.missedExtended, s.open, s.abandoned, s.compliance, s.replyMedianMs, s.replyP90Ms]),
  );
  const ph = r.phone;
  table('phone', PHONE_COLUMNS, [
    [
      ph.offered, ph.answered, ph.answeredWithinTarget, ph.abandoned, ph.shortAbandons, ph.waiting, ph.serviceLevel,
      ph.serviceLevels['abandons-ignored'], ph.serviceLevels['abandons-in-favour'], ph.serviceLevels['removed-from-queue'],
      ph.abandonRate, ph.averageSpeedOfAnswerMs, ph.longestWaitMs, ph.callbacksRequested, ph.callbacksConnected, ph.callbacksWithinTarget,
    ],
  ]);
  // Weeks published before named queues carry no byQueue: the table's header alone.
  table('phone-by-queue', QUEUE_COLUMNS, (ph.byQueue ?? []).map((q) => [q.queue, q.name, q.offered, q.answered, q.answeredWithinTarget, q.abandoned, q.shortAbandons, q.serviceLevel, q.averageSpeedOfAnswerMs, q.longestWaitMs]));
  table('phone-half-hour', HALF_HOUR_COLUMNS, r.halfHours.map((h) => [h.start, h.offered, h.answered, h.answeredWithinTarget, h.abandoned, h.shortAbandons, h.serviceLevel, h.averageSpeedOfAnswerMs]));
  const c = r.complaints;
  table('complaints', COMPLAINT_COLUMNS, [[c.received, c.acknowledged, c.acknowledgedWithinTarget, c.acknowledgeRate, c.resolved, c.resolvedWithinTarget, c.resolvedWithinExtension, c.resolveRate, c.extended, c.openPastTarget.length]]);
  table('complaints-open', OPEN_COMPLAINT_COLUMNS, c.openPastTarget.map((o) => [o.contactId, o.standard, o.receivedAt, o.dueAt, o.ageMs, o.overdueMs]));
  const hz = r.hazards;
  const cats = [hz.emergency, hz.significant];
  table(
    'hazards',
    HAZARD_COLUMNS,
    cats.map((h) => [
      h.category, h.received, h.investigated, h.investigatedInTime, h.investigationsCancelled, h.summariesDue, h.summariesSent, h.summariesSentInTime,
      h.makeSafeDue, h.madeSafe, h.madeSafeInTime, h.temporaryAccommodation, h.temporaryAccommodationInTime,
      h.furtherWorkDue, h.furtherWorkStarted, h.furtherWorkInTime, h.furtherWorkInExtension, h.openPastTarget.length,
      // Raised to emergency is counted once, on the emergency row.
      h.category === 'hazard-emergency' ? hz.raisedToEmergency : null,
    ]),
  );
  table('hazards-open', OPEN_HAZARD_COLUMNS, cats.flatMap((h) => h.openPastTarget.map((o) => [h.category, o.contactId, o.standard, o.receivedAt, o.dueAt, o.ageMs, o.overdueMs])));
  return stringify(rows, { record_delimiter: 'windows', cast: { number: (n) => String(n) } });
}
