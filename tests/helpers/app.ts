// A real Kept app on a real SQLite file in a fresh temp folder, with an API token.
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function startTestApp(env: Record<string, string> = {}, options: { now?: () => number } = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'kept-test-'));
  const config = loadConfig({ KEPT_DB: join(dir, 'kept.db'), KEPT_WEB_ROOT: join(dir, 'no-web'), ...env });
  const connection = openDatabase(config.dbFile);
  const service = new IngestService(connection, { packFamily: config.packFamily, ...(options.now ? { now: options.now } : {}) });
  const token = service.tokens.create('test', Date.now());
  const app = await buildApp({ config, service });
  await app.ready();
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
      connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
