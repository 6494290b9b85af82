// PostgreSQL restarted — boards recover without a reload (issue 14). Two real Kept processes on a
// private PostgreSQL 15 of this file's own (tests/helpers/private-pg.ts: the machine's shared server
// is used by other files running at the same time, so it is never restarted), a real board socket on
// each. The server is restarted twice, cleanly (`pg_ctl stop -m fast`, then start) and as a crash
// (`-m immediate`, recovered from the WAL). After each: every instance's /health answers 200 with
// its feed connected again; a contact posted to one instance reaches the board on the other as a
// delta on the socket it always had (never closed, no new snapshot) with the figures moved; exactly
// one instance leads; a clock due after the restart is stored as breached at its true instant. While
// the server is down a POST answers an honest 503 within the write timeout (not a 500, not a hang),
// /health answers 503 (asked with a token too), the boards still tick on their instance's timers, and
// a clock that falls due meanwhile is stored at its true instant afterwards. A stream of writes runs
// across the stop, so some meet the server going away inside the writer: each answers 201 or 503, and
// every 201 reaches both boards after the restart.
// PG_RESTART_LOGS=DIR keeps the instances' logs there.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_PATH, type BoardFigures, type ServerMessage } from '../../server/live/protocol.js';
import { untilSnapshot } from '../helpers/boards.js';
import { createToken, startInstances, type Instances } from '../helpers/instances.js';
import { privatePg } from '../helpers/private-pg.js';

/** KEPT_WRITE_TIMEOUT_MS for the instances: a write never waits longer than this for an answer. */
const WRITE_TIMEOUT_MS = 3000;

interface Board {
  socket: WebSocket;
  messages: ServerMessage[];
  closed: boolean;
}

const server = privatePg('kept_restart');
let kept: Instances;
let token: string;
const boards: Board[] = [];

const auth = () => ({ authorization: `Bearer ${token}` });

function openBoard(base: string): Promise<Board> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}${LIVE_PATH}`, { headers: auth() });
  const board: Board = { socket, messages: [], closed: false };
  boards.push(board);
  socket.on('message', (data) => board.messages.push(JSON.parse(String(data)) as ServerMessage));
  socket.on('close', () => (board.closed = true));
  return untilSnapshot(board);
}

/** A board connecting now: the HTTP status its upgrade met (101 when it was let in; that socket is closed at once). */
function boardAnswer(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}${LIVE_PATH}`, { headers: auth() });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.on('error', (e) => reject(e));
  });
}

const snapshots = (b: Board) => b.messages.filter((m) => m.type === 'snapshot').length;
const deltaFor = (b: Board, id: string) => b.messages.findIndex((m) => m.type === 'delta' && m.contacts.includes(id));
/** The board's figures as of message `index` (the last snapshot or delta before it). */
function figuresBefore(b: Board, index: number): BoardFigures {
  for (let i = index - 1; i >= 0; i--) {
    const m = b.messages[i]!;
    if (m.type === 'snapshot' || m.type === 'delta') return m.board;
  }
  throw new Error('no figures before');
}
const phoneWaiting = (f: BoardFigures) => f.tiles.find((t) => t.channel === 'phone')!.waitingNow;

function postCall(base: string, externalId: string, receivedAt: number, timeoutMs = 15_000): Promise<Response> {
  return fetch(`${base}/api/v1/contacts`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'phone', externalId, receivedAt: new Date(receivedAt).toISOString() }),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

interface Health {
  status: string;
  cluster?: { instance: string; leader: boolean; feed: { connected: boolean; reconnects: number } };
}

async function health(base: string): Promise<{ code: number; body: Health }> {
  const r = await fetch(`${base}/api/v1/health`, { headers: auth(), signal: AbortSignal.timeout(5000) });
  return { code: r.status, body: (await r.json()) as Health };
}

/** One statement on the private server, on a connection of its own (a pool's would die with each restart). */
async function query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<R[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query<R>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await server.start();
  token = createToken('pg-restart-test', { url: server.url });
  kept = await startInstances(2, {
    url: server.url,
    armed: true,
    env: (i) => ({ KEPT_INSTANCE_ID: `restart-${i}`, KEPT_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS), KEPT_PG_POOL: '4' }),
  });
  await Promise.all(kept.urls.map((u) => openBoard(u)));
}, 120_000);

afterAll(async () => {
  for (const b of boards) b.socket.terminate();
  if (process.env.PG_RESTART_LOGS !== undefined) kept?.instances.forEach((k, i) => writeFileSync(join(process.env.PG_RESTART_LOGS!, `kept-${i}.log`), k.output()));
  await kept?.stop();
  await server.stop();
}, 60_000);

describe('PostgreSQL restarted under two Kept instances', () => {
  for (const mode of ['fast', 'immediate'] as const) {
    it(`restarted (-m ${mode}): boards recover without a reload, one leader, clocks stored, 503 while down`, async () => {
      const [a, b] = kept.urls as [string, string];
      const snapshotsBefore = boards.map(snapshots);

      // A clock due while the server is down: every instance's lease lapses, and whoever leads next
      // stores the breach at its true instant.
      const dueDuring = Date.now() + 4000;
      const early = await postCall(b, `due-during-${mode}`, dueDuring - 5 * 60_000);
      expect(early.status).toBe(201);
      const duringId = ((await early.json()) as { id: string }).id;

      // While the server is down: an honest 503 with its reason, well within the write timeout, and
      // /health says so too. The server stays down past that clock's due instant.
      let outage: { status: number; ms: number; code?: string; retryAfter: string | null; downBefore: number } | undefined;
      let downHealth: Array<[number, string]> = [];
      let downBoards: number[] = [];
      let heardWhileDown: ServerMessage[][] = [];
      // Writes keep coming to A across the stop (one at a time, every 20 ms), so some meet the server
      // going away inside the writer itself, not only at the token's check: each answers 201 (committed
      // before) or 503, never a 500, never later than the write timeout.
      let writing = true;
      const stream: Array<{ status: number; ms: number; id?: string }> = [];
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          const t0 = performance.now();
          const r = await postCall(a, `stream-${mode}-${n}`, Date.now(), WRITE_TIMEOUT_MS + 5000);
          const body = (await r.json()) as { id?: string };
          stream.push({ status: r.status, ms: performance.now() - t0, ...(r.status === 201 ? { id: body.id! } : {}) });
          await new Promise((ok) => setTimeout(ok, 20));
        }
      })();
      await expect.poll(() => stream.length, { timeout: 10_000 }).toBeGreaterThan(5);
      await server.restart({
        mode,
        whileDown: async () => {
          const downBefore = dueDuring - Date.now();
          const t0 = performance.now();
          const r = await postCall(a, `during-${mode}`, Date.now(), WRITE_TIMEOUT_MS + 5000);
          const body = (await r.json()) as { code?: string };
          outage = { status: r.status, ms: performance.now() - t0, code: body.code, retryAfter: r.headers.get('retry-after'), downBefore };
          await new Promise((ok) => setTimeout(ok, Math.max(0, dueDuring + 500 - Date.now())));
          heardWhileDown = boards.map((board) => board.messages.slice());
          // Asked with the token, whose check (RECHECK_MS after the last) meets the database away too.
          downHealth = await Promise.all(
            kept.urls.map(async (u): Promise<[number, string]> => {
              const h = await health(u);
              return [h.code, h.body.status];
            }),
          );
          // Past RECHECK_MS (250 ms) since the last token check, so the board's own check meets the outage too.
          await new Promise((ok) => setTimeout(ok, 400));
          downBoards = await Promise.all(kept.urls.map((u) => boardAnswer(u)));
          writing = false;
          await writer;
        },
      });
      expect(stream.filter((w) => w.status !== 201 && w.status !== 503)).toEqual([]);
      expect(stream.some((w) => w.status === 503)).toBe(true);
      expect(Math.max(...stream.map((w) => w.ms))).toBeLessThan(WRITE_TIMEOUT_MS + 1000);
      expect(outage).toMatchObject({ status: 503, code: 'database-unreachable' });
      expect(outage!.retryAfter).not.toBeNull();
      expect(outage!.ms).toBeLessThan(WRITE_TIMEOUT_MS + 1000);
      // The server went down before the clock fell due (else nobody was away when it did).
      expect(outage!.downBefore).toBeGreaterThan(0);
      // /health's own answer, degraded with the reason (a token that cannot be checked gets the public one).
      expect(downHealth).toEqual([
        [503, 'degraded'],
        [503, 'degraded'],
      ]);
      // A board connecting meanwhile is let in on the instance's own state (its token verified from
      // memory within RECHECK_MS) or told to come back (503, its back-off retries): never a 500.
      for (const answer of downBoards) expect([101, 503]).toContain(answer);
      // The boards kept ticking on their instance's own timers meanwhile: the breach reached both, live.
      for (const messages of heardWhileDown) {
        expect(messages.some((m) => m.type === 'delta' && m.cause === 'timer' && m.upsert.some((u) => u.contactId === duringId && u.status === 'breached'))).toBe(true);
      }

      // Every instance healthy again, its feed connected.
      await expect
        .poll(async () => (await Promise.all(kept.urls.map(health))).map((h) => [h.code, h.body.cluster?.feed.connected]), { timeout: 30_000, interval: 250 })
        .toEqual([
          [200, true],
          [200, true],
        ]);

      // A contact posted to A reaches the board on B as a delta on the same socket, the figures moved.
      const r = await postCall(a, `after-${mode}`, Date.now() - 1000);
      expect(r.status).toBe(201);
      const { id } = (await r.json()) as { id: string };
      for (const board of boards) {
        await expect.poll(() => deltaFor(board, id), { timeout: 10_000 }).toBeGreaterThan(0);
        const at = deltaFor(board, id);
        const delta = board.messages[at] as Extract<ServerMessage, { type: 'delta' }>;
        expect(delta.cause).toBe('contact');
        expect(phoneWaiting(delta.board)).toBe(phoneWaiting(figuresBefore(board, at)) + 1);
      }
      boards.forEach((board, i) => {
        expect(board.closed).toBe(false);
        expect(board.socket.readyState).toBe(WebSocket.OPEN);
        // No reload: the board was never sent a fresh snapshot.
        expect(snapshots(board)).toBe(snapshotsBefore[i]);
      });
      expect(deltaFor(boards[1]!, id)).toBeGreaterThan(0);

      // Every contact acknowledged before the server went away (the last perhaps a moment before a
      // crash) reached both boards: none lost in the feed across the restart.
      const acknowledged = stream.flatMap((w) => (w.id !== undefined ? [w.id] : []));
      for (const board of boards) await expect.poll(() => acknowledged.filter((ack) => deltaFor(board, ack) < 0), { timeout: 10_000 }).toEqual([]);

      // Exactly one leader.
      await expect.poll(async () => (await Promise.all(kept.urls.map(health))).filter((h) => h.body.cluster?.leader === true).length, { timeout: 10_000 }).toBe(1);

      // A clock due after the restart: stored as breached by the leader, the millisecond after its due instant.
      const dueAt = Date.now() + 3000;
      const posted = await postCall(b, `breach-${mode}`, dueAt - 5 * 60_000);
      expect(posted.status).toBe(201);
      const call = (await posted.json()) as { id: string; clocks: Array<{ standard: string; dueAt: string }> };
      expect(Date.parse(call.clocks.find((c) => c.standard === 'phone-answer')!.dueAt)).toBe(dueAt);
      await expect
        .poll(async () => (await query<{ status: string; at: string }>("SELECT status, status_changed_at::text AS at FROM clocks WHERE contact_id = $1 AND standard = 'phone-answer'", [call.id]))[0], { timeout: 15_000 })
        .toEqual({ status: 'breached', at: String(dueAt + 1) });
      expect((await query<{ status: string; at: string }>("SELECT status, status_changed_at::text AS at FROM clocks WHERE contact_id = $1 AND standard = 'phone-answer'", [duringId]))[0]).toEqual({
        status: 'breached',
        at: String(dueDuring + 1),
      });
    }, 60_000);
  }
});
