// `npm start`: check the configuration, open (and migrate) the database, build the app, listen; the
// running clocks finish loading behind the listening server.
import { openDatabase } from '../db/connection.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { IngestService } from './ingest/service.js';
import { SqliteSlots } from './cluster/slots.js';
import { scheduleReports } from './reports/schedule.js';

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`kept: configuration refused: ${e.message}\n`);
  process.exit(2);
}
const connection = openDatabase(config.dbFile);
// Writes run on the writer thread (its own connection): the event loop never waits on SQLite's locks or fsync.
let stopped = (detail: string): void => {
  process.stderr.write(`kept: ${detail}; restarting it\n`);
};
const service = new IngestService(connection, {
  packFamily: config.packFamily,
  maxEventsPerContact: config.maxEventsPerContact,
  writerThread: true,
  writeTimeoutMs: config.writeTimeoutMs,
  onWriterStopped: (detail) => stopped(detail),
});
let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp({ config, service, logger: true });
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`kept: configuration refused: ${e.message}\n`);
  process.exit(2);
}
stopped = (detail) => app.log.error(`${detail}; restarting it`);
// The Monday 07:00 weekly report (node-cron), stopped by app.close(); armed once Kept listens. Each run
// claims its slot first (job_slots), so two processes on one file never publish or mail a week twice.
const reportSchedule = scheduleReports(app, { audit: service.audit, now: service.now, slots: new SqliteSlots(connection.sqlite, service.now) });

const shutdown = async (signal: string) => {
  app.log.info(`${signal}: closing`);
  await app.close();
  await service.close();
  connection.close();
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
app.log.info(`Kept is listening on http://${config.host}:${config.port} (API docs at /docs)`);
// Arms the Monday job and, if last Monday's run was missed while Kept was down, catches up now.
reportSchedule.start().catch((e: unknown) => app.log.error(`weekly report catch-up failed: ${(e as Error).message}`));
app.liveArmed.then(
  ({ clocks, ms }) => app.log.info(`live board armed: ${clocks} running clocks loaded in ${Math.round(ms)} ms`),
  (e: unknown) => {
    process.stderr.write(`kept: the running clocks could not be loaded: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
