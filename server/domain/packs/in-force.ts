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

export function packsInForce(family: string, at: number, packs: readonly StandardsPack[] = PACKS): StandardsPack[] {
  const out = [packInForce(family, at, packs as StandardsPack[])];
  for (const f of besideFamilies(packs)) {
    if (f.family === family) continue;
    const v = f.versions.find((x) => x.from <= at);
    if (v !== undefined) out.push(v.pack);
  }
  return out;
}

/** The standard a clock started under, whichever of the contact's packs holds it. */
export function standardOf(packs: readonly StandardsPack[], id: string): StandardDef | undefined {
  for (const p of packs) for (const s of p.standards) if (s.id === id) return s;
  return undefined;
}
