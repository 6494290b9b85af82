// What regenerating a published week changed (issue 16): each figure whose value differs, by path.
// Rows are matched by what they are (standard and channel, advisor, half hour, contact), not by
// position, so a new row reads as one addition rather than every later row "changing".
import type { ReportChange, WeeklyReport } from './types.js';

/** Fields that say when and how the report was made, not what it found. */
const NOT_FIGURES = new Set(['builtAt', 'publication']);

function rowKey(v: unknown, i: number): string {
  if (v === null || typeof v !== 'object') return String(i);
  const o = v as Record<string, unknown>;
  if (typeof o.standard === 'string' && typeof o.channel === 'string') return `${o.standard}/${o.channel}`;
  if (typeof o.contactId === 'string' && typeof o.standard === 'string') return `${o.contactId}/${o.standard}`;
  for (const k of ['key', 'start', 'date', 'week', 'contactId'] as const) if (typeof o[k] === 'string') return o[k];
  return String(i);
}

function walk(path: string, a: unknown, b: unknown, out: ReportChange[]): void {
  if (Object.is(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    const before = new Map(a.map((v, i) => [rowKey(v, i), v]));
    const after = new Map(b.map((v, i) => [rowKey(v, i), v]));
    for (const [k, v] of before) walk(`${path}[${k}]`, v, after.has(k) ? after.get(k) : undefined, out);
    for (const [k, v] of after) if (!before.has(k)) out.push({ path: `${path}[${k}]`, before: undefined, after: v });
    return;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (path === '' && NOT_FIGURES.has(k)) continue;
      walk(path === '' ? k : `${path}.${k}`, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
    }
    return;
  }
  out.push({ path, before: a === undefined ? null : a, after: b === undefined ? null : b });
}

/** Every figure that differs between two builds of a week (when and how they were built left out). */
export function reportChanges(before: WeeklyReport, after: WeeklyReport): ReportChange[] {
  const out: ReportChange[] = [];
  walk('', before, after, out);
  return out;
}
