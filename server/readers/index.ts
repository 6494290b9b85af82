// The server's reads (issue 9): on KEPT_READER_THREADS reader threads, or on the main connection when
// it is 0 (tests that want one thread, tiny installs, an in-memory database).
import type { Sqlite } from '../../db/connection.js';
import type { CalendarSet } from '../domain/clocks.js';
import { ReaderPool, type ReaderPoolOptions } from './pool.js';
import { inlineReads, type Reads } from './reads.js';

export type { ContactParts, QueueParts, QueueRequest, Reads, ViewParts } from './reads.js';
export { ReaderPool } from './pool.js';
/** On PostgreSQL (no reader threads): the same reads over the asynchronous ports (./ports.ts). */
export { pgReads, pgSnapshot, portReads, type ReadPorts, type WithSnapshot } from './ports.js';

export interface ReadService {
  reads: Reads;
  /** The threads, or null when reads run on the main connection. */
  pool: ReaderPool | null;
  close(): Promise<void>;
}

/** `calendars`: the main thread's (IngestService.calendars), which the views are presented with. */
export function openReads(sqlite: Sqlite, calendars: () => CalendarSet, options: Omit<ReaderPoolOptions, 'file' | 'calendarsOf'>): ReadService {
  // An in-memory database is private to its connection: no thread could read it.
  if (options.threads <= 0 || sqlite.memory) return { reads: inlineReads(sqlite, calendars), pool: null, close: async () => {} };
  const pool = new ReaderPool({ ...options, file: sqlite.name, calendarsOf: calendars });
  return { reads: pool.reads, pool, close: () => pool.close() };
}
