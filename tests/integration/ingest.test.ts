// Each channel adapter with realistic payloads on a real SQLite file.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const SECRET = 'app-secret';
beforeAll(async () => {
  t = await startTestApp({
    KEPT_MAILBOX: 'customer.services@livewest.example',
    KEPT_ORG_DOMAINS: 'livewest.example',
    KEPT_SOCIAL_VERIFY_TOKEN: 'verify-me',
    KEPT_SOCIAL_APP_SECRET: SECRET,
    KEPT_SOCIAL_PAGE_ID: 'PAGE1',
    KEPT_BODY_LIMIT: '200000',
    KEPT_EMAIL_BODY_LIMIT: '200000',
  });
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const inject = async (method: 'GET' | 'POST', url: string, payload?: string | Json, headers: Record<string, string> = {}) => {
  const r = await t.app.inject({ method, url, ...(payload !== undefined ? { payload } : {}), headers: { ...t.auth, ...headers } });
  return { status: r.statusCode, body: r.body, json: () => r.json() as Json, headers: r.headers };
};
const clock = (c: Json, standard: string) => (c.clocks as Json[]).find((k) => k.standard === standard)!;

describe('telephony', () => {
  it('queued then answered: phone-answer met, advisor assigned; replays change nothing', async () => {
    const q = await inject('POST', '/api/v1/ingest/telephony', { callId: 'call-1', event: 'queued', at: '2026-03-02T10:00:00Z', caller: { number: '+441632960001', name: 'Ann Tenant' } });
    expect(q.status).toBe(201);
    const a = await inject('POST', '/api/v1/ingest/telephony', { callId: 'call-1', event: 'answered', at: '2026-03-02T10:03:10Z', agent: 'sam' });
    expect(a.status).toBe(200);
    const contact = a.json().contacts[0];
    expect(clock(contact, 'phone-answer').status).toBe('met');
    expect(contact.assignee).toBe('sam');
    expect(contact.customer).toMatchObject({ name: 'Ann Tenant', phone: '+441632960001' });
    const before = t.counts();
    expect((await inject('POST', '/api/v1/ingest/telephony', { callId: 'call-1', event: 'queued', at: '2026-03-02T10:00:00Z', caller: { number: '+441632960001', name: 'Ann Tenant' } })).status).toBe(200);
    expect((await inject('POST', '/api/v1/ingest/telephony', { callId: 'call-1', event: 'answered', at: '2026-03-02T10:03:10Z', agent: 'sam' })).status).toBe(200);
    expect(t.counts()).toEqual(before);
  });

  it('an array in one post: abandon after 3 s is short; a callback flow; a voicemail opens a voicemail contact', async () => {
    const r = await inject('POST', '/api/v1/ingest/telephony', [
      { callId: 'call-2', event: 'queued', at: '2026-03-02T11:00:00Z' },
      { callId: 'call-2', event: 'abandoned', at: '2026-03-02T11:00:03Z' },
      { callId: 'call-3', event: 'queued', at: '2026-03-02T11:00:00Z' },
      { callId: 'call-3', event: 'callback-connected', at: '2026-03-02T11:06:00Z' },
      { callId: 'call-3', event: 'callback-requested', at: '2026-03-02T11:02:00Z' },
      { callId: 'call-4', event: 'voicemail-left', at: '2026-03-02T18:00:00Z', caller: { number: '+441632960002' } },
    ]);
    expect(r.status).toBe(201);
    const [short, missed, voicemail] = r.json().contacts as Json[];
    expect(clock(short!, 'phone-answer').status).toBe('abandoned-short');
    expect(clock(missed!, 'phone-answer').status).toBe('missed');
    expect(missed!.callback).toBe(true);
    expect(voicemail!.channel).toBe('voicemail');
    expect(clock(voicemail!, 'voicemail-reply').dueAt).toBe('2026-03-03T17:00:00.000Z');
  });

  it('an event for an unknown call is held (202) and a bad timestamp 400, storing no contact', async () => {
    const before = t.counts();
    const unknown = await inject('POST', '/api/v1/ingest/telephony', { callId: 'nope', event: 'answered', at: '2026-03-02T10:00:00Z' });
    expect(unknown.status).toBe(202);
    expect(unknown.json().results[0].outcome).toBe('held');
    const bad = await inject('POST', '/api/v1/ingest/telephony', { callId: 'call-9', event: 'queued', at: '2026-03-02T10:00:00' });
    expect(bad.status).toBe(400);
    expect(bad.json().field).toBe('at');
    expect((await inject('POST', '/api/v1/ingest/telephony', { callId: 'x', event: 'rang', at: '2026-03-02T10:00:00Z' })).json().field).toBe('event');
    expect(t.counts()).toEqual(before);
  });
});

describe('webform', () => {
  it('a urlencoded complaint gets complaint clocks and no webform-reply; JSON works too', async () => {
    const form = new URLSearchParams({ formType: 'complaint', name: 'Bea Resident', email: 'bea@example.com', message: 'The repair was not done.', submittedAt: '2026-03-06T16:00:00Z', accessibilityNeeds: 'Large print' });
    const r = await inject('POST', '/api/v1/ingest/webform', form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(201);
    expect((r.json().clocks as Json[]).map((c) => c.standard)).toEqual(['complaint-acknowledge', 'complaint-resolve']);
    expect(r.json().customer.accessibilityNeeds).toBe('Large print');
    const j = await inject('POST', '/api/v1/ingest/webform', { formType: 'general', message: 'When is my rent due?', submittedAt: '2026-03-02T10:00:00Z' });
    expect(clock(j.json(), 'webform-reply').dueAt).toBe('2026-03-03T10:00:00.000Z');
    // A double-clicked submit is the same contact.
    expect((await inject('POST', '/api/v1/ingest/webform', { formType: 'general', message: 'When is my rent due?', submittedAt: '2026-03-02T10:00:00Z' })).status).toBe(200);
  });

  it('the public form\'s honeypot stores nothing; missing message and bad formType are 400 naming the field', async () => {
    const before = t.counts();
    expect((await inject('POST', '/forms/contact', { message: 'buy now', kept_trap_leave_empty: 'http://spam.example' })).status).toBe(200);
    const missing = await inject('POST', '/api/v1/ingest/webform', { formType: 'general' });
    expect([missing.status, missing.json().field]).toEqual([400, 'message']);
    expect((await inject('POST', '/api/v1/ingest/webform', { formType: 'praise', message: 'hi' })).json().field).toBe('formType');
    expect((await inject('POST', '/api/v1/ingest/webform', { message: 'hi' }, { authorization: '' })).status).toBe(401);
    expect(t.counts()).toEqual(before);
  });

  it('the public form: accessible HTML, posts without a token, redirects on success, re-renders errors', async () => {
    const page = await inject('GET', '/forms/contact', undefined, { authorization: '' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<label for="message">Your message (required)</label>');
    expect(page.body).toContain('<legend>What is it about?</legend>');
    const ok = await inject('POST', '/forms/contact', new URLSearchParams({ formType: 'asb', message: 'Loud music every night', name: 'Cal' }).toString(), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' });
    expect([ok.status, ok.headers.location]).toEqual([303, '/forms/contact?sent=1']);
    const bad = await inject('POST', '/forms/contact', new URLSearchParams({ name: 'Cal' }).toString(), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('role="alert"');
    expect(bad.body).toContain('value="Cal"');
  });
});

const mime = (headers: string, body: string) => `${headers.trim().split('\n').map((l) => l.trim()).join('\r\n')}\r\n\r\n${body}`;
const inbound = mime(
  `From: "Dee Tenant" <dee@example.com>
   To: Customer Services <customer.services@livewest.example>
   Cc: someone@example.net
   Subject: Damp and mould in bathroom
   Date: Mon, 2 Mar 2026 10:00:00 +0000
   Message-ID: <m-100@example.com>
   MIME-Version: 1.0
   Content-Type: multipart/mixed; boundary="outer"`,
  [
    '--outer',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'There is black mould on the bathroom ceiling again.',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>There is black mould on the bathroom ceiling again.</p>',
    '--alt--',
    '--outer',
    'Content-Type: image/jpeg; name="mould.jpg"',
    'Content-Disposition: attachment; filename="mould.jpg"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('not really a jpeg').toString('base64'),
    '--outer--',
    '',
  ].join('\r\n'),
);

describe('email', () => {
  const post = (raw: string) => inject('POST', '/api/v1/ingest/email', raw, { 'content-type': 'message/rfc822' });

  it('a multipart message to the mailbox opens an email contact; attachments are names and sizes only', async () => {
    const r = await post(inbound);
    expect(r.status).toBe(201);
    const c = r.json();
    expect([c.channel, c.route, c.externalId, c.subject]).toEqual(['email', 'customer-services', '<m-100@example.com>', 'Damp and mould in bathroom']);
    expect(c.customer).toEqual({ name: 'Dee Tenant', email: 'dee@example.com' });
    expect(c.source.attachments).toEqual([{ filename: 'mould.jpg', contentType: 'image/jpeg', size: 17 }]);
    expect(clock(c, 'email-reply').dueAt).toBe('2026-03-03T10:00:00.000Z');
    const before = t.counts();
    expect((await post(inbound)).status).toBe(200);
    expect(t.counts()).toEqual(before);
  });

  it('mail to a colleague is colleague-direct; the organisation\'s reply meets the clock', async () => {
    const direct = await post(mime(`From: eve@example.com\nTo: Jo Smith <jo.smith@livewest.example>\nSubject: Re: my repair\nDate: Tue, 3 Mar 2026 09:00:00 +0000\nMessage-ID: <m-200@example.com>`, 'Any news?'));
    expect(clock(direct.json(), 'direct-email-reply').dueAt).toBe('2026-03-05T09:00:00.000Z');
    const reply = await post(mime(`From: jo.smith@livewest.example\nTo: eve@example.com\nSubject: Re: my repair\nDate: Tue, 3 Mar 2026 14:00:00 +0000\nMessage-ID: <r-1@livewest.example>\nIn-Reply-To: <m-200@example.com>`, 'Booked for Thursday.'));
    expect(reply.status).toBe(200);
    expect(clock(reply.json(), 'direct-email-reply').status).toBe('met');
  });

  it('no Message-ID is keyed by its content (kept, a replay recognised); an unknown reply 404, a message over the email limit 413, text/plain 415 — nothing stored', async () => {
    const noIdMail = mime(`From: x@example.com\nTo: customer.services@livewest.example\nDate: Mon, 2 Mar 2026 10:00:00 +0000`, 'hello');
    const noId = await post(noIdMail);
    expect(noId.status).toBe(201);
    expect(noId.json().externalId).toMatch(/^<kept-[0-9a-f]{32}@no-message-id\.invalid>$/);
    expect(noId.json().source.note).toContain('no Message-ID');
    expect((await post(noIdMail)).status).toBe(200);
    const before = t.counts();
    expect((await post(mime(`From: jo@livewest.example\nTo: x@example.com\nMessage-ID: <r-9@livewest.example>\nIn-Reply-To: <nothing@example.com>`, 'hi'))).status).toBe(404);
    const big = await post(mime(`From: x@example.com\nTo: customer.services@livewest.example\nMessage-ID: <big@example.com>`, 'x'.repeat(250_000)));
    expect([big.status, big.json().message]).toEqual([413, 'body: the message is larger than the email limit of 200000 bytes (KEPT_EMAIL_BODY_LIMIT)']);
    const plain = await inject('POST', '/api/v1/ingest/email', inbound.replace('<m-100@', '<m-415@'), { 'content-type': 'text/plain' });
    expect([plain.status, plain.json().field, plain.json().accepted]).toEqual([415, 'Content-Type', ['message/rfc822']]);
    expect(t.counts()).toEqual(before);
  });
});

describe('social', () => {
  const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const send = (doc: Json, signature?: string) => {
    const body = JSON.stringify(doc);
    return inject('POST', '/api/v1/ingest/social', body, { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(body) });
  };

  it('answers the verify challenge only with the right token', async () => {
    const ok = await inject('GET', '/api/v1/ingest/social?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345', undefined, { authorization: '' });
    expect([ok.status, ok.body]).toEqual([200, '12345']);
    expect((await inject('GET', '/api/v1/ingest/social?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1', undefined, { authorization: '' })).status).toBe(403);
  });

  it('a signed comment and message open social contacts; the page\'s replies meet them', async () => {
    const created = 1772445600; // 2026-03-02T10:00:00Z
    const r = await send({
      object: 'page',
      entry: [
        {
          id: 'PAGE1',
          time: created * 1000,
          changes: [{ field: 'feed', value: { item: 'comment', verb: 'add', comment_id: 'cm-1', post_id: 'p-1', from: { id: 'U1', name: 'Fay Tenant' }, message: 'Still no heating!', created_time: created } }],
          messaging: [{ sender: { id: 'U2' }, recipient: { id: 'PAGE1' }, timestamp: created * 1000, message: { mid: 'mid-1', text: 'Can I swap my flat?' } }],
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json().received).toBe(2);
    const [comment, message] = r.json().contacts as string[];
    const replies = await send({
      object: 'page',
      entry: [
        {
          id: 'PAGE1',
          changes: [{ field: 'feed', value: { item: 'comment', verb: 'add', comment_id: 'cm-2', parent_id: 'cm-1', post_id: 'p-1', from: { id: 'PAGE1', name: 'LiveWest' }, message: 'Sorry Fay, we will call you.', created_time: created + 600 } }],
          messaging: [{ sender: { id: 'PAGE1' }, recipient: { id: 'U2' }, timestamp: (created + 900) * 1000, message: { mid: 'mid-2', text: 'Yes — here is how.' } }],
        },
      ],
    });
    expect(replies.json().contacts).toEqual([comment, message]);
    for (const id of [comment, message]) {
      const c = (await inject('GET', `/api/v1/contacts/${id}`)).json();
      expect(clock(c, 'social-reply').status).toBe('met');
    }
  });

  it('a bad or missing signature is 401 and stores nothing', async () => {
    const before = t.counts();
    const doc = { object: 'page', entry: [{ id: 'PAGE1', changes: [{ field: 'feed', value: { item: 'comment', verb: 'add', comment_id: 'cm-9', from: { id: 'U9' }, created_time: 1772445600 } }] }] };
    expect((await send(doc, 'sha256=deadbeef')).status).toBe(401);
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/social', payload: JSON.stringify(doc), headers: { ...t.auth, 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(401);
    expect(t.counts()).toEqual(before);
  });
});
