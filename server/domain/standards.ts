// Standards packs are versioned data (STANDARDS §5). Code reads them; it never hard-codes a target.
import { KeptError } from '../errors.js';
import type { Category, Channel, EventType, Route } from './model.js';
import { AWAAB_PACKS } from './packs/awaab.js';

export interface EventMatch {
  type: EventType;
  /** Complaint stage the event must carry (absent on the event means stage 1). */
  stage?: number;
  /** For `attended`: only when it also arranged the repair. */
  appointmentArranged?: true;
  /** Awaab's Law `investigation-concluded`: only when safety work (absent: yes) / further work is needed. */
  safetyWork?: true;
  furtherWork?: true;
}

export interface Target {
  measure: 'elapsed' | 'working';
  /** elapsed targets: wall-clock ms. */
  ms?: number;
  /** working targets: N working days (× the calendar's working-day length)… */
  workingDays?: number;
  /** …or working hours. */
  workingHours?: number;
}

export interface StandardDef {
  id: string;
  title: string;
  /** Conditions, all of which must hold. */
  appliesWhen: {
    channels?: Channel[];
    routes?: Route[];
    categories?: Category[];
    exceptCategories?: Category[];
  };
  /** Default: the contact's receivedAt. Otherwise the first matching event. */
  startsOn?: EventMatch;
  fulfilledBy: EventMatch[];
  target: Target;
  /** `duration` (default): target counted from the start; `end-of-day`: close of the Nth working day. */
  mode?: 'duration' | 'end-of-day';
  calendar: 'always' | 'customer-services' | 'awaab-working-days';
  pausable: boolean;
  extendable: boolean;
  /** Longest extension beyond the original due instant, in working days. */
  maxExtensionWorkingDays?: number;
  /** Latest extension, as elapsed time from the clock's start (Awaab's Law: 12 weeks). */
  maxExtensionFromStartMs?: number;
  atRiskFraction: number;
  /** An `abandoned` event ends the clock (a queued call). */
  endsOnAbandon?: boolean;
}

export interface StandardsPack {
  id: string;
  family: string;
  title: string;
  source: string;
  /** First instant (ISO) at which this version is in force. */
  inForceFrom: string;
  standards: StandardDef[];
  /** Applies beside the centre's pack (Awaab's Law), not instead of it: see packs/in-force.ts. */
  beside?: boolean;
}

const WRITTEN_REPLY = (id: string, title: string, channel: Channel, routes: Route[] | undefined, days: number): StandardDef => ({
  id,
  title,
  appliesWhen: { channels: [channel], ...(routes ? { routes } : {}), exceptCategories: ['complaint'] },
  fulfilledBy: [{ type: 'replied' }],
  target: { measure: 'working', workingDays: days },
  calendar: 'customer-services',
  pausable: false,
  extendable: false,
  atRiskFraction: 0.8,
});

export const LIVEWEST_1: StandardsPack = {
  id: 'livewest-1',
  family: 'livewest',
  title: 'LiveWest service standards (version 1)',
  source: 'LiveWest, "Service standards when contacting LiveWest"',
  inForceFrom: '2000-01-01T00:00:00.000Z',
  standards: [
    {
      id: 'phone-answer',
      title: 'Answer calls within 5 minutes',
      appliesWhen: { channels: ['phone'], routes: ['customer-services'] },
      fulfilledBy: [{ type: 'answered' }, { type: 'callback-connected' }],
      target: { measure: 'elapsed', ms: 5 * 60_000 },
      calendar: 'always',
      pausable: false,
      extendable: false,
      atRiskFraction: 0.8,
      endsOnAbandon: true,
    },
    WRITTEN_REPLY('email-reply', 'Reply to emails within 1 working day', 'email', ['customer-services'], 1),
    WRITTEN_REPLY('direct-email-reply', 'Reply to emails sent to a colleague within 2 working days', 'email', ['colleague-direct'], 2),
    WRITTEN_REPLY('social-reply', 'Reply to social posts and messages within 1 working day', 'social', ['customer-services'], 1),
    WRITTEN_REPLY('direct-social-reply', 'Reply to social messages sent to a colleague within 1 working day', 'social', ['colleague-direct'], 1),
    WRITTEN_REPLY('webform-reply', 'Reply to webforms within 1 working day', 'webform', undefined, 1),
    WRITTEN_REPLY('voicemail-reply', 'Reply to voicemails within 1 working day', 'voicemail', undefined, 1),
    {
      id: 'complaint-acknowledge',
      title: 'Acknowledge complaints within 24 hours',
      appliesWhen: { categories: ['complaint'] },
      fulfilledBy: [{ type: 'acknowledged' }],
      target: { measure: 'elapsed', ms: 24 * 3_600_000 },
      calendar: 'always',
      pausable: false,
      extendable: false,
      atRiskFraction: 0.8,
    },
    {
      id: 'complaint-resolve',
      title: 'Resolve complaints within 10 working days',
      appliesWhen: { categories: ['complaint'] },
      fulfilledBy: [{ type: 'resolved' }],
      target: { measure: 'working', workingDays: 10 },
      calendar: 'customer-services',
      pausable: true,
      extendable: true,
      atRiskFraction: 0.8,
    },
    {
      id: 'emergency-make-safe',
      title: 'Make emergencies safe within 24 hours',
      appliesWhen: { categories: ['emergency-repair'] },
      fulfilledBy: [{ type: 'attended' }],
      target: { measure: 'elapsed', ms: 24 * 3_600_000 },
      calendar: 'always',
      pausable: false,
      extendable: false,
      atRiskFraction: 0.8,
    },
    {
      id: 'emergency-arrange-repair',
      title: 'Arrange the follow-on repair within 2 working days',
      appliesWhen: { categories: ['emergency-repair'] },
      fulfilledBy: [{ type: 'appointment-arranged' }, { type: 'attended', appointmentArranged: true }],
      target: { measure: 'working', workingDays: 2 },
      calendar: 'customer-services',
      pausable: true,
      extendable: false,
      atRiskFraction: 0.8,
    },
  ],
};

const complaintStage = (
  id: string,
  title: string,
  startsOn: EventMatch | undefined,
  fulfilledBy: EventMatch,
  workingDays: number,
  /** Longest extension the Code allows, in working days (0: not extendable). */
  maxExtensionWorkingDays: number,
): StandardDef => ({
  id,
  title,
  appliesWhen: { categories: ['complaint'] },
  ...(startsOn ? { startsOn } : {}),
  fulfilledBy: [fulfilledBy],
  target: { measure: 'working', workingDays },
  calendar: 'customer-services',
  pausable: false,
  extendable: maxExtensionWorkingDays > 0,
  ...(maxExtensionWorkingDays > 0 ? { maxExtensionWorkingDays } : {}),
  atRiskFraction: 0.8,
});

/**
 * The Housing Ombudsman's Complaint Handling Code, statutory from 1 April 2024 (provisions 6.2–6.4
 * and 6.11–6.16; sources in docs/standards.md): stage 1 acknowledged within 5 working days of receipt
 * and answered within 10 working days of the acknowledgement, extended by at most 10 more; stage 2
 * acknowledged within 5 working days of the escalation request and answered within 20 working days
 * of its acknowledgement, extended by at most 20 more.
 */
export const HOUSING_OMBUDSMAN_2024: StandardsPack = {
  id: 'housing-ombudsman-2024',
  family: 'housing-ombudsman',
  title: 'Housing Ombudsman Complaint Handling Code (2024)',
  source: 'Housing Ombudsman Service, Complaint Handling Code, April 2024',
  inForceFrom: '2024-04-01T00:00:00.000+01:00',
  standards: [
    complaintStage('stage1-acknowledge', 'Stage 1: acknowledge within 5 working days', undefined, { type: 'acknowledged', stage: 1 }, 5, 0),
    complaintStage('stage1-respond', 'Stage 1: respond within 10 working days of acknowledging', { type: 'acknowledged', stage: 1 }, { type: 'resolved', stage: 1 }, 10, 10),
    complaintStage('stage2-acknowledge', 'Stage 2: acknowledge within 5 working days of escalation', { type: 'escalated' }, { type: 'acknowledged', stage: 2 }, 5, 0),
    complaintStage('stage2-respond', 'Stage 2: respond within 20 working days of acknowledging', { type: 'acknowledged', stage: 2 }, { type: 'resolved', stage: 2 }, 20, 20),
  ],
};

/** Every version of every pack, oldest first within a family. */
export const PACKS: StandardsPack[] = [LIVEWEST_1, HOUSING_OMBUDSMAN_2024, ...AWAAB_PACKS];

/** An unknown pack or none in force: a configuration fault (KEPT_PACK is checked at boot). */
export class PackError extends KeptError {
  constructor(message: string) {
    super(400, 'unknown-pack', message);
  }
}

/** The version of a family in force at an instant (a contact is judged by its receivedAt). */
const inForceFromCache = new WeakMap<StandardsPack, number>();
function inForceFrom(p: StandardsPack): number {
  let ms = inForceFromCache.get(p);
  if (ms === undefined) {
    ms = Date.parse(p.inForceFrom);
    inForceFromCache.set(p, ms);
  }
  return ms;
}

export function packInForce(family: string, at: number, packs: StandardsPack[] = PACKS): StandardsPack {
  let found: StandardsPack | undefined;
  let known = false;
  for (const p of packs) {
    if (p.family !== family) continue;
    known = true;
    if (inForceFrom(p) <= at && (found === undefined || inForceFrom(found) < inForceFrom(p))) found = p;
  }
  if (!known) throw new PackError(`unknown standards pack "${family}" (known: ${[...new Set(packs.map((p) => p.family))].join(', ')})`);
  if (found === undefined) throw new PackError(`no version of "${family}" was in force at ${new Date(at).toISOString()}`);
  return found;
}

export function matchesEvent(match: EventMatch, event: { type: EventType; stage?: number; appointmentArranged?: boolean; safetyWork?: boolean; furtherWork?: boolean }): boolean {
  if (match.type !== event.type) return false;
  if ((match.safetyWork === true && event.safetyWork === false) || (match.furtherWork === true && event.furtherWork !== true)) return false;
  if (match.stage !== undefined && (event.stage ?? 1) !== match.stage) return false;
  if (match.appointmentArranged === true && event.appointmentArranged !== true) return false;
  return true;
}

export function standardApplies(def: StandardDef, channel: Channel, route: Route, category: Category): boolean {
  const w = def.appliesWhen;
  if (w.channels && !w.channels.includes(channel)) return false;
  if (w.routes && !w.routes.includes(route)) return false;
  if (w.categories && !w.categories.includes(category)) return false;
  if (w.exceptCategories && w.exceptCategories.includes(category)) return false;
  return true;
}
