// Alert rules, the alerts sent, and the alert evaluator's two keyed reads of the live data, on
// PostgreSQL (issue 14): the AlertPort of ../ports.ts giving the SQLite AlertStore's answers through its
// own row readings. Webhook addresses are stored as given and never logged (the SQLite store's rule).
import { dueFromRow, flagFromRow, ruleParams, toRule, toSend, type AlertRule, type AlertRuleInput, type AlertSend, type DueClock, type FlagRow, type RuleRow, type SendRow } from '../alerts.js';
import type { AlertPort } from '../ports.js';
import type { Queryable } from './contacts.js';

/** A rule's columns with `enabled` as 0 or 1, the row SQLite gives (so one reading serves both). */
const RULE_COLUMNS = 'id, name, kind, threshold, standards, emails, teams_url, slack_url, quiet_minutes, enabled::int AS enabled, created_by, created_at, updated_at';

/** The stored values of a rule in the insert's and the update's parameter order ($1…$9), then `at`. */
function ruleValues(r: AlertRuleInput, at: number): unknown[] {
  const p = ruleParams(r, at);
  return [p.name, p.kind, p.threshold, p.standards, p.emails, p.teamsUrl, p.slackUrl, p.quietMinutes, p.enabled === 1, p.at];
}

export class PgAlertStore implements AlertPort {
  constructor(private readonly db: Queryable) {}

  async rules(): Promise<AlertRule[]> {
    return (await this.db.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE deleted_at IS NULL ORDER BY id`)).rows.map(toRule);
  }

  async rule(id: number): Promise<AlertRule | undefined> {
    const r = (await this.db.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1 AND deleted_at IS NULL`, [id])).rows[0];
    return r === undefined ? undefined : toRule(r);
  }

  async insert(r: AlertRuleInput, by: string, at: number): Promise<number> {
    const q = await this.db.query<{ id: number }>(
      `INSERT INTO alert_rules (name, kind, threshold, standards, emails, teams_url, slack_url, quiet_minutes, enabled, created_at, updated_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id`,
      [...ruleValues(r, at), by],
    );
    return q.rows[0]!.id;
  }

  async update(id: number, r: AlertRuleInput, at: number): Promise<boolean> {
    const q = await this.db.query(
      `UPDATE alert_rules SET name = $1, kind = $2, threshold = $3, standards = $4, emails = $5, teams_url = $6, slack_url = $7, quiet_minutes = $8, enabled = $9, updated_at = $10
       WHERE id = $11 AND deleted_at IS NULL`,
      [...ruleValues(r, at), id],
    );
    return (q.rowCount ?? 0) === 1;
  }

  async remove(id: number, at: number): Promise<boolean> {
    return ((await this.db.query('UPDATE alert_rules SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', [at, id])).rowCount ?? 0) === 1;
  }

  async recordSend(ruleId: number, at: number, keys: readonly string[], subject: string, outcome: Record<string, string>): Promise<number> {
    const q = await this.db.query<{ id: number }>('INSERT INTO alert_sends (rule_id, at, keys, subject, outcome) VALUES ($1, $2, $3, $4, $5) RETURNING id', [ruleId, at, JSON.stringify(keys), subject, JSON.stringify(outcome)]);
    return q.rows[0]!.id;
  }

  /** The last real send's instant (a test send, keys ["test"], starts no quiet period). */
  async lastSend(ruleId: number): Promise<number | null> {
    return (await this.db.query<{ at: number }>(`SELECT at FROM alert_sends WHERE rule_id = $1 AND keys <> '["test"]' ORDER BY at DESC LIMIT 1`, [ruleId])).rows[0]?.at ?? null;
  }

  /** A rule's sends, latest first; two at the same instant latest added first (SQLite's backward walk of alert_sends_rule). */
  async sendsOf(ruleId: number, limit = 50): Promise<AlertSend[]> {
    return (await this.db.query<SendRow>('SELECT * FROM alert_sends WHERE rule_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [ruleId, limit])).rows.map(toSend);
  }

  /**
   * Open, unpaused clocks that fell due in (from, to], earliest first, at most `limit`: a range of
   * `clocks_open_due` (due_at, contact_id), then each clock's contact by key; a contact's clocks due
   * at the same instant in the engine's order (SQLite's rowid order).
   */
  async dueBetween(from: number, to: number, limit = 1000): Promise<DueClock[]> {
    const q = await this.db.query({
      text: `SELECT c.contact_id, c.standard, c.due_at, k.channel, k.category FROM clocks c JOIN contacts k ON k.id = c.contact_id
        WHERE c.open AND c.due_at > $1 AND c.due_at <= $2 AND c.status <> 'paused' ORDER BY c.due_at, c.contact_id, c.ordinal LIMIT $3`,
      values: [from, to, limit],
      rowMode: 'array',
    });
    return (q.rows as Array<[string, string, number, string, string]>).map(dueFromRow);
  }

  /** Safeguarding flags raised after alert id `after`, oldest first. */
  async flagsAfter(after: number, limit = 200): Promise<FlagRow[]> {
    const q = await this.db.query<{ id: number; contact_id: string; kind: string; raised_at: number }>(
      "SELECT id, contact_id, kind, raised_at FROM alerts WHERE id > $1 AND kind = 'safeguarding' ORDER BY id LIMIT $2",
      [after, limit],
    );
    return q.rows.map(flagFromRow);
  }

  async lastFlagId(): Promise<number> {
    return (await this.db.query<{ id: number | null }>('SELECT max(id) AS id FROM alerts')).rows[0]?.id ?? 0;
  }
}
