// `npm start`: check the configuration, open (and migrate) the database, build the app, listen; the
// running clocks finish loading behind the listening server. On SQLite (the default) writes run on
// the writer thread and reads on reader threads; on PostgreSQL (KEPT_DATABASE_URL) this is one of
// several instances (server/ingest/postgres.ts).
import { openDatabase, type Connection } from '../db/connection.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { IngestService } from './ingest/service.js';
import { openPgKept, type PgKept } from './ingest/postgres.js';
import { scheduleReports } from './reports/schedule.js';

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`kept: configuration refused: ${e.message}\n`);
  process.exit(2);
}
let stopped = (detail: string): void => {
  process.stderr.write(`kept: ${detail}; restarting it\n`);
};
/** Until the app's logger exists (PostgreSQL's lease and feed start before it), lines on the standard streams. */
let log: { info(m: string): void; warn(m: string): void; error(m: string): void } = {
  info: (m) => void process.stdout.write(`kept: ${m}\n`),
  warn: (m) => void process.stderr.write(`kept: ${m}\n`),
  error: (m) => void process.stderr.write(`kept: ${m}\n`),
};
let connection: Connection | null = null;
let pgKept: PgKept | null = null;
let service: IngestService;
if (config.databaseUrl !== '') {
  try {
    pgKept = await openPgKept(config.databaseUrl, {
      packFamily: config.packFamily,
      maxEventsPerContact: config.maxEventsPerContact,
      writeTimeoutMs: config.writeTimeoutMs,
      poolSize: config.pgPoolSize,
      ...(config.instanceId !== '' ? { instance: config.instanceId } : {}),
      log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    });
  } catch (e) {
    // The connection string is never repeated: only what went wrong.
    process.stderr.write(`kept: PostgreSQL (KEPT_DATABASE_URL) could not be opened: ${(e as Error).message}\n`);
    process.exit(1);
  }
  service = pgKept.service;
  // Before the board loads: it hears every change committed after its read of the tables.
  await pgKept.start();
} else {
  connection = openDatabase(config.dbFile);
  // Writes run on the writer thread (its own connection): the event loop never waits on SQLite's locks or fsync.
  service = new IngestService(connection, {
    packFamily: config.packFamily,
    maxEventsPerContact: config.maxEventsPerContact,
    writerThread: true,
    writeTimeoutMs: config.writeTimeoutMs,
    onWriterStopped: (detail) => stopped(detail),
  });
}
let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp({
    config,
    service,
    logger: true,
    ...(pgKept !== null ? { reads: pgKept.reads, cluster: pgKept.cluster, sendsAlerts: pgKept.leads, feed: pgKept.feed } : {}),
  });
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`kept: configuration refused: ${e.message}\n`);
  process.exit(2);
}
stopped = (detail) => app.log.error(`${detail}; restarting it`);
log = { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) };
pgKept?.onGap(() => app.live.reload());
// The Monday 07:00 weekly report (node-cron), stopped by app.close(); armed once Kept listens. Each run
// claims its slot first (job_slots), so two processes or instances never publish or mail a week twice.
const reportSchedule = scheduleReports(app, { audit: service.audit, now: service.now, slots: service.stores.slots });

const shutdown = async (signal: string) => {
  app.log.info(`${signal}: closing`);
  // A connection still busy (a client that went away mid-request, a slow body) would hold the server's
  // close until its own timeout: after 2 s every connection is cut. Acknowledged writes are committed
  // already; nothing acknowledged depends on a connection staying open.
  const cut = setTimeout(() => app.server.closeAllConnections(), 2000);
  cut.unref();
  // And a close that still hangs does not keep a stopping Kept running for ever.
  const deadline = setTimeout(() => {
    app.log.error(`${signal}: closing took over 20 s; exiting now`);
    process.exit(1);
  }, 20_000);
  deadline.unref();
  await app.close();
  if (pgKept !== null) await pgKept.close();
  else {
    await service.close();
    connection?.close();
  }
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await service.writerReady;
} catch (e) {
  process.stderr.write(`kept: the database writer could not start: ${(e as Error).message}\n`);
  process.exit(1);
}
// Listening does not wait for the running clocks: with a large backlog they load in pages while
// /health answers `starting` (reads and writes are served; the board answers 503 until armed).
await app.listen({ port: config.port, host: config.host });
app.log.info(`Kept is listening on http://${config.host}:${config.port} (API docs at /docs)${pgKept !== null ? ` on PostgreSQL ${service.stores.name}` : ''}`);
// Arms the Monday job and, if last Monday's run was missed while Kept was down, catches up now.
reportSchedule.start().catch((e: unknown) => app.log.error(`weekly report catch-up failed: ${(e as Error).message}`));
app.liveArmed.then(
  ({ clocks, ms }) => app.log.info(`live board armed: ${clocks} running clocks loaded in ${Math.round(ms)} ms`),
  (e: unknown) => {
    process.stderr.write(`kept: the running clocks could not be loaded: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
