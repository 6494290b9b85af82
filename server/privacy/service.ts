// One person's data (issue 17): found by a normalised key, exported whole (subject access), erased
// on request. Reads through the stores' ports (server/store/stores.ts: SQLite or PostgreSQL); writes
// are commands on the writer (anonymise-contacts, privacy-hold). The routes audit every search, export
// and erasure.
import { randomUUID } from 'node:crypto';
import { heldError } from '../commands/anonymise-contacts.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { IngestService } from '../ingest/service.js';
import type { PrivacyReads } from '../store/ports.js';
import type { HoldReason, HoldRow } from '../store/privacy.js';
import type { AlertRow } from '../store/queue.js';
import { KEY_KINDS, normalise, type KeyKind } from './keys.js';
import { presentExport, type SubjectAccessExport } from './present.js';

export interface PersonQuery {
  kind: KeyKind;
  value: string;
}

export interface PersonContact {
  id: string;
  channel: string;
  route: string;
  category: string;
  receivedAt: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  reference: string | null;
  subject: string | null;
  /** 0 as received, 1 messages removed, 2 anonymised. */
  privacy: number;
  open: boolean;
  holds: Array<{ id: number; reason: string; placedBy: string; placedAt: string }>;
  /** What would stop an erasure now (holds, an open complaint, an unactioned safeguarding alert). */
  erasureBlockedBy: HoldReason[];
}

/** Contacts an erasure or export may name at once; an erasure is written this many per transaction. */
export const MAX_CONTACTS = 5000;
export const ERASURE_BATCH = 100;

const iso = (ms: number) => new Date(ms).toISOString();

export class PrivacyService {
  readonly store: PrivacyReads;

  constructor(private readonly ingest: IngestService) {
    this.store = ingest.stores.privacy;
  }

  /** Normalises the value; a name matches whole names and words by their beginning. */
  async search(q: PersonQuery): Promise<PersonContact[]> {
    if (!KEY_KINDS.includes(q.kind)) throw new ValidationError('kind', `must be one of ${KEY_KINDS.join(', ')}`);
    const value = normalise(q.kind, q.value);
    if (value === null) throw new ValidationError('value', q.kind === 'phone' ? 'is not a phone number (at least 6 digits)' : 'must not be empty');
    if (q.kind === 'name' && value.length < 2) throw new ValidationError('value', 'a name needs at least 2 letters');
    const ids = await this.store.search(q.kind, value, q.kind === 'name');
    return this.describe(ids);
  }

  /** The contacts named, as the search lists them (newest first). */
  async describe(ids: readonly string[]): Promise<PersonContact[]> {
    const rows = (await this.ingest.contacts.byIds(ids)).sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : -1));
    const found = rows.map((r) => r.id);
    // Four reads of the same contacts, none waiting on another (PostgreSQL: side by side on the pool).
    const [clocks, openHolds, reasons, privacy] = await Promise.all([
      this.ingest.contacts.clocksOf(found),
      this.store.openHolds(found),
      this.store.holdReasons(found),
      this.store.privacyOfEach(found),
    ]);
    const holds = new Map<string, HoldRow[]>();
    for (const h of openHolds) holds.set(h.contactId, [...(holds.get(h.contactId) ?? []), h]);
    const blocked = new Map<string, HoldReason[]>();
    for (const b of reasons) blocked.set(b.contactId, [...(blocked.get(b.contactId) ?? []), b]);
    return rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      route: r.route,
      category: r.category,
      receivedAt: iso(r.receivedAt),
      name: r.customer?.name ?? null,
      email: r.customer?.email ?? null,
      phone: r.customer?.phone ?? null,
      reference: r.customer?.reference ?? null,
      subject: r.subject,
      privacy: privacy.get(r.id) ?? 0,
      open: (clocks.get(r.id) ?? []).some((k) => k.open),
      holds: (holds.get(r.id) ?? []).map((h) => ({ id: h.id, reason: h.reason, placedBy: h.placedBy, placedAt: iso(h.placedAt) })),
      erasureBlockedBy: blocked.get(r.id) ?? [],
    }));
  }

  private async known(contactIds: readonly string[]): Promise<string[]> {
    const ids = [...new Set(contactIds)];
    if (ids.length === 0) throw new ValidationError('contactIds', 'must name at least one contact');
    if (ids.length > MAX_CONTACTS) throw new ValidationError('contactIds', `at most ${MAX_CONTACTS} contacts at once`);
    const found = new Set((await this.ingest.contacts.byIds(ids)).map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new NotFoundError(`no contact with id "${missing[0]}"`, 'contactIds');
    return ids;
  }

  /** Everything Kept holds on these contacts: the subject access export (present.ts draws it as HTML). */
  async exportContacts(contactIds: readonly string[], by: string): Promise<SubjectAccessExport> {
    const ids = await this.known(contactIds);
    const now = this.ingest.now();
    const rows = await this.ingest.contacts.byIds(ids);
    const [views, alerts, holds, privacy] = await Promise.all([
      this.ingest.views(rows, now),
      this.alertsOf(ids),
      this.store.holdsOf(ids),
      this.store.privacyOfEach(ids),
    ]);
    return presentExport({
      generatedAt: now,
      generatedBy: by,
      views,
      alerts,
      holds,
      privacy: new Map(ids.map((id) => [id, privacy.get(id) ?? 0])),
    });
  }

  /**
   * Every alert of each contact: the queue's port reads one contact at a time, so one after another
   * (an export names up to MAX_CONTACTS; on PostgreSQL they would otherwise take the whole pool).
   */
  private async alertsOf(ids: readonly string[]): Promise<Map<string, AlertRow[]>> {
    const out = new Map<string, AlertRow[]>();
    for (const id of ids) out.set(id, await this.ingest.queue.alertsOf(id));
    return out;
  }

  /**
   * Erases (anonymises) these contacts: refused as a whole (409 legal-hold) while any is held; then
   * written in batches, each its own transaction (and its own audit entry, one request id).
   */
  async erase(input: { contactIds: readonly string[]; reason: string; approvedBy: string; actor: string }): Promise<{ request: string; anonymised: number; alreadyAnonymised: number }> {
    const ids = await this.known(input.contactIds);
    const holds = await this.store.holdReasons(ids);
    if (holds.length > 0) {
      // The command checks again in its transaction; refusing here writes nothing at all.
      throw heldError(holds);
    }
    const request = randomUUID();
    const batches = Math.ceil(ids.length / ERASURE_BATCH);
    let anonymised = 0;
    let already = 0;
    for (let b = 0; b < batches; b++) {
      const batch = ids.slice(b * ERASURE_BATCH, (b + 1) * ERASURE_BATCH);
      const out = await this.ingest.writer.run('anonymise-contacts', {
        now: this.ingest.now(),
        contactIds: batch,
        level: 2,
        mode: 'erasure',
        actor: input.actor,
        erasure: { reason: input.reason, approvedBy: input.approvedBy, request, batch: b + 1, batches },
      });
      anonymised += out.changed;
      already += out.already;
    }
    await this.store.settleFiles();
    return { request, anonymised, alreadyAnonymised: already };
  }

  async placeHold(contactIds: readonly string[], reason: string, actor: string): Promise<{ holdIds: number[] }> {
    const ids = await this.known(contactIds);
    return this.ingest.writer.run('privacy-hold', { now: this.ingest.now(), action: 'place', contactIds: ids, reason, actor });
  }

  releaseHold(holdId: number, actor: string): Promise<{ released: boolean }> {
    return this.ingest.writer.run('privacy-hold', { now: this.ingest.now(), action: 'release', holdId, actor });
  }
}
