// The board's phone-queue panels (issue 13): the calls waiting per named queue from the live board,
// today's figures and the current half hour's staffing from GET /api/v1/staffing, and the advisors'
// states from GET /api/v1/advisors, put together per queue. Pure: tests/unit/phone-queues.test.ts.
import type { PhoneQueueNow } from '../../server/live/protocol.js';

// The server's shapes (type-only: nothing of the server is bundled).
import type { AdvisorState as ServerAdvisorState } from '../../server/ingest/platform.js';
import type { QueueFigures } from '../../server/ingest/staffing.js';
export type { HalfHour as StaffingHalfHour } from '../../server/ingest/staffing.js';
/** A queue's staffing figures, the parts the board reads. */
export type StaffingQueue = Pick<QueueFigures, 'queue' | 'name' | 'offered' | 'answered' | 'abandoned' | 'averageHandleSeconds' | 'halfHours'>;

/** GET /api/v1/staffing (the parts the board reads). */
export interface StaffingReply {
  date: string;
  target: { seconds: number; goal: number };
  queues: StaffingQueue[];
}

/** The server's states in display order (typed by the server's own list, so a new state is a compile error here). */
export const ADVISOR_STATES: readonly ServerAdvisorState[] = ['available', 'on-call', 'wrap-up', 'away'];
export type AdvisorState = ServerAdvisorState;
export type StateCounts = Record<AdvisorState, number>;

/** GET /api/v1/advisors. */
export interface AdvisorsReply {
  counts: StateCounts;
  queues: Array<{ queue: string; name: string } & StateCounts>;
  advisors: Array<{ platform: string; advisor: string; state: string; detail: string | null; since: string }>;
}

export interface QueuePanel {
  queue: string;
  name: string;
  waitingNow: number;
  oldestWaitingSince: string | null;
  /** Today's figures (null: no staffing figures to hand, e.g. a role that may not read them). */
  today: { offered: number; answered: number; abandoned: number; averageHandleSeconds: number | null } | null;
  /** The half hour now is in: its start, the advisors Erlang C needs at its calls so far, and who answered. */
  halfHour: { from: string; offered: number; advisorsNeeded: number | null; advisorsAnswered: number; elapsedMinutes: number | null } | null;
  /** The states of the advisors who worked this queue today (null: no platform sends states). */
  advisors: StateCounts | null;
}

export interface PhonePanels {
  queues: QueuePanel[];
  /** Every advisor's state, all queues (null: no platform sends states). */
  advisors: StateCounts | null;
}

const total = (c: StateCounts) => c.available + c['on-call'] + c['wrap-up'] + c.away;

/**
 * The panels to show, or none. A queue shows when it is named (KEPT_PHONE_QUEUES) or had calls today
 * (offered, waiting, or advisors working it). The whole panel shows only when there is something
 * the phone tile does not already say: a named queue, more than one queue with calls, a handle time
 * (so advisors needed), or advisors' states. A centre with no queues configured and no platform data
 * gets nothing (no empty boxes).
 */
export function phonePanels(waiting: readonly PhoneQueueNow[] | undefined, staffing: StaffingReply | null, advisors: AdvisorsReply | null, now: number): PhonePanels {
  const ids: string[] = [];
  const names = new Map<string, string>();
  const add = (id: string, name: string) => {
    if (!names.has(id)) ids.push(id);
    if (!names.has(id) || names.get(id) === id) names.set(id, name);
  };
  for (const w of waiting ?? []) add(w.queue, w.name);
  for (const s of staffing?.queues ?? []) add(s.queue, s.name);
  const stateTotal = advisors === null ? 0 : total(advisors.counts);
  const panels: QueuePanel[] = [];
  for (const id of ids) {
    const w = waiting?.find((q) => q.queue === id);
    const s = staffing?.queues.find((q) => q.queue === id);
    const a = stateTotal === 0 ? undefined : advisors!.queues.find((q) => q.queue === id);
    const counts = a === undefined ? null : { available: a.available, 'on-call': a['on-call'], 'wrap-up': a['wrap-up'], away: a.away };
    const busy = (w?.waitingNow ?? 0) > 0 || (s?.offered ?? 0) > 0 || (counts !== null && total(counts) > 0);
    if (!(w?.named ?? false) && !busy) continue;
    const slot = s?.halfHours.findLast((h) => Date.parse(h.from) <= now) ?? null;
    panels.push({
      queue: id,
      name: names.get(id) ?? id,
      waitingNow: w?.waitingNow ?? 0,
      oldestWaitingSince: w?.oldestWaitingSince ?? null,
      today: s === undefined ? null : { offered: s.offered, answered: s.answered, abandoned: s.abandoned, averageHandleSeconds: s.averageHandleSeconds },
      halfHour: slot === null ? null : { from: slot.from, offered: slot.offered, advisorsNeeded: slot.advisorsNeeded, advisorsAnswered: slot.advisorsAnswered, elapsedMinutes: slot.elapsedMinutes },
      advisors: counts,
    });
  }
  const named = (waiting ?? []).some((w) => w.named);
  const handled = panels.some((p) => p.today?.averageHandleSeconds != null);
  const worth = named || panels.length > 1 || handled || stateTotal > 0;
  return worth ? { queues: panels, advisors: stateTotal > 0 ? advisors!.counts : null } : { queues: [], advisors: null };
}

/** An advisor's platform state in words. */
export const STATE_WORDS: Record<string, string> = { available: 'Available', 'on-call': 'On a call', 'wrap-up': 'Wrap-up', away: 'Away' };

/**
 * The team page's rows: each advisor with load (by assignee), their platform state matched by name
 * without case (a platform's agent name is the assignee its `answered` set), then the advisors the
 * platform reports who hold no work. `states` null or empty: no state column at all.
 */
export function teamRows<L extends { assignee: string }>(load: readonly L[], states: AdvisorsReply['advisors'] | null): { rows: Array<{ assignee: string; load: L | null; state: string | null }>; withStates: boolean } {
  const byName = new Map<string, string>();
  for (const s of states ?? []) byName.set(s.advisor.trim().toLowerCase(), s.state);
  const rows: Array<{ assignee: string; load: L | null; state: string | null }> = load.map((l) => ({ assignee: l.assignee, load: l, state: byName.get(l.assignee.trim().toLowerCase()) ?? null }));
  const known = new Set(load.map((l) => l.assignee.trim().toLowerCase()));
  for (const s of states ?? []) {
    const k = s.advisor.trim().toLowerCase();
    if (known.has(k)) continue;
    known.add(k);
    rows.push({ assignee: s.advisor, load: null, state: byName.get(k)! });
  }
  return { rows, withStates: byName.size > 0 };
}
