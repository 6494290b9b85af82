// Every clock fired exactly once (issue 14, item 4), on a real PostgreSQL with real processes. The
// lease (server/cluster/lease.ts): one leader, a term's token, a release on stop, a dropped
// connection survived; the fence refuses an old or expired token. Three members
// (tests/fixtures/cluster-member.mts) fire a stream of clocks: the leader SIGKILLed, another takes
// over; the next leader SIGSTOPped past its lease, the third takes over, and once continued the hung
// one stores nothing and steps down; every transition is stored once, at its true instant,
// including those that fell due while no one led. The fence alone (the watchdog off) keeps a woken
// leader from storing. Hand-over times are printed, not asserted tightly (scripts/bench/leader.ts
// measures them).
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fencedSetStatuses, Lease } from '../../server/cluster/lease.js';
import { CLUSTER_TEST_SQL, currentHolder, Member } from '../../scripts/lib/cluster.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

let testPg: TestPg;
let db: pg.Client;
const members: Member[] = [];
const leases: Lease[] = [];

beforeAll(async () => {
  testPg = await freshPgDatabase('kept_lease');
  db = new pg.Client({ connectionString: testPg.url });
  await db.connect();
  await db.query(CLUSTER_TEST_SQL);
});

afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.stop()));
  await Promise.all(leases.splice(0).map((l) => l.stop()));
  await db.query('TRUNCATE clocks, stored_transitions, leases, job_slots');
});

afterAll(async () => {
  await db?.end();
  await testPg?.drop();
});

interface ClockSpec {
  id: string;
  atRiskAt: number | null;
  dueAt: number | null;
  status?: string;
  statusChangedAt?: number | null;
}

async function insertClocks(clocks: ClockSpec[]): Promise<void> {
  await db.query(
    `INSERT INTO clocks (contact_id, standard, status, open, due_at, at_risk_at, status_changed_at, detail)
     SELECT id, 'email-reply', status, status IN ('running', 'at-risk', 'breached', 'paused'), due, risk, changed, json_build_object('status', status)::text
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS s(id, status, due, risk, changed)`,
    [clocks.map((c) => c.id), clocks.map((c) => c.status ?? 'running'), clocks.map((c) => c.dueAt), clocks.map((c) => c.atRiskAt), clocks.map((c) => c.statusChangedAt ?? null)],
  );
}

/** A stream: a clock every `everyMs` from `from`, at risk 20 ms before it is due (every fifth has no at-risk instant). */
function stream(prefix: string, from: number, count: number, everyMs: number): ClockSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const dueAt = from + i * everyMs;
    return { id: `${prefix}-${String(i).padStart(4, '0')}`, dueAt, atRiskAt: i % 5 === 4 ? null : dueAt - 20 };
  });
}

const start = (name: string, o: { watchdog?: boolean } = {}) => {
  const m = new Member({ url: testPg.url, name, ...o });
  members.push(m);
  return m;
};

const dbNow = async () => Number((await db.query<{ t: string }>("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS t")).rows[0]!.t);

/** Waits until every clock of the stream has its breach stored (the leader's), or gives up after `ms`. */
async function allBreached(count: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM clocks WHERE status = 'breached'");
    if (Number(r.rows[0]!.n) >= count || Date.now() > until) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** Each transition stored once, at its true instant: the clocks' final state and the trigger's record. */
async function expectStoredOnceAtTrueInstants(clocks: ClockSpec[]): Promise<void> {
  const rows = await db.query<{ contact_id: string; status: string; status_changed_at: string }>('SELECT contact_id, status, status_changed_at::text FROM clocks ORDER BY contact_id');
  const byId = new Map(rows.rows.map((r) => [r.contact_id, r]));
  for (const c of clocks) {
    expect(byId.get(c.id), c.id).toMatchObject({ status: 'breached', status_changed_at: String(c.dueAt! + 1) });
  }
  const twice = await db.query('SELECT key, status, count(*)::int AS n FROM stored_transitions GROUP BY key, status HAVING count(*) > 1');
  expect(twice.rows).toEqual([]);
  const wrong = await db.query(
    `SELECT t.key, t.status, t.at, c.at_risk_at, c.due_at FROM stored_transitions t JOIN clocks c ON t.key = c.contact_id || '/' || c.standard
      WHERE NOT ((t.status = 'at-risk' AND t.at = c.at_risk_at) OR (t.status = 'breached' AND t.at = c.due_at + 1))`,
  );
  expect(wrong.rows).toEqual([]);
  const breaches = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM stored_transitions WHERE status = 'breached'");
  expect(breaches.rows[0]!.n).toBe(clocks.length);
}

describe('the lease', () => {
  it('elects one holder; its token fences writes; an old token is refused; a clean stop hands over at once with the next token', async () => {
    const log = { info: () => {}, warn: () => {} };
    const a = new Lease({ connectionString: testPg.url, name: 'x', holder: 'a', log });
    const b = new Lease({ connectionString: testPg.url, name: 'x', holder: 'b', log });
    leases.push(a, b);
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.fence()).toBeNull();
    const first = a.token!;
    await insertClocks([{ id: 'c1', atRiskAt: 1000, dueAt: 2000 }]);

    // The holder's fence stores; a token that is not the lease's stores nothing and says so.
    const stale = await fencedSetStatuses(db, { name: 'x', token: first + 1 }, [{ contactId: 'c1', standard: 'email-reply', status: 'at-risk', at: 1000 }], 5000);
    expect(stale).toEqual({ fenced: true, stored: [] });
    const ok = await fencedSetStatuses(db, a.fence()!, [{ contactId: 'c1', standard: 'email-reply', status: 'at-risk', at: 1000 }], 5000);
    expect(ok).toEqual({ fenced: false, stored: [{ contactId: 'c1', standard: 'email-reply', status: 'at-risk', at: 1000 }] });
    // The guard: the same transition again changes nothing (a second leader in a hand-over).
    expect(await fencedSetStatuses(db, a.fence()!, [{ contactId: 'c1', standard: 'email-reply', status: 'at-risk', at: 1000 }], 5000)).toEqual({ fenced: false, stored: [] });

    const elected = new Promise<number>((ok) => b.once('elected', ok));
    const stoppedAt = performance.now();
    await a.stop();
    const second = await elected;
    console.log(`lease: a clean stop handed over in ${Math.round(performance.now() - stoppedAt)} ms`);
    expect(second).toBe(first + 1);
    expect(b.isLeader()).toBe(true);
    expect(await currentHolderOf('x')).toEqual({ holder: 'b', token: second });
    // The old term's token is refused now.
    expect(await fencedSetStatuses(db, { name: 'x', token: first }, [{ contactId: 'c1', standard: 'email-reply', status: 'breached', at: 2001 }], 5000)).toEqual({ fenced: true, stored: [] });
    expect((await db.query("SELECT status FROM clocks WHERE contact_id = 'c1'")).rows[0]).toEqual({ status: 'at-risk' });
  });

  it('an expired lease fences its holder’s writes even when no one else took it, and its next renewal starts a new term', async () => {
    const a = new Lease({ connectionString: testPg.url, name: 'y', holder: 'a', leaseMs: 1000, renewMs: 250 });
    leases.push(a);
    await a.start();
    const token = a.token!;
    await insertClocks([{ id: 'c2', atRiskAt: null, dueAt: 2000 }]);
    const nextTerm = new Promise<number>((ok) => a.once('elected', ok));
    // The database's clock, not the instance's, judges expiry: expire the row as time would.
    await db.query("UPDATE leases SET expires_at = clock_timestamp() - interval '1 ms' WHERE name = 'y'");
    expect(await fencedSetStatuses(db, { name: 'y', token }, [{ contactId: 'c2', standard: 'email-reply', status: 'breached', at: 2001 }], 5000)).toEqual({ fenced: true, stored: [] });
    expect(await nextTerm).toBe(token + 1);
  });

  it('the watchdog: a leader whose event loop was blocked past its lease steps down before anything else it runs, then starts a new term', async () => {
    const a = new Lease({ connectionString: testPg.url, name: 'w', holder: 'blocked' });
    leases.push(a);
    await a.start();
    const token = a.token!;
    const events: string[] = [];
    a.on('deposed', (why) => events.push(`deposed: ${why}`));
    a.on('elected', (t) => events.push(`elected ${t}`));
    // Block the loop for twice the lease, as a long synchronous task or a GC pause would.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, a.leaseMs * 2);
    // The first thing run after the block asks: not the leader, and it said so.
    expect(a.isLeader()).toBe(false);
    expect(a.fence()).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^deposed: the lease lapsed before it was renewed/);
    // No one else wanted it: the next ask starts a new term, with the next token.
    await new Promise<void>((ok) => a.once('elected', () => ok()));
    expect(a.token).toBe(token + 1);
  });

  it('a leader whose connection is terminated reconnects and goes on leading', async () => {
    const a = new Lease({ connectionString: testPg.url, name: 'z', holder: 'solo', leaseMs: 1000, renewMs: 250 });
    leases.push(a);
    await a.start();
    expect(a.isLeader()).toBe(true);
    const backend = "SELECT pid FROM pg_stat_activity WHERE application_name = 'kept lease solo'";
    const old = (await db.query<{ pid: number }>(backend)).rows;
    expect(old).toHaveLength(1);
    const killed = await db.query('SELECT pg_terminate_backend($1) AS ok', [old[0]!.pid]);
    expect(killed.rows).toEqual([{ ok: true }]);
    // A new connection, then a renewal on it (a new term if that took longer than the lease).
    for (let i = 0; i < 100; i++) {
      const now = (await db.query<{ pid: number }>(backend)).rows;
      if (now.length === 1 && now[0]!.pid !== old[0]!.pid) break;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    await new Promise<void>((ok) => {
      a.once('renewed', () => ok());
      a.once('elected', () => ok());
    });
    expect(a.isLeader()).toBe(true);
    expect(await currentHolderOf('z')).toMatchObject({ holder: 'solo' });
    const reconnected = await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'kept lease solo'");
    expect(reconnected.rows[0]).toEqual({ n: 1 });
  });
});

describe('the leader’s transitions (in-process)', () => {
  it('a standby asks nothing of the database; the leader catches up owed transitions in pages, breaches first, each at its true instant', async () => {
    const now = Date.now();
    const overdue = Array.from({ length: 23 }, (_, i) => ({ id: `p-${String(i).padStart(2, '0')}`, dueAt: now - 60_000 + i * 1000, atRiskAt: now - 70_000 + i * 1000 }));
    const atRisk = Array.from({ length: 9 }, (_, i) => ({ id: `q-${i}`, atRiskAt: now - 5000 + i, dueAt: now + 600_000 }));
    await insertClocks([...overdue, ...atRisk]);
    const pool = new pg.Pool({ connectionString: testPg.url, max: 2, application_name: 'in-process' });
    pool.on('error', () => {});
    const standbyLease = new Lease({ connectionString: testPg.url, name: 'clocks', holder: 'other' });
    const lease = new Lease({ connectionString: testPg.url, name: 'clocks', holder: 'in-process' });
    leases.push(standbyLease, lease);
    const { LeaderTransitions } = await import('../../server/cluster/transitions.js');
    try {
      await standbyLease.start();
      let said: (m: string) => void = () => {};
      const told = new Promise<string>((ok) => (said = ok));
      const standby = new LeaderTransitions(pool, lease, { pageRows: 5, log: { info: (m) => said(m), warn: () => {}, error: (m) => said(m) } });
      await lease.start();
      expect(lease.isLeader()).toBe(false);
      await expect(standby.record([{ contactId: 'q-0', standard: 'email-reply', status: 'at-risk', at: now - 5000 }])).resolves.toEqual({ outcome: 'not-leader' });
      expect((await db.query('SELECT count(*)::int AS n FROM stored_transitions')).rows[0]).toEqual({ n: 0 });
      // The other instance stops: this one is elected and catches up, five clocks a statement.
      await standbyLease.stop();
      expect(await told).toBe('stored 32 timer transition(s) that fell due while no instance led, at their true instants');
      await new Promise((ok) => setTimeout(ok, 0));
      // Nothing owed any more: a second catch-up stores nothing.
      expect(await standby.catchUp()).toBe(0);
      await standby.close();
      await expectStoredOnceAtTrueInstants(overdue);
      const risks = await db.query<{ key: string; at: string }>("SELECT key, at::text FROM stored_transitions WHERE status = 'at-risk' ORDER BY key");
      expect(risks.rows).toEqual(atRisk.map((c) => ({ key: `${c.id}/email-reply`, at: String(c.atRiskAt) })));
      // Breaches were stored before any at-risk.
      const order = await db.query<{ status: string }>('SELECT status FROM stored_transitions ORDER BY id');
      expect(order.rows.map((r) => r.status)).toEqual([...overdue.map(() => 'breached'), ...atRisk.map(() => 'at-risk')]);
    } finally {
      await pool.end();
    }
  });
});

async function currentHolderOf(name: string): Promise<{ holder: string; token: number } | null> {
  const r = await db.query<{ holder: string; token: string }>('SELECT holder, token::text FROM leases WHERE name = $1 AND expires_at > clock_timestamp()', [name]);
  const row = r.rows[0];
  return row === undefined ? null : { holder: row.holder, token: Number(row.token) };
}

describe('three instances firing a stream of clocks', () => {
  it('one leader; SIGKILL: another takes over; SIGSTOP past the lease: the third takes over, and the continued one stores nothing and steps down; every transition stored once at its true instant', async () => {
    const clocks = stream('s', Date.now() + 1500, 450, 40);
    await insertClocks(clocks);
    const trio = [start('m1'), start('m2'), start('m3')];
    const ready = await Promise.all(trio.map((m) => m.waitFor((l) => l.ev === 'ready', 30_000)));
    // Exactly one leader among three.
    expect(ready.filter((l) => l.leader === true)).toHaveLength(1);
    const elections = () => trio.flatMap((m) => m.lines.filter((l) => l.ev === 'elected'));
    expect(elections()).toHaveLength(1);
    const first = elections()[0]!;
    const l1 = trio.find((m) => m.name === first.member)!;
    expect(await currentHolder(db)).toMatchObject({ holder: l1.name });

    // The leader dies: another takes over.
    await l1.waitFor((l) => l.ev === 'stored', 10_000);
    const killedAt = Date.now();
    l1.signal('SIGKILL');
    const rest = trio.filter((m) => m !== l1);
    const next = await Promise.any(rest.map((m) => m.waitFor((l) => l.ev === 'elected', 10_000)));
    console.log(`three instances: a standby took over ${next.t - killedAt} ms after the leader was killed (lease 800 ms, renewal 200 ms)`);
    const l2 = rest.find((m) => m.name === next.member)!;
    const l3 = rest.find((m) => m !== l2)!;
    expect(next.token).toBeGreaterThan(first.token!);

    // The new leader hangs for three leases: the third takes over while it is stopped.
    await l2.waitFor((l) => l.ev === 'stored', 10_000);
    const stoppedAt = Date.now();
    l2.signal('SIGSTOP');
    const third = await l3.waitFor((l) => l.ev === 'elected', 10_000);
    console.log(`three instances: the third took over ${third.t - stoppedAt} ms after the leader was stopped`);
    expect(third.token).toBeGreaterThan(next.token!);
    await new Promise((ok) => setTimeout(ok, Math.max(0, stoppedAt + 3000 - Date.now())));
    const linesBefore = l2.lines.length;
    const resumedAt = await dbNow();
    l2.signal('SIGCONT');
    const deposed = await l2.waitFor((l) => l.ev === 'deposed', 10_000, linesBefore);
    expect(deposed.reason).toMatch(/lapsed|run out|holds the lease/);

    // The stream runs out; the third leader stores it to the end.
    await new Promise((ok) => setTimeout(ok, Math.max(0, clocks.at(-1)!.dueAt! + 1000 - Date.now())));
    await allBreached(clocks.length, 15_000);
    await expectStoredOnceAtTrueInstants(clocks);
    // The hung leader stored nothing once continued: the watchdog stepped it down before it asked,
    // and a write it had begun before the stop and sent after the wake (an instant's window) was
    // refused by the fence, with the old term's token.
    const afterWake = await db.query('SELECT count(*)::int AS n FROM stored_transitions WHERE by = $1 AND stored_at >= to_timestamp($2::float8 / 1000)', [l2.name, resumedAt]);
    expect(afterWake.rows[0]).toEqual({ n: 0 });
    const refused = l2.lines.slice(linesBefore).filter((l) => l.ev === 'fenced');
    for (const l of refused) expect(l.token).toBe(next.token);
    console.log(`three instances: the continued leader's writes refused by the fence after the watchdog: ${JSON.stringify(refused)}`);
    // Each of the three led and stored in its turn, and the gaps were caught up at their true instants.
    const by = await db.query<{ by: string; n: number }>('SELECT by, count(*)::int AS n FROM stored_transitions GROUP BY by ORDER BY by');
    expect(by.rows.map((r) => r.by).sort()).toEqual(['m1', 'm2', 'm3']);
    const late = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stored_transitions WHERE extract(epoch FROM stored_at) * 1000 - at > 500');
    expect(late.rows[0]!.n).toBeGreaterThan(0);
    // Terms only go up, one holder each.
    const tokens = elections()
      .sort((x, y) => x.t - y.t)
      .map((l) => l.token!);
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('transitions that fell due while no instance was up are stored by the next leader at their true instants; paused, ended and future clocks are left alone', async () => {
    const now = Date.now();
    const overdue = Array.from({ length: 40 }, (_, i) => ({ id: `o-${i}`, dueAt: now - 10_000 + i * 200, atRiskAt: i % 2 === 0 ? now - 12_000 + i * 200 : null }));
    const atRiskOnly = Array.from({ length: 10 }, (_, i) => ({ id: `r-${i}`, atRiskAt: now - 3000 + i * 100, dueAt: now + 600_000 }));
    const untouched: ClockSpec[] = [
      { id: 'paused', atRiskAt: now - 9000, dueAt: now - 5000, status: 'paused' },
      { id: 'ended', atRiskAt: now - 9000, dueAt: now - 5000, status: 'met', statusChangedAt: now - 7000 },
      { id: 'breached', atRiskAt: now - 9000, dueAt: now - 5000, status: 'breached', statusChangedAt: now - 4999 },
      { id: 'future', atRiskAt: now + 600_000, dueAt: now + 700_000 },
    ];
    await insertClocks([...overdue, ...atRiskOnly, ...untouched]);
    const m = start('late');
    await m.waitFor((l) => l.ev === 'log' && typeof l.m === 'string' && l.m.includes('fell due while no instance led'), 30_000);
    const rows = await db.query<{ contact_id: string; status: string; status_changed_at: string | null }>('SELECT contact_id, status, status_changed_at::text FROM clocks');
    const got = new Map(rows.rows.map((r) => [r.contact_id, r]));
    for (const c of overdue) expect(got.get(c.id)).toMatchObject({ status: 'breached', status_changed_at: String(c.dueAt + 1) });
    for (const c of atRiskOnly) expect(got.get(c.id)).toMatchObject({ status: 'at-risk', status_changed_at: String(c.atRiskAt) });
    expect(got.get('paused')).toMatchObject({ status: 'paused', status_changed_at: null });
    expect(got.get('ended')).toMatchObject({ status: 'met', status_changed_at: String(now - 7000) });
    expect(got.get('breached')).toMatchObject({ status: 'breached', status_changed_at: String(now - 4999) });
    expect(got.get('future')).toMatchObject({ status: 'running', status_changed_at: null });
    const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stored_transitions');
    expect(stored.rows[0]!.n).toBe(overdue.length + atRiskOnly.length);
  });

  it('the fence alone (watchdog off): a leader continued after its lease was taken tries to store, the database refuses, and it steps down', async () => {
    const clocks = stream('f', Date.now() + 1500, 300, 30);
    await insertClocks(clocks);
    const a = start('blind', { watchdog: false });
    await a.waitFor((l) => l.ev === 'elected', 30_000);
    const b = start('standby');
    await b.waitFor((l) => l.ev === 'ready', 30_000);
    await a.waitFor((l) => l.ev === 'stored', 10_000);
    const stoppedAt = Date.now();
    a.signal('SIGSTOP');
    await b.waitFor((l) => l.ev === 'elected', 10_000);
    await new Promise((ok) => setTimeout(ok, Math.max(0, stoppedAt + 2500 - Date.now())));
    const linesBefore = a.lines.length;
    const resumedAt = await dbNow();
    a.signal('SIGCONT');
    await a.waitFor((l) => l.ev === 'deposed', 10_000, linesBefore);
    // It believed it led and tried: the fence refused every attempt.
    await a.waitFor((l) => l.ev === 'fenced', 10_000, linesBefore);
    const afterWake = await db.query('SELECT count(*)::int AS n FROM stored_transitions WHERE by = $1 AND stored_at >= to_timestamp($2::float8 / 1000)', [a.name, resumedAt]);
    expect(afterWake.rows[0]).toEqual({ n: 0 });
    await new Promise((ok) => setTimeout(ok, Math.max(0, clocks.at(-1)!.dueAt! + 1000 - Date.now())));
    await allBreached(clocks.length, 15_000);
    await expectStoredOnceAtTrueInstants(clocks);
  });
});
