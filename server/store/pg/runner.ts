// The write commands on PostgreSQL behind the writer's one interface (CommandRunner,
// server/writer/runner.ts), so IngestService hands them over as it hands SQLite's to the writer
// thread: create-contact to the set-based group-commit writer (group-commit.ts), the others to their
// transactions (commands.ts). A command with no PostgreSQL form yet answers 503 naming it (listed in
// PG_COMMANDS_MISSING), never a wrong write.
import type pg from 'pg';
import type { CommandInput, CommandName, CommandOutput } from '../../commands/index.js';
import { UnavailableError } from '../../errors.js';
import type { CommandRunner } from '../../writer/runner.js';
import { PgCommands } from './commands.js';
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
  pool: pg.Pool;
  options: PgQueueCommandsOptions;
}

/** Each command's PostgreSQL form, by name. */
const FORMS: { [K in CommandName]?: (parts: Parts) => (input: CommandInput<K>) => Promise<CommandOutput<K>> } = {
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
};

/** Every command name (a name added to Commands fails to compile until it is added here). */
const ALL: { [K in CommandName]: true } = {
  'create-contact': true, 'add-events': true, 'add-closure': true, 'remove-closure': true, 'import-holidays': true, 'set-statuses': true,
  'contact-action': true, 'alert-action': true, 'anonymise-contacts': true, 'privacy-hold': true, 'prune-audit': true, 'save-alert-rule': true,
  'delete-alert-rule': true, 'record-alert-send': true, 'add-notice': true, 'withdraw-notice': true, 'board-message': true, 'save-board': true,
  'delete-board': true, 'display-boards': true, 'publish-report': true, 'record-automatic-mail': true, 'save-mail-cursor': true, 'telephony-facts': true,
};

/** The commands that have no PostgreSQL form yet: run, each answers 503 naming itself. */
export const PG_COMMANDS_MISSING: readonly CommandName[] = (Object.keys(ALL) as CommandName[]).filter((name) => FORMS[name] === undefined);

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
    return new PgRunner(writer, commands, { phoneMail, privacy, pool, options: common });
  }

  run<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>> {
    const form = FORMS[name] as ((parts: Parts) => (input: CommandInput<K>) => Promise<CommandOutput<K>>) | undefined;
    if (form === undefined) {
      return Promise.reject(new UnavailableError(`${name}: this write has no PostgreSQL form yet in this version of Kept; nothing was stored`, 'not-on-postgresql', 60));
    }
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
  if (e.code === 'not-on-postgresql') return null;
  return { code: e.code as PgWriteFailure['code'], reason: e.message, retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : 1 };
}
