// The `sla` command line: `npm run --silent sla -- <command>`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CalendarError, type Closure } from './domain/calendar.js';
import { KeptError } from './errors.js';
import { DIVISIONS, holidayListsFromGovUk, type HolidayImportResult } from './domain/holidays.js';
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
  user create EMAIL --role ROLE --name "NAME" [--queues a,b]
             Create a person who signs in (ROLE: advisor, team-lead, manager, admin; --queues: the
             routes or categories an advisor works). Prints a one-time password as the last line
             of standard output: they must change it at first sign-in.
  user list           List users (email, role, name, queues, state; never a password).
  user disable EMAIL  Disable a user: their sessions end at once.
  user reset EMAIL    A new one-time password (last line of standard output); sessions end.
  holidays import FILE
             Import bank holidays from a GOV.UK-format bank-holidays.json (every division in it);
             running clocks are recomputed. Prints the holidays added, removed and retitled.
      --division NAME        only this division: ${DIVISIONS.join(', ')}
      --replace              allow the import to remove bank holidays dated today or later
                             (without it such a file is refused, exit code 2, and nothing changes)
  migrate-to-postgres --from FILE --to postgres://…
             Copy a whole SQLite database (contacts, events, clocks, calendars, tokens, users, audit,
             reports: every table) into a new, empty PostgreSQL database, in one transaction, with
             progress on standard error; then check every table's count and a sample of clocks read
             back through both stores. Nothing is copied unless all of it is.
      --sample N             contacts whose clocks are compared (default 200)
  help       Show this text.

The token and user commands use PostgreSQL when KEPT_DATABASE_URL is set, else the database at
KEPT_DB (default ./data/kept.db); the holidays command uses KEPT_DB.
Kept reads calendars when it starts: restart a running Kept after "holidays import", or import
through the API instead (POST /api/v1/holidays/import).
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
  const { tokens, audit, close } = await openCliStores();
  try {
    const now = Date.now();
    switch (verb) {
      case 'create': {
        if (name === undefined) throw new UsageError('token create NAME: give the integration a name, e.g. telephony');
        let token: string;
        try {
          token = await tokens.create(name, now);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        await audit.record(now, 'cli', 'token.create', { name });
        process.stdout.write(`${token}\n`);
        process.stderr.write(`Token "${name}" created. Copy it now: it is not shown again.\n`);
        break;
      }
      case 'list':
        for (const t of await tokens.list()) {
          process.stdout.write(`${t.name}\tcreated ${new Date(t.createdAt).toISOString()}\t${t.revokedAt === null ? 'active' : `revoked ${new Date(t.revokedAt).toISOString()}`}\n`);
        }
        break;
      case 'revoke':
        if (name === undefined) throw new UsageError('token revoke NAME: which token?');
        if (!(await tokens.revoke(name, now))) throw new UsageError(`no active token named "${name}"`);
        await audit.record(now, 'cli', 'token.revoke', { name });
        process.stderr.write(`Token "${name}" revoked.\n`);
        break;
      default:
        throw new UsageError(`token: expected create NAME, list or revoke NAME\n\n${USAGE}`);
    }
  } finally {
    await close();
  }
}

async function userCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { role: { type: 'string' }, name: { type: 'string' }, queues: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const [verb, email, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`user ${verb ?? ''}: one EMAIL only (also given: ${extra.join(' ')})`);
  const { PeopleError } = await import('./store/people.js');
  const { hashPassword, oneTimePassword } = await import('./people/passwords.js');
  const { people, audit, close } = await openCliStores();
  try {
    const now = Date.now();
    const find = async () => {
      if (email === undefined) throw new UsageError(`user ${verb}: which EMAIL?`);
      const u = await people.byEmail(email);
      if (u === undefined) throw new UsageError(`no user ${email}`);
      return u;
    };
    switch (verb) {
      case 'create': {
        if (email === undefined) throw new UsageError('user create EMAIL --role ROLE --name "NAME"');
        if (values.role === undefined) throw new UsageError('user create: --role advisor | team-lead | manager | admin');
        if (values.name === undefined) throw new UsageError('user create: --name "Their Name"');
        const password = oneTimePassword();
        const hash = await hashPassword(password);
        let user;
        try {
          user = await people.create({ email, name: values.name, role: values.role, queues: (values.queues ?? '').split(','), passwordHash: hash }, now);
        } catch (e) {
          if (e instanceof PeopleError) throw new UsageError(e.message);
          throw e;
        }
        await audit.record(now, 'cli', 'user.create', { email: user.email, role: user.role, queues: user.queues });
        process.stderr.write(`User ${user.email} (${user.role}) created. Their one-time password follows: give it to them; they change it at first sign-in.\n`);
        process.stdout.write(`${password}\n`);
        break;
      }
      case 'list':
        for (const u of await people.list()) {
          const state = u.disabled ? 'disabled' : u.lockedUntil !== null && u.lockedUntil > now ? `locked until ${new Date(u.lockedUntil).toISOString()}` : u.mustChangePassword ? 'one-time password' : 'active';
          process.stdout.write(`${u.email}\t${u.role}\t${u.name}\t${u.queues.join(',') || '-'}\t${state}\n`);
        }
        break;
      case 'disable': {
        const u = await find();
        await people.disable(u.id, now);
        await audit.record(now, 'cli', 'user.disable', { email: u.email });
        process.stderr.write(`User ${u.email} disabled; their sessions have ended.\n`);
        break;
      }
      case 'enable': {
        const u = await find();
        await people.enable(u.id, now);
        await audit.record(now, 'cli', 'user.enable', { email: u.email });
        process.stderr.write(`User ${u.email} enabled.\n`);
        break;
      }
      case 'reset': {
        const u = await find();
        const password = oneTimePassword();
        await people.setPassword(u.id, await hashPassword(password), true, now);
        await audit.record(now, 'cli', 'user.reset', { email: u.email });
        process.stderr.write(`User ${u.email}: a new one-time password follows; their sessions have ended.\n`);
        process.stdout.write(`${password}\n`);
        break;
      }
      default:
        throw new UsageError(`user: expected create, list, disable, enable or reset\n\n${USAGE}`);
    }
  } finally {
    await close();
  }
}

/**
 * The token and user commands' stores: PostgreSQL when KEPT_DATABASE_URL is set (the database every
 * instance shares), else the SQLite file KEPT_DB.
 */
async function openCliStores() {
  const { loadConfig } = await import('./config.js');
  const config = loadConfig();
  if (config.databaseUrl !== '') {
    const { openPostgres } = await import('../db/pg/connection.js');
    const { pgStores, pgName } = await import('./store/stores.js');
    const pg = await openPostgres(config.databaseUrl, { max: 2 });
    const stores = pgStores(pg.pool, pgName(config.databaseUrl));
    return { tokens: stores.tokens, people: stores.people, audit: stores.audit, close: () => pg.close() };
  }
  const { openDatabase } = await import('../db/connection.js');
  const { sqliteStores } = await import('./store/stores.js');
  const connection = openDatabase(config.dbFile);
  const stores = sqliteStores(connection.sqlite);
  return { tokens: stores.tokens, people: stores.people, audit: stores.audit, close: async () => connection.close() };
}

/** One division's outcome, for people: a summary line, then + added, - removed, ~ retitled. */
function describeImport(r: HolidayImportResult): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  const change = r.added + r.removed + r.retitledHolidays.length === 0 ? 'no change' : `${r.added} added, ${r.removed} removed, ${r.retitledHolidays.length} retitled`;
  const calendars = r.calendars.length === 0 ? 'no calendar uses it' : `calendars: ${r.calendars.join(', ')}`;
  let text = `${r.division}: ${change}; ${n(r.movedClocks, 'clock')} moved (${n(r.recomputedContacts, 'contact')} recomputed; ${calendars})\n`;
  for (const h of r.addedHolidays) text += `  + ${h.date}  ${h.title}\n`;
  for (const h of r.removedHolidays) text += `  - ${h.date}  ${h.title}\n`;
  for (const h of r.retitledHolidays) text += `  ~ ${h.date}  ${h.title} (was: ${h.previousTitle})\n`;
  return text;
}

async function holidaysCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { division: { type: 'string' }, replace: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  });
  const [verb, file, ...extra] = positionals;
  if (verb !== 'import') throw new UsageError(`holidays: expected import FILE\n\n${USAGE}`);
  if (file === undefined) throw new UsageError('holidays import FILE: which file? A GOV.UK-format bank-holidays.json');
  if (extra.length > 0) throw new UsageError(`holidays import: one FILE only (also given: ${extra.join(' ')})`);
  if (values.division !== undefined && !(DIVISIONS as readonly string[]).includes(values.division)) {
    throw new UsageError(`--division "${values.division}": one of ${DIVISIONS.join(', ')}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  // Read and validated before the database is opened: a bad file touches nothing.
  const lists = holidayListsFromGovUk(doc, values.division);
  const { openDatabase } = await import('../db/connection.js');
  const { IngestService } = await import('./ingest/service.js');
  const { loadConfig } = await import('./config.js');
  const config = loadConfig();
  const connection = openDatabase(config.dbFile);
  try {
    // The same path as POST /api/v1/holidays/import: one transaction, guard, recompute, audit.
    const service = new IngestService(connection, { packFamily: config.packFamily });
    const results = await service.importHolidays(lists, 'cli', { replace: values.replace });
    for (const r of results) process.stdout.write(describeImport(r));
    // A running Kept holds calendars in memory from its start: it does not see this change until restarted.
    if (results.some((r) => r.added + r.removed + r.retitledHolidays.length > 0)) {
      process.stderr.write('Holidays imported. If Kept is running, restart it: it reads calendars when it starts.\n');
    }
  } finally {
    connection.close();
  }
}

async function migrateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, sample: { type: 'string' } }, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`migrate-to-postgres: unexpected ${positionals.join(' ')}`);
  if (values.from === undefined) throw new UsageError('migrate-to-postgres --from FILE: which SQLite database? (e.g. ./data/kept.db)');
  if (values.to === undefined || !/^postgres(ql)?:\/\//.test(values.to)) throw new UsageError('migrate-to-postgres --to: a postgres:// connection string');
  const sample = values.sample === undefined ? 200 : Number(values.sample);
  if (!Number.isInteger(sample) || sample < 0) throw new UsageError('--sample: a whole number of contacts');
  const { migrateToPostgres, MigrateError } = await import('./migrate-to-postgres.js');
  let last = 0;
  try {
    const r = await migrateToPostgres({
      from: values.from,
      to: values.to,
      sample,
      onProgress: (p) => {
        // A line per table, and at most one a second within a big one.
        const now = Date.now();
        if (p.copied !== 0 && p.copied !== p.total && now - last < 1000) return;
        last = now;
        process.stderr.write(`${p.table}: ${p.copied.toLocaleString('en-GB')} of ${p.total.toLocaleString('en-GB')}\n`);
      },
    });
    for (const t of r.tables) process.stdout.write(`${t.table}\t${t.rows}\n`);
    process.stderr.write(`Copied ${r.tables.reduce((n, t) => n + t.rows, 0).toLocaleString('en-GB')} rows in ${(r.ms / 1000).toFixed(1)} s; every table's count checked; ${r.sampled} contacts' clocks compared, ${r.mismatched} differ.\n`);
  } catch (e) {
    if (e instanceof MigrateError) fail(e.message);
    throw e;
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
      case 'user':
        await userCommand(rest);
        break;
      case 'holidays':
        await holidaysCommand(rest);
        break;
      case 'migrate-to-postgres':
        await migrateCommand(rest);
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
    // KeptError: a refusal that names its field and rule (a bad holiday file, an import that would remove holidays).
    if (e instanceof UsageError || e instanceof CalendarError || e instanceof KeptError) fail(e.message);
    if (e instanceof Error && e.name === 'ConfigError') fail(`configuration refused: ${e.message}`);
    if (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) fail(e.message);
    throw e;
  }
}

await main(process.argv.slice(2));
