// Seeded random payloads for the telephony and social adapters: odd values in every field they read
// (huge, negative, fractional, the wrong type, empty, far too long) never answer 5xx; a signed
// social delivery of a JSON object always answers 200, and no item is refused as a fault of Kept's own.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const SECRET = 'adapters-fuzz-secret';
beforeAll(async () => {
  t = await startTestApp({ KEPT_SOCIAL_APP_SECRET: SECRET, KEPT_SOCIAL_PAGE_ID: 'PAGE1' });
});
afterAll(async () => {
  await t.close();
});

const ODD: unknown[] = [undefined, null, 0, -1, 1.5, 1e13, 1e300, -1e300, '', ' ', 'x', 'x'.repeat(5000), '9'.repeat(400), 'NaN', '1e400', '__proto__', '2026-03-02T10:00:00Z', '2199-12-31T23:59:59Z', '2000-01-01T00:00:00Z', '1999-12-31T23:59:59Z', [], [1], {}, { a: 1 }, true];

/** A small seeded generator: the same payloads on every run. */
function random(seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return {
    chance: (p: number) => next() < p,
    int: (n: number) => Math.floor(next() * n),
    odd: () => ODD[Math.floor(next() * ODD.length)],
  };
}

describe('telephony', () => {
  it('400 random posts, one event or a batch: never a 5xx', async () => {
    const r = random(1);
    const EVENTS = ['queued', 'answered', 'abandoned', 'callback-requested', 'callback-connected', 'voicemail-left'];
    const event = (): Record<string, unknown> => ({
      callId: r.chance(0.7) ? `call-${r.int(5)}` : r.odd(),
      event: r.chance(0.8) ? EVENTS[r.int(EVENTS.length)] : r.odd(),
      at: r.chance(0.6) ? new Date(Date.UTC(2026, 2, 2, 10) + r.int(1e7)).toISOString() : r.odd(),
      ...(r.chance(0.3) ? { eventId: r.odd() } : {}),
      ...(r.chance(0.3) ? { caller: { number: r.odd(), name: r.odd() } } : {}),
      ...(r.chance(0.2) ? { queue: r.odd() } : {}),
      ...(r.chance(0.2) ? { category: r.chance(0.5) ? 'complaint' : r.odd() } : {}),
      ...(r.chance(0.2) ? { agent: r.odd() } : {}),
      ...(r.chance(0.2) ? { durationSeconds: r.odd() } : {}),
    });
    const faults: unknown[] = [];
    for (let k = 0; k < 400; k++) {
      const body = r.chance(0.5) ? event() : Array.from({ length: 1 + r.int(4) }, event);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/telephony', payload: JSON.stringify(body), headers: { ...t.auth, 'content-type': 'application/json' } });
      if (res.statusCode >= 500) faults.push({ body, answer: res.body });
    }
    expect(faults).toEqual([]);
  });
});

describe('social', () => {
  it('400 random signed deliveries: always 200, no item refused as a fault of Kept\'s own', async () => {
    const r = random(2);
    const value = () => ({
      item: r.chance(0.8) ? 'comment' : r.odd(),
      verb: r.chance(0.8) ? 'add' : r.odd(),
      comment_id: r.chance(0.7) ? `cm-${r.int(20)}` : r.odd(),
      post_id: r.odd(),
      parent_id: r.chance(0.3) ? `cm-${r.int(20)}` : r.odd(),
      from: r.chance(0.5) ? { id: r.chance(0.3) ? 'PAGE1' : r.odd(), name: r.odd() } : r.odd(),
      message: r.odd(),
      created_time: r.chance(0.5) ? 1772445600 + r.int(1e5) : r.odd(),
    });
    const messaging = () => ({
      sender: r.chance(0.6) ? { id: r.chance(0.3) ? 'PAGE1' : `U${r.int(3)}` } : r.odd(),
      recipient: r.chance(0.6) ? { id: `U${r.int(3)}` } : r.odd(),
      timestamp: r.chance(0.5) ? 1772445600000 + r.int(1e8) : r.odd(),
      message: r.chance(0.7) ? { mid: r.chance(0.7) ? `mid-${r.int(20)}` : r.odd(), text: r.odd(), is_echo: r.odd(), attachments: r.odd() } : r.odd(),
    });
    const entry = () =>
      r.chance(0.9)
        ? {
            id: r.chance(0.7) ? 'PAGE1' : r.odd(),
            time: r.chance(0.5) ? 1772445600000 : r.odd(),
            changes: r.chance(0.9) ? Array.from({ length: r.int(3) }, () => (r.chance(0.9) ? { field: r.chance(0.9) ? 'feed' : r.odd(), value: r.chance(0.9) ? value() : r.odd() } : r.odd())) : r.odd(),
            messaging: r.chance(0.9) ? Array.from({ length: r.int(3) }, () => (r.chance(0.9) ? messaging() : r.odd())) : r.odd(),
          }
        : r.odd();
    const faults: unknown[] = [];
    for (let k = 0; k < 400; k++) {
      const body = JSON.stringify({ object: r.chance(0.9) ? 'page' : r.odd(), entry: r.chance(0.9) ? Array.from({ length: 1 + r.int(3) }, entry) : r.odd() });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/social',
        payload: body,
        headers: { ...t.auth, 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      });
      if (res.statusCode !== 200 || res.body.includes('could not be taken')) faults.push({ body: body.slice(0, 500), status: res.statusCode, answer: res.body.slice(0, 500) });
    }
    expect(faults).toEqual([]);
  });
});
