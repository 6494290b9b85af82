// Automatic mail: bounces and delay warnings (DSN, RFC 3464), read receipts (MDN, RFC 8098), abuse
// reports (ARF, RFC 5965), out-of-office and other auto-replies (RFC 3834 and the vendors' own
// markers), list and bulk mail. Such mail never opens a customer's clock and never meets one: it is
// kept and linked to the thread it names (email.ts). Every scan here is one pass over bounded text
// with string tests only (no pattern that can backtrack over the sender's text).

export const AUTOMATIC_KINDS = ['bounce', 'delay', 'read-receipt', 'abuse-report', 'auto-reply', 'auto-generated', 'bulk'] as const;
export type AutomaticKind = (typeof AUTOMATIC_KINDS)[number];

export interface Automatic {
  kind: AutomaticKind;
  /** What gave it away: the header, content type, sender or subject, as written (bounded). */
  marker: string;
}

/** A part of a report kept as text by the parsing thread (the first REPORT_PART_CHARS). */
export interface ReportPart {
  contentType: string;
  text: string;
}

/** What the classifier reads: plain data from the parsing thread. */
export interface AutomaticInput {
  headerLines: ReadonlyArray<{ key: string; line: string }>;
  from: ReadonlyArray<{ address: string; name: string }>;
  subject: string | undefined;
  reports: readonly ReportPart[];
  /** The start of the text body (mailparser hands a DSN's message/delivery-status part over as text). */
  text?: string;
}

/** The original message a report or bounce names (its embedded headers or the DSN/MDN fields). */
export interface OriginalMessage {
  messageId?: string;
  inReplyTo?: string;
  references: string[];
}

const header = (lines: AutomaticInput['headerLines'], key: string): string | undefined => {
  const line = lines.find((l) => l.key === key)?.line;
  if (line === undefined) return undefined;
  return line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim()
    .slice(0, 200);
};

/** The report-type parameter of a multipart/report Content-Type (lower case), or '' when it is a report without one. */
function reportType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const lower = contentType.toLowerCase();
  if (!lower.startsWith('multipart/report')) return undefined;
  const at = lower.indexOf('report-type=');
  if (at === -1) return '';
  let value = lower.slice(at + 'report-type='.length);
  if (value.startsWith('"')) value = value.slice(1);
  let end = 0;
  while (end < value.length && !';" \t\r\n'.includes(value[end]!)) end++;
  return value.slice(0, end);
}

/** Subject prefixes of automatic mail, lower case, in the languages a UK centre's mail comes in most. */
const SUBJECT_PREFIXES: ReadonlyArray<[string, AutomaticKind]> = [
  // Out of office and auto-replies (Outlook/Exchange, Gmail, iCloud, Notes, and their translations).
  ['automatic reply:', 'auto-reply'],
  ['auto reply:', 'auto-reply'],
  ['auto-reply:', 'auto-reply'],
  ['autoreply:', 'auto-reply'],
  ['auto:', 'auto-reply'],
  ['autoresponse', 'auto-reply'],
  ['auto response', 'auto-reply'],
  ['out of office', 'auto-reply'],
  ['out of the office', 'auto-reply'],
  ['ooo:', 'auto-reply'],
  ['abwesenheitsnotiz', 'auto-reply'],
  ['automatische antwort', 'auto-reply'],
  ['réponse automatique', 'auto-reply'],
  ['absence du bureau', 'auto-reply'],
  ['respuesta automática', 'auto-reply'],
  ['fuera de la oficina', 'auto-reply'],
  ['risposta automatica', 'auto-reply'],
  ['fuori sede', 'auto-reply'],
  ['automatisch antwoord', 'auto-reply'],
  ['resposta automática', 'auto-reply'],
  ['automatisk svar', 'auto-reply'],
  ['autosvar', 'auto-reply'],
  ['automaattinen vastaus', 'auto-reply'],
  ['automatyczna odpowiedź', 'auto-reply'],
  ['odpowiedź automatyczna', 'auto-reply'],
  ['automatické odpověď', 'auto-reply'],
  ['automatikus válasz', 'auto-reply'],
  ['răspuns automat', 'auto-reply'],
  ['otomatik yanıt', 'auto-reply'],
  ['ateb awtomatig', 'auto-reply'],
  ['自动回复', 'auto-reply'],
  ['自動回覆', 'auto-reply'],
  ['自動応答', 'auto-reply'],
  ['автоматический ответ', 'auto-reply'],
  ['автоответ', 'auto-reply'],
  // Bounces and delay warnings.
  ['undeliverable:', 'bounce'],
  ['undeliverable message', 'bounce'],
  ['undeliverable mail', 'bounce'],
  ['mail delivery failure', 'bounce'],
  ['undelivered mail returned to sender', 'bounce'],
  ['delivery status notification (failure)', 'bounce'],
  ['delivery status notification (delay)', 'delay'],
  ['delivery status notification', 'bounce'],
  ['mail delivery failed', 'bounce'],
  ['returned mail:', 'bounce'],
  ['failure notice', 'bounce'],
  ['delivery failure', 'bounce'],
  ['mail system error', 'bounce'],
  ['nondeliverable mail', 'bounce'],
  ['delivery has failed', 'bounce'],
  ['delivery notification: delivery has failed', 'bounce'],
  ['warning: could not send message', 'delay'],
  ['delivery delayed:', 'delay'],
  ['unzustellbar:', 'bounce'],
  ['non remis :', 'bounce'],
  ['non remis:', 'bounce'],
  ['no se puede entregar:', 'bounce'],
  ['non recapitabile:', 'bounce'],
  ['onbestelbaar:', 'bounce'],
  // Feedback-loop reports sent as plain mail.
  ['complaint about message from', 'abuse-report'],
  // Read receipts.
  ['read:', 'read-receipt'],
  ['not read:', 'read-receipt'],
  ['read receipt', 'read-receipt'],
  ['return receipt', 'read-receipt'],
  ['gelesen:', 'read-receipt'],
  ['lu :', 'read-receipt'],
  ['leído:', 'read-receipt'],
  ['letto:', 'read-receipt'],
  ['gelezen:', 'read-receipt'],
];

/** Senders that only ever send automatic mail (the local part, lower case). */
const SYSTEM_SENDERS = new Set(['mailer-daemon', 'mailer_daemon', 'postmaster', 'post_master', 'mail-daemon', 'maildaemon', 'mailerdaemon']);

/** Senders no one reads replies to (the local part, lower case): automatic only with more evidence, since a website's form notices come from them too. */
const NO_REPLY_SENDERS = new Set(['no-reply', 'noreply', 'no_reply', 'donotreply', 'do-not-reply', 'do_not_reply', 'dontreply', 'dont-reply', 'bounce', 'bounces', 'mail-error', 'mailerror']);

/** Parts that carry the message a report or a bounce returns. */
const ORIGINAL_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

/** What a non-delivery notice says (lower case), in the languages of the corpus; read only in the first 8 KB of a no-reply sender's text. */
const UNDELIVERED_PHRASES = [
  'could not be delivered',
  "couldn't be delivered",
  'was not delivered',
  'undeliverable',
  'delivery has failed',
  'delivery failed',
  'could not deliver',
  'unable to deliver',
  'permanent fatal error',
  'mailbox is full',
  'mailbox full',
  'user unknown',
  '送信できませんでした',
  '配信できませんでした',
  '届きませんでした',
  'unzustellbar',
  'non remis',
];

const saysUndelivered = (text: string) => {
  const lower = text.slice(0, 8 * 1024).toLowerCase();
  return UNDELIVERED_PHRASES.some((p) => lower.includes(p));
};

/** Headers only mailing-list software writes (lower case). */
const LIST_MANAGER_HEADERS = ['x-mlserver', 'x-ml-server', 'x-ml-name', 'x-mailman-version', 'x-list-administrivia', 'x-ezmlm-version', 'mailing-list', 'x-listprocessor-version', 'list-id'];

/** The administrative addresses of a list (its software, its owner, its bounce and command addresses). */
function isListAdmin(local: string): boolean {
  if (['mailman', 'majordomo', 'listserv', 'listproc', 'sympa', 'ezmlm', 'fml', 'lyris', 'mailman-owner', 'mailman-bounces'].includes(local)) return true;
  return local.startsWith('owner-') || ['-admin', '-owner', '-request', '-bounces', '-ctl', '-errors', '-help'].some((s) => local.endsWith(s)) || local.includes('-bounces+');
}

/** An SNS notification's `notificationType` (JSON, perhaps inside a JSON string): bounce, complaint, delivery. */
function snsNotificationType(text: string): string | undefined {
  const at = text.slice(0, 64 * 1024).indexOf('notificationType');
  if (at === -1) return undefined;
  const after = text.slice(at, at + 40).toLowerCase();
  return ['bounce', 'complaint', 'delivery'].find((k) => after.includes(`"${k}"`) || after.includes(`\\"${k}\\"`));
}

/** A forwarded message is an enquiry, whatever rule forwarded it: "Fwd:", "FW:", "WG:", "TR:", "RV:", "I:". */
export function isForwardSubject(subject: string | undefined): boolean {
  const s = (subject ?? '').trimStart().toLowerCase();
  return ['fwd:', 'fw:', 'wg:', 'tr:', 'rv:', 'i:', 'enc:', 'doorst:', 'vs:', 'vb:', 'fwd :', 'fw :', 'tr :'].some((p) => s.startsWith(p));
}

/**
 * Whether a message is automatic, and why. `forwarded`: the message carries a forwarded message
 * (an inbox rule's forward is an enquiry even though Exchange marks it with Inbox-Rules-Loop).
 */
export function classifyAutomatic(input: AutomaticInput, forwarded = false, orgDomains: readonly string[] = []): Automatic | undefined {
  const lines = input.headerLines;
  const has = (k: string) => lines.some((l) => l.key === k);
  const h = (k: string) => header(lines, k);

  // 1. Reports (their own MIME type): a DSN, an MDN, an ARF report.
  const type = reportType(h('content-type'));
  const partTypes = input.reports.map((r) => r.contentType);
  const delivery = input.reports.find((r) => r.contentType === 'message/delivery-status' || r.contentType === 'message/global-delivery-status');
  if (type === 'delivery-status' || delivery !== undefined) {
    // mailparser reads a message/delivery-status part as text: its fields are then in the body.
    return { kind: isDelayOnly(delivery?.text ?? input.text ?? '') ? 'delay' : 'bounce', marker: type !== undefined ? `Content-Type: multipart/report; report-type=${type || 'delivery-status'}` : 'a message/delivery-status part' };
  }
  if (type === 'disposition-notification' || partTypes.includes('message/disposition-notification')) return { kind: 'read-receipt', marker: 'Content-Type: multipart/report; report-type=disposition-notification' };
  if (type === 'feedback-report' || partTypes.includes('message/feedback-report')) return { kind: 'abuse-report', marker: 'Content-Type: multipart/report; report-type=feedback-report' };
  if (type !== undefined) return { kind: 'auto-generated', marker: `Content-Type: multipart/report${type ? `; report-type=${type}` : ''}` };

  // 2. Exchange's and Exim's own markers of a non-delivery report.
  if ((h('x-ms-exchange-message-is-ndr') ?? '') !== '' || has('x-ms-exchange-message-is-ndr')) return { kind: 'bounce', marker: 'X-MS-Exchange-Message-Is-Ndr' };
  if (has('x-failed-recipients')) return { kind: 'bounce', marker: 'X-Failed-Recipients' };
  // Amazon SNS delivers SES's bounce, complaint and delivery notifications by email: a machine's
  // notice whatever it says. (X-SES-Outgoing and Feedback-ID are NOT markers: every message sent
  // through SES or a bulk platform carries them, a website form's notice of a tenant's enquiry too.)
  if (has('x-amz-sns-message-id') || has('x-amz-sns-subscription-arn')) {
    const what = snsNotificationType(input.text ?? '');
    const kind: AutomaticKind = what === 'bounce' ? 'bounce' : what === 'complaint' ? 'abuse-report' : 'auto-generated';
    return { kind, marker: `x-amz-sns-message-id (an Amazon SNS notification${what !== undefined ? `: ${what}` : ''})` };
  }

  // 3. Senders that are never a person.
  const sender = input.from[0]?.address ?? '';
  const local = sender.slice(0, sender.lastIndexOf('@')).toLowerCase();
  if (SYSTEM_SENDERS.has(local)) return { kind: subjectKind(input.subject) === 'delay' ? 'delay' : 'bounce', marker: `From: ${local}@…` };
  const returnPath = h('return-path');
  const nullSender = returnPath !== undefined && returnPath.replace(/\s/g, '') === '<>';
  if (nullSender && subjectKind(input.subject) !== undefined) return { kind: subjectKind(input.subject)!, marker: 'Return-Path: <>' };

  // 4. RFC 3834 and the vendors' auto-reply headers.
  const auto = h('auto-submitted')?.toLowerCase();
  if (auto !== undefined && auto !== '' && !auto.startsWith('no')) {
    const kind: AutomaticKind = auto.startsWith('auto-replied') ? (subjectKind(input.subject) ?? 'auto-reply') : auto.includes('failure') ? 'bounce' : auto.includes('warning') || auto.includes('delay') ? 'delay' : 'auto-generated';
    return { kind, marker: `Auto-Submitted: ${auto.slice(0, 100)}` };
  }
  for (const k of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-autogenerated', 'x-autoreply-from', 'x-mail-autoreply', 'x-auto-reply']) {
    if (has(k)) return { kind: 'auto-reply', marker: k };
  }
  const apple = h('x-apple-action')?.toLowerCase();
  if (apple !== undefined && apple !== '') return { kind: 'auto-reply', marker: `X-Apple-Action: ${apple.slice(0, 50)}` };
  const suppress = h('x-auto-response-suppress');
  if (suppress !== undefined && suppress !== '' && !forwarded) return { kind: 'auto-reply', marker: `X-Auto-Response-Suppress: ${suppress.slice(0, 60)}` };
  if (has('x-ms-exchange-generated-message-source')) return { kind: 'auto-generated', marker: 'X-MS-Exchange-Generated-Message-Source' };
  if (has('x-ms-exchange-inbox-rules-loop') && !forwarded) return { kind: 'auto-reply', marker: 'X-MS-Exchange-Inbox-Rules-Loop' };
  const precedence = h('precedence')?.toLowerCase();
  if (precedence === 'auto_reply') return { kind: 'auto-reply', marker: 'Precedence: auto_reply' };
  // A shared mailbox that is itself a list (a Google Group, a collaborative inbox) marks every
  // customer's message `Precedence: list` and names itself in List-Id: those are enquiries.
  if ((precedence === 'bulk' || precedence === 'junk' || precedence === 'list') && !ownList(h('list-id') ?? h('mailing-list'), orgDomains)) return { kind: 'bulk', marker: `Precedence: ${precedence}` };

  // 5. A DSN in all but its MIME type (a carrier's own notice, a Japanese "メールエラー通知"): it
  // returns the original message and comes from no one who reads replies: the null sender (only
  // automatic mail is sent from it, RFC 5321 §4.5.5), or a no-reply address that says the message
  // could not be delivered. A person forwarding a bounce (their own address, "Fwd:") is neither.
  // (After the auto-reply markers: an out-of-office that attaches the message it answers stays an
  // auto-reply, and never marks the centre's reply undelivered.)
  const returnsOriginal = input.reports.some((r) => ORIGINAL_TYPES.has(r.contentType));
  if (returnsOriginal && nullSender) return { kind: 'bounce', marker: 'Return-Path: <> with the returned message attached' };
  if (returnsOriginal && NO_REPLY_SENDERS.has(local) && saysUndelivered(input.text ?? '')) return { kind: 'bounce', marker: `From: ${local}@… with the returned message attached` };

  // 6. A mailing-list manager's own notice (not a member, loop alert, held for moderation, …): the list
  // software's header and the list's administrative address as the sender. The posts it relays
  // come from their authors and stay what they are; the organisation's own list (a shared mailbox
  // that is a Google Group) is left alone.
  const listHeader = LIST_MANAGER_HEADERS.find((k) => has(k));
  if (listHeader !== undefined && !ownList(h('list-id') ?? h('mailing-list'), orgDomains)) {
    if ((h('x-list-administrivia') ?? '').toLowerCase() === 'yes' || isListAdmin(local)) return { kind: subjectKind(input.subject) ?? 'auto-generated', marker: `${listHeader} from the list's ${local}@…` };
  }

  // 7. Subjects: prefixes only (a customer may well write "out of office hours" in a subject's middle).
  const bySubject = subjectKind(input.subject);
  if (bySubject !== undefined && !forwarded) return { kind: bySubject, marker: `Subject: ${(input.subject ?? '').trim().slice(0, 60)}` };
  return undefined;
}

/** Whether a List-Id (`<customer.services.yourorg.org>`) or Mailing-list value names one of the organisation's domains. */
function ownList(value: string | undefined, orgDomains: readonly string[]): boolean {
  if (value === undefined || orgDomains.length === 0) return false;
  const v = value.toLowerCase();
  return orgDomains.some((d) => v.includes(`.${d}>`) || v.includes(`@${d}`) || v.endsWith(`.${d}`));
}

function subjectKind(subject: string | undefined): AutomaticKind | undefined {
  const s = (subject ?? '').trimStart().toLowerCase().slice(0, 200);
  for (const [prefix, kind] of SUBJECT_PREFIXES) if (s.startsWith(prefix)) return kind;
  return undefined;
}

/** A delivery-status part whose every recipient says `Action: delayed` is a warning, not a failure. */
function isDelayOnly(text: string): boolean {
  const actions = fields(text, 'action').map((a) => a.toLowerCase());
  return actions.length > 0 && actions.every((a) => a.startsWith('delayed'));
}

/** The values of a field in a block of header-like lines (a DSN, an MDN, embedded headers), unfolded. */
export function fields(text: string, name: string): string[] {
  const out: string[] = [];
  const key = `${name.toLowerCase()}:`;
  const lines = text.split(/\r?\n/, 5000);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length < key.length || line.slice(0, key.length).toLowerCase() !== key) continue;
    let value = line.slice(key.length);
    while (i + 1 < lines.length && (lines[i + 1]!.startsWith(' ') || lines[i + 1]!.startsWith('\t'))) value += ` ${lines[++i]!.trim()}`;
    out.push(value.trim());
  }
  return out;
}

/** The first `<id>` in a value, or undefined. */
function firstId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const open = value.indexOf('<');
  const close = open === -1 ? -1 : value.indexOf('>', open);
  if (open === -1 || close <= open + 1) return undefined;
  const id = value.slice(open, close + 1);
  return /\s/.test(id) || id.length > 1000 ? undefined : id;
}

/**
 * The message a report or bounce is about: the embedded original's headers (message/rfc822,
 * text/rfc822-headers), an MDN's Original-Message-ID, or, for a plain-text bounce that quotes the
 * message, the first Message-ID line in its text.
 */
export function originalOf(reports: readonly ReportPart[], text: string): OriginalMessage | undefined {
  for (const r of reports) {
    if (r.contentType === 'message/disposition-notification') {
      const id = firstId(fields(r.text, 'original-message-id')[0]);
      if (id !== undefined) return { messageId: id, references: [] };
    }
  }
  for (const r of reports) {
    if (r.contentType !== 'message/rfc822' && r.contentType !== 'text/rfc822-headers' && r.contentType !== 'message/global' && r.contentType !== 'message/global-headers') continue;
    const head = headBlock(r.text);
    const found = fromHeaders(head);
    if (found !== undefined) return found;
  }
  // A plain-text bounce quoting the message: its headers are somewhere in the text.
  const at = indexOfHeader(text, 'message-id:');
  if (at !== -1) return fromHeaders(text.slice(Math.max(0, text.lastIndexOf('\n', at)), at + 20_000));
  // An Amazon SNS notification of SES: the original's headers, when the topic includes them, as JSON.
  if (text.includes('notificationType')) return sesOriginal(text);
  return undefined;
}

/**
 * The original message's ids in an SES notification's JSON (`mail.headers`: `{"name":"Message-ID",
 * "value":"<…>"}`, or `mail.commonHeaders.messageId`), which SNS may wrap as a JSON string (quotes
 * escaped). String scans of a bounded window only.
 */
function sesOriginal(text: string): OriginalMessage | undefined {
  const json = text.slice(0, 64 * 1024).replaceAll('\\"', '"');
  // ASCII letters only, so the indexes stay those of `json`.
  const lower = json.replace(/[A-Z]+/g, (run) => run.toLowerCase());
  const value = (key: string) => {
    const at = lower.indexOf(key);
    if (at === -1) return undefined;
    const start = at + key.length;
    const end = json.indexOf('"', start);
    return end === -1 || end - start > 20_000 ? undefined : json.slice(start, end);
  };
  const common = value('"messageid":"<');
  const messageId = firstId(value('"name":"message-id","value":"') ?? (common === undefined ? undefined : `<${common}`));
  const inReplyTo = firstId(value('"name":"in-reply-to","value":"'));
  const references: string[] = [];
  for (const token of (value('"name":"references","value":"') ?? '').split(/[\s,]+/, 200)) {
    const id = firstId(token);
    if (id !== undefined) references.push(id);
  }
  if (messageId === undefined && inReplyTo === undefined && references.length === 0) return undefined;
  return { ...(messageId !== undefined ? { messageId } : {}), ...(inReplyTo !== undefined ? { inReplyTo } : {}), references };
}

function indexOfHeader(text: string, key: string): number {
  const lower = text.slice(0, 200_000).toLowerCase();
  let at = lower.indexOf(key);
  while (at !== -1) {
    if (at === 0 || lower[at - 1] === '\n') return at;
    at = lower.indexOf(key, at + 1);
  }
  return -1;
}

function headBlock(text: string): string {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const end = [crlf, lf].filter((i) => i !== -1);
  return end.length === 0 ? text : text.slice(0, Math.min(...end));
}

function fromHeaders(head: string): OriginalMessage | undefined {
  const messageId = firstId(fields(head, 'message-id')[0]);
  const inReplyTo = firstId(fields(head, 'in-reply-to')[0]);
  const refs = fields(head, 'references')[0] ?? '';
  const references: string[] = [];
  for (const token of refs.split(/[\s,]+/, 200)) {
    const id = firstId(token);
    if (id !== undefined) references.push(id);
  }
  if (messageId === undefined && inReplyTo === undefined && references.length === 0) return undefined;
  return { ...(messageId !== undefined ? { messageId } : {}), ...(inReplyTo !== undefined ? { inReplyTo } : {}), references };
}

/** Words for an event's reason and the answer. */
export const KIND_WORDS: Record<AutomaticKind, string> = {
  bounce: 'a bounce (non-delivery report)',
  delay: 'a delivery delay warning',
  'read-receipt': 'a read receipt',
  'abuse-report': 'an abuse report',
  'auto-reply': 'an automatic reply (out of office)',
  'auto-generated': 'automatically generated mail',
  bulk: 'bulk or list mail',
};
