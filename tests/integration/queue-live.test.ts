// My queue's live feed over a real WebSocket: an advisor hears about contacts that enter their queue
// (assigned to them, or unassigned in a queue they work) and nothing else; ids only; no session, no feed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

let t: TestApp;
let base: string;
let ann: SignedIn;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  ann = await t.signIn('advisor', { email: 'ann.advisor@staff.example.org', name: 'Ann Advisor', queues: ['repair'] });
});
afterAll(async () => {
  await t.close();
});

function listen(headers: Record<string, string>) {
  const messages: Array<{ type: string; contacts?: string[] }> = [];
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/queue/live`, { headers });
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as { type: string; contacts?: string[] }));
  const status = new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)));
    ws.once('error', () => resolve(-1));
  });
  return { ws, messages, status };
}

const until = async (test: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the queue feed', () => {
  it('is refused without a session and from another origin', async () => {
    expect(await listen({ origin: base }).status).toBe(401);
    expect(await listen({ cookie: ann.cookie, origin: 'http://evil.example' }).status).toBe(403);
  });

  it("names a contact when it enters the advisor's queue, and only then", async () => {
    const feed = listen({ cookie: ann.cookie, origin: base });
    expect(await feed.status).toBe(101);
    await until(() => feed.messages.some((m) => m.type === 'hello'));
    // Not hers: unassigned in a queue she does not work.
    const other = (await t.service.createContact({ channel: 'email', externalId: 'ql-1', receivedAt: new Date().toISOString(), category: 'general' })).contact;
    // Hers: unassigned in her queue (repair).
    const repair = (await t.service.createContact({ channel: 'email', externalId: 'ql-2', receivedAt: new Date().toISOString(), category: 'repair', customer: { name: 'Rita Repair', email: 'rita@example.com' } })).contact;
    await until(() => feed.messages.some((m) => m.contacts?.includes(repair.id) === true));
    // Then the other one is assigned to her: now it is hers.
    await t.service.addEvents(other.id, [{ type: 'assigned', assignee: 'ann.advisor@staff.example.org', at: new Date().toISOString() }]);
    await until(() => feed.messages.some((m) => m.contacts?.includes(other.id) === true));
    const changed = feed.messages.filter((m) => m.type === 'changed');
    expect(changed.flatMap((m) => m.contacts)).toEqual([repair.id, other.id]);
    // Ids only: no customer's details on the wire.
    expect(JSON.stringify(feed.messages)).not.toContain('Rita');

    // The page says what it shows; reassigning one of those away from her is told too.
    feed.ws.send(JSON.stringify({ type: 'watch', contacts: [other.id, repair.id] }));
    await new Promise((r) => setTimeout(r, 100));
    const seen = feed.messages.length;
    await t.service.addEvents(other.id, [{ type: 'assigned', assignee: 'bob.advisor@staff.example.org', at: new Date().toISOString() }]);
    await until(() => feed.messages.slice(seen).some((m) => m.contacts?.includes(other.id) === true));
    // A contact she neither has nor shows, changing elsewhere, is not.
    const elsewhere = (await t.service.createContact({ channel: 'email', externalId: 'ql-3', receivedAt: new Date().toISOString(), category: 'general' })).contact;
    await t.service.addEvents(elsewhere.id, [{ type: 'assigned', assignee: 'bob.advisor@staff.example.org', at: new Date().toISOString() }]);
    await new Promise((r) => setTimeout(r, 400));
    expect(feed.messages.flatMap((m) => m.contacts ?? [])).not.toContain(elsewhere.id);
    feed.ws.close();
  });
});
