// The live board's connection to `/api/v1/live` (server/live/protocol.ts): a snapshot, then numbered
// deltas. On a drop it says so, and reconnects with backoff using `?since=<last seq>` (and the last
// message's `mark`, which lets another instance behind the same balancer resume it), so the server
// replays what was missed (or sends a fresh snapshot) and the board catches up without a reload.
import type { BoardFigures, BoardMessage, DeltaMessage, ServerMessage, SnapshotMessage, UrgentClock } from '../../server/live/protocol.js';
import { clock } from './clock.svelte.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/** Same as LIVE_PATH in the protocol (the web app imports only the API's types). */
const LIVE_PATH = '/api/v1/live';
/** Backoff before each retry, ms (the last repeats), with ±20% jitter so many screens do not retry in step. */
const BACKOFF = [1000, 2000, 4000, 8000, 15000];
/** The server sends a heartbeat every 15 s; this long without any message means the socket is dead. */
const SILENCE_MS = 40_000;
/** The heartbeat interval and some grace: silent longer than this, the board says its figures are stale. */
export const STALE_MS = 20_000;

export const urgentKey = (u: { contactId: string; standard: string }) => `${u.contactId}/${u.standard}`;

/** A row of the urgent list: the clock, its key and its due instant (ms). */
export interface UrgentRow {
  key: string;
  due: number;
  clock: UrgentClock;
}

const toRow = (clock: UrgentClock): UrgentRow => ({ key: urgentKey(clock), due: Date.parse(clock.dueAt), clock });
const byDue = (a: UrgentRow, b: UrgentRow) => a.due - b.due || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Where `row` goes in `rows` (sorted by byDue). */
function position(rows: UrgentRow[], row: UrgentRow): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byDue(rows[mid]!, row) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Changes in one delta beyond which the list is re-sorted rather than edited in place. */
const RESORT_AFTER = 64;
/** Fewest ms between two refills (a snapshot asked for because the list ran short). */
const REFILL_GAP_MS = 5000;

/** At-risk and breached clocks the tiles count, in all and breached. */
function urgentCounts(b: BoardFigures): { total: number; breached: number } {
  let total = 0;
  let breached = 0;
  for (const t of b.tiles) {
    total += t.atRisk + t.breached;
    breached += t.breached;
  }
  return { total, breached };
}

export class LiveBoard {
  state = $state<ConnectionState>('connecting');
  board = $state.raw<BoardFigures | null>(null);
  /** At-risk and breached clocks, most urgent (earliest due) first. */
  urgent = $state.raw<UrgentRow[]>([]);
  /** The last sequence number applied (null before the first snapshot). */
  seq = $state<number | null>(null);
  /** Failed attempts since the last good connection. */
  attempt = $state(0);
  /** When the next retry happens (server ms), while reconnecting. */
  retryAt = $state<number | null>(null);
  /** When the last message arrived (server ms). */
  lastMessageAt = $state<number | null>(null);
  /**
   * At-risk and breached clocks in all, and breached (the server sends only the most urgent
   * `urgentLimit` rows; the list says how many more there are).
   */
  urgentTotal = $state(0);
  breachedTotal = $state(0);
  /** The team lead's message on every board (sent unnumbered by the server), or null. */
  message = $state.raw<BoardMessage | null>(null);
  /** Counters, for the curious (and the end-to-end tests). */
  snapshots = $state(0);
  deltas = $state(0);
  refills = $state(0);

  private socket: WebSocket | null = null;
  private rows = new Map<string, UrgentRow>();
  /** The rows sorted by due instant: edited in place by small deltas (a bad day has thousands). */
  private sorted: UrgentRow[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Most rows the server sends (from the snapshot). */
  private limit = Infinity;
  /** Connect without `since` next time: a fresh snapshot, to refill a list that ran short. */
  private wantSnapshot = false;
  private lastRefill = -Infinity;
  /** performance.now() of the last message. */
  private heardAt = performance.now();

  /** The mark of the last message applied (several instances): sent back with `since` on a reconnect. */
  private mark: string | null = null;

  constructor(private readonly url: (since: number | null, mark: string | null) => string = defaultUrl) {}

  start(): void {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.clearTimers();
    this.closeSocket();
  }

  /** Drop whatever is happening and connect at once (the `r` key, or the browser coming back online). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.clearTimers();
    this.closeSocket();
    if (this.seq !== null) this.state = 'reconnecting';
    this.open();
  }

  private readonly onOnline = () => {
    if (this.state !== 'live') this.reconnectNow();
  };

  /** A laptop waking up: its timers slept too, so do not wait out the backoff or the silence watch. */
  private readonly onVisible = () => {
    if (document.visibilityState !== 'visible') return;
    if (this.state !== 'live' || performance.now() - this.heardAt > SILENCE_MS / 2) this.reconnectNow();
  };

  private open(): void {
    this.retryAt = null;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.wantSnapshot ? this.url(null, null) : this.url(this.seq, this.mark));
      this.wantSnapshot = false;
    } catch {
      this.dropped();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.heardAt = performance.now();
      this.state = 'live';
      this.attempt = 0;
      this.watchSilence();
    };
    socket.onmessage = (e: MessageEvent) => {
      if (this.socket !== socket) return;
      this.heardAt = performance.now();
      this.watchSilence();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(e.data)) as ServerMessage;
      } catch {
        return;
      }
      this.receive(message);
    };
    socket.onclose = () => {
      if (this.socket === socket) this.dropped();
    };
    // An error is always followed by close.
  }

  private receive(m: ServerMessage): void {
    this.lastMessageAt = clock.read();
    switch (m.type) {
      case 'snapshot':
        this.applySnapshot(m);
        break;
      case 'delta':
        if (m.prev !== undefined) {
          // Resumed by another instance (it follows our seq, numbered in its own run): apply it if it
          // follows what we have; else it is no use to us.
          if (m.prev === this.seq) this.applyDelta(m);
          else this.resync();
          return;
        }
        if (this.seq !== null && m.seq <= this.seq) return; // already applied (a replay overlapping)
        if (this.seq === null || m.seq > this.seq + 1) {
          // A gap: ask the server again from what we have; it replays or sends a snapshot.
          this.resync();
          return;
        }
        this.applyDelta(m);
        break;
      case 'heartbeat':
        clock.sync(Date.parse(m.at));
        if (this.seq !== null && m.seq > this.seq) this.resync();
        break;
      case 'message':
        this.message = m.message;
        break;
    }
  }

  private applySnapshot(m: SnapshotMessage): void {
    clock.sync(Date.parse(m.board.at));
    this.rows = new Map(m.urgent.map((u) => [urgentKey(u), toRow(u)]));
    this.sorted = [...this.rows.values()].sort(byDue);
    this.urgent = this.sorted.slice();
    this.board = m.board;
    this.seq = m.seq;
    this.mark = m.mark ?? null;
    this.limit = m.urgentLimit ?? Infinity;
    this.counts(m.board, m.urgentTotal);
    this.snapshots++;
    clock.touch();
  }

  private counts(b: BoardFigures, total = 0): void {
    const c = urgentCounts(b);
    this.urgentTotal = Math.max(total, c.total, this.rows.size);
    this.breachedTotal = c.breached;
  }

  private applyDelta(m: DeltaMessage): void {
    const changes = m.remove.length + m.upsert.length;
    if (changes > RESORT_AFTER) {
      for (const key of m.remove) this.rows.delete(key);
      for (const u of m.upsert) this.rows.set(urgentKey(u), toRow(u));
      this.sorted = [...this.rows.values()].sort(byDue);
    } else {
      const drop = (key: string) => {
        const old = this.rows.get(key);
        if (old === undefined) return;
        this.rows.delete(key);
        const i = position(this.sorted, old);
        if (this.sorted[i] === old) this.sorted.splice(i, 1);
        else this.sorted = this.sorted.filter((r) => r !== old); // never expected; stay correct anyway
      };
      for (const key of m.remove) drop(key);
      for (const u of m.upsert) {
        const row = toRow(u);
        drop(row.key);
        this.rows.set(row.key, row);
        this.sorted.splice(position(this.sorted, row), 0, row);
      }
    }
    if (this.sorted.length > this.limit) {
      // Keep the most urgent `limit` rows, as the server does; the rest are counted.
      for (const row of this.sorted.splice(this.limit)) this.rows.delete(row.key);
    }
    if (changes > 0) this.urgent = this.sorted.slice();
    this.board = m.board;
    this.seq = m.seq;
    this.mark = m.mark ?? null;
    this.counts(m.board);
    this.deltas++;
    clock.touch();
    // A storm cut short (partial), or rows handled until fewer than half the limit are known while
    // the tiles count more: ask for a fresh snapshot of the most urgent.
    const short = this.rows.size < this.limit / 2 && this.urgentTotal > this.rows.size;
    if (m.partial === true || short) this.refill(m.partial === true);
  }

  /** A fresh snapshot without showing "Reconnecting…" (the board stays live meanwhile). */
  private refill(now: boolean): void {
    const t = performance.now();
    if (!now && t - this.lastRefill < REFILL_GAP_MS) return;
    this.lastRefill = t;
    this.refills++;
    this.closeSocket();
    this.wantSnapshot = true;
    this.open();
  }

  private resync(): void {
    this.closeSocket();
    this.state = 'reconnecting';
    this.open();
  }

  private dropped(): void {
    this.closeSocket();
    if (this.stopped) return;
    this.state = this.seq === null ? 'connecting' : 'reconnecting';
    const base = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)]!;
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.retryAt = clock.read() + wait;
    this.clearTimers();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, wait);
  }

  private watchSilence(): void {
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      this.dropped();
    }, SILENCE_MS);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.retryTimer = null;
    this.silenceTimer = null;
  }

  private closeSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (s === null) return;
    s.onopen = s.onmessage = s.onclose = null;
    if (s.readyState === WebSocket.CONNECTING || s.readyState === WebSocket.OPEN) s.close();
  }
}

function defaultUrl(since: number | null, mark: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = since === null ? '' : `?since=${since}${mark === null ? '' : `&mark=${mark}`}`;
  return `${scheme}//${location.host}${LIVE_PATH}${query}`;
}
