// Hazard figures (Awaab's Law) for the weekly report and the regulator's view: a pure function over
// the awaab-* clocks that started in the period, each with its contact's category, receipt and the
// events that tell a make-safe from a temporary-accommodation offer. docs/standards.md defines them.
import { formatInstant } from '../domain/time.js';
import type { ReportSource } from './source.js';
import { judge } from './figures.js';
import type { HazardCategoryFigures, HazardFigures, OpenHazard } from './types.js';

/** A hazard clock as the figures read it. */
export interface HazardClock {
  contactId: string;
  standard: string;
  status: string;
  open: boolean;
  startedAt: number;
  dueAt: number | null;
  fulfilledAt: number | null;
  /** The contact's category now (after any recategorised or severity-raised). */
  category: string;
  /** The contact's receivedAt: when the hazard was reported. */
  receivedAt: number;
  /** Fulfilled by `temporary-accommodation-offered` (an event at fulfilledAt, and no `made-safe` then). */
  temporaryAccommodation: boolean;
}

export const HAZARD_STANDARDS = ['awaab-emergency-investigate', 'awaab-emergency-make-safe', 'awaab-significant-investigate', 'awaab-summary', 'awaab-significant-make-safe', 'awaab-further-work-start'] as const;

const empty = (category: HazardCategoryFigures['category']): HazardCategoryFigures => ({
  category,
  received: 0,
  investigated: 0,
  investigatedInTime: 0,
  investigationsCancelled: 0,
  summariesDue: 0,
  summariesSent: 0,
  summariesSentInTime: 0,
  makeSafeDue: 0,
  madeSafe: 0,
  madeSafeInTime: 0,
  temporaryAccommodation: 0,
  temporaryAccommodationInTime: 0,
  furtherWorkDue: 0,
  furtherWorkStarted: 0,
  furtherWorkInTime: 0,
  furtherWorkInExtension: 0,
  openPastTarget: [],
});

const FULFILLED = new Set(['met', 'missed', 'met-extended', 'missed-extended']);
const IN_TIME = new Set(['met', 'met-extended']);

/** The category a clock counts under: its standard's, or (summary, further work) its contact's. */
function categoryOf(c: HazardClock): 'emergency' | 'significant' {
  if (c.standard.startsWith('awaab-emergency-')) return 'emergency';
  if (c.standard.startsWith('awaab-significant-')) return 'significant';
  return c.category === 'hazard-emergency' ? 'emergency' : 'significant';
}

/** The period's hazard figures as of `asOf`; `raised`: contacts with a severity-raised event in the period. */
export function hazardFigures(clocks: Iterable<HazardClock>, asOf: number, raised: number): HazardFigures {
  const out = { emergency: empty('hazard-emergency'), significant: empty('hazard-significant') };
  const received = { emergency: new Set<string>(), significant: new Set<string>() };
  for (const c of clocks) {
    const k = categoryOf(c);
    const f = out[k];
    const j = judge(c, asOf);
    const fulfilled = FULFILLED.has(j);
    const inTime = IN_TIME.has(j);
    if (c.standard.endsWith('-investigate')) {
      received[k].add(c.contactId);
      if (fulfilled) f.investigated++;
      if (inTime) f.investigatedInTime++;
      if (j === 'cancelled') f.investigationsCancelled++;
    } else if (c.standard === 'awaab-summary') {
      f.summariesDue++;
      if (fulfilled) f.summariesSent++;
      if (inTime) f.summariesSentInTime++;
    } else if (c.standard.endsWith('-make-safe')) {
      f.makeSafeDue++;
      if (fulfilled && c.temporaryAccommodation) {
        f.temporaryAccommodation++;
        if (inTime) f.temporaryAccommodationInTime++;
      } else if (fulfilled) {
        f.madeSafe++;
        if (inTime) f.madeSafeInTime++;
      }
    } else if (c.standard === 'awaab-further-work-start') {
      f.furtherWorkDue++;
      if (fulfilled) f.furtherWorkStarted++;
      if (j === 'met') f.furtherWorkInTime++;
      if (j === 'met-extended') f.furtherWorkInExtension++;
    }
    if (j === 'breached' && c.dueAt !== null) {
      const o: OpenHazard = { contactId: c.contactId, href: `/contacts/${encodeURIComponent(c.contactId)}`, standard: c.standard, receivedAt: formatInstant(c.receivedAt), dueAt: formatInstant(c.dueAt), ageMs: asOf - c.receivedAt, overdueMs: asOf - c.dueAt };
      f.openPastTarget.push(o);
    }
  }
  for (const k of ['emergency', 'significant'] as const) {
    out[k].received = received[k].size;
    out[k].openPastTarget.sort((x, y) => y.ageMs - x.ageMs || (x.contactId < y.contactId ? -1 : x.contactId > y.contactId ? 1 : 0) || (x.standard < y.standard ? -1 : 1));
  }
  return { ...out, raisedToEmergency: raised };
}

/** The hazard figures of [from, to) from the store, as of `asOf`. */
export async function hazardsOf(store: ReportSource, from: number, to: number, asOf: number): Promise<HazardFigures> {
  const { clocks, raised } = await store.hazardClocks(from, to, HAZARD_STANDARDS);
  return hazardFigures(clocks, asOf, raised);
}
