// The demo's simulator: plays a working day of a housing contact centre through Kept's real HTTP
// API, at accelerated speed. Instants sent to Kept are real (receivedAt = now when a contact is
// posted, an event's `at` = now when it is posted), so the board's timers and countdowns are live;
// what the speed factor compresses is the time *between* actions:
//
// - arrivals: the simulated day (a Monday, 08:00–17:00) runs `speed` times faster than real time;
// - written work (assign, reply, acknowledge, pause/resume) is planned in simulated working minutes
//   and compressed by `speed` too, whatever the real calendar says (a reply "3 working hours later"
//   comes 6 real minutes later at speed 30, even at night). A real 1-working-day clock therefore
//   does not breach during a demo: the at-risk and breached written rows come from the backlog
//   seeded at the start, placed in the past with the real customer-services calendar (some fall
//   due a few real minutes after the start when the centre is open, so rows turn red live);
// - the phone queue is compressed by `queueSpeed` only (default min(speed, 3)): `phone-answer` is
//   5 minutes of real elapsed time, so a queue compressed 30 times would answer every call within
//   seconds and make every abandon a short one. Short abandons are drawn in real seconds (1–4 s).
import { customerServicesCalendar } from '../server/domain/defaults.js';
import { mulberry32 } from './lib/prng.js';

export type Channel = 'phone' | 'email' | 'webform' | 'social' | 'voicemail';
const CHANNELS: Channel[] = ['phone', 'email', 'webform', 'social', 'voicemail'];

export interface SimulatorOptions {
  /** Kept's base URL, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** An API token. */
  token: string;
  /** Simulated seconds per real second (default 30: the 9-hour day in 18 minutes). */
  speed?: number;
  /** Compression of phone queue waits and callbacks (default min(speed, 3)). */
  queueSpeed?: number;
  /** Random seed (default: from the clock). */
  seed?: number;
  /** Seed a backlog (calls queued, written contacts from earlier, complaints) at the start (default true). */
  backlog?: boolean;
  /** Scales every channel's daily volume (default 1). */
  volume?: number;
  /** Stop by itself after this many real milliseconds. */
  stopAfterMs?: number;
  /** One line per `logEvery` actions (default 25). */
  log?: (line: string) => void;
  logEvery?: number;
  /** Prefix of externalIds, so runs on a kept database do not collide (default from the clock). */
  runId?: string;
}

export interface SimulatorStats {
  contacts: Record<Channel, number>;
  events: Record<string, number>;
  actions: number;
  errors: number;
  firstErrors: string[];
  /** Simulated local time reached, "HH:MM". */
  simTime: string;
}

export interface Simulator {
  readonly stats: SimulatorStats;
  /** Settles when the day is over (all follow-ups done), when `stopAfterMs` passes, or after stop(). */
  readonly done: Promise<SimulatorStats>;
  /** Cancels what is planned and waits for requests in flight. */
  stop(): Promise<SimulatorStats>;
}

// ---------------------------------------------------------------------------------------------
// The day: volumes and intraday curves (half hours from 08:00 to 17:00, a Monday)

const DAY_START_MIN = 8 * 60;
const DAY_END_MIN = 17 * 60;
/** Follow-ups planned after this simulated minute are left for "tomorrow" (they stay open). */
const TEAM_LEAVES_MIN = 17 * 60 + 30;
const HALF_HOURS = (DAY_END_MIN - DAY_START_MIN) / 30;

/** Contacts in the simulated Monday, per channel. */
const DAILY_VOLUME: Record<Channel, number> = { phone: 380, email: 150, webform: 50, social: 26, voicemail: 14 };

/** Relative weights per half hour 08:00…16:30. Phone: the Monday-morning peak; email through the day. */
const CURVE: Record<Channel, number[]> = {
  phone: [1.1, 2.0, 2.4, 2.2, 1.8, 1.5, 1.3, 1.2, 1.0, 1.05, 1.15, 1.1, 1.0, 0.9, 0.85, 0.8, 0.7, 0.5],
  email: [1.3, 1.2, 1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 1.0, 1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7],
  webform: [0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.3, 1.1, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 1.0, 1.0],
  social: [0.6, 0.8, 0.9, 1.0, 1.0, 1.0, 1.2, 1.5, 1.4, 1.0, 0.9, 0.9, 1.0, 1.0, 1.1, 1.2, 1.2, 1.3],
  voicemail: [3.0, 1.2, 0.6, 0.5, 0.5, 0.5, 0.6, 0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.5],
};
const PHONE_MEAN_WEIGHT = CURVE.phone.reduce((s, w) => s + w, 0) / HALF_HOURS;

// ---------------------------------------------------------------------------------------------
// People and words

const FIRST = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Grace', 'Freya', 'Lily', 'Emily', 'Sophie', 'Poppy', 'Evie', 'Jessica', 'Chloe', 'Ruby', 'Megan',
  'Margaret', 'Susan', 'Linda', 'Janet', 'Karen', 'Tracey', 'Dawn', 'Julie', 'Sharon', 'Carol', 'Bethan', 'Niamh', 'Aisha', 'Fatima', 'Priya', 'Zofia',
  'Oliver', 'George', 'Harry', 'Jack', 'Noah', 'Charlie', 'Jacob', 'Alfie', 'Freddie', 'Thomas', 'James', 'William', 'Daniel', 'Ryan', 'Liam', 'Connor',
  'David', 'Paul', 'Mark', 'Gary', 'Steven', 'Ian', 'Keith', 'Trevor', 'Dylan', 'Rhys', 'Callum', 'Mohammed', 'Ahmed', 'Tomasz', 'Kwame', 'Arjun',
];
// Customers' surnames and towns are plainly invented: no real-looking person in a demo or a screenshot (issue 17).
const LAST = [
  'Example', 'Sample', 'Specimen', 'Placeholder', 'Testcase', 'Dummy', 'Fictional', 'Madeup', 'Pretend', 'Notreal', 'Invented', 'Imaginary', 'Synthetic', 'Mockup', 'Lorem', 'Ipsum',
];
const STREETS = ['Harbour View', 'Chapel Street', 'Trelawney Road', 'Fore Street', 'Tamar Close', 'Moorland Road', 'Station Road', 'Rosewarne Gardens', 'Church Lane', 'Penhallow Way', 'Exe Vale Court', 'Kingsley Avenue'];
const TOWNS = [
  ['Exampleton', 'XX1'], ['Sampleford', 'XX2'], ['Testbury', 'XX3'], ['Placeham', 'XX4'], ['Dummyport', 'XX5'], ['Fictionby', 'XX6'], ['Madeupton', 'XX7'], ['Notrealwick', 'XX8'], ['Pretendmouth', 'XX9'], ['Inventon', 'XX10'],
] as const;
/**
 * Advisors are named by their email wherever work is assigned (the key people and integrations meet
 * on): the first two are the demo's advisor accounts (scripts/demo.ts), so they find work in My queue.
 */
export const DEMO_ADVISOR_DOMAIN = 'demo.kept.example';
const advisorEmail = (name: string) => `${name.toLowerCase().replace(/[^a-z ]/g, '').replace(/ +/g, '.')}@${DEMO_ADVISOR_DOMAIN}`;
const ADVISORS = ['Priya Shah', 'Tom Hughes', 'Megan Davies', 'Aled Roberts', 'Sophie Clarke', 'Jamal Ahmed', 'Hannah Wilson', "Ryan O'Connor", 'Chloe Evans', 'Daniel Price', 'Kerenza Pengelly', 'Marek Zielinski'].map(advisorEmail);
const COMPLAINT_OWNERS = ['Karen Whitfield', 'Joe Tremayne', 'Abi Lawson'];
const ACCESSIBILITY = [
  'Hard of hearing: prefers email or text, please do not call',
  'Uses BSL: please offer a video relay interpreter',
  'Visually impaired: screen reader user, plain-text emails please',
  'Dyslexia: short plain-English letters please',
  'Needs extra time on the phone (memory difficulties)',
  'Large print letters please',
  'Speaks Polish: an interpreter helps',
  'Wheelchair user: ground-floor access for any visit',
  'Anxiety: please call ahead before any visit',
  'Lives with dementia: daughter is the main contact',
];

interface Topic {
  category: 'general' | 'repair' | 'asb' | 'complaint' | 'feedback' | 'compliment';
  subject: string;
  summary: string;
}
const TOPICS: Record<Topic['category'], Array<[string, string]>> = {
  repair: [
    ['Boiler not working', 'No heating since last night; two young children in the house.'],
    ['No hot water', 'Hot water stopped this morning; the boiler shows an error code.'],
    ['Damp and mould in bathroom', 'Black mould spreading on the bathroom ceiling again after it was treated.'],
    ['Leaking tap in kitchen', 'The kitchen mixer tap drips constantly.'],
    ['Front door lock sticking', 'Hard to lock the front door; worried about security.'],
    ['Blocked drain outside', 'The drain by the back door is overflowing.'],
    ['Extractor fan not working', 'Bathroom extractor fan stopped; condensation building up.'],
    ['Roof leak in bedroom', 'Water coming through the bedroom ceiling when it rains.'],
    ['Fence panel blown down', 'Two fence panels came down in the wind; dog can get out.'],
    ['Broken window latch', 'Bedroom window will not close properly.'],
    ['Repair appointment to rearrange', 'Cannot be in for Thursday morning; can we move it?'],
  ],
  general: [
    ['Rent account query', 'Balance looks wrong since the last payment.'],
    ['Universal Credit housing costs', 'Needs a rent statement for the Universal Credit claim.'],
    ['Change of direct debit date', 'Would like the direct debit moved to the 15th.'],
    ['Mutual exchange enquiry', 'Interested in swapping to a 2-bed nearer work.'],
    ['Moving out: ending my tenancy', 'Moving into a care home next month; asks how to give notice.'],
    ['Service charge question', 'Asks what the communal cleaning charge covers.'],
    ['Change of contact details', 'New mobile number and email address.'],
    ['Adaptation request: grab rails', 'Needs grab rails by the bath after a fall.'],
    ['Parking permit for the estate', 'Asks how to get a visitor permit.'],
    ['Key fob not working', 'Communal door fob stopped working.'],
  ],
  asb: [
    ['Anti-social behaviour next door', 'Shouting and slammed doors late every night.'],
    ['Noise complaint: loud music at night', 'Music until 3am at the weekend from the flat above.'],
    ['Fly-tipping in the communal area', 'Mattresses and bags dumped by the bin store.'],
    ['Dog fouling on the estate', 'Play area regularly fouled.'],
  ],
  complaint: [
    ['Complaint: repair still not done', 'Third time reporting the same leak; nobody has come.'],
    ['Complaint: missed appointment', 'Took a day off work and the operative never arrived.'],
    ['Complaint: damp and mould not fixed', 'Mould treated twice but back within weeks; child has asthma.'],
    ['Complaint about how my call was handled', 'Waited 40 minutes then got cut off.'],
    ['Complaint: service charge increase', 'Charge rose sharply with no explanation.'],
  ],
  feedback: [['Feedback on the new tenant portal', 'Portal is good but hard to find the repairs page.']],
  compliment: [['Thank you to the repairs team', 'The plumber was brilliant and tidied up after himself.']],
};
const PAUSE_REASONS = ['Awaiting photos from the customer', "Awaiting the contractor's report", 'Customer away until next week', 'Awaiting a surveyor visit'];

// ---------------------------------------------------------------------------------------------
// Randomness


class Random {
  constructor(readonly next: () => number) {}
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.between(lo, hi + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }
  poisson(lambda: number): number {
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

// ---------------------------------------------------------------------------------------------

interface ContactBody {
  channel: Channel;
  route?: 'customer-services' | 'colleague-direct' | 'out-of-hours';
  category?: string;
  externalId: string;
  receivedAt: string;
  events?: Array<Record<string, unknown>>;
  customer: Record<string, string>;
  subject: string;
  summary: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const hhmm = (min: number) => `${String(Math.floor(min / 60) % 24).padStart(2, '0')}:${String(Math.floor(min % 60)).padStart(2, '0')}`;

export function startSimulator(options: SimulatorOptions): Simulator {
  const speed = options.speed ?? 30;
  if (!(speed > 0)) throw new Error('speed: must be a positive number');
  const queueSpeed = options.queueSpeed ?? Math.min(speed, 3);
  const rng = new Random(mulberry32(options.seed ?? Date.now() % 2 ** 31));
  const runId = options.runId ?? Date.now().toString(36);
  const log = options.log ?? (() => {});
  const logEvery = options.logEvery ?? 25;
  const volume = options.volume ?? 1;
  const base = options.baseUrl.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  const realStart = Date.now();
  const calendar = customerServicesCalendar();

  const stats: SimulatorStats = {
    contacts: { phone: 0, email: 0, webform: 0, social: 0, voicemail: 0 },
    events: {},
    actions: 0,
    errors: 0,
    firstErrors: [],
    simTime: hhmm(DAY_START_MIN),
  };
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let arrivalsLeft = 0;
  let seq = 0;
  let reference = rng.int(1200, 4800);
  let resolveDone!: (s: SimulatorStats) => void;
  const done = new Promise<SimulatorStats>((r) => (resolveDone = r));

  /** Simulated minutes since midnight at a real instant. */
  const simMinute = (real = Date.now()) => DAY_START_MIN + ((real - realStart) * speed) / MINUTE;
  const phoneLoad = () => {
    const b = Math.min(HALF_HOURS - 1, Math.max(0, Math.floor((simMinute() - DAY_START_MIN) / 30)));
    return CURVE.phone[b]! / PHONE_MEAN_WEIGHT;
  };

  const finishIfIdle = () => {
    if (!stopped && arrivalsLeft === 0 && timers.size === 0 && inFlight.size === 0) {
      stopped = true;
      resolveDone(snapshotStats());
    }
  };
  const snapshotStats = (): SimulatorStats => ({ ...stats, contacts: { ...stats.contacts }, events: { ...stats.events }, firstErrors: [...stats.firstErrors], simTime: hhmm(simMinute()) });

  /** Runs `fn` after `ms` real milliseconds (unless stopped, or past the team's going-home time). */
  function later(ms: number, fn: () => Promise<unknown> | void, { afterHours = false } = {}): void {
    if (stopped) return;
    const at = Date.now() + ms;
    if (!afterHours && simMinute(at) > TEAM_LEAVES_MIN) return; // left for tomorrow: stays open
    const t = setTimeout(() => {
      timers.delete(t);
      if (stopped) return;
      const p = Promise.resolve()
        .then(fn)
        .catch((e: unknown) => fail(e))
        .finally(() => {
          inFlight.delete(p);
          finishIfIdle();
        });
      inFlight.add(p);
    }, Math.max(0, ms));
    timers.add(t);
  }
  /** Simulated (working) minutes → real ms at the day's speed. */
  const work = (simMinutes: number) => (simMinutes * MINUTE) / speed;
  /** Simulated queue seconds → real ms at the queue's speed. */
  const queue = (simSeconds: number) => (simSeconds * SECOND) / queueSpeed;

  function fail(e: unknown): void {
    stats.errors++;
    if (stats.firstErrors.length < 5) stats.firstErrors.push(e instanceof Error ? e.message : String(e));
  }

  function action(): void {
    stats.actions++;
    if (stats.actions % logEvery === 0) {
      const c = stats.contacts;
      const events = Object.values(stats.events).reduce((s, n) => s + n, 0);
      log(
        `[${hhmm(simMinute())}] ${stats.actions} actions · contacts: phone ${c.phone}, email ${c.email}, webform ${c.webform}, social ${c.social}, voicemail ${c.voicemail} · events ${events}${stats.errors ? ` · errors ${stats.errors}` : ''}`,
      );
    }
  }

  async function request(path: string, body: unknown): Promise<{ id: string }> {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as { id: string };
  }

  async function create(body: ContactBody): Promise<string> {
    const created = await request('/api/v1/contacts', body);
    stats.contacts[body.channel]++;
    for (const e of body.events ?? []) stats.events[String(e.type)] = (stats.events[String(e.type)] ?? 0) + 1;
    action();
    return created.id;
  }

  async function events(id: string, list: Array<Record<string, unknown>>): Promise<void> {
    const at = new Date().toISOString();
    await request(`/api/v1/contacts/${encodeURIComponent(id)}/events`, list.length === 1 ? { ...list[0], at } : list.map((e) => ({ ...e, at })));
    for (const e of list) stats.events[String(e.type)] = (stats.events[String(e.type)] ?? 0) + 1;
    action();
  }

  // -------------------------------------------------------------------------------------------
  // Who is calling, about what

  function customer(channel: Channel): Record<string, string> {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const [town, district] = rng.pick(TOWNS);
    const c: Record<string, string> = {
      name: `${first} ${last}`,
      // Ofcom's ranges reserved for drama: never a real number.
      phone: rng.chance(0.8) ? `07700 900${String(rng.int(0, 999)).padStart(3, '0')}` : `01632 960${String(rng.int(0, 999)).padStart(3, '0')}`,
      address: `${rng.int(1, 120)} ${rng.pick(STREETS)}, ${town} ${district} ${rng.int(1, 9)}${rng.pick(['AB', 'DX', 'HQ', 'LN', 'RT', 'WE'])}`,
      reference: `T-${String(rng.int(1000, 99999)).padStart(6, '0')}`,
      preferredContact: rng.weighted(
        channel === 'phone' || channel === 'voicemail'
          ? ([['phone', 6], ['sms', 2], ['email', 2], ['letter', 0.5]] as const)
          : ([['email', 6], ['phone', 2], ['sms', 1.5], ['letter', 0.5]] as const),
      ),
    };
    if (channel !== 'phone' || rng.chance(0.6)) c.email = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '') + `${rng.int(1, 99)}@example.com`;
    if (rng.chance(0.09)) c.accessibilityNeeds = rng.pick(ACCESSIBILITY);
    return c;
  }

  function topic(channel: Channel, options: { category?: Topic['category']; complaints?: boolean }): Topic {
    const category =
      options.category ??
      rng.weighted<Topic['category']>([
        ['complaint', options.complaints === false ? 0 : 5],
        ['repair', channel === 'phone' ? 40 : 28],
        ['asb', 5],
        ['feedback', channel === 'social' ? 4 : 1],
        ['compliment', channel === 'social' ? 4 : 1],
        ['general', channel === 'phone' ? 48 : 57],
      ]);
    const [subject, summary] = rng.pick(TOPICS[category]);
    return { category, subject, summary };
  }

  /** A new contact's body; `complaints: false` leaves complaints out of the random topics. */
  function body(channel: Channel, receivedAt: number, extra: Partial<ContactBody> = {}, options: { complaints?: boolean } = {}): ContactBody {
    const forced = extra.category === 'complaint' ? 'complaint' : undefined;
    const t = topic(channel, { ...options, ...(forced ? { category: forced } : {}) });
    const n = ++seq;
    const b: ContactBody = {
      channel,
      externalId: `demo-${runId}-${channel}-${n}`,
      receivedAt: new Date(receivedAt).toISOString(),
      customer: customer(channel),
      subject: t.subject,
      summary: t.summary,
      ...extra,
    };
    if (b.category === undefined && t.category !== 'general') b.category = t.category;
    if (b.route === undefined) {
      if (channel === 'email' && rng.chance(0.12)) b.route = 'colleague-direct';
      if (channel === 'social' && rng.chance(0.15)) b.route = 'colleague-direct';
    }
    return b;
  }

  // -------------------------------------------------------------------------------------------
  // What happens next

  function acknowledgeLater(id: string, delayMs: number): void {
    later(delayMs, async () => {
      await events(id, [
        { type: 'acknowledged', reference: `CMP-2026-${String(reference++).padStart(5, '0')}`, owner: rng.pick(COMPLAINT_OWNERS) },
        { type: 'assigned', assignee: rng.pick(COMPLAINT_OWNERS) },
      ]);
      if (rng.chance(0.3)) {
        const reason = rng.pick(PAUSE_REASONS);
        later(work(rng.between(40, 180)), async () => {
          await events(id, [{ type: 'paused', clock: 'complaint-resolve', reason }]);
          if (rng.chance(0.6)) later(work(rng.between(60, 240)), () => events(id, [{ type: 'resumed', clock: 'complaint-resolve', reason: 'Information received' }]));
        });
      }
    });
  }

  type CallOutcome = 'short-abandon' | 'abandon' | 'callback' | 'answer';

  /**
   * A call in the customer-services queue: answered, abandoned, or a callback. A call seeded as
   * already queued passes how long it has waited (`waitedMs`) and may force its outcome and the
   * total wait in real ms.
   */
  function phoneFollowUp(id: string, b: ContactBody, waitedMs = 0, forced?: { outcome: CallOutcome; totalMs: number }): void {
    const load = phoneLoad();
    const peak = Math.max(0, load - 1);
    const advisor = rng.pick(ADVISORS);
    const outcome =
      forced?.outcome ??
      rng.weighted<CallOutcome>([
        ['short-abandon', waitedMs === 0 ? 0.03 : 0],
        ['abandon', 0.04 + 0.05 * peak],
        ['callback', 0.05 + 0.06 * peak],
        ['answer', 0.88 - 0.11 * peak],
      ]);
    const after = (simSeconds: number, min: number) => Math.max(min, (forced?.totalMs ?? queue(simSeconds)) - waitedMs);
    switch (outcome) {
      case 'short-abandon':
        later(rng.between(1, 4) * SECOND, () => events(id, [{ type: 'abandoned' }]), { afterHours: true });
        break;
      case 'abandon':
        // Over 5 s (real): counts against the service level.
        later(after(rng.between(20, 330), 6 * SECOND), () => events(id, [{ type: 'abandoned' }]), { afterHours: true });
        break;
      case 'callback':
        later(
          after(rng.between(45, 200), 2 * SECOND),
          async () => {
            await events(id, [{ type: 'callback-requested' }]);
            later(queue(rng.between(6, 40) * 60), () => events(id, [{ type: 'callback-connected' }, { type: 'assigned', assignee: advisor }]), { afterHours: true });
          },
          { afterHours: true },
        );
        break;
      case 'answer': {
        // Wait to answer (simulated seconds): grows with the load; at the peak some wait far too long.
        let wait = Math.min(12 * 60, Math.max(3, rng.logNormal(40 * Math.pow(load, 1.7), 0.75)));
        if (rng.chance(Math.min(0.12, 0.16 * Math.max(0, load - 1.2)))) wait = rng.between(15, 22) * 60;
        later(
          after(wait, SECOND),
          async () => {
            await events(id, [{ type: 'answered' }, { type: 'assigned', assignee: advisor }]);
            if (b.category === 'complaint') acknowledgeLater(id, work(rng.between(10, 90)));
          },
          { afterHours: true },
        );
        break;
      }
    }
  }

  /** A written contact: assigned, then replied (or acknowledged, for a complaint; or spam). */
  function writtenFollowUp(id: string, b: ContactBody, plan: { assignIn?: number; replyIn?: number } = {}): void {
    const advisor = rng.pick(ADVISORS);
    if (b.channel === 'email' && b.category === undefined && plan.replyIn === undefined && rng.chance(0.03)) {
      later(work(rng.between(5, 25)), () => events(id, [{ type: 'cancelled', reason: 'spam' }]));
      return;
    }
    if (b.category === 'complaint') {
      acknowledgeLater(id, plan.replyIn ?? work(rng.between(20, 360)));
      return;
    }
    const assignIn = plan.assignIn ?? work(rng.between(3, 45));
    later(assignIn, () => events(id, [{ type: 'assigned', assignee: advisor }]));
    // Working minutes to reply: most within 3 hours, some late (beyond a working day, were it real).
    const [lo, hi] =
      b.channel === 'voicemail'
        ? [30, 240]
        : rng.weighted<readonly [number, number]>([
            [[20, 180], 6],
            [[180, 420], 3],
            [[450, 720], 1],
          ]);
    const replyIn = plan.replyIn ?? assignIn + work(rng.between(lo, hi));
    later(Math.max(replyIn, assignIn + 50), () => events(id, [{ type: 'replied' }]));
  }

  async function arrive(channel: Channel): Promise<void> {
    const b = body(channel, Date.now());
    const id = await create(b);
    if (channel === 'phone') phoneFollowUp(id, b);
    else writtenFollowUp(id, b);
  }

  // -------------------------------------------------------------------------------------------
  // The backlog: what a newcomer should see within seconds

  /** An instant `countedMs` of customer-services working time before now (the real calendar). */
  const workingAgo = (countedMs: number) => {
    const now = Date.now();
    return Math.min(now - 1000, calendar.instantAt(Math.max(1, calendar.position(now) - countedMs)) + rng.int(0, 999));
  };
  /** Real ms from now until a simulated minute of the day. */
  const untilSim = (simMin: number) => ((simMin - DAY_START_MIN) * MINUTE) / speed - (Date.now() - realStart);

  async function seedBacklog(): Promise<void> {
    const now = Date.now();
    const jobs: Array<() => Promise<void>> = [];
    const written = (channel: Channel, countedHours: [number, number], replyAtSim: [number, number] | null, extra: Partial<ContactBody> = {}) => {
      jobs.push(async () => {
        const receivedAt = workingAgo(rng.between(countedHours[0], countedHours[1]) * HOUR);
        const b = body(channel, receivedAt, extra, { complaints: false });
        const id = await create(b);
        if (replyAtSim === null) return;
        const replyIn = Math.max(400, untilSim(rng.between(replyAtSim[0], replyAtSim[1])));
        writtenFollowUp(id, b, { assignIn: replyIn / 3, replyIn });
      });
    };
    // Calls already queued: one turns at-risk within seconds and breaches before it is answered.
    const queued: Array<[number, { outcome: CallOutcome; totalMs: number } | undefined]> = [
      [15, undefined],
      [70, undefined],
      [140, undefined],
      [228, { outcome: 'answer', totalMs: 335 * SECOND }],
      [262, { outcome: 'callback', totalMs: 290 * SECOND }],
    ];
    for (const [waited, forced] of queued) {
      jobs.push(async () => {
        const b = body('phone', now - waited * SECOND, { route: 'customer-services' }, { complaints: false });
        const id = await create(b);
        phoneFollowUp(id, b, Date.now() - Date.parse(b.receivedAt), forced);
      });
    }
    // Emails, webforms, social posts and voicemails from earlier: some breached, some at risk.
    const plan: Array<[Channel, number, [number, number], [number, number] | null]> = [
      ['email', 5, [9.3, 16], [8 * 60 + 15, 10 * 60]],
      ['email', 6, [7.3, 8.8], [8 * 60 + 30, 11 * 60 + 30]],
      ['email', 14, [0.3, 6.5], [9 * 60, 15 * 60]],
      ['email', 3, [0.5, 5], null],
      ['webform', 1, [9.5, 12], [8 * 60 + 20, 9 * 60 + 30]],
      ['webform', 2, [7.3, 8.7], [9 * 60, 11 * 60]],
      ['webform', 4, [0.5, 6], [9 * 60, 15 * 60]],
      ['social', 1, [9.2, 11], [8 * 60 + 10, 9 * 60]],
      ['social', 1, [7.4, 8.6], [9 * 60, 10 * 60]],
      ['social', 3, [0.2, 5], [8 * 60 + 30, 13 * 60]],
      ['voicemail', 3, [0.1, 1.5], [8 * 60 + 10, 10 * 60]],
      ['voicemail', 1, [7.5, 8.5], [8 * 60 + 20, 9 * 60]],
    ];
    for (const [channel, n, hours, reply] of plan) {
      for (let i = 0; i < n; i++) written(channel, hours, reply, channel === 'email' || channel === 'social' ? { route: 'customer-services' } : {});
    }
    // Emails to a named colleague (2 working days).
    for (let i = 0; i < 2; i++) written('email', [12, 16.5], [10 * 60, 16 * 60], { route: 'colleague-direct' });
    if (calendar.isOpen(now)) {
      // Due within a few real minutes (the centre is open now): rows turn amber, then red, live.
      for (const m of [1.5, 3, 5]) written('email', [9 - m / 60, 9 - m / 60], [12 * 60, 16 * 60], { route: 'customer-services' });
      for (const m of [0.5, 2]) written('webform', [7.2 - m / 60, 7.2 - m / 60], [11 * 60, 15 * 60]);
    }
    // Complaints from yesterday, not yet acknowledged (24 hours elapsed): at risk, about to breach, breached.
    for (const hoursAgo of [20.5, 23.9, 26]) {
      jobs.push(async () => {
        const channel = rng.pick<Channel>(['email', 'webform']);
        const b = body(channel, Date.now() - hoursAgo * HOUR, { category: 'complaint', route: 'customer-services' });
        const id = await create(b);
        acknowledgeLater(id, Math.max(20 * SECOND, untilSim(rng.between(9 * 60 + 30, 11 * 60))));
      });
    }
    // The night's emergency repair on the out-of-hours line: make safe within 24 hours.
    jobs.push(async () => {
      const receivedAt = Date.now() - rng.between(80, 110) * MINUTE;
      const b = body('phone', receivedAt, { route: 'out-of-hours', category: 'emergency-repair' });
      b.subject = 'Water pouring through ceiling onto electrics';
      b.summary = 'Out-of-hours call: leak from the flat above running into the light fitting; elderly tenant on her own.';
      b.customer.accessibilityNeeds = 'Hard of hearing: speak clearly, or text';
      b.events = [
        { type: 'answered', at: new Date(receivedAt + 40 * SECOND).toISOString() },
        { type: 'assigned', assignee: 'Out-of-hours team', at: new Date(receivedAt + 60 * SECOND).toISOString() },
      ];
      const id = await create(b);
      later(work(rng.between(90, 150)), () => events(id, [{ type: 'attended', appointmentArranged: true }]));
    });
    // A few at a time: the board fills within a couple of seconds.
    for (let i = 0; i < jobs.length; i += 6) {
      if (stopped) return;
      await Promise.all(jobs.slice(i, i + 6).map((j) => j().catch(fail)));
    }
  }

  // -------------------------------------------------------------------------------------------
  // The day's arrivals

  function planArrivals(): void {
    for (const channel of CHANNELS) {
      const weights = CURVE[channel];
      const total = weights.reduce((s, w) => s + w, 0);
      for (let b = 0; b < HALF_HOURS; b++) {
        const n = rng.poisson((DAILY_VOLUME[channel] * volume * weights[b]!) / total);
        for (let i = 0; i < n; i++) {
          const simMin = DAY_START_MIN + b * 30 + rng.between(0, 30);
          const delay = ((simMin - DAY_START_MIN) * MINUTE) / speed;
          arrivalsLeft++;
          later(
            delay,
            () => {
              arrivalsLeft--;
              return arrive(channel);
            },
            { afterHours: true },
          );
        }
      }
    }
  }

  async function stop(): Promise<SimulatorStats> {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    arrivalsLeft = 0;
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    const s = snapshotStats();
    resolveDone(s);
    return s;
  }

  const backlog = options.backlog ?? true;
  const seeding = backlog ? seedBacklog() : Promise.resolve();
  inFlight.add(seeding);
  void seeding.finally(() => {
    inFlight.delete(seeding);
    finishIfIdle();
  });
  planArrivals();
  if (options.stopAfterMs !== undefined) {
    const t = setTimeout(() => void stop(), options.stopAfterMs);
    t.unref();
  }
  return {
    get stats() {
      return snapshotStats();
    },
    done,
    stop,
  };
}
