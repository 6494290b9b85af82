// Messages between IngestService's thread and the writer thread (plain data: structured clone).
import type { CommandName } from '../commands/index.js';
import type { WireError } from '../commands/wire.js';
import type { WriteFailure } from '../store/faults.js';

/** What the writer thread is started with (workerData). */
export interface WriterSetup {
  file: string;
  maxEventsPerContact: number;
  /** KEPT_WRITE_TIMEOUT_MS: how long a command may wait for the write lock. */
  timeoutMs: number;
  /** The writer connection's busy_timeout (ms): one wait for the lock; the writer tries again until the command's deadline. */
  busyTimeoutMs: number;
  /** While writes fail, a probe write this often (ms). */
  probeMs: number;
}

export interface Job {
  id: number;
  name: CommandName;
  input: unknown;
  /** Date.now() past which the command stops waiting for the lock. */
  deadline: number;
}

export type ToWriter = { type: 'jobs'; jobs: Job[] } | { type: 'close' };

export type JobResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export type FromWriter =
  | { type: 'ready' }
  /** One group commit's jobs, settled; the counters and the failure as they stand after it. */
  | { type: 'settled'; results: JobResult[]; commits: number; failure: WriteFailure | null }
  | { type: 'failure'; failure: WriteFailure | null; commits: number }
  | { type: 'fatal'; error: WireError };
