// A timer at each running clock's next instant (at-risk, then due): a min-heap and one armed timer.
// No sweep: the earliest instant is always the heap's top.

export type Transition = 'at-risk' | 'breached';

export interface ScheduledClock {
  /** "contactId/standard" */
  key: string;
  atRiskAt: number | null;
  dueAt: number | null;
  /** The status already recorded; decides which instant is next. */
  status: string;
}

export interface Firing {
  key: string;
  transition: Transition;
  /** The instant it really happened (atRiskAt, or the first millisecond after dueAt). */
  at: number;
}

export interface TimerHost {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realTimers: TimerHost = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface HeapItem {
  at: number;
  key: string;
  transition: Transition;
  version: number;
}

/** Binary min-heap on `at` (ties: insertion order is irrelevant). */
class MinHeap {
  private items: HeapItem[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): HeapItem | undefined {
    return this.items[0];
  }
  push(item: HeapItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.at <= item.at) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = item;
  }
  pop(): HeapItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && a[r]!.at < a[l]!.at ? r : l;
        if (a[child]!.at >= last.at) break;
        a[i] = a[child]!;
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
  clear(): void {
    this.items = [];
  }
}

/**
 * Holds every running clock's next instants. `arm` replaces a clock's schedule (stale heap items
 * are skipped by version); when the timer fires, every transition whose instant has come is
 * handed to `onFire` in one batch, in instant order.
 */
export class ClockScheduler {
  private readonly heap = new MinHeap();
  private readonly versions = new Map<string, number>();
  private timer: unknown = null;
  private timerAt = Infinity;
  private nextVersion = 1;
  private held = false;

  constructor(
    private readonly onFire: (firings: Firing[]) => void,
    private readonly host: TimerHost = realTimers,
  ) {}

  /** Number of clocks scheduled. */
  get size(): number {
    return this.versions.size;
  }

  /**
   * Schedules (or reschedules) a clock's remaining transitions: a running clock its at-risk instant
   * (if any) and its breach (the first millisecond after dueAt), an at-risk clock its breach; a paused,
   * breached or ended clock none. No arrays or objects beyond the heap's items: start-up arms 100,000.
   */
  arm(clock: ScheduledClock): void {
    const { key, status, dueAt, atRiskAt } = clock;
    if (dueAt === null || (status !== 'running' && status !== 'at-risk')) {
      this.versions.delete(key);
      return;
    }
    const version = this.nextVersion++;
    this.versions.set(key, version);
    if (status === 'running' && atRiskAt !== null) this.heap.push({ at: atRiskAt, key, transition: 'at-risk', version });
    this.heap.push({ at: dueAt + 1, key, transition: 'breached', version });
    this.rearm();
  }

  /** Arms no timer until resume(): start-up loads every clock first, then catches up in one batch. */
  hold(): void {
    this.held = true;
    if (this.timer !== null) this.host.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  resume(): void {
    this.held = false;
    this.rearm();
  }

  /** Forgets a clock (it ended). */
  disarm(key: string): void {
    this.versions.delete(key);
  }

  /** Marks a transition done so the clock's schedule continues from it (e.g. at-risk → breached). */
  private live(item: HeapItem): boolean {
    return this.versions.get(item.key) === item.version;
  }

  private rearm(): void {
    if (this.held) return;
    // Drop stale items from the top so the timer is set for a live instant.
    let top = this.heap.peek();
    while (top !== undefined && !this.live(top)) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (top === undefined) {
      if (this.timer !== null) this.host.clearTimer(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    if (top.at >= this.timerAt && this.timer !== null) return;
    if (this.timer !== null) this.host.clearTimer(this.timer);
    this.timerAt = top.at;
    // setTimeout caps at 2^31-1 ms; a far instant re-arms on the way.
    const delay = Math.min(Math.max(0, top.at - this.host.now()), 2_000_000_000);
    this.timer = this.host.setTimer(() => this.fire(), delay);
  }

  /** Runs every transition whose instant has come. */
  fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.host.now();
    const firings: Firing[] = [];
    for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (!this.live(top)) continue;
      firings.push({ key: top.key, transition: top.transition, at: top.at });
      if (top.transition === 'breached') this.versions.delete(top.key);
    }
    if (firings.length > 0) this.onFire(firings);
    this.rearm();
  }

  clear(): void {
    if (this.timer !== null) this.host.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    this.heap.clear();
    this.versions.clear();
  }
}
