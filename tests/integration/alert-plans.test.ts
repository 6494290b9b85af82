// The alert evaluator's and the notices' reads walk an index by key, whatever the table holds: the
// evaluator runs every few seconds on a year of data. Checked with EXPLAIN QUERY PLAN on a real file
// with a few thousand contacts (scripts/bench/reads-db.ts' generator), and the due-range read checked
// against a brute-force filter of the clocks table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yearOfContacts } from '../../scripts/bench/reads-db.js';
import { ALERTS_SQL, AlertStore } from '../../server/store/alerts.js';
import { NOTICES_SQL } from '../../server/store/notices.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const NOW = Date.UTC(2026, 10, 18, 11, 7, 0);
const DAY = 86_400_000;
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  const inputs = [...yearOfContacts({ contacts: 3000, seed: 11, now: NOW })];
  for (let i = 0; i < inputs.length; i += 500) await Promise.all(inputs.slice(i, i + 500).map((c) => t.service.createContact(c)));
  t.connection.sqlite.exec('ANALYZE');
});
afterAll(async () => {
  await t.close();
});

const plan = (sql: string, ...params: unknown[]) =>
  (t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

describe('alert and notice reads', () => {
  it('the breaches between two looks: a range of clocks_open_due, then each contact by key', () => {
    const p = plan(ALERTS_SQL.dueBetween, NOW - DAY, NOW, 1000);
    expect(p[0]).toMatch(/^SEARCH c USING INDEX clocks_open_due \(due_at>\? AND due_at<\?\)/);
    expect(p[1]).toMatch(/^SEARCH k USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)/);
    expect(p.join('\n')).not.toMatch(/SCAN|TEMP B-TREE/);
    // …and it finds exactly the open, unpaused clocks due in the span.
    const got = new AlertStore(t.connection.sqlite).dueBetween(NOW - 400 * DAY, NOW + 30 * DAY).map((d) => `${d.contactId}/${d.standard}`);
    const want = (t.connection.sqlite.prepare("SELECT contact_id || '/' || standard AS k FROM clocks NOT INDEXED WHERE open = 1 AND status <> 'paused' AND due_at > ? AND due_at <= ? ORDER BY due_at").all(NOW - 400 * DAY, NOW + 30 * DAY) as Array<{ k: string }>).map((r) => r.k);
    expect(want.length).toBeGreaterThan(0);
    expect(got.sort()).toEqual(want.sort());
  });

  it('flags after an id, a rule\'s sends, the notice in force: keyed', () => {
    expect(plan(ALERTS_SQL.flagsAfter, 0, 100).join('\n')).toMatch(/SEARCH alerts USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    expect(plan(ALERTS_SQL.lastSend, 1).join('\n')).toMatch(/SEARCH alert_sends USING (COVERING )?INDEX alert_sends_rule \(rule_id=\?\)/);
    expect(plan(ALERTS_SQL.sendsOf, 1, 50).join('\n')).toMatch(/SEARCH alert_sends USING INDEX alert_sends_rule \(rule_id=\?\)/);
    expect(plan(NOTICES_SQL.inForce, NOW, NOW).join('\n')).toMatch(/SEARCH notices USING INDEX notices_ends \(ends_at>\?\)/);
    expect(plan(NOTICES_SQL.upcoming, NOW).join('\n')).toMatch(/SEARCH notices USING INDEX notices_ends \(ends_at>\?\)/);
  });
});
