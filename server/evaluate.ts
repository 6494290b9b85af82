// The batch evaluator behind `sla evaluate`: JSON lines in, one JSON line out per input, in order.
import type { Readable, Writable } from 'node:stream';
import type { CalendarSet } from './domain/clocks.js';
import { evaluateContact } from './domain/clocks.js';
import { parseContact } from './domain/contact.js';
import { explainClock, type Explanation } from './domain/explain.js';
import { clockJsonText, clockToJson, type ClockJson } from './domain/json.js';
import { ContactError } from './domain/model.js';
import { packInForce, PackError } from './domain/standards.js';
import { CalendarError } from './domain/calendar.js';

export interface EvaluateOptions {
  calendars: CalendarSet;
  now: number;
  packFamily: string;
  explain: boolean;
}

export interface EvaluateTotals {
  lines: number;
  errors: number;
  elapsedMs: number;
}

type ExplainJson = Omit<Explanation, 'dueAt' | 'steps'> & { dueAt: string | null; steps: Array<Record<string, unknown>> };

function explainJson(e: Explanation): ExplainJson {
  const steps = e.steps.map((s) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      out[k] = typeof v === 'number' && (k === 'at' || k === 'from' || k === 'to' || k === 'until' || k === 'since' || k === 'originalDueAt') ? new Date(v).toISOString() : v;
    }
    return out;
  });
  return { ...e, dueAt: e.dueAt === null ? null : new Date(e.dueAt).toISOString(), steps };
}

/** Evaluates one input line to one output line (without the newline). Never throws for bad input. */
export function evaluateLine(line: string, lineNumber: number, options: EvaluateOptions): { output: string; ok: boolean } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { output: JSON.stringify({ id: null, line: lineNumber, error: `line ${lineNumber}: not valid JSON (${(e as Error).message})` }), ok: false };
  }
  const id = typeof raw === 'object' && raw !== null && 'id' in raw ? (raw as { id: unknown }).id : null;
  try {
    const contact = parseContact(raw);
    const pack = packInForce(options.packFamily, contact.receivedAt);
    const result = evaluateContact(contact, pack, options.calendars, options.now);
    if (options.explain) {
      const clocks = result.clocks.map((c): ClockJson & { explain: ExplainJson } => ({
        ...clockToJson(c),
        explain: explainJson(explainClock(c, options.calendars, options.now)),
      }));
      const out: Record<string, unknown> = { id: id ?? null, clocks };
      if (result.callback) out.callback = true;
      if (result.category !== contact.category) out.category = result.category;
      return { output: JSON.stringify(out), ok: true };
    }
    // Built as text: this line is the batch evaluator's hot path.
    let output = `{"id":${JSON.stringify(id ?? null)},"clocks":[`;
    for (let i = 0; i < result.clocks.length; i++) output += (i === 0 ? '' : ',') + clockJsonText(result.clocks[i]!);
    output += ']';
    if (result.callback) output += ',"callback":true';
    if (result.category !== contact.category) output += `,"category":"${result.category}"`;
    return { output: output + '}', ok: true };
  } catch (e) {
    if (e instanceof ContactError || e instanceof PackError || e instanceof CalendarError) {
      return { output: JSON.stringify({ id: id ?? null, line: lineNumber, error: e.message }), ok: false };
    }
    throw e;
  }
}

/**
 * Streams contacts from `input` to `output`. Writes in batches and honours back-pressure, so a
 * year of history runs in constant memory; `progress` is called about every `progressEveryMs`.
 */
export async function evaluateStream(
  input: Readable,
  output: Writable,
  options: EvaluateOptions,
  progress?: (totals: EvaluateTotals) => void,
  progressEveryMs = 2000,
): Promise<EvaluateTotals> {
  const started = performance.now();
  let lastProgress = started;
  const totals: EvaluateTotals = { lines: 0, errors: 0, elapsedMs: 0 };
  let carry = '';
  let lineNumber = 0;
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    const text = carry + chunk;
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    let out = '';
    for (const raw of lines) {
      lineNumber++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      const r = evaluateLine(line, lineNumber, options);
      totals.lines++;
      if (!r.ok) totals.errors++;
      out += r.output + '\n';
    }
    if (out !== '' && !output.write(out)) await new Promise<void>((resolve) => output.once('drain', () => resolve()));
    const t = performance.now();
    if (progress && t - lastProgress >= progressEveryMs) {
      lastProgress = t;
      progress({ ...totals, elapsedMs: t - started });
    }
  }
  if (carry.trim() !== '') {
    lineNumber++;
    const r = evaluateLine(carry.endsWith('\r') ? carry.slice(0, -1) : carry, lineNumber, options);
    totals.lines++;
    if (!r.ok) totals.errors++;
    if (!output.write(r.output + '\n')) await new Promise<void>((resolve) => output.once('drain', () => resolve()));
  }
  totals.elapsedMs = performance.now() - started;
  return totals;
}
