// PostgreSQL's failures sorted for the writer: faults that are nobody's input (the server gone, the
// connection cut, the disk full, a read-only standby) answer 503 with the reason and fail the whole
// flush; a job's own trouble (a value PostgreSQL refuses, a constraint) fails that job alone.
import { ConflictError, UnavailableError, UnprocessableError } from '../../errors.js';

export type PgWriteFaultCode = 'database-unreachable' | 'disk-full' | 'read-only' | 'disk-error' | 'database-locked';

/** Why writes fail: a stable code, a reason that starts with the cause's name, when to try again. */
export interface PgWriteFault {
  code: PgWriteFaultCode;
  reason: string;
  retryAfter: number;
}

/** A fault as /health reports it: the writer's last failure, cleared by the next COMMIT. */
export interface PgWriteFailure extends PgWriteFault {
  since: number;
  at: number;
}

const UNREACHABLE: PgWriteFault = {
  code: 'database-unreachable',
  reason: 'database unreachable: the connection to PostgreSQL failed or was lost; nothing was acknowledged; try again shortly',
  retryAfter: 1,
};
const FULL: PgWriteFault = { code: 'disk-full', reason: 'disk full: PostgreSQL cannot write; nothing was stored', retryAfter: 5 };
const READ_ONLY: PgWriteFault = { code: 'read-only', reason: 'read-only: PostgreSQL refuses writes (a standby, or default_transaction_read_only); nothing was stored', retryAfter: 5 };
const DISK_ERROR: PgWriteFault = { code: 'disk-error', reason: 'PostgreSQL reported a system or I/O error; nothing was stored', retryAfter: 5 };
const TIMEOUT: PgWriteFault = {
  code: 'database-locked',
  reason: 'database locked: a write waited longer than KEPT_WRITE_TIMEOUT_MS for a lock held elsewhere; nothing was stored; try again shortly',
  retryAfter: 1,
};
const BUSY: PgWriteFault = { code: 'database-locked', reason: 'database busy: PostgreSQL ran out of connections or locks for this write; nothing was stored; try again shortly', retryAfter: 1 };

// Node's socket errors: the server is not there, or went away mid-conversation.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The fault behind a failed statement, or undefined when it is not one (a job's own error). By
 * SQLSTATE class (08 connection, 57P0x shutdown, 53 resources, 58 system, 25006 read-only), by
 * Node's socket codes, and by node-postgres's own messages for a connection that is gone (they
 * carry no code).
 */
export function pgFault(error: unknown): PgWriteFault | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return UNREACHABLE;
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '3D000') return UNREACHABLE;
    if (code === '53100') return FULL;
    if (code.startsWith('53')) return BUSY;
    if (code.startsWith('58')) return DISK_ERROR;
    if (code === '25006') return READ_ONLY;
    // statement_timeout (the writer sets it to KEPT_WRITE_TIMEOUT_MS) or lock_timeout: waiting on
    // another session, which the batch's jobs one by one would only repeat.
    if (code === '57014' || code === '55P03') return TIMEOUT;
    return undefined;
  }
  const message = (error as { message?: unknown }).message;
  if (typeof message !== 'string') return undefined;
  if (/Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Query read timeout|Client was closed|Cannot use a pool after calling end/i.test(message)) return UNREACHABLE;
  return undefined;
}

/** Whether the batch failed on something one job may have caused (so the jobs are tried one by one). */
export function jobError(error: unknown): boolean {
  return pgFault(error) === undefined;
}

/** The error a refused write answers with: 503, the reason, Retry-After. */
export function pgFaultError(fault: PgWriteFault): UnavailableError {
  return new UnavailableError(fault.reason, fault.code, fault.retryAfter);
}

/**
 * A job that PostgreSQL refused on its own, as Kept answers it. Values it cannot hold (class 22: a
 * NUL character, a number out of range) are the client's input: 422. A constraint (class 23) is a
 * conflict with what is stored: 409, naming the constraint. Never PostgreSQL's message, which may
 * quote the customer's data; the condition's code and the constraint's name carry none.
 */
export function pgJobError(error: unknown): unknown {
  const e = error as { code?: unknown; constraint?: unknown };
  if (typeof e?.code !== 'string') return error;
  if (e.code.startsWith('22')) return new UnprocessableError('body', `holds a value PostgreSQL cannot store (SQLSTATE ${e.code}); nothing was stored`, 'unstorable-value');
  if (e.code.startsWith('23')) {
    const name = typeof e.constraint === 'string' ? e.constraint : 'a constraint';
    return new ConflictError(`the contact breaks ${name} (SQLSTATE ${e.code}); nothing was stored`);
  }
  return error;
}
