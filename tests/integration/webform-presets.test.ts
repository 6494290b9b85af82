// Form builders' own payloads (tests/fixtures/forms/README.md says where each shape comes from)
// through ?preset= and a named mapping, and a multipart form with a photo.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantIn } from '../../server/ingest/form-presets.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'forms', name), 'utf8')) as Json;
const MAPPINGS = JSON.stringify({
  'repairs-form': { message: 'details', name: 'full_name', email: 'mail', category: 'kind', categories: { 'Something is broken': 'repair', 'Unhappy with us': 'complaint' }, submittedAt: 'sent', zone: 'Europe/London' },
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ KEPT_WEBFORM_MAPPINGS: MAPPINGS, KEPT_WEBFORM_MAX_FILES: '2' });
});
afterAll(async () => {
  await t.close();
});

const post = async (query: string, payload: Json | string | Buffer, headers: Record<string, string> = {}, auth = true) => {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/ingest/webform${query}`, payload, headers: { ...(auth ? t.auth : {}), ...headers } });
  return { status: r.statusCode, json: r.json() as Json };
};

describe('presets on each builder\'s documented payload', () => {
  it('Contact Form 7 (urlencoded, as its webhook posts it): customer, message, category from the choice label; its `website` field is no spam trap', async () => {
    const r = await post('?preset=contact-form-7', new URLSearchParams(fixture('contact-form-7.json')).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ channel: 'webform', category: 'repair', customer: { name: 'Ann Tenant', email: 'ann@example.com' }, subject: 'Damp in the bedroom', summary: expect.stringContaining('black mould'), source: { submissionId: 'wpcf7-f123-p45-o1' } });
  });

  it('Gravity Forms (the entry, fields by id): date_created without an offset read as UTC; name parts joined; Complaint → complaint', async () => {
    const r = await post('?preset=gravity-forms', fixture('gravity-forms.json'));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ category: 'complaint', receivedAt: '2026-06-01T09:15:42.000Z', customer: { name: 'Bea Resident', email: 'bea@example.com', phone: '01632 960123' }, externalId: '1842' });
    expect((r.json.clocks as Json[]).map((c) => c.standard)).toContain('complaint-acknowledge');
    // Twice: the same contact.
    expect((await post('?preset=gravity-forms', fixture('gravity-forms.json'))).status).toBe(200);
  });

  it('Typeform (form_response, the token in the URL as its webhooks cannot set headers): answers by type, the choice label mapped (Anti-social behaviour → asb), submitted_at, token', async () => {
    const r = await post(`?preset=typeform&access_token=${t.token}`, fixture('typeform.json'), {}, false);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ category: 'asb', receivedAt: '2026-03-02T10:14:30.000Z', externalId: 'a3a12ec67a1365927098a606107fac15', customer: { name: 'Cy Tenant', email: 'cy@example.com', phone: '+441632960456' }, summary: expect.stringContaining('Loud music') });
  });

  it('Microsoft Forms via Power Automate ("Get response details"): responder, submitDate (M/D/YYYY h:mm:ss PM, UTC), question titles', async () => {
    const r = await post('?preset=microsoft-forms', fixture('microsoft-forms.json'));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ category: 'compliment', receivedAt: '2026-03-02T14:05:11.000Z', customer: { name: 'Dee Tenant', email: 'dee@example.com' } });
  });

  it('a named mapping: its own field names and labels, a time without offset in Europe/London (BST in June)', async () => {
    const r = await post('?mapping=repairs-form', { full_name: 'Eve Tenant', mail: 'eve@example.com', kind: 'Something is broken', details: 'The front door lock is broken.', sent: '2026-06-03 17:30:00' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ category: 'repair', receivedAt: '2026-06-03T16:30:00.000Z', customer: { name: 'Eve Tenant' } });
  });

  it('an unknown preset or mapping, a time Kept cannot read: 400 naming the field', async () => {
    expect((await post('?preset=wufoo', { message: 'hi' })).json.field).toBe('preset');
    expect((await post('?mapping=nope', { message: 'hi' })).json.field).toBe('mapping');
    const bad = fixture('gravity-forms.json');
    bad.date_created = 'yesterday';
    const r = await post('?preset=gravity-forms', bad);
    expect([r.status, r.json.field]).toEqual([400, 'date_created']);
  });

  it('reads a time without an offset in its zone, across the clock change', () => {
    expect(instantIn('2026-03-29 00:30:00', 'Europe/London', 'x')).toBe('2026-03-29T00:30:00.000Z');
    expect(instantIn('2026-03-29 02:30:00', 'Europe/London', 'x')).toBe('2026-03-29T01:30:00.000Z');
    expect(instantIn('10/25/2026 12:00:00 AM', 'UTC', 'x')).toBe('2026-10-25T00:00:00.000Z');
  });
});

describe('multipart/form-data', () => {
  const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(40_000, 7)]);
  const multipart = (parts: Array<{ name: string; value?: string; filename?: string; type?: string; data?: Buffer }>) => {
    const boundary = '----KeptTestBoundary7MA4YWxkTrZu0gW';
    const chunks: Buffer[] = [];
    for (const p of parts) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
      chunks.push(p.data ?? Buffer.from(p.value ?? '', 'utf8'));
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
  };

  it('a form with a photo of the damp: the contact lists the file (name, type, size) and stores no bytes', async () => {
    const { body, headers } = multipart([
      { name: 'formType', value: 'general' },
      { name: 'name', value: 'Fay Tenant' },
      { name: 'message', value: 'Photo of the damp in the bathroom attached.' },
      { name: 'photo', filename: 'damp-bathroom.png', type: 'image/png', data: PNG },
    ]);
    const r = await post('', body, headers);
    expect(r.status).toBe(201);
    expect(r.json.source.files).toEqual([{ field: 'photo', filename: 'damp-bathroom.png', contentType: 'image/png', size: PNG.length }]);
    const row = t.connection.sqlite.prepare('SELECT length(source) AS n FROM contacts WHERE id = ?').get(r.json.id) as { n: number };
    expect(row.n).toBeLessThan(1000);
  });

  it('a preset over multipart (Contact Form 7 with an upload); too many files is 413 and stores nothing', async () => {
    const cf7 = { ...fixture('contact-form-7.json'), _wpcf7_unit_tag: 'wpcf7-f123-p45-o2' };
    const { body, headers } = multipart([...Object.entries(cf7).map(([name, value]) => ({ name, value: String(value) })), { name: 'your-file', filename: 'mould.jpg', type: 'image/jpeg', data: Buffer.alloc(1000, 1) }]);
    const r = await post('?preset=contact-form-7', body, headers);
    expect([r.status, r.json.category, r.json.source.files[0].filename]).toEqual([201, 'repair', 'mould.jpg']);
    const before = await t.counts();
    const many = multipart([{ name: 'message', value: 'three photos' }, ...[1, 2, 3].map((i) => ({ name: `p${i}`, filename: `p${i}.png`, type: 'image/png', data: PNG }))]);
    expect((await post('', many.body, many.headers)).status).toBe(413);
    expect(await t.counts()).toEqual(before);
  });

  it('bad multipart answers 400 or 413 naming what is wrong, and stores nothing; a file name in UTF-8 is kept as written', async () => {
    const before = await t.counts();
    const noBoundary = await post('', Buffer.from('--x\r\nContent-Disposition: form-data; name="message"\r\n\r\nHi\r\n--x--\r\n'), { 'content-type': 'multipart/form-data' });
    expect([noBoundary.status, noBoundary.json.field]).toEqual([400, 'Content-Type']);
    const cut = multipart([{ name: 'message', value: 'cut short' }]);
    const truncated = await post('', cut.body.subarray(0, cut.body.length - 30), cut.headers);
    expect(truncated.status).toBe(400);
    expect(truncated.json.message).toMatch(/multipart/);
    const long = multipart([{ name: 'message', value: 'x'.repeat(70 * 1024) }]);
    const tooLong = await post('', long.body, long.headers);
    expect([tooLong.status, tooLong.json.field]).toEqual([413, 'message']);
    expect(await t.counts()).toEqual(before);
    const named = multipart([{ name: 'message', value: 'Photo attached' }, { name: 'photo', filename: 'lúdó-mould.png', type: 'image/png', data: PNG }]);
    const r = await post('', Buffer.from(named.body), named.headers);
    expect([r.status, r.json.source.files[0].filename]).toEqual([201, 'lúdó-mould.png']);
  });

  it('the public form takes multipart too, its honeypot included', async () => {
    const { body, headers } = multipart([{ name: 'message', value: 'Bot text' }, { name: 'kept_trap_leave_empty', value: 'http://spam.example' }]);
    const before = await t.counts();
    const r = await t.app.inject({ method: 'POST', url: '/forms/contact', payload: body, headers });
    expect([r.statusCode, r.json()]).toEqual([200, { received: true }]);
    expect(await t.counts()).toEqual(before);
  });
});
