// Every write command by name: the writer (on its thread, or inline) runs them by name with plain input.
import { addClosure, type AddClosureInput, type AddClosureOutput } from './add-closure.js';
import { anonymiseContacts, type AnonymiseContactsInput, type AnonymiseContactsOutput } from './anonymise-contacts.js';
import { addEvents, type AddEventsInput, type AddEventsOutput } from './add-events.js';
import { alertAction, contactAction, type AlertActionInput, type ContactActionInput, type ContactActionOutput } from './contact-action.js';
import type { CommandContext } from './context.js';
import { createContact, type CreateContactInput, type CreateContactOutput } from './create-contact.js';
import { publishReport, type PublishReportInput, type PublishReportOutput } from './publish-report.js';
import { importHolidays, type ImportHolidaysInput, type ImportHolidaysOutput } from './import-holidays.js';
import { privacyHold, type PrivacyHoldInput, type PrivacyHoldOutput } from './privacy-hold.js';
import { pruneAudit, type PruneAuditInput } from './prune-audit.js';
import { recordAutomaticMail, saveMailCursor, type RecordAutomaticMailInput, type SaveMailCursorInput } from './mail.js';
import { removeClosure, type RemoveClosureInput, type RemoveClosureOutput } from './remove-closure.js';
import { setStatuses, type SetStatusesInput } from './set-statuses.js';
import { addNotice, type AddNoticeInput } from './add-notice.js';
import { boardMessage, type BoardMessageInput } from './board-message.js';
import { deleteAlertRule, type DeleteAlertRuleInput } from './delete-alert-rule.js';
import { deleteBoard, type DeleteBoardInput } from './delete-board.js';
import { displayBoards, type DisplayBoardsInput } from './display-boards.js';
import { recordAlertSend, type RecordAlertSendInput } from './record-alert-send.js';
import { saveAlertRule, type SaveAlertRuleInput } from './save-alert-rule.js';
import { saveBoard, type SaveBoardInput } from './save-board.js';
import { withdrawNotice, type WithdrawNoticeInput } from './withdraw-notice.js';
import { telephonyFacts, type TelephonyFactsInput, type TelephonyFactsOutput } from './telephony-facts.js';

export interface Commands {
  'create-contact': { input: CreateContactInput; output: CreateContactOutput };
  'add-events': { input: AddEventsInput; output: AddEventsOutput };
  'add-closure': { input: AddClosureInput; output: AddClosureOutput };
  'remove-closure': { input: RemoveClosureInput; output: RemoveClosureOutput };
  'import-holidays': { input: ImportHolidaysInput; output: ImportHolidaysOutput };
  'set-statuses': { input: SetStatusesInput; output: null };
  'contact-action': { input: ContactActionInput; output: ContactActionOutput };
  'alert-action': { input: AlertActionInput; output: { recorded: boolean } };
  'anonymise-contacts': { input: AnonymiseContactsInput; output: AnonymiseContactsOutput };
  'privacy-hold': { input: PrivacyHoldInput; output: PrivacyHoldOutput };
  'prune-audit': { input: PruneAuditInput; output: { deleted: number } };
  'save-alert-rule': { input: SaveAlertRuleInput; output: { id: number } };
  'delete-alert-rule': { input: DeleteAlertRuleInput; output: null };
  'record-alert-send': { input: RecordAlertSendInput; output: { id: number } };
  'add-notice': { input: AddNoticeInput; output: { id: number } };
  'withdraw-notice': { input: WithdrawNoticeInput; output: null };
  'board-message': { input: BoardMessageInput; output: { id: number | null; ended: boolean } };
  'save-board': { input: SaveBoardInput; output: { id: number } };
  'delete-board': { input: DeleteBoardInput; output: null };
  'display-boards': { input: DisplayBoardsInput; output: null };
  'publish-report': { input: PublishReportInput; output: PublishReportOutput };
  'record-automatic-mail': { input: RecordAutomaticMailInput; output: { recorded: boolean } };
  'save-mail-cursor': { input: SaveMailCursorInput; output: null };
  'telephony-facts': { input: TelephonyFactsInput; output: TelephonyFactsOutput };
}

export type CommandName = keyof Commands;
export type CommandInput<K extends CommandName> = Commands[K]['input'];
export type CommandOutput<K extends CommandName> = Commands[K]['output'];

const COMMANDS: { [K in CommandName]: (ctx: CommandContext, input: CommandInput<K>) => CommandOutput<K> } = {
  'create-contact': createContact,
  'add-events': addEvents,
  'add-closure': addClosure,
  'remove-closure': removeClosure,
  'import-holidays': importHolidays,
  'set-statuses': setStatuses,
  'contact-action': contactAction,
  'alert-action': alertAction,
  'anonymise-contacts': anonymiseContacts,
  'privacy-hold': privacyHold,
  'prune-audit': pruneAudit,
  'save-alert-rule': saveAlertRule,
  'delete-alert-rule': deleteAlertRule,
  'record-alert-send': recordAlertSend,
  'add-notice': addNotice,
  'withdraw-notice': withdrawNotice,
  'board-message': boardMessage,
  'save-board': saveBoard,
  'delete-board': deleteBoard,
  'display-boards': displayBoards,
  'publish-report': publishReport,
  'record-automatic-mail': recordAutomaticMail,
  'save-mail-cursor': saveMailCursor,
  'telephony-facts': telephonyFacts,
};

export function runCommand<K extends CommandName>(ctx: CommandContext, name: K, input: CommandInput<K>): CommandOutput<K> {
  const command = COMMANDS[name] as ((ctx: CommandContext, input: CommandInput<K>) => CommandOutput<K>) | undefined;
  if (command === undefined) throw new Error(`no write command "${String(name)}"`);
  return command(ctx, input);
}
