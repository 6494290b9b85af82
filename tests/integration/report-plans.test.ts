// Query plans of the weekly report's reads (server/store/reports.ts), on a real SQLite file with a few
// thousand contacts of the bench generator written through the real IngestService, before and after
// ANALYZE: every statement is a keyed walk of the index it names (no scan of a table, no temporary sort
// of the week's clocks), and the week's ended clocks are read from the covering index alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yearOfContacts } from '../../scripts/bench/reads-db.js';
import { figureContacts } from '../../server/reports/contacts.js';
import { isoWeekOf, shiftIsoWeek } from '../../server/reports/week.js';
import { buildWeekly, packShape } from '../../server/reports/weekly.js';
import { PublishedReportStore, ReportStore } from '../../server/store/reports.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const NOW = Date.UTC(2026, 10, 18, 11, 7, 0);
let t: TestApp;
let store: ReportStore;

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  const writes: Array<Promise<unknown>> = [];
  for (const input of yearOfContacts({ contacts: 3000, seed: 7, now: NOW })) writes.push(t.service.createContact(input));
  await Promise.all(writes);
  const shape = packShape('livewest');
  store = new ReportStore(t.connection.sqlite, shape.extendable, shape.implied);
}, 120_000);
afterAll(async () => {
  await t?.close();
});

function plan(sql: string): string {
  const args = !sql.includes('@') ? ['x'] : [{ from: 0, to: 1, lo: 0, asOf: 1, target: 1, standard: 'x', id: 'x', reference: 'r', category: 'c', after: 0, until: 1, ...(sql.includes('@ids') ? { ids: '["x"]' } : {}) }];
  return (t.connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join(' ‖ ');
}

/** What each statement must do, by name. */
const EXPECTED: Record<string, RegExp[]> = {
  endedClocks: [/^SEARCH k USING COVERING INDEX clocks_report_ended \(received_at>\? AND received_at<\?\)/, /SEARCH c USING COVERING INDEX contacts_received_at \(received_at=\? AND id=\?\)/, /SEARCH x USING INTEGER PRIMARY KEY \(rowid=\?\)/],
  openClocks: [/^SEARCH k USING INDEX clocks_open_received \(received_at>\? AND received_at<\?\)/],
  lateClocks: [/^SEARCH k USING INDEX clocks_standard_received \(standard=\? AND received_at<\?\)/],
  endedCounts: [/^SEARCH k USING COVERING INDEX clocks_report_ended \(received_at>\? AND received_at<\?\)/],
  openCounts: [/^SEARCH k USING INDEX clocks_open_received \(received_at>\? AND received_at<\?\)/],
  lateCounts: [/^SEARCH k USING INDEX clocks_standard_received \(standard=\? AND received_at<\?\)/],
  contactsOfStandard: [/^SEARCH k USING INDEX clocks_standard_received \(standard=\? AND received_at>\? AND received_at<\?\)$/],
  people: [/^SEARCH contacts USING INDEX contacts_received_at \(received_at>\? AND received_at<\?\)$/],
  personOf: [/^SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)$/],
  handled: [/SEARCH k USING COVERING INDEX clocks_report_ended \(received_at>\? AND received_at<\?\)/],
  quality: [/SEARCH c USING INDEX contacts_received_at \(received_at>\? AND received_at<\?\)/, /SEARCH e USING COVERING INDEX events_quality \(contact_id=\? AND type=\?\)/],
  repeat: [/^SEARCH contacts USING INDEX contacts_customer_reference \(<expr>=\? AND received_at>\? AND received_at<\?\)$/],
  complaintIds: [/SEARCH c USING COVERING INDEX contacts_received_at \(received_at>\? AND received_at<\?\)/, /SEARCH e USING COVERING INDEX events_complaint_stage \(type=\? AND at>\? AND at<\?\)/],
  complaints: [/^SEARCH c USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)/, /SEARCH events USING INDEX events_contact_seq \(contact_id=\?\)/],
  // Hazards (Awaab's Law): one standard's clocks by clocks_standard_received, the contact by key, the fulfilling events by contact.
  hazardClocks: [/^SEARCH k USING INDEX clocks_standard_received \(standard=\? AND received_at<\?\)/, /SEARCH c USING INDEX (sqlite_autoindex_contacts_1|contacts_id_assignee) \(id=\?\)/, /SEARCH e USING INDEX events_contact_seq \(contact_id=\?\)/],
  raised: [/SEARCH e USING INDEX events_contact_seq \(contact_id=\?\)/],
};

describe('the weekly report’s query plans', () => {
  for (const analyzed of [false, true]) {
    it(`every statement is a keyed walk of its index${analyzed ? ' (after ANALYZE)' : ''}`, () => {
      if (analyzed) t.connection.sqlite.exec('ANALYZE');
      const statements = store.statements;
      expect(Object.keys(statements).sort()).toEqual(Object.keys(EXPECTED).sort());
      for (const [name, sql] of Object.entries(statements)) {
        const p = plan(sql);
        for (const re of EXPECTED[name]!) expect(p, name).toMatch(re);
        // No statement scans a table or sorts the week’s clocks (`SCAN e` in `complaints` is its own co-routine: one contact’s events, already found by key).
        expect(p, name).not.toMatch(/(^|‖ )SCAN (k|c|x|clocks|contacts|events)\b/);
        expect(p, name).not.toMatch(/USE TEMP B-TREE FOR ORDER BY.*clocks/);
      }
      const published = new PublishedReportStore(t.connection.sqlite).statements;
      expect(plan(published.latest)).toMatch(/^SEARCH published_reports USING INDEX sqlite_autoindex_published_reports_1 \(week=\?\)$/);
    });
  }

  it('the week’s clocks come back, ended and running, with the channel of each', () => {
    const from = NOW - 14 * 86_400_000;
    const rows = store.clockRows(from, NOW, []);
    const direct = t.connection.sqlite
      .prepare('SELECT k.contact_id, k.standard, c.channel FROM clocks k JOIN contacts c ON c.id = k.contact_id WHERE k.started_at >= ? AND k.started_at < ? ORDER BY 1, 2')
      .raw(true)
      .all(from, NOW) as Array<[string, string, string]>;
    expect(direct.length).toBeGreaterThan(100);
    expect(rows.map((r) => [r[0], r[1], r[10]]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : 1))).toEqual(direct);
  });

  it('the contacts behind a figure are read by the same keyed statements as the report (no other read), and as many as the figure', async () => {
    // Every ReportStore method the contacts' route calls is recorded: each runs only statements whose plans are asserted above.
    const called = new Set<string>();
    const watched = new Proxy(store, {
      get(target, name, receiver) {
        const v = Reflect.get(target, name, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          called.add(String(name));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const shape = packShape('livewest');
    const settings = { shape, calendars: [] };
    const week = shiftIsoWeek(isoWeekOf(NOW), -1);
    const report = await buildWeekly(store, week, settings, { asOf: NOW, withChange: false });
    expect(report.standards.length).toBeGreaterThan(0);
    for (const s of report.standards) {
      for (const outcome of ['met', 'missed', 'breached'] as const) {
        const listed = await figureContacts(watched, week, settings, { standard: s.standard, channel: s.channel, outcomes: [outcome] }, NOW, { limit: 200 });
        expect(listed.total, `${s.standard}/${s.channel} ${outcome}`).toBe(s[outcome]);
      }
    }
    expect((await figureContacts(watched, week, settings, { phone: 'offered' }, NOW, { limit: 1 })).total).toBe(report.phone.offered);
    const team = report.teams[0]!;
    expect((await figureContacts(watched, week, settings, { team: team.key }, NOW, { limit: 1 })).total).toBe(team.clocks);
    // clockRows: endedClocks, openClocks, lateClocks; people: people, personOf; teams: one read of the few users.
    expect([...called].sort()).toEqual(['clockRows', 'people', 'teams']);
  });
});
