// Telephony's own tables on PostgreSQL (issue 14): TelephonyStorePort with the SQLite TelephonyStore's
// answers (server/store/telephony.ts: the ledger's columns, its merge and its values reused from
// there). For many instances on one database the keys decide, one statement each: a held event is
// stored once (the unique index held_call_events_key), a ledger row merges by its upsert under the
// row's lock, an unknown queue counts every call, and an advisor's state is the latest by the event's
// time (a report older than the stored one changes nothing, whichever instance writes last).
// The writes run on the connection given: the pool, or a transaction (./commands-phone-mail.ts).
import type { TelephonyStorePort } from '../ports.js';
import { LEDGER_COLUMNS, LEDGER_MERGE, ledgerValues, type AdvisorStateRow, type HeldRow, type LedgerFacts, type LedgerRow, type UnknownQueueRow } from '../telephony.js';
import type { Queryable } from './contacts.js';

export class PgTelephonyStore implements TelephonyStorePort {
  constructor(private readonly db: Queryable) {}

  /** The events held for a call, oldest first. */
  async held(callId: string): Promise<HeldRow[]> {
    const { rows } = await this.db.query<HeldRow & { event: string }>(
      'SELECT id, call_id AS "callId", event_key AS "eventKey", event, held_at AS "heldAt" FROM held_call_events WHERE call_id = $1 ORDER BY id',
      [callId],
    );
    return rows.map((r) => ({ ...r, event: JSON.parse(r.event) as unknown }));
  }

  async heldTotal(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM held_call_events');
    return rows[0]?.n ?? 0;
  }

  /** Holds an event; a redelivery (same call and key, on any instance) is one row. Whether a row was added. */
  async hold(callId: string, eventKey: string, event: unknown, now: number): Promise<boolean> {
    const r = await this.db.query('INSERT INTO held_call_events (call_id, event_key, event, held_at) VALUES ($1, $2, $3, $4) ON CONFLICT (call_id, event_key) DO NOTHING', [callId, eventKey, JSON.stringify(event), now]);
    return (r.rowCount ?? 0) > 0;
  }

  async release(callId: string): Promise<number> {
    return (await this.db.query('DELETE FROM held_call_events WHERE call_id = $1', [callId])).rowCount ?? 0;
  }

  /** Drops what has been held since before `before` (a start that never came). */
  async expire(before: number): Promise<number> {
    return (await this.db.query('DELETE FROM held_call_events WHERE held_at < $1', [before])).rowCount ?? 0;
  }

  /** Adds a call event's facts to the call's ledger row: the earliest offer, the first answer, the latest end. */
  async record(f: LedgerFacts, now: number): Promise<void> {
    await this.db.query(
      `INSERT INTO call_ledger (call_id, queue, offered_at, answered_at, abandoned_at, ended_at, agent, talk_ms, wrap_ms, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (call_id) DO UPDATE SET ${LEDGER_MERGE}`,
      [...ledgerValues(f, now)],
    );
  }

  async ledger(callId: string): Promise<LedgerRow | undefined> {
    return (await this.ledgerRows('WHERE call_id = $1', [callId]))[0];
  }

  /** Calls offered in [from, to), by call_ledger_offered_at (ties by call, bytewise as SQLite). */
  async offeredBetween(from: number, to: number): Promise<LedgerRow[]> {
    return this.ledgerRows('WHERE offered_at >= $1 AND offered_at < $2 ORDER BY offered_at, call_id COLLATE "C"', [from, to]);
  }

  /** Calls answered in [from, to) (by call_ledger_answered_at): who answered when. */
  async answeredBetween(from: number, to: number): Promise<Array<{ answeredAt: number; agent: string | null; queue: string | null }>> {
    const { rows } = await this.db.query<{ answeredAt: number; agent: string | null; queue: string | null }>(
      'SELECT answered_at AS "answeredAt", agent, queue FROM call_ledger WHERE answered_at >= $1 AND answered_at < $2 ORDER BY answered_at, call_id COLLATE "C"',
      [from, to],
    );
    return rows;
  }

  /** One more call from a platform queue with no mapping (two instances noting it at once both count). */
  async noteUnknownQueue(platform: string, queueKey: string, now: number): Promise<void> {
    await this.db.query(
      'INSERT INTO unknown_queues (platform, queue_key, first_seen, last_seen, calls) VALUES ($1, $2, $3, $3, 1) ON CONFLICT (platform, queue_key) DO UPDATE SET last_seen = excluded.last_seen, calls = unknown_queues.calls + 1',
      [platform, queueKey, now],
    );
  }

  async unknownQueues(limit = 500): Promise<UnknownQueueRow[]> {
    const { rows } = await this.db.query<UnknownQueueRow>(
      'SELECT platform, queue_key AS "queueKey", first_seen AS "firstSeen", last_seen AS "lastSeen", calls FROM unknown_queues ORDER BY last_seen DESC, platform COLLATE "C", queue_key COLLATE "C" LIMIT $1',
      [limit],
    );
    return rows;
  }

  /** An advisor's state; an older report than the stored one changes nothing (the event's time decides, not the order of arrival). */
  async setAdvisorState(r: AdvisorStateRow): Promise<void> {
    await this.db.query(
      `INSERT INTO advisor_states (platform, advisor, state, detail, at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (platform, advisor) DO UPDATE SET state = excluded.state, detail = excluded.detail, at = excluded.at WHERE excluded.at >= advisor_states.at`,
      [r.platform, r.advisor, r.state, r.detail, r.at],
    );
  }

  async advisorStates(limit = 2000): Promise<AdvisorStateRow[]> {
    const { rows } = await this.db.query<AdvisorStateRow>('SELECT platform, advisor, state, detail, at FROM advisor_states ORDER BY advisor COLLATE "C", platform COLLATE "C" LIMIT $1', [limit]);
    return rows;
  }

  private async ledgerRows(where: string, values: unknown[]): Promise<LedgerRow[]> {
    return (await this.db.query<LedgerRow>(`SELECT ${LEDGER_SELECT} FROM call_ledger ${where}`, values)).rows;
  }
}

/** SQLite's ledger columns with PostgreSQL's quoted aliases (it folds bare ones to lower case). */
const LEDGER_SELECT = LEDGER_COLUMNS.replace(/ AS (\w+)/g, ' AS "$1"');
