// The `sla` command line: `npm run --silent sla -- <command>`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CalendarError, type Closure } from './domain/calendar.js';
import { customerServicesCalendar } from './domain/defaults.js';
import { ALWAYS } from './domain/calendar.js';
import { DIVISIONS } from './domain/holidays.js';
import { InstantError, parseInstant } from './domain/time.js';
import { evaluateStream, type EvaluateTotals } from './evaluate.js';

const USAGE = `Usage: npm run --silent sla -- <command> [options]

Commands:
  evaluate   Read contacts as JSON lines on standard input; write one line of clocks per contact.
      --now ISO              judge running clocks as of this instant (default: now)
      --division NAME        bank holidays: ${DIVISIONS.join(', ')} (default: england-and-wales)
      --closure FROM/TO      a closure of the customer-services calendar, ISO interval; repeatable
      --holidays FILE        a GOV.UK-format bank-holidays.json to use instead of the bundled one
      --pack NAME            standards pack family: livewest, housing-ombudsman (default: livewest)
      --explain              add the steps behind each dueAt
      --quiet                no progress on standard error
  help       Show this text.
`;

class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`sla: ${message}\n`);
  process.exit(2);
}

function parseClosure(text: string): Closure {
  const parts = text.split('/');
  if (parts.length !== 2) throw new UsageError(`--closure "${text}": expected FROM/TO, two ISO timestamps with offsets`);
  try {
    const from = parseInstant(parts[0]);
    const to = parseInstant(parts[1]);
    if (to <= from) throw new UsageError(`--closure "${text}": TO must be after FROM`);
    return { from, to };
  } catch (e) {
    if (e instanceof InstantError) throw new UsageError(`--closure "${text}": ${e.message}`);
    throw e;
  }
}

function progressLine(t: EvaluateTotals, done: boolean): string {
  const rate = t.elapsedMs > 0 ? Math.round((t.lines / t.elapsedMs) * 1000) : 0;
  return `sla evaluate: ${done ? 'done, ' : ''}${t.lines.toLocaleString('en-GB')} contacts, ${t.errors.toLocaleString('en-GB')} errors, ${rate.toLocaleString('en-GB')}/s, ${(t.elapsedMs / 1000).toFixed(1)}s\n`;
}

async function evaluateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      now: { type: 'string' },
      division: { type: 'string', default: 'england-and-wales' },
      closure: { type: 'string', multiple: true, default: [] },
      holidays: { type: 'string' },
      pack: { type: 'string', default: 'livewest' },
      explain: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  let now = Date.now();
  if (values.now !== undefined) {
    try {
      now = parseInstant(values.now);
    } catch (e) {
      throw new UsageError(`--now: ${(e as Error).message}`);
    }
  }
  const closures = values.closure.map(parseClosure);
  let holidayFile: unknown;
  if (values.holidays !== undefined) {
    try {
      holidayFile = JSON.parse(readFileSync(values.holidays, 'utf8'));
    } catch (e) {
      throw new UsageError(`--holidays ${values.holidays}: ${(e as Error).message}`);
    }
  }
  let calendar;
  try {
    calendar = customerServicesCalendar({ division: values.division, closures, holidayFile });
  } catch (e) {
    throw new UsageError(`--division ${values.division}: ${(e as Error).message}`);
  }
  const totals = await evaluateStream(
    process.stdin,
    process.stdout,
    { calendars: { always: ALWAYS, 'customer-services': calendar }, now, packFamily: values.pack, explain: values.explain },
    values.quiet ? undefined : (t) => process.stderr.write(progressLine(t, false)),
  );
  if (!values.quiet && (totals.elapsedMs >= 2000 || totals.errors > 0)) process.stderr.write(progressLine(totals, true));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'evaluate':
        await evaluateCommand(rest);
        break;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        break;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof CalendarError) fail(e.message);
    if (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) fail(e.message);
    throw e;
  }
}

await main(process.argv.slice(2));
