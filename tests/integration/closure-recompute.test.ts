// A closure recomputes only the contacts it can move (an open clock due after the closure starts, or
// paused): checked against a full recompute of every open contact, which must then find nothing to move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../server/commands/context.js';
import { recomputeRunning } from '../../server/commands/recompute.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { mulberry32 } from '../../scripts/lib/prng.js';

const NOW = Date.parse('2026-03-11T11:20:00Z'); // a Wednesday
const HOUR = 3_600_000;
let t: TestApp;

/** Every open contact recomputed from scratch, in a transaction rolled back: how many clocks would move. */
function fullRecomputeMoves(): { recomputed: number; moved: number } {
  const ctx = createContext(t.connection.sqlite, { maxEventsPerContact: 1000 });
  const sqlite = t.connection.sqlite;
  sqlite.exec('BEGIN IMMEDIATE'); // the writer thread may be recording timer statuses: wait for the lock, never upgrade a read
  try {
    const r = recomputeRunning(ctx, 'customer-services', NOW);
    return { recomputed: r.recomputedContacts, moved: r.movedClocks };
  } finally {
    sqlite.exec('ROLLBACK');
  }
}

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  const random = mulberry32(20260311);
  const channels = ['email', 'webform', 'social', 'voicemail'] as const;
  const creating = [];
  for (let i = 0; i < 400; i++) {
    const receivedAt = NOW - Math.floor(random() * 12 * 24 * HOUR);
    const channel = channels[i % channels.length]!;
    const complaint = i % 7 === 0;
    const paused = complaint && i % 3 === 0; // complaint-resolve is pausable
    creating.push(
      t.service.createContact({
        channel,
        externalId: `c-${i}`,
        receivedAt: new Date(receivedAt).toISOString(),
        ...(complaint ? { category: 'complaint' } : {}),
        ...(paused ? { events: [{ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting customer', at: new Date(receivedAt + 60_000).toISOString() }] } : {}),
      }),
    );
  }
  await Promise.all(creating);
});
afterAll(async () => {
  await t.close();
});

describe('a calendar edit recomputes what it can move', () => {
  it('before any edit a full recompute moves nothing (the baseline)', () => {
    expect(fullRecomputeMoves().moved).toBe(0);
  });

  for (const [name, from, to] of [
    ['a closure later today', NOW + 2 * HOUR, NOW + 5 * HOUR],
    ['a closure that began yesterday', NOW - 20 * HOUR, NOW + 3 * HOUR],
    ['a closure next week', NOW + 6 * 24 * HOUR, NOW + 8 * 24 * HOUR],
  ] as const) {
    it(`${name}: fewer contacts recomputed, and a full recompute afterwards finds nothing left to move`, async () => {
      const open = fullRecomputeMoves().recomputed;
      const added = await t.service.addClosure('customer-services', { from, to, reason: name }, 'test');
      expect(added.recomputedContacts).toBeLessThanOrEqual(open);
      expect(fullRecomputeMoves().moved).toBe(0);
      const removed = await t.service.removeClosure('customer-services', added.id, 'test');
      expect(removed.movedClocks).toBe(added.movedClocks);
      expect(fullRecomputeMoves().moved).toBe(0);
    });
  }

  it('a closure far ahead recomputes only the paused contacts and the clocks due after it', async () => {
    const added = await t.service.addClosure('customer-services', { from: NOW + 60 * 24 * HOUR, to: NOW + 61 * 24 * HOUR }, 'test');
    const paused = (t.connection.sqlite.prepare("SELECT count(DISTINCT contact_id) AS n FROM clocks WHERE open = 1 AND calendar = 'customer-services' AND due_at IS NULL").get() as { n: number }).n;
    expect(added.recomputedContacts).toBe(paused);
    expect(added.movedClocks).toBe(0);
    expect(fullRecomputeMoves().moved).toBe(0);
  });
});
