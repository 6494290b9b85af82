// The live path: every running clock in memory, a timer at its next instant, and one delta per
// change (an event came in, a timer fired, a calendar moved) pushed through the hub.
import type { Sqlite } from '../../db/connection.js';
import { localToUtc } from '../domain/calendar.js';
import { phoneStats, type CallOutcome } from '../domain/metrics.js';
import type { Clock } from '../domain/model.js';
import { DAY, MINUTE } from '../domain/time.js';
import type { ContactChange, IngestService } from '../ingest/service.js';
import type { ContactRow } from '../store/contacts.js';
import type { BoardFigures, BusyNotice, ChannelTile, DeltaMessage, IntradayBucket, LiveChannel, SnapshotMessage, UrgentClock } from './protocol.js';
import { ClockScheduler, realTimers, type Firing, type TimerHost } from './scheduler.js';
import { TodayLedger } from './today.js';

export const LIVE_CHANNELS: LiveChannel[] = ['phone', 'email', 'webform', 'social', 'voicemail'];
const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

/**
 * The first response a contact on `channel` is waiting for, as its channel tile counts it: an answer,
 * a reply, an acknowledgement or a make-safe. On the phone tile only the call itself counts: an
 * answered emergency or complaint call is no longer waiting in the queue (its other clocks still show
 * as at risk or breached), and is handled once, when answered.
 */
export function isFirstResponse(standard: string, channel?: string): boolean {
  if (channel === 'phone') return standard === 'phone-answer';
  return standard === 'phone-answer' || standard.endsWith('-reply') || standard.endsWith('-acknowledge') || standard === 'emergency-make-safe';
}

interface LiveClock {
  key: string;
  contactId: string;
  standard: string;
  status: string;
  dueAt: number | null;
  atRiskAt: number | null;
  channel: LiveChannel;
  category: string;
  receivedAt: number;
  customerName: string | null;
  subject: string | null;
  assignee: string | null;
  /** The contact's one first-response clock that counts it as waiting (set by put). */
  countsWaiting: boolean;
}

/** Standards, statuses, channels and categories: a few values repeated on every clock, kept once. */
const interned = new Map<string, string>();
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size < 10_000) interned.set(s, s);
  return s;
}

const CHANNEL_INDEX: Readonly<Record<string, number>> = Object.fromEntries(LIVE_CHANNELS.map((ch, i) => [ch, i]));

export interface LiveOptions {
  busyCallsWaiting: number;
  busyOldestWaitSeconds: number;
  /** Most urgent rows in a snapshot or a delta (default 500): a bad day or a breach storm stays small on the wire. */
  urgentLimit?: number;
  /** Shortest gap between two broadcasts, ms: a burst of changes goes out as one delta. */
  minBroadcastGapMs?: number;
  timers?: TimerHost;
}

export interface LiveSink {
  readonly clientCount: number;
  broadcast(build: (seq: number) => DeltaMessage): void;
  /** A change nobody is listening to: advance the sequence without building the delta. */
  skip(): void;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class LiveService {
  private readonly clocks = new Map<string, LiveClock>();
  /** Keys of each contact's running clocks (an array: most contacts have one or two). */
  private readonly byContact = new Map<string, string[]>();
  readonly scheduler: ClockScheduler;
  private readonly timers: TimerHost;
  private sink: LiveSink | null = null;
  private pendingKeys = new Set<string>();
  private pendingContacts = new Set<string>();
  private pendingCause: DeltaMessage['cause'] = 'contact';
  private flushTimer: unknown = null;
  private lastBroadcast = 0;
  private readonly sqlite: Sqlite;
  /** Today's calls, contacts received and clocks handled, in memory (one pass per delta, no query). */
  private readonly today: TodayLedger;
  private intradayLabels: { timeZone: string; format: Intl.DateTimeFormat } | null = null;
  private openingLabels: { timeZone: string; format: Intl.DateTimeFormat } | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Firings seen, with how late each was handled (ms), for the benchmark. */
  lateness: number[] | null = null;

  constructor(
    private readonly service: IngestService,
    private readonly options: LiveOptions,
  ) {
    this.timers = options.timers ?? realTimers;
    this.scheduler = new ClockScheduler((f) => this.onFire(f), this.timers);
    this.sqlite = service.connection.sqlite;
    this.today = new TodayLedger(this.sqlite);
  }

  /**
   * Loads every running clock and arms its timers. Transitions that fell due while Kept was down
   * fire at once, and are recorded with the instant they really happened.
   */
  start(sink: LiveSink): { clocks: number } {
    this.sink = sink;
    // Row by row (no array of every row), the customer's name read by SQLite (no JSON per row).
    const rows = this.sqlite
      .prepare(
        `SELECT k.contact_id || '/' || k.standard AS key, k.contact_id, k.standard, k.status, k.due_at, k.at_risk_at, c.channel, c.category, c.received_at, json_extract(c.customer, '$.name') AS customer_name, c.subject, c.assignee
         FROM clocks k JOIN contacts c ON c.id = k.contact_id WHERE k.open = 1`,
      )
      .iterate() as IterableIterator<{ key: string; contact_id: string; standard: string; status: string; due_at: number | null; at_risk_at: number | null; channel: string; category: string; received_at: number; customer_name: unknown; subject: string | null; assignee: string | null }>;
    let count = 0;
    for (const r of rows) {
      count++;
      const standard = intern(r.standard);
      this.put({
        key: r.key, // built by SQLite: a flat string (a JS concatenation would keep a rope and its flat copy)
        contactId: r.contact_id,
        standard,
        status: intern(r.status),
        dueAt: r.due_at,
        atRiskAt: r.at_risk_at,
        channel: intern(r.channel) as LiveChannel,
        category: intern(r.category),
        receivedAt: r.received_at,
        customerName: typeof r.customer_name === 'string' ? r.customer_name : null,
        subject: r.subject,
        assignee: r.assignee,
        countsWaiting: false,
      });
    }
    this.today.cover(this.todayStart(this.timers.now()));
    this.unsubscribe = this.service.onChange((changes) => this.onContactChanges(changes));
    return { clocks: count };
  }

  stop(): void {
    this.scheduler.clear();
    this.unsubscribe?.();
    if (this.flushTimer !== null) this.timers.clearTimer(this.flushTimer);
    this.flushTimer = null;
  }

  get runningClocks(): number {
    return this.clocks.size;
  }

  private put(c: LiveClock): void {
    this.clocks.set(c.key, c);
    const keys = this.byContact.get(c.contactId) ?? [];
    // A contact waits once however many first-response clocks it has (a phone complaint has two);
    // clocks leave only with their whole contact (dropContact), so the flag stays right.
    if (isFirstResponse(c.standard, c.channel)) {
      let counted = false;
      for (const k of keys) if (this.clocks.get(k)?.countsWaiting === true) counted = true;
      c.countsWaiting = !counted;
    }
    // A literal of one for a new contact: `[]` then push would reserve 17 slots (100,000 contacts ≈ 13 MB).
    if (keys.length === 0) this.byContact.set(c.contactId, [c.key]);
    else if (!keys.includes(c.key)) keys.push(c.key);
    this.scheduler.arm(c);
  }

  private dropContact(contactId: string): string[] {
    const keys = this.byContact.get(contactId) ?? [];
    for (const k of keys) {
      this.clocks.delete(k);
      this.scheduler.disarm(k);
    }
    this.byContact.delete(contactId);
    return keys;
  }

  private onContactChanges(changes: ContactChange[]): void {
    for (const ch of changes) {
      this.today.applyChange(ch.contact, ch.clocks);
      for (const k of this.dropContact(ch.contactId)) this.pendingKeys.add(k);
      for (const clock of ch.clocks) {
        if (!OPEN.has(clock.status)) continue;
        const live = this.fromClock(ch.contact, clock);
        this.put(live);
        this.pendingKeys.add(live.key);
      }
      this.pendingContacts.add(ch.contactId);
    }
    this.schedule('contact');
  }

  private fromClock(contact: ContactRow, clock: Clock): LiveClock {
    return {
      key: `${contact.id}/${clock.standard}`,
      contactId: contact.id,
      standard: intern(clock.standard),
      status: intern(clock.status),
      dueAt: clock.dueAt,
      atRiskAt: clock.atRiskAt,
      channel: intern(contact.channel) as LiveChannel,
      category: intern(contact.category),
      receivedAt: contact.receivedAt,
      customerName: contact.customer?.name ?? null,
      subject: contact.subject,
      assignee: contact.assignee,
      countsWaiting: false,
    };
  }

  /** A timer fired: record each status at the instant it really happened, then push. */
  private onFire(firings: Firing[]): void {
    const now = this.timers.now();
    const applied: Firing[] = [];
    for (const f of firings) {
      const c = this.clocks.get(f.key);
      if (c === undefined) continue;
      c.status = f.transition;
      this.today.applyStatus(c.contactId, c.standard, f.transition);
      applied.push(f);
      this.pendingKeys.add(f.key);
      this.pendingContacts.add(c.contactId);
      if (this.lateness !== null) this.lateness.push(now - f.at);
    }
    if (applied.length === 0) return;
    const statuses = applied.map((f) => {
      const slash = f.key.indexOf('/');
      return { contactId: f.key.slice(0, slash), standard: f.key.slice(slash + 1), status: f.transition, at: f.at };
    });
    this.service.recordStatuses(statuses, now).catch(() => {
      // The status is re-derived from dueAt on the next start; the push already went out.
    });
    this.schedule('timer');
  }

  /** Coalesces changes: at most one broadcast per `minBroadcastGapMs`. */
  private schedule(cause: DeltaMessage['cause']): void {
    if (this.pendingCause !== 'timer') this.pendingCause = cause;
    if (this.flushTimer !== null) return;
    const gap = this.options.minBroadcastGapMs ?? 50;
    const wait = Math.max(0, this.lastBroadcast + gap - this.timers.now());
    this.flushTimer = this.timers.setTimer(() => this.flush(), wait);
  }

  private flush(): void {
    this.flushTimer = null;
    if (this.sink === null || (this.pendingKeys.size === 0 && this.pendingContacts.size === 0)) return;
    const now = this.timers.now();
    this.lastBroadcast = now;
    const upsert: LiveClock[] = [];
    const remove: string[] = [];
    for (const key of this.pendingKeys) {
      const c = this.clocks.get(key);
      // Clients drop a removed row if they have it; a removal they never needed costs nothing.
      if (c !== undefined && (c.status === 'at-risk' || c.status === 'breached')) upsert.push(c);
      else remove.push(key);
    }
    const contacts = [...this.pendingContacts];
    const cause = this.pendingCause;
    this.pendingKeys = new Set();
    this.pendingContacts = new Set();
    this.pendingCause = 'contact';
    if (this.sink.clientCount === 0) {
      // No board is open: skip the figures; a board that connects later gets a snapshot.
      this.sink.skip();
      return;
    }
    const board = this.board(now);
    const { rows, partial } = this.mostUrgent(upsert);
    this.sink.broadcast((seq) => ({ type: 'delta', seq, cause, board, upsert: rows, remove, contacts: partial ? [] : contacts, ...(partial ? { partial: true as const } : {}) }));
  }

  private get urgentLimit(): number {
    return this.options.urgentLimit ?? 500;
  }

  /** The most urgent of `clocks` (earliest due first), at most urgentLimit of them, as rows. */
  private mostUrgent(clocks: LiveClock[]): { rows: UrgentClock[]; partial: boolean } {
    clocks.sort((a, b) => a.dueAt! - b.dueAt! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const partial = clocks.length > this.urgentLimit;
    return { rows: (partial ? clocks.slice(0, this.urgentLimit) : clocks).map((c) => this.urgent(c)), partial };
  }

  private urgent(c: LiveClock): UrgentClock {
    return {
      contactId: c.contactId,
      standard: c.standard,
      status: c.status as 'at-risk' | 'breached',
      dueAt: iso(c.dueAt!),
      atRiskAt: c.atRiskAt === null ? null : iso(c.atRiskAt),
      channel: c.channel,
      category: c.category,
      receivedAt: iso(c.receivedAt),
      customerName: c.customerName,
      subject: c.subject,
      assignee: c.assignee,
    };
  }

  snapshot(seq: number): SnapshotMessage {
    const now = this.timers.now();
    const open: LiveClock[] = [];
    for (const c of this.clocks.values()) {
      if (c.status === 'at-risk' || c.status === 'breached') open.push(c);
    }
    const { rows } = this.mostUrgent(open);
    return { type: 'snapshot', seq, board: this.board(now), urgent: rows, urgentTotal: open.length, urgentLimit: this.urgentLimit };
  }

  /** Today's local midnight (UTC instant) in the customer-services calendar's zone. */
  private todayStart(now: number): { start: number; date: string; timeZone: string } {
    const cal = this.service.calendars['customer-services'];
    const timeZone = cal?.timeZone ?? 'Europe/London';
    const day = cal ? cal.localDayNumber(now) : Math.floor(now / DAY);
    return { start: localToUtc(timeZone, day * DAY), date: new Date(day * DAY).toISOString().slice(0, 10), timeZone };
  }

  busy(now: number): BusyNotice {
    let callsWaiting = 0;
    let oldest = now;
    for (const c of this.clocks.values()) {
      if (c.standard !== 'phone-answer') continue;
      callsWaiting++;
      if (c.receivedAt < oldest) oldest = c.receivedAt;
    }
    return this.busyFrom(now, callsWaiting, oldest);
  }

  private busyFrom(now: number, callsWaiting: number, oldest: number): BusyNotice {
    const longestWaitSeconds = Math.max(0, Math.floor((now - oldest) / 1000));
    const cal = this.service.calendars['customer-services'];
    const open = cal ? cal.isOpen(now) : true;
    const busy = open && (callsWaiting >= this.options.busyCallsWaiting || longestWaitSeconds >= this.options.busyOldestWaitSeconds);
    let message = 'We are open. Calls are usually answered within 5 minutes.';
    if (!open && cal) {
      const next = cal.nextOpening(now);
      if (this.openingLabels?.timeZone !== cal.timeZone) {
        this.openingLabels = { timeZone: cal.timeZone, format: new Intl.DateTimeFormat('en-GB', { timeZone: cal.timeZone, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) };
      }
      const when = this.openingLabels.format.format(next);
      message = `We are closed. We open again on ${when.replace(' at', '')}. For an emergency repair, call the out-of-hours line.`;
    } else if (busy) {
      message = 'We are busier than usual, so you may wait longer than 5 minutes. You can also email us or use our web form: we reply within one working day.';
    }
    return { busy, message, callsWaiting, longestWaitSeconds };
  }

  board(now: number): BoardFigures {
    const { start, date, timeZone } = this.todayStart(now);
    // One pass over the running clocks: no per-delta sets or string tests (100,000 clocks ≈ a few ms).
    const tiles: ChannelTile[] = LIVE_CHANNELS.map((ch) => ({ channel: ch, waitingNow: 0, oldestWaitingSince: null, handledToday: 0, atRisk: 0, breached: 0 }));
    const oldest = LIVE_CHANNELS.map(() => Infinity);
    let callsOver = 0;
    let callsWaiting = 0;
    let oldestCall = now;
    for (const c of this.clocks.values()) {
      const i = CHANNEL_INDEX[c.channel];
      if (i === undefined) continue;
      const tile = tiles[i]!;
      if (c.status === 'at-risk') tile.atRisk++;
      else if (c.status === 'breached') tile.breached++;
      if (c.countsWaiting === true) {
        tile.waitingNow++;
        if (c.receivedAt < oldest[i]!) oldest[i] = c.receivedAt;
      }
      if (c.standard === 'phone-answer') {
        callsWaiting++;
        if (c.receivedAt < oldestCall) oldestCall = c.receivedAt;
        if (now - c.receivedAt > 5 * MINUTE) callsOver++;
      }
    }
    tiles.forEach((t, i) => {
      if (oldest[i] !== Infinity) t.oldestWaitingSince = iso(oldest[i]!);
    });
    this.today.cover({ start, date, timeZone });
    for (const h of this.today.handledToday()) {
      const tile = tiles[CHANNEL_INDEX[h.channel] ?? -1];
      if (tile !== undefined && isFirstResponse(h.standard, h.channel)) tile.handledToday += h.n;
    }
    const calls = [...this.today.todaysCalls()];
    const stats = phoneStats(calls, now);
    const received = [...this.today.receivedToday()];
    return {
      at: iso(now),
      today: date,
      timeZone,
      openNow: this.service.calendars['customer-services']?.isOpen(now) ?? true,
      nextOpening: iso(this.service.calendars['customer-services']?.nextOpening(now) ?? now),
      tiles,
      phone: {
        serviceLevel: stats.serviceLevel,
        offered: stats.offered,
        answeredWithinTarget: stats.answeredWithinTarget,
        shortAbandons: stats.shortAbandons,
        abandons: stats.abandons,
        callsWaitingOver5Min: callsOver,
        callbacksRequested: stats.callbacksRequested,
        callbacksConnected: stats.callbacksConnected,
        averageSpeedOfAnswerMs: stats.averageSpeedOfAnswerMs,
      },
      intraday: this.intraday(start, now, timeZone, calls, received),
      busy: this.busyFrom(now, callsWaiting, oldestCall),
    };
  }

  /** Half hours from 08:00 (or the first contact) to 17:00 (or now), local time; one pass over today. */
  private intraday(start: number, now: number, timeZone: string, calls: CallOutcome[], received: number[]): IntradayBucket[] {
    const HALF = 30 * MINUTE;
    if (this.intradayLabels?.timeZone !== timeZone) {
      this.intradayLabels = { timeZone, format: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) };
    }
    const label = this.intradayLabels.format;
    let first = start + 8 * 60 * MINUTE;
    for (const r of received) if (r < first) first = Math.floor((r - start) / HALF) * HALF + start;
    const last = Math.min(Math.max(start + 17 * 60 * MINUTE, Math.ceil((now - start) / HALF) * HALF + start), start + DAY + HALF);
    const n = Math.max(0, Math.ceil((last - first) / HALF));
    const volume = new Array<number>(n).fill(0);
    const bucketCalls: CallOutcome[][] = Array.from({ length: n }, () => []);
    for (const r of received) {
      const i = Math.floor((r - first) / HALF);
      if (i >= 0 && i < n) volume[i]!++;
    }
    for (const c of calls) {
      const i = Math.floor((c.receivedAt - first) / HALF);
      if (i >= 0 && i < n) bucketCalls[i]!.push(c);
    }
    const buckets: IntradayBucket[] = [];
    for (let i = 0; i < n; i++) {
      const from = first + i * HALF;
      buckets.push({
        from: iso(from),
        label: label.format(from),
        volume: volume[i]!,
        callsOffered: bucketCalls[i]!.length,
        serviceLevel: phoneStats(bucketCalls[i]!, now).serviceLevel,
      });
    }
    return buckets;
  }
}
