// Commands: keep an automatic message (issue 12), and move an IMAP folder's read position.
import type { AutomaticMailRow, MailCursor } from '../store/mail.js';
import type { CommandContext } from './context.js';

export type RecordAutomaticMailInput = Omit<AutomaticMailRow, 'recordedAt'> & { now: number; actor: string };

/** Idempotent on the Message-ID; the audit trail names the kind, never the sender. */
export function recordAutomaticMail(ctx: CommandContext, input: RecordAutomaticMailInput): { recorded: boolean } {
  const { now, actor, ...row } = input;
  const recorded = ctx.mail.insertAutomatic({ ...row, recordedAt: now });
  if (recorded) ctx.audit.record(now, actor, 'mail.automatic', { kind: row.kind, contactId: row.contactId, reply: row.reply !== null });
  return { recorded };
}

export type SaveMailCursorInput = MailCursor & { now: number };

export function saveMailCursor(ctx: CommandContext, input: SaveMailCursorInput): null {
  const { now, ...cursor } = input;
  ctx.mail.saveCursor(cursor, now);
  return null;
}
