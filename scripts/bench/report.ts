// `npm run bench:report`: the weekly SLA report (issue 16) on the year of data of bench:reads
// (1,000,000 contacts, ~20,000 a week), in process, on the same code the routes run.
//
//   npm run bench:report -- [--contacts 1000000] [--runs 7] [--rebuild] [--max-age-hours 24] [--no-write]
//
// 1. The database is bench:reads' cached year (data/bench/reads-<key>.db, scripts/bench/reads-db.ts),
//    built first if missing or stale. Each run works on a copy, migrated (the report's indexes are built
//    on it; the time is printed).
// 2. Cold = a new connection (SQLite's page cache empty; the file is in the OS page cache, as on a server
//    that has been running) and the first build of a week that connection has not read. Warm = the same
//    build again on that connection. Each is repeated over --runs different weeks (the last full weeks
//    before the build's "now"), and the median and the worst are printed.
// 3. Baseline, measured in the same run on the same connection: reading the week's clock rows (the
//    report's main statement, nothing computed). The ratio shows what the figures cost on top of the read.
// 4. The twelve-week trend (cold, warm), a year's regulator view (cold, warm), the CSV of a week.
// Prints a table with ratios against the targets (one week ≤ 500 ms cold, aim ≤ 100 ms; trend ≤ 1 s) and
// writes it, with the query plans, to docs/benchmarks.md between the bench:report markers.
import { constants, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Connection } from '../../db/connection.js';
import { loadCalendars } from '../../server/commands/context.js';
import { figureContacts } from '../../server/reports/contacts.js';
import { weeklyCsv } from '../../server/reports/csv.js';
import { hazardsOf } from '../../server/reports/hazards.js';
import { regulatorView } from '../../server/reports/regulator.js';
import { buildWeekly, packShape, weeklyTrend, type ReportSettings } from '../../server/reports/weekly.js';
import { isoWeekBounds, isoWeekOf, shiftIsoWeek } from '../../server/reports/week.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { ReportStore } from '../../server/store/reports.js';
import { buildYear, GENERATOR_VERSION, optionsKey, type BuildInfo } from './reads-db.js';

const { values } = parseArgs({
  options: {
    contacts: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '7' },
    rebuild: { type: 'boolean', default: false },
    'max-age-hours': { type: 'string', default: '24' },
    'no-write': { type: 'boolean', default: false },
  },
});
const CONTACTS = Number(values.contacts);
const RUNS = Math.max(1, Number(values.runs));
const SEED = 20261123; // bench:reads' seed: the same cached file
const TARGET = { weekColdMs: 500, weekAimMs: 100, trendMs: 1000 };
const ROOT = join(import.meta.dirname, '..', '..');
const started = Date.now();
const loadAtStart = loadavg()[0]!;
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${s}`);
const fmt = (n: number) => n.toLocaleString('en-GB');
const ms = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const worst = (xs: number[]) => Math.max(...xs);
/** The CPU time (user + system, this process) of the last timed call: less at the mercy of other load than the wall clock. */
let lastCpu = 0;
const time = <T>(f: () => T): [T, number] => {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = f();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  lastCpu = (d.user + d.system) / 1000;
  return [r, wall];
};
/** `time` for the report builders, which answer a promise (they read through the store's port). */
const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await f();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  lastCpu = (d.user + d.system) / 1000;
  return [r, wall];
};

// 1. The cached year (bench:reads' file), and a working copy.
const cacheDir = join(ROOT, 'data', 'bench');
mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
const key = optionsKey({ contacts: CONTACTS, seed: SEED });
const cached = join(cacheDir, `reads-${key}.db`);
const cachedInfo = join(cacheDir, `reads-${key}.json`);
let info: BuildInfo | null = null;
if (!values.rebuild && existsSync(cached) && existsSync(cachedInfo)) {
  const i = JSON.parse(readFileSync(cachedInfo, 'utf8')) as BuildInfo;
  if (i.generatorVersion === GENERATOR_VERSION && Date.now() - i.now <= Number(values['max-age-hours']) * 3_600_000) info = i;
}
const reused = info !== null;
if (info === null) {
  log(`building ${fmt(CONTACTS)} contacts (a year up to now) into ${cached}…`);
  rmSync(cachedInfo, { force: true });
  info = await buildYear(cached, { contacts: CONTACTS, seed: SEED, now: Date.now() }, (done) => log(`  ${fmt(done)} contacts written`));
  writeFileSync(cachedInfo, `${JSON.stringify(info, null, 2)}\n`);
} else {
  log(`cache: ${cached} (built ${((Date.now() - info.now) / 3_600_000).toFixed(1)} h ago)`);
}
const work = join(cacheDir, `report-${process.pid}.db`);
copyFileSync(cached, work, constants.COPYFILE_FICLONE);
const [, migrateMs] = time(() => openDatabase(work).close());
log(`working copy migrated in ${(migrateMs / 1000).toFixed(1)} s (the report's indexes built on ${fmt(info.rows.contacts)} contacts)`);

const shape = packShape('livewest');
const open = (): { connection: Connection; store: ReportStore; settings: ReportSettings } => {
  const connection = openDatabase(work);
  return {
    connection,
    store: new ReportStore(connection.sqlite, shape.extendable, shape.implied),
    settings: { shape, calendars: new CalendarStore(connection.sqlite).all().map((c) => ({ id: c.id, division: c.division })) },
  };
};
// The weeks: the last full ones before the build's "now"; figures judged as of that instant.
const asOf = info.now;
const lastWeek = shiftIsoWeek(isoWeekOf(asOf), -1);
const weeks = Array.from({ length: RUNS }, (_, i) => shiftIsoWeek(lastWeek, -i * 3));

// 2–3. One week, cold and warm, and the baseline.
const cold: number[] = [];
const warm: number[] = [];
const baseline: number[] = [];
const cpu = { cold: [] as number[], warm: [] as number[], baseline: [] as number[], trendCold: [] as number[], trendWarm: [] as number[], regCold: [] as number[], regWarm: [] as number[], figCold: [] as number[], figWarm: [] as number[] };
let rows = 0;
let sample = '';
for (const week of weeks) {
  const { connection, store, settings } = open();
  const [report, c] = await timed(() => buildWeekly(store, week, settings, { asOf }));
  cold.push(c);
  cpu.cold.push(lastCpu);
  const w: number[] = [];
  const wc: number[] = [];
  for (let i = 0; i < 3; i++) (w.push((await timed(() => buildWeekly(store, week, settings, { asOf })))[1]), wc.push(lastCpu));
  warm.push(median(w));
  cpu.warm.push(median(wc));
  const b = isoWeekBounds(week);
  const base: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [read, t] = time(() => {
      const r = store.clockRows(b.from, b.to, shape.late);
      store.people(b.from, b.to);
      return r;
    });
    base.push(t);
    rows = read.length;
  }
  cpu.baseline.push(lastCpu);
  baseline.push(median(base));
  if (sample === '') sample = `${week}: ${fmt(rows)} clocks started, ${fmt(report.phone.offered)} calls offered, ${fmt(report.complaints.received)} complaints, ${report.advisors.length} advisors`;
  log(`${week}: cold ${ms(c)} (CPU ${ms(cpu.cold.at(-1)!)}), warm ${ms(median(w))} (CPU ${ms(cpu.warm.at(-1)!)}), rows read alone ${ms(median(base))} (${fmt(rows)} clocks)`);
  connection.close();
}

// The CSV of a week (on the built report).
const csvRun = await (async () => {
  const { connection, store, settings } = open();
  const report = await buildWeekly(store, lastWeek, settings, { asOf });
  const [text, t] = time(() => weeklyCsv(report));
  connection.close();
  return { t, bytes: Buffer.byteLength(text) };
})();

// The contacts behind a figure (GET …/weekly/:week/contacts): a week's largest list (calls offered),
// its first page cold (new connection), then a later page (by the cursor) and a small figure warm.
const figCold: number[] = [];
const figWarm: number[] = [];
let figSample = '';
for (const week of weeks.slice(0, Math.min(RUNS, 3))) {
  const { connection, store, settings } = open();
  const [first, c] = await timed(() => figureContacts(store, week, settings, { phone: 'offered' }, asOf, { limit: 50 }));
  figCold.push(c);
  cpu.figCold.push(lastCpu);
  const w: number[] = [];
  const wc: number[] = [];
  const cursor = first.next ?? undefined;
  for (let i = 0; i < 3; i++) {
    w.push((await timed(() => figureContacts(store, week, settings, { phone: 'offered' }, asOf, cursor === undefined ? { limit: 50 } : { limit: 50, cursor })))[1]);
    wc.push(lastCpu);
    w.push((await timed(() => figureContacts(store, week, settings, { standard: 'email-reply', channel: 'email', outcomes: ['missed'] }, asOf, { limit: 50 })))[1]);
    wc.push(lastCpu);
  }
  figWarm.push(median(w));
  cpu.figWarm.push(median(wc));
  if (figSample === '') figSample = `${week}: ${fmt(first.total)} calls offered behind the figure, 50 a page`;
  log(`figure contacts ${week}: cold ${ms(c)}, warm ${ms(median(w))} (${fmt(first.total)} calls offered)`);
  connection.close();
}

// 4. The twelve-week trend and a year's regulator view.
const trendCold: number[] = [];
const trendWarm: number[] = [];
const regCold: number[] = [];
const regWarm: number[] = [];
let regSample = '';
for (let i = 0; i < Math.min(RUNS, 3); i++) {
  const { connection, store, settings } = open();
  const to = shiftIsoWeek(lastWeek, -i * 13);
  trendCold.push((await timed(() => weeklyTrend(store, to, 12, settings, { asOf })))[1]);
  cpu.trendCold.push(lastCpu);
  trendWarm.push((await timed(() => weeklyTrend(store, to, 12, settings, { asOf })))[1]);
  cpu.trendWarm.push(lastCpu);
  connection.close();
  const second = open();
  const calendars = loadCalendars(new CalendarStore(second.connection.sqlite));
  const end = new Date(asOf - i * 30 * 86_400_000);
  const toDate = end.toISOString().slice(0, 10);
  const fromDate = new Date(end.getTime() - 364 * 86_400_000).toISOString().slice(0, 10);
  const [view, rc] = await timed(() => regulatorView(second.store, calendars, fromDate, toDate, { homes: 40_000, asOf }));
  regCold.push(rc);
  cpu.regCold.push(lastCpu);
  regWarm.push((await timed(() => regulatorView(second.store, calendars, fromDate, toDate, { homes: 40_000, asOf })))[1]);
  cpu.regWarm.push(lastCpu);
  if (regSample === '') regSample = `${fromDate} to ${toDate}: CH01 stage 1 ${fmt(view.ch01.stage1)} (${view.ch01.stage1Per1000?.toFixed(1)} per 1,000 of 40,000 homes), CH02 stage 1 ${((view.ch02.stage1Proportion ?? 0) * 100).toFixed(1)} % of ${fmt(view.ch02.stage1Responded)}`;
  second.connection.close();
  log(`trend to ${to}: cold ${ms(trendCold.at(-1)!)}, warm ${ms(trendWarm.at(-1)!)}; regulator ${fromDate}–${toDate}: cold ${ms(rc)}, warm ${ms(regWarm.at(-1)!)}`);
}

// Plans of the report's statements on this file.
const plans = await (async () => {
  const { connection, store } = open();
  const args = (sql: string): unknown[] => (!sql.includes('@') ? ['x'] : [{ from: 0, to: 1, lo: 0, asOf: 1, target: 1, standard: 'x', id: 'x', reference: 'r', category: 'c', after: 0, until: 1, ...(sql.includes('@ids') ? { ids: '["x"]' } : {}) }]);
  // The hazard figures (Awaab's Law) alone, warm: a year (the regulator's view) and the last week.
  const week = isoWeekBounds(isoWeekOf(asOf - 7 * 86_400_000));
  await hazardsOf(store, week.from, week.to, asOf);
  const [hzWeek, hzWeekMs] = await timed(() => hazardsOf(store, week.from, week.to, asOf));
  const [hzYear, hzYearMs] = await timed(() => hazardsOf(store, asOf - 365 * 86_400_000, asOf, asOf));
  log(`hazards alone, warm: ${week.week} ${ms(hzWeekMs)} (${hzWeek.emergency.received + hzWeek.significant.received} reports), a year ${ms(hzYearMs)} (${hzYear.emergency.received + hzYear.significant.received} reports)`);
  const out = Object.entries(store.statements).map(([name, sql]) => {
    const plan = (connection.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args(sql)) as Array<{ detail: string }>).map((r) => r.detail).join(' ‖ ');
    return `| ${name} | ${plan.replaceAll('|', '\\|')} |`;
  });
  connection.close();
  return ['| statement | EXPLAIN QUERY PLAN |', '|---|---|', ...out].join('\n');
})();
for (const s of ['', '-wal', '-shm']) rmSync(`${work}${s}`, { force: true });

const ratio = (v: number, target: number) => `${(v / target).toFixed(2)} ${v <= target ? 'met' : '**missed**'}`;
const vsBase = (v: number) => `${(v / median(baseline)).toFixed(1)}×`;
const table = [
  '| measured | median (wall) | worst (wall) | median CPU | target | ratio to target (wall) | ratio to baseline |',
  '|---|---|---|---|---|---|---|',
  `| baseline: the week's clock rows and their contacts' assignees read, nothing computed (${fmt(rows)} clocks) | ${ms(median(baseline))} | ${ms(worst(baseline))} | ${ms(median(cpu.baseline))} | – | – | 1.0× |`,
  `| one week's report, cold (new connection) | ${ms(median(cold))} | ${ms(worst(cold))} | ${ms(median(cpu.cold))} | ≤ ${TARGET.weekColdMs} ms (aim ≤ ${TARGET.weekAimMs}) | ${ratio(worst(cold), TARGET.weekColdMs)} (aim: ${ratio(median(cold), TARGET.weekAimMs)}) | ${vsBase(median(cold))} |`,
  `| one week's report, warm | ${ms(median(warm))} | ${ms(worst(warm))} | ${ms(median(cpu.warm))} | ≤ ${TARGET.weekAimMs} ms (aim) | ${ratio(median(warm), TARGET.weekAimMs)} | ${vsBase(median(warm))} |`,
  `| twelve-week trend, cold | ${ms(median(trendCold))} | ${ms(worst(trendCold))} | ${ms(median(cpu.trendCold))} | ≤ ${TARGET.trendMs} ms | ${ratio(worst(trendCold), TARGET.trendMs)} | ${vsBase(median(trendCold))} |`,
  `| twelve-week trend, warm | ${ms(median(trendWarm))} | ${ms(worst(trendWarm))} | ${ms(median(cpu.trendWarm))} | ≤ ${TARGET.trendMs} ms | ${ratio(worst(trendWarm), TARGET.trendMs)} | ${vsBase(median(trendWarm))} |`,
  `| a year's regulator view (TSM CH01/CH02), cold | ${ms(median(regCold))} | ${ms(worst(regCold))} | ${ms(median(cpu.regCold))} | – | – | ${vsBase(median(regCold))} |`,
  `| a year's regulator view, warm | ${ms(median(regWarm))} | ${ms(worst(regWarm))} | ${ms(median(cpu.regWarm))} | – | – | ${vsBase(median(regWarm))} |`,
  `| the contacts behind a figure (calls offered, first page of 50), cold | ${ms(median(figCold))} | ${ms(worst(figCold))} | ${ms(median(cpu.figCold))} | – | – | ${vsBase(median(figCold))} |`,
  `| the contacts behind a figure (a later page; a small figure), warm | ${ms(median(figWarm))} | ${ms(worst(figWarm))} | ${ms(median(cpu.figWarm))} | – | – | ${vsBase(median(figWarm))} |`,
  `| the week's CSV (csv-stringify, ${fmt(csvRun.bytes)} bytes) | ${ms(csvRun.t)} | – | – | – | – | – |`,
].join('\n');
const totalS = (Date.now() - started) / 1000;
const machine = `${availableParallelism()} cores, Node ${process.version}, in process (the code the routes run), load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`;
const data = `${fmt(info.rows.contacts)} contacts over the year to ${new Date(info.now).toISOString().slice(0, 16)}Z, ${fmt(info.rows.clocks)} clocks; weeks ${weeks.join(', ')} (one per run, judged as of the build's "now"); e.g. ${sample}. Regulator: ${regSample}. Contacts behind a figure: ${figSample}. Migrating the copy (the report's three partial/expression indexes on a year) took ${(migrateMs / 1000).toFixed(1)} s.`;
console.log(`\n${data}\n\n${table}\n\n${plans}\n\n${machine}; ${totalS.toFixed(0)} s in all.`);

if (!values['no-write']) {
  const BEGIN = '<!-- bench:report:begin (written by npm run bench:report) -->';
  const END = '<!-- bench:report:end -->';
  const block = `${BEGIN}
${new Date().toISOString().slice(0, 10)}, ${machine}; \`npm run bench:report\` took ${totalS.toFixed(0)} s (${reused ? "bench:reads' cached database reused" : `the database built first, in ${info.buildSeconds.toFixed(0)} s`}).

${data}

${table}

The plans of the report's statements on the same file (server/store/reports.ts; asserted in tests/integration/report-plans.test.ts):

${plans}
${END}`;
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const current = readFileSync(file, 'utf8');
  const b = current.indexOf(BEGIN);
  const e = current.indexOf(END);
  const next = b >= 0 && e > b ? `${current.slice(0, b)}${block}${current.slice(e + END.length)}` : `${current.trimEnd()}\n\n## The weekly report on a year of data (npm run bench:report)\n\n${block}\n`;
  writeFileSync(file, next);
  console.log('Written to docs/benchmarks.md (## The weekly report on a year of data).');
}
process.exit(0);
