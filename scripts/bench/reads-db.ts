// Bench helper for `npm run bench:reads`: a database of a realistic year, written through the real
// IngestService (validation, content hash, the clock engine, the same rows as a POST), in big
// transactions. Seeded: the same options give the same contacts (relative to `now`).
//
// The year: `contacts` contacts over the 52 weeks up to `now` (~20,000 a week at 1,000,000), weekdays
// busier than weekends, most in opening hours (08:00–17:00 Europe/London, peak mid-morning), all five
// channels and three routes in a contact centre's proportions, every category. Each contact carries
// the events that happened to it by `now`: calls answered (some after 5 minutes), abandoned (some
// within 5 s) or called back; written contacts replied (some late), assigned, a few cancelled;
// complaints acknowledged, paused and resumed, extended, resolved; emergencies attended and their
// repairs arranged; a few recategorised. A backlog is left open: work not yet done, most of it
// recent (a bad few weeks), some of it old (forgotten cases), ~10% of all contacts.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER, openDatabase } from '../../db/connection.js';
import { localToUtc } from '../../server/domain/calendar.js';
import { zoneOffset } from '../../server/domain/time.js';
import type { Category, Channel, Route } from '../../server/domain/model.js';
import { IngestService, type ContactInput } from '../../server/ingest/service.js';
import { mulberry32 } from '../lib/prng.js';

/** Bump when the generated data or the way it is written changes: a cached file with another version is rebuilt. */
export const GENERATOR_VERSION = 1;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ZONE = 'Europe/London';

export interface YearOptions {
  contacts: number;
  seed: number;
  /** The end of the year (the build's "now"): contacts are received up to it, events happen up to it. */
  now: number;
  /** Share of written and complaint work left undone, beyond the recent backlog (tunes the open total). */
  tail?: number;
}

const FIRST = ['Ann', 'Bill', 'Chloe', 'Dev', 'Ellie', 'Femi', 'Gwen', 'Harry', 'Isla', 'Jack', 'Kiran', 'Lena', 'Mo', 'Nia', 'Owen', 'Priya', 'Rhys', 'Sara', 'Tom', 'Zara'];
const LAST = ['Example', 'Sample', 'Specimen', 'Placeholder', 'Testcase', 'Dummy', 'Fictional', 'Madeup', 'Pretend', 'Notreal', 'Invented', 'Imaginary', 'Synthetic', 'Mockup', 'Lorem', 'Ipsum'];
const STREETS = ['Harbour View', 'Chapel Street', 'Fore Street', 'Station Road', 'Mill Lane', 'Church Close', 'Trelawney Road', 'Park Crescent'];
const TOWNS = ['Exampleton', 'Sampleford', 'Testbury', 'Placeham', 'Dummyport', 'Fictionby', 'Madeupton', 'Notrealwick'];
/** Advisors contacts are assigned to. */
export const ADVISORS = Array.from({ length: 40 }, (_, i) => `advisor-${String(i + 1).padStart(2, '0')}`);
const SUBJECTS: Record<Category, string[]> = {
  general: ['Rent account query', 'Change of contact details', 'Question about my tenancy', 'Service charge query', 'Parking permit'],
  repair: ['Dripping tap in kitchen', 'Broken window latch', 'Damp in bedroom', 'Fence panel down', 'Extractor fan not working'],
  'hazard-emergency': ['Smell of gas in the kitchen', 'Exposed wiring in the hallway'],
  'hazard-significant': ['Black mould in the bedroom', 'Damp and condensation on the walls'],
  'emergency-repair': ['No heating or hot water', 'Water leaking through ceiling', 'Front door will not lock', 'Smell of gas reported', 'Electrics tripping'],
  complaint: ['Repair not completed', 'Missed appointment', 'Nobody called me back', 'Noise complaint not handled', 'Damp and mould still not fixed'],
  asb: ['Noise from neighbours', 'Fly-tipping in the car park', 'Harassment from neighbour', 'Dog fouling in communal area'],
  feedback: ['Suggestion for the estate', 'Feedback on the website', 'Feedback on a repair visit'],
  compliment: ['Thank you to the repairs team', 'Great service from the advisor', 'Thanks for the quick fix'],
};
const SUMMARY = 'The customer explained the problem in detail and asked when someone would get back to them; they are at home most weekdays and would prefer a morning visit.';

/** Weekday weights (Sunday first): Monday busiest, weekends quiet. */
const WEEKDAY = [0.18, 1.3, 1.1, 1.0, 0.95, 0.85, 0.22];
/** Opening-hours profile, per hour from 08:00 to 16:00 local (mid-morning peak). */
const HOURS = [1.2, 1.6, 1.5, 1.2, 1.0, 1.0, 0.9, 0.8, 0.7];

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

function weighted<T extends string>(rnd: () => number, table: ReadonlyArray<readonly [T, number]>): T {
  let r = rnd() * table.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of table) {
    r -= w;
    if (r < 0) return v;
  }
  return table[table.length - 1]![0];
}

type Ev = Record<string, unknown> & { type: string; at: number };

/** The local (Europe/London) day number of an instant. */
const localDay = (t: number) => Math.floor((t + zoneOffset(ZONE, t)) / DAY);

/** The contacts of the year, oldest first (so ids, which are time-ordered, go in order as in real life). */
export function* yearOfContacts(o: YearOptions): Generator<ContactInput> {
  const rnd = mulberry32(o.seed);
  const tail = o.tail ?? 0.14;
  const chance = (p: number) => rnd() < p;
  const between = (lo: number, hi: number) => lo + rnd() * (hi - lo);
  const exp = (mean: number) => -Math.log(1 - rnd()) * mean;
  // Local days: the 364 before today, and today up to now.
  const today = localDay(o.now);
  const days = Array.from({ length: 365 }, (_, i) => today - 364 + i);
  const weights = days.map((d) => WEEKDAY[new Date(d * DAY).getUTCDay()]!);
  const total = weights.reduce((s, w) => s + w, 0);
  let n = 0;
  for (const [di, day] of days.entries()) {
    const midnight = localToUtc(ZONE, day * DAY);
    const expected = (o.contacts * weights[di]!) / total;
    const count = Math.max(0, Math.round(expected * between(0.9, 1.1)));
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      let local: number; // ms after local midnight
      if (chance(0.9)) {
        local = 8 * HOUR + Math.floor(weightedHour(rnd) * HOUR + rnd() * HOUR);
      } else {
        local = chance(0.5) ? between(17 * HOUR, 24 * HOUR) : between(0, 8 * HOUR);
      }
      const at = midnight + Math.floor(local);
      if (at <= o.now) times.push(at);
    }
    times.sort((a, b) => a - b);
    for (const receivedAt of times) {
      yield contactAt(receivedAt, n++);
    }
  }

  function contactAt(receivedAt: number, i: number): ContactInput {
    const age = o.now - receivedAt;
    const day = localDay(receivedAt);
    const localHour = (receivedAt - localToUtc(ZONE, day * DAY)) / HOUR;
    const dow = new Date(day * DAY).getUTCDay();
    const inHours = dow >= 1 && dow <= 5 && localHour >= 8 && localHour < 17;
    const channel: Channel = inHours
      ? weighted<Channel>(rnd, [['phone', 0.56], ['email', 0.2], ['webform', 0.1], ['voicemail', 0.06], ['social', 0.08]])
      : weighted<Channel>(rnd, [['phone', 0.3], ['email', 0.32], ['webform', 0.2], ['voicemail', 0.08], ['social', 0.1]]);
    let route: Route = 'customer-services';
    if (channel === 'phone' && !inHours) route = 'out-of-hours';
    if ((channel === 'email' && chance(0.15)) || (channel === 'social' && chance(0.08))) route = 'colleague-direct';
    let category = weighted<Category>(rnd, [
      ['general', 0.58],
      ['repair', 0.24],
      ['emergency-repair', 0.04],
      ['complaint', 0.02],
      ['asb', 0.05],
      ['feedback', 0.04],
      ['compliment', 0.03],
    ]);
    if (route === 'out-of-hours' && chance(0.6)) category = 'emergency-repair';
    const ageDays = age / DAY;
    // Work not done yet: heavy for the last few weeks (a backlog), a thin tail over the year.
    const stuck = () => chance(0.75 * Math.exp(-ageDays / 18) + tail);
    const events: Ev[] = [];
    const at = (delay: number) => receivedAt + Math.max(0, Math.round(delay));
    const advisor = pick(rnd, ADVISORS);

    if (channel === 'phone' && route === 'customer-services') {
      const p = rnd();
      const wait = exp(100_000); // queue wait, mean 100 s: some answered after 5 minutes
      if (p < 0.8) events.push({ type: 'answered', at: at(wait) });
      else if (p < 0.92) events.push({ type: 'abandoned', at: at(chance(0.3) ? between(0, 4_999) : wait) });
      else {
        const req = between(MINUTE, 4 * MINUTE);
        events.push({ type: 'callback-requested', at: at(req) });
        if (chance(0.9)) events.push({ type: 'callback-connected', at: at(req + between(2 * MINUTE, 45 * MINUTE)) });
      }
      if (events[0]!.type === 'answered' && chance(0.3)) events.push({ type: 'assigned', at: events[0]!.at, assignee: advisor });
    } else if (channel !== 'phone' && category !== 'complaint') {
      if (chance(0.4)) events.push({ type: 'assigned', at: at(between(MINUTE, 3 * HOUR)), assignee: advisor });
      if (chance(0.02)) events.push({ type: 'cancelled', reason: chance(0.6) ? 'spam' : 'duplicate', at: at(between(5 * MINUTE, 4 * HOUR)) });
      else if (!stuck()) events.push({ type: 'replied', at: at(exp(12 * HOUR)) });
    }
    if (category === 'general' && chance(0.01)) {
      category = 'complaint'; // recategorised below: the contact was received as general
      events.push({ type: 'recategorised', category: 'complaint', at: at(between(HOUR, 2 * DAY)) });
    }
    if (category === 'complaint') {
      events.push({ type: 'assigned', at: at(between(5 * MINUTE, 2 * HOUR)), assignee: advisor });
      if (!stuck() || chance(0.5)) events.push({ type: 'acknowledged', at: at(between(10 * MINUTE, 30 * HOUR)), reference: `CMP-${100000 + i}`, owner: advisor });
      if (chance(0.15)) {
        const pausedAt = between(DAY, 6 * DAY);
        events.push({ type: 'paused', clock: 'complaint-resolve', reason: 'awaiting information from the customer', at: at(pausedAt) });
        if (chance(0.85)) events.push({ type: 'resumed', clock: 'complaint-resolve', at: at(pausedAt + between(2 * HOUR, 4 * DAY)) });
      }
      if (chance(0.08)) events.push({ type: 'extended', clock: 'complaint-resolve', until: receivedAt + 24 * DAY, reason: 'agreed with the customer', at: at(between(7 * DAY, 12 * DAY)) });
      if (!stuck()) events.push({ type: 'resolved', at: at(between(DAY, 18 * DAY)) });
    } else if (category === 'emergency-repair') {
      const attended = between(30 * MINUTE, 30 * HOUR);
      if (chance(0.5)) events.push({ type: 'attended', at: at(attended), appointmentArranged: true });
      else {
        events.push({ type: 'attended', at: at(attended) });
        if (chance(0.1)) {
          events.push({ type: 'paused', clock: 'emergency-arrange-repair', reason: 'no access', at: at(attended + HOUR) });
          events.push({ type: 'resumed', clock: 'emergency-arrange-repair', at: at(attended + DAY) });
        }
        if (!stuck()) events.push({ type: 'appointment-arranged', at: at(attended + between(HOUR, 4 * DAY)) });
      }
    }

    // Only what has happened by now.
    const happened = events.filter((e) => e.at <= o.now).sort((a, b) => a.at - b.at);
    const name = `${pick(rnd, FIRST)} ${pick(rnd, LAST)}`;
    const email = `${name.toLowerCase().replace(' ', '.')}${i % 97}@example.com`;
    const subject = pick(rnd, SUBJECTS[category]);
    const input: ContactInput = {
      channel,
      route,
      category: events.some((e) => e.type === 'recategorised') ? 'general' : category,
      externalId: `${channel}-${i.toString(36)}`,
      receivedAt: new Date(receivedAt).toISOString(),
      customer: {
        name,
        ...(channel === 'email' || channel === 'webform' ? { email } : { phone: `07700 9${String(i % 100000).padStart(5, '0')}` }),
        address: `${1 + (i % 120)} ${pick(rnd, STREETS)}, ${pick(rnd, TOWNS)}`,
        reference: `T${String(100000 + (i % 900000)).padStart(7, '0')}`,
        ...(chance(0.05) ? { accessibilityNeeds: 'Large print' } : {}),
      },
      subject,
      summary: SUMMARY,
      source: sourceOf(channel, route, i),
    };
    if (happened.length > 0) {
      input.events = happened.map((e) => {
        const out: Record<string, unknown> = { ...e, at: new Date(e.at).toISOString() };
        if (typeof e.until === 'number') out.until = new Date(e.until).toISOString();
        return out;
      });
    }
    return input;
  }

  function weightedHour(r: () => number): number {
    let x = r() * HOURS.reduce((s, w) => s + w, 0);
    for (let h = 0; h < HOURS.length; h++) {
      x -= HOURS[h]!;
      if (x < 0) return h;
    }
    return HOURS.length - 1;
  }

  function sourceOf(channel: Channel, route: Route, i: number): Record<string, unknown> {
    switch (channel) {
      case 'phone':
        return { callId: `call-${i}`, queue: route };
      case 'voicemail':
        return { callId: `vm-${i}`, queue: route, durationSeconds: 20 + (i % 90) };
      case 'email':
        return { messageId: `<${i}.${(i * 7919).toString(36)}@mail.example.com>`, attachments: [] };
      case 'social': {
        const kind = chance(0.6) ? 'message' : 'comment';
        return { platform: 'facebook', kind, senderId: `psid-${Math.floor(rnd() * 40_000)}`, ...(kind === 'comment' ? { postId: `post-${i % 500}` } : {}) };
      }
      default:
        return { form: 'contact-us', ip: '127.0.0.1' };
    }
  }
}

export interface BuildInfo {
  generatorVersion: number;
  contacts: number;
  seed: number;
  tail: number;
  now: number;
  builtAt: string;
  buildSeconds: number;
  rows: { contacts: number; events: number; clocks: number; openClocks: number; openContacts: number };
  bytes: number;
}

/**
 * Creates `file` afresh: every contact through `IngestService.createContact` (the POST path less
 * HTTP), 4,096 in flight at a time, so the group-commit writer runs them in transactions of 512 (its
 * batch), then ANALYZE (as after any big import) and a checkpoint. `synchronous = OFF` while building:
 * the file is a cache, and a crash mid-build leaves no version file, so it is rebuilt.
 */
export async function buildYear(file: string, o: YearOptions, progress: (done: number) => void = () => {}): Promise<BuildInfo> {
  const started = performance.now();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const connection = openDatabase(file);
  try {
    connection.sqlite.pragma('synchronous = OFF');
    connection.sqlite.pragma('cache_size = -262144'); // 256 MB while building
    const service = new IngestService(connection);
    const inFlight: Array<Promise<unknown>> = [];
    let done = 0;
    for (const input of yearOfContacts(o)) {
      inFlight.push(service.createContact(input));
      if (inFlight.length === 4096) {
        await Promise.all(inFlight.splice(0));
        done += 4096;
        if (done % (4096 * 25) === 0) progress(done);
      }
    }
    await Promise.all(inFlight.splice(0));
    connection.sqlite.exec('ANALYZE');
    connection.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const one = (sql: string) => (connection.sqlite.prepare(sql).get() as { n: number }).n;
    const rows = {
      ...(await service.contacts.countRows()),
      openClocks: one('SELECT COUNT(*) AS n FROM clocks WHERE open = 1'),
      openContacts: one('SELECT COUNT(DISTINCT contact_id) AS n FROM clocks WHERE open = 1'),
    };
    const bytes = one('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()');
    return {
      generatorVersion: GENERATOR_VERSION,
      contacts: o.contacts,
      seed: o.seed,
      tail: o.tail ?? 0.14,
      now: o.now,
      builtAt: new Date().toISOString(),
      buildSeconds: (performance.now() - started) / 1000,
      rows,
      bytes,
    };
  } finally {
    connection.close();
  }
}

/** The migrations a database built now has, as their journal (each one's name and when it was made). */
function schemaJournal(): string {
  return readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8');
}

/**
 * A stable digest of the options and the migrations (the cache key): a cached file built before a
 * migration would otherwise be migrated by the server at start, inside the start-up measured.
 */
export function optionsKey(o: Omit<YearOptions, 'now'>): string {
  return createHash('sha256').update(JSON.stringify([GENERATOR_VERSION, o.contacts, o.seed, o.tail ?? 0.14, schemaJournal()])).digest('hex').slice(0, 12);
}
