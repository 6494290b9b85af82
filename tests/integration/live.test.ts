// The live socket with real WebSocket clients on a listening port: snapshot, deltas, timers, replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DeltaMessage, ServerMessage, SnapshotMessage } from '../../server/live/protocol.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp({ KEPT_BUSY_CALLS_WAITING: '2' });
  base = (await t.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
});
afterAll(async () => {
  await t.close();
});

/** A client that records every message and can wait for one matching a test. */
function connect(query = '', headers: Record<string, string> = t.auth) {
  const messages: ServerMessage[] = [];
  const waiters: Array<{ test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  const ws = new WebSocket(`${base}/api/v1/live${query}`, { headers });
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.test(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const next = <T extends ServerMessage>(test: (m: ServerMessage) => boolean, timeoutMs = 3000): Promise<T> => {
    const found = messages.find(test);
    if (found) return Promise.resolve(found as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m as T)) });
    });
  };
  return { ws, messages, next, opened: new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j))) };
}

async function post(url: string, payload: unknown) {
  const r = await t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: t.auth });
  return r.json() as { id: string; clocks: Array<{ dueAt: string }> };
}

describe('/api/v1/live', () => {
  it('refuses a client without a token or same origin', async () => {
    const c = connect('', {});
    await expect(c.opened).rejects.toThrow(/401/);
  });

  it('sends a snapshot, then a delta within a second of a new call', async () => {
    const c = connect();
    const snap = await c.next<SnapshotMessage>((m) => m.type === 'snapshot');
    expect(snap.board.tiles.map((x) => x.channel)).toEqual(['phone', 'email', 'webform', 'social', 'voicemail']);
    const phoneBefore = snap.board.tiles[0]!.waitingNow;
    const sent = Date.now();
    await post('/api/v1/contacts', { channel: 'phone', externalId: 'live-1', receivedAt: new Date().toISOString(), customer: { name: 'Bo' } });
    const delta = await c.next<DeltaMessage>((m) => m.type === 'delta' && m.board.tiles[0]!.waitingNow === phoneBefore + 1);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(delta.seq).toBeGreaterThan(snap.seq);
    c.ws.close();
  });

  it('an answered emergency call leaves the phone queue and counts as handled once, while its make-safe clock runs', async () => {
    const c = connect();
    const snap = await c.next<SnapshotMessage>((m) => m.type === 'snapshot');
    const phone = snap.board.tiles[0]!;
    const receivedAt = Date.now() - 60_000;
    const created = await post('/api/v1/contacts', {
      channel: 'phone',
      category: 'emergency-repair',
      externalId: 'live-emergency',
      receivedAt: new Date(receivedAt).toISOString(),
      events: [{ type: 'answered', at: new Date(receivedAt + 20_000).toISOString() }],
    });
    try {
      const clocks = created.clocks as unknown as Array<{ standard: string; status: string }>;
      expect(clocks.find((k) => k.standard === 'phone-answer')?.status).toBe('met');
      expect(clocks.find((k) => k.standard === 'emergency-make-safe')?.status).toBe('running');
      const delta = await c.next<DeltaMessage>((m) => m.type === 'delta' && m.board.tiles[0]!.handledToday > phone.handledToday);
      expect(delta.board.tiles[0]).toMatchObject({ waitingNow: phone.waitingNow, handledToday: phone.handledToday + 1 });
    } finally {
      c.ws.close();
    }
  });

  it('pushes the breach at the due instant (a timer, not a sweep), and records when it really happened', async () => {
    const c = connect();
    await c.next((m) => m.type === 'snapshot');
    const receivedAt = new Date(Date.now() - 5 * 60_000 + 1500).toISOString(); // due in 1.5 s
    const created = await post('/api/v1/contacts', { channel: 'phone', externalId: 'live-2', receivedAt });
    const dueAt = Date.parse(created.clocks[0]!.dueAt);
    const breach = await c.next<DeltaMessage>((m) => m.type === 'delta' && m.upsert.some((u) => u.contactId === created.id && u.status === 'breached'), 5000);
    const late = Date.now() - dueAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    expect(breach.cause).toBe('timer');
    await new Promise((r) => setTimeout(r, 100));
    const row = t.connection.sqlite.prepare("SELECT status, status_changed_at FROM clocks WHERE contact_id = ? AND standard = 'phone-answer'").get(created.id) as { status: string; status_changed_at: number };
    expect(row).toEqual({ status: 'breached', status_changed_at: dueAt + 1 });
    // Answered: the row leaves the urgent list.
    await post(`/api/v1/contacts/${created.id}/events`, { type: 'answered', at: new Date().toISOString() });
    await c.next<DeltaMessage>((m) => m.type === 'delta' && m.remove.includes(`${created.id}/phone-answer`));
    c.ws.close();
  });

  it('a client reconnecting with its last seq gets what it missed; a stale seq gets a snapshot', async () => {
    const wall = connect(); // another board stays connected, so the deltas are built and kept
    await wall.next((m) => m.type === 'snapshot');
    const first = connect();
    const snap = await first.next<SnapshotMessage>((m) => m.type === 'snapshot');
    first.ws.close();
    await post('/api/v1/contacts', { channel: 'email', externalId: 'live-3', receivedAt: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 200));
    const again = connect(`?since=${snap.seq}`);
    const missed = await again.next<DeltaMessage>((m) => m.type === 'delta');
    expect(missed.seq).toBe(snap.seq + 1);
    expect(again.messages.some((m) => m.type === 'snapshot')).toBe(false);
    again.ws.close();
    const future = connect('?since=999999');
    expect((await future.next((m) => m.type === 'snapshot')).type).toBe('snapshot');
    future.ws.close();
    wall.ws.close();
    // With no board open nothing is built or kept: a board that comes back gets a snapshot.
    await new Promise((r) => setTimeout(r, 100));
    const lastSeq = t.app.hub.currentSeq;
    await post('/api/v1/contacts', { channel: 'email', externalId: 'live-4', receivedAt: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 200));
    const back = connect(`?since=${lastSeq}`);
    const resync = await back.next((m) => m.type === 'snapshot' || m.type === 'delta');
    expect(resync.type).toBe('snapshot');
    back.ws.close();
  });

  it('a board that reconnects across a server restart gets a snapshot, never the new run\'s deltas as if they followed', async () => {
    const board = connect();
    await board.next((m) => m.type === 'snapshot');
    await post('/api/v1/contacts', { channel: 'email', externalId: 'before-restart', receivedAt: new Date().toISOString() });
    const last = await board.next<DeltaMessage>((m) => m.type === 'delta');
    board.ws.close();
    const restarted = await startTestApp(); // a new run (its own file; what matters is the new hub)
    try {
      const url = (await restarted.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
      expect(restarted.app.hub.currentSeq).toBeGreaterThan(t.app.hub.currentSeq);
      await restarted.service.createContact({ channel: 'email', externalId: 'after-restart', receivedAt: new Date().toISOString() } as never);
      const ws = new WebSocket(`${url}/api/v1/live?since=${last.seq}`, { headers: restarted.auth });
      const first = await new Promise<ServerMessage>((resolve, reject) => {
        ws.once('message', (d) => resolve(JSON.parse(String(d)) as ServerMessage));
        ws.once('error', reject);
      });
      ws.close();
      expect(first.type).toBe('snapshot');
    } finally {
      await restarted.close();
    }
  });

  it('public status says open or closed and raises the busy notice', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/status/public' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('public, max-age=15');
    const body = r.json() as { open: boolean; busy: boolean; message: string; callsWaiting: number };
    expect(typeof body.open).toBe('boolean');
    expect(body.message.length).toBeGreaterThan(10);
    const live = t.app.live.publicStatus(Date.now());
    expect(live.callsWaiting).toBeGreaterThanOrEqual(1);
  });
});

describe('/api/v1/live with more urgent clocks than KEPT_BOARD_LIST_LIMIT', () => {
  it('sends only the most urgent rows with the total, and cuts a storm short with partial', async () => {
    const small = await startTestApp({ KEPT_BOARD_LIST_LIMIT: '2' });
    try {
      const url = (await small.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
      const call = (i: number, minutesAgo: number) =>
        small.app.inject({
          method: 'POST',
          url: '/api/v1/contacts',
          headers: small.auth,
          payload: { channel: 'phone', externalId: `storm-${i}`, receivedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString() },
        });
      // Three calls waiting 10–12 minutes: breached before any board connects.
      for (const i of [0, 1, 2]) expect((await call(i, 10 + i)).statusCode).toBe(201);
      const messages: ServerMessage[] = [];
      const ws = new WebSocket(`${url}/api/v1/live`, { headers: small.auth });
      ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
      await expect.poll(() => messages.length).toBeGreaterThan(0);
      const snap = messages[0] as SnapshotMessage;
      expect(snap.type).toBe('snapshot');
      expect(snap.urgentLimit).toBe(2);
      expect(snap.urgentTotal).toBe(3);
      expect(snap.urgent.map((u) => u.status)).toEqual(['breached', 'breached']);
      // The two most urgent: the longest waiting (earliest due) first.
      const due = snap.urgent.map((u) => Date.parse(u.dueAt));
      expect(due[0]!).toBeLessThan(due[1]!);
      expect(snap.board.tiles[0]!.breached).toBe(3);
      // Five more breached calls at once: one delta, the two most urgent rows, partial.
      await Promise.all([3, 4, 5, 6, 7].map((i) => call(i, 20 + i)));
      await expect.poll(() => messages.some((m) => m.type === 'delta' && m.board.tiles[0]!.breached === 8)).toBe(true);
      const deltas = messages.filter((m): m is DeltaMessage => m.type === 'delta');
      for (const d of deltas) expect(d.upsert.length).toBeLessThanOrEqual(2);
      const storm = deltas.find((d) => d.partial === true);
      expect(storm).toBeDefined();
      expect(storm!.upsert.map((u) => u.contactId).length).toBe(2);
      expect(storm!.board.tiles[0]!.breached).toBe(8);
      ws.close();
    } finally {
      await small.close();
    }
  });
});
