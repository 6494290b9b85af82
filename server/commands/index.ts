// Every write command by name: the writer (on its thread, or inline) runs them by name with plain input.
import { addClosure, type AddClosureInput, type AddClosureOutput } from './add-closure.js';
import { addEvents, type AddEventsInput, type AddEventsOutput } from './add-events.js';
import { alertAction, contactAction, type AlertActionInput, type ContactActionInput, type ContactActionOutput } from './contact-action.js';
import type { CommandContext } from './context.js';
import { createContact, type CreateContactInput, type CreateContactOutput } from './create-contact.js';
import { importHolidays, type ImportHolidaysInput, type ImportHolidaysOutput } from './import-holidays.js';
import { removeClosure, type RemoveClosureInput, type RemoveClosureOutput } from './remove-closure.js';
import { setStatuses, type SetStatusesInput } from './set-statuses.js';
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
  'telephony-facts': telephonyFacts,
};

export function runCommand<K extends CommandName>(ctx: CommandContext, name: K, input: CommandInput<K>): CommandOutput<K> {
  const command = COMMANDS[name] as ((ctx: CommandContext, input: CommandInput<K>) => CommandOutput<K>) | undefined;
  if (command === undefined) throw new Error(`no write command "${String(name)}"`);
  return command(ctx, input);
}
