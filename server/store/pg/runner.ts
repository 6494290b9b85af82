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
    const writer = await PgGroupCommitWriter.open(pool, common);
    const commands = await PgCommands.open(pool, { ...common, maxEventsPerContact: options.maxEventsPerContact });
    const phoneMail = new PgPhoneMailCommands(pool, { timeoutMs: options.timeoutMs });
    const privacy = new PgPrivacyCommands(pool, { timeoutMs: options.timeoutMs });
    const boards = new PgBoardCommands(pool, { timeoutMs: options.timeoutMs });
    return new PgRunner(writer, commands, { phoneMail, privacy, boards, pool, options: common });
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

  async close(): Promise<void> {
    await this.writer.close();
  }
}

/** A 503 already mapped by the writer or a command (its code and reason), as a fault for /health. */
function faultOf(error: unknown): Omit<PgWriteFailure, 'since' | 'at'> | null {
  const e = error as { status?: unknown; code?: unknown; message?: unknown; retryAfter?: unknown } | null;
  if (e === null || e.status !== 503 || typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return { code: e.code as PgWriteFailure['code'], reason: e.message, retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : 1 };
}
