// Contact ids.
import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): the creation millisecond in the first 48 bits, then random bits.
 * Ids made close in time sort together, so new rows land at the end of the id-keyed indexes
 * (contacts, events, clocks) instead of on a random page each: fewer pages dirtied per commit.
 */
export function timeOrderedId(now: number): string {
  const ts = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep its random bits and variant
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r.slice(15)}`;
}
