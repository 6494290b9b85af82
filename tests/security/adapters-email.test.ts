// The email route's own limits: a larger body limit for mail with attachments, enforced while the
// message streams in (413 naming the limit, nothing stored); message/rfc822 only (415); a parser
// that stalls is given up (400); a Date Kept cannot use is replaced by the receipt time, never a 500.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mailParsing } from '../../server/ingest/email.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const EMAIL_LIMIT = 4_000_000;
const NOW = Date.parse('2026-03-02T12:00:00Z');
beforeAll(async () => {
  // The general body limit stays at its default (1 MiB); mail has its own.
  t = await startTestApp({ KEPT_MAILBOX: 'customer.services@livewest.example', KEPT_ORG_DOMAINS: 'livewest.example', KEPT_EMAIL_BODY_LIMIT: String(EMAIL_LIMIT) }, { now: () => NOW });
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let n = 0;
const headers = (extra = '', date = 'Mon, 2 Mar 2026 10:00:00 +0000') =>
  `From: "Dee Tenant" <dee@example.com>\r\nTo: customer.services@livewest.example\r\nSubject: Photos of the damp\r\nDate: ${date}\r\nMessage-ID: <limits-${++n}@example.com>\r\nMIME-Version: 1.0\r\n${extra}`;
/** A message with one base64 attachment of `bytes` random bytes. */
function withAttachment(bytes: number): { raw: string; size: number } {
  const content = randomBytes(bytes).toString('base64').replace(/.{76}/g, '$&\r\n');
  const raw = [
    headers('Content-Type: multipart/mixed; boundary="outer"\r\n'),
    '--outer',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The photos are attached.',
    '--outer',
    'Content-Type: image/jpeg; name="damp.jpg"',
    'Content-Disposition: attachment; filename="damp.jpg"',
    'Content-Transfer-Encoding: base64',
    '',
    content,
    '--outer--',
    '',
  ].join('\r\n');
  return { raw, size: bytes };
}
const post = async (payload: string | Readable, contentType = 'message/rfc822') => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/email', payload, headers: { ...t.auth, 'content-type': contentType } });
  return { status: r.statusCode, json: () => r.json() as Json, headers: r.headers };
};

describe('the email body limit', () => {
  it('a 3 MB message with an attachment is taken while the general body limit is 1 MiB; only its size is kept', async () => {
    expect(t.config.bodyLimit).toBe(1_048_576);
    const { raw, size } = withAttachment(2_300_000);
    expect(raw.length).toBeGreaterThan(3_000_000);
    const r = await post(raw);
    expect(r.status).toBe(201);
    const c = r.json();
    expect(c.source.attachments).toEqual([{ filename: 'damp.jpg', contentType: 'image/jpeg', size }]);
    expect(c.summary).toBe('The photos are attached.');
    expect(JSON.stringify(c).length).toBeLessThan(10_000);
  });

  it('one over the email limit is 413 naming the limit and stores nothing: declared length, and counted while streaming', async () => {
    const before = t.counts();
    const message = `body: the message is larger than the email limit of ${EMAIL_LIMIT} bytes (KEPT_EMAIL_BODY_LIMIT)`;
    const { raw } = withAttachment(3_200_000);
    expect(raw.length).toBeGreaterThan(EMAIL_LIMIT);
    const declared = await post(raw);
    expect([declared.status, declared.json().code, declared.json().field, declared.json().message]).toEqual([413, 'too-large', 'body', message]);
    // Declared past twice the limit: not worth reading to its end, the connection closes after the answer.
    const huge = await post(`${headers()}\r\n${'a'.repeat(2 * EMAIL_LIMIT)}`);
    expect([huge.status, huge.headers.connection]).toEqual([413, 'close']);
    // No Content-Length: the bytes are counted as they arrive and parsing stops past the limit.
    const chunks = (function* () {
      for (let i = 0; i < raw.length; i += 64 * 1024) yield Buffer.from(raw.slice(i, i + 64 * 1024));
    })();
    const streamed = await post(Readable.from(chunks));
    expect([streamed.status, streamed.json().message]).toEqual([413, message]);
    expect(t.counts()).toEqual(before);
  });

  describe('over real HTTP, a chunked upload past the limit', () => {
    let base: string;
    beforeAll(async () => {
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    /** Posts `total` bytes in 64 KiB chunks with no Content-Length; answers the status (or the failure) and the bytes the client got to send. */
    async function upload(total: number): Promise<{ status: number | string; sent: number }> {
      let sent = 0;
      const head = new TextEncoder().encode(`${headers()}\r\n`);
      const line = new TextEncoder().encode(`${'a'.repeat(64 * 1024 - 2)}\r\n`);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) return controller.close();
          const chunk = sent === 0 ? head : line;
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      try {
        const r = await fetch(`${base}/api/v1/ingest/email`, { method: 'POST', body, duplex: 'half', headers: { ...t.auth, 'content-type': 'message/rfc822' } } as RequestInit);
        const answer = (await r.json()) as Json;
        expect(answer.message).toBe(`body: the message is larger than the email limit of ${EMAIL_LIMIT} bytes (KEPT_EMAIL_BODY_LIMIT)`);
        return { status: r.status, sent };
      } catch (e) {
        return { status: String((e as { cause?: { code?: string } }).cause?.code ?? e), sent };
      }
    }

    it('within twice the limit: the rest is read and dropped, so the sender reads the 413', async () => {
      const before = t.counts();
      for (let k = 0; k < 3; k++) expect((await upload(EMAIL_LIMIT + 1_500_000)).status).toBe(413);
      expect(t.counts()).toEqual(before);
    });

    it('far past it: reading stops and the connection is cut, never drained of 50 MB', async () => {
      const before = t.counts();
      const r = await upload(50_000_000);
      expect([413, 'EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(r.status);
      expect(r.sent).toBeLessThan(4 * EMAIL_LIMIT);
      expect(t.counts()).toEqual(before);
    });
  });

  it('a MIME part with more than 1 MiB of header is 413 naming the parser\'s limit', async () => {
    const before = t.counts();
    const r = await post(`${headers(`X-Padding: ${'a'.repeat(1_100_000)}\r\n`)}\r\nhello`);
    expect(r.status).toBe(413);
    expect(r.json().message).toMatch(/^body: .*1 MiB of header per MIME part/);
    expect(t.counts()).toEqual(before);
  });
});

describe('media types', () => {
  it('only message/rfc822 is taken: text/plain, JSON and none are 415 listing it', async () => {
    const before = t.counts();
    const raw = `${headers()}\r\nhello`;
    for (const type of ['text/plain', 'application/json', 'application/octet-stream']) {
      const r = await post(raw, type);
      expect([r.status, r.json().field, r.json().accepted]).toEqual([415, 'Content-Type', ['message/rfc822']]);
      expect(r.json().message).toContain(type);
    }
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/email', payload: Buffer.from(raw), headers: t.auth });
    expect([none.statusCode, none.json().accepted]).toEqual([415, ['message/rfc822']]);
    expect((await post(raw, 'Message/RFC822; charset=us-ascii')).status).toBe(201);
    expect(t.counts().contacts).toBe(before.contacts + 1);
  });
});

describe('a parser that makes no progress', () => {
  afterEach(() => {
    mailParsing.stallMs = 10_000;
  });
  it('is given up: 400 naming body, nothing stored, and the next message is parsed as usual', async () => {
    const before = t.counts();
    mailParsing.stallMs = 20; // a 1 MB Cc of short addresses takes mailparser ~0.4 s in one go
    const r = await post(`${headers(`Cc: ${'a@a,'.repeat(250_000)}\r\n`)}\r\nhello`);
    expect([r.status, r.json().field]).toEqual([400, 'body']);
    expect(r.json().message).toMatch(/^body: could not be parsed: the mail parser made no progress on it for 0\.02 s/);
    expect(t.counts()).toEqual(before);
    mailParsing.stallMs = 10_000;
    expect((await post(`${headers()}\r\nhello`)).status).toBe(201);
  });
});

describe('a Date header Kept cannot use is replaced by the receipt time, never a 500', () => {
  const cases: Array<[string, string]> = [
    ['Tue, 1 Jan 2150 10:00:00 +0000', 'is later than Kept received the message'],
    ['Fri, 31 Dec 9999 23:59:59 +0000', 'is outside the years 2000–2199 Kept supports'],
    ['Fri, 31 Dec 1999 23:59:59 +0000', 'is outside the years 2000–2199 Kept supports'],
    ['Thu, 1 Jan 1970 00:00:00 +0000', 'is outside the years 2000–2199 Kept supports'],
    ['Fri, 31 Dec 99 23:59:59 +0000', 'is outside the years 2000–2199 Kept supports'],
    ['1999-12-31T23:59:59Z', 'is outside the years 2000–2199 Kept supports'],
    ['+275760-09-13T00:00:00Z', 'is not a readable date'],
    ['Mon, 31 Feb 2026 10:00:00 +0000', 'is not a readable date'],
    [`Mon, 2 Mar 2026 10:00:00 +0000 ${'('.repeat(5000)}`, 'is not a readable date'],
  ];
  for (const [date, problem] of cases) {
    it(`Date: ${date.slice(0, 40)}`, async () => {
      const r = await post(`${headers('', date)}\r\nhello`);
      expect(r.status).toBe(201);
      expect(r.json().receivedAt).toBe(new Date(NOW).toISOString());
      expect(r.json().source.note).toContain(problem);
      expect(r.json().source.note.length).toBeLessThan(400);
    });
  }

  it('a date just inside 2000 by its offset is read', async () => {
    const r = await post(`${headers('', 'Fri, 31 Dec 1999 23:30:00 -0100')}\r\nhello`);
    expect([r.status, r.json().receivedAt, r.json().source.note]).toEqual([201, '2000-01-01T00:30:00.000Z', undefined]);
  });

  it("the organisation's reply dated before the message it answers is 400 naming Date", async () => {
    const first = await post(`${headers()}\r\nhello`);
    const id = `<limits-${n}@example.com>`;
    expect(first.json().externalId).toBe(id);
    const reply = `From: jo@livewest.example\r\nTo: dee@example.com\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <reply-${n}@livewest.example>\r\nIn-Reply-To: ${id}\r\n\r\nBooked.`;
    const r = await post(reply);
    expect([r.status, r.json().field]).toEqual([400, 'Date']);
  });
});
