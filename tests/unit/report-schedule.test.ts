// The Monday job's timetable (server/reports/schedule.ts): which run was due last at a given instant
// and which week it reports, across the clock changes and a year with 53 weeks; and node-cron armed
// with Kept's expression and zone fires on Mondays at 07:00 London time, in GMT and in BST alike.
import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { lastScheduledRun, WEEKLY_CRON, weekReportedAt } from '../../server/reports/schedule.js';
import { REPORT_ZONE } from '../../server/reports/week.js';

const at = (iso: string) => Date.parse(iso);
const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

describe('lastScheduledRun and weekReportedAt', () => {
  const cases: Array<[string, string, string, string]> = [
    // [now, the last Monday 07:00 London at or before it, the week that run reports, why]
    ['2026-03-09T07:00:00.000Z', '2026-03-09T07:00:00.000Z', '2026-W10', 'the run itself (GMT: 07:00 London is 07:00Z)'],
    ['2026-03-09T06:59:59.999Z', '2026-03-02T07:00:00.000Z', '2026-W09', 'a millisecond before: last Monday’s run'],
    ['2026-03-11T15:00:00.000Z', '2026-03-09T07:00:00.000Z', '2026-W10', 'mid-week'],
    ['2026-04-06T06:00:00.000Z', '2026-04-06T06:00:00.000Z', '2026-W14', 'BST: 07:00 London is 06:00Z'],
    ['2026-04-06T05:59:00.000Z', '2026-03-30T06:00:00.000Z', '2026-W13', 'before it: the Monday after the clocks went forward (W13 was 167 hours)'],
    ['2026-10-26T07:00:00.000Z', '2026-10-26T07:00:00.000Z', '2026-W43', 'the Monday after the clocks went back (W43 was 169 hours)'],
    ['2026-10-26T06:30:00.000Z', '2026-10-19T06:00:00.000Z', '2026-W42', 'half an hour early in GMT: the BST run of the Monday before'],
    ['2027-01-04T07:00:00.000Z', '2027-01-04T07:00:00.000Z', '2026-W53', '2026 has 53 ISO weeks'],
    ['2027-01-03T23:00:00.000Z', '2026-12-28T07:00:00.000Z', '2026-W52', 'Sunday night'],
  ];
  it.each(cases)('at %s the last run was %s, reporting %s (%s)', (now, run, week) => {
    const last = lastScheduledRun(at(now));
    expect(new Date(last).toISOString()).toBe(run);
    expect(weekReportedAt(last)).toBe(week);
  });
});

describe('node-cron with Kept’s expression and zone', () => {
  it('fires every Monday at 07:00 London time, through both clock changes', () => {
    const task = cron.createTask(WEEKLY_CRON, () => {}, { timezone: REPORT_ZONE });
    try {
      const runs = task.getNextRuns(60); // more than a year: both changes fall inside
      expect(runs).toHaveLength(60);
      for (const r of runs) expect(london.format(r)).toBe('Monday 07:00:00');
      // One week apart, except across a change: 167 or 169 hours.
      const gaps = new Set(runs.slice(1).map((r, i) => (r.getTime() - runs[i]!.getTime()) / 3_600_000));
      expect([...gaps].sort()).toEqual([167, 168, 169]);
      // And each run is the instant lastScheduledRun names for itself.
      for (const r of runs) expect(lastScheduledRun(r.getTime())).toBe(r.getTime());
    } finally {
      void task.destroy();
    }
  });
});
