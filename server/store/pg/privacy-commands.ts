// The privacy and report commands on PostgreSQL (issues 14, 16 and 17): anonymise-contacts,
// privacy-hold, prune-audit and publish-report, each one transaction (transaction.ts) with the SQLite
// command's outputs, errors and rows, by its own pure steps (server/commands/). What SQLite's single
// writer gave for free is explicit here, for many instances on one database:
//
// - anonymise-contacts locks the batch's contact rows (SELECT … FOR UPDATE, in id order, so two
//   batches sharing contacts never deadlock) before it reads their stage, holds and clocks: two
//   instances erasing one person take turns, the second finds the contacts anonymised and answers as
//   SQLite answers a repeat (`already`); a hold placed meanwhile waits for the row lock too (its
//   foreign key takes KEY SHARE on the contact), so no erasure passes a hold being placed;
// - publish-report takes a transaction lock on the week, so two instances publishing one week give
//   revision 1 and a 409 (or revisions 1 and 2 when regenerating), never the same revision twice.
//
// No clock changes here (anonymisation leaves statuses, instants and counted time exactly as they
// were), so none of these writes feed rows.
import type pg from 'pg';
import { erasureAudit, heldError, type AnonymiseContactsInput, type AnonymiseContactsOutput } from '../../commands/anonymise-contacts.js';
import { noContact, noHold, placedAudit, releasedAudit, type PrivacyHoldInput, type PrivacyHoldOutput } from '../../commands/privacy-hold.js';
import type { PruneAuditInput } from '../../commands/prune-audit.js';
import { publication, type PublishReportInput, type PublishReportOutput } from '../../commands/publish-report.js';
import { ANONYMISED, scrubClockDetail, scrubEventBody, scrubSource } from '../../privacy/anonymise.js';
import { recordAudit } from './command-rows.js';
import {
  anonymise, clockDetails, eventBodies, holdById, holdReasons, openHolds, placeHold, pruneAuditRows, releaseHold, removeMessages, scrubAlerts, updateClockDetail,
  updateEventBody,
} from './privacy.js';
import { publishedOf } from './reports.js';
import { inWriteTransaction, type TxClient } from './transaction.js';
import type { PgWriteFault } from './writer-faults.js';

export interface PgPrivacyCommandsOptions {
  /** KEPT_WRITE_TIMEOUT_MS: a statement waiting longer (a lock held elsewhere) is cancelled and the command answers 503. */
  timeoutMs?: number;
  /** A fault refused a command (503). */
  onFault?: (fault: PgWriteFault) => void;
}

/** The batch's contacts, locked, with what the command reads of them. */
const LOCK_CONTACTS = 'SELECT id, privacy, source FROM contacts WHERE id = ANY($1) ORDER BY id FOR UPDATE';

export class PgPrivacyCommands {
  private readonly timeoutMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PgPrivacyCommandsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Takes personal data out of a batch of contacts: as server/commands/anonymise-contacts.ts. */
  async anonymiseContacts(c: AnonymiseContactsInput): Promise<AnonymiseContactsOutput> {
    const out = await this.anonymiseIn(c);
    if (out.changed > 0 && c.mode === 'erasure') await forgetSamples(this.pool);
    return out;
  }

  private anonymiseIn(c: AnonymiseContactsInput): Promise<AnonymiseContactsOutput> {
    return this.run(async (tx) => {
      const locked = await tx.query<{ id: string; privacy: number; source: string | null }>(LOCK_CONTACTS, [c.contactIds]);
      const rows = new Map(locked.rows.map((r) => [r.id, r]));
      if (c.mode === 'erasure') {
        const holds = await holdReasons(tx, c.contactIds);
        if (holds.length > 0) throw heldError(holds);
      }
      let changed = 0;
      let already = 0;
      let skipped = 0;
      for (const id of c.contactIds) {
        const row = rows.get(id);
        if (row === undefined) continue;
        if (row.privacy >= c.level) {
          already++;
          continue;
        }
        if (c.mode === 'retention' && ((await openHolds(tx, [id])).length > 0 || (await hasOpenClock(tx, id)))) {
          skipped++;
          continue;
        }
        for (const e of await eventBodies(tx, id)) {
          const body = scrubEventBody(e.type, e.body);
          if (body !== null) await updateEventBody(tx, e.id, body);
        }
        for (const k of await clockDetails(tx, id)) {
          const detail = scrubClockDetail(k.detail);
          if (detail !== null) await updateClockDetail(tx, id, k.standard, detail);
        }
        await scrubAlerts(tx, id);
        const source = scrubSource(row.source === null ? null : (JSON.parse(row.source) as Record<string, unknown>), c.level);
        if (c.level === ANONYMISED) await anonymise(tx, id, source, c.now);
        else await removeMessages(tx, id, source);
        // The same id again in this batch is a repeat, as on SQLite.
        rows.set(id, { ...row, privacy: c.level, source: source === null ? null : JSON.stringify(source) });
        changed++;
      }
      const audit = erasureAudit(c, changed, already);
      if (audit !== null) await recordAudit(tx, c.now, c.actor, 'privacy.erase', audit);
      return { changed, already, skipped };
    });
  }

  /** Places a legal hold on contacts, or releases one: as server/commands/privacy-hold.ts. */
  privacyHold(c: PrivacyHoldInput): Promise<PrivacyHoldOutput> {
    return this.run(async (tx) => {
      if (c.action === 'place') {
        const found = new Set((await tx.query<{ id: string }>('SELECT id FROM contacts WHERE id = ANY($1)', [c.contactIds])).rows.map((r) => r.id));
        for (const id of c.contactIds) if (!found.has(id)) throw noContact(id);
        const holdIds: number[] = [];
        for (const id of c.contactIds) holdIds.push(await placeHold(tx, id, c.reason, c.actor, c.now));
        await recordAudit(tx, c.now, c.actor, 'privacy.hold', placedAudit(c, holdIds));
        return { holdIds, released: false };
      }
      const hold = await holdById(tx, c.holdId);
      if (hold === undefined) throw noHold(c.holdId);
      const released = await releaseHold(tx, c.holdId, c.actor, c.now);
      if (released) await recordAudit(tx, c.now, c.actor, 'privacy.release', releasedAudit(c.holdId, hold.contactId));
      return { holdIds: [c.holdId], released };
    });
  }

  /** Deletes one batch of audit entries older than the schedule keeps them: as server/commands/prune-audit.ts. */
  pruneAudit(c: PruneAuditInput): Promise<{ deleted: number }> {
    return this.run(async (tx) => ({ deleted: await pruneAuditRows(tx, c.before, c.limit) }));
  }

  /** Publishes a week's report (or a new revision of it): as server/commands/publish-report.ts, the week locked. */
  publishReport(c: PublishReportInput): Promise<PublishReportOutput> {
    return this.run(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('kept.published_reports'), hashtext($1))", [c.week]);
      const p = publication((await publishedOf(tx, c.week)) ?? null, c);
      const r = p.row;
      await tx.query('INSERT INTO published_reports (week, revision, published_at, published_by, reason, report) VALUES ($1, $2, $3, $4, $5, $6)', [
        r.week, r.revision, r.publishedAt, r.publishedBy, r.reason, r.report,
      ]);
      await recordAudit(tx, c.now, c.actor, p.audit.action, p.audit.detail);
      return p.output;
    });
  }

  private run<T>(work: (tx: TxClient) => Promise<T>): Promise<T> {
    return inWriteTransaction(this.pool, { timeoutMs: this.timeoutMs, calendarLock: 'shared', ...(this.options.onFault ? { onFault: this.options.onFault } : {}) }, work);
  }
}

/**
 * SQLite's forgetSamples on PostgreSQL: the planner's statistics of the tables holding personal data
 * (pg_statistic's most common values) are sampled again after an erasure commits, so an erased email
 * or name does not live on as a sample. After COMMIT and outside the transaction (ANALYZE blocks no
 * reads or writes); the erasure stands whatever it answers. The retention schedule's batches leave it
 * to autovacuum's own ANALYZE (a nightly walk of many batches would sample the tables over and over).
 */
async function forgetSamples(pool: pg.Pool): Promise<void> {
  await pool.query('ANALYZE contacts, person_keys').catch(() => undefined);
}

async function hasOpenClock(tx: TxClient, contactId: string): Promise<boolean> {
  return ((await tx.query('SELECT 1 FROM clocks WHERE contact_id = $1 AND open LIMIT 1', [contactId])).rowCount ?? 0) > 0;
}
