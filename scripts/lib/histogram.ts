// Whole-millisecond latencies counted, not kept: a member of scripts/bench/breaches.ts fires 100,000
// clocks and must report how late each came without holding or sorting 100,000 numbers in its own
// event loop (which is what is being measured). A member prints its counts as [ms, n] pairs; the
// benchmark reads quantiles from them.

/** [whole ms, how many] pairs, in any order. */
export type MsCounts = Array<[ms: number, n: number]>;

export class MsHistogram {
  readonly #counts = new Map<number, number>();
  #n = 0;

  /** Counts one latency (rounded to the whole millisecond). */
  add(ms: number): void {
    const k = Math.round(ms);
    this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
    this.#n++;
  }

  get count(): number {
    return this.#n;
  }

  /** The counts, shortest first. */
  entries(): MsCounts {
    return [...this.#counts].sort((a, b) => a[0] - b[0]);
  }
}

export function total(counts: MsCounts): number {
  return counts.reduce((n, [, c]) => n + c, 0);
}

/**
 * The q-quantile as scripts/bench/scale/load.ts's `percentile` defines it (the ⌈q·n⌉-th smallest),
 * read from the counts; NaN when there are none.
 */
export function quantile(counts: MsCounts, q: number): number {
  const n = total(counts);
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  let seen = 0;
  for (const [ms, c] of [...counts].sort((a, b) => a[0] - b[0])) {
    seen += c;
    if (seen >= rank) return ms;
  }
  return NaN; // unreachable: seen reaches n
}

/** Counts of several sources as one (the same ms added up). */
export function merged(...all: MsCounts[]): MsCounts {
  const h = new Map<number, number>();
  for (const counts of all) for (const [ms, c] of counts) h.set(ms, (h.get(ms) ?? 0) + c);
  return [...h].sort((a, b) => a[0] - b[0]);
}
