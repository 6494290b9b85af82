// Today's broken promises (GET /api/v1/live/broken) against the board's own tally: calls whose
// 5 minutes ran out today — one still waiting (breached), one answered late (missed: handled, but
// still a broken promise) — and one kept; the list and the tally agree, by standard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const MIN = 60_000;
const londonDate = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(ms);
// Every instant below lies in the last 20 minutes: the test needs them on one local date.
const sameDay = londonDate(Date.now()) === londonDate(Date.now() - 20 * MIN);

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function post(body: Record<string, unknown>): Promise<string> {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: t.auth, payload: body });
  expect(r.statusCode, r.body).toBe(201);
  return (r.json() as { id: string }).id;
}

describe('GET /api/v1/live/broken', () => {
  it.skipIf(!sameDay)("lists today's broken promises, still open or handled late, as the board's tally counts them", async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const waiting = await post({ channel: 'phone', externalId: 'b-1', receivedAt: iso(now - 12 * MIN), customer: { name: 'Ann Waiting' }, subject: 'Repairs' });
    const late = await post({ channel: 'phone', externalId: 'b-2', receivedAt: iso(now - 15 * MIN), customer: { name: 'Bob Late' }, events: [{ type: 'answered', at: iso(now - 8 * MIN) }] });
    await post({ channel: 'phone', externalId: 'b-3', receivedAt: iso(now - 15 * MIN), events: [{ type: 'answered', at: iso(now - 14 * MIN) }] });
    // The clocks turn breached on the live timers: wait for the board to count the waiting call.
    await expect.poll(() => t.app.live.board(Date.now()).tiles.find((x) => x.channel === 'phone')!.breached, { timeout: 3000 }).toBe(1);

    const r = await t.app.inject({ method: 'GET', url: '/api/v1/live/broken', headers: t.auth });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json() as { date: string; total: number; items: Array<{ contactId: string; standard: string; status: string; dueAt: string; customerName: string | null; route: string }> };
    expect(body.date).toBe(londonDate(now));
    expect(body.total).toBe(2);
    // Latest deadline first: the waiting call was due at now − 7 min, the late one at now − 10 min.
    expect(body.items.map((i) => [i.contactId, i.standard, i.status, i.customerName])).toEqual([
      [waiting, 'phone-answer', 'breached', 'Ann Waiting'],
      [late, 'phone-answer', 'missed', 'Bob Late'],
    ]);
    expect(body.items[0]!.route).toBe('customer-services');

    // The board's tally says the same: 2 broken, 1 kept.
    const tally = t.app.live.board(Date.now()).tally.find((x) => x.standard === 'phone-answer');
    expect(tally).toEqual({ standard: 'phone-answer', kept: 1, keptExtended: 0, broken: 2 });

    // One standard only; a standard with none.
    const one = (await t.app.inject({ method: 'GET', url: '/api/v1/live/broken?standard=email-reply', headers: t.auth })).json() as { total: number };
    expect(one.total).toBe(0);
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/live/broken?standard=Not%20a%20standard', headers: t.auth });
    expect(bad.statusCode).toBe(400);
  });
});
