// Mail's own tables on PostgreSQL (issue 14): MailStorePort with the SQLite MailStore's answers
// (server/store/mail.ts: the row shapes and their mapping reused from there). For many instances on
// one database: an automatic message is recorded once (the primary key on its Message-ID decides), and
// an IMAP folder's read position only moves forward in one statement (an instance behind another
// never moves it back). The page of automatic mail walks `seq`, PostgreSQL's twin of SQLite's rowid.
import { fromRaw, type AutomaticMailRow, type MailCursor, type RawAutomatic } from '../mail.js';
import type { MailStorePort } from '../ports.js';
import type { Queryable } from './contacts.js';

const AUTOMATIC = 'message_id, received_at, kind, marker, subject, contact_id, reply, recorded_at';

export class PgMailStore implements MailStorePort {
  constructor(private readonly db: Queryable) {}

  async automatic(messageId: string): Promise<AutomaticMailRow | undefined> {
    const { rows } = await this.db.query<RawAutomatic>(`SELECT ${AUTOMATIC} FROM automatic_mail WHERE message_id = $1`, [messageId]);
    return rows[0] === undefined ? undefined : fromRaw(rows[0]);
  }

  /** Automatic mail recorded before the row `before` (its `seq`), newest first. */
  async recentAutomatic(before: number, limit: number): Promise<Array<AutomaticMailRow & { seq: number }>> {
    const { rows } = await this.db.query<RawAutomatic & { seq: number }>(`SELECT seq, ${AUTOMATIC} FROM automatic_mail WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, [before, limit]);
    return rows.map((r) => ({ ...fromRaw(r), seq: r.seq }));
  }

  /**
   * Idempotent on the Message-ID: true when the row is new. NOT EXISTS first, so a message seen
   * before takes no `seq` (numbered without gaps, as SQLite's rowid); ON CONFLICT for the race it
   * cannot see, another instance recording the same message at this moment.
   */
  async insertAutomatic(row: AutomaticMailRow): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO automatic_mail (${AUTOMATIC}) SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8::bigint
       WHERE NOT EXISTS (SELECT 1 FROM automatic_mail WHERE message_id = $1) ON CONFLICT (message_id) DO NOTHING`,
      [row.messageId, row.receivedAt, row.kind, row.marker, row.subject, row.contactId, row.reply, row.recordedAt],
    );
    return r.rowCount === 1;
  }

  /** The newest social contacts of one sender (a WhatsApp number, a PSID), at most `limit` (by contacts_social_sender). */
  async socialContactsOf(senderId: string, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      "SELECT id FROM contacts WHERE channel = 'social' AND (source::json ->> 'senderId') = $1 ORDER BY received_at DESC, id DESC LIMIT $2",
      [senderId, limit],
    );
    return rows.map((r) => r.id);
  }

  async cursor(folder: string): Promise<MailCursor | undefined> {
    const { rows } = await this.db.query<MailCursor>('SELECT folder, uid_validity AS "uidValidity", last_uid AS "lastUid" FROM mail_cursors WHERE folder = $1', [folder]);
    return rows[0];
  }

  /** Forward only, as the SQLite store: a greater UIDVALIDITY (by length, then digits), or the same one with a higher UID. */
  async saveCursor(c: MailCursor, now: number): Promise<void> {
    await this.db.query(
      `INSERT INTO mail_cursors (folder, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (folder) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at
       WHERE (length(excluded.uid_validity), excluded.uid_validity COLLATE "C", excluded.last_uid) > (length(mail_cursors.uid_validity), mail_cursors.uid_validity COLLATE "C", mail_cursors.last_uid)`,
      [c.folder, c.uidValidity, c.lastUid, now],
    );
  }
}
