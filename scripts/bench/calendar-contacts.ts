// Realistic contacts as JSON lines (STANDARDS §8) for the `evaluate` part of `npm run bench:calendar`:
// all five channels, the three routes, every category (some complaints and emergencies), and the
// events a contact centre sends: answered, abandoned (some short), callbacks, replied, assigned,
// acknowledged/resolved, pauses and resumes, extensions, attended, recategorised, cancelled.
// Seeded, so every run evaluates the same file.
import { prng } from './calendar-cases.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const FROM = Date.UTC(2026, 0, 5);
const UNTIL = Date.UTC(2026, 10, 21);

interface Ev {
  type: string;
  at: number;
  [k: string]: unknown;
}

/** `n` contacts received in 2026 up to 21 November, judged as of `now`; returns the JSON lines. */
export function makeContactLines(n: number, seed: number, now: number): string[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number) => rnd() < p;
  const owners = ['a.khan', 'b.jones', 'c.evans', 'd.smith', 'e.brown', 'f.taylor', 'g.wilson', 'h.davies'];
  const pickOwner = () => owners[int(0, owners.length - 1)]!;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    // Mostly in opening hours on weekdays (08:00–17:00 local is about 07:00–17:00 UTC over the year).
    let receivedAt: number;
    const day = FROM + int(0, (UNTIL - FROM) / DAY - 1) * DAY;
    const wd = new Date(day).getUTCDay();
    if (chance(0.8) && wd >= 1 && wd <= 5) receivedAt = day + int(7 * HOUR, 17 * HOUR);
    else receivedAt = day + int(0, DAY - 1);

    const r = rnd();
    const channel = r < 0.4 ? 'phone' : r < 0.65 ? 'email' : r < 0.77 ? 'webform' : r < 0.92 ? 'social' : 'voicemail';
    let route = 'customer-services';
    if (channel === 'phone' && chance(0.08)) route = 'out-of-hours';
    if ((channel === 'email' && chance(0.2)) || (channel === 'social' && chance(0.1))) route = 'colleague-direct';
    const c = rnd();
    let category =
      c < 0.05 ? 'complaint' : c < 0.08 ? 'emergency-repair' : c < 0.18 ? 'repair' : c < 0.2 ? 'asb' : c < 0.23 ? 'feedback' : c < 0.25 ? 'compliment' : 'general';
    if (route === 'out-of-hours' && chance(0.6)) category = 'emergency-repair';

    const events: Ev[] = [];
    const at = (delay: number) => receivedAt + Math.max(0, Math.round(delay));
    if (channel === 'phone') {
      const p = rnd();
      const wait = -Math.log(1 - rnd()) * 90_000; // queue wait, mean 90 s; some well past 5 min
      if (p < 0.75) events.push({ type: 'answered', at: at(wait) });
      else if (p < 0.87) events.push({ type: 'abandoned', at: at(chance(0.3) ? int(0, 4_999) : wait) });
      else if (p < 0.93) {
        const req = int(60_000, 240_000);
        events.push({ type: 'callback-requested', at: at(req) });
        if (chance(0.85)) events.push({ type: 'callback-connected', at: at(req + int(2 * MINUTE, 40 * MINUTE)) });
      } else if (p < 0.95) {
        // still queued (as of now, long breached) or never logged: left without events
      } else events.push({ type: 'answered', at: at(wait) }, { type: 'identity-verified', at: at(wait + int(20_000, 120_000)) });
      if (events.length > 0 && chance(0.3)) events.push({ type: 'assigned', at: events[0]!.at, assignee: pickOwner() });
    } else if (category !== 'complaint') {
      if (chance(0.5)) events.push({ type: 'assigned', at: at(int(MINUTE, 3 * HOUR)), assignee: pickOwner() });
      if (chance(0.85)) events.push({ type: 'replied', at: at(-Math.log(1 - rnd()) * 14 * HOUR) });
    }
    if (category === 'complaint') {
      const owner = pickOwner();
      if (chance(0.92)) events.push({ type: 'acknowledged', at: at(int(10 * MINUTE, 30 * HOUR)), reference: `CMP-${100000 + i}`, owner });
      let pausedAt = 0;
      if (chance(0.15)) {
        pausedAt = int(1 * DAY, 6 * DAY);
        events.push({ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting information from the customer', at: at(pausedAt) });
        if (chance(0.8)) events.push({ type: 'resumed', clock: 'complaint-resolve', at: at(pausedAt + int(2 * HOUR, 4 * DAY)) });
      }
      if (chance(0.05)) events.push({ type: 'extended', clock: 'complaint-resolve', until: new Date(receivedAt + 24 * DAY).toISOString(), reason: 'agreed with the customer', at: at(int(7 * DAY, 12 * DAY)) });
      if (chance(0.7)) events.push({ type: 'resolved', at: at(int(1 * DAY, 20 * DAY)) });
    } else if (category === 'emergency-repair') {
      const attended = int(30 * MINUTE, 30 * HOUR);
      if (chance(0.5)) events.push({ type: 'attended', at: at(attended), appointmentArranged: true });
      else {
        events.push({ type: 'attended', at: at(attended) });
        if (chance(0.1)) events.push({ type: 'paused', clock: 'emergency-arrange-repair', reason: 'no access', at: at(attended + HOUR) }, { type: 'resumed', clock: 'emergency-arrange-repair', at: at(attended + DAY) });
        if (chance(0.85)) events.push({ type: 'appointment-arranged', at: at(attended + int(HOUR, 4 * DAY)) });
      }
    }
    if (category === 'general' && chance(0.01)) events.push({ type: 'recategorised', category: 'complaint', at: at(int(HOUR, 2 * DAY)) });
    if (chance(0.01)) events.push({ type: 'cancelled', reason: chance(0.5) ? 'spam' : 'duplicate', at: at(int(MINUTE, 4 * HOUR)) });

    // Only what has happened by `now`; a tenth arrive out of order (a replayed log).
    const kept = events.filter((e) => e.at <= now);
    if (chance(0.9)) kept.sort((a, b) => a.at - b.at);
    else kept.reverse();
    const contact: Record<string, unknown> = { id: `c-${i + 1}`, channel };
    if (route !== 'customer-services' || chance(0.5)) contact.route = route;
    if (category !== 'general' || chance(0.3)) contact.category = category;
    contact.externalId = `${channel}-${(i + 1).toString(36)}`;
    contact.receivedAt = new Date(receivedAt).toISOString();
    if (kept.length > 0) contact.events = kept.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    lines.push(JSON.stringify(contact));
  }
  return lines;
}
