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

export interface TestApp {
  app: FastifyInstance;
  service: IngestService;
  connection: Connection;
  config: Config;
  token: string;
  dir: string;
  /** Authorization header for the test token. */
  auth: { authorization: string };
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

export async function startTestApp(env: Record<string, string> = {}, options: { now?: () => number } = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-test-'));
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
  const token = service.tokens.create('test', Date.now());
  recordSecret(token);
  const log = createWriteStream(join(testLogDir(), `app-${process.pid}-${++logs}.log`));
  const app = await buildApp({ config, service, logger: log });
  await app.ready();
  await service.writerReady;
  return {
    app,
    service,
    connection,
    config,
    token,
    dir,
    auth: { authorization: `Bearer ${token}` },
    counts: () => service.contacts.countRows(),
    close: async () => {
      await app.close();
      await service.close();
      connection.close();
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
