// How the PostgreSQL writer sorts what PostgreSQL and node-postgres throw: faults (503, the whole
// flush) apart from a job's own trouble (422 or 409, that job alone), never quoting PostgreSQL's message.
import { describe, expect, it } from 'vitest';
import { pgFault, pgFaultError, pgJobError } from '../../server/store/pg/writer-faults.js';

const pgError = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`server said something about "Jane Doe, 07700 900123"`), { code, ...extra });

describe('pgFault', () => {
  it.each([
    ['ECONNREFUSED', 'database-unreachable'],
    ['ECONNRESET', 'database-unreachable'],
    ['08006', 'database-unreachable'],
    ['57P01', 'database-unreachable'],
    ['57P03', 'database-unreachable'],
    ['53100', 'disk-full'],
    ['53300', 'database-locked'],
    ['58030', 'disk-error'],
    ['25006', 'read-only'],
    ['57014', 'database-locked'],
    ['55P03', 'database-locked'],
  ])('%s is a fault: %s', (code, expected) => {
    expect(pgFault(pgError(code))?.code).toBe(expected);
  });

  it.each([['Connection terminated unexpectedly'], ['timeout exceeded when trying to connect'], ['Query read timeout'], ['Client has encountered a connection error and is not queryable']])(
    'node-postgres\'s "%s" (no code) is the database unreachable',
    (message) => {
      expect(pgFault(new Error(message))?.code).toBe('database-unreachable');
    },
  );

  it.each([['23505'], ['23514'], ['22021'], ['40P01'], ['42P01']])('%s is not a fault (the flush goes job by job)', (code) => {
    expect(pgFault(pgError(code))).toBeUndefined();
  });

  it('answers a fault as 503 with the reason and Retry-After', () => {
    const e = pgFaultError(pgFault(pgError('57P01'))!);
    expect(e).toMatchObject({ status: 503, code: 'database-unreachable', retryAfter: 1 });
    expect(e.message).toMatch(/^database unreachable: .*nothing was acknowledged/);
  });
});

describe('pgJobError', () => {
  it('answers a value PostgreSQL cannot hold with 422, without its message', () => {
    const e = pgJobError(pgError('22021')) as Error & { status: number; code: string };
    expect(e).toMatchObject({ status: 422, code: 'unstorable-value' });
    expect(e.message).toContain('22021');
    expect(e.message).not.toMatch(/Jane|07700/);
  });

  it('answers a constraint with 409 naming it, without its message', () => {
    const e = pgJobError(pgError('23514', { constraint: 'contacts_subject_check' })) as Error & { status: number };
    expect(e).toMatchObject({ status: 409, code: 'conflict' });
    expect(e.message).toContain('contacts_subject_check');
    expect(e.message).not.toMatch(/Jane|07700/);
  });

  it('leaves anything else as it is', () => {
    const other = new TypeError('a bug');
    expect(pgJobError(other)).toBe(other);
  });
});
