// The write commands on PostgreSQL behind the writer's one interface (CommandRunner,
// server/writer/runner.ts), so IngestService hands them over as it hands SQLite's to the writer
// thread: create-contact to the set-based group-commit writer (group-commit.ts), the others to their
// transactions (commands*.ts, privacy-commands.ts). Every command has its PostgreSQL form: a command
// added to server/commands/index.ts without one fails to compile here.
import type pg from 'pg';
import type { CommandInput, CommandName, CommandOutput } from '../../commands/index.js';
import type { CommandRunner } from '../../writer/runner.js';
import { PgCommands } from './commands.js';
import { PgBoardCommands } from './commands-boards.js';
import { PgPhoneMailCommands } from './commands-phone-mail.js';
import { PgPrivacyCommands } from './privacy-commands.js';
import { pgAlertAction, pgImportHolidays, type PgQueueCommandsOptions } from './commands-queue.js';
import { PgGroupCommitWriter } from './group-commit.js';
import { pgFault, type PgWriteFailure } from './writer-faults.js';

export interface PgRunnerOptions {
  /** KEPT_MAX_EVENTS_PER_CONTACT. */
  maxEventsPerContact: number;
  /** KEPT_WRITE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Many instances: every change into the change feed, one doorbell per transaction (server/cluster/feed.ts). */
  feed?: boolean;
}

/** What the commands run on. */
interface Parts {
  writer: PgGroupCommitWriter;
  commands: PgCommands;
  phoneMail: PgPhoneMailCommands;
  privacy: PgPrivacyCommands;
  boards: PgBoardCommands;
  pool: pg.Pool;
  options: PgQueueCommandsOptions;
}

/** Each command's PostgreSQL form, by name. */
const FORMS: { [K in CommandName]: (parts: Parts) => (input: CommandInput<K>) => Promise<CommandOutput<K>> } = {
  'create-contact': ({ writer }) => (input) => writer.createContact(input),
  'add-events': ({ commands }) => (input) => commands.addEvents(input),
  'contact-action': ({ commands }) => (input) => commands.contactAction(input),
  'set-statuses': ({ commands }) => (input) => commands.setStatuses(input),
  'add-closure': ({ commands }) => (input) => commands.addClosure(input),
  'remove-closure': ({ commands }) => (input) => commands.removeClosure(input),
  'import-holidays': ({ pool, options }) => (input) => pgImportHolidays(pool, options, input),
  'alert-action': ({ pool, options }) => (input) => pgAlertAction(pool, options, input),
  'telephony-facts': ({ phoneMail }) => (input) => phoneMail.telephonyFacts(input),
  'record-automatic-mail': ({ phoneMail }) => (input) => phoneMail.recordAutomaticMail(input),
  'save-mail-cursor': ({ phoneMail }) => (input) => phoneMail.saveMailCursor(input),
  'anonymise-contacts': ({ privacy }) => (input) => privacy.anonymiseContacts(input),
  'privacy-hold': ({ privacy }) => (input) => privacy.privacyHold(input),
  'prune-audit': ({ privacy }) => (input) => privacy.pruneAudit(input),
  'publish-report': ({ privacy }) => (input) => privacy.publishReport(input),
  'add-notice': ({ boards }) => (input) => boards.addNotice(input),
  'withdraw-notice': ({ boards }) => (input) => boards.withdrawNotice(input),
  'board-message': ({ boards }) => (input) => boards.boardMessage(input),
  'save-board': ({ boards }) => (input) => boards.saveBoard(input),
  'delete-board': ({ boards }) => (input) => boards.deleteBoard(input),
  'display-boards': ({ boards }) => (input) => boards.displayBoards(input),
  'save-alert-rule': ({ boards }) => (input) => boards.saveAlertRule(input),
  'delete-alert-rule': ({ boards }) => (input) => boards.deleteAlertRule(input),
  'record-alert-send': ({ boards }) => (input) => boards.recordAlertSend(input),
};

export class PgRunner implements CommandRunner {
  readonly ready = Promise.resolve();
  private readonly parts: Parts;
  private lastFailure: PgWriteFailure | null = null;
  /** While a failure is "database unreachable": asks the database every second whether it is back (probe()). */
  private probing: NodeJS.Timeout | null = null;
  private probeUnderWay = false;
  private closed = false;

  private constructor(
    private readonly writer: PgGroupCommitWriter,
    private readonly commands: PgCommands,
    rest: Omit<Parts, 'writer' | 'commands'>,
  ) {
    this.parts = { writer, commands, ...rest };
  }

  /** The writer and the commands over `pool` (openPostgres), with the calendars as stored now. */
  static async open(pool: pg.Pool, options: PgRunnerOptions): Promise<PgRunner> {
    const common = { timeoutMs: options.timeoutMs, feed: options.feed };
    let runner: PgRunner | undefined;
    const onFailure = (f: PgWriteFailure | null): void => {
      if (f?.code === 'database-unreachable') runner?.watch();
    };
    const writer = await PgGroupCommitWriter.open(pool, { ...common, onFailure });
    const commands = await PgCommands.open(pool, { ...common, maxEventsPerContact: options.maxEventsPerContact });
    const phoneMail = new PgPhoneMailCommands(pool, { timeoutMs: options.timeoutMs });
    const privacy = new PgPrivacyCommands(pool, { timeoutMs: options.timeoutMs });
    const boards = new PgBoardCommands(pool, { timeoutMs: options.timeoutMs });
    runner = new PgRunner(writer, commands, { phoneMail, privacy, boards, pool, options: common });
    return runner;
  }

  run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    const form = FORMS[name] as (parts: Parts) => (input: CommandInput<K>) => Promise<CommandOutput<K>>;
    return form(this.parts)(input).then(
      (out) => {
        this.lastFailure = null;
        return out;
      },
      (error: unknown) => {
        const fault = pgFault(error) ?? faultOf(error);
        if (fault !== null) {
          const now = Date.now();
          this.lastFailure = { ...fault, since: this.lastFailure?.since ?? now, at: now };
          if (fault.code === 'database-unreachable') this.watch();
        }
        throw error;
      },
    );
  }

  /** Transactions committed: the writer's flushes and the other commands'. */
  get commits(): number {
    return this.writer.commits + this.commands.commits;
  }

  /** Why writes fail, while they do: the group-commit writer's own record, or the last command's fault. */
  get failure(): PgWriteFailure | null {
    return this.writer.failure ?? this.lastFailure;
  }

  /**
   * A write met the database unreachable (restarted, crashed, the network cut). The failure is kept
   * for /health (503 with the reason) until a COMMIT clears it; but an instance behind a load balancer
   * that takes it out on that 503 is sent no write to commit, and would stay out after the database
   * came back. So every second, while the failure is "unreachable", the writer's connection and the
   * pool are asked a `SELECT 1`; answered, the failure is over. (Found by
   * tests/integration/pg-restart.test.ts: the instance that took a POST during a restart answered
   * /health 503 for ever.)
   */
  private watch(): void {
    if (this.probing !== null || this.closed) return;
    this.probing = setInterval(() => void this.probe(), 1000);
    this.probing.unref();
  }

  private async probe(): Promise<void> {
    if (this.probeUnderWay) return;
    this.probeUnderWay = true;
    try {
      await this.writer.probe();
      const last = this.lastFailure;
      if (last?.code === 'database-unreachable') {
        try {
          await this.parts.pool.query('SELECT 1');
          // A command that failed meanwhile recorded a newer failure: that one stands.
          if (this.lastFailure === last) this.lastFailure = null;
        } catch {
          // Still away: asked again in a second.
        }
      }
      const unreachable = [this.writer.failure, this.lastFailure].some((f) => f?.code === 'database-unreachable');
      if (!unreachable && this.probing !== null) {
        clearInterval(this.probing);
        this.probing = null;
      }
    } finally {
      this.probeUnderWay = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing !== null) clearInterval(this.probing);
    this.probing = null;
    await this.writer.close();
  }
}

/** A 503 already mapped by the writer or a command (its code and reason), as a fault for /health. */
function faultOf(error: unknown): Omit<PgWriteFailure, 'since' | 'at'> | null {
  const e = error as { status?: unknown; code?: unknown; message?: unknown; retryAfter?: unknown } | null;
  if (e === null || e.status !== 503 || typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return { code: e.code as PgWriteFailure['code'], reason: e.message, retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : 1 };
}
