// Command: an admin's public notice (technical issues, adverse weather) with its start and end; audited.
import type { NoticeKind } from '../store/notices.js';
import type { CommandContext } from './context.js';

export interface AddNoticeInput {
  now: number;
  actor: string;
  notice: { kind: NoticeKind; title: string; message: string; startsAt: number; endsAt: number };
}

export function addNotice(ctx: CommandContext, c: AddNoticeInput): { id: number } {
  const id = ctx.notices.addNotice(c.notice, c.actor, c.now);
  ctx.audit.record(c.now, c.actor, 'notice.add', { id, kind: c.notice.kind, title: c.notice.title, startsAt: new Date(c.notice.startsAt).toISOString(), endsAt: new Date(c.notice.endsAt).toISOString() });
  return { id };
}
