// The board's urgent list: filters (channel, category, queue, owner, unassigned, a standard, a saved
// board) and orders (severity: breached complaints and emergencies first; or deadline).
import { describe, expect, it } from 'vitest';
import type { UrgentClock } from '../../server/live/protocol.js';
import { fromQuery, NO_FILTER, severity, toQuery, UNASSIGNED, view, type UrgentFilter } from '../../web/src/urgent.js';

const NOW = Date.parse('2026-03-10T14:35:00Z');
const MIN = 60_000;

function row(key: string, dueIn: number, over: Partial<UrgentClock> = {}) {
  const due = NOW + dueIn * MIN;
  const clock: UrgentClock = {
    contactId: key,
    standard: 'email-reply',
    status: dueIn < 0 ? 'breached' : 'at-risk',
    dueAt: new Date(due).toISOString(),
    atRiskAt: null,
    channel: 'email',
    category: 'general',
    receivedAt: new Date(NOW - 600 * MIN).toISOString(),
    customerName: null,
    subject: null,
    assignee: null,
    route: 'customer-services',
    extended: false,
    ...over,
  };
  return { key: `${key}/${clock.standard}`, due, clock };
}

// In deadline order, as the board keeps them.
const rows = [
  row('call-late', -130, { standard: 'phone-answer', channel: 'phone', assignee: 'tom@example.org' }),
  row('email-late', -60),
  row('complaint-late', -20, { standard: 'complaint-acknowledge', category: 'complaint', assignee: 'priya@example.org' }),
  row('call-soon', 1, { standard: 'phone-answer', channel: 'phone' }),
  row('emergency-soon', 30, { standard: 'emergency-make-safe', category: 'emergency-repair', channel: 'webform' }),
  row('direct-soon', 45, { standard: 'direct-email-reply', route: 'colleague-direct', assignee: 'tom@example.org' }),
  row('emergency-late', -5, { standard: 'emergency-arrange-repair', category: 'emergency-repair', channel: 'phone' }),
].sort((a, b) => a.due - b.due);
const keys = (rs: Array<{ clock: UrgentClock }>) => rs.map((r) => r.clock.contactId);
const f = (over: Partial<UrgentFilter>): UrgentFilter => ({ ...NO_FILTER, ...over });

describe('urgent list order', () => {
  it('by severity: breached complaints and emergencies, other breached, at-risk complaints and emergencies, the rest; each by deadline', () => {
    expect(keys(view(rows, NO_FILTER, 'severity', NOW))).toEqual(['complaint-late', 'emergency-late', 'call-late', 'email-late', 'emergency-soon', 'call-soon', 'direct-soon']);
  });

  it('by deadline: earliest due first, whatever the kind', () => {
    expect(keys(view(rows, NO_FILTER, 'deadline', NOW))).toEqual(['call-late', 'email-late', 'complaint-late', 'emergency-late', 'call-soon', 'emergency-soon', 'direct-soon']);
  });

  it("breached emergency hazards (Awaab's Law) rank with breached complaints and emergencies; a significant hazard with the rest", () => {
    const hazards = [
      ...rows,
      row('hazard-emergency-late', -90, { standard: 'awaab-emergency-investigate', category: 'hazard-emergency' }),
      row('hazard-significant-late', -300, { standard: 'awaab-significant-investigate', category: 'hazard-significant' }),
      row('hazard-emergency-soon', 10, { standard: 'awaab-emergency-make-safe', category: 'hazard-emergency', channel: 'phone' }),
    ].sort((a, b) => a.due - b.due);
    expect(keys(view(hazards, NO_FILTER, 'severity', NOW))).toEqual([
      'hazard-emergency-late',
      'complaint-late',
      'emergency-late',
      'hazard-significant-late',
      'call-late',
      'email-late',
      'hazard-emergency-soon',
      'emergency-soon',
      'call-soon',
      'direct-soon',
    ]);
  });

  it('a row past its due instant ranks as breached before the server says so', () => {
    const r = row('x', 1, { category: 'complaint' });
    expect(severity(r.clock, r.due, NOW)).toBe(2);
    expect(severity(r.clock, r.due, NOW + 2 * MIN)).toBe(0);
  });
});

describe('urgent list filters', () => {
  it('by channel, category, queue (route), owner, unassigned and standard', () => {
    expect(keys(view(rows, f({ channel: 'phone' }), 'deadline', NOW))).toEqual(['call-late', 'emergency-late', 'call-soon']);
    expect(keys(view(rows, f({ category: 'emergency-repair' }), 'severity', NOW))).toEqual(['emergency-late', 'emergency-soon']);
    expect(keys(view(rows, f({ queue: 'colleague-direct' }), 'deadline', NOW))).toEqual(['direct-soon']);
    expect(keys(view(rows, f({ owner: 'tom@example.org' }), 'deadline', NOW))).toEqual(['call-late', 'direct-soon']);
    expect(keys(view(rows, f({ owner: UNASSIGNED }), 'deadline', NOW))).toEqual(['email-late', 'emergency-late', 'call-soon', 'emergency-soon']);
    expect(keys(view(rows, f({ standard: 'complaint-acknowledge' }), 'deadline', NOW))).toEqual(['complaint-late']);
    expect(keys(view(rows, f({ channel: 'phone', owner: UNASSIGNED }), 'severity', NOW))).toEqual(['emergency-late', 'call-soon']);
  });

  it("a saved board's filter: channels, categories, and queues matching the route or the category", () => {
    const board = (b: Partial<NonNullable<UrgentFilter['board']>>) => f({ board: { queues: [], channels: [], categories: [], ...b } });
    expect(keys(view(rows, board({ queues: ['emergency-repair'] }), 'deadline', NOW))).toEqual(['emergency-late', 'emergency-soon']);
    expect(keys(view(rows, board({ queues: ['colleague-direct'] }), 'deadline', NOW))).toEqual(['direct-soon']);
    expect(keys(view(rows, board({ channels: ['webform', 'phone'], categories: ['emergency-repair'] }), 'deadline', NOW))).toEqual(['emergency-late', 'emergency-soon']);
    expect(view(rows, board({}), 'deadline', NOW)).toHaveLength(rows.length);
  });

  it('round-trips through the address', () => {
    const q = new URLSearchParams('wall=1');
    toQuery(q, f({ channel: 'phone', owner: UNASSIGNED, standard: 'phone-answer' }), 'deadline');
    expect(q.toString()).toBe('wall=1&channel=phone&owner=unassigned&standard=phone-answer&order=deadline');
    expect(fromQuery(q)).toEqual({ filter: f({ channel: 'phone', owner: UNASSIGNED, standard: 'phone-answer' }), order: 'deadline' });
    expect(fromQuery(new URLSearchParams(''))).toEqual({ filter: NO_FILTER, order: 'severity' });
  });
});
