// A real Kept app on a real SQLite file in a fresh temp folder, with an API token. Its log goes to
// the suite's log folder, and every secret it uses is recorded, so the suite's teardown can prove
// no secret was ever logged (tests/helpers/log-check.ts).
import type { FastifyInstance } from 'fastify';
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { openDatabase, type Connection } from '../../db/connection.js';
import { loadConfig, type Config } from '../../server/config.js';
import { buildApp } from '../../server/http/app.js';
import { IngestService } from '../../server/ingest/service.js';
import { ContactStore } from '../../server/store/contacts.js';
import type { Role } from '../../server/http/access.js';
import { hashPassword, oneTimePassword } from '../../server/people/passwords.js';

export interface SignInOptions {
  email?: string;
  name?: string;
  queues?: string[];
  keepOneTimePassword?: boolean;
}

export interface SignedIn {
  id: number;
  email: string;
  password: string;
  /** `Cookie` header: the session (and the CSRF secret). */
  cookie: string;
  csrfToken: string;
  /** Cookie + X-CSRF-Token, ready for inject(). */
  headers: Record<string, string>;
}

/** The `name=value` pairs of every Set-Cookie, for a Cookie header. */
export function cookiesFrom(setCookie: string | string[] | undefined, existing = ''): string {
  const jar = new Map(existing.split('; ').filter((p) => p.includes('=')).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
  for (const line of Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie]) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1);
    if (value === '') jar.delete(pair.slice(0, eq));
    else jar.set(pair.slice(0, eq), value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

let people = 0;

export interface TestApp {
  app: FastifyInstance;
  service: IngestService;
  connection: Connection;
  config: Config;
  token: string;
  dir: string;
  /** The app's log file (JSON lines). */
  logFile: string;
  /** Authorization header for the test token. */
  auth: { authorization: string };
  /**
   * Creates a person with this role and signs them in over HTTP; returns the Cookie header and the
   * CSRF token to send. The one-time password is changed first unless `keepOneTimePassword`.
   */
  signIn(role: Role, options?: SignInOptions): Promise<SignedIn>;
  /** Creates a wall-screen display and opens its link; returns the Cookie header it got. */
  openDisplay(name?: string): Promise<{ cookie: string; secret: string; id: number }>;
  /** Row counts of contacts, events and clocks. */
  counts(): { contacts: number; events: number; clocks: number };
  close(): Promise<void>;
}

/** The folder the suite's logs go to (set by tests/helpers/log-check.ts), or a private one outside the suite. */
export function testLogDir(): string {
  let dir: string | undefined;
  try {
    dir = inject('keptLogDir');
  } catch {
    dir = undefined;
  }
  const chosen = dir ?? join(tmpdir(), 'kept-test-logs-standalone');
  mkdirSync(chosen, { recursive: true });
  return chosen;
}

/** Records a secret the suite used: the teardown fails if any log line holds it. */
export function recordSecret(secret: string): void {
  if (secret.length >= 8) appendFileSync(join(testLogDir(), 'secrets.txt'), `${secret}\n`, { mode: 0o600 });
}

let logs = 0;
let restarts = 0;

export interface TestAppOptions {
  now?: () => number;
  /** Use this folder (its kept.db) and leave it on close: a restart on the same database. */
  dir?: string;
  /** Runs after the app is built, before it is ready (hooks, as main.ts adds them). */
  beforeReady?: (app: FastifyInstance, service: IngestService) => void;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kept-test-'));
  const config = loadConfig({ KEPT_DB: join(dir, 'kept.db'), KEPT_WEB_ROOT: join(dir, 'no-web'), ...env });
  for (const key of ['KEPT_SOCIAL_APP_SECRET', 'KEPT_SOCIAL_VERIFY_TOKEN']) if (env[key] !== undefined) recordSecret(env[key]);
  const connection = openDatabase(config.dbFile);
  const service = new IngestService(connection, {
    packFamily: config.packFamily,
    maxEventsPerContact: config.maxEventsPerContact,
    // As the server runs: writes on the writer thread.
    writerThread: true,
    writeTimeoutMs: config.writeTimeoutMs,
    ...(options.now ? { now: options.now } : {}),
  });
  // A restart on the same database (options.dir) keeps the first start's token: a new name each time.
  const token = await service.tokens.create(options.dir === undefined ? 'test' : `test-${++restarts}`, Date.now());
  recordSecret(token);
  const logFile = join(testLogDir(), `app-${process.pid}-${++logs}.log`);
  const log = createWriteStream(logFile);
  const app = await buildApp({ config, service, logger: log });
  options.beforeReady?.(app, service);
  await app.ready();
  await service.writerReady;
  await app.liveArmed; // a test's board sees every running clock
  return {
    app,
    service,
    connection,
    config,
    token,
    dir,
    logFile,
    auth: { authorization: `Bearer ${token}` },
    signIn: async (role, o = {}) => {
      const email = o.email ?? `${role}-${process.pid}-${++people}@staff.example.org`;
      const first = oneTimePassword();
      recordSecret(first);
      const user = await app.people.create({ email, name: o.name ?? `${role} ${people}`, role, queues: o.queues ?? [], passwordHash: await hashPassword(first) }, Date.now());
      const signin = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: first } });
      if (signin.statusCode !== 200) throw new Error(`sign-in failed: ${signin.statusCode} ${signin.body}`);
      recordSecret(signin.cookies.find((c) => c.name === 'kept_session')!.value);
      let cookie = cookiesFrom(signin.headers['set-cookie']);
      let csrfToken = (signin.json() as { csrfToken: string }).csrfToken;
      let password = first;
      if (o.keepOneTimePassword !== true) {
        password = `${oneTimePassword()}-changed`;
        recordSecret(password);
        const changed = await app.inject({ method: 'POST', url: '/api/v1/session/password', headers: { cookie, 'x-csrf-token': csrfToken }, payload: { current: first, new: password } });
        if (changed.statusCode !== 204) throw new Error(`password change failed: ${changed.statusCode} ${changed.body}`);
        recordSecret(changed.cookies.find((c) => c.name === 'kept_session')!.value);
        cookie = cookiesFrom(changed.headers['set-cookie'], cookie);
        csrfToken = ((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).json() as { csrfToken: string }).csrfToken;
      }
      return { id: user.id, email, password, cookie, csrfToken, headers: { cookie, 'x-csrf-token': csrfToken } };
    },
    openDisplay: async (name = 'Wall') => {
      const { display, secret } = await app.people.createDisplay(name, 'test', Date.now());
      recordSecret(secret);
      const r = await app.inject({ method: 'GET', url: `/display?key=${secret}` });
      if (r.statusCode !== 303) throw new Error(`display link failed: ${r.statusCode} ${r.body}`);
      return { cookie: cookiesFrom(r.headers['set-cookie']), secret, id: display.id };
    },
    // Synchronous (tests compare before and after a refused write): the SQLite store itself.
    counts: () => new ContactStore(connection.sqlite).countRows(),
    close: async () => {
      await app.close();
      await service.close();
      connection.close();
      log.end();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
