// Bench: the alert evaluator's look (AlertService.observe: the live service's phone queue, the last
// 30 minutes' calls, the clocks that fell due since the last look, the safeguarding flags since the
// last seen) on a year of N contacts built by reads-db.ts into a temp file.
//   npx tsx scripts/bench/alerts.ts [contacts=100000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/connection.js';
import { AlertService } from '../../server/alerts/service.js';
import { loadConfig } from '../../server/config.js';
import { IngestService } from '../../server/ingest/service.js';
import { LiveService } from '../../server/live/live.js';
import { buildYear } from './reads-db.js';

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'kept-alerts-bench-'));
const file = join(dir, 'year.db');
const NOW = Date.UTC(2026, 10, 18, 11, 7, 0); // a Wednesday, in opening hours
const info = await buildYear(file, { contacts: N, seed: 3, now: NOW });
console.log(`built ${N} contacts in ${info.buildSeconds.toFixed(0)} s: ${info.rows.openClocks} open clocks`);

const connection = openDatabase(file);
const service = new IngestService(connection, { now: () => NOW });
const live = new LiveService(service, { busyCallsWaiting: 10, busyOldestWaitSeconds: 240 });
await live.start({ clientCount: 0, broadcast() {}, skip() {} });
const alerts = new AlertService({ service, live, config: loadConfig({ KEPT_DB: file }), log: { warn: console.warn, info() {} } as never });

async function time(label: string, at: (i: number) => number): Promise<void> {
  const ms: number[] = [];
  let breaches = 0;
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    breaches = (await alerts.observe(at(i))).breaches.length;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label}: median ${ms[10]!.toFixed(2)} ms, max ${ms[20]!.toFixed(2)} ms (21 looks; ${breaches} clocks fell due in the last span)`);
}
// observe() judges from the service's start: the span since the last look is (NOW, at].
await time('a look 15 s after the last', () => NOW + 15_000);
await time('a look a day after the last (catching up)', () => NOW + 86_400_000);
console.log(`running clocks held by the live service: ${live.runningClocks}`);

live.stop();
alerts.stop();
await service.close();
connection.close();
rmSync(dir, { recursive: true, force: true });
