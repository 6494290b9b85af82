// Shapes the people's routes answer (server/http/routes/queue.ts), and their words for the pages.
import type { ClockJson } from '../../server/domain/json.js';
import type { QueueItem } from '../../server/readers/queue-items.js';
import { duration } from './format.js';

// The server's own shapes (type-only): a field the server adds or renames is a type error here.
export type { ClockJson, QueueItem };

export interface QueueReply {
  assignee: string | null;
  items: QueueItem[];
  unassigned: QueueItem[];
}

export interface EventJson extends Record<string, unknown> {
  type: string;
  at: string;
  seq: number;
  by?: string;
}

export interface ContactJson {
  id: string;
  channel: string;
  route: string;
  category: string;
  externalId: string | null;
  receivedAt: string;
  customer: Record<string, unknown> | null;
  subject: string | null;
  summary: string | null;
  assignee: string | null;
  source: Record<string, unknown> | null;
  events: EventJson[];
  clocks: ClockJson[];
  /** Awaab's Law: a hazard the contact's words suggest, for an advisor to confirm (it starts no clock). */
  hazardSuggestion?: { category: 'hazard-emergency' | 'hazard-significant'; hazard: string; words: string[]; packVersion: string } | null;
}

export interface AlertJson {
  id: number;
  contactId: string;
  kind: string;
  note: string | null;
  raisedAt: string;
  raisedBy: string;
  actionedAt: string | null;
  actionedBy: string | null;
  action: string | null;
  contact?: { id: string; subject: string | null; customerName: string | null; assignee: string | null; category: string; channel: string } | null;
}

export type Step = Record<string, unknown> & { kind: string };

export interface Explanation {
  standard: string;
  calendar: string;
  timeZone: string;
  dueAt: string | null;
  /** The standard's rule in words, from its pack. */
  rule?: string;
  steps: Step[];
  text: string;
}

export interface ContactPage {
  contact: ContactJson;
  alerts: AlertJson[];
  explanations: Record<string, Explanation>;
  /** Per clock: may it be paused or extended (the standard it started under says). */
  rules: Record<string, { pausable: boolean; extendable: boolean }>;
}

/** A clock's status in words and the board's three colours (never colour alone: the words say it). */
export function statusLook(c: ClockJson, now: number): { tone: 'ok' | 'at-risk' | 'breached' | 'muted'; words: string } {
  const due = c.dueAt === null ? null : Date.parse(c.dueAt);
  const risk = c.atRiskAt === null ? null : Date.parse(c.atRiskAt);
  switch (c.status) {
    case 'running':
    case 'at-risk':
    case 'breached':
      if (due !== null && now > due) return { tone: 'breached', words: 'Breached' };
      if (risk !== null && now >= risk) return { tone: 'at-risk', words: 'At risk' };
      return { tone: 'ok', words: 'On track' };
    case 'paused':
      return { tone: 'muted', words: 'Paused' };
    case 'met':
      return { tone: 'ok', words: 'Met' };
    case 'met-extended':
      return { tone: 'ok', words: 'Met (extended)' };
    case 'missed':
      return { tone: 'breached', words: 'Missed' };
    case 'missed-extended':
      return { tone: 'breached', words: 'Missed (extended)' };
    case 'cancelled':
      return { tone: 'muted', words: 'Cancelled' };
    default:
      return { tone: 'muted', words: c.status.replace(/-/g, ' ') };
  }
}

export const isOpen = (c: ClockJson) => c.status === 'running' || c.status === 'at-risk' || c.status === 'breached' || c.status === 'paused';

const formats = new Map<string, Intl.DateTimeFormat>();
/** "Mon 2 Mar 2026, 14:05" in the centre's time zone. */
export function when(iso: string | number, timeZone = 'Europe/London'): string {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  return f.format(typeof iso === 'number' ? iso : Date.parse(iso));
}

/**
 * A due instant in words: "the end of Wed, 16 Dec 2026" when it falls on local midnight (a deadline
 * counted in whole days, as Awaab's Law's working days are), else as `when`.
 */
export function dueWhen(iso: string, timeZone = 'Europe/London'): string {
  const text = when(iso, timeZone);
  if (!/ 00:00$/.test(text)) return text;
  return `the end of ${when(Date.parse(iso) - 1, timeZone).replace(/,? \d{2}:\d{2}$/, '')}`;
}

const EVENT_WORDS: Record<string, string> = {
  answered: 'Answered',
  abandoned: 'Caller hung up',
  'callback-requested': 'Callback requested',
  'callback-connected': 'Callback connected',
  replied: 'Replied',
  acknowledged: 'Complaint acknowledged',
  resolved: 'Resolved',
  attended: 'Attended',
  'appointment-arranged': 'Appointment arranged',
  paused: 'Clock paused',
  resumed: 'Clock resumed',
  extended: 'Extended to an agreed date',
  recategorised: 'Recategorised',
  cancelled: 'Cancelled',
  assigned: 'Assigned',
  escalated: 'Escalated',
  'identity-verified': 'Identity verified',
  'investigation-started': 'Hazard investigation started',
  'investigation-concluded': 'Hazard investigation concluded',
  'summary-sent': 'Written summary sent',
  'made-safe': 'Made safe',
  'further-work-started': 'Further work started',
  'temporary-accommodation-offered': 'Temporary accommodation offered',
  'severity-raised': 'Raised to an emergency hazard',
  'hazard-dismissed': 'Suggested hazard judged not a hazard',
  undelivered: 'Reply undelivered (bounced)',
  'automatic-mail': 'Automatic mail',
};

/** An event in words, with its details: "Assigned to ann@…", "Clock paused: awaiting customer". */
export function eventWords(e: EventJson): string {
  const head = EVENT_WORDS[e.type] ?? e.type;
  const bits: string[] = [];
  if (typeof e.assignee === 'string') bits.push(`to ${e.assignee}`);
  if (typeof e.reference === 'string') bits.push(`reference ${e.reference}`);
  if (typeof e.owner === 'string') bits.push(`owner ${e.owner}`);
  if (typeof e.category === 'string' && e.type !== 'severity-raised') bits.push(`as ${e.category}`);
  if (e.safetyWork === false) bits.push('— no safety work needed');
  if (e.furtherWork === true) bits.push('— further work needed');
  if (typeof e.clock === 'string') bits.push(`(${e.clock})`);
  if (typeof e.until === 'string') bits.push(`until ${when(e.until)}`);
  if (typeof e.reason === 'string') bits.push(`— ${e.reason}`);
  return bits.length === 0 ? head : `${head} ${bits.join(' ')}`;
}

function ordinal(n: number): string {
  return n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
}

/** One explain step as a sentence for the "why is this due then?" timeline. */
export function stepWords(s: Step, timeZone: string): { title: string; detail: string | null; tone: 'count' | 'skip' | 'pause' | 'mark' } {
  const t = (k: string) => when(s[k] as string, timeZone);
  // A calendar date (YYYY-MM-DD) in words: "Thu 3 Dec".
  const day = (v: unknown) => new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(Date.parse(`${String(v)}T12:00:00Z`));
  const ms = (k: string) => duration(s[k] as number);
  const time = (k: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(s[k] as string));
  switch (s.kind) {
    case 'start':
      return { title: `The clock started ${t('at')}`, detail: null, tone: 'mark' };
    case 'target':
      return { title: `The standard gives ${ms('targetMs')} of ${s.measure === 'working' ? 'working time' : 'elapsed time'}`, detail: `on the ${String(s.calendar)} calendar`, tone: 'mark' };
    case 'end-of-day':
      return { title: `Due by the end of the ${String(s.workingDays)}${ordinal(s.workingDays as number)} working day after ${day(s.startDate)}`, detail: 'that day itself does not count', tone: 'mark' };
    case 'working-day':
      return { title: `${day(s.date)}: working day ${String(s.n)}`, detail: null, tone: 'count' };
    case 'elapsed':
      return { title: `${ms('ms')} counted, ${t('from')} to ${time('to')}`, detail: `${ms('totalMs')} so far`, tone: 'count' };
    case 'counted':
      return { title: `${ms('ms')} of working time on ${day(s.date)}, ${time('from')}–${time('to')}`, detail: `${ms('totalMs')} so far`, tone: 'count' };
    case 'holiday':
      return { title: `${day(s.date)} skipped: ${String(s.name)} (bank holiday)`, detail: null, tone: 'skip' };
    case 'non-working-day':
      return { title: `${day(s.date)} skipped: not a working day`, detail: null, tone: 'skip' };
    case 'closure':
      return { title: `${day(s.date)}, ${time('from')}–${time('to')} skipped: closed`, detail: typeof s.reason === 'string' ? s.reason : null, tone: 'skip' };
    case 'paused':
      return { title: `Paused ${t('from')}${s.to === null ? ', still paused' : ` until ${t('to')}`}`, detail: `${String(s.reason)}; ${ms('workingMs')} of working time not counted`, tone: 'pause' };
    case 'holidays-unknown':
      return { title: `From ${day(s.date)} no bank-holiday data: weekly hours only`, detail: null, tone: 'skip' };
    case 'extended':
      return { title: `Extended to an agreed date: ${t('until')}`, detail: s.originalDueAt === null || s.originalDueAt === undefined ? null : `was due ${t('originalDueAt')}`, tone: 'mark' };
    case 'paused-now':
      return { title: `Paused since ${t('since')}`, detail: `${ms('remainingMs')} will be left when it resumes`, tone: 'pause' };
    case 'due':
      return { title: `So it is due ${t('at')}`, detail: / 00:00$/.test(t('at')) ? `that is, by ${dueWhen(s.at as string, timeZone)}` : null, tone: 'mark' };
    default:
      return { title: s.kind, detail: null, tone: 'mark' };
  }
}

export const CHANNEL_WORDS: Record<string, string> = { phone: 'Phone', email: 'Email', webform: 'Web form', social: 'Social', voicemail: 'Voicemail' };
