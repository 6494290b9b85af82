// The phone figures per named queue and half hour (issue 13): calls offered, answered, abandoned,
// average handle time (talk + wrap-up), the advisors who answered, and the advisors Erlang C says
// were needed to answer the goal's share within the phone target at the calls offered (the half hour
// under way: at the rate of its calls so far over the minutes gone). A pure
// function of the call ledger's rows; GET /api/v1/staffing serves it.
import { agentsNeeded } from '../domain/erlang.js';
import type { LedgerRow } from '../store/telephony.js';
import type { KeptQueue } from './queues.js';

export const HALF_HOUR_MS = 30 * 60_000;

export interface HalfHour {
  /** The half hour's start (ISO-8601, UTC). */
  from: string;
  offered: number;
  answered: number;
  abandoned: number;
  /** Average talk + wrap-up of the calls offered in this half hour that carry handle time; null: none do. */
  averageHandleSeconds: number | null;
  /** Distinct advisors who answered a call of this queue in this half hour. */
  advisorsAnswered: number;
  /** Erlang C: the fewest advisors answering `goal` of the calls offered within the target; null without a handle time. */
  advisorsNeeded: number | null;
  /** The service level those advisors would give (0–1); null without a handle time. */
  expectedServiceLevel: number | null;
  /**
   * The half hour under way (it holds `now`): the minutes of it gone so far, over which its calls are
   * a rate (advisors needed at that rate); null for a half hour that is over (or not begun).
   */
  elapsedMinutes: number | null;
}

export interface QueueFigures {
  queue: string;
  name: string;
  phoneAnswer: boolean;
  offered: number;
  answered: number;
  abandoned: number;
  /** Over the whole window: the mean of talk + wrap-up of the calls that carry it. */
  averageHandleSeconds: number | null;
  averageTalkSeconds: number | null;
  averageWrapSeconds: number | null;
  halfHours: HalfHour[];
}

export interface StaffingOptions {
  from: number;
  to: number;
  /** The phone target (ms) and the share to answer within it (0–1). */
  targetMs: number;
  goal: number;
  /** The present instant: the half hour holding it is measured over its elapsed part. */
  now?: number;
}

/**
 * The shortest part of a half hour its calls are taken as a rate over: in the first minutes, a call or
 * two over a few seconds would ask for an absurd number of advisors.
 */
export const MIN_ELAPSED_MS = 5 * 60_000;

const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const handleMs = (r: LedgerRow) => (r.talkMs === null && r.wrapMs === null ? null : (r.talkMs ?? 0) + (r.wrapMs ?? 0));

/**
 * Figures per queue (every configured queue, then any other queue the calls name) and half hour in
 * [from, to). A half hour with no handle time of its own is staffed with the queue's average over
 * the window. `answers`: the answers in the window, by when they happened (an answer's half hour is
 * its own, not its call's).
 */
export function staffingFigures(offered: readonly LedgerRow[], answers: ReadonlyArray<{ answeredAt: number; agent: string | null; queue: string | null }>, queues: readonly KeptQueue[], o: StaffingOptions): QueueFigures[] {
  const slots = Math.max(0, Math.ceil((o.to - o.from) / HALF_HOUR_MS));
  const ids = [...queues.map((q) => q.id), ...new Set([...offered.map((r) => r.queue ?? ''), ...answers.map((a) => a.queue ?? '')].filter((q) => q !== '' && !queues.some((k) => k.id === q)))];
  // One pass to bucket the calls and answers by queue and half hour (a day of calls: thousands).
  const slotOf = (ms: number) => Math.floor((ms - o.from) / HALF_HOUR_MS);
  const callsBy = new Map<string, LedgerRow[][]>();
  const agentsBy = new Map<string, Array<Set<string>>>();
  for (const id of ids) {
    callsBy.set(id, Array.from({ length: slots }, () => []));
    agentsBy.set(id, Array.from({ length: slots }, () => new Set<string>()));
  }
  for (const r of offered) {
    const k = r.offeredAt === null ? -1 : slotOf(r.offeredAt);
    if (r.queue !== null && k >= 0 && k < slots) callsBy.get(r.queue)?.[k]!.push(r);
  }
  for (const a of answers) {
    const k = slotOf(a.answeredAt);
    if (a.queue !== null && a.agent !== null && k >= 0 && k < slots) agentsBy.get(a.queue)?.[k]!.add(a.agent);
  }
  const secs = (v: number | null) => (v === null ? null : Math.round(v / 100) / 10);
  return ids.map((id) => {
    const q = queues.find((k) => k.id === id);
    const bySlot = callsBy.get(id)!;
    const calls = bySlot.flat();
    const queueHandle = mean(calls.map(handleMs).filter((h): h is number => h !== null));
    const halfHours: HalfHour[] = bySlot.map((inSlot, s) => {
      const slotHandle = mean(inSlot.map(handleMs).filter((h): h is number => h !== null));
      const handle = slotHandle ?? queueHandle;
      // The half hour under way: its calls so far arrived over its elapsed part, not over 30 minutes
      // (at 10:05, ten calls is a rate of sixty in the half hour, not ten).
      const start = o.from + s * HALF_HOUR_MS;
      const underWay = o.now !== undefined && o.now >= start && o.now < start + HALF_HOUR_MS;
      const intervalMs = underWay ? Math.max(MIN_ELAPSED_MS, o.now! - start) : HALF_HOUR_MS;
      const staffing = handle !== null && handle > 0 ? agentsNeeded({ calls: inSlot.length, handleSeconds: handle / 1000, intervalSeconds: intervalMs / 1000, targetSeconds: o.targetMs / 1000, goal: o.goal }) : null;
      return {
        from: new Date(start).toISOString(),
        offered: inSlot.length,
        answered: inSlot.filter((r) => r.answeredAt !== null).length,
        abandoned: inSlot.filter((r) => r.answeredAt === null && r.abandonedAt !== null).length,
        averageHandleSeconds: secs(slotHandle),
        advisorsAnswered: agentsBy.get(id)![s]!.size,
        advisorsNeeded: staffing === null ? null : staffing.agents,
        expectedServiceLevel: staffing === null ? null : Math.round(staffing.serviceLevel * 10_000) / 10_000,
        elapsedMinutes: underWay ? Math.floor((o.now! - start) / 60_000) : null,
      };
    });
    return {
      queue: id,
      name: q?.name ?? id,
      phoneAnswer: q?.phoneAnswer ?? false,
      offered: calls.length,
      answered: calls.filter((r) => r.answeredAt !== null).length,
      abandoned: calls.filter((r) => r.answeredAt === null && r.abandonedAt !== null).length,
      averageHandleSeconds: secs(queueHandle),
      averageTalkSeconds: secs(mean(calls.flatMap((r) => (r.talkMs === null ? [] : [r.talkMs])))),
      averageWrapSeconds: secs(mean(calls.flatMap((r) => (r.wrapMs === null ? [] : [r.wrapMs])))),
      halfHours,
    };
  });
}

export interface AdvisorCount {
  queue: string;
  name: string;
  available: number;
  'on-call': number;
  'wrap-up': number;
  away: number;
}

/**
 * Advisors' states per named queue: an advisor works a queue when they answered one of its calls in
 * the window (platforms report states per advisor, not per queue). An advisor who answered none is
 * counted under no queue (the totals count everyone).
 */
export function advisorsByQueue(states: ReadonlyArray<{ advisor: string; state: string }>, answers: ReadonlyArray<{ agent: string | null; queue: string | null }>, queues: readonly KeptQueue[]): AdvisorCount[] {
  const worked = new Map<string, Set<string>>(); // queue → advisors
  for (const a of answers) {
    if (a.agent === null || a.queue === null) continue;
    if (!worked.has(a.queue)) worked.set(a.queue, new Set());
    worked.get(a.queue)!.add(a.agent);
  }
  return queues.map((q) => {
    const count: AdvisorCount = { queue: q.id, name: q.name, available: 0, 'on-call': 0, 'wrap-up': 0, away: 0 };
    const members = worked.get(q.id) ?? new Set<string>();
    for (const s of states) if (members.has(s.advisor) && s.state in count) (count[s.state as keyof AdvisorCount] as number)++;
    return count;
  });
}
