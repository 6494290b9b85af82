// The team's load kept in memory (server/people/team-load.ts) against a brute-force count over every
// contact's stored clocks, on a real SQLite file: loaded from the store, and kept up by the service's
// changes (assignments, replies, pauses) after it was loaded, and by those heard while it was being read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenClockOwner } from '../../server/store/queue.js';
import { TeamLoad } from '../../server/people/team-load.js';
import type { AdvisorLoad } from '../../server/store/queue.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const T0 = Date.parse('2026-03-02T08:00:00Z'); // a Monday, 08:00 London
let now = T0 + 3 * 86_400_000;
let t: TestApp;
const ADVISORS = ['ann@staff.example.org', 'bob@staff.example.org', 'cy@staff.example.org'];
const iso = (ms: number) => new Date(ms).toISOString();

/** Brute force: every contact, its assignee and its stored clocks, judged at `at`. */
async function bruteForce(at: number): Promise<AdvisorLoad[]> {
  const by = new Map<string | null, AdvisorLoad>();
  const ids = (t.connection.sqlite.prepare('SELECT id FROM contacts').all() as Array<{ id: string }>).map((r) => r.id);
  for (const id of ids) {
    const row = (await t.service.contacts.byId(id))!;
    const open = (await t.service.contacts.clocks(id)).filter((c) => c.open);
    if (open.length === 0) continue;
    const l = by.get(row.assignee) ?? { assignee: row.assignee, open: 0, atRisk: 0, breached: 0 };
    by.set(row.assignee, l);
    l.open++;
    const live = open.filter((c) => c.status !== 'paused' && c.dueAt !== null);
    if (live.some((c) => c.dueAt! < at)) l.breached++;
    else if (live.some((c) => c.atRiskAt !== null && c.atRiskAt <= at)) l.atRisk++;
  }
  return sorted([...by.values()]);
}
const sorted = (l: AdvisorLoad[]) => [...l].sort((a, b) => String(a.assignee).localeCompare(String(b.assignee)));

beforeAll(async () => {
  t = await startTestApp({}, { now: () => now });
  // 60 contacts over three days: email and phone, assigned to one of three advisors or nobody.
  for (let i = 0; i < 60; i++) {
    const receivedAt = T0 + i * 70 * 60_000;
    const assignee = i % 4 === 3 ? undefined : ADVISORS[i % 3];
    const events: Array<Record<string, unknown>> = assignee ? [{ type: 'assigned', assignee, at: iso(receivedAt + 60_000) }] : [];
    if (i % 5 === 0) events.push({ type: 'replied', at: iso(receivedAt + 30 * 60_000) });
    if (i % 7 === 0) events.push({ type: 'paused', clock: 'complaint-resolve', at: iso(receivedAt + 10 * 60_000), reason: 'waiting for the tenant' });
    await t.service.createContact({ channel: i % 2 === 0 ? 'email' : 'phone', ...(i % 7 === 0 && i % 2 === 0 ? { category: 'complaint' } : {}), externalId: `load-${i}`, receivedAt: iso(receivedAt), customer: { name: `Tenant ${i}` }, events: i % 2 === 0 ? events : events.filter((e) => e.type === 'assigned') });
  }
});
afterAll(async () => {
  await t.close();
});

describe('TeamLoad', () => {
  it('read from the store, equals a brute-force count at several instants', async () => {
    const team = new TeamLoad(() => t.service.queue.openClockOwners());
    for (const at of [T0, T0 + 86_400_000, now, now + 5 * 86_400_000]) expect(sorted(await team.load(at)), iso(at)).toEqual(await bruteForce(at));
    const atNow = await bruteForce(now);
    expect(atNow.some((l) => l.breached > 0) && atNow.some((l) => l.assignee === null)).toBe(true);
  });

  it('kept up by the changes after it was loaded: reassignment, replies, pauses, new contacts', async () => {
    const team = new TeamLoad(() => t.service.queue.openClockOwners());
    const off = t.service.onChange((c) => team.apply(c));
    await team.load(now); // loaded before the changes below
    const ids = (t.connection.sqlite.prepare('SELECT id FROM contacts ORDER BY received_at').all() as Array<{ id: string }>).map((r) => r.id);
    now += 60_000;
    await t.service.addEvents(ids[2]!, [{ type: 'assigned', assignee: ADVISORS[1], at: iso(now) }]);
    await t.service.addEvents(ids[4]!, [{ type: 'replied', at: iso(now) }]);
    await t.service.addEvents(ids[28]!, [{ type: 'paused', clock: 'complaint-resolve', at: iso(now), reason: 'waiting for a contractor' }]);
    await t.service.addEvents(ids[14]!, [{ type: 'resumed', clock: 'complaint-resolve', at: iso(now) }]);
    await t.service.createContact({ channel: 'email', externalId: 'load-new', receivedAt: iso(now), customer: { name: 'New' }, events: [{ type: 'assigned', assignee: 'dee@staff.example.org', at: iso(now) }] });
    off();
    for (const at of [now, now + 86_400_000]) expect(sorted(await team.load(at)), iso(at)).toEqual(await bruteForce(at));
    expect((await team.load(now)).find((l) => l.assignee === 'dee@staff.example.org')).toMatchObject({ open: 1 });
  });

  it('keeps the changes heard while its first read is under way, and every caller meanwhile waits for that one read', async () => {
    // The store's answer held back (as PostgreSQL's is, over the network) until the changes below are
    // committed and heard: the answer is the store as it was before them.
    const before = await t.service.queue.openClockOwners();
    let release!: () => void;
    let reads = 0;
    const team = new TeamLoad(async (): Promise<OpenClockOwner[]> => {
      reads++;
      await new Promise<void>((resolve) => (release = resolve));
      return before;
    });
    const off = t.service.onChange((c) => team.apply(c));
    const first = team.load(now);
    const later = now + 86_400_000;
    const second = team.load(later);
    const ids = (t.connection.sqlite.prepare('SELECT id FROM contacts ORDER BY received_at').all() as Array<{ id: string }>).map((r) => r.id);
    now += 60_000;
    await t.service.addEvents(ids[6]!, [{ type: 'assigned', assignee: 'eve@staff.example.org', at: iso(now) }]);
    await t.service.addEvents(ids[6]!, [{ type: 'assigned', assignee: ADVISORS[2], at: iso(now) }]);
    await t.service.createContact({ channel: 'email', externalId: 'load-during-read', receivedAt: iso(now), customer: { name: 'Late' }, events: [{ type: 'assigned', assignee: 'eve@staff.example.org', at: iso(now) }] });
    release();
    expect(sorted(await first)).toEqual(await bruteForce(now));
    expect(sorted(await second)).toEqual(await bruteForce(later));
    off();
    expect(reads).toBe(1);
    // The reassignment heard twice ends where the store does (eve has only the new contact).
    expect((await team.load(now)).find((l) => l.assignee === 'eve@staff.example.org')).toMatchObject({ open: 1 });
  });

  it('a read that fails is tried again by the next caller', async () => {
    let calls = 0;
    const team = new TeamLoad(async () => {
      if (++calls === 1) throw new Error('the database is away');
      return t.service.queue.openClockOwners();
    });
    await expect(team.load(now)).rejects.toThrow('the database is away');
    expect(sorted(await team.load(now))).toEqual(await bruteForce(now));
    expect(calls).toBe(2);
  });
});
