// Command: an admin's public notice (technical issues, adverse weather) with its start and end; audited.
import type { NoticeKind } from '../store/notices.js';
import type { CommandContext } from './context.js';

export interface AddNoticeInput {
  now: number;
  actor: string;
  notice: { kind: NoticeKind; title: string; message: string; startsAt: number; endsAt: number };
}

/** The audit entry's detail (both databases). */
export function noticeAudit(id: number, n: AddNoticeInput['notice']): Record<string, unknown> {
  return { id, kind: n.kind, title: n.title, startsAt: new Date(n.startsAt).toISOString(), endsAt: new Date(n.endsAt).toISOString() };
}

export function addNotice(ctx: CommandContext, c: AddNoticeInput): { id: number } {
  const id = ctx.notices.addNotice(c.notice, c.actor, c.now);
  ctx.audit.record(c.now, c.actor, 'notice.add', noticeAudit(id, c.notice));
  return { id };
}
