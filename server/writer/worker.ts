// The writer thread: its own connection to the database file, the group-commit writer, and the write
// commands. Jobs arriving together (one message per turn of the server's loop, and every message that
// came while the last COMMIT was on its way to disk) share one transaction and one fsync; each job's
// result goes back after COMMIT, with the writer's health.
import { parentPort, workerData } from 'node:worker_threads';
import { openWriterConnection } from '../../db/connection.js';
import { runCommand } from '../commands/index.js';
import { contextHooks, createContext } from '../commands/context.js';
import { errorToWire } from '../commands/wire.js';
import { GroupCommitWriter } from '../store/writer.js';
import type { FromWriter, JobResult, ToWriter, WriterSetup } from './protocol.js';

const port = parentPort!;
const setup = workerData as WriterSetup;
const post = (m: FromWriter) => port.postMessage(m);

let results: JobResult[] = [];
let closing = false;

try {
  const connection = openWriterConnection(setup.file, { busyTimeoutMs: setup.busyTimeoutMs });
  const ctx = createContext(connection.sqlite, { maxEventsPerContact: setup.maxEventsPerContact });
  const writer: GroupCommitWriter = new GroupCommitWriter(connection.sqlite, {
    file: setup.file,
    timeoutMs: setup.timeoutMs,
    probeMs: setup.probeMs,
    ...contextHooks(ctx),
    onSettled: () => {
      const settled = results;
      results = [];
      post({ type: 'settled', results: settled, commits: writer.commits, failure: writer.failure });
      if (closing && writer.queued === 0) stop();
    },
    // A failure found (or cleared) by the probe, with no job to carry it.
    onFailure: (failure) => {
      if (results.length === 0) post({ type: 'failure', failure, commits: writer.commits });
    },
  });
  const stop = () => {
    writer.stop();
    connection.close();
    port.close();
  };

  port.on('message', (m: ToWriter) => {
    if (m.type === 'close') {
      closing = true;
      if (writer.queued === 0) stop();
      return;
    }
    for (const job of m.jobs) {
      writer.submit({
        deadline: job.deadline,
        run: () => runCommand(ctx, job.name, job.input as never),
        settle: (o) => results.push(o.ok ? { id: job.id, ok: true, value: o.value } : { id: job.id, ok: false, error: errorToWire(o.error) }),
      });
    }
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'fatal', error: errorToWire(e) });
  port.close();
}
