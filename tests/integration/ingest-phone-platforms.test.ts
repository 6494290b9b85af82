// The native telephony adapters on the platforms' own payloads (tests/fixtures/telephony/README.md
// says where each came from), through the real app on a real SQLite file: Twilio signed with the
// twilio package's own helper, Amazon Connect and Genesys Cloud as EventBridge delivers them; out of
// order, twice, callbacks, transfers, outbound calls, a bad signature.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'telephony');
const fixture = (p: string) => JSON.parse(readFileSync(join(FIXTURES, p), 'utf8')) as Json;

const AUTH_TOKEN = 'twilio-auth-token-for-tests-0123456789';
const PUBLIC_URL = 'https://kept.example.org';
const QUEUES = JSON.stringify([
  { id: 'repairs', name: 'Repairs line', route: 'customer-services', category: 'repair', match: ['Repairs', 'arn:aws:connect:eu-west-2:111122223333:instance/12345678-1234-1234-1234-123456789012/queue/aaaa1111-2222-3333-4444-555566667777', 'f4e3d2c1-b0a9-4877-8665-544332211000'] },
  { id: 'rents', name: 'Rents line', route: 'customer-services', category: 'general', match: ['QU0f1e2d3c4b5a69788796a5b4c3d2e1f0'] },
]);

let t: TestApp;
beforeAll(async () => {
  recordSecret(AUTH_TOKEN);
  t = await startTestApp({ KEPT_TWILIO_AUTH_TOKEN: AUTH_TOKEN, KEPT_PUBLIC_URL: PUBLIC_URL, KEPT_PHONE_QUEUES: QUEUES });
});
afterAll(async () => {
  await t.close();
});

const contact = async (externalId: string) => {
  const row = await t.service.contacts.byExternal('phone', externalId);
  return row === undefined ? undefined : ((await t.service.view(row.id)) as unknown as Json);
};
const clock = (c: Json | undefined, standard: string) => (c?.clocks as Json[] | undefined)?.find((k) => k.standard === standard);

describe('Twilio', () => {
  const path = (queue?: string) => `/api/v1/ingest/twilio${queue ? `?queue=${queue}` : ''}`;
  const post = async (params: Json, options: { signature?: string | null; url?: string; json?: boolean } = {}) => {
    const url = options.url ?? path();
    const body = new URLSearchParams(params as Record<string, string>).toString();
    const signature = options.signature === undefined ? twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${url}`, params) : options.signature;
    const r = await t.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}), ...(options.json !== false ? { accept: 'application/json' } : {}) },
    });
    return { status: r.statusCode, body: r.body, type: r.headers['content-type'], json: () => r.json() as Json };
  };

  it('a bad or missing signature is refused and stores nothing; a signature over another URL is bad too', async () => {
    const before = await t.counts();
    const ringing = fixture('twilio/voice-status-ringing.json');
    expect((await post(ringing, { signature: null })).status).toBe(401);
    expect((await post(ringing, { signature: twilio.getExpectedTwilioSignature('another-token', `${PUBLIC_URL}${path()}`, ringing) })).status).toBe(403);
    expect((await post(ringing, { signature: twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path('rents')}`, ringing) })).status).toBe(403);
    expect((await post({ ...ringing, From: '+441632960099' }, { signature: twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path()}`, ringing) })).status).toBe(403);
    expect(await t.counts()).toEqual(before);
  });

  it('a status callback (ringing) opens the call; the <Enqueue> action (bridged) answers it QueueTime after; completed ends it; again changes nothing', async () => {
    const ringing = await post(fixture('twilio/voice-status-ringing.json'), { url: path('rents') });
    expect(ringing.status).toBe(201);
    const c = (await contact('CA5d1e6c4b2f0e4a7c9b8e1f2a3b4c5d6e'))!;
    expect(c).toMatchObject({ channel: 'phone', route: 'customer-services', receivedAt: '2026-03-02T10:00:00.000Z', customer: { phone: '+441632960001', name: 'ANN TENANT' }, source: { queue: 'rents', platform: 'twilio', platformQueue: 'rents' } });
    const bridged = await post(fixture('twilio/enqueue-action-bridged.json'), { url: path('rents'), json: false });
    expect(bridged.status).toBe(200);
    expect(bridged.type).toContain('text/xml');
    expect(bridged.body).toContain('<Response/>');
    expect(clock(await contact('CA5d1e6c4b2f0e4a7c9b8e1f2a3b4c5d6e'), 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:01:35.000Z' });
    expect((await post(fixture('twilio/voice-status-completed.json'))).status).toBe(200);
    const before = await t.counts();
    for (const f of ['voice-status-ringing', 'enqueue-action-bridged', 'voice-status-completed']) expect((await post(fixture(`twilio/${f}.json`), { url: f === 'voice-status-completed' ? path() : path('rents') })).status).toBe(200);
    expect(await t.counts()).toEqual(before);
    expect(await t.service.telephony.ledger('CA5d1e6c4b2f0e4a7c9b8e1f2a3b4c5d6e')).toMatchObject({ queue: 'rents', offeredAt: Date.parse('2026-03-02T10:00:00Z'), answeredAt: Date.parse('2026-03-02T10:01:35Z') });
  });

  it('an outbound call is recognised and ignored', async () => {
    const before = await t.counts();
    const r = await post(fixture('twilio/voice-status-outbound.json'));
    expect(r.status).toBe(200);
    expect(r.json().ignored).toEqual([{ what: 'outbound-api call completed', reason: 'outbound' }]);
    expect(await t.counts()).toEqual(before);
  });

  it('TaskRouter, out of order: the answer arrives first (held), then the task; wrap-up and completion give talk and wrap-up time; a worker event gives the advisor state', async () => {
    const accepted = await post(fixture('twilio/taskrouter-reservation-accepted.json'));
    expect(accepted.status).toBe(202);
    expect(accepted.json().results).toEqual([{ callId: 'CA00000000000000000000000000000c01', event: 'answered', outcome: 'held' }]);
    expect(await contact('CA00000000000000000000000000000c01')).toBeUndefined();
    const created = await post(fixture('twilio/taskrouter-task-created.json'));
    expect(created.status).toBe(201);
    const c = (await contact('CA00000000000000000000000000000c01'))!;
    expect(c).toMatchObject({ category: 'repair', assignee: 'sam.jones', customer: { name: 'Bea Resident', phone: '+441632960003' }, source: { queue: 'repairs', platformQueue: 'Repairs' } });
    expect(clock(c, 'phone-answer')).toMatchObject({ status: 'met', startedAt: '2026-03-02T10:00:00.000Z', fulfilledAt: '2026-03-02T10:02:30.000Z' });
    expect(await t.service.telephony.held('CA00000000000000000000000000000c01')).toEqual([]);
    await post(fixture('twilio/taskrouter-task-wrapup.json'));
    await post(fixture('twilio/taskrouter-task-completed.json'));
    expect(await t.service.telephony.ledger('CA00000000000000000000000000000c01')).toMatchObject({ talkMs: 300_000, wrapMs: 60_000 });
    const worker = await post(fixture('twilio/taskrouter-worker-activity-update.json'));
    expect(worker.json().advisors).toBe(1);
    expect(await t.service.telephony.advisorStates()).toContainEqual(expect.objectContaining({ platform: 'twilio', advisor: 'sam.jones', state: 'available', detail: 'Available' }));
  });

  it('an <Enqueue> hangup is an abandoned call, queued QueueTime before', async () => {
    const r = await post(fixture('twilio/enqueue-action-hangup.json'));
    expect(r.status).toBe(201);
    const c = (await contact('CA00000000000000000000000000000a02'))!;
    expect(clock(c, 'phone-answer')!.status).toBe('abandoned');
    expect(c.source).toMatchObject({ queue: 'rents' });
  });
});

describe('Amazon Connect', () => {
  const post = async (payload: unknown, headers: Record<string, string> = t.auth) => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/amazon-connect', payload: payload as Json, headers });
    return { status: r.statusCode, json: r.json() as Json };
  };
  const C1 = '11111111-1111-1111-1111-111111111111';

  it('needs the integration token', async () => {
    expect((await post(fixture('amazon-connect/queued.json'), {})).status).toBe(401);
  });

  it('disconnected first, then connected, then queued, each twice: one contact, queued at enqueueTimestamp, answered, handle time', async () => {
    for (const f of ['disconnected-answered', 'connected-to-agent', 'queued']) {
      for (let i = 0; i < 2; i++) expect((await post(fixture(`amazon-connect/${f}.json`))).status).toBeLessThan(300);
    }
    const c = (await contact(C1))!;
    expect(c).toMatchObject({ route: 'customer-services', category: 'repair', receivedAt: '2026-03-02T10:00:00.000Z', assignee: 'bbbb1111-2222-3333-4444-555566667777', source: { queue: 'repairs', platform: 'amazon-connect' } });
    expect(clock(c, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:02:10.000Z' });
    expect((c.events as Json[]).filter((e) => e.type === 'answered')).toHaveLength(1);
    expect(await t.service.telephony.ledger(C1)).toMatchObject({ talkMs: 390_000, wrapMs: 60_000 });
  });

  it('a disconnect in queue with no agent is an abandon (Connect has no abandon event)', async () => {
    const r = await post(fixture('amazon-connect/disconnected-abandoned.json'));
    expect(r.status).toBe(201);
    const c = (await contact('22222222-2222-2222-2222-222222222222'))!;
    expect(c.receivedAt).toBe('2026-03-02T10:00:10.000Z');
    expect(clock(c, 'phone-answer')!.status).toBe('abandoned');
  });

  it('a callback (a new contact, initiationMethod CALLBACK) is joined to the original call by relatedContactId', async () => {
    // The callback's connection arrives before anything else: held until the original call starts.
    expect((await post(fixture('amazon-connect/callback-connected.json'))).status).toBe(202);
    await post([fixture('amazon-connect/callback-original-queued.json'), fixture('amazon-connect/callback-original-disconnected.json'), fixture('amazon-connect/callback-queued.json')]);
    const c = (await contact('33333333-3333-3333-3333-333333333333'))!;
    expect(await contact('44444444-4444-4444-4444-444444444444')).toBeUndefined();
    expect(c.callback).toBe(true);
    expect(clock(c, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T11:04:00.000Z' });
    expect((c.events as Json[]).map((e) => e.type)).toEqual(expect.arrayContaining(['callback-requested', 'callback-connected']));
    expect((c.events as Json[]).map((e) => e.type)).not.toContain('abandoned');
  });

  it('outbound calls and transfers are recognised and ignored', async () => {
    const before = await t.counts();
    const out = await post(fixture('amazon-connect/outbound-disconnected.json'));
    expect(out.json.ignored[0].reason).toBe('outbound');
    const transfer = await post(fixture('amazon-connect/transfer-queued.json'));
    expect(transfer.json.ignored[0].reason).toBe('transfer');
    expect(await t.counts()).toEqual(before);
  });

  it('a timestamp without an offset is 400 naming the field', async () => {
    const bad = fixture('amazon-connect/queued.json');
    bad.detail.contactId = '77777777-7777-7777-7777-777777777777';
    bad.detail.queueInfo.enqueueTimestamp = '2026-03-02T10:00:00';
    const r = await post(bad);
    expect([r.status, r.json.field]).toEqual([400, 'detail.queueInfo.enqueueTimestamp']);
  });
});

describe('Genesys Cloud', () => {
  const post = async (payload: unknown) => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/genesys-cloud', payload: payload as Json, headers: t.auth });
    return { status: r.statusCode, json: r.json() as Json };
  };
  const CONV = '9c2b6a7e-3f4d-4a51-8c1e-0d2f3a4b5c6d';

  it('acd.end before acd.start (held), twice; user.end and acw give talk and wrap-up', async () => {
    expect((await post(fixture('genesys-cloud/acd-end-answered.json'))).status).toBe(202);
    expect((await post(fixture('genesys-cloud/acd-end-answered.json'))).status).toBe(202);
    expect((await post(fixture('genesys-cloud/acd-start.json'))).status).toBe(201);
    expect((await post(fixture('genesys-cloud/acd-start.json'))).status).toBe(200);
    await post([fixture('genesys-cloud/user-end.json'), fixture('genesys-cloud/acw.json')]);
    const c = (await contact(CONV))!;
    expect(c).toMatchObject({ receivedAt: '2026-03-02T10:00:00.000Z', category: 'repair', customer: { phone: '+441632960004' }, source: { queue: 'repairs', platform: 'genesys-cloud' } });
    expect(clock(c, 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:01:30.000Z' });
    expect((c.events as Json[]).filter((e) => e.type === 'answered')).toHaveLength(1);
    expect(await t.service.telephony.ledger(CONV)).toMatchObject({ talkMs: 360_000, wrapMs: 45_000 });
  });

  it('an abandon; an outbound conversation ignored; a routing status is an advisor state', async () => {
    await post([fixture('genesys-cloud/acd-end-abandon.json'), fixture('genesys-cloud/acd-start-abandoned-call.json')]);
    expect(clock(await contact('1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5'), 'phone-answer')!.status).toBe('abandoned');
    const out = await post(fixture('genesys-cloud/outbound-acd-start.json'));
    expect(out.json.ignored[0].reason).toBe('outbound');
    const status = await post(fixture('genesys-cloud/user-routing-status.json'));
    expect(status.json.advisors).toBe(1);
    expect(await t.service.telephony.advisorStates()).toContainEqual(expect.objectContaining({ platform: 'genesys-cloud', state: 'available', detail: 'IDLE' }));
  });
});

describe('the phone reads', () => {
  it('GET /api/v1/staffing: each named queue apart, per half hour, with handle time and the advisors needed (Erlang C) beside those who answered', async () => {
    // 20 calls to the repairs line between 14:00 and 14:30, each 150 s talk + 30 s wrap-up, answered by two advisors.
    const calls = Array.from({ length: 20 }, (_, i) => {
      const start = Date.parse('2026-03-02T14:00:00Z') + i * 60_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      return [
        { callId: `ST-${i}`, event: 'queued', at: iso(start), queue: 'repairs' },
        { callId: `ST-${i}`, event: 'answered', at: iso(start + 10_000), agent: i % 2 === 0 ? 'sam' : 'kim' },
        { callId: `ST-${i}`, event: 'ended', at: iso(start + 190_000), talkSeconds: 150, wrapSeconds: 30 },
      ];
    }).flat();
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/ingest/telephony', payload: calls, headers: t.auth })).statusCode).toBe(201);
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/staffing?date=2026-03-02', headers: t.auth });
    expect(r.statusCode).toBe(200);
    const body = r.json() as Json;
    expect(body).toMatchObject({ date: '2026-03-02', target: { seconds: 300, goal: 0.8 } });
    const repairs = (body.queues as Json[]).find((q) => q.queue === 'repairs')!;
    expect((body.queues as Json[]).map((q) => q.queue)).toEqual(expect.arrayContaining(['customer-services', 'out-of-hours', 'repairs', 'rents']));
    const slot = (repairs.halfHours as Json[]).find((h) => h.from === '2026-03-02T14:00:00.000Z')!;
    // 20 calls × 180 s in 1,800 s = 2 Erlangs; 80% within 300 s needs 3 advisors (2 cannot keep up).
    expect(slot).toMatchObject({ offered: 20, answered: 20, abandoned: 0, averageHandleSeconds: 180, advisorsAnswered: 2, advisorsNeeded: 3 });
    expect(repairs.halfHours).toHaveLength(48);
    expect((body.queues as Json[]).find((q) => q.queue === 'rents')!.offered).toBeGreaterThan(0);
    // A bad date is a 400 naming it.
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/staffing?date=2026-02-30', headers: t.auth });
    expect([bad.statusCode, bad.json().field]).toEqual([400, 'date']);
  });

  it('GET /api/v1/advisors counts the states; GET /api/v1/admin/phone-queues lists the queues and the unmapped ones (admin only)', async () => {
    const advisors = (await t.app.inject({ method: 'GET', url: '/api/v1/advisors', headers: t.auth })).json() as Json;
    expect(advisors.counts.available).toBeGreaterThanOrEqual(1);
    const other = fixture('amazon-connect/queued.json');
    other.detail.contactId = '88888888-8888-8888-8888-888888888888';
    other.detail.queueInfo.queueArn = 'arn:aws:connect:eu-west-2:111122223333:instance/12345678-1234-1234-1234-123456789012/queue/dddd-unmapped';
    await t.app.inject({ method: 'POST', url: '/api/v1/ingest/amazon-connect', payload: other, headers: t.auth });
    expect((await contact('88888888-8888-8888-8888-888888888888'))!.source).toMatchObject({ queue: 'customer-services' });
    const admin = await t.signIn('admin');
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/admin/phone-queues', headers: admin.headers });
    expect(r.statusCode).toBe(200);
    expect(r.json().unmapped).toContainEqual(expect.objectContaining({ platform: 'amazon-connect', queueKey: other.detail.queueInfo.queueArn, calls: 1 }));
    expect(r.json().queues.map((q: Json) => q.id)).toEqual(['customer-services', 'out-of-hours', 'repairs', 'rents']);
    expect(r.json().held).toBe(await t.service.telephony.heldTotal());
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/phone-queues', headers: t.auth })).statusCode).toBe(403);
  });
});

describe('query plans', () => {
  it('the telephony reads are keyed: held events by call, the ledger by offered and answered time', () => {
    const plan = (sql: string, ...args: unknown[]) => (t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    expect(plan('SELECT id FROM held_call_events WHERE call_id = ? ORDER BY id', 'x')).toMatch(/USING (COVERING )?INDEX held_call_events_key/);
    expect(plan('SELECT * FROM call_ledger WHERE offered_at >= ? AND offered_at < ? ORDER BY offered_at', 0, 1)).toMatch(/USING (COVERING )?INDEX call_ledger_offered_at/);
    expect(plan('SELECT answered_at, agent, queue FROM call_ledger WHERE answered_at >= ? AND answered_at < ? ORDER BY answered_at', 0, 1)).toMatch(/USING (COVERING )?INDEX call_ledger_answered_at/);
    expect(plan('SELECT * FROM call_ledger WHERE call_id = ?', 'x')).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_call_ledger_1/);
  });
});
