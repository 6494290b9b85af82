// Email: a raw RFC 5322 message, streamed to mailparser on a worker thread. Message-ID is the key;
// To/Cc decide the route; mail from the organisation that answers a stored message becomes its `replied` event.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { ContactError } from '../domain/model.js';
import { EARLIEST_INSTANT, LATEST_INSTANT, MINUTE, formatInstant, parseInstant } from '../domain/time.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, UnavailableError } from '../errors.js';
import type { ContactView, IngestService } from './service.js';
import { classifyAutomatic, fields, isForwardSubject, KIND_WORDS, originalOf, type Automatic, type AutomaticKind, type ReportPart } from './automatic.js';
import type { ContactRow } from '../store/contacts.js';
import { hash } from 'node:crypto';

/** The summary keeps the start of the text body. */
export const SUMMARY_CHARS = 2000;
const SUBJECT_CHARS = 1000;
/** Of the text body only this much comes back from the parser: the summary needs the start only. */
const TEXT_KEPT_CHARS = 64 * 1024;
/** Attachments listed in `source` (the rest are counted): a message may carry up to 1,000 MIME parts. */
const LISTED_ATTACHMENTS = 100;
/**
 * Addresses read from one header. Handing 250,000 parsed addresses (a 1 MB Cc) from the parsing
 * thread cost the main thread 140–200 ms to unpack; a message to more people than this is routed
 * by the first ones.
 */
const MAX_ADDRESSES = 1000;
/** A Date header longer than this is not a date; it is neither parsed nor quoted whole in the note. */
const DATE_CHARS = 200;
/**
 * `stallMs`: the parser is given up on when it has owed an answer this long without a word (a chunk
 * not consumed, or no result after the last byte): whatever the message does to mailparser, one
 * request cannot hold a parsing thread longer than this without showing progress. (An object so the
 * tests can shorten it.)
 */
export const mailParsing = { stallMs: 10_000 };
/** Bytes handed to the parsing thread and not yet consumed by it; past this the upload is paused. */
const WINDOW_BYTES = 1024 * 1024;
/** Parsing threads. Mail is a few thousand messages a day: two keep a slow message from queueing the rest. */
const MAIL_THREADS = 2;
/** Messages waiting for a parsing thread before new ones are told to come back later (503). */
const MAX_WAITING = 32;
/** HTML bodies larger than this are not converted to text (the summary is then empty): it bounds the thread's work. */
const MAX_HTML_TO_TEXT = 4 * 1024 * 1024;
/** Of a report's part (a DSN, a returned message) only the start is read: the fields and the original's headers. */
const REPORT_PART_CHARS = 32 * 1024;

/** Mail from the organisation that answers nothing Kept has stored: 404 naming the header. */
export class UnansweredEmailError extends NotFoundError {
  constructor(message: string) {
    super(message, 'In-Reply-To', 'unanswered-reply');
  }
}

export type EmailOutcome =
  /** An inbound message opened a contact (201). */
  | { kind: 'created'; contact: ContactView }
  /** The same Message-ID was already stored: the stored contact, unchanged (200). */
  | { kind: 'replayed'; contact: ContactView }
  /** The organisation's reply, recorded as `replied` on `contact` (and on `alsoAnswered`) (200). */
  | { kind: 'replied'; contact: ContactView; alsoAnswered: string[]; duplicate: boolean }
  /** Automatic mail (bounce, out-of-office, receipt, report) from anyone: kept, never a contact or a reply (202). */
  | { kind: 'automatic'; automatic: AutomaticKind; reason: string; messageId: string; contactId?: string; undeliveredReply?: string; alsoUndelivered?: string[] };

export interface Mailbox {
  address: string;
  name: string;
}

/** What the parsing thread reports about a message: plain data, bounded, nothing of the attachments but their size. */
export interface MailFacts {
  messageId: string | undefined;
  subject: string | undefined;
  inReplyTo: string | undefined;
  /** The newest 100 References ids at most (mailparser's reading). */
  references: string[];
  /** Each list holds the header's first MAX_ADDRESSES addresses. */
  from: Mailbox[];
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  deliveredTo: Mailbox[];
  /** The top-level header lines as written (folded), in order; bounded by mailparser's 1 MiB per MIME part. */
  headerLines: Array<{ key: string; line: string }>;
  attachments: Array<{ filename: string | null; contentType: string; size: number }>;
  /** Attachments beyond those listed. */
  moreAttachments: number;
  /** The start of each report part (DSN, MDN, ARF, returned message or headers), the first four. */
  reports: ReportPart[];
  /** The first TEXT_KEPT_CHARS of the text body (HTML converted when there is no text part). */
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Scans of header text. The text is the sender's: every scan here is one pass with no pattern that
// can backtrack over a run of it (tests/security/adapters-linear.test.ts times them at two sizes).

/** Characters that end an address in an unparsed header value (X-Original-To and friends). */
const ADDRESS_SEPARATORS = /[\s<>,;"']+/;

/**
 * Addresses in an unparsed header value (X-Original-To and friends), the first MAX_ADDRESSES: split
 * on separators, then keep the tokens with an `@` that is neither their first nor their last
 * character. (The former `/[^\s<>,;"']+@[^\s<>,;"']+/g` rescanned a run without `@` from each of
 * its characters: 10 KB took 0.11 s, 160 KB 25.5 s.)
 */
export function bareAddresses(v: unknown): Mailbox[] {
  if (typeof v !== 'string') return [];
  const out: Mailbox[] = [];
  for (const token of v.split(ADDRESS_SEPARATORS)) {
    const at = token.indexOf('@', 1);
    if (at !== -1 && at < token.length - 1) out.push({ address: token.toLowerCase(), name: '' });
    if (out.length >= MAX_ADDRESSES) break;
  }
  return out;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** JavaScript's `\s`, by code unit. */
const isSpace = (c: number) =>
  (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

/** Every `<id>` in an In-Reply-To or References value (mailparser keeps several ids as one string). One pass. */
export function messageIds(v: string | string[] | undefined): string[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const s of list) {
    let open = -1; // the `<` the current id started at, or -1
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3c /* < */) open = i;
      else if (c === 0x3e /* > */) {
        if (open !== -1 && i > open + 1) out.push(s.slice(open, i + 1));
        open = -1;
      } else if (isSpace(c)) open = -1; // an id holds no white space
    }
  }
  return out;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
/** RFC 5322 §4.3 obsolete zone names, which do name an offset. Other names (BST, CET…) are not guessed. */
const ZONES: Record<string, number> = { ut: 0, utc: 0, gmt: 0, z: 0, est: -5, edt: -4, cst: -6, cdt: -5, mst: -7, mdt: -6, pst: -8, pdt: -7 };
// Anchored, and every repeat is bounded or followed by a character it cannot match (white space is
// collapsed to single spaces first), so a failed match costs one pass.
const RFC5322_DATE = /^(?:[a-z]{3,9},?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[a-z]{1,5}))?$/i;

/** Drops RFC 5322 comments `( … )` (nested too) in one pass. */
function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x28 /* ( */) {
      if (depth === 0) out += value.slice(from, i);
      depth++;
    } else if (c === 0x29 /* ) */ && depth > 0) {
      depth--;
      if (depth === 0) {
        out += ' ';
        from = i + 1;
      }
    }
  }
  return depth === 0 ? out + value.slice(from) : out;
}

const SUPPORTED_YEARS = 'is outside the years 2000–2199 Kept supports';

/**
 * Reads a Date header value (RFC 5322 date-time). Returns the instant, or why it cannot be used:
 * mailparser would read a date without a zone in the server's own zone, and an unreadable one as
 * "now", silently; Kept never guesses a zone (STANDARDS §1).
 */
export function parseMailDate(value: string): { ms: number } | { problem: string } {
  if (value.length > DATE_CHARS) return { problem: 'is not a readable date' };
  const text = withoutComments(value).replace(/\s+/g, ' ').trim();
  const m = RFC5322_DATE.exec(text);
  if (m === null) {
    try {
      return { ms: parseInstant(text) }; // some systems write ISO-8601
    } catch {
      const isoYear = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Number(text.slice(0, 4)) : undefined;
      if (isoYear !== undefined && (isoYear < 2000 || isoYear > 2199)) return { problem: SUPPORTED_YEARS };
      // A time of day with nothing after it that could be an offset: the sender left the zone out.
      return { problem: /\d{1,2}:\d{2}/.test(text) && !/(?:[+-]\d{2}:?\d{2}|Z)$/i.test(text) ? 'has no UTC offset' : 'is not a readable date' };
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
  // The years are judged on the instant itself: 31 Dec 1999 23:30 -0100 is 2000 in UTC. (Date.UTC
  // reads years below 100 as 19xx, so those are refused before it is asked.)
  if (year < 1999 || year > 2200) return { problem: SUPPORTED_YEARS };
  const day = Number(d);
  const [hour, minute, second] = [Number(h), Number(min), Number(s ?? '0')];
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > lastDay || hour > 23 || minute > 59 || second > 59) return { problem: 'is not a readable date' };
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * MINUTE;
  if (ms < EARLIEST_INSTANT || ms >= LATEST_INSTANT) return { problem: SUPPORTED_YEARS };
  return { ms };
}

/** A top-level header as it was written (the first of that name, unfolded), or undefined. */
export function rawHeader(lines: ReadonlyArray<{ key: string; line: string }>, key: string): string | undefined {
  const line = lines.find((l) => l.key === key)?.line;
  if (line === undefined) return undefined;
  // `\r?\n[ \t]+` cannot backtrack: it only starts at a line break.
  return line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** The date as quoted back in `source` (a hostile Date header is not stored whole). */
const quoted = (date: string) => (date.length <= DATE_CHARS ? date : `${date.slice(0, DATE_CHARS)}…`);

/**
 * When the message was sent, from its Date header. Falls back to when Kept received it (and says so)
 * when the header is missing, unreadable, has no offset, is outside the years Kept supports, or is
 * later than that receipt (a sender's clock ahead).
 */
function sentAt(lines: MailFacts['headerLines'], now: number): { at: number; note?: string; date?: string } {
  const raw = rawHeader(lines, 'date');
  if (raw === undefined) return { at: now, note: 'no Date header: receivedAt is when Kept received the message' };
  const date = quoted(raw);
  const parsed = parseMailDate(raw);
  if ('problem' in parsed) return { at: now, date, note: `the Date header "${date}" ${parsed.problem}: receivedAt is when Kept received the message` };
  if (parsed.ms > now) return { at: now, date, note: `the Date header "${date}" is later than Kept received the message: receivedAt is when Kept received it` };
  return { at: parsed.ms, date };
}

/** The start of the text body, blank runs closed up. `\n{3,}` matches a run once and fails at once elsewhere. */
export function summaryOf(text: string): string | undefined {
  const clean = text.replace(/\r\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  if (clean === '') return undefined;
  return clean.length <= SUMMARY_CHARS ? clean : `${clean.slice(0, SUMMARY_CHARS - 1).trimEnd()}…`;
}

// ---------------------------------------------------------------------------------------------
// The parsing threads. mailparser is hardened against the known super-linear inputs, but some
// linear work is still long for one turn of the event loop (a 1 MiB Cc header of short addresses
// holds it for 0.44 s), and it is a large dependency fed by strangers: the message is parsed on a
// worker thread, so health checks, the board and other posts never wait on it.
//
// The thread's code is inline (CommonJS, no TypeScript): it needs no loader and no file to ship,
// and it only drives mailparser and copies out plain data. Every judgement stays in this module.
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { MailParser } = require(workerData.mailparser);
const { convert: htmlToText } = require(workerData.htmlToText);
const jobs = new Map();
const REPORT_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status', 'message/disposition-notification', 'message/feedback-report', 'message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

function mailboxes(value, max) {
  const out = [];
  const walk = (list) => {
    for (const v of list || []) {
      if (out.length >= max) return;
      if (v && Array.isArray(v.group)) walk(v.group);
      else if (v && typeof v.address === 'string' && v.address !== '') out.push({ address: v.address.trim().toLowerCase(), name: String(v.name || '').slice(0, 1000).trim() });
    }
  };
  for (const o of [].concat(value || [])) walk(o && o.value);
  return out;
}

function start(id, o) {
  const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, checksumAlgo: false, maxHtmlLengthToParse: o.maxHtml });
  const job = { parser, attachments: [], more: 0, text: '', reports: [], settled: false };
  const finish = (message) => {
    if (job.settled) return;
    job.settled = true;
    jobs.delete(id);
    parentPort.postMessage(Object.assign({ id }, message));
  };
  parser.on('error', (e) => finish({ kind: 'error', message: String((e && e.message) || e), code: e && e.code }));
  let reading = false;
  const read = () => {
    reading = true;
    let data;
    while ((data = parser.read()) !== null) {
      if (data.type === 'text') {
        job.text = String(data.text || '').slice(0, o.textChars);
        // HTML-only mail: its text, without styles, scripts, images or link targets.
        if (job.text.trim() === '' && typeof data.html === 'string' && data.html.length <= o.maxHtml) {
          try {
            job.text = htmlToText(data.html, { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }, { selector: 'a', options: { ignoreHref: true } }, { selector: 'style', format: 'skip' }, { selector: 'script', format: 'skip' }] }).slice(0, o.textChars);
          } catch (e) { job.text = ''; }
        }
        continue;
      }
      if (data.type !== 'attachment') continue;
      const a = data;
      let size = 0;
      // The content is counted and dropped: attachments are never held. Of a report's parts (a
      // DSN, an MDN, a returned message's headers) the start is kept as text for the classifier.
      const type = String(a.contentType || '').toLowerCase();
      const report = REPORT_TYPES.has(type) && job.reports.length < 4 ? { contentType: type, text: '' } : undefined;
      if (report !== undefined) job.reports.push(report);
      a.content.on('data', (chunk) => {
        size += chunk.length;
        if (report !== undefined && report.text.length < o.reportChars) report.text += chunk.toString('utf8', 0, Math.min(chunk.length, o.reportChars - report.text.length));
      });
      a.content.on('end', () => {
        if (job.attachments.length < o.listed) {
          const filename = typeof a.filename === 'string' ? a.filename.slice(0, 255) : null;
          job.attachments.push({ filename, contentType: String(a.contentType || 'application/octet-stream').slice(0, 255), size });
        } else job.more++;
        a.release();
        read();
      });
      return; // the parser waits for release() before the next part
    }
    reading = false;
  };
  parser.on('readable', () => { if (!reading) read(); });
  parser.on('end', () => {
    const headers = parser.headers instanceof Map ? parser.headers : new Map();
    const text = (v) => (typeof v === 'string' ? v : undefined);
    const refs = [].concat(parser.references || []).filter((r) => typeof r === 'string');
    finish({
      kind: 'done',
      facts: {
        messageId: text(parser.messageId),
        subject: text(parser.subject) === undefined ? undefined : parser.subject.slice(0, 4 * o.subjectChars),
        inReplyTo: text(parser.inReplyTo),
        references: refs.slice(-100),
        from: mailboxes(parser.from, o.maxAddresses),
        to: mailboxes(parser.to, o.maxAddresses),
        cc: mailboxes(parser.cc, o.maxAddresses),
        bcc: mailboxes(parser.bcc, o.maxAddresses),
        replyTo: mailboxes(parser.replyTo, o.maxAddresses),
        deliveredTo: mailboxes(headers.get('delivered-to'), o.maxAddresses),
        headerLines: Array.isArray(parser.headerLines) ? parser.headerLines.map((l) => ({ key: String(l.key), line: String(l.line) })) : [],
        attachments: job.attachments,
        moreAttachments: job.more,
        reports: job.reports,
        text: job.text,
      },
    });
  });
  return job;
}

parentPort.on('message', (m) => {
  if (m.kind === 'start') {
    jobs.set(m.id, start(m.id, m.options));
    return;
  }
  const job = jobs.get(m.id);
  if (job === undefined) return;
  if (m.kind === 'bytes') {
    const n = m.bytes.byteLength;
    job.parser.write(Buffer.from(m.bytes), () => parentPort.postMessage({ id: m.id, kind: 'ack', bytes: n }));
  } else if (m.kind === 'end') job.parser.end();
  else if (m.kind === 'abort') {
    job.settled = true;
    jobs.delete(m.id);
    job.parser.destroy();
  }
});
parentPort.postMessage({ kind: 'ready' });
`;

type FromThread =
  | { kind: 'ready' }
  | { id: number; kind: 'ack'; bytes: number }
  | { id: number; kind: 'done'; facts: MailFacts }
  | { id: number; kind: 'error'; message: string; code?: string };

const notReadable = (why: string) => new ContactError('body', `is not a readable RFC 5322 message (${why})`);

/** One parsing thread; it parses one message at a time. */
class MailThread {
  readonly worker: Worker;
  ready = false;
  /** The job it is working on, told about everything the thread says. */
  job: ParseJob | undefined;
  dead = false;
  constructor(mailparser: string, htmlToText: string, onExit: (t: MailThread) => void) {
    // The heap cap keeps a message that makes mailparser balloon from taking the server's memory with it.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { mailparser, htmlToText }, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    this.worker.unref();
    this.worker.on('message', (m: FromThread) => {
      if (m.kind === 'ready') this.ready = true;
      else if (this.job !== undefined && this.job.id === m.id) this.job.hear(m);
    });
    this.worker.on('error', (e: Error & { code?: string }) => {
      this.dead = true;
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.job?.fail(new PayloadTooLargeError('body: parsing the message needed more memory than a message is allowed'));
      else if (!this.ready) this.job?.fail(new UnavailableError(`email: the mail parser could not start (${e.message})`, 'parser-unavailable'));
      else this.job?.fail(notReadable(e.message));
    });
    this.worker.on('exit', () => {
      this.dead = true;
      this.job?.fail(new UnavailableError('email: the mail parser stopped; send the message again', 'parser-unavailable'));
      onExit(this);
    });
  }
}

let nextJobId = 1;

const CR = 13;
const LF = 10;
/** How much of a message's start decides its line ends. */
const LINE_END_SAMPLE = 4096;

/**
 * Classic Mac line ends (a CR alone), as in a message file saved on an old Mac or a tool that wrote
 * it so: mailparser reads no header from such a message, which then had no sender, no subject and
 * nothing automatic about it (sisimai's maildir/mac: 0 of 80 recognised; with the receiving
 * server's Delivered-To before it, it opened a contact). Decided on the first 4 KB: when its bare
 * CRs outnumber its LFs four to one (a receiving server may have put a few CRLF lines on top), every
 * bare CR is handed over as CR LF; any other message passes byte for byte. One pass, no pattern.
 */
export class LineEnds {
  private mode: 'undecided' | 'cr' | 'as-is' = 'undecided';
  private sample: Buffer[] = [];
  private sampled = 0;
  /** A CR that ended the last chunk: whether an LF follows is in the next one. */
  private heldCr = false;

  /** The bytes to hand over now for `chunk` (none while the start is being sampled). */
  push(chunk: Buffer): Buffer[] {
    if (this.mode === 'as-is') return [chunk];
    if (this.mode === 'cr') return [this.convert(chunk)];
    this.sample.push(chunk);
    this.sampled += chunk.length;
    return this.sampled < LINE_END_SAMPLE ? [] : this.decide();
  }

  /** What is left at the end. */
  flush(): Buffer[] {
    const out = this.mode === 'undecided' ? this.decide() : [];
    if (this.heldCr) {
      this.heldCr = false;
      out.push(Buffer.from([CR, LF]));
    }
    return out;
  }

  private decide(): Buffer[] {
    const start = Buffer.concat(this.sample);
    this.sample = [];
    let bare = 0;
    let lfs = 0;
    for (let i = 0; i < start.length; i++) {
      if (start[i] === LF) lfs++;
      else if (start[i] === CR && i + 1 < start.length && start[i + 1] !== LF) bare++;
    }
    this.mode = bare >= 3 && bare > 4 * lfs ? 'cr' : 'as-is';
    return this.mode === 'cr' ? [this.convert(start)] : [start];
  }

  private convert(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    if (this.heldCr) {
      parts.push(chunk.length > 0 && chunk[0] === LF ? Buffer.from([CR]) : Buffer.from([CR, LF]));
      this.heldCr = false;
    }
    for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
      if (at + 1 === chunk.length) {
        parts.push(chunk.subarray(from, at));
        this.heldCr = true;
        return Buffer.concat(parts);
      }
      if (chunk[at + 1] === LF) continue;
      parts.push(chunk.subarray(from, at + 1), Buffer.from([LF]));
      from = at + 1;
    }
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }
}

/** One message on its way through a thread: flow control (acks), the stall watchdog, the result. */
class ParseJob {
  readonly id = nextJobId++;
  private unacked = 0;
  private ended = false;
  private settled = false;
  private watchdog: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;
  private readonly lineEnds = new LineEnds();
  readonly result: Promise<MailFacts>;
  private resolve!: (f: MailFacts) => void;
  private reject!: (e: Error) => void;

  constructor(
    private readonly thread: MailThread,
    private readonly onSettled: (job: ParseJob, healthy: boolean) => void,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.result.catch(() => {}); // read by the caller; never an unhandled rejection while streaming
    thread.job = this;
    thread.worker.ref();
    thread.worker.postMessage({ id: this.id, kind: 'start', options: { textChars: TEXT_KEPT_CHARS, listed: LISTED_ATTACHMENTS, subjectChars: SUBJECT_CHARS, maxHtml: MAX_HTML_TO_TEXT, maxAddresses: MAX_ADDRESSES, reportChars: REPORT_PART_CHARS } });
  }

  /** Hands bytes over (copied: request chunks may share a pooled buffer). False: wait for `drain()` first. */
  write(chunk: Buffer): boolean {
    if (this.settled) return true;
    for (const bytes of this.lineEnds.push(chunk)) this.send(bytes);
    return this.unacked < WINDOW_BYTES;
  }

  private send(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const copy = new Uint8Array(bytes);
    this.unacked += copy.byteLength;
    this.thread.worker.postMessage({ id: this.id, kind: 'bytes', bytes: copy.buffer }, [copy.buffer]);
    this.arm();
  }

  /** Calls back once the thread has consumed enough to take more (or the job is over). */
  drain(callback: () => void): void {
    if (this.settled || this.unacked < WINDOW_BYTES) callback();
    else this.drained = callback;
  }

  end(): Promise<MailFacts> {
    if (!this.settled) {
      for (const bytes of this.lineEnds.flush()) this.send(bytes);
      this.ended = true;
      this.thread.worker.postMessage({ id: this.id, kind: 'end' });
      this.arm();
    }
    return this.result;
  }

  /** The upload went wrong (too large, cut off): the thread drops the message and stays in service. */
  abort(error: Error): void {
    if (this.settled) return;
    this.thread.worker.postMessage({ id: this.id, kind: 'abort' });
    this.settle(true);
    this.reject(error);
  }

  hear(m: FromThread): void {
    if (this.settled) return;
    if (m.kind === 'ack') {
      this.unacked -= m.bytes;
      this.arm();
      if (this.unacked < WINDOW_BYTES && this.drained !== undefined) {
        const callback = this.drained;
        this.drained = undefined;
        callback();
      }
    } else if (m.kind === 'done') {
      this.settle(true);
      this.resolve(m.facts);
    } else if (m.kind === 'error') {
      this.settle(true);
      // mailsplit's own limits (a part's header over 1 MiB, over 1,000 parts) are sizes: 413.
      this.reject(m.code === 'EMAXLEN' ? new PayloadTooLargeError(`body: ${m.message} (mailparser's limits: 1 MiB of header per MIME part, 1,000 parts)`) : notReadable(m.message));
    }
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settle(false);
    this.reject(error);
  }

  /** Runs while the thread owes an answer; restarted by every word from it. */
  private arm(): void {
    clearTimeout(this.watchdog);
    if (this.settled || (this.unacked === 0 && !this.ended)) return;
    this.watchdog = setTimeout(() => {
      if (this.settled) return;
      this.settle(false); // the thread is stopped and replaced
      this.reject(new ContactError('body', `could not be parsed: the mail parser made no progress on it for ${mailParsing.stallMs / 1000} s, so Kept stopped (the message is built to be slow to read, or is not mail)`));
    }, mailParsing.stallMs);
  }

  private settle(healthy: boolean): void {
    this.settled = true;
    clearTimeout(this.watchdog);
    if (this.thread.job === this) this.thread.job = undefined;
    this.drained?.();
    this.drained = undefined;
    this.onSettled(this, healthy);
  }
}

/** The parsing threads, started when the first message arrives; idle ones do not keep the process alive. */
class MailThreads {
  private readonly idle: MailThread[] = [];
  private running = 0;
  private readonly waiting: Array<(t: MailThread) => void> = [];
  private mailparser: string | undefined;
  private htmlToText: string | undefined;

  async start(): Promise<ParseJob> {
    const thread = await this.acquire();
    return new ParseJob(thread, (_job, healthy) => this.release(thread, healthy));
  }

  private acquire(): Promise<MailThread> {
    const thread = this.idle.pop();
    if (thread !== undefined) return Promise.resolve(thread);
    if (this.running < MAIL_THREADS) {
      this.running++;
      return Promise.resolve(this.spawn());
    }
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(new UnavailableError(`email: ${MAX_WAITING} messages are already waiting to be parsed; send this one again shortly`, 'parser-busy', 5));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private spawn(): MailThread {
    const require = createRequire(import.meta.url);
    this.mailparser ??= require.resolve('mailparser');
    this.htmlToText ??= require.resolve('html-to-text');
    return new MailThread(this.mailparser, this.htmlToText, (t) => {
      // A thread that dies while idle leaves the pool here; a busy one leaves through release().
      const i = this.idle.indexOf(t);
      if (i === -1) return;
      this.idle.splice(i, 1);
      this.running--;
    });
  }

  private release(thread: MailThread, healthy: boolean): void {
    let next: MailThread | undefined = thread;
    if (!healthy || thread.dead) {
      if (!thread.dead) void thread.worker.terminate();
      next = undefined;
    }
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter(next ?? this.spawn());
      return;
    }
    if (next === undefined) this.running--;
    else {
      next.worker.unref();
      this.idle.push(next);
    }
  }
}

const threads = new MailThreads();

/**
 * Streams a raw message to a parsing thread and answers what it found. Counts the bytes: past
 * `limit` it stops reading and throws PayloadTooLargeError naming the limit (nothing is kept).
 */
export async function parseMail(input: Buffer | Readable, limit: number): Promise<MailFacts> {
  if (Buffer.isBuffer(input) && input.length > limit) throw tooLarge(limit);
  const job = await threads.start();
  if (Buffer.isBuffer(input)) {
    for (let i = 0; i < input.length; i += 64 * 1024) {
      job.write(input.subarray(i, i + 64 * 1024));
      await new Promise<void>((resolve) => job.drain(resolve));
    }
    return job.end();
  }
  await new Promise<void>((resolve, reject) => {
    // The client may have gone while the message waited for a thread: no event would come now.
    if (input.destroyed) {
      const error = new ContactError('body', 'ended before the message was complete (the connection closed)');
      job.abort(error);
      return reject(error);
    }
    let total = 0;
    let stopped = false;
    const stop = (error?: Error) => {
      if (stopped) return;
      stopped = true;
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.off('close', onClose);
      if (error === undefined) return resolve();
      job.abort(error);
      discardRest(input, total, 2 * limit);
      reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      total += bytes.length;
      if (total > limit) return stop(tooLarge(limit));
      if (!job.write(bytes)) {
        input.pause();
        job.drain(() => input.resume());
      }
    };
    const onEnd = () => stop();
    const onError = (e: Error) => stop(new ContactError('body', `ended before the message was complete (${e.message})`));
    const onClose = () => {
      if (!input.readableEnded) stop(new ContactError('body', 'ended before the message was complete (the connection closed)'));
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.on('close', onClose);
    // The thread may fail mid-upload (a refused part, a stall): stop reading at once.
    job.result.catch((e: Error) => stop(e));
  });
  return job.end();
}

/**
 * After a refusal the rest of the upload is read and dropped (never kept), up to `bound` bytes in
 * all, so a sender still writing can read the answer instead of meeting a reset connection; past
 * the bound reading stops, and the route cuts the connection once the answer is out.
 */
function discardRest(input: Readable, read: number, bound: number): void {
  if (input.readableEnded || input.destroyed) return;
  let total = read;
  const onData = (chunk: Buffer | string) => {
    total += chunk.length;
    if (total <= bound) return;
    input.off('data', onData);
    input.pause();
  };
  input.on('data', onData);
  input.resume();
}

export const tooLarge = (limit: number) => new PayloadTooLargeError(`body: the message is larger than the email limit of ${limit} bytes (KEPT_EMAIL_BODY_LIMIT)`);

// ---------------------------------------------------------------------------------------------

/** A fingerprint of what makes a message itself: two copies of one message (journaled and read over IMAP) share it. */
function digestOf(mail: MailFacts): string {
  return hash('sha256', JSON.stringify([mail.from[0]?.address ?? '', rawHeader(mail.headerLines, 'date') ?? '', (mail.subject ?? '').trim(), (summaryOf(mail.text) ?? '').slice(0, 500), mail.attachments.map((a) => `${a.filename ?? ''}:${a.size}`).join('/')]), 'hex').slice(0, 32);
}

/**
 * An attachment name written as raw UTF-8 and read as Latin-1 ("cafÃ©.pdf"): decoded again when the
 * bytes are valid UTF-8 (a real Latin-1 name with such bytes is vanishingly rare).
 */
export function repairName(name: string | null): string | null {
  if (name === null || !/[\u00c2-\u00f4][\u0080-\u00bf]/.test(name)) return name;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0xff) return name;
  const bytes = Buffer.from(name, 'latin1');
  const decoded = bytes.toString('utf8');
  return decoded.includes('\ufffd') ? name : decoded;
}

/** The sender of a forwarded message: the attached message's From, or the first From line after a forward's marker in the text. */
function forwardedSender(mail: MailFacts): Mailbox | undefined {
  for (const r of mail.reports) {
    if (r.contentType !== 'message/rfc822' && r.contentType !== 'message/global') continue;
    const from = mailboxIn(fields(r.text.slice(0, 64 * 1024).split(/\r?\n\r?\n/, 1)[0] ?? '', 'from')[0]);
    if (from !== undefined) return from;
  }
  const lower = mail.text.slice(0, 64 * 1024).toLowerCase();
  const marker = ['forwarded message', 'original message', 'weitergeleitete nachricht', 'message transféré', 'mensaje reenviado', 'begin forwarded message'].map((m) => lower.indexOf(m)).filter((i) => i !== -1);
  const after = marker.length === 0 ? -1 : Math.min(...marker);
  if (after === -1) return undefined;
  const text = mail.text.slice(after, after + 8 * 1024);
  return mailboxIn(fields(text.replace(/^[ \t>*]+/gm, ''), 'from')[0]);
}

/** One address from a From value: "Name <a@b>", "a@b", or "Name [mailto:a@b]". */
function mailboxIn(value: string | undefined): Mailbox | undefined {
  if (value === undefined) return undefined;
  const tokens = value.split(ADDRESS_SEPARATORS).map((t) => t.replace(/^\[?mailto:/i, '').replace(/[\]]$/, ''));
  const address = tokens.find((t) => t.indexOf('@', 1) !== -1 && !t.endsWith('@'));
  if (address === undefined) return undefined;
  const lt = value.indexOf('<');
  const bracket = value.indexOf('[');
  const cut = [lt, bracket].filter((i) => i > 0);
  const name = cut.length === 0 ? '' : value.slice(0, Math.min(...cut)).replace(/"/g, '').trim();
  return { address: address.toLowerCase().slice(0, 320), name: name.slice(0, 200) };
}

/** Whether a message carries a forwarded one: a forward's subject, or an attached message. */
const isForwarded = (mail: MailFacts) => isForwardSubject(mail.subject) || mail.reports.some((r) => r.contentType === 'message/rfc822');

/** Whether parsed mail is automatic, and why: the decision ingestEmail takes (scripts/mail-corpus.ts runs it over a corpus). */
export function automaticOf(mail: MailFacts, orgDomains: readonly string[]): Automatic | undefined {
  return classifyAutomatic(mail, isForwarded(mail), orgDomains);
}

/** Takes a raw message (streamed, at most `limit` bytes) and records it. */
export async function ingestEmail(service: IngestService, config: Config, input: Buffer | Readable, limit = config.emailBodyLimit): Promise<EmailOutcome> {
  const mail = await parseMail(input, limit);
  mail.attachments = mail.attachments.map((a) => ({ ...a, filename: repairName(a.filename) }));
  const given = mail.messageId?.trim();
  const digest = digestOf(mail);
  // Mail without a Message-ID (old bounces, some scanners' notices) is still kept: keyed by its content.
  const missingId = !given || given === '<>';
  const messageId = missingId ? `<kept-${digest}@no-message-id.invalid>` : given;
  if (messageId.length > 1000) throw new ContactError('Message-ID', 'must be at most 1000 characters');
  const now = service.now();

  // A replay of a stored message: the stored contact, whatever the receipt time is now. A different
  // message under a stored Message-ID is refused (409), never taken for a replay.
  const stored = await service.contacts.byExternal('email', messageId);
  if (stored !== undefined) {
    const was = stored.source?.digest;
    if (typeof was === 'string' && was !== digest) {
      throw new ConflictError(`Message-ID: ${messageId} is already stored for a different message (its sender, date, subject or text differ); a sender that reuses Message-IDs must be fixed, the stored contact is ${stored.id}`);
    }
    return { kind: 'replayed', contact: (await service.view(stored.id))! };
  }
  const kept = await service.mail.automatic(messageId);
  if (kept !== null && kept !== undefined) {
    return { kind: 'automatic', automatic: kept.kind as AutomaticKind, reason: automaticReason(kept.kind as AutomaticKind, kept.marker), messageId, ...(kept.contactId !== null ? { contactId: kept.contactId } : {}), ...(kept.reply !== null ? { undeliveredReply: kept.reply } : {}) };
  }

  const from = mail.from[0];
  const atOrg = (address: string) => config.orgDomains.includes(domainOf(address));
  const when = sentAt(mail.headerLines, now);
  const forward = isForwarded(mail);
  const auto = automaticOf(mail, config.orgDomains);
  if (auto !== undefined) return keepAutomatic(service, mail, messageId, auto, when.at);

  const visible = [...mail.to, ...mail.cc];
  const delivered = [...mail.bcc, ...mail.deliveredTo, ...bareAddresses(rawHeader(mail.headerLines, 'x-original-to'))];
  const toMailbox = visible.some((r) => r.address === config.mailbox) || delivered.some((r) => r.address === config.mailbox);

  // Mail from the organisation: a reply when it names a stored message; else, sent to the mailbox, an
  // enquiry (a colleague's forward, a website's notification); else a reply Kept cannot place (404).
  let customer: Mailbox | undefined = from;
  let via: string | undefined;
  if (from !== undefined && atOrg(from.address)) {
    if (!toMailbox || (await namesStored(service, mail))) return reply(service, mail, messageId, from, when.at);
    const forwarded = forward ? forwardedSender(mail) : undefined;
    const replyTo = mail.replyTo.find((r) => !atOrg(r.address));
    if (forwarded !== undefined) {
      customer = forwarded;
      via = 'forwarded by a colleague';
    } else if (replyTo !== undefined) {
      customer = replyTo;
      via = 'a notification: the customer is its Reply-To';
    } else via = 'sent from the organisation to the mailbox';
  } else {
    // A notification from another system (a website's form): the visitor is the Reply-To.
    const replyTo = mail.replyTo.find((r) => !atOrg(r.address) && r.address !== from?.address);
    if (replyTo !== undefined) {
      customer = replyTo;
      via = 'the customer is the Reply-To';
    }
  }

  // Inbound. To/Cc first; then where the receiving server says it delivered it (Bcc, an alias).
  let route: 'customer-services' | 'colleague-direct';
  let colleague: string | undefined;
  if (toMailbox) route = 'customer-services';
  else {
    colleague = (visible.find((r) => atOrg(r.address)) ?? delivered.find((r) => atOrg(r.address)))?.address;
    if (colleague === undefined) {
      const shown = visible.slice(0, 10).map((r) => r.address);
      const to = shown.length === 0 ? 'no recipients' : `${shown.join(', ')}${visible.length > shown.length ? ` and ${visible.length - shown.length} more` : ''}`;
      throw new ContactError(
        'To',
        `is neither the customer-services mailbox (${config.mailbox}) nor an address at ${config.orgDomains.join(', ')} (the message is to ${to}), so Kept cannot tell which standard applies`,
      );
    }
    route = 'colleague-direct';
  }

  const summary = summaryOf(mail.text);
  const subject = mail.subject?.trim();
  const inReplyTo = messageIds(mail.inReplyTo)[0];
  const name = customer?.name.slice(0, 200);
  try {
    const r = await service.createContact({
      channel: 'email',
      route,
      externalId: messageId,
      receivedAt: formatInstant(when.at),
      ...(customer !== undefined ? { customer: { ...(name ? { name } : {}), email: customer.address.slice(0, 320) } } : {}),
      ...(subject ? { subject: subject.slice(0, SUBJECT_CHARS) } : {}),
      ...(summary !== undefined ? { summary } : {}),
      source: {
        messageId,
        digest,
        ...(when.date !== undefined ? { date: when.date } : {}),
        ...(when.note !== undefined || missingId ? { note: [missingId ? 'no Message-ID: Kept keyed the message by its sender, date, subject and text' : undefined, when.note].filter(Boolean).join('; ') } : {}),
        ...(colleague !== undefined ? { colleague } : {}),
        ...(via !== undefined && from !== undefined ? { via, sentBy: from.address.slice(0, 320) } : {}),
        ...(inReplyTo !== undefined && inReplyTo.length <= 1000 ? { inReplyTo } : {}),
        attachments: mail.attachments,
        ...(mail.moreAttachments > 0 ? { attachmentsNotListed: mail.moreAttachments } : {}),
      },
    });
    return { kind: r.created ? 'created' : 'replayed', contact: r.contact };
  } catch (e) {
    // The same message posted twice at once: the other post stored it first.
    const again = await service.contacts.byExternal('email', messageId);
    if (again !== undefined) return { kind: 'replayed', contact: (await service.view(again.id))! };
    throw e;
  }
}

/** Whether the message's In-Reply-To or References name a stored message (read in turn: the first found ends it). */
async function namesStored(service: IngestService, mail: MailFacts): Promise<boolean> {
  for (const id of [...messageIds(mail.inReplyTo), ...messageIds(mail.references)]) {
    if (id.length <= 1000 && (await service.contacts.byExternal('email', id)) !== undefined) return true;
  }
  return false;
}

const automaticReason = (kind: AutomaticKind, marker: string) => `${KIND_WORDS[kind]} (${marker}): kept, and neither opens nor meets a customer's clock`;

/**
 * Automatic mail: kept (automatic_mail), and when it names a stored thread, an event on that
 * contact; a bounce of the centre's reply marks that reply undelivered on every contact it
 * answered, so it meets none of their clocks.
 */
async function keepAutomatic(service: IngestService, mail: MailFacts, messageId: string, auto: Automatic, at: number): Promise<EmailOutcome> {
  const original = originalOf(mail.reports, mail.text);
  const named = [
    ...(original?.messageId !== undefined ? [original.messageId] : []),
    ...(original?.inReplyTo !== undefined ? [original.inReplyTo] : []),
    ...(original?.references ?? []).slice().reverse(),
    ...messageIds(mail.inReplyTo),
    ...messageIds(mail.references).reverse(),
  ].filter((id) => id.length <= 1000);
  // The stored contacts it names, in that order (a reply may have answered several).
  const rows: ContactRow[] = [];
  for (const id of new Set(named)) {
    const row = await service.contacts.byExternal('email', id);
    if (row !== undefined && !rows.some((r) => r.id === row.id)) rows.push(row);
  }
  // A bounce of the centre's reply: every contact that reply answered (its `replied` event is keyed
  // by the reply's Message-ID) gets `undelivered`; the reply's own In-Reply-To and References, as
  // the bounce returns them, name them all, as they named them when the reply was recorded.
  const returned = auto.kind === 'bounce' ? original?.messageId : undefined;
  const replied = returned === undefined ? [] : await Promise.all(rows.map(async (row) => (await service.contacts.eventByExternal(row.id, returned))?.type === 'replied'));
  const undelivered = rows.filter((_, k) => replied[k] === true);
  const reply = undelivered.length > 0 ? returned : undefined;
  const contact = undelivered[0] ?? rows[0];
  const reason = automaticReason(auto.kind, auto.marker);
  const subject = mail.subject?.trim().slice(0, SUBJECT_CHARS);
  await service.recordAutomaticMail({ messageId, receivedAt: at, kind: auto.kind, marker: auto.marker, subject: subject || null, contactId: contact?.id ?? null, reply: reply ?? null });
  for (const row of undelivered.length > 0 ? undelivered : contact !== undefined ? [contact] : []) {
    const eventAt = formatInstant(Math.max(at, row.receivedAt));
    const event =
      reply !== undefined
        ? { type: 'undelivered', at: eventAt, externalId: messageId, reference: reply, reason: `the reply ${reply} bounced (${auto.marker})`.slice(0, 1000) }
        : { type: 'automatic-mail', at: eventAt, externalId: messageId, reason: `${KIND_WORDS[auto.kind]}${subject ? `: ${subject}` : ''}`.slice(0, 1000) };
    await service.addEvents(row.id, [event]);
  }
  const alsoUndelivered = undelivered.slice(1).map((r) => r.id);
  return {
    kind: 'automatic',
    automatic: auto.kind,
    reason,
    messageId,
    ...(contact !== undefined ? { contactId: contact.id } : {}),
    ...(reply !== undefined ? { undeliveredReply: reply } : {}),
    ...(alsoUndelivered.length > 0 ? { alsoUndelivered } : {}),
  };
}

/**
 * Mail from the organisation. It answers the message its In-Reply-To names (or, failing that, the
 * newest stored one its References name); every other stored message it names that still awaits a
 * reply (received by then) is answered by it too: one reply answers the thread so far.
 */
async function reply(service: IngestService, mail: MailFacts, messageId: string, from: Mailbox, at: number): Promise<EmailOutcome> {
  // In-Reply-To first, then References newest first (the last one is the message answered).
  const named = [...new Set([...messageIds(mail.inReplyTo), ...messageIds(mail.references).reverse()])].filter((id) => id.length <= 1000);
  const rows: ContactRow[] = [];
  for (const id of named) {
    const row = await service.contacts.byExternal('email', id);
    if (row !== undefined) rows.push(row);
  }
  const primary = rows[0];
  if (primary === undefined) {
    const shown = named.slice(0, 10).join(', ') + (named.length > 10 ? ` and ${named.length - 10} more` : '');
    throw new UnansweredEmailError(
      named.length === 0
        ? `In-Reply-To: mail from the organisation (${from.address}) is recorded as a reply, but this message has no In-Reply-To or References naming the message it answers`
        : `In-Reply-To: mail from the organisation (${from.address}) answers ${shown}, which Kept has not stored (post the customer's message first)`,
    );
  }
  const event = { type: 'replied', at: formatInstant(at), externalId: messageId };
  const duplicate = (await service.contacts.eventByExternal(primary.id, messageId)) !== undefined;
  let result: { contact: ContactView };
  try {
    result = duplicate ? { contact: (await service.view(primary.id))! } : await service.addEvents(primary.id, [event]);
  } catch (e) {
    // The event's fields came from the message's headers: name those.
    if (e instanceof ContactError && e.field === 'event.at') throw new ContactError('Date', e.rule);
    throw e;
  }
  const alsoAnswered: string[] = [];
  for (const row of rows.slice(1)) {
    if (row.id === primary.id || row.receivedAt > at || (await service.contacts.eventByExternal(row.id, messageId)) !== undefined) continue;
    if (!(await service.contacts.clocks(row.id)).some((k) => k.open && k.standard.endsWith('-reply'))) continue;
    await service.addEvents(row.id, [event]);
    alsoAnswered.push(row.id);
  }
  return { kind: 'replied', contact: result.contact, alsoAnswered, duplicate };
}
