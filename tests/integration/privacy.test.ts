// Tenants' personal data (issue 17) on a real SQLite file, real writer thread and real HTTP: the
// retention schedule either side of each limit (the week's figures identical before and after),
// find-by-phone across formats, the subject access export of a person on every channel, erasure of
// one person beside another of the same surname (refused while a legal hold stands), and a grep of
// the database file afterwards for the erased person's name, email and phone.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { compliance, phoneStats, type CallOutcome } from '../../server/domain/metrics.js';
import type { ContactInput } from '../../server/ingest/service.js';
import { normalisePhone, personKeys } from '../../server/privacy/keys.js';
import { monthsBefore, RETENTION_JOB, RetentionJob } from '../../server/privacy/retention.js';
import type { Sqlite } from '../../db/connection.js';
import { recordSecret, startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** Every clock of contacts received in [from, to), with the facts the week's report is computed from. */
function clockFacts(sqlite: Sqlite, from: number, to: number) {
  return sqlite
    .prepare(
      `SELECT c.id, c.channel, c.route, c.category, c.received_at, c.callback, k.standard, k.status, k.open, k.started_at, k.due_at, k.at_risk_at,
              k.fulfilled_at, k.ended_at, k.target_ms, k.counted_ms, k.standard_version, k.calendar
       FROM contacts c JOIN clocks k ON k.contact_id = c.id WHERE c.received_at >= ? AND c.received_at < ? ORDER BY c.id, k.standard`,
    )
    .all(from, to) as Array<Record<string, number | string | null>>;
}

/** The week's compliance figures (STANDARDS §6): per standard, and the phone service level, as of `now`. */
function weekFigures(sqlite: Sqlite, from: number, to: number, now: number) {
  const rows = clockFacts(sqlite, from, to);
  const byStandard: Record<string, ReturnType<typeof compliance>> = {};
  for (const s of new Set(rows.map((r) => r.standard as string))) byStandard[s] = compliance(rows.filter((r) => r.standard === s).map((r) => r.status as string));
  const calls: CallOutcome[] = rows
    .filter((r) => r.standard === 'phone-answer')
    .map((r) => ({ receivedAt: r.received_at as number, status: r.status as string, answeredAt: r.fulfilled_at as number | null, endedAt: r.ended_at as number | null, callback: r.callback === 1 }));
  return { byStandard, phone: phoneStats(calls, now), channels: rows.map((r) => `${r.channel}/${r.route}/${r.category}`).sort() };
}

/** A closed contact of each kind, received at `at`: the outcomes a week's report counts. */
function closedContacts(at: number, tag: string, customer: (i: number) => ContactInput['customer']): ContactInput[] {
  const c = (i: number, x: Omit<ContactInput, 'receivedAt' | 'customer' | 'subject' | 'summary'> & { offset?: number }): ContactInput => {
    const { offset = 0, ...rest } = x;
    return { ...rest, receivedAt: iso(at + offset), customer: customer(i), subject: `Subject ${tag} ${i}`, summary: `What tenant ${tag} ${i} wrote` };
  };
  return [
    c(0, { channel: 'phone', externalId: `${tag}-call-met`, events: [{ type: 'answered', at: iso(at + 2 * MINUTE) }] }),
    c(1, { channel: 'phone', externalId: `${tag}-call-missed`, offset: HOUR, events: [{ type: 'answered', at: iso(at + HOUR + 9 * MINUTE) }] }),
    c(2, { channel: 'phone', externalId: `${tag}-call-abandoned`, offset: 2 * HOUR, events: [{ type: 'abandoned', at: iso(at + 2 * HOUR + 40_000) }] }),
    c(3, { channel: 'email', externalId: `${tag}-mail-met`, events: [{ type: 'replied', at: iso(at + 2 * HOUR) }] }),
    c(4, { channel: 'email', externalId: `${tag}-mail-missed`, events: [{ type: 'replied', at: iso(at + 6 * DAY) }] }),
    c(5, {
      channel: 'webform',
      category: 'complaint',
      externalId: `${tag}-complaint`,
      events: [
        { type: 'acknowledged', at: iso(at + 3 * HOUR), reference: `CMP-${tag}`, owner: 'case.officer@staff.example.org' },
        { type: 'paused', clock: 'complaint-resolve', reason: `waiting for tenant ${tag} 5 to send photos`, at: iso(at + DAY) },
        { type: 'resumed', clock: 'complaint-resolve', at: iso(at + 3 * DAY) },
        { type: 'resolved', at: iso(at + 8 * DAY) },
      ],
    }),
    c(6, { channel: 'voicemail', externalId: `${tag}-voicemail`, events: [{ type: 'replied', at: iso(at + 5 * HOUR) }] }),
  ];
}

describe('retention schedule', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'kept-retention-'));
  const file = join(dir, 'kept.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('anonymises what is past each limit, nothing younger, and the week\'s figures are identical before and after', async () => {
    t = await startTestApp({ KEPT_DB: file, KEPT_RETENTION_CRON: 'off' });
    const now = t.service.now();
    const sqlite = t.connection.sqlite;
    const anonymiseBefore = monthsBefore(now, 24);
    const messagesBefore = monthsBefore(now, 12);
    const person = (tag: string) => (i: number) => ({ name: `Tenant ${tag}${i} Example`, email: `tenant.${tag}${i}@example.org`, phone: `07700 900${String(100 + i)}`, address: `${i} Example Road`, reference: `TEN-${tag}-${i}`, accessibilityNeeds: 'Large print', vulnerability: `note about ${tag}${i}` });
    // The week: a Monday a few days more than 24 months ago, everything closed within it (+8 days).
    const weekStart = anonymiseBefore - 40 * DAY;
    const week = closedContacts(weekStart, 'w', person('w'));
    // Either side of each limit: closed two days before and after it (received a day before closing).
    const old = closedContacts(anonymiseBefore - 9 * DAY - 2 * DAY, 'a', person('a')); // all closed ≥ 2 days before the 24-month limit
    const youngerThan24 = [{ channel: 'email', externalId: 'b', receivedAt: iso(anonymiseBefore + DAY), customer: person('b')(0), subject: 'Subject b', summary: 'Words of b', events: [{ type: 'replied', at: iso(anonymiseBefore + 2 * DAY) }] }] as ContactInput[];
    const olderThan12 = [{ channel: 'email', externalId: 'c', receivedAt: iso(messagesBefore - 3 * DAY), customer: person('c')(0), subject: 'Subject c', summary: 'Words of c', events: [{ type: 'replied', at: iso(messagesBefore - 2 * DAY) }] }] as ContactInput[];
    const youngerThan12 = [{ channel: 'email', externalId: 'd', receivedAt: iso(messagesBefore + DAY), customer: person('d')(0), subject: 'Subject d', summary: 'Words of d', events: [{ type: 'replied', at: iso(messagesBefore + 2 * DAY) }] }] as ContactInput[];
    // Received long ago but closed recently (a late reply), still open, and held: none is touched.
    const lateClose = [{ channel: 'email', externalId: 'e', receivedAt: iso(anonymiseBefore - 200 * DAY), customer: person('e')(0), subject: 'Subject e', summary: 'Words of e', events: [{ type: 'replied', at: iso(messagesBefore + 5 * DAY) }] }] as ContactInput[];
    const stillOpen = [{ channel: 'email', externalId: 'f', receivedAt: iso(anonymiseBefore - 200 * DAY), customer: person('f')(0), subject: 'Subject f', summary: 'Words of f' }] as ContactInput[];
    const held = [{ channel: 'email', externalId: 'g', receivedAt: iso(anonymiseBefore - 200 * DAY), customer: person('g')(0), subject: 'Subject g', summary: 'Words of g', events: [{ type: 'replied', at: iso(anonymiseBefore - 199 * DAY) }] }] as ContactInput[];
    const ids: Record<string, string> = {};
    for (const [k, list] of Object.entries({ week, old, youngerThan24, olderThan12, youngerThan12, lateClose, stillOpen, held })) {
      for (const [i, c] of list.entries()) ids[`${k}${i}`] = (await t.service.createContact(c)).contact.id;
    }
    const admin = await t.signIn('admin');
    const hold = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/holds', headers: admin.headers, payload: { contactIds: [ids.held0], reason: 'Housing Ombudsman case HO-0001' } });
    expect(hold.statusCode).toBe(201);
    // Audit entries either side of the 7-year limit.
    const auditBefore = monthsBefore(now, 84);
    await t.service.audit.record(auditBefore - DAY, 'someone', 'test.old', {});
    await t.service.audit.record(auditBefore + DAY, 'someone', 'test.kept', {});

    const weekEnd = weekStart + 7 * DAY;
    const figuresBefore = weekFigures(sqlite, weekStart, weekEnd, now);
    const factsBefore = clockFacts(sqlite, 0, now);
    expect(figuresBefore.byStandard['phone-answer']).toMatchObject({ met: 1, missed: 1 });
    expect(figuresBefore.byStandard['email-reply']).toMatchObject({ met: 1, missed: 1 });
    expect(figuresBefore.phone.offered).toBe(3);

    const run = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/retention/run', headers: admin.headers });
    expect(run.statusCode).toBe(200);
    const r = (run.json() as { run: { anonymised: number; messagesRemoved: number; auditDeleted: number; error: string | null } }).run;
    expect(r).toMatchObject({ anonymised: week.length + old.length, messagesRemoved: 2, auditDeleted: 1, error: null });

    // The figures, and every clock fact they come from, are the same.
    expect(weekFigures(sqlite, weekStart, weekEnd, now)).toEqual(figuresBefore);
    expect(clockFacts(sqlite, 0, now)).toEqual(factsBefore);

    const row = (id: string) => sqlite.prepare('SELECT privacy, customer, subject, summary, external_id, source FROM contacts WHERE id = ?').get(id) as Record<string, unknown>;
    for (const k of [...week.keys()].map((i) => `week${i}`).concat([...old.keys()].map((i) => `old${i}`))) {
      expect(row(ids[k]!), k).toMatchObject({ privacy: 2, customer: null, subject: null, summary: null, external_id: null });
    }
    // Between the limits: the messages gone, the person still there.
    for (const k of ['youngerThan240', 'olderThan120']) {
      expect(row(ids[k]!), k).toMatchObject({ privacy: 1, subject: null, summary: null });
      expect(row(ids[k]!).customer, k).not.toBeNull();
    }
    for (const k of ['youngerThan120', 'lateClose0', 'stillOpen0', 'held0']) expect(row(ids[k]!), k).toMatchObject({ privacy: 0, subject: expect.any(String) });
    // The free text of events and clocks, and the person keys, are gone for the anonymised.
    const complaint = ids.week5!;
    const bodies = (sqlite.prepare('SELECT body FROM events WHERE contact_id = ?').all(complaint) as Array<{ body: string }>).map((b) => b.body).join('\n');
    expect(bodies).not.toContain('waiting for tenant');
    expect(bodies).toContain('"reason":"removed"');
    const details = (sqlite.prepare('SELECT detail FROM clocks WHERE contact_id = ?').all(complaint) as Array<{ detail: string }>).map((d) => d.detail).join('\n');
    expect(details).not.toContain('waiting for tenant');
    expect(sqlite.prepare('SELECT COUNT(*) AS n FROM person_keys WHERE contact_id = ?').get(complaint)).toEqual({ n: 0 });
    expect((sqlite.prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'test.old'").get() as { n: number }).n).toBe(0);
    expect((sqlite.prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'test.kept'").get() as { n: number }).n).toBe(1);
    const audited = sqlite.prepare("SELECT detail FROM audit WHERE action = 'privacy.retention'").get() as { detail: string };
    expect(JSON.parse(audited.detail)).toMatchObject({ anonymised: week.length + old.length, messagesRemoved: 2 });

    // A second run finds nothing more to do.
    const again = await t.app.retention.run('request');
    expect(again).toMatchObject({ anonymised: 0, messagesRemoved: 0, auditDeleted: 0 });
    await t.close();
  });

  it('catches up at start: a contact that fell due while Kept was down is anonymised once the app starts', async () => {
    const now = Date.now();
    const other = join(dir, 'restart.db');
    const first = await startTestApp({ KEPT_DB: other, KEPT_RETENTION_CRON: 'off' });
    const id = (await first.service.createContact({ channel: 'email', externalId: 'late', receivedAt: iso(monthsBefore(now, 30)), customer: { name: 'Late Example' }, events: [{ type: 'replied', at: iso(monthsBefore(now, 30) + HOUR) }] })).contact.id;
    first.connection.sqlite.prepare('DELETE FROM api_tokens').run(); // the next app makes its own
    await first.close();
    const second = await startTestApp({ KEPT_DB: other, KEPT_RETENTION_CRON: '15 2 * * *' });
    try {
      // The start-up run is under way or done: joining it waits for it.
      const run = second.app.retention.last === null ? await second.app.retention.run('request') : await second.app.retention.run('start');
      expect(second.app.retention.last?.trigger).toBe('start');
      expect(run.error).toBeNull();
      expect(second.connection.sqlite.prepare('SELECT privacy, customer FROM contacts WHERE id = ?').get(id)).toEqual({ privacy: 2, customer: null });
    } finally {
      await second.close();
    }
  });
});

describe('the scheduled run on several instances', () => {
  it('is claimed once per firing (job_slots): one instance of three runs it, the others leave it and say who has it', async () => {
    const now = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'kept-retention-claims-'));
    const t = await startTestApp({ KEPT_DB: join(dir, 'claims.db'), KEPT_RETENTION_CRON: 'off' });
    try {
      const due = (await t.service.createContact({ channel: 'email', externalId: 'claimed', receivedAt: iso(monthsBefore(now, 30)), customer: { name: 'Claim Example' }, events: [{ type: 'replied', at: iso(monthsBefore(now, 30) + HOUR) }] })).contact.id;
      const said: string[] = [];
      const log = { info: (m: string) => said.push(m), error: (m: string) => said.push(m) };
      const jobs = ['kept-a', 'kept-b', 'kept-c'].map((instance) => new RetentionJob(t.service, t.app.retention.schedule, log, { slots: t.service.stores.slots, instance }));
      // The three instances' crons fire in the same minute (a few ms apart).
      const firing = Date.UTC(2026, 11, 7, 2, 15, 0);
      const runs = await Promise.all(jobs.map((j, i) => j.scheduled(firing + i * 7)));
      const ran = runs.filter((r) => r !== null);
      expect(ran).toHaveLength(1);
      expect(ran[0]).toMatchObject({ trigger: 'schedule', anonymised: 1, error: null });
      const claimed = t.connection.sqlite.prepare('SELECT slot, instance FROM job_slots WHERE job = ?').all(RETENTION_JOB) as Array<{ slot: string; instance: string }>;
      expect(claimed).toHaveLength(1);
      expect(claimed[0]!.slot).toBe('2026-12-07T02:15:00.000Z');
      const winner = claimed[0]!.instance;
      expect(runs[['kept-a', 'kept-b', 'kept-c'].indexOf(winner)]).not.toBeNull();
      expect(said.filter((m) => m.includes(`claimed already by ${winner}`))).toHaveLength(2);
      expect(t.connection.sqlite.prepare('SELECT privacy FROM contacts WHERE id = ?').get(due)).toEqual({ privacy: 2 });
      expect((t.connection.sqlite.prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'privacy.retention'").get() as { n: number }).n).toBe(1);
      // The next day's firing is a new slot: claimed and run again (nothing left to do).
      const next = await jobs[1]!.scheduled(firing + DAY);
      expect(next).toMatchObject({ trigger: 'schedule', anonymised: 0 });
      expect((t.connection.sqlite.prepare('SELECT COUNT(*) AS n FROM job_slots WHERE job = ?').get(RETENTION_JOB) as { n: number }).n).toBe(2);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one person: search, export, erasure', () => {
  let t: TestApp;
  let admin: SignedIn;
  const ann = { name: 'Ann Example', email: 'Ann.Example@example.org', phone: '07700 900123', address: '1 Example Road, Exampletown', reference: 'TEN-000123', vulnerability: 'Hearing loss', accessibilityNeeds: 'Large print' };
  const bob = { name: 'Bob Example', email: 'bob.example@example.org', phone: '+44 7700 900456', address: '2 Example Road, Exampletown', reference: 'TEN-000456' };
  const annIds: string[] = [];
  const bobIds: string[] = [];
  const now = Date.now();

  beforeAll(async () => {
    t = await startTestApp({ KEPT_RETENTION_CRON: 'off' });
    for (const s of [ann.email, 'ann.example@example.org', ann.phone, '+447700900123', '0044 (0)7700-900-123', '07700900123', ann.name, ann.address, bob.email, bob.phone]) recordSecret(s);
    admin = await t.signIn('admin');
    const at = now - 20 * DAY;
    const annContacts: ContactInput[] = [
      { channel: 'phone', externalId: 'ann-call', receivedAt: iso(at), customer: { name: ann.name, phone: ann.phone }, events: [{ type: 'answered', at: iso(at + MINUTE) }], source: { callId: 'ann-call', queue: 'customer-services', recordingUrl: 'https://recordings.example.org/ann-call' } },
      { channel: 'email', externalId: '<ann-1@mail.example.org>', receivedAt: iso(at + HOUR), customer: { name: ann.name, email: ann.email }, subject: 'Damp in the bedroom', summary: 'Ann wrote about damp', events: [{ type: 'replied', at: iso(at + 30 * HOUR) }], source: { messageId: '<ann-1@mail.example.org>', attachments: [{ name: 'ann-damp.jpg', size: 1000 }] } },
      { channel: 'webform', externalId: 'ann-form', receivedAt: iso(at + 2 * HOUR), customer: ann, subject: 'Question', summary: 'Ann asked a question', events: [{ type: 'replied', at: iso(at + 3 * HOUR) }], source: { form: 'general', submissionId: 'ann-form' } },
      { channel: 'social', externalId: 'ann-mid', receivedAt: iso(at + 3 * HOUR), customer: { name: ann.name }, subject: `Facebook comment from ${ann.name}`, summary: 'A comment', events: [{ type: 'replied', at: iso(at + 4 * HOUR) }], source: { platform: 'facebook', kind: 'comment', senderId: 'psid-ann', postId: 'post-1' } },
      { channel: 'voicemail', externalId: 'ann-vm', receivedAt: iso(at + 4 * HOUR), customer: { name: ann.name, phone: '+44 (0)7700 900123' }, subject: `Voicemail from ${ann.name}`, source: { callId: 'ann-vm', queue: 'customer-services', durationSeconds: 42 } },
      // A safeguarding flag: the alert's note is the vulnerability; actioned below.
      { channel: 'email', externalId: '<ann-2@mail.example.org>', receivedAt: iso(at + 5 * HOUR), customer: { ...ann, safeguarding: true }, subject: 'Worried', summary: 'Ann is worried', events: [{ type: 'replied', at: iso(at + 6 * HOUR) }] },
    ];
    for (const c of annContacts) annIds.push((await t.service.createContact(c)).contact.id);
    for (const c of [
      { channel: 'phone', externalId: 'bob-call', receivedAt: iso(at), customer: { name: bob.name, phone: bob.phone }, events: [{ type: 'answered', at: iso(at + MINUTE) }] },
      { channel: 'email', externalId: '<bob-1@mail.example.org>', receivedAt: iso(at + HOUR), customer: bob, subject: 'Bob subject', summary: 'Bob wrote', events: [{ type: 'replied', at: iso(at + 2 * HOUR) }] },
    ] as ContactInput[]) bobIds.push((await t.service.createContact(c)).contact.id);
    const alert = (await t.service.queue.alertsOf(annIds[5]!))[0]!;
    await t.service.alertAction(alert.id, 'lead@staff.example.org', `Called ${ann.name} back`);
  });
  afterAll(async () => {
    await t?.close();
  });

  const search = (kind: string, value: string, who = admin) => t.app.inject({ method: 'POST', url: '/api/v1/privacy/search', headers: who.headers, payload: { kind, value } });
  const found = async (kind: string, value: string) => {
    const r = await search(kind, value);
    expect(r.statusCode, r.body).toBe(200);
    return (r.json() as { items: Array<{ id: string }> }).items.map((i) => i.id).sort();
  };

  it('normalises phone numbers: national, international, with (0), dashes and 0044 all agree', () => {
    for (const f of ['07700 900123', '+447700900123', '+44 (0)7700 900123', '0044 7700 900123', '07700-900-123', '(07700) 900123']) expect(normalisePhone(f), f).toBe('07700900123');
    expect(normalisePhone('+1 202 555 0100')).toBe('+12025550100');
    expect(normalisePhone('12345')).toBeNull();
  });

  it('finds a person by phone in any format, by email in any case, by name or a word of it, by tenancy reference', async () => {
    const annPhones = [annIds[0]!, annIds[2]!, annIds[4]!, annIds[5]!].sort();
    for (const f of ['07700 900123', '+447700900123', '0044 (0)7700-900-123']) expect(await found('phone', f), f).toEqual(annPhones);
    expect(await found('phone', '07700 900456')).toEqual([...bobIds].sort());
    expect(await found('email', 'ANN.EXAMPLE@example.org')).toEqual([annIds[1]!, annIds[2]!, annIds[5]!].sort());
    expect(await found('name', 'ann example')).toEqual([...annIds].sort());
    expect(await found('name', 'Exam')).toEqual([...annIds, ...bobIds].sort());
    expect(await found('reference', 'ten-000123')).toEqual([annIds[2]!, annIds[5]!].sort());
    expect((await search('phone', '123')).statusCode).toBe(400);
    // Admins only, and audited without the value searched.
    const lead = await t.signIn('team-lead');
    expect((await search('email', ann.email, lead)).statusCode).toBe(403);
    const audit = t.connection.sqlite.prepare("SELECT detail FROM audit WHERE action = 'privacy.search' ORDER BY id DESC LIMIT 1").get() as { detail: string };
    expect(JSON.parse(audit.detail)).toMatchObject({ kind: 'reference', matches: 2 });
    expect(audit.detail).not.toContain('000123');
  });

  it('exports everything held on a person with contacts on every channel, as JSON and as a printable page; audited', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/export', headers: admin.headers, payload: { contactIds: annIds } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="subject-access-\d{4}-\d\d-\d\d\.json"/);
    const x = r.json() as { kind: string; contacts: Array<{ channel: string; customer: Record<string, unknown> | null; events: unknown[]; deadlines: Array<{ kept: string }>; alerts: Array<{ note: string | null }> }> };
    expect(x.kind).toBe('kept-subject-access-export');
    expect(new Set(x.contacts.map((c) => c.channel))).toEqual(new Set(['phone', 'email', 'webform', 'social', 'voicemail']));
    expect(x.contacts.every((c) => c.customer?.name === ann.name)).toBe(true);
    expect(x.contacts.flatMap((c) => c.deadlines.map((d) => d.kept))).toContain('kept');
    expect(x.contacts.flatMap((c) => c.deadlines.map((d) => d.kept))).toContain('not kept'); // the voicemail still awaits its reply, late
    expect(x.contacts.flatMap((c) => c.alerts.map((a) => a.note))).toContain('Hearing loss');
    const html = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/export', headers: admin.headers, payload: { contactIds: annIds, format: 'html' } });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('Ann Example');
    expect(html.body).toContain('Our deadlines');
    expect(html.body).toContain('@media print');
    expect(html.body).not.toContain('<script');
    const audits = t.connection.sqlite.prepare("SELECT detail FROM audit WHERE action = 'privacy.export' ORDER BY id").all() as Array<{ detail: string }>;
    expect(audits.map((a) => JSON.parse(a.detail) as { format: string }).map((d) => d.format)).toEqual(['json', 'html']);
  });

  it('refuses erasure while a legal hold or an open complaint stands, and writes nothing', async () => {
    const erase = (contactIds: string[]) => t.app.inject({ method: 'POST', url: '/api/v1/privacy/erasures', headers: admin.headers, payload: { contactIds, reason: 'Erasure request of 2 Dec 2026 (ref ER-1)', approvedBy: 'dpo@staff.example.org' } });
    const hold = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/holds', headers: admin.headers, payload: { contactIds: [annIds[1]!], reason: 'Housing Ombudsman complaint' } });
    const holdId = (hold.json() as { holdIds: number[] }).holdIds[0]!;
    const refused = await erase(annIds);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'legal-hold', holds: [{ contactId: annIds[1], kind: 'hold' }] });
    expect((t.connection.sqlite.prepare('SELECT COUNT(*) AS n FROM contacts WHERE privacy > 0').get() as { n: number }).n).toBe(0);
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/privacy/holds/${holdId}/release`, headers: admin.headers })).json()).toEqual({ released: true });
    // An open complaint holds too.
    const complaint = (await t.service.createContact({ channel: 'webform', category: 'complaint', externalId: 'ann-open-complaint', receivedAt: iso(now - HOUR), customer: { name: ann.name, email: ann.email } })).contact.id;
    const open = await erase([...annIds, complaint]);
    expect(open.statusCode).toBe(409);
    expect(open.json()).toMatchObject({ holds: [{ contactId: complaint, kind: 'open-complaint' }] });
    await t.service.contactAction({ contactId: complaint, actor: 'lead@staff.example.org', action: 'cancel', events: [{ type: 'cancelled', reason: 'withdrawn', at: iso(now - MINUTE) }] });
    annIds.push(complaint);
  });

  it('erases one person across all their contacts, leaves the other with the same surname, and the file no longer holds them', async () => {
    const before = clockFacts(t.connection.sqlite, 0, now + DAY);
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/privacy/erasures', headers: admin.headers, payload: { contactIds: annIds, reason: 'Erasure request of 2 Dec 2026 (ref ER-1)', approvedBy: 'dpo@staff.example.org' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ anonymised: annIds.length, alreadyAnonymised: 0 });
    expect(clockFacts(t.connection.sqlite, 0, now + DAY)).toEqual(before);
    expect(await found('name', 'ann')).toEqual([]);
    expect(await found('phone', ann.phone)).toEqual([]);
    expect(await found('name', 'example')).toEqual([...bobIds].sort());
    expect((await t.service.contacts.byId(bobIds[1]!))!.customer).toEqual(bob);
    const audit = t.connection.sqlite.prepare("SELECT actor, detail FROM audit WHERE action = 'privacy.erase'").get() as { actor: string; detail: string };
    expect(audit.actor).toBe(admin.email);
    expect(JSON.parse(audit.detail)).toMatchObject({ anonymised: annIds.length, reason: 'Erasure request of 2 Dec 2026 (ref ER-1)', approvedBy: 'dpo@staff.example.org' });
    // The export of an erased person says so and holds nothing personal.
    const x = (await t.app.inject({ method: 'POST', url: '/api/v1/privacy/export', headers: admin.headers, payload: { contactIds: annIds } })).json() as { contacts: Array<{ privacy: string; customer: unknown }> };
    expect(x.contacts.every((c) => c.privacy === 'anonymised' && c.customer === null)).toBe(true);

    // The file itself (and its write-ahead log, if any): no trace of her name, email, phone or words.
    const file = t.config.dbFile;
    const bytes = Buffer.concat([readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])]);
    for (const needle of [ann.name, ann.email, ann.email.toLowerCase(), ann.phone, '07700900123', ann.address, 'Hearing loss', 'Damp in the bedroom', 'ann-damp.jpg', 'recordings.example.org', 'psid-ann', 'Called Ann']) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
    }
    expect(bytes.includes(Buffer.from(bob.name))).toBe(true);
  });
});

describe('the person keys backfilled by the migration', () => {
  it('are the keys the writes make (phone formats, case, names and their words, references)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kept-keys-'));
    try {
      const c = openDatabase(join(dir, 'k.db'));
      const customers = [
        { name: 'Ann  Example', email: ' Ann.Example@Example.org ', phone: '+44 (0)7700 900123', reference: 'ten 000123' },
        { name: "Cy O'Example-Smith", phone: '0044 7700-900-124' },
        { phone: '07700 900125', email: 'x@example.org' },
        { name: 'Di', phone: '+1 (202) 555-0100' },
      ];
      const insert = c.sqlite.prepare("INSERT INTO contacts (id, channel, route, category, initial_category, received_at, pack_family, customer, content_hash, created_at, updated_at) VALUES (?, 'email', 'customer-services', 'general', 'general', 0, 'livewest', ?, 'h', 0, 0)");
      customers.forEach((cu, i) => insert.run(`c${i}`, JSON.stringify(cu)));
      const folder = join(import.meta.dirname, '../../db/migrations');
      const sql = readFileSync(join(folder, readdirSync(folder).find((f) => f.endsWith('_privacy.sql'))!), 'utf8'); // whatever its number
      const backfill = sql.slice(sql.indexOf('-- Backfill')).split('--> statement-breakpoint');
      for (const s of backfill) c.sqlite.exec(s);
      const stored = (c.sqlite.prepare('SELECT kind, value, contact_id FROM person_keys ORDER BY contact_id, kind, value').all() as Array<{ kind: string; value: string; contact_id: string }>).map((r) => `${r.contact_id} ${r.kind} ${r.value}`);
      const expected = customers.flatMap((cu, i) => personKeys(cu).map((k) => `c${i} ${k.kind} ${k.value}`)).sort();
      expect(stored.sort()).toEqual(expected);
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
