// Mail's own tables (issue 12): automatic mail kept apart from contacts, and where each IMAP folder
// has been read to. Keyed reads only (primary keys).
import type { Sqlite } from '../../db/connection.js';

export interface AutomaticMailRow {
  messageId: string;
  receivedAt: number;
  kind: string;
  marker: string;
  subject: string | null;
  contactId: string | null;
  reply: string | null;
  recordedAt: number;
}

export interface MailCursor {
  folder: string;
  uidValidity: string;
  lastUid: number;
}

export type RawAutomatic = { message_id: string; received_at: number; kind: string; marker: string; subject: string | null; contact_id: string | null; reply: string | null; recorded_at: number };

export class MailStore {
  private readonly s;
  constructor(sqlite: Sqlite) {
    this.s = {
      automatic: sqlite.prepare<[string], RawAutomatic>('SELECT * FROM automatic_mail WHERE message_id = ?'),
      insertAutomatic: sqlite.prepare(
        'INSERT INTO automatic_mail (message_id, received_at, kind, marker, subject, contact_id, reply, recorded_at) VALUES (@messageId, @receivedAt, @kind, @marker, @subject, @contactId, @reply, @recordedAt) ON CONFLICT (message_id) DO NOTHING',
      ),
      // Newest recorded first, by rowid: keyed paging with no ties.
      recent: sqlite.prepare<[number, number], RawAutomatic & { seq: number }>('SELECT rowid AS seq, * FROM automatic_mail WHERE rowid < ? ORDER BY rowid DESC LIMIT ?'),
      // contacts_social_sender: a sender's social contacts, newest first.
      socialOf: sqlite.prepare<[string, number], { id: string }>(
        "SELECT id FROM contacts WHERE channel = 'social' AND json_extract(source, '$.senderId') = ? ORDER BY received_at DESC LIMIT ?",
      ),
      cursor: sqlite.prepare<[string], { folder: string; uid_validity: string; last_uid: number }>('SELECT folder, uid_validity, last_uid FROM mail_cursors WHERE folder = ?'),
      // Forward only (see saveCursor).
      saveCursor: sqlite.prepare(
        `INSERT INTO mail_cursors (folder, uid_validity, last_uid, updated_at) VALUES (@folder, @uidValidity, @lastUid, @updatedAt) ON CONFLICT (folder) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at
         WHERE (length(excluded.uid_validity), excluded.uid_validity, excluded.last_uid) > (length(mail_cursors.uid_validity), mail_cursors.uid_validity, mail_cursors.last_uid)`,
      ),
    };
  }

  automatic(messageId: string): AutomaticMailRow | undefined {
    const r = this.s.automatic.get(messageId);
    return r === undefined ? undefined : fromRaw(r);
  }

  /** Automatic mail recorded before the row `before` (its `seq`), newest first. */
  recentAutomatic(before: number, limit: number): Array<AutomaticMailRow & { seq: number }> {
    return this.s.recent.all(before, limit).map((r) => ({ ...fromRaw(r), seq: r.seq }));
  }

  /** Idempotent on the Message-ID: true when the row is new. */
  insertAutomatic(row: AutomaticMailRow): boolean {
    return this.s.insertAutomatic.run(row).changes === 1;
  }

  /** The newest social contacts of one sender (a WhatsApp number, a PSID), at most `limit`. */
  socialContactsOf(senderId: string, limit: number): string[] {
    return this.s.socialOf.all(senderId, limit).map((r) => r.id);
  }

  cursor(folder: string): MailCursor | undefined {
    const r = this.s.cursor.get(folder);
    return r === undefined ? undefined : { folder: r.folder, uidValidity: r.uid_validity, lastUid: r.last_uid };
  }

  /**
   * Moves a folder's read position forward only: a later UIDVALIDITY (RFC 3501: a mailbox's new one is
   * greater than the last; compared as numbers, by length then digits), or the same one with a higher
   * UID. A reader behind another (two instances on one mailbox) never moves it back.
   */
  saveCursor(c: MailCursor, now: number): void {
    this.s.saveCursor.run({ ...c, updatedAt: now });
  }
}

export const fromRaw = (r: RawAutomatic): AutomaticMailRow => ({ messageId: r.message_id, receivedAt: r.received_at, kind: r.kind, marker: r.marker, subject: r.subject, contactId: r.contact_id, reply: r.reply, recordedAt: r.recorded_at });
