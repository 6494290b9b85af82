// The database and its folder are the owner's alone: no group or world bits, whatever the umask.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';

const groupOrWorld = (path: string) => statSync(path).mode & 0o077;

let dir: string;
let previousUmask: number;
const open: Connection[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kept-db-files-'));
  // The most permissive umask: without the fix every file and folder would come out group/world
  // readable, so the test cannot pass by the grace of the machine's own umask (often 022 or 077).
  previousUmask = process.umask(0o000);
});
afterEach(() => {
  process.umask(previousUmask);
  for (const c of open.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

function openAt(file: string): Connection {
  const c = openDatabase(file);
  open.push(c);
  return c;
}

describe('database files', () => {
  it('a fresh database: the folders Kept creates are 0700; the db, -wal and -shm are 0600', () => {
    const file = join(dir, 'data', 'nested', 'kept.db');
    const c = openAt(file);
    c.sqlite.prepare("INSERT INTO audit (at, actor, action, detail) VALUES (0, 't', 'x', '{}')").run();
    for (const path of [join(dir, 'data'), join(dir, 'data', 'nested'), file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(path), path).toBe(true);
      expect(groupOrWorld(path), `${path} mode ${(statSync(path).mode & 0o777).toString(8)}`).toBe(0);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
  });

  it('an existing folder is left as it is (neither widened nor narrowed)', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chmodSync(shared, 0o755);
    const file = join(shared, 'kept.db');
    openAt(file);
    expect(statSync(shared).mode & 0o777).toBe(0o755);
    expect(groupOrWorld(file)).toBe(0);
  });

  it('an existing world-readable database and stale -wal/-shm lose their group and world bits on open', () => {
    const file = join(dir, 'kept.db');
    openAt(file);
    open.pop()!.close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}-shm`, '');
    chmodSync(`${file}-shm`, 0o666);
    openAt(file);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(groupOrWorld(path), path).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it(':memory: still opens (no files)', () => {
    const c = openAt(':memory:');
    expect(c.sqlite.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
  });
});
