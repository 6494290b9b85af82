// One ticking "now" for the whole board, on the server's clock: every age and countdown reads it,
// so they all move together on the second. A wall screen's own clock is often wrong by minutes;
// the live socket tells us the server's time (snapshot and heartbeat `at`) and we follow that.

class Clock {
  /** Server time, ms, updated on each whole second. */
  now = $state(Date.now());
  /** Server time minus this browser's time, ms. */
  private offset = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** The server says it is `serverAt` now. Small drifts (network latency) are ignored to keep ticks even. */
  sync(serverAt: number): void {
    const offset = serverAt - Date.now();
    if (Math.abs(offset - this.offset) < 1000) return;
    this.offset = offset;
    this.now = this.read();
    this.schedule();
  }

  /** Brings `now` up to date at once (new figures arrived: ages and countdowns must agree with them). */
  touch(): void {
    this.now = this.read();
  }

  read(): number {
    return Date.now() + this.offset;
  }

  start(): void {
    if (this.timer === null) this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const wait = 1000 - (this.read() % 1000) + 5;
    this.timer = setTimeout(() => {
      this.now = this.read();
      this.schedule();
    }, wait);
  }
}

export const clock = new Clock();
