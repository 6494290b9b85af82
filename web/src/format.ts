// Words and numbers for the board: durations, times in the centre's time zone, standards in words.
import type { LiveChannel } from '../../server/live/protocol.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const two = (n: number) => String(n).padStart(2, '0');

/**
 * A duration as a countdown or an age: "42s", "12m 04s", "1h 02m", "2d 03h".
 * Precision drops as the number grows: nobody needs seconds on a two-day-old email.
 */
export function duration(ms: number): string {
  const t = Math.max(0, Math.floor(ms / SECOND)) * SECOND;
  if (t < MINUTE) return `${t / SECOND}s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)}m ${two(Math.floor((t % MINUTE) / SECOND))}s`;
  if (t < DAY) return `${Math.floor(t / HOUR)}h ${two(Math.floor((t % HOUR) / MINUTE))}m`;
  return `${Math.floor(t / DAY)}d ${two(Math.floor((t % DAY) / HOUR))}h`;
}

/** "due in 12m 04s" or "overdue by 1h 02m". */
export function countdown(dueAt: number, now: number): string {
  return now > dueAt ? `overdue by ${duration(now - dueAt)}` : `due in ${duration(dueAt - now)}`;
}

/** A target in short words for the tiles: "5 min", "90s", "1h", "1h 30m" (from the pack, via the figures). A no-break space keeps "5 min" on one line. */
export function target(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / SECOND)}s`;
  if (ms < HOUR && ms % MINUTE === 0) return `${ms / MINUTE}\u00a0min`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  return duration(ms);
}

/** "87%" from 0.8712, or "—" before the first call. */
export function percent(fraction: number | null): string {
  return fraction === null ? '—' : `${Math.round(fraction * 100)}%`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function fmt(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, ...options });
    formats.set(key, f);
  }
  return f;
}

/** "14:35" in the centre's zone. */
export function clockTime(ms: number, timeZone: string, seconds = false): string {
  return fmt(timeZone, { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), hourCycle: 'h23' }).format(ms);
}

/** "Tuesday 10 March". */
export function longDate(ms: number, timeZone: string): string {
  return fmt(timeZone, { weekday: 'long', day: 'numeric', month: 'long' }).format(ms);
}

function localDay(ms: number, timeZone: string): string {
  return fmt(timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/** "today 08:00", "tomorrow 08:00", "Monday 08:00" or "Mon 27 Dec 08:00" (more than a week away). */
export function whenNext(at: number, now: number, timeZone: string): string {
  const time = clockTime(at, timeZone);
  if (localDay(at, timeZone) === localDay(now, timeZone)) return `today ${time}`;
  if (localDay(at, timeZone) === localDay(now + DAY, timeZone)) return `tomorrow ${time}`;
  if (at - now < 6 * DAY) return `${fmt(timeZone, { weekday: 'long' }).format(at)} ${time}`;
  return `${fmt(timeZone, { weekday: 'short', day: 'numeric', month: 'short' }).format(at)} ${time}`;
}

/** A due instant in short words for the urgent list: "16:45", "Tue 17:00" or "12 Mar 17:00". */
export function dueWhen(at: number, now: number, timeZone: string): string {
  const time = clockTime(at, timeZone);
  if (localDay(at, timeZone) === localDay(now, timeZone)) return time;
  if (Math.abs(at - now) < 6 * DAY) return `${fmt(timeZone, { weekday: 'short' }).format(at)} ${time}`;
  return `${fmt(timeZone, { day: 'numeric', month: 'short' }).format(at)} ${time}`;
}

/** ISO week of a local date (YYYY-MM-DD): "2026-W11", for the weekly report's address. */
export function isoWeek(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  const day = (t.getUTCDay() + 6) % 7; // Monday 0
  t.setUTCDate(t.getUTCDate() - day + 3); // the week's Thursday decides its year
  const year = t.getUTCFullYear();
  const week = 1 + Math.floor((t.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export const CHANNEL_NAMES: Record<LiveChannel, string> = {
  phone: 'Phone',
  email: 'Email',
  webform: 'Web form',
  social: 'Social',
  voicemail: 'Voicemail',
};

const STANDARD_WORDS: Record<string, string> = {
  'phone-answer': 'Answer call',
  'email-reply': 'Reply to email',
  'direct-email-reply': 'Reply to email sent to a colleague',
  'social-reply': 'Reply on social media',
  'direct-social-reply': 'Reply to social message sent to a colleague',
  'webform-reply': 'Reply to web form',
  'voicemail-reply': 'Reply to voicemail',
  'complaint-acknowledge': 'Acknowledge complaint',
  'complaint-resolve': 'Resolve complaint',
  'emergency-make-safe': 'Make emergency safe',
  'emergency-arrange-repair': 'Arrange emergency repair',
  'stage1-acknowledge': 'Acknowledge stage 1 complaint',
  'stage1-respond': 'Respond to stage 1 complaint',
  'stage2-acknowledge': 'Acknowledge stage 2 complaint',
  'stage2-respond': 'Respond to stage 2 complaint',
  'awaab-emergency-investigate': 'Investigate emergency hazard',
  'awaab-emergency-make-safe': 'Make emergency hazard safe',
  'awaab-significant-investigate': 'Investigate hazard',
  'awaab-summary': 'Send written summary of findings',
  'awaab-significant-make-safe': 'Make hazard safe',
  'awaab-further-work-start': 'Begin further work',
};

/** A standard in words: "Reply to email". Unknown ids read as a sentence: "site-visit" → "Site visit". */
export function standardWords(standard: string): string {
  const known = STANDARD_WORDS[standard];
  if (known !== undefined) return known;
  const words = standard.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const CATEGORY_WORDS: Record<string, string> = {
  complaint: 'Complaint',
  'emergency-repair': 'Emergency repair',
  repair: 'Repair',
  asb: 'Antisocial behaviour',
  feedback: 'Feedback',
  compliment: 'Compliment',
  'hazard-emergency': "Emergency hazard (Awaab's Law)",
  'hazard-significant': "Significant hazard (Awaab's Law)",
};

/** The category, when it says more than "general". */
export function categoryWords(category: string): string | null {
  return CATEGORY_WORDS[category] ?? null;
}
