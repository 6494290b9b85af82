// The mailer against a real SMTP server in the test process (smtp-server): AUTH with the configured
// credentials, the message and its attachment arrive as sent, and no host means no mailer.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../server/notify/mail.js';

const received: Buffer[] = [];
const logins: Array<{ user: string; password: string }> = [];
const server = new SMTPServer({
  authOptional: false,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth(auth, _session, cb) {
    logins.push({ user: auth.username ?? '', password: auth.password ?? '' });
    cb(null, { user: auth.username });
  },
  onData(stream, _session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      received.push(Buffer.concat(chunks));
      cb();
    });
  },
});
let port = 0;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const smtp = (over: Partial<{ host: string; user: string; password: string }> = {}) => ({
  smtp: { host: '127.0.0.1', port, secure: false, user: 'kept', password: 'smtp-pass-7', from: 'Kept <kept@example.org>', ...over },
});

describe('createMailer', () => {
  it('is null when no SMTP host is configured', () => {
    expect(createMailer(smtp({ host: '' }))).toBeNull();
  });

  it('sends the message, with its attachment, through the server with the configured login', async () => {
    const mailer = createMailer(smtp())!;
    const sent = await mailer.send({
      to: ['manager@example.org'],
      subject: 'Weekly report 2026-W10',
      text: 'Compliance 93%',
      html: '<p>Compliance <b>93%</b></p>',
      attachments: [{ filename: 'kept-2026-W10.csv', content: 'standard,channel\r\nreply-email,email\r\n', contentType: 'text/csv' }],
    });
    mailer.close();
    expect(sent.messageId).toMatch(/@/);
    expect(logins).toEqual([{ user: 'kept', password: 'smtp-pass-7' }]);
    const mail = await simpleParser(received.at(-1)!);
    expect(mail.subject).toBe('Weekly report 2026-W10');
    expect(mail.from?.value).toEqual([{ name: 'Kept', address: 'kept@example.org' }]);
    expect(mail.text?.trim()).toBe('Compliance 93%');
    expect(mail.html).toContain('<b>93%</b>');
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([
      ['kept-2026-W10.csv', 'text/csv', 'standard,channel\r\nreply-email,email\r\n'],
    ]);
  });
});
