// Kept on PostgreSQL, for real (issue 14): three real Kept processes on one PostgreSQL database
// (KEPT_DATABASE_URL), each with its own boards. A contact posted to one reaches the boards connected
// to the others through the change feed; /health shows the feed and exactly one leader; the leader
// hung (SIGSTOP) or killed (SIGKILL), the clocks' transitions are still stored, each once at its true
// instant; the feed's connection cut, it reconnects and the boards move again without a reload; four
// writers for a minute, every instance's board hears every contact with no delta lost or repeated;
// the weekly report's missed Monday is caught up once by three instances starting together.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_PATH, type ServerMessage } from '../../server/live/protocol.js';
import { oneTimePassword } from '../../server/people/passwords.js';
import { recordSecret } from '../helpers/app.js';
import { untilSnapshot } from '../helpers/boards.js';
import { createToken, freshPgDatabase, startInstances, type Instances, type TestPg } from '../helpers/instances.js';

interface Board {
  socket: WebSocket;
  messages: ServerMessage[];
  /** When each contact was first heard in a delta (ms since the epoch). */
  heardAt?: Map<string, number>;
}

let db: TestPg;
let kept: Instances;
let token: string;
let admin: pg.Pool;
const boards: Board[] = [];

const auth = () => ({ authorization: `Bearer ${token}` });

function openBoard(base: string): Promise<Board> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}${LIVE_PATH}`, { headers: auth() });
  const board: Board = { socket, messages: [] };
  boards.push(board);
  board.heardAt = new Map();
  socket.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    board.messages.push(m);
    if (m.type === 'delta') for (const id of m.contacts) if (!board.heardAt!.has(id)) board.heardAt!.set(id, Date.now());
  });
  return untilSnapshot(board);
}

/**
 * A board that moves to the next instance every `everyMs` (a balancer that does not stick, or instances
 * going away), keeping its seq and mark as the web app does (web/src/live.svelte.ts): a resume must
 * follow its seq (`prev`), every other delta its last seq plus one (a repeat is skipped).
 */
function roam(urls: string[], everyMs: number) {
  const state = { seq: null as number | null, mark: null as string | null, heard: new Set<string>(), snapshots: 0, resumes: 0, moves: 0, errors: [] as string[] };
  let socket: WebSocket | null = null;
  let at = 0;
  const connect = () => {
    const query = state.seq === null ? '' : `?since=${state.seq}${state.mark === null ? '' : `&mark=${state.mark}`}`;
    const s = new WebSocket(`${urls[at % urls.length]!.replace('http', 'ws')}${LIVE_PATH}${query}`, { headers: auth() });
    socket = s;
    s.on('error', () => {});
    s.on('message', (data) => {
      if (socket !== s) return;
      const m = JSON.parse(String(data)) as ServerMessage;
      if (m.type === 'snapshot') {
        state.snapshots++;
        state.seq = m.seq;
        state.mark = m.mark ?? null;
        return;
      }
      if (m.type !== 'delta') return;
      if (m.prev !== undefined) {
        if (m.prev !== state.seq) state.errors.push(`a resume after ${m.prev} for a board at ${state.seq}`);
        state.resumes++;
      } else if (state.seq !== null && m.seq <= state.seq) {
        return;
      } else if (m.seq !== (state.seq ?? 0) + 1) {
        state.errors.push(`a gap: ${state.seq} then ${m.seq}`);
      }
      state.seq = m.seq;
      state.mark = m.mark ?? null;
      for (const id of m.contacts) state.heard.add(id);
    });
  };
  connect();
  const timer = setInterval(() => {
    socket?.terminate();
    at++;
    state.moves++;
    connect();
  }, everyMs);
  return {
    state,
    stop: () => {
      clearInterval(timer);
      socket?.terminate();
    },
  };
}

/** The contacts a board has been told changed, in the deltas after its snapshot. */
const heard = (b: Board) => new Set(b.messages.flatMap((m) => (m.type === 'delta' ? m.contacts : [])));

async function postCall(base: string, externalId: string, receivedAt: number): Promise<{ id: string; clocks: Array<{ standard: string; dueAt: string }> }> {
  const r = await fetch(`${base}/api/v1/contacts`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'phone', externalId, receivedAt: new Date(receivedAt).toISOString() }),
  });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; clocks: Array<{ standard: string; dueAt: string }> };
}

async function health(base: string): Promise<{ status: string; cluster?: { instance: string; leader: boolean; feed: { connected: boolean; reconnects: number } } }> {
  const r = await fetch(`${base}/api/v1/health`, { headers: auth() });
  return (await r.json()) as never;
}

beforeAll(async () => {
  db = await freshPgDatabase('kept_cluster');
  // The token is made on the shared database before any instance starts (the CLI migrates it).
  token = createToken('cluster-test', { url: db.url });
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  kept = await startInstances(3, { url: db.url, armed: true, env: (i) => ({ KEPT_INSTANCE_ID: `kept-${i}` }) });
}, 180_000);

afterAll(async () => {
  for (const b of boards) b.socket.terminate();
  await kept?.stop();
  await admin?.end();
  await db?.drop();
}, 60_000);

describe('three Kept instances on one PostgreSQL', () => {
  it('a contact posted to one appears on the boards connected to the others', async () => {
    const [, b1, b2] = await Promise.all(kept.urls.map((u) => openBoard(u)));
    const { id } = await postCall(kept.urls[0]!, 'cluster-first', Date.now() - 1000);
    await expect.poll(() => heard(b1!).has(id) && heard(b2!).has(id), { timeout: 10_000 }).toBe(true);
    // The board's figures moved on the other instances too: one call waiting.
    const last = (b: Board) => b.messages.findLast((m) => m.type === 'delta');
    for (const b of [b1!, b2!]) expect(last(b)).toMatchObject({ type: 'delta', cause: 'contact' });
    // Every instance reads the contact back (the API's reads on the shared database).
    for (const u of kept.urls) expect((await fetch(`${u}/api/v1/contacts/${id}`, { headers: auth() })).status).toBe(200);
  });

  it('a board moved to another instance resumes there with one delta (what it missed), then follows that instance', async () => {
    const b0 = await openBoard(kept.urls[0]!);
    // A call ten minutes old: its answer clock is breached as it is written, a row of the urgent list.
    const first = await postCall(kept.urls[0]!, 'cluster-moved-1', Date.now() - 10 * 60_000);
    // A call at risk now that breaches in 3 s, while the board is away: no write says so (a timer does).
    const dueAt = Date.now() + 3000;
    const timed = await postCall(kept.urls[0]!, 'cluster-moved-timed', dueAt - 5 * 60_000);
    await expect.poll(() => heard(b0).has(first.id) && heard(b0).has(timed.id), { timeout: 10_000 }).toBe(true);
    const had = b0.messages.findLast((m) => m.type === 'delta' || m.type === 'snapshot') as { seq: number; mark?: string };
    expect(had.mark).toMatch(/^\d+\.\d+\.\d+$/);
    const seenBy0 = b0.messages.filter((m) => m.type === 'delta' || m.type === 'snapshot').length;
    b0.socket.terminate(); // its instance went away, say
    // While it is away: another breached call through instance 2, and the first one answered through instance 0.
    const second = await postCall(kept.urls[2]!, 'cluster-moved-2', Date.now() - 10 * 60_000);
    const answered = await fetch(`${kept.urls[0]!}/api/v1/contacts/${first.id}/events`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'answered', at: new Date().toISOString() }),
    });
    expect(answered.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt + 500 - Date.now())));
    const moved: Board = {
      socket: new WebSocket(`${kept.urls[1]!.replace('http', 'ws')}${LIVE_PATH}?since=${had.seq}&mark=${had.mark}`, { headers: auth() }),
      messages: [],
    };
    boards.push(moved);
    moved.socket.on('message', (data) => moved.messages.push(JSON.parse(String(data)) as ServerMessage));
    const numbered = () => moved.messages.filter((m) => m.type === 'delta' || m.type === 'snapshot');
    await expect.poll(() => numbered().length, { timeout: 10_000 }).toBeGreaterThan(0);
    const resume = numbered()[0]!;
    // A delta that follows the board's own seq, not a snapshot: the board never reloads.
    expect(resume).toMatchObject({ type: 'delta', prev: had.seq });
    if (resume.type !== 'delta') throw new Error('not a delta');
    expect(resume.mark).toMatch(/^\d+\.\d+\.\d+$/);
    // What changed while it was away, and only through the feed: the new breached call in, the answered one out.
    expect(resume.upsert.map((u) => `${u.contactId}/${u.standard}`)).toContain(`${second.id}/phone-answer`);
    expect(resume.remove).toContain(`${first.id}/phone-answer`);
    // The one that breached while it was away, by a timer on every instance: sent as breached.
    expect(resume.upsert.find((u) => u.contactId === timed.id && u.standard === 'phone-answer')?.status).toBe('breached');
    expect(resume.contacts).toEqual(expect.arrayContaining([first.id, second.id]));
    // Not a snapshot in disguise: rows the board already had and that did not change are not sent again.
    expect(resume.upsert.length).toBeLessThan(10);
    // Then it follows instance 1's numbering: a contact posted to instance 2 arrives as the next delta.
    const third = await postCall(kept.urls[2]!, 'cluster-moved-3', Date.now() - 1000);
    await expect.poll(() => heard(moved).has(third.id), { timeout: 10_000 }).toBe(true);
    const after = numbered().slice(1) as Array<{ seq: number }>;
    let seq = resume.seq;
    for (const d of after) {
      // Deltas sent while the resume was built may come again after it (seq at or below it): harmless, skipped by the board.
      if (d.seq <= seq) continue;
      expect(d.seq).toBe(seq + 1);
      seq = d.seq;
    }
    expect(moved.messages.some((m) => m.type === 'snapshot')).toBe(false);
    expect(seenBy0).toBeGreaterThan(0);
    // Counted where operators look: /health's cluster part on the instance it moved to.
    const h = (await health(kept.urls[1]!)) as { cluster?: { movedBoards?: { resumed: number; snapshots: number } } };
    expect(h.cluster?.movedBoards?.resumed).toBeGreaterThanOrEqual(1);
  });

  it('a board moved with a mark from before the feed it needs was pruned, or with no mark, gets a snapshot', async () => {
    const b0 = await openBoard(kept.urls[0]!);
    const had = b0.messages.findLast((m) => m.type === 'delta' || m.type === 'snapshot') as { seq: number; mark?: string };
    b0.socket.terminate();
    const connect = async (query: string) => {
      const board: Board = { socket: new WebSocket(`${kept.urls[1]!.replace('http', 'ws')}${LIVE_PATH}${query}`, { headers: auth() }), messages: [] };
      boards.push(board);
      board.socket.on('message', (data) => board.messages.push(JSON.parse(String(data)) as ServerMessage));
      await expect.poll(() => board.messages.find((m) => m.type === 'snapshot' || m.type === 'delta')?.type, { timeout: 10_000 }).toBeDefined();
      return board.messages.find((m) => m.type === 'snapshot' || m.type === 'delta')!.type;
    };
    expect(await connect(`?since=${had.seq}`)).toBe('snapshot');
    // A mark from before everything the feed still holds (position 1.0, long pruned or never written here).
    await admin.query(`UPDATE feed_horizon SET pruned_xid = greatest(pruned_xid, '2'::xid8), pruned_id = greatest(pruned_id, 1)`);
    expect(await connect(`?since=${had.seq}&mark=1.0.${Date.now()}`)).toBe('snapshot');
    // A mark that does not parse is refused by the route, naming it.
    const bad = await fetch(`${kept.urls[1]!}${LIVE_PATH}?since=1&mark=x`, { headers: auth() });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/mark/);
  });

  it("a team lead's message put on one instance reaches the boards on another", async () => {
    // A team lead made on the shared database by the command line, signed in on instance 0.
    const email = 'lead@cluster.example.org';
    const made = spawnSync('npm', ['run', '--silent', 'sla', '--', 'user', 'create', email, '--role', 'team-lead', '--name', 'Cluster Lead'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, KEPT_DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    expect(made.status).toBe(0);
    const first = made.stdout.trim().split('\n').at(-1)!;
    recordSecret(first);
    const base = kept.urls[0]!;
    const jar = new Map<string, string>();
    const keep = (r: Response) => {
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
    };
    const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const call = async (method: string, path: string, body: unknown, csrf?: string) => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', origin: base, cookie: cookie(), ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}) },
        body: JSON.stringify(body),
      });
      keep(r);
      return r;
    };
    const signIn = await call('POST', '/api/v1/session', { email, password: first });
    expect(signIn.status).toBe(200);
    const password = `${oneTimePassword()}-changed`;
    recordSecret(password);
    expect((await call('POST', '/api/v1/session/password', { current: first, new: password }, ((await signIn.json()) as { csrfToken: string }).csrfToken)).status).toBe(204);
    const session = await fetch(`${base}/api/v1/session`, { headers: { cookie: cookie() } });
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const other = await openBoard(kept.urls[1]!);
    const put = await call('PUT', '/api/v1/board/message', { text: 'Phones down in Truro: expect longer waits' }, csrfToken);
    expect(put.status).toBe(200);
    await expect
      .poll(() => other.messages.filter((m) => m.type === 'message').at(-1), { timeout: 10_000 })
      .toMatchObject({ type: 'message', message: { text: 'Phones down in Truro: expect longer waits', by: email } });
  });

  it('/health shows each instance its feed connected, and exactly one leader', async () => {
    await expect
      .poll(async () => (await Promise.all(kept.urls.map(health))).filter((h) => h.cluster?.leader === true).length, { timeout: 10_000 })
      .toBe(1);
    const all = await Promise.all(kept.urls.map(health));
    expect(all.map((h) => h.cluster?.instance)).toEqual(['kept-0', 'kept-1', 'kept-2']);
    for (const h of all) expect(h).toMatchObject({ status: 'ok', cluster: { feed: { connected: true } } });
    // The same in the metrics a Prometheus scrapes: one leader among the three, every feed connected.
    const scraped = await Promise.all(kept.urls.map(async (u) => (await fetch(`${u}/api/v1/metrics`, { headers: auth() })).text()));
    const metric = (text: string, name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1));
    expect(scraped.map((t) => metric(t, 'kept_leader')).reduce((a, b) => a + b, 0)).toBe(1);
    for (const t of scraped) {
      expect(metric(t, 'kept_feed_connected')).toBe(1);
      expect(metric(t, 'kept_feed_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(metric(t, 'kept_feed_delivered_total'))).toBe(true);
      expect(metric(t, 'kept_notification_queue_usage')).toBeGreaterThanOrEqual(0);
    }
  });

  it("the leader hung (SIGSTOP): a standby stores the transitions; resumed, the old leader steps down and stores nothing twice", async () => {
    const leaders = (await Promise.all(kept.urls.map(health))).map((h) => h.cluster?.leader === true);
    const leader = leaders.indexOf(true);
    const other = leaders.findIndex((l, i) => !l && i !== leader);
    const dueAt = Date.now() + 3000;
    const { id } = await postCall(kept.urls[other]!, 'cluster-hung', dueAt - 5 * 60_000);
    await kept.kill(leader, 'SIGSTOP');
    try {
      await expect
        .poll(async () => (await admin.query<{ status: string; at: string }>("SELECT status, status_changed_at AS at FROM clocks WHERE contact_id = $1 AND standard = 'phone-answer'", [id])).rows[0], { timeout: 15_000 })
        .toEqual({ status: 'breached', at: String(dueAt + 1) });
    } finally {
      await kept.kill(leader, 'SIGCONT');
    }
    // Resumed past its lease, the old leader finds itself deposed: one leader among the three.
    await expect.poll(async () => (await Promise.all(kept.urls.map(health))).filter((h) => h.cluster?.leader === true).length, { timeout: 10_000 }).toBe(1);
    const row = await admin.query<{ at: string }>("SELECT status_changed_at AS at FROM clocks WHERE contact_id = $1 AND standard = 'phone-answer'", [id]);
    expect(row.rows[0]!.at).toBe(String(dueAt + 1));
  });

  it("the leader killed (SIGKILL): the next stores the clocks' transitions, each at its true instant", async () => {
    const leaders = (await Promise.all(kept.urls.map(health))).map((h) => h.cluster?.leader === true);
    const leader = leaders.indexOf(true);
    const other = leaders.findIndex((l, i) => !l && i !== leader);
    // A call whose 5-minute answer promise breaks 3 s from now (its at-risk instant has passed already):
    // breached the millisecond after its due instant (server/live/scheduler.ts).
    const dueAt = Date.now() + 3000;
    const { id, clocks } = await postCall(kept.urls[other]!, 'cluster-breach', dueAt - 5 * 60_000);
    expect(Date.parse(clocks.find((c) => c.standard === 'phone-answer')!.dueAt)).toBe(dueAt);
    await kept.kill(leader, 'SIGKILL');
    await expect
      .poll(async () => (await admin.query<{ status: string; at: string }>("SELECT status, status_changed_at AS at FROM clocks WHERE contact_id = $1 AND standard = 'phone-answer'", [id])).rows[0], { timeout: 15_000 })
      .toEqual({ status: 'breached', at: String(dueAt + 1) });
    // A survivor leads now.
    const survivors = kept.urls.filter((_, i) => i !== leader);
    await expect.poll(async () => (await Promise.all(survivors.map(health))).filter((h) => h.cluster?.leader === true).length, { timeout: 10_000 }).toBe(1);
  });

  it("the feed's connection cut: it reconnects, and a board moves again without a reload", async () => {
    const alive = kept.instances.map((inst, i) => ({ inst, i })).filter(({ inst }) => inst.child.exitCode === null && inst.child.signalCode === null);
    const [writer, reader] = [alive[0]!, alive[1]!];
    const board = await openBoard(reader.inst.url);
    const before = (await health(reader.inst.url)).cluster!.feed.reconnects;
    // Every connection to the database but the test's own: the feed's, the lease's and the pools'.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await expect.poll(async () => (await health(reader.inst.url)).cluster?.feed.reconnects ?? 0, { timeout: 15_000 }).toBeGreaterThan(before);
    // The pools replace their connections on the next checkout: a write may meet a dead one first.
    let id = '';
    await expect
      .poll(
        async () => {
          const r = await fetch(`${writer.inst.url}/api/v1/contacts`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'phone', externalId: 'cluster-after-cut', receivedAt: new Date().toISOString() }) });
          if (r.status === 201 || r.status === 200) id = ((await r.json()) as { id: string }).id;
          return id !== '';
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await expect.poll(() => heard(board).has(id), { timeout: 10_000 }).toBe(true);
    expect(board.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('four writers for a minute: every instance hears every contact, its deltas numbered without a gap or a repeat; a board moving between instances every 2 s misses none', async () => {
    const alive = kept.instances.filter((inst) => inst.child.exitCode === null && inst.child.signalCode === null);
    const watching = await Promise.all(alive.map((inst) => openBoard(inst.url)));
    const roaming = roam(
      alive.map((inst) => inst.url),
      2000,
    );
    await expect.poll(() => roaming.state.snapshots, { timeout: 10_000 }).toBe(1);
    const created: string[] = [];
    const until = Date.now() + Number(process.env.CLUSTER_WRITERS_MS ?? 60_000);
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        for (let n = 0; Date.now() < until; n++) {
          const base = alive[(w + n) % alive.length]!.url;
          const r = await fetch(`${base}/api/v1/contacts`, {
            method: 'POST',
            headers: { ...auth(), 'content-type': 'application/json' },
            body: JSON.stringify({ channel: 'email', externalId: `writer-${w}-${n}`, receivedAt: new Date().toISOString(), subject: 'Four writers' }),
          });
          expect(r.status).toBe(201);
          const id = ((await r.json()) as { id: string }).id;
          created.push(id);
        }
      }),
    );
    expect(created.length).toBeGreaterThan(100);
    for (const board of watching) {
      await expect.poll(() => created.filter((id) => !board.heardAt!.has(id)).length, { timeout: 15_000 }).toBe(0);
      const seqs = board.messages.filter((m) => m.type === 'delta').map((m) => (m as { seq: number }).seq);
      const first = (board.messages.find((m) => m.type === 'snapshot') as { seq: number }).seq;
      // Each delta numbered one past the last: none lost between the instance and the board, none twice.
      expect(seqs).toEqual(seqs.map((_, i) => first + 1 + i));
    }
    // The roaming board: every move resumed with one delta (one snapshot, at the start), no gap, nothing missed.
    await expect.poll(() => created.filter((id) => !roaming.state.heard.has(id)).length, { timeout: 15_000 }).toBe(0);
    roaming.stop();
    const { state } = roaming;
    expect(state.errors).toEqual([]);
    expect(state.snapshots).toBe(1);
    expect(state.moves).toBeGreaterThan(10);
    expect(state.resumes).toBeGreaterThanOrEqual(state.moves - 1); // the last move may end before its resume arrives
  }, 120_000);

  it("the weekly report's missed Monday was caught up once, by one of the three", async () => {
    const slots = await admin.query<{ instance: string }>("SELECT instance FROM job_slots WHERE job = 'weekly-report'");
    expect(slots.rows).toHaveLength(1);
    const catchUps = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM audit WHERE action = 'report.catch-up'");
    expect(catchUps.rows[0]!.n).toBe(1);
    const published = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM published_reports');
    expect(published.rows[0]!.n).toBe(1);
  });
});
