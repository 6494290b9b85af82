// Command: an advisor's or team lead's action on a contact (issue 10): its events appended and the
// clocks recomputed as add-events does, with — in the same transaction — a complaint reference issued
// from the year's sequence (`CMP-2026-000123`), a safeguarding alert raised, and an audit entry.
import type { ContactEvent } from '../domain/model.js';
import { addEvents, type AddEventsOutput } from './add-events.js';
import type { CommandContext } from './context.js';

export interface ContactActionInput {
  now: number;
  contactId: string;
  /** Who acted: an advisor's email, or `token:NAME` for an integration. */
  actor: string;
  /** The action's name, for the audit trail. */
  action: string;
  /** Field-checked on the way in; an `acknowledged` event's reference is issued here when `issueReference` is set. */
  events: ContactEvent[];
  /** Issue the complaint reference from this year's sequence. */
  issueReference?: { prefix: string; year: number };
  alert?: { kind: string; note: string | null };
  /** More for the audit entry (ids and kinds only, never the customer's words). */
  auditDetail?: Record<string, unknown>;
}

export interface ContactActionOutput extends AddEventsOutput {
  reference: string | null;
  alertId: number | null;
}

export function complaintReference(prefix: string, year: number, n: number): string {
  return `${prefix}-${year}-${String(n).padStart(6, '0')}`;
}

/** The action's events with the issued reference put on its `acknowledged` event. */
export function withReference(events: ContactEvent[], reference: string | null): ContactEvent[] {
  return reference === null ? events : events.map((e) => (e.type === 'acknowledged' ? { ...e, reference } : e));
}

/** The action's audit detail: ids and kinds, the reference and the alert's id when there are. */
export function actionAudit(c: ContactActionInput, events: ContactEvent[], reference: string | null, alertId: number | null): Record<string, unknown> {
  return { contactId: c.contactId, events: events.map((e) => e.type), ...c.auditDetail, ...(reference !== null ? { reference } : {}), ...(alertId !== null ? { alertId } : {}) };
}

export function contactAction(ctx: CommandContext, c: ContactActionInput): ContactActionOutput {
  const r = c.issueReference;
  const reference = r === undefined ? null : complaintReference(r.prefix, r.year, ctx.queue.next(r.prefix, r.year));
  const events = withReference(c.events, reference);
  const out = events.length > 0 ? addEvents(ctx, { now: c.now, contactId: c.contactId, events }) : { added: 0, change: null };
  const alertId = c.alert === undefined ? null : ctx.queue.raise({ contactId: c.contactId, kind: c.alert.kind, note: c.alert.note, raisedAt: c.now, raisedBy: c.actor });
  ctx.audit.record(c.now, c.actor, `contact.${c.action}`, actionAudit(c, events, reference, alertId));
  return { ...out, reference, alertId };
}

export interface AlertActionInput {
  now: number;
  alertId: number;
  actor: string;
  action: string;
}

/** The audit entry of an alert's action (recorded only when the action was): its name and detail. */
export function alertActionAudit(c: AlertActionInput): { action: string; detail: Record<string, unknown> } {
  return { action: 'alert.action', detail: { alertId: c.alertId } };
}

/** Records who did what about a safeguarding alert, once; the alert leaves the team leads' list. */
export function alertAction(ctx: CommandContext, c: AlertActionInput): { recorded: boolean } {
  const recorded = ctx.queue.action(c.alertId, c.now, c.actor, c.action);
  if (recorded) {
    const audit = alertActionAudit(c);
    ctx.audit.record(c.now, c.actor, audit.action, audit.detail);
  }
  return { recorded };
}
