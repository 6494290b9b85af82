// The regulator's view (issue 16): the Tenant Satisfaction Measures' complaint figures for any period,
// CH01 (stage 1 and stage 2 complaints received per 1,000 homes) and CH02 (the proportion responded to
// within the Housing Ombudsman Complaint Handling Code's timescales), computed from the same stored
// events with the housing-ombudsman-2024 pack, whatever pack the centre runs day to day. Which events
// count as what: docs/standards.md ("The regulator's view").
import { evaluateContact } from '../domain/clocks.js';
import { parseEvent } from '../domain/contact.js';
import type { CalendarSet } from '../domain/clocks.js';
import { ContactError, type Clock, type Contact, type ContactEvent } from '../domain/model.js';
import { packInForce, PACKS, type StandardsPack } from '../domain/standards.js';
import { formatInstant } from '../domain/time.js';
import type { ComplaintContactRow } from '../store/reports.js';
import { hazardsOf } from './hazards.js';
import type { ReportSource } from './source.js';
import type { RegulatorView } from './types.js';
import { localDateRange, REPORT_ZONE } from './week.js';

export const REGULATOR_FAMILY = 'housing-ombudsman';

/** Cancellation reasons that mean it was never a complaint (spam, a duplicate): left out of CH01. */
const NOT_A_COMPLAINT = new Set(['spam', 'duplicate']);

/** How each complaint came out under the Code, for the counts. */
export interface CodeOutcome {
  contactId: string;
  /** When stage 1 began (the complaint's receipt), null when cancelled as spam or a duplicate. */
  stage1ReceivedAt: number | null;
  /** When stage 2 began (the escalation), else null. */
  stage2ReceivedAt: number | null;
  /** The stage 1 response (the first stage-1 `resolved` event), and whether it was within the Code's timescale. */
  stage1RespondedAt: number | null;
  stage1Within: boolean;
  stage2RespondedAt: number | null;
  stage2Within: boolean;
  /** An extension that the Code does not allow (longer than its maximum, or on no clock) was left out. */
  extensionDropped: boolean;
}

/**
 * Events as the Code's pack reads them. The Code's clocks do not pause: `paused`/`resumed` are left
 * out. An `extended` naming another pack's clock (LiveWest's `complaint-resolve`) applies to the
 * response clock of the stage in progress at that instant (stage 2 once escalated).
 */
function codeEvents(events: readonly ContactEvent[], pack: StandardsPack, dropExtensions: boolean): ContactEvent[] {
  const known = new Set(pack.standards.map((s) => s.id));
  let escalated = false;
  const out: ContactEvent[] = [];
  for (const e of [...events].sort((a, b) => a.at - b.at || a.seq - b.seq)) {
    if (e.type === 'escalated') escalated = true;
    if (e.type === 'paused' || e.type === 'resumed') continue;
    if (e.type === 'extended') {
      if (dropExtensions) continue;
      if (!known.has(e.clock ?? '')) out.push({ ...e, clock: escalated ? 'stage2-respond' : 'stage1-respond' });
      else out.push(e);
      continue;
    }
    out.push(e);
  }
  return out;
}

/** The first event matching, at or after `from`. */
const firstAt = (events: readonly ContactEvent[], pred: (e: ContactEvent) => boolean): number | null => {
  let best: number | null = null;
  for (const e of events) if (pred(e) && (best === null || e.at < best)) best = e.at;
  return best;
};

/** Judges one complaint under the Code. Null when no version of the Code was in force at its receipt. */
export function codeOutcome(row: ComplaintContactRow, calendars: CalendarSet, asOf: number, packs: readonly StandardsPack[] = PACKS): CodeOutcome | null {
  let pack: StandardsPack;
  try {
    pack = packInForce(REGULATOR_FAMILY, row.receivedAt, [...packs]);
  } catch {
    return null;
  }
  const raw = JSON.parse(row.events) as unknown[];
  const events = raw.map((e, i) => parseEvent(e, `events[${i}]`, i, row.receivedAt));
  const contact = (evs: ContactEvent[]): Contact => ({
    id: row.id,
    channel: row.channel as Contact['channel'],
    route: row.route as Contact['route'],
    category: row.initialCategory as Contact['category'],
    receivedAt: row.receivedAt,
    events: evs,
  });
  let clocks: Clock[];
  let dropped = false;
  try {
    clocks = evaluateContact(contact(codeEvents(events, pack, false)), pack, calendars, asOf).clocks;
  } catch (e) {
    if (!(e instanceof ContactError)) throw e;
    dropped = true;
    clocks = evaluateContact(contact(codeEvents(events, pack, true)), pack, calendars, asOf).clocks;
  }
  const by = (id: string) => clocks.find((c) => c.standard === id);
  const counts = (c: Clock | undefined) => c !== undefined && !(c.status === 'cancelled' && NOT_A_COMPLAINT.has(c.reason ?? ''));
  const ack1 = by('stage1-acknowledge');
  const ack2 = by('stage2-acknowledge');
  const cal = calendars['customer-services'];
  // A response: the stage's `resolved` event. Within the timescale when its response clock was met
  // (or met within an extension the Code allows); with no acknowledgement (so no response clock),
  // when it came within the acknowledgement's and the response's working days together.
  const judgeStage = (stage: 1 | 2, startedAt: number | null): { at: number | null; within: boolean } => {
    if (startedAt === null) return { at: null, within: false };
    const respond = by(`stage${stage}-respond`);
    const at = firstAt(events, (e) => e.type === 'resolved' && (e.stage ?? 1) === stage && e.at >= startedAt);
    if (at === null) return { at: null, within: false };
    if (respond !== undefined && respond.fulfilledAt !== null) return { at, within: respond.status === 'met' || respond.status === 'met-extended' };
    const days = (pack.standards.find((s) => s.id === `stage${stage}-acknowledge`)?.target.workingDays ?? 0) + (pack.standards.find((s) => s.id === `stage${stage}-respond`)?.target.workingDays ?? 0);
    return { at, within: cal !== undefined && at <= cal.addWorking(startedAt, days * cal.workingDayMs) };
  };
  const s1Start = counts(ack1) ? ack1!.startedAt : null;
  const s2Start = counts(ack2) ? ack2!.startedAt : null;
  const s1 = judgeStage(1, s1Start);
  const s2 = judgeStage(2, s2Start);
  return {
    contactId: row.id,
    stage1ReceivedAt: s1Start,
    stage2ReceivedAt: s2Start,
    stage1RespondedAt: s1.at,
    stage1Within: s1.within,
    stage2RespondedAt: s2.at,
    stage2Within: s2.within,
    extensionDropped: dropped,
  };
}

/** The Code's version in force at an instant (the first one before it came into force). */
function packAt(at: number): string {
  try {
    return packInForce(REGULATOR_FAMILY, at).id;
  } catch {
    return PACKS.find((p) => p.family === REGULATOR_FAMILY)!.id;
  }
}

const per1000 = (n: number, homes: number | null) => (homes !== null && homes > 0 ? (n * 1000) / homes : null);

/** CH01 and CH02 over outcomes, for the period [from, to). */
export function tsmFigures(outcomes: readonly CodeOutcome[], from: number, to: number, homes: number | null): Pick<RegulatorView, 'ch01' | 'ch02'> & { extensionsDropped: number } {
  const inPeriod = (t: number | null) => t !== null && t >= from && t < to;
  let s1 = 0, s2 = 0, r1 = 0, w1 = 0, r2 = 0, w2 = 0, dropped = 0;
  for (const o of outcomes) {
    if (inPeriod(o.stage1ReceivedAt)) s1++;
    if (inPeriod(o.stage2ReceivedAt)) s2++;
    if (inPeriod(o.stage1RespondedAt)) (r1++, o.stage1Within && w1++);
    if (inPeriod(o.stage2RespondedAt)) (r2++, o.stage2Within && w2++);
    if (o.extensionDropped) dropped++;
  }
  return {
    ch01: { stage1: s1, stage2: s2, stage1Per1000: per1000(s1, homes), stage2Per1000: per1000(s2, homes) },
    ch02: {
      stage1Responded: r1,
      stage1WithinTimescale: w1,
      stage1Proportion: r1 > 0 ? w1 / r1 : null,
      stage2Responded: r2,
      stage2WithinTimescale: w2,
      stage2Proportion: r2 > 0 ? w2 / r2 : null,
    },
    extensionsDropped: dropped,
  };
}

/** The regulator's view of the local dates [from, to] (both inclusive). */
export async function regulatorView(store: ReportSource, calendars: CalendarSet, fromDate: unknown, toDate: unknown, opts: { homes: number | null; asOf?: number; zone?: string }): Promise<RegulatorView> {
  const zone = opts.zone ?? REPORT_ZONE;
  const range = localDateRange(fromDate, toDate, zone);
  const asOf = opts.asOf ?? Date.now();
  const [complaints, hazards] = await Promise.all([store.complaintContacts(range.from, range.to), hazardsOf(store, range.from, range.to, asOf)]);
  const outcomes: CodeOutcome[] = [];
  for (const row of complaints) {
    const o = codeOutcome(row, calendars, asOf);
    if (o !== null) outcomes.push(o);
  }
  const { extensionsDropped, ...figures } = tsmFigures(outcomes, range.from, range.to, opts.homes);
  return {
    from: range.fromDate,
    to: range.toDate,
    builtAt: formatInstant(asOf),
    pack: packAt(Math.min(asOf, range.to - 1)),
    homes: opts.homes,
    ...figures,
    extensionsBeyondCode: extensionsDropped,
    hazards,
  };
}
