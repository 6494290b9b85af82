// The group-commit writer (server/store/writer.ts) on a real SQLite file: the jobs of one turn share
// one transaction, and a job that fails changes nothing and fails alone — whether it failed before
// writing (nothing to undo) or after (the batch is run again with a savepoint per job).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitWriter } from '../../server/store/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'kept-group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fresh() {
  const sqlite = new Database(join(dir, `w${n++}.db`));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  const insert = sqlite.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const rows = () => (sqlite.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);
  return { sqlite, insert, rows };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('GroupCommitWriter', () => {
  let db: ReturnType<typeof fresh>;
  beforeEach(() => {
    db = fresh();
  });

  it('runs the jobs of one turn in one transaction and settles them after COMMIT', async () => {
    const writer = new GroupCommitWriter(db.sqlite);
    const results = await Promise.all(['a', 'b', 'c'].map((k) => writer.write(() => db.insert.run(k, 1).changes)));
    expect(results).toEqual([1, 1, 1]);
    expect(writer.commits).toBe(1);
    expect(db.rows()).toEqual(['a', 'b', 'c']);
  });

  it('a job that fails before writing fails alone; the others are committed, in the same transaction', async () => {
    const rollbacks: number[] = [];
    const writer = new GroupCommitWriter(db.sqlite, { onRollback: () => rollbacks.push(1) });
    const settled = await Promise.all([
      outcome(writer.write(() => db.insert.run('a', 1))),
      outcome(
        writer.write(() => {
          throw new Error('conflict: checked before writing');
        }),
      ),
      outcome(writer.write(() => db.insert.run('c', 1))),
    ]);
    expect(settled.map((s) => s.ok)).toEqual([true, false, true]);
    expect((settled[1] as { error: Error }).error.message).toBe('conflict: checked before writing');
    expect(db.rows()).toEqual(['a', 'c']);
    expect(writer.commits).toBe(1);
    expect(rollbacks).toEqual([]); // nothing to undo: no second run
  });

  it('a job whose statement fails (a unique key) and that throws it: the statement undid itself, the others are committed', async () => {
    db.insert.run('taken', 0);
    const writer = new GroupCommitWriter(db.sqlite);
    const settled = await Promise.all([outcome(writer.write(() => db.insert.run('a', 1))), outcome(writer.write(() => db.insert.run('taken', 2))), outcome(writer.write(() => db.insert.run('c', 1)))]);
    expect(settled.map((s) => s.ok)).toEqual([true, false, true]);
    expect((settled[1] as { error: { code: string } }).error.code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(db.rows()).toEqual(['a', 'c', 'taken']);
    expect(db.sqlite.prepare('SELECT v FROM t WHERE k = ?').pluck().get('taken')).toBe(0);
  });

  it('a job that fails after writing: its rows are undone, the jobs before and after it are committed once', async () => {
    const rollbacks: number[] = [];
    const writer = new GroupCommitWriter(db.sqlite, { onRollback: () => rollbacks.push(1) });
    const runs = new Map<string, number>();
    const job = (k: string, fail = false) => () => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      db.insert.run(k, 1);
      db.insert.run(`${k}2`, 1);
      if (fail) throw new Error(`${k} failed after writing`);
      return k;
    };
    const settled = await Promise.all([outcome(writer.write(job('a'))), outcome(writer.write(job('b', true))), outcome(writer.write(job('c')))]);
    expect(settled).toEqual([{ ok: true, value: 'a' }, { ok: false, error: new Error('b failed after writing') }, { ok: true, value: 'c' }]);
    expect(db.rows()).toEqual(['a', 'a2', 'c', 'c2']);
    expect(writer.commits).toBe(1);
    // The first run was rolled back as a whole (the in-memory state's hook told), then run again with savepoints.
    expect(rollbacks).toEqual([1]);
    expect(Object.fromEntries(runs)).toEqual({ a: 2, b: 2, c: 1 });
    // The next batch runs without savepoints again, and commits.
    await writer.write(() => db.insert.run('d', 1));
    expect(db.rows()).toEqual(['a', 'a2', 'c', 'c2', 'd']);
    expect(writer.commits).toBe(2);
  });

  it('every job failing after writing: nothing is committed, each fails with its own error', async () => {
    const writer = new GroupCommitWriter(db.sqlite);
    const settled = await Promise.all(
      ['a', 'b'].map((k) =>
        outcome(
          writer.write(() => {
            db.insert.run(k, 1);
            throw new Error(k);
          }),
        ),
      ),
    );
    expect(settled).toEqual([
      { ok: false, error: new Error('a') },
      { ok: false, error: new Error('b') },
    ]);
    expect(db.rows()).toEqual([]);
  });
});
