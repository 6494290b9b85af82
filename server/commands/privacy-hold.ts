// Command: place a legal hold on contacts (an Ombudsman complaint, a claim, a safeguarding enquiry),
// or release one (issue 17). While a hold stands, neither erasure nor the retention schedule touches
// the contact. Audited.
import { NotFoundError } from '../errors.js';
import type { CommandContext } from './context.js';

export type PrivacyHoldInput =
  | { now: number; action: 'place'; contactIds: string[]; reason: string; actor: string }
  | { now: number; action: 'release'; holdId: number; actor: string };

export interface PrivacyHoldOutput {
  holdIds: number[];
  released: boolean;
}

export function privacyHold(ctx: CommandContext, c: PrivacyHoldInput): PrivacyHoldOutput {
  if (c.action === 'place') {
    for (const id of c.contactIds) if (ctx.contacts.byId(id) === undefined) throw noContact(id);
    const holdIds = c.contactIds.map((id) => ctx.privacy.placeHold(id, c.reason, c.actor, c.now));
    ctx.audit.record(c.now, c.actor, 'privacy.hold', placedAudit(c, holdIds));
    return { holdIds, released: false };
  }
  const hold = ctx.privacy.hold(c.holdId);
  if (hold === undefined) throw noHold(c.holdId);
  const released = ctx.privacy.releaseHold(c.holdId, c.actor, c.now);
  if (released) ctx.audit.record(c.now, c.actor, 'privacy.release', releasedAudit(c.holdId, hold.contactId));
  return { holdIds: [c.holdId], released };
}

export const noContact = (id: string) => new NotFoundError(`no contact with id "${id}"`, 'contactIds');
export const noHold = (id: number) => new NotFoundError(`no hold ${id}`, 'id');
/** The audit entries' details: holds placed (`privacy.hold`), one released (`privacy.release`). */
export const placedAudit = (c: { contactIds: string[]; reason: string }, holdIds: number[]) => ({ holdIds, contactIds: c.contactIds, reason: c.reason });
export const releasedAudit = (holdId: number, contactId: string) => ({ holdId, contactId });
