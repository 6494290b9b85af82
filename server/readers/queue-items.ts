// My queue's items (issue 10), presented where the contacts were read: what the advisor must know
// first, the open clock due first, in due order (paused contacts after, then the oldest).
import type { ContactView } from '../ingest/present.js';
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

const dueKey = (c: ContactView['clocks'][number]) => (c.dueAt === null ? Number.POSITIVE_INFINITY : Date.parse(c.dueAt));
const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

export function queueItem(v: ContactView, alerts: AlertRow[]): QueueItem {
  const open = v.clocks.filter((c) => OPEN.has(c.status)).sort((a, b) => dueKey(a) - dueKey(b));
  return {
    id: v.id,
    channel: v.channel,
    route: v.route,
    category: v.category,
    subject: v.subject,
    receivedAt: v.receivedAt,
    assignee: v.assignee,
    customer: {
      name: v.customer?.name ?? null,
      preferredContact: v.customer?.preferredContact ?? null,
      accessibilityNeeds: v.customer?.accessibilityNeeds ?? null,
      vulnerability: v.customer?.vulnerability ?? null,
    },
    safeguarding: alerts.map((a) => ({ id: a.id, kind: a.kind, note: a.note, raisedAt: new Date(a.raisedAt).toISOString() })),
    next: open[0] ?? null,
    clocks: v.clocks,
  };
}

/** Due order: earliest due open clock first; paused (no due instant) after; then the oldest contact. */
export function byDue(a: QueueItem, b: QueueItem): number {
  const da = a.next === null ? Number.POSITIVE_INFINITY : dueKey(a.next);
  const db = b.next === null ? Number.POSITIVE_INFINITY : dueKey(b.next);
  return da - db || (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0);
}
