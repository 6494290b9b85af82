// The server's side of the writer thread: commands queued in one turn of the event loop go over in
// one message; each settles when the writer reports its COMMIT (a 2xx is only ever sent after it).
// The writer's failures are kept for /health; if the thread stops, what it held fails with "writer
// stopped" (503) and a new thread is started.
import { Worker } from 'node:worker_threads';
import type { CommandInput, CommandName, CommandOutput } from '../commands/index.js';
import { errorFromWire } from '../commands/wire.js';
import { faultError, writerStopped, type WriteFailure, type WriteFault } from '../store/faults.js';
import type { FromWriter, Job, ToWriter, WriterSetup } from './protocol.js';
import type { CommandRunner } from './runner.js';
import { Respawn } from '../respawn.js';

/**
 * The worker's entry, next to this module: from TypeScript (tsx; Node 20 does not run a worker's .ts
 * entry through the loader hooks) a .mjs shim that registers tsx first; compiled, worker.js itself.
 */
export function writerEntry(here: string = import.meta.url): URL {
  return /\.[cm]?ts$/.test(new URL(here).pathname) ? new URL('./worker.mjs', here) : new URL('./worker.js', here);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface ThreadRunnerOptions {
  file: string;
  maxEventsPerContact: number;
  /** KEPT_WRITE_TIMEOUT_MS. */
  timeoutMs: number;
  /** One wait for the lock inside SQLite (default 50 ms). */
  busyTimeoutMs?: number;
  /** While writes fail, the writer tries a real write this often (default 1000 ms). */
  probeMs?: number;
  /** Told when the writer thread stops unexpectedly (the server logs it). */
  onStopped?: (detail: string) => void;
  /** The thread's entry (tests put a stand-in here); default: the writer next to this module. */
  entry?: URL;
}

export class ThreadRunner implements CommandRunner {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Jobs sent to the current thread and not yet settled (they fail if it stops). */
  private readonly sent = new Set<number>();
  private outbox: Job[] = [];
  private scheduled = false;
  private nextId = 1;
  private committed = 0;
  private baseCommits = 0;
  private lastFailure: WriteFailure | null = null;
  private closing: Promise<void> | null = null;
  /** Replaced at once after a long run; after 200 ms, 400 ms … (at most 5 s) if it keeps stopping. */
  private readonly respawn = new Respawn(200);
  /** A thread is running (between a start and its stop). */
  private alive = false;
  /** While no thread runs: fails queued commands whose wait has passed KEPT_WRITE_TIMEOUT_MS. */
  private sweep: ReturnType<typeof setInterval> | null = null;
  private readonly setup: WriterSetup;
  readonly ready: Promise<void>;
  private readyState: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly options: ThreadRunnerOptions) {
    this.setup = {
      file: options.file,
      maxEventsPerContact: options.maxEventsPerContact,
      timeoutMs: options.timeoutMs,
      busyTimeoutMs: options.busyTimeoutMs ?? 50,
      probeMs: options.probeMs ?? 1000,
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyState = { resolve, reject };
    });
    this.ready.catch(() => undefined); // a caller that does not wait for it is told by the first write instead
    this.start();
  }

  get commits(): number {
    return this.baseCommits + this.committed;
  }

  get failure(): WriteFailure | null {
    return this.lastFailure;
  }

  private start(): void {
    this.respawn.started();
    this.alive = true;
    if (this.sweep !== null) clearInterval(this.sweep);
    this.sweep = null;
    const worker = new Worker(this.options.entry ?? writerEntry(), { workerData: this.setup });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: FromWriter) => this.onMessage(m));
    worker.on('error', (e) => this.stopped(worker, `the writer thread failed (${e.message})`));
    worker.on('exit', (code) => this.stopped(worker, `the writer thread exited (code ${code})`));
  }

  private onMessage(m: FromWriter): void {
    switch (m.type) {
      case 'ready':
        this.readyState?.resolve();
        this.readyState = null;
        return;
      case 'fatal':
        // The thread could not open the database: it exits next; this is the reason given.
        this.stopped(this.worker, `the writer thread could not start (${m.error.message})`);
        return;
      case 'failure':
        this.committed = m.commits;
        this.lastFailure = m.failure;
        return;
      case 'settled':
        this.committed = m.commits;
        this.lastFailure = m.failure;
        for (const r of m.results) {
          const p = this.pending.get(r.id);
          if (p === undefined) continue;
          this.pending.delete(r.id);
          this.sent.delete(r.id);
          if (r.ok) p.resolve(r.value);
          else p.reject(errorFromWire(r.error));
        }
        if (this.pending.size === 0) this.worker.unref();
        return;
    }
  }

  /** The thread stopped: what it held is not acknowledged (503); a new thread takes the next commands. */
  private stopped(worker: Worker, detail: string): void {
    if (worker !== this.worker || (worker as Worker & { stoppedHandled?: boolean }).stoppedHandled) return;
    (worker as Worker & { stoppedHandled?: boolean }).stoppedHandled = true;
    this.alive = false;
    if (this.closing !== null) {
      for (const id of this.sent) this.fail(id, writerStopped('Kept is shutting down'));
      return;
    }
    const fault = writerStopped(detail);
    this.readyState?.reject(new Error(detail));
    this.readyState = null;
    this.lastFailure = { ...fault, since: this.lastFailure?.since ?? Date.now(), at: Date.now() };
    for (const id of this.sent) this.fail(id, fault);
    this.sent.clear();
    this.options.onStopped?.(detail);
    this.baseCommits += this.committed;
    this.committed = 0;
    const delay = this.respawn.pauseAfterStop();
    const t = setTimeout(() => {
      if (this.closing !== null) return;
      this.start();
      this.resend();
    }, delay);
    t.unref();
    this.sweep = setInterval(() => {
      const now = Date.now();
      const expired = this.outbox.filter((j) => j.deadline <= now);
      if (expired.length === 0) return;
      this.outbox = this.outbox.filter((j) => j.deadline > now);
      for (const j of expired) this.fail(j.id, this.lastFailure ?? fault);
    }, 250);
    this.sweep.unref();
  }

  private fail(id: number, fault: WriteFault): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.reject(faultError(fault));
  }

  /** Commands queued while no thread was running go to the new one. */
  private resend(): void {
    if (this.outbox.length > 0) this.flush();
    if (this.pending.size > 0) this.worker.ref();
  }

  run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    if (this.closing !== null) return Promise.reject(faultError(writerStopped('Kept is shutting down')));
    const id = this.nextId++;
    return new Promise<CommandOutput<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.outbox.push({ id, name, input, deadline: Date.now() + this.options.timeoutMs });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.outbox.length === 0 || !this.alive) return;
    const jobs = this.outbox;
    this.outbox = [];
    for (const j of jobs) this.sent.add(j.id);
    // Kept alive while the writer holds work: a pending write is never dropped by the process exiting.
    this.worker.ref();
    this.worker.postMessage({ type: 'jobs', jobs } satisfies ToWriter);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    const worker = this.worker;
    this.closing = new Promise<void>((resolve) => {
      if (this.outbox.length > 0) this.flush();
      if (!this.alive) {
        if (this.sweep !== null) clearInterval(this.sweep);
        for (const j of this.outbox.splice(0)) this.fail(j.id, writerStopped('Kept is shutting down'));
        return resolve();
      }
      worker.ref();
      // Never worker.terminate(): stopping a thread inside a better-sqlite3 call aborts the whole
      // process. A thread that has not finished in 10 s is left to the process's exit (nothing it
      // holds was acknowledged; SQLite rolls back what was not committed).
      const t = setTimeout(() => {
        worker.unref();
        resolve();
      }, 10_000);
      t.unref();
      worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      worker.postMessage({ type: 'close' } satisfies ToWriter);
    });
    return this.closing;
  }
}
