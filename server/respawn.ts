// When a worker thread (the writer, a reader) stops, a new one takes its place: at once if the one
// that stopped had run for a while, after a growing pause (at most 5 s) if threads keep stopping.
// One rule for every thread Kept runs, so a thread that cannot start does not spin the CPU.

const RAN_LONG_MS = 10_000;
const MAX_PAUSE_MS = 5000;

export class Respawn {
  private lastStart = 0;
  private restarts = 0;

  /** @param firstPauseMs the pause after the first quick stop, doubled on each further one */
  constructor(private readonly firstPauseMs: number) {}

  /** A thread started now. */
  started(now = Date.now()): void {
    this.lastStart = now;
  }

  /** A thread stopped now: how long to wait before starting the next. */
  pauseAfterStop(now = Date.now()): number {
    const ranLong = now - this.lastStart > RAN_LONG_MS;
    this.restarts = ranLong ? 0 : this.restarts + 1;
    return ranLong ? 0 : Math.min(MAX_PAUSE_MS, (this.firstPauseMs / 2) * 2 ** this.restarts);
  }
}
