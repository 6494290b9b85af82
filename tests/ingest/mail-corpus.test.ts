// Real mail from public test corpora (tests/fixtures/mail/README.md says where each file came from):
// no automatic message opens or meets a customer's clock; every enquiry is kept. Then the
// both-ways cases: a colleague's out-of-office is no reply, a bounce of the centre's reply marks it
// undelivered and the clock runs on.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAutomatic } from '../../server/ingest/automatic.js';
import { LineEnds } from '../../server/ingest/email.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const DIR = join(import.meta.dirname, '../fixtures/mail');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let t: TestApp;
const NOW = Date.parse('2026-03-02T12:00:00Z');
beforeAll(async () => {
  t = await startTestApp({ KEPT_MAILBOX: 'customer.services@livewest.example', KEPT_ORG_DOMAINS: 'livewest.example' }, { now: () => NOW });
});
afterAll(async () => {
  await t.close();
});
const post = async (payload: string | Buffer) => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/ingest/email', payload, headers: { ...t.auth, 'content-type': 'message/rfc822' } });
  return { status: r.statusCode, json: r.json() as Json };
};

/** Each automatic file and the kind Kept must call it. */
const AUTOMATIC: Record<string, string> = {
  'mail-multi_address_bounce1.eml': 'bounce',
  'mail-multi_address_bounce2.eml': 'bounce',
  'mail-multipart_report_multiple_status.eml': 'bounce',
  // A delay warning ("could not send message for past 8 hours"; Action: delayed), not a bounce: it
  // never marks the centre's reply undelivered. (Called a bounce before: mailparser hands the
  // message/delivery-status part over as body text, where its Action fields were not read.)
  'mail-report_422.eml': 'delay',
  'mail-report_530.eml': 'bounce',
  'sisimai-arf-01.eml': 'abuse-report',
  'sisimai-arf-02.eml': 'abuse-report',
  'sisimai-arf-11.eml': 'abuse-report',
  'sisimai-lhost-amazonses-01.eml': 'bounce',
  'sisimai-lhost-amazonses-02.eml': 'bounce',
  // Amazon SNS notifications of SES (x-amz-sns-message-id), by their notificationType.
  'sisimai-lhost-amazonses-09.eml': 'bounce',
  'sisimai-lhost-amazonses-10.eml': 'bounce',
  'sisimai-lhost-amazonses-11.eml': 'abuse-report',
  'sisimai-lhost-amazonses-12.eml': 'auto-generated',
  'sisimai-lhost-amazonses-13.eml': 'auto-generated',
  'sisimai-lhost-courier-01.eml': 'bounce',
  'sisimai-lhost-exchange2003-01.eml': 'bounce',
  'sisimai-lhost-exchange2007-01.eml': 'bounce',
  'sisimai-lhost-exchange2007-02.eml': 'bounce',
  'sisimai-lhost-exim-01.eml': 'bounce',
  'sisimai-lhost-exim-02.eml': 'bounce',
  // The fml mailing-list manager's own notices (X-MLServer, from the list's -admin address).
  'sisimai-lhost-fml-02.eml': 'auto-generated',
  'sisimai-lhost-fml-03.eml': 'auto-generated',
  'sisimai-lhost-gmail-01.eml': 'bounce',
  'sisimai-lhost-gmx-01.eml': 'bounce',
  'sisimai-lhost-googleworkspace-01.eml': 'bounce',
  // A Japanese carrier's (au/KDDI) non-delivery notices: no DSN type, the original attached, from
  // the null sender (02, 03) or a no-reply address saying it "could not be delivered" (01).
  'sisimai-lhost-kddi-01.eml': 'bounce',
  'sisimai-lhost-kddi-02.eml': 'bounce',
  'sisimai-lhost-kddi-03.eml': 'bounce',
  'sisimai-lhost-mailru-01.eml': 'bounce',
  'sisimai-lhost-office365-01.eml': 'bounce',
  'sisimai-lhost-office365-02.eml': 'bounce',
  'sisimai-lhost-opensmtpd-01.eml': 'bounce',
  'sisimai-lhost-outlook-01.eml': 'bounce',
  'sisimai-lhost-outlook-06.eml': 'delay',
  'sisimai-lhost-postfix-01.eml': 'bounce',
  'sisimai-lhost-postfix-02.eml': 'bounce',
  'sisimai-lhost-postfix-10.eml': 'bounce',
  'sisimai-lhost-qmail-01.eml': 'bounce',
  'sisimai-lhost-sendmail-01.eml': 'bounce',
  'sisimai-lhost-sendmail-02.eml': 'bounce',
  'sisimai-lhost-yahoo-01.eml': 'bounce',
  // maildir/mac: lhost-postfix-01 with classic Mac line ends (a CR alone); read as CR LF.
  'sisimai-mac-lhost-postfix-01.eml': 'bounce',
  'sisimai-rfc3464-01.eml': 'bounce',
  'sisimai-rfc3834-01.eml': 'auto-reply',
  'sisimai-rfc3834-02.eml': 'auto-reply',
  'sisimai-rfc3834-03.eml': 'auto-reply',
  'sisimai-rfc3834-04.eml': 'auto-reply',
  'sisimai-rfc3834-05.eml': 'auto-reply',
  'sisimai-rfc3834-06.eml': 'auto-reply',
  'sisimai-rhost-apple-01.eml': 'bounce',
  'constructed-mdn-rfc8098.eml': 'read-receipt',
};

describe('the automatic corpus', () => {
  it('lists every file in the folder, and only those', () => {
    expect(readdirSync(join(DIR, 'automatic')).sort()).toEqual(Object.keys(AUTOMATIC).sort());
  });
  for (const [file, kind] of Object.entries(AUTOMATIC)) {
    it(`${file}: ${kind}, kept, no contact`, async () => {
      const before = await t.counts();
      const r = await post(readFileSync(join(DIR, 'automatic', file)));
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      expect(r.json.automatic).toBe(kind);
      expect((await t.counts()).contacts).toBe(before.contacts);
      expect((await t.service.mail.automatic(r.json.messageId))?.kind).toBe(kind);
    });
  }
});

describe('classic Mac line ends (a CR alone)', () => {
  it('a bounce saved so, with the receiving server\'s Delivered-To in CR LF on top, is still a bounce (it opened a contact with no sender)', async () => {
    const before = await t.counts();
    const raw = Buffer.concat([Buffer.from('Delivered-To: customer.services@livewest.example\r\n'), readFileSync(join(DIR, 'automatic', 'sisimai-mac-lhost-postfix-01.eml'))]);
    const r = await post(raw);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json.automatic).toBe('bounce');
    expect((await t.counts()).contacts).toBe(before.contacts);
  });
  const run = (chunks: string[]) => {
    const ends = new LineEnds();
    const out = [...chunks.flatMap((c) => ends.push(Buffer.from(c, 'latin1'))), ...ends.flush()];
    return Buffer.concat(out).toString('latin1');
  };
  it('turns every bare CR into CR LF, across chunk boundaries, once it has seen a CR-only start', () => {
    const mac = `From: a@b\rTo: c@d\rSubject: x\r\r${'line\r'.repeat(1000)}end\r`;
    const want = mac.replaceAll('\r', '\r\n');
    expect(run([mac])).toBe(want);
    // Split at every CR, and between a CR and an LF the receiving server put on top.
    expect(run(['Delivered-To: c@d\r', '\n', ...mac.split(/(?<=\r)/)])).toBe(`Delivered-To: c@d\r\n${want}`);
    // A short message, decided at its end.
    expect(run(['From: a@b\rTo: c@d\rSubject: x\r\rhi\r'])).toBe('From: a@b\r\nTo: c@d\r\nSubject: x\r\n\r\nhi\r\n');
  });
  it('passes CR LF and LF mail byte for byte, a stray CR included', () => {
    for (const text of [`From: a@b\r\nTo: c@d\r\n\r\n${'x\ry\r\n'.repeat(2000)}`, `From: a@b\nTo: c@d\n\n${'x\ry\n'.repeat(2000)}`]) {
      expect(run([text])).toBe(text);
      expect(run(text.match(/[\s\S]{1,700}/g)!)).toBe(text);
    }
  });
});

/** Each enquiry: delivered to the mailbox (the receiving server's Delivered-To), and what Kept must record. */
const ENQUIRY: Record<string, (c: Json) => void> = {
  'mail-example01.eml': (c) => {
    expect(c.customer.email).toBe('jdoe@machine.example');
    // RFC 2822's own example is dated 1997: said exactly, the receipt time used.
    expect(c.source.note).toContain('is outside the years 2000–2199 Kept supports');
  },
  'mail-raw_email.eml': (c) => expect(c.subject).toBe('NOTE: 한국말로 하는 것'),
  'mail-raw_email_reply.eml': (c) => expect(c.source.inReplyTo).toBe('<348F04F142D69C21-291E56D292BC@xxxx.net>'),
  'mail-attachment_message_rfc822.eml': (c) => expect(c.source.attachments).toEqual([{ filename: 'ForwardedMessage.eml', contentType: 'message/rfc822', size: 3781 }]),
  'mail-attachment_pdf.eml': (c) => expect(c.source.attachments.map((a: Json) => a.contentType)).toContain('application/pdf'),
  'mail-japanese.eml': (c) => expect(c.subject).toBe('まみむめも'),
  // A bounce a person forwarded ("Fwd: Returned mail", their own words above it): an enquiry. Its
  // headers are a person's; only the quoted text is a DSN's, and a classifier that read quoted text
  // would also lose every tenant who pastes a bounce into "my email to you bounced".
  'sisimai-lhost-sendmail-14.eml': (c) => {
    expect(c.customer.email).toBe('shironeko@example.jp');
    expect(c.subject).toBe('Fwd: Returned mail: see transcript for details');
  },
  // sisimai's own "is not a bounce" messages: sent through an HTTP-to-SMTP relay (the Reply-To is
  // the customer), and a message with the original attached as original.eml.
  'sisimai-is-not-bounce-01.eml': (c) => expect(c.customer.email).toBe('mikeneko@example.org'),
  'sisimai-is-not-bounce-02.eml': (c) => {
    expect(c.customer.email).toBe('dummy@example.com');
    expect(c.source.attachments.map((a: Json) => a.contentType)).toContain('message/rfc822');
  },
  'constructed-html-only.eml': (c) => {
    expect(c.summary).toBe('Hello there,\n\nMy boiler is broken again and the flat is cold.');
    expect(c.source.attachments).toEqual([{ filename: 'café résumé.pdf', contentType: 'application/pdf', size: 3 }]);
  },
};

describe('the enquiry corpus', () => {
  it('lists every file in the folder, and only those', () => {
    expect(readdirSync(join(DIR, 'enquiry')).sort()).toEqual([...Object.keys(ENQUIRY), 'mail-attachment_nonascii_filename.eml'].sort());
  });
  for (const [file, check] of Object.entries(ENQUIRY)) {
    it(`${file}: a contact`, async () => {
      const raw = Buffer.concat([Buffer.from('Delivered-To: customer.services@livewest.example\r\n'), readFileSync(join(DIR, 'enquiry', file))]);
      const r = await post(raw);
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      expect(r.json.route).toBe('customer-services');
      check(r.json);
      // The same message again is a replay, not a second contact.
      expect((await post(raw)).status).toBe(200);
    });
  }
  it('a different message reusing a stored Message-ID is 409, never dropped as a replay', async () => {
    // mail's attachment_nonascii_filename.eml reuses attachment_message_rfc822.eml's Message-ID.
    const first = Buffer.concat([Buffer.from('Delivered-To: customer.services@livewest.example\r\n'), readFileSync(join(DIR, 'enquiry', 'mail-attachment_message_rfc822.eml'))]);
    await post(first);
    const r = await post(Buffer.concat([Buffer.from('Delivered-To: customer.services@livewest.example\r\n'), readFileSync(join(DIR, 'enquiry', 'mail-attachment_nonascii_filename.eml'))]));
    expect(r.status).toBe(409);
    expect(r.json.message).toContain('is already stored for a different message');
  });
});

// ---------------------------------------------------------------------------------------------
const mail = (h: Record<string, string>, body = 'Text.') =>
  `${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\nMIME-Version: 1.0\r\n\r\n${body}\r\n`;
let n = 0;
const customerMail = () => {
  const id = `<both-${++n}@tenant.example>`;
  return { id, raw: mail({ From: 'Dee <dee@tenant.example>', To: 'customer.services@livewest.example', Subject: 'Damp', Date: 'Mon, 2 Mar 2026 09:00:00 +0000', 'Message-ID': id }) };
};
const clock = (c: Json) => c.clocks.find((k: Json) => k.standard === 'email-reply');

describe('both ways', () => {
  it("a colleague's Exchange out-of-office is not the centre's reply: the clock runs on, the message is on the thread", async () => {
    const { id, raw } = customerMail();
    const c = (await post(raw)).json;
    const oof = mail({
      From: 'Sam Advisor <sam@livewest.example>',
      To: 'dee@tenant.example',
      Subject: 'Automatic reply: Damp',
      Date: 'Mon, 2 Mar 2026 09:01:00 +0000',
      'Message-ID': `<oof-${n}@livewest.example>`,
      'In-Reply-To': id,
      'X-Auto-Response-Suppress': 'All',
      'X-MS-Exchange-Inbox-Rules-Loop': 'sam@livewest.example',
    });
    const r = await post(oof);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ automatic: 'auto-reply', contactId: c.id });
    const after = (await t.service.view(c.id))!;
    expect(clock(after).status).not.toBe('met');
    expect(after.events.map((e) => e.type)).toEqual(['automatic-mail']);
  });

  it("a bounce of the centre's reply marks it undelivered: the clock is no longer met", async () => {
    const { id, raw } = customerMail();
    const c = (await post(raw)).json;
    const replyId = `<reply-${n}@livewest.example>`;
    const reply = mail({ From: 'Customer Services <customer.services@livewest.example>', To: 'dee@tenant.example', Subject: 'Re: Damp', Date: 'Mon, 2 Mar 2026 10:00:00 +0000', 'Message-ID': replyId, 'In-Reply-To': id });
    const replied = await post(reply);
    expect(replied.status).toBe(200);
    expect(clock(replied.json).status).toBe('met');
    // A Postfix-style DSN returning the reply's headers.
    const dsn = [
      'From: MAILER-DAEMON@mx.tenant.example (Mail Delivery System)',
      'To: customer.services@livewest.example',
      'Subject: Undelivered Mail Returned to Sender',
      'Date: Mon, 2 Mar 2026 10:00:05 +0000',
      `Message-ID: <dsn-${n}@mx.tenant.example>`,
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
      `In-Reply-To: ${id}`,
      'Subject: Re: Damp',
      '--b--',
      '',
    ].join('\r\n');
    const r = await post(dsn);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json).toMatchObject({ automatic: 'bounce', contactId: c.id, undeliveredReply: replyId });
    const after = (await t.service.view(c.id))!;
    expect(clock(after).status).not.toBe('met');
    expect(after.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
  });

  /** A Postfix-style DSN returning the headers of the centre's reply `replyId` (which answered `inReplyTo`, naming `references`). */
  const dsnOf = (replyId: string, inReplyTo: string, references: string[], action = 'failed') =>
    [
      'From: MAILER-DAEMON@mx.tenant.example (Mail Delivery System)',
      'To: customer.services@livewest.example',
      `Subject: ${action === 'delayed' ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
      'Date: Mon, 2 Mar 2026 10:00:05 +0000',
      `Message-ID: <dsn-${++n}@mx.tenant.example>`,
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
      `Action: ${action}`,
      `Status: ${action === 'delayed' ? '4.4.1' : '5.1.1'}`,
      '--b',
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: ${replyId}`,
      `In-Reply-To: ${inReplyTo}`,
      ...(references.length > 0 ? [`References: ${references.join(' ')}`] : []),
      'Subject: Re: Damp',
      '--b--',
      '',
    ].join('\r\n');

  it('a bounce of a reply that answered several stored messages marks it undelivered on every contact it answered', async () => {
    const first = customerMail();
    const second = customerMail();
    const c1 = (await post(first.raw)).json;
    const c2 = (await post(second.raw)).json;
    const replyId = `<reply-both-${n}@livewest.example>`;
    const reply = mail({ From: 'customer.services@livewest.example', To: 'dee@tenant.example', Subject: 'Re: Damp', Date: 'Mon, 2 Mar 2026 10:00:00 +0000', 'Message-ID': replyId, 'In-Reply-To': second.id, References: `${first.id} ${second.id}` });
    const replied = await post(reply);
    expect(replied.json.id).toBe(c2.id);
    expect(clock((await t.service.view(c1.id))!).status).toBe('met');
    expect(clock((await t.service.view(c2.id))!).status).toBe('met');
    const dsn = dsnOf(replyId, second.id, [first.id, second.id]);
    const r = await post(dsn);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json).toMatchObject({ automatic: 'bounce', contactId: c2.id, undeliveredReply: replyId, alsoUndelivered: [c1.id] });
    // The same bounce again (read twice): the stored answer, no second event.
    const again = await post(dsn);
    expect(again.json).toMatchObject({ automatic: 'bounce', contactId: c2.id, undeliveredReply: replyId });
    for (const id of [c1.id, c2.id]) {
      const after = (await t.service.view(id))!;
      expect(clock(after).status, id).not.toBe('met');
      expect(after.events.map((e) => e.type)).toEqual(['replied', 'undelivered']);
    }
  });

  it("a delay warning of the centre's reply is not a bounce: the reply still meets the clock", async () => {
    const { id, raw } = customerMail();
    const c = (await post(raw)).json;
    const replyId = `<reply-late-${n}@livewest.example>`;
    await post(mail({ From: 'customer.services@livewest.example', To: 'dee@tenant.example', Subject: 'Re: Damp', Date: 'Mon, 2 Mar 2026 10:00:00 +0000', 'Message-ID': replyId, 'In-Reply-To': id }));
    const r = await post(dsnOf(replyId, id, [], 'delayed'));
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json).toMatchObject({ automatic: 'delay', contactId: c.id });
    expect(r.json.undeliveredReply).toBeUndefined();
    const after = (await t.service.view(c.id))!;
    expect(clock(after).status).toBe('met');
    expect(after.events.map((e) => e.type)).toEqual(['replied', 'automatic-mail']);
  });

  it("an Amazon SNS bounce notification naming the centre's reply in its headers marks it undelivered", async () => {
    const { id, raw } = customerMail();
    const c = (await post(raw)).json;
    const replyId = `<reply-ses-${n}@livewest.example>`;
    await post(mail({ From: 'customer.services@livewest.example', To: 'dee@tenant.example', Subject: 'Re: Damp', Date: 'Mon, 2 Mar 2026 10:00:00 +0000', 'Message-ID': replyId, 'In-Reply-To': id }));
    // SES's notification JSON (its documented shape, as in sisimai's lhost-amazonses-10) with the
    // original's headers included, wrapped by SNS as a JSON string.
    const message = JSON.stringify({
      notificationType: 'Bounce',
      bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'dee@tenant.example', status: '5.1.1' }] },
      mail: { messageId: '0101abc-000000', headers: [{ name: 'Message-ID', value: replyId }, { name: 'In-Reply-To', value: id }, { name: 'Subject', value: 'Re: Damp' }] },
    });
    const sns = mail(
      { From: 'SES-B <no-reply@sns.amazonaws.com>', To: 'customer.services@livewest.example', Subject: 'AWS Notification Message', Date: 'Mon, 2 Mar 2026 10:00:07 +0000', 'Message-ID': `<sns-${n}@email.amazonses.com>`, 'x-amz-sns-message-id': 'ad6bdf42-f483-5bae-bf50-8fc1aad3f981', 'X-SES-Outgoing': '2026.03.02-54.240.27.82', 'Feedback-ID': '1.us-west-2.x:AmazonSES' },
      JSON.stringify({ Type: 'Notification', MessageId: 'ad6bdf42', Message: message }, null, 2),
    );
    const r = await post(sns);
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json).toMatchObject({ automatic: 'bounce', contactId: c.id, undeliveredReply: replyId });
    expect(clock((await t.service.view(c.id))!).status).not.toBe('met');
  });

  it('a website notification from the organisation opens a contact for its Reply-To; a forward for the forwarded sender', async () => {
    const notice = mail(
      { From: 'Website <noreply@livewest.example>', 'Reply-To': 'Vic Visitor <vic@visitor.example>', To: 'customer.services@livewest.example', Subject: 'Contact form: leak', Date: 'Mon, 2 Mar 2026 09:00:00 +0000', 'Message-ID': '<web-1@livewest.example>' },
      'Name: Vic\r\nMessage: water through the ceiling',
    );
    const r = await post(notice);
    expect(r.status).toBe(201);
    expect(r.json.customer).toMatchObject({ email: 'vic@visitor.example', name: 'Vic Visitor' });
    const fwd = mail(
      { From: 'Sam Advisor <sam@livewest.example>', To: 'customer.services@livewest.example', Subject: 'FW: my rent', Date: 'Mon, 2 Mar 2026 09:30:00 +0000', 'Message-ID': '<fwd-1@livewest.example>' },
      'Please pick this up.\r\n\r\n-----Original Message-----\r\nFrom: Pat Tenant <pat@tenant.example>\r\nSent: 02 March 2026 08:00\r\nSubject: my rent\r\n\r\nWhy has my rent gone up?',
    );
    const f = await post(fwd);
    expect(f.status, JSON.stringify(f.json)).toBe(201);
    expect(f.json.customer).toMatchObject({ email: 'pat@tenant.example', name: 'Pat Tenant' });
    expect(f.json.receivedAt).toBe('2026-03-02T09:30:00.000Z');
  });
});

describe('markers and subjects', () => {
  const is = (headers: Record<string, string>, subject = 'Hello') =>
    classifyAutomatic({ headerLines: Object.entries(headers).map(([k, v]) => ({ key: k.toLowerCase(), line: `${k}: ${v}` })), from: [{ address: 'a@b.example', name: '' }], subject, reports: [] })?.kind;
  it.each([
    [{ 'Auto-Submitted': 'auto-replied' }, 'auto-reply'],
    [{ 'Auto-Submitted': 'no' }, undefined],
    [{ Precedence: 'bulk' }, 'bulk'],
    [{ Precedence: 'list' }, 'bulk'],
    [{ Precedence: 'auto_reply' }, 'auto-reply'],
    [{ 'X-Autoreply': 'yes' }, 'auto-reply'],
    [{ 'X-Autorespond': 'yes' }, 'auto-reply'],
    [{ 'X-Apple-Action': 'VACATION' }, 'auto-reply'],
    [{ 'X-MS-Exchange-Message-Is-Ndr': '' }, 'bounce'],
    [{ 'X-MS-Exchange-Generated-Message-Source': 'Mailbox Rules Agent' }, 'auto-generated'],
    [{ 'Content-Type': 'multipart/report; report-type=disposition-notification; boundary=x' }, 'read-receipt'],
  ])('%j → %s', (headers, kind) => expect(is(headers)).toBe(kind));
  it.each([
    ['Automatic reply: Damp', 'auto-reply'],
    ['Auto: Damp', 'auto-reply'],
    ['Out of Office: Damp', 'auto-reply'],
    ['Abwesenheitsnotiz: Damp', 'auto-reply'],
    ['Réponse automatique : Damp', 'auto-reply'],
    ['Respuesta automática: Damp', 'auto-reply'],
    ['Risposta automatica: Damp', 'auto-reply'],
    ['Automatisch antwoord: Damp', 'auto-reply'],
    ['Ateb awtomatig: Damp', 'auto-reply'],
    ['Undeliverable: Damp', 'bounce'],
    ['Read: Damp', 'read-receipt'],
    ['Repair needed out of office hours', undefined],
    ['Re: Out of Office', undefined],
  ])('subject %s → %s', (subject, kind) => expect(is({}, subject)).toBe(kind));
  it("a shared mailbox that is a Google Group: the customer's message (Precedence: list, its own List-Id) is an enquiry; another list's is bulk", () => {
    const lines = (listId: string) => [
      { key: 'precedence', line: 'Precedence: list' },
      { key: 'list-id', line: `List-ID: <${listId}>` },
    ];
    expect(classifyAutomatic({ headerLines: lines('customer.services.livewest.example'), from: [{ address: 'dee@tenant.example', name: '' }], subject: 'Damp', reports: [] }, false, ['livewest.example'])).toBeUndefined();
    expect(classifyAutomatic({ headerLines: lines('news.lists.example.com'), from: [{ address: 'news@example.com', name: '' }], subject: 'Offers', reports: [] }, false, ['livewest.example'])?.kind).toBe('bulk');
  });
  it('what any sending platform adds is no marker: a website notice sent through SES or a list platform is an enquiry', () => {
    expect(is({ 'X-SES-Outgoing': '2026.03.02-54.240.27.82', 'Feedback-ID': '1.eu-west-2.x:AmazonSES', 'List-Unsubscribe': '<mailto:u@x.example>', 'X-Loop': 'forms@site.example' }, 'New enquiry from the website')).toBeUndefined();
    // A person's post through a list (List-Id, their own address) is not a list manager's notice.
    expect(is({ 'List-Id': '<tenants.lists.example.org>', 'X-Mailman-Version': '2.1.39' }, 'Damp in block C')).toBeUndefined();
    // The organisation's own list (a Google Group as the shared mailbox) with a customer whose address looks administrative.
    const own = [{ key: 'list-id', line: 'List-ID: <customer.services.livewest.example>' }];
    expect(classifyAutomatic({ headerLines: own, from: [{ address: 'estate-owner@tenant.example', name: '' }], subject: 'Damp', reports: [] }, false, ['livewest.example'])).toBeUndefined();
    // A person with an attached message who says it "could not be delivered" is no bounce; the same from the null sender is.
    const attached = [{ contentType: 'message/rfc822', text: 'From: me@tenant.example\r\nSubject: hi\r\n\r\nhi' }];
    const text = 'My email to you could not be delivered, here it is again.';
    expect(classifyAutomatic({ headerLines: [], from: [{ address: 'me@tenant.example', name: '' }], subject: 'Fwd: hi', reports: attached, text }, true)).toBeUndefined();
    expect(classifyAutomatic({ headerLines: [{ key: 'return-path', line: 'Return-Path: <>' }], from: [{ address: 'notices@carrier.example', name: '' }], subject: 'Mail', reports: attached, text }, true)?.kind).toBe('bounce');
    // An RFC 3834 out-of-office from the null sender that attaches the message it answers stays an auto-reply (it must not undeliver a reply).
    expect(classifyAutomatic({ headerLines: [{ key: 'return-path', line: 'Return-Path: <>' }, { key: 'auto-submitted', line: 'Auto-Submitted: auto-replied' }], from: [{ address: 'dee@tenant.example', name: '' }], subject: 'Away', reports: attached, text: 'I am away.' }, true)?.kind).toBe('auto-reply');
  });
  it('a list manager\'s own notice and an Exim bounce marker', () => {
    const notice = [{ key: 'x-mailman-version', line: 'X-Mailman-Version: 2.1.39' }, { key: 'list-id', line: 'List-Id: <tenants.lists.example.org>' }];
    expect(classifyAutomatic({ headerLines: notice, from: [{ address: 'tenants-owner@lists.example.org', name: '' }], subject: 'Your message awaits moderator approval', reports: [] }, false, ['livewest.example'])?.kind).toBe('auto-generated');
    expect(is({ 'X-Failed-Recipients': 'dee@tenant.example' })).toBe('bounce');
  });
  it('an inbox rule forwarding a customer is an enquiry, not an auto-reply', () => {
    const headerLines = [{ key: 'x-ms-exchange-inbox-rules-loop', line: 'X-MS-Exchange-Inbox-Rules-Loop: sam@livewest.example' }];
    expect(classifyAutomatic({ headerLines, from: [{ address: 'sam@livewest.example', name: '' }], subject: 'FW: leak', reports: [] }, true)).toBeUndefined();
  });
});

describe('the automatic mail kept can be listed', () => {
  it('by a team lead, newest first, in keyed pages; not by an advisor', async () => {
    const lead = await t.signIn('team-lead');
    const page = async (q: string) => {
      const r = await t.app.inject({ method: 'GET', url: `/api/v1/ingest/email/automatic${q}`, headers: { cookie: lead.cookie } });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as Json;
    };
    const first = await page('?limit=30');
    expect(first.items).toHaveLength(30);
    const rest = await page(`?limit=500&before=${first.next}`);
    const all = [...first.items, ...rest.items];
    expect(rest.next).toBeNull();
    expect(new Set(all.map((i: Json) => i.messageId)).size).toBe(all.length);
    expect(all.length).toBe((t.connection.sqlite.prepare('SELECT count(*) AS n FROM automatic_mail').get() as { n: number }).n);
    expect(all.find((i: Json) => i.reply !== null)).toMatchObject({ kind: 'bounce' });
    const advisor = await t.signIn('advisor');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/ingest/email/automatic', headers: { cookie: advisor.cookie } })).statusCode).toBe(403);
  });
});

describe("mail's own reads are keyed", () => {
  it.each([
    ['SELECT * FROM automatic_mail WHERE message_id = ?', ['<x@y>'], /SEARCH automatic_mail USING INDEX sqlite_autoindex_automatic_mail_1 \(message_id=\?\)/],
    ['SELECT rowid AS seq, * FROM automatic_mail WHERE rowid < ? ORDER BY rowid DESC LIMIT ?', [1, 10], /SEARCH automatic_mail USING INTEGER PRIMARY KEY \(rowid<\?\)/],
    ['SELECT folder, uid_validity, last_uid FROM mail_cursors WHERE folder = ?', ['INBOX'], /SEARCH mail_cursors USING INDEX sqlite_autoindex_mail_cursors_1 \(folder=\?\)/],
  ])('%s', (sql, params, plan) => {
    const rows = t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
    const details = rows.map((r) => r.detail).join(' | ');
    expect(details).toMatch(plan);
    expect(details).not.toMatch(/SCAN|TEMP B-TREE/);
  });
});
