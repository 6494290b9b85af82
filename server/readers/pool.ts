// The server's side of the reader threads: N threads, each with its own read-only connection, answering
// reads by name (reads.ts). A call goes to the thread with the fewest calls in flight; past a bound the
// call answers 503 at once (a queue that grows without limit only makes every read late). If a thread
// stops, the calls it held answer 503 naming the cause and a new thread is started, as the writer's is.
// Kept never calls worker.terminate(): stopping a thread inside a better-sqlite3 call aborts the process.
import { Worker } from 'node:worker_threads';
import { errorFromWire } from '../commands/wire.js';
import { UnavailableError } from '../errors.js';
import { Respawn } from '../respawn.js';
import type { FromReader, ReadCall, ReaderSetup, ToReader } from './protocol.js';
import { READ_NAMES, type ReadName, type ReadTable, type Reads } from './reads.js';

/**
 * The thread's entry, next to this module: from TypeScript (tsx) a .mjs shim that registers tsx first;
 * compiled, worker.js itself (scripts/build-server.mjs compiles all of server/).
 */
export function readerEntry(here: string = import.meta.url): URL {
  return /\.[cm]?ts$/.test(new URL(here).pathname) ? new URL('./worker.mjs', here) : new URL('./worker.js', here);
}

export interface ReaderPoolOptions {
  file: string;
  /** KEPT_READER_THREADS (at least 1 here: 0 means no pool, the reads run on the main connection). */
  threads: number;
  /** Each connection's page cache, KiB (default 8 MiB: the OS keeps the file's pages too). */
  cacheKib?: number;
  /** busy_timeout of each connection (default 1000 ms). */
  busyTimeoutMs?: number;
  /** Calls in flight on one thread before a new call is refused with 503 (default 64). */
  maxInFlight?: number;
  /** While no thread runs (all restarting), a call waits this long before a 503 (default 5000 ms). */
  waitMs?: number;
  /** Told when a thread stops unexpectedly (the server logs it). */
  onStopped?: (detail: string) => void;
  /** The main thread's calendars (IngestService.calendars): the threads present with the same ones. */
  calendarsOf?: () => object;
  /** Tests only: threads obey a crash message (`crashForTest`). */
  testHooks?: boolean;
  entry?: URL;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Waiting {
  call: ReadCall;
  pending: Pending;
  deadline: number;
}

class Slot {
  worker!: Worker;
  alive = false;
  stopped = false;
  /** Replaced at once after a long run; after 100 ms, 200 ms … (at most 5 s) if it keeps stopping. */
  readonly respawn = new Respawn(100);
  /** Calls sent to the current thread and not yet answered (they fail if it stops). */
  readonly inFlight = new Map<number, Pending>();
  /** Calls answered by this slot's threads (the test of spreading reads). */
  served = 0;
  constructor(readonly index: number) {}
}

const stoppedError = (detail: string) =>
  new UnavailableError(`reads unavailable: ${detail}; nothing was changed; try again shortly`, 'reader-stopped', 1);

export class ReaderPool {
  private readonly slots: Slot[];
  private readonly setup: ReaderSetup;
  private readonly maxInFlight: number;
  private readonly waitMs: number;
  private waiting: Waiting[] = [];
  private sweep: ReturnType<typeof setInterval> | null = null;
  private nextId = 1;
  private closing: Promise<void> | null = null;
  /** Tests only: the exit code the thread the next call goes to ends with (crashForTest). */
  private crashNext: number | null = null;
  /** The main thread's calendars as last seen, and their number (ReadCall.calendars). */
  private calendars: object | null = null;
  private calendarsNumber = 0;
  /** The reads, each a call to a thread. */
  readonly reads: Reads;

  constructor(private readonly options: ReaderPoolOptions) {
    if (!(options.threads >= 1)) throw new Error('a reader pool needs at least one thread');
    this.setup = { file: options.file, cacheKib: options.cacheKib ?? 8192, busyTimeoutMs: options.busyTimeoutMs ?? 1000, testHooks: options.testHooks === true };
    this.maxInFlight = options.maxInFlight ?? 64;
    this.waitMs = options.waitMs ?? 5000;
    this.slots = Array.from({ length: options.threads }, (_, i) => new Slot(i));
    for (const s of this.slots) this.start(s);
    const reads = {} as Record<string, Record<string, unknown>>;
    for (const [group, names] of Object.entries(READ_NAMES)) {
      reads[group] = {};
      for (const m of names) reads[group]![m] = (...args: unknown[]) => this.call(`${group}.${m}` as ReadName, args);
    }
    this.reads = reads as unknown as Reads;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Calls answered by each thread slot so far (a replaced thread's count carries on). */
  get served(): number[] {
    return this.slots.map((s) => s.served);
  }

  private start(slot: Slot): void {
    slot.respawn.started();
    slot.alive = true;
    slot.stopped = false;
    const worker = new Worker(this.options.entry ?? readerEntry(), { workerData: this.setup, name: `kept-reader-${slot.index}` });
    slot.worker = worker;
    worker.unref();
    worker.on('message', (m: FromReader) => this.onMessage(slot, worker, m));
    worker.on('error', (e) => this.stopped(slot, worker, `a reader thread failed (${e.message})`));
    worker.on('exit', (code) => this.stopped(slot, worker, `a reader thread exited (code ${code})`));
    this.drain();
  }

  private onMessage(slot: Slot, worker: Worker, m: FromReader): void {
    if (worker !== slot.worker) return;
    switch (m.type) {
      case 'ready':
        return;
      case 'fatal':
        // The thread could not open the database: it exits next; this is the reason its calls are given.
        this.stopped(slot, worker, `a reader thread could not open the database (${m.error.message})`);
        return;
      case 'done': {
        const p = slot.inFlight.get(m.id);
        if (p === undefined) return;
        slot.inFlight.delete(m.id);
        slot.served++;
        if (slot.inFlight.size === 0) worker.unref();
        if (m.ok) p.resolve(m.value);
        else p.reject(errorFromWire(m.error));
        return;
      }
    }
  }

  /** A thread stopped: what it held answers 503 with the cause; a new thread takes its place. */
  private stopped(slot: Slot, worker: Worker, detail: string): void {
    if (worker !== slot.worker || slot.stopped) return;
    slot.stopped = true;
    slot.alive = false;
    const shuttingDown = this.closing !== null;
    const error = stoppedError(shuttingDown ? 'Kept is shutting down' : detail);
    for (const p of slot.inFlight.values()) p.reject(error);
    slot.inFlight.clear();
    if (shuttingDown) return;
    this.options.onStopped?.(detail);
    const delay = slot.respawn.pauseAfterStop();
    const t = setTimeout(() => {
      if (this.closing === null) this.start(slot);
    }, delay);
    t.unref();
  }

  /**
   * The thread with the fewest calls in flight (the first of equals), or null when none is running.
   * Reads one after another keep to the first thread, whose code and page cache are warm; reads at
   * once spread over the others.
   */
  private leastBusy(): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) if (s.alive && (best === null || s.inFlight.size < best.inFlight.size)) best = s;
    return best;
  }

  /** Runs a read by name on a reader thread. */
  call<N extends ReadName>(name: N, args: unknown[]): Promise<unknown>;
  call(name: string, args: unknown[]): Promise<unknown> {
    if (this.closing !== null) return Promise.reject(stoppedError('Kept is shutting down'));
    const set = this.options.calendarsOf?.() ?? null;
    if (set !== this.calendars) {
      this.calendars = set;
      this.calendarsNumber++;
    }
    const call: ReadCall = { id: this.nextId++, name, args, calendars: this.calendarsNumber };
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject };
      const slot = this.leastBusy();
      if (slot === null) {
        // Every thread is being replaced: wait a little for one, within bounds.
        if (this.waiting.length >= this.maxInFlight * this.slots.length) return reject(this.busyError());
        this.waiting.push({ call, pending, deadline: Date.now() + this.waitMs });
        this.armSweep();
        return;
      }
      if (slot.inFlight.size >= this.maxInFlight) return reject(this.busyError());
      this.send(slot, call, pending);
    });
  }

  private busyError(): UnavailableError {
    return new UnavailableError(`reads busy: ${this.maxInFlight * this.slots.length} reads are waiting for the database; try again shortly`, 'readers-busy', 1);
  }

  private send(slot: Slot, call: ReadCall, pending: Pending): void {
    if (slot.inFlight.size === 0) slot.worker.ref(); // a read in flight keeps the process up until it is answered
    slot.inFlight.set(call.id, pending);
    if (this.crashNext !== null) {
      slot.worker.postMessage({ type: 'crash-on-next-call', code: this.crashNext } satisfies ToReader);
      this.crashNext = null;
    }
    slot.worker.postMessage({ type: 'call', call } satisfies ToReader);
  }

  /** Calls that waited for a thread go to the threads now running. */
  private drain(): void {
    while (this.waiting.length > 0) {
      const slot = this.leastBusy();
      if (slot === null || slot.inFlight.size >= this.maxInFlight) return;
      const w = this.waiting.shift()!;
      this.send(slot, w.call, w.pending);
    }
  }

  private armSweep(): void {
    if (this.sweep !== null) return;
    this.sweep = setInterval(() => {
      const now = Date.now();
      const expired = this.waiting.filter((w) => w.deadline <= now);
      this.waiting = this.waiting.filter((w) => w.deadline > now);
      for (const w of expired) w.pending.reject(stoppedError(`no reader thread has been running for ${this.waitMs} ms`));
      if (this.waiting.length === 0 && this.sweep !== null) {
        clearInterval(this.sweep);
        this.sweep = null;
      }
    }, 250);
    this.sweep.unref();
  }

  /**
   * Tests only (the pool made with testHooks): the thread the next call is sent to, whichever that is,
   * ends itself when the call reaches it, as a crash in the middle of a read would. Armed on the pool,
   * not on a thread chosen now: a thread replaced meanwhile would otherwise take the call and leave the
   * armed one to crash some later read.
   */
  crashForTest(code = 70): void {
    if (!this.setup.testHooks) throw new Error('the pool was not made with testHooks');
    this.crashNext = code;
  }

  /** Lets the calls in flight finish and stops every thread (never terminate(): see above). */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (this.sweep !== null) clearInterval(this.sweep);
      for (const w of this.waiting.splice(0)) w.pending.reject(stoppedError('Kept is shutting down'));
      await Promise.all(
        this.slots.map(
          (slot) =>
            new Promise<void>((resolve) => {
              if (!slot.alive) return resolve();
              const worker = slot.worker;
              worker.ref();
              // A thread that has not finished in 10 s is left to the process's exit (a read holds nothing to lose).
              const t = setTimeout(() => {
                worker.unref();
                resolve();
              }, 10_000);
              t.unref();
              worker.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              worker.postMessage({ type: 'close' } satisfies ToReader);
            }),
        ),
      );
    })();
    return this.closing;
  }
}

export type { ReadTable };
