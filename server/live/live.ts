// The live path: every running clock in memory, a timer at its next instant, and one delta per
// change (an event came in, a timer fired, a calendar moved) pushed through the hub. The figures
// are board.ts's (pure); the reads are the store's (server/store/live.ts); the site facts come from
// the board's calendar, the standards pack and the configuration (site.ts).
import { ConfigError } from '../config.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import type { Clock } from '../domain/model.js';
import { PACKS, packInForce, type StandardsPack } from '../domain/standards.js';
import type { FeedPosition } from '../cluster/feed.js';
import type { ContactChange, IngestService } from '../ingest/service.js';
import type { ContactRow } from '../store/contacts.js';
import type { OpenClockCursor, OpenClockRow, UrgentDetail } from '../store/live.js';
import type { LiveReads } from '../store/ports.js';
import { boardFigures, busyNotice, isFirstResponse, localDay, phoneQueue, type BoardSite, type RunningClock } from './board.js';
import { MARK_PATTERN, type BoardFigures, type BrokenPromise, type BusyNotice, type DeltaMessage, type SnapshotMessage, type UrgentClock } from './protocol.js';
import { phoneQueuesNow, type QueueName } from './phone-queues.js';
import { ClockScheduler, realTimers, type Firing, type TimerHost } from './scheduler.js';
import { hazardStandards, packTargets, publicWording, WordingError, type WordingTemplates } from './site.js';
import { TodayLedger } from './today.js';

const OPEN = new Set(['running', 'at-risk', 'breached', 'paused']);

/** Standards whose every version applies to one channel only: their clocks' channel is implied. */
export function impliedChannels(packs: readonly StandardsPack[] = PACKS): Map<string, string> {
  const seen = new Map<string, string | null>();
  for (const pack of packs) {
    for (const def of pack.standards) {
      const channels = def.appliesWhen.channels;
      const one = channels !== undefined && channels.length === 1 ? channels[0]! : null;
      seen.set(def.id, seen.has(def.id) && seen.get(def.id) !== one ? null : one);
    }
  }
  return new Map([...seen].filter((e): e is [string, string] => e[1] !== null));
}

/** Standards, statuses and channels: a few values repeated on every clock, kept once. */
const interned = new Map<string, string>();
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size < 10_000) interned.set(s, s);
  return s;
}

/**
 * The change feed every instance follows (PostgreSQL, several instances): where this instance has
 * applied it to, and which contacts changed after a point. Absent on SQLite (one instance).
 */
export interface FeedView {
  /** Every feed row at or below this position has been applied to the board here; null: none read yet, or reloading. */
  position(): FeedPosition | null;
  /** Contacts changed after `from` with their clocks' standards; null when those rows were pruned or more than `maxRows` came after it. */
  changedSince(from: FeedPosition, maxRows: number): Promise<Map<string, string[]> | null>;
}

/**
 * How far before a moved board's figures a resume looks for clocks that turned at risk or breached:
 * the other instance's timers fire within milliseconds of each instant (p99 2 ms at 100,000 breaches
 * a minute), so a transition it had not applied by then is well inside a minute; the margin also
 * covers machines' clocks that disagree by less. Rows sent again cost nothing but bytes.
 */
const RESUME_MARGIN_MS = 60_000;
const MARK = new RegExp(MARK_PATTERN);

/** At risk or breached: a row of the board's urgent list. */
const isUrgent = (c: RunningClock) => c.status === 'at-risk' || c.status === 'breached';

export interface LiveOptions {
  /** The calendar whose hours, zone and name the board shows (KEPT_BOARD_CALENDAR; default customer-services). */
  calendar?: string;
  busyCallsWaiting: number;
  busyOldestWaitSeconds: number;
  /** The service level aimed for, 0–1 (KEPT_BOARD_SERVICE_LEVEL_TARGET; default 0.8): the chart's target line. */
  serviceLevelTarget?: number;
  /** The public messages as configured (KEPT_PUBLIC_*_MESSAGE; '' or absent: the default). */
  wording?: Partial<WordingTemplates>;
  /** Most urgent rows in a snapshot or a delta (default 500): a bad day or a breach storm stays small on the wire. */
  urgentLimit?: number;
  /** Shortest gap between two broadcasts, ms: a burst of changes goes out as one delta. */
  minBroadcastGapMs?: number;
  timers?: TimerHost;
  /** Running clocks read per page at start (default 5,000, ~10 ms): the event loop answers between pages. */
  loadPageRows?: number;
  /** How loading lets the event loop in between pages (default: setImmediate); tests hold it. */
  yieldToLoop?: () => Promise<void>;
  /** Where the board reads (default: the service's SQLite connection, through its asynchronous face). */
  reads?: LiveReads;
  /** The phone queues (KEPT_PHONE_QUEUES with the built-in ones) whose waiting calls the board splits. */
  phoneQueues?: readonly QueueName[];
  /** The queue a call that names none counts in (KEPT_PHONE_DEFAULT_QUEUE; default customer-services). */
  defaultPhoneQueue?: string;
  /** The change feed (PostgreSQL): deltas and snapshots carry a mark, and boards moved from another instance resume. */
  feed?: FeedView;
  /** Feed rows after a moved board's mark beyond which it gets a snapshot instead (default 20,000). */
  resumeMaxRows?: number;
  /** How long a resume waits for this instance's feed to reach the moved board's mark (default 1,000 ms). */
  resumeWaitMs?: number;
}

export interface LiveSink {
  readonly clientCount: number;
  broadcast(build: (seq: number) => DeltaMessage): void;
  /** A change nobody is listening to: advance the sequence without building the delta. */
  skip(): void;
}

/** Public status: open now, the next opening, the busy notice and its words. */
export interface PublicStatus extends BusyNotice {
  open: boolean;
  nextOpening: string;
  at: string;
}

export interface LoadResult {
  /** Running clocks in memory once armed. */
  clocks: number;
  /** From the first page read to armed. */
  ms: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LiveService {
  private readonly clocks = new Map<string, RunningClock>();
  /** Keys of each contact's running clocks (an array: most contacts have one or two). */
  private readonly byContact = new Map<string, string[]>();
  /** Each call with a running phone-answer clock: its contact's `source.queue` (null: none named). */
  private readonly callQueue = new Map<string, string | null>();
  readonly scheduler: ClockScheduler;
  private readonly timers: TimerHost;
  private readonly store: LiveReads;
  /** Today's calls, contacts received and clocks handled, in memory (one pass per delta, no query). */
  private readonly today: TodayLedger;
  private readonly calendarId: string;
  /** Site facts read once: the board's heading, the pack's phone target, thresholds and the public words. */
  private readonly facts: Omit<BoardSite, 'calendar'>;
  private sink: LiveSink | null = null;
  private pendingKeys = new Set<string>();
  private pendingContacts = new Set<string>();
  private pendingCause: DeltaMessage['cause'] = 'contact';
  private flushTimer: unknown = null;
  private lastBroadcast = 0;
  /** Deltas go out in order: each waits for the one before (its urgent rows' details are read first). */
  private sending: Promise<void> = Promise.resolve();
  /** Today's rows were read after the last delta: the next one carries the board even with no change. */
  private boardStale = false;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** While loading: contacts whose change was heard (it carried all their clocks): later pages skip their rows. */
  private changedWhileLoading: Set<string> | null = null;
  private loadedRows = 0;
  private isArmed = false;
  /** Firings seen, with how late each was handled (ms), for the benchmark. */
  lateness: number[] | null = null;

  constructor(
    private readonly service: IngestService,
    private readonly options: LiveOptions,
  ) {
    this.timers = options.timers ?? realTimers;
    this.scheduler = new ClockScheduler((f) => this.onFire(f), this.timers);
    this.store = options.reads ?? service.stores.live(impliedChannels());
    this.today = new TodayLedger(this.store);
    this.calendarId = options.calendar ?? 'customer-services';
    if (service.calendars[this.calendarId] === undefined) {
      throw new ConfigError(`KEPT_BOARD_CALENDAR: no calendar "${this.calendarId}" (known: ${Object.keys(service.calendars).join(', ')})`);
    }
    const targets = packTargets(packInForce(service.packFamily, this.timers.now()));
    let wording;
    try {
      wording = publicWording({ open: options.wording?.open ?? '', busy: options.wording?.busy ?? '', closed: options.wording?.closed ?? '' }, targets);
    } catch (e) {
      if (e instanceof WordingError) throw new ConfigError(e.message);
      throw e;
    }
    this.facts = {
      // The calendar's name, read when the board starts (start()).
      title: 'Contact centre',
      phoneTargetMs: targets.phoneTargetMs,
      busyCallsWaiting: options.busyCallsWaiting,
      busyOldestWaitSeconds: options.busyOldestWaitSeconds,
      wording,
      serviceLevelTarget: options.serviceLevelTarget ?? 0.8,
      promiseStandards: targets.promiseStandards,
      hazardStandards: hazardStandards(),
    };
  }

  /** The board's calendar as it stands (a calendar edit replaces the compiled calendars). */
  private get calendar(): WorkingCalendar {
    return this.service.calendars[this.calendarId]!;
  }

  private get site(): BoardSite {
    return { ...this.facts, calendar: this.calendar };
  }

  /**
   * Loads every running clock and arms its timers. Pages of `loadPageRows` are read one statement at
   * a time with the event loop let in between (the first page at once: a small database is armed
   * before this returns), so the server can listen and answer while a large backlog loads. A change
   * heard meanwhile is applied as usual and the pages read after it skip that contact. Timers are held
   * until every clock is in: transitions that fell due while Kept was down then fire at once, in one
   * batch, and are recorded with the instant they really happened.
   */
  async start(sink: LiveSink): Promise<LoadResult> {
    this.sink = sink;
    const started = performance.now();
    this.changedWhileLoading = new Set();
    this.unsubscribe = this.service.onChange((changes) => this.onContactChanges(changes));
    this.scheduler.hold();
    this.facts.title = (await this.service.calendarStore.byId(this.calendarId))?.name ?? this.facts.title;
    if (!(await this.loadAll())) return { clocks: this.clocks.size, ms: performance.now() - started };
    this.today.cover(localDay(this.calendar, this.timers.now()));
    await this.today.ready;
    this.isArmed = true;
    this.scheduler.resume();
    return { clocks: this.clocks.size, ms: performance.now() - started };
  }

  /** Every running clock read in pages (changedWhileLoading set by the caller); false if stopped meanwhile. */
  private async loadAll(): Promise<boolean> {
    const pageRows = this.options.loadPageRows ?? 5000;
    const yieldToLoop = this.options.yieldToLoop ?? nextTurn;
    let after: OpenClockCursor | null = null;
    try {
      for (;;) {
        const rows = await this.store.openClocks(after, pageRows);
        for (const r of rows) this.loadRow(r);
        await this.loadQueues(rows);
        this.loadedRows += rows.length;
        if (rows.length < pageRows) break;
        const last = rows[rows.length - 1]!;
        after = { receivedAt: last[1], contactId: last[2], standard: last[3] };
        await yieldToLoop();
        if (this.stopped) return false;
      }
    } finally {
      this.changedWhileLoading = null;
    }
    return true;
  }

  /**
   * Reads every running clock again, as at start, when changes may have been missed (PostgreSQL: the
   * change feed was pruned past this instance, or the database was restored to an earlier point).
   * The board keeps serving the clocks it holds meanwhile; a change heard during the read wins; then
   * every board gets the difference as one delta, and today's figures are read again.
   */
  async reload(): Promise<void> {
    if (this.stopped) return;
    const before = new Set(this.clocks.keys());
    const held = [...this.byContact.keys()];
    this.changedWhileLoading = new Set();
    this.scheduler.hold();
    try {
      for (const id of held) this.dropContact(id);
      if (!(await this.loadAll())) return;
      // Every clock held before and every clock read now: the boards' rows are replaced or removed.
      for (const k of before) this.pendingKeys.add(k);
      for (const k of this.clocks.keys()) this.pendingKeys.add(k);
      this.today.cover(localDay(this.calendar, this.timers.now()));
      this.boardStale = true;
      this.schedule('contact');
    } finally {
      this.scheduler.resume();
    }
  }

  private loadRow(r: OpenClockRow): void {
    const contactId = r[2];
    if (this.changedWhileLoading!.has(contactId)) return;
    this.put({
      key: r[0],
      receivedAt: r[1],
      contactId,
      standard: intern(r[3]),
      status: intern(r[4]),
      dueAt: r[5],
      atRiskAt: r[6],
      channel: intern(r[7]),
      countsWaiting: false,
    });
  }

  /** The queues of this page's waiting calls, read by key (calls waiting: a few per page at most). */
  private async loadQueues(rows: OpenClockRow[]): Promise<void> {
    const ids = rows.filter((r) => r[3] === 'phone-answer' && this.clocks.has(r[0])).map((r) => r[2]);
    if (ids.length === 0) return;
    const found = await this.store.queues(ids);
    // A call changed while its queue was read already has its queue from the change.
    for (const id of ids) if (!this.changedWhileLoading!.has(id)) this.callQueue.set(id, found.get(id) ?? null);
  }

  /** False while the running clocks load: the board and the public status answer 503 `starting`. */
  get armed(): boolean {
    return this.isArmed;
  }

  /** Open-clock rows read so far (for /health while starting). */
  get loadedClocks(): number {
    return this.loadedRows;
  }

  stop(): void {
    this.stopped = true;
    this.scheduler.clear();
    this.unsubscribe?.();
    if (this.flushTimer !== null) this.timers.clearTimer(this.flushTimer);
    this.flushTimer = null;
  }

  get runningClocks(): number {
    return this.clocks.size;
  }

  private put(c: RunningClock): void {
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
    this.callQueue.delete(contactId);
    return keys;
  }

  private onContactChanges(changes: ContactChange[]): void {
    for (const ch of changes) {
      this.changedWhileLoading?.add(ch.contactId);
      this.today.applyChange(ch.contact, ch.clocks);
      for (const k of this.dropContact(ch.contactId)) this.pendingKeys.add(k);
      for (const clock of ch.clocks) {
        if (!OPEN.has(clock.status)) continue;
        const live = this.fromClock(ch.contact, clock);
        this.put(live);
        this.pendingKeys.add(live.key);
        if (clock.standard === 'phone-answer') {
          const q = ch.contact.source?.queue;
          this.callQueue.set(ch.contactId, typeof q === 'string' ? q : null);
        }
      }
      this.pendingContacts.add(ch.contactId);
    }
    this.schedule('contact');
  }

  private fromClock(contact: ContactRow, clock: Clock): RunningClock {
    return {
      key: `${contact.id}/${clock.standard}`,
      contactId: contact.id,
      standard: intern(clock.standard),
      status: intern(clock.status),
      dueAt: clock.dueAt,
      atRiskAt: clock.atRiskAt,
      channel: intern(contact.channel),
      receivedAt: contact.receivedAt,
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
    if (this.sink === null || (this.pendingKeys.size === 0 && this.pendingContacts.size === 0 && !this.boardStale)) return;
    const sink = this.sink;
    const now = this.timers.now();
    this.lastBroadcast = now;
    const upsert: RunningClock[] = [];
    const remove: string[] = [];
    for (const key of this.pendingKeys) {
      const c = this.clocks.get(key);
      // Clients drop a removed row if they have it; a removal they never needed costs nothing.
      if (c !== undefined && isUrgent(c)) upsert.push(c);
      else remove.push(key);
    }
    const contacts = [...this.pendingContacts];
    const cause = this.pendingCause;
    this.pendingKeys = new Set();
    this.pendingContacts = new Set();
    this.pendingCause = 'contact';
    this.boardStale = false;
    if (sink.clientCount === 0) {
      // No board is open: skip the figures; a board that connects later gets a snapshot.
      this.inOrder(async () => sink.skip());
      return;
    }
    // The figures and the rows chosen now, from memory; only what the rows show of their contacts is read.
    const board = this.board(now);
    const mark = this.mark(now);
    const { chosen, partial } = this.mostUrgent(upsert);
    this.inOrder(async () => {
      const rows = await this.urgentRows(chosen);
      sink.broadcast((seq) => ({
        type: 'delta',
        seq,
        cause,
        board,
        upsert: rows,
        remove,
        contacts: partial ? [] : contacts,
        ...(partial ? { partial: true as const } : {}),
        ...(mark !== null ? { mark } : {}),
      }));
    });
  }

  /** Runs `task` after every task queued before it (a failed one does not hold up the rest). */
  private inOrder(task: () => Promise<void>): void {
    this.sending = this.sending.then(task).catch(() => {});
  }

  private get urgentLimit(): number {
    return this.options.urgentLimit ?? 500;
  }

  /** The most urgent of `clocks` (earliest due first), at most urgentLimit of them. */
  private mostUrgent(clocks: RunningClock[]): { chosen: RunningClock[]; partial: boolean } {
    clocks.sort((a, b) => a.dueAt! - b.dueAt! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const partial = clocks.length > this.urgentLimit;
    // Copies of the clocks: a timer that fires while their details are read must not change a row already chosen.
    return { chosen: (partial ? clocks.slice(0, this.urgentLimit) : clocks).map((c) => ({ ...c })), partial };
  }

  /**
   * What urgent rows show of their contacts, read by key. If the read fails (the database is away),
   * the rows go out with the clocks' own figures and the contacts' defaults rather than not at all:
   * a delta held back would leave every board behind.
   */
  private async details(contactIds: readonly string[]): Promise<Map<string, UrgentDetail>> {
    try {
      return await this.store.details(contactIds);
    } catch {
      return new Map();
    }
  }

  /** Rows of the urgent list: the clock's figures from memory, what it shows of its contact read by key. */
  private async urgentRows(clocks: RunningClock[]): Promise<UrgentClock[]> {
    const details = await this.details([...new Set(clocks.map((c) => c.contactId))]);
    return clocks.map((c) => {
      const d = details.get(c.contactId);
      return {
        contactId: c.contactId,
        standard: c.standard,
        status: c.status as 'at-risk' | 'breached',
        dueAt: iso(c.dueAt!),
        atRiskAt: c.atRiskAt === null ? null : iso(c.atRiskAt),
        channel: c.channel as UrgentClock['channel'],
        category: d?.category ?? 'general',
        receivedAt: iso(c.receivedAt),
        customerName: d?.customerName ?? null,
        subject: d?.subject ?? null,
        assignee: d?.assignee ?? null,
        route: d?.route ?? 'customer-services',
        // An extended clock has an agreed due instant and no at-risk instant (STANDARDS §3).
        extended: c.dueAt !== null && c.atRiskAt === null,
      };
    });
  }

  /**
   * The board as of now, for a board that connects: once the deltas already queued have gone out, the
   * figures and rows from memory (numbered with the seq at that instant), then the rows' contacts read.
   */
  async snapshot(seqNow: () => number): Promise<SnapshotMessage> {
    await this.sending;
    const seq = seqNow();
    const now = this.timers.now();
    const open: RunningClock[] = [];
    for (const c of this.clocks.values()) {
      if (isUrgent(c)) open.push(c);
    }
    const board = this.board(now);
    const mark = this.mark(now);
    const { chosen } = this.mostUrgent(open);
    const urgent = await this.urgentRows(chosen);
    return { type: 'snapshot', seq, board, urgent, urgentTotal: open.length, urgentLimit: this.urgentLimit, ...(mark !== null ? { mark } : {}) };
  }

  /**
   * Where the figures taken at `now` stand in the change feed, for a board that later moves to another
   * instance: `xid.id.now`, the feed position applied here and the instant. Null without a feed.
   */
  private mark(now: number): string | null {
    const p = this.options.feed?.position() ?? null;
    return p === null ? null : `${p.xid}.${p.id}.${now}`;
  }

  /**
   * A board moved here from another instance (PostgreSQL) with `since` (its seq there) and the mark of
   * the last message it applied: one delta that brings it to this instance's board, or null when a
   * snapshot must serve (no feed, a mark that does not parse, the feed's rows after it pruned, too many).
   * The board held every change in the feed up to its mark and every timer transition up to the
   * mark's instant (within RESUME_MARGIN_MS). So the delta carries, as they stand here: the rows of
   * every contact the feed changed after the mark (upserted if at risk or breached, else removed),
   * and every clock that turned at risk or breached since the instant. Numbered with the seq read
   * first: deltas this hub sends while the delta is built follow it (sent twice, harmlessly). A change
   * the board held and this instance has not applied yet (it waits a moment for its feed to reach the
   * mark, then goes on) arrives here later as a delta like any other.
   */
  async resume(mark: string, since: number, seqNow: () => number): Promise<DeltaMessage | null> {
    const feed = this.options.feed;
    const m = MARK.exec(mark);
    if (feed === undefined || m === null || !this.isArmed) return null;
    const seq = seqNow();
    const from: FeedPosition = { xid: m[1]!, id: Number(m[2]) };
    const at = Number(m[3]);
    // Reloading (after a gap in the feed) the clocks held here are being read again: a snapshot, and the reload's delta after it.
    const reloading = () => feed.position() === null || this.changedWhileLoading !== null;
    await this.reach(feed, from);
    if (reloading()) return null;
    const changed = await feed.changedSince(from, this.options.resumeMaxRows ?? 20_000);
    if (changed === null || this.stopped || reloading()) return null;
    const now = this.timers.now();
    const keys = new Set<string>();
    for (const [contactId, standards] of changed) {
      for (const standard of standards) keys.add(`${contactId}/${standard}`);
      for (const k of this.byContact.get(contactId) ?? []) keys.add(k);
    }
    const upsert: RunningClock[] = [];
    const remove: string[] = [];
    for (const key of keys) {
      const c = this.clocks.get(key);
      if (c !== undefined && isUrgent(c)) upsert.push(c);
      else remove.push(key);
    }
    const turnedSince = at - RESUME_MARGIN_MS;
    for (const c of this.clocks.values()) {
      const turnedAt = c.status === 'breached' ? c.dueAt : c.status === 'at-risk' ? c.atRiskAt : null;
      if (turnedAt !== null && turnedAt >= turnedSince && !keys.has(c.key)) upsert.push(c);
    }
    // A list longer than a delta carries: the board's own refill would ask for the snapshot anyway.
    if (upsert.length > this.urgentLimit) return null;
    const board = this.board(now);
    const markNow = this.mark(now);
    const rows = await this.urgentRows(this.mostUrgent(upsert).chosen);
    return {
      type: 'delta',
      seq,
      prev: since,
      cause: 'contact',
      board,
      upsert: rows,
      remove,
      contacts: [...changed.keys()],
      ...(markNow !== null ? { mark: markNow } : {}),
    };
  }

  /** Waits (resumeWaitMs at most) until this instance has applied the feed up to `from`. */
  private async reach(feed: FeedView, from: FeedPosition): Promise<void> {
    const until = Date.now() + (this.options.resumeWaitMs ?? 1000);
    const target = BigInt(from.xid);
    for (;;) {
      const p = feed.position();
      if (p !== null) {
        const xid = BigInt(p.xid);
        if (xid > target || (xid === target && p.id >= from.id)) return;
      }
      if (Date.now() >= until || this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * The board's figures as of `now` (board.ts), today's ledger moved on to the calendar's local date
   * first. On the first call of a new day the day's rows are still being read: the figures count what
   * has been heard so far, and a delta with the whole day follows once they are in.
   */
  board(now: number): BoardFigures {
    const site = this.site;
    this.today.cover(localDay(site.calendar, now))?.then(
      () => {
        this.boardStale = true;
        this.schedule('timer');
      },
      () => {}, // read again at the next delta
    );
    return { ...boardFigures(now, this.clocks.values(), this.today, site), phoneQueues: this.phoneQueues() };
  }

  /** The calls waiting now per named phone queue (phone-queues.ts): one pass over the calls waiting. */
  private phoneQueues() {
    const waiting: Array<{ queue: string | null; receivedAt: number }> = [];
    for (const [contactId, queue] of this.callQueue) {
      const c = this.clocks.get(`${contactId}/phone-answer`);
      if (c !== undefined) waiting.push({ queue, receivedAt: c.receivedAt });
    }
    return phoneQueuesNow(waiting, this.options.phoneQueues ?? [], this.options.defaultPhoneQueue ?? 'customer-services');
  }

  /**
   * Today's broken promises (the tally's list), latest due first, at most `limit`: the open clocks
   * breached with their due instant today, and the clocks handled late today whose due instant was today.
   */
  async brokenToday(now: number, standard: string | null, limit: number): Promise<{ date: string; items: BrokenPromise[]; total: number }> {
    const day = localDay(this.calendar, now);
    this.today.cover(day);
    await this.today.ready;
    const to = Math.min(now, day.end);
    const found: Array<{ contactId: string; standard: string; status: BrokenPromise['status']; dueAt: number; channel: string }> = [];
    for (const c of this.clocks.values()) {
      if (c.status === 'breached' && c.dueAt !== null && c.dueAt >= day.start && c.dueAt < to && (standard === null || c.standard === standard)) {
        found.push({ contactId: c.contactId, standard: c.standard, status: 'breached', dueAt: c.dueAt, channel: c.channel });
      }
    }
    for (const m of this.today.missedBetween(day.start, to)) if (standard === null || m.standard === standard) found.push(m);
    found.sort((a, b) => b.dueAt - a.dueAt || (a.contactId < b.contactId ? -1 : a.contactId > b.contactId ? 1 : 0));
    const page = found.slice(0, limit);
    const details = await this.store.details([...new Set(page.map((f) => f.contactId))]);
    const items = page.map((f): BrokenPromise => {
      const d = details.get(f.contactId);
      return {
        contactId: f.contactId,
        standard: f.standard,
        status: f.status,
        dueAt: iso(f.dueAt),
        channel: f.channel as BrokenPromise['channel'],
        category: d?.category ?? 'general',
        route: d?.route ?? 'customer-services',
        customerName: d?.customerName ?? null,
        subject: d?.subject ?? null,
        assignee: d?.assignee ?? null,
      };
    });
    return { date: day.date, items, total: found.length };
  }

  /** For the website: open now, the next opening, and the busy notice with its words. */
  publicStatus(now: number): PublicStatus {
    const site = this.site;
    const queue = phoneQueue(this.clocks.values(), now);
    return {
      open: site.calendar.isOpen(now),
      nextOpening: iso(site.calendar.nextOpening(now)),
      ...busyNotice(site, now, queue.callsWaiting, queue.oldest),
      at: iso(now),
    };
  }
}
