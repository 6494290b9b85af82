// Scheduled jobs exactly once (issue 14, item 5): a claimed slot row per run. On a real PostgreSQL
// (three pools, as three instances) and a real SQLite file (three connections), every slot claimed
// by many at once goes to exactly one. The Monday report on three instances: started together, the
// catch-up publishes once (one warning, one audit entry); the Monday 07:00 firing through node-cron
// on all three publishes once; a catch-up on a start while a run holds the slot leaves it to that
// run. Without the claim, the same three instances publish three times (what issue 14 measured).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { PgSlots, SqliteSlots, type SlotClaimer } from '../../server/cluster/slots.js';
import { ReportSchedule, SCHEDULE_ACTOR, WEEKLY_REPORT_JOB, type RunOutcome, type ScheduleDeps, type ScheduleLog } from '../../server/reports/schedule.js';
import type { IsoWeek, PublishedWeek, WeeklyReport } from '../../server/reports/types.js';
import { scheduleReports } from '../../server/reports/schedule.js';
import { AuditStore } from '../../server/store/audit.js';
import { asyncOf, AUDIT_STORE } from '../../server/store/ports.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CLUSTER_TEST_SQL } from '../../scripts/lib/cluster.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

let testPg: TestPg;
let admin: pg.Client;
const pools: pg.Pool[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kept-job-slots-'));
const connections: Connection[] = [];
const schedules: ReportSchedule[] = [];

beforeAll(async () => {
  testPg = await freshPgDatabase('kept_slots');
  admin = new pg.Client({ connectionString: testPg.url });
  await admin.connect();
  await admin.query(CLUSTER_TEST_SQL);
  // The weeks published, one row per publication (no unique key: a second publication would show).
  await admin.query('CREATE TABLE publications (week text NOT NULL, instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');
});

afterEach(async () => {
  await Promise.all(schedules.splice(0).map((s) => s.stop()));
  await admin.query('TRUNCATE job_slots, publications');
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await admin?.end();
  await testPg?.drop();
  for (const c of connections) c.close();
  rmSync(dir, { recursive: true, force: true });
});

const pool = () => {
  const p = new pg.Pool({ connectionString: testPg.url, max: 4 });
  // An idle connection terminated from outside (another test's pg_terminate_backend) is replaced, not thrown.
  p.on('error', () => {});
  pools.push(p);
  return p;
};

const sqliteFile = (name: string) => {
  const file = join(dir, `${name}.db`);
  const open = () => {
    const c = openDatabase(file);
    connections.push(c);
    return c;
  };
  return open;
};

/** Claims `slots` slots from every claimer at once; answers the winners per slot. */
async function race(claimers: Array<{ name: string; slots: SlotClaimer }>, slots: number): Promise<Map<string, string[]>> {
  const winners = new Map<string, string[]>();
  await Promise.all(
    Array.from({ length: slots }, (_, i) => new Date(Date.UTC(2026, 0, 5) + i * 7 * 86_400_000).toISOString()).flatMap((slot) =>
      claimers.map(async (c) => {
        if (await c.slots.claimSlot('weekly-report', slot, c.name)) winners.set(slot, [...(winners.get(slot) ?? []), c.name]);
        else if (!winners.has(slot)) winners.set(slot, []);
      }),
    ),
  );
  return winners;
}

describe('claimSlot', () => {
  it('PostgreSQL: three instances claiming 40 slots at once: each slot goes to exactly one, and the row names it', async () => {
    const claimers = ['a', 'b', 'c'].map((name) => ({ name, slots: new PgSlots(pool()) }));
    const winners = await race(claimers, 40);
    expect(winners.size).toBe(40);
    for (const [slot, names] of winners) {
      expect(names, slot).toHaveLength(1);
      expect(await claimers[0]!.slots.claimant('weekly-report', slot)).toMatchObject({ instance: names[0] });
    }
    // A late instance finds every slot taken.
    const late = new PgSlots(pool());
    expect(await late.claimSlot('weekly-report', [...winners.keys()][0]!, 'late')).toBe(false);
    // Another job's slot at the same instant is its own.
    expect(await late.claimSlot('retention', [...winners.keys()][0]!, 'late')).toBe(true);
  });

  it('SQLite: three connections to one file (migration 0012) claiming 40 slots: each slot goes to exactly one', async () => {
    const open = sqliteFile('claims');
    const claimers = ['a', 'b', 'c'].map((name) => ({ name, slots: new SqliteSlots(open().sqlite) }));
    const winners = await race(claimers, 40);
    expect(winners.size).toBe(40);
    for (const names of winners.values()) expect(names).toHaveLength(1);
    const row = connections.at(-1)!.sqlite.prepare('SELECT count(*) AS n FROM job_slots').get() as { n: number };
    expect(row.n).toBe(40);
  });
});

/** A report service for the job: publishing writes a row to PostgreSQL; `published` is what the instances share. */
class Publisher {
  readonly #done = new Map<IsoWeek, PublishedWeek>();
  /** Closed: a publication waits (a run still in progress). */
  gate: Promise<void> = Promise.resolve();

  constructor(readonly db: pg.Pool) {}

  for(instance: string): ScheduleDeps['reports'] {
    return {
      published: async (week) => this.#done.get(week) ?? null,
      publishWeek: async (week, actor, opts) => {
        await this.gate;
        await this.db.query('INSERT INTO publications (week, instance) VALUES ($1, $2)', [week, instance]);
        const p: PublishedWeek = { week, revision: 1, publishedAt: Date.now(), publishedBy: actor, reason: opts?.reason ?? null, report: {} as WeeklyReport };
        this.#done.set(week, p);
        return p;
      },
      csv: () => '',
    };
  }
}

const quiet: ScheduleLog = { info: () => {}, warn: () => {}, error: () => {} };

async function publications(): Promise<Array<{ week: string; instance: string }>> {
  return (await admin.query<{ week: string; instance: string }>('SELECT week, instance FROM publications ORDER BY at')).rows;
}

describe('the Monday report on three instances', () => {
  const clock = { now: Date.parse('2026-03-09T09:30:00Z') };

  function instances(publisher: Publisher, audit: AuditStore, claims: (name: string) => SlotClaimer | undefined, names = ['k1', 'k2', 'k3']): ReportSchedule[] {
    return names.map((name) => {
      const s = new ReportSchedule({ reports: publisher.for(name), audit: asyncOf(audit, AUDIT_STORE), log: quiet, now: () => clock.now, slots: claims(name), instance: name });
      schedules.push(s);
      return s;
    });
  }

  const catchUps = (audit: AuditStore) => audit.recent(50).filter((e) => e.action === 'report.catch-up');

  it('PostgreSQL claims: started together, the catch-up publishes the missed week once (one audit entry); the Monday 07:00 firing on all three publishes once; a start while a run holds the slot leaves it to that run', async () => {
    clock.now = Date.parse('2026-03-09T09:30:00Z');
    const audit = new AuditStore(sqliteFile('audit-pg')().sqlite);
    const publisher = new Publisher(pool());
    const trio = instances(publisher, audit, () => new PgSlots(pool()));
    const started = await Promise.all(trio.map((s) => s.start()));
    expect(started.filter((o) => o?.outcome === 'published')).toHaveLength(1);
    expect(started.filter((o) => o?.outcome === 'slot-taken')).toHaveLength(2);
    const winner = (started.find((o) => o?.outcome === 'published') as RunOutcome & { outcome: 'published' }).week;
    expect(winner).toBe('2026-W10');
    expect(started.filter((o): o is Extract<RunOutcome, { outcome: 'slot-taken' }> => o?.outcome === 'slot-taken').map((o) => o.slot)).toEqual(['2026-03-09T07:00:00.000Z', '2026-03-09T07:00:00.000Z']);
    expect(await publications()).toHaveLength(1);
    expect(catchUps(audit)).toHaveLength(1);

    // A week on: Monday 16 March 07:00, node-cron fires on all three.
    clock.now = Date.parse('2026-03-16T07:00:00Z');
    const fired = await Promise.all(trio.map((s) => s.runNow()));
    expect(fired.map((o) => o.outcome).sort()).toEqual(['published', 'slot-taken', 'slot-taken']);
    expect((await publications()).map((p) => p.week)).toEqual(['2026-W10', '2026-W11']);

    // Monday 23 March: one instance's run is still publishing when another instance starts; the
    // catch-up finds the week unpublished but the slot claimed, and leaves it to the run.
    clock.now = Date.parse('2026-03-23T07:00:00Z');
    let open!: () => void;
    publisher.gate = new Promise((ok) => (open = ok));
    const running = trio[0]!.runNow();
    await waitForClaim(new PgSlots(admin), '2026-03-23T07:00:00.000Z');
    const [late] = instances(publisher, audit, () => new PgSlots(pool()), ['k4']);
    await expect(late!.start()).resolves.toMatchObject({ week: '2026-W12', outcome: 'slot-taken', by: 'k1' });
    open();
    await expect(running).resolves.toMatchObject({ week: '2026-W12', outcome: 'published' });
    // Started again after the run: the week is published; nothing to catch up.
    const [after] = instances(publisher, audit, () => new PgSlots(pool()), ['k5']);
    await expect(after!.start()).resolves.toBeNull();
    expect((await publications()).map((p) => p.week)).toEqual(['2026-W10', '2026-W11', '2026-W12']);
    expect(catchUps(audit)).toHaveLength(1);
    expect(audit.recent(50).filter((e) => e.actor !== SCHEDULE_ACTOR)).toEqual([]);
  });

  it('SQLite claims (three connections to one file): the catch-up and the Monday run publish once', async () => {
    clock.now = Date.parse('2026-03-09T09:30:00Z');
    const open = sqliteFile('schedule');
    const audit = new AuditStore(open().sqlite);
    const publisher = new Publisher(pool());
    const trio = instances(publisher, audit, () => new SqliteSlots(open().sqlite, () => clock.now));
    const started = await Promise.all(trio.map((s) => s.start()));
    expect(started.map((o) => o?.outcome).sort()).toEqual(['published', 'slot-taken', 'slot-taken']);
    clock.now = Date.parse('2026-03-16T07:00:00Z');
    const fired = await Promise.all(trio.map((s) => s.runNow()));
    expect(fired.map((o) => o.outcome).sort()).toEqual(['published', 'slot-taken', 'slot-taken']);
    expect((await publications()).map((p) => p.week)).toEqual(['2026-W10', '2026-W11']);
    expect(catchUps(audit)).toHaveLength(1);
    const slots = open().sqlite.prepare('SELECT job, slot FROM job_slots ORDER BY slot').all();
    expect(slots).toEqual([
      { job: WEEKLY_REPORT_JOB, slot: '2026-03-09T07:00:00.000Z' },
      { job: WEEKLY_REPORT_JOB, slot: '2026-03-16T07:00:00.000Z' },
    ]);
  });

  it('without a claim (the control), the same three instances publish the missed week three times', async () => {
    clock.now = Date.parse('2026-03-09T09:30:00Z');
    const audit = new AuditStore(sqliteFile('audit-none')().sqlite);
    const trio = instances(new Publisher(pool()), audit, () => undefined);
    await Promise.all(trio.map((s) => s.start()));
    expect(await publications()).toHaveLength(3);
  });
});

describe('two real Kept processes’ apps on one SQLite file', () => {
  it('as main.ts wires it (SqliteSlots on the app’s connection): the catch-up on start publishes the missed week once, audited once', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'kept-two-apps-'));
    const now = () => Date.parse('2026-03-09T09:30:00Z');
    const apps: TestApp[] = [];
    const mine: ReportSchedule[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        apps.push(
          await startTestApp({}, { dir: shared, now, beforeReady: (app, service) => mine.push(scheduleReports(app, { audit: service.audit, now, slots: new SqliteSlots(service.connection!.sqlite, now), instance: `app-${i}` })) }),
        );
      }
      const outcomes = await Promise.all(mine.map((s) => s.start()));
      expect(outcomes.map((o) => o?.outcome).sort()).toEqual(['published', 'slot-taken']);
      const sqlite = apps[0]!.connection.sqlite;
      expect(sqlite.prepare("SELECT week, revision FROM published_reports").all()).toEqual([{ week: '2026-W10', revision: 1 }]);
      expect(sqlite.prepare("SELECT count(*) AS n FROM audit WHERE action = 'report.catch-up'").get()).toEqual({ n: 1 });
      expect(sqlite.prepare('SELECT job, slot FROM job_slots').all()).toEqual([{ job: WEEKLY_REPORT_JOB, slot: '2026-03-09T07:00:00.000Z' }]);
    } finally {
      for (const t of apps) await t.close();
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

async function waitForClaim(slots: PgSlots, slot: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await slots.claimant(WEEKLY_REPORT_JOB, slot)) !== null) return;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  throw new Error(`the slot ${slot} was never claimed`);
}
