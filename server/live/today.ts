// Today's figures for the board, kept in memory: read from the store once per local day, then
// updated from each change the live layer hears about (every write goes through IngestService and
// is published). The board used to run three queries over today's contacts on every delta; with a
// busy day (or the 100,000-clock benchmark) that took ~0.5 s per delta and held the event loop, so
// timers fired late. Now a delta costs one pass over today's calls in memory.
import type { Sqlite } from '../../db/connection.js';
import type { CallOutcome } from '../domain/metrics.js';
import type { Clock } from '../domain/model.js';
import type { ContactRow } from '../store/contacts.js';
import type { LiveChannel } from './protocol.js';

const HANDLED = new Set(['met', 'missed', 'met-extended', 'missed-extended']);
const HANDLED_SQL = "('met','missed','met-extended','missed-extended')";

export interface Day {
  /** Local midnight of today, as a UTC instant. */
  start: number;
  date: string;
  timeZone: string;
}

export class TodayLedger {
  private day: Day | null = null;
  /** Today's calls with a phone-answer clock, by contact id. */
  private readonly calls = new Map<string, CallOutcome>();
  /** receivedAt of every contact received today, by contact id. */
  private readonly received = new Map<string, number>();
  /** Clocks met or missed today ("contactId/standard"), with the contact's channel. */
  private readonly handled = new Map<string, { channel: LiveChannel; standard: string }>();
  /** Size of `handled` per "channel/standard", kept as it changes. */
  private readonly handledCounts = new Map<string, { channel: LiveChannel; standard: string; n: number }>();

  constructor(private readonly sqlite: Sqlite) {}

  /** Makes the ledger cover `day` (reloads from the store when the local date has changed). */
  cover(day: Day): void {
    if (this.day !== null && this.day.start === day.start) return;
    this.day = day;
    this.calls.clear();
    this.received.clear();
    this.handled.clear();
    this.handledCounts.clear();
    // `+c.channel`, `+k.standard` and `+k.status`: filters, not index keys. Without statistics the planner would
    // otherwise walk every phone call or phone-answer clock (or every met clock) instead of today's.
    const calls = this.sqlite
      .prepare(
        `SELECT c.id, c.received_at, c.callback, k.status, k.fulfilled_at, k.ended_at FROM contacts c JOIN clocks k ON k.contact_id = c.id AND +k.standard = 'phone-answer'
         WHERE +c.channel = 'phone' AND c.received_at >= ?`,
      )
      .all(day.start) as Array<{ id: string; received_at: number; callback: number; status: string; fulfilled_at: number | null; ended_at: number | null }>;
    for (const r of calls) this.calls.set(r.id, { receivedAt: r.received_at, status: r.status, answeredAt: r.fulfilled_at, endedAt: r.ended_at, callback: r.callback === 1 });
    const received = this.sqlite.prepare('SELECT id, received_at FROM contacts WHERE received_at >= ?').all(day.start) as Array<{ id: string; received_at: number }>;
    for (const r of received) this.received.set(r.id, r.received_at);
    const handled = this.sqlite
      .prepare(`SELECT k.contact_id, k.standard, c.channel FROM clocks k JOIN contacts c ON c.id = k.contact_id WHERE k.ended_at >= ? AND +k.status IN ${HANDLED_SQL}`)
      .all(day.start) as Array<{ contact_id: string; standard: string; channel: LiveChannel }>;
    for (const r of handled) this.markHandled(`${r.contact_id}/${r.standard}`, r.channel, r.standard);
  }

  /** A contact's clocks were recomputed (and committed). */
  applyChange(contact: ContactRow, clocks: Clock[]): void {
    if (this.day === null) return; // the first cover() reads it from the store
    const start = this.day.start;
    if (contact.receivedAt >= start) this.received.set(contact.id, contact.receivedAt);
    const answer = contact.channel === 'phone' && contact.receivedAt >= start ? clocks.find((c) => c.standard === 'phone-answer') : undefined;
    if (answer !== undefined) {
      this.calls.set(contact.id, { receivedAt: contact.receivedAt, status: answer.status, answeredAt: answer.fulfilledAt, endedAt: answer.endedAt, callback: contact.callback });
    } else this.calls.delete(contact.id);
    for (const c of clocks) {
      const key = `${contact.id}/${c.standard}`;
      if (c.endedAt !== null && c.endedAt >= start && HANDLED.has(c.status)) this.markHandled(key, contact.channel as LiveChannel, c.standard);
      else this.unmarkHandled(key);
    }
  }

  private markHandled(key: string, channel: LiveChannel, standard: string): void {
    if (this.handled.has(key)) return;
    this.handled.set(key, { channel, standard });
    const k = `${channel}/${standard}`;
    const entry = this.handledCounts.get(k);
    if (entry === undefined) this.handledCounts.set(k, { channel, standard, n: 1 });
    else entry.n++;
  }

  private unmarkHandled(key: string): void {
    const h = this.handled.get(key);
    if (h === undefined) return;
    this.handled.delete(key);
    const entry = this.handledCounts.get(`${h.channel}/${h.standard}`);
    if (entry !== undefined) entry.n--;
  }

  /** A timer moved a running clock to at-risk or breached. */
  applyStatus(contactId: string, standard: string, status: string): void {
    if (standard !== 'phone-answer') return;
    const call = this.calls.get(contactId);
    if (call !== undefined) call.status = status;
  }

  todaysCalls(): IterableIterator<CallOutcome> {
    return this.calls.values();
  }

  receivedToday(): IterableIterator<number> {
    return this.received.values();
  }

  /** Distinct contacts per channel and standard whose clock was met or missed today. */
  handledToday(): Array<{ channel: LiveChannel; standard: string; n: number }> {
    return [...this.handledCounts.values()].filter((e) => e.n > 0);
  }
}
