// Several real Kept servers for a multi-instance test (issue 14): each a process of its own
// (`node --import tsx server/main.ts`, as tests/integration/load-balancer.test.ts starts them) on its
// own free port, all on one PostgreSQL database (KEPT_DATABASE_URL) or, without a URL, each on a SQLite
// file of its own. Started together, ready once every `/api/v1/health` answers 200; a test can then
// signal one (SIGKILL a writer, SIGSTOP a leader) and stops them all at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/free-port.js';

/** A fresh PostgreSQL database on the machine's server, with `url` and `drop()` (tests/helpers/pg.ts). */
export { freshPgDatabase, type TestPg } from './pg.js';

const root = join(import.meta.dirname, '..', '..');

export interface InstancesOptions {
  /** The PostgreSQL database every instance shares; without it, each instance gets a SQLite file of its own. */
  url?: string;
  /**
   * Settings on top of the harness's (below): for every instance, or per instance (by index from 0).
   * A value of `undefined` removes a variable, e.g. one the test runner's own environment carries.
   */
  env?: NodeJS.ProcessEnv | ((i: number) => NodeJS.ProcessEnv);
  /** Wait for `/health` to say `ok` (every running clock armed), not only to answer 200 (`starting` too). */
  armed?: boolean;
  /** How long each instance may take to be ready (default 60 s: four agents share two cores here). */
  readyMs?: number;
}

export interface Instance {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** Its SQLite file (without a `url`), else null. */
  dbFile: string | null;
  /** Everything it wrote so far, stdout and stderr (Kept's JSON log). */
  output(): string;
}

export interface Instances {
  /** Each instance's base URL, in order. */
  urls: string[];
  instances: Instance[];
  /**
   * Sends `signal` to instance `i`. For a signal that ends a process (SIGTERM, SIGKILL, SIGINT) the
   * promise settles once it has exited; for SIGSTOP and SIGCONT at once (the process is still there).
   */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Ends every instance still running (SIGTERM, SIGKILL after 30 s: a clean close takes ~4 s after API reads (as before this change), longer on a loaded machine) and removes their files. Idempotent. */
  stop(): Promise<void>;
}

/** The settings every instance gets before the test's own: quiet, predictable, nothing on a timer that a test did not ask for. */
function baseEnv(port: number): NodeJS.ProcessEnv {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    KEPT_LOG_LEVEL: 'info',
    // Reads on the main connection: fewer threads per process when several share two cores.
    KEPT_READER_THREADS: '0',
    KEPT_RETENTION_CRON: 'off',
    // No web app: a test talks to the API, and dist/web may be stale or absent.
    KEPT_WEB_ROOT: join(root, 'tests', 'no-web-root'),
  };
}

/** A start that failed: what went wrong (with the instance's output), and the processes that were started (all ended by now). */
export class StartError extends Error {
  constructor(
    message: string,
    readonly pids: number[],
  ) {
    super(message);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function whenExited(child: ChildProcess): Promise<void> {
  return exited(child) ? Promise.resolve() : new Promise((ok) => child.once('exit', () => ok()));
}

/** Ends a child: SIGTERM (Kept closes its sockets and its database), SIGKILL if it is still there after `graceMs`. */
async function end(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (exited(child)) return;
  // A stopped process does not act on SIGTERM until it runs again.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await whenExited(child);
  clearTimeout(timer);
}

async function waitReady(instance: Instance, armed: boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let last = 'no answer yet';
  for (;;) {
    if (exited(instance.child)) {
      throw new Error(`Kept at ${instance.url} exited (${instance.child.exitCode ?? instance.child.signalCode}) before it was ready:\n${instance.output()}`);
    }
    try {
      const r = await fetch(`${instance.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await r.json()) as { status?: string };
      if (r.status === 200 && (!armed || body.status === 'ok')) return;
      last = `${r.status} ${JSON.stringify(body)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > until) throw new Error(`Kept at ${instance.url} not ready within ${ms / 1000} s (last: ${last}):\n${instance.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `n` Kept servers and resolves once each answers `/api/v1/health` with 200. If one exits or is
 * not ready in time, every one started is ended and a StartError carries that instance's output.
 */
export async function startInstances(n: number, options: InstancesOptions = {}): Promise<Instances> {
  // A folder of files per run even on PostgreSQL: KEPT_DB then points there too, so nothing an
  // instance may still open by that setting is ever the checkout's own ./data/kept.db.
  const dir = mkdtempSync(join(tmpdir(), 'kept-instances-'));
  const instances: Instance[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(instances.map((k) => end(k.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const file = join(dir, `kept-${i + 1}.db`);
      const own = typeof options.env === 'function' ? options.env(i) : (options.env ?? {});
      const env: NodeJS.ProcessEnv = { ...process.env, ...baseEnv(port) };
      // The runner's own choice of database never leaks in: the URL given, or this instance's file.
      delete env.KEPT_DATABASE_URL;
      if (options.url !== undefined) env.KEPT_DATABASE_URL = options.url;
      env.KEPT_DB = file;
      for (const [name, value] of Object.entries(own)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      instances.push({ url: `http://127.0.0.1:${port}`, child, dbFile: options.url === undefined ? file : null, output: () => out });
    }
    // Started together (as a deployment's instances are), waited for together.
    await Promise.all(instances.map((k) => waitReady(k, options.armed ?? false, options.readyMs ?? 60_000)));
  } catch (e) {
    await stop();
    throw new StartError((e as Error).message, instances.flatMap((k) => (k.child.pid === undefined ? [] : [k.child.pid])));
  }
  return {
    urls: instances.map((k) => k.url),
    instances,
    kill: async (i, signal = 'SIGTERM') => {
      const k = instances[i];
      if (k === undefined) throw new RangeError(`no instance ${i} (there are ${instances.length})`);
      if (exited(k.child)) return;
      k.child.kill(signal);
      if (signal !== 'SIGSTOP' && signal !== 'SIGCONT' && signal !== 'SIGTSTP') await whenExited(k.child);
    },
    stop,
  };
}

/**
 * An API token named `name`, made by the `sla` command line as an operator would
 * (`npm run --silent sla -- token create NAME`): on the PostgreSQL database `url`, or without one on
 * the SQLite file `dbFile`. The token is the last line of standard output; a refusal throws with
 * the command's standard error.
 */
export function createToken(name: string, where: { url: string } | { dbFile: string }): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KEPT_DATABASE_URL;
  if ('url' in where) env.KEPT_DATABASE_URL = where.url;
  else env.KEPT_DB = where.dbFile;
  const r = spawnSync('npm', ['run', '--silent', 'sla', '--', 'token', 'create', name], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  const token = r.stdout?.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || token === '') throw new Error(`sla token create ${name} failed (exit ${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return token;
}
