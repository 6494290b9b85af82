// Start-up with a backlog: the running clocks load in pages while the server already answers.
// /health says `starting` (a token holder sees how many are loaded), the live socket and the public
// status answer 503 `starting` with Retry-After, writes are taken, and a change heard while loading
// wins over the page that reads the same contact later. The pages here are two rows each and the
// test decides when the next one is read.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase, type Connection } from '../../db/connection.js';
import { loadConfig } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import type { ServerMessage, SnapshotMessage } from '../../server/live/protocol.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let seeded: TestApp;
let app: FastifyInstance;
let service: IngestService;
let connection: Connection;
let base: string;
/** Pages waiting to be read: each resolves the loader's pause after a page. */
const pauses: Array<() => void> = [];
let held = true;
const ids: string[] = [];

beforeAll(async () => {
  // Six calls waiting, received a second apart, in a database the second app opens afresh.
  seeded = await startTestApp();
  const now = Date.now();
  for (let i = 0; i < 6; i++) {
    const r = await seeded.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: seeded.auth, payload: { channel: 'phone', externalId: `backlog-${i}`, receivedAt: new Date(now - 60_000 + i * 1000).toISOString() } });
    ids.push((r.json() as { id: string }).id);
  }
  const config = loadConfig({ KEPT_DB: seeded.config.dbFile, KEPT_WEB_ROOT: join(seeded.dir, 'no-web') });
  connection = openDatabase(config.dbFile);
  service = new IngestService(connection, { writerThread: true, writeTimeoutMs: config.writeTimeoutMs });
  const yieldToLoop = () => (held ? new Promise<void>((resolve) => pauses.push(resolve)) : Promise.resolve());
  app = await buildApp({ config, service, liveLoading: { loadPageRows: 2, yieldToLoop } });
  await service.writerReady;
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  held = false;
  for (const p of pauses.splice(0)) p();
  await app?.close();
  await service?.close();
  connection?.close();
  await seeded?.close();
});

const health = async (headers: Record<string, string> = {}) => {
  const r = await fetch(`${base}/api/v1/health`, { headers });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('start-up while the running clocks load', () => {
  it('listens at once: /health 200 starting, with the count loaded for a token holder', async () => {
    expect(app.live.armed).toBe(false);
    expect(await health()).toEqual({ status: 200, body: { status: 'starting' } });
    const detailed = await health(seeded.auth);
    expect(detailed.status).toBe(200);
    expect(detailed.body).toMatchObject({ status: 'starting', runningClocks: 2 }); // the first page, read at once
  });

  it('the live socket and the public status answer 503 starting with Retry-After; reads are served', async () => {
    const refused = await new Promise<{ status: number; retryAfter: unknown; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live`, { headers: seeded.auth });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
      });
      ws.once('open', () => reject(new Error('the socket opened while starting')));
      ws.once('error', () => {});
    });
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'starting', message: expect.stringMatching(/^Kept is starting: 2 running clocks loaded so far/) });
    const status = await fetch(`${base}/api/v1/status/public`);
    expect(status.status).toBe(503);
    expect(status.headers.get('retry-after')).toBe('1');
    expect(status.headers.get('cache-control')).toBeNull(); // a cache must not keep "starting"
    const list = await fetch(`${base}/api/v1/contacts?status=open&limit=10`, { headers: seeded.auth });
    expect(list.status).toBe(200);
  });

  it('takes writes while loading; a change heard before its contact\'s page wins, and a new call is counted once', async () => {
    const post = (url: string, payload: unknown) => fetch(`${base}${url}`, { method: 'POST', headers: { ...seeded.auth, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    // The fifth call (in the third page, not read yet) is answered; a seventh call comes in (the last page).
    expect((await post(`/api/v1/contacts/${ids[4]}/events`, { type: 'answered', at: new Date().toISOString() })).status).toBe(200);
    expect((await post('/api/v1/contacts', { channel: 'phone', externalId: 'during-start', receivedAt: new Date().toISOString() })).status).toBe(201);
    pauses.shift()!(); // the second page
    await expect.poll(() => app.live.loadedClocks).toBe(4);
    expect((await health()).body.status).toBe('starting');
    held = false;
    for (const p of pauses.splice(0)) p();
    const loaded = await app.liveArmed;
    expect(loaded.clocks).toBe(6); // 6 seeded − 1 answered + 1 new
    expect(await health()).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await health(seeded.auth)).body).toMatchObject({ status: 'ok', runningClocks: 6 });

    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/live`, { headers: seeded.auth });
    const first = await new Promise<ServerMessage>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d)) as ServerMessage));
      ws.once('error', reject);
    });
    ws.close();
    expect(first.type).toBe('snapshot');
    const phone = (first as SnapshotMessage).board.tiles[0]!;
    expect(phone).toMatchObject({ channel: 'phone', waitingNow: 6, handledToday: 1 });
    const open = await fetch(`${base}/api/v1/status/public`);
    expect(open.status).toBe(200);
    expect(((await open.json()) as { callsWaiting: number }).callsWaiting).toBe(6);
  });
});
