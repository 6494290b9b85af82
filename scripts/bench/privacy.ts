// `npm run bench:privacy`: finding one person (issue 17) on a year of contacts. Builds (and caches as
// data/bench/privacy-<n>.db) a database of `--contacts` contacts with the customers of the reads
// benchmark's year (scripts/bench/reads-db.ts: fictional names, example.com addresses, 07700 9xxxxx
// numbers), written as contact rows and person keys directly (no events or clocks: the search reads
// neither). Then times, on that file:
//   - the migration's backfill of person_keys (db/migrations/*_privacy.sql) from the contacts' JSON;
//   - searches by phone (in another format than stored), email, tenancy reference, whole name, and a
//     name's beginning (500 rows at most), each with the found contacts read by id, as the API does;
//   - for comparison, one search the way it would go without the keys (a scan of every contact's JSON);
//   - one batch (500) of the retention job's walk.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../db/connection.js';
import { normalise, personKeys, type KeyKind } from '../../server/privacy/keys.js';
import { ContactStore } from '../../server/store/contacts.js';
import { PrivacyStore } from '../../server/store/privacy.js';
import { yearOfContacts } from './reads-db.js';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { contacts: { type: 'string', default: '1000000' }, rebuild: { type: 'boolean', default: false }, samples: { type: 'string', default: '200' } } });
const N = Number(values.contacts);
const SAMPLES = Number(values.samples);
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0);
const dir = join(ROOT, 'data', 'bench');
mkdirSync(dir, { recursive: true, mode: 0o700 });
const file = join(dir, `privacy-${N}.db`);
const log = (s: string) => process.stdout.write(`${s}\n`);
const ms = (t0: number) => performance.now() - t0;

if (values.rebuild || !existsSync(file)) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const t0 = performance.now();
  const c = openDatabase(file);
  c.sqlite.pragma('synchronous = OFF');
  c.sqlite.pragma('cache_size = -262144');
  const privacy = new PrivacyStore(c.sqlite);
  const insert = c.sqlite.prepare(
    `INSERT INTO contacts (id, channel, route, category, initial_category, external_id, received_at, pack_family, customer, subject, summary, content_hash, source, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'livewest', ?, ?, ?, 'bench', ?, ?, ?)`,
  );
  let n = 0;
  let batch: Array<() => void> = [];
  const flush = c.sqlite.transaction((fs: Array<() => void>) => fs.forEach((f) => f()));
  for (const input of yearOfContacts({ contacts: N, seed: 17, now: NOW })) {
    const id = `c${String(n++).padStart(8, '0')}`;
    const at = Date.parse(input.receivedAt);
    batch.push(() => {
      insert.run(id, input.channel, input.route ?? 'customer-services', input.category ?? 'general', input.category ?? 'general', input.externalId ?? null, at, JSON.stringify(input.customer ?? null), input.subject ?? null, input.summary ?? null, JSON.stringify(input.source ?? null), at, at);
      privacy.insertKeys(id, personKeys(input.customer));
    });
    if (batch.length === 20_000) {
      flush(batch);
      batch = [];
      if (n % 200_000 === 0) log(`  built ${n} contacts`);
    }
  }
  flush(batch);
  c.sqlite.exec('ANALYZE');
  c.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  c.close();
  log(`built ${n} contacts in ${(ms(t0) / 1000).toFixed(1)} s`);
}

const c = openDatabase(file);
const sqlite = c.sqlite;
const count = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n;
log(`database: ${count('SELECT COUNT(*) AS n FROM contacts')} contacts, ${count('SELECT COUNT(*) AS n FROM person_keys')} person keys, ${(count('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()') / 1e6).toFixed(0)} MB`);

// The migration's backfill, timed on this file (inside a transaction that is rolled back).
{
  const folder = join(ROOT, 'db/migrations');
  const sql = readFileSync(join(folder, readdirSync(folder).find((f) => f.endsWith('_privacy.sql'))!), 'utf8');
  const statements = sql.slice(sql.indexOf('-- Backfill')).split('--> statement-breakpoint');
  sqlite.exec('BEGIN');
  const before = count('SELECT COUNT(*) AS n FROM person_keys');
  sqlite.exec('DELETE FROM person_keys');
  const t0 = performance.now();
  for (const s of statements) sqlite.exec(s);
  const took = ms(t0);
  const after = count('SELECT COUNT(*) AS n FROM person_keys');
  sqlite.exec('ROLLBACK');
  log(`migration backfill: ${after} keys (the writes made ${before}) in ${(took / 1000).toFixed(1)} s`);
}

const privacy = new PrivacyStore(sqlite);
const contacts = new ContactStore(sqlite);
// Sample people: contacts spread over the file, each searched by every key it has.
const ids = sqlite.prepare(`SELECT id, customer FROM contacts WHERE rowid % ? = 0 LIMIT ?`).all(Math.max(1, Math.floor(N / SAMPLES)), SAMPLES) as Array<{ id: string; customer: string }>;
type Sample = { kind: KeyKind; typed: string; prefix?: boolean };
const samples: Sample[] = [];
for (const r of ids) {
  const cu = JSON.parse(r.customer) as { name: string; email?: string; phone?: string; reference: string };
  if (cu.phone !== undefined) samples.push({ kind: 'phone', typed: `+44 ${cu.phone.slice(1)}` }); // another format than stored
  if (cu.email !== undefined) samples.push({ kind: 'email', typed: cu.email.toUpperCase() });
  samples.push({ kind: 'reference', typed: cu.reference.toLowerCase() });
  samples.push({ kind: 'name', typed: cu.name });
  samples.push({ kind: 'name', typed: cu.name.split(' ')[1]!.slice(0, 3), prefix: true });
}
const times = new Map<string, number[]>();
const found = new Map<string, number[]>();
for (let round = 0; round < 2; round++) {
  for (const s of samples) {
    const t0 = performance.now();
    const value = normalise(s.kind, s.typed)!;
    const hits = privacy.search(s.kind, value, s.kind === 'name');
    const rows = contacts.byIds(hits);
    const took = ms(t0);
    if (round === 0) continue; // the first round warms the cache
    const key = s.prefix ? 'name (beginning)' : s.kind;
    times.set(key, [...(times.get(key) ?? []), took]);
    found.set(key, [...(found.get(key) ?? []), rows.length]);
  }
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
for (const [k, xs] of times) {
  const f = found.get(k)!;
  log(`search by ${k}: ${xs.length} searches, median ${pct(xs, 50).toFixed(2)} ms, p95 ${pct(xs, 95).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms (contacts found: median ${pct(f, 50)}, max ${Math.max(...f)})`);
}

// Without the keys: the same phone search as a scan of every contact's JSON (what the keys avoid).
{
  const phone = (JSON.parse(ids[0]!.customer) as { phone?: string; email?: string }).phone ?? '07700 900001';
  const t0 = performance.now();
  const n = (sqlite.prepare("SELECT COUNT(*) AS n FROM contacts WHERE json_extract(customer, '$.phone') = ?").get(phone) as { n: number }).n;
  log(`for comparison, one phone search by scanning every contact's JSON (exact format only): ${n} found in ${ms(t0).toFixed(0)} ms`);
}

// One batch of the retention walk (every contact here is closed: no clocks, no events).
{
  const t0 = performance.now();
  const batch = privacy.retentionBatch(0, NOW - 365 * 86_400_000 * 0.5, null, 500);
  log(`retention walk: a batch of ${batch.length} due contacts chosen in ${ms(t0).toFixed(1)} ms`);
}
c.close();
