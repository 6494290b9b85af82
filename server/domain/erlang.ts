// Erlang C (issue 13): the chance a call waits, the service level, and the advisors needed to
// answer a share of calls within a target, for a half hour's calls offered and average handle time.
// Pure; the published vectors are in tests/unit/erlang.test.ts.

/** Offered traffic in Erlangs: calls × handle time ÷ interval. */
export function trafficErlangs(calls: number, handleSeconds: number, intervalSeconds: number): number {
  return (calls * handleSeconds) / intervalSeconds;
}

/**
 * P(wait): the chance a call has to queue with `agents` advisors and `a` Erlangs offered
 * (Erlang C). 1 when the advisors cannot keep up (agents ≤ a). Computed through the Erlang B
 * recursion, stable for hundreds of advisors.
 */
export function erlangC(a: number, agents: number): number {
  if (!(a > 0)) return 0;
  if (agents <= a) return 1;
  let b = 1; // Erlang B with 0 agents
  for (let k = 1; k <= agents; k++) b = (a * b) / (k + a * b);
  return (agents * b) / (agents - a * (1 - b));
}

/** Share of calls answered within `targetSeconds`: 1 − P(wait)·e^(−(N−A)·t/AHT). */
export function serviceLevel(a: number, agents: number, handleSeconds: number, targetSeconds: number): number {
  if (!(a > 0)) return 1;
  if (agents <= a) return 0;
  return 1 - erlangC(a, agents) * Math.exp((-(agents - a) * targetSeconds) / handleSeconds);
}

/** Mean wait of all calls (seconds): P(wait)·AHT ÷ (N − A). */
export function averageSpeedOfAnswer(a: number, agents: number, handleSeconds: number): number {
  if (!(a > 0)) return 0;
  if (agents <= a) return Infinity;
  return (erlangC(a, agents) * handleSeconds) / (agents - a);
}

export interface StaffingInput {
  /** Calls offered in the interval. */
  calls: number;
  /** Average handle time (talk + wrap-up), seconds. */
  handleSeconds: number;
  intervalSeconds: number;
  /** Answer within this many seconds… */
  targetSeconds: number;
  /** …for this share of calls (0.8 = 80%). */
  goal: number;
}

export interface Staffing {
  erlangs: number;
  /** The fewest advisors meeting the goal (0 with no calls). */
  agents: number;
  serviceLevel: number;
  probabilityWait: number;
}

/** The fewest advisors that answer `goal` of the calls within the target (Erlang C), with what they achieve. */
export function agentsNeeded(s: StaffingInput): Staffing {
  const a = trafficErlangs(s.calls, s.handleSeconds, s.intervalSeconds);
  if (!(a > 0)) return { erlangs: 0, agents: 0, serviceLevel: 1, probabilityWait: 0 };
  let n = Math.max(1, Math.floor(a) + 1);
  // A bounded search: the service level rises with each advisor and passes any goal below 1 quickly.
  for (let guard = 0; guard < 10_000 && serviceLevel(a, n, s.handleSeconds, s.targetSeconds) < s.goal; guard++) n++;
  return { erlangs: a, agents: n, serviceLevel: serviceLevel(a, n, s.handleSeconds, s.targetSeconds), probabilityWait: erlangC(a, n) };
}
