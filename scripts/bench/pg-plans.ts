// PostgreSQL's list plans at a year's shape (issue 14): `npx tsx scripts/bench/pg-plans.ts`. Builds a
// throwaway database (scripts/bench/pg-year.ts: 200,000 contacts, 10% of their clocks open) on the
// PostgreSQL of KEPT_TEST_PG_URL (default: the local test server), then prints for each list shape the
// walk PostgresContactReads chose, its plan in one line and its execution time inside PostgreSQL
// (EXPLAIN ANALYZE, the median of 7), for docs/benchmarks.md beside the SQLite plans of bench:reads.
import { openPostgres } from '../../db/pg/connection.js';
import type { ContactFilter } from '../../server/store/contacts.js';
import { PgContactReads } from '../../server/store/pg/contacts.js';
import { freshPgDatabase } from '../../tests/helpers/pg.js';
import { fillPgYear, PG_YEAR_CONTACTS } from './pg-year.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0);

interface Node {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Plans?: Node[];
}
type Explained = Array<{ Plan: Node; 'Execution Time': number }>;

const line = (n: Node): string =>
  `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}${n['Scan Direction'] === 'Backward' ? ' (backward)' : ''}${n.Plans ? ` > ${n.Plans.map(line).join(', ')}` : ''}`;

const test = await freshPgDatabase('kept_bench_plans');
const db = await openPostgres(test.url, { max: 2 });
try {
  const started = performance.now();
  await fillPgYear(db.pool, NOW);
  console.log(`${PG_YEAR_CONTACTS.toLocaleString('en-GB')} contacts written and analysed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const reads = new PgContactReads(db.pool);
  const deep = { receivedAt: NOW - 200 * DAY, id: '00000000' };
  const cases: Array<[string, Omit<ContactFilter, 'limit' | 'now'>]> = [
    ['newest first', {}],
    ['deep cursor', { after: deep }],
    ['status=breached', { status: ['breached'] }],
    ['status=breached, deep cursor', { status: ['breached'], after: deep }],
    ['status=running (rare)', { status: ['running'] }],
    ['status=open', { status: ['open'] }],
    ['status=met', { status: ['met'] }],
    ['status=met-extended (rare)', { status: ['met-extended'] }],
    ['status=met,missed', { status: ['met', 'missed'] }],
    ['standard=resolve', { standard: 'resolve' }],
    ['channel=email', { channel: 'email' }],
    ['channel=email&status=met', { channel: 'email', status: ['met'] }],
    ['assignee', { assignee: 'advisor-04' }],
    ['assignee&status=open', { assignee: 'advisor-04', status: ['open'] }],
    ['queue=rents', { queue: 'rents' }],
    ['queue=rents&status=breached', { queue: 'rents', status: ['breached'] }],
    ['received from/to', { receivedFrom: NOW - 120 * DAY, receivedTo: NOW - 90 * DAY }],
  ];
  console.log('list (limit 101)                     | walk     | ms (median of 7) | plan');
  for (const [name, f] of cases) {
    const plan = await reads.listPlan({ ...f, limit: 101, now: NOW });
    for (const [i, st] of plan.statements.entries()) {
      const times: number[] = [];
      let top: Node | undefined;
      for (let run = 0; run < 7; run++) {
        const r = await db.pool.query<{ 'QUERY PLAN': Explained }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${st.sql}`, st.params);
        times.push(r.rows[0]!['QUERY PLAN'][0]!['Execution Time']);
        top = r.rows[0]!['QUERY PLAN'][0]!.Plan;
      }
      times.sort((x, y) => x - y);
      const label = plan.statements.length > 1 ? `${name} [${i}]` : name;
      console.log(`${label.padEnd(36)} | ${plan.shape.padEnd(8)} | ${times[3]!.toFixed(3).padStart(16)} | ${line(top!)}`);
    }
  }
} finally {
  await db.close();
  await test.drop();
}
