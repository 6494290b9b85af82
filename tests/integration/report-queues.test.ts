// Named phone queues (issue 13) in the lists and the weekly report: a fixture week (2026-W10, GMT)
// with calls on two configured lines (repairs, rents), one on the built-in customer-services queue
// (posted without a queue: its route's), and one on an out-of-hours line (no answer promise). Every
// figure below is worked out by hand from the fixture's own instants. Real SQLite, real HTTP, the writer.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueuePhoneFigures, WeeklyReport } from '../../server/reports/types.js';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z'); // the Tuesday after the week
const QUEUES = JSON.stringify([
  { id: 'repairs', name: 'Repairs line', category: 'repair', match: ['Repairs'] },
  { id: 'rents', name: 'Rents line', match: ['Rents'] },
  { id: 'emergencies', name: 'Emergency line', route: 'out-of-hours', phoneAnswer: false },
]);

let t: TestApp;
let manager: SignedIn;

async function calls(events: Array<Record<string, unknown>>): Promise<void> {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/telephony', headers: t.auth, payload: events });
  expect(r.statusCode, r.body).toBeLessThan(300);
}

beforeAll(async () => {
  t = await startTestApp({ KEPT_PHONE_QUEUES: QUEUES }, { now: () => NOW });
  manager = await t.signIn('manager');
  await calls([
    // Repairs line (by its platform name): answered after 60 s; after 7 min; a 3 s (short) abandon; an abandon after 2 min.
    { callId: 'R1', event: 'queued', at: '2026-03-02T09:00:00Z', queue: 'Repairs' },
    { callId: 'R1', event: 'answered', at: '2026-03-02T09:01:00Z' },
    { callId: 'R2', event: 'queued', at: '2026-03-02T09:10:00Z', queue: 'repairs' },
    { callId: 'R2', event: 'answered', at: '2026-03-02T09:17:00Z' },
    { callId: 'R3', event: 'queued', at: '2026-03-02T09:20:00Z', queue: 'repairs' },
    { callId: 'R3', event: 'abandoned', at: '2026-03-02T09:20:03Z' },
    { callId: 'R4', event: 'queued', at: '2026-03-02T10:00:00Z', queue: 'repairs' },
    { callId: 'R4', event: 'abandoned', at: '2026-03-02T10:02:00Z' },
    // Rents line: answered after 299 s; called back after 3 min; an abandon after 6 min (and a voicemail left).
    { callId: 'N1', event: 'queued', at: '2026-03-03T11:00:00Z', queue: 'rents' },
    { callId: 'N1', event: 'answered', at: '2026-03-03T11:04:59Z' },
    { callId: 'N2', event: 'queued', at: '2026-03-03T11:30:00Z', queue: 'Rents' },
    { callId: 'N2', event: 'callback-requested', at: '2026-03-03T11:31:00Z' },
    { callId: 'N2', event: 'callback-connected', at: '2026-03-03T11:33:00Z' },
    { callId: 'N3', event: 'queued', at: '2026-03-04T15:00:00Z', queue: 'rents' },
    { callId: 'N3', event: 'abandoned', at: '2026-03-04T15:06:00Z' },
    { callId: 'N3', event: 'voicemail-left', at: '2026-03-04T15:06:30Z', queue: 'rents' },
    // The out-of-hours line: no phone-answer clock, so no phone figures.
    { callId: 'X1', event: 'queued', at: '2026-03-05T22:00:00Z', queue: 'emergencies' },
    // The week after (W11): not in W10's figures.
    { callId: 'R9', event: 'queued', at: '2026-03-09T09:00:00Z', queue: 'repairs' },
    { callId: 'R9', event: 'answered', at: '2026-03-09T09:00:10Z' },
  ]);
  // A call posted as a contact, with no queue: on its route's queue (customer-services), answered after 30 s.
  await t.service.createContact({ channel: 'phone', externalId: 'P1', receivedAt: '2026-03-06T10:00:00Z', events: [{ type: 'answered', at: '2026-03-06T10:00:30Z' }] });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

/** A manager's GET (the session cookie), as the reports page asks. */
async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await t.app.inject({ method: 'GET', url, headers: manager.headers });
  return { status: r.statusCode, body: r.body };
}

const row = (r: WeeklyReport, queue: string): QueuePhoneFigures | undefined => r.phone.byQueue?.find((q) => q.queue === queue);

describe('the weekly report per named queue', () => {
  it('counts each queue as the centre is counted, worked out by hand', async () => {
    const res = await get('/api/v1/reports/weekly/2026-W10');
    expect(res.status, res.body).toBe(200);
    const r = JSON.parse(res.body) as WeeklyReport;
    // Every configured queue the answer promise applies to, in the configuration's order (the built-in
    // customer-services first); out-of-hours and the emergency line have no phone-answer clocks.
    expect(r.phone.byQueue!.map((q) => q.queue)).toEqual(['customer-services', 'repairs', 'rents']);
    // Repairs: 4 offered (R1–R4); answered R1 (60 s, within) and R2 (420 s, late); R3 a short abandon (3 s);
    // R4 abandoned after 120 s. Service level = within ÷ (offered − short) = 1 ÷ 3; ASA = (60 + 420) ÷ 2 s.
    expect(row(r, 'repairs')).toEqual({
      queue: 'repairs', name: 'Repairs line', offered: 4, answered: 2, answeredWithinTarget: 1, abandoned: 1, shortAbandons: 1,
      serviceLevel: 1 / 3, averageSpeedOfAnswerMs: 240_000, longestWaitMs: 420_000,
    });
    // Rents: 3 offered; N1 answered at 299 s and N2 called back at 180 s (both within); N3 abandoned at 360 s.
    // Service level 2 ÷ 3; ASA (299 + 180) ÷ 2 s = 239.5 s; the longest wait N3's 6 minutes.
    expect(row(r, 'rents')).toEqual({
      queue: 'rents', name: 'Rents line', offered: 3, answered: 2, answeredWithinTarget: 2, abandoned: 1, shortAbandons: 0,
      serviceLevel: 2 / 3, averageSpeedOfAnswerMs: 239_500, longestWaitMs: 360_000,
    });
    // Customer services: P1 (no queue given: its route's), answered after 30 s.
    expect(row(r, 'customer-services')).toEqual({
      queue: 'customer-services', name: 'Customer services', offered: 1, answered: 1, answeredWithinTarget: 1, abandoned: 0, shortAbandons: 0,
      serviceLevel: 1, averageSpeedOfAnswerMs: 30_000, longestWaitMs: 30_000,
    });
    // The queues add up to the centre: 8 offered, 5 answered, 4 within, 1 short; SL 4 ÷ 7.
    expect(r.phone).toMatchObject({ offered: 8, answered: 5, answeredWithinTarget: 4, abandoned: 2, shortAbandons: 1, serviceLevel: 4 / 7, longestWaitMs: 420_000 });
    const sum = (k: 'offered' | 'answered' | 'answeredWithinTarget' | 'abandoned' | 'shortAbandons') => r.phone.byQueue!.reduce((n, q) => n + q[k], 0);
    for (const k of ['offered', 'answered', 'answeredWithinTarget', 'abandoned', 'shortAbandons'] as const) expect(sum(k), k).toBe(r.phone[k]);
  });

  it('gives a queue with no call in the week a row of zeros', async () => {
    const r = JSON.parse((await get('/api/v1/reports/weekly/2026-W12')).body) as WeeklyReport;
    expect(r.phone.byQueue).toEqual(
      ['customer-services', 'repairs', 'rents'].map((queue) => ({
        queue, name: { 'customer-services': 'Customer services', repairs: 'Repairs line', rents: 'Rents line' }[queue], offered: 0, answered: 0, answeredWithinTarget: 0,
        abandoned: 0, shortAbandons: 0, serviceLevel: null, averageSpeedOfAnswerMs: null, longestWaitMs: null,
      })),
    );
  });

  it('writes the phone-by-queue table in the CSV', async () => {
    const res = await get('/api/v1/reports/weekly/2026-W10?format=csv');
    expect(res.status).toBe(200);
    const records = parse(res.body, { relax_column_count: true }) as string[][];
    const header = records.find((r) => r[0] === 'table' && r[1] === 'queue')!;
    expect(header).toEqual(['table', 'queue', 'name', 'offered', 'answered', 'answeredWithinTarget', 'abandoned', 'shortAbandons', 'serviceLevel', 'averageSpeedOfAnswerMs', 'longestWaitMs']);
    const rows = records.filter((r) => r[0] === 'phone-by-queue');
    expect(rows).toEqual([
      ['phone-by-queue', 'customer-services', 'Customer services', '1', '1', '1', '0', '0', '1', '30000', '30000'],
      ['phone-by-queue', 'repairs', 'Repairs line', '4', '2', '1', '1', '1', String(1 / 3), '240000', '420000'],
      ['phone-by-queue', 'rents', 'Rents line', '3', '2', '2', '1', '0', String(2 / 3), '239500', '360000'],
    ]);
  });
});

describe('GET /api/v1/contacts?queue=', () => {
  const list = async (query: string) => {
    const r = await t.app.inject({ method: 'GET', url: `/api/v1/contacts?${query}`, headers: t.auth });
    expect(r.statusCode, r.body).toBe(200);
    return (r.json() as { items: Array<{ externalId: string | null; channel: string; source: Record<string, unknown> | null }> }).items;
  };

  it("lists a queue's calls and voicemails, newest first, with the other filters", async () => {
    expect((await list('queue=rents')).map((c) => c.externalId)).toEqual(['N3:voicemail', 'N3', 'N2', 'N1']);
    expect((await list('queue=rents&channel=voicemail')).map((c) => c.externalId)).toEqual(['N3:voicemail']);
    expect((await list('queue=repairs')).map((c) => c.externalId)).toEqual(['R9', 'R4', 'R3', 'R2', 'R1']);
    expect((await list('queue=repairs&status=met')).map((c) => c.externalId)).toEqual(['R9', 'R1']);
    expect((await list('queue=repairs&status=abandoned-short')).map((c) => c.externalId)).toEqual(['R3']);
    expect((await list('queue=repairs&status=missed,abandoned&from=2026-03-02T09:05:00Z&to=2026-03-09T00:00:00Z')).map((c) => c.externalId)).toEqual(['R4', 'R2']);
    expect((await list('queue=emergencies')).map((c) => c.externalId)).toEqual(['X1']);
    expect((await list('queue=customer-services')).map((c) => c.externalId)).toEqual(['P1']);
    expect(await list('queue=nobody')).toEqual([]);
    // The contact keeps the Kept queue's id, though the call named the queue by its platform name (Repairs).
    expect((await list('queue=repairs&limit=500')).find((c) => c.externalId === 'R1')!.source).toMatchObject({ queue: 'repairs' });
  });

  it('refuses a bad queue naming the field', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/contacts?queue=', headers: t.auth });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('queue');
  });
});
