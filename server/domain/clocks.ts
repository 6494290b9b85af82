// The clock engine: (contact, its events, pack, calendars, now) → clocks. Pure; `now` is a parameter.
import type { WorkingCalendar } from './calendar.js';
import {
  ContactError,
  type Category,
  type Clock,
  type ClockStatus,
  type Contact,
  type ContactEvent,
  type CountedPause,
  type EvaluatedContact,
} from './model.js';
import { matchesEvent, standardApplies, type StandardDef, type StandardsPack } from './standards.js';

export type CalendarSet = Readonly<Record<string, WorkingCalendar>>;

/** Under 5 s from entering the queue, an abandoned call is a short abandon. */
export const SHORT_ABANDON_MS = 5_000;

interface ClockInstance {
  def: StandardDef;
  startedAt: number;
  supersededAt: number | null;
}

function sortEvents(events: ContactEvent[]): ContactEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.at < events[i - 1]!.at || (events[i]!.at === events[i - 1]!.at && events[i]!.seq < events[i - 1]!.seq)) {
      return [...events].sort((a, b) => a.at - b.at || a.seq - b.seq);
    }
  }
  return events;
}

/** Events named by an `undelivered` event (a bounced reply) no longer count: the clock runs on as if they never happened. */
function withoutUndelivered(events: ContactEvent[]): ContactEvent[] {
  let undone: Set<string> | undefined;
  for (const e of events) if (e.type === 'undelivered' && e.reference !== undefined) (undone ??= new Set()).add(e.reference);
  if (undone === undefined) return events;
  return events.filter((e) => !(e.externalId !== undefined && e.type !== 'undelivered' && undone.has(e.externalId)));
}

function eventField(contact: Contact, event: ContactEvent, field: string): string {
  return `events[${contact.events.indexOf(event)}].${field}`;
}

function findStandard(pack: StandardsPack, id: string): StandardDef | undefined {
  for (const s of pack.standards) if (s.id === id) return s;
  return undefined;
}

/** Target in ms on the standard's calendar. */
export function targetMs(def: StandardDef, calendar: WorkingCalendar): number {
  const t = def.target;
  if (t.measure === 'elapsed') return t.ms ?? 0;
  return (t.workingDays ?? 0) * calendar.workingDayMs + (t.workingHours ?? 0) * 3_600_000;
}

interface Applicable {
  fromReceipt: StandardDef[];
  /** Whether the pack has standards that start on an event (and so need the event walk). */
  eventStarted: boolean;
}
const applicableCache = new WeakMap<StandardsPack, Map<string, Applicable>>();

/** The pack's standards that apply to a channel, route and category, cached per pack. */
function applicableStandards(pack: StandardsPack, contact: Contact, category: Category): Applicable {
  let byKey = applicableCache.get(pack);
  if (byKey === undefined) {
    byKey = new Map();
    applicableCache.set(pack, byKey);
  }
  const key = `${contact.channel}|${contact.route}|${category}`;
  let found = byKey.get(key);
  if (found === undefined) {
    found = {
      fromReceipt: pack.standards.filter((d) => d.startsOn === undefined && standardApplies(d, contact.channel, contact.route, category)),
      eventStarted: pack.standards.some((d) => d.startsOn !== undefined),
    };
    byKey.set(key, found);
  }
  return found;
}

/** Which clocks the contact has, when each starts, and which a recategorisation superseded. */
const packCategoriesCache = new WeakMap<StandardsPack, Set<string> | null>();
/** Every category the pack's standards name, or null when some standard applies to any category. */
function packCategories(pack: StandardsPack): Set<string> | null {
  let found = packCategoriesCache.get(pack);
  if (found === undefined) {
    found = pack.standards.every((d) => d.appliesWhen.categories !== undefined) ? new Set(pack.standards.flatMap((d) => d.appliesWhen.categories!)) : null;
    packCategoriesCache.set(pack, found);
  }
  return found;
}

const changesCategory = (e: ContactEvent) => e.type === 'recategorised' || e.type === 'severity-raised';

function clockInstances(contact: Contact, events: ContactEvent[], pack: StandardsPack): { instances: ClockInstance[]; category: Category } {
  let category = contact.category;
  // A pack whose standards name categories the contact never has (Awaab's Law for a general enquiry): no clocks.
  const cats = packCategories(pack);
  if (cats !== null && !cats.has(category) && !events.some((e) => changesCategory(e) && e.category !== undefined && cats.has(e.category))) {
    return { instances: [], category };
  }
  const initial = applicableStandards(pack, contact, category);
  if (events.length === 0 || (!initial.eventStarted && !events.some(changesCategory))) {
    // The common case: the clocks are fixed by channel, route and category at arrival.
    return { instances: initial.fromReceipt.map((def) => ({ def, startedAt: contact.receivedAt, supersededAt: null })), category };
  }
  const byId = new Map<string, ClockInstance>();
  const applies = (def: StandardDef, cat: Category) => standardApplies(def, contact.channel, contact.route, cat);
  for (const def of initial.fromReceipt) byId.set(def.id, { def, startedAt: contact.receivedAt, supersededAt: null });
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (changesCategory(ev) && ev.category !== undefined && ev.category !== category) {
      const next = ev.category;
      // `severity-raised`: the landlord learns now that the hazard is an emergency, so the clocks it
      // brings start at the event, not at receipt; a clock whose fulfilling event (or, for one that
      // starts on an event, whose starting event) came before it is judged as already done / started now.
      const raised = ev.type === 'severity-raised';
      const before_ = (e: ContactEvent) => events.indexOf(e) < i;
      for (const def of pack.standards) {
        const before = applies(def, category);
        const after = applies(def, next);
        const inst = byId.get(def.id);
        if (before && !after && inst !== undefined && inst.supersededAt === null) inst.supersededAt = ev.at;
        if (after && !before) {
          if (inst !== undefined) inst.supersededAt = null;
          else if (!raised) {
            if (def.startsOn === undefined) byId.set(def.id, { def, startedAt: contact.receivedAt, supersededAt: null });
          } else if (def.startsOn === undefined) {
            if (!events.some((e) => before_(e) && def.fulfilledBy.some((m) => matchesEvent(m, e)))) byId.set(def.id, { def, startedAt: ev.at, supersededAt: null });
          } else if (events.some((e) => before_(e) && matchesEvent(def.startsOn!, e))) {
            byId.set(def.id, { def, startedAt: ev.at, supersededAt: null });
          }
        }
      }
      category = next;
    }
    for (const def of pack.standards) {
      if (def.startsOn !== undefined && !byId.has(def.id) && applies(def, category) && matchesEvent(def.startsOn, ev)) {
        byId.set(def.id, { def, startedAt: ev.at, supersededAt: null });
      }
    }
  }
  const instances: ClockInstance[] = [];
  for (const def of pack.standards) {
    const inst = byId.get(def.id);
    if (inst !== undefined) instances.push(inst);
  }
  return { instances, category };
}

/** Pack rules on events: a named clock must exist in the pack, apply to the contact, and allow the action. */
function checkClockEvents(contact: Contact, events: ContactEvent[], packs: readonly StandardsPack[], instances: ClockInstance[]): void {
  for (const ev of events) {
    if (ev.type !== 'paused' && ev.type !== 'resumed' && ev.type !== 'extended') continue;
    const name = ev.clock!;
    let def: StandardDef | undefined;
    for (const pack of packs) def ??= findStandard(pack, name);
    const field = eventField(contact, ev, 'clock');
    if (def === undefined) {
      const known = packs.flatMap((p) => p.standards.map((s) => s.id)).join(', ');
      throw new ContactError(field, `unknown standard "${name}" in ${packs.map((p) => p.id).join(' + ')} (known: ${known})`);
    }
    if ((ev.type === 'paused' || ev.type === 'resumed') && !def.pausable) {
      throw new ContactError(field, `${name} cannot be paused: the standard is not pausable`);
    }
    if (ev.type === 'extended' && !def.extendable) {
      throw new ContactError(field, `${name} cannot be extended: the standard is not extendable`);
    }
    if (!instances.some((i) => i.def.id === name)) {
      throw new ContactError(field, `this contact has no ${name} clock`);
    }
  }
}

interface PauseResult {
  /** Due (or at-risk) instant; null while an open pause holds it. */
  instant: number | null;
  /** Pauses that counted (started before the instant was reached). */
  counted: number;
}

/** Earliest instant at which `target` has counted from `start`, skipping counted pauses. */
function reachWithPauses(cal: WorkingCalendar, start: number, target: number, pauses: CountedPause[]): PauseResult {
  let goal = cal.position(start) + target;
  for (let i = 0; i < pauses.length; i++) {
    const p = pauses[i]!;
    const candidate = target <= 0 ? start : cal.instantAt(goal);
    if (candidate <= p.from) return { instant: candidate, counted: i };
    if (p.to === null) return { instant: null, counted: i + 1 };
    goal += cal.position(p.to) - cal.position(p.from);
  }
  return { instant: target <= 0 ? start : cal.instantAt(goal), counted: pauses.length };
}

function evaluateClock(
  contact: Contact,
  events: ContactEvent[],
  inst: ClockInstance,
  pack: StandardsPack,
  calendars: CalendarSet,
  now: number,
): Clock {
  const { def, startedAt } = inst;
  const cal = calendars[def.calendar];
  if (cal === undefined) throw new ContactError('calendar', `no calendar "${def.calendar}" is configured for ${def.id}`);
  let target = targetMs(def, cal);
  if (def.mode === 'end-of-day') {
    target = cal.countedBetween(startedAt, cal.closeOfNthWorkingDayAfter(startedAt, def.target.workingDays ?? 1));
  }
  const notes: string[] = [];

  // The event that ends the clock, whatever it is.
  let endedAt: number | null = inst.supersededAt;
  type EndKind = 'fulfilled' | 'abandoned' | 'cancelled' | 'superseded';
  let endKind = (endedAt === null ? null : 'superseded') as EndKind | null;
  let reason: string | undefined = endedAt === null ? undefined : 'superseded';
  let callback = false;
  const rawPauses: CountedPause[] = [];
  let extension: ContactEvent | null = null;
  for (const ev of events) {
    if (ev.at < startedAt) continue;
    if (endedAt !== null && ev.at > endedAt) break; // superseded: events up to that instant still count
    if (ev.type === 'callback-requested') callback = true;
    let ends: EndKind | null = null;
    if (def.fulfilledBy.some((m) => matchesEvent(m, ev))) ends = 'fulfilled';
    else if (ev.type === 'abandoned' && def.endsOnAbandon === true) ends = 'abandoned';
    else if (ev.type === 'cancelled') ends = 'cancelled';
    if (ends !== null) {
      endedAt = ev.at;
      endKind = ends;
      reason = ends === 'cancelled' ? ev.reason : undefined;
      break;
    }
    if (ev.clock !== def.id) continue;
    const open = rawPauses.length > 0 && rawPauses[rawPauses.length - 1]!.to === null;
    if (ev.type === 'paused') {
      if (extension !== null) notes.push(`pause at ${iso(ev.at)} ignored: the clock is extended to an agreed date`);
      else if (open) notes.push(`pause at ${iso(ev.at)} ignored: the clock is already paused`);
      else rawPauses.push({ from: ev.at, to: null, reason: ev.reason ?? '' });
    } else if (ev.type === 'resumed') {
      if (open) rawPauses[rawPauses.length - 1]!.to = ev.at;
      else notes.push(`resume at ${iso(ev.at)} ignored: the clock was not paused`);
    } else if (ev.type === 'extended') {
      extension = ev;
    }
  }
  // A clock that ends while paused ends its pause at that instant.
  const lastPause = rawPauses[rawPauses.length - 1];
  if (lastPause !== undefined && lastPause.to === null && endedAt !== null) lastPause.to = endedAt;

  const due = reachWithPauses(cal, startedAt, target, rawPauses);
  const pauses = rawPauses.slice(0, due.counted);
  for (const p of rawPauses.slice(due.counted)) {
    notes.push(`pause at ${iso(p.from)} ignored: it started after the clock was due at ${iso(due.instant!)}`);
  }
  let atRiskAt: number | null = null;
  if (extension === null) {
    const atRisk = reachWithPauses(cal, startedAt, Math.ceil(target * def.atRiskFraction - 1e-6), pauses);
    atRiskAt = atRisk.instant;
  }
  const originalDueAt = due.instant;
  let dueAt = originalDueAt;
  let extendedUntil: number | undefined;
  if (extension !== null) {
    const until = extension.until!;
    if (until <= startedAt) {
      throw new ContactError(eventField(contact, extension, 'until'), `must be after the clock started (${iso(startedAt)})`);
    }
    if (def.maxExtensionWorkingDays !== undefined && originalDueAt !== null) {
      const latest = cal.addWorking(originalDueAt, def.maxExtensionWorkingDays * cal.workingDayMs);
      if (until > latest) {
        throw new ContactError(
          eventField(contact, extension, 'until'),
          `an extension of ${def.id} may reach at most ${def.maxExtensionWorkingDays} working days past ${iso(originalDueAt)} (${iso(latest)})`,
        );
      }
    }
    if (def.maxExtensionFromStartMs !== undefined && until > startedAt + def.maxExtensionFromStartMs) {
      throw new ContactError(
        eventField(contact, extension, 'until'),
        `an extension of ${def.id} may reach at most ${iso(startedAt + def.maxExtensionFromStartMs)} (${def.maxExtensionFromStartMs / 86_400_000} days from its start)`,
      );
    }
    extendedUntil = until;
    dueAt = until;
  }

  const openPause = pauses.length > 0 && pauses[pauses.length - 1]!.to === null;
  const countUntil = endedAt ?? Math.max(now, startedAt);
  let counted = cal.countedBetween(startedAt, countUntil);
  for (const p of pauses) {
    const to = p.to === null ? countUntil : Math.min(p.to, countUntil);
    if (to > p.from) counted -= cal.countedBetween(p.from, to);
  }

  let status: ClockStatus;
  let fulfilledAt: number | null = null;
  if (endKind === 'fulfilled') {
    fulfilledAt = endedAt;
    if (extendedUntil !== undefined) {
      status = originalDueAt !== null && endedAt! <= originalDueAt ? 'met' : endedAt! <= extendedUntil ? 'met-extended' : 'missed-extended';
    } else {
      status = endedAt! <= dueAt! ? 'met' : 'missed';
    }
  } else if (endKind === 'abandoned') {
    status = endedAt! - contact.receivedAt < SHORT_ABANDON_MS ? 'abandoned-short' : 'abandoned';
  } else if (endKind === 'cancelled' || endKind === 'superseded') {
    status = 'cancelled';
  } else if (openPause && extendedUntil === undefined) {
    status = 'paused';
  } else {
    status = runningStatus(dueAt, atRiskAt, now);
  }

  const clock: Clock = {
    standard: def.id,
    standardVersion: pack.id,
    calendar: cal.id,
    startedAt,
    dueAt,
    atRiskAt,
    status,
    fulfilledAt,
    endedAt,
    targetMs: target,
    countedMs: counted,
    remainingMs: Math.max(0, target - counted),
  };
  if (extendedUntil !== undefined) {
    clock.originalDueAt = originalDueAt;
    clock.extendedUntil = extendedUntil;
  }
  if (reason !== undefined) clock.reason = reason;
  if (callback) clock.callback = true;
  if (pauses.length > 0) clock.pauses = pauses;
  if (def.calendar !== 'always') {
    const last = Math.max(dueAt ?? countUntil, countUntil);
    if (!cal.holidaysKnownAt(startedAt) || !cal.holidaysKnownAt(last)) clock.beyondHolidayData = true;
  }
  if (notes.length > 0) clock.notes = notes;
  return clock;
}

/** A running clock's status at `now`: breached past its due instant, at risk from its at-risk instant. */
export function runningStatus(dueAt: number | null, atRiskAt: number | null, now: number): 'running' | 'at-risk' | 'breached' {
  if (dueAt !== null && now > dueAt) return 'breached';
  if (atRiskAt !== null && now >= atRiskAt) return 'at-risk';
  return 'running';
}

/**
 * A stored clock as of `now`, by the rules above: a clock still running (stored by the last write as
 * running, at risk or breached) gets its status and counted time brought forward; any other is as stored.
 */
export function clockAsOf(c: Clock, calendars: CalendarSet, now: number): Clock {
  if (c.status !== 'running' && c.status !== 'at-risk' && c.status !== 'breached') return c;
  const status = runningStatus(c.dueAt, c.atRiskAt, now);
  if (status === c.status) return c;
  const cal = calendars[c.calendar];
  const counted = cal ? Math.max(c.countedMs, cal.countedBetween(c.startedAt, now) - (c.pauses ?? []).reduce((s, p) => s + cal.countedBetween(p.from, p.to ?? now), 0)) : c.countedMs;
  return { ...c, status, countedMs: counted, remainingMs: Math.max(0, c.targetMs - counted) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Every clock of a contact as of `now`. Events are applied in `at` order (ties in arrival
 * order), whatever order they came in. Throws ContactError for input the pack forbids.
 */
export function evaluateContact(contact: Contact, packOrPacks: StandardsPack | readonly StandardsPack[], calendars: CalendarSet, now: number): EvaluatedContact {
  // Several packs (the centre's and, beside it, Awaab's Law): each clock is judged by its own pack.
  const packs: readonly StandardsPack[] = Array.isArray(packOrPacks) ? packOrPacks : [packOrPacks as StandardsPack];
  const events = sortEvents(withoutUndelivered(contact.events));
  let instances = clockInstances(contact, events, packs[0]!).instances;
  // Which pack each clock belongs to (index into packs), only needed with more than one pack.
  let packOf: number[] | null = null;
  for (let p = 1; p < packs.length; p++) {
    const more = clockInstances(contact, events, packs[p]!).instances;
    if (more.length === 0) continue;
    packOf ??= instances.map(() => 0);
    instances = instances.concat(more);
    for (let k = 0; k < more.length; k++) packOf.push(p);
  }
  let category = contact.category;
  for (const ev of events) if (changesCategory(ev) && ev.category !== undefined) category = ev.category;
  checkClockEvents(contact, events, packs, instances);
  let callback = false;
  let assignee: string | null = null;
  for (const ev of events) {
    if (ev.type === 'callback-requested') callback = true;
    else if (ev.type === 'assigned') assignee = ev.assignee ?? null;
  }
  const clocks = instances.map((inst, k) => evaluateClock(contact, events, inst, packs[packOf === null ? 0 : packOf[k]!]!, calendars, now));
  return { category, callback, assignee, clocks };
}
