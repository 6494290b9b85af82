// Today's ledger (server/live/today.ts) read asynchronously, as from PostgreSQL: the day's rows are
// taken from a real SQLite file when the read starts but handed over later, so changes heard in
// between (an answer, a new call, a timer's breach) must win over the older rows read for them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactChange } from '../../server/ingest/service.js';
import { localDay, type LocalDay } from '../../server/live/board.js';
import { impliedChannels } from '../../server/live/live.js';
import { TodayLedger } from '../../server/live/today.js';
import { LiveStore } from '../../server/store/live.js';
import { asyncOf, LIVE_READS, type LiveReads } from '../../server/store/ports.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const NOW = Date.parse('2026-03-04T10:00:00Z'); // a Wednesday, 10:00 London
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;
let t: TestApp;
let store: LiveStore;
let day: LocalDay;
const ids: Record<string, string> = {};

/** The real store's reads, each answered with the rows as they stood when it was called, handed over on release(). */
function heldReads(): { reads: LiveReads; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const direct = asyncOf(store, LIVE_READS);
  const held = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const rows = await f(...a);
    await gate;
    return rows;
  };
  return { reads: { ...direct, callsSince: held(direct.callsSince), receivedSince: held(direct.receivedSince), handledSince: held(direct.handledSince) }, release };
}

const calls = (l: TodayLedger) => [...l.calls].map((c) => ({ ...c })).sort((a, b) => a.receivedAt - b.receivedAt);

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  store = new LiveStore(t.connection.sqlite, impliedChannels());
  day = localDay(t.service.calendars['customer-services']!, NOW);
  for (const [name, channel, at] of [['a', 'phone', NOW - 60 * MIN], ['b', 'phone', NOW - 30 * MIN], ['e', 'email', NOW - 20 * MIN]] as const) {
    ids[name] = (await t.service.createContact({ channel, externalId: `ledger-${name}`, receivedAt: iso(at) })).contact.id;
  }
});
afterAll(async () => {
  await t.close();
});

describe('TodayLedger, read asynchronously', () => {
  it('with nothing heard meanwhile, holds exactly the rows read', async () => {
    const ledger = new TodayLedger(asyncOf(store, LIVE_READS));
    expect(ledger.cover(day)).not.toBeNull();
    expect(ledger.cover(day)).toBeNull(); // the same day: nothing read again
    await ledger.ready;
    expect(calls(ledger).map((c) => c.status)).toEqual(['breached', 'breached']);
    expect([...ledger.received].length).toBe(3);
  });

  it('a change or a timer heard while the rows are read wins over the rows read for that contact', async () => {
    const { reads, release } = heldReads();
    const ledger = new TodayLedger(reads);
    const filled = ledger.cover(day)!;
    // Heard after the rows were taken, before they arrive: call a answered, a new call c, call b's clock moved by a timer.
    const off = t.service.onChange((changes: ContactChange[]) => {
      for (const ch of changes) ledger.applyChange(ch.contact, ch.clocks);
    });
    await t.service.addEvents(ids.a!, [{ type: 'answered', at: iso(NOW - 58 * MIN) }]);
    const c = (await t.service.createContact({ channel: 'phone', externalId: 'ledger-c', receivedAt: iso(NOW - MIN) })).contact.id;
    ledger.applyStatus(ids.b!, 'phone-answer', 'at-risk');
    off();
    release();
    await filled;
    const byReceived = calls(ledger);
    expect(byReceived.map((x) => x.status)).toEqual(['met', 'at-risk', 'running']); // a (answered in 2 minutes), b (the timer's), c (new)
    expect(byReceived[0]!.answeredAt).toBe(NOW - 58 * MIN);
    expect([...ledger.received].sort()).toEqual([NOW - 60 * MIN, NOW - 30 * MIN, NOW - 20 * MIN, NOW - MIN]);
    // a's handled clock counted once, as a fresh read of the store now counts it.
    const fresh = new TodayLedger(asyncOf(store, LIVE_READS));
    fresh.cover(day);
    await fresh.ready;
    expect([...ledger.handled]).toEqual([...fresh.handled]);
    expect([...ledger.ended]).toEqual([...fresh.ended]);
    expect(c).toBeTruthy();
  });

  it('a failed read rejects, and the next cover reads the day again', async () => {
    let fail = true;
    const direct = asyncOf(store, LIVE_READS);
    const ledger = new TodayLedger({
      ...direct,
      callsSince: async (since: number) => {
        if (fail) throw new Error('database away');
        return direct.callsSince(since);
      },
    });
    await expect(ledger.cover(day)!).rejects.toThrow('database away');
    fail = false;
    const again = ledger.cover(day);
    expect(again).not.toBeNull();
    await again;
    expect(calls(ledger).length).toBe(3);
  });
});
