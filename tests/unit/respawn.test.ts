// The one rule for replacing a stopped worker thread (server/respawn.ts).
import { describe, expect, it } from 'vitest';
import { Respawn } from '../../server/respawn.js';

describe('Respawn', () => {
  it('replaces a thread that ran for a while at once', () => {
    const r = new Respawn(200);
    r.started(0);
    expect(r.pauseAfterStop(60_000)).toBe(0);
  });

  it('doubles the pause while threads keep stopping quickly, up to 5 s', () => {
    const r = new Respawn(200);
    let t = 0;
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      r.started(t);
      t += 50; // stops 50 ms after starting
      const p = r.pauseAfterStop(t);
      pauses.push(p);
      t += p;
    }
    expect(pauses).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('starts counting again after a thread runs long', () => {
    const r = new Respawn(100);
    r.started(0);
    expect(r.pauseAfterStop(10)).toBe(100);
    r.started(110);
    expect(r.pauseAfterStop(120)).toBe(200);
    r.started(320);
    expect(r.pauseAfterStop(30_000)).toBe(0);
    r.started(30_000);
    expect(r.pauseAfterStop(30_010)).toBe(100);
  });
});
