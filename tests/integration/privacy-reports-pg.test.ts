// Personal data, the weekly report, the retention schedule and the team's load on PostgreSQL (issue 14):
// the services themselves (PrivacyService, ReportService, RetentionJob, TeamLoad), each over an
// IngestService built on pgStores and the PostgreSQL writer, against the same services on a SQLite
// file fed the same contacts. Every answer is compared whole, with contact ids (made afresh by each
// database's writes) written as the contact's external id.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { yearOfContacts } from '../../scripts/bench/reads-db.js';
import type { KeptError } from '../../server/errors.js';
import { IngestService, type ContactInput } from '../../server/ingest/service.js';
import { TeamLoad } from '../../server/people/team-load.js';
import { RetentionJob, type RetentionSchedule } from '../../server/privacy/retention.js';
import { PrivacyService } from '../../server/privacy/service.js';
import { ReportService } from '../../server/reports/service.js';
import { isoWeekOf, shiftIsoWeek } from '../../server/reports/week.js';
import { PgRunner } from '../../server/store/pg/runner.js';
import { loadPgCalendars, seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { pgStores } from '../../server/store/stores.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const NOW = Date.UTC(2026, 2, 11, 12, 0, 0); // Wednesday 11 March 2026, 12:00 London
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const ID = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/g;

const ann = { name: 'Ann Quenby', email: 'ann.example@mail.example.org', phone: '01632 960001', reference: 'T-1001' };
const bob = { name: 'Bob Quenby', email: 'bob@mail.example.org', phone: '+44 7700 900456', reference: 'T-1002' };

/** The year of contacts the benchmarks use (every channel and outcome), then two people's own. */
function inputs(): ContactInput[] {
  const year = [...yearOfContacts({ contacts: 700, seed: 11, now: NOW })];
  const at = NOW - 3 * DAY;
  return [
    ...year,
    { channel: 'email', externalId: 'ann-mail', receivedAt: iso(at), customer: ann, subject: 'Damp', summary: 'Ann wrote about damp', events: [{ type: 'replied', at: iso(at + HOUR) }] },
    { channel: 'phone', externalId: 'ann-call', receivedAt: iso(at + DAY), customer: { name: ann.name, phone: '+441632960001' }, events: [{ type: 'answered', at: iso(at + DAY + MINUTE) }] },
    { channel: 'email', externalId: 'bob-mail', receivedAt: iso(at + HOUR), customer: bob, subject: 'Rent', summary: 'Bob asked about rent', events: [{ type: 'replied', at: iso(at + 2 * HOUR) }] },
    { channel: 'webform', externalId: 'bob-complaint', category: 'complaint', receivedAt: iso(at + 2 * HOUR), customer: { ...bob, safeguarding: true, vulnerability: 'lives alone' }, subject: 'Complaint', summary: 'Bob complained' },
  ];
}

interface Side {
  name: 'sqlite' | 'postgres';
  service: IngestService;
  privacy: PrivacyService;
  reports: ReportService;
  /** Contact id → external id, for comparing answers across the two databases. */
  ext: Map<string, string>;
  /** External id → contact id. */
  id: Map<string, string>;
}

/** An answer with its contact ids written as external ids (and the request id of an erasure dropped). */
function comparable(side: Side, v: unknown): unknown {
  return JSON.parse(JSON.stringify(v).replace(ID, (id) => `ext:${side.ext.get(id) ?? 'unknown'}`));
}

let dir: string;
let sqlite: Connection;
let fresh: TestPg;
let postgres: PgConnection;
const sides: Side[] = [];

async function side(name: Side['name'], service: IngestService): Promise<Side> {
  const all = inputs();
  for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map((c) => service.createContact(c)));
  const s: Side = { name, service, privacy: new PrivacyService(service), reports: new ReportService(service, { homes: 2000 }), ext: new Map(), id: new Map() };
  const rows = await service.contacts.list({ limit: 5000, now: NOW });
  for (const r of rows) {
    s.ext.set(r.id, r.externalId!);
    s.id.set(r.externalId!, r.id);
  }
  expect(rows).toHaveLength(all.length);
  return s;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-privacy-pg-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  fresh = await freshPgDatabase('kept_privacy_pg');
  postgres = await openPostgres(fresh.url, { max: 6 });
  await seedPgCalendars(postgres.pool, NOW);
  const { calendars } = await loadPgCalendars(postgres.pool);
  const writer = await PgRunner.open(postgres.pool, { maxEventsPerContact: 1000 });
  sides.push(await side('sqlite', new IngestService(sqlite, { now: () => NOW })));
  sides.push(await side('postgres', new IngestService({ stores: pgStores(postgres.pool, 'test'), writer, calendars }, { now: () => NOW })));
  expect(sides[1]!.service.connection).toBeNull();
}, 180_000);

afterAll(async () => {
  for (const s of sides) await s.service.close();
  sqlite?.close();
  await postgres?.close();
  await fresh?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The same question of both sides: PostgreSQL's answer equals SQLite's (ids as external ids); SQLite's is answered. */
async function both<T>(ask: (s: Side) => Promise<T>): Promise<[T, T]> {
  const [lite, pg] = sides as [Side, Side];
  const a = await ask(lite);
  const b = await ask(pg);
  expect(comparable(pg, b)).toEqual(comparable(lite, a));
  return [a, b];
}

describe('the services on PostgreSQL answer as on SQLite', () => {
  it('the weekly report, its figures’ contacts, the trend and the regulator’s view', async () => {
    const week = shiftIsoWeek(isoWeekOf(NOW), -1);
    const [report] = await both((s) => s.reports.build(week));
    expect(report.standards.reduce((n, r) => n + r.clocks, 0)).toBeGreaterThan(0);
    expect(report.change).not.toBeNull();
    const [trend] = await both((s) => s.reports.trend(week, 4));
    expect(trend.weeks).toHaveLength(4);
    const row = report.standards.find((r) => r.clocks > 0)!;
    const [listed] = await both((s) => s.reports.contacts(week, { standard: row.standard, channel: row.channel }, { limit: 500 }));
    expect(listed.total).toBe(row.clocks);
    // A page's cursor holds the last contact's id (each database's own): compared as there or not.
    const [paged] = await both(async (s) => {
      const { next, ...page } = await s.reports.contacts(week, { phone: 'offered' }, { limit: 2 });
      return { ...page, more: next !== null };
    });
    expect(paged.more).toBe(true);
    const [view] = await both((s) => s.reports.regulator('2025-04-01', '2026-03-31'));
    expect(view.from).toBe('2025-04-01');
    // Published on each (through each one's writer), then answered as published.
    await both(async (s) => (await s.reports.publishWeek(week, 'lead@staff.example.org')).report.publication.state);
    const [published] = await both((s) => s.reports.weekly(week));
    expect(published.publication).toMatchObject({ state: 'published', revision: 1 });
    expect(await sides[1]!.reports.lastPublishedWeek()).toBe(week);
  });

  it("the team's load read from the store", async () => {
    const load = async (s: Side) => (await new TeamLoad(() => s.service.queue.openClockOwners()).load(NOW)).sort((a, b) => String(a.assignee).localeCompare(String(b.assignee)));
    const [l] = await both(load);
    expect(l.reduce((n, x) => n + x.open, 0)).toBeGreaterThan(0);
  });

  it('a person found by email, phone in any format and a name’s beginning; exported; a hold refuses erasure until released', async () => {
    const [byEmail] = await both((s) => s.privacy.search({ kind: 'email', value: 'Ann.Example@mail.example.org' }));
    expect(byEmail.map((c) => sides[0]!.ext.get(c.id))).toEqual(['ann-mail']);
    const [byPhone] = await both((s) => s.privacy.search({ kind: 'phone', value: '01632960001' }));
    expect(byPhone.map((c) => sides[0]!.ext.get(c.id))).toEqual(['ann-call', 'ann-mail']);
    const [byName] = await both((s) => s.privacy.search({ kind: 'name', value: 'quen' }));
    expect(byName.map((c) => sides[0]!.ext.get(c.id)).sort()).toEqual(['ann-call', 'ann-mail', 'bob-complaint', 'bob-mail']);
    // Bob's complaint is open and flagged: what would stop its erasure is listed.
    expect(byName.find((c) => sides[0]!.ext.get(c.id) === 'bob-complaint')!.erasureBlockedBy.map((b) => b.kind).sort()).toEqual(['open-complaint', 'open-safeguarding-alert']);

    const [exported] = await both((s) => s.privacy.exportContacts([s.id.get('bob-mail')!, s.id.get('bob-complaint')!], 'admin@staff.example.org'));
    expect(JSON.stringify(exported)).toContain('lives alone');

    const ids = (s: Side) => [s.id.get('ann-mail')!, s.id.get('ann-call')!];
    const [{ holdIds }] = await both((s) => s.privacy.placeHold([s.id.get('ann-mail')!], 'Housing Ombudsman case HO-1', 'admin@staff.example.org'));
    expect(holdIds).toHaveLength(1);
    const refused = await both(async (s) => {
      try {
        await s.privacy.erase({ contactIds: ids(s), reason: 'the tenant asked', approvedBy: 'dpo@staff.example.org', actor: 'admin@staff.example.org' });
        return null;
      } catch (e) {
        return { status: (e as KeptError).status, code: (e as KeptError).code, message: (e as Error).message, holds: (e as KeptError).extra };
      }
    });
    expect(refused[0]).toMatchObject({ status: 409, code: 'legal-hold', holds: { holds: [{ kind: 'hold', detail: 'Housing Ombudsman case HO-1' }] } });
    await both(async (s) => {
      const [held] = (await s.privacy.describe([s.id.get('ann-mail')!]))[0]!.holds;
      return s.privacy.releaseHold(held!.id, 'admin@staff.example.org');
    });
    const [erased] = await both(async (s) => {
      const { request: _request, ...out } = await s.privacy.erase({ contactIds: ids(s), reason: 'the tenant asked', approvedBy: 'dpo@staff.example.org', actor: 'admin@staff.example.org' });
      return out;
    });
    expect(erased).toEqual({ anonymised: 2, alreadyAnonymised: 0 });
    await both((s) => s.privacy.search({ kind: 'email', value: ann.email }));
    const [after] = await both((s) => s.privacy.describe(ids(s)));
    expect(after.map((c) => [c.privacy, c.name, c.email])).toEqual([
      [2, null, null],
      [2, null, null],
    ]);
  });

  it('the retention schedule: the same contacts anonymised and messages removed, each run audited', async () => {
    const schedule: RetentionSchedule = { contactMonths: 9, messageMonths: 6, auditMonths: 84, cron: null, batch: 40 };
    const quiet = { info: () => {}, error: () => {} };
    const [run] = await both(async (s) => {
      const { startedAt: _s, finishedAt: _f, ...r } = await new RetentionJob(s.service, schedule, quiet).run('request');
      return r;
    });
    expect(run.error).toBeNull();
    expect(run.anonymised).toBeGreaterThan(0);
    expect(run.messagesRemoved).toBeGreaterThan(0);
    await both(async (s) => (await s.service.audit.page({ action: 'privacy.retention' })).items.map((a) => ({ actor: a.actor, detail: { ...(a.detail as object), startedAt: null, finishedAt: null } })));
    // A second run finds nothing more to do, on both.
    const [again] = await both(async (s) => {
      const { startedAt: _s, finishedAt: _f, ...r } = await new RetentionJob(s.service, schedule, quiet).run('request');
      return r;
    });
    expect(again).toMatchObject({ anonymised: 0, messagesRemoved: 0, auditDeleted: 0 });
  });
});
