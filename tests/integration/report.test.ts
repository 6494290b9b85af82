// The weekly SLA report (issue 16) on fixture weeks whose every figure is worked out by hand below,
// from the fixture's own instants (never copied from the report's output): 2026-W10 (an ordinary GMT
// week), 2026-W13 (the clocks go forward: 167 hours), 2026-W14 (Good Friday and a closure), 2026-W43
// (the clocks go back: 169 hours). Real SQLite file, real HTTP, the writer thread.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hazardFigures } from '../../server/reports/hazards.js';
import type { PublishedWeek, RegulatorView, ReportChange, WeeklyReport, WeeklyTrend } from '../../server/reports/types.js';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

const at = (iso: string) => Date.parse(iso);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
/** The instant the reports are built as of (a Monday, GMT): the app's clock. */
const NOW = at('2026-11-02T12:00:00.000Z');
const ANN = 'ann@staff.example.org';
const BOB = 'bob@staff.example.org';

let t: TestApp;
let manager: SignedIn;
const ids: Record<string, string> = {};

async function contact(name: string, input: Record<string, unknown>): Promise<void> {
  const r = await t.service.createContact({ externalId: `fixture-${name}`, ...input } as Parameters<TestApp['service']['createContact']>[0]);
  ids[name] = r.contact.id;
}
const call = (name: string, receivedAt: string, events: Array<Record<string, unknown>> = []) => contact(name, { channel: 'phone', receivedAt, events });
const ack = (iso: string, stage?: 2) => ({ type: 'acknowledged', reference: 'CMP-1', owner: 'Cat', at: iso, ...(stage ? { stage } : {}) });

beforeAll(async () => {
  t = await startTestApp({ KEPT_HOMES: '2000' }, { now: () => NOW });
  await t.app.people.create({ email: ANN, name: 'Ann', role: 'advisor', queues: ['customer-services'], passwordHash: 'not-a-password-hash' }, NOW);
  manager = await t.signIn('manager');
  // A closure before the week it falls in is written: its clocks are computed with it.
  await t.service.addClosure('customer-services', { from: at('2026-04-01T12:00:00Z'), to: at('2026-04-01T16:00:00Z'), reason: 'Training' }, 'test');

  // ---- 2026-W10: Monday 2 March 00:00 GMT to Monday 9 March 00:00 GMT.
  await call('P1', '2026-03-02T09:00:00Z', [{ type: 'answered', at: '2026-03-02T09:02:00Z' }, { type: 'identity-verified', at: '2026-03-02T09:03:00Z' }]);
  await call('P2', '2026-03-02T09:10:00Z', [{ type: 'answered', at: '2026-03-02T09:16:00Z' }, { type: 'identity-verified', at: '2026-03-02T09:17:00Z' }]);
  await call('P3', '2026-03-02T09:20:00Z', [{ type: 'abandoned', at: '2026-03-02T09:20:03Z' }]);
  await call('P4', '2026-03-03T14:40:00Z', [{ type: 'abandoned', at: '2026-03-03T14:42:00Z' }]);
  await call('P5', '2026-03-03T14:50:00Z', [{ type: 'callback-requested', at: '2026-03-03T14:51:00Z' }, { type: 'callback-connected', at: '2026-03-03T14:54:00Z' }]);
  await call('P6', '2026-03-04T10:00:00Z', [{ type: 'callback-requested', at: '2026-03-04T10:01:00Z' }, { type: 'callback-connected', at: '2026-03-04T10:30:00Z' }]);
  await call('P7', '2026-03-08T23:59:00Z', [{ type: 'answered', at: '2026-03-09T00:01:00Z' }]);
  await call('P8', '2026-03-09T00:00:00Z', [{ type: 'answered', at: '2026-03-09T00:00:30Z' }]); // W11
  await call('P9', '2026-03-01T23:59:59.999Z', [{ type: 'answered', at: '2026-03-02T00:00:59Z' }]); // W09
  await call('P10', '2026-03-05T11:00:00Z'); // never answered: still queued as of NOW
  await call('P11', '2026-03-06T12:00:00Z', [{ type: 'cancelled', reason: 'duplicate', at: '2026-03-06T12:00:10Z' }]);

  await contact('E1', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'assigned', assignee: ANN, at: '2026-03-02T10:05:00Z' }, { type: 'replied', at: '2026-03-02T15:00:00Z' }] });
  await contact('E2', { channel: 'email', receivedAt: '2026-03-02T10:00:00Z', events: [{ type: 'assigned', assignee: ANN, at: '2026-03-02T10:05:00Z' }, { type: 'replied', at: '2026-03-03T10:00:00.001Z' }] });
  await contact('E3', { channel: 'email', receivedAt: '2026-03-06T16:00:00Z', events: [{ type: 'assigned', assignee: BOB, at: '2026-03-06T16:10:00Z' }] });
  await contact('E4', { channel: 'email', receivedAt: '2026-03-07T11:00:00Z', events: [{ type: 'cancelled', reason: 'spam', at: '2026-03-07T11:30:00Z' }] });
  await contact('E5', { channel: 'email', receivedAt: '2026-03-04T09:00:00Z', events: [{ type: 'replied', at: '2026-03-05T08:30:00Z' }] });

  const complaint = (channel: string) => ({ channel, category: 'complaint' });
  await contact('C1', { ...complaint('webform'), receivedAt: '2026-03-06T16:00:00Z', customer: { reference: 'T100' }, events: [ack('2026-03-07T10:00:00Z'), { type: 'extended', clock: 'complaint-resolve', until: '2026-03-27T17:00:00Z', at: '2026-03-09T10:00:00Z' }] });
  await contact('C2', { ...complaint('email'), receivedAt: '2026-03-02T09:00:00Z' });
  await contact('C3', { ...complaint('webform'), receivedAt: '2026-03-03T10:00:00Z', customer: { reference: 'T300' }, events: [ack('2026-03-04T11:00:00Z'), { type: 'resolved', at: '2026-03-05T10:00:00Z' }] });
  await contact('C4', {
    ...complaint('email'),
    receivedAt: '2026-03-02T09:30:00Z',
    customer: { reference: 'T400' },
    events: [ack('2026-03-02T10:00:00Z'), { type: 'resolved', at: '2026-03-03T10:00:00Z' }, { type: 'escalated', at: '2026-03-04T09:00:00Z' }, ack('2026-03-06T09:00:00Z', 2), { type: 'resolved', stage: 2, at: '2026-03-06T15:00:00Z' }],
  });
  // T400 comes back on the same matter within 7 days of C4's resolution (in W11): C4 was not resolved first time.
  await contact('C4-again', { ...complaint('email'), receivedAt: '2026-03-09T09:00:00Z', customer: { reference: 'T400' } });

  // ---- 2026-W13 (Monday 23 March 00:00 GMT to Monday 30 March 00:00 BST = 29 March 23:00 UTC).
  await call('Q1', '2026-03-29T00:30:00Z', [{ type: 'answered', at: '2026-03-29T00:31:00Z' }]); // 00:30 GMT
  await call('Q2', '2026-03-29T01:30:00Z', [{ type: 'answered', at: '2026-03-29T01:37:00Z' }]); // 02:30 BST, answered after 7 minutes
  await call('Q3', '2026-03-29T23:30:00Z', [{ type: 'answered', at: '2026-03-29T23:31:00Z' }]); // Monday 00:30 BST: W14

  // ---- 2026-W14 (Good Friday 3 April; a closure on Wednesday 1 April 13:00–17:00 BST).
  await contact('G1', { channel: 'email', receivedAt: '2026-04-02T14:00:00Z', events: [{ type: 'replied', at: '2026-04-07T13:00:00Z' }] });
  await contact('G2', { channel: 'email', receivedAt: '2026-04-01T10:00:00Z', events: [{ type: 'replied', at: '2026-04-02T14:00:00Z' }] });
  await call('G3', '2026-03-31T08:10:00Z', [{ type: 'answered', at: '2026-03-31T08:11:00Z' }]); // 09:10 BST

  // ---- 2026-W43 (Monday 19 October 00:00 BST = 18 October 23:00 UTC, to Monday 26 October 00:00 GMT).
  await call('R1', '2026-10-18T22:59:00Z', [{ type: 'answered', at: '2026-10-18T23:00:00Z' }]); // Sunday 23:59 BST: W42
  await call('R2', '2026-10-18T23:30:00Z', [{ type: 'answered', at: '2026-10-18T23:32:00Z' }]); // Monday 00:30 BST
  await call('R3', '2026-10-25T23:59:00Z', [{ type: 'answered', at: '2026-10-26T00:00:00Z' }]); // Sunday 23:59 GMT
});
afterAll(async () => {
  await t?.close();
});

const get = async <T>(url: string, headers: Record<string, string> = t.auth) => {
  const r = await t.app.inject({ method: 'GET', url, headers });
  return { status: r.statusCode, body: r.body, type: String(r.headers['content-type']), json: () => r.json() as T };
};
const weekly = async (week: string) => {
  const r = await get<WeeklyReport>(`/api/v1/reports/weekly/${week}`);
  expect(r.status, r.body).toBe(200);
  return r.json();
};
const row = (r: WeeklyReport, standard: string, channel: string) => {
  const found = r.standards.find((s) => s.standard === standard && s.channel === channel);
  if (found === undefined) throw new Error(`no row ${standard}/${channel}`);
  return found;
};

describe('2026-W10, every figure by hand', () => {
  let r: WeeklyReport;
  beforeAll(async () => {
    r = await weekly('2026-W10');
  });

  it('the week and when it was judged', () => {
    expect(r).toMatchObject({ week: '2026-W10', from: '2026-03-02T00:00:00.000Z', to: '2026-03-09T00:00:00.000Z', hours: 168, zone: 'Europe/London', builtAt: new Date(NOW).toISOString(), pack: 'livewest' });
    expect(r.publication).toEqual({ state: 'draft', publishedAt: null, publishedBy: null, revision: 0 });
    expect(r.bankHolidays).toEqual([]);
    expect(r.closures).toEqual([]);
  });

  it('phone-answer: the clocks that started in the week (P1–P7, P10, P11; not P8 or P9)', () => {
    // Waits of the answered calls: P1 2 min, P2 6 min, P5 4 min, P6 30 min, P7 2 min.
    const waits = [2 * MIN, 6 * MIN, 4 * MIN, 30 * MIN, 2 * MIN].sort((a, b) => a - b);
    expect(row(r, 'phone-answer', 'phone')).toEqual({
      standard: 'phone-answer',
      channel: 'phone',
      versions: ['livewest-1'],
      clocks: 9,
      met: 3, // P1, P5, P7
      missed: 2, // P2, P6
      breached: 1, // P10
      cancelled: 1, // P11
      metExtended: 0,
      missedExtended: 0,
      open: 0,
      abandoned: 2, // P3 (short), P4
      compliance: 3 / (3 + 2 + 1),
      replyMedianMs: waits[2], // nearest rank: ceil(0.5 × 5) = 3rd
      replyP90Ms: waits[4], // ceil(0.9 × 5) = 5th
    });
  });

  it('email-reply in working time (E1–E5)', () => {
    // E1: Mon 10:00–15:00 = 5 h. E2: Mon 10:00–17:00 and Tue 08:00–10:00:00.001 = 9 h + 1 ms (missed by 1 ms).
    // E5: Wed 09:00–17:00 and Thu 08:00–08:30 = 8 h 30 min (due Thu 09:00: met).
    const replies = [5 * H, 9 * H + 1, 8.5 * H].sort((a, b) => a - b);
    expect(row(r, 'email-reply', 'email')).toEqual({
      standard: 'email-reply',
      channel: 'email',
      versions: ['livewest-1'],
      clocks: 5,
      met: 2,
      missed: 1,
      breached: 1, // E3: due Mon 9 March 16:00 (1 h Friday, 8 h Monday), never replied
      cancelled: 1, // E4 (spam)
      metExtended: 0,
      missedExtended: 0,
      open: 0,
      abandoned: 0,
      compliance: 2 / 4,
      replyMedianMs: replies[1],
      replyP90Ms: replies[2],
    });
  });

  it('complaints by standard and channel', () => {
    // C1 acknowledged after 18 h (met); C3 after 25 h (missed); C4 after 30 min (met); C2 never (breached).
    expect(row(r, 'complaint-acknowledge', 'webform')).toMatchObject({ clocks: 2, met: 1, missed: 1, breached: 0, compliance: 0.5, replyMedianMs: 18 * H, replyP90Ms: 25 * H });
    expect(row(r, 'complaint-acknowledge', 'email')).toMatchObject({ clocks: 2, met: 1, breached: 1, compliance: 0.5, replyMedianMs: 30 * MIN, replyP90Ms: 30 * MIN });
    // C3 resolved Thu 10:00: Tue 10–17 (7 h) + Wed (9 h) + Thu 08–10 (2 h) = 18 h, met. C1 extended to 27 March, unresolved: breached.
    expect(row(r, 'complaint-resolve', 'webform')).toMatchObject({ clocks: 2, met: 1, breached: 1, metExtended: 0, compliance: 0.5, replyMedianMs: 18 * H });
    // C4 resolved Tue 10:00: Mon 09:30–17:00 (7.5 h) + Tue 08:00–10:00 (2 h) = 9.5 h. C2 due Mon 16 March 09:00 (90 h), breached.
    expect(row(r, 'complaint-resolve', 'email')).toMatchObject({ clocks: 2, met: 1, breached: 1, compliance: 0.5, replyMedianMs: 9.5 * H, replyP90Ms: 9.5 * H });
    // No written complaint gets the channel's reply clock; and no other row.
    expect(r.standards.map((s) => `${s.standard}/${s.channel}`)).toEqual([
      'phone-answer/phone',
      'email-reply/email',
      'complaint-acknowledge/email',
      'complaint-acknowledge/webform',
      'complaint-resolve/email',
      'complaint-resolve/webform',
    ]);
  });

  it('the phone figures and the four service levels', () => {
    // Offered: answered 5 (P1, P2, P5, P6, P7) + abandoned 1 (P4) + short 1 (P3) + still queued 1 (P10) = 8.
    expect(r.phone).toEqual({
      offered: 8,
      answered: 5,
      answeredWithinTarget: 3,
      abandoned: 1,
      shortAbandons: 1,
      waiting: 1,
      serviceLevel: 3 / (8 - 1),
      serviceLevels: {
        standard: 3 / 7,
        'abandons-ignored': 3 / (5 + 1), // answered + the call still waiting past target
        'abandons-in-favour': (3 + 1) / 7, // P4 left within 5 minutes
        'removed-from-queue': (3 + 1 + 1) / 8, // left the queue within 5 minutes (answered, P4, P3) ÷ offered
      },
      abandonRate: 1 / 8,
      averageSpeedOfAnswerMs: (2 + 6 + 4 + 30 + 2) * MIN / 5,
      longestWaitMs: NOW - at('2026-03-05T11:00:00Z'), // P10, still queued
      callbacksRequested: 2,
      callbacksConnected: 2,
      callbacksWithinTarget: 1, // P5 (4 min); P6 took 30
      // Named queues (issue 13): the calls were posted as contacts with no queue, so all are on their
      // route's, customer-services (the built-in queue with the answer promise); the same figures.
      byQueue: [
        {
          queue: 'customer-services', name: 'Customer services', offered: 8, answered: 5, answeredWithinTarget: 3, abandoned: 1, shortAbandons: 1,
          serviceLevel: 3 / 7, averageSpeedOfAnswerMs: (2 + 6 + 4 + 30 + 2) * MIN / 5, longestWaitMs: NOW - at('2026-03-05T11:00:00Z'),
        },
      ],
    });
  });

  it('by half hour of the local day (GMT this week)', () => {
    expect(r.halfHours).toHaveLength(48);
    const h = (start: string) => r.halfHours.find((x) => x.start === start)!;
    expect(h('09:00')).toEqual({ start: '09:00', offered: 3, answered: 2, answeredWithinTarget: 1, abandoned: 0, shortAbandons: 1, serviceLevel: 1 / 2, averageSpeedOfAnswerMs: 4 * MIN });
    expect(h('14:30')).toEqual({ start: '14:30', offered: 2, answered: 1, answeredWithinTarget: 1, abandoned: 1, shortAbandons: 0, serviceLevel: 1 / 2, averageSpeedOfAnswerMs: 4 * MIN });
    expect(h('10:00')).toMatchObject({ offered: 1, answered: 1, answeredWithinTarget: 0, serviceLevel: 0, averageSpeedOfAnswerMs: 30 * MIN });
    expect(h('23:30')).toMatchObject({ offered: 1, answered: 1, answeredWithinTarget: 1, serviceLevel: 1 });
    expect(h('11:00')).toMatchObject({ offered: 1, answered: 0, serviceLevel: 0, averageSpeedOfAnswerMs: null });
    expect(h('12:00')).toMatchObject({ offered: 0, serviceLevel: null }); // P11 was cancelled
    expect(r.halfHours.reduce((s, x) => s + x.offered, 0)).toBe(8);
  });

  it('complaints: acknowledged, resolved, extended, open past target with age', () => {
    expect(r.complaints).toEqual({
      received: 4,
      acknowledged: 3,
      acknowledgedWithinTarget: 2,
      acknowledgeRate: 2 / 4,
      resolved: 2,
      resolvedWithinTarget: 2,
      resolvedWithinExtension: 0,
      resolveRate: 2 / 4,
      extended: 1,
      openPastTarget: [
        { contactId: ids.C2, standard: 'complaint-acknowledge', receivedAt: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-03T09:00:00.000Z', ageMs: NOW - at('2026-03-02T09:00:00Z'), overdueMs: NOW - at('2026-03-03T09:00:00Z') },
        { contactId: ids.C2, standard: 'complaint-resolve', receivedAt: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-16T09:00:00.000Z', ageMs: NOW - at('2026-03-02T09:00:00Z'), overdueMs: NOW - at('2026-03-16T09:00:00Z') },
        { contactId: ids.C1, standard: 'complaint-resolve', receivedAt: '2026-03-06T16:00:00.000Z', dueAt: '2026-03-27T17:00:00.000Z', ageMs: NOW - at('2026-03-06T16:00:00Z'), overdueMs: NOW - at('2026-03-27T17:00:00Z') },
      ],
    });
  });

  it('first contact resolution and ID&V', () => {
    // Resolved: C3 and C4 (both carry a reference); T400 came back 6 days after C4's resolution.
    // Handled (answered, called back or replied to): P1, P2, P5, P6, P7, E1, E2, E5 = 8; verified: P1, P2.
    expect(r.quality).toEqual({ resolved: 2, resolvedFirstTime: 1, firstContactResolution: 1 / 2, handled: 8, identityVerified: 2, idvRate: 2 / 8 });
  });

  it('per advisor and per team', () => {
    // 22 clocks: 9 phone, 5 email, 8 complaint. Ann: E1 (met), E2 (missed); Bob: E3 (breached); the rest unassigned.
    expect(r.advisors).toEqual([
      expect.objectContaining({ key: 'unassigned', clocks: 22 - 3 }),
      { key: ANN, clocks: 2, met: 1, missed: 1, breached: 0, metExtended: 0, missedExtended: 0, cancelled: 0, compliance: 1 / 2, replyMedianMs: 5 * H },
      { key: BOB, clocks: 1, met: 0, missed: 0, breached: 1, metExtended: 0, missedExtended: 0, cancelled: 0, compliance: 0, replyMedianMs: null },
    ]);
    // Ann's first queue is her team; Bob is no user of Kept.
    expect(r.teams.map((x) => [x.key, x.clocks])).toEqual([
      ['unassigned', 19],
      ['customer-services', 2],
      ['no team', 1],
    ]);
  });

  it('the worst breaches, worst first, each linked to its contact', () => {
    const expected: Array<[string, string, number]> = [
      ['C2', 'complaint-acknowledge', NOW - at('2026-03-03T09:00:00Z')],
      ['P10', 'phone-answer', NOW - at('2026-03-05T11:05:00Z')],
      ['E3', 'email-reply', NOW - at('2026-03-09T16:00:00Z')],
      ['C2', 'complaint-resolve', NOW - at('2026-03-16T09:00:00Z')],
      ['C1', 'complaint-resolve', NOW - at('2026-03-27T17:00:00Z')],
      ['C3', 'complaint-acknowledge', H], // due Wed 10:00, acknowledged 11:00
      ['P6', 'phone-answer', 25 * MIN], // due 10:05, connected 10:30
      ['P2', 'phone-answer', MIN], // due 09:15, answered 09:16
      ['E2', 'email-reply', 1],
    ];
    expect(r.worstBreaches.map((b) => [b.contactId, b.standard, b.overdueMs])).toEqual(expected.map(([n, s, ms]) => [ids[n], s, ms]));
    expect(r.worstBreaches[0]).toMatchObject({ href: `/contacts/${ids.C2}`, status: 'breached', channel: 'email', assignee: null });
    expect(r.worstBreaches.find((b) => b.contactId === ids.E2)).toMatchObject({ status: 'missed', assignee: ANN, dueAt: '2026-03-03T10:00:00.000Z' });
  });

  it('the change on the previous week (W09: P9 alone, answered in 59.001 s)', () => {
    expect(r.change).toEqual({
      previousWeek: '2026-W09',
      standards: [
        { standard: 'phone-answer', channel: 'phone', clocks: 9 - 1, compliance: 0.5 - 1 },
        { standard: 'email-reply', channel: 'email', clocks: 5, compliance: null },
        { standard: 'complaint-acknowledge', channel: 'email', clocks: 2, compliance: null },
        { standard: 'complaint-acknowledge', channel: 'webform', clocks: 2, compliance: null },
        { standard: 'complaint-resolve', channel: 'email', clocks: 2, compliance: null },
        { standard: 'complaint-resolve', channel: 'webform', clocks: 2, compliance: null },
      ],
      phone: { offered: 8 - 1, serviceLevel: 3 / 7 - 1, averageSpeedOfAnswerMs: 528 * S - 59_001 },
      complaints: { received: 4, acknowledgeRate: null, resolveRate: null },
    });
  });

  it('building twice gives the same figures', async () => {
    expect(await weekly('2026-W10')).toEqual(r);
  });
});

describe('the weeks the clocks change, a bank holiday and a closure', () => {
  it('2026-W13 is 167 hours; its half hours are local (GMT, then BST)', async () => {
    const r = await weekly('2026-W13');
    expect(r).toMatchObject({ from: '2026-03-23T00:00:00.000Z', to: '2026-03-29T23:00:00.000Z', hours: 167 });
    // Q1 00:30 GMT, Q2 02:30 BST (7 minutes: missed); Q3 (Monday 00:30 BST) is W14's.
    expect(row(r, 'phone-answer', 'phone')).toMatchObject({ clocks: 2, met: 1, missed: 1, compliance: 0.5 });
    const h = (start: string) => r.halfHours.find((x) => x.start === start)!;
    expect([h('00:30').offered, h('02:30').offered, h('01:30').offered]).toEqual([1, 1, 0]);
    expect(r.phone).toMatchObject({ offered: 2, answeredWithinTarget: 1, serviceLevel: 0.5, averageSpeedOfAnswerMs: (1 + 7) * MIN / 2, longestWaitMs: 7 * MIN });
  });

  it('2026-W14: Good Friday and the closure are listed; working time skips them', async () => {
    const r = await weekly('2026-W14');
    expect(r).toMatchObject({ from: '2026-03-29T23:00:00.000Z', to: '2026-04-05T23:00:00.000Z', hours: 168 });
    expect(r.bankHolidays).toEqual([{ date: '2026-04-03', title: 'Good Friday', calendar: 'customer-services' }]);
    expect(r.closures).toEqual([{ calendar: 'customer-services', from: '2026-04-01T12:00:00.000Z', to: '2026-04-01T16:00:00.000Z', reason: 'Training' }]);
    // G1: Thu 15:00–17:00 BST (2 h), Good Friday and the weekend and Easter Monday skipped, Tue 08:00–14:00 BST (6 h) = 8 h: met.
    // G2: Wed 11:00–13:00 BST (2 h; closed 13:00–17:00), Thu 08:00–15:00 BST (7 h) = 9 h: met at its due instant.
    expect(row(r, 'email-reply', 'email')).toMatchObject({ clocks: 2, met: 2, compliance: 1, replyMedianMs: 8 * H, replyP90Ms: 9 * H });
    // G3 joined at 09:10 BST (08:10 UTC), Q3 at 00:30 BST.
    const h = (start: string) => r.halfHours.find((x) => x.start === start)!;
    expect([h('09:00').offered, h('08:00').offered, h('00:30').offered]).toEqual([1, 0, 1]);
  });

  it('2026-W43 is 169 hours (25 October: the clocks go back)', async () => {
    const r = await weekly('2026-W43');
    expect(r).toMatchObject({ from: '2026-10-18T23:00:00.000Z', to: '2026-10-26T00:00:00.000Z', hours: 169 });
    // R2 (Monday 00:30 BST) and R3 (Sunday 23:59 GMT) are in it; R1 (Sunday 23:59 BST) is W42's.
    expect(row(r, 'phone-answer', 'phone')).toMatchObject({ clocks: 2, met: 2 });
    expect((await weekly('2026-W42')).phone.offered).toBe(1);
    expect((await weekly('2026-W44')).hours).toBe(168);
  });
});

describe('the CSV', () => {
  it('is RFC 4180, asked for by ?format=csv or Accept, and parses back to the JSON figures', async () => {
    const json = await weekly('2026-W10');
    const byQuery = await get('/api/v1/reports/weekly/2026-W10?format=csv');
    const byAccept = await get('/api/v1/reports/weekly/2026-W10', { ...t.auth, accept: 'text/csv' });
    expect(byQuery.status).toBe(200);
    expect(byQuery.type).toBe('text/csv; charset=utf-8');
    expect(byAccept.body).toBe(byQuery.body);
    expect(byQuery.body).toMatch(/\r\n$/);
    expect(byQuery.body.split('\r\n').slice(0, -1).every((line) => !line.includes('\n'))).toBe(true);
    const records = parse(byQuery.body, { relax_column_count: true }) as string[][];
    const table = (name: string) => {
      const header = records.find((rec, i) => rec[0] === 'table' && records[i + 1]?.[0] === name)!;
      return records.filter((rec) => rec[0] === name).map((rec) => Object.fromEntries(header.slice(1).map((col, i) => [col, rec[i + 1]!])));
    };
    const num = (v: number | null) => (v === null ? '' : String(v));
    expect(table('report')).toEqual([expect.objectContaining({ week: '2026-W10', hours: '168', state: 'draft', builtAt: new Date(NOW).toISOString() })]);
    const standards = table('standards');
    expect(standards).toHaveLength(json.standards.length);
    for (const s of json.standards) {
      const rec = standards.find((x) => x.standard === s.standard && x.channel === s.channel)!;
      expect(rec).toEqual({
        standard: s.standard, channel: s.channel, versions: 'livewest-1', clocks: num(s.clocks), met: num(s.met), missed: num(s.missed), breached: num(s.breached),
        cancelled: num(s.cancelled), metExtended: num(s.metExtended), missedExtended: num(s.missedExtended), open: num(s.open), abandoned: num(s.abandoned),
        compliance: num(s.compliance), replyMedianMs: num(s.replyMedianMs), replyP90Ms: num(s.replyP90Ms),
      });
    }
    // By hand, as above: phone-answer 3 met of 6 counted.
    expect(standards[0]).toMatchObject({ standard: 'phone-answer', clocks: '9', met: '3', compliance: '0.5' });
    expect(table('phone')).toEqual([expect.objectContaining({ offered: '8', answered: '5', serviceLevel: String(3 / 7), serviceLevelRemovedFromQueue: String(5 / 8), averageSpeedOfAnswerMs: String(528 * S) })]);
    expect(table('phone-half-hour')).toHaveLength(48);
    expect(table('phone-half-hour').find((h) => h.start === '09:00')).toMatchObject({ offered: '3', serviceLevel: '0.5' });
    expect(table('complaints')).toEqual([expect.objectContaining({ received: '4', acknowledgeRate: '0.5', extended: '1', openPastTarget: '3' })]);
    expect(table('complaints-open').map((o) => o.contactId)).toEqual([ids.C2, ids.C2, ids.C1]);
    // An empty field is the JSON's null: a week with no calls.
    const empty = parse((await get('/api/v1/reports/weekly/2026-W30?format=csv')).body, { relax_column_count: true }) as string[][];
    expect(empty.find((rec) => rec[0] === 'phone')!.slice(1)).toEqual(['0', '0', '0', '0', '0', '0', '', '', '', '', '', '', '', '0', '0', '0']);
  });
});

describe('publishing and regenerating', () => {
  it('a week is stored as published; publishing again is refused; regenerating records what changed and who asked', async () => {
    const draft = await weekly('2026-W10');
    const publish = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W10/publish', headers: manager.headers, payload: {} });
    expect(publish.statusCode, publish.body).toBe(201);
    const published = publish.json() as Omit<PublishedWeek, 'publishedAt'> & { publishedAt: string };
    expect(published).toMatchObject({ week: '2026-W10', revision: 1, publishedBy: manager.email, publishedAt: new Date(NOW).toISOString() });
    expect(published.report.publication).toEqual({ state: 'published', publishedAt: new Date(NOW).toISOString(), publishedBy: manager.email, revision: 1 });
    expect({ ...published.report, publication: draft.publication }).toEqual(draft);

    const again = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W10/publish', headers: manager.headers, payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ field: 'week' });
    const never = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W11/regenerate', headers: manager.headers, payload: { reason: 'why not' } });
    expect(never.statusCode).toBe(404);

    // E3 is answered late; the stored week does not move until someone regenerates it.
    await t.service.addEvents(ids.E3!, [{ type: 'replied', at: '2026-03-10T09:00:00Z' }]);
    expect((await weekly('2026-W10')).publication.revision).toBe(1);
    expect(row(await weekly('2026-W10'), 'email-reply', 'email')).toMatchObject({ breached: 1, missed: 1 });
    const draftNow = await get<WeeklyReport>('/api/v1/reports/weekly/2026-W10?draft=true');
    expect(row(draftNow.json(), 'email-reply', 'email')).toMatchObject({ breached: 0, missed: 2 });

    const noReason = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W10/regenerate', headers: manager.headers, payload: { reason: '  ' } });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({ field: 'reason' });
    const regen = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W10/regenerate', headers: manager.headers, payload: { reason: 'late reply to E3 recorded' } });
    expect(regen.statusCode, regen.body).toBe(201);
    const { published: second, changes } = regen.json() as { published: PublishedWeek; changes: ReportChange[] };
    expect(second).toMatchObject({ revision: 2, reason: 'late reply to E3 recorded' });
    expect(second.report.publication.state).toBe('regenerated');
    const change = (path: string) => changes.find((c) => c.path === path);
    expect(change('standards[email-reply/email].missed')).toEqual({ path: 'standards[email-reply/email].missed', before: 1, after: 2 });
    expect(change('standards[email-reply/email].breached')).toEqual({ path: 'standards[email-reply/email].breached', before: 1, after: 0 });
    expect(change('standards[email-reply/email].compliance')).toBeUndefined(); // 2 of 4 either way
    expect(changes.some((c) => c.path.startsWith('builtAt') || c.path.startsWith('publication'))).toBe(false);
    expect((await weekly('2026-W10')).publication).toMatchObject({ state: 'regenerated', revision: 2 });

    const audit = (await t.service.audit.page({ action: 'report.regenerate' })).items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: manager.email, detail: { week: '2026-W10', revision: 2, reason: 'late reply to E3 recorded', changeCount: changes.length } });
    expect((await t.service.audit.page({ action: 'report.publish' })).items.map((e) => [e.actor, (e.detail as { week: string }).week])).toEqual([[manager.email, '2026-W10']]);
  });

  it('an integration may read but not publish', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W12/publish', headers: t.auth, payload: {} });
    expect(r.statusCode).toBe(403);
  });
});

describe('the trend and the regulator', () => {
  it('twelve weeks up to last week by default, oldest first', async () => {
    const r = await get<WeeklyTrend>('/api/v1/reports/trend');
    expect(r.status, r.body).toBe(200);
    const trend = r.json();
    expect(trend.to).toBe('2026-W44');
    expect(trend.weeks.map((w) => w.week)).toEqual(Array.from({ length: 12 }, (_, i) => `2026-W${33 + i}`));
    const ten = (await get<WeeklyTrend>('/api/v1/reports/trend?weeks=3&to=2026-W11')).json();
    expect(ten.weeks.map((w) => w.week)).toEqual(['2026-W09', '2026-W10', '2026-W11']);
    // W10 as of NOW, after E3's late reply: email-reply 2 met of 4.
    expect(ten.weeks[1]!.phone).toEqual({ offered: 8, serviceLevel: 3 / 7, averageSpeedOfAnswerMs: 528 * S, abandonRate: 1 / 8 });
    expect(ten.weeks[1]!.standards.find((s) => s.standard === 'email-reply')).toEqual({ standard: 'email-reply', channel: 'email', clocks: 5, compliance: 0.5 });
    expect(ten.weeks[1]!.complaints).toEqual({ received: 4, acknowledgeRate: 0.5, resolveRate: 0.5 });
  });

  it('TSM CH01 and CH02 under the Housing Ombudsman Code, per 1,000 homes (KEPT_HOMES=2000)', async () => {
    const r = await get<RegulatorView>('/api/v1/reports/regulator?from=2026-03-02&to=2026-03-08');
    expect(r.status, r.body).toBe(200);
    // Stage 1: C1–C4 received. Stage 2: C4 escalated on 4 March. Responses in the period: stage 1 C4
    // (Tue) and C3 (Thu), both within 10 working days of acknowledging; stage 2 C4 (Fri), within 20.
    expect(r.json()).toEqual({
      from: '2026-03-02',
      to: '2026-03-08',
      builtAt: new Date(NOW).toISOString(),
      pack: 'housing-ombudsman-2024',
      homes: 2000,
      ch01: { stage1: 4, stage2: 1, stage1Per1000: (4 * 1000) / 2000, stage2Per1000: (1 * 1000) / 2000 },
      ch02: { stage1Responded: 2, stage1WithinTimescale: 2, stage1Proportion: 1, stage2Responded: 1, stage2WithinTimescale: 1, stage2Proportion: 1 },
      extensionsBeyondCode: 0,
      // No hazard in this fixture (tests/integration/report-hazards.test.ts has them): every figure 0.
      hazards: hazardFigures([], NOW, 0),
    });
    // The week after: C4-again received; nothing answered.
    const next = (await get<RegulatorView>('/api/v1/reports/regulator?from=2026-03-09&to=2026-03-15')).json();
    expect(next.ch01).toEqual({ stage1: 1, stage2: 0, stage1Per1000: 0.5, stage2Per1000: 0 });
    expect(next.ch02.stage1Proportion).toBeNull();
  });
});

describe('bad input names the field', () => {
  it.each([
    ['/api/v1/reports/weekly/2026-10', 'week'],
    ['/api/v1/reports/weekly/2026-W54', 'week'],
    ['/api/v1/reports/weekly/2026-W00', 'week'],
    ['/api/v1/reports/weekly/2026-W10?format=xml', 'format'],
    ['/api/v1/reports/trend?weeks=0', 'weeks'],
    ['/api/v1/reports/trend?to=W10', 'to'],
    ['/api/v1/reports/regulator?from=2026-02-30&to=2026-03-31', 'from'],
    ['/api/v1/reports/regulator?from=2026-03-31&to=2026-03-01', 'to'],
  ])('%s → 400 naming %s', async (url, field) => {
    const r = await get<{ field: string }>(url);
    expect(r.status, r.body).toBe(400);
    expect(r.json().field).toBe(field);
  });
  it('2026 has 53 ISO weeks', async () => {
    expect((await weekly('2026-W53')).from).toBe('2026-12-28T00:00:00.000Z');
  });
});

// Issue 16 item 2: every figure can be followed to the contacts behind it. Each cell of the standards,
// phone, advisor and team tables is asked for through GET …/contacts, walked page by page (two at a
// time, so the cursor is used), and its list must hold exactly as many contacts as the cell counts.
describe('the contacts behind every figure', () => {
  type Listed = { week: string; builtAt: string; total: number; published: number | null; next: string | null; items: Array<{ contactId: string; href: string; standard: string; channel: string; outcome: string; assignee: string | null }> };
  const walk = async (week: string, query: Record<string, string>) => {
    const items: Listed['items'] = [];
    let cursor: string | null = null;
    let first: Listed | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const q: URLSearchParams = new URLSearchParams({ ...query, limit: '2', ...(cursor === null ? {} : { cursor }) });
      const r: Awaited<ReturnType<typeof get<Listed>>> = await get<Listed>(`/api/v1/reports/weekly/${week}/contacts?${q.toString()}`);
      expect(r.status, r.body).toBe(200);
      const page: Listed = r.json();
      first ??= page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      items.push(...page.items);
      cursor = page.next;
      if (cursor === null) break;
    }
    return { ...first!, items };
  };
  const OUTCOME_OF = { clocks: 'all', met: 'met', missed: 'missed', breached: 'breached', cancelled: 'cancelled', metExtended: 'met-extended', missedExtended: 'missed-extended' } as const;
  const PHONE_OF = {
    offered: 'offered',
    answered: 'answered',
    answeredWithinTarget: 'answered-within-target',
    abandoned: 'abandoned',
    shortAbandons: 'short-abandons',
    callbacksRequested: 'callbacks-requested',
    callbacksConnected: 'callbacks-connected',
    callbacksWithinTarget: 'callbacks-within-target',
  } as const;

  async function everyCell(week: string): Promise<number> {
    const r = await weekly(week);
    let cells = 0;
    for (const s of r.standards) {
      for (const [field, outcome] of Object.entries(OUTCOME_OF)) {
        const listed = await walk(week, { standard: s.standard, channel: s.channel, outcome });
        const figure = s[field as keyof typeof OUTCOME_OF];
        expect(listed.items.length, `${week} ${s.standard}/${s.channel} ${field}`).toBe(figure);
        expect(listed.total).toBe(figure);
        expect(listed.builtAt).toBe(r.builtAt);
        expect(new Set(listed.items.map((i) => `${i.contactId}/${i.standard}`)).size).toBe(figure); // no clock twice across pages
        for (const i of listed.items) {
          expect(i).toMatchObject({ standard: s.standard, channel: s.channel, href: `/contacts/${i.contactId}` });
          if (outcome !== 'all') expect(i.outcome).toBe(outcome);
        }
        cells++;
      }
    }
    for (const [field, phone] of Object.entries(PHONE_OF)) {
      const listed = await walk(week, { phone });
      expect(listed.items.length, `${week} phone ${field}`).toBe(r.phone[field as keyof typeof PHONE_OF]);
      cells++;
    }
    const COMPLAINT_OF = {
      acknowledged: r.complaints.acknowledged,
      'acknowledged-within-target': r.complaints.acknowledgedWithinTarget,
      resolved: r.complaints.resolved,
      'resolved-within-target': r.complaints.resolvedWithinTarget,
      'resolved-within-extension': r.complaints.resolvedWithinExtension,
      extended: r.complaints.extended,
      'open-past-target': r.complaints.openPastTarget.length,
    } as const;
    for (const [complaint, figure] of Object.entries(COMPLAINT_OF)) {
      const listed = await walk(week, { complaint });
      expect(listed.items.length, `${week} complaints ${complaint}`).toBe(figure);
      expect(listed.published).toBe(r.publication.state === 'draft' ? null : figure);
      for (const i of listed.items) expect(i.standard).toMatch(/^complaint-/);
      if (complaint === 'open-past-target') expect(listed.items.map((i) => `${i.contactId}/${i.standard}`).sort()).toEqual(r.complaints.openPastTarget.map((o) => `${o.contactId}/${o.standard}`).sort());
      cells++;
    }
    for (const [kind, rows] of [['advisor', r.advisors], ['team', r.teams]] as const) {
      for (const p of rows) {
        for (const [outcome, figure] of [['all', p.clocks], ['met,met-extended', p.met + p.metExtended], ['missed,missed-extended', p.missed + p.missedExtended], ['breached', p.breached]] as const) {
          const listed = await walk(week, { [kind]: p.key, outcome });
          expect(listed.items.length, `${week} ${kind} ${p.key} ${outcome}`).toBe(figure);
          cells++;
        }
      }
    }
    return cells;
  }

  it('2026-W10 (published): each cell of every table lists exactly its figure', async () => {
    expect((await weekly('2026-W10')).publication.state).toBe('regenerated');
    expect(await everyCell('2026-W10')).toBeGreaterThan(40);
    // By hand: phone-answer's missed calls are P2 (6 min) and P6 (called back after 30 min), in start order.
    const missed = await walk('2026-W10', { standard: 'phone-answer', channel: 'phone', outcome: 'missed' });
    expect(missed.items.map((i) => i.contactId)).toEqual([ids.P2, ids.P6]);
    expect(missed.published).toBe(2);
    expect((await walk('2026-W10', { phone: 'short-abandons' })).items.map((i) => i.contactId)).toEqual([ids.P3]);
    expect((await walk('2026-W10', { phone: 'callbacks-connected' })).items.map((i) => i.contactId)).toEqual([ids.P5, ids.P6]);
    expect((await walk('2026-W10', { advisor: ANN, outcome: 'met' })).items.map((i) => i.contactId)).toEqual([ids.E1]);
  });

  it('2026-W14 and 2026-W13 (drafts, a bank holiday, the clocks going forward) too', async () => {
    expect(await everyCell('2026-W14')).toBeGreaterThan(10);
    expect(await everyCell('2026-W13')).toBeGreaterThan(10);
    expect((await walk('2026-W14', { standard: 'email-reply', channel: 'email' })).published).toBeNull();
  });

  it('a published week says when data recorded after publication would change a figure', async () => {
    // P10 (still queued as W10 was regenerated) is answered on 10 March, recorded only now.
    await t.service.addEvents(ids.P10!, [{ type: 'answered', at: '2026-03-10T09:00:00Z' }]);
    const breached = await walk('2026-W10', { standard: 'phone-answer', channel: 'phone', outcome: 'breached' });
    expect(breached.published).toBe(1);
    expect(breached.total).toBe(0);
  });

  it('bad filters and cursors name the field; the route is the report’s (no advisor)', async () => {
    for (const [query, field] of [['outcome=late', 'outcome'], ['phone=dropped', 'phone'], ['phone=offered&outcome=met', 'phone'], ['complaint=lost', 'complaint'], ['complaint=resolved&outcome=met', 'complaint'], ['limit=0', 'limit'], ['limit=201', 'limit'], ['cursor=nope', 'cursor']] as const) {
      const r = await get<{ field: string }>(`/api/v1/reports/weekly/2026-W10/contacts?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json().field).toBe(field);
    }
    expect((await get('/api/v1/reports/weekly/2026-W54/contacts')).status).toBe(400);
    const advisor = await t.signIn('advisor');
    expect((await get('/api/v1/reports/weekly/2026-W10/contacts', advisor.headers)).status).toBe(403);
  });
});
