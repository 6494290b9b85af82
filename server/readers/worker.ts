// A reader thread: its own connection to the database file, read-only by pragma, answering the reads
// of server/readers/reads.ts one message at a time. WAL lets it read beside the writer thread and
// beside another process's write lock; each read starts a read transaction, which sees every
// transaction committed before it (so a read after a 2xx sees that write).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { loadCalendars } from '../commands/context.js';
import { errorToWire } from '../commands/wire.js';
import type { CalendarSet } from '../domain/clocks.js';
import { CalendarStore } from '../store/calendars.js';
import type { FromReader, ReaderSetup, ToReader } from './protocol.js';
import { readTable, runRead } from './reads.js';

const port = parentPort!;
const setup = workerData as ReaderSetup;
const post = (m: FromReader) => port.postMessage(m);

try {
  // fileMustExist: the main connection has created and migrated the file before any reader opens it.
  const sqlite = new Database(setup.file, { fileMustExist: true });
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(setup.busyTimeoutMs))}`);
  // Never a write from here, whatever a read is asked: the writer thread is the one way in.
  sqlite.pragma('query_only = ON');
  sqlite.pragma(`cache_size = -${Math.max(256, Math.floor(setup.cacheKib))}`);
  // The calendars the views are presented with: read again, inside the read that needs them (so from
  // the same snapshot), whenever the main thread says its own have changed.
  const calendarStore = new CalendarStore(sqlite);
  let calendars: CalendarSet | null = null;
  let loaded = -1;
  let wanted = 0;
  const table = readTable(sqlite, () => {
    if (calendars === null || loaded !== wanted) {
      calendars = loadCalendars(calendarStore);
      loaded = wanted;
    }
    return calendars;
  });

  /** Tests only: the exit code the thread ends with when the next call arrives (a crash in the middle of a read). */
  let crashOnNextCall: number | null = null;
  port.on('message', (m: ToReader) => {
    if (m.type === 'call') {
      if (crashOnNextCall !== null) process.exit(crashOnNextCall);
      const { id, name, args } = m.call;
      wanted = m.call.calendars;
      let value: unknown;
      try {
        value = runRead(table, name, args);
      } catch (e) {
        post({ type: 'done', id, ok: false, error: errorToWire(e) });
        return;
      }
      try {
        post({ type: 'done', id, ok: true, value });
      } catch (e) {
        // An answer that cannot be cloned is a fault of Kept's own (a 500), never a hang.
        post({ type: 'done', id, ok: false, error: errorToWire(e) });
      }
      return;
    }
    if (m.type === 'crash-on-next-call' && setup.testHooks) crashOnNextCall = m.code;
    if (m.type === 'close') {
      sqlite.close();
      port.close();
    }
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'fatal', error: errorToWire(e) });
  port.close();
}
