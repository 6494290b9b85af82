// Twilio (issue 13): Voice status callbacks, <Enqueue> action and wait callbacks, and TaskRouter
// events, as Twilio posts them (application/x-www-form-urlencoded), into Kept call events. The
// signature (X-Twilio-Signature) is checked by the route with the twilio package's own validator.
import { ValidationError } from '../errors.js';
import type { LedgerRow } from '../store/telephony.js';
import { emptyTranslation, isoFromMs, isoFromText, type AdvisorState, type Translation } from './platform.js';
import type { CallEvent } from './telephony.js';

export type TwilioParams = Record<string, string | undefined>;

/** TaskRouter activity names → the board's advisor states (Twilio's defaults, and common custom names). */
const ACTIVITY: Record<string, AdvisorState> = {
  available: 'available',
  idle: 'available',
  busy: 'on-call',
  reserved: 'on-call',
  'on a call': 'on-call',
  'on call': 'on-call',
  'wrap up': 'wrap-up',
  wrapup: 'wrap-up',
  'wrap-up': 'wrap-up',
  offline: 'away',
  unavailable: 'away',
  break: 'away',
  lunch: 'away',
};

export const activityState = (name: string): AdvisorState => ACTIVITY[name.trim().toLowerCase()] ?? 'away';

/** What the adapter reads of what Kept already knows of a call (its ledger row): at most once a request. */
export type LedgerLookup = (callId: string) => Promise<LedgerRow | undefined>;

function caller(p: TwilioParams): CallEvent['caller'] {
  const number = p.From?.trim() || p.Caller?.trim();
  const name = p.CallerName?.trim();
  if (!number && !name) return undefined;
  return { ...(number ? { number } : {}), ...(name ? { name } : {}) };
}

function taskAttributes(p: TwilioParams): Record<string, unknown> {
  if (p.TaskAttributes === undefined) return {};
  try {
    const v: unknown = JSON.parse(p.TaskAttributes);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    throw new ValidationError('TaskAttributes', 'is not JSON');
  }
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * One Twilio request → call events.
 *
 * - TaskRouter (`EventType` present): `task.created` → queued (at `Timestamp`, seconds; the call is
 *   the task's `call_sid` attribute, else the task); `reservation.accepted` → answered by
 *   `WorkerName`; `task.canceled` → abandoned; `task.wrapup` → ended with the talk time since the
 *   answer; `task.completed` → ended with the wrap-up time since then; `worker.activity.update` → the
 *   advisor's state. Other TaskRouter events are ignored.
 * - `<Enqueue>` action (`QueueResult` present): `bridged` → answered `QueueTime` seconds after the
 *   call was queued (the queued time: the stored one, else now − QueueTime); `hangup` → abandoned
 *   now; `leave`, `redirected` → left the queue (ignored).
 * - `<Enqueue>` wait (`QueuePosition` present): queued `QueueTime` seconds ago.
 * - Voice status callback (`CallStatus`): an outbound call is ignored, except a `<Dial>` leg
 *   (`outbound-dial` with `ParentCallSid`) going `in-progress`: the advisor answered the parent call.
 *   Inbound: `ringing`/`initiated` → queued at `Timestamp` (RFC 2822); `completed` → ended (and
 *   abandoned, when Kept has heard of neither an answer nor an abandon);
 *   `busy`, `no-answer`, `canceled`, `failed` → abandoned.
 *
 * `queue`: the webhook URL's `?queue=` (the integrator names the line), else Twilio's TaskQueue or Queue sid.
 */
export async function translateTwilio(p: TwilioParams, now: number, queue: string | undefined, ledger: LedgerLookup): Promise<Translation> {
  const out = emptyTranslation();
  const platform = 'twilio';
  if (p.EventType !== undefined) {
    const type = p.EventType;
    const attrs = taskAttributes(p);
    const callId = str(attrs.call_sid) ?? str(p.TaskSid);
    const seconds = Number(p.Timestamp);
    const at = p.Timestamp !== undefined && Number.isFinite(seconds) ? isoFromMs(seconds * 1000, 'Timestamp') : isoFromMs(now, 'Timestamp');
    const eventId = str(p.Sid) ?? str(p.EventSid);
    const base = { platform, ...(eventId !== undefined ? { eventId } : {}) };
    if (type === 'worker.activity.update' || type === 'worker.created') {
      const advisor = str(p.WorkerName) ?? str(p.WorkerSid);
      if (advisor === undefined) throw new ValidationError('WorkerName', 'is required on a worker event');
      const activity = p.WorkerActivityName ?? 'Offline';
      out.advisorStates.push({ platform, advisor, state: activityState(activity), detail: activity, at: Date.parse(at) });
      return out;
    }
    if (callId === undefined) throw new ValidationError('TaskSid', 'is required on a task event');
    const channel = str(p.TaskChannelUniqueName);
    if (channel !== undefined && channel !== 'voice') {
      out.ignored.push({ what: type, reason: `channel ${channel}` });
      return out;
    }
    if (str(attrs.direction)?.startsWith('outbound')) {
      out.ignored.push({ what: type, reason: 'outbound' });
      return out;
    }
    const name = str(attrs.caller_name) ?? str(attrs.name);
    const number = str(attrs.from) ?? str(attrs.caller);
    const who = name || number ? { caller: { ...(number ? { number } : {}), ...(name ? { name } : {}) } } : {};
    switch (type) {
      case 'task.created': {
        const q = queue ?? str(p.TaskQueueName) ?? str(p.TaskQueueSid);
        out.events.push({ ...base, callId, event: 'queued', at, ...who, ...(q !== undefined ? { platformQueue: q } : {}) });
        return out;
      }
      case 'reservation.accepted':
        out.events.push({ ...base, callId, event: 'answered', at, ...(str(p.WorkerName) ? { agent: str(p.WorkerName)! } : {}) });
        return out;
      case 'task.canceled':
        out.events.push({ ...base, callId, event: 'abandoned', at });
        return out;
      case 'task.wrapup': {
        const answered = (await ledger(callId))?.answeredAt;
        out.events.push({ ...base, callId, event: 'ended', at, ...(answered != null ? { talkSeconds: Math.max(0, (Date.parse(at) - answered) / 1000) } : {}), ...(str(p.WorkerName) ? { agent: str(p.WorkerName)! } : {}) });
        return out;
      }
      case 'task.completed': {
        const row = await ledger(callId);
        const ended = row?.endedAt;
        out.events.push({ ...base, callId, event: 'ended', at, ...(ended != null && row?.wrapMs == null ? { wrapSeconds: Math.max(0, (Date.parse(at) - ended) / 1000) } : {}) });
        return out;
      }
      default:
        out.ignored.push({ what: type, reason: 'not a queue event Kept uses' });
        return out;
    }
  }

  const callId = str(p.CallSid);
  if (callId === undefined) throw new ValidationError('CallSid', 'is required');
  const q = queue ?? str(p.QueueSid);
  const queueTime = Number(p.QueueTime ?? '0');
  if (p.QueueResult !== undefined) {
    const known = (await ledger(callId))?.offeredAt;
    const queuedMs = known ?? now - (Number.isFinite(queueTime) ? queueTime : 0) * 1000;
    const queued: CallEvent = { platform, callId, event: 'queued', at: isoFromMs(queuedMs, 'QueueTime'), ...(caller(p) ? { caller: caller(p)! } : {}), ...(q !== undefined ? { platformQueue: q } : {}) };
    switch (p.QueueResult) {
      case 'bridged':
      case 'bridging-in-process':
        out.events.push(queued, { platform, callId, event: 'answered', at: isoFromMs(queuedMs + queueTime * 1000, 'QueueTime'), eventId: `${callId}:enqueue:answered` });
        return out;
      case 'hangup':
        out.events.push(queued, { platform, callId, event: 'abandoned', at: isoFromMs(Math.max(now, queuedMs), 'QueueTime'), eventId: `${callId}:enqueue:abandoned` });
        return out;
      default:
        out.ignored.push({ what: `QueueResult ${p.QueueResult}`, reason: 'left the queue another way' });
        return out;
    }
  }
  if (p.QueuePosition !== undefined) {
    out.events.push({ platform, callId, event: 'queued', at: isoFromMs(now - (Number.isFinite(queueTime) ? queueTime : 0) * 1000, 'QueueTime'), ...(caller(p) ? { caller: caller(p)! } : {}), ...(q !== undefined ? { platformQueue: q } : {}) });
    return out;
  }
  const status = p.CallStatus;
  if (status === undefined) throw new ValidationError('CallStatus', 'is required (a Voice status callback), or EventType (TaskRouter), or QueueResult (an <Enqueue> action)');
  const direction = p.Direction ?? 'inbound';
  const at = p.Timestamp !== undefined ? isoFromText(p.Timestamp, 'Timestamp') : isoFromMs(now, 'Timestamp');
  const sequence = p.SequenceNumber !== undefined ? `:${p.SequenceNumber}` : '';
  if (direction === 'outbound-dial' && str(p.ParentCallSid) !== undefined) {
    if (status === 'in-progress') out.events.push({ platform, callId: str(p.ParentCallSid)!, event: 'answered', at, eventId: `${callId}:dial:in-progress`, ...(str(p.To) ? { agent: str(p.To)! } : {}) });
    else out.ignored.push({ what: `dial leg ${status}`, reason: 'only the advisor answering matters' });
    return out;
  }
  if (direction !== 'inbound') {
    out.ignored.push({ what: `${direction} call ${status}`, reason: 'outbound' });
    return out;
  }
  switch (status) {
    case 'initiated':
    case 'ringing':
    case 'queued':
      out.events.push({ platform, callId, event: 'queued', at, ...(caller(p) ? { caller: caller(p)! } : {}), ...(q !== undefined ? { platformQueue: q } : {}) });
      return out;
    case 'completed': {
      // A call that ends with no answer and no abandon Kept has heard of was abandoned in the queue
      // (an answer heard later is earlier in time, so the clock still meets on the sorted log).
      const row = await ledger(callId);
      if (row?.offeredAt != null && row.answeredAt == null && row.abandonedAt == null) out.events.push({ platform, callId, event: 'abandoned', at, eventId: `${callId}:status:completed:abandoned` });
      out.events.push({ platform, callId, event: 'ended', at, eventId: `${callId}:status:completed${sequence}` });
      return out;
    }
    case 'busy':
    case 'no-answer':
    case 'canceled':
    case 'failed':
      out.events.push({ platform, callId, event: 'abandoned', at, eventId: `${callId}:status:${status}` });
      return out;
    default:
      out.ignored.push({ what: `CallStatus ${status}`, reason: 'says nothing about the queue' });
      return out;
  }
}
