// Command: take personal data out of a batch of contacts (issue 17), in the writer's transaction.
// `retention`: the schedule's due contacts (the messages, or everything personal); a contact that
// gained a hold or an open clock since it was chosen is skipped. `erasure`: one person's contacts on
// request, all or none: refused (409) while any of them is held, with an open complaint or an
// unactioned safeguarding alert; audited with the reason and who approved it. Clocks are not
// recomputed: the figures (statuses, instants, counted time) stay exactly as they were.
import { KeptError } from '../errors.js';
import { ANONYMISED, scrubClockDetail, scrubEventBody, scrubSource, type PrivacyLevel } from '../privacy/anonymise.js';
import type { HoldReason } from '../store/privacy.js';
import type { CommandContext } from './context.js';

export interface AnonymiseContactsInput {
  now: number;
  contactIds: string[];
  level: PrivacyLevel;
  mode: 'retention' | 'erasure';
  actor: string;
  /** Erasure: why, who approved it, and which request this batch belongs to. */
  erasure?: { reason: string; approvedBy: string; request: string; batch: number; batches: number };
}

export interface AnonymiseContactsOutput {
  /** Contacts changed by this batch. */
  changed: number;
  /** Contacts already at (or past) the level. */
  already: number;
  /** Retention: contacts skipped because a hold or an open clock now stands. */
  skipped: number;
}

/** Erasure refused: 409 `legal-hold`, with what holds which contact in `holds` (crosses the writer's wire as data). */
export function heldError(holds: HoldReason[]): KeptError {
  const kinds = [...new Set(holds.map((h) => h.kind))].join(', ');
  return new KeptError(409, 'legal-hold', `erasure refused: ${holds.length} legal hold${holds.length === 1 ? '' : 's'} on these contacts (${kinds})`, {
    field: 'contactIds',
    extra: { holds },
  });
}

export function anonymiseContacts(ctx: CommandContext, c: AnonymiseContactsInput): AnonymiseContactsOutput {
  if (c.mode === 'erasure') {
    const holds = ctx.privacy.holdReasons(c.contactIds);
    if (holds.length > 0) throw heldError(holds);
  }
  let changed = 0;
  let already = 0;
  let skipped = 0;
  for (const id of c.contactIds) {
    const row = ctx.contacts.byId(id);
    if (row === undefined) continue;
    const stage = ctx.privacy.privacyOf(id) ?? 0;
    if (stage >= c.level) {
      already++;
      continue;
    }
    if (c.mode === 'retention' && (ctx.privacy.openHolds([id]).length > 0 || ctx.contacts.clocks(id).some((k) => k.open))) {
      skipped++;
      continue;
    }
    for (const e of ctx.privacy.events(id)) {
      const body = scrubEventBody(e.type, e.body);
      if (body !== null) ctx.privacy.updateEventBody(e.id, body);
    }
    for (const k of ctx.privacy.clockDetails(id)) {
      const detail = scrubClockDetail(k.detail);
      if (detail !== null) ctx.privacy.updateClockDetail(k.rowid, detail);
    }
    ctx.privacy.scrubAlerts(id);
    const source = scrubSource(row.source, c.level);
    if (c.level === ANONYMISED) ctx.privacy.anonymise(id, source, c.now);
    else ctx.privacy.removeMessages(id, source);
    changed++;
  }
  if (changed > 0) ctx.privacy.forgetSamples();
  const audit = erasureAudit(c, changed, already);
  if (audit !== null) ctx.audit.record(c.now, c.actor, 'privacy.erase', audit);
  return { changed, already, skipped };
}

/** An erasure's audit entry (`privacy.erase`), or null for the retention schedule's batches (not audited). */
export function erasureAudit(c: AnonymiseContactsInput, changed: number, already: number): Record<string, unknown> | null {
  if (c.mode !== 'erasure' || c.erasure === undefined) return null;
  return {
    request: c.erasure.request,
    batch: c.erasure.batch,
    batches: c.erasure.batches,
    contactIds: c.contactIds,
    anonymised: changed,
    alreadyAnonymised: already,
    reason: c.erasure.reason,
    approvedBy: c.erasure.approvedBy,
  };
}
