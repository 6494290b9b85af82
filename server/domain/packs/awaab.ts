// Awaab's Law: the Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025
// (SI 2025/1042), in force from 27 October 2025. A pack that applies *beside* the centre's own
// (LiveWest's promises still hold for the same contact). Figures and sources: docs/standards.md
// ("Awaab's Law"). Versioned data like every pack: a contact is judged by the version (phase) in
// force at its receivedAt, and each clock stores that version's id (`awaab-1`).
import { CompiledCalendar, type WeeklyHours } from '../calendar.js';
import type { HolidayList } from '../holidays.js';
import type { Category } from '../model.js';
import type { StandardDef, StandardsPack } from '../standards.js';

/**
 * The regulations' "working day": any day that is not a Saturday, a Sunday or a bank holiday in
 * England, counted in whole days (the centre's opening hours and closures do not apply).
 */
export const AWAAB_CALENDAR_ID = 'awaab-working-days';
/** Its bank holidays: GOV.UK's england-and-wales division (England's are the same days). */
export const AWAAB_DIVISION = 'england-and-wales';
const WHOLE_DAY: Array<[string, string]> = [['00:00', '24:00']];
const WHOLE_WEEKDAYS: WeeklyHours = { monday: WHOLE_DAY, tuesday: WHOLE_DAY, wednesday: WHOLE_DAY, thursday: WHOLE_DAY, friday: WHOLE_DAY };

/** The statutory working-day calendar, on the england-and-wales bank holidays Kept holds. */
export function awaabCalendar(holidays: HolidayList | null): CompiledCalendar {
  return new CompiledCalendar({
    id: AWAAB_CALENDAR_ID,
    timeZone: 'Europe/London',
    weeklyHours: WHOLE_WEEKDAYS,
    holidays,
    closures: [],
    workingDayMs: 24 * 3_600_000,
  });
}

export const HAZARD_CATEGORIES = ['hazard-emergency', 'hazard-significant'] as const satisfies readonly Category[];
export function isHazardCategory(category: string): boolean {
  return (HAZARD_CATEGORIES as readonly string[]).includes(category);
}

/** What a phase covers: emergency hazards (any HHSRS hazard but crowding) and the significant hazards listed. */
export interface AwaabPack extends StandardsPack {
  /** HHSRS hazards that count as *significant* hazards in this phase (emergency: every hazard but crowding and space). */
  significantHazards: string[];
}

const DAY = 24 * 3_600_000;
const BOTH: Category[] = ['hazard-emergency', 'hazard-significant'];
const FIX = [{ type: 'made-safe' as const }, { type: 'temporary-accommodation-offered' as const }];

const PHASE_1_STANDARDS: StandardDef[] = [
  {
    id: 'awaab-emergency-investigate',
    title: 'Emergency hazard: investigate within 24 hours of the report',
    appliesWhen: { categories: ['hazard-emergency'] },
    fulfilledBy: [{ type: 'investigation-concluded' }],
    target: { measure: 'elapsed', ms: DAY },
    calendar: 'always',
    pausable: false,
    extendable: false,
    atRiskFraction: 0.5,
  },
  {
    id: 'awaab-emergency-make-safe',
    title: 'Emergency hazard: make safe within 24 hours of the safety work being identified',
    appliesWhen: { categories: ['hazard-emergency'] },
    startsOn: { type: 'investigation-concluded', safetyWork: true },
    fulfilledBy: FIX,
    target: { measure: 'elapsed', ms: DAY },
    calendar: 'always',
    pausable: false,
    extendable: false,
    atRiskFraction: 0.5,
  },
  {
    id: 'awaab-significant-investigate',
    title: 'Significant hazard: investigate within 10 working days of the report',
    appliesWhen: { categories: ['hazard-significant'] },
    fulfilledBy: [{ type: 'investigation-concluded' }],
    target: { measure: 'working', workingDays: 10 },
    mode: 'end-of-day',
    calendar: AWAAB_CALENDAR_ID,
    pausable: false,
    extendable: false,
    atRiskFraction: 0.8,
  },
  {
    id: 'awaab-summary',
    title: 'Written summary of the findings within 3 working days of the investigation ending',
    appliesWhen: { categories: BOTH },
    startsOn: { type: 'investigation-concluded' },
    fulfilledBy: [{ type: 'summary-sent' }],
    target: { measure: 'working', workingDays: 3 },
    mode: 'end-of-day',
    calendar: AWAAB_CALENDAR_ID,
    pausable: false,
    extendable: false,
    atRiskFraction: 0.8,
  },
  {
    id: 'awaab-significant-make-safe',
    title: 'Significant hazard: make safe within 5 working days of the investigation ending',
    appliesWhen: { categories: ['hazard-significant'] },
    startsOn: { type: 'investigation-concluded', safetyWork: true },
    fulfilledBy: FIX,
    target: { measure: 'working', workingDays: 5 },
    mode: 'end-of-day',
    calendar: AWAAB_CALENDAR_ID,
    pausable: false,
    extendable: false,
    atRiskFraction: 0.8,
  },
  {
    id: 'awaab-further-work-start',
    title: 'Begin further (preventative) work within 5 working days of the investigation ending',
    appliesWhen: { categories: BOTH },
    startsOn: { type: 'investigation-concluded', furtherWork: true },
    fulfilledBy: [{ type: 'further-work-started' }],
    target: { measure: 'working', workingDays: 5 },
    mode: 'end-of-day',
    calendar: AWAAB_CALENDAR_ID,
    pausable: false,
    // Where beginning in 5 working days is not reasonably practicable: as soon as it is, and at most 12 weeks.
    extendable: true,
    maxExtensionFromStartMs: 84 * DAY,
    atRiskFraction: 0.8,
  },
];

/** Phase 1 (27 October 2025): every emergency hazard; damp and mould as significant hazards. */
export const AWAAB_1: AwaabPack = {
  id: 'awaab-1',
  family: 'awaab',
  title: "Awaab's Law, phase 1 (damp and mould; emergency hazards)",
  source: 'The Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025 (SI 2025/1042); MHCLG, "Awaab\'s Law: guidance for social landlords"',
  // Midnight at the start of Monday 27 October 2025, London time (GMT: summer time ended on the 26th).
  inForceFrom: '2025-10-27T00:00:00.000Z',
  beside: true,
  significantHazards: ['damp-and-mould'],
  standards: PHASE_1_STANDARDS,
};

/**
 * Every version, oldest first. Phase 2 (2026: excess cold and heat, falls, structural collapse and
 * explosions, fire, electrical, hygiene and food safety) and phase 3 (2027: every remaining HHSRS
 * hazard but crowding) are announced without a commencement date Kept could cite: add a version with
 * `inForceFrom` and the wider `significantHazards` when the regulations are made (docs/standards.md).
 */
export const AWAAB_PACKS: AwaabPack[] = [AWAAB_1];

// ---- Recognised at the door: a suggestion from the contact's words, never a clock by itself ----

export interface HazardSuggestion {
  category: 'hazard-emergency' | 'hazard-significant';
  hazard: string;
  /** The words that matched, as written. */
  words: string[];
  /** The Awaab version in force when the contact arrived. */
  packVersion: string;
}

interface Rule {
  hazard: string;
  severity: 'emergency' | 'significant';
  pattern: RegExp;
}

// Emergency words first: a gas leak reported with condensation is an emergency.
const RULES: Rule[] = [
  { hazard: 'gas', severity: 'emergency', pattern: /\b(gas leak|smell(?:s|ing)? (?:of )?gas|gas smell|carbon monoxide|co alarm)\b/gi },
  { hazard: 'electrical', severity: 'emergency', pattern: /\b(exposed (?:live )?wir(?:e|es|ing)|bare wires?|sparking|electric shocks?|live wires?)\b/gi },
  { hazard: 'excess-cold', severity: 'emergency', pattern: /\b(no heating|heating (?:is )?(?:not|isn'?t) working|boiler (?:is )?(?:broken|not working|isn'?t working)|broken boiler)\b/gi },
  { hazard: 'water-supply', severity: 'emergency', pattern: /\b(no (?:running )?water|water (?:is )?(?:off|cut off))\b/gi },
  { hazard: 'structural-collapse', severity: 'emergency', pattern: /\b(ceiling (?:has )?(?:collapsed|falling|fell)|collapsed ceiling|wall (?:has )?collapsed)\b/gi },
  { hazard: 'flooding', severity: 'emergency', pattern: /\b(flood(?:ed|ing)?|water pouring)\b/gi },
  { hazard: 'damp-and-mould', severity: 'significant', pattern: /\b(damp|mou?ld(?:y)?|condensation|black spots|fung(?:us|al)|mildew)\b/gi },
];

/** Any rule's words at all: one pass over the text that rules most contacts out (lists present a suggestion for every contact). */
const ANY_RULE = new RegExp(RULES.map((r) => r.pattern.source).join('|'), 'i');

/**
 * A suggested hazard category from the contact's words (subject and summary), judged by the Awaab
 * version in force at its receivedAt: emergency words suggest `hazard-emergency`; significant-hazard
 * words only for the hazards that version covers. Null when nothing matches or no version was in force.
 * A suggestion is shown to the advisor, who confirms it (action `confirm-hazard`); it starts no clock.
 */
export function suggestHazard(contact: { receivedAt: number; category: string }, text: string, packs: readonly AwaabPack[] = AWAAB_PACKS): HazardSuggestion | null {
  if (isHazardCategory(contact.category) || !ANY_RULE.test(text)) return null;
  let pack: AwaabPack | undefined;
  for (const p of packs) if (Date.parse(p.inForceFrom) <= contact.receivedAt && (pack === undefined || Date.parse(pack.inForceFrom) < Date.parse(p.inForceFrom))) pack = p;
  if (pack === undefined) return null;
  for (const rule of RULES) {
    if (rule.severity === 'significant' && !pack.significantHazards.includes(rule.hazard)) continue;
    const words = [...new Set([...text.matchAll(rule.pattern)].map((m) => m[0]))];
    if (words.length === 0) continue;
    return { category: rule.severity === 'emergency' ? 'hazard-emergency' : 'hazard-significant', hazard: rule.hazard, words, packVersion: pack.id };
  }
  return null;
}
