// scripts/lib/histogram.ts: counted latencies give the same quantiles as the sorted list would.
import { describe, expect, it } from 'vitest';
import { merged, MsHistogram, quantile, total } from '../../scripts/lib/histogram.js';
import { mulberry32 } from '../../scripts/lib/prng.js';

/** The sorted-list definition (scripts/bench/scale/load.ts): the ⌈q·n⌉-th smallest. */
const oracle = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

describe('MsHistogram', () => {
  it('counts whole milliseconds, shortest first', () => {
    const h = new MsHistogram();
    for (const ms of [3, 1.4, 250.6, 3, 0]) h.add(ms);
    expect(h.count).toBe(5);
    expect(h.entries()).toEqual([
      [0, 1],
      [1, 1],
      [3, 2],
      [251, 1],
    ]);
  });

  it('gives the quantiles of the sorted list, for 5,000 random latencies with a long tail', () => {
    const rand = mulberry32(14);
    const h = new MsHistogram();
    const all: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const ms = Math.round(rand() < 0.98 ? rand() * 20 : 200 + rand() * 2000);
      h.add(ms);
      all.push(ms);
    }
    all.sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.5, 0.9, 0.99, 0.999, 1]) expect(quantile(h.entries(), q)).toBe(oracle(all, q));
  });

  it('answers NaN when nothing was counted, and the one value when one was', () => {
    expect(quantile([], 0.99)).toBeNaN();
    expect(quantile([[7, 1]], 0.5)).toBe(7);
    expect(quantile([[7, 1]], 0.99)).toBe(7);
  });

  it('merges several members’ counts by millisecond, in any order', () => {
    const m = merged(
      [
        [5, 2],
        [1, 1],
      ],
      [[5, 3]],
      [],
    );
    expect(m).toEqual([
      [1, 1],
      [5, 5],
    ]);
    expect(total(m)).toBe(6);
    expect(quantile(m, 0.1)).toBe(1);
    expect(quantile(m, 0.5)).toBe(5);
  });
});
