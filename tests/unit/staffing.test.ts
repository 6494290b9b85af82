// The phone figures per named queue and half hour, and the named queues' configuration.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';
import { BUILT_IN_QUEUES, parseQueues, QueueConfigError, QueueSet } from '../../server/ingest/queues.js';
import { advisorsByQueue, staffingFigures } from '../../server/ingest/staffing.js';
import type { LedgerRow } from '../../server/store/telephony.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const row = (callId: string, queue: string, offset: number, r: Partial<LedgerRow> = {}): LedgerRow => ({
  callId,
  queue,
  offeredAt: T0 + offset,
  answeredAt: null,
  abandonedAt: null,
  endedAt: null,
  agent: null,
  talkMs: null,
  wrapMs: null,
  ...r,
});

describe('staffingFigures', () => {
  const queues = parseQueues(JSON.stringify([{ id: 'repairs', name: 'Repairs line', category: 'repair' }]));

  it('each queue apart, per half hour: offered, answered, abandoned, handle time, advisors who answered and needed', () => {
    // 100 calls in the first half hour at 180 s handle time: the published 10 Erlangs; 20 s target, 80% → 14 advisors.
    const calls = Array.from({ length: 100 }, (_, i) => row(`r${i}`, 'repairs', i * 18_000, { answeredAt: T0 + i * 18_000 + 5000, agent: `a${i % 12}`, talkMs: 150_000, wrapMs: 30_000 }));
    calls.push(row('x1', 'customer-services', 31 * 60_000, { abandonedAt: T0 + 32 * 60_000 }));
    const answers = calls.filter((c) => c.answeredAt !== null).map((c) => ({ answeredAt: c.answeredAt!, agent: c.agent, queue: c.queue }));
    const figures = staffingFigures(calls, answers, queues, { from: T0, to: T0 + 3_600_000, targetMs: 20_000, goal: 0.8 });
    expect(figures.map((f) => f.queue)).toEqual(['customer-services', 'out-of-hours', 'repairs']);
    const repairs = figures.find((f) => f.queue === 'repairs')!;
    expect(repairs).toMatchObject({ name: 'Repairs line', phoneAnswer: true, offered: 100, answered: 100, abandoned: 0, averageHandleSeconds: 180, averageTalkSeconds: 150, averageWrapSeconds: 30 });
    expect(repairs.halfHours[0]).toEqual({ from: '2026-03-02T09:00:00.000Z', offered: 100, answered: 100, abandoned: 0, averageHandleSeconds: 180, advisorsAnswered: 12, advisorsNeeded: 14, expectedServiceLevel: 0.8884, elapsedMinutes: null });
    expect(repairs.halfHours[1]).toMatchObject({ offered: 0, advisorsNeeded: 0, advisorsAnswered: 0 });
    const cs = figures.find((f) => f.queue === 'customer-services')!;
    expect(cs.halfHours[1]).toMatchObject({ offered: 1, abandoned: 1, averageHandleSeconds: null, advisorsNeeded: null });
  });

  it('a half hour with no handle time of its own is staffed with the queue\'s; a queue no longer configured is still shown', () => {
    const calls = [row('a', 'repairs', 0, { talkMs: 240_000, wrapMs: 60_000 }), row('b', 'repairs', 40 * 60_000), row('c', 'old-line', 0)];
    const f = staffingFigures(calls, [], queues, { from: T0, to: T0 + 3_600_000, targetMs: 300_000, goal: 0.8 });
    const repairs = f.find((q) => q.queue === 'repairs')!;
    expect(repairs.halfHours[1]).toMatchObject({ offered: 1, averageHandleSeconds: null, advisorsNeeded: 1 });
    expect(f.map((q) => q.queue)).toContain('old-line');
  });
});

describe('the half hour under way', () => {
  const queues = parseQueues(JSON.stringify([{ id: 'repairs', name: 'Repairs line', category: 'repair' }]));
  // 20 calls at 180 s handle time in the first 10 minutes of 09:00–09:30 are the rate of 60 in the half
  // hour: as many advisors as 60 calls over a whole half hour need, not as many as 20.
  const calls = Array.from({ length: 20 }, (_, i) => row(`r${i}`, 'repairs', i * 30_000, { answeredAt: T0 + i * 30_000 + 5000, agent: 'a1', talkMs: 150_000, wrapMs: 30_000 }));
  const sixty = Array.from({ length: 60 }, (_, i) => row(`s${i}`, 'repairs', i * 30_000, { answeredAt: T0 + i * 30_000 + 5000, agent: 'a1', talkMs: 150_000, wrapMs: 30_000 }));
  const opts = { from: T0, to: T0 + 3_600_000, targetMs: 20_000, goal: 0.8 };
  const needed = (f: ReturnType<typeof staffingFigures>, s = 0) => f.find((q) => q.queue === 'repairs')!.halfHours[s]!;

  it('is staffed at the rate of its calls over the minutes gone', () => {
    const soFar = needed(staffingFigures(calls, [], queues, { ...opts, now: T0 + 10 * 60_000 }));
    const whole = needed(staffingFigures(sixty, [], queues, opts));
    const asIfOver = needed(staffingFigures(calls, [], queues, opts));
    expect(soFar).toMatchObject({ offered: 20, elapsedMinutes: 10, advisorsNeeded: whole.advisorsNeeded });
    expect(asIfOver.elapsedMinutes).toBeNull();
    expect(asIfOver.advisorsNeeded!).toBeLessThan(soFar.advisorsNeeded!);
  });

  it('counts at least five minutes gone; later half hours and past ones are whole', () => {
    const early = staffingFigures(calls.slice(0, 2), [], queues, { ...opts, now: T0 + 30_000 });
    const atFive = staffingFigures(calls.slice(0, 2), [], queues, { ...opts, now: T0 + 5 * 60_000 });
    expect(needed(early)).toMatchObject({ elapsedMinutes: 0, advisorsNeeded: needed(atFive).advisorsNeeded });
    const later = staffingFigures(calls, [], queues, { ...opts, now: T0 + 40 * 60_000 });
    expect(needed(later, 0).elapsedMinutes).toBeNull();
    expect(needed(later, 1).elapsedMinutes).toBe(10);
  });
});

describe('named queues', () => {
  it('built in, configured, and matched by name, ARN, an ARN\'s id, without case; unknown goes to the default', () => {
    const set = new QueueSet(parseQueues(JSON.stringify([{ id: 'repairs', match: ['Repairs', 'arn:aws:connect:eu-west-2:1:instance/i/queue/q-1'] }])), 'customer-services');
    expect(set.resolve('repairs').queue.id).toBe('repairs');
    expect(set.resolve('REPAIRS').queue.id).toBe('repairs');
    expect(set.resolve('arn:aws:connect:eu-west-2:1:instance/i/queue/q-1').queue.id).toBe('repairs');
    expect(set.resolve('arn:aws:connect:eu-west-2:1:instance/other/queue/repairs').queue.id).toBe('repairs');
    expect(set.resolve('Sales')).toMatchObject({ known: false, key: 'Sales', queue: { id: 'customer-services' } });
    expect(set.resolve(undefined)).toMatchObject({ known: true, queue: { id: 'customer-services' } });
    expect(parseQueues('')).toEqual(BUILT_IN_QUEUES);
  });

  it('phone-answer follows the route; a contradiction, a clash or bad JSON stops Kept naming KEPT_PHONE_QUEUES', () => {
    expect(parseQueues('[{"id":"emergency","phoneAnswer":false}]').find((q) => q.id === 'emergency')).toMatchObject({ route: 'out-of-hours', phoneAnswer: false });
    expect(() => parseQueues('[{"id":"x","route":"out-of-hours","phoneAnswer":true}]')).toThrow(QueueConfigError);
    expect(() => parseQueues('[{"id":"a","match":["Line"]},{"id":"b","match":["line"]}]')).toThrow(/both queue "a" and queue "b"/);
    expect(() => loadConfig({ KEPT_PHONE_QUEUES: '[{"id":"Bad Id"}]' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEPT_PHONE_QUEUES: 'not json' })).toThrow(/KEPT_PHONE_QUEUES: is not JSON/);
    expect(() => loadConfig({ KEPT_PHONE_DEFAULT_QUEUE: 'nowhere' })).toThrow(/KEPT_PHONE_DEFAULT_QUEUE "nowhere"/);
    expect(() => loadConfig({ KEPT_WEBFORM_MAPPINGS: '{"x":{"colour":"blue"}}' })).toThrow(/KEPT_WEBFORM_MAPPINGS/);
  });
});

describe('advisorsByQueue', () => {
  it('counts each advisor\'s state under the queues whose calls they answered', () => {
    const queues = parseQueues(JSON.stringify([{ id: 'repairs' }, { id: 'rents' }]));
    const states = [
      { advisor: 'sam', state: 'available' },
      { advisor: 'kim', state: 'on-call' },
      { advisor: 'lee', state: 'wrap-up' },
      { advisor: 'ola', state: 'away' },
    ];
    const answers = [
      { agent: 'sam', queue: 'repairs' },
      { agent: 'kim', queue: 'repairs' },
      { agent: 'kim', queue: 'rents' },
      { agent: 'lee', queue: 'rents' },
      { agent: null, queue: 'rents' },
    ];
    const byId = Object.fromEntries(advisorsByQueue(states, answers, queues).map((q) => [q.queue, q]));
    expect(byId.repairs).toMatchObject({ available: 1, 'on-call': 1, 'wrap-up': 0, away: 0 });
    expect(byId.rents).toMatchObject({ available: 0, 'on-call': 1, 'wrap-up': 1, away: 0 });
    expect(byId['customer-services']).toMatchObject({ available: 0, 'on-call': 0, 'wrap-up': 0, away: 0 });
  });
});
