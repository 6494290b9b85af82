// Database faults: SQLite's codes for failures that are nobody's input, the reason a 503 names, and
// what the writer tells /health. Shared by the HTTP error handler and the writer thread.
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../errors.js';

export type WriteFaultCode = 'database-locked' | 'disk-full' | 'read-only' | 'disk-error' | 'writer-stopped';

/** Why writes fail: a stable code, a reason that starts with the cause's name, and when to try again. */
export interface WriteFault {
  code: WriteFaultCode;
  reason: string;
  /** Seconds a client should wait (Retry-After). */
  retryAfter: number;
}

/** A fault as /health reports it: the writer's last failure, cleared by the next commit that writes. */
export interface WriteFailure extends WriteFault {
  /** When writes started failing (ms). */
  since: number;
  /** The last failed write (ms). */
  at: number;
}

const LOCKED: WriteFault = { code: 'database-locked', reason: 'database locked: another process holds a write lock; nothing was stored; try again shortly', retryAfter: 1 };
const FULL: WriteFault = { code: 'disk-full', reason: 'disk full: the database cannot grow; nothing was stored', retryAfter: 5 };
const READ_ONLY: WriteFault = { code: 'read-only', reason: 'read-only: the database file cannot be written; nothing was stored', retryAfter: 5 };
const DISK_ERROR: WriteFault = { code: 'disk-error', reason: 'disk error while writing the database; nothing was stored', retryAfter: 5 };

/** SQLite's primary codes for faults of the disk or of another process (extended codes start with these). */
const DATABASE_FAULTS: Record<string, WriteFault> = {
  SQLITE_BUSY: LOCKED,
  SQLITE_LOCKED: { ...LOCKED, reason: 'database locked: try again shortly' },
  SQLITE_FULL: FULL,
  SQLITE_READONLY: READ_ONLY,
  SQLITE_IOERR: DISK_ERROR,
  SQLITE_CANTOPEN: { ...DISK_ERROR, reason: 'the database file cannot be opened' },
};

/** `SQLITE_IOERR_WRITE` → the SQLITE_IOERR entry; undefined for anything that is not a database fault. */
export function databaseFault(code: unknown): WriteFault | undefined {
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const key = Object.keys(DATABASE_FAULTS).find((k) => code === k || code.startsWith(`${k}_`));
  return key === undefined ? undefined : DATABASE_FAULTS[key];
}

/** The write lock was not free within the bound. */
export function lockTimeout(timeoutMs: number): WriteFault {
  return {
    ...LOCKED,
    reason: `database locked: another process has held the write lock for more than ${timeoutMs} ms (KEPT_WRITE_TIMEOUT_MS); nothing was stored; try again shortly`,
  };
}

export function writerStopped(detail: string): WriteFault {
  return { code: 'writer-stopped', reason: `writer stopped: ${detail}; this write was not acknowledged; try again shortly`, retryAfter: 1 };
}

function writable(path: string): 'yes' | 'no' | 'missing' {
  try {
    accessSync(path, constants.W_OK);
    return 'yes';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : code === 'EPERM' || code === 'EACCES' || code === 'EROFS' ? 'no' : 'yes';
  }
}

/**
 * The fault behind a failed write, or undefined when the error is not a database fault (a job's own
 * error: bad input, a conflict). SQLite reports a write refused by the file system (an immutable or
 * read-only file, a file system remounted read-only) as a plain I/O error: for those the files and the
 * folder are checked with access(2), which root is refused too for an immutable file or a read-only
 * mount, and the folder's free space with statfs(2).
 */
export function writeFault(error: unknown, file?: string): WriteFault | undefined {
  const fault = databaseFault((error as { code?: unknown } | null)?.code);
  if (fault === undefined || file === undefined || (fault.code !== 'disk-error' && fault.code !== 'read-only')) return fault;
  if ([file, `${file}-wal`, dirname(file)].some((p) => writable(p) === 'no')) return READ_ONLY;
  try {
    const s = statfsSync(dirname(file));
    if (s.bavail === 0) return FULL;
  } catch {
    // no answer: keep what SQLite said
  }
  return fault;
}

/** The error a refused write answers with: 503, the reason, Retry-After. */
export function faultError(fault: WriteFault): UnavailableError {
  return new UnavailableError(fault.reason, fault.code, fault.retryAfter);
}
