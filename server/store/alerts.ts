// Alert rules and the alerts sent (issue 11), and the two keyed reads the alert evaluator makes of the
// live data: clocks that fell due in a span (`clocks_open_due`) and safeguarding flags raised after an
// id (the `alerts` table's key). Webhook addresses are stored as given (they are the credential: Teams
// and Slack put the secret in the path) and leave this module only masked, except to the sender.
import type { Sqlite } from '../../db/connection.js';

export const ALERT_KINDS = ['breach', 'calls-waiting', 'oldest-wait', 'service-level', 'safeguarding'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRuleInput {
  name: string;
  kind: AlertKind;
  threshold: number | null;
  standards: string[];
  emails: string[];
  teamsUrl: string | null;
  slackUrl: string | null;
  quietMinutes: number;
  enabled: boolean;
}

export interface AlertRule extends AlertRuleInput {
  id: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface AlertSend {
  id: number;
  ruleId: number;
  at: number;
  keys: string[];
  subject: string;
  outcome: Record<string, string>;
}

/** An alert rule's row as both databases give it (`enabled` 0 or 1, lists as JSON text). */
export interface RuleRow {
  id: number;
  name: string;
  kind: string;
  threshold: number | null;
  standards: string;
  emails: string;
  teams_url: string | null;
  slack_url: string | null;
  quiet_minutes: number;
  enabled: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface SendRow {
  id: number;
  rule_id: number;
  at: number;
  keys: string;
  subject: string;
  outcome: string;
}

export const toRule = (r: RuleRow): AlertRule => ({
  id: r.id,
  name: r.name,
  kind: r.kind as AlertKind,
  threshold: r.threshold,
  standards: JSON.parse(r.standards) as string[],
  emails: JSON.parse(r.emails) as string[],
  teamsUrl: r.teams_url,
  slackUrl: r.slack_url,
  quietMinutes: r.quiet_minutes,
  enabled: r.enabled === 1,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toSend = (r: SendRow): AlertSend => ({ id: r.id, ruleId: r.rule_id, at: r.at, keys: JSON.parse(r.keys) as string[], subject: r.subject, outcome: JSON.parse(r.outcome) as Record<string, string> });

/** A rule's values as stored (the named parameters of both databases' insert and update; `enabled` 0 or 1). */
export const ruleParams = (r: AlertRuleInput, at: number) => ({ ...r, standards: JSON.stringify(r.standards), emails: JSON.stringify(r.emails), enabled: r.enabled ? 1 : 0, at });

/** A clock that fell due (breached) in a span: its key and when. */
export interface DueClock {
  contactId: string;
  standard: string;
  dueAt: number;
  channel: string;
  category: string;
}

export interface FlagRow {
  id: number;
  contactId: string;
  kind: string;
  raisedAt: number;
}

export const dueFromRow = ([contactId, standard, dueAt, channel, category]: [string, string, number, string, string]): DueClock => ({ contactId, standard, dueAt, channel, category });

export const flagFromRow = (r: { id: number; contact_id: string; kind: string; raised_at: number }): FlagRow => ({ id: r.id, contactId: r.contact_id, kind: r.kind, raisedAt: r.raised_at });

export const ALERTS_SQL = {
  // Open clocks whose due instant lies in (from, to]: a range of `clocks_open_due`, then each row's clock and contact by key.
  dueBetween:
    "SELECT c.contact_id, c.standard, c.due_at, k.channel, k.category FROM clocks c INDEXED BY clocks_open_due JOIN contacts k ON k.id = c.contact_id WHERE c.open = 1 AND c.due_at > ? AND c.due_at <= ? AND c.status <> 'paused' ORDER BY c.due_at LIMIT ?",
  flagsAfter: "SELECT id, contact_id, kind, raised_at FROM alerts WHERE id > ? AND kind = 'safeguarding' ORDER BY id LIMIT ?",
  lastFlag: 'SELECT max(id) AS id FROM alerts',
  // A test send (keys ["test"]) starts no quiet period.
  lastSend: `SELECT at FROM alert_sends WHERE rule_id = ? AND keys <> '["test"]' ORDER BY at DESC LIMIT 1`,
  sendsOf: 'SELECT * FROM alert_sends WHERE rule_id = ? ORDER BY at DESC LIMIT ?',
} as const;

export class AlertStore {
  private readonly s;

  constructor(sqlite: Sqlite) {
    this.s = {
      rules: sqlite.prepare<[], RuleRow>('SELECT * FROM alert_rules WHERE deleted_at IS NULL ORDER BY id'),
      rule: sqlite.prepare<[number], RuleRow>('SELECT * FROM alert_rules WHERE id = ? AND deleted_at IS NULL'),
      insert: sqlite.prepare(
        'INSERT INTO alert_rules (name, kind, threshold, standards, emails, teams_url, slack_url, quiet_minutes, enabled, created_by, created_at, updated_at) VALUES (@name, @kind, @threshold, @standards, @emails, @teamsUrl, @slackUrl, @quietMinutes, @enabled, @by, @at, @at)',
      ),
      update: sqlite.prepare(
        'UPDATE alert_rules SET name = @name, kind = @kind, threshold = @threshold, standards = @standards, emails = @emails, teams_url = @teamsUrl, slack_url = @slackUrl, quiet_minutes = @quietMinutes, enabled = @enabled, updated_at = @at WHERE id = @id AND deleted_at IS NULL',
      ),
      remove: sqlite.prepare('UPDATE alert_rules SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      record: sqlite.prepare('INSERT INTO alert_sends (rule_id, at, keys, subject, outcome) VALUES (?, ?, ?, ?, ?)'),
      lastSend: sqlite.prepare<[number], { at: number }>(ALERTS_SQL.lastSend),
      sendsOf: sqlite.prepare<[number, number], SendRow>(ALERTS_SQL.sendsOf),
      dueBetween: sqlite.prepare<[number, number, number], [string, string, number, string, string]>(ALERTS_SQL.dueBetween).raw(true),
      flagsAfter: sqlite.prepare<[number, number], { id: number; contact_id: string; kind: string; raised_at: number }>(ALERTS_SQL.flagsAfter),
      lastFlag: sqlite.prepare<[], { id: number | null }>(ALERTS_SQL.lastFlag),
    };
  }

  rules(): AlertRule[] {
    return this.s.rules.all().map(toRule);
  }

  rule(id: number): AlertRule | undefined {
    const r = this.s.rule.get(id);
    return r === undefined ? undefined : toRule(r);
  }

  insert(r: AlertRuleInput, by: string, at: number): number {
    return Number(this.s.insert.run({ ...ruleParams(r, at), by }).lastInsertRowid);
  }

  update(id: number, r: AlertRuleInput, at: number): boolean {
    return this.s.update.run({ ...ruleParams(r, at), id }).changes === 1;
  }

  remove(id: number, at: number): boolean {
    return this.s.remove.run(at, id).changes === 1;
  }

  recordSend(ruleId: number, at: number, keys: readonly string[], subject: string, outcome: Record<string, string>): number {
    return Number(this.s.record.run(ruleId, at, JSON.stringify(keys), subject, JSON.stringify(outcome)).lastInsertRowid);
  }

  lastSend(ruleId: number): number | null {
    return this.s.lastSend.get(ruleId)?.at ?? null;
  }

  sendsOf(ruleId: number, limit = 50): AlertSend[] {
    return this.s.sendsOf.all(ruleId, limit).map(toSend);
  }

  /** Open, unpaused clocks that fell due in (from, to], earliest first, at most `limit`. */
  dueBetween(from: number, to: number, limit = 1000): DueClock[] {
    return this.s.dueBetween.all(from, to, limit).map(dueFromRow);
  }

  /** Safeguarding flags raised after alert id `after`, oldest first. */
  flagsAfter(after: number, limit = 200): FlagRow[] {
    return this.s.flagsAfter.all(after, limit).map(flagFromRow);
  }

  lastFlagId(): number {
    return this.s.lastFlag.get()?.id ?? 0;
  }
}
