// The urgent list's filters and orders, as pure functions (tests/unit/urgent-filter.test.ts): what a
// team lead picks above the list, a promise tile's drill-down (one standard), and a saved board's filter.
import type { UrgentClock } from '../../server/live/protocol.js';

/** What the list shows. Empty / null fields do not filter. */
export interface UrgentFilter {
  channel: string | null;
  category: string | null;
  /** The contact's route (the queue it is in). */
  queue: string | null;
  /** An assignee, or UNASSIGNED for the rows nobody owns. */
  owner: string | null;
  /** One standard (a promise tile opened). */
  standard: string | null;
  /** A saved board's filter: empty lists do not filter; `queues` match the route or the category (as people's queues do). */
  board: { queues: readonly string[]; channels: readonly string[]; categories: readonly string[] } | null;
}

export const UNASSIGNED = '\u0000unassigned';
export const NO_FILTER: UrgentFilter = { channel: null, category: null, queue: null, owner: null, standard: null, board: null };

export type UrgentOrder = 'severity' | 'deadline';

/**
 * The heaviest promises: complaints, emergencies and emergency hazards (Awaab's Law) — by category,
 * so a complaint's reply or call counts too, and an emergency hazard's every clock (its 24-hour
 * investigation and make-safe, its reply).
 */
export const HEAVY_CATEGORIES: ReadonlySet<string> = new Set(['complaint', 'emergency-repair', 'hazard-emergency']);

interface Row {
  key: string;
  due: number;
  clock: UrgentClock;
}

export function matches(c: UrgentClock, f: UrgentFilter): boolean {
  if (f.channel !== null && c.channel !== f.channel) return false;
  if (f.category !== null && c.category !== f.category) return false;
  if (f.queue !== null && c.route !== f.queue) return false;
  if (f.standard !== null && c.standard !== f.standard) return false;
  if (f.owner !== null && (f.owner === UNASSIGNED ? c.assignee !== null : c.assignee !== f.owner)) return false;
  const b = f.board;
  if (b !== null) {
    if (b.channels.length > 0 && !b.channels.includes(c.channel)) return false;
    if (b.categories.length > 0 && !b.categories.includes(c.category)) return false;
    if (b.queues.length > 0 && !b.queues.includes(c.route) && !b.queues.includes(c.category)) return false;
  }
  return true;
}

/**
 * Severity rank at `now` (lower first): 0 breached complaint, emergency or emergency hazard, 1 other
 * breached, 2 at-risk complaint, emergency or emergency hazard, 3 other at risk. A row past its due instant counts as breached before the
 * server's message says so (the countdown already reads "overdue").
 */
export function severity(c: UrgentClock, due: number, now: number): number {
  const breached = c.status === 'breached' || now > due;
  const heavy = HEAVY_CATEGORIES.has(c.category);
  return (breached ? 0 : 2) + (heavy ? 0 : 1);
}

const byKey = (a: Row, b: Row) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The rows that pass `filter`, in `order`: by deadline (earliest due first), or by severity, then
 * deadline. `rows` come sorted by deadline, so the deadline order is a filter alone.
 */
export function view<T extends Row>(rows: readonly T[], filter: UrgentFilter, order: UrgentOrder, now: number): T[] {
  const kept = rows.filter((r) => matches(r.clock, filter));
  if (order === 'deadline') return kept;
  return kept
    .map((r) => ({ r, s: severity(r.clock, r.due, now) }))
    .sort((a, b) => a.s - b.s || a.r.due - b.r.due || byKey(a.r, b.r))
    .map((x) => x.r);
}

/** The filter in the address (?channel=…&category=…&queue=…&owner=…&standard=…&order=…), so a view can be shared or bookmarked. */
export function fromQuery(q: URLSearchParams): { filter: UrgentFilter; order: UrgentOrder } {
  const get = (k: string) => q.get(k) || null;
  const owner = get('owner');
  return {
    filter: { channel: get('channel'), category: get('category'), queue: get('queue'), owner: owner === 'unassigned' ? UNASSIGNED : owner, standard: get('standard'), board: null },
    order: q.get('order') === 'deadline' ? 'deadline' : 'severity',
  };
}

export function toQuery(q: URLSearchParams, f: UrgentFilter, order: UrgentOrder): void {
  const set = (k: string, v: string | null) => (v === null ? q.delete(k) : q.set(k, v));
  set('channel', f.channel);
  set('category', f.category);
  set('queue', f.queue);
  set('owner', f.owner === UNASSIGNED ? 'unassigned' : f.owner);
  set('standard', f.standard);
  set('order', order === 'severity' ? null : order);
}
