// The `sla` command line: `npm run --silent sla -- <command>`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CalendarError, type Closure } from './domain/calendar.js';
import { DIVISIONS } from './domain/holidays.js';
import { InstantError, parseInstant } from './domain/time.js';
import { evaluateStream, type EvaluateOptions, type EvaluateTotals } from './evaluate.js';
import { DEFAULT_EVALUATE_THREADS as DEFAULT_THREADS, EvaluatePool, optionsFromSetup, type EvaluateSetup } from './evaluate-pool.js';

const USAGE = `Usage: npm run --silent sla -- <command> [options]

Commands:
  evaluate   Read contacts as JSON lines on standard input; write one line of clocks per contact.
      --now ISO              judge running clocks as of this instant (default: now)
      --division NAME        bank holidays: ${DIVISIONS.join(', ')} (default: england-and-wales)
      --closure FROM/TO      a closure of the customer-services calendar, ISO interval; repeatable
      --holidays FILE        a GOV.UK-format bank-holidays.json to use instead of the bundled one
      --pack NAME            standards pack family: livewest, housing-ombudsman (default: livewest)
      --explain              add the steps behind each dueAt
      --threads N            worker threads besides the main one (default ${DEFAULT_THREADS}: cores − 1;
                             0 = all in one thread); output order never changes
      --quiet                no progress on standard error
  token create NAME   Create an API token for an integration; prints it once (stored hashed).
  token list          List tokens (names and dates, never the tokens).
  token revoke NAME   Revoke a token at once.
  help       Show this text.

The token commands use the database at KEPT_DB (default ./data/kept.db).
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
  const lanes = t.batchesOnWorkers > 0 ? `, ${t.batchesOnWorkers.toLocaleString('en-GB')} of ${t.batches.toLocaleString('en-GB')} batches on worker threads` : '';
  return `sla evaluate: ${done ? 'done, ' : ''}${t.lines.toLocaleString('en-GB')} contacts, ${t.errors.toLocaleString('en-GB')} errors, ${rate.toLocaleString('en-GB')}/s, ${(t.elapsedMs / 1000).toFixed(1)}s${lanes}\n`;
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
      threads: { type: 'string', default: String(DEFAULT_THREADS) },
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
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new UsageError(`--threads "${values.threads}": a whole number from 0 to 64`);
  const setup: EvaluateSetup = { now, division: values.division, closures, holidayFile, packFamily: values.pack, explain: values.explain };
  let options: EvaluateOptions;
  try {
    options = optionsFromSetup(setup);
  } catch (e) {
    throw new UsageError(`--division ${values.division}: ${(e as Error).message}`);
  }
  const pool = threads > 0 ? new EvaluatePool(threads, setup) : undefined;
  let totals: EvaluateTotals;
  try {
    totals = await evaluateStream(
      process.stdin,
      process.stdout,
      options,
      values.quiet ? undefined : (t) => process.stderr.write(progressLine(t, false)),
      2000,
      pool,
    );
  } finally {
    await pool?.close();
  }
  if (!values.quiet && (totals.elapsedMs >= 2000 || totals.errors > 0)) process.stderr.write(progressLine(totals, true));
}

async function tokenCommand(args: string[]): Promise<void> {
  const [verb, name] = args;
  const { openDatabase } = await import('../db/connection.js');
  const { TokenStore } = await import('./store/tokens.js');
  const { AuditStore } = await import('./store/audit.js');
  const { loadConfig } = await import('./config.js');
  const connection = openDatabase(loadConfig().dbFile);
  try {
    const tokens = new TokenStore(connection.sqlite);
    const audit = new AuditStore(connection.sqlite);
    const now = Date.now();
    switch (verb) {
      case 'create': {
        if (name === undefined) throw new UsageError('token create NAME: give the integration a name, e.g. telephony');
        let token: string;
        try {
          token = tokens.create(name, now);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        audit.record(now, 'cli', 'token.create', { name });
        process.stdout.write(`${token}\n`);
        process.stderr.write(`Token "${name}" created. Copy it now: it is not shown again.\n`);
        break;
      }
      case 'list':
        for (const t of tokens.list()) {
          process.stdout.write(`${t.name}\tcreated ${new Date(t.createdAt).toISOString()}\t${t.revokedAt === null ? 'active' : `revoked ${new Date(t.revokedAt).toISOString()}`}\n`);
        }
        break;
      case 'revoke':
        if (name === undefined) throw new UsageError('token revoke NAME: which token?');
        if (!tokens.revoke(name, now)) throw new UsageError(`no active token named "${name}"`);
        audit.record(now, 'cli', 'token.revoke', { name });
        process.stderr.write(`Token "${name}" revoked.\n`);
        break;
      default:
        throw new UsageError(`token: expected create NAME, list or revoke NAME\n\n${USAGE}`);
    }
  } finally {
    connection.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'evaluate':
        await evaluateCommand(rest);
        break;
      case 'token':
        await tokenCommand(rest);
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
