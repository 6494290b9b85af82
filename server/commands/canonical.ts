// Canonical JSON and content hashes: a replay (same key, same content) is told apart from a conflict
// (same key, other content) by the hash of the content in a canonical form.
import { hash } from 'node:crypto';
import type { ContactEvent } from '../domain/model.js';

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (k: string) => ARRAY_INDEX.test(k) && Number(k) < 4294967295;

/**
 * Canonical JSON: object keys sorted, text built in one pass. The same text as the original
 * `JSON.stringify(sortKeysDeep(value))` (a rebuilt object lists array-index keys first, in
 * numeric order; undefined and functions are dropped from objects and null in arrays), so the
 * stored content hashes keep matching.
 */
export function canonicalJson(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (canonicalJson(v[i]) ?? 'null');
    return `${s}]`;
  }
  let keys = Object.keys(v).sort();
  if (keys.some(isArrayIndex)) {
    const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    keys = [...indices, ...keys.filter((k) => !isArrayIndex(k))];
  }
  let s = '{';
  let first = true;
  for (const k of keys) {
    const text = canonicalJson((v as Record<string, unknown>)[k]);
    if (text === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${text}`;
    first = false;
  }
  return `${s}}`;
}

export function canonicalHash(value: unknown): string {
  return hash('sha256', canonicalJson(value) ?? '', 'hex');
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The event as stored: validated fields only, instants normalised to ISO UTC. */
export function eventBody(e: ContactEvent): Record<string, unknown> {
  const body: Record<string, unknown> = { type: e.type, at: iso(e.at) };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'type' || k === 'at' || k === 'seq' || v === undefined) continue;
    body[k] = k === 'until' ? iso(v as number) : v;
  }
  return body;
}
