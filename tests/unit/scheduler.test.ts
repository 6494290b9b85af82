// The scheduler: ordering, re-arming and catching up on what fell due while Kept was down.
import { describe, expect, it } from 'vitest';
import { ClockScheduler, type Firing, type TimerHost } from '../../server/live/scheduler.js';

/** A fake clock: timers run when `advance` passes their instant. */
function fakeHost(start = 1_000_000) {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  const host: TimerHost = {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (h) => {
      timers = timers.filter((t) => t.id !== h);
    },
  };
  return {
    host,
    armedTimers: () => timers.length,
    advance(to: number) {
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (t === undefined || t.at > to) break;
        timers.shift();
        now = Math.max(now, t.at);
        t.fn();
      }
      now = to;
    },
  };
}

describe('ClockScheduler', () => {
  it('fires at-risk then breached in instant order across clocks, one timer armed', () => {
    const f = fakeHost();
    const fired: Firing[] = [];
    const s = new ClockScheduler((x) => fired.push(...x), f.host);
    s.arm({ key: 'b/email-reply', status: 'running', atRiskAt: 1_000_500, dueAt: 1_002_000 });
    s.arm({ key: 'a/phone-answer', status: 'running', atRiskAt: 1_000_100, dueAt: 1_000_200 });
    expect(f.armedTimers()).toBe(1);
    f.advance(1_010_000);
    expect(fired.map((x) => `${x.key}:${x.transition}@${x.at}`)).toEqual([
      'a/phone-answer:at-risk@1000100',
      'a/phone-answer:breached@1000201',
      'b/email-reply:at-risk@1000500',
      'b/email-reply:breached@1002001',
    ]);
    expect(s.size).toBe(0);
  });

  it('re-arming a clock replaces its old instants (an event moved dueAt)', () => {
    const f = fakeHost();
    const fired: Firing[] = [];
    const s = new ClockScheduler((x) => fired.push(...x), f.host);
    s.arm({ key: 'c/complaint-resolve', status: 'running', atRiskAt: 1_000_100, dueAt: 1_000_200 });
    s.arm({ key: 'c/complaint-resolve', status: 'running', atRiskAt: 1_005_000, dueAt: 1_006_000 });
    f.advance(1_004_000);
    expect(fired).toEqual([]);
    f.advance(1_006_001);
    expect(fired.map((x) => x.at)).toEqual([1_005_000, 1_006_001]);
  });

  it('a paused or ended clock has no timer; disarm forgets a clock', () => {
    const f = fakeHost();
    const fired: Firing[] = [];
    const s = new ClockScheduler((x) => fired.push(...x), f.host);
    s.arm({ key: 'p/complaint-resolve', status: 'paused', atRiskAt: null, dueAt: null });
    s.arm({ key: 'd/email-reply', status: 'running', atRiskAt: 1_000_100, dueAt: 1_000_200 });
    s.disarm('d/email-reply');
    f.advance(2_000_000);
    expect(fired).toEqual([]);
    expect(s.size).toBe(0);
  });

  it('an at-risk clock only waits for its breach', () => {
    const f = fakeHost();
    const fired: Firing[] = [];
    const s = new ClockScheduler((x) => fired.push(...x), f.host);
    s.arm({ key: 'r/email-reply', status: 'at-risk', atRiskAt: 999_000, dueAt: 1_000_300 });
    f.advance(1_001_000);
    expect(fired.map((x) => x.transition)).toEqual(['breached']);
  });

  it('held while loading: no timer armed until resume, then what fell due fires in one batch', () => {
    const f = fakeHost(5_000_000);
    const batches: Firing[][] = [];
    const s = new ClockScheduler((x) => batches.push(x), f.host);
    s.hold();
    s.arm({ key: 'a/email-reply', status: 'running', atRiskAt: 1_000_000, dueAt: 2_000_000 });
    f.advance(5_000_100);
    s.arm({ key: 'b/phone-answer', status: 'at-risk', atRiskAt: 4_000_000, dueAt: 4_500_000 });
    s.arm({ key: 'c/phone-answer', status: 'running', atRiskAt: 5_100_000, dueAt: 5_200_000 });
    expect(f.armedTimers()).toBe(0);
    expect(batches).toEqual([]);
    s.resume();
    expect(f.armedTimers()).toBe(1);
    f.advance(5_000_200);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((x) => `${x.key}:${x.transition}@${x.at}`)).toEqual(['a/email-reply:at-risk@1000000', 'a/email-reply:breached@2000001', 'b/phone-answer:breached@4500001']);
    f.advance(5_300_000);
    expect(batches.slice(1).flat().map((x) => `${x.key}:${x.transition}`)).toEqual(['c/phone-answer:at-risk', 'c/phone-answer:breached']);
  });

  it('catches up after downtime with the instants things really happened, in one batch', () => {
    const f = fakeHost(5_000_000); // "restarted" long after both clocks fell due
    const batches: Firing[][] = [];
    const s = new ClockScheduler((x) => batches.push(x), f.host);
    s.arm({ key: 'x/email-reply', status: 'running', atRiskAt: 1_000_000, dueAt: 2_000_000 });
    s.arm({ key: 'y/phone-answer', status: 'running', atRiskAt: 1_500_000, dueAt: 1_600_000 });
    f.advance(5_000_000);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((x) => `${x.key}:${x.transition}@${x.at}`)).toEqual([
      'x/email-reply:at-risk@1000000',
      'y/phone-answer:at-risk@1500000',
      'y/phone-answer:breached@1600001',
      'x/email-reply:breached@2000001',
    ]);
  });
});
