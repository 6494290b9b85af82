// Commands: keep an automatic message (issue 12), and move an IMAP folder's read position.
import type { AutomaticMailRow, MailCursor } from '../store/mail.js';
import type { CommandContext } from './context.js';

export type RecordAutomaticMailInput = Omit<AutomaticMailRow, 'recordedAt'> & { now: number; actor: string };

/** The row to store and its audit entry (the kind, never the sender) if it is new. */
export function automaticMailRecord(input: RecordAutomaticMailInput): { row: AutomaticMailRow; audit: { at: number; actor: string; action: string; detail: unknown } } {
  const { now, actor, ...row } = input;
  return { row: { ...row, recordedAt: now }, audit: { at: now, actor, action: 'mail.automatic', detail: { kind: row.kind, contactId: row.contactId, reply: row.reply !== null } } };
}

/** Idempotent on the Message-ID; the audit trail names the kind, never the sender. */
export function recordAutomaticMail(ctx: CommandContext, input: RecordAutomaticMailInput): { recorded: boolean } {
  const { row, audit } = automaticMailRecord(input);
  const recorded = ctx.mail.insertAutomatic(row);
  if (recorded) ctx.audit.record(audit.at, audit.actor, audit.action, audit.detail);
  return { recorded };
}

export type SaveMailCursorInput = MailCursor & { now: number };

export function saveMailCursor(ctx: CommandContext, input: SaveMailCursorInput): null {
  const { now, ...cursor } = input;
  ctx.mail.saveCursor(cursor, now);
  return null;
}
