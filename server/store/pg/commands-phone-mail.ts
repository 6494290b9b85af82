// The telephony and mail commands on PostgreSQL (issue 14): telephony-facts, record-automatic-mail and
// save-mail-cursor, each one transaction (./transaction.ts) giving the SQLite command's output, rows
// and errors (server/commands/telephony-facts.ts and mail.ts) by its own steps, exported from there.
// None changes a contact's clocks, so none writes the change feed. What SQLite's one writer gave for
// free is explicit here: holding events takes a transaction lock (HELD_LOCK) before the held events
// are counted, so instances holding at once take turns and the bound (KEPT_PHONE_HELD_MAX) holds
// across all of them; everything else is decided by a key in one statement (./telephony.ts, ./mail.ts).
import type pg from 'pg';
import { automaticMailRecord, type RecordAutomaticMailInput, type SaveMailCursorInput } from '../../commands/mail.js';
import { checkHeldRoom, type TelephonyFactsInput, type TelephonyFactsOutput } from '../../commands/telephony-facts.js';
import { recordAudit } from './command-rows.js';
import { PgMailStore } from './mail.js';
import { PgTelephonyStore } from './telephony.js';
import { inWriteTransaction, type TxClient } from './transaction.js';
import type { PgWriteFault } from './writer-faults.js';

/** The held events' bound, counted and filled by one transaction at a time ("KEPT" + 14, "held"). */
export const HELD_LOCK = 0x4b_45_50_54_0e;

/**
 * The facts in the order of their rows' keys, each key's facts in the order given (a stable sort): the
 * rows merged are the same, and two instances writing the same rows lock them in one order, so they
 * wait for each other instead of deadlocking.
 */
export function inKeyOrder<T>(facts: readonly T[], key: (f: T) => string): T[] {
  return facts.map((f) => ({ f, k: key(f) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map((x) => x.f);
}

export interface PhoneMailCommandsOptions {
  /** KEPT_WRITE_TIMEOUT_MS: a statement waiting longer is cancelled and the command answers 503. */
  timeoutMs?: number;
  /** A fault refused a command (503). */
  onFault?: (fault: PgWriteFault) => void;
}

export class PgPhoneMailCommands {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PhoneMailCommandsOptions = {},
  ) {}

  /** Telephony's side facts in one write: as server/commands/telephony-facts.ts. */
  telephonyFacts(c: TelephonyFactsInput): Promise<TelephonyFactsOutput> {
    return this.run(async (tx) => {
      const store = new PgTelephonyStore(tx);
      let held = 0;
      let released = 0;
      if (c.hold !== undefined && c.hold.length > 0) {
        await tx.query(`SELECT pg_advisory_xact_lock(${HELD_LOCK})`);
        if (c.expireBefore !== undefined) await store.expire(c.expireBefore);
        checkHeldRoom(await store.heldTotal(), c.hold.length, c.maxHeld);
        for (const h of c.hold) if (await store.hold(h.callId, h.eventKey, h.event, c.now)) held++;
      }
      for (const callId of inKeyOrder(c.release ?? [], (id) => id)) released += await store.release(callId);
      for (const f of inKeyOrder(c.ledger ?? [], (f) => f.callId)) await store.record(f, c.now);
      for (const q of inKeyOrder(c.unknownQueues ?? [], (q) => `${q.platform}\u0000${q.queueKey}`)) await store.noteUnknownQueue(q.platform, q.queueKey, c.now);
      for (const a of inKeyOrder(c.advisorStates ?? [], (a) => `${a.platform}\u0000${a.advisor}`)) await store.setAdvisorState(a);
      return { held, released };
    });
  }

  /** Keeps an automatic message, idempotent on its Message-ID, audited when new: as server/commands/mail.ts. */
  recordAutomaticMail(input: RecordAutomaticMailInput): Promise<{ recorded: boolean }> {
    const { row, audit } = automaticMailRecord(input);
    return this.run(async (tx) => {
      const recorded = await new PgMailStore(tx).insertAutomatic(row);
      if (recorded) await recordAudit(tx, audit.at, audit.actor, audit.action, audit.detail);
      return { recorded };
    });
  }

  /** Moves an IMAP folder's read position, forward only: as server/commands/mail.ts. */
  saveMailCursor(input: SaveMailCursorInput): Promise<null> {
    const { now, ...cursor } = input;
    return this.run(async (tx) => {
      await new PgMailStore(tx).saveCursor(cursor, now);
      return null;
    });
  }

  /** One transaction; the calendar lock shared, as every write but a calendar edit (these evaluate no clock). */
  private run<T>(work: (tx: TxClient) => Promise<T>): Promise<T> {
    return inWriteTransaction(this.pool, { timeoutMs: this.options.timeoutMs ?? 5000, calendarLock: 'shared', onFault: this.options.onFault }, work);
  }
}
