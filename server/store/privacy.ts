// Personal data (issue 17): the person keys a person is found by, legal holds, the anonymising
// writes, the retention job's walk and the audit trail's pruning. The only SQL of server/privacy/.
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../../db/connection.js';
import type { KeyKind, PersonKey } from '../privacy/keys.js';
import type { Customer } from './contacts.js';

export interface HoldRow {
  id: number;
  contactId: string;
  reason: string;
  placedBy: string;
  placedAt: number;
  releasedAt: number | null;
  releasedBy: string | null;
}

export type RawHold = { id: number; contact_id: string; reason: string; placed_by: string; placed_at: number; released_at: number | null; released_by: string | null };
export const holdFromRaw = (r: RawHold): HoldRow => ({
  id: r.id,
  contactId: r.contact_id,
  reason: r.reason,
  placedBy: r.placed_by,
  placedAt: r.placed_at,
  releasedAt: r.released_at,
  releasedBy: r.released_by,
});

/** Why a contact may not be erased now (a legal hold, in the broad sense). */
export interface HoldReason {
  contactId: string;
  kind: 'hold' | 'open-complaint' | 'open-safeguarding-alert';
  detail: string;
}

/** Person keys written by one statement at most (a long name has many words). */
const KEYS_PER_STATEMENT = 16;

/** Contacts found for one person, at most this many per search. */
export const SEARCH_LIMIT = 500;

/**
 * The statements, by name, for EXPLAIN QUERY PLAN in the tests (tests/integration/privacy-plans.test.ts):
 * every one is an index seek, whatever the size of the database.
 */
export const PRIVACY_SQL = {
  // A person: one seek on the primary key (kind, value, contact_id).
  searchExact: 'SELECT DISTINCT contact_id FROM person_keys WHERE kind = ? AND value = ? LIMIT ?',
  // A name's beginning: a range on the same key.
  searchPrefix: 'SELECT DISTINCT contact_id FROM person_keys WHERE kind = ? AND value >= ? AND value < ? LIMIT ?',
  // The retention walk: contacts at one stage received before the cutoff, oldest first, from a cursor;
  // each tested on its own keys (its clocks' and events' primary keys, its holds).
  retention: `SELECT c.id, c.received_at FROM contacts c INDEXED BY contacts_privacy_pending
    WHERE c.privacy = @stage AND c.privacy < 2 AND c.received_at < @cutoff AND (c.received_at, c.id) > (@afterAt, @afterId)
      AND NOT EXISTS (SELECT 1 FROM clocks k WHERE k.contact_id = c.id AND +k.open = 1)
      AND COALESCE((SELECT MAX(k.ended_at) FROM clocks k WHERE k.contact_id = c.id), 0) < @cutoff
      AND COALESCE((SELECT MAX(e.at) FROM events e WHERE e.contact_id = c.id), 0) < @cutoff
      AND NOT EXISTS (SELECT 1 FROM privacy_holds h WHERE h.contact_id = c.id AND h.released_at IS NULL)
    ORDER BY c.received_at, c.id LIMIT @limit`,
  openHolds: 'SELECT * FROM privacy_holds INDEXED BY privacy_holds_contact WHERE contact_id IN (SELECT value FROM json_each(?)) AND released_at IS NULL ORDER BY id',
  holdsOf: 'SELECT * FROM privacy_holds WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY id',
  // An open complaint: an open clock on a complaint contact, or an open complaint standard.
  openComplaints: `SELECT DISTINCT k.contact_id AS id FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.contact_id IN (SELECT value FROM json_each(?)) AND k.open = 1 AND (c.category = 'complaint' OR c.initial_category = 'complaint' OR k.standard LIKE '%complaint%')`,
  openAlerts: 'SELECT DISTINCT contact_id AS id FROM alerts INDEXED BY alerts_contact WHERE contact_id IN (SELECT value FROM json_each(?)) AND +actioned_at IS NULL',
  pruneAudit: 'DELETE FROM audit WHERE id IN (SELECT id FROM audit INDEXED BY audit_at WHERE at < ? ORDER BY at LIMIT ?)',
} as const;

export class PrivacyStore {
  private readonly s;

  constructor(private readonly sqlite: Sqlite) {
    this.s = {
      deleteKeys: sqlite.prepare('DELETE FROM person_keys WHERE contact_id = ?'),
      searchExact: sqlite.prepare<[string, string, number], { contact_id: string }>(PRIVACY_SQL.searchExact),
      searchPrefix: sqlite.prepare<[string, string, string, number], { contact_id: string }>(PRIVACY_SQL.searchPrefix),
      retention: sqlite.prepare<[{ stage: number; cutoff: number; afterAt: number; afterId: string; limit: number }], { id: string; received_at: number }>(PRIVACY_SQL.retention),
      openHolds: sqlite.prepare<[string], RawHold>(PRIVACY_SQL.openHolds),
      holdsOf: sqlite.prepare<[string], RawHold>(PRIVACY_SQL.holdsOf),
      openComplaints: sqlite.prepare<[string], { id: string }>(PRIVACY_SQL.openComplaints),
      openAlerts: sqlite.prepare<[string], { id: string }>(PRIVACY_SQL.openAlerts),
      placeHold: sqlite.prepare('INSERT INTO privacy_holds (contact_id, reason, placed_by, placed_at) VALUES (?, ?, ?, ?)'),
      releaseHold: sqlite.prepare('UPDATE privacy_holds SET released_at = ?, released_by = ? WHERE id = ? AND released_at IS NULL'),
      hold: sqlite.prepare<[number], RawHold>('SELECT * FROM privacy_holds WHERE id = ?'),
      privacyOf: sqlite.prepare<[string], { privacy: number }>('SELECT privacy FROM contacts WHERE id = ?'),
      privacyOfEach: sqlite.prepare<[string], { id: string; privacy: number }>('SELECT id, privacy FROM contacts WHERE id IN (SELECT value FROM json_each(?))'),
      removeMessages: sqlite.prepare('UPDATE contacts SET subject = NULL, summary = NULL, source = @source, privacy = 1 WHERE id = @id'),
      // external_id and content_hash go too: a replay of the old message after this is a new contact.
      anonymise: sqlite.prepare(
        "UPDATE contacts SET customer = NULL, subject = NULL, summary = NULL, source = @source, external_id = NULL, content_hash = 'anonymised', privacy = 2, anonymised_at = @at WHERE id = @id",
      ),
      events: sqlite.prepare<[string], { id: number; type: string; body: string }>('SELECT id, type, body FROM events WHERE contact_id = ? ORDER BY seq'),
      updateEvent: sqlite.prepare('UPDATE events SET body = ? WHERE id = ?'),
      clockDetails: sqlite.prepare<[string], { rowid: number; detail: string }>('SELECT rowid, detail FROM clocks WHERE contact_id = ?'),
      updateClockDetail: sqlite.prepare('UPDATE clocks SET detail = ? WHERE rowid = ?'),
      scrubAlerts: sqlite.prepare("UPDATE alerts SET note = NULL, action = CASE WHEN action IS NULL THEN NULL ELSE 'removed' END WHERE contact_id = ? AND (note IS NOT NULL OR action IS NOT NULL)"),
      pruneAudit: sqlite.prepare(PRIVACY_SQL.pruneAudit),
      auditBefore: sqlite.prepare<[number], { id: number }>('SELECT id FROM audit INDEXED BY audit_at WHERE at < ? LIMIT 1'),
      hasStat4: sqlite.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_schema WHERE name = 'sqlite_stat4'"),
    };
  }

  /** A contact's keys, written with it (create-contact). */
  /** A contact's keys in one statement (a contact has ~5: one statement run instead of five). */
  insertKeys(contactId: string, keys: readonly PersonKey[]): void {
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      const chunk = keys.slice(i, i + KEYS_PER_STATEMENT);
      const args: string[] = [];
      for (const k of chunk) args.push(k.kind, k.value, contactId);
      this.insertKeysStatement(chunk.length).run(args);
    }
  }

  /** `INSERT OR IGNORE … VALUES (?, ?, ?), …` for n keys, prepared once per n. */
  private insertKeysStatement(n: number): Statement {
    let st = this.insertKeysBy[n];
    if (st === undefined) {
      st = this.sqlite.prepare(`INSERT OR IGNORE INTO person_keys (kind, value, contact_id) VALUES ${Array.from({ length: n }, () => '(?, ?, ?)').join(', ')}`);
      this.insertKeysBy[n] = st;
    }
    return st;
  }
  private readonly insertKeysBy: Array<Statement | undefined> = [];

  /** Contacts whose customer has this key (normalised); a name may be matched by its beginning. */
  search(kind: KeyKind, value: string, prefix = false): string[] {
    const rows = prefix ? this.s.searchPrefix.all(kind, value, `${value}\uffff`, SEARCH_LIMIT) : this.s.searchExact.all(kind, value, SEARCH_LIMIT);
    return rows.map((r) => r.contact_id);
  }

  openHolds(contactIds: readonly string[]): HoldRow[] {
    return contactIds.length === 0 ? [] : this.s.openHolds.all(JSON.stringify(contactIds)).map(holdFromRaw);
  }

  holdsOf(contactIds: readonly string[]): HoldRow[] {
    return contactIds.length === 0 ? [] : this.s.holdsOf.all(JSON.stringify(contactIds)).map(holdFromRaw);
  }

  hold(id: number): HoldRow | undefined {
    const r = this.s.hold.get(id);
    return r === undefined ? undefined : holdFromRaw(r);
  }

  /** Everything that stops these contacts being erased now. */
  holdReasons(contactIds: readonly string[]): HoldReason[] {
    if (contactIds.length === 0) return [];
    const ids = JSON.stringify(contactIds);
    return holdReasonsOf(this.openHolds(contactIds), this.s.openComplaints.all(ids), this.s.openAlerts.all(ids));
  }

  placeHold(contactId: string, reason: string, by: string, at: number): number {
    return Number(this.s.placeHold.run(contactId, reason, by, at).lastInsertRowid);
  }

  releaseHold(id: number, by: string, at: number): boolean {
    return this.s.releaseHold.run(at, by, id).changes === 1;
  }

  privacyOf(contactId: string): number | undefined {
    return this.s.privacyOf.get(contactId)?.privacy;
  }

  /** The privacy stage of each contact named (one statement for a page of them); an unknown id is left out. */
  privacyOfEach(contactIds: readonly string[]): Map<string, number> {
    if (contactIds.length === 0) return new Map();
    return new Map(this.s.privacyOfEach.all(JSON.stringify(contactIds)).map((r) => [r.id, r.privacy]));
  }

  removeMessages(contactId: string, source: Record<string, unknown> | null): void {
    this.s.removeMessages.run({ id: contactId, source: source === null ? null : JSON.stringify(source) });
  }

  anonymise(contactId: string, source: Record<string, unknown> | null, at: number): void {
    this.s.anonymise.run({ id: contactId, source: source === null ? null : JSON.stringify(source), at });
    this.s.deleteKeys.run(contactId);
  }

  events(contactId: string): Array<{ id: number; type: string; body: Record<string, unknown> }> {
    return this.s.events.all(contactId).map((e) => ({ id: e.id, type: e.type, body: JSON.parse(e.body) as Record<string, unknown> }));
  }

  updateEventBody(eventId: number, body: Record<string, unknown>): void {
    this.s.updateEvent.run(JSON.stringify(body), eventId);
  }

  clockDetails(contactId: string): Array<{ rowid: number; detail: string }> {
    return this.s.clockDetails.all(contactId);
  }

  updateClockDetail(rowid: number, detail: string): void {
    this.s.updateClockDetail.run(detail, rowid);
  }

  scrubAlerts(contactId: string): void {
    this.s.scrubAlerts.run(contactId);
  }

  /** The next batch the retention schedule has due at a stage (0: messages due; 0 or 1: anonymisation due). */
  retentionBatch(stage: number, cutoff: number, after: { receivedAt: number; id: string } | null, limit: number): Array<{ id: string; receivedAt: number }> {
    return this.s.retention
      .all({ stage, cutoff, afterAt: after?.receivedAt ?? -1, afterId: after?.id ?? '', limit })
      .map((r) => ({ id: r.id, receivedAt: r.received_at }));
  }

  /**
   * The planner's sampled index keys (ANALYZE with STAT4) of the tables holding personal data are
   * dropped, so an erased email or name does not live on as a sample; the row counts (stat1) stay.
   */
  forgetSamples(): void {
    if (this.s.hasStat4.get()!.n > 0) this.sqlite.prepare("DELETE FROM sqlite_stat4 WHERE tbl IN ('contacts', 'person_keys')").run();
  }

  /** Whether any audit entry is older than `before` (a read, so a run with nothing to prune writes nothing). */
  hasAuditBefore(before: number): boolean {
    return this.s.auditBefore.get(before) !== undefined;
  }

  /**
   * After personal data is taken out: the write-ahead log's old frames (which still hold the pages as
   * they were) are checkpointed into the database and the log truncated, when no reader is in the
   * way (never waiting: busy_timeout 0 for the call). Freed space was zeroed as it was freed
   * (secure_delete, db/connection.ts).
   */
  settleFiles(): void {
    const sqlite = this.sqlite;
    if (sqlite.memory) return;
    const previous = sqlite.pragma('busy_timeout', { simple: true }) as number;
    try {
      sqlite.pragma('busy_timeout = 0');
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // busy: the log is overwritten in the normal course
    } finally {
      sqlite.pragma(`busy_timeout = ${previous}`);
    }
  }

  /** Deletes up to `limit` audit entries older than `before`, oldest first; answers how many. */
  pruneAudit(before: number, limit: number): number {
    return this.s.pruneAudit.run(before, limit).changes;
  }
}

/** The reasons, in their order: the holds, then the open complaints, then the unactioned safeguarding alerts. */
export function holdReasonsOf(holds: readonly HoldRow[], complaints: ReadonlyArray<{ id: string }>, alerts: ReadonlyArray<{ id: string }>): HoldReason[] {
  return [
    ...holds.map((h): HoldReason => ({ contactId: h.contactId, kind: 'hold', detail: h.reason })),
    ...complaints.map((r): HoldReason => ({ contactId: r.id, kind: 'open-complaint', detail: 'a complaint still open (its clock is running)' })),
    ...alerts.map((r): HoldReason => ({ contactId: r.id, kind: 'open-safeguarding-alert', detail: 'a safeguarding alert not yet actioned' })),
  ];
}

export type { Customer };
