// Which packs judge a contact: the centre's pack (KEPT_PACK) in the version in force at its
// receivedAt, and beside it every `beside` pack (Awaab's Law) with a version in force then. A
// contact received before a beside pack's first version simply has none of its clocks.
import { packInForce, PACKS, type StandardsPack } from '../standards.js';

function from(p: StandardsPack): number {
  return Date.parse(p.inForceFrom);
}

export function packsInForce(family: string, at: number, packs: readonly StandardsPack[] = PACKS): StandardsPack[] {
  const out = [packInForce(family, at, [...packs])];
  const beside = new Map<string, StandardsPack>();
  for (const p of packs) {
    if (p.beside !== true || p.family === family || from(p) > at) continue;
    const found = beside.get(p.family);
    if (found === undefined || from(found) < from(p)) beside.set(p.family, p);
  }
  out.push(...beside.values());
  return out;
}

/** The standard a clock started under, whichever of the contact's packs holds it. */
export function standardOf(packs: readonly StandardsPack[], id: string) {
  for (const p of packs) for (const s of p.standards) if (s.id === id) return s;
  return undefined;
}
