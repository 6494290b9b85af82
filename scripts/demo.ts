// `npm run demo`: Kept on its own database (./data/demo.db, fresh each run unless --keep) with a
// simulator playing a working day through the real HTTP API. See scripts/simulator.ts for what the
// speed factor compresses.
//
//   npm run demo -- [--speed 30] [--queue-speed N] [--minutes M] [--keep] [--seed N] [--port 3000] [--volume 1]
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/connection.js';
import { loadConfig } from '../server/config.js';
import { buildApp } from '../server/http/app.js';
import { IngestService } from '../server/ingest/service.js';
import { hashPassword, oneTimePassword } from '../server/people/passwords.js';
import { startSimulator, type SimulatorStats } from './simulator.js';

const { values } = parseArgs({
  options: {
    speed: { type: 'string', default: '30' },
    'queue-speed': { type: 'string' },
    minutes: { type: 'string' },
    keep: { type: 'boolean', default: false },
    seed: { type: 'string' },
    port: { type: 'string' },
    volume: { type: 'string', default: '1' },
    db: { type: 'string', default: './data/demo.db' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(`npm run demo -- [options]
  --speed N         simulated seconds per real second (default 30: the 9-hour day in 18 minutes; 1 = real time)
  --queue-speed N   compression of phone queue waits (default min(speed, 3); phone-answer is 5 real minutes)
  --minutes M       stop by itself after M real minutes
  --keep            keep ./data/demo.db from the last run (default: start fresh)
  --seed N          random seed (the same seed plays the same day)
  --volume F        scale every channel's daily volume (default 1)
  --port N          listen port (default PORT or 3000)`);
  process.exit(0);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name}: expected a positive number, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const speed = positive('speed', values.speed)!;
const queueSpeed = positive('queue-speed', values['queue-speed']);
const minutes = positive('minutes', values.minutes);
const seed = positive('seed', values.seed);
const volume = positive('volume', values.volume)!;
const dbFile = values.db;

if (!values.keep) for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFile}${suffix}`, { force: true });

const config = loadConfig({ ...process.env, KEPT_DB: dbFile, ...(values.port ? { PORT: values.port } : {}), KEPT_LOG_LEVEL: process.env.KEPT_LOG_LEVEL ?? 'warn' });
const connection = openDatabase(config.dbFile);
const service = new IngestService(connection, { packFamily: config.packFamily, maxEventsPerContact: config.maxEventsPerContact, writerThread: true, writeTimeoutMs: config.writeTimeoutMs });
const now = Date.now();
await service.tokens.revoke('demo', now);
const token = await service.tokens.create('demo', now);
const app = await buildApp({ config, service, logger: true });
await app.listen({ port: config.port, host: config.host });
const base = `http://${config.host}:${config.port}`;

// People to sign in as: nobody is signed in by the demo itself. Each gets a one-time password (a
// kept database's accounts get new ones), to be changed at first sign-in.
const DEMO_PEOPLE = [
  { email: 'lead@demo.kept.example', name: 'Karen Whitfield', role: 'team-lead', queues: [] },
  { email: 'priya.shah@demo.kept.example', name: 'Priya Shah', role: 'advisor', queues: ['customer-services'] },
  { email: 'tom.hughes@demo.kept.example', name: 'Tom Hughes', role: 'advisor', queues: ['customer-services', 'repairs'] },
  { email: 'manager@demo.kept.example', name: 'Joe Tremayne', role: 'manager', queues: [] },
  { email: 'admin@demo.kept.example', name: 'Abi Lawson', role: 'admin', queues: [] },
] as const;
const accounts: string[] = [];
for (const p of DEMO_PEOPLE) {
  const password = oneTimePassword();
  const hash = await hashPassword(password);
  const existing = await app.people.byEmail(p.email);
  if (existing === undefined) await app.people.create({ ...p, passwordHash: hash }, now);
  else await app.people.setPassword(existing.id, hash, true, now);
  await service.audit.record(now, 'demo', existing === undefined ? 'user.create' : 'user.reset', { email: p.email, role: p.role });
  accounts.push(`  ${p.role.padEnd(10)} ${p.email.padEnd(30)} ${password}   (${p.name})`);
}

const dayMinutes = (9 * 60) / speed;
console.log(`
Kept demo: ${base}/   (the board; press w for wall mode)
  API docs   ${base}/docs
  API token  ${token}
  Sign in at ${base}/ as (one-time passwords: each asks for a new password first):
${accounts.join('\n')}
  database   ${dbFile}${values.keep ? ' (kept)' : ' (fresh)'}
  speed      ${speed}x: the simulated Monday 08:00–17:00 plays in ${dayMinutes >= 60 ? `${(dayMinutes / 60).toFixed(1)} hours` : `${dayMinutes.toFixed(1)} minutes`}${minutes ? `; stopping after ${minutes} min` : ''}
  Ctrl-C to stop.

  curl -H "Authorization: Bearer ${token}" '${base}/api/v1/contacts?status=breached,at-risk&limit=5'
`);

const simulator = startSimulator({
  baseUrl: base,
  token,
  speed,
  ...(queueSpeed !== undefined ? { queueSpeed } : {}),
  ...(seed !== undefined ? { seed } : {}),
  ...(minutes !== undefined ? { stopAfterMs: minutes * 60_000 } : {}),
  volume,
  log: (line) => console.log(line),
  logEvery: 25,
});

function summary(s: SimulatorStats): string {
  const events = Object.entries(s.events)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const contacts = Object.entries(s.contacts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `simulated to ${s.simTime}: ${s.actions} actions; contacts: ${contacts}; events: ${events || 'none'}${s.errors ? `; ${s.errors} errors (first: ${s.firstErrors[0]})` : ''}`;
}

let closing = false;
async function shutdown(reason: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`\n${reason}: stopping the simulator…`);
  const s = await simulator.stop();
  console.log(summary(s));
  await app.close();
  await service.close();
  connection.close();
  console.log(`Stopped. The day is in ${dbFile} (npm run demo -- --keep to carry on from it).`);
  process.exit(s.errors > 0 && s.actions === 0 ? 1 : 0);
}
process.once('SIGINT', () => void shutdown('Ctrl-C'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

const startedAt = Date.now();
const finished = await simulator.done;
if (minutes !== undefined) {
  // The day may end before M minutes at a high speed: keep the board up until then.
  await new Promise((r) => setTimeout(r, Math.max(0, startedAt + minutes * 60_000 - Date.now())));
  await shutdown(`${minutes} min passed`);
} else if (!closing) {
  console.log(`\nThe simulated day is over (${summary(finished)}).\nThe board stays up at ${base}/ — Ctrl-C to stop.`);
}
