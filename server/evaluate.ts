// The batch evaluator behind `sla evaluate`: JSON lines in, one JSON line out per input, in order.
import type { Readable, Writable } from 'node:stream';
import type { CalendarSet } from './domain/clocks.js';
import { evaluateContact } from './domain/clocks.js';
import { parseContact } from './domain/contact.js';
import { explainClock, type Explanation } from './domain/explain.js';
import { clockJsonText, clockToJson, type ClockJson } from './domain/json.js';
import { ContactError } from './domain/model.js';
import { PackError } from './domain/standards.js';
import { packsInForce } from './domain/packs/in-force.js';
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
  /** Batches of lines evaluated, and how many of them on worker threads. */
  batches: number;
  batchesOnWorkers: number;
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
    const result = evaluateContact(contact, packsInForce(options.packFamily, contact.receivedAt), options.calendars, options.now);
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

/** What a batch of lines gave: the output lines (each ending in a newline) and counts. */
export interface BatchResult {
  out: string;
  lines: number;
  errors: number;
}

/**
 * Evaluates whole lines: `text` holds complete input lines, each ending in a newline except perhaps
 * the last; the first is line `firstLine` of the input. Blank lines are skipped (but numbered).
 */
export function evaluateBatch(text: string, firstLine: number, options: EvaluateOptions): BatchResult {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let out = '';
  let count = 0;
  let errors = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const r = evaluateLine(line, firstLine + i, options);
    count++;
    if (!r.ok) errors++;
    out += r.output + '\n';
  }
  return { out, lines: count, errors };
}

/** Runs batches elsewhere (worker threads): `lane()` gives a free one, or undefined when all are busy. */
export interface BatchRunner {
  lane(): ((text: string, firstLine: number) => Promise<BatchResult>) | undefined;
}

/** Characters of input per batch: big enough to amortise a hand-over, small enough to keep lanes busy. */
const BATCH_CHARS = 64 * 1024;

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Streams contacts from `input` to `output`, in input order. Writes in batches and honours
 * back-pressure, so a year of history runs in constant memory; `progress` is called about every
 * `progressEveryMs`. With a `runner`, batches go to its free lanes (worker threads) and this thread
 * evaluates a batch itself whenever every lane is busy; output order never changes.
 */
export async function evaluateStream(
  input: Readable,
  output: Writable,
  options: EvaluateOptions,
  progress?: (totals: EvaluateTotals) => void,
  progressEveryMs = 2000,
  runner?: BatchRunner,
): Promise<EvaluateTotals> {
  const started = performance.now();
  let lastProgress = started;
  const totals: EvaluateTotals = { lines: 0, errors: 0, elapsedMs: 0, batches: 0, batchesOnWorkers: 0 };
  /** Batches handed out and not yet written, in input order. */
  const queue: Array<{ result?: BatchResult; error?: unknown }> = [];
  let wake: (() => void) | null = null;

  const writeReady = async (): Promise<void> => {
    while (queue.length > 0 && (queue[0]!.result !== undefined || queue[0]!.error !== undefined)) {
      const slot = queue.shift()!;
      if (slot.error !== undefined) throw slot.error;
      const r = slot.result!;
      totals.lines += r.lines;
      totals.errors += r.errors;
      if (r.out !== '' && !output.write(r.out)) await new Promise<void>((resolve) => output.once('drain', () => resolve()));
      const t = performance.now();
      if (progress && t - lastProgress >= progressEveryMs) {
        lastProgress = t;
        progress({ ...totals, elapsedMs: t - started });
      }
    }
  };

  let nextLine = 1;
  const submit = async (text: string): Promise<void> => {
    const firstLine = nextLine;
    nextLine += countNewlines(text);
    const slot: { result?: BatchResult; error?: unknown } = {};
    queue.push(slot);
    const lane = runner?.lane();
    totals.batches++;
    if (lane === undefined) {
      slot.result = evaluateBatch(text, firstLine, options);
    } else {
      totals.batchesOnWorkers++;
      lane(text, firstLine).then(
        (r) => (slot.result = r),
        (e: unknown) => (slot.error = e ?? new Error('evaluate worker failed')),
      ).finally(() => wake?.());
    }
    await writeReady();
  };

  let carry = '';
  let batch = '';
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    const text = carry + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut === -1) {
      carry = text;
      continue;
    }
    batch += text.slice(0, cut + 1);
    carry = text.slice(cut + 1);
    if (batch.length >= BATCH_CHARS) {
      await submit(batch);
      batch = '';
    }
  }
  batch += carry;
  if (batch !== '') await submit(batch);
  while (queue.length > 0) {
    const head = queue[0]!;
    // Checked and armed in one synchronous step: a lane that finishes after this line wakes us.
    if (head.result === undefined && head.error === undefined) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    await writeReady();
  }
  totals.elapsedMs = performance.now() - started;
  return totals;
}
