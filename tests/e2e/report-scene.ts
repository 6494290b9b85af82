// Twelve weeks of a housing contact centre's work, posted through the real API, for the weekly
// report's end-to-end test and screenshots: calls (answered, late, abandoned, short abandons,
// callbacks, identity checks), emails and social messages replied to in and out of time (a few
// never: still breached), complaints acknowledged, resolved, extended or left open past target, a
// closure in the last week. Deterministic (seeded); the service gets a little better week by week,
// with one bad week, so the trend has a shape. Working days only (bank holidays skipped), London time.
import { localToUtc } from '../../server/domain/calendar.js';
import { mulberry32 } from '../../scripts/lib/prng.js';
import { postJson } from './browser.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ZONE = 'Europe/London';

const ADVISORS = ['priya.shah@staff.example.org', 'tom.hall@staff.example.org', 'aisha.khan@staff.example.org', 'dan.webb@staff.example.org', 'megan.rees@staff.example.org'];
const FIRST = ['Joanne', 'Gareth', 'Priya', 'Liam', 'Sandra', 'David', 'Megan', 'Tomasz', 'Aisha', 'Graham', 'Chloe', 'Rhys', 'Fatima', 'Colin'];
const LAST = ['Example', 'Sample', 'Specimen', 'Placeholder', 'Testcase', 'Dummy', 'Fictional', 'Madeup', 'Pretend', 'Notreal', 'Invented', 'Imaginary'];
const SUBJECTS = ['Leaking kitchen tap', 'Rent statement request', 'Noise from upstairs flat', 'Mould on bathroom ceiling', 'Service charge query', 'Window will not close', 'Bins not collected'];
const COMPLAINTS = ['Repair missed twice', 'Damp not fixed after three visits', 'Rude contractor', 'Service charge wrong again'];

type Body = Record<string, unknown>;

/** Local date + time in London → the instant. */
const london = (day: number, h: number, m = 0) => localToUtc(ZONE, day * DAY + h * HOUR + m * MINUTE);
const dayNumber = (isoDate: string) => Date.parse(`${isoDate}T00:00:00Z`) / DAY;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Posts `weeks` weeks of contacts, the last one starting on `lastMonday` (a local date, 2026-03-30),
 * skipping `holidays` (local dates). Contacts are never later than `now`. Returns how many were posted.
 */
export async function seedReportScene(base: string, token: string, options: { lastMonday: string; weeks: number; holidays: string[]; now: number }): Promise<number> {
  const rnd = mulberry32(20260406);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const name = () => `${pick(FIRST)} ${pick(LAST)}`;
  const bodies: Body[] = [];
  let n = 0;
  let complaintRef = 100;
  const last = dayNumber(options.lastMonday);
  const clamp = (ms: number) => Math.min(ms, options.now - MINUTE);

  for (let w = 0; w < options.weeks; w++) {
    const monday = last - 7 * (options.weeks - 1 - w);
    // Quality improves through the quarter; week 8 is the bad one (sickness, a storm).
    const bad = w === options.weeks - 5;
    const skill = bad ? 0.55 : 0.7 + (0.25 * w) / options.weeks;
    for (let d = 0; d < 5; d++) {
      const day = monday + d;
      if (options.holidays.includes(new Date(day * DAY).toISOString().slice(0, 10))) continue;
      // Calls through the day; Mondays busiest.
      const calls = 7 + Math.floor(rnd() * 8) + (d === 0 ? 5 : 0);
      for (let k = 0; k < calls; k++) {
        const receivedAt = london(day, 8, 0) + Math.floor(rnd() * 8.5 * 60) * MINUTE + Math.floor(rnd() * 60) * 1000;
        if (receivedAt > options.now) continue;
        const roll = rnd();
        const events: Body[] = [];
        if (roll < 0.03) events.push({ type: 'abandoned', at: iso(receivedAt + 2000 + Math.floor(rnd() * 3000)) });
        else if (roll < 0.03 + (1 - skill) * 0.25) events.push({ type: 'abandoned', at: iso(receivedAt + 40_000 + Math.floor(rnd() * 6 * MINUTE)) });
        else if (roll < 0.2) {
          const asked = receivedAt + 90_000;
          events.push({ type: 'callback-requested', at: iso(asked) });
          events.push({ type: 'callback-connected', at: iso(clamp(asked + (rnd() < skill ? 2 : 40) * MINUTE)) });
        } else {
          const wait = rnd() < skill ? 20_000 + rnd() * 200_000 : 320_000 + rnd() * 600_000;
          const answeredAt = clamp(receivedAt + wait);
          events.push({ type: 'answered', at: iso(answeredAt) });
          if (rnd() < 0.8) events.push({ type: 'identity-verified', at: iso(clamp(answeredAt + 45_000)) });
        }
        bodies.push({ channel: 'phone', externalId: `rep-phone-${++n}`, receivedAt: iso(receivedAt), customer: { name: name() }, subject: pick(SUBJECTS), events });
      }
      // Emails and social messages: replied the same day mostly, late sometimes; in the last week a few wait still.
      for (const channel of rnd() < 0.5 ? (['email', 'email', 'email', 'social'] as const) : (['email', 'email', 'email', 'email', 'social', 'social'] as const)) {
        const receivedAt = london(day, 8, 30) + Math.floor(rnd() * 8 * 60) * MINUTE;
        if (receivedAt > options.now) continue;
        const advisor = pick(ADVISORS);
        const events: Body[] = [{ type: 'assigned', assignee: advisor, at: iso(receivedAt + 10 * MINUTE) }];
        const onTime = rnd() < skill;
        const replyAt = receivedAt + (onTime ? 40 + rnd() * 300 : 26 * 60 + rnd() * 48 * 60) * MINUTE;
        const lastWeek = w === options.weeks - 1;
        if (!(lastWeek && !onTime && rnd() < 0.7) && replyAt < options.now) events.push({ type: 'replied', at: iso(replyAt) });
        bodies.push({ channel, externalId: `rep-${channel}-${++n}`, receivedAt: iso(receivedAt), customer: { name: name() }, subject: pick(SUBJECTS), events });
      }
      // A complaint most days: acknowledged the same day (or, when stretched, two days later), resolved in 4–14 working days.
      if (rnd() < 0.7) {
        const receivedAt = london(day, 9, 0) + Math.floor(rnd() * 7 * 60) * MINUTE;
        if (receivedAt > options.now) continue;
        const advisor = pick(ADVISORS);
        const events: Body[] = [{ type: 'assigned', assignee: advisor, at: iso(receivedAt + 15 * MINUTE) }];
        const ackAt = receivedAt + (rnd() < skill ? 3 * HOUR : 50 * HOUR);
        if (ackAt < options.now) events.push({ type: 'acknowledged', reference: `CMP-2026-${String(++complaintRef).padStart(6, '0')}`, owner: advisor, at: iso(ackAt) });
        const roll = rnd();
        if (roll < 0.15) {
          const until = london(day + 26, 17);
          events.push({ type: 'extended', clock: 'complaint-resolve', until: iso(until), reason: 'independent damp survey booked', at: iso(receivedAt + 5 * DAY) });
          const resolveAt = london(day + 18, 11);
          if (resolveAt < options.now) events.push({ type: 'resolved', at: iso(resolveAt) });
        } else if (roll < 0.85) {
          const resolveAt = london(day + (rnd() < skill ? 6 : 17), 14);
          if (resolveAt < options.now) events.push({ type: 'resolved', at: iso(resolveAt) });
        } // else: still open (past target, once ten working days have gone)
        bodies.push({ channel: 'webform', category: 'complaint', externalId: `rep-complaint-${++n}`, receivedAt: iso(receivedAt), customer: { name: name() }, subject: pick(COMPLAINTS), events });
      }
    }
  }

  let next = 0;
  const worker = async () => {
    while (next < bodies.length) await postJson(base, token, '/api/v1/contacts', bodies[next++]!);
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return bodies.length;
}
