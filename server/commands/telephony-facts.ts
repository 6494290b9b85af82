// Command: telephony's side facts in one write (issue 13): events held until their call starts (a
// bounded table), held events released once applied, the call ledger (handle time, staffing),
// platform queues with no mapping, advisors' states.
import { UnavailableError } from '../errors.js';
import type { AdvisorStateRow, LedgerFacts } from '../store/telephony.js';
import type { CommandContext } from './context.js';

export interface TelephonyFactsInput {
  now: number;
  hold?: Array<{ callId: string; eventKey: string; event: unknown }>;
  /** Most events held at once (KEPT_PHONE_HELD_MAX): past it a hold answers 503, so the platform retries. */
  maxHeld?: number;
  /** Held events older than this instant are dropped first (their call never started). */
  expireBefore?: number;
  release?: string[];
  ledger?: LedgerFacts[];
  unknownQueues?: Array<{ platform: string; queueKey: string }>;
  advisorStates?: AdvisorStateRow[];
}

export interface TelephonyFactsOutput {
  held: number;
  released: number;
}

/** At most `max` events held at once (10 000 unless given): past it the hold answers 503, so the platform retries. */
export function checkHeldRoom(heldNow: number, adding: number, maxHeld: number | undefined): void {
  const max = maxHeld ?? 10_000;
  if (heldNow + adding > max) {
    throw new UnavailableError(`held telephony events: ${max} are already waiting for their calls to start (KEPT_PHONE_HELD_MAX); send the calls' start events`, 'held-full', 60);
  }
}

export function telephonyFacts(ctx: CommandContext, c: TelephonyFactsInput): TelephonyFactsOutput {
  const store = ctx.telephony;
  let held = 0;
  let released = 0;
  if (c.hold !== undefined && c.hold.length > 0) {
    if (c.expireBefore !== undefined) store.expire(c.expireBefore);
    checkHeldRoom(store.heldTotal(), c.hold.length, c.maxHeld);
    for (const h of c.hold) if (store.hold(h.callId, h.eventKey, h.event, c.now)) held++;
  }
  for (const callId of c.release ?? []) released += store.release(callId);
  for (const f of c.ledger ?? []) store.record(f, c.now);
  for (const q of c.unknownQueues ?? []) store.noteUnknownQueue(q.platform, q.queueKey, c.now);
  for (const a of c.advisorStates ?? []) store.setAdvisorState(a);
  return { held, released };
}
