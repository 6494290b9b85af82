// The words Kept shows beyond the figures (issue 11): a team lead's message on every board, and an
// admin's public notice (technical issues, adverse weather) that the public status and the contact
// form show between its start and end. Both are a handful of rows; the reads are keyed.
import type { Sqlite } from '../../db/connection.js';

export const NOTICE_KINDS = ['technical', 'weather', 'other'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface Notice {
  id: number;
  kind: NoticeKind;
  title: string;
  message: string;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  createdAt: number;
  withdrawnAt: number | null;
}

export interface BoardMessageRow {
  id: number;
  text: string;
  by: string;
  at: number;
  until: number | null;
}

/** A notice's row as both databases give it. */
export interface NoticeRow {
  id: number;
  kind: string;
  title: string;
  message: string;
  starts_at: number;
  ends_at: number;
  created_by: string;
  created_at: number;
  withdrawn_at: number | null;
}

export const toNotice = (r: NoticeRow): Notice => ({
  id: r.id,
  kind: r.kind as NoticeKind,
  title: r.title,
  message: r.message,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
  withdrawnAt: r.withdrawn_at,
});

export const NOTICES_SQL = {
  // Notices not yet ended, by `notices_ends`: the one in force is the latest started of them.
  inForce: 'SELECT * FROM notices INDEXED BY notices_ends WHERE ends_at > ? AND starts_at <= ? AND withdrawn_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT 1',
  upcoming: 'SELECT * FROM notices INDEXED BY notices_ends WHERE ends_at > ? AND withdrawn_at IS NULL ORDER BY ends_at, id LIMIT 100',
  message: 'SELECT id, text, by, at, until FROM board_messages WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1',
} as const;

export class NoticeStore {
  private readonly s;

  constructor(sqlite: Sqlite) {
    this.s = {
      insert: sqlite.prepare('INSERT INTO notices (kind, title, message, starts_at, ends_at, created_by, created_at) VALUES (@kind, @title, @message, @startsAt, @endsAt, @by, @at)'),
      withdraw: sqlite.prepare('UPDATE notices SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL'),
      byId: sqlite.prepare<[number], NoticeRow>('SELECT * FROM notices WHERE id = ?'),
      inForce: sqlite.prepare<[number, number], NoticeRow>(NOTICES_SQL.inForce),
      upcoming: sqlite.prepare<[number], NoticeRow>(NOTICES_SQL.upcoming),
      message: sqlite.prepare<[], BoardMessageRow>(NOTICES_SQL.message),
      post: sqlite.prepare('INSERT INTO board_messages (text, by, at, until) VALUES (?, ?, ?, ?)'),
      endAll: sqlite.prepare('UPDATE board_messages SET ended_at = ?, ended_by = ? WHERE ended_at IS NULL'),
    };
  }

  addNotice(n: { kind: NoticeKind; title: string; message: string; startsAt: number; endsAt: number }, by: string, at: number): number {
    return Number(this.s.insert.run({ ...n, by, at }).lastInsertRowid);
  }

  withdraw(id: number, at: number): boolean {
    return this.s.withdraw.run(at, id).changes === 1;
  }

  notice(id: number): Notice | undefined {
    const r = this.s.byId.get(id);
    return r === undefined ? undefined : toNotice(r);
  }

  /** The public notice in force at `now` (the latest started, when two overlap), or undefined. */
  inForce(now: number): Notice | undefined {
    const r = this.s.inForce.get(now, now);
    return r === undefined ? undefined : toNotice(r);
  }

  /** Notices in force or still to come, soonest ending first. */
  upcoming(now: number): Notice[] {
    return this.s.upcoming.all(now).map(toNotice);
  }

  /** The board message standing (it may have passed its `until`: the caller judges), or undefined. */
  message(): BoardMessageRow | undefined {
    return this.s.message.get();
  }

  /** Puts a message on the boards: the one standing before is taken down. */
  postMessage(text: string, by: string, at: number, until: number | null): number {
    this.s.endAll.run(at, by);
    return Number(this.s.post.run(text, by, at, until).lastInsertRowid);
  }

  endMessage(by: string, at: number): boolean {
    return this.s.endAll.run(at, by).changes > 0;
  }
}
