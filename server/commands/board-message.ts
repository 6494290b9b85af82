// Command: a team lead's message on every board (the one standing before is taken down), or, with no
// text, the message taken down; audited.
import type { CommandContext } from './context.js';

export interface BoardMessageInput {
  now: number;
  actor: string;
  /** null: take the message down. */
  text: string | null;
  until: number | null;
}

/** The audit entry's detail for a message put up (both databases). */
export const messageAudit = (id: number, until: number | null) => ({ id, until: until === null ? null : new Date(until).toISOString() });

export function boardMessage(ctx: CommandContext, c: BoardMessageInput): { id: number | null; ended: boolean } {
  if (c.text === null) {
    const ended = ctx.notices.endMessage(c.actor, c.now);
    if (ended) ctx.audit.record(c.now, c.actor, 'board-message.end', {});
    return { id: null, ended };
  }
  const id = ctx.notices.postMessage(c.text, c.actor, c.now, c.until);
  ctx.audit.record(c.now, c.actor, 'board-message.post', messageAudit(id, c.until));
  return { id, ended: false };
}
