// Erlang C against published worked examples.
import { describe, expect, it } from 'vitest';
import { agentsNeeded, averageSpeedOfAnswer, erlangC, serviceLevel, trafficErlangs } from '../../server/domain/erlang.js';

describe('Erlang C', () => {
  // The widely published example (e.g. callcentrehelper.com's "Erlang C formula – made simple"):
  // 100 calls in 30 minutes, 180 s average handle time, 20 s target, 14 agents.
  const a = trafficErlangs(100, 180, 1800);

  it('100 calls / 30 min at 180 s is 10 Erlangs', () => {
    expect(a).toBe(10);
  });

  it('14 agents: P(wait) 0.1741, service level 0.8884, ASA 7.84 s', () => {
    expect(erlangC(a, 14)).toBeCloseTo(0.1741, 4);
    expect(serviceLevel(a, 14, 180, 20)).toBeCloseTo(0.8884, 4);
    expect(averageSpeedOfAnswer(a, 14, 180)).toBeCloseTo(7.84, 2);
  });

  it('the same example at 11, 12, 13 and 15 agents (the published table)', () => {
    const table: Array<[number, number, number]> = [
      [11, 0.6821, 0.3896],
      [12, 0.4494, 0.6402],
      [13, 0.2853, 0.7956],
      [15, 0.102, 0.9415],
    ];
    for (const [n, wait, sl] of table) {
      expect(erlangC(a, n)).toBeCloseTo(wait, 4);
      expect(serviceLevel(a, n, 180, 20)).toBeCloseTo(sl, 4);
    }
  });

  it('80% in 20 s needs 14 agents (13 give 79.56%); 79% needs 13', () => {
    expect(agentsNeeded({ calls: 100, handleSeconds: 180, intervalSeconds: 1800, targetSeconds: 20, goal: 0.8 }).agents).toBe(14);
    expect(agentsNeeded({ calls: 100, handleSeconds: 180, intervalSeconds: 1800, targetSeconds: 20, goal: 0.79 }).agents).toBe(13);
    expect(agentsNeeded({ calls: 100, handleSeconds: 180, intervalSeconds: 1800, targetSeconds: 20, goal: 0.85 }).agents).toBe(14);
  });

  it('too few advisors: every call waits and none is answered in time; no calls need nobody', () => {
    expect(erlangC(10, 10)).toBe(1);
    expect(serviceLevel(10, 9, 180, 20)).toBe(0);
    expect(agentsNeeded({ calls: 0, handleSeconds: 180, intervalSeconds: 1800, targetSeconds: 300, goal: 0.8 })).toMatchObject({ agents: 0, serviceLevel: 1 });
  });

  it('stays finite for a large centre (500 Erlangs)', () => {
    const r = agentsNeeded({ calls: 5000, handleSeconds: 180, intervalSeconds: 1800, targetSeconds: 20, goal: 0.8 });
    expect(r.agents).toBeGreaterThan(500);
    expect(r.agents).toBeLessThan(540);
    expect(r.serviceLevel).toBeGreaterThanOrEqual(0.8);
  });
});
