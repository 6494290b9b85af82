// Genesys Cloud (issue 13): conversation detail events as its Amazon EventBridge integration (or a
// webhook) delivers them, into Kept call events: ACD start (queued) and end (its outcome), after-call
// work (wrap-up time), the advisor's end (talk time), and users' routing status (advisors' states).
import { ValidationError } from '../errors.js';
import { emptyTranslation, isoFromMs, type AdvisorState, type Translation } from './platform.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Genesys routing statuses → the board's advisor states. */
const ROUTING: Record<string, AdvisorState> = { IDLE: 'available', INTERACTING: 'on-call', COMMUNICATING: 'on-call', NOT_RESPONDING: 'away', OFF_QUEUE: 'away' };

/**
 * One delivery → call events. Accepted shapes: the EventBridge event (`detail` holds
 * `{topicName, eventBody}`), the `{topicName, eventBody}` notification itself, or an array of either.
 *
 * - `v2.detail.events.conversation.{id}.acd.start` (mediaType VOICE, direction INBOUND) → queued at
 *   `eventTime` (ms) in `queueId`, the caller `ani`. mediaType CALLBACK → callback-requested.
 * - `….acd.end`: `acdOutcome` ANSWERED → answered by `answeredUserId` (CALLBACK: callback-connected);
 *   ABANDON, SHORT_ABANDON, DISCONNECT → abandoned; FLOWOUT (sent on to another flow), CALLBACK (a
 *   callback was set: its own session follows) and others → ignored.
 * - `….acw` → ended with `wrapupDurationMs`; `….user.end` → ended with `interactingDurationMs` (talk).
 * - `direction` OUTBOUND: ignored (outbound). A second ACD start on a conversation already queued (a
 *   transfer to another queue) keeps the first: the earliest queued time stands.
 * - `v2.users.{id}.activity` / `….routingStatus` → the advisor's state.
 */
export function translateGenesys(doc: unknown): Translation {
  const out = emptyTranslation();
  const list = Array.isArray(doc) ? doc : [doc];
  list.forEach((raw, i) => {
    const prefix = Array.isArray(doc) ? `[${i}].` : '';
    const outer = obj(raw);
    if (outer === undefined) throw new ValidationError(`${prefix}body`, 'must be a JSON object');
    const detail = obj(outer.detail) ?? outer;
    const within = obj(outer.detail) !== undefined ? `${prefix}detail.` : prefix;
    const topic = str(detail.topicName) ?? str(outer['detail-type']) ?? '';
    const body = obj(detail.eventBody);
    if (body === undefined) throw new ValidationError(`${within}eventBody`, 'is required');
    const f = (name: string) => `${within}eventBody.${name}`;

    const user = /^v2\.users\.([^.]+)\.(activity|routingStatus)$/.exec(topic);
    if (user !== null) {
      const rs = obj(body.routingStatus);
      const status = str(rs?.status) ?? str(body.status) ?? 'OFF_QUEUE';
      const when = str(rs?.startTime) ?? str(body.startTime);
      out.advisorStates.push({ platform: 'genesys-cloud', advisor: str(obj(body.user)?.name) ?? user[1]!, state: ROUTING[status] ?? 'away', detail: status, at: when !== undefined ? Date.parse(when) : Date.now() });
      return;
    }
    const m = /^v2\.detail\.events\.conversation\.([^.]+)\.(acd\.start|acd\.end|acw|user\.end|customer\.start|customer\.end)$/.exec(topic);
    if (m === null) {
      out.ignored.push({ what: topic || 'event', reason: 'not a conversation event Kept uses' });
      return;
    }
    const kind = m[2]!;
    const callId = str(body.conversationId) ?? m[1]!;
    const media = (str(body.mediaType) ?? 'VOICE').toUpperCase();
    const direction = (str(body.direction) ?? 'INBOUND').toUpperCase();
    if (media !== 'VOICE' && media !== 'CALLBACK') {
      out.ignored.push({ what: `${kind} ${callId}`, reason: `media ${media}` });
      return;
    }
    if (direction === 'OUTBOUND' && media !== 'CALLBACK') {
      out.ignored.push({ what: `${kind} ${callId}`, reason: 'outbound' });
      return;
    }
    const eventTime = Number(body.eventTime);
    if (!Number.isFinite(eventTime)) throw new ValidationError(f('eventTime'), 'is required (milliseconds since 1970)');
    const at = isoFromMs(eventTime, f('eventTime'));
    const base = { platform: 'genesys-cloud', callId };
    const session = str(body.sessionId) ?? '';
    const callback = media === 'CALLBACK';
    switch (kind) {
      case 'acd.start': {
        if (callback) {
          out.events.push({ ...base, event: 'callback-requested', at, eventId: `${callId}:${session}:callback-requested` });
          return;
        }
        const ani = str(body.ani)?.replace(/^tel:/, '');
        const name = str(body.callbackUserName);
        out.events.push({ ...base, event: 'queued', at, ...(str(body.queueId) ? { platformQueue: str(body.queueId)! } : {}), ...(ani || name ? { caller: { ...(ani ? { number: ani } : {}), ...(name ? { name } : {}) } } : {}) });
        return;
      }
      case 'acd.end': {
        const outcome = (str(body.acdOutcome) ?? '').toUpperCase();
        const agent = str(body.answeredUserId);
        if (outcome === 'ANSWERED') out.events.push({ ...base, event: callback ? 'callback-connected' : 'answered', at, eventId: `${callId}:${session}:acd.end`, ...(agent ? { agent } : {}) });
        else if (outcome === 'ABANDON' || outcome === 'SHORT_ABANDON' || outcome === 'DISCONNECT') out.events.push({ ...base, event: 'abandoned', at, eventId: `${callId}:${session}:acd.end` });
        else out.ignored.push({ what: `acd.end ${callId}`, reason: `outcome ${outcome || 'missing'}` });
        return;
      }
      case 'acw': {
        const ms = Number(body.wrapupDurationMs);
        out.events.push({ ...base, event: 'ended', at, eventId: `${callId}:${session}:acw`, ...(Number.isFinite(ms) ? { wrapSeconds: ms / 1000 } : {}), ...(str(body.userId) ? { agent: str(body.userId)! } : {}) });
        return;
      }
      case 'user.end': {
        const ms = Number(body.interactingDurationMs);
        out.events.push({ ...base, event: 'ended', at, eventId: `${callId}:${session}:user.end`, ...(Number.isFinite(ms) ? { talkSeconds: ms / 1000 } : {}), ...(str(body.userId) ? { agent: str(body.userId)! } : {}) });
        return;
      }
      default:
        out.ignored.push({ what: `${kind} ${callId}`, reason: 'says nothing about the queue' });
    }
  });
  return out;
}
