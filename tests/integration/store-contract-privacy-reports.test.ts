// Personal data and the weekly report on both databases (issue 14 for issues 16 and 17): the same
// contacts in SQLite (the real create-contact command through the InlineRunner) and PostgreSQL
// (PgContactWrites with the same engine's clocks, the same ids, and the person keys create writes);
// then
// - every read of PrivacyReads, ReportReads and PublishedReads (server/store/ports.ts) gives the same
//   answer from both, for two weeks and both packs, and the weekly report itself built from
//   PostgreSQL's answers equals the one built from SQLite's;
// - the same commands (privacy-hold, anonymise-contacts, prune-audit, publish-report) through the
//   InlineRunner and PgPrivacyCommands give the same outputs, errors, rows and audit entries;
// - the PostgreSQL plans (EXPLAIN on ~3,700 contacts): no report statement scans a whole table, and the
//   report's clocks are never a range of clocks inside a scan of contacts; a person's keys are a seek
//   of person_keys' key;
// - two instances (two pools) at once: one person erased once (the other answers as a repeat), an
//   erasure waiting for a hold another instance is placing (then 409), one week published once (the
//   other 409), two regenerations numbered 2 and 3.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { yearOfContacts } from '../../scripts/bench/reads-db.js';
import { loadCalendars, type CommandContext } from '../../server/commands/context.js';
import { prepareCreateContact, type ContactInput } from '../../server/commands/create-contact.js';
import type { CommandName } from '../../server/commands/index.js';
import { evaluateStored } from '../../server/commands/recompute.js';
import { personKeys } from '../../server/privacy/keys.js';
import { HAZARD_STANDARDS } from '../../server/reports/hazards.js';
import type { IsoWeek } from '../../server/reports/types.js';
import { buildWeekly, packShape, type ReportSettings } from '../../server/reports/weekly.js';
import { isoWeekBounds } from '../../server/reports/week.js';
import { AuditStore } from '../../server/store/audit.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { ContactStore } from '../../server/store/contacts.js';
import { PgContactReads, PgContactWrites } from '../../server/store/pg/contacts.js';
import { PgPrivacyCommands } from '../../server/store/pg/privacy-commands.js';
import { insertPersonKeys, PG_PRIVACY_SQL, PgPrivacyReads } from '../../server/store/pg/privacy.js';
import { PgPublishedReportStore, PgReportStore, REPORT_STATEMENTS, bindNamed } from '../../server/store/pg/reports.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { asyncOf, PRIVACY_READS, PUBLISHED_READS, REPORT_READS, type PrivacyReads, type PublishedReads, type ReportReads } from '../../server/store/ports.js';
import { PrivacyStore } from '../../server/store/privacy.js';
import { PublishedReportStore, ReportStore } from '../../server/store/reports.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const DAY = 86_400_000;
/** Every write is made at, and every figure judged as of, this instant. */
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0); // a Wednesday
const PACK = 'livewest';
const FAMILIES = ['livewest', 'housing-ombudsman'] as const;
const WEEKS: IsoWeek[] = ['2026-W45', '2026-W46'];
const MAX_EVENTS = 200;

let dir: string;
let sqlite: Connection;
let runner: InlineRunner;
let testPg: TestPg;
let postgres: PgConnection;
let pool2: pg.Pool;
let one: PgPrivacyCommands;
let two: PgPrivacyCommands;
const ids: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-contract-privacy-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(NOW);
  runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: MAX_EVENTS });
  const engine = { calendars: loadCalendars(new CalendarStore(sqlite.sqlite)) } as CommandContext;
  testPg = await freshPgDatabase('kept_contract_privacy');
  postgres = await openPostgres(testPg.url, { max: 4 });
  pool2 = (await openPostgres(testPg.url, { max: 4 })).pool;
  await seedPgCalendars(postgres.pool, NOW);
  one = new PgPrivacyCommands(postgres.pool);
  two = new PgPrivacyCommands(pool2);

  // SQLite by create-contact; PostgreSQL by the row writes with the engine's clocks and create's keys, same ids.
  // Most under one pack, some under the other (whose complaint stages start late: clocks of contacts received before the week).
  const inputs = [
    ...[...yearOfContacts({ contacts: 2500, seed: 11, now: NOW })].map((input) => ({ input, packFamily: PACK })),
    ...[...yearOfContacts({ contacts: 1200, seed: 12, now: NOW })].map((input) => ({
      // The generator's pauses and extensions name the first pack's standards: left out here.
      input: { ...input, externalId: `ho-${input.externalId}`, events: input.events?.filter((e) => (e as { clock?: unknown }).clock === undefined) },
      packFamily: 'housing-ombudsman',
    })),
    ...stagedComplaints().map((input) => ({ input, packFamily: 'housing-ombudsman' })),
  ];
  for (let i = 0; i < inputs.length; i += 250) {
    const outs = await Promise.all(
      inputs.slice(i, i + 250).map(({ input, packFamily }) => runner.run('create-contact', prepareCreateContact(input, { now: NOW, packFamily, maxEventsPerContact: MAX_EVENTS, actor: 'contract' }))),
    );
    const client = await postgres.pool.connect();
    try {
      await client.query('BEGIN');
      for (const out of outs) {
        if (!out.created) throw new Error('a replay in fresh data');
        const { clocks, row } = evaluateStored(engine, out.row, out.events, NOW);
        await PgContactWrites.insertContact(client, row);
        for (const { id: _id, ...e } of out.events) await PgContactWrites.insertEvent(client, e);
        await PgContactWrites.insertClocks(client, row.id, clocks, NOW);
        await insertPersonKeys(client, row.id, personKeys(row.customer));
        ids.push(row.id);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }
  // create-contact's audit entries, copied in order (the same ids on both: the trail compared whole below).
  const created = sqlite.sqlite.prepare('SELECT at, actor, action, detail FROM audit ORDER BY id').all() as Array<{ at: number; actor: string; action: string; detail: string }>;
  await postgres.pool.query('INSERT INTO audit (at, actor, action, detail) SELECT a, b, c, d FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(a, b, c, d, n) ORDER BY n', [
    created.map((r) => r.at), created.map((r) => r.actor), created.map((r) => r.action), created.map((r) => r.detail),
  ]);
  // A safeguarding alert on one contact (a reason not to erase it), on both.
  sqlite.sqlite.prepare("INSERT INTO alerts (contact_id, kind, note, raised_at, raised_by) VALUES (?, 'safeguarding', 'lives alone', ?, 'contract')").run(ids[7], NOW);
  await postgres.pool.query("INSERT INTO alerts (contact_id, kind, note, raised_at, raised_by) VALUES ($1, 'safeguarding', 'lives alone', $2, 'contract')", [ids[7], NOW]);
  await postgres.pool.query('ANALYZE');
}, 300_000);

afterAll(async () => {
  await runner?.close();
  await pool2?.end();
  await postgres?.close();
  await testPg?.drop();
  sqlite?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/**
 * Complaints under the Ombudsman's pack received before the weeks, whose later stages start in them (the
 * report's late clocks): acknowledged, answered, escalated, acknowledged again, some answered again.
 */
function stagedComplaints(): ContactInput[] {
  const out: ContactInput[] = [];
  const w45 = isoWeekBounds(WEEKS[0]!).from;
  for (let i = 0; i < 12; i++) {
    const received = w45 - (10 + i) * DAY + 9 * 3_600_000;
    const at = (d: number) => new Date(received + d * DAY).toISOString();
    const events: Array<Record<string, unknown>> = [
      { type: 'acknowledged', stage: 1, reference: `HO-${i}`, owner: 'advisor-01', at: at(i % 4 === 0 ? 11 : 2) },
      { type: 'resolved', stage: 1, at: at(9) },
      { type: 'escalated', at: at(10 + (i % 7)) },
      { type: 'acknowledged', stage: 2, reference: `HO-${i}`, owner: 'advisor-02', at: at(12 + (i % 7)) },
    ];
    if (i % 3 === 0) events.push({ type: 'resolved', stage: 2, at: at(16 + (i % 5)) });
    out.push({ channel: 'webform', category: 'complaint', externalId: `staged-${i}`, receivedAt: new Date(received).toISOString(), customer: { name: `Staged Person${i}`, email: `staged${i}@example.com` }, events } as ContactInput);
  }
  return out;
}

const liteReports = (family: string) => {
  const shape = packShape(family);
  return new ReportStore(sqlite.sqlite, shape.extendable, shape.implied);
};
const reportsOf = (family: string): Record<'sqlite' | 'postgresql', ReportReads> => ({
  sqlite: asyncOf(liteReports(family), REPORT_READS),
  postgresql: new PgReportStore(postgres.pool, packShape(family).extendable),
});
const privacyOf = (): Record<'sqlite' | 'postgresql', PrivacyReads> => ({
  sqlite: asyncOf(new PrivacyStore(sqlite.sqlite), PRIVACY_READS),
  postgresql: new PgPrivacyReads(postgres.pool),
});
const publishedOf = (): Record<'sqlite' | 'postgresql', PublishedReads> => ({
  sqlite: asyncOf(new PublishedReportStore(sqlite.sqlite), PUBLISHED_READS),
  postgresql: new PgPublishedReportStore(postgres.pool),
});

/** An answer whose order the store does not promise (rows of a walk, a map, a set): sorted. */
function unordered(v: unknown): unknown {
  if (v instanceof Map) return unordered([...v.entries()]);
  if (v instanceof Set) return unordered([...v]);
  if (Array.isArray(v)) return v.map((x) => x).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return v;
}

const settings = (family: string): ReportSettings => ({ shape: packShape(family), calendars: [{ id: 'customer-services', division: 'england-and-wales' }] });

/**
 * The weekly report built on each database: on SQLite (counting the reads it makes) and on PostgreSQL
 * through its port (the builder is asynchronous: it asks either store directly).
 */
async function buildFromPg(family: string, week: IsoWeek): Promise<{ lite: unknown; fromPg: unknown; reads: number }> {
  const store = liteReports(family);
  let reads = 0;
  const counting = new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function' || !(REPORT_READS as readonly string[]).includes(String(key))) return v;
      return (...args: unknown[]) => {
        reads++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const lite = await buildWeekly(counting, week, settings(family), { asOf: NOW });
  const fromPg = await buildWeekly(reportsOf(family).postgresql, week, settings(family), { asOf: NOW });
  return { lite, fromPg, reads };
}

describe('the report reads on SQLite and PostgreSQL', () => {
  it('give the same answers for two weeks and both packs', async () => {
    let clocks = 0;
    let lateClocks = 0;
    let complaints = 0;
    for (const family of FAMILIES) {
      const shape = packShape(family);
      const s = reportsOf(family);
      for (const week of WEEKS) {
        const { from, to } = isoWeekBounds(week);
        const both = async <T>(read: (r: ReportReads) => Promise<T>, sort = true) => {
          const [a, b] = [await read(s.sqlite), await read(s.postgresql)];
          expect(sort ? unordered(b) : b).toEqual(sort ? unordered(a) : a);
          return a;
        };
        const rows = await both((r) => r.clockRows(from, to, shape.late), false);
        clocks += rows.length;
        lateClocks += rows.filter((r) => shape.late.includes(r[1])).length;
        await both((r) => r.counts(from, to, NOW, shape.phoneTargetMs, shape.late), false);
        const contacts = await both((r) => r.contactsOf(from, to, shape.order, shape.late));
        await both(async (r) => [...(await r.people(from, to, [...contacts, 'no-such-contact']))], false);
        await both((r) => r.handledCount(from, to));
        const quality = await both((r) => r.qualityEvents(from, to), false);
        for (const q of quality.slice(0, 20)) if (q[2] !== null) await both((r) => r.cameBack(q[0], q[2]!, q[1], q[4] - 30 * DAY, q[4] + 30 * DAY));
        complaints += (await both((r) => r.complaintContacts(from, to), false)).length;
        await both((r) => r.hazardClocks(from, to, HAZARD_STANDARDS), false);
        await both((r) => r.holidaysBetween('england-and-wales', '2026-01-01', '2026-12-31'), false);
        await both((r) => r.closuresBetween(from, to), false);
        await both((r) => r.teams());
        // The report itself, from PostgreSQL's answers.
        const built = await buildFromPg(family, week);
        expect(built.reads).toBeGreaterThan(5);
        expect(built.fromPg).toEqual(built.lite);
      }
    }
    expect(clocks).toBeGreaterThan(100);
    expect(lateClocks).toBeGreaterThan(0);
    expect(complaints).toBeGreaterThan(0);
  });

  it('walk the period on PostgreSQL as sets: never a range of clocks inside a scan of contacts', async () => {
    const { from, to } = isoWeekBounds(WEEKS[1]!);
    const shape = packShape('housing-ombudsman');
    const params = {
      from, to, asOf: NOW, target: 300_000, late: shape.late, extendable: shape.extendable, lo: from, standard: 'stage2-respond', ids: ids.slice(0, 20),
      id: ids[0]!, reference: 'T0100001', category: 'general', after: from - 30 * DAY, until: to,
    };
    for (const [name, sql] of Object.entries(REPORT_STATEMENTS)) {
      const used = Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`@${k}`)));
      const { text, values } = bindNamed(sql, used);
      const plan = (await postgres.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, values)).rows[0]!['QUERY PLAN'] as Array<{ Plan: PlanNode }>;
      const root = plan[0]!.Plan;
      const nodes = flatten(root);
      // Clocks, contacts and events are read through an index (never a whole table), and no join repeats a walk of clocks per contact.
      expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']), `${name}: ${JSON.stringify(root).slice(0, 2000)}`).toEqual([]);
      for (const n of nodes.filter((x) => x['Node Type'] === 'Nested Loop')) {
        const [outer, inner] = n.Plans ?? [];
        const outerOnContacts = flatten(outer!).some((x) => x['Relation Name'] === 'contacts');
        // A clock looked up by its key (contact_id, standard) is a seek; any other walk of clocks in the inner side is a range.
        const innerOnClocks = flatten(inner!).some((x) => x['Relation Name'] === 'clocks' && !/contact_id =/.test(x['Index Cond'] ?? ''));
        expect(outerOnContacts && innerOnClocks, `${name}: a range of clocks inside a scan of contacts`).toBe(false);
      }
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}
const flatten = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(flatten)];

describe('the privacy reads on SQLite and PostgreSQL', () => {
  it('give the same answers: a person by each key, a name by its beginning, holds, stages, the retention walk', async () => {
    const s = privacyOf();
    const both = async <T>(read: (r: PrivacyReads) => Promise<T>) => {
      const [a, b] = [await read(s.sqlite), await read(s.postgresql)];
      expect(b).toEqual(a);
      return a;
    };
    const rows = (await asyncOf(new ContactStore(sqlite.sqlite), ['byIds']).byIds(ids.slice(0, 60))).filter((c) => c.customer !== null);
    let found = 0;
    for (const c of rows.slice(0, 40)) {
      for (const k of personKeys(c.customer)) found += (await both((r) => r.search(k.kind, k.value))).length;
    }
    expect(found).toBeGreaterThan(40);
    for (const prefix of ['ann', 'ann e', 'z', 'sara sample', 'nobody']) await both((r) => r.search('name', prefix, true));
    expect((await both((r) => r.search('name', 'ann', true))).length).toBeGreaterThan(2);
    await both((r) => r.holdReasons(ids.slice(0, 30)));
    expect((await both((r) => r.holdReasons([ids[7]!]))).map((h) => h.kind)).toContain('open-safeguarding-alert');
    await both((r) => r.openHolds(ids.slice(0, 30)));
    await both((r) => r.holdsOf(ids.slice(0, 30)));
    for (const id of [ids[0]!, ids[100]!, 'no-such-contact']) await both((r) => r.privacyOf(id));
    // The retention walk, page by page from its cursor, at both stages.
    for (const stage of [0, 1]) {
      let after: { receivedAt: number; id: string } | null = null;
      let walked = 0;
      for (let page = 0; page < 4; page++) {
        const batch = await both((r) => r.retentionBatch(stage, NOW - 200 * DAY, after, 50));
        walked += batch.length;
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!;
      }
      if (stage === 0) expect(walked).toBeGreaterThan(100);
    }
    await both((r) => r.hasAuditBefore(NOW + 1));
    await both((r) => r.hasAuditBefore(0));
  });

  it('find a person by a seek of person_keys on PostgreSQL', async () => {
    for (const [sql, values] of [
      [PG_PRIVACY_SQL.searchExact, ['email', 'ann.example1@example.com', 500]],
      [PG_PRIVACY_SQL.searchPrefix, ['name', 'ann', 'ann\uffff', 500]],
    ] as const) {
      const plan = (await postgres.pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, [...values])).rows[0]!['QUERY PLAN'] as Array<{ Plan: PlanNode }>;
      const nodes = flatten(plan[0]!.Plan);
      expect(nodes.some((n) => n['Relation Name'] === 'person_keys' && n['Node Type'] === 'Seq Scan')).toBe(false);
      expect(nodes.some((n) => n['Index Name'] === 'person_keys_kind_value_contact_id_pk')).toBe(true);
    }
  });
});

/** A command's answer as compared: its output, or its error's status, code, message and details. */
type Answer = { ok: unknown } | { error: { status: unknown; code: unknown; message: string; extra: unknown } };
async function answer(p: Promise<unknown>): Promise<Answer> {
  try {
    return { ok: await p };
  } catch (e) {
    const k = e as { status?: unknown; code?: unknown; message?: string; extra?: unknown };
    return { error: { status: k.status, code: k.code, message: k.message ?? String(e), extra: k.extra } };
  }
}

/** The audit trail, whole, on both (create's entries were copied in order: the same ids). */
async function auditOf() {
  const lite = sqlite.sqlite.prepare('SELECT id, at, actor, action, detail FROM audit ORDER BY id').all();
  const pgRows = (await postgres.pool.query('SELECT id, at, actor, action, detail FROM audit ORDER BY id')).rows;
  return { sqlite: lite, postgresql: pgRows };
}

/** People (normalised names) nothing stops erasing, from the first contacts. */
async function eraseable(n: number, not: readonly string[] = []): Promise<string[]> {
  const s = new PrivacyStore(sqlite.sqlite);
  const out: string[] = [];
  for (const c of new ContactStore(sqlite.sqlite).byIds(ids.slice(0, 400))) {
    const name = personKeys(c.customer).find((k) => k.kind === 'name')?.value;
    if (name === undefined || out.includes(name) || not.includes(name)) continue;
    const found = s.search('name', name);
    if (s.holdReasons(found).length === 0 && found.every((id) => (s.privacyOf(id) ?? 0) === 0)) out.push(name);
    if (out.length === n) break;
  }
  return out;
}

describe('the privacy and report commands on SQLite and PostgreSQL', () => {
  it('give the same outputs, errors, rows and audit entries', async () => {
    const lite = new ContactStore(sqlite.sqlite);
    const s = privacyOf();
    // Two people by name: one held (refused, then released and erased), one erased outright.
    const named = async (name: string) => s.sqlite.search('name', name);
    const [heldName, freeName] = await eraseable(2);
    const held = await named(heldName!);
    const free = await named(freeName!);
    expect(held.length).toBeGreaterThan(0);
    expect(free.length).toBeGreaterThan(0);
    const report = JSON.stringify(await buildWeekly(liteReports(PACK), WEEKS[0]!, settings(PACK), { asOf: NOW }));
    const erase = (contactIds: string[], request: string) => ({
      now: NOW, contactIds, level: 2, mode: 'erasure', actor: 'dpo@example.org', erasure: { reason: 'subject request', approvedBy: 'lead@example.org', request, batch: 1, batches: 1 },
    });
    const retention = await s.sqlite.retentionBatch(0, NOW - 200 * DAY, null, 40);
    type Step = { name: CommandName; input: Record<string, unknown> };
    const steps: Step[] = [
      { name: 'privacy-hold', input: { now: NOW, action: 'place', contactIds: [held[0]!], reason: 'ombudsman case', actor: 'dpo@example.org' } },
      { name: 'privacy-hold', input: { now: NOW, action: 'place', contactIds: [ids[1]!, 'no-such-contact'], reason: 'claim', actor: 'dpo@example.org' } },
      { name: 'anonymise-contacts', input: erase(held, 'R1') },
      { name: 'anonymise-contacts', input: erase([ids[7]!], 'R2') },
      { name: 'privacy-hold', input: { now: NOW + 1, action: 'release', holdId: 1, actor: 'dpo@example.org' } },
      { name: 'privacy-hold', input: { now: NOW + 2, action: 'release', holdId: 1, actor: 'dpo@example.org' } },
      { name: 'privacy-hold', input: { now: NOW + 2, action: 'release', holdId: 99, actor: 'dpo@example.org' } },
      { name: 'anonymise-contacts', input: erase(free, 'R3') },
      { name: 'anonymise-contacts', input: erase([...free, free[0]!], 'R3-again') },
      { name: 'privacy-hold', input: { now: NOW + 3, action: 'place', contactIds: [retention[1]!.id], reason: 'claim', actor: 'dpo@example.org' } },
      { name: 'anonymise-contacts', input: { now: NOW, contactIds: [...retention.map((r) => r.id), ids[ids.length - 1]!, 'no-such-contact'], level: 1, mode: 'retention', actor: 'retention' } },
      { name: 'anonymise-contacts', input: { now: NOW, contactIds: retention.slice(0, 10).map((r) => r.id), level: 2, mode: 'retention', actor: 'retention' } },
      { name: 'publish-report', input: { now: NOW, week: WEEKS[0], actor: 'lead@example.org', mode: 'regenerate', reason: null, report } },
      { name: 'publish-report', input: { now: NOW, week: WEEKS[0], actor: 'lead@example.org', mode: 'publish', reason: null, report } },
      { name: 'publish-report', input: { now: NOW + 5, week: WEEKS[0], actor: 'lead@example.org', mode: 'publish', reason: null, report } },
      { name: 'publish-report', input: { now: NOW + 9, week: WEEKS[0], actor: 'lead@example.org', mode: 'regenerate', reason: 'after the erasures', report: JSON.stringify(await buildWeekly(liteReports(PACK), WEEKS[0]!, settings(PACK), { asOf: NOW + 9 })) } },
      { name: 'prune-audit', input: { before: NOW + 1, limit: 2 } },
      { name: 'prune-audit', input: { before: 0, limit: 10 } },
    ];
    const run = (name: CommandName, input: Record<string, unknown>): Promise<unknown> => {
      switch (name) {
        case 'anonymise-contacts': return one.anonymiseContacts(input as never);
        case 'privacy-hold': return one.privacyHold(input as never);
        case 'prune-audit': return one.pruneAudit(input as never);
        case 'publish-report': return one.publishReport(input as never);
        default: throw new Error(`no PostgreSQL form of ${name} here`);
      }
    };
    const answers: Answer[] = [];
    for (const st of steps) {
      const a = await answer(runner.run(st.name, st.input as never) as Promise<unknown>);
      const p = await answer(run(st.name, st.input));
      answers.push(p);
      expect(p, `${st.name} ${JSON.stringify(st.input).slice(0, 160)}`).toEqual(a);
    }
    // The steps did what they are named for.
    const ok = (i: number) => (answers[i] as { ok: Record<string, unknown> }).ok;
    const err = (i: number) => (answers[i] as { error: { status: number; code: string } }).error;
    expect(ok(0)).toEqual({ holdIds: [1], released: false });
    expect(err(1).status).toBe(404);
    expect(err(2)).toMatchObject({ status: 409, code: 'legal-hold' });
    expect(err(3)).toMatchObject({ status: 409, code: 'legal-hold' });
    expect(ok(4)).toEqual({ holdIds: [1], released: true });
    expect(ok(5)).toEqual({ holdIds: [1], released: false });
    expect(err(6).status).toBe(404);
    expect(ok(7)).toEqual({ changed: free.length, already: 0, skipped: 0 });
    expect(ok(8)).toEqual({ changed: 0, already: free.length + 1, skipped: 0 });
    expect((ok(10) as { skipped: number; changed: number }).skipped).toBeGreaterThanOrEqual(1);
    expect((ok(10) as { changed: number }).changed).toBeGreaterThan(10);
    expect((ok(11) as { changed: number }).changed).toBeGreaterThan(0);
    expect(err(12).status).toBe(404);
    expect(ok(13)).toMatchObject({ revision: 1 });
    expect(err(14).status).toBe(409);
    expect(ok(15)).toMatchObject({ revision: 2 });
    expect(ok(16)).toEqual({ deleted: 2 });

    // The rows afterwards: every touched contact, its events and clocks, the people found, the holds, the audit.
    const pgContacts = new PgContactReads(postgres.pool);
    const touched = [...new Set([...held, ...free, ...retention.map((r) => r.id), ids[7]!, ids[1]!])];
    expect(await pgContacts.byIds(touched)).toEqual(lite.byIds(touched));
    expect(await pgContacts.eventsOf(touched)).toEqual(lite.eventsOf(touched));
    expect(await pgContacts.clocksOf(touched)).toEqual(lite.clocksOf(touched));
    for (const id of touched) expect(await s.postgresql.privacyOf(id)).toBe(await s.sqlite.privacyOf(id));
    expect(await s.postgresql.search('name', freeName!)).toEqual([]);
    expect(await s.postgresql.search('name', heldName!)).toEqual(await s.sqlite.search('name', heldName!));
    expect(await s.postgresql.holdsOf(touched)).toEqual(await s.sqlite.holdsOf(touched));
    expect((await postgres.pool.query('SELECT id, note, action FROM alerts ORDER BY id')).rows).toEqual(sqlite.sqlite.prepare('SELECT id, note, action FROM alerts ORDER BY id').all());
    const audit = await auditOf();
    expect(audit.postgresql).toEqual(audit.sqlite);
    expect((audit.sqlite as Array<{ action: string }>).map((e) => e.action)).toContain('privacy.erase');
    const published = publishedOf();
    for (const week of [...WEEKS, '2025-W01']) expect(await published.postgresql.published(week)).toEqual(await published.sqlite.published(week));
    expect(await published.postgresql.lastPublishedWeek()).toBe(WEEKS[0]);
    expect(await published.sqlite.lastPublishedWeek()).toBe(WEEKS[0]);
  });
});

describe('two instances at once on PostgreSQL', () => {
  it('erase one person once (the other answers as a repeat), wait for a hold being placed, and publish one week once (the other 409)', async () => {
    const s = new PgPrivacyReads(postgres.pool);
    // Two people (on SQLite both still eraseable: these steps run on PostgreSQL only).
    const [name, other] = await eraseable(2);
    const person = await s.search('name', name!);
    expect(person.length).toBeGreaterThan(0);
    const input = { now: NOW, contactIds: person, level: 2 as const, mode: 'erasure' as const, actor: 'dpo@example.org', erasure: { reason: 'subject request', approvedBy: 'lead@example.org', request: 'R9', batch: 1, batches: 1 } };
    const outs = await Promise.all([one.anonymiseContacts(input), two.anonymiseContacts(input)]);
    expect(outs.map((o) => o.changed).sort()).toEqual([0, person.length]);
    expect(outs.map((o) => o.already).sort()).toEqual([0, person.length]);
    expect(await s.search('name', name!)).toEqual([]);
    // The planner's samples were taken again: the erased name is not among person_keys' common values.
    const samples = await postgres.pool.query<{ vals: string | null }>("SELECT most_common_vals::text AS vals FROM pg_stats WHERE tablename = 'person_keys' AND attname = 'value'");
    expect(samples.rows).toHaveLength(1);
    expect(samples.rows[0]!.vals ?? '').not.toContain(name!);
    const erased = (await postgres.pool.query<{ n: number }>("SELECT count(*) AS n FROM audit WHERE action = 'privacy.erase' AND detail::json ->> 'request' = 'R9'")).rows[0]!.n;
    expect(erased).toBe(2);

    // A hold placed by another instance while an erasure starts: the erasure waits for it, then refuses.
    const target = await s.search('name', other!);
    const holding = await pool2.connect();
    try {
      await holding.query('BEGIN');
      await holding.query("INSERT INTO privacy_holds (contact_id, reason, placed_by, placed_at) VALUES ($1, 'claim', 'dpo@example.org', $2)", [target[0], NOW]);
      let settled = false;
      const erasing = answer(one.anonymiseContacts({ ...input, contactIds: target, erasure: { ...input.erasure, request: 'R10' } })).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 400));
      expect(settled).toBe(false);
      await holding.query('COMMIT');
      expect(await erasing).toMatchObject({ error: { status: 409, code: 'legal-hold' } });
    } finally {
      holding.release();
    }
    expect(await s.search('name', other!)).toEqual(target);

    const report = JSON.stringify(await buildWeekly(liteReports(PACK), WEEKS[1]!, settings(PACK), { asOf: NOW }));
    const publish = { now: NOW, week: WEEKS[1]!, actor: 'lead@example.org', mode: 'publish' as const, reason: null, report };
    const both = await Promise.all([answer(one.publishReport(publish)), answer(two.publishReport(publish))]);
    expect(both.filter((a) => 'ok' in a)).toHaveLength(1);
    expect(both.filter((a) => 'error' in a).map((a) => (a as { error: { status: number } }).error.status)).toEqual([409]);
    const regenerate = { ...publish, mode: 'regenerate' as const, reason: 'again' };
    const again = await Promise.all([one.publishReport(regenerate), two.publishReport(regenerate)]);
    expect(again.map((a) => a.revision).sort()).toEqual([2, 3]);
  });
});

describe('bindNamed', () => {
  it("turns @names into PostgreSQL's $n in order of first use, one parameter per name, and refuses a name without a value", () => {
    expect(bindNamed('SELECT 1 WHERE a >= @from AND b < @to AND c >= @from', { from: 5, to: 9, unused: 1 })).toEqual({ text: 'SELECT 1 WHERE a >= $1 AND b < $2 AND c >= $1', values: [5, 9] });
    expect(() => bindNamed('SELECT @missing', {})).toThrow('no value for @missing');
  });
});
