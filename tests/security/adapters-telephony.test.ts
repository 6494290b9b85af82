// Telephony batches never answer 5xx for what is in them: a timestamp Kept cannot use is a 400
// naming `[i].at` (or `at` for a single event), and the batch stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const post = async (payload: Json | Json[]) => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/telephony', payload, headers: t.auth });
  return { status: r.statusCode, json: r.json() as Json };
};

describe('timestamps out of range', () => {
  const bad = [
    '2200-01-01T00:00:00Z',
    '1999-12-31T23:59:59Z',
    '2199-12-31T23:00:00-01:00',
    '2000-01-01T00:30:00+01:00',
    '9999-12-31T23:59:59Z',
    '0000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '-271821-04-20T00:00:00Z',
    '2026-02-30T10:00:00Z',
    '2026-03-02T24:00:00Z',
    '2026-03-02T10:00:00+99:00',
    'NaN',
    '',
  ];
  for (const at of bad) {
    it(`"${at}" in a batch is 400 naming [1].at and stores nothing`, async () => {
      const before = t.counts();
      const r = await post([
        { callId: `ok-${at}`, event: 'queued', at: '2026-03-02T10:00:00Z' },
        { callId: `bad-${at}`, event: 'queued', at },
        { callId: `ok-${at}`, event: 'answered', at: '2026-03-02T10:01:00Z' },
      ]);
      expect([r.status, r.json.field]).toEqual([400, '[1].at']);
      expect(r.json.message).toMatch(/^\[1\]\.at: /);
      expect(t.counts()).toEqual(before);
    });
  }

  it('a single event names `at`; a later event out of range names its own index', async () => {
    const single = await post({ callId: 'single', event: 'queued', at: '2200-01-01T00:00:00Z' });
    expect([single.status, single.json.field]).toEqual([400, 'at']);
    const later = await post([
      { callId: 'later', event: 'queued', at: '2026-03-02T10:00:00Z' },
      { callId: 'later', event: 'answered', at: '2200-01-01T00:00:00Z' },
    ]);
    expect([later.status, later.json.field]).toEqual([400, '[1].at']);
  });

  it('the edges of the supported years are taken, whatever the clocks then reach', async () => {
    for (const [callId, at] of [
      ['first', '2000-01-01T00:00:00Z'],
      ['last', '2199-12-31T23:59:59.999Z'],
    ] as const) {
      const r = await post([
        { callId, event: 'queued', at, category: 'complaint' },
        { callId, event: 'voicemail-left', at, category: 'complaint' },
      ]);
      expect(r.status).toBeLessThan(500);
      expect([r.status, r.json.field]).toEqual([201, undefined]);
    }
  });
});
