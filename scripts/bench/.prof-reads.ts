// scratch: where a list request's time goes (not committed)
import Database from 'better-sqlite3';
import { readTable } from '../../server/readers/reads.js';
import { viewsOf } from '../../server/readers/views.js';
import { loadCalendars } from '../../server/commands/context.js';
import { CalendarStore } from '../../server/store/calendars.js';
import { serialize, deserialize } from 'node:v8';
const file = process.argv[2]!;
const db = new Database(file, { readonly: false });
db.pragma('query_only = ON');
const t = readTable(db);
const cal = loadCalendars(new CalendarStore(db));
const now = Date.now();
const time = (name: string, f: () => unknown, n = 50) => {
  for (let i = 0; i < 5; i++) f();
  const xs: number[] = [];
  let r: unknown;
  for (let i = 0; i < n; i++) { const t0 = performance.now(); r = f(); xs.push(performance.now() - t0); }
  xs.sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} p50 ${xs[n >> 1]!.toFixed(2)} ms  p99 ${xs[Math.floor(n * 0.99)]!.toFixed(2)} ms`);
  return r;
};
for (const [name, f] of [
  ['no filter 101', { limit: 101, now }],
  ['status=open 101', { status: ['open'], limit: 101, now }],
  ['advisor open 200', { assignee: 'advisor-07', status: ['open'], limit: 200, now }],
] as const) {
  time(`${name}: list`, () => t.contacts.list(f as never));
  const parts = time(`${name}: page (list+events+clocks)`, () => t.contacts.page(f as never)) as Parameters<typeof viewsOf>[0];
  const views = time(`${name}: present (viewsOf)`, () => viewsOf(parts, cal, now));
  time(`${name}: clone (v8 ser+deser)`, () => deserialize(serialize(parts)));
  time(`${name}: JSON.stringify views`, () => JSON.stringify(views));
}
const q = { assignee: 'advisor-07', limit: 200, unassignedLimit: 50, queues: null, now };
const qp = time('queue.page advisor 200+50', () => t.queue.page(q)) as ReturnType<typeof t.queue.page>;
time('queue present', () => { viewsOf(qp.assigned!, cal, now); viewsOf(qp.unassigned, cal, now); });
time('queue: unassigned(50) alone', () => t.queue.unassigned(50, null));
const plan = t.contacts; void plan;
