// Telephony and mail on both databases (issue 14): the same script of commands — telephony-facts,
// record-automatic-mail, save-mail-cursor — through the InlineRunner on a real SQLite file and through
// PgPhoneMailCommands on a fresh PostgreSQL gives the same outputs and errors, and every method of
// TelephonyStorePort and MailStorePort (asyncOf the SQLite stores; PgTelephonyStore, PgMailStore)
// reads the same (deep-equal) after each step; the answers are also checked against what the stores
// promise, so both being wrong alike fails too.
//
// Then PostgreSQL alone, with two pools standing for two instances at once: a held event redelivered
// to both is stored once; the held bound holds across both; an IMAP read position only moves forward;
// an advisor's state is the latest by the event's time whichever instance writes last; unknown queues
// and the call ledger count and merge every instance's facts; one automatic message recorded by both
// is recorded (and audited) once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { openPostgres, type PgConnection } from '../../db/pg/connection.js';
import { prepareCreateContact, type ContactInput } from '../../server/commands/create-contact.js';
import type { RecordAutomaticMailInput, SaveMailCursorInput } from '../../server/commands/mail.js';
import type { TelephonyFactsInput, TelephonyFactsOutput } from '../../server/commands/telephony-facts.js';
import { migrateToPostgres } from '../../server/migrate-to-postgres.js';
import { AuditStore } from '../../server/store/audit.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { MailStore } from '../../server/store/mail.js';
import { PgAuditStore } from '../../server/store/pg/audit.js';
import { PgPhoneMailCommands } from '../../server/store/pg/commands-phone-mail.js';
import { PgGroupCommitWriter } from '../../server/store/pg/group-commit.js';
import { PgMailStore } from '../../server/store/pg/mail.js';
import { PgTelephonyStore } from '../../server/store/pg/telephony.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { asyncOf, AUDIT_STORE, MAIL_STORE, TELEPHONY_STORE, type AuditStorePort, type MailStorePort, type TelephonyStorePort } from '../../server/store/ports.js';
import { TelephonyStore } from '../../server/store/telephony.js';
import { InlineRunner } from '../../server/writer/runner.js';
import { freshPgDatabase, type TestPg } from '../helpers/pg.js';

const NOW = Date.parse('2026-03-10T11:00:00Z');
const MIN = 60_000;
const TOP = Number.MAX_SAFE_INTEGER;

/** One database's side: the three commands and the three stores' reads. */
interface Side {
  telephonyFacts(c: TelephonyFactsInput): Promise<TelephonyFactsOutput>;
  recordAutomaticMail(c: RecordAutomaticMailInput): Promise<{ recorded: boolean }>;
  saveMailCursor(c: SaveMailCursorInput): Promise<null>;
  telephony: TelephonyStorePort;
  mail: MailStorePort;
  audit: AuditStorePort;
}

let dir: string;
let sqlite: Connection;
let runner: InlineRunner;
let testPg: TestPg;
let pgA: PgConnection;
let pgB: PgConnection;
let writer: PgGroupCommitWriter;
const sides = {} as Record<'sqlite' | 'postgresql', Side>;
/** Two instances' commands over their own pools, and their reads. */
let one: PgPhoneMailCommands;
let two: PgPhoneMailCommands;
let telephonyA: PgTelephonyStore;
let mailA: PgMailStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kept-contract-phone-mail-'));
  sqlite = openDatabase(join(dir, 'kept.db'));
  new CalendarStore(sqlite.sqlite).seed(NOW);
  runner = new InlineRunner(sqlite.sqlite, { maxEventsPerContact: 100 });
  sides.sqlite = {
    telephonyFacts: (c) => runner.run('telephony-facts', c),
    recordAutomaticMail: (c) => runner.run('record-automatic-mail', c),
    saveMailCursor: (c) => runner.run('save-mail-cursor', c),
    telephony: asyncOf(new TelephonyStore(sqlite.sqlite), TELEPHONY_STORE),
    mail: asyncOf(new MailStore(sqlite.sqlite), MAIL_STORE),
    audit: asyncOf(new AuditStore(sqlite.sqlite), AUDIT_STORE),
  };
  testPg = await freshPgDatabase('kept_contract_phone_mail');
  pgA = await openPostgres(testPg.url, { max: 4 });
  pgB = await openPostgres(testPg.url, { max: 4, migrate: false });
  await seedPgCalendars(pgA.pool, NOW);
  writer = await PgGroupCommitWriter.open(pgA.pool);
  one = new PgPhoneMailCommands(pgA.pool);
  two = new PgPhoneMailCommands(pgB.pool);
  telephonyA = new PgTelephonyStore(pgA.pool);
  mailA = new PgMailStore(pgA.pool);
  sides.postgresql = {
    telephonyFacts: (c) => one.telephonyFacts(c),
    recordAutomaticMail: (c) => one.recordAutomaticMail(c),
    saveMailCursor: (c) => one.saveMailCursor(c),
    telephony: telephonyA,
    mail: mailA,
    audit: new PgAuditStore(pgA.pool),
  };
});

afterAll(async () => {
  await writer?.close();
  await runner?.close();
  await pgA?.close();
  await pgB?.close();
  await testPg?.drop();
  sqlite?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A command's answer as compared: its output, or its error's status, code and message. */
async function answer(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (e) {
    const k = e as { status?: unknown; code?: unknown; message?: string };
    return { error: { status: k.status, code: k.code, message: k.message ?? String(e) } };
  }
}

/** Every read of both ports (the ledger's calls named), as one value to compare. */
async function reads(s: Side, calls: string[], folders: string[], messages: string[], senders: string[]): Promise<Record<string, unknown>> {
  const t = s.telephony;
  const m = s.mail;
  const recent = await m.recentAutomatic(TOP, 2);
  return {
    held: await Promise.all(calls.map((c) => t.held(c))),
    heldTotal: await t.heldTotal(),
    ledger: await Promise.all(calls.map((c) => t.ledger(c))),
    offered: await t.offeredBetween(NOW - 60 * MIN, NOW + 60 * MIN),
    offeredNarrow: await t.offeredBetween(NOW, NOW + 2 * MIN),
    answered: await t.answeredBetween(NOW - 60 * MIN, NOW + 60 * MIN),
    unknownQueues: await t.unknownQueues(),
    unknownQueuesTwo: await t.unknownQueues(2),
    advisorStates: await t.advisorStates(),
    advisorStatesOne: await t.advisorStates(1),
    automatic: await Promise.all(messages.map((id) => m.automatic(id))),
    recent,
    // The next page, keyed on the last row's seq.
    recentNext: recent.length === 0 ? [] : await m.recentAutomatic(recent[recent.length - 1]!.seq, 10),
    cursors: await Promise.all(folders.map((f) => m.cursor(f))),
    social: await Promise.all(senders.map((id) => m.socialContactsOf(id, 10))),
    audit: (await s.audit.page({ action: 'mail.automatic', limit: 20 })).items.map(({ at, actor, action, detail }) => ({ at, actor, action, detail })),
  };
}

const CALLS = ['call-a', 'call-b', 'call-c', 'call-d'];
const FOLDERS = ['imap:INBOX', 'imap:Support', 'imap:none'];
const MESSAGES = ['<m1@example.org>', '<m2@example.org>', '<m3@example.org>', '<never@example.org>'];
const SENDERS = ['447700900123', '447700900999'];

/** The script, step by step: each step's command answers. */
const SCRIPT: Array<{ name: string; run: (s: Side) => Promise<unknown[]> }> = [
  {
    name: 'hold events (one redelivered in the batch)',
    run: async (s) => [
      await answer(
        s.telephonyFacts({
          now: NOW,
          hold: [
            { callId: 'call-a', eventKey: 'ringing', event: { type: 'ringing', at: NOW } },
            { callId: 'call-a', eventKey: 'answered', event: { type: 'answered', agent: 'kate.bell', nested: { n: [1, 2] } } },
            { callId: 'call-a', eventKey: 'ringing', event: { type: 'ringing', again: true } },
            { callId: 'call-b', eventKey: 'ended', event: { type: 'ended' } },
          ],
        }),
      ),
    ],
  },
  {
    name: 'a hold past the bound: 503 held-full, nothing stored (not even the expiry)',
    run: async (s) => [
      await answer(s.telephonyFacts({ now: NOW + MIN, maxHeld: 1, expireBefore: NOW + 1, hold: [{ callId: 'call-c', eventKey: 'x', event: {} }, { callId: 'call-c', eventKey: 'y', event: {} }] })),
      // Within the bound after the expiry of the three held at NOW.
      await answer(s.telephonyFacts({ now: NOW + 2 * MIN, maxHeld: 3, expireBefore: NOW + 1, hold: [{ callId: 'call-c', eventKey: 'x', event: { late: true } }, { callId: 'call-d', eventKey: 'y', event: {} }] })),
    ],
  },
  {
    name: 'release, ledger facts merged, unknown queues, advisors',
    run: async (s) => [
      await answer(
        s.telephonyFacts({
          now: NOW + 3 * MIN,
          release: ['call-c', 'call-a'],
          ledger: [
            { callId: 'call-a', queue: 'repairs', offeredAt: NOW + MIN },
            { callId: 'call-a', offeredAt: NOW, answeredAt: NOW + 2 * MIN, agent: 'kate.bell' },
            { callId: 'call-a', answeredAt: NOW + 3 * MIN, endedAt: NOW + 9 * MIN, talkMs: 420_000 },
            { callId: 'call-a', endedAt: NOW + 8 * MIN, wrapMs: 30_000 },
            { callId: 'call-b', queue: 'general', offeredAt: NOW + MIN, abandonedAt: NOW + 2 * MIN },
            { callId: 'call-b', abandonedAt: NOW + 5 * MIN, endedAt: NOW + 5 * MIN },
            // Offered at the same moment as call-b: the lists' order decided by the call.
            { callId: 'call-c', queue: 'general', offeredAt: NOW + MIN, answeredAt: NOW + 2 * MIN, agent: 'sam.oduya' },
          ],
          unknownQueues: [
            { platform: 'twilio', queueKey: 'WQ123' },
            { platform: 'genesys', queueKey: 'q-9' },
            { platform: 'twilio', queueKey: 'WQ123' },
          ],
          advisorStates: [
            { platform: 'twilio', advisor: 'kate.bell', state: 'available', detail: null, at: NOW + MIN },
            { platform: 'twilio', advisor: 'kate.bell', state: 'on-call', detail: 'call-a', at: NOW + 2 * MIN },
            // Older than the stored report: changes nothing.
            { platform: 'twilio', advisor: 'kate.bell', state: 'offline', detail: null, at: NOW },
            { platform: 'genesys', advisor: 'kate.bell', state: 'away', detail: 'lunch', at: NOW },
            { platform: 'twilio', advisor: 'aaron.ng', state: 'available', detail: null, at: NOW },
          ],
        }),
      ),
      // The same instant as the stored report: the later writer wins; another note of a known queue later on.
      await answer(
        s.telephonyFacts({
          now: NOW + 4 * MIN,
          unknownQueues: [{ platform: 'genesys', queueKey: 'q-1' }],
          advisorStates: [{ platform: 'twilio', advisor: 'kate.bell', state: 'wrap-up', detail: null, at: NOW + 2 * MIN }],
        }),
      ),
      await answer(s.telephonyFacts({ now: NOW + 4 * MIN, unknownQueues: [{ platform: 'avaya', queueKey: 'skill-3' }] })),
    ],
  },
  {
    name: 'automatic mail recorded once each, audited without the sender',
    run: async (s) => {
      const mail = (i: number, over: Partial<RecordAutomaticMailInput> = {}): RecordAutomaticMailInput => ({
        messageId: `<m${i}@example.org>`,
        receivedAt: NOW - i * MIN,
        kind: i === 2 ? 'bounce' : 'auto-reply',
        marker: i === 2 ? 'content-type:delivery-status' : 'auto-submitted',
        subject: i === 3 ? null : `Out of office ${i}`,
        contactId: i === 1 ? 'c-1' : null,
        reply: i === 1 ? 'Thank you' : null,
        now: NOW + i,
        actor: 'mail:imap',
        ...over,
      });
      return [
        await answer(s.recordAutomaticMail(mail(1))),
        await answer(s.recordAutomaticMail(mail(2))),
        await answer(s.recordAutomaticMail(mail(1, { subject: 'A redelivery', now: NOW + 50 }))),
        await answer(s.recordAutomaticMail(mail(3))),
      ];
    },
  },
  {
    name: 'IMAP read positions move forward only',
    run: async (s) => {
      const save = (folder: string, uidValidity: string, lastUid: number, now: number) => answer(s.saveMailCursor({ folder, uidValidity, lastUid, now }));
      const out: unknown[] = [];
      out.push(await save('imap:INBOX', '9', 10, NOW));
      out.push(await save('imap:INBOX', '9', 5, NOW + 1)); // behind: stays at 10
      out.push((await s.mail.cursor('imap:INBOX'))?.lastUid);
      out.push(await save('imap:INBOX', '9', 12, NOW + 2));
      out.push(await save('imap:INBOX', '10', 3, NOW + 3)); // a new UIDVALIDITY (greater as a number): starts again
      out.push(await save('imap:INBOX', '9', 400, NOW + 4)); // the old one: stays
      out.push(await save('imap:Support', '77', 1, NOW));
      out.push(await save('imap:Support', '77', 1, NOW + 1)); // the same: unchanged
      return out;
    },
  },
];

describe('the same commands on SQLite and PostgreSQL', () => {
  it('give the same answers and the same reads of every port method after each step', async () => {
    // Two social contacts of one sender (and one of another), created on both: socialContactsOf reads them.
    const liteIds: string[] = [];
    const pgIds: string[] = [];
    for (const [i, sender] of ['447700900123', '447700900123', '447700900555'].entries()) {
      const body = { channel: 'social', route: 'customer-services', externalId: `wa-${i}`, receivedAt: new Date(NOW - (10 - i) * MIN).toISOString(), subject: 'WhatsApp', source: { platform: 'whatsapp', senderId: sender } };
      const command = prepareCreateContact(body as unknown as ContactInput, { now: NOW, packFamily: 'livewest', maxEventsPerContact: 100, actor: 'token:test' });
      const a = await runner.run('create-contact', command);
      const p = await writer.createContact(command);
      if (!a.created || !p.created) throw new Error('both should create');
      liteIds.push(a.row.id);
      pgIds.push(p.row.id);
    }
    const asLite = (v: unknown): unknown => {
      let text = JSON.stringify(v) ?? 'null';
      pgIds.forEach((p, i) => (text = text.replaceAll(p, liteIds[i]!)));
      return JSON.parse(text);
    };

    const answers: unknown[][] = [];
    for (const step of SCRIPT) {
      const lite = await step.run(sides.sqlite);
      answers.push(lite);
      const pg = await step.run(sides.postgresql);
      expect(pg, `${step.name}: answers`).toEqual(lite);
      // Through JSON both (an absent row reads as null on both sides).
      const readLite = asLite(await reads(sides.sqlite, CALLS, FOLDERS, MESSAGES, SENDERS));
      const readPg = asLite(await reads(sides.postgresql, CALLS, FOLDERS, MESSAGES, SENDERS));
      expect(readPg, `${step.name}: reads`).toEqual(readLite);
    }

    // What the commands and stores promise (the same on both, as just checked).
    expect(answers[0]).toEqual([{ ok: { held: 3, released: 0 } }]);
    expect(answers[1]).toEqual([
      { error: { status: 503, code: 'held-full', message: expect.stringContaining('KEPT_PHONE_HELD_MAX') } },
      { ok: { held: 2, released: 0 } },
    ]);
    expect(answers[2]).toEqual([{ ok: { held: 0, released: 1 } }, { ok: { held: 0, released: 0 } }, { ok: { held: 0, released: 0 } }]);
    expect(answers[3]).toEqual([{ ok: { recorded: true } }, { ok: { recorded: true } }, { ok: { recorded: false } }, { ok: { recorded: true } }]);
    expect(answers[4]).toEqual([{ ok: null }, { ok: null }, 10, { ok: null }, { ok: null }, { ok: null }, { ok: null }, { ok: null }]);
    const s = sides.postgresql;
    expect(await s.telephony.held('call-d')).toEqual([{ id: expect.any(Number), callId: 'call-d', eventKey: 'y', event: {}, heldAt: NOW + 2 * MIN }]);
    expect(await s.telephony.heldTotal()).toBe(1); // call-d's: those held at NOW expired, call-c's released
    expect(await s.telephony.ledger('call-a')).toEqual({ callId: 'call-a', queue: 'repairs', offeredAt: NOW, answeredAt: NOW + 2 * MIN, abandonedAt: null, endedAt: NOW + 9 * MIN, agent: 'kate.bell', talkMs: 420_000, wrapMs: 30_000 });
    expect((await s.telephony.ledger('call-b'))?.abandonedAt).toBe(NOW + 2 * MIN);
    expect((await s.telephony.offeredBetween(NOW, NOW + 60 * MIN)).map((r) => r.callId)).toEqual(['call-a', 'call-b', 'call-c']);
    expect(await s.telephony.unknownQueues()).toEqual([
      { platform: 'avaya', queueKey: 'skill-3', firstSeen: NOW + 4 * MIN, lastSeen: NOW + 4 * MIN, calls: 1 },
      { platform: 'genesys', queueKey: 'q-1', firstSeen: NOW + 4 * MIN, lastSeen: NOW + 4 * MIN, calls: 1 },
      { platform: 'genesys', queueKey: 'q-9', firstSeen: NOW + 3 * MIN, lastSeen: NOW + 3 * MIN, calls: 1 },
      { platform: 'twilio', queueKey: 'WQ123', firstSeen: NOW + 3 * MIN, lastSeen: NOW + 3 * MIN, calls: 2 },
    ]);
    expect(await s.telephony.advisorStates()).toEqual([
      { platform: 'twilio', advisor: 'aaron.ng', state: 'available', detail: null, at: NOW },
      { platform: 'genesys', advisor: 'kate.bell', state: 'away', detail: 'lunch', at: NOW },
      { platform: 'twilio', advisor: 'kate.bell', state: 'wrap-up', detail: null, at: NOW + 2 * MIN },
    ]);
    const recent = await s.mail.recentAutomatic(TOP, 10);
    expect(recent.map((r) => [r.seq, r.messageId])).toEqual([[3, '<m3@example.org>'], [2, '<m2@example.org>'], [1, '<m1@example.org>']]);
    expect(recent[2]!.subject).toBe('Out of office 1'); // the redelivery changed nothing
    expect(await s.mail.cursor('imap:INBOX')).toEqual({ folder: 'imap:INBOX', uidValidity: '10', lastUid: 3 });
    expect(await s.mail.cursor('imap:none')).toBeUndefined();
    expect((await s.mail.socialContactsOf('447700900123', 10)).map((id) => pgIds.indexOf(id))).toEqual([1, 0]);
    expect(await s.mail.socialContactsOf('447700900123', 1)).toEqual([pgIds[1]]);
    const audits = (await s.audit.recent(50)).filter((e) => e.action === 'mail.automatic');
    expect(audits.map((e) => e.detail)).toEqual([
      { kind: 'auto-reply', contactId: null, reply: false },
      { kind: 'bounce', contactId: null, reply: false },
      { kind: 'auto-reply', contactId: 'c-1', reply: true },
    ]);
  });
});

describe('migrate-to-postgres', () => {
  it("copies automatic mail's order (SQLite's rowid as seq), and the next message recorded follows it", async () => {
    const target = await freshPgDatabase('kept_contract_phone_mail_copy');
    try {
      await migrateToPostgres({ from: join(dir, 'kept.db'), to: target.url, sample: 2 });
      const copy = await openPostgres(target.url, { max: 2, migrate: false });
      try {
        const store = new PgMailStore(copy.pool);
        expect(await store.recentAutomatic(TOP, 10)).toEqual(await sides.sqlite.mail.recentAutomatic(TOP, 10));
        await new PgPhoneMailCommands(copy.pool).recordAutomaticMail({ messageId: '<after-copy@example.org>', receivedAt: NOW, kind: 'bounce', marker: 'x', subject: null, contactId: null, reply: null, now: NOW, actor: 'mail:imap' });
        expect((await store.recentAutomatic(TOP, 1))[0]).toMatchObject({ seq: 4, messageId: '<after-copy@example.org>' });
      } finally {
        await copy.close();
      }
    } finally {
      await target.drop();
    }
  });
});

describe('PostgreSQL with two instances at once', () => {
  const both = <T>(f: (c: PgPhoneMailCommands) => Promise<T>) => Promise.all([f(one), f(two)]);

  it('a held event redelivered to both instances is stored once', async () => {
    const hold = Array.from({ length: 20 }, (_, i) => ({ callId: `twin-${i % 5}`, eventKey: `k-${i}`, event: { i } }));
    const [a, b] = await both((c) => c.telephonyFacts({ now: NOW, hold }));
    expect(a.held + b.held).toBe(20);
    for (let i = 0; i < 5; i++) expect((await telephonyA.held(`twin-${i}`)).map((h) => h.eventKey).sort()).toEqual([`k-${i}`, `k-${i + 5}`, `k-${i + 10}`, `k-${i + 15}`].sort());
    const [r1, r2] = await both((c) => c.telephonyFacts({ now: NOW, release: ['twin-0', 'twin-1', 'twin-2', 'twin-3', 'twin-4'] }));
    expect(r1.released + r2.released).toBe(20);
  });

  it('the held bound holds across both: one batch goes in, the other is refused with 503', async () => {
    const before = await telephonyA.heldTotal();
    const max = before + 6;
    const batch = (tag: string) => Array.from({ length: 4 }, (_, i) => ({ callId: `bound-${tag}`, eventKey: `e${i}`, event: { tag } }));
    const results = await Promise.allSettled([one.telephonyFacts({ now: NOW, maxHeld: max, hold: batch('a') }), two.telephonyFacts({ now: NOW, maxHeld: max, hold: batch('b') })]);
    const kept = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(kept).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatchObject({ status: 503, code: 'held-full' });
    expect(await telephonyA.heldTotal()).toBe(before + 4);
  });

  it('an IMAP read position only moves forward, whichever instance saves last', async () => {
    const saves = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(saves.map((uid, i) => (i % 2 === 0 ? one : two).saveMailCursor({ folder: 'imap:Shared', uidValidity: '5', lastUid: uid, now: NOW + i })));
    expect(await mailA.cursor('imap:Shared')).toEqual({ folder: 'imap:Shared', uidValidity: '5', lastUid: 40 });
    // An instance behind the other saves its older position afterwards: the stored one stays.
    await two.saveMailCursor({ folder: 'imap:Shared', uidValidity: '5', lastUid: 17, now: NOW + 100 });
    await two.saveMailCursor({ folder: 'imap:Shared', uidValidity: '4', lastUid: 90, now: NOW + 101 });
    expect(await new PgMailStore(pgB.pool).cursor('imap:Shared')).toEqual({ folder: 'imap:Shared', uidValidity: '5', lastUid: 40 });
  });

  it("an advisor's state is the latest by the event's time, and unknown queues and the ledger count every instance's facts", async () => {
    const reports = Array.from({ length: 30 }, (_, i) => ({ platform: 'twilio', advisor: 'race.advisor', state: `s${i}`, detail: null, at: NOW + i * 1000 }));
    reports.sort(() => Math.random() - 0.5);
    await Promise.all(
      reports.map((r, i) =>
        (i % 2 === 0 ? one : two).telephonyFacts({
          now: NOW + i,
          advisorStates: [r],
          unknownQueues: [{ platform: 'race', queueKey: 'q' }],
          ledger: [{ callId: 'race-call', offeredAt: r.at, endedAt: r.at + 5000, ...(i === 7 ? { agent: 'kate.bell' } : {}) }],
        }),
      ),
    );
    expect((await telephonyA.advisorStates()).find((a) => a.advisor === 'race.advisor')).toEqual({ platform: 'twilio', advisor: 'race.advisor', state: 's29', detail: null, at: NOW + 29_000 });
    expect((await telephonyA.unknownQueues()).find((q) => q.platform === 'race')?.calls).toBe(30);
    expect(await telephonyA.ledger('race-call')).toMatchObject({ offeredAt: NOW, endedAt: NOW + 29_000 + 5000, agent: 'kate.bell' });
  });

  it('the same calls written by both in opposite orders: every write goes in, none refused as a deadlock', async () => {
    const calls = Array.from({ length: 12 }, (_, i) => `order-${String(i).padStart(2, '0')}`);
    const facts = (list: string[], at: number) => list.map((callId) => ({ callId, queue: 'general', offeredAt: at, endedAt: at + 1000 }));
    const rounds = Array.from({ length: 4 }, (_, r) =>
      Promise.all([
        one.telephonyFacts({ now: NOW, ledger: facts(calls, NOW + r), unknownQueues: calls.map((q) => ({ platform: 'order', queueKey: q })) }),
        two.telephonyFacts({ now: NOW, ledger: facts([...calls].reverse(), NOW + 10 + r), unknownQueues: [...calls].reverse().map((q) => ({ platform: 'order', queueKey: q })) }),
      ]),
    );
    await Promise.all(rounds);
    for (const callId of calls) expect(await telephonyA.ledger(callId)).toMatchObject({ offeredAt: NOW, endedAt: NOW + 13 + 1000 });
    expect((await telephonyA.unknownQueues()).filter((q) => q.platform === 'order').map((q) => q.calls)).toEqual(calls.map(() => 8));
  });

  it('one automatic message recorded by both at once is recorded and audited once', async () => {
    const input: RecordAutomaticMailInput = { messageId: '<twice@example.org>', receivedAt: NOW, kind: 'auto-reply', marker: 'auto-submitted', subject: 'Away', contactId: null, reply: null, now: NOW, actor: 'mail:imap' };
    const [a, b] = await both((c) => c.recordAutomaticMail(input));
    expect([a.recorded, b.recorded].sort()).toEqual([false, true]);
    const { rows } = await pgA.pool.query<{ n: number }>("SELECT count(*) AS n FROM audit WHERE action = 'mail.automatic' AND at = $1 AND detail::json ->> 'kind' = 'auto-reply' AND (detail::json ->> 'contactId') IS NULL", [NOW]);
    // One from the contract script (m3 at NOW + 3 is another instant) plus this one.
    expect(rows[0]!.n).toBe(1);
    expect((await mailA.automatic('<twice@example.org>'))?.subject).toBe('Away');
  });
});
