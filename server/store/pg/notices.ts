// Public notices and the board message on PostgreSQL (issue 14): the NoticePort of ../ports.ts giving
// the SQLite NoticeStore's answers. Posting and ending the board message are serialised across
// instances by an advisory lock, as SQLite's single writer serialises them: one message stands.
import type pg from 'pg';
import type { BoardMessageRow, Notice, NoticeKind, NoticeRow } from '../notices.js';
import { toNotice } from '../notices.js';
import type { NoticePort } from '../ports.js';
import { inTransaction, type TxClient } from './transaction.js';

/**
 * Taken (`pg_advisory_xact_lock`) by every change of the board message until its transaction ends:
 * without it two instances posting at once would each end the message standing before and both
 * insert theirs (neither statement sees the other's new row), leaving two standing. "KEPT" + 11.
 */
export const BOARD_MESSAGE_LOCK = 0x4b_45_50_54_0b;

/** Ends the standing board message, holding the board message's lock. */
async function endAll(client: TxClient, by: string, at: number): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [BOARD_MESSAGE_LOCK]);
  return (await client.query('UPDATE board_messages SET ended_at = $1, ended_by = $2 WHERE ended_at IS NULL', [at, by])).rowCount ?? 0;
}

export class PgNoticeStore implements NoticePort {
  /** A pool, or a connection inside a command's transaction (the writes then join it). */
  constructor(private readonly db: pg.Pool | TxClient) {}

  async addNotice(n: { kind: NoticeKind; title: string; message: string; startsAt: number; endsAt: number }, by: string, at: number): Promise<number> {
    const r = await this.db.query<{ id: number }>(
      'INSERT INTO notices (kind, title, message, starts_at, ends_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [n.kind, n.title, n.message, n.startsAt, n.endsAt, by, at],
    );
    return r.rows[0]!.id;
  }

  async withdraw(id: number, at: number): Promise<boolean> {
    return ((await this.db.query('UPDATE notices SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL', [at, id])).rowCount ?? 0) === 1;
  }

  async notice(id: number): Promise<Notice | undefined> {
    const r = (await this.db.query<NoticeRow>('SELECT * FROM notices WHERE id = $1', [id])).rows[0];
    return r === undefined ? undefined : toNotice(r);
  }

  /** The public notice in force at `now` (the latest started, when two overlap), or undefined: notices not yet ended, by `notices_ends`. */
  async inForce(now: number): Promise<Notice | undefined> {
    const r = (await this.db.query<NoticeRow>('SELECT * FROM notices WHERE ends_at > $1 AND starts_at <= $1 AND withdrawn_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT 1', [now])).rows[0];
    return r === undefined ? undefined : toNotice(r);
  }

  /** Notices in force or still to come, soonest ending first. */
  async upcoming(now: number): Promise<Notice[]> {
    return (await this.db.query<NoticeRow>('SELECT * FROM notices WHERE ends_at > $1 AND withdrawn_at IS NULL ORDER BY ends_at, id LIMIT 100', [now])).rows.map(toNotice);
  }

  /** The board message standing (it may have passed its `until`: the caller judges), or undefined. */
  async message(): Promise<BoardMessageRow | undefined> {
    return (await this.db.query<BoardMessageRow>('SELECT id, text, "by", "at", "until" FROM board_messages WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1')).rows[0];
  }

  /** Puts a message on the boards: the one standing before is taken down. */
  async postMessage(text: string, by: string, at: number, until: number | null): Promise<number> {
    return inTransaction(this.db, async (client) => {
      await endAll(client, by, at);
      return (await client.query<{ id: number }>('INSERT INTO board_messages (text, "by", "at", "until") VALUES ($1, $2, $3, $4) RETURNING id', [text, by, at, until])).rows[0]!.id;
    });
  }

  async endMessage(by: string, at: number): Promise<boolean> {
    return (await inTransaction(this.db, (client) => endAll(client, by, at))) > 0;
  }
}
