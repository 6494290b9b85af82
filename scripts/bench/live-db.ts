// Bench helper: a Kept database with many running contacts, written in big transactions straight
// through the stores (the same rows IngestService writes: contact, clocks from the real engine).
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { openDatabase } from '../../db/connection.js';
import { evaluateContact } from '../../server/domain/clocks.js';
import type { Channel, Contact, Route } from '../../server/domain/model.js';
import { packInForce } from '../../server/domain/standards.js';
import { IngestService } from '../../server/ingest/service.js';
import { ContactStore, type ContactRow } from '../../server/store/contacts.js';
import { TokenStore } from '../../server/store/tokens.js';

export interface SeedContact {
  channel: Channel;
  route: Route;
  receivedAt: number;
}

/** Creates `file` afresh with `n` contacts from `spec(i)` and an API token; returns the token. */
export function buildDatabase(file: string, n: number, spec: (i: number) => SeedContact, now = Date.now()): { token: string; ms: number } {
  const started = performance.now();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const connection = openDatabase(file);
  try {
    const service = new IngestService(connection);
    const token = new TokenStore(connection.sqlite).create('bench', now);
    const store = new ContactStore(connection.sqlite);
    const calendars = service.calendars;
    const BATCH = 20_000;
    for (let from = 0; from < n; from += BATCH) {
      connection.sqlite.transaction(() => {
        for (let i = from; i < Math.min(n, from + BATCH); i++) {
          const s = spec(i);
          const id = randomUUID();
          const contact: Contact = { id, channel: s.channel, route: s.route, category: 'general', receivedAt: s.receivedAt, events: [] };
          const result = evaluateContact(contact, packInForce('livewest', s.receivedAt), calendars, now);
          const row: ContactRow = {
            id,
            channel: s.channel,
            route: s.route,
            category: 'general',
            initialCategory: 'general',
            externalId: `bench-${i}`,
            receivedAt: s.receivedAt,
            packFamily: 'livewest',
            customer: { name: `Customer ${i}` },
            subject: 'Bench contact',
            summary: null,
            assignee: null,
            callback: false,
            contentHash: id,
            source: null,
            createdAt: now,
            updatedAt: now,
          };
          store.insertContact(row);
          store.replaceClocks(id, result.clocks, now);
        }
      })();
    }
    connection.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return { token, ms: performance.now() - started };
  } finally {
    connection.close();
  }
}
