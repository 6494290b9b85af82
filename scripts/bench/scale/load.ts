// The writer benchmark's load: Kept-shaped create-contact commands (scripts/bench/ingest-bodies.ts),
// prepared before the clock starts, and N callers each waiting for its acknowledgement before
// sending the next, as N concurrent requests would.
import { prepareCreateContact, type ContactInput, type CreateContactInput } from '../../../server/commands/create-contact.js';
import { contactBody } from '../ingest-bodies.js';

export interface LoadResult {
  acknowledged: number;
  failed: number;
  seconds: number;
  /** Each acknowledgement's wait (ms), sorted. */
  latencies: number[];
  /** performance.timeOrigin + now at the first submit and the last acknowledgement (ms since the epoch). */
  startedAt: number;
  endedAt: number;
}

/** `count` commands, validated and hashed as the ingest service would; externalIds `${prefix}-i`. */
export function commands(prefix: string, count: number, now = Date.now()): CreateContactInput[] {
  return Array.from({ length: count }, (_, i) =>
    prepareCreateContact(contactBody(i, prefix, now) as unknown as ContactInput, { now, packFamily: 'livewest', maxEventsPerContact: 200, actor: 'token:bench' }),
  );
}

/** `concurrency` callers share the commands; each awaits its acknowledgement before taking the next. */
export async function drive(submit: (c: CreateContactInput) => Promise<unknown>, work: CreateContactInput[], concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const caller = async () => {
    while (next < work.length) {
      const c = work[next++]!;
      const t = performance.now();
      try {
        await submit(c);
        latencies.push(performance.now() - t);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const ended = performance.now();
  latencies.sort((a, b) => a - b);
  return { acknowledged: latencies.length, failed, seconds: (ended - started) / 1000, latencies, startedAt: performance.timeOrigin + started, endedAt: performance.timeOrigin + ended };
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
