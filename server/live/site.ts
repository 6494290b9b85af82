// The site facts the board and the public status speak of, from the standards pack and the
// configuration rather than written into the board: the phone-answer target ("5 minutes"), the
// written-reply target ("one working day"), and the public wording built from them.
import { PACKS, type StandardDef, type StandardsPack, type Target } from '../domain/standards.js';
import { DAY, HOUR, MINUTE } from '../domain/time.js';

/** The placeholders a configured message may use. */
export const WORDING_PLACEHOLDERS = ['phoneTarget', 'replyTarget', 'nextOpening'] as const;
export type WordingPlaceholder = (typeof WORDING_PLACEHOLDERS)[number];

/** The public messages as configured (KEPT_PUBLIC_*_MESSAGE); '' means the default. */
export interface WordingTemplates {
  open: string;
  busy: string;
  closed: string;
}

/** The public messages with the pack's targets filled in; `closed` keeps `{nextOpening}` for the moment it is said. */
export interface PublicWording {
  open: string;
  busy: string;
  closed: string;
}

/** What a pack promises on the phone and in writing, in words and (the phone's) in ms. */
export interface PackTargets {
  /** The phone-answer target when it is wall-clock time (it is in every pack that has one), else null. */
  phoneTargetMs: number | null;
  /** "5 minutes", or null when the pack has no phone-answer standard. */
  phoneTarget: string | null;
  /** The longer of the email and web-form reply targets, "one working day", or null when the pack has neither. */
  replyTarget: string | null;
  /** The complaint and emergency standards (those that apply by category), in pack order. */
  promiseStandards: string[];
}

/** A configured message names a target the pack does not have: Kept refuses to start, naming the setting. */
export class WordingError extends Error {}

/** GOV.UK style: "one", then numerals. */
const count = (n: number, unit: string) => `${n === 1 ? 'one' : String(n)} ${unit}${n === 1 ? '' : 's'}`;

/** A wall-clock duration in words: "5 minutes", "24 hours", "90 seconds". */
export function durationWords(ms: number): string {
  if (ms % DAY === 0) return count(ms / DAY, 'day');
  if (ms % HOUR === 0) return count(ms / HOUR, 'hour');
  if (ms % MINUTE === 0) return count(ms / MINUTE, 'minute');
  return count(Math.round(ms / 1000), 'second');
}

/** A target in words: "one working day", "4 working hours", "5 minutes". */
export function targetWords(t: Target): string {
  if (t.measure === 'working') {
    if (t.workingDays !== undefined) return count(t.workingDays, 'working day');
    if (t.workingHours !== undefined) return count(t.workingHours, 'working hour');
  }
  return durationWords(t.ms ?? 0);
}

/** The target's length for comparing two targets (a working day taken as a day). */
function roughMs(t: Target): number {
  if (t.measure === 'working') return (t.workingDays ?? 0) * DAY + (t.workingHours ?? 0) * HOUR;
  return t.ms ?? 0;
}

export function packTargets(pack: StandardsPack): PackTargets {
  const byId = (id: string): StandardDef | undefined => pack.standards.find((s) => s.id === id);
  const phone = byId('phone-answer');
  const replies = [byId('email-reply'), byId('webform-reply')].filter((s): s is StandardDef => s !== undefined);
  const longest = replies.sort((a, b) => roughMs(b.target) - roughMs(a.target))[0];
  return {
    phoneTargetMs: phone !== undefined && phone.target.measure === 'elapsed' && phone.target.ms !== undefined ? phone.target.ms : null,
    phoneTarget: phone === undefined ? null : targetWords(phone.target),
    replyTarget: longest === undefined ? null : targetWords(longest.target),
    promiseStandards: pack.standards.filter((s) => s.appliesWhen.categories !== undefined && s.appliesWhen.categories.length > 0).map((s) => s.id),
  };
}

/**
 * The hazard standards (Awaab's Law): every standard of the packs that apply beside the centre's,
 * in pack order, each once whatever the version. The board gives them their own tile and leaves them
 * out of the channel tiles' at risk and breached.
 */
export function hazardStandards(packs: readonly StandardsPack[] = PACKS): string[] {
  const out: string[] = [];
  for (const p of packs) if (p.beside === true) for (const s of p.standards) if (!out.includes(s.id)) out.push(s.id);
  return out;
}

/** The default messages, saying only what the pack promises. */
export function defaultTemplates(t: PackTargets): WordingTemplates {
  const phone = t.phoneTarget !== null;
  const reply = t.replyTarget !== null;
  const written = reply ? ' You can also email us or use our web form: we reply within {replyTarget}.' : '';
  return {
    open: phone ? 'We are open. Calls are usually answered within {phoneTarget}.' : 'We are open.',
    busy: phone
      ? `We are busier than usual, so you may wait longer than {phoneTarget}.${reply ? ' You can also email us or use our web form: we reply within {replyTarget}.' : ''}`
      : `We are busier than usual.${written}`,
    closed: 'We are closed. We open again {nextOpening}. For an emergency repair, call the out-of-hours line.',
  };
}

const SETTING: Record<keyof WordingTemplates, string> = { open: 'KEPT_PUBLIC_OPEN_MESSAGE', busy: 'KEPT_PUBLIC_BUSY_MESSAGE', closed: 'KEPT_PUBLIC_CLOSED_MESSAGE' };

/**
 * The public messages: each configured one (or the default), with the pack's targets filled in.
 * Throws WordingError when a configured message uses a target the pack has not got.
 */
export function publicWording(configured: WordingTemplates, targets: PackTargets): PublicWording {
  const defaults = defaultTemplates(targets);
  const fill = (which: keyof WordingTemplates): string => {
    const template = configured[which] === '' ? defaults[which] : configured[which];
    return template.replace(/\{(phoneTarget|replyTarget)\}/g, (_, name: 'phoneTarget' | 'replyTarget') => {
      const value = targets[name];
      if (value === null) throw new WordingError(`${SETTING[which]}: uses {${name}}, but the standards pack in force has no ${name === 'phoneTarget' ? 'phone-answer' : 'email or web-form reply'} standard`);
      return value;
    });
  };
  return { open: fill('open'), busy: fill('busy'), closed: fill('closed') };
}

const whenFormats = new Map<string, { time: Intl.DateTimeFormat; weekday: Intl.DateTimeFormat; date: Intl.DateTimeFormat }>();

/**
 * When the centre opens again, for a sentence: "today at 08:00", "tomorrow at 08:00", "on Monday at
 * 08:00", or "on Monday 5 January at 08:00" (a week or more away), in the calendar's zone.
 * `dayDiff` is the number of local dates from now to the opening.
 */
export function openingWords(at: number, dayDiff: number, timeZone: string): string {
  let f = whenFormats.get(timeZone);
  if (f === undefined) {
    f = {
      time: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      weekday: new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long' }),
      date: new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long' }),
    };
    whenFormats.set(timeZone, f);
  }
  const time = f.time.format(at);
  if (dayDiff <= 0) return `today at ${time}`;
  if (dayDiff === 1) return `tomorrow at ${time}`;
  if (dayDiff < 7) return `on ${f.weekday.format(at)} at ${time}`;
  return `on ${f.date.format(at).replace(',', '')} at ${time}`;
}
