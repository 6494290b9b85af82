// A private PostgreSQL 15 server for one test file (issue 14: "PostgreSQL restarted — boards recover
// without a reload"). Why not the machine's shared server on 127.0.0.1:5432 (tests/helpers/pg.ts):
// other test files use it at the same time (vitest runs files in parallel), so a test may never stop
// or restart it. This helper makes a server of its own instead: `initdb` into a fresh temporary
// folder owned by the `postgres` OS user (tests run as root here and in CI, and PostgreSQL refuses to
// run as root: every command goes through `runuser -u postgres --`), trust authentication, listening
// on 127.0.0.1 only on a free port, with its socket in its own folder, small (16 MB of shared buffers,
// 60 connections). `restart()` stops it (`pg_ctl stop -m fast`, or `-m immediate`: a crash, recovered
// from the WAL at the next start) and starts it again on the same port, optionally running something
// while it is down; `stop()` stops it and removes its folder, and is safe to call more than once and
// after a failed start (call it in afterAll).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../scripts/lib/free-port.js';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePg {
  /** Makes the server (initdb), starts it (`pg_ctl -w start`) and creates the database. */
  start(): Promise<void>;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE (trust authentication: no password). */
  readonly url: string;
  /** Its port (0 before start). */
  readonly port: number;
  /**
   * Stops the server (`fast`: sessions ended, a clean checkpoint; `immediate`: every process quit at
   * once, as a crash, with recovery at the next start), runs `whileDown` if given, and starts it again
   * on the same port. Resolves once it accepts connections again.
   */
  restart(options: { mode: 'fast' | 'immediate'; whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops the server (immediate, it is thrown away) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

function asPostgres(args: string[], timeoutMs = 60_000): string {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr || r.error?.message || ''}`);
  return r.stdout;
}

/**
 * A private server, not made yet: `start()` makes it (initdb), starts it and creates the database
 * `database`; `url` names that database once started.
 */
export function privatePg(database = 'kept'): PrivatePg {
  const dir = mkdtempSync(join(tmpdir(), 'kept-private-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let port = 0;
  let serverOptions = '';
  let removed = false;
  const up = (): void => {
    try {
      asPostgres([`${BIN}/pg_ctl`, '-D', data, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
    }
  };
  return {
    get url() {
      if (port === 0) throw new Error('the private PostgreSQL is not started');
      return `postgres://postgres@127.0.0.1:${port}/${database}`;
    },
    get port() {
      return port;
    },
    start: async () => {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
      const chosen = await freePort();
      asPostgres([`${BIN}/initdb`, '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
      serverOptions = `-c listen_addresses=127.0.0.1 -p ${chosen} -c shared_buffers=16MB -c max_connections=60 -k ${dir}`;
      up();
      port = chosen;
      const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${database}`);
      } finally {
        await admin.end();
      }
    },
    restart: async ({ mode, whileDown }) => {
      asPostgres([`${BIN}/pg_ctl`, '-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      try {
        await whileDown?.();
      } finally {
        up();
      }
    },
    stop: async () => {
      if (removed) return;
      removed = true;
      if (existsSync(join(data, 'postmaster.pid'))) {
        try {
          asPostgres([`${BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
        } catch {
          // Already down: the folder goes anyway.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined) throw new Error('no postgres user on this machine (the PostgreSQL 15 packages make it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
