// Which packs judge a contact: the centre's pack (KEPT_PACK) in the version in force at its
// receivedAt, and beside it every `beside` pack (Awaab's Law) with a version in force then. A
// contact received before a beside pack's first version simply has none of its clocks.
import { packInForce, PACKS, type StandardDef, type StandardsPack } from '../standards.js';

/** Per pack list: each beside family's versions, newest first, with their first instants parsed once. */
const besideCache = new WeakMap<readonly StandardsPack[], Array<{ family: string; versions: Array<{ from: number; pack: StandardsPack }> }>>();

function besideFamilies(packs: readonly StandardsPack[]) {
  let found = besideCache.get(packs);
  if (found === undefined) {
    const byFamily = new Map<string, Array<{ from: number; pack: StandardsPack }>>();
    for (const p of packs) {
      if (p.beside !== true) continue;
      const list = byFamily.get(p.family) ?? [];
      list.push({ from: Date.parse(p.inForceFrom), pack: p });
      byFamily.set(p.family, list);
    }
    found = [...byFamily].map(([family, versions]) => ({ family, versions: versions.sort((a, b) => b.from - a.from) }));
    besideCache.set(packs, found);
  }
  return found;
}

/** The last answer per pack list and family, with the span of instants it holds for (no version starts inside it). */
const memo = new WeakMap<readonly StandardsPack[], Map<string, { lo: number; hi: number; packs: readonly StandardsPack[] }>>();

/** The packs a contact received at `at` is judged by, the centre's first. The same array for every contact of a span: do not mutate. */
export function packsInForce(family: string, at: number, packs: readonly StandardsPack[] = PACKS): readonly StandardsPack[] {
  let byFamily = memo.get(packs);
  if (byFamily === undefined) {
    byFamily = new Map();
    memo.set(packs, byFamily);
  }
  const last = byFamily.get(family);
  if (last !== undefined && at >= last.lo && at < last.hi) return last.packs;
  const main = packInForce(family, at, packs as StandardsPack[]);
  const out: StandardsPack[] = [main];
  // The span: from the latest start of any chosen version to the earliest later start of any version concerned.
  let lo = Date.parse(main.inForceFrom);
  let hi = Infinity;
  for (const p of packs) if (p.family === family && Date.parse(p.inForceFrom) > at) hi = Math.min(hi, Date.parse(p.inForceFrom));
  for (const f of besideFamilies(packs)) {
    if (f.family === family) continue;
    const i = f.versions.findIndex((x) => x.from <= at);
    if (i !== -1) {
      out.push(f.versions[i]!.pack);
      lo = Math.max(lo, f.versions[i]!.from);
    }
    if (i !== 0) hi = Math.min(hi, f.versions[i === -1 ? f.versions.length - 1 : i - 1]!.from);
  }
  byFamily.set(family, { lo, hi, packs: out });
  return out;
}

/** The standard a clock started under, whichever of the contact's packs holds it. */
export function standardOf(packs: readonly StandardsPack[], id: string): StandardDef | undefined {
  for (const p of packs) for (const s of p.standards) if (s.id === id) return s;
  return undefined;
}
