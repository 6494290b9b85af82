// Hazards (Awaab's Law) in the weekly report, its CSV and the regulator's view, on a fixture week
// whose every figure is worked out by hand below from the fixture's own instants: 2026-W11 (Monday 9
// March 00:00 GMT to Monday 16 March 00:00 GMT), judged as of Friday 20 March 12:00 GMT. Working days
// are the regulations' (Monday–Friday, no bank holiday in March 2026): "within N working days" ends at
// local midnight after the Nth working day following the trigger's date. Real SQLite, real HTTP.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HazardFigures, RegulatorView, WeeklyReport } from '../../server/reports/types.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;
const D = 24 * H;
const NOW = at('2026-03-20T12:00:00.000Z');

let t: TestApp;
const ids: Record<string, string> = {};

async function contact(name: string, input: Record<string, unknown>): Promise<void> {
  const r = await t.service.createContact({ externalId: `hazard-${name}`, ...input } as Parameters<TestApp['service']['createContact']>[0]);
  ids[name] = r.contact.id;
}

beforeAll(async () => {
  t = await startTestApp({}, { now: () => NOW });
  // H1 emergency, Mon 9 March 08:00: investigated Mon 20:00 (due Tue 08:00: in time); made safe Tue 09:00
  // (due Tue 20:00: in time); summary due the end of Thu 12 (Tue, Wed, Thu), sent Wed 11: in time.
  await contact('H1', {
    channel: 'email',
    category: 'hazard-emergency',
    receivedAt: '2026-03-09T08:00:00Z',
    events: [
      { type: 'investigation-concluded', at: '2026-03-09T20:00:00Z' },
      { type: 'made-safe', at: '2026-03-10T09:00:00Z' },
      { type: 'summary-sent', at: '2026-03-11T10:00:00Z' },
    ],
  });
  // H2 emergency, Tue 10 March 10:00: investigated Wed 12:00 (due Wed 10:00: late); temporary
  // accommodation offered Thu 11:00 (make-safe due Thu 12:00: in time, by accommodation); summary due the
  // end of Mon 16 (Thu, Fri, Mon) = 17 March 00:00, never sent: open past target.
  await contact('H2', {
    channel: 'phone',
    category: 'hazard-emergency',
    receivedAt: '2026-03-10T10:00:00Z',
    events: [
      { type: 'answered', at: '2026-03-10T10:01:00Z' },
      { type: 'investigation-concluded', at: '2026-03-11T12:00:00Z' },
      { type: 'temporary-accommodation-offered', at: '2026-03-12T11:00:00Z' },
    ],
  });
  // H3 significant, Wed 11 March 09:00: investigated Fri 13 15:00 (in time); summary due the end of Wed 18
  // (Mon, Tue, Wed), sent Thu 19: late; made safe Wed 18 (due the end of Fri 20: in time); further work
  // begun Tue 17 (due the end of Fri 20: in time).
  await contact('H3', {
    channel: 'webform',
    category: 'hazard-significant',
    receivedAt: '2026-03-11T09:00:00Z',
    events: [
      { type: 'investigation-concluded', safetyWork: true, furtherWork: true, at: '2026-03-13T15:00:00Z' },
      { type: 'further-work-started', at: '2026-03-17T10:00:00Z' },
      { type: 'made-safe', at: '2026-03-18T10:00:00Z' },
      { type: 'summary-sent', at: '2026-03-19T09:00:00Z' },
    ],
  });
  // H4 significant, Thu 12 March 10:00: not yet investigated (due the end of Thu 26 March): open, in time so far.
  await contact('H4', { channel: 'email', category: 'hazard-significant', receivedAt: '2026-03-12T10:00:00Z' });
  // H5 significant, Thu 12 March 11:00, raised to emergency Fri 13 09:00: the significant investigation is
  // cancelled (superseded); the emergency one starts at the raise (due Sat 09:00), concluded Sat 08:00 with
  // no safety work: in time; summary from Saturday due the end of Wed 18 (Mon, Tue, Wed), sent Mon 16: in time.
  await contact('H5', {
    channel: 'email',
    category: 'hazard-significant',
    receivedAt: '2026-03-12T11:00:00Z',
    events: [
      { type: 'severity-raised', reason: 'child with asthma in the home', at: '2026-03-13T09:00:00Z' },
      { type: 'investigation-concluded', safetyWork: false, at: '2026-03-14T08:00:00Z' },
      { type: 'summary-sent', at: '2026-03-16T11:00:00Z' },
    ],
  });
  // H6 significant, reported the week before (Mon 2 March): its investigation (W10) is not W11's; it
  // concluded Tue 10 March 10:00, so its summary, make-safe and further-work clocks are W11's. Summary due
  // the end of Fri 13, sent Fri 16:00: in time. Make safe due the end of Tue 17 (Wed, Thu, Fri, Mon, Tue) =
  // 18 March 00:00, never made safe: open past target. Further work extended to 10 April, begun Thu 19.
  await contact('H6', {
    channel: 'email',
    category: 'hazard-significant',
    receivedAt: '2026-03-02T10:00:00Z',
    events: [
      { type: 'investigation-concluded', safetyWork: true, furtherWork: true, at: '2026-03-10T10:00:00Z' },
      { type: 'summary-sent', at: '2026-03-13T16:00:00Z' },
      { type: 'extended', clock: 'awaab-further-work-start', until: '2026-04-10T16:00:00Z', reason: 'specialist damp survey needed', at: '2026-03-16T09:00:00Z' },
      { type: 'further-work-started', at: '2026-03-19T10:00:00Z' },
    ],
  });
  // H7 emergency, Mon 16 March (W12): not this week's.
  await contact('H7', { channel: 'email', category: 'hazard-emergency', receivedAt: '2026-03-16T08:00:00Z' });
});
afterAll(async () => {
  await t?.close();
});

const get = async (url: string, headers: Record<string, string> = t.auth) => t.app.inject({ method: 'GET', url, headers });

/** W11's hazard figures, by hand (see each contact above). */
const expected = (): HazardFigures => ({
  emergency: {
    category: 'hazard-emergency',
    received: 3, // H1, H2, and H5 at its raise
    investigated: 3,
    investigatedInTime: 2, // H1, H5 (H2 late)
    investigationsCancelled: 0,
    summariesDue: 3, // H1, H2, H5 (an emergency now)
    summariesSent: 2,
    summariesSentInTime: 2,
    makeSafeDue: 2, // H1, H2 (H5: no safety work)
    madeSafe: 1,
    madeSafeInTime: 1,
    temporaryAccommodation: 1,
    temporaryAccommodationInTime: 1,
    furtherWorkDue: 0,
    furtherWorkStarted: 0,
    furtherWorkInTime: 0,
    furtherWorkInExtension: 0,
    openPastTarget: [
      {
        contactId: ids.H2!,
        href: `/contacts/${ids.H2}`,
        standard: 'awaab-summary',
        receivedAt: '2026-03-10T10:00:00.000Z',
        dueAt: '2026-03-17T00:00:00.000Z',
        ageMs: 10 * D + 2 * H, // Tue 10 10:00 → Fri 20 12:00
        overdueMs: 3 * D + 12 * H, // Tue 17 00:00 → Fri 20 12:00
      },
    ],
  },
  significant: {
    category: 'hazard-significant',
    received: 3, // H3, H4, H5 (as reported; H6 was W10's)
    investigated: 1, // H3
    investigatedInTime: 1,
    investigationsCancelled: 1, // H5, superseded by the raise
    summariesDue: 2, // H3, H6
    summariesSent: 2,
    summariesSentInTime: 1, // H6 (H3 a day late)
    makeSafeDue: 2, // H3, H6
    madeSafe: 1,
    madeSafeInTime: 1,
    temporaryAccommodation: 0,
    temporaryAccommodationInTime: 0,
    furtherWorkDue: 2, // H3, H6
    furtherWorkStarted: 2,
    furtherWorkInTime: 1, // H3
    furtherWorkInExtension: 1, // H6
    openPastTarget: [
      {
        contactId: ids.H6!,
        href: `/contacts/${ids.H6}`,
        standard: 'awaab-significant-make-safe',
        receivedAt: '2026-03-02T10:00:00.000Z',
        dueAt: '2026-03-18T00:00:00.000Z',
        ageMs: 18 * D + 2 * H, // Mon 2 10:00 → Fri 20 12:00
        overdueMs: 2 * D + 12 * H, // Wed 18 00:00 → Fri 20 12:00
      },
    ],
  },
  raisedToEmergency: 1, // H5
});

describe("2026-W11's hazards (Awaab's Law), every figure by hand", () => {
  it('the weekly report', async () => {
    const r = await get('/api/v1/reports/weekly/2026-W11');
    expect(r.statusCode, r.body).toBe(200);
    expect((r.json() as WeeklyReport).hazards).toEqual(expected());
  });

  it('the week after holds only what started in it (H7 reported; nothing else started)', async () => {
    const r = (await get('/api/v1/reports/weekly/2026-W12')).json() as WeeklyReport;
    expect(r.hazards.emergency).toMatchObject({ received: 1, investigated: 0, summariesDue: 0, makeSafeDue: 0 });
    // H7's 24 hours ran out Tue 17 08:00.
    expect(r.hazards.emergency.openPastTarget.map((o) => [o.contactId, o.standard, o.overdueMs])).toEqual([[ids.H7, 'awaab-emergency-investigate', 3 * D + 4 * H]]);
    expect(r.hazards.significant).toMatchObject({ received: 0, summariesDue: 0, furtherWorkDue: 0, openPastTarget: [] });
    expect(r.hazards.raisedToEmergency).toBe(0);
  });

  it('the CSV: a hazards table (one row per category) and hazards-open', async () => {
    const r = await get('/api/v1/reports/weekly/2026-W11?format=csv');
    expect(r.statusCode).toBe(200);
    const records = parse(r.body, { relax_column_count: true }) as string[][];
    const table = (name: string) => {
      const header = records.find((rec, i) => rec[0] === 'table' && records[i + 1]?.[0] === name)!;
      return records.filter((rec) => rec[0] === name).map((rec) => Object.fromEntries(header.slice(1).map((col, i) => [col, rec[i + 1]!])));
    };
    const e = expected();
    const rows = table('hazards');
    expect(rows).toHaveLength(2);
    for (const [row, f] of [
      [rows[0]!, e.emergency],
      [rows[1]!, e.significant],
    ] as const) {
      const { openPastTarget, ...counts } = f;
      for (const [k, v] of Object.entries(counts)) expect(row[k], `${f.category} ${k}`).toBe(String(v));
      expect(row.openPastTarget).toBe(String(openPastTarget.length));
    }
    expect(rows[0]!.raisedToEmergency).toBe('1');
    expect(rows[1]!.raisedToEmergency).toBe('');
    expect(table('hazards-open')).toEqual([
      { category: 'hazard-emergency', contactId: ids.H2, standard: 'awaab-summary', receivedAt: '2026-03-10T10:00:00.000Z', dueAt: '2026-03-17T00:00:00.000Z', ageMs: String(10 * D + 2 * H), overdueMs: String(3 * D + 12 * H) },
      { category: 'hazard-significant', contactId: ids.H6, standard: 'awaab-significant-make-safe', receivedAt: '2026-03-02T10:00:00.000Z', dueAt: '2026-03-18T00:00:00.000Z', ageMs: String(18 * D + 2 * H), overdueMs: String(2 * D + 12 * H) },
    ]);
  });

  it("the regulator's view of the same seven days has the same hazard figures", async () => {
    const r = await get('/api/v1/reports/regulator?from=2026-03-09&to=2026-03-15');
    expect(r.statusCode, r.body).toBe(200);
    expect((r.json() as RegulatorView).hazards).toEqual(expected());
  });
});
