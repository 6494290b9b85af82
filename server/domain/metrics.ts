// Metrics (STANDARDS §6): pure aggregations over clocks and calls.

/** A queued call as the metrics see it: its phone-answer clock's outcome. */
export interface CallOutcome {
  receivedAt: number;
  /** phone-answer status: met, missed, abandoned, abandoned-short, running, at-risk, breached, cancelled. */
  status: string;
  /** When it was answered (or the callback connected), else null. */
  answeredAt: number | null;
  /** When the caller left the queue (answered or abandoned), else null. */
  endedAt: number | null;
  callback: boolean;
}

/**
 * How abandons count. `standard` (the LiveWest rule): answered within target ÷ (offered − short
 * abandons), abandons after 5 s against. `abandons-ignored`: answered within ÷ answered.
 * `abandons-in-favour`: (answered within + abandoned within target) ÷ (answered + abandoned).
 * `removed-from-queue` (Amazon Connect): left the queue within target ÷ every call offered.
 */
export type ServiceLevelVariant = 'standard' | 'abandons-ignored' | 'abandons-in-favour' | 'removed-from-queue';
export const SERVICE_LEVEL_VARIANTS: ServiceLevelVariant[] = ['standard', 'abandons-ignored', 'abandons-in-favour', 'removed-from-queue'];

export interface PhoneStats {
  offered: number;
  answered: number;
  answeredWithinTarget: number;
  abandons: number;
  shortAbandons: number;
  waiting: number;
  /** Of `waiting`, those already past the target (they count against the level). */
  waitingOverTarget: number;
  callbacksRequested: number;
  callbacksConnected: number;
  callbacksConnectedWithinTarget: number;
  /** null when no call counts yet. */
  serviceLevel: number | null;
  averageSpeedOfAnswerMs: number | null;
  abandonRate: number | null;
  longestWaitingMs: number;
}

const ANSWERED = new Set(['met', 'missed']);
const RUNNING = new Set(['running', 'at-risk', 'breached']);

/**
 * Phone figures for calls offered in a period, as of `now`. A call still waiting counts in the
 * service level only once it has waited past the target (it can no longer be answered in time).
 */
export function phoneStats(calls: CallOutcome[], now: number, targetMs = 300_000, variant: ServiceLevelVariant = 'standard'): PhoneStats {
  let answered = 0, within = 0, abandons = 0, short = 0, waiting = 0, waitingOver = 0;
  let abandonedWithin = 0, cbRequested = 0, cbConnected = 0, cbWithin = 0, waitSum = 0, longest = 0;
  for (const c of calls) {
    if (c.status === 'cancelled') continue;
    if (c.callback) cbRequested++;
    if (ANSWERED.has(c.status) && c.answeredAt !== null) {
      answered++;
      const wait = c.answeredAt - c.receivedAt;
      waitSum += wait;
      if (wait <= targetMs) within++;
      if (c.callback) {
        cbConnected++;
        if (wait <= targetMs) cbWithin++;
      }
    } else if (c.status === 'abandoned-short') {
      short++;
    } else if (c.status === 'abandoned') {
      abandons++;
      if (c.endedAt !== null && c.endedAt - c.receivedAt <= targetMs) abandonedWithin++;
    } else if (RUNNING.has(c.status)) {
      waiting++;
      const age = now - c.receivedAt;
      if (age > targetMs) waitingOver++;
      if (age > longest) longest = age;
    }
  }
  const offered = answered + abandons + short + waiting;
  let numerator: number;
  let denominator: number;
  switch (variant) {
    case 'abandons-ignored':
      numerator = within;
      denominator = answered + waitingOver;
      break;
    case 'abandons-in-favour':
      numerator = within + abandonedWithin;
      denominator = answered + abandons + waitingOver;
      break;
    case 'removed-from-queue':
      numerator = within + abandonedWithin + short;
      denominator = offered;
      break;
    default:
      numerator = within;
      denominator = answered + abandons + waitingOver;
  }
  return {
    offered,
    answered,
    answeredWithinTarget: within,
    abandons,
    shortAbandons: short,
    waiting,
    waitingOverTarget: waitingOver,
    callbacksRequested: cbRequested,
    callbacksConnected: cbConnected,
    callbacksConnectedWithinTarget: cbWithin,
    serviceLevel: denominator > 0 ? numerator / denominator : null,
    averageSpeedOfAnswerMs: answered > 0 ? waitSum / answered : null,
    abandonRate: offered > 0 ? abandons / offered : null,
    longestWaitingMs: longest,
  };
}

/** Compliance of a set of clocks (STANDARDS §6): met ÷ (met + missed + still breached). */
export interface Compliance {
  met: number;
  missed: number;
  breached: number;
  metExtended: number;
  missedExtended: number;
  cancelled: number;
  open: number;
  /** null when nothing counts yet. */
  compliance: number | null;
}

export function compliance(statuses: string[]): Compliance {
  const c: Compliance = { met: 0, missed: 0, breached: 0, metExtended: 0, missedExtended: 0, cancelled: 0, open: 0, compliance: null };
  for (const s of statuses) {
    switch (s) {
      case 'met': c.met++; break;
      case 'missed': c.missed++; break;
      case 'breached': c.breached++; break;
      case 'met-extended': c.metExtended++; break;
      case 'missed-extended': c.missedExtended++; break;
      case 'cancelled': c.cancelled++; break;
      case 'running': case 'at-risk': case 'paused': c.open++; break;
      default: break;
    }
  }
  // Met within an extension is shown apart; it counts as met, a missed extension as missed.
  const good = c.met + c.metExtended;
  const all = good + c.missed + c.missedExtended + c.breached;
  c.compliance = all > 0 ? good / all : null;
  return c;
}

/** Nearest-rank percentile of numbers (p in 0–100), or null for none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
