// The weekly report by email to managers (issue 16): an HTML summary (with a plain-text twin for mail
// clients that show no HTML) and the week's CSV attached, sent through the centre's SMTP server
// (mail.ts). The figures are the report's own: nothing here computes, it only words and formats them.
import type { WeeklyReport } from '../reports/types.js';
import type { MailMessage, Mailer } from './mail.js';

export interface ReportMailOptions {
  /** KEPT_PUBLIC_URL ('' when not set: the mail then carries no link). */
  publicUrl: string;
}

const percent = (x: number | null): string => (x === null ? '—' : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);

/** A duration in words short enough for a table: `42 s`, `3 min 20 s`, `5 h 10 min`, `2 d 3 h`. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "2 to 8 March 2026", "30 March to 5 April 2026", "28 December 2026 to 3 January 2027", in the report's zone (`to` is exclusive). */
export function weekSpan(report: Pick<WeeklyReport, 'from' | 'to' | 'zone'>): string {
  const parts = (ms: number) => {
    const p = new Intl.DateTimeFormat('en-GB', { timeZone: report.zone, day: 'numeric', month: 'long', year: 'numeric' }).formatToParts(ms);
    const get = (type: string) => p.find((x) => x.type === type)!.value;
    return { day: get('day'), month: get('month'), year: get('year') };
  };
  const a = parts(Date.parse(report.from));
  const b = parts(Date.parse(report.to) - 1);
  const last = `${b.day} ${b.month} ${b.year}`;
  if (a.year !== b.year) return `${a.day} ${a.month} ${a.year} to ${last}`;
  return a.month === b.month ? `${a.day} to ${last}` : `${a.day} ${a.month} to ${last}`;
}

/** The message for one week (no recipients yet). */
export function weeklyReportMessage(report: WeeklyReport, csv: string, options: ReportMailOptions): Omit<MailMessage, 'to'> {
  const link = options.publicUrl === '' ? null : `${options.publicUrl}/reports?week=${encodeURIComponent(report.week)}`;
  const revision = report.publication.revision > 1 ? ` (regenerated, revision ${report.publication.revision})` : '';
  const subject = `Kept weekly report ${report.week}: ${weekSpan(report)}${revision}`;
  const p = report.phone;
  const c = report.complaints;
  const phoneLines: Array<[string, string]> = [
    ['Calls offered', String(p.offered)],
    ['Answered within 5 minutes', `${p.answeredWithinTarget} of ${p.answered} answered`],
    ['Service level', percent(p.serviceLevel)],
    ['Average speed of answer', duration(p.averageSpeedOfAnswerMs)],
    ['Longest wait', duration(p.longestWaitMs)],
    ['Abandoned (after 5 s)', `${p.abandoned} (${percent(p.abandonRate)}); short abandons ${p.shortAbandons}`],
    ['Callbacks', `${p.callbacksRequested} requested, ${p.callbacksConnected} connected, ${p.callbacksWithinTarget} within target`],
  ];
  const complaintLines: Array<[string, string]> = [
    ['Complaints received', String(c.received)],
    ['Acknowledged within 24 hours', `${c.acknowledgedWithinTarget} (${percent(c.acknowledgeRate)})`],
    ['Resolved within 10 working days', `${c.resolvedWithinTarget} (${percent(c.resolveRate)}), ${c.resolvedWithinExtension} more within an extension`],
    ['Open past target', String(c.openPastTarget.length)],
  ];
  const daysOff = [...report.bankHolidays.map((h) => `${h.date}: ${h.title}`), ...report.closures.map((x) => `closure ${x.from} to ${x.to}${x.reason ? `: ${x.reason}` : ''}`)];

  const text = [
    subject,
    '',
    'Standards (clocks that started in the week):',
    ...report.standards.map((r) => `- ${r.standard} (${r.channel}): ${r.clocks} clocks, ${r.met} met, ${r.missed} missed, ${r.breached} still breached; compliance ${percent(r.compliance)}`),
    '',
    'Phone:',
    ...phoneLines.map(([k, v]) => `- ${k}: ${v}`),
    '',
    'Complaints:',
    ...complaintLines.map(([k, v]) => `- ${k}: ${v}`),
    '',
    `Worst breaches listed: ${report.worstBreaches.length}`,
    ...(daysOff.length > 0 ? ['', 'Bank holidays and closures in the week:', ...daysOff.map((d) => `- ${d}`)] : []),
    '',
    `Built ${report.builtAt}. The figures, every table and the contacts behind them are in the attached CSV${link ? ` and at ${link}` : ''}.`,
  ].join('\n');

  const th = (s: string) => `<th scope="col" style="text-align:left;padding:4px 8px;border-bottom:2px solid #14181d">${escape(s)}</th>`;
  const td = (s: string, right = false) => `<td style="padding:4px 8px;border-bottom:1px solid #d9dee5${right ? ';text-align:right' : ''}">${escape(s)}</td>`;
  const list = (rows: Array<[string, string]>) => `<table style="border-collapse:collapse">${rows.map(([k, v]) => `<tr><th scope="row" style="text-align:left;padding:3px 8px;font-weight:600">${escape(k)}</th>${td(v)}</tr>`).join('')}</table>`;
  const html = [
    '<!doctype html><html lang="en-GB"><body style="font-family:Arial,sans-serif;color:#14181d">',
    `<h1 style="font-size:20px">${escape(subject)}</h1>`,
    link ? `<p><a href="${escape(link)}">Open the report in Kept</a> (every figure there links to the contacts behind it).</p>` : '',
    '<h2 style="font-size:16px">Standards</h2>',
    `<table style="border-collapse:collapse"><thead><tr>${['Standard', 'Channel', 'Clocks', 'Met', 'Missed', 'Still breached', 'Compliance'].map(th).join('')}</tr></thead><tbody>`,
    ...report.standards.map((r) => `<tr>${td(r.standard)}${td(r.channel)}${td(String(r.clocks), true)}${td(String(r.met), true)}${td(String(r.missed), true)}${td(String(r.breached), true)}${td(percent(r.compliance), true)}</tr>`),
    '</tbody></table>',
    '<h2 style="font-size:16px">Phone</h2>',
    list(phoneLines),
    '<h2 style="font-size:16px">Complaints</h2>',
    list(complaintLines),
    daysOff.length > 0 ? `<h2 style="font-size:16px">Bank holidays and closures</h2><ul>${daysOff.map((d) => `<li>${escape(d)}</li>`).join('')}</ul>` : '',
    `<p style="color:#55606e">Built ${escape(report.builtAt)}. The full tables are in the attached CSV.</p>`,
    '</body></html>',
  ].join('\n');

  return {
    subject,
    text,
    html,
    attachments: [{ filename: `kept-${report.week}.csv`, content: csv, contentType: 'text/csv' }],
  };
}

export interface ReportMailer {
  mailer: Mailer | null;
  /** KEPT_REPORT_RECIPIENTS. */
  recipients: readonly string[];
  publicUrl: string;
}

/**
 * Sends the week to the managers. Resolves with what happened, never throws: a mail server that is
 * down must not undo a publication (the caller logs and audits the outcome).
 */
export async function sendWeeklyReport(to: ReportMailer, report: WeeklyReport, csv: string): Promise<{ sent: boolean; reason: string | null; recipients: number }> {
  if (to.mailer === null) return { sent: false, reason: 'no SMTP server configured (KEPT_SMTP_HOST)', recipients: 0 };
  if (to.recipients.length === 0) return { sent: false, reason: 'no recipients configured (KEPT_REPORT_RECIPIENTS)', recipients: 0 };
  try {
    await to.mailer.send({ to: to.recipients, ...weeklyReportMessage(report, csv, { publicUrl: to.publicUrl }) });
    return { sent: true, reason: null, recipients: to.recipients.length };
  } catch (e) {
    // The SMTP error's words, never the conversation (which carries the credentials), nor an address.
    const reason = (e as Error).message.slice(0, 2000).replace(/[^\s<>@"']+@[^\s<>@"']+/g, '<address>').slice(0, 300);
    return { sent: false, reason, recipients: to.recipients.length };
  }
}
