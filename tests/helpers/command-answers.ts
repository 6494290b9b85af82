// Comparing a command's answers on SQLite and PostgreSQL (tests/integration/pg-commands.test.ts,
// store-contract-queue.test.ts): an answer as its output or its error's status, code and message, and
// the feed's deliveries waited for.
import type { FeedEntry } from '../../server/cluster/feed.js';

/** A command's answer as compared: its output, or its error's status, code and message (never a bare 500). */
export type Answer = { ok: unknown } | { error: { status: unknown; code: unknown; message: string } };

export async function answer(p: Promise<unknown>): Promise<Answer> {
  try {
    return { ok: await p };
  } catch (e) {
    const k = e as { status?: unknown; code?: unknown; message?: string };
    return { error: { status: k.status, code: k.code, message: k.message ?? String(e) } };
  }
}

/** Every follower delivery so far (`heard`), waiting until `n` have come (then a moment more, so extras would show). */
export async function heardAtLeast(heard: readonly FeedEntry[], n: number): Promise<FeedEntry[]> {
  for (let i = 0; i < 100 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 400));
  return [...heard];
}
