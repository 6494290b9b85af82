// Telephony's own tables (issue 13): events held until their call starts, the call ledger (queue,
// offered/answered/ended, talk and wrap-up) that handle time and staffing read, platform queues with
// no mapping, and each advisor's latest state. Keyed statements only.
import type { Sqlite } from '../../db/connection.js';

export interface HeldRow {
  id: number;
  callId: string;
  eventKey: string;
  event: unknown;
  heldAt: number;
}

/** What one call event adds to its call's ledger row (absent fields are left as they are). */
export interface LedgerFacts {
  callId: string;
  queue?: string;
  offeredAt?: number;
  answeredAt?: number;
  abandonedAt?: number;
  endedAt?: number;
  agent?: string;
  talkMs?: number;
  wrapMs?: number;
}

export interface LedgerRow {
  callId: string;
  queue: string | null;
  offeredAt: number | null;
  answeredAt: number | null;
  abandonedAt: number | null;
  endedAt: number | null;
  agent: string | null;
  talkMs: number | null;
  wrapMs: number | null;
}

export interface UnknownQueueRow {
  platform: string;
  queueKey: string;
  firstSeen: number;
  lastSeen: number;
  calls: number;
}

export interface AdvisorStateRow {
  platform: string;
  advisor: string;
  state: string;
  detail: string | null;
  at: number;
}

export const LEDGER_COLUMNS = 'call_id AS callId, queue, offered_at AS offeredAt, answered_at AS answeredAt, abandoned_at AS abandonedAt, ended_at AS endedAt, agent, talk_ms AS talkMs, wrap_ms AS wrapMs';

/**
 * How a call event's facts merge into the stored ledger row (the earliest offer, the first answer, the
 * latest end; a fact absent leaves the column as it is): the same upsert on SQLite and PostgreSQL, the
 * stored columns named by their table (PostgreSQL refuses them bare beside `excluded`).
 */
export const LEDGER_MERGE = `
  queue = coalesce(excluded.queue, call_ledger.queue),
  offered_at = CASE WHEN call_ledger.offered_at IS NULL OR excluded.offered_at < call_ledger.offered_at THEN coalesce(excluded.offered_at, call_ledger.offered_at) ELSE call_ledger.offered_at END,
  answered_at = CASE WHEN call_ledger.answered_at IS NULL OR excluded.answered_at < call_ledger.answered_at THEN coalesce(excluded.answered_at, call_ledger.answered_at) ELSE call_ledger.answered_at END,
  abandoned_at = coalesce(call_ledger.abandoned_at, excluded.abandoned_at),
  ended_at = CASE WHEN call_ledger.ended_at IS NULL OR excluded.ended_at > call_ledger.ended_at THEN coalesce(excluded.ended_at, call_ledger.ended_at) ELSE call_ledger.ended_at END,
  agent = coalesce(excluded.agent, call_ledger.agent),
  talk_ms = coalesce(excluded.talk_ms, call_ledger.talk_ms),
  wrap_ms = coalesce(excluded.wrap_ms, call_ledger.wrap_ms),
  updated_at = excluded.updated_at`;

/** A ledger fact's columns in insert order, absent facts as NULL (both databases bind these). */
export const ledgerValues = (f: LedgerFacts, now: number) =>
  [f.callId, f.queue ?? null, f.offeredAt ?? null, f.answeredAt ?? null, f.abandonedAt ?? null, f.endedAt ?? null, f.agent ?? null, f.talkMs ?? null, f.wrapMs ?? null, now] as const;

export class TelephonyStore {
  private readonly heldFor;
  private readonly heldCount;
  constructor(private readonly sqlite: Sqlite) {
    this.heldFor = sqlite.prepare<[string], { id: number; callId: string; eventKey: string; event: string; heldAt: number }>(
      'SELECT id, call_id AS callId, event_key AS eventKey, event, held_at AS heldAt FROM held_call_events WHERE call_id = ? ORDER BY id',
    );
    this.heldCount = sqlite.prepare<[], number>('SELECT count(*) FROM held_call_events').pluck();
  }

  /** The events held for a call, oldest first (keyed by held_call_events_key). */
  held(callId: string): HeldRow[] {
    return this.heldFor.all(callId).map((r) => ({ ...r, event: JSON.parse(r.event) as unknown }));
  }

  heldTotal(): number {
    return this.heldCount.get() ?? 0;
  }

  /** Holds an event; a redelivery (same call and key) is one row. Returns whether a row was added. */
  hold(callId: string, eventKey: string, event: unknown, now: number): boolean {
    const r = this.sqlite.prepare('INSERT INTO held_call_events (call_id, event_key, event, held_at) VALUES (?, ?, ?, ?) ON CONFLICT (call_id, event_key) DO NOTHING').run(callId, eventKey, JSON.stringify(event), now);
    return r.changes > 0;
  }

  release(callId: string): number {
    return this.sqlite.prepare('DELETE FROM held_call_events WHERE call_id = ?').run(callId).changes;
  }

  /** Drops what has been held since before `before` (a start that never came). */
  expire(before: number): number {
    return this.sqlite.prepare('DELETE FROM held_call_events WHERE held_at < ?').run(before).changes;
  }

  /** Adds a call event's facts to the call's ledger row: the earliest offer, the first answer, the latest end. */
  record(f: LedgerFacts, now: number): void {
    this.sqlite
      .prepare(
        `INSERT INTO call_ledger (call_id, queue, offered_at, answered_at, abandoned_at, ended_at, agent, talk_ms, wrap_ms, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET ${LEDGER_MERGE}`,
      )
      .run(...ledgerValues(f, now));
  }

  ledger(callId: string): LedgerRow | undefined {
    return this.sqlite.prepare<[string], LedgerRow>(`SELECT ${LEDGER_COLUMNS} FROM call_ledger WHERE call_id = ?`).get(callId);
  }

  /** Calls offered in [from, to), by call_ledger_offered_at. */
  offeredBetween(from: number, to: number): LedgerRow[] {
    return this.sqlite.prepare<[number, number], LedgerRow>(`SELECT ${LEDGER_COLUMNS} FROM call_ledger WHERE offered_at >= ? AND offered_at < ? ORDER BY offered_at, call_id`).all(from, to);
  }

  /** Calls answered in [from, to) (by call_ledger_answered_at): who answered when. */
  answeredBetween(from: number, to: number): Array<{ answeredAt: number; agent: string | null; queue: string | null }> {
    return this.sqlite
      .prepare<[number, number], { answeredAt: number; agent: string | null; queue: string | null }>('SELECT answered_at AS answeredAt, agent, queue FROM call_ledger WHERE answered_at >= ? AND answered_at < ? ORDER BY answered_at, call_id')
      .all(from, to);
  }

  noteUnknownQueue(platform: string, queueKey: string, now: number): void {
    this.sqlite
      .prepare('INSERT INTO unknown_queues (platform, queue_key, first_seen, last_seen, calls) VALUES (?, ?, ?, ?, 1) ON CONFLICT (platform, queue_key) DO UPDATE SET last_seen = excluded.last_seen, calls = calls + 1')
      .run(platform, queueKey, now, now);
  }

  unknownQueues(limit = 500): UnknownQueueRow[] {
    return this.sqlite
      .prepare<[number], UnknownQueueRow>('SELECT platform, queue_key AS queueKey, first_seen AS firstSeen, last_seen AS lastSeen, calls FROM unknown_queues ORDER BY last_seen DESC, platform, queue_key LIMIT ?')
      .all(limit);
  }

  /** An advisor's state; an older report than the stored one changes nothing. */
  setAdvisorState(r: AdvisorStateRow): void {
    this.sqlite
      .prepare(
        `INSERT INTO advisor_states (platform, advisor, state, detail, at) VALUES (@platform, @advisor, @state, @detail, @at)
         ON CONFLICT (platform, advisor) DO UPDATE SET state = excluded.state, detail = excluded.detail, at = excluded.at WHERE excluded.at >= advisor_states.at`,
      )
      .run(r);
  }

  advisorStates(limit = 2000): AdvisorStateRow[] {
    return this.sqlite.prepare<[number], AdvisorStateRow>('SELECT platform, advisor, state, detail, at FROM advisor_states ORDER BY advisor, platform LIMIT ?').all(limit);
  }
}
