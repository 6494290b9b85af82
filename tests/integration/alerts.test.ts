// Alert rules end to end: a team lead sets rules over HTTP; the live state crosses them; each alert
// arrives once in a real SMTP server (smtp-server) and a local HTTP receiver standing in for Teams
// and Slack (node:http), all in this process; within the quiet period nothing more is sent, and what
// happened meanwhile goes out as one message when it ends. Webhook addresses are answered masked and
// never logged (their secret paths are recorded for the suite's log check).
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret, startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';

const mails: Buffer[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      mails.push(Buffer.concat(chunks));
      cb();
    });
  },
});
const posts: Array<{ path: string; type: string; body: Record<string, unknown> }> = [];
const receiver = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    posts.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

let t: TestApp;
let lead: SignedIn;
let hooks: string;
/** The app's clock runs this far ahead of the real one: a test moves it past a quiet period. */
let ahead = 0;
const TEAMS_PATH = '/teams/kd-teams-secret-7f3a91';
const SLACK_PATH = '/slack/kd-slack-secret-c24e08';

beforeAll(async () => {
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  recordSecret(TEAMS_PATH.slice(7));
  recordSecret(SLACK_PATH.slice(7));
  t = await startTestApp(
    {
      KEPT_SMTP_HOST: '127.0.0.1',
      KEPT_SMTP_PORT: String((smtp.server.address() as AddressInfo).port),
      KEPT_ALERT_ALLOW_HTTP: 'true',
      // Judged when the test says (evaluateNow), not by the interval.
      KEPT_ALERT_CHECK_SECONDS: '3600',
      KEPT_PUBLIC_URL: 'https://kept.example.org',
    },
    { now: () => Date.now() + ahead },
  );
  lead = await t.signIn('team-lead');
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  await new Promise<void>((r) => receiver.close(() => r()));
});

const mailsTo = async (address: string) => {
  const parsed = await Promise.all(mails.map((m) => simpleParser(m)));
  return parsed.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((a) => a?.value.some((v) => v.address === address)));
};
const rule = async (body: Record<string, unknown>) => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/alert-rules', headers: lead.headers, payload: body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: number; teamsUrl: string | null; slackUrl: string | null };
};
const call = (externalId: string) => t.service.createContact({ channel: 'phone', externalId, receivedAt: new Date(Date.now() + ahead - 30_000).toISOString() });

describe('alert rules', () => {
  it('a threshold crossed is sent once by email, Teams and Slack, and not again while it stays crossed', async () => {
    const created = await rule({ name: 'Queue building', kind: 'calls-waiting', threshold: 1, emails: ['floor.lead@example.org'], teamsUrl: `${hooks}${TEAMS_PATH}`, slackUrl: `${hooks}${SLACK_PATH}`, quietMinutes: 10 });
    // Shown masked: the scheme, the host and the last four characters.
    expect(created.teamsUrl).toBe(`${hooks}/…${TEAMS_PATH.slice(-4)}`);
    expect(JSON.stringify(created)).not.toContain('secret');

    await call('alert-call-1');
    expect(await t.app.alerts.evaluateNow()).toEqual([]); // one call waiting: not above 1
    await call('alert-call-2');
    const sent = await t.app.alerts.evaluateNow();
    expect(sent.map((s) => s.outcome)).toEqual([{ email: 'sent', teams: 'sent', slack: 'sent' }]);

    const mail = await mailsTo('floor.lead@example.org');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toBe('Kept alert — Queue building: 2 calls waiting (alert above 1)');
    expect(mail[0]!.text).toContain('Open Kept: https://kept.example.org/');

    const teams = posts.filter((p) => p.path === TEAMS_PATH);
    const slack = posts.filter((p) => p.path === SLACK_PATH);
    expect(teams).toHaveLength(1);
    expect(slack).toHaveLength(1);
    expect(teams[0]!.type).toBe('application/json');
    // Teams: a message carrying one Adaptive Card.
    const card = (teams[0]!.body.attachments as Array<{ contentType: string; content: { type: string; body: Array<{ text: string }> } }>)[0]!;
    expect(teams[0]!.body.type).toBe('message');
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.body[0]!.text).toBe('Kept alert — Queue building: 2 calls waiting (alert above 1)');
    // Slack: text (the notification) and blocks.
    expect(slack[0]!.body.text).toBe('Kept alert — Queue building: 2 calls waiting (alert above 1)');
    expect((slack[0]!.body.blocks as Array<{ type: string }>).map((b) => b.type)).toEqual(['header', 'section', 'context']);

    // Still crossed, and more so: nothing more.
    await call('alert-call-3');
    expect(await t.app.alerts.evaluateNow()).toEqual([]);
    expect(await mailsTo('floor.lead@example.org')).toHaveLength(1);
    expect(posts.filter((p) => p.path === TEAMS_PATH)).toHaveLength(1);

    // Recorded, with each channel's outcome.
    const sends = (await t.app.inject({ method: 'GET', url: `/api/v1/alert-rules/${created.id}/sends`, headers: lead.headers })).json() as { items: Array<{ outcome: Record<string, string> }> };
    expect(sends.items.map((s) => s.outcome)).toEqual([{ email: 'sent', teams: 'sent', slack: 'sent' }]);
    // A test send goes on every channel at once, outside the quiet period.
    const test = await t.app.inject({ method: 'POST', url: `/api/v1/alert-rules/${created.id}/test`, headers: lead.headers });
    expect(test.json()).toEqual({ outcome: { email: 'sent', teams: 'sent', slack: 'sent' } });
    expect(posts.filter((p) => p.path === SLACK_PATH).map((p) => p.body.text)).toEqual(['Kept alert — Queue building: 2 calls waiting (alert above 1)', 'Kept alert — Queue building: a test']);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/alert-rules/${created.id}`, headers: lead.headers })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/alert-rules/${created.id}/sends`, headers: lead.headers })).statusCode).toBe(404);
  });

  it('promises broken: each sent once; within the quiet period held, then sent as one message', async () => {
    await rule({ name: 'Broken promises', kind: 'breach', standards: ['email-reply'], emails: ['breaches@example.org'], quietMinutes: 15 });
    const old = (id: string, daysAgo: number) =>
      t.service.createContact({ channel: 'email', externalId: id, receivedAt: new Date(Date.now() + ahead - daysAgo * 86_400_000).toISOString(), customer: { name: 'Pat Tenant', email: 'pat@example.com' }, subject: 'Boiler' });
    const first = await old('breach-1', 10);
    const sent = await t.app.alerts.evaluateNow();
    expect(sent.map((s) => s.title)).toEqual(['Kept alert — Broken promises: 1 promise broken']);
    expect(sent[0]!.keys).toEqual([`breach:${first.contact.id}/email-reply`]);
    let mail = await mailsTo('breaches@example.org');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.text).toContain(first.contact.id);
    // No customer's name or address leaves Kept in an alert.
    expect(mail[0]!.text).not.toContain('Pat Tenant');
    expect(mail[0]!.text).not.toContain('pat@example.com');

    // The same breach again (the contact changes): not sent twice.
    await t.service.addEvents(first.contact.id, [{ type: 'assigned', at: new Date(Date.now() + ahead).toISOString(), assignee: 'advisor@example.org' }]);
    // Two more within the quiet period: held.
    const second = await old('breach-2', 9);
    const third = await old('breach-3', 8);
    expect(await t.app.alerts.evaluateNow()).toEqual([]);
    expect(await mailsTo('breaches@example.org')).toHaveLength(1);

    // The quiet period over: the two held go as one message.
    ahead += 16 * 60_000;
    const later = await t.app.alerts.evaluateNow();
    expect(later.map((s) => s.title)).toEqual(['Kept alert — Broken promises: 2 promises broken']);
    expect(later[0]!.keys.sort()).toEqual([`breach:${second.contact.id}/email-reply`, `breach:${third.contact.id}/email-reply`].sort());
    mail = await mailsTo('breaches@example.org');
    expect(mail).toHaveLength(2);
    expect(await t.app.alerts.evaluateNow()).toEqual([]);
  });

  it('a safeguarding flag is sent to Slack once', async () => {
    const path = '/slack/kd-flag-secret-99b1';
    recordSecret(path.slice(7));
    await rule({ name: 'Safeguarding', kind: 'safeguarding', slackUrl: `${hooks}${path}`, quietMinutes: 0 });
    await t.service.createContact({ channel: 'webform', externalId: 'flagged-1', receivedAt: new Date(Date.now() + ahead).toISOString(), customer: { name: 'Sam', safeguarding: true } });
    const sent = await t.app.alerts.evaluateNow();
    expect(sent.map((s) => [s.title, s.outcome])).toEqual([['Kept alert — Safeguarding: 1 safeguarding flag raised', { slack: 'sent' }]]);
    expect(await t.app.alerts.evaluateNow()).toEqual([]);
    expect(posts.filter((p) => p.path === path)).toHaveLength(1);
  });

  it('refuses a webhook off the allowed hosts, a rule with no channel, and a threshold rule without its threshold, naming the field', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/alert-rules', headers: lead.headers, payload: body });
      expect(r.statusCode).toBe(400);
      return r.json() as { field: string; message: string };
    };
    const offHost = await bad({ name: 'x', kind: 'breach', slackUrl: 'https://hooks.example.net/services/kd-never-logged-42' });
    expect(offHost.field).toBe('slackUrl');
    expect(offHost.message).not.toContain('kd-never-logged-42');
    expect((await bad({ name: 'x', kind: 'breach', teamsUrl: 'http://teams.webhook.office.com/x' })).field).toBe('teamsUrl');
    expect((await bad({ name: 'x', kind: 'breach' })).field).toBe('emails');
    expect((await bad({ name: 'x', kind: 'oldest-wait', emails: ['a@example.org'] })).field).toBe('threshold');
    expect((await bad({ name: 'x', kind: 'breach', emails: ['not an address'] })).field).toBe('emails/0');
  });

  it('an update keeps a webhook the body leaves out, and removes one set to null', async () => {
    const path = '/teams/kd-keep-secret-5e21';
    recordSecret(path.slice(7));
    const r = await rule({ name: 'Oldest wait', kind: 'oldest-wait', threshold: 600, teamsUrl: `${hooks}${path}`, emails: ['x@example.org'] });
    const put = (body: Record<string, unknown>) => t.app.inject({ method: 'PUT', url: `/api/v1/alert-rules/${r.id}`, headers: lead.headers, payload: body });
    const kept = (await put({ name: 'Oldest wait over 10 min', kind: 'oldest-wait', threshold: 600, emails: ['x@example.org'] })).json() as { teamsUrl: string | null; name: string };
    expect(kept.name).toBe('Oldest wait over 10 min');
    expect(kept.teamsUrl).toBe(r.teamsUrl);
    const removed = (await put({ name: 'Oldest wait', kind: 'oldest-wait', threshold: 600, emails: ['x@example.org'], teamsUrl: null })).json() as { teamsUrl: string | null };
    expect(removed.teamsUrl).toBeNull();
  });

  // Last: it moves the app's clock on by days (sessions end).
  it('a promise that breaks while Kept watches (its due instant passes between two looks) is sent', async () => {
    const fresh = await t.service.createContact({ channel: 'email', externalId: 'breach-later', receivedAt: new Date(Date.now() + ahead).toISOString() });
    expect((await t.app.alerts.evaluateNow()).filter((s) => s.keys.some((k) => k.startsWith('breach:')))).toEqual([]);
    ahead += 8 * 86_400_000;
    const broke = await t.app.alerts.evaluateNow();
    expect(broke.filter((s) => s.title.includes('Broken promises')).map((s) => s.keys)).toEqual([[`breach:${fresh.contact.id}/email-reply`]]);
  });
});
