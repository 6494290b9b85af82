// The shared mailbox followed over IMAP against a real Dovecot (tests/helpers/dovecot.ts): a
// customer's mail in INBOX opens a contact; the centre's reply in Sent meets its clock; an
// out-of-office in INBOX opens nothing; mail delivered while Kept runs is taken as it arrives (IDLE);
// after a restart nothing is read twice and what arrived meanwhile is read. Kept never deletes or
// alters the mail.
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

let dovecot: Dovecot;
let t: TestApp | undefined;
const db = join(mkdtempSync(join(tmpdir(), 'kept-imap-')), 'kept.db');

beforeAll(async () => {
  dovecot = await startDovecot();
  recordSecret(dovecot.password);
});
afterAll(async () => {
  await t?.close();
  await dovecot?.stop();
});

const env = () => ({
  KEPT_DB: db,
  KEPT_MAILBOX: 'customer.services@livewest.example',
  KEPT_ORG_DOMAINS: 'livewest.example',
  KEPT_IMAP_HOST: '127.0.0.1',
  KEPT_IMAP_PORT: String(dovecot.port),
  KEPT_IMAP_SECURE: 'false',
  KEPT_IMAP_USER: dovecot.user,
  KEPT_IMAP_PASSWORD: dovecot.password,
  KEPT_IMAP_FOLDERS: 'INBOX,Sent',
  KEPT_IMAP_POLL_SECONDS: '30',
});

const rfcDate = (ms = Date.now()) => new Date(ms).toUTCString().replace('GMT', '+0000');
let n = 0;
const customer = (subject: string) => {
  const id = `<imap-${++n}-${Date.now()}@tenant.example>`;
  return { id, raw: `From: Dee Tenant <dee@tenant.example>\r\nTo: customer.services@livewest.example\r\nSubject: ${subject}\r\nDate: ${rfcDate(Date.now() - 60_000)}\r\nMessage-ID: ${id}\r\n\r\nThe damp is back.\r\n` };
};

/** Waits for a condition (the reader works in the background); fails with `what` if it never holds. */
async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const reader = () => t!.app.mailReader!;
const readIn = (folder: string) => reader().state.find((s) => s.folder === folder)!.read;

describe('the shared mailbox over IMAP', () => {
  let first: { id: string; raw: string };

  it('reads what was already in INBOX when it starts: a customer\'s mail opens a contact', async () => {
    first = customer('Damp in the bedroom');
    await dovecot.deliver('INBOX', first.raw);
    t = await startTestApp(env());
    const row = await until('the contact', () => t!.service.contacts.byExternal('email', first.id));
    expect(row.route).toBe('customer-services');
    expect((await t.service.view(row.id))!.clocks.find((c) => c.standard === 'email-reply')!.status).not.toBe('met');
    await until('both folders followed', () => reader().state.every((s) => s.connected));
    expect(reader().state.map((s) => [s.folder, s.idle])).toEqual([
      ['INBOX', true],
      ['Sent', true],
    ]);
  });

  it('follows the folder live: mail delivered now opens a contact without a restart', async () => {
    const onBoard = t!.app.live.runningClocks;
    const live = customer('Boiler');
    await dovecot.deliver('INBOX', live.raw);
    await until('the live contact', () => t!.service.contacts.byExternal('email', live.id));
    // On the board: its reply clock is among the running clocks the board follows.
    await until('the clock on the board', () => t!.app.live.runningClocks === onBoard + 1);
  });

  it('an out-of-office in INBOX opens nothing; it is kept as automatic mail', async () => {
    const before = (await t!.counts()).contacts;
    const id = `<oof-${Date.now()}@tenant.example>`;
    await dovecot.deliver('INBOX', `From: Dee Tenant <dee@tenant.example>\r\nTo: customer.services@livewest.example\r\nSubject: Automatic reply: Your repair\r\nAuto-Submitted: auto-replied\r\nDate: ${rfcDate()}\r\nMessage-ID: ${id}\r\n\r\nI am away.\r\n`);
    const kept = await until('the automatic mail kept', () => t!.service.mail.automatic(id));
    expect(kept.kind).toBe('auto-reply');
    expect((await t!.counts()).contacts).toBe(before);
  });

  it('the detailed health (with a token) says how each folder is followed; without one, nothing of it', async () => {
    // The out-of-office is kept a moment before the reader counts it: wait for the count.
    await until('INBOX read and looked through', () => {
      const inbox = reader().state.find((s) => s.folder === 'INBOX')!;
      return inbox.read >= 3 && inbox.lastCheckedAt !== undefined;
    });
    const r = await t!.app.inject({ method: 'GET', url: '/api/v1/health', headers: t!.auth });
    expect(r.statusCode, r.body).toBe(200);
    const mailbox = r.json().mailbox as Array<Record<string, unknown>>;
    expect(mailbox.map((f) => [f.folder, f.connected, f.idle])).toEqual([
      ['INBOX', true, true],
      ['Sent', true, true],
    ]);
    const inbox = mailbox[0]!;
    expect(inbox.read).toBe(3);
    expect(inbox.outcomes).toMatchObject({ created: 2, 'automatic:auto-reply': 1 });
    expect(Date.parse(String(inbox.lastReadAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(inbox.lastError).toBeUndefined();
    const open = await t!.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(open.json().mailbox).toBeUndefined();
  });

  it("the centre's reply in Sent meets the customer's clock", async () => {
    const replyId = `<reply-${Date.now()}@livewest.example>`;
    await dovecot.deliver('Sent', `From: Customer Services <customer.services@livewest.example>\r\nTo: dee@tenant.example\r\nSubject: Re: Damp in the bedroom\r\nDate: ${rfcDate()}\r\nMessage-ID: ${replyId}\r\nIn-Reply-To: ${first.id}\r\n\r\nWe will call you today.\r\n`);
    const row = (await t!.service.contacts.byExternal('email', first.id))!;
    await until('the clock met', async () => (await t!.service.view(row.id))!.clocks.find((c) => c.standard === 'email-reply')!.status === 'met');
  });

  it('after a restart nothing is read twice, and what arrived meanwhile is read', async () => {
    await until('every message read', () => readIn('INBOX') === 3 && readIn('Sent') === 1);
    await t!.service.tokens.revoke('test', Date.now()); // the next app makes its own
    await t!.close();
    t = undefined;
    const contacts = customer('Leak');
    await dovecot.deliver('INBOX', contacts.raw);
    t = await startTestApp(env());
    await until('the new contact', () => t!.service.contacts.byExternal('email', contacts.id));
    await until('both folders followed', () => reader().state.every((s) => s.connected));
    // Only the one new message was read (a second pass over the old ones would count them).
    await new Promise((r) => setTimeout(r, 300));
    expect([readIn('INBOX'), readIn('Sent')]).toEqual([1, 0]);
  });

  it('never deletes or alters the mail: every message is still there, unflagged', async () => {
    const c = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await c.connect();
    try {
      const flags: Array<[string, number, string[]]> = [];
      for (const folder of ['INBOX', 'Sent']) {
        await c.mailboxOpen(folder, { readOnly: true });
        for await (const m of c.fetch('1:*', { uid: true, flags: true })) flags.push([folder, m.uid, [...(m.flags ?? [])].filter((f) => f !== '\\Recent')]); // \Recent is the server's own
      }
      expect(flags).toEqual([
        ['INBOX', 1, []],
        ['INBOX', 2, []],
        ['INBOX', 3, []],
        ['INBOX', 4, []],
        ['Sent', 1, []],
      ]);
    } finally {
      await c.logout();
    }
  });
});
