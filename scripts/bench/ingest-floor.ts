// The floor under bench:ingest's CPU figure: the very rows Kept stored for the measured contacts
// (contact, events, clocks, person keys, audit entry), read from Kept's own file beforehand and written
// into a fresh one made by the same migrations, in transactions of as many contacts as Kept's group
// commit put in one COMMIT, with WAL and synchronous=FULL — and nothing else: no HTTP, no validation,
// no clock engine, no thread hop, one prepared INSERT per row. What that costs per contact is what any
// implementation storing the same rows durably pays before it does anything else. Measured twice in the
// same run: with the person keys (issue 17: a customer's email, phone, reference, name and its words,
// each a row keyed by its value) and without them.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/connection.js';

export interface FloorFigures {
  contacts: number;
  /** Rows per contact in Kept's file: events, clocks, person keys, audit entries. */
  perContact: { events: number; clocks: number; personKeys: number; audit: number };
  perCommit: number;
  /** CPU (user + system) of this process per contact, µs. */
  withKeysUs: number;
  withoutKeysUs: number;
}

/** The contacts Kept stored with external ids starting `prefix-` (not the warm-up's), re-stored `perCommit` at a time. */
export function measureFloor(keptFile: string, prefix: string, perCommit: number): FloorFigures {
  // The server was stopped without closing its file: its rows are in the WAL. Moved into the file first,
  // so the copy reads them as any table is read (not through a WAL of every page the run wrote).
  const owner = new Database(keptFile);
  owner.pragma('wal_checkpoint(TRUNCATE)');
  owner.close();
  const source = new Database(keptFile, { readonly: true });
  const contacts = source
    .prepare<[string, string], { rowid: number; id: string }>('SELECT rowid, id FROM contacts WHERE external_id LIKE ? AND external_id NOT LIKE ? ORDER BY rowid')
    .all(`${prefix}-%`, `${prefix}-warm-%`);
  // Each created contact's audit entry, found beforehand (it names the contact in its detail).
  const auditOf = new Map(
    source
      .prepare<[], { id: number; contactId: string }>("SELECT id, json_extract(detail, '$.contactId') AS contactId FROM audit WHERE action = 'contact.create'")
      .all()
      .map((a) => [a.contactId, a.id]),
  );
  const count = (sql: string) => source.prepare<[], number>(sql).pluck().get()!;
  const all = count('SELECT COUNT(*) FROM contacts');
  const perContact = {
    events: count('SELECT COUNT(*) FROM events') / all,
    clocks: count('SELECT COUNT(*) FROM clocks') / all,
    personKeys: count('SELECT COUNT(*) FROM person_keys') / all,
    audit: count("SELECT COUNT(*) FROM audit WHERE action = 'contact.create'") / all,
  };
  // Each batch's rows read beforehand, as arrays in column order (the writer has its rows in memory
  // too): the measured loop only writes. Events' and the audit's ids (autoincrement) are left to the
  // new file. Each read is given the batch's contact rowids, or for the audit its entries' ids.
  const IDS = 'IN (SELECT value FROM json_each(?))';
  const tables = [
    { name: 'contacts', from: `contacts x WHERE x.rowid ${IDS}`, ownId: false },
    { name: 'events', from: `contacts c CROSS JOIN events x ON x.contact_id = c.id WHERE c.rowid ${IDS}`, ownId: true },
    { name: 'clocks', from: `contacts c CROSS JOIN clocks x ON x.contact_id = c.id WHERE c.rowid ${IDS}`, ownId: false },
    { name: 'person_keys', from: `contacts c CROSS JOIN person_keys x ON x.contact_id = c.id WHERE c.rowid ${IDS}`, ownId: false },
    { name: 'audit', from: `audit x WHERE x.id ${IDS}`, ownId: true },
  ].map((t) => {
    const columns = (source.prepare(`PRAGMA table_info(${t.name})`).all() as Array<{ name: string }>).map((c) => c.name).filter((c) => !(t.ownId && c === 'id'));
    return { name: t.name, columns, read: source.prepare(`SELECT ${columns.map((c) => `x.${c}`).join(', ')} FROM ${t.from}`).raw(true) };
  });
  const batches: Array<Map<string, unknown[][]>> = [];
  for (let i = 0; i < contacts.length; i += perCommit) {
    const some = contacts.slice(i, i + perCommit);
    const ids = JSON.stringify(some.map((c) => c.rowid));
    const audits = JSON.stringify(some.flatMap((c) => auditOf.get(c.id) ?? []));
    batches.push(new Map(tables.map((t) => [t.name, t.read.all(t.name === 'audit' ? audits : ids) as unknown[][]])));
  }
  source.close();
  const run = (withKeys: boolean): number => {
    const dir = mkdtempSync(join(tmpdir(), 'kept-floor-'));
    const { sqlite } = openDatabase(join(dir, 'floor.db'));
    try {
      const inserts = tables
        .filter((t) => withKeys || t.name !== 'person_keys')
        .map((t) => ({ name: t.name, st: sqlite.prepare(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`) }));
      const batch = sqlite.transaction((rows: Map<string, unknown[][]>) => {
        for (const { name, st } of inserts) for (const r of rows.get(name)!) st.run(r);
      });
      const before = process.cpuUsage();
      for (const b of batches) batch(b);
      const used = process.cpuUsage(before);
      const stored = sqlite.prepare<[], number>('SELECT COUNT(*) FROM contacts').pluck().get()!;
      if (stored !== contacts.length) throw new Error(`floor: ${stored} contacts stored of ${contacts.length}`);
      return (used.user + used.system) / contacts.length;
    } finally {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // Without, with, without, with: the two halves of each figure under the same neighbours.
  const without = [run(false)];
  const withKeys = [run(true)];
  without.push(run(false));
  withKeys.push(run(true));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { contacts: contacts.length, perContact, perCommit, withKeysUs: mean(withKeys), withoutKeysUs: mean(without) };
}
