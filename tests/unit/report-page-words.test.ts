// The report page's own arithmetic (web/src/reports.ts): which week is "last week" in London, moving
// by weeks across years with 52 and 53 weeks, and the words of rates and changes. The figures
// themselves come from the server; these only choose the week to ask for and format the answer.
import { describe, expect, it } from 'vitest';
import { isoWeekOf, shiftIsoWeek } from '../../server/reports/week.js';
import { isoWeekOfDate, lastWeek, pct, points, shiftWeek, signed, span, weekSpan } from '../../web/src/reports.js';

describe('weeks on the page agree with the server', () => {
  it.each([
    ['2026-04-08T09:00:00Z', '2026-W14'],
    ['2026-04-05T22:59:59Z', '2026-W13'], // Sunday 23:59 BST
    ['2026-04-05T23:00:00Z', '2026-W14'], // Monday 00:00 BST: a new week in London, still Sunday in UTC
    ['2027-01-04T10:00:00Z', '2026-W53'],
    ['2026-01-05T10:00:00Z', '2026-W01'],
  ])('at %s last week is %s', (now, week) => {
    expect(lastWeek(Date.parse(now))).toBe(week);
    expect(lastWeek(Date.parse(now))).toBe(shiftIsoWeek(isoWeekOf(Date.parse(now)), -1));
  });

  it('moves by weeks as the server does, across 52- and 53-week years', () => {
    for (const week of ['2026-W01', '2026-W52', '2026-W53', '2027-W01', '2020-W53', '2021-W01', '2025-W01']) {
      for (const n of [-60, -1, 1, 2, 60]) expect(shiftWeek(week, n), `${week} ${n}`).toBe(shiftIsoWeek(week, n));
    }
    expect(isoWeekOfDate(2027, 1, 3)).toBe('2026-W53');
  });
});

describe('words', () => {
  it('formats rates, changes and spans', () => {
    expect([pct(null), pct(0.93181), pct(1)]).toEqual(['—', '93.2%', '100.0%']);
    expect([points(0.023), points(-0.333), points(0), points(null)]).toEqual(['+2.3 pts', '−33.3 pts', '0.0 pts', '—']);
    expect([signed(12), signed(-3), signed(0)]).toEqual(['+12', '−3', '0']);
    expect([span(42_000), span(200_000), span(18_600_000), span(183_600_000), span(null)]).toEqual(['42 s', '3 min 20 s', '5 h 10 min', '2 d 3 h', '—']);
    expect(weekSpan('2026-03-29T23:00:00.000Z', '2026-04-05T23:00:00.000Z', 'Europe/London')).toBe('Mon 30 Mar to Sun 5 Apr 2026');
  });
});
