// Signed social deliveries never answer 5xx for what is in them: each bad item is refused on its
// own, naming its field, and the good ones are stored (200). The body is UTF-8 JSON only, parse
// errors give their position, and keys that could reach a prototype are refused by path.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const SECRET = 'adapters-social-secret';
beforeAll(async () => {
  t = await startTestApp({ KEPT_SOCIAL_APP_SECRET: SECRET, KEPT_SOCIAL_PAGE_ID: 'PAGE1' });
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sign = (body: string | Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const send = async (body: string | Buffer, contentType = 'application/json') => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/social', payload: body, headers: { ...t.auth, 'content-type': contentType, 'x-hub-signature-256': sign(body) } });
  return { status: r.statusCode, json: r.json() as Json };
};
const CREATED = 1772445600; // 2026-03-02T10:00:00Z
const comment = (id: string, created: unknown, extra: Json = {}) => ({ field: 'feed', value: { item: 'comment', verb: 'add', comment_id: id, post_id: 'p-1', from: { id: 'U1', name: 'Fay Tenant' }, message: 'Still no heating!', created_time: created, ...extra } });
const message = (mid: string, timestamp: unknown) => ({ sender: { id: 'U2' }, recipient: { id: 'PAGE1' }, timestamp, message: { mid, text: 'Can I swap my flat?' } });

describe('a signed delivery with one good item and many bad ones', () => {
  it('answers 200: the good items stored, each bad one refused naming its field', async () => {
    const before = t.counts();
    const r = await send(
      JSON.stringify({
        object: 'page',
        entry: [
          {
            id: 'PAGE1',
            time: CREATED * 1000,
            changes: [
              comment('good-1', CREATED),
              comment('bad-1', 1e13), // the reported one: RangeError: Invalid time value, a 500, and the good item lost
              comment('bad-2', -5),
              comment('bad-3', 'NaN'),
              comment('bad-4', 'soon'),
              comment('bad-5', 946684799), // 1999-12-31T23:59:59Z
              comment('bad-6', 7258118400), // 2200-01-01T00:00:00Z
              comment('bad-7', Number.MAX_SAFE_INTEGER),
              comment('bad-8', { seconds: 1 }),
              5,
              null,
              'comment',
              [],
              comment('', CREATED),
              comment('x'.repeat(1001), CREATED),
              { field: 'feed', value: { item: 'comment', verb: 'edited', comment_id: 'c-edit' } },
            ],
            messaging: [message('mid-good', CREATED * 1000), message('mid-bad-1', 1e20), message('mid-bad-2', CREATED), message('mid-bad-3', '1772445600000x'), { sender: { id: 'U3' }, message: 'hi' }, { delivery: { mids: ['m'] } }],
          },
          { id: 'PAGE1', time: 'yesterday', changes: [comment('bad-entry-time', undefined), comment('own-time', CREATED + 60)] },
          { id: 'PAGE1', time: 1e30, messaging: [{ sender: { id: 'U4' }, message: { mid: 'mid-entry-time', text: 'hello' } }] },
          'not an entry',
          { id: 'PAGE1', changes: { not: 'a list' } },
        ],
      }),
    );
    expect(r.status).toBe(200);
    const byItem = Object.fromEntries((r.json.rejected as Array<{ item: string; message: string }>).map((x) => [x.item, x.message]));
    expect(byItem).toEqual({
      'entry[0].changes[1]': 'entry[0].changes[1].value.created_time: 10000000000000 (seconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].changes[2]': 'entry[0].changes[2].value.created_time: -5 is not a time: expected a positive number of seconds since 1970',
      'entry[0].changes[3]': expect.stringMatching(/^entry\[0\]\.changes\[3\]\.value\.created_time: "NaN" is not a time: expected seconds since 1970, or an ISO-8601 timestamp with an offset/),
      'entry[0].changes[4]': expect.stringMatching(/^entry\[0\]\.changes\[4\]\.value\.created_time: "soon" is not a time/),
      'entry[0].changes[5]': 'entry[0].changes[5].value.created_time: 946684799 (seconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].changes[6]': 'entry[0].changes[6].value.created_time: 7258118400 (seconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].changes[7]': 'entry[0].changes[7].value.created_time: 9007199254740991 (seconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].changes[8]': 'entry[0].changes[8].value.created_time: object is not a time: expected seconds since 1970',
      'entry[0].changes[9]': 'entry[0].changes[9]: must be an object, not 5',
      'entry[0].changes[10]': 'entry[0].changes[10]: must be an object, not null',
      'entry[0].changes[11]': 'entry[0].changes[11]: must be an object, not "comment"',
      'entry[0].changes[12]': 'entry[0].changes[12]: must be an object, not an array',
      'entry[0].changes[13]': expect.stringMatching(/^entry\[0\]\.changes\[13\]\.value\.comment_id: is required/),
      'entry[0].changes[14]': 'entry[0].changes[14].value.comment_id: must be at most 1000 characters',
      'entry[0].messaging[1]': 'entry[0].messaging[1].timestamp: 100000000000000000000 (milliseconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].messaging[2]': 'entry[0].messaging[2].timestamp: 1772445600 (milliseconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[0].messaging[3]': 'entry[0].messaging[3].timestamp: "1772445600000x" is not a time: expected milliseconds since 1970, or an ISO-8601 timestamp with an offset',
      'entry[0].messaging[4]': 'entry[0].messaging[4].message: must be an object, not "hi"',
      'entry[1].changes[0]': 'entry[1].time: "yesterday" is not a time: expected seconds or milliseconds since 1970, or an ISO-8601 timestamp with an offset',
      'entry[2].messaging[0]': 'entry[2].time: 1e+30 (seconds or milliseconds since 1970) is outside the years 2000–2199 Kept supports',
      'entry[3]': 'entry[3]: must be an object, not "not an entry"',
      'entry[4]': 'entry[4].changes: must be an array, not object',
    });
    expect(r.json.received).toBe(3); // good-1, mid-good, own-time
    expect(r.json.ignored).toBe(2); // the edit, the delivery receipt
    expect(r.json.contacts).toHaveLength(3);
    expect(t.counts().contacts).toBe(before.contacts + 3);
    const stored = await Promise.all((r.json.contacts as string[]).map(async (id) => (await t.app.inject({ method: 'GET', url: `/api/v1/contacts/${id}`, headers: t.auth })).json() as Json));
    expect(stored.map((c) => [c.externalId, c.receivedAt])).toEqual([
      ['good-1', '2026-03-02T10:00:00.000Z'],
      ['mid-good', '2026-03-02T10:00:00.000Z'],
      ['own-time', '2026-03-02T10:01:00.000Z'],
    ]);

    // Sent again (the platform's retry): nothing new, the same refusals.
    const again = await send(JSON.stringify({ object: 'page', entry: [{ id: 'PAGE1', changes: [comment('good-1', CREATED), comment('bad-1', 1e13)] }] }));
    expect([again.status, again.json.received, again.json.rejected.length]).toEqual([200, 1, 1]);
    expect(t.counts().contacts).toBe(before.contacts + 3);
  });

  it('times in the other accepted forms: numeric strings, ISO-8601 with an offset, entry.time in seconds', async () => {
    const r = await send(
      JSON.stringify({
        object: 'page',
        entry: [
          { id: 'PAGE1', time: CREATED + 120, changes: [comment('str-1', String(CREATED)), comment('iso-1', '2026-03-02T11:00:00+0000'), comment('entry-s', undefined), comment('iso-bad', '2026-02-30T10:00:00Z')] },
          { id: 'PAGE1', messaging: [message('mid-str', String(CREATED * 1000))] },
        ],
      }),
    );
    expect([r.status, r.json.rejected]).toEqual([
      200,
      [{ item: 'entry[0].changes[3]', message: 'entry[0].changes[3].value.created_time: "2026-02-30T10:00:00Z" is not a time: expected seconds since 1970, or an ISO-8601 timestamp with an offset (day out of range in "2026-02-30T10:00:00Z")' }],
    ]);
    const receivedAt = await Promise.all((r.json.contacts as string[]).map(async (id) => ((await t.app.inject({ method: 'GET', url: `/api/v1/contacts/${id}`, headers: t.auth })).json() as Json).receivedAt));
    expect(receivedAt).toEqual(['2026-03-02T10:00:00.000Z', '2026-03-02T11:00:00.000Z', '2026-03-02T10:02:00.000Z', '2026-03-02T10:00:00.000Z']);
  });

  it("a page reply timed out of range, or before the comment it answers, is refused by the reply's field", async () => {
    await send(JSON.stringify({ object: 'page', entry: [{ id: 'PAGE1', changes: [comment('parent-1', CREATED)] }] }));
    const r = await send(
      JSON.stringify({
        object: 'page',
        entry: [
          {
            id: 'PAGE1',
            changes: [
              comment('reply-bad', 1e13, { parent_id: 'parent-1', from: { id: 'PAGE1' } }),
              comment('reply-early', CREATED - 60, { parent_id: 'parent-1', from: { id: 'PAGE1' } }),
            ],
            messaging: [{ sender: { id: 'PAGE1' }, recipient: { id: 'U2' }, timestamp: -1, message: { mid: 'page-mid' } }],
          },
        ],
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json.rejected).toEqual([
      { item: 'entry[0].changes[0]', message: 'entry[0].changes[0].value.created_time: 10000000000000 (seconds since 1970) is outside the years 2000–2199 Kept supports' },
      { item: 'entry[0].messaging[0]', message: 'entry[0].messaging[0].timestamp: -1 is not a time: expected a positive number of milliseconds since 1970' },
      { item: 'entry[0].changes[1]', message: expect.stringMatching(/^entry\[0\]\.changes\[1\]\.value\.created_time: event at .* is before the contact's receivedAt/) },
    ]);
  });
});

describe('the body: UTF-8 JSON, parse errors with a position, no prototype keys', () => {
  it('a charset other than UTF-8 is 415 naming it; UTF-8 in any spelling is taken', async () => {
    const body = JSON.stringify({ object: 'page', entry: [] });
    for (const charset of ['utf-16', 'UTF-16LE', 'iso-8859-1', '"latin1"']) {
      const r = await send(body, `application/json; charset=${charset}`);
      expect([r.status, r.json.code, r.json.field]).toEqual([415, 'unsupported-media-type', 'Content-Type']);
      expect(r.json.message).toContain(`charset=${charset}`);
      expect(r.json.accepted).toEqual(['application/json; charset=utf-8']);
    }
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"', 'utf8']) expect((await send(body, `application/json; charset=${charset}`)).status).toBe(200);
    expect((await send(body, 'text/plain')).status).toBe(415);
  });

  it('bytes that are not UTF-8 are 400', async () => {
    const body = Buffer.concat([Buffer.from('{"object":"page","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await send(body);
    expect([r.status, r.json.message]).toEqual([400, 'body: is not valid UTF-8']);
  });

  it('JSON parse errors name the position', async () => {
    const cases: Array<[string, string]> = [
      ['{"object":}', `body: is not valid JSON: Unexpected token "}" at position 10`],
      ['{"object":"page",}', 'body: is not valid JSON: Expected double-quoted property name in JSON at position 17'],
      ['{"object":"page"} x', 'body: is not valid JSON: Unexpected non-whitespace character after JSON at position 18'],
      ['{"entry":[1,2,,3]}', 'body: is not valid JSON: Unexpected token "," at position 14'],
      ['{"a": tru}', 'body: is not valid JSON: Unexpected token "}" at position 9'],
      ['{"a": "\\x"}', 'body: is not valid JSON: Bad escaped character in JSON at position 8'],
      ['{"a": [', 'body: is not valid JSON: Unexpected end of JSON input at position 7'],
      [`{"a":${'['.repeat(100_000)}`, 'body: is not valid JSON: Unexpected end of JSON input at position 100005'],
    ];
    for (const [body, message] of cases) {
      const r = await send(body);
      expect([r.status, r.json.field, r.json.message]).toEqual([400, 'body', message]);
    }
  });

  it('a __proto__, constructor or prototype key is refused with its path, not as bad JSON, and nothing is stored', async () => {
    const before = t.counts();
    const cases: Array<[string, string]> = [
      ['{"object":"page","__proto__":{"polluted":true}}', 'body.__proto__'],
      [JSON.stringify({ object: 'page', entry: [{ id: 'PAGE1', changes: [{ field: 'feed', value: { constructor: { prototype: {} } } }] }] }), 'body.entry[0].changes[0].value.constructor'],
      [JSON.stringify({ object: 'page', entry: [{ prototype: 1 }] }), 'body.entry[0].prototype'],
    ];
    for (const [body, field] of cases) {
      const r = await send(body);
      expect([r.status, r.json.code, r.json.field]).toEqual([400, 'forbidden-key', field]);
      expect(r.json.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: is a key Kept refuses`));
    }
    expect(({} as Json).polluted).toBeUndefined();
    expect(t.counts()).toEqual(before);
  });
});
