// One peer library run over the bench's cases in a worker thread, so that the main thread can
// stop it when a call hangs. Task 2i is case i's due instant, task 2i + 1 its elapsed-time query.
// Results, per-call times and statuses go into SharedArrayBuffers (they survive a terminate);
// after each task the worker publishes the number of tasks done with Atomics.store, which the
// main thread watches. Started by scripts/bench/calendar.ts (through a tsx bootstrap).
import { parentPort, workerData } from 'node:worker_threads';
import { STATUS, type PeerName } from './calendar-cases.js';
import { makePeer } from './calendar-peers.js';

/** What the main thread hands a peer worker; every array is backed by a SharedArrayBuffer. */
export interface PeerWorkerData {
  peer: PeerName;
  zone: string;
  holidays: string[];
  firstTask: number;
  start: Float64Array;
  duration: Float64Array;
  to: Float64Array;
  /** [0] tasks done (the next task to run), [1] stop flag set by the main thread, [2] end task (exclusive). */
  control: Int32Array;
  /** Per task: the peer's answer (epoch ms for a due instant, ms for an elapsed query). */
  result: Float64Array;
  /** Per task: the call's own time in ms (performance.now() around it). */
  time: Float64Array;
  status: Uint8Array;
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'peer' in workerData) {
  const d = workerData as PeerWorkerData;
  const peer = makePeer(d.peer, d.zone, d.holidays);
  parentPort.postMessage({ ready: true, note: peer.note });
  for (let task = d.firstTask; task < Atomics.load(d.control, 2); task++) {
    if (Atomics.load(d.control, 1) === 1) break;
    const i = task >> 1;
    let value = NaN;
    let status: number = STATUS.ok;
    const t0 = performance.now();
    try {
      value = (task & 1) === 0 ? peer.add(d.start[i]!, d.duration[i]!) : peer.count(d.start[i]!, d.to[i]!);
    } catch {
      status = STATUS.threw;
    }
    const elapsed = performance.now() - t0;
    if (status === STATUS.ok && !Number.isFinite(value)) status = STATUS.threw; // an invalid date counts as an error
    d.result[task] = value;
    d.time[task] = elapsed;
    d.status[task] = status;
    Atomics.store(d.control, 0, task + 1);
  }
  parentPort.postMessage({ done: true });
}
