// My queue's items (issue 10), presented where the contacts were read: what the advisor must know
// first, the open clock due first, in due order (paused contacts after, then the oldest). An item shows
// no events and no hazard suggestion, so neither is read nor worked out (at 200 items, a third of the
// work a full view costs).
import { clockAsOf, type CalendarSet } from '../domain/clocks.js';
import { clockToJson, type ClockJson } from '../domain/json.js';
import { formatInstant } from '../domain/time.js';
import type { ContactView } from '../ingest/present.js';
import type { ClockRow, ContactRow } from '../store/contacts.js';
import type { AlertRow } from '../store/queue.js';

export interface QueueItem {
  id: string;
  channel: string;
  route: string;
  category: string;
  subject: string | null;
  receivedAt: string;
  assignee: string | null;
  /** What the advisor must know before replying: shown first. */
  customer: { name: string | null; preferredContact: string | null; accessibilityNeeds: string | null; vulnerability: string | null };
  safeguarding: Array<{ id: number; kind: string; note: string | null; raisedAt: string }>;
  /** The open clock due first (paused ones last), or null when every clock has ended. */
  next: ContactView['clocks'][number] | null;
  clocks: ContactView['clocks'];
}

const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);
const dueOf = (c: { dueAt: number | null }) => (c.dueAt === null ? Number.POSITIVE_INFINITY : c.dueAt);

/** An item and the keys it is ordered by (instants as numbers: no date parsed in the sort). */
interface Keyed {
  item: QueueItem;
  due: number;
  receivedAt: number;
}

function keyed(row: ContactRow, stored: readonly ClockRow[], alerts: readonly AlertRow[], calendars: CalendarSet, now: number): Keyed {
  // Each clock judged as of now (as a view's are), the open one due first chosen before it is written out.
  const judged = stored.map((k) => clockAsOf(k.detail, calendars, now));
  let next = -1;
  judged.forEach((c, i) => {
    if (OPEN.has(c.status) && (next < 0 || dueOf(c) < dueOf(judged[next]!))) next = i;
  });
  const clocks: ClockJson[] = judged.map(clockToJson);
  const item: QueueItem = {
    id: row.id,
    channel: row.channel,
    route: row.route,
    category: row.category,
    subject: row.subject,
    receivedAt: formatInstant(row.receivedAt),
    assignee: row.assignee,
    customer: {
      name: row.customer?.name ?? null,
      preferredContact: row.customer?.preferredContact ?? null,
      accessibilityNeeds: row.customer?.accessibilityNeeds ?? null,
      vulnerability: row.customer?.vulnerability ?? null,
    },
    safeguarding: alerts.map((a) => ({ id: a.id, kind: a.kind, note: a.note, raisedAt: formatInstant(a.raisedAt) })),
    next: next < 0 ? null : clocks[next]!,
    clocks,
  };
  return { item, due: next < 0 ? Number.POSITIVE_INFINITY : dueOf(judged[next]!), receivedAt: row.receivedAt };
}

/**
 * The items of these contacts in due order: earliest due open clock first; paused (no due instant)
 * after; then the oldest contact.
 */
export function queueItems(
  rows: readonly ContactRow[],
  clocks: ReadonlyMap<string, readonly ClockRow[]>,
  alerts: ReadonlyMap<string, readonly AlertRow[]>,
  calendars: CalendarSet,
  now: number,
): QueueItem[] {
  return rows
    .map((r) => keyed(r, clocks.get(r.id) ?? [], alerts.get(r.id) ?? [], calendars, now))
    .sort((a, b) => a.due - b.due || a.receivedAt - b.receivedAt)
    .map((k) => k.item);
}
