// The board's phone queues (issue 13): the calls waiting split by named queue (server/live/phone-queues.ts)
// and the panels the board shows from them with the staffing and the advisors' states
// (web/src/phone-queues.ts), checked by hand.
import { describe, expect, it } from 'vitest';
import { phoneQueuesNow } from '../../server/live/phone-queues.js';
import type { PhoneQueueNow } from '../../server/live/protocol.js';
import { phonePanels, teamRows, type AdvisorsReply, type StaffingReply } from '../../web/src/phone-queues.js';

const T = Date.parse('2026-03-10T14:35:00Z');
const MIN = 60_000;
const QUEUES = [
  { id: 'customer-services', name: 'Customer services' },
  { id: 'out-of-hours', name: 'Out of hours' },
  { id: 'repairs', name: 'Repairs line' },
  { id: 'rents', name: 'Rents line' },
];

describe('phoneQueuesNow: calls waiting per queue', () => {
  it('counts each queue apart with its oldest, every configured queue listed, none waiting too', () => {
    const waiting = [
      { queue: 'repairs', receivedAt: T - 3 * MIN },
      { queue: 'repairs', receivedAt: T - 7 * MIN },
      { queue: 'rents', receivedAt: T - MIN },
      { queue: null, receivedAt: T - 2 * MIN }, // names no queue: the default's
    ];
    expect(phoneQueuesNow(waiting, QUEUES, 'customer-services')).toEqual([
      { queue: 'customer-services', name: 'Customer services', named: false, waitingNow: 1, oldestWaitingSince: new Date(T - 2 * MIN).toISOString() },
      { queue: 'out-of-hours', name: 'Out of hours', named: false, waitingNow: 0, oldestWaitingSince: null },
      { queue: 'repairs', name: 'Repairs line', named: true, waitingNow: 2, oldestWaitingSince: new Date(T - 7 * MIN).toISOString() },
      { queue: 'rents', name: 'Rents line', named: true, waitingNow: 1, oldestWaitingSince: new Date(T - MIN).toISOString() },
    ]);
  });

  it('a queue no longer configured still shows its waiting calls, by its id, after the configured ones', () => {
    const out = phoneQueuesNow([{ queue: 'asb', receivedAt: T - MIN }], QUEUES.slice(0, 2), 'customer-services');
    expect(out.map((q) => [q.queue, q.name, q.waitingNow])).toEqual([
      ['customer-services', 'Customer services', 0],
      ['out-of-hours', 'Out of hours', 0],
      ['asb', 'asb', 1],
    ]);
  });
});

const half = (from: string, offered: number, needed: number | null, took: number) => ({ from, offered, answered: offered, abandoned: 0, averageHandleSeconds: needed === null ? null : 300, advisorsAnswered: took, advisorsNeeded: needed, expectedServiceLevel: needed === null ? null : 0.85, elapsedMinutes: null });
const staffing = (queues: StaffingReply['queues']): StaffingReply => ({ date: '2026-03-10', target: { seconds: 300, goal: 0.8 }, queues });
const counts = (available: number, onCall: number, wrap: number, away: number) => ({ available, 'on-call': onCall, 'wrap-up': wrap, away });

describe('phonePanels: what the board shows per queue', () => {
  const builtIn: PhoneQueueNow[] = [
    { queue: 'customer-services', name: 'Customer services', named: false, waitingNow: 3, oldestWaitingSince: new Date(T - 4 * MIN).toISOString() },
    { queue: 'out-of-hours', name: 'Out of hours', named: false, waitingNow: 0, oldestWaitingSince: null },
  ];

  it('no queues configured and no platform data: nothing (the phone tile says it all)', () => {
    const s = staffing([
      { queue: 'customer-services', name: 'Customer services', offered: 40, answered: 35, abandoned: 2, averageHandleSeconds: null, halfHours: [half('2026-03-10T14:30:00.000Z', 4, null, 0)] },
      { queue: 'out-of-hours', name: 'Out of hours', offered: 0, answered: 0, abandoned: 0, averageHandleSeconds: null, halfHours: [] },
    ]);
    expect(phonePanels(builtIn, s, { counts: counts(0, 0, 0, 0), queues: [], advisors: [] }, T)).toEqual({ queues: [], advisors: null });
    expect(phonePanels(builtIn, null, null, T)).toEqual({ queues: [], advisors: null });
    expect(phonePanels(undefined, null, null, T)).toEqual({ queues: [], advisors: null });
  });

  it('named queues: each apart with its waiting, today, the current half hour and its advisors; quiet built-in queues left out', () => {
    const waiting: PhoneQueueNow[] = [
      { ...builtIn[0]!, waitingNow: 0, oldestWaitingSince: null },
      builtIn[1]!,
      { queue: 'repairs', name: 'Repairs line', named: true, waitingNow: 4, oldestWaitingSince: new Date(T - 7 * MIN).toISOString() },
      { queue: 'rents', name: 'Rents line', named: true, waitingNow: 0, oldestWaitingSince: null },
    ];
    const s = staffing([
      { queue: 'customer-services', name: 'Customer services', offered: 0, answered: 0, abandoned: 0, averageHandleSeconds: null, halfHours: [] },
      {
        queue: 'repairs',
        name: 'Repairs line',
        offered: 241,
        answered: 220,
        abandoned: 17,
        averageHandleSeconds: 417,
        halfHours: [half('2026-03-10T14:00:00.000Z', 30, 8, 6), half('2026-03-10T14:30:00.000Z', 5, 3, 2), half('2026-03-10T15:00:00.000Z', 0, 0, 0)],
      },
    ]);
    const a: AdvisorsReply = { counts: counts(2, 3, 1, 1), queues: [{ queue: 'repairs', name: 'Repairs line', ...counts(2, 2, 1, 0) }, { queue: 'rents', name: 'Rents line', ...counts(0, 1, 0, 0) }], advisors: [] };
    const p = phonePanels(waiting, s, a, T);
    expect(p.advisors).toEqual(counts(2, 3, 1, 1));
    expect(p.queues).toEqual([
      {
        queue: 'repairs',
        name: 'Repairs line',
        waitingNow: 4,
        oldestWaitingSince: new Date(T - 7 * MIN).toISOString(),
        today: { offered: 241, answered: 220, abandoned: 17, averageHandleSeconds: 417 },
        // 14:35: the half hour from 14:30, not the one before or after.
        halfHour: { from: '2026-03-10T14:30:00.000Z', offered: 5, advisorsNeeded: 3, advisorsAnswered: 2, elapsedMinutes: null },
        advisors: counts(2, 2, 1, 0),
      },
      // Named: shown with no calls (no staffing figures for it: today null).
      { queue: 'rents', name: 'Rents line', waitingNow: 0, oldestWaitingSince: null, today: null, halfHour: null, advisors: counts(0, 1, 0, 0) },
    ]);
  });

  it('built-in queues only, but a handle time from the platform: the panel shows the busy queue', () => {
    const s = staffing([{ queue: 'customer-services', name: 'Customer services', offered: 10, answered: 9, abandoned: 1, averageHandleSeconds: 250, halfHours: [half('2026-03-10T14:30:00.000Z', 2, 1, 1)] }]);
    const p = phonePanels(builtIn, s, null, T);
    expect(p.queues.map((q) => [q.queue, q.waitingNow, q.today?.averageHandleSeconds, q.halfHour?.advisorsNeeded])).toEqual([['customer-services', 3, 250, 1]]);
    expect(p.advisors).toBeNull();
  });

  it('two built-in queues both with calls: shown apart, without staffing figures (a role that may not read them)', () => {
    const both: PhoneQueueNow[] = [builtIn[0]!, { ...builtIn[1]!, waitingNow: 1, oldestWaitingSince: new Date(T - MIN).toISOString() }];
    const p = phonePanels(both, null, null, T);
    expect(p.queues.map((q) => [q.name, q.waitingNow, q.today, q.halfHour, q.advisors])).toEqual([
      ['Customer services', 3, null, null, null],
      ['Out of hours', 1, null, null, null],
    ]);
  });
});

describe("teamRows: each advisor's platform state beside their load", () => {
  const load = [
    { assignee: 'Ann Lee', open: 4, atRisk: 1, breached: 0 },
    { assignee: 'zoe@staff.example.org', open: 2, atRisk: 0, breached: 0 },
  ];
  const state = (advisor: string, s: string, platform = 'genesys-cloud') => ({ platform, advisor, state: s, detail: null, since: '2026-03-10T14:30:00.000Z' });

  it('matches by name without case, then lists the platform advisors who hold no work (once each)', () => {
    const out = teamRows(load, [state('ann lee', 'available'), state('Bob Ray', 'on-call'), state('BOB RAY', 'on-call', 'twilio')]);
    expect(out.withStates).toBe(true);
    expect(out.rows.map((r) => [r.assignee, r.load?.open ?? null, r.state])).toEqual([
      ['Ann Lee', 4, 'available'],
      ['zoe@staff.example.org', 2, null],
      ['Bob Ray', null, 'on-call'],
    ]);
  });

  it('no platform states: the load alone, no state column', () => {
    expect(teamRows(load, null)).toEqual({ rows: load.map((l) => ({ assignee: l.assignee, load: l, state: null })), withStates: false });
    expect(teamRows(load, []).withStates).toBe(false);
  });
});
