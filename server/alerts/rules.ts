// What an alert rule decides, as a pure step: given the rule, its state and what was observed now,
// what (if anything) to send. De-duplication and quiet periods live here:
// - an event (a promise broken, a safeguarding flag) is sent once, by its key (`breach:C/standard`,
//   `flag:ID`);
// - a threshold (calls waiting, oldest wait, service level) is sent when it is crossed, not again
//   while it stays crossed, and again only after it has cleared and been crossed anew;
// - after a send the rule is quiet for its quiet period: what happens meanwhile is held and sent as
//   one message when the period ends (a bad hour sends a few messages, not a hundred), and a
//   threshold that clears meanwhile is dropped.
import type { AlertRule } from '../store/alerts.js';

/** Below this many calls offered in the last 30 minutes the service level is not judged. */
export const MIN_CALLS_FOR_LEVEL = 5;
/** Events listed in one message; the rest are counted. */
export const MAX_LINES = 10;
/** Keys remembered per rule (oldest forgotten first). */
const MAX_SENT_KEYS = 20_000;

export interface EventSeen {
  key: string;
  /** Breaches: the standard, to match a rule's `standards`. */
  standard?: string;
  line: string;
}

export interface Observation {
  now: number;
  callsWaiting: number;
  oldestWaitSeconds: number;
  /** The phone service level of calls offered in the last 30 minutes (0–1), or null below MIN_CALLS_FOR_LEVEL. */
  serviceLevel30: number | null;
  calls30: number;
  breaches: EventSeen[];
  flags: EventSeen[];
}

export interface RuleState {
  lastSentAt: number | null;
  /** Threshold rules: crossed now. */
  crossed: boolean;
  /** Held for the next send, by key (insertion order). */
  pending: Map<string, string>;
  sent: Set<string>;
}

export function newState(lastSentAt: number | null = null, sentKeys: Iterable<string> = []): RuleState {
  return { lastSentAt, crossed: false, pending: new Map(), sent: new Set(sentKeys) };
}

export interface Decision {
  keys: string[];
  title: string;
  lines: string[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const minutes = (s: number) => (s >= 120 ? `${Math.floor(s / 60)} min` : `${s} s`);

/** A threshold rule's condition now: crossed, and the line that says so. */
export function threshold(rule: AlertRule, o: Observation): { crossed: boolean; line: string } {
  const t = rule.threshold ?? 0;
  switch (rule.kind) {
    case 'calls-waiting':
      return { crossed: o.callsWaiting > t, line: `${o.callsWaiting} calls waiting (alert above ${t})` };
    case 'oldest-wait':
      return { crossed: o.oldestWaitSeconds > t, line: `Oldest call waiting ${minutes(o.oldestWaitSeconds)} (alert above ${minutes(t)})` };
    case 'service-level':
      return {
        crossed: o.serviceLevel30 !== null && o.serviceLevel30 * 100 < t,
        line: o.serviceLevel30 === null ? 'Service level, last 30 minutes: too few calls to judge' : `Service level, last 30 minutes: ${pct(o.serviceLevel30)} of ${o.calls30} calls (alert under ${t}%)`,
      };
    default:
      return { crossed: false, line: '' };
  }
}

/** One evaluation of one rule: updates `state`, answers what to send now (or null). */
export function step(rule: AlertRule, state: RuleState, o: Observation): Decision | null {
  if (!rule.enabled) {
    state.pending.clear();
    state.crossed = false;
    return null;
  }
  if (rule.kind === 'breach' || rule.kind === 'safeguarding') {
    const events = rule.kind === 'breach' ? o.breaches.filter((e) => rule.standards.length === 0 || (e.standard !== undefined && rule.standards.includes(e.standard))) : o.flags;
    for (const e of events) if (!state.sent.has(e.key) && !state.pending.has(e.key)) state.pending.set(e.key, e.line);
  } else {
    const { crossed, line } = threshold(rule, o);
    if (crossed && !state.crossed) state.pending.set(rule.kind, line);
    else if (crossed && state.pending.has(rule.kind)) state.pending.set(rule.kind, line); // held: say the latest figure
    else if (!crossed) state.pending.delete(rule.kind); // cleared before it could be sent
    state.crossed = crossed;
  }
  if (state.pending.size === 0) return null;
  if (state.lastSentAt !== null && o.now < state.lastSentAt + rule.quietMinutes * 60_000) return null;
  const keys = [...state.pending.keys()];
  const lines = [...state.pending.values()];
  state.pending.clear();
  state.lastSentAt = o.now;
  if (rule.kind === 'breach' || rule.kind === 'safeguarding') {
    for (const k of keys) state.sent.add(k);
    if (state.sent.size > MAX_SENT_KEYS) for (const k of [...state.sent].slice(0, state.sent.size - MAX_SENT_KEYS)) state.sent.delete(k);
  }
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`…and ${lines.length - MAX_LINES} more`);
  const what = rule.kind === 'breach' ? `${keys.length} promise${keys.length === 1 ? '' : 's'} broken` : rule.kind === 'safeguarding' ? `${keys.length} safeguarding flag${keys.length === 1 ? '' : 's'} raised` : lines[0]!;
  return { keys, title: `Kept alert — ${rule.name}: ${what}`, lines: shown };
}
