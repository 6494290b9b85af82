// The weekly report as mail (server/notify/report-mail.ts): the week's span in words across months,
// years and the clock change; durations; text from the data escaped in the HTML; the link only
// when Kept knows its public address; and no mail (with the reason) when mail is not set up.
import { describe, expect, it } from 'vitest';
import { duration, sendWeeklyReport, weekSpan, weeklyReportMessage } from '../../server/notify/report-mail.js';
import { hazardFigures } from '../../server/reports/hazards.js';
import type { WeeklyReport } from '../../server/reports/types.js';

const report = (over: Partial<WeeklyReport> = {}): WeeklyReport => ({
  week: '2026-W14',
  from: '2026-03-29T23:00:00.000Z',
  to: '2026-04-05T23:00:00.000Z',
  zone: 'Europe/London',
  hours: 168,
  builtAt: '2026-04-06T06:00:00.000Z',
  pack: 'livewest',
  standards: [{ standard: 'email-reply', channel: 'email', versions: ['livewest-1'], clocks: 4, met: 3, missed: 1, breached: 0, cancelled: 0, metExtended: 0, missedExtended: 0, open: 0, abandoned: 0, compliance: 0.75, replyMedianMs: 3_600_000, replyP90Ms: 7_200_000 }],
  phone: {
    offered: 10, answered: 8, answeredWithinTarget: 6, abandoned: 1, shortAbandons: 1, waiting: 0, serviceLevel: 6 / 9,
    serviceLevels: { standard: 6 / 9, 'abandons-ignored': 0.75, 'abandons-in-favour': 0.7, 'removed-from-queue': 0.7 },
    abandonRate: 0.1, averageSpeedOfAnswerMs: 95_000, longestWaitMs: 610_000, callbacksRequested: 1, callbacksConnected: 1, callbacksWithinTarget: 0,
  },
  halfHours: [],
  complaints: { received: 2, acknowledged: 2, acknowledgedWithinTarget: 2, acknowledgeRate: 1, resolved: 1, resolvedWithinTarget: 1, resolvedWithinExtension: 0, resolveRate: 1, extended: 0, openPastTarget: [] },
  hazards: hazardFigures([], 0, 0),
  quality: { resolved: 0, resolvedFirstTime: 0, firstContactResolution: null, handled: 12, identityVerified: 9, idvRate: 0.75 },
  advisors: [],
  teams: [],
  worstBreaches: [],
  bankHolidays: [{ date: '2026-04-03', title: 'Good Friday', calendar: 'customer-services' }],
  closures: [{ calendar: 'customer-services', from: '2026-04-01T11:00:00.000Z', to: '2026-04-01T13:00:00.000Z', reason: 'Training <b>& "drills"</b>' }],
  change: null,
  publication: { state: 'published', publishedAt: '2026-04-06T06:00:00.000Z', publishedBy: 'kept (schedule)', revision: 1 },
  ...over,
});

describe('weekSpan', () => {
  it.each([
    ['2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z', 'Europe/London', '2 to 8 March 2026'],
    ['2026-03-29T23:00:00.000Z', '2026-04-05T23:00:00.000Z', 'Europe/London', '30 March to 5 April 2026'], // spans the clock change: BST on the 29th
    ['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z', 'Europe/London', '28 December 2026 to 3 January 2027'],
  ])('%s – %s in %s: %s', (from, to, zone, words) => {
    expect(weekSpan({ from, to, zone })).toBe(words);
  });
});

describe('duration', () => {
  it.each([
    [null, '—'],
    [42_000, '42 s'],
    [180_000, '3 min'],
    [200_000, '3 min 20 s'],
    [7_200_000, '2 h'],
    [18_600_000, '5 h 10 min'],
    [183_600_000, '2 d 3 h'],
  ])('%s ms: %s', (ms, words) => {
    expect(duration(ms)).toBe(words);
  });
});

describe('weeklyReportMessage', () => {
  it('words the week, escapes text from the data in the HTML, links to the page when the public address is known, attaches the CSV', () => {
    const m = weeklyReportMessage(report(), 'table,standard\r\n', { publicUrl: 'https://kept.example.org' });
    expect(m.subject).toBe('Kept weekly report 2026-W14: 30 March to 5 April 2026');
    expect(m.html).toContain('Training &#60;b&#62;&#38; &#34;drills&#34;&#60;/b&#62;');
    expect(m.html).not.toContain('<b>& "drills"</b>');
    expect(m.html).toContain('<a href="https://kept.example.org/reports?week=2026-W14">');
    expect(m.html).toContain('66.7%'); // the service level, one decimal
    expect(m.text).toContain('- 2026-04-03: Good Friday');
    expect(m.text).toContain('- Average speed of answer: 1 min 35 s');
    expect(m.attachments).toEqual([{ filename: 'kept-2026-W14.csv', content: 'table,standard\r\n', contentType: 'text/csv' }]);
  });

  it('has no link without KEPT_PUBLIC_URL, and says which revision a regenerated week is', () => {
    const m = weeklyReportMessage(report({ publication: { state: 'regenerated', publishedAt: '2026-04-08T09:00:00.000Z', publishedBy: 'olu@example.org', revision: 2 } }), '', { publicUrl: '' });
    expect(m.html).not.toContain('<a href');
    expect(m.subject).toBe('Kept weekly report 2026-W14: 30 March to 5 April 2026 (regenerated, revision 2)');
  });
});

describe('sendWeeklyReport', () => {
  it('sends nothing and says why when mail is not set up', async () => {
    await expect(sendWeeklyReport({ mailer: null, recipients: ['a@example.org'], publicUrl: '' }, report(), '')).resolves.toEqual({ sent: false, reason: 'no SMTP server configured (KEPT_SMTP_HOST)', recipients: 0 });
  });
});
