// Today's figures for the board, kept in memory: read from the store (server/store/live.ts) once per
// local day of the board's calendar, then updated from each change the live layer hears about (every
// write goes through IngestService and is published). The board used to run three queries over
// today's contacts on every delta; with a busy day (or the 100,000-clock benchmark) that took ~0.5 s
// per delta and held the event loop, so timers fired late. Now a delta costs one pass over today's
// calls in memory.
import type { CallOutcome } from '../domain/metrics.js';
import type { Clock } from '../domain/model.js';
import type { ContactRow } from '../store/contacts.js';
import type { LiveStore } from '../store/live.js';
import type { EndedClock, LocalDay, TodayFigures } from './board.js';

const HANDLED = new Set(['met', 'missed', 'met-extended', 'missed-extended']);

export class TodayLedger implements TodayFigures {
  private day: LocalDay | null = null;
  /** Today's calls with a phone-answer clock, by contact id. */
  private readonly callsById = new Map<string, CallOutcome>();
  /** receivedAt of every contact received today, by contact id. */
  private readonly receivedById = new Map<string, number>();
  /** Clocks met or missed today ("contactId/standard"), with the contact's channel, the outcome and the due instant. */
  private readonly handledByKey = new Map<string, { channel: string; standard: string; status: string; dueAt: number | null }>();
  /** Size of `handledByKey` per "channel/standard", kept as it changes. */
  private readonly handledCounts = new Map<string, { channel: string; standard: string; n: number }>();

  constructor(private readonly store: LiveStore) {}

  /** Makes the ledger cover `day` (reloads from the store when the local date has changed). */
  cover(day: LocalDay): void {
    if (this.day !== null && this.day.start === day.start) return;
    this.day = day;
    this.callsById.clear();
    this.receivedById.clear();
    this.handledByKey.clear();
    this.handledCounts.clear();
    for (const r of this.store.callsSince(day.start)) this.callsById.set(r.id, { receivedAt: r.receivedAt, status: r.status, answeredAt: r.answeredAt, endedAt: r.endedAt, callback: r.callback });
    for (const [id, receivedAt] of this.store.receivedSince(day.start)) this.receivedById.set(id, receivedAt);
    for (const r of this.store.handledSince(day.start)) this.markHandled(`${r.contactId}/${r.standard}`, r.channel, r.standard, r.status, r.dueAt);
  }

  /** A contact's clocks were recomputed (and committed). */
  applyChange(contact: ContactRow, clocks: Clock[]): void {
    if (this.day === null) return; // the first cover() reads it from the store
    const start = this.day.start;
    if (contact.receivedAt >= start) this.receivedById.set(contact.id, contact.receivedAt);
    const answer = contact.channel === 'phone' && contact.receivedAt >= start ? clocks.find((c) => c.standard === 'phone-answer') : undefined;
    if (answer !== undefined) {
      this.callsById.set(contact.id, { receivedAt: contact.receivedAt, status: answer.status, answeredAt: answer.fulfilledAt, endedAt: answer.endedAt, callback: contact.callback });
    } else this.callsById.delete(contact.id);
    for (const c of clocks) {
      const key = `${contact.id}/${c.standard}`;
      if (c.endedAt !== null && c.endedAt >= start && HANDLED.has(c.status)) this.markHandled(key, contact.channel, c.standard, c.status, c.dueAt);
      else this.unmarkHandled(key);
    }
  }

  private markHandled(key: string, channel: string, standard: string, status: string, dueAt: number | null): void {
    const known = this.handledByKey.get(key);
    if (known !== undefined) {
      // Recomputed (a late event, a calendar edit): the outcome may have changed, the count has not.
      known.status = status;
      known.dueAt = dueAt;
      return;
    }
    this.handledByKey.set(key, { channel, standard, status, dueAt });
    const k = `${channel}/${standard}`;
    const entry = this.handledCounts.get(k);
    if (entry === undefined) this.handledCounts.set(k, { channel, standard, n: 1 });
    else entry.n++;
  }

  private unmarkHandled(key: string): void {
    const h = this.handledByKey.get(key);
    if (h === undefined) return;
    this.handledByKey.delete(key);
    const entry = this.handledCounts.get(`${h.channel}/${h.standard}`);
    if (entry !== undefined) entry.n--;
  }

  /** A timer moved a running clock to at-risk or breached. */
  applyStatus(contactId: string, standard: string, status: string): void {
    if (standard !== 'phone-answer') return;
    const call = this.callsById.get(contactId);
    if (call !== undefined) call.status = status;
  }

  get calls(): Iterable<CallOutcome> {
    return this.callsById.values();
  }

  get received(): Iterable<number> {
    return this.receivedById.values();
  }

  /** Every clock that ended met or missed today, for the kept/broken tally. */
  get ended(): Iterable<EndedClock> {
    return this.handledByKey.values();
  }

  /** Clocks that ended missed today with their due instant in [from, to). */
  missedBetween(from: number, to: number): Array<{ contactId: string; standard: string; status: 'missed' | 'missed-extended'; dueAt: number; channel: string }> {
    const out: Array<{ contactId: string; standard: string; status: 'missed' | 'missed-extended'; dueAt: number; channel: string }> = [];
    for (const [key, h] of this.handledByKey) {
      if ((h.status === 'missed' || h.status === 'missed-extended') && h.dueAt !== null && h.dueAt >= from && h.dueAt < to) {
        out.push({ contactId: key.slice(0, key.length - h.standard.length - 1), standard: h.standard, status: h.status, dueAt: h.dueAt, channel: h.channel });
      }
    }
    return out;
  }

  /** Distinct contacts per channel and standard whose clock was met or missed today. */
  get handled(): Iterable<{ channel: string; standard: string; n: number }> {
    return [...this.handledCounts.values()].filter((e) => e.n > 0);
  }
}
