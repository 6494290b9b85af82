// How IngestService hands write commands to the writer: the same commands, run on the writer thread
// (the server: the event loop never waits on SQLite's locks or fsync) or on this thread's connection
// (the command line and the benchmark builders, which have no loop to keep free).
import type { Sqlite } from '../../db/connection.js';
import { runCommand, type CommandInput, type CommandName, type CommandOutput } from '../commands/index.js';
import { contextHooks, createContext, type CommandContext } from '../commands/context.js';
import type { WriteFailure } from '../store/faults.js';
import type { PgWriteFailure } from '../store/pg/writer-faults.js';
import { GroupCommitWriter } from '../store/writer.js';

export interface CommandRunner {
  /** Runs the command in the next group commit; settles after COMMIT (or with the command's error, or a 503 naming the fault). */
  run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>>;
  /** Transactions committed since start. */
  readonly commits: number;
  /** Why writes fail, while they do (cleared by the next commit that writes): SQLite's faults, or PostgreSQL's. */
  readonly failure: WriteFailure | PgWriteFailure | null;
  /** Settles once the writer can take commands (the thread has opened the database); rejects if it could not start. */
  readonly ready: Promise<void>;
  /** Lets queued commands finish, then stops. */
  close(): Promise<void>;
}

/** Commands on this thread's connection, group-committed as on the writer thread. */
export class InlineRunner implements CommandRunner {
  private readonly ctx: CommandContext;
  private readonly writer: GroupCommitWriter;
  readonly ready = Promise.resolve();

  constructor(sqlite: Sqlite, options: { maxEventsPerContact: number }) {
    this.ctx = createContext(sqlite, options);
    this.writer = new GroupCommitWriter(sqlite, { file: sqlite.name, ...contextHooks(this.ctx) });
  }

  run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    return this.writer.write(() => runCommand(this.ctx, name, input));
  }

  get commits(): number {
    return this.writer.commits;
  }

  get failure(): WriteFailure | null {
    return this.writer.failure;
  }

  async close(): Promise<void> {
    this.writer.stop();
  }
}
