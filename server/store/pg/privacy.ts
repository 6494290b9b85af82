// Personal data on PostgreSQL (issues 14 and 17): PrivacyReads (../ports.ts) with the SQLite
// PrivacyStore's answers (server/store/privacy.ts), and the row writes its commands make on a
// connection the caller holds in a transaction (server/store/pg/privacy-commands.ts). A person's keys
// are found by one seek, or one range, of person_keys' primary key (kind, value, contact_id): linear in
// what is found, whatever the size of the table. The prefix range compares as the database's collation
// does; Kept's databases are created C.UTF-8 (code point order, as SQLite's), where it is exact.
import type { KeyKind, PersonKey } from '../../privacy/keys.js';
import type { PrivacyReads } from '../ports.js';
import { holdFromRaw as holdFromPg, holdReasonsOf, SEARCH_LIMIT, type HoldReason, type HoldRow, type RawHold } from '../privacy.js';
import type { Queryable } from './contacts.js';
import { bindNamed } from './reports.js';

/** The statements by name, for EXPLAIN in the tests (each an index seek or range). */
export const PG_PRIVACY_SQL = {
  searchExact: 'SELECT DISTINCT contact_id FROM person_keys WHERE kind = $1 AND value = $2 ORDER BY contact_id LIMIT $3',
  // SQLite's order: each contact where the key's walk first meets it (its least matching value).
  searchPrefix: 'SELECT contact_id FROM person_keys WHERE kind = $1 AND value >= $2 AND value < $3 GROUP BY contact_id ORDER BY MIN(value), contact_id LIMIT $4',
  // The retention walk: contacts at one stage received before the cutoff, oldest first, from a cursor
  // (contacts_privacy_pending); each tested on its own keys (its clocks' and events' keys, its holds).
  retention: `SELECT c.id, c.received_at FROM contacts c
    WHERE c.privacy = @stage AND c.privacy < 2 AND c.received_at < @cutoff AND (c.received_at, c.id) > (@afterAt, @afterId)
      AND NOT EXISTS (SELECT 1 FROM clocks k WHERE k.contact_id = c.id AND k.open)
      AND COALESCE((SELECT MAX(k.ended_at) FROM clocks k WHERE k.contact_id = c.id), 0) < @cutoff
      AND COALESCE((SELECT MAX(e.at) FROM events e WHERE e.contact_id = c.id), 0) < @cutoff
      AND NOT EXISTS (SELECT 1 FROM privacy_holds h WHERE h.contact_id = c.id AND h.released_at IS NULL)
    ORDER BY c.received_at, c.id LIMIT @limit`,
  openHolds: 'SELECT * FROM privacy_holds WHERE contact_id = ANY($1) AND released_at IS NULL ORDER BY id',
  holdsOf: 'SELECT * FROM privacy_holds WHERE contact_id = ANY($1) ORDER BY id',
  openComplaints: `SELECT DISTINCT k.contact_id AS id FROM clocks k JOIN contacts c ON c.id = k.contact_id
    WHERE k.contact_id = ANY($1) AND k.open AND (c.category = 'complaint' OR c.initial_category = 'complaint' OR k.standard LIKE '%complaint%') ORDER BY 1`,
  openAlerts: 'SELECT DISTINCT contact_id AS id FROM alerts WHERE contact_id = ANY($1) AND actioned_at IS NULL ORDER BY 1',
  auditBefore: 'SELECT id FROM audit WHERE at < $1 LIMIT 1',
  // Oldest first, ties in id order (SQLite's walk of audit_at, whose key ends in the rowid).
  pruneAudit: 'DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 ORDER BY at, id LIMIT $2)',
} as const;

export class PgPrivacyReads implements PrivacyReads {
  constructor(private readonly db: Queryable) {}

  /** Contacts whose customer has this key (normalised); a name may be matched by its beginning. */
  async search(kind: KeyKind, value: string, prefix = false): Promise<string[]> {
    const r = prefix
      ? await this.db.query<{ contact_id: string }>(PG_PRIVACY_SQL.searchPrefix, [kind, value, `${value}\uffff`, SEARCH_LIMIT])
      : await this.db.query<{ contact_id: string }>(PG_PRIVACY_SQL.searchExact, [kind, value, SEARCH_LIMIT]);
    return r.rows.map((x) => x.contact_id);
  }

  openHolds(contactIds: readonly string[]): Promise<HoldRow[]> {
    return openHolds(this.db, contactIds);
  }

  async holdsOf(contactIds: readonly string[]): Promise<HoldRow[]> {
    if (contactIds.length === 0) return [];
    return (await this.db.query<RawHold>(PG_PRIVACY_SQL.holdsOf, [contactIds])).rows.map(holdFromPg);
  }

  hold(id: number): Promise<HoldRow | undefined> {
    return holdById(this.db, id);
  }

  holdReasons(contactIds: readonly string[]): Promise<HoldReason[]> {
    return holdReasons(this.db, contactIds);
  }

  async privacyOf(contactId: string): Promise<number | undefined> {
    return (await this.db.query<{ privacy: number }>('SELECT privacy FROM contacts WHERE id = $1', [contactId])).rows[0]?.privacy;
  }

  /** The privacy stage of each contact named (one statement for a page of them); an unknown id is left out. */
  async privacyOfEach(contactIds: readonly string[]): Promise<Map<string, number>> {
    if (contactIds.length === 0) return new Map();
    const r = await this.db.query<{ id: string; privacy: number }>('SELECT id, privacy FROM contacts WHERE id = ANY($1)', [contactIds]);
    return new Map(r.rows.map((x) => [x.id, x.privacy]));
  }

  /** The next batch the retention schedule has due at a stage (0: messages due; 0 or 1: anonymisation due). */
  async retentionBatch(stage: number, cutoff: number, after: { receivedAt: number; id: string } | null, limit: number): Promise<Array<{ id: string; receivedAt: number }>> {
    const { text, values } = bindNamed(PG_PRIVACY_SQL.retention, { stage, cutoff, afterAt: after?.receivedAt ?? -1, afterId: after?.id ?? '', limit });
    return (await this.db.query<{ id: string; received_at: number }>(text, values)).rows.map((r) => ({ id: r.id, receivedAt: r.received_at }));
  }

  async hasAuditBefore(before: number): Promise<boolean> {
    return ((await this.db.query(PG_PRIVACY_SQL.auditBefore, [before])).rowCount ?? 0) > 0;
  }

  /**
   * SQLite's settleFiles has nothing to do here: PostgreSQL recycles its own write-ahead log after its
   * checkpoints (forcing one needs a superuser or pg_checkpoint, which Kept's role is not given), and
   * the erased rows' old versions go with (auto)vacuum. The erasure's ANALYZE is the command's
   * (server/store/pg/privacy-commands.ts).
   */
  async settleFiles(): Promise<void> {}
}

// ---- Row reads and writes on a connection the caller holds (the commands' steps, and create's keys)

/** A contact's keys, written with it (as PrivacyStore.insertKeys: a key already there is kept). */
export async function insertPersonKeys(db: Queryable, contactId: string, keys: readonly PersonKey[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    'INSERT INTO person_keys (kind, value, contact_id) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v) ON CONFLICT DO NOTHING',
    [keys.map((k) => k.kind), keys.map((k) => k.value), contactId],
  );
}

export async function openHolds(db: Queryable, contactIds: readonly string[]): Promise<HoldRow[]> {
  if (contactIds.length === 0) return [];
  return (await db.query<RawHold>(PG_PRIVACY_SQL.openHolds, [contactIds])).rows.map(holdFromPg);
}

export async function holdById(db: Queryable, id: number): Promise<HoldRow | undefined> {
  const r = (await db.query<RawHold>('SELECT * FROM privacy_holds WHERE id = $1', [id])).rows[0];
  return r === undefined ? undefined : holdFromPg(r);
}

/** Everything that stops these contacts being erased now (as PrivacyStore.holdReasons, in its order). */
export async function holdReasons(db: Queryable, contactIds: readonly string[]): Promise<HoldReason[]> {
  if (contactIds.length === 0) return [];
  const complaints = await db.query<{ id: string }>(PG_PRIVACY_SQL.openComplaints, [contactIds]);
  const alerts = await db.query<{ id: string }>(PG_PRIVACY_SQL.openAlerts, [contactIds]);
  return holdReasonsOf(await openHolds(db, contactIds), complaints.rows, alerts.rows);
}

export async function placeHold(db: Queryable, contactId: string, reason: string, by: string, at: number): Promise<number> {
  const r = await db.query<{ id: number }>('INSERT INTO privacy_holds (contact_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4) RETURNING id', [contactId, reason, by, at]);
  return r.rows[0]!.id;
}

export async function releaseHold(db: Queryable, id: number, by: string, at: number): Promise<boolean> {
  return ((await db.query('UPDATE privacy_holds SET released_at = $1, released_by = $2 WHERE id = $3 AND released_at IS NULL', [at, by, id])).rowCount ?? 0) === 1;
}

export async function removeMessages(db: Queryable, contactId: string, source: Record<string, unknown> | null): Promise<void> {
  await db.query('UPDATE contacts SET subject = NULL, summary = NULL, source = $2, privacy = 1 WHERE id = $1', [contactId, source === null ? null : JSON.stringify(source)]);
}

/** Everything personal out of the contact's row, and its keys deleted (a replay of the old message is a new contact). */
export async function anonymise(db: Queryable, contactId: string, source: Record<string, unknown> | null, at: number): Promise<void> {
  await db.query(
    "UPDATE contacts SET customer = NULL, subject = NULL, summary = NULL, source = $2, external_id = NULL, content_hash = 'anonymised', privacy = 2, anonymised_at = $3 WHERE id = $1",
    [contactId, source === null ? null : JSON.stringify(source), at],
  );
  await db.query('DELETE FROM person_keys WHERE contact_id = $1', [contactId]);
}

export async function eventBodies(db: Queryable, contactId: string): Promise<Array<{ id: number; type: string; body: Record<string, unknown> }>> {
  const r = await db.query<{ id: number; type: string; body: string }>('SELECT id, type, body FROM events WHERE contact_id = $1 ORDER BY seq', [contactId]);
  return r.rows.map((e) => ({ id: e.id, type: e.type, body: JSON.parse(e.body) as Record<string, unknown> }));
}

export async function updateEventBody(db: Queryable, eventId: number, body: Record<string, unknown>): Promise<void> {
  await db.query('UPDATE events SET body = $1 WHERE id = $2', [JSON.stringify(body), eventId]);
}

/** A contact's clocks' details, each by its key (PostgreSQL has no rowid: the standard names the clock). */
export async function clockDetails(db: Queryable, contactId: string): Promise<Array<{ standard: string; detail: string }>> {
  return (await db.query<{ standard: string; detail: string }>('SELECT standard, detail FROM clocks WHERE contact_id = $1', [contactId])).rows;
}

export async function updateClockDetail(db: Queryable, contactId: string, standard: string, detail: string): Promise<void> {
  await db.query('UPDATE clocks SET detail = $1 WHERE contact_id = $2 AND standard = $3', [detail, contactId, standard]);
}

export async function scrubAlerts(db: Queryable, contactId: string): Promise<void> {
  await db.query("UPDATE alerts SET note = NULL, action = CASE WHEN action IS NULL THEN NULL ELSE 'removed' END WHERE contact_id = $1 AND (note IS NOT NULL OR action IS NOT NULL)", [contactId]);
}

/** Deletes up to `limit` audit entries older than `before`, oldest first; answers how many. */
export async function pruneAuditRows(db: Queryable, before: number, limit: number): Promise<number> {
  return (await db.query(PG_PRIVACY_SQL.pruneAudit, [before, limit])).rowCount ?? 0;
}
