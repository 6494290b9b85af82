// The calls waiting now, split by named phone queue (issue 13): a pure function of the waiting calls
// (each with its contact's `source.queue`) and the configured queues. The live service keeps the
// queue of each call with a running phone-answer clock (read by key at start, from the change after)
// and adds this to the board's figures; tests/unit/phone-queues.test.ts checks it by hand.
import type { PhoneQueueNow } from './protocol.js';

export interface QueueName {
  id: string;
  name: string;
}

/** The built-in queues (server/ingest/queues.ts): a centre that configured none has only these. */
const BUILT_IN = new Set(['customer-services', 'out-of-hours']);

/**
 * Per queue: the calls waiting and the oldest's receivedAt. Every configured queue comes first (in
 * configuration order, with none waiting too), then any other queue a waiting call names (by id). A
 * call that names no queue (posted before queues, or through the contacts API) counts in `defaultQueue`.
 */
export function phoneQueuesNow(waiting: Iterable<{ queue: string | null; receivedAt: number }>, queues: readonly QueueName[], defaultQueue: string): PhoneQueueNow[] {
  const by = new Map<string, { n: number; oldest: number }>();
  for (const w of waiting) {
    const q = w.queue ?? defaultQueue;
    const k = by.get(q);
    if (k === undefined) by.set(q, { n: 1, oldest: w.receivedAt });
    else {
      k.n++;
      if (w.receivedAt < k.oldest) k.oldest = w.receivedAt;
    }
  }
  const ids = [...queues.map((q) => q.id), ...[...by.keys()].filter((id) => !queues.some((q) => q.id === id)).sort()];
  return ids.map((id) => {
    const k = by.get(id);
    return {
      queue: id,
      name: queues.find((q) => q.id === id)?.name ?? id,
      named: !BUILT_IN.has(id),
      waitingNow: k?.n ?? 0,
      oldestWaitingSince: k === undefined ? null : new Date(k.oldest).toISOString(),
    };
  });
}
