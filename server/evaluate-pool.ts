// Worker threads for `sla evaluate`: each builds the same calendars from the same setup and
// evaluates whole batches of lines; evaluateStream keeps the output in input order.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Closure } from './domain/calendar.js';
import { ALWAYS } from './domain/calendar.js';
import { customerServicesCalendar } from './domain/defaults.js';
import type { BatchResult, BatchRunner, EvaluateOptions } from './evaluate.js';

/** Everything a thread needs to build the evaluator's options (plain data: it crosses threads). */
export interface EvaluateSetup {
  now: number;
  division: string;
  closures: Closure[];
  holidayFile?: unknown;
  packFamily: string;
  explain: boolean;
}

export function optionsFromSetup(setup: EvaluateSetup): EvaluateOptions {
  const calendar = customerServicesCalendar({ division: setup.division, closures: setup.closures, holidayFile: setup.holidayFile });
  return { calendars: { always: ALWAYS, 'customer-services': calendar }, now: setup.now, packFamily: setup.packFamily, explain: setup.explain };
}

/** Worker threads `sla evaluate` starts by default: one per core besides the main one, at most 7. */
export const DEFAULT_EVALUATE_THREADS = Math.min(7, Math.max(0, availableParallelism() - 1));

type Reply = { ready: true } | { id: number; result: BatchResult } | { id: number; error: string };

interface Lane {
  worker: Worker;
  ready: boolean;
  inFlight: number;
}

/** Batches a lane may hold at once: the next one waits in its queue while it works on this one. */
const DEPTH = 2;

export class EvaluatePool implements BatchRunner {
  private readonly lanes: Lane[] = [];
  private readonly tasks = new Map<number, { lane: Lane; resolve: (r: BatchResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /** Starts `threads` workers; they take batches once loaded (until then this thread does the work). */
  constructor(threads: number, setup: EvaluateSetup) {
    for (let i = 0; i < threads; i++) {
      // From TypeScript (tsx) a .mjs shim registers the loader in the thread; compiled, the .js itself.
      const entry = /\.[cm]?ts$/.test(new URL(import.meta.url).pathname) ? './evaluate-worker.mjs' : './evaluate-worker.js';
      const worker = new Worker(new URL(entry, import.meta.url), { workerData: setup });
      const lane: Lane = { worker, ready: false, inFlight: 0 };
      worker.on('message', (m: Reply) => {
        if ('ready' in m) {
          lane.ready = true;
          return;
        }
        const task = this.tasks.get(m.id);
        if (task === undefined) return;
        this.tasks.delete(m.id);
        lane.inFlight--;
        if ('result' in m) task.resolve(m.result);
        else task.reject(new Error(m.error));
      });
      worker.on('error', (e) => this.fail(lane, e));
      worker.on('exit', (code) => this.fail(lane, new Error(`evaluate worker stopped (exit code ${code})`)));
      this.lanes.push(lane);
    }
  }

  /** A worker went away: it takes no more batches, and the ones it held fail (the command reports it). */
  private fail(lane: Lane, error: Error): void {
    const i = this.lanes.indexOf(lane);
    if (i === -1) return;
    this.lanes.splice(i, 1);
    for (const [id, task] of this.tasks) {
      if (task.lane !== lane) continue;
      this.tasks.delete(id);
      task.reject(error);
    }
  }

  lane(): ((text: string, firstLine: number) => Promise<BatchResult>) | undefined {
    let best: Lane | undefined;
    for (const l of this.lanes) if (l.ready && l.inFlight < DEPTH && (best === undefined || l.inFlight < best.inFlight)) best = l;
    if (best === undefined) return undefined;
    const lane = best;
    return (text, firstLine) =>
      new Promise<BatchResult>((resolve, reject) => {
        const id = this.nextId++;
        this.tasks.set(id, { lane, resolve, reject });
        lane.inFlight++;
        lane.worker.postMessage({ id, text, firstLine });
      });
  }

  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }
}
