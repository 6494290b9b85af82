// Today's figures for the board, kept in memory: read from the store (server/store/live.ts) once per
// local day of the board's calendar, then updated from each change the live layer hears about (every
// write goes through IngestService and is published). The board used to run three queries over
// today's contacts on every delta; with a busy day (or the 100,000-clock benchmark) that took ~0.5 s
// per delta and held the event loop, so timers fired late. Now a delta costs one pass over today's
// calls in memory.
//
// The day's rows are read asynchronously (the store may be PostgreSQL): a change heard while they are
// being read is applied at once and wins over the rows read for the same contact, which may predate it.
import type { CallOutcome } from '../domain/metrics.js';
import type { Clock } from '../domain/model.js';
import type { ContactRow } from '../store/contacts.js';
import type { LiveReads } from '../store/ports.js';
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

  /** While the day's rows are being read: contacts changed meanwhile (their rows read may be older). */
  private changedWhileFilling: Set<string> | null = null;
  /** Phone-answer statuses a timer set meanwhile, by contact id (a call read later takes them). */
  private statusWhileFilling: Map<string, string> | null = null;
  private filling: Promise<void> = Promise.resolve();

  constructor(private readonly store: LiveReads) {}

  /**
   * Makes the ledger cover `day`. When the local date has changed it starts again from nothing and
   * reads the day's rows; the promise returned settles once they are in (null: the day was covered).
   * A read that fails leaves the day to be read again at the next call.
   */
  cover(day: LocalDay): Promise<void> | null {
    if (this.day !== null && this.day.start === day.start) return null;
    this.day = day;
    this.callsById.clear();
    this.receivedById.clear();
    this.handledByKey.clear();
    this.handledCounts.clear();
    this.changedWhileFilling = new Set();
    this.statusWhileFilling = new Map();
    this.filling = this.fill(day);
    return this.filling;
  }

  /** Settles when the day being covered has been read (rejects if that read failed). */
  get ready(): Promise<void> {
    return this.filling;
  }

  private async fill(day: LocalDay): Promise<void> {
    try {
      const [calls, received, handled] = await Promise.all([this.store.callsSince(day.start), this.store.receivedSince(day.start), this.store.handledSince(day.start)]);
      if (this.day !== day) return; // the day moved on meanwhile: its own read fills it
      const changed = this.changedWhileFilling!;
      const statuses = this.statusWhileFilling!;
      for (const r of calls) {
        if (changed.has(r.id)) continue;
        this.callsById.set(r.id, { receivedAt: r.receivedAt, status: statuses.get(r.id) ?? r.status, answeredAt: r.answeredAt, endedAt: r.endedAt, callback: r.callback });
      }
      for (const [id, receivedAt] of received) if (!changed.has(id)) this.receivedById.set(id, receivedAt);
      for (const r of handled) if (!changed.has(r.contactId)) this.markHandled(`${r.contactId}/${r.standard}`, r.channel, r.standard, r.status, r.dueAt);
    } catch (e) {
      if (this.day === day) this.day = null;
      throw e;
    } finally {
      if (this.day === day || this.day === null) {
        this.changedWhileFilling = null;
        this.statusWhileFilling = null;
      }
    }
  }

  /** A contact's clocks were recomputed (and committed). */
  applyChange(contact: ContactRow, clocks: Clock[]): void {
    if (this.day === null) return; // the first cover() reads it from the store
    this.changedWhileFilling?.add(contact.id);
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
    this.statusWhileFilling?.set(contactId, status);
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
