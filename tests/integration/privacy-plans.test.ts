// Query plans of the privacy reads (issue 17) on a real SQLite file with a few thousand contacts
// written through the real IngestService: finding a person is a seek on person_keys' primary key
// (never a scan of the contacts' JSON), and the retention job's walk leads with its partial index
// and tests each contact on its own keys — with and without ANALYZE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yearOfContacts } from '../../scripts/bench/reads-db.js';
import { PRIVACY_SQL } from '../../server/store/privacy.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const NOW = Date.UTC(2026, 10, 18, 11, 7, 0);
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ KEPT_RETENTION_CRON: 'off' }, { now: () => NOW });
  const inputs = [...yearOfContacts({ contacts: 2000, seed: 11, now: NOW })];
  for (let i = 0; i < inputs.length; i += 500) await Promise.all(inputs.slice(i, i + 500).map((c) => t.service.createContact(c)));
});
afterAll(async () => {
  await t?.close();
});

function plan(sql: string, params: unknown[] | Record<string, unknown>): string[] {
  const st = t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (Array.isArray(params) ? st.all(...params) : st.all(params)) as Array<{ detail: string }>;
  return rows.map((r) => r.detail);
}

/** No full scan of a table (a scan of json_each, the list of ids passed in, is fine). */
const scans = (lines: string[]) => lines.filter((l) => /^SCAN /.test(l) && !/json_each/.test(l));

describe.each([false, true])('privacy query plans (ANALYZE: %s)', (analyzed) => {
  beforeAll(() => {
    if (analyzed) t.connection.sqlite.exec('ANALYZE');
  });

  it('a person is found by a seek on person_keys, by exact key and by a name\'s beginning', () => {
    const exact = plan(PRIVACY_SQL.searchExact, ['phone', '07700900123', 500]);
    expect(exact.join('\n')).toMatch(/SEARCH person_keys USING (COVERING INDEX sqlite_autoindex_person_keys_1|PRIMARY KEY) \(kind=\? AND value=\?\)/);
    expect(scans(exact)).toEqual([]);
    const prefix = plan(PRIVACY_SQL.searchPrefix, ['name', 'jon', 'jon\uffff', 500]);
    expect(prefix.join('\n')).toMatch(/SEARCH person_keys USING (COVERING INDEX sqlite_autoindex_person_keys_1|PRIMARY KEY) \(kind=\? AND value>\? AND value<\?\)/);
    expect(scans(prefix)).toEqual([]);
  });

  it('the retention walk leads with contacts_privacy_pending; each contact is tested on its keys', () => {
    const lines = plan(PRIVACY_SQL.retention, { stage: 0, cutoff: NOW - 365 * 86_400_000, afterAt: -1, afterId: '', limit: 500 });
    expect(lines[0]).toMatch(/SEARCH c USING (COVERING )?INDEX contacts_privacy_pending \(privacy=\? AND /);
    expect(scans(lines)).toEqual([]);
    const joined = lines.join('\n');
    expect(joined).toMatch(/SEARCH k USING (INDEX sqlite_autoindex_clocks_1|PRIMARY KEY) \(contact_id=\?\)/);
    expect(joined).toMatch(/SEARCH e USING INDEX events_contact_seq \(contact_id=\?\)/);
    expect(joined).toMatch(/SEARCH h USING (COVERING )?INDEX privacy_holds_contact \(contact_id=\? AND released_at=\?\)/);
  });

  it('the legal-hold checks look contacts up by id', () => {
    const ids = JSON.stringify(['a', 'b']);
    for (const sql of [PRIVACY_SQL.openHolds, PRIVACY_SQL.holdsOf, PRIVACY_SQL.openComplaints, PRIVACY_SQL.openAlerts]) {
      const lines = plan(sql, [ids]);
      expect(scans(lines), `${sql}\n${lines.join('\n')}`).toEqual([]);
    }
  });

  it('the audit trail is pruned from its oldest entries by audit_at', () => {
    const lines = plan(PRIVACY_SQL.pruneAudit, [NOW, 500]);
    expect(lines.join('\n')).toMatch(/SEARCH audit USING (COVERING )?INDEX audit_at \(at<\?\)/);
  });
});
