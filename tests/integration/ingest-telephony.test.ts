// The telephony adapter: a platform's call events on a real SQLite file, through the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainHeld } from '../../server/ingest/telephony.js';
import { QueueSet } from '../../server/ingest/queues.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const URL = '/api/v1/ingest/telephony';
const post = async (payload: Json | Json[], headers: Record<string, string> = t.auth) => {
  const r = await t.app.inject({ method: 'POST', url: URL, payload, headers });
  return { status: r.statusCode, json: r.json() as Json };
};
const clock = (c: Json, standard: string) => (c.clocks as Json[]).find((k) => k.standard === standard);
const stored = async (id: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/contacts/${id}`, headers: t.auth })).json() as Json;

describe('a whole call', () => {
  it('queued then answered (two webhooks): the phone contact, phone-answer met, the advisor assigned', async () => {
    const q = await post({
      callId: 'CA-1001',
      event: 'queued',
      at: '2026-03-02T10:00:00Z',
      eventId: 'evt-1',
      caller: { number: '+441632960001', name: 'Ann Tenant' },
      queue: 'customer-services',
      category: 'repair',
    });
    expect(q.status).toBe(201);
    const opened = q.json.contacts[0];
    expect(opened).toMatchObject({
      channel: 'phone',
      route: 'customer-services',
      category: 'repair',
      externalId: 'CA-1001',
      receivedAt: '2026-03-02T10:00:00.000Z',
      customer: { name: 'Ann Tenant', phone: '+441632960001' },
      source: { callId: 'CA-1001', queue: 'customer-services' },
    });
    expect(clock(opened, 'phone-answer')).toMatchObject({ startedAt: '2026-03-02T10:00:00.000Z', dueAt: '2026-03-02T10:05:00.000Z' });
    expect(q.json.results).toEqual([{ callId: 'CA-1001', event: 'queued', contactId: opened.id, outcome: 'created' }]);

    const a = await post({ callId: 'CA-1001', event: 'answered', at: '2026-03-02T10:03:10+00:00', eventId: 'evt-2', agent: 'sam.jones' });
    expect(a.status).toBe(200);
    const answered = a.json.contacts[0];
    expect(answered.id).toBe(opened.id);
    expect(clock(answered, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:03:10.000Z' });
    expect(answered.assignee).toBe('sam.jones');
    expect((answered.events as Json[]).map((e) => [e.type, e.externalId])).toEqual([
      ['answered', 'evt-2'],
      ['assigned', 'evt-2:assigned'],
    ]);
    expect(a.json.results).toEqual([{ callId: 'CA-1001', event: 'answered', contactId: opened.id, outcome: 'added' }]);
  });

  it('queued then abandoned after 3 s is abandoned-short; after 40 s plain abandoned', async () => {
    const r = await post([
      { callId: 'CA-1002', event: 'queued', at: '2026-03-02T11:00:00Z' },
      { callId: 'CA-1002', event: 'abandoned', at: '2026-03-02T11:00:03Z' },
      { callId: 'CA-1003', event: 'queued', at: '2026-03-02T11:00:00Z' },
      { callId: 'CA-1003', event: 'abandoned', at: '2026-03-02T11:00:40Z' },
    ]);
    expect(r.status).toBe(201);
    const [short, long] = r.json.contacts as Json[];
    expect(clock(short!, 'phone-answer')!.status).toBe('abandoned-short');
    expect(clock(long!, 'phone-answer')!.status).toBe('abandoned');
  });

  it('a callback: requested at 2 min, connected at 4 min is met; connected at 6 min is missed; both marked callback', async () => {
    await post({ callId: 'CA-1004', event: 'queued', at: '2026-03-02T10:00:00Z', caller: { number: '+441632960004' } });
    await post({ callId: 'CA-1004', event: 'callback-requested', at: '2026-03-02T10:02:00Z' });
    const inTime = await post({ callId: 'CA-1004', event: 'callback-connected', at: '2026-03-02T10:04:00Z' });
    expect(inTime.json.contacts[0].callback).toBe(true);
    expect(clock(inTime.json.contacts[0], 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:04:00.000Z' });

    // STANDARDS §7 example 11.
    const late = await post([
      { callId: 'CA-1005', event: 'queued', at: '2026-03-02T10:00:00Z' },
      { callId: 'CA-1005', event: 'callback-requested', at: '2026-03-02T10:02:00Z' },
      { callId: 'CA-1005', event: 'callback-connected', at: '2026-03-02T10:06:00Z' },
    ]);
    expect(late.json.contacts[0].callback).toBe(true);
    expect(clock(late.json.contacts[0], 'phone-answer')!.status).toBe('missed');
  });

  it('voicemail-left opens a separate voicemail contact with a voicemail-reply clock', async () => {
    // Queued at 17:55 on a Monday, hung up at 17:58 and left a message: two contacts.
    const r = await post([
      { callId: 'CA-1006', event: 'queued', at: '2026-03-02T17:55:00Z', caller: { number: '+441632960006', name: 'Cy Tenant' } },
      { callId: 'CA-1006', event: 'abandoned', at: '2026-03-02T17:58:00Z' },
      {
        callId: 'CA-1006',
        event: 'voicemail-left',
        at: '2026-03-02T17:58:30Z',
        caller: { number: '+441632960006', name: 'Cy Tenant' },
        recordingUrl: 'https://pbx.example/rec/CA-1006.wav',
        durationSeconds: 41,
      },
    ]);
    expect(r.status).toBe(201);
    const [phone, voicemail] = r.json.contacts as Json[];
    expect(clock(phone!, 'phone-answer')!.status).toBe('abandoned');
    expect(voicemail).toMatchObject({
      channel: 'voicemail',
      externalId: 'CA-1006:voicemail',
      receivedAt: '2026-03-02T17:58:30.000Z',
      customer: { name: 'Cy Tenant', phone: '+441632960006' },
      source: { callId: 'CA-1006', recordingUrl: 'https://pbx.example/rec/CA-1006.wav', durationSeconds: 41 },
    });
    // After hours on Monday: one working day is all of Tuesday.
    expect(clock(voicemail!, 'voicemail-reply')).toMatchObject({ startedAt: '2026-03-02T17:58:30.000Z', dueAt: '2026-03-03T17:00:00.000Z' });
    expect((voicemail!.clocks as Json[]).map((c) => c.standard)).toEqual(['voicemail-reply']);
    expect(r.json.results.map((x: Json) => x.outcome)).toEqual(['created', 'added', 'created']);

    // A voicemail with no queued call before it (the out-of-hours message line) needs no call.
    const alone = await post({ callId: 'CA-1007', event: 'voicemail-left', at: '2026-03-07T09:00:00Z', queue: 'out-of-hours', caller: { number: '+441632960007' } });
    expect(alone.status).toBe(201);
    expect(clock(alone.json.contacts[0], 'voicemail-reply')!.dueAt).toBe('2026-03-09T17:00:00.000Z');
  });

  it('the out-of-hours line has no answer target; an emergency category brings its clocks', async () => {
    const r = await post([
      { callId: 'CA-1008', event: 'queued', at: '2026-03-07T23:10:00Z', queue: 'out-of-hours', category: 'emergency-repair' },
      { callId: 'CA-1008', event: 'answered', at: '2026-03-07T23:25:00Z', agent: 'ooh.team' },
    ]);
    const c = r.json.contacts[0];
    expect(c.route).toBe('out-of-hours');
    expect((c.clocks as Json[]).map((k) => k.standard).sort()).toEqual(['emergency-arrange-repair', 'emergency-make-safe']);
    expect(c.assignee).toBe('ooh.team');
  });
});

describe('events in any order', () => {
  it('for a known call, later webhooks in any order give the clocks of the sorted log', async () => {
    await post({ callId: 'CA-2001', event: 'queued', at: '2026-03-02T10:00:00Z' });
    // The platform replays its log backwards: the abandon first, then the earlier answer.
    await post({ callId: 'CA-2001', event: 'abandoned', at: '2026-03-02T10:09:00Z' });
    const r = await post({ callId: 'CA-2001', event: 'answered', at: '2026-03-02T10:04:00Z', agent: 'jo' });
    expect(clock(r.json.contacts[0], 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:04:00.000Z' });
    // The same log posted forwards to another call gives the same clock.
    const forwards = await post([
      { callId: 'CA-2002', event: 'queued', at: '2026-03-02T10:00:00Z' },
      { callId: 'CA-2002', event: 'answered', at: '2026-03-02T10:04:00Z', agent: 'jo' },
      { callId: 'CA-2002', event: 'abandoned', at: '2026-03-02T10:09:00Z' },
    ]);
    const strip = (c: Json) => ({ ...clock(c, 'phone-answer'), calendar: undefined });
    expect(strip(forwards.json.contacts[0])).toEqual(strip(r.json.contacts[0]));
  });

  it('in one array, a call\'s events may come before its queued event', async () => {
    const r = await post([
      { callId: 'CA-2003', event: 'callback-connected', at: '2026-03-02T10:03:00Z' },
      { callId: 'CA-2003', event: 'callback-requested', at: '2026-03-02T10:01:00Z' },
      { callId: 'CA-2003', event: 'queued', at: '2026-03-02T10:00:00Z' },
    ]);
    expect(r.status).toBe(201);
    expect(r.json.contacts).toHaveLength(1);
    expect(r.json.contacts[0].callback).toBe(true);
    expect(clock(r.json.contacts[0], 'phone-answer')!.status).toBe('met');
    expect(r.json.results.map((x: Json) => x.outcome)).toEqual(['added', 'added', 'created']);
  });
});

describe('replays', () => {
  const log = [
    { callId: 'CA-3001', event: 'queued', at: '2026-03-02T12:00:00Z', caller: { number: '+441632960031', name: 'Di Tenant' } },
    { callId: 'CA-3001', event: 'callback-requested', at: '2026-03-02T12:01:00Z' },
    { callId: 'CA-3001', event: 'callback-connected', at: '2026-03-02T12:03:00Z' },
    { callId: 'CA-3001', event: 'voicemail-left', at: '2026-03-02T12:04:00Z' },
  ];

  it('the same log again answers 200 and stores nothing new', async () => {
    const first = await post(log);
    expect(first.status).toBe(201);
    const before = await t.counts();
    const again = await post(log);
    expect(again.status).toBe(200);
    expect(again.json.results.map((x: Json) => x.outcome)).toEqual(['replayed', 'duplicate', 'duplicate', 'replayed']);
    expect(await t.counts()).toEqual(before);
    // One event at a time, and the same instant written another way, is still a replay.
    expect((await post(log[0]!)).status).toBe(200);
    const sameInstant = await post({ callId: 'CA-3001', event: 'callback-connected', at: '2026-03-02T12:03:00.000+00:00' });
    expect(sameInstant.json.results[0].outcome).toBe('duplicate');
    expect(await t.counts()).toEqual(before);
    expect(again.json.contacts.map((c: Json) => c.id)).toEqual(first.json.contacts.map((c: Json) => c.id));
  });

  it('a replayed event id is a no-op; the same id with other content is 409', async () => {
    await post({ callId: 'CA-3002', event: 'queued', at: '2026-03-02T12:00:00Z' });
    await post({ callId: 'CA-3002', event: 'answered', at: '2026-03-02T12:02:00Z', eventId: 'e-77', agent: 'kim' });
    const before = await t.counts();
    expect((await post({ callId: 'CA-3002', event: 'answered', at: '2026-03-02T12:02:00Z', eventId: 'e-77', agent: 'kim' })).status).toBe(200);
    expect(await t.counts()).toEqual(before);
    expect((await post({ callId: 'CA-3002', event: 'answered', at: '2026-03-02T12:02:30Z', eventId: 'e-77', agent: 'kim' })).status).toBe(409);
    // A queued for a known call with another caller is a conflict, not a second contact.
    expect((await post({ callId: 'CA-3002', event: 'queued', at: '2026-03-02T12:00:00Z', caller: { name: 'Someone Else' } })).status).toBe(409);
    expect(await t.counts()).toEqual(before);
  });
});

describe('bad input stores nothing', () => {
  it('an event for a call not yet queued is held (202, no contact) and applied when the queued arrives', async () => {
    const before = await t.counts();
    const r = await post({ callId: 'CA-HELD', event: 'answered', at: '2026-03-02T10:02:00Z', eventId: 'h-1', agent: 'sam' });
    expect(r.status).toBe(202);
    expect(r.json.results).toEqual([{ callId: 'CA-HELD', event: 'answered', outcome: 'held' }]);
    expect(await t.counts()).toEqual(before);
    // Twice: still one held row.
    expect((await post({ callId: 'CA-HELD', event: 'answered', at: '2026-03-02T10:02:00Z', eventId: 'h-1', agent: 'sam' })).status).toBe(202);
    expect(await t.service.telephony.held('CA-HELD')).toHaveLength(1);
    const q = await post({ callId: 'CA-HELD', event: 'queued', at: '2026-03-02T10:00:00Z' });
    expect(q.status).toBe(201);
    const c = q.json.contacts[0];
    expect(clock(c, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:02:00.000Z' });
    expect(c.assignee).toBe('sam');
    expect(await t.service.telephony.held('CA-HELD')).toEqual([]);
  });

  it('an event held just after its call opened (two requests crossing) is applied by the look after commit', async () => {
    await post({ callId: 'CA-CROSS', event: 'queued', at: '2026-03-02T10:00:00Z' });
    // As the other request would have left it: held, its call already stored.
    await t.service.telephonyFacts({ hold: [{ callId: 'CA-CROSS', eventKey: 'x-1', event: { callId: 'CA-CROSS', event: 'answered', at: '2026-03-02T10:01:00Z', eventId: 'x-1' } }] });
    const id = await drainHeld(t.service, 'CA-CROSS', { queues: new QueueSet(t.config.phone.queues, t.config.phone.defaultQueue) });
    expect(id).toBeDefined();
    expect(clock((await t.service.view(id!)) as unknown as Json, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:01:00.000Z' });
    expect(await t.service.telephony.held('CA-CROSS')).toEqual([]);
  });

  it('in an array, a held event does not hold back the rest', async () => {
    const batch = await post([
      { callId: 'CA-4001', event: 'queued', at: '2026-03-02T10:00:00Z' },
      { callId: 'CA-NOPE', event: 'abandoned', at: '2026-03-02T10:01:00Z' },
    ]);
    expect(batch.status).toBe(201);
    expect((batch.json.results as Json[]).map((r) => r.outcome)).toEqual(['created', 'held']);
  });

  it('ended carries talk and wrap-up time to the call ledger; an unknown queue goes to the default queue and is listed', async () => {
    const r = await post([
      { callId: 'CA-AHT', event: 'queued', at: '2026-03-02T10:00:00Z', queue: 'sales' },
      { callId: 'CA-AHT', event: 'answered', at: '2026-03-02T10:00:30Z', agent: 'kim' },
      { callId: 'CA-AHT', event: 'ended', at: '2026-03-02T10:05:30Z', talkSeconds: 300, wrapSeconds: 45 },
    ]);
    expect(r.status).toBe(201);
    expect(r.json.contacts[0]).toMatchObject({ route: 'customer-services', source: { queue: 'customer-services' } });
    expect(r.json.results[2]).toMatchObject({ event: 'ended', outcome: 'recorded' });
    expect(await t.service.telephony.ledger('CA-AHT')).toMatchObject({ queue: 'customer-services', talkMs: 300_000, wrapMs: 45_000, agent: 'kim' });
    expect((await t.service.telephony.unknownQueues()).map((q) => [q.platform, q.queueKey])).toContainEqual(['kept', 'sales']);
  });

  it('a timestamp without an offset, an unknown event, an unknown field, a bad queue: 400 naming the field', async () => {
    const before = await t.counts();
    const cases: Array<[Json | Json[], string]> = [
      [{ callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00' }, 'at'],
      [{ callId: 'CA-4002', event: 'queued', at: 'yesterday' }, 'at'],
      [{ callId: 'CA-4002', event: 'rang', at: '2026-03-02T10:00:00Z' }, 'event'],
      [{ callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00Z', colour: 'blue' }, 'colour'],
      [{ callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00Z', queue: '' }, 'queue'],
      [{ callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00Z', category: 'gossip' }, 'category'],
      [{ event: 'queued', at: '2026-03-02T10:00:00Z' }, 'callId'],
      [
        [
          { callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00Z' },
          { callId: 'CA-4002', event: 'answered', at: '2026-03-02T10:01:00' },
        ],
        '[1].at',
      ],
      [
        [
          { callId: 'CA-4002', event: 'queued', at: '2026-03-02T10:00:00Z' },
          { callId: 'CA-4002', event: 'answered', at: '2026-03-02T09:59:00Z' },
        ],
        '[1].at',
      ],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      expect([r.status, r.json.field], JSON.stringify(body)).toEqual([400, field]);
    }
    expect(await t.counts()).toEqual(before);
  });

  it('an event before its stored call was queued is 400 on at', async () => {
    await post({ callId: 'CA-4003', event: 'queued', at: '2026-03-02T10:00:00Z' });
    const before = await t.counts();
    const r = await post({ callId: 'CA-4003', event: 'answered', at: '2026-03-02T09:00:00Z' });
    expect([r.status, r.json.field]).toEqual([400, 'at']);
    expect(await t.counts()).toEqual(before);
  });

  it('no token is 401', async () => {
    const before = await t.counts();
    const r = await post({ callId: 'CA-4004', event: 'queued', at: '2026-03-02T10:00:00Z' }, {});
    expect(r.status).toBe(401);
    expect((await post({ callId: 'CA-4004', event: 'queued', at: '2026-03-02T10:00:00Z' }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await t.counts()).toEqual(before);
  });
});

it('the OpenAPI document describes the call event with examples', async () => {
  const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as Json;
  const op = doc.paths['/api/v1/ingest/telephony'].post;
  expect(op.description).toContain('held');
  const text = JSON.stringify(op.requestBody);
  for (const word of ['callId', 'callback-requested', 'voicemail-left', 'recordingUrl', 'CA7781-2026-03-02']) expect(text).toContain(word);
});
