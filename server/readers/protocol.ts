// Messages between the server's event loop and a reader thread (plain data: structured clone).
import type { WireError } from '../commands/wire.js';

/** What a reader thread is started with (workerData). */
export interface ReaderSetup {
  file: string;
  /** The connection's page cache, KiB (PRAGMA cache_size = -N). */
  cacheKib: number;
  /** A read waits this long for SQLite's own locks (WAL recovery, a checkpoint's brief moments). */
  busyTimeoutMs: number;
  /** Tests only: the thread obeys `crash-on-next-call` (it ends itself with process.exit, as a crash would). */
  testHooks: boolean;
}

export interface ReadCall {
  id: number;
  /** `contacts.list`, `queue.page`, … (server/readers/reads.ts). */
  name: string;
  args: unknown[];
  /**
   * The main thread's calendars, as a number that changes whenever they do (a calendar edit reloads them
   * after its commit): a thread that presented with older ones reads them again first.
   */
  calendars: number;
}

export type ToReader = { type: 'call'; call: ReadCall } | { type: 'close' } | { type: 'crash-on-next-call'; code: number };

export type FromReader =
  | { type: 'ready' }
  | { type: 'done'; id: number; ok: true; value: unknown }
  | { type: 'done'; id: number; ok: false; error: WireError }
  /** The thread could not open the database: it exits next, and this is why. */
  | { type: 'fatal'; error: WireError };
