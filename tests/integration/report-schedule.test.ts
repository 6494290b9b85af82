// The Monday job end to end (issue 16, items 4): a real Kept on a real SQLite file, stopped over the
// weekend and started again on Monday after 07:00 — it catches up last week's report, says so in its
// log and the audit trail, and mails it to the managers through a real SMTP server (smtp-server, in
// this process): the HTML summary and the CSV attached, parsed back and compared with the report.
// Started again the same morning, there is nothing to catch up. The clock is injected (`now`).
import { parse } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReportSchedule, scheduleReports, SCHEDULE_ACTOR } from '../../server/reports/schedule.js';
import type { WeeklyReport } from '../../server/reports/types.js';
import { recordSecret, startTestApp, type TestApp } from '../helpers/app.js';

interface Received {
  from: string;
  to: string[];
  raw: Buffer;
}
const received: Received[] = [];
const smtp = new SMTPServer({
  authOptional: false,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth(auth, _session, cb) {
    cb(auth.username === 'kept-reports' && auth.password === 'smtp-secret-42' ? null : new Error('bad login'), { user: auth.username });
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
      cb();
    });
  },
});

const dir = mkdtempSync(join(tmpdir(), 'kept-report-schedule-'));
let env: Record<string, string>;
/** The injected clock: the app and the schedule live at `clock.now`. */
const clock = { now: Date.parse('2026-03-02T06:00:00Z') };
const now = () => clock.now;

beforeAll(async () => {
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  recordSecret('smtp-secret-42');
  env = {
    KEPT_SMTP_HOST: '127.0.0.1',
    KEPT_SMTP_PORT: String((smtp.server.address() as AddressInfo).port),
    KEPT_SMTP_USER: 'kept-reports',
    KEPT_SMTP_PASSWORD: 'smtp-secret-42',
    KEPT_SMTP_FROM: 'Kept reports <kept@example.org>',
    KEPT_REPORT_RECIPIENTS: 'ops.manager@example.org, cs.lead@example.org',
    KEPT_PUBLIC_URL: 'https://kept.example.org',
  };
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Kept as main.ts starts it: the schedule made from the app before ready, started once it is up. */
async function startKept(): Promise<{ t: TestApp; schedule: ReportSchedule }> {
  let schedule: ReportSchedule | null = null;
  const t = await startTestApp(env, { dir, now, beforeReady: (app, service) => (schedule = scheduleReports(app, { audit: service.audit, now })) });
  return { t, schedule: schedule! };
}

const logLines = (t: TestApp) =>
  readFileSync(t.logFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string });

const post = async (t: TestApp, body: Record<string, unknown>) => {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/contacts', headers: t.auth, payload: body });
  expect(r.statusCode, r.body).toBe(201);
};

describe('the weekly report job across downtime', () => {
  it('catches up the missed Monday run on start, logs and audits it, mails the report with its CSV; a manager’s regeneration is mailed too; a second start finds nothing to do; the next Monday 07:00 firing publishes and mails', async () => {
    // Week 2026-W10 (Mon 2 – Sun 8 March, GMT). Kept runs through the week: it starts on Monday
    // 06:00, before the 07:00 run, and the week's contacts arrive.
    const first = await startKept();
    const firstCatchUp = await first.schedule.start(); // the last run due was Mon 23 Feb: W08 (a first start publishes it)
    expect(firstCatchUp).toMatchObject({ week: '2026-W08', outcome: 'published' });
    // Armed: node-cron's next run (on the real clock) is a Monday at 07:00 London time.
    const monday = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(monday.format(first.schedule.nextRun()!)).toBe('Monday 07:00');
    clock.now = Date.parse('2026-03-08T20:00:00Z');
    // Email: met (replied within a working day), missed (replied two days on), still breached (never).
    await post(first.t, { channel: 'email', externalId: 'w10-e1', receivedAt: '2026-03-02T10:00:00Z', subject: 'Tap', customer: { name: 'A' }, events: [{ type: 'replied', at: '2026-03-02T15:00:00Z' }] });
    await post(first.t, { channel: 'email', externalId: 'w10-e2', receivedAt: '2026-03-03T10:00:00Z', subject: 'Rent', customer: { name: 'B' }, events: [{ type: 'replied', at: '2026-03-05T10:00:00Z' }] });
    await post(first.t, { channel: 'email', externalId: 'w10-e3', receivedAt: '2026-03-04T10:00:00Z', subject: 'Noise', customer: { name: 'C' } });
    // Phone: answered in a minute (within 5), answered after 8 minutes, a 3-second (short) abandon.
    await post(first.t, { channel: 'phone', externalId: 'w10-p1', receivedAt: '2026-03-02T09:00:00Z', events: [{ type: 'answered', at: '2026-03-02T09:01:00Z' }] });
    await post(first.t, { channel: 'phone', externalId: 'w10-p2', receivedAt: '2026-03-03T09:00:00Z', events: [{ type: 'answered', at: '2026-03-03T09:08:00Z' }] });
    await post(first.t, { channel: 'phone', externalId: 'w10-p3', receivedAt: '2026-03-04T09:00:00Z', events: [{ type: 'abandoned', at: '2026-03-04T09:00:03Z' }] });
    // Sunday night Kept stops, and is down at Monday 07:00.
    await first.t.close();
    const mailsBefore = received.length;

    // Monday 9 March 09:30: started again.
    clock.now = Date.parse('2026-03-09T09:30:00Z');
    const second = await startKept();
    const outcome = await second.schedule.start();
    expect(outcome).toEqual({ week: '2026-W10', outcome: 'published', revision: 1, mailed: true, mailReason: null });

    // The audit trail says so: the catch-up (what was missed), the publication, the mail.
    const audit = (await second.t.service.audit.page({ actor: SCHEDULE_ACTOR, limit: 20 })).items;
    expect(audit.find((a) => a.action === 'report.catch-up' && (a.detail as { week: string }).week === '2026-W10')).toMatchObject({
      at: clock.now,
      detail: { week: '2026-W10', missedAt: '2026-03-09T07:00:00.000Z' },
    });
    expect(audit.find((a) => a.action === 'report.mailed')).toMatchObject({ detail: { week: '2026-W10', revision: 1, recipients: 2 } });
    // And the log.
    await vi.waitFor(() => expect(logLines(second.t).map((l) => l.msg).join('\n')).toMatch(/weekly report 2026-W10: the run due 2026-03-09T07:00:00.000Z .* did not happen \(Kept was down\); catching up now/));
    const warn = logLines(second.t).find((l) => l.msg.includes('catching up now'))!;
    expect(warn.level).toBe(40);

    // The report is stored as published, by the schedule.
    const published = (await second.t.app.reports.published('2026-W10'))!;
    expect(published).toMatchObject({ week: '2026-W10', revision: 1, publishedBy: SCHEDULE_ACTOR });
    const report: WeeklyReport = published.report;
    const email = report.standards.find((s) => s.standard === 'email-reply' && s.channel === 'email')!;
    expect(email).toMatchObject({ clocks: 3, met: 1, missed: 1, breached: 1, compliance: 1 / 3 });
    expect(report.phone).toMatchObject({ offered: 3, answered: 2, answeredWithinTarget: 1, shortAbandons: 1, serviceLevel: 0.5 });

    // The mail arrived once, to both managers, from the configured sender, with the CSV attached.
    expect(received.length).toBe(mailsBefore + 1);
    const got = received.at(-1)!;
    expect(got.to).toEqual(['ops.manager@example.org', 'cs.lead@example.org']);
    const mail = await simpleParser(got.raw);
    expect(mail.from?.value).toEqual([{ name: 'Kept reports', address: 'kept@example.org' }]);
    expect(mail.subject).toBe('Kept weekly report 2026-W10: 2 to 8 March 2026');
    expect(mail.html).toContain('<a href="https://kept.example.org/reports?week=2026-W10">');
    expect(mail.html).toMatch(/Reply to email|email-reply/);
    expect(mail.html).toContain('33.3%'); // the email standard's compliance, as the report has it
    expect(mail.html).toContain('50.0%'); // the phone service level
    expect(mail.text).toContain('email-reply (email): 3 clocks, 1 met, 1 missed, 1 still breached; compliance 33.3%');
    expect(mail.attachments).toHaveLength(1);
    const csv = mail.attachments[0]!;
    expect([csv.filename, csv.contentType]).toEqual(['kept-2026-W10.csv', 'text/csv']);
    // Parsed back: exactly the API's CSV of the published week, and its email row has the report's figures.
    const text = csv.content.toString('utf8');
    expect(text).toBe(second.t.app.reports.csv(report));
    const rows = parse(text, { relax_column_count: true }) as string[][];
    const header = rows.find((r) => r[0] === 'table' && r[1] === 'standard')!;
    const emailRow = Object.fromEntries(header.map((h, i) => [h, rows.find((r) => r[0] === 'standards' && r[1] === 'email-reply')![i]]));
    expect(emailRow).toMatchObject({ table: 'standards', channel: 'email', clocks: '3', met: '1', missed: '1', breached: '1' });
    expect(Number(emailRow.compliance)).toBeCloseTo(1 / 3, 12);
    const phoneHeader = rows.find((r) => r[0] === 'table' && r[1] === 'offered')!;
    const phoneRow = rows.find((r) => r[0] === 'phone')!;
    expect(phoneRow[phoneHeader.indexOf('serviceLevel')]).toBe('0.5');
    expect(rows.find((r) => r[0] === 'report')!.slice(1, 2)).toEqual(['2026-W10']);

    // The Monday job fired through node-cron (as at 07:00) the same morning: already published, no second mail.
    await expect(second.schedule.runNow()).resolves.toEqual({ week: '2026-W10', outcome: 'already-published', revision: 1 });
    expect(received.length).toBe(mailsBefore + 1);

    // A manager regenerates the week from the page: the managers are mailed the new revision (after the answer).
    const manager = await second.t.signIn('manager', { email: 'olu.manager@staff.example.org' });
    const regenerated = await second.t.app.inject({ method: 'POST', url: '/api/v1/reports/weekly/2026-W10/regenerate', headers: manager.headers, payload: { reason: 'late telephony export' } });
    expect(regenerated.statusCode, regenerated.body).toBe(201);
    await vi.waitFor(() => expect(received.length).toBe(mailsBefore + 2));
    const again = await simpleParser(received.at(-1)!.raw);
    expect(again.subject).toBe('Kept weekly report 2026-W10: 2 to 8 March 2026 (regenerated, revision 2)');
    expect(again.attachments[0]!.content.toString('utf8')).toBe(second.t.app.reports.csv((await second.t.app.reports.published('2026-W10'))!.report));
    await vi.waitFor(async () => expect((await second.t.service.audit.page({ actor: 'olu.manager@staff.example.org', action: 'report.mailed', limit: 5 })).items).toHaveLength(1));
    await second.t.close();

    // Started again the same morning: nothing missed, nothing logged, nothing audited, nothing mailed.
    clock.now = Date.parse('2026-03-09T10:00:00Z');
    const third = await startKept();
    await expect(third.schedule.start()).resolves.toBeNull();
    expect((await third.t.service.audit.page({ action: 'report.catch-up', limit: 10 })).items.map((a) => (a.detail as { week: string }).week)).toEqual(['2026-W10', '2026-W08']);
    expect(received.length).toBe(mailsBefore + 2);
    // A week on, Kept up: node-cron fires at Monday 16 March 07:00 and W11 is published and mailed, not as a catch-up.
    clock.now = Date.parse('2026-03-16T07:00:00Z');
    await expect(third.schedule.runNow()).resolves.toEqual({ week: '2026-W11', outcome: 'published', revision: 1, mailed: true, mailReason: null });
    expect(await third.t.app.reports.published('2026-W11')).toMatchObject({ publishedBy: SCHEDULE_ACTOR });
    expect(received.length).toBe(mailsBefore + 3);
    expect((await simpleParser(received.at(-1)!.raw)).subject).toBe('Kept weekly report 2026-W11: 9 to 15 March 2026');
    expect((await third.t.service.audit.page({ action: 'report.catch-up', limit: 10 })).items).toHaveLength(2);
    await third.t.close();
    // Stopped on close: the task is gone.
    expect(third.schedule.nextRun()).toBeNull();
  });

  it('a mail server that refuses does not undo the publication: the failure is logged and audited, without the addresses', async () => {
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, cb) {
        cb(new Error(`mailbox ${address.address} unavailable`));
      },
    });
    refusing.listen(0, '127.0.0.1');
    await once(refusing.server, 'listening');
    const own = mkdtempSync(join(tmpdir(), 'kept-report-refused-'));
    clock.now = Date.parse('2026-03-16T08:00:00Z');
    let schedule: ReportSchedule | null = null;
    const t = await startTestApp(
      { ...env, KEPT_SMTP_PORT: String((refusing.server.address() as AddressInfo).port), KEPT_SMTP_USER: '', KEPT_SMTP_PASSWORD: '' },
      { dir: own, now, beforeReady: (app, service) => (schedule = scheduleReports(app, { audit: service.audit, now })) },
    );
    try {
      const outcome = await schedule!.start();
      expect(outcome).toMatchObject({ week: '2026-W11', outcome: 'published', mailed: false });
      const failed = (await t.service.audit.page({ action: 'report.mail-failed', limit: 5 })).items;
      expect(failed).toHaveLength(1);
      expect(JSON.stringify(failed[0]!.detail)).not.toContain('@example.org');
      expect(await t.app.reports.published('2026-W11')).not.toBeNull();
      await vi.waitFor(() => expect(logLines(t).some((l) => l.msg.includes('2026-W11: the mail was not sent'))).toBe(true));
      expect(readFileSync(t.logFile, 'utf8')).not.toContain('ops.manager@example.org');
    } finally {
      await t.close();
      rmSync(own, { recursive: true, force: true });
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
