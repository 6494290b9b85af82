// Email: a raw RFC 5322 message, parsed with mailparser. Message-ID is the key; To/Cc decide the
// route; mail from the organisation that answers a stored message becomes its `replied` event.
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { Config } from '../config.js';
import { ContactError } from '../domain/model.js';
import { MINUTE, formatInstant, parseInstant } from '../domain/time.js';
import { NotFoundError, type ContactView, type IngestService } from './service.js';

/** The summary keeps the start of the text body. */
export const SUMMARY_CHARS = 2000;
const SUBJECT_CHARS = 1000;

/** Mail from the organisation that answers nothing Kept has stored: 404 naming the header. */
export class UnansweredEmailError extends NotFoundError {
  readonly field = 'In-Reply-To';
}

export type EmailOutcome =
  /** An inbound message opened a contact (201). */
  | { kind: 'created'; contact: ContactView }
  /** The same Message-ID was already stored: the stored contact, unchanged (200). */
  | { kind: 'replayed'; contact: ContactView }
  /** The organisation's reply, recorded as `replied` on `contact` (and on `alsoAnswered`) (200). */
  | { kind: 'replied'; contact: ContactView; alsoAnswered: string[]; duplicate: boolean }
  /** An automatic reply from the organisation (auto-acknowledgement, out-of-office): not a reply (202). */
  | { kind: 'ignored'; reason: string; messageId: string };

interface Mailbox {
  address: string;
  name: string;
}

function addresses(a: AddressObject | AddressObject[] | undefined): Mailbox[] {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  const out: Mailbox[] = [];
  const walk = (values: AddressObject['value']) => {
    for (const v of values) {
      if (v.group) walk(v.group);
      else if (v.address) out.push({ address: v.address.trim().toLowerCase(), name: (v.name ?? '').trim() });
    }
  };
  for (const o of list) walk(o.value);
  return out;
}

/** Addresses in an unparsed header value (X-Original-To and friends). */
const bareAddresses = (v: unknown): Mailbox[] =>
  typeof v === 'string' ? (v.match(/[^\s<>,;"']+@[^\s<>,;"']+/g) ?? []).map((address) => ({ address: address.toLowerCase(), name: '' })) : [];

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** Every `<id>` in an In-Reply-To or References value (mailparser keeps several ids as one string). */
function messageIds(v: string | string[] | undefined): string[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return list.flatMap((s) => s.match(/<[^<>\s]+>/g) ?? []);
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
/** RFC 5322 §4.3 obsolete zone names, which do name an offset. Other names (BST, CET…) are not guessed. */
const ZONES: Record<string, number> = { ut: 0, utc: 0, gmt: 0, z: 0, est: -5, edt: -4, cst: -6, cdt: -5, mst: -7, mdt: -6, pst: -8, pdt: -7 };
const RFC5322_DATE = /^(?:[a-z]{3,9},?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[a-z]{1,5}))?$/i;

/**
 * Reads a Date header value (RFC 5322 date-time). Returns the instant, or why it cannot be used:
 * mailparser would read a date without a zone in the server's own zone, and an unreadable one as
 * "now", silently; Kept never guesses a zone (STANDARDS §1).
 */
export function parseMailDate(value: string): { ms: number } | { problem: string } {
  const text = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  const m = RFC5322_DATE.exec(text);
  if (m === null) {
    try {
      return { ms: parseInstant(text) }; // some systems write ISO-8601
    } catch {
      return { problem: /\d{1,2}:\d{2}/.test(text) && !/[+-]\d{2}:?\d{2}\b|\bZ\b/i.test(text) ? 'has no UTC offset' : 'is not a readable date' };
    }
  }
  const [, d, mon, y, h, min, s, zone] = m;
  const month = MONTHS[mon!.toLowerCase()];
  let year = Number(y);
  if (y!.length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if (y!.length === 3) year += 1900;
  if (month === undefined) return { problem: 'is not a readable date' };
  if (zone === undefined) return { problem: 'has no UTC offset' };
  let offsetMinutes: number;
  if (/^[+-]\d{4}$/.test(zone)) {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(3, 5));
    if (hours > 18 || minutes > 59) return { problem: 'has an impossible UTC offset' };
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  } else {
    const hours = ZONES[zone.toLowerCase()];
    if (hours === undefined) return { problem: `names the zone "${zone}" instead of a UTC offset` };
    offsetMinutes = hours * 60;
  }
  const iso = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${d!.padStart(2, '0')}T${h!.padStart(2, '0')}:${min}:${s ?? '00'}Z`;
  try {
    return { ms: parseInstant(iso) - offsetMinutes * MINUTE };
  } catch {
    return { problem: 'is not a readable date' };
  }
}

/** A header as it was written (the first of that name, unfolded), or undefined. */
function rawHeader(mail: ParsedMail, key: string): string | undefined {
  const line = mail.headerLines?.find((l) => l.key === key)?.line;
  if (line === undefined) return undefined;
  return line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/**
 * When the message was sent, from its Date header. Falls back to when Kept received it (and says so)
 * when the header is missing, has no offset, or is later than that receipt (a sender's clock ahead).
 */
function sentAt(mail: ParsedMail, now: number): { at: number; note?: string; date?: string } {
  const date = rawHeader(mail, 'date');
  if (date === undefined) return { at: now, note: 'no Date header: receivedAt is when Kept received the message' };
  const parsed = parseMailDate(date);
  if ('problem' in parsed) return { at: now, date, note: `the Date header "${date}" ${parsed.problem}: receivedAt is when Kept received the message` };
  if (parsed.ms > now) return { at: now, date, note: `the Date header "${date}" is later than Kept received the message: receivedAt is when Kept received it` };
  return { at: parsed.ms, date };
}

/** RFC 3834 Auto-Submitted, and the common non-standard markers of automatic replies. */
function automatic(mail: ParsedMail): string | undefined {
  const header = (k: string) => {
    const v = mail.headers.get(k);
    return typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  };
  const auto = header('auto-submitted');
  if (auto !== undefined && auto !== '' && !auto.startsWith('no')) return `Auto-Submitted: ${auto}`;
  for (const k of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) if (mail.headers.has(k)) return k;
  const precedence = header('precedence');
  if (precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk') return `Precedence: ${precedence}`;
  return undefined;
}

function summaryOf(mail: ParsedMail): string | undefined {
  const text = (mail.text ?? '').replace(/\r\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  if (text === '') return undefined;
  return text.length <= SUMMARY_CHARS ? text : `${text.slice(0, SUMMARY_CHARS - 1).trimEnd()}…`;
}

async function parse(raw: Buffer): Promise<ParsedMail> {
  try {
    return await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  } catch (e) {
    throw new ContactError('body', `is not a readable RFC 5322 message (${e instanceof Error ? e.message : String(e)})`);
  }
}

export async function ingestEmail(service: IngestService, config: Config, raw: Buffer): Promise<EmailOutcome> {
  const mail = await parse(raw);
  const messageId = mail.messageId?.trim();
  if (!messageId || messageId === '<>') throw new ContactError('Message-ID', 'is required: the message has no Message-ID header, and Kept uses it to recognise a message sent twice');
  const now = service.now();

  // A replay of a stored message: the stored contact, whatever the receipt time is now.
  const stored = service.contacts.byExternal('email', messageId);
  if (stored !== undefined) return { kind: 'replayed', contact: service.view(stored.id)! };

  const from = addresses(mail.from)[0];
  const atOrg = (address: string) => config.orgDomains.includes(domainOf(address));
  const when = sentAt(mail, now);

  if (from !== undefined && atOrg(from.address)) return reply(service, mail, messageId, from, when.at);

  // Inbound. To/Cc first; then where the receiving server says it delivered it (Bcc, an alias).
  const visible = [...addresses(mail.to), ...addresses(mail.cc)];
  const delivered = [...addresses(mail.bcc), ...addresses(mail.headers.get('delivered-to') as AddressObject | AddressObject[] | undefined), ...bareAddresses(mail.headers.get('x-original-to'))];
  let route: 'customer-services' | 'colleague-direct';
  let colleague: string | undefined;
  if ([...visible, ...delivered].some((r) => r.address === config.mailbox)) route = 'customer-services';
  else {
    colleague = (visible.find((r) => atOrg(r.address)) ?? delivered.find((r) => atOrg(r.address)))?.address;
    if (colleague === undefined) {
      const to = visible.map((r) => r.address).join(', ') || 'no recipients';
      throw new ContactError(
        'To',
        `is neither the customer-services mailbox (${config.mailbox}) nor an address at ${config.orgDomains.join(', ')} (the message is to ${to}), so Kept cannot tell which standard applies`,
      );
    }
    route = 'colleague-direct';
  }

  const summary = summaryOf(mail);
  const subject = mail.subject?.trim();
  const auto = automatic(mail);
  const inReplyTo = messageIds(mail.inReplyTo)[0];
  try {
    const r = await service.createContact({
      channel: 'email',
      route,
      externalId: messageId,
      receivedAt: formatInstant(when.at),
      ...(from !== undefined ? { customer: { ...(from.name ? { name: from.name } : {}), email: from.address } } : {}),
      ...(subject ? { subject: subject.slice(0, SUBJECT_CHARS) } : {}),
      ...(summary !== undefined ? { summary } : {}),
      source: {
        messageId,
        ...(when.date !== undefined ? { date: when.date } : {}),
        ...(when.note !== undefined ? { note: when.note } : {}),
        ...(colleague !== undefined ? { colleague } : {}),
        ...(inReplyTo !== undefined ? { inReplyTo } : {}),
        ...(auto !== undefined ? { automatic: auto } : {}),
        attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
      },
    });
    return { kind: r.created ? 'created' : 'replayed', contact: r.contact };
  } catch (e) {
    // The same message posted twice at once: the other post stored it first.
    const again = service.contacts.byExternal('email', messageId);
    if (again !== undefined) return { kind: 'replayed', contact: service.view(again.id)! };
    throw e;
  }
}

/**
 * Mail from the organisation. It answers the message its In-Reply-To names (or, failing that, the
 * newest stored one its References name); every other stored message it names that still awaits a
 * reply (received by then) is answered by it too: one reply answers the thread so far.
 */
async function reply(service: IngestService, mail: ParsedMail, messageId: string, from: Mailbox, at: number): Promise<EmailOutcome> {
  const auto = automatic(mail);
  if (auto !== undefined) return { kind: 'ignored', reason: `an automatic reply (${auto}) is not a reply: the clock keeps running`, messageId };
  // In-Reply-To first, then References newest first (the last one is the message answered).
  const named = [...new Set([...messageIds(mail.inReplyTo), ...messageIds(mail.references).reverse()])];
  const rows = named.flatMap((id) => {
    const row = service.contacts.byExternal('email', id);
    return row === undefined ? [] : [row];
  });
  const primary = rows[0];
  if (primary === undefined) {
    throw new UnansweredEmailError(
      named.length === 0
        ? `In-Reply-To: mail from the organisation (${from.address}) is recorded as a reply, but this message has no In-Reply-To or References naming the message it answers`
        : `In-Reply-To: mail from the organisation (${from.address}) answers ${named.join(', ')}, which Kept has not stored (post the customer's message first)`,
    );
  }
  const event = { type: 'replied', at: formatInstant(at), externalId: messageId };
  const duplicate = service.contacts.eventByExternal(primary.id, messageId) !== undefined;
  const result = duplicate ? { contact: service.view(primary.id)! } : await service.addEvents(primary.id, [event]);
  const alsoAnswered: string[] = [];
  for (const row of rows.slice(1)) {
    if (row.id === primary.id || row.receivedAt > at || service.contacts.eventByExternal(row.id, messageId) !== undefined) continue;
    if (!service.contacts.clocks(row.id).some((k) => k.open && k.standard.endsWith('-reply'))) continue;
    await service.addEvents(row.id, [event]);
    alsoAnswered.push(row.id);
  }
  return { kind: 'replied', contact: result.contact, alsoAnswered, duplicate };
}
