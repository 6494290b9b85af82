// The channel adapters on either database (issue 14): the same calls, mail, social messages and web
// forms through IngestService over SQLite (a real file, the inline writer) and over PostgreSQL (a
// fresh database, PgRunner and the PostgreSQL stores) come to the same outcomes. Each step turns on a
// read the adapters make through the service's ports before they write: a contact by its source key,
// an event by its key (duplicates, replies already recorded), the events held for a call, a reply
// clock still open, a sender's messages awaiting a reply, automatic mail by its Message-ID.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { openPostgres } from '../../db/pg/connection.js';
import { loadConfig } from '../../server/config.js';
import { ingestEmail } from '../../server/ingest/email.js';
import { QueueSet } from '../../server/ingest/queues.js';
import { IngestService, type ContactView } from '../../server/ingest/service.js';
import { ingestSocial, type SocialWebhook } from '../../server/ingest/social.js';
import { applyCallEvents, type CallEvent } from '../../server/ingest/telephony.js';
import { submitWebform } from '../../server/ingest/webform.js';
import { PgRunner } from '../../server/store/pg/runner.js';
import { seedPgCalendars } from '../../server/store/pg/writer-calendars.js';
import { pgStores } from '../../server/store/stores.js';
import { freshPgDatabase } from '../helpers/pg.js';

const dir = mkdtempSync(join(tmpdir(), 'kept-ingest-both-'));
const config = loadConfig({
  KEPT_DB: join(dir, 'config.db'),
  KEPT_WEB_ROOT: join(dir, 'no-web'),
  KEPT_MAILBOX: 'customer.services@livewest.example',
  KEPT_ORG_DOMAINS: 'livewest.example',
  KEPT_SOCIAL_PAGE_ID: '1234567890',
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Opened {
  service: IngestService;
  close(): Promise<void>;
}

async function onSqlite(): Promise<Opened> {
  const connection = openDatabase(join(mkdtempSync(join(dir, 'sqlite-')), 'kept.db'));
  const service = new IngestService(connection, { packFamily: config.packFamily });
  return {
    service,
    close: async () => {
      await service.close();
      connection.close();
    },
  };
}

async function onPostgres(): Promise<Opened> {
  const db = await freshPgDatabase('kept_ingest_adapters');
  const pg = await openPostgres(db.url, { max: 4 });
  await seedPgCalendars(pg.pool, Date.now());
  const writer = await PgRunner.open(pg.pool, { maxEventsPerContact: 1000 });
  const stores = pgStores(pg.pool, db.name);
  const service = new IngestService({ stores, writer, calendars: await stores.calendars.compiled() }, { packFamily: config.packFamily });
  return {
    service,
    close: async () => {
      await service.close();
      await pg.close();
      await db.drop();
    },
  };
}

const clock = (c: ContactView | undefined, standard: string) => c?.clocks.find((k) => k.standard === standard);
const mail = (h: Record<string, string>, body = 'Text.') =>
  `${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\nMIME-Version: 1.0\r\n\r\n${body}\r\n`;
const customerMail = (id: string, subject: string) =>
  Buffer.from(mail({ From: 'Dee Tenant <dee@tenant.example>', To: 'customer.services@livewest.example', Subject: subject, Date: 'Mon, 2 Mar 2026 09:00:00 +0000', 'Message-ID': id }));
const meta = (file: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/meta', file), 'utf8')) as SocialWebhook;

describe.each([
  ['SQLite', onSqlite],
  ['PostgreSQL', onPostgres],
] as const)('the channel adapters on %s', (_name, open) => {
  let db: Opened;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
  });
  const service = () => db.service;

  describe('telephony', () => {
    const options = () => ({ queues: new QueueSet(config.phone.queues, config.phone.defaultQueue), hold: { max: 100, days: 7 } });
    const answered: CallEvent = { callId: 'CA-BOTH-1', event: 'answered', at: '2026-03-02T10:01:00Z', agent: 'kim' };
    const queued: CallEvent = { callId: 'CA-BOTH-1', event: 'queued', at: '2026-03-02T10:00:00Z', caller: { number: '+441632960001' } };

    it('an answer before its call started is held: no contact, the event kept for the call', async () => {
      const r = await applyCallEvents(service(), [answered], true, options());
      expect(r.results).toEqual([{ callId: 'CA-BOTH-1', event: 'answered', outcome: 'held' }]);
      expect(r.contacts).toEqual([]);
      expect(await service().contacts.byExternal('phone', 'CA-BOTH-1')).toBeUndefined();
      expect((await service().telephony.held('CA-BOTH-1')).map((h) => h.event)).toEqual([answered]);
    });

    it('the start opens the contact and applies what was held: the phone answer met at the held instant, nothing left held', async () => {
      const r = await applyCallEvents(service(), [queued], true, options());
      expect(r.created).toBe(true);
      expect(r.results).toMatchObject([{ callId: 'CA-BOTH-1', event: 'queued', outcome: 'created' }]);
      expect(r.contacts).toHaveLength(1);
      expect(clock(r.contacts[0], 'phone-answer')).toMatchObject({ status: 'met', fulfilledAt: '2026-03-02T10:01:00.000Z' });
      expect(r.contacts[0]!.events.map((e) => e.type)).toEqual(['answered', 'assigned']);
      expect(await service().telephony.held('CA-BOTH-1')).toEqual([]);
    });

    it('the whole call again: the start a replay, the answer a duplicate (found by its key), the end recorded in the ledger', async () => {
      const id = (await service().contacts.byExternal('phone', 'CA-BOTH-1'))!.id;
      const ended: CallEvent = { callId: 'CA-BOTH-1', event: 'ended', at: '2026-03-02T10:06:00Z', agent: 'kim', talkSeconds: 300, wrapSeconds: 30 };
      const r = await applyCallEvents(service(), [queued, answered, ended], false, options());
      expect(r.created).toBe(false);
      expect(r.results.map((x) => [x.event, x.outcome, x.contactId])).toEqual([
        ['queued', 'replayed', id],
        ['answered', 'duplicate', id],
        ['ended', 'recorded', id],
      ]);
      expect(r.contacts.map((c) => c.id)).toEqual([id]);
      expect(r.contacts[0]!.events.map((e) => e.type)).toEqual(['answered', 'assigned']);
      expect(await service().telephony.ledger('CA-BOTH-1')).toMatchObject({ offeredAt: Date.parse(queued.at), answeredAt: Date.parse(answered.at), talkMs: 300_000, wrapMs: 30_000, agent: 'kim' });
    });

    it('a batch over two calls presents both contacts, in order of first mention', async () => {
      const a: CallEvent = { callId: 'CA-BOTH-2', event: 'queued', at: '2026-03-02T11:00:00Z' };
      const b: CallEvent = { callId: 'CA-BOTH-3', event: 'queued', at: '2026-03-02T11:00:10Z' };
      const r = await applyCallEvents(service(), [b, a, { callId: 'CA-BOTH-2', event: 'abandoned', at: '2026-03-02T11:00:40Z' }], false, options());
      const ids = await Promise.all(['CA-BOTH-3', 'CA-BOTH-2'].map(async (c) => (await service().contacts.byExternal('phone', c))!.id));
      expect(r.contacts.map((c) => c.id)).toEqual(ids);
      expect(clock(r.contacts[1], 'phone-answer')!.status).toBe('abandoned');
      expect(clock(r.contacts[0], 'phone-answer')!.status).not.toBe('abandoned');
    });
  });

  describe('email', () => {
    const first = '<both-first@tenant.example>';
    const second = '<both-second@tenant.example>';
    const replyId = '<both-reply@livewest.example>';
    const reply = Buffer.from(
      mail({ From: 'Customer Services <customer.services@livewest.example>', To: 'dee@tenant.example', Subject: 'Re: Damp', Date: 'Mon, 2 Mar 2026 10:00:00 +0000', 'Message-ID': replyId, 'In-Reply-To': second, References: `${first} ${second}` }),
    );
    const ids: Record<string, string> = {};

    it("a customer's message opens a contact; the same message again is the stored contact", async () => {
      for (const [id, subject] of [
        [first, 'Damp'],
        [second, 'Damp, again'],
      ] as const) {
        const r = await ingestEmail(service(), config, customerMail(id, subject));
        expect(r.kind).toBe('created');
        ids[id] = (r as { contact: ContactView }).contact.id;
      }
      const again = await ingestEmail(service(), config, customerMail(first, 'Damp'));
      expect(again).toMatchObject({ kind: 'replayed', contact: { id: ids[first] } });
    });

    it("the centre's reply answers the message it names and every other one of the thread still awaiting a reply; again, a duplicate", async () => {
      const r = await ingestEmail(service(), config, reply);
      expect(r).toMatchObject({ kind: 'replied', contact: { id: ids[second] }, alsoAnswered: [ids[first]], duplicate: false });
      for (const id of [first, second]) expect(clock(await service().view(ids[id]!), 'email-reply')!.status).toBe('met');
      const again = await ingestEmail(service(), config, reply);
      expect(again).toMatchObject({ kind: 'replied', contact: { id: ids[second] }, alsoAnswered: [], duplicate: true });
      expect((await service().view(ids[second]!))!.events.map((e) => e.type)).toEqual(['replied']);
    });

    it('a bounce of that reply marks it undelivered on both contacts, and is kept as automatic mail; read again, nothing more', async () => {
      const dsnId = '<both-dsn@mx.tenant.example>';
      const dsn = [
        'From: MAILER-DAEMON@mx.tenant.example (Mail Delivery System)',
        'To: customer.services@livewest.example',
        'Subject: Undelivered Mail Returned to Sender',
        'Date: Mon, 2 Mar 2026 10:00:05 +0000',
        `Message-ID: ${dsnId}`,
        'Auto-Submitted: auto-replied',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'I could not deliver your message.',
        '--b',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.tenant.example',
        '',
        'Final-Recipient: rfc822; dee@tenant.example',
        'Action: failed',
        'Status: 5.1.1',
        '--b',
        'Content-Type: text/rfc822-headers',
        '',
        `Message-ID: ${replyId}`,
        `In-Reply-To: ${second}`,
        `References: ${first} ${second}`,
        'Subject: Re: Damp',
        '--b--',
        '',
      ].join('\r\n');
      const r = await ingestEmail(service(), config, Buffer.from(dsn));
      expect(r).toMatchObject({ kind: 'automatic', automatic: 'bounce', contactId: ids[second], undeliveredReply: replyId, alsoUndelivered: [ids[first]] });
      for (const id of [first, second]) {
        const after = (await service().view(ids[id]!))!;
        expect(clock(after, 'email-reply')!.status, id).not.toBe('met');
        expect(after.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
      }
      expect(await service().mail.automatic(dsnId)).toMatchObject({ kind: 'bounce', contactId: ids[second], reply: replyId });
      const again = await ingestEmail(service(), config, Buffer.from(dsn));
      expect(again).toMatchObject({ kind: 'automatic', automatic: 'bounce', contactId: ids[second], undeliveredReply: replyId });
      expect((await service().view(ids[first]!))!.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
    });
  });

  describe('social', () => {
    const wamid = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=';

    it("a customer's WhatsApp message opens a contact; the business's own message answers it", async () => {
      expect(await ingestSocial(service(), config, meta('whatsapp-text.json'))).toMatchObject({ received: 1, rejected: [] });
      const id = (await service().contacts.byExternal('social', wamid))!.id;
      const r = await ingestSocial(service(), config, meta('whatsapp-smb-message-echo.json'));
      expect(r).toMatchObject({ received: 1, contacts: [id] });
      expect(clock(await service().view(id), 'social-reply')!.status).toBe('met');
      // The same echo again finds no message awaiting a reply.
      expect(await ingestSocial(service(), config, meta('whatsapp-smb-message-echo.json'))).toMatchObject({ received: 0, ignoredKinds: { 'reply-to-no-waiting-message': 1 } });
    });

    it('a failed delivery of that answer marks it undelivered: the reply clock no longer met', async () => {
      const id = (await service().contacts.byExternal('social', wamid))!.id;
      expect(await ingestSocial(service(), config, meta('whatsapp-status-failed.json'))).toMatchObject({ received: 1, contacts: [id] });
      const after = (await service().view(id))!;
      expect(clock(after, 'social-reply')!.status).not.toBe('met');
      expect(after.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
    });
  });

  describe('web form', () => {
    it('a submissionId sent twice is one contact; so is the same content within the resubmission window', async () => {
      const byId = { formType: 'general', message: 'My boiler is making a noise.', submissionId: 'both-1', name: 'Dee Tenant', email: 'dee@tenant.example' };
      const a = await submitWebform(service(), byId);
      const b = await submitWebform(service(), byId);
      expect(a).toMatchObject({ bot: false, created: true });
      expect(b).toMatchObject({ bot: false, created: false, contact: { id: (a as { contact: ContactView }).contact.id, receivedAt: (a as { contact: ContactView }).contact.receivedAt } });
      const byContent = { formType: 'complaint', message: 'Nobody came about the leak.', name: 'Dee Tenant', email: 'dee@tenant.example' };
      const c = await submitWebform(service(), byContent);
      const d = await submitWebform(service(), byContent);
      expect(c).toMatchObject({ bot: false, created: true });
      expect(d).toMatchObject({ bot: false, created: false, contact: { id: (c as { contact: ContactView }).contact.id } });
    });
  });
});
