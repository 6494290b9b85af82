// Command: withdraw a public notice before its end; audited.
import { NotFoundError } from '../errors.js';
import type { CommandContext } from './context.js';

export interface WithdrawNoticeInput {
  now: number;
  actor: string;
  id: number;
}

export const noNotice = (id: number) => new NotFoundError(`no notice ${id} standing`, 'id');

export function withdrawNotice(ctx: CommandContext, c: WithdrawNoticeInput): null {
  if (!ctx.notices.withdraw(c.id, c.now)) throw noNotice(c.id);
  ctx.audit.record(c.now, c.actor, 'notice.withdraw', { id: c.id });
  return null;
}
