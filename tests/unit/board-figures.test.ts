// Every figure on the board checked against STANDARDS §6 from the clocks themselves: a day of
// contacts (seeded) is evaluated by the clock engine, the board's inputs are built from those clocks
// as LiveService builds them, and each tile's figures are computed again here, plainly, from the
// clocks, and compared. The captions' numbers are checked against the headline they explain.
import { describe, expect, it } from 'vitest';
import { evaluateContact } from '../../server/domain/clocks.js';
import { parseContact } from '../../server/domain/contact.js';
import { defaultCalendars } from '../../server/domain/defaults.js';
import type { CallOutcome } from '../../server/domain/metrics.js';
import type { Clock } from '../../server/domain/model.js';
import { packsInForce } from '../../server/domain/packs/in-force.js';
import { LIVEWEST_1 } from '../../server/domain/standards.js';
import { MINUTE } from '../../server/domain/time.js';
import { boardFigures, isFirstResponse, localDay, type BoardSite, type EndedClock, type RunningClock } from '../../server/live/board.js';
import { hazardStandards, packTargets, publicWording } from '../../server/live/site.js';
import { mulberry32 } from '../../scripts/lib/prng.js';

const calendars = defaultCalendars();
const cal = calendars['customer-services']!;
/** Tuesday 10 March 2026, 14:35 in London (GMT). */
const NOW = Date.parse('2026-03-10T14:35:00Z');
const DAY_START = Date.parse('2026-03-10T00:00:00Z');
const OPEN_STATUSES = new Set(['running', 'at-risk', 'breached', 'paused']);
const targets = packTargets(LIVEWEST_1);
const site: BoardSite = {
  calendar: cal,
  title: 'Customer services',
  phoneTargetMs: targets.phoneTargetMs,
  busyCallsWaiting: 10,
  busyOldestWaitSeconds: 240,
  wording: publicWording({ open: '', busy: '', closed: '' }, targets),
  serviceLevelTarget: 0.8,
  promiseStandards: targets.promiseStandards,
  hazardStandards: hazardStandards(),
};

interface Evaluated {
  id: string;
  channel: string;
  category: string;
  receivedAt: number;
  callback: boolean;
  clocks: Clock[];
}

/** A seeded day: calls (answered early or late, abandoned short or long, waiting), written contacts, complaints and emergencies. */
function day(seed: number): Evaluated[] {
  const rnd = mulberry32(seed);
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: Evaluated[] = [];
  let n = 0;
  const add = (raw: Record<string, unknown>) => {
    const c = parseContact({ id: `c${++n}`, externalId: `x${n}`, ...raw });
    const e = evaluateContact(c, packsInForce('livewest', c.receivedAt), calendars, NOW);
    out.push({ id: c.id, channel: c.channel, category: e.category, receivedAt: c.receivedAt, callback: e.callback, clocks: e.clocks });
  };
  // Calls from 08:00 to now.
  for (let t = Date.parse('2026-03-10T08:00:00Z'); t < NOW; t += (0.5 + rnd() * 2) * MINUTE) {
    const roll = rnd();
    const wait = rnd() * 9 * MINUTE;
    const events: Array<Record<string, unknown>> = [];
    if (t + wait < NOW) {
      if (roll < 0.05) events.push({ type: 'abandoned', at: iso(t + 2000) });
      else if (roll < 0.15) events.push({ type: 'abandoned', at: iso(t + wait) });
      else if (roll < 0.2) events.push({ type: 'callback-requested', at: iso(t + 30_000) }, { type: 'callback-connected', at: iso(t + wait) });
      else if (roll < 0.22) events.push({ type: 'cancelled', reason: 'duplicate', at: iso(t + 1000) });
      else events.push({ type: 'answered', at: iso(t + wait) });
    }
    const category = rnd() < 0.05 ? 'complaint' : rnd() < 0.05 ? 'emergency-repair' : 'general';
    add({ channel: 'phone', receivedAt: iso(t), category, events });
  }
  // Written contacts from yesterday morning to now: some replied, some not.
  for (let t = Date.parse('2026-03-09T08:00:00Z'); t < NOW; t += (5 + rnd() * 40) * MINUTE) {
    const channel = (['email', 'webform', 'social', 'voicemail'] as const)[Math.floor(rnd() * 4)]!;
    const replyAt = t + rnd() * 30 * 60 * MINUTE;
    const category = rnd() < 0.1 ? 'complaint' : 'general';
    const events: Array<Record<string, unknown>> = [];
    if (replyAt < NOW) events.push(category === 'complaint' ? { type: 'acknowledged', reference: `CMP-${n}`, owner: 'a@example.org', at: iso(replyAt) } : { type: 'replied', at: iso(replyAt) });
    add({ channel, receivedAt: iso(t), category, events });
  }
  // Complaints from a fortnight ago: one extended, one paused, one resolved today, in time.
  add({ channel: 'email', category: 'complaint', receivedAt: '2026-02-24T10:00:00Z', events: [{ type: 'acknowledged', reference: 'CMP-1', owner: 'a@example.org', at: '2026-02-24T12:00:00Z' }, { type: 'extended', clock: 'complaint-resolve', until: '2026-03-20T17:00:00Z', at: '2026-03-05T10:00:00Z' }] });
  add({ channel: 'email', category: 'complaint', receivedAt: '2026-02-25T10:00:00Z', events: [{ type: 'acknowledged', reference: 'CMP-2', owner: 'a@example.org', at: '2026-02-25T12:00:00Z' }, { type: 'paused', clock: 'complaint-resolve', reason: 'awaiting photos', at: '2026-03-02T10:00:00Z' }] });
  add({ channel: 'email', category: 'complaint', receivedAt: '2026-02-24T09:00:00Z', events: [{ type: 'acknowledged', reference: 'CMP-3', owner: 'a@example.org', at: '2026-02-24T12:00:00Z' }, { type: 'resolved', at: '2026-03-10T08:30:00Z' }] });
  // Emergencies: made safe on Friday, the repair not arranged (due today at 10:00); one waiting since this morning.
  add({ channel: 'phone', category: 'emergency-repair', receivedAt: '2026-03-06T10:00:00Z', events: [{ type: 'answered', at: '2026-03-06T10:02:00Z' }, { type: 'attended', at: '2026-03-06T14:00:00Z' }] });
  add({ channel: 'webform', category: 'emergency-repair', receivedAt: '2026-03-10T07:10:00Z' });
  // Hazards (Awaab's Law), each with the channel's own reply made in time:
  // an emergency emailed yesterday 10:00, not investigated (24 h: due today 10:00, breached);
  add({ channel: 'email', category: 'hazard-emergency', receivedAt: '2026-03-09T10:00:00Z', events: [{ type: 'replied', at: '2026-03-09T11:00:00Z' }] });
  // an emergency by web form yesterday 20:00 (due today 20:00, at risk from 08:00 at half the 24 hours);
  add({ channel: 'webform', category: 'hazard-emergency', receivedAt: '2026-03-09T20:00:00Z', events: [{ type: 'replied', at: '2026-03-10T09:00:00Z' }] });
  // damp and mould emailed Fri 20 Feb, not investigated: 10 working days (Mon 23 Feb … Fri 6 Mar) ended at midnight on 7 March, breached;
  add({ channel: 'email', category: 'hazard-significant', receivedAt: '2026-02-20T10:00:00Z', events: [{ type: 'replied', at: '2026-02-20T12:00:00Z' }] });
  // damp and mould by phone this morning: due the end of Tue 24 March (Wed 11 … Tue 24);
  add({ channel: 'phone', category: 'hazard-significant', receivedAt: '2026-03-10T09:00:00Z', events: [{ type: 'answered', at: '2026-03-10T09:01:00Z' }] });
  // damp and mould investigated Thu 5 March 12:00: the summary due the end of Tue 10 (Fri 6, Mon 9, Tue 10), making safe the end of Thu 12.
  add({
    channel: 'email',
    category: 'hazard-significant',
    receivedAt: '2026-03-02T10:00:00Z',
    events: [
      { type: 'replied', at: '2026-03-02T11:00:00Z' },
      { type: 'investigation-concluded', safetyWork: true, furtherWork: false, at: '2026-03-05T12:00:00Z' },
    ],
  });
  return out;
}

/** The board's inputs from the clocks, as LiveService and TodayLedger build them. */
function inputs(contacts: Evaluated[]) {
  const running: RunningClock[] = [];
  const calls: CallOutcome[] = [];
  const received: number[] = [];
  const handledCounts = new Map<string, { channel: string; standard: string; n: number }>();
  const ended: EndedClock[] = [];
  for (const c of contacts) {
    if (c.receivedAt >= DAY_START) received.push(c.receivedAt);
    let counted = false;
    for (const k of c.clocks) {
      if (OPEN_STATUSES.has(k.status)) {
        const first = isFirstResponse(k.standard, c.channel) && !counted;
        if (first) counted = true;
        running.push({ key: `${c.id}/${k.standard}`, contactId: c.id, standard: k.standard, status: k.status, dueAt: k.dueAt, atRiskAt: k.atRiskAt, channel: c.channel, receivedAt: c.receivedAt, countsWaiting: first });
      }
      if (['met', 'missed', 'met-extended', 'missed-extended'].includes(k.status) && k.endedAt !== null && k.endedAt >= DAY_START) {
        const key = `${c.channel}/${k.standard}`;
        const h = handledCounts.get(key) ?? { channel: c.channel, standard: k.standard, n: 0 };
        h.n++;
        handledCounts.set(key, h);
        ended.push({ standard: k.standard, status: k.status, dueAt: k.dueAt });
      }
      if (k.standard === 'phone-answer' && c.receivedAt >= DAY_START) calls.push({ receivedAt: c.receivedAt, status: k.status, answeredAt: k.fulfilledAt, endedAt: k.endedAt, callback: c.callback });
    }
  }
  return { running, today: { calls, received, handled: [...handledCounts.values()], ended } };
}

describe('the board figures agree with STANDARDS §6, computed from the clocks', () => {
  for (const seed of [1, 2, 3]) {
    it(`a seeded day (${seed})`, () => {
      const contacts = day(seed);
      const { running, today } = inputs(contacts);
      const b = boardFigures(NOW, running, today, site);
      const T = 5 * MINUTE;

      // Phone: every call queued today, from its phone-answer clock.
      const phone = contacts.filter((c) => c.channel === 'phone' && c.receivedAt >= DAY_START).map((c) => ({ c, k: c.clocks.find((k) => k.standard === 'phone-answer')! }));
      const offered = phone.filter(({ k }) => k.status !== 'cancelled');
      const answered = offered.filter(({ k }) => k.status === 'met' || k.status === 'missed');
      const within = answered.filter(({ c, k }) => k.fulfilledAt! - c.receivedAt <= T);
      const short = offered.filter(({ k }) => k.status === 'abandoned-short');
      const abandoned = offered.filter(({ k }) => k.status === 'abandoned');
      const waiting = offered.filter(({ k }) => OPEN_STATUSES.has(k.status));
      const waitingInside = waiting.filter(({ c }) => NOW - c.receivedAt <= T);
      // §6: answered within 5 min ÷ (offered − short abandons); a call still inside its 5 minutes is not decided yet.
      const decided = offered.length - short.length - waitingInside.length;
      expect(b.phone.offered).toBe(offered.length);
      expect(b.phone.shortAbandons).toBe(short.length);
      expect(b.phone.abandons).toBe(abandoned.length);
      expect(b.phone.answeredWithinTarget).toBe(within.length);
      expect(b.phone.decided).toBe(decided);
      expect(b.phone.stillWaiting).toBe(waitingInside.length);
      expect(b.phone.serviceLevel).toBeCloseTo(within.length / decided, 12);
      // The caption ("86 of 96 decided calls; 48 still waiting") is the headline's own fraction, and accounts for every call.
      expect(b.phone.serviceLevel).toBe(b.phone.answeredWithinTarget / b.phone.decided);
      expect(b.phone.decided + b.phone.stillWaiting + b.phone.shortAbandons).toBe(b.phone.offered);
      expect(b.phone.callsWaitingOverTarget).toBe(waiting.length - waitingInside.length);
      expect(b.phone.averageSpeedOfAnswerMs).toBeCloseTo(answered.reduce((s, { c, k }) => s + k.fulfilledAt! - c.receivedAt, 0) / answered.length, 6);
      expect(b.phone.callbacksRequested).toBe(offered.filter(({ c }) => c.callback).length);

      // The last 15, 30 and 60 minutes: the same rule over calls queued in the window.
      for (const r of b.phone.recent) {
        const inWindow = offered.filter(({ c }) => c.receivedAt > NOW - r.minutes * MINUTE);
        const w = inWindow.filter(({ c, k }) => (k.status === 'met' || k.status === 'missed') && k.fulfilledAt! - c.receivedAt <= T).length;
        const inside = inWindow.filter(({ c, k }) => OPEN_STATUSES.has(k.status) && NOW - c.receivedAt <= T).length;
        const d = inWindow.length - inWindow.filter(({ k }) => k.status === 'abandoned-short').length - inside;
        expect(r).toEqual({ minutes: r.minutes, serviceLevel: d === 0 ? null : w / d, answeredWithinTarget: w, decided: d, stillWaiting: inside });
      }
      expect(b.phone.recent.map((r) => r.minutes)).toEqual([15, 30, 60]);

      // Estimated wait: (waiting + 1) calls at the answer rate of the last 15 minutes.
      const answered15 = answered.filter(({ k }) => k.fulfilledAt! > NOW - 15 * MINUTE).length;
      expect(b.phone.answeredLast15).toBe(answered15);
      expect(b.phone.estimatedWaitMs).toBe(answered15 === 0 ? null : waiting.length === 0 ? 0 : Math.round(((waiting.length + 1) * 15 * MINUTE) / answered15));

      // Channel tiles: contacts waiting for their first response, at risk and breached clocks, handled today.
      for (const tile of b.tiles) {
        const mine = contacts.filter((c) => c.channel === tile.channel);
        const firstOpen = mine.filter((c) => c.clocks.some((k) => OPEN_STATUSES.has(k.status) && isFirstResponse(k.standard, c.channel)));
        expect(tile.waitingNow, tile.channel).toBe(firstOpen.length);
        // Hazard clocks (awaab-*) are the hazard tile's, not the channel's.
        const channelClocks = mine.flatMap((c) => c.clocks).filter((k) => !k.standard.startsWith('awaab-'));
        expect(tile.atRisk, tile.channel).toBe(channelClocks.filter((k) => k.status === 'at-risk').length);
        expect(tile.breached, tile.channel).toBe(channelClocks.filter((k) => k.status === 'breached').length);
        const handled = mine.flatMap((c) => c.clocks.filter((k) => isFirstResponse(k.standard, c.channel) && ['met', 'missed', 'met-extended', 'missed-extended'].includes(k.status) && k.endedAt! >= DAY_START));
        expect(tile.handledToday, tile.channel).toBe(handled.length);
      }

      // Complaints and emergencies: per standard, across channels.
      expect(b.promises.map((p) => p.standard)).toEqual(['complaint-acknowledge', 'complaint-resolve', 'emergency-make-safe', 'emergency-arrange-repair']);
      for (const p of b.promises) {
        const open = contacts.flatMap((c) => c.clocks).filter((k) => k.standard === p.standard && OPEN_STATUSES.has(k.status));
        expect(p.open, p.standard).toBe(open.length);
        expect(p.atRisk, p.standard).toBe(open.filter((k) => k.status === 'at-risk').length);
        expect(p.breached, p.standard).toBe(open.filter((k) => k.status === 'breached').length);
        expect(p.paused, p.standard).toBe(open.filter((k) => k.status === 'paused').length);
        expect(p.extended, p.standard).toBe(open.filter((k) => k.extendedUntil !== undefined).length);
      }
      expect(b.promises.find((p) => p.standard === 'complaint-resolve')).toMatchObject({ extended: 1, paused: 1 });

      // Hazards: per statutory standard, across channels, from the clocks…
      expect(b.hazards.map((p) => p.standard)).toEqual(['awaab-emergency-investigate', 'awaab-emergency-make-safe', 'awaab-significant-investigate', 'awaab-summary', 'awaab-significant-make-safe', 'awaab-further-work-start']);
      for (const p of b.hazards) {
        const open = contacts.flatMap((c) => c.clocks).filter((k) => k.standard === p.standard && OPEN_STATUSES.has(k.status));
        expect(p.open, p.standard).toBe(open.length);
        expect(p.atRisk, p.standard).toBe(open.filter((k) => k.status === 'at-risk').length);
        expect(p.breached, p.standard).toBe(open.filter((k) => k.status === 'breached').length);
        const next = Math.min(...open.filter((k) => k.status !== 'breached' && k.status !== 'paused').map((k) => k.dueAt!));
        expect(p.nextDueAt, p.standard).toBe(next === Infinity ? null : new Date(next).toISOString());
      }
      // …and by hand from the five hazard contacts above.
      const hz = Object.fromEntries(b.hazards.map((p) => [p.standard, { open: p.open, atRisk: p.atRisk, breached: p.breached, next: p.nextDueAt }]));
      expect(hz['awaab-emergency-investigate']).toEqual({ open: 2, atRisk: 1, breached: 1, next: '2026-03-10T20:00:00.000Z' });
      expect(hz['awaab-emergency-make-safe']).toEqual({ open: 0, atRisk: 0, breached: 0, next: null });
      expect(hz['awaab-significant-investigate']).toEqual({ open: 2, atRisk: 0, breached: 1, next: '2026-03-25T00:00:00.000Z' });
      expect(hz['awaab-summary']).toMatchObject({ open: 1, breached: 0, next: '2026-03-11T00:00:00.000Z' });
      expect(hz['awaab-significant-make-safe']).toMatchObject({ open: 1, breached: 0, next: '2026-03-13T00:00:00.000Z' });
      expect(hz['awaab-further-work-start']).toEqual({ open: 0, atRisk: 0, breached: 0, next: null });
      // The email tile would show two more breaches (the emergency and the first damp and mould) if it counted them.
      const emailHazardBreaches = contacts.filter((c) => c.channel === 'email').flatMap((c) => c.clocks).filter((k) => k.standard.startsWith('awaab-') && k.status === 'breached');
      expect(emailHazardBreaches.length).toBe(2);

      // Today's tally: kept = met today; broken = due today before now and not met by then.
      const all = contacts.flatMap((c) => c.clocks);
      const standards = new Set(b.tally.map((t) => t.standard));
      for (const s of new Set(all.map((k) => k.standard))) {
        const kept = all.filter((k) => k.standard === s && (k.status === 'met' || k.status === 'met-extended') && k.endedAt! >= DAY_START).length;
        const broken = all.filter((k) => k.standard === s && (k.status === 'breached' || k.status === 'missed' || k.status === 'missed-extended') && k.dueAt !== null && k.dueAt >= DAY_START && k.dueAt < NOW).length;
        const t = b.tally.find((x) => x.standard === s);
        if (kept === 0 && broken === 0) expect(standards.has(s), s).toBe(false);
        else expect(t, s).toMatchObject({ kept, broken });
      }
      expect(b.tally.find((t) => t.standard === 'emergency-arrange-repair')?.broken).toBeGreaterThanOrEqual(1);
      expect(b.tally.find((t) => t.standard === 'complaint-resolve')?.kept).toBe(1);
      expect(localDay(cal, NOW).date).toBe(b.today);
    });
  }
});
