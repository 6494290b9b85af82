// A realistic Tuesday afternoon in a housing contact centre, posted through the real API: a day of
// calls and written contacts so far, yesterday's unanswered backlog, and a queue building up now.
// Used for the screenshots in docs/screenshots. Deterministic (seeded), relative to `now`.
import { postJson } from './browser.js';
import { mulberry32 as random } from '../../scripts/lib/prng.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Moves this process's clock to `to` (time keeps flowing from there): the server, which runs in
 * the test process, then lives on that day. Returns a function that puts the clock back.
 */
export function shiftClock(to: number): () => void {
  const RealDate = Date;
  const offset = to - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  return () => {
    globalThis.Date = RealDate;
  };
}


const FIRST = ['Joanne', 'Gareth', 'Priya', 'Liam', 'Sandra', 'David', 'Megan', 'Tomasz', 'Aisha', 'Graham', 'Chloe', 'Rhys', 'Fatima', 'Colin', 'Bethan', 'Yusuf', 'Karen', 'Owen', 'Leanne', 'Marcus'];
const LAST = ['Pritchard', 'Evans', 'Okafor', "O'Connor", 'Hughes', 'Nowak', 'Begum', 'Trelawny', 'Rowe', 'Penrose', 'Ahmed', 'Jenkins', 'Carter', 'Mason', 'Harvey', 'Lewis'];
const ADVISORS = ['Priya Shah', 'Tom Hall', 'Aisha Khan', 'Dan Webb', 'Megan Rees', 'Sam Cole'];
const IVR = ['Repairs', 'Rent and payments', 'Tenancy', 'Antisocial behaviour', 'Repairs', 'Repairs', 'Rent and payments'];
const WRITTEN = [
  'Leaking kitchen tap',
  'Rent statement request',
  'Noise from upstairs flat',
  'Change repair appointment',
  'Service charge query',
  'Mould on bathroom ceiling',
  'Parking permit',
  'Key safe request',
  'Bins not collected',
  'Direct debit date change',
  'Window will not close',
  'Mutual exchange enquiry',
];

/** Today's contacts per half hour from 08:00, by channel (a Tuesday: a morning peak, a lunch dip). */
const CURVE = {
  phone: [22, 34, 46, 52, 48, 41, 36, 33, 30, 28, 34, 38, 36],
  email: [9, 12, 14, 13, 11, 10, 9, 8, 8, 9, 10, 11, 10],
  webform: [3, 4, 5, 6, 5, 4, 4, 3, 3, 4, 4, 5, 4],
  social: [2, 3, 3, 4, 3, 3, 2, 3, 4, 3, 2, 3, 3],
  voicemail: [1, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1],
};

type Body = Record<string, unknown>;

/**
 * The centre's named phone queues (KEPT_PHONE_QUEUES for a test app showing the scene): the IVR's
 * repairs choice, and the rents, tenancy and antisocial behaviour choices.
 */
export const SCENE_PHONE_QUEUES = JSON.stringify([
  { id: 'repairs', name: 'Repairs line', route: 'customer-services', category: 'repair', match: ['Repairs'] },
  { id: 'rents', name: 'Rents line', route: 'customer-services', match: ['Rent and payments', 'Tenancy', 'Antisocial behaviour'] },
]);

/** Posts the scene; `now` is the server's now (a Tuesday about 14:35 local, Europe/London in winter). */
export async function seedScene(base: string, token: string, now: number): Promise<number> {
  const rnd = random(20260310);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const name = () => `${pick(FIRST)} ${pick(LAST)}`;
  const iso = (ms: number) => new Date(ms).toISOString();
  const day = new Date(now);
  const today = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()); // London = UTC in March
  const yesterday = today - 24 * HOUR;
  const at = (base: number, h: number, m: number) => base + h * HOUR + m * MINUTE;
  const queued = (callId: string, receivedAt: number, ivr: string, customer = name()): Body => ({ callId, event: 'queued', at: iso(receivedAt), queue: ivr, caller: { name: customer } });
  /** Answered by an advisor; ended after a few minutes' talk and a minute or two of wrap-up (handle time), when that is past. */
  const answered = (callId: string, when: number): Body[] => {
    const agent = pick(ADVISORS);
    const talk = Math.round(150 + rnd() * 330);
    const wrap = Math.round(40 + rnd() * 100);
    const out: Body[] = [{ callId, event: 'answered', at: iso(when), agent }];
    if (when + (talk + wrap) * 1000 < now) out.push({ callId, event: 'ended', at: iso(when + (talk + wrap) * 1000), talkSeconds: talk, wrapSeconds: wrap });
    return out;
  };
  const bodies: Body[] = [];
  /** Calls, each its log in Kept's telephony format (POST /api/v1/ingest/telephony): the queue from the IVR choice. */
  const calls: Body[][] = [];
  let n = 0;
  const id = (channel: string) => `scene-${channel}-${++n}`;

  // Today's calls up to eight minutes ago: most answered within five minutes, the morning peak slower.
  CURVE.phone.forEach((count, i) => {
    const from = at(today, 8, 30 * i);
    for (let k = 0; k < count; k++) {
      const receivedAt = from + rnd() * 30 * MINUTE;
      if (receivedAt > now - 8 * MINUTE) continue;
      const peak = i >= 2 && i <= 5;
      const wait = Math.min(-Math.log(1 - rnd()) * (peak ? 140_000 : 65_000) + 8000, 14 * MINUTE);
      const roll = rnd();
      const callId = id('phone');
      const events: Body[] = [queued(callId, receivedAt, pick(IVR))];
      if (roll < 0.015) {
        events.push({ callId, event: 'abandoned', at: iso(receivedAt + 1000 + rnd() * 3000) });
      } else if (roll < 0.065) {
        events.push({ callId, event: 'abandoned', at: iso(receivedAt + 20_000 + rnd() * 5 * MINUTE) });
      } else if (roll < 0.1) {
        const asked = receivedAt + 60_000 + rnd() * 3 * MINUTE;
        events.push({ callId, event: 'callback-requested', at: iso(asked) });
        events.push({ callId, event: 'callback-connected', at: iso(Math.min(asked + (15 + rnd() * 60) * MINUTE, now - 2 * MINUTE)) });
      } else {
        events.push(...answered(callId, Math.min(receivedAt + wait, now - MINUTE)));
      }
      calls.push(events);
    }
  });
  // The last few minutes: answered quickly.
  for (let s = 7.5 * 60; s > 3 * 60; s -= 20 + rnd() * 25) {
    const receivedAt = now - s * 1000;
    const callId = id('phone');
    calls.push([queued(callId, receivedAt, pick(IVR)), ...answered(callId, receivedAt + 40_000 + rnd() * 60_000)]);
  }

  // Today's written contacts: replied to within a few working hours; the newest are still waiting.
  for (const channel of ['email', 'webform', 'social', 'voicemail'] as const) {
    CURVE[channel].forEach((count, i) => {
      const from = at(today, 8, 30 * i);
      for (let k = 0; k < count; k++) {
        const receivedAt = from + rnd() * 30 * MINUTE;
        if (receivedAt > now) continue;
        const replyAt = receivedAt + (25 + rnd() * 260) * MINUTE;
        const advisor = pick(ADVISORS);
        const events: Body[] = [];
        if (replyAt < now) {
          events.push({ type: 'assigned', assignee: advisor, at: iso(replyAt - 10 * MINUTE) });
          events.push({ type: 'replied', at: iso(replyAt) });
        } else if (rnd() < 0.5 && receivedAt < now - 25 * MINUTE) {
          events.push({ type: 'assigned', assignee: advisor, at: iso(receivedAt + 20 * MINUTE) });
        }
        bodies.push({ channel, externalId: id(channel), receivedAt: iso(receivedAt), customer: { name: name() }, subject: pick(WRITTEN), events });
      }
    });
  }
  // Voicemails left overnight, picked up first thing.
  for (let k = 0; k < 7; k++) {
    const receivedAt = at(today, 6, 50) + rnd() * 70 * MINUTE;
    bodies.push({ channel: 'voicemail', externalId: id('voicemail'), receivedAt: iso(receivedAt), customer: { name: name() }, subject: pick(WRITTEN), events: [{ type: 'replied', at: iso(at(today, 8, 20 + k * 9)) }] });
  }

  // Yesterday's backlog: the rows a team lead needs to see.
  const named = (channel: string, receivedAt: number, customer: string, subject: string, extra: Body = {}, events: Body[] = []): Body => ({
    channel,
    externalId: id(channel),
    receivedAt: iso(receivedAt),
    customer: { name: customer },
    subject,
    ...extra,
    events,
  });
  const assigned = (who: string, when: number): Body => ({ type: 'assigned', assignee: who, at: iso(when) });
  bodies.push(
    // Made safe the same afternoon; the follow-on repair is not booked yet.
    named('phone', at(yesterday, 8, 40), 'Gareth Example', 'Boiler leaking onto electrics, elderly resident', { category: 'emergency-repair' }, [
      { type: 'answered', at: iso(at(yesterday, 8, 42)) },
      assigned('Repairs desk', at(yesterday, 8, 50)),
      { type: 'attended', at: iso(at(yesterday, 13, 15)) },
    ]),
    named('phone', at(yesterday, 11, 50), 'Megan Sample', 'Front door will not lock', { category: 'emergency-repair' }, [
      { type: 'answered', at: iso(at(yesterday, 11, 53)) },
      assigned('Repairs desk', at(yesterday, 12, 0)),
      { type: 'attended', at: iso(at(yesterday, 15, 40)) },
    ]),
    // A damp-and-mould report confirmed as a significant hazard (Awaab's Law: investigated within 10 working days).
    named('email', at(yesterday, 13, 5), 'Joanne Specimen', 'Damp and mould in the bedroom again', { category: 'hazard-significant' }, [assigned('Priya Shah', at(yesterday, 15, 0))]),
    // An emergency hazard reported last evening: its 24-hour investigation is past half way, so at risk.
    named('phone', at(yesterday, 17, 10), 'Aisha Placeholder', 'Smell of gas in the kitchen', { category: 'hazard-emergency' }, [
      { type: 'answered', at: iso(at(yesterday, 17, 11)) },
      assigned('Repairs desk', at(yesterday, 17, 20)),
      { type: 'investigation-started', at: iso(at(yesterday, 18, 30)) },
    ]),
    named('webform', at(yesterday, 14, 15), "Liam O'Fictional", 'Fence panel down after the storm'),
    named('email', at(yesterday, 15, 40), 'Fatima Testcase', 'Rent account shows a payment missing', {}, [assigned('Tom Hall', at(today, 9, 0))]),
    named('voicemail', at(yesterday, 15, 55), 'Colin Dummy', 'Asked for a call back about his rent'),
    named('social', at(yesterday, 16, 5), 'Bethan Pretend', 'Private message: contractor did not turn up', {}, [assigned('Aisha Khan', at(today, 10, 15))]),
    named('email', at(yesterday, 17, 30), 'David Notreal', 'Repeated missed repair appointments', { category: 'complaint' }, [assigned('Megan Rees', at(today, 11, 0))]),
    named('email', at(yesterday, 16, 20), 'Tomasz Invented', 'Request for adaptations in the bathroom', {}, [assigned('Dan Webb', at(today, 13, 30))]),
  );

  // The queue right now: nine calls, two of them over five minutes.
  const queue: Array<[number, string, string]> = [
    [7 * 60 + 12, 'Sandra Okafor', 'Repairs'],
    [5 * 60 + 40, 'Owen Jenkins', 'Rent and payments'],
    [4 * 60 + 25, 'Leanne Carter', 'Repairs'],
    [4 * 60 + 5, 'Marcus Harvey', 'Tenancy'],
    [2 * 60 + 40, 'Chloe Mason', 'Repairs'],
    [110, 'Rhys Lewis', 'Antisocial behaviour'],
    [65, 'Karen Penrose', 'Rent and payments'],
    [40, 'Graham Ahmed', 'Repairs'],
    [15, 'Yusuf Rowe', 'Tenancy'],
  ];
  for (const [ageSeconds, customer, subject] of queue) {
    const callId = id('phone');
    calls.push([queued(callId, now - ageSeconds * 1000, subject, customer)]);
  }

  // Post them, a few at a time.
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await postJson(base, token, '/api/v1/contacts', body);
    }
  };
  let nextCall = 0;
  const caller = async () => {
    while (nextCall < calls.length) {
      const log = calls[nextCall++]!;
      await postJson(base, token, '/api/v1/ingest/telephony', log);
    }
  };
  await Promise.all([...Array.from({ length: 8 }, worker), ...Array.from({ length: 4 }, caller)]);
  // The advisors' states as Genesys Cloud reports them (routing status): most taking calls now.
  const STATUS = ['INTERACTING', 'INTERACTING', 'IDLE', 'INTERACTING', 'OFF_QUEUE', 'IDLE'];
  await postJson(
    base,
    token,
    '/api/v1/ingest/genesys-cloud',
    ADVISORS.map((advisor, i) => ({ topicName: `v2.users.scene-${i}.routingStatus`, version: '2', eventBody: { user: { name: advisor }, routingStatus: { status: STATUS[i], startTime: iso(now - (3 + i) * MINUTE) } } })),
  );
  return bodies.length + calls.length;
}
